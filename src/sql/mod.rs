//! SQL generation and safety: the LLM generator ([`llm`]) writes SQL with a model and repairs
//! it, the [`pattern`] engine writes SQL without an LLM, [`refine`] rewrites a conversation's
//! last SQL for a follow-up, the [`guard`] checks every statement before it runs, [`dialect`]
//! holds everything that differs between SQLite and BigQuery behind one trait, and
//! [`refusal`] decides and describes why a question is not answered.

pub mod dialect;
pub mod guard;
pub mod llm;
pub mod pattern;
pub mod refine;
pub mod refusal;

use serde::{Deserialize, Serialize};

/// Which generator wrote the SQL of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenerationMethod {
    /// The pattern engine's question frame.
    Pattern,
    /// Adaptation of a curated example (its literals swapped for the question's).
    Example,
    /// An LLM (any OpenAI-compatible endpoint), after the guard and its repairs.
    Llm,
    /// SQL given by the user.
    User,
    /// A follow-up that rewrote the previous SQL of the conversation (`sql::refine`).
    Refinement,
    /// The semantic layer: the question read as a metric query and compiled (`semantic`).
    Semantic,
}

impl GenerationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pattern => "pattern",
            Self::Example => "example",
            Self::Llm => "llm",
            Self::User => "user",
            Self::Refinement => "refinement",
            Self::Semantic => "semantic",
        }
    }
}

/// One step of the reasoning trace: a stage, what it decided, and details as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TraceStep {
    /// The stage (`analysis`, `retrieval`, `linking`, `frame`, `join_path`, `rule`, `example`, `guard`, ...).
    pub stage: String,
    /// One line a person can read.
    pub message: String,
    /// Structured details (scores, links, candidates).
    #[serde(default)]
    pub details: serde_json::Value,
}

impl TraceStep {
    pub fn new(stage: &str, message: impl Into<String>, details: serde_json::Value) -> Self {
        Self {
            stage: stage.to_string(),
            message: message.into(),
            details,
        }
    }
}

/// SQL written by a generator, before the guard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratedSql {
    pub sql: String,
    pub method: GenerationMethod,
    /// Confidence that the SQL answers the question, 0..1.
    pub confidence: f64,
    /// What the generator decided, in order.
    pub trace: Vec<TraceStep>,
    /// The pattern engine's calibration features of a frame's query, from which its confidence
    /// is computed once it has run ([`pattern::Features::confidence`]); `None` for other SQL.
    #[serde(skip)]
    pub features: Option<pattern::Features>,
}
