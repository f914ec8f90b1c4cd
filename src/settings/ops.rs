//! Settings of running querent for many users: rate limits, the bound on concurrent questions,
//! request time limits, the answer cache, query jobs and graceful shutdown. Every default lets
//! the product work out of the box for a team; `0` switches a rate limit off.

use clap::Args;

/// Limits, caching, jobs and shutdown (`QUERENT_RATE_…`, `QUERENT_CACHE_…`, ...).
#[derive(Debug, Clone, Args)]
pub struct OpsSettings {
    /// Questions (`/api/query`, `/api/query/stream`, `POST /api/jobs`) per second per client
    /// (its API key, else its address); bursts of twice as many pass. 0: no limit.
    #[arg(long, env = "QUERENT_RATE_QUESTIONS", default_value_t = 50)]
    pub rate_questions: u32,

    /// Raw SQL requests (`/api/sql`) per second per client; bursts of twice as many. 0: no limit.
    #[arg(long, env = "QUERENT_RATE_SQL", default_value_t = 20)]
    pub rate_sql: u32,

    /// Curation writes (POST, PUT, DELETE under `/api/knowledge`, `/api/feedback`) per second
    /// per client; bursts of twice as many. 0: no limit.
    #[arg(long, env = "QUERENT_RATE_WRITES", default_value_t = 5)]
    pub rate_writes: u32,

    /// Questions answered at once per database (warehouse); more wait in a queue.
    #[arg(long, env = "QUERENT_MAX_CONCURRENT_QUESTIONS", default_value_t = 8)]
    pub max_concurrent_questions: usize,

    /// Questions waiting per database; past this a question is refused with 503 `overloaded`.
    #[arg(long, env = "QUERENT_QUESTION_QUEUE", default_value_t = 64)]
    pub question_queue: usize,

    /// A request that has not answered within this many milliseconds gets 503
    /// `request_timeout` (a stream, once started, is not cut). 0: no limit.
    #[arg(long, env = "QUERENT_REQUEST_TIMEOUT_MS", default_value_t = 60_000)]
    pub request_timeout_ms: u64,

    /// How long a cached answer is served, in seconds. 0: no answer cache.
    #[arg(long, env = "QUERENT_CACHE_TTL_S", default_value_t = 300)]
    pub cache_ttl_s: u64,

    /// The answer cache's size bound, in megabytes (estimated from the answers' contents).
    #[arg(long, env = "QUERENT_CACHE_MAX_MB", default_value_t = 64)]
    pub cache_max_mb: u64,

    /// How long a finished query job is kept for `GET /api/jobs/{id}`, in seconds.
    #[arg(long, env = "QUERENT_JOB_TTL_S", default_value_t = 3600)]
    pub job_ttl_s: u64,

    /// At most this many query jobs are kept (the oldest leave first).
    #[arg(long, env = "QUERENT_MAX_JOBS", default_value_t = 1000)]
    pub max_jobs: u64,

    /// On SIGTERM or Ctrl-C, answers in flight get this many seconds to finish before the
    /// server stops (the index is flushed either way).
    #[arg(long, env = "QUERENT_SHUTDOWN_GRACE_S", default_value_t = 30)]
    pub shutdown_grace_s: u64,
}
