//! querent answers questions about business data in plain language.
//!
//! # Layout
//!
//! One question flows through the stages of [`engine::Engine::ask`] (the pipeline; start-up,
//! which opens the databases, is apart in `engine/startup.rs`):
//!
//! - [`question`]: analysis of the question (tokens, numbers, dates, top-N, intent);
//! - [`knowledge`]: table docs, examples and business rules, from files and introspection;
//!   curation (validated, audited writes), suggestions, dbt import, regression runs;
//! - [`retrieval`]: the embedder (fastembed) and the vector index (embedded qdrant-edge, or a
//!   Qdrant server or cluster through qdrant-client), BM25 when the model is missing;
//! - [`sql`]: SQL generation — the LLM generator (`sql::llm`: prompt, client, circuit breaker,
//!   repairs), follow-up refinement, the pattern engine —, the guard, the dialects (one trait)
//!   and the refusal policy (the knowledge boundary);
//! - [`warehouse`]: the databases behind one trait (SQLite; BigQuery over its REST API);
//! - [`conversation`]: sessions of questions in the state database, suggested follow-ups;
//! - [`replication`]: with a Qdrant server, the state replicas share there (sessions, the
//!   change log, knowledge versions);
//! - [`answer`]: insights, charts and summaries computed from the rows;
//! - [`server`]: the OpenAPI routes and the web pages; it only translates, the engine knows no HTTP.
//!
//! [`error`] holds the error type and the one table of error codes (HTTP status, whose fault);
//! [`eval`] measures execution accuracy on a question file; [`demo_data`] writes the demo
//! retail database; [`settings`] holds the one typed configuration.

pub mod answer;
pub mod conversation;
pub mod demo_data;
pub mod engine;
pub mod error;
pub mod eval;
pub mod knowledge;
pub mod logging;
pub mod question;
pub mod replication;
pub mod retrieval;
pub mod semantic;
pub mod server;
pub mod settings;
pub mod sql;
pub mod warehouse;

pub use engine::Engine;
pub use error::{QuerentError, QuerentResult};
pub use settings::Settings;
