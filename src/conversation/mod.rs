//! Conversations: the questions of a session (`session_id`) and the SQL that answered them, kept
//! in querent's own SQLite state database (`<data dir>/state.sqlite`) so that a follow-up ("only
//! in the West zone", "now by month") is read against the previous question, across restarts.
//!
//! [`SessionStore`] owns the file: [`SessionStore::history`] reads a session's last turns,
//! [`SessionStore::record`] appends one and trims the session to its bound. With a Qdrant
//! server ([`SessionStore::shared`]) the turns live in its `sessions` collection instead
//! ([`crate::replication`]), so that a conversation continues on any replica. Follow-ups are
//! resolved elsewhere: by the LLM from the prompt's conversation context, or by
//! `sql::refine` without it. [`follow_ups`] suggests next questions from a result.

pub mod follow_ups;

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::{QuerentError, QuerentResult};
use crate::replication::Replication;

/// Longest session id accepted (characters).
pub const MAX_SESSION_ID_CHARS: usize = 128;

/// A session id: 1..=128 characters of letters, digits, `-`, `_`, `.` or `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SessionId(String);

impl SessionId {
    /// Checks a session id.
    ///
    /// Errors: [`QuerentError::InvalidRequest`] when it is empty, too long or holds other
    /// characters.
    pub fn parse(s: &str) -> QuerentResult<Self> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.chars().count() <= MAX_SESSION_ID_CHARS
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(QuerentError::InvalidRequest(format!(
                "session_id must be 1 to {MAX_SESSION_ID_CHARS} letters, digits, '-', '_', '.' or ':'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One answered question of a session.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Turn {
    pub database: String,
    pub question: String,
    /// The SQL that ran.
    pub sql: String,
    /// `llm`, `pattern`, `example`, `refinement`.
    pub generation_method: String,
}

/// The sessions: the state database's table behind one connection, or the replicas' shared
/// collection.
pub struct SessionStore {
    backend: Backend,
    max_turns: usize,
}

enum Backend {
    Local(Mutex<Connection>),
    Shared(Arc<Replication>),
}

impl SessionStore {
    /// Opens (creating when missing) the state database at `path`; each session keeps its
    /// last `max_turns` turns (at least 1).
    ///
    /// Errors: the file cannot be opened or its table created.
    pub fn open(path: &Path, max_turns: usize) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS turns (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL,
                database TEXT NOT NULL,
                question TEXT NOT NULL,
                sql TEXT NOT NULL,
                generation_method TEXT NOT NULL,
                created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            );
            CREATE INDEX IF NOT EXISTS turns_by_session ON turns (session_id, id);",
        )?;
        Ok(Self {
            backend: Backend::Local(Mutex::new(conn)),
            max_turns: max_turns.max(1),
        })
    }

    /// The sessions in the replicas' shared collection ([`Replication`]); each session keeps
    /// its last `max_turns` turns.
    pub fn shared(replication: Arc<Replication>, max_turns: usize) -> Self {
        Self {
            backend: Backend::Shared(replication),
            max_turns: max_turns.max(1),
        }
    }

    /// The last `limit` turns of `session` on `database`, oldest first.
    ///
    /// Errors: [`QuerentError::Internal`] when the state database fails.
    pub fn history(
        &self,
        session: &SessionId,
        database: &str,
        limit: usize,
    ) -> QuerentResult<Vec<Turn>> {
        let conn = match &self.backend {
            Backend::Local(conn) => conn.lock(),
            Backend::Shared(replication) => {
                let turns: Vec<Turn> = replication
                    .session_turns(session.as_str())
                    .map_err(shared)?
                    .into_iter()
                    .filter_map(|t| serde_json::from_value::<Turn>(t.turn).ok())
                    .filter(|t| t.database == database)
                    .collect();
                let skip = turns.len().saturating_sub(limit);
                return Ok(turns.into_iter().skip(skip).collect());
            }
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT database, question, sql, generation_method FROM turns
                 WHERE session_id = ?1 AND database = ?2 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(internal)?;
        let rows = stmt
            .query_map(params![session.as_str(), database, limit as i64], |r| {
                Ok(Turn {
                    database: r.get(0)?,
                    question: r.get(1)?,
                    sql: r.get(2)?,
                    generation_method: r.get(3)?,
                })
            })
            .map_err(internal)?;
        let mut turns = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
        turns.reverse();
        Ok(turns)
    }

    /// Appends a turn to `session` and drops its turns beyond the bound.
    ///
    /// Errors: [`QuerentError::Internal`] when the state database fails.
    pub fn record(&self, session: &SessionId, turn: &Turn) -> QuerentResult<()> {
        let mut conn = match &self.backend {
            Backend::Local(conn) => conn.lock(),
            Backend::Shared(replication) => {
                // Two replicas recording a turn of one session at once may give both the same
                // number; the turns are then ordered by time.
                let turns = replication
                    .session_turns(session.as_str())
                    .map_err(shared)?;
                let n = turns.iter().map(|t| t.n).max().unwrap_or(0) + 1;
                let json = serde_json::to_value(turn)
                    .map_err(|e| QuerentError::Internal(e.to_string()))?;
                replication
                    .add_turn(session.as_str(), n, json)
                    .map_err(shared)?;
                let excess = (turns.len() + 1).saturating_sub(self.max_turns);
                replication
                    .delete_turns(turns.iter().take(excess).map(|t| t.id).collect())
                    .map_err(shared)?;
                return Ok(());
            }
        };
        let tx = conn.transaction().map_err(internal)?;
        tx.execute(
            "INSERT INTO turns (session_id, database, question, sql, generation_method)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                session.as_str(),
                turn.database,
                turn.question,
                turn.sql,
                turn.generation_method
            ],
        )
        .map_err(internal)?;
        tx.execute(
            "DELETE FROM turns WHERE session_id = ?1 AND id NOT IN
               (SELECT id FROM turns WHERE session_id = ?1 ORDER BY id DESC LIMIT ?2)",
            params![session.as_str(), self.max_turns as i64],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)
    }
}

fn shared(e: crate::retrieval::RetrievalError) -> QuerentError {
    QuerentError::Internal(format!("shared sessions: {e}"))
}

fn internal(e: rusqlite::Error) -> QuerentError {
    QuerentError::Internal(format!("state database: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(q: &str) -> Turn {
        Turn {
            database: "retail".into(),
            question: q.into(),
            sql: format!("SELECT '{q}'"),
            generation_method: "pattern".into(),
        }
    }

    #[test]
    fn a_session_keeps_its_last_turns_in_order_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let id = SessionId::parse("chat-1").unwrap();
        {
            let store = SessionStore::open(&path, 3).unwrap();
            for q in ["a", "b", "c", "d"] {
                store.record(&id, &turn(q)).unwrap();
            }
            store
                .record(&SessionId::parse("other").unwrap(), &turn("x"))
                .unwrap();
        }
        let store = SessionStore::open(&path, 3).unwrap();
        let questions: Vec<String> = store
            .history(&id, "retail", 10)
            .unwrap()
            .into_iter()
            .map(|t| t.question)
            .collect();
        assert_eq!(questions, vec!["b", "c", "d"]);
        assert_eq!(store.history(&id, "retail", 1).unwrap()[0].question, "d");
        assert!(store.history(&id, "other_db", 10).unwrap().is_empty());
    }

    #[test]
    fn a_session_id_with_spaces_or_quotes_is_refused() {
        assert!(SessionId::parse("a b").is_err());
        assert!(SessionId::parse("x'; DROP").is_err());
        assert!(SessionId::parse("").is_err());
        assert!(SessionId::parse(&"a".repeat(129)).is_err());
        assert_eq!(SessionId::parse(" abc-1 ").unwrap().as_str(), "abc-1");
    }
}
