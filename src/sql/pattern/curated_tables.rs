//! The tables of the closest curated example, as a prior for schema linking.
//!
//! A word often names columns of several tables ("name", "date", "id", a value stored in two
//! places), and a question often reads one table where another with a similar column would do.
//! The curated example closest to the question (by retrieval similarity) says which tables the
//! domain's curators read for a question like it: its tables lean the linking their way, as the
//! tables' own retrieval scores do, only more ([`CURATED_TABLE_WEIGHT`]). This is the retrieved
//! few-shot example used as schema-linking evidence, as retrieval-augmented text-to-SQL does
//! with its demonstrations (Vanna, DAIL-SQL: Gao et al., "Text-to-SQL Empowered by Large
//! Language Models: A Benchmark Evaluation", VLDB 2024), here without an LLM.

use std::collections::HashMap;

use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::knowledge::Example;
use crate::warehouse::Schema;

/// The weight of the closest curated example's tables given to
/// [`linking::link_with_priors`](super::linking::link_with_priors), per unit of the example's
/// retrieval similarity (0..1): a weight adds 0.05 per unit to the links to its table's names,
/// so an example at similarity 0.8 adds 0.24. Chosen on the curation-lift benchmark (`querent
/// eval --curate-first 10 --curate-databases 40`; lift in points over the lift without the
/// prior, seeds 7 / 3): weight 3 +0.4 / +1.0, 6 +0.8 / +1.5, 10 -0.2 / +0.9; seed 11 at 6: +1.1.
pub const CURATED_TABLE_WEIGHT: f32 = 6.0;

/// The tables of `schema` that `sql` reads (`FROM` / `JOIN`, subqueries too), by their names
/// in the schema; none when the SQL does not parse.
pub fn tables_read(sql: &str, schema: &Schema) -> Vec<String> {
    let Ok(stmts) = Parser::parse_sql(&GenericDialect {}, sql) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let _ = sqlparser::ast::visit_relations(&stmts, |name| {
        if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
            if let Some(t) = schema
                .tables
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&last.value))
            {
                if !out.contains(&t.name) {
                    out.push(t.name.clone());
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    out
}

/// The curated priors of the linking: for each table the closest of `examples` (best retrieval
/// similarity) reads, [`CURATED_TABLE_WEIGHT`] times that example's similarity; empty when
/// there is no example.
pub fn table_priors(examples: &[(Example, f32)], schema: &Schema) -> HashMap<String, f32> {
    let mut out = HashMap::new();
    let closest = examples.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((ex, similarity)) = closest {
        for table in tables_read(&ex.sql, schema) {
            out.insert(table, CURATED_TABLE_WEIGHT * similarity.clamp(0.0, 1.0));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::{SqliteWarehouse, Warehouse};

    fn schema() -> (tempfile::TempDir, Schema) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE Singer (id INTEGER PRIMARY KEY, name TEXT);
                 CREATE TABLE concert (id INTEGER PRIMARY KEY, singer_id INTEGER, name TEXT);
                 CREATE TABLE stadium (id INTEGER PRIMARY KEY, name TEXT);",
            )
            .unwrap();
        let schema = SqliteWarehouse::open(&path).unwrap().introspect().unwrap();
        (dir, schema)
    }

    #[test]
    fn the_tables_a_query_reads_are_found_through_aliases_joins_and_subqueries() {
        let (_d, s) = schema();
        assert_eq!(
            tables_read(
                "SELECT T1.name FROM singer AS T1 JOIN Concert AS T2 ON T1.id = T2.singer_id \
                 WHERE T1.id NOT IN (SELECT id FROM stadium)",
                &s
            ),
            vec!["Singer", "concert", "stadium"]
        );
        assert!(tables_read("not sql at all", &s).is_empty());
    }

    #[test]
    fn the_closest_examples_tables_weigh_in_proportion_to_its_similarity() {
        let (_d, s) = schema();
        let ex = |q: &str, sql: &str| Example {
            question: q.into(),
            sql: sql.into(),
            source: String::new(),
        };
        let examples = vec![
            (
                ex("How many stadiums?", "SELECT count(*) FROM stadium"),
                0.4,
            ),
            (ex("Names of singers?", "SELECT name FROM Singer"), 0.8),
        ];
        let p = table_priors(&examples, &s);
        assert!(
            (p["Singer"] - CURATED_TABLE_WEIGHT * 0.8).abs() < 1e-6,
            "{p:?}"
        );
        // only the closest example counts
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(table_priors(&[], &s).is_empty());
    }
}
