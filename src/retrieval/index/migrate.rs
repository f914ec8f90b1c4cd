//! Copies one vector index into another (`querent index migrate`): every point of the three
//! collections, with its vector and payload, page by page. Point ids are derived from the
//! items, so a migration can be re-run: it overwrites what it copied before and adds nothing
//! twice. Nothing is re-embedded.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::VectorStore;
use crate::knowledge::ItemKind;
use crate::retrieval::RetrievalError;

/// Points read and written per page.
const PAGE: usize = 256;

/// What a migration copied.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MigrationReport {
    /// Points copied per collection (`tables`, `examples`, `rules`).
    pub copied: BTreeMap<String, u64>,
    /// Points the target holds per collection afterwards (more than copied when it already
    /// held other databases' points).
    pub target_counts: BTreeMap<String, u64>,
    /// Wall time of the copy, in seconds.
    pub seconds: f64,
}

/// Copies every point of `source` into `target`; `progress` is called after each page with the
/// collection's name and the points copied so far in it.
///
/// Errors: a read or write failing on either side; what was copied before stays copied.
pub fn migrate(
    source: &dyn VectorStore,
    target: &dyn VectorStore,
    mut progress: impl FnMut(&str, u64),
) -> Result<MigrationReport, RetrievalError> {
    let started = Instant::now();
    let mut report = MigrationReport::default();
    for kind in ItemKind::ALL {
        let mut copied = 0u64;
        let mut offset = None;
        loop {
            let page = source.page(kind, offset, PAGE)?;
            copied += page.points.len() as u64;
            target.upsert(kind, page.points)?;
            progress(kind.collection(), copied);
            match page.next {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        target.flush(kind);
        report.copied.insert(kind.collection().to_string(), copied);
    }
    report.target_counts = target.counts()?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::{point_id, EmbeddedIndex, NewPoint};
    use super::*;
    use crate::retrieval::Embedder;

    fn unit(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; Embedder::DIMENSION];
        v[i] = 1.0;
        v
    }

    fn point(database: &str, key: &str, i: usize) -> NewPoint {
        NewPoint {
            database: database.into(),
            key: key.into(),
            content_hash: format!("h{i}"),
            item: serde_json::json!({ "name": key, "n": i }),
            vector: unit(i),
        }
    }

    #[test]
    fn a_migration_copies_every_point_whole_and_can_be_rerun() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        let source = EmbeddedIndex::open(from.path()).unwrap();
        // More than one page of examples, across two databases.
        let examples: Vec<NewPoint> = (0..300)
            .map(|i| {
                point(
                    if i % 2 == 0 { "a" } else { "b" },
                    &format!("q{i}"),
                    i % 384,
                )
            })
            .collect();
        source.upsert(ItemKind::Example, examples.clone()).unwrap();
        source
            .upsert(ItemKind::Table, vec![point("a", "stores", 3)])
            .unwrap();
        let target = EmbeddedIndex::open(to.path()).unwrap();

        let mut pages = 0;
        let report = migrate(&source, &target, |_, _| pages += 1).unwrap();
        assert_eq!(report.copied["examples"], 300);
        assert_eq!(report.copied["tables"], 1);
        assert_eq!(report.copied["rules"], 0);
        assert_eq!(report.target_counts, source.counts().unwrap());
        assert!(
            pages >= 4,
            "300 examples take two pages, plus one per other kind"
        );

        // Same payloads and vectors: the top hit for each copied vector is the same point.
        for p in examples.iter().take(20) {
            let a = source
                .search(ItemKind::Example, &p.database, &p.vector, 1)
                .unwrap();
            let b = target
                .search(ItemKind::Example, &p.database, &p.vector, 1)
                .unwrap();
            assert_eq!(a[0].key, b[0].key);
            assert_eq!(a[0].payload, b[0].payload);
        }
        let stored = target.stored(ItemKind::Table, "a").unwrap();
        assert_eq!(stored["stores"].id, point_id("a", "stores"));
        assert_eq!(stored["stores"].content_hash, "h3");

        // Again: nothing doubles.
        let again = migrate(&source, &target, |_, _| {}).unwrap();
        assert_eq!(again.target_counts, report.target_counts);
    }
}
