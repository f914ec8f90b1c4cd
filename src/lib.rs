//! querent answers questions about business data in plain language.
//!
//! # Layout
//!
//! One question flows through the stages of [`engine::Engine::ask`]:
//!
//! - [`question`]: analysis of the question (tokens, numbers, dates, top-N, intent);
//! - [`knowledge`]: table docs, examples and business rules, from files and introspection;
//! - [`retrieval`]: the embedder (fastembed) and the vector index (qdrant-edge);
//! - [`sql`]: SQL generation (pattern engine), the guard, dialects;
//! - [`warehouse`]: the databases behind one trait (SQLite);
//! - [`conversation`]: sessions of questions in the state database, suggested follow-ups;
//! - [`answer`]: insights, charts and summaries computed from the rows;
//! - [`server`]: the OpenAPI routes and the web pages; it only translates, the engine knows no HTTP.
//!
//! [`demo_data`] writes the demo retail database; [`settings`] holds the one typed configuration.

pub mod answer;
pub mod conversation;
pub mod demo_data;
pub mod engine;
pub mod error;
pub mod eval;
pub mod knowledge;
pub mod logging;
pub mod question;
pub mod retrieval;
pub mod server;
pub mod settings;
pub mod sql;
pub mod warehouse;

pub use engine::Engine;
pub use error::{QuerentError, QuerentResult};
pub use settings::Settings;
