//! A period the question adds to an example that names none: "Who approved the most price
//! changes in 2024?" is the curated "Who approved the most price changes?" restricted to 2024,
//! on the one date column of the table the example's query reads first, when that table holds
//! events (it refers to another table): a store's opening date is no period of its rows.

use sqlparser::ast::{BinaryOperator, SetExpr, Statement, TableFactor};

use super::align::Side;
use super::tree::{object_last, string_expr, Tree};
use super::Edit;
use crate::sql::pattern::linking::{is_temporal, ColRef};

/// Explains question keys `qs` (the example has no words there) when they are the words of
/// one bounded period of the question and the example names no period and writes no date: the
/// period's bounds on the date column of the first table the example reads (its only date
/// column), added to the outer `WHERE`. `None` otherwise.
pub(super) fn add_period(tree: &mut Tree, ex: &Side, q: &Side, qs: &[usize]) -> Option<Vec<Edit>> {
    if !ex.a.time_ranges.is_empty() || tree.writes_a_date() {
        return None;
    }
    let toks: Vec<usize> = qs.iter().map(|&k| q.keys[k].tok).collect();
    let range =
        q.a.time_ranges
            .iter()
            .find(|r| toks.iter().all(|t| (r.tokens.0..r.tokens.1).contains(t)))?;
    let (start, end) = (range.start?, range.end?);
    let col = date_column(tree)?;
    let name = format!(
        "{}.{}",
        tree.schema.tables[col.table].name,
        tree.col_name(col)
    );
    let from = string_expr(start.format("%Y-%m-%d").to_string());
    let to = string_expr(end.format("%Y-%m-%d").to_string());
    (tree.add_condition(col, BinaryOperator::GtEq, from)
        && tree.add_condition(col, BinaryOperator::Lt, to))
    .then(|| {
        vec![Edit::AddPeriod {
            column: name,
            period: range.text.clone(),
        }]
    })
}

/// The only date column ([`is_temporal`]: a date type, a date's name or date values) of the
/// first table of the outer query's `FROM`, when that table refers
/// to another (a table of events).
fn date_column(tree: &Tree) -> Option<ColRef> {
    let Statement::Query(q) = &tree.stmt else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let TableFactor::Table { name, .. } = &s.from.first()?.relation else {
        return None;
    };
    let first = object_last(name);
    let table = tree
        .schema
        .tables
        .iter()
        .position(|t| t.name.eq_ignore_ascii_case(&first))?;
    // the rows of events (a table that refers to another: price changes of products, invoices
    // of customers), not of things whose date is an attribute (a store's opening date)
    let t = &tree.schema.tables[table];
    if !t
        .foreign_keys
        .iter()
        .any(|fk| !fk.to_table.eq_ignore_ascii_case(&t.name))
    {
        return None;
    }
    let dates: Vec<usize> = (0..t.columns.len())
        .filter(|&column| is_temporal(tree.schema, ColRef { table, column }))
        .collect();
    match dates.as_slice() {
        [column] => Some(ColRef {
            table,
            column: *column,
        }),
        _ => None,
    }
}
