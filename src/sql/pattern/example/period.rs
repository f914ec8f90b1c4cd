//! A period the question adds to an example that names none: "Who approved the most price
//! changes in 2024?" is the curated "Who approved the most price changes?" restricted to 2024,
//! on the one date column of the table the example's query reads first, when that table holds
//! events (it refers to another table): a store's opening date is no period of its rows. A
//! column of months written `YYYY-MM` gets month bounds.

use sqlparser::ast::{BinaryOperator, SetExpr, Statement, TableFactor};

use super::align::Side;
use super::tree::{object_last, string_expr, Tree};
use super::Edit;
use crate::sql::pattern::linking::{is_month_text, is_temporal, ColRef};

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
    // a `YYYY-MM` text column compares months: the first month and the month before the
    // exclusive end ('2024-01'..'2024-12'); a date's day would put '2024-01' before '2024-01-01'
    let (from, to, before) = if is_month_text(tree.schema, col) {
        let last = end.pred_opt().unwrap_or(end);
        (
            start.format("%Y-%m").to_string(),
            last.format("%Y-%m").to_string(),
            BinaryOperator::LtEq,
        )
    } else {
        (
            start.format("%Y-%m-%d").to_string(),
            end.format("%Y-%m-%d").to_string(),
            BinaryOperator::Lt,
        )
    };
    (tree.add_condition(col, BinaryOperator::GtEq, string_expr(from))
        && tree.add_condition(col, before, string_expr(to)))
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
