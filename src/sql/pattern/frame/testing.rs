//! What the tests of the passes share: a small company schema (departments, employees, projects
//! and who works on what) with a few stored values, a question analysed and linked on it the
//! way the engine does, and the builder run up to a named pass of [`super::PASSES`].

use std::collections::HashMap;

use chrono::NaiveDate;

use super::state::Builder;
use super::{Frame, PASSES};
use crate::knowledge::ValueIndex;
use crate::question::{analyze_at, Analysis, Question};
use crate::sql::pattern::joins::JoinGraph;
use crate::sql::pattern::linking::{link, ColRef, Lexicon, Linking};
use crate::warehouse::{ColumnSchema, ForeignKey, Schema, TableSchema};

fn column(name: &str, ty: &str) -> ColumnSchema {
    ColumnSchema {
        name: name.into(),
        data_type: ty.into(),
        ..Default::default()
    }
}

fn key(from: &str, table: &str, to: &str) -> ForeignKey {
    ForeignKey {
        from_column: from.into(),
        to_table: table.into(),
        to_column: to.into(),
    }
}

/// departments, employees (each in one department, some with a mentor among them), projects, and the hours employees work on
/// projects.
pub(super) fn company() -> Schema {
    Schema {
        tables: vec![
            TableSchema {
                name: "department".into(),
                columns: vec![
                    column("dept_id", "INTEGER"),
                    column("dept_name", "TEXT"),
                    column("budget", "REAL"),
                    column("founded_year", "INTEGER"),
                ],
                primary_key: vec!["dept_id".into()],
                ..Default::default()
            },
            TableSchema {
                name: "employee".into(),
                columns: vec![
                    column("emp_id", "INTEGER"),
                    column("name", "TEXT"),
                    column("age", "INTEGER"),
                    column("salary", "REAL"),
                    column("hire_date", "DATE"),
                    column("city", "TEXT"),
                    column("dept_id", "INTEGER"),
                    column("mentor_id", "INTEGER"),
                ],
                primary_key: vec!["emp_id".into()],
                foreign_keys: vec![
                    key("dept_id", "department", "dept_id"),
                    key("mentor_id", "employee", "emp_id"),
                ],
                ..Default::default()
            },
            TableSchema {
                name: "project".into(),
                columns: vec![
                    column("project_id", "INTEGER"),
                    column("title", "TEXT"),
                    column("start_date", "DATE"),
                ],
                primary_key: vec!["project_id".into()],
                ..Default::default()
            },
            TableSchema {
                name: "works_on".into(),
                columns: vec![
                    column("emp_id", "INTEGER"),
                    column("project_id", "INTEGER"),
                    column("hours", "INTEGER"),
                ],
                primary_key: vec!["emp_id".into(), "project_id".into()],
                foreign_keys: vec![
                    key("emp_id", "employee", "emp_id"),
                    key("project_id", "project", "project_id"),
                ],
                ..Default::default()
            },
        ],
    }
}

/// A question analysed (on 2025-01-15) and linked on the company schema.
pub(super) struct Case {
    pub(super) schema: Schema,
    lex: Lexicon,
    graph: JoinGraph,
    analysis: Analysis,
    links: Linking,
}

/// Reads `question` on the company schema, with the stored values of the cities, the
/// department names and one employee's name (Ada Lovelace).
pub(super) fn case(question: &str) -> Case {
    let schema = company();
    let lex = Lexicon::build(&schema, &[]);
    let graph = JoinGraph::build(&schema);
    let mut values = ValueIndex::default();
    for city in ["Oslo", "Bergen", "Seville"] {
        values.insert("employee", "city", city.into());
    }
    for dept in ["Sales", "Research"] {
        values.insert("department", "dept_name", dept.into());
    }
    values.insert("employee", "name", "Ada Lovelace".into());
    let analysis = analyze_at(
        &Question::parse(question).expect("a question"),
        NaiveDate::from_ymd_opt(2025, 1, 15).expect("a date"),
    );
    let links = link(&analysis, &schema, &lex, &values, &HashMap::new());
    Case {
        schema,
        lex,
        graph,
        analysis,
        links,
    }
}

impl Case {
    /// The builder after the passes up to and including `last` (a name in [`PASSES`]).
    pub(super) fn until(&self, last: &str) -> Builder<'_> {
        assert!(
            PASSES.iter().any(|(name, _)| *name == last),
            "no pass named {last}"
        );
        let mut b = Builder::new(
            &self.analysis,
            &self.schema,
            &self.lex,
            &self.links,
            &self.graph,
            &[],
            &HashMap::new(),
        );
        for (name, pass) in PASSES {
            pass(&mut b);
            if *name == last {
                break;
            }
        }
        b
    }

    /// The whole frame.
    pub(super) fn frame(&self) -> Frame {
        self.until("coverage").f
    }

    /// The column `table.column` by name.
    pub(super) fn col(&self, table: &str, column: &str) -> ColRef {
        let t = self
            .schema
            .tables
            .iter()
            .position(|x| x.name == table)
            .expect("a table");
        let c = self.schema.tables[t]
            .columns
            .iter()
            .position(|x| x.name == column)
            .expect("a column");
        ColRef {
            table: t,
            column: c,
        }
    }

    /// The index of a table by name.
    pub(super) fn table(&self, table: &str) -> usize {
        self.schema
            .tables
            .iter()
            .position(|x| x.name == table)
            .expect("a table")
    }
}
