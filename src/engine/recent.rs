//! Recent answers by query id, so that feedback on an answer (`POST /api/feedback`) can turn
//! it into a suggested example. Bounded: the oldest and least used answers leave first.

use serde::Serialize;

use super::QueryAnswer;

/// How many answers are remembered.
const REMEMBERED: usize = 10_000;

/// What is remembered of one answer: enough to make it an example.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecentAnswer {
    pub query_id: String,
    pub database: String,
    pub question: String,
    /// The SQL that ran.
    pub sql: String,
    pub row_count: usize,
}

/// A bounded, concurrent map from query id to [`RecentAnswer`] (quick_cache's S3-FIFO).
pub struct RecentAnswers {
    cache: quick_cache::sync::Cache<String, RecentAnswer>,
}

impl Default for RecentAnswers {
    fn default() -> Self {
        Self {
            cache: quick_cache::sync::Cache::new(REMEMBERED),
        }
    }
}

impl RecentAnswers {
    /// Remembers `answer` under its query id.
    pub fn remember(&self, answer: &QueryAnswer) {
        self.cache.insert(
            answer.query_id.clone(),
            RecentAnswer {
                query_id: answer.query_id.clone(),
                database: answer.database.clone(),
                question: answer.question.clone(),
                sql: answer.sql.clone(),
                row_count: answer.row_count,
            },
        );
    }

    /// The answer given under `query_id`, if it is still remembered.
    pub fn get(&self, query_id: &str) -> Option<RecentAnswer> {
        self.cache.get(query_id)
    }
}
