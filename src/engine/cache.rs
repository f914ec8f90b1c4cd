//! The answer cache: a repeated question is answered from memory (moka), keyed by database,
//! normalised question, conversation context and the domain's knowledge version. Any curation
//! write to a domain bumps its version ([`KnowledgeVersions`]), so no answer computed before
//! the write is served after it; the domain's old entries are dropped at once too.
//!
//! A cached answer says so (`cached: true`, `cache_age_ms`), gets a query id of its own, and
//! its `timings_ms` are its own: `cache` (the look-up) and `total`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use super::QueryAnswer;

/// A knowledge version counter per domain (database name), bumped by every curation write.
#[derive(Debug, Default)]
pub struct KnowledgeVersions {
    versions: RwLock<HashMap<String, u64>>,
}

impl KnowledgeVersions {
    /// The current version of `domain` (0 until its first write).
    pub fn get(&self, domain: &str) -> u64 {
        self.versions.read().get(domain).copied().unwrap_or(0)
    }

    /// Moves `domain` to its next version and returns it.
    pub fn bump(&self, domain: &str) -> u64 {
        let mut versions = self.versions.write();
        let v = versions.entry(domain.to_string()).or_insert(0);
        *v += 1;
        *v
    }

    /// Raises `domain` to at least `version` (a version learnt from elsewhere); true when it moved.
    pub fn raise_to(&self, domain: &str, version: u64) -> bool {
        let mut versions = self.versions.write();
        let v = versions.entry(domain.to_string()).or_insert(0);
        if version > *v {
            *v = version;
            true
        } else {
            false
        }
    }

    /// Every domain's version.
    pub fn all(&self) -> HashMap<String, u64> {
        self.versions.read().clone()
    }
}

/// What identifies one cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub database: String,
    /// [`normalise`]d question.
    pub question: String,
    /// A hash of the conversation's earlier turns the answer could depend on (0: none).
    pub context: u64,
    /// The domain's knowledge version when the answer was computed.
    pub version: u64,
}

#[derive(Debug)]
struct Entry {
    answer: QueryAnswer,
    stored: Instant,
}

/// Cache hit and miss counts since start.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    /// Entries held now.
    pub entries: u64,
    /// Estimated bytes held now.
    pub bytes: u64,
}

/// A bounded, time-limited map from [`CacheKey`] to answers; disabled with a TTL of 0.
pub struct AnswerCache {
    cache: Option<moka::future::Cache<CacheKey, Arc<Entry>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl AnswerCache {
    /// A cache keeping answers `ttl` long within about `max_bytes` (estimated); `ttl` zero
    /// disables it.
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(max_bytes.max(1))
                .weigher(|_k: &CacheKey, e: &Arc<Entry>| weight(&e.answer))
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build()
        });
        Self {
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// True when answers are cached at all.
    pub fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    /// The cached answer of `key` with its age, marked as cached.
    pub async fn get(&self, key: &CacheKey) -> Option<QueryAnswer> {
        let cache = self.cache.as_ref()?;
        match cache.get(key).await {
            Some(entry) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                let mut answer = entry.answer.clone();
                answer.cached = true;
                answer.cache_age_ms = Some(entry.stored.elapsed().as_millis() as u64);
                answer.query_id = uuid::Uuid::new_v4().to_string();
                Some(answer)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps `answer` under `key`.
    pub async fn insert(&self, key: CacheKey, answer: &QueryAnswer) {
        if let Some(cache) = &self.cache {
            let entry = Entry {
                answer: answer.clone(),
                stored: Instant::now(),
            };
            cache.insert(key, Arc::new(entry)).await;
        }
    }

    /// Drops every entry of `database` (after a curation write to it).
    pub fn invalidate_database(&self, database: &str) {
        if let Some(cache) = &self.cache {
            let database = database.to_string();
            if let Err(e) = cache.invalidate_entries_if(move |k, _| k.database == database) {
                tracing::warn!(error = %e, "cannot drop the domain's cached answers");
            }
        }
    }

    /// Hits, misses and size now.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.cache.as_ref().map_or(0, |c| c.entry_count()),
            bytes: self.cache.as_ref().map_or(0, |c| c.weighted_size()),
        }
    }
}

impl super::Engine {
    /// [`super::Engine::ask`]: the cache first, then the pipeline on a blocking thread (in the
    /// caller's tracing span); a fresh answer is kept unless the LLM failed on the way (a
    /// fallback answer is not pinned for the cache's lifetime).
    pub(super) async fn ask_cached(
        self: &Arc<Self>,
        request: super::AskRequest,
    ) -> crate::error::QuerentResult<QueryAnswer> {
        use crate::error::QuerentError;
        let span = tracing::Span::current();
        let failed = |e: tokio::task::JoinError| {
            QuerentError::Internal(format!("the question's task failed: {e}"))
        };
        let key = if self.cache.enabled() {
            match self.cache_key(&request).await {
                Ok(key) => Some(key),
                // invalid requests get their error from the pipeline
                Err(_) => None,
            }
        } else {
            None
        };
        if let Some(key) = &key {
            let started = Instant::now();
            if let Some(mut answer) = self.cache.get(key).await {
                answer.question = request.question.trim().to_string();
                // this answer's own time: the look-up (the stages ran for the first one)
                let ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
                answer.timings_ms = [("cache".to_string(), ms), ("total".to_string(), ms)].into();
                if let Some(session) = &request.session_id {
                    let engine = self.clone();
                    let (session, answer2) = (session.clone(), answer.clone());
                    tokio::task::spawn_blocking(move || engine.record_turn(&session, &answer2))
                        .await
                        .map_err(failed)??;
                }
                self.recent.remember(&answer);
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                let result = Ok(answer);
                self.stats.record(&result, elapsed);
                return result;
            }
        }
        let engine = self.clone();
        // the caller going away (its future dropped) stops the question and its query
        let cancel = tokio_util::sync::CancellationToken::new();
        let _cancel_when_dropped = cancel.clone().drop_guard();
        let answer = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            engine.ask_blocking_with_events(&request, &|_| {}, &cancel)
        })
        .await
        .map_err(failed)??;
        if let Some(key) = key {
            if answer.fallback_reason.is_none() {
                self.cache.insert(key, &answer).await;
            }
        }
        Ok(answer)
    }

    /// The cache key of `request`: its database's name, the normalised question, the
    /// conversation's recent turns and the domain's knowledge version.
    async fn cache_key(
        self: &Arc<Self>,
        request: &super::AskRequest,
    ) -> crate::error::QuerentResult<CacheKey> {
        let db = self.database(request.database.as_deref())?;
        let context = match &request.session_id {
            None => 0,
            Some(id) => {
                let session = crate::conversation::SessionId::parse(id)?;
                let engine = self.clone();
                let name = db.name.clone();
                let turns = tokio::task::spawn_blocking(move || {
                    engine
                        .sessions
                        .history(&session, &name, super::HISTORY_TURNS)
                })
                .await
                .map_err(|e| crate::error::QuerentError::Internal(e.to_string()))??;
                // a conversation's first question is its own context
                context_hash(&turns).max(1)
            }
        };
        Ok(CacheKey {
            version: self.versions.get(&db.name),
            database: db.name.clone(),
            question: normalise(&request.question),
            context,
        })
    }

    /// Records a cached answer as the conversation's next turn, as the pipeline would.
    fn record_turn(&self, session: &str, answer: &QueryAnswer) -> crate::error::QuerentResult<()> {
        let session = crate::conversation::SessionId::parse(session)?;
        self.sessions.record(
            &session,
            &crate::conversation::Turn {
                database: answer.database.clone(),
                question: answer.question.clone(),
                sql: answer.sql.clone(),
                generation_method: answer.generation_method.clone(),
            },
        )
    }

    /// After the knowledge of `database` changed: its version moves on and its cached
    /// answers are dropped.
    pub(super) fn knowledge_changed(&self, database: &str) {
        let version = self.versions.bump(database);
        self.cache.invalidate_database(database);
        tracing::debug!(database, version, "knowledge version bumped");
    }

    /// The knowledge version of every domain written to since start.
    pub fn knowledge_versions(&self) -> HashMap<String, u64> {
        self.versions.all()
    }

    /// The answer cache's hits, misses and size.
    pub fn cache_counts(&self) -> CacheCounts {
        self.cache.counts()
    }
}

/// The question as the cache compares it: lower case, runs of whitespace as one space, without
/// the closing punctuation.
pub fn normalise(question: &str) -> String {
    let words: Vec<String> = question
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect();
    words
        .join(" ")
        .trim_end_matches(['?', '.', '!', ' '])
        .to_string()
}

/// A hash of conversation turns (their questions and SQL); 0 for none.
pub fn context_hash(turns: &[crate::conversation::Turn]) -> u64 {
    if turns.is_empty() {
        return 0;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for t in turns {
        t.question.hash(&mut h);
        t.sql.hash(&mut h);
    }
    h.finish().max(1)
}

/// An estimate of an answer's size in bytes (the cache's weigher).
fn weight(a: &QueryAnswer) -> u32 {
    let rows: usize = a
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| 16 + v.as_str().map_or(8, str::len))
                .sum::<usize>()
        })
        .sum();
    let chart = a.chart.as_ref().map_or(0, |c| c.svg.len() + c.title.len());
    let trace: usize = a
        .trace
        .iter()
        .map(|t| t.message.len() + t.details.to_string().len())
        .sum();
    let text = a.sql.len()
        + a.summary.len()
        + a.question.len()
        + a.insights.iter().map(String::len).sum::<usize>()
        + a.follow_ups.iter().map(String::len).sum::<usize>();
    (512 + rows + chart + trace + text).min(u32::MAX as usize) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_that_differ_in_case_spacing_and_closing_mark_share_one_key() {
        assert_eq!(
            normalise("  Top 10 items by  Revenue? "),
            normalise("top 10 items by revenue")
        );
        assert_ne!(normalise("top 10 items"), normalise("top 5 items"));
    }

    #[test]
    fn a_bumped_version_never_goes_back() {
        let v = KnowledgeVersions::default();
        assert_eq!(v.get("retail"), 0);
        assert_eq!(v.bump("retail"), 1);
        assert!(!v.raise_to("retail", 1));
        assert!(v.raise_to("retail", 5));
        assert_eq!(v.get("retail"), 5);
        assert_eq!(v.get("other"), 0);
    }
}
