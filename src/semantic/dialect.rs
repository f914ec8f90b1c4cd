//! What the semantic compiler needs from a SQL dialect, on top of [`SqlDialect`]: time
//! buckets, date ranges, the median, identifiers. Every form that differs per dialect comes from
//! `sql::dialect` (no match on the dialect here).

use chrono::NaiveDate;

use super::model::Grain;
use crate::sql::dialect::{for_dialect, TimeGrain};
use crate::warehouse::Dialect;

fn time_grain(grain: Grain) -> TimeGrain {
    match grain {
        Grain::Day => TimeGrain::Day,
        Grain::Week => TimeGrain::Week,
        Grain::Month => TimeGrain::Month,
        Grain::Quarter => TimeGrain::Quarter,
        Grain::Year => TimeGrain::Year,
    }
}

/// `expr` (a date or ISO-8601 date text) truncated to `grain`, as sortable text:
/// `2024-03-04` (day, and week: its Monday), `2024-03`, `2024-Q1`, `2024`.
pub fn truncate(dialect: Dialect, grain: Grain, expr: &str) -> String {
    for_dialect(dialect).bucket_label(time_grain(grain), expr)
}

/// The quarter of the date `expr` within its year: `Q1`..`Q4`.
pub fn quarter_of_year(dialect: Dialect, expr: &str) -> String {
    for_dialect(dialect).quarter_label(expr)
}

/// The month of the date `expr` within its year: `01`..`12`.
pub fn month_of_year(dialect: Dialect, expr: &str) -> String {
    for_dialect(dialect).month_label(expr)
}

/// `expr >= start AND expr < end` on a date or ISO date text; an open side is left out.
pub fn in_range(
    dialect: Dialect,
    expr: &str,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> Option<String> {
    let d = for_dialect(dialect);
    let e = d.as_date(expr);
    let mut parts = Vec::new();
    if let Some(s) = start {
        parts.push(format!("{e} >= {}", d.date_literal(s)));
    }
    if let Some(x) = end {
        parts.push(format!("{e} < {}", d.date_literal(x)));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// The median of `expr`, or `None` when the dialect has no such aggregate.
pub fn median(dialect: Dialect, expr: &str) -> Option<String> {
    for_dialect(dialect).median(expr)
}

/// A string literal.
pub fn string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

const RESERVED: &[&str] = &[
    "all", "and", "as", "by", "case", "cross", "desc", "distinct", "else", "end", "from", "full",
    "group", "having", "in", "index", "inner", "is", "join", "left", "limit", "not", "null", "on",
    "or", "order", "outer", "right", "select", "table", "then", "union", "when", "where", "with",
    "window", "range", "rows", "date", "time", "current", "values",
];

/// An identifier, quoted only when it must be (not a plain word, or a keyword).
pub fn ident(dialect: Dialect, name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name.to_ascii_lowercase().as_str());
    if plain {
        name.to_string()
    } else {
        crate::sql::dialect::for_dialect(dialect).quote_identifier(name)
    }
}
