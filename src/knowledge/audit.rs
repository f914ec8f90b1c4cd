//! The change log of the knowledge base: who changed which item, when, and what it was before
//! and after, so that every change can be reviewed and reverted.
//!
//! One append-only JSON-lines file (`<data_dir>/audit/knowledge.jsonl`), one [`AuditEntry`] a
//! line, each synced to disk **before** the knowledge file it records is renamed into place, so
//! no file change is ever without its line; an entry whose change then never reached the file
//! (the process died in between, or the rename failed) is followed by a `not_applied` entry
//! naming it ([`super::reconcile`] writes those at start-up). A process killed in
//! the middle of an append can leave a torn last line: [`AuditLog::open`] skips a line that does
//! not parse (with a warning) and starts the next entry on a fresh line. The curator
//! ([`super::curation`]) is the only writer; it serialises appends.
//!
//! With a Qdrant server the log is the replicas' shared one instead ([`AuditLog::shared`]): the
//! entries are points of its `changelog` collection, numbered across replicas; an append that
//! finds its number taken by another replica fails with [`SeqTaken`] (the curator then catches
//! up and tries again), and every read first fetches the entries recorded since the last one.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::ItemKind;
use crate::replication::Replication;

/// An append to the shared log lost the race for its number to another replica.
#[derive(Debug, thiserror::Error)]
#[error("change number {seq} was just taken by another replica")]
pub struct SeqTaken {
    pub seq: u64,
}

/// One recorded change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    /// Position in the log, from 1; a revert names the entry it undoes by this number.
    pub seq: u64,
    /// When the change was made (RFC 3339, UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who made it: the name of the curator key that authorised it, else (the shared key) the
    /// `X-Querent-User` header, else `api`.
    pub who: String,
    /// `create`, `update`, `delete`, `revert`, `approve` (a suggestion made an example), or
    /// `not_applied`: the entry named by `voids` never reached the knowledge files.
    pub action: String,
    pub database: String,
    pub kind: ItemKind,
    /// The item's id before the change (absent for a create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_before: Option<String>,
    /// The item's id after the change (absent for a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_after: Option<String>,
    /// The item as it was in the knowledge files (null: it was not there).
    pub before: Option<serde_json::Value>,
    /// The item as it is now in the knowledge files (null: it was removed).
    pub after: Option<serde_json::Value>,
    /// The entry this change reverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<u64>,
    /// For a `not_applied` entry: the entry whose change did not reach the files (the process
    /// died, or the file could not be written, between logging it and renaming the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voids: Option<u64>,
}

/// A change to record: an [`AuditEntry`] without its number and time.
#[derive(Debug, Clone)]
pub struct Change {
    pub who: String,
    pub action: &'static str,
    pub database: String,
    pub kind: ItemKind,
    pub id_before: Option<String>,
    pub id_after: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reverts: Option<u64>,
    pub voids: Option<u64>,
}

/// The append-only change log, with its entries in memory for reading.
pub struct AuditLog {
    path: PathBuf,
    state: Mutex<State>,
    /// The replicas' shared log, when there is one (no file then).
    shared: Option<Arc<Replication>>,
}

struct State {
    file: Option<File>,
    entries: Vec<AuditEntry>,
}

impl AuditLog {
    /// Opens (or creates) the log at `path`, reading the entries already there.
    ///
    /// Errors: the file or its folder cannot be created, read or written.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut entries = Vec::new();
        for (n, line) in BufReader::new(&file).lines().enumerate() {
            let line = line.with_context(|| format!("cannot read {}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<AuditEntry>(&line) {
                Ok(entry) => entries.push(entry),
                Err(e) => tracing::warn!(
                    "{}:{}: a change-log line that does not parse was skipped: {e}",
                    path.display(),
                    n + 1
                ),
            }
        }
        // A torn last line (the process died mid-append): start the next entry on its own line.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            state: Mutex::new(State {
                file: Some(file),
                entries,
            }),
            shared: None,
        })
    }

    /// The replicas' shared log on the Qdrant server of `replication`, its entries read.
    ///
    /// Errors: the server cannot be read.
    pub fn shared(replication: Arc<Replication>) -> anyhow::Result<Self> {
        let log = Self {
            path: PathBuf::from(format!("{} (changelog)", replication.url())),
            state: Mutex::new(State {
                file: None,
                entries: Vec::new(),
            }),
            shared: Some(replication),
        };
        log.refresh()?;
        Ok(log)
    }

    /// Fetches the shared log's entries recorded since the last one known (nothing to do for
    /// a file).
    ///
    /// Errors: the server cannot be read.
    pub fn refresh(&self) -> anyhow::Result<()> {
        self.refresh_locked(&mut self.state.lock())
    }

    fn refresh_locked(&self, state: &mut State) -> anyhow::Result<()> {
        let Some(replication) = &self.shared else {
            return Ok(());
        };
        let last = state.entries.last().map_or(0, |e| e.seq);
        for value in replication.changes_after(last)? {
            match serde_json::from_value::<AuditEntry>(value) {
                Ok(entry) => state.entries.push(entry),
                Err(e) => {
                    tracing::warn!("a shared change-log entry that does not parse was skipped: {e}")
                }
            }
        }
        Ok(())
    }

    /// The state, the shared log's new entries fetched first (on failure, what is known).
    fn read(&self) -> parking_lot::MutexGuard<'_, State> {
        let mut state = self.state.lock();
        if let Err(e) = self.refresh_locked(&mut state) {
            tracing::warn!("the shared change log cannot be read; showing what is known: {e:#}");
        }
        state
    }

    /// The entries numbered above `seq`, oldest first.
    pub fn after(&self, seq: u64) -> Vec<AuditEntry> {
        self.state
            .lock()
            .entries
            .iter()
            .filter(|e| e.seq > seq)
            .cloned()
            .collect()
    }

    /// Appends `change` as the next entry and syncs it to disk before returning it.
    ///
    /// Errors: the line cannot be written or synced.
    pub fn append(&self, change: Change) -> anyhow::Result<AuditEntry> {
        let mut state = self.state.lock();
        self.refresh_locked(&mut state)?;
        let entry = AuditEntry {
            seq: state.entries.last().map_or(1, |e| e.seq + 1),
            at: chrono::Utc::now(),
            who: change.who,
            action: change.action.to_string(),
            database: change.database,
            kind: change.kind,
            id_before: change.id_before,
            id_after: change.id_after,
            before: change.before,
            after: change.after,
            reverts: change.reverts,
            voids: change.voids,
        };
        if let Some(replication) = &self.shared {
            let json = serde_json::to_value(&entry)?;
            if !replication.record_change(entry.seq, &entry.database, &json)? {
                self.refresh_locked(&mut state)?;
                return Err(SeqTaken { seq: entry.seq }.into());
            }
        }
        if let Some(file) = &mut state.file {
            let mut line = serde_json::to_string(&entry)?;
            line.push('\n');
            file.write_all(line.as_bytes())
                .and_then(|()| file.sync_data())
                .with_context(|| format!("cannot append to {}", self.path.display()))?;
        }
        state.entries.push(entry.clone());
        Ok(entry)
    }

    /// The newest entry, if any.
    pub fn last(&self) -> Option<AuditEntry> {
        self.read().entries.last().cloned()
    }

    /// True when a later `not_applied` entry says entry `seq` never reached the files.
    pub fn voided(&self, seq: u64) -> bool {
        self.read().entries.iter().any(|e| e.voids == Some(seq))
    }

    /// The entry numbered `seq`.
    pub fn entry(&self, seq: u64) -> Option<AuditEntry> {
        self.read().entries.iter().find(|e| e.seq == seq).cloned()
    }

    /// The entries, newest first, of `database` (all when `None`) that touched item `id` (all
    /// when `None`), at most `limit`.
    pub fn entries(
        &self,
        database: Option<&str>,
        id: Option<&str>,
        limit: usize,
    ) -> Vec<AuditEntry> {
        self.read()
            .entries
            .iter()
            .rev()
            .filter(|e| database.is_none_or(|d| e.database == d))
            .filter(|e| {
                id.is_none_or(|id| {
                    e.id_before.as_deref() == Some(id) || e.id_after.as_deref() == Some(id)
                })
            })
            .take(limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: u32) -> Change {
        Change {
            who: "ann".into(),
            action: "create",
            database: "shop".into(),
            kind: ItemKind::Example,
            id_before: None,
            id_after: Some(format!("id{n}")),
            before: None,
            after: Some(serde_json::json!({ "question": format!("q{n}") })),
            reverts: None,
            voids: None,
        }
    }

    #[test]
    fn entries_survive_a_reopen_numbered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit/knowledge.jsonl");
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.append(change(1)).unwrap().seq, 1);
        assert_eq!(log.append(change(2)).unwrap().seq, 2);
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        let all = log.entries(None, None, 10);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].seq, 2, "newest first");
        assert_eq!(log.entries(Some("shop"), Some("id1"), 10)[0].seq, 1);
        assert_eq!(log.append(change(3)).unwrap().seq, 3);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_entry_starts_on_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("knowledge.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(change(1)).unwrap();
        drop(log);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"seq\":2,\"at\":\"20").unwrap();
        drop(file);
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.entries(None, None, 10).len(), 1);
        assert_eq!(log.append(change(2)).unwrap().seq, 2);
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.entries(None, None, 10).len(), 2);
    }
}
