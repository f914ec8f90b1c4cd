//! Start-up reconciliation of the change log with the knowledge files, so that the log is
//! complete even after a SIGKILL.
//!
//! A curation write logs its change (synced) **before** it renames the new knowledge file into
//! place ([`super::curation`]). A process that dies between the two leaves a log entry whose
//! change never reached the files. Writes are serialised (one at a time, one process per
//! knowledge folder), so only the newest entry can be in that state: [`reconcile`] compares it
//! with the files and, when the files still hold the item as it was *before* the change,
//! appends a `not_applied` entry naming it. When the files hold neither the before nor the
//! after (someone edited them by hand since), nothing is claimed and a warning says so. It also
//! removes the temporary files such a writer leaves behind.
//!
//! Enter at [`reconcile`]; the curator calls it when it opens.

use std::path::Path;

use super::audit::{AuditEntry, AuditLog, Change};
use super::curation::item_json;
use super::files;

/// The action of an entry that records that another entry's change was not applied.
pub const NOT_APPLIED: &str = "not_applied";

/// Checks the newest entry of `log` against the files under `knowledge_dir` and records a
/// `not_applied` entry when its change is not in them; returns that entry. Also removes orphan
/// temporary files from the domain folders named in `domains`.
///
/// Errors: the `not_applied` entry cannot be appended.
pub fn reconcile(
    log: &AuditLog,
    knowledge_dir: &Path,
    domains: &[String],
) -> anyhow::Result<Option<AuditEntry>> {
    for domain in domains {
        let removed = files::remove_orphan_temp_files(&knowledge_dir.join(domain));
        if removed > 0 {
            tracing::warn!(
                domain,
                removed,
                "removed temporary files left by an interrupted write"
            );
        }
    }
    let Some(last) = log.last() else {
        return Ok(None);
    };
    if last.action == NOT_APPLIED {
        return Ok(None);
    }
    let (kb, _issues) = files::load_domain(&knowledge_dir.join(&last.database), &last.database);
    let holds = |after: bool| {
        [&last.id_before, &last.id_after]
            .into_iter()
            .flatten()
            .all(|id| {
                let expected = match (
                    after,
                    Some(id) == last.id_after.as_ref(),
                    Some(id) == last.id_before.as_ref(),
                ) {
                    (true, true, _) => last.after.clone(),
                    (false, _, true) => last.before.clone(),
                    _ => None,
                };
                item_json(&kb, &last.database, last.kind, id) == expected
            })
    };
    if holds(true) {
        return Ok(None);
    }
    if !holds(false) {
        tracing::warn!(
            seq = last.seq,
            database = %last.database,
            "the knowledge files hold neither the before nor the after of the last logged change (edited by hand since?); nothing recorded"
        );
        return Ok(None);
    }
    let entry = log.append(Change {
        who: "querent".into(),
        action: NOT_APPLIED,
        database: last.database.clone(),
        kind: last.kind,
        id_before: last.id_before.clone(),
        id_after: last.id_after.clone(),
        before: last.before.clone(),
        after: last.before.clone(),
        reverts: None,
        voids: Some(last.seq),
    })?;
    tracing::warn!(
        seq = last.seq,
        "the last logged change did not reach the knowledge files (the process stopped mid-write); recorded as not applied"
    );
    Ok(Some(entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::curation::item_id;
    use crate::knowledge::{Example, ItemKind, KnowledgeBase};

    fn example(q: &str) -> Example {
        Example {
            question: q.into(),
            sql: "SELECT 1".into(),
            source: String::new(),
        }
    }

    fn create_of(q: &str) -> Change {
        Change {
            who: "ann".into(),
            action: "create",
            database: "shop".into(),
            kind: ItemKind::Example,
            id_before: None,
            id_after: Some(item_id("shop", ItemKind::Example, q)),
            before: None,
            after: Some(serde_json::to_value(example(q)).unwrap()),
            reverts: None,
            voids: None,
        }
    }

    fn setup(in_files: &[&str]) -> (tempfile::TempDir, AuditLog) {
        let dir = tempfile::tempdir().unwrap();
        let kb = KnowledgeBase {
            domain: "shop".into(),
            examples: in_files.iter().map(|q| example(q)).collect(),
            ..Default::default()
        };
        files::save_domain(&dir.path().join("shop"), &kb).unwrap();
        let log = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
        (dir, log)
    }

    #[test]
    fn a_logged_create_missing_from_the_files_is_marked_not_applied_once() {
        let (dir, log) = setup(&["a"]);
        log.append(create_of("a")).unwrap();
        log.append(create_of("b")).unwrap();
        let domains = vec!["shop".to_string()];
        let entry = reconcile(&log, dir.path(), &domains).unwrap().unwrap();
        assert_eq!(
            (entry.seq, entry.action.as_str(), entry.voids),
            (3, NOT_APPLIED, Some(2))
        );
        assert_eq!(entry.after, None, "the files hold no 'b'");
        assert!(reconcile(&log, dir.path(), &domains).unwrap().is_none());
    }

    #[test]
    fn an_applied_change_or_a_hand_edit_since_records_nothing() {
        let (dir, log) = setup(&["a", "b"]);
        log.append(create_of("b")).unwrap();
        let domains = vec!["shop".to_string()];
        assert!(reconcile(&log, dir.path(), &domains).unwrap().is_none());

        // 'c' was created, then edited by hand: neither before (absent) nor after.
        let (dir, log) = setup(&["a"]);
        let mut kb = files::load_domain(&dir.path().join("shop"), "shop").0;
        let mut c = example("c");
        c.sql = "SELECT 2".into();
        kb.examples.push(c);
        files::save_domain(&dir.path().join("shop"), &kb).unwrap();
        log.append(create_of("c")).unwrap();
        assert!(reconcile(&log, dir.path(), &domains).unwrap().is_none());
    }

    #[test]
    fn orphan_temporary_files_of_a_killed_write_are_removed() {
        let (dir, log) = setup(&["a"]);
        let orphan = dir.path().join("shop/.examples.yml.0123abcd.tmp");
        std::fs::write(&orphan, "examples: []").unwrap();
        let other = dir.path().join("shop/notes.tmp");
        std::fs::write(&other, "mine").unwrap();
        reconcile(&log, dir.path(), &["shop".to_string()]).unwrap();
        assert!(!orphan.exists());
        assert!(other.exists(), "only querent's own temporary files go");
    }
}
