//! The knowledge boundary: why a question is refused, decided in one place and carried as data.
//!
//! A [`Refusal`] is a [`RefusalCause`] (nothing linked, no join path, nothing to show, low
//! confidence, an empty result, no candidate) with the words that could not be mapped. The
//! pattern engine asks [`Refusal::after_generation`] when none of its readings is good enough,
//! and the pipeline asks [`judge_result`] once the best reading has run; both travel in
//! [`crate::QuerentError::CannotAnswer`], whose message is the refusal's `Display` and whose
//! API `details` are the refusal as JSON (`{"cause": "no_join_path", "tables": [...],
//! "unmapped": [...]}`), which the chat page reads.

use serde::Serialize;

use crate::sql::{GeneratedSql, GenerationMethod, TraceStep};

/// Why a question cannot be answered, with what the cause knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum RefusalCause {
    /// No word of the question matches a table, a column or a stored value.
    NothingLinked,
    /// The tables the reading needs are not connected by the join graph.
    NoJoinPath {
        /// The tables no join path reaches.
        tables: Vec<String>,
    },
    /// Nothing in the question says what to show (an empty select list).
    NothingToShow,
    /// The reading sums or averages a column over joins that would count its rows many times
    /// ([`crate::sql::pattern::chasm`]).
    ChasmTrap(crate::sql::pattern::chasm::ChasmTrap),
    /// The best reading's confidence is below the threshold.
    LowConfidence {
        /// The best reading's confidence, 0..1.
        confidence: f64,
        /// The threshold (`QUERENT_MIN_CONFIDENCE`).
        min_confidence: f64,
    },
    /// The best reading ran and returned no rows, which lowered its confidence below the
    /// threshold.
    EmptyResult {
        /// The confidence after the empty result, 0..1.
        confidence: f64,
        min_confidence: f64,
    },
    /// No candidate query could be built or run.
    NoCandidate,
    /// The question is not a question about data: it holds SQL, a number too large to compare
    /// exactly, or a request to change data (#13).
    Unreadable {
        /// Why, in a phrase.
        reason: String,
    },
    /// The semantic layer read the question whole as a metric question and does not compute
    /// what it asks (a rank column, a member's share of the whole, a count of a dimension's
    /// values, ...): with no LLM to write it, querent says so rather than guess (#12).
    NotComputed {
        /// What is not computed, in a phrase.
        reason: String,
    },
    /// The question names a curated metric, but the semantic layer could not read the rest of
    /// it (the unmapped words): with no LLM, the generic pattern engine's reading of such
    /// business questions is almost always wrong (right 8 of 58 times on the business sets),
    /// so querent says what it read and what it did not rather than guess (#12).
    PartlyRead {
        /// The metrics the question names.
        metrics: Vec<String>,
    },
}

impl RefusalCause {
    /// The cause's stable name (`no_join_path`), as in the JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NothingLinked => "nothing_linked",
            Self::NoJoinPath { .. } => "no_join_path",
            Self::NothingToShow => "nothing_to_show",
            Self::ChasmTrap(_) => "chasm_trap",
            Self::LowConfidence { .. } => "low_confidence",
            Self::EmptyResult { .. } => "empty_result",
            Self::NoCandidate => "no_candidate",
            Self::Unreadable { .. } => "unreadable",
            Self::NotComputed { .. } => "not_computed",
            Self::PartlyRead { .. } => "partly_read",
        }
    }
}

/// A refused question: the cause and the words or phrases that could not be mapped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    #[serde(flatten)]
    pub cause: RefusalCause,
    /// The words of the question that could not be mapped to the schema (may be empty).
    pub unmapped: Vec<String>,
}

impl Refusal {
    /// A refusal with no unmapped words.
    pub fn new(cause: RefusalCause) -> Self {
        Self {
            cause,
            unmapped: Vec::new(),
        }
    }

    /// The pattern engine's refusal when no candidate reached `min_confidence`: the reading's
    /// own failure when it had one (`frame_failure`: nothing linked, nothing to show, no join
    /// path), else the best candidate's low confidence (`best`, 0 when there was none). The
    /// unmapped words are the frame's, or every content word when the frame left none.
    pub fn after_generation(
        frame_failure: Option<RefusalCause>,
        best: f64,
        min_confidence: f64,
        frame_unmapped: &[String],
        content_words: &[String],
    ) -> Self {
        let unmapped = if frame_unmapped.is_empty() {
            content_words.to_vec()
        } else {
            frame_unmapped.to_vec()
        };
        let cause = frame_failure.unwrap_or(RefusalCause::LowConfidence {
            confidence: best,
            min_confidence,
        });
        Self { cause, unmapped }
    }

    /// The JSON of the API's error `details`: `{"cause": ..., "unmapped": [...], ...}`.
    pub fn details(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unmapped = self.unmapped.join(", ");
        match &self.cause {
            RefusalCause::NothingLinked => write!(
                f,
                "no word of the question matches a table, a column or a stored value; could not map: {unmapped}"
            ),
            RefusalCause::NoJoinPath { tables } => write!(
                f,
                "no join path reaches {}; could not map: {unmapped}",
                tables.join(", ")
            ),
            RefusalCause::NothingToShow => write!(
                f,
                "nothing in the question says what to show; could not map: {unmapped}"
            ),
            RefusalCause::LowConfidence {
                confidence,
                min_confidence,
            } => write!(
                f,
                "the best reading of the question has confidence {confidence:.2}, below {min_confidence:.2}; could not map: {}",
                if unmapped.is_empty() { "(nothing specific)" } else { &unmapped }
            ),
            RefusalCause::EmptyResult {
                confidence,
                min_confidence,
            } => write!(
                f,
                "the best reading of the question returned no rows and its confidence \
                 {confidence:.2} is below {min_confidence:.2}"
            ),
            RefusalCause::ChasmTrap(t) => write!(
                f,
                "the reading would total {} over {}, which has many rows per {} row, so each \
                 row would count many times; could not map: {}",
                t.measure,
                t.other,
                t.shared,
                if unmapped.is_empty() { "(nothing specific)" } else { &unmapped }
            ),
            RefusalCause::NoCandidate => write!(f, "no candidate query could be built"),
            RefusalCause::Unreadable { reason } => write!(
                f,
                "the question cannot be read as a question about data: {reason}; could not map: {unmapped}"
            ),
            RefusalCause::PartlyRead { metrics } => write!(
                f,
                "the question asks for {} but querent could not read '{unmapped}' as part of a \
                 metric query (a breakdown, a period, a filter, a ranking); rephrase it with the \
                 words of the semantic model, or configure an LLM",
                metrics.join(", ")
            ),
            RefusalCause::NotComputed { reason } => write!(
                f,
                "the question reads as a business metric question, but querent does not compute it yet ({reason}{}); rephrase it, or configure an LLM",
                if unmapped.is_empty() { String::new() } else { format!(": '{unmapped}'") }
            ),
        }
    }
}

/// Judges the pattern engine's chosen query once it has run and returned `row_count` rows.
///
/// A frame's query gets its calibrated confidence from its features and its result
/// ([`crate::sql::pattern::Features::confidence`]), traced as a `confidence` step; an adapted
/// example keeps its own. Below `min_confidence` the question is refused:
/// [`RefusalCause::EmptyResult`] when the query returned no rows, else
/// [`RefusalCause::LowConfidence`], with the words the reading left unmapped. Other generators'
/// SQL passes as it is.
pub fn judge_result(
    chosen: &mut GeneratedSql,
    row_count: usize,
    min_confidence: f64,
) -> Result<Option<TraceStep>, Refusal> {
    if !matches!(
        chosen.method,
        GenerationMethod::Pattern | GenerationMethod::Example
    ) {
        return Ok(None);
    }
    let step = chosen.features.map(|features| {
        let ranking = chosen.confidence;
        chosen.confidence = features.confidence(row_count);
        TraceStep::new(
            "confidence",
            format!(
                "{row_count} row(s): confidence {:.2} (ranking score {ranking:.2})",
                chosen.confidence
            ),
            serde_json::json!({ "rows": row_count, "ranking_score": ranking, "confidence": chosen.confidence }),
        )
    });
    if chosen.confidence < min_confidence {
        let confidence = chosen.confidence;
        let cause = if row_count == 0 {
            RefusalCause::EmptyResult {
                confidence,
                min_confidence,
            }
        } else {
            RefusalCause::LowConfidence {
                confidence,
                min_confidence,
            }
        };
        return Err(Refusal {
            cause,
            unmapped: unmapped_words(&chosen.trace),
        });
    }
    Ok(step)
}

/// The content words the reading left unmapped, from its `frame` trace step (none when the
/// trace has no frame, e.g. an adapted example).
fn unmapped_words(trace: &[TraceStep]) -> Vec<String> {
    trace
        .iter()
        .find(|t| t.stage == "frame")
        .and_then(|t| t.details.get("unmapped"))
        .and_then(|u| serde_json::from_value(u.clone()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    fn features(coverage: f64, unmapped: usize) -> crate::sql::pattern::Features {
        crate::sql::pattern::Features {
            coverage,
            unmapped,
            ..crate::sql::pattern::Features::sample()
        }
    }

    /// A frame's query with its features, and a `frame` trace step naming `unmapped`.
    fn pattern_sql(features: crate::sql::pattern::Features, unmapped: &[&str]) -> GeneratedSql {
        GeneratedSql {
            sql: "SELECT 1".into(),
            method: GenerationMethod::Pattern,
            confidence: features.ranking_score(),
            trace: vec![TraceStep::new(
                "frame",
                "",
                serde_json::json!({ "unmapped": unmapped }),
            )],
            features: Some(features),
        }
    }

    #[test]
    fn a_refusal_serialises_its_cause_its_data_and_its_unmapped_words() {
        let r = Refusal {
            cause: RefusalCause::NoJoinPath {
                tables: words(&["stores"]),
            },
            unmapped: words(&["swallow"]),
        };
        assert_eq!(
            r.details(),
            serde_json::json!({ "cause": "no_join_path", "tables": ["stores"], "unmapped": ["swallow"] })
        );
        assert_eq!(
            r.to_string(),
            "no join path reaches stores; could not map: swallow"
        );
        assert_eq!(r.cause.as_str(), "no_join_path");
    }

    #[test]
    fn the_frames_own_failure_comes_before_a_low_confidence() {
        let r = Refusal::after_generation(
            Some(RefusalCause::NothingToShow),
            0.1,
            0.2,
            &[],
            &words(&["airspeed", "swallow"]),
        );
        assert_eq!(r.cause, RefusalCause::NothingToShow);
        assert_eq!(r.unmapped, words(&["airspeed", "swallow"]));
    }

    #[test]
    fn a_low_confidence_refusal_gives_the_confidence_and_the_threshold() {
        let r = Refusal::after_generation(None, 0.123, 0.2, &words(&["velocity"]), &[]);
        assert_eq!(
            r.details(),
            serde_json::json!({ "cause": "low_confidence", "confidence": 0.123, "min_confidence": 0.2, "unmapped": ["velocity"] })
        );
        assert_eq!(
            r.to_string(),
            "the best reading of the question has confidence 0.12, below 0.20; could not map: velocity"
        );
        let nothing = Refusal::after_generation(None, 0.1, 0.2, &[], &[]);
        assert!(nothing.to_string().ends_with("(nothing specific)"));
    }

    #[test]
    fn a_frames_confidence_follows_its_result_and_may_refuse() {
        let sure = features(1.0, 0);
        let mut answered = pattern_sql(sure, &[]);
        let step = judge_result(&mut answered, 5, 0.5)
            .unwrap()
            .expect("a traced step");
        assert_eq!(step.stage, "confidence");
        assert_eq!(answered.confidence, sure.confidence(5));
        // the same reading with no rows falls below a threshold it cleared with rows
        let between = (sure.confidence(0) + sure.confidence(5)) / 2.0;
        match judge_result(&mut pattern_sql(sure, &[]), 0, between) {
            Err(r) => assert_eq!(r.cause.as_str(), "empty_result"),
            Ok(_) => panic!("an empty reading below the threshold is refused"),
        }
        // a reading that left words unmapped is refused with those words
        let doubtful = features(0.5, 2);
        match judge_result(
            &mut pattern_sql(doubtful, &["airspeed", "swallow"]),
            5,
            sure.confidence(5),
        ) {
            Err(r) => {
                assert_eq!(r.cause.as_str(), "low_confidence");
                assert_eq!(r.unmapped, words(&["airspeed", "swallow"]));
            }
            Ok(_) => panic!("a doubtful reading below the threshold is refused"),
        }
    }

    #[test]
    fn an_example_keeps_its_confidence_and_other_generators_pass() {
        let example = GeneratedSql {
            sql: "SELECT 1".into(),
            method: GenerationMethod::Example,
            confidence: 0.3,
            trace: Vec::new(),
            features: None,
        };
        let mut kept = example.clone();
        assert_eq!(judge_result(&mut kept, 3, 0.2), Ok(None));
        assert_eq!(kept.confidence, 0.3);
        assert!(judge_result(&mut example.clone(), 3, 0.9).is_err());
        let mut llm = GeneratedSql {
            method: GenerationMethod::Llm,
            ..example
        };
        assert_eq!(judge_result(&mut llm, 0, 0.9), Ok(None));
    }
}
