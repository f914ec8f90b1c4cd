//! The one typed configuration, loaded once: defaults, then the config file ([`file`]), then
//! `QUERENT_…` environment variables, then command-line flags (clap reads both), into [`Settings`]; sub-structs go down to the
//! layers that need them, nothing reads the environment deeper in.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

pub mod file;
pub mod keys;
pub mod ops;

pub use crate::sql::llm::config::{LlmSettings, Secret};
pub use crate::warehouse::bigquery::BigQuerySettings;
pub use ops::OpsSettings;

/// Where the server listens and what it serves.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "QUERENT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// querent's own data directory: the vector index and state live here.
    #[arg(long, env = "QUERENT_DATA_DIR", default_value = ".querent")]
    pub data_dir: PathBuf,

    /// The knowledge base: one folder per domain (database name).
    #[arg(long, env = "QUERENT_KNOWLEDGE_DIR", default_value = "knowledge")]
    pub knowledge_dir: PathBuf,

    /// Serve every SQLite file in this folder (`DIR/name.sqlite`, `DIR/name.db`,
    /// `DIR/name/name.sqlite`) as database `name`, instead of the demo database.
    #[arg(long, env = "QUERENT_DATABASE_DIR")]
    pub database_dir: Option<PathBuf>,

    /// The demo retail database, generated on first use when missing (served as `retail`
    /// when no --database-dir is given).
    #[arg(long, env = "QUERENT_DEMO_DB", default_value = "data/retail.sqlite")]
    pub demo_db: PathBuf,

    /// The embedding model folder (model.onnx, tokenizer.json, libonnxruntime.so); found by
    /// itself under vendor/model when not given.
    #[arg(long, env = "QUERENT_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,

    /// Web page templates.
    #[arg(long, env = "QUERENT_TEMPLATES_DIR", default_value = "templates")]
    pub templates_dir: PathBuf,

    /// Static files of the chat page.
    #[arg(long, env = "QUERENT_STATIC_DIR", default_value = "static")]
    pub static_dir: PathBuf,

    /// At most this many rows come back from a query.
    #[arg(long, env = "QUERENT_MAX_ROWS", default_value_t = 1000)]
    pub max_rows: usize,

    /// A query is stopped after this many milliseconds.
    #[arg(long, env = "QUERENT_QUERY_TIMEOUT_MS", default_value_t = 10_000)]
    pub query_timeout_ms: u64,

    /// Below this confidence (0..1, a calibrated probability of a right answer) the pattern
    /// engine refuses instead of guessing. Higher answers fewer questions, more of them right.
    /// The default is the lowest threshold at which the answered questions of held-out
    /// databases were at least 80 % right (Spider training split, whole databases held out;
    /// see `src/sql/pattern/calibration.rs`).
    #[arg(long, env = "QUERENT_MIN_CONFIDENCE", default_value_t = crate::sql::pattern::DEFAULT_MIN_CONFIDENCE)]
    pub min_confidence: f64,

    /// Whether the semantic layer answers the metric questions it reads (`answer`, the
    /// default: before the LLM) or is only shown by `GET /api/semantic` and given to the LLM
    /// as metric definitions (`show`: every question goes to the LLM first, then the pattern
    /// engine).
    #[arg(long, env = "QUERENT_SEMANTIC", default_value = "answer", value_parser = ["answer", "show"])]
    pub semantic: String,

    /// A TOML config file with the same keys as the environment variables (read before them;
    /// environment and flags win). See the README.
    #[arg(long, env = "QUERENT_CONFIG")]
    pub config: Option<PathBuf>,

    /// How many questions of a conversation (`session_id`) are kept in the state database.
    #[arg(long, env = "QUERENT_SESSION_TURNS", default_value_t = 20)]
    pub session_turns: usize,

    /// The LLM (optional): endpoint, model, key, time limits, circuit breaker.
    #[command(flatten)]
    pub llm: LlmSettings,

    /// BigQuery (optional): with a project set, each dataset is served as a database.
    #[command(flatten)]
    pub bigquery: BigQuerySettings,

    /// The API key that knowledge writes need (`Authorization: Bearer KEY`). Without one,
    /// the knowledge base cannot be changed through the API (403 `writes_disabled`).
    #[arg(
        id = "knowledge_api_key",
        long = "api-key",
        env = "QUERENT_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<Secret>,

    /// Named curator keys, `NAME=KEY,NAME=KEY` (config file: `[api_keys]` with `NAME = "KEY"`).
    /// A write made with one is recorded under its name (the `X-Querent-User` header cannot
    /// change it); `--api-key` still works beside them. See [`keys::CuratorKeys`].
    #[arg(long = "api-keys", env = "QUERENT_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<Secret>,

    /// Require the API key for knowledge reads too.
    #[arg(long, env = "QUERENT_KEY_FOR_READS")]
    pub key_for_reads: bool,

    /// A Qdrant server or cluster to hold the vector index, by its gRPC URL (e.g.
    /// `http://qdrant:6334`). Without it the index is embedded, under --data-dir.
    #[arg(long, env = "QUERENT_QDRANT_URL")]
    pub qdrant_url: Option<String>,

    /// The Qdrant server's API key (sent as the `api-key` header).
    #[arg(long, env = "QUERENT_QDRANT_API_KEY", hide_env_values = true)]
    pub qdrant_api_key: Option<Secret>,

    /// Prefix of the collection names on the Qdrant server (`tables`, `examples`, `rules`),
    /// for several installations sharing one cluster.
    #[arg(long, env = "QUERENT_QDRANT_COLLECTION_PREFIX", default_value = "")]
    pub qdrant_collection_prefix: String,

    /// Time limit of one call to the Qdrant server, in milliseconds; past it a question is
    /// answered with the lexical index.
    #[arg(long, env = "QUERENT_QDRANT_TIMEOUT_MS", default_value_t = 5_000)]
    pub qdrant_timeout_ms: u64,

    /// Limits, caching, query jobs, shutdown.
    #[command(flatten)]
    pub ops: OpsSettings,
}

impl Settings {
    /// The vector index these settings name: the Qdrant server of `qdrant_url`, else the
    /// embedded index under `<data_dir>/index`.
    pub fn index_config(&self) -> crate::retrieval::IndexConfig {
        match &self.qdrant_url {
            Some(url) if !url.trim().is_empty() => {
                crate::retrieval::IndexConfig::Server(self.qdrant_server(url))
            }
            _ => crate::retrieval::IndexConfig::Embedded {
                root: self.data_dir.join("index"),
            },
        }
    }

    /// The Qdrant server at `url` with these settings' key, prefix and time limit.
    pub fn qdrant_server(&self, url: &str) -> crate::retrieval::ServerConfig {
        crate::retrieval::ServerConfig {
            url: url.trim().to_string(),
            api_key: self
                .qdrant_api_key
                .clone()
                .filter(|k| !k.expose().is_empty()),
            collection_prefix: self.qdrant_collection_prefix.clone(),
            timeout: std::time::Duration::from_millis(self.qdrant_timeout_ms.max(1)),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            settings: Settings,
        }
        Wrapper::parse_from(["querent"]).settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_the_demo_database_on_localhost_8080() {
        let s = Settings::default();
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.knowledge_dir, PathBuf::from("knowledge"));
        assert!(s.database_dir.is_none());
        assert_eq!(s.max_rows, 1000);
    }

    #[test]
    fn the_index_is_embedded_unless_a_qdrant_url_is_given() {
        let mut s = Settings::default();
        assert!(matches!(
            s.index_config(),
            crate::retrieval::IndexConfig::Embedded { root } if root == s.data_dir.join("index")
        ));
        s.qdrant_url = Some(" http://qdrant:6334 ".into());
        s.qdrant_api_key = Some("".parse().unwrap());
        let crate::retrieval::IndexConfig::Server(server) = s.index_config() else {
            panic!("a URL names a server");
        };
        assert_eq!(server.url, "http://qdrant:6334");
        assert!(server.api_key.is_none(), "an empty key is no key");
    }

    #[test]
    fn bigquery_flags_name_the_project_and_its_datasets_and_the_token_never_prints() {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            settings: Settings,
        }
        let s = Wrapper::parse_from([
            "querent",
            "--bigquery-project",
            "acme",
            "--bigquery-datasets",
            "sales, other.hr",
            "--bigquery-access-token",
            "ya29.secret",
        ])
        .settings;
        assert!(s.bigquery.is_configured());
        let datasets: Vec<String> = s
            .bigquery
            .dataset_refs()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(datasets, ["acme.sales", "other.hr"]);
        assert_eq!(s.bigquery.max_bytes_billed, 10_000_000_000);
        assert!(!format!("{s:?}").contains("ya29"));
        assert!(!Settings::default().bigquery.is_configured());
    }

    #[test]
    fn the_api_key_never_shows_in_debug_output() {
        let key: Secret = "s3cret-key".parse().unwrap();
        assert_eq!(key.expose(), "s3cret-key");
        assert!(!format!("{key:?}").contains("s3cret"));
        // (an empty key parses; the server treats it as no key: writes stay disabled)
    }
}
