//! What the semantic compiler needs from a SQL dialect: time grains, date comparisons,
//! identifiers. (Moves onto `sql::dialect::SqlDialect` when that trait grows date functions.)

use chrono::NaiveDate;

use super::model::Grain;
use crate::warehouse::Dialect;

/// `expr` (a date or ISO-8601 date text) truncated to `grain`, as sortable text:
/// `2024-03-04` (day, and week: its Monday), `2024-03`, `2024-Q1`, `2024`.
pub fn truncate(dialect: Dialect, grain: Grain, expr: &str) -> String {
    match dialect {
        Dialect::Sqlite => match grain {
            Grain::Day => format!("date({expr})"),
            // the Monday on or before the date
            Grain::Week => format!("date({expr}, '-6 days', 'weekday 1')"),
            Grain::Month => format!("strftime('%Y-%m', {expr})"),
            Grain::Quarter => format!(
                "strftime('%Y', {expr}) || '-Q' || ((CAST(strftime('%m', {expr}) AS INTEGER) + 2) / 3)"
            ),
            Grain::Year => format!("strftime('%Y', {expr})"),
        },
        Dialect::BigQuery => match grain {
            Grain::Day => format!("FORMAT_DATE('%Y-%m-%d', DATE({expr}))"),
            Grain::Week => format!("FORMAT_DATE('%Y-%m-%d', DATE_TRUNC(DATE({expr}), WEEK(MONDAY)))"),
            Grain::Month => format!("FORMAT_DATE('%Y-%m', DATE({expr}))"),
            Grain::Quarter => format!("FORMAT_DATE('%Y-Q%Q', DATE({expr}))"),
            Grain::Year => format!("FORMAT_DATE('%Y', DATE({expr}))"),
        },
    }
}

/// `expr >= start AND expr < end` on a date or ISO date text; an open side is left out.
pub fn in_range(
    dialect: Dialect,
    expr: &str,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> Option<String> {
    let lit = |d: NaiveDate| match dialect {
        Dialect::Sqlite => format!("'{}'", d.format("%Y-%m-%d")),
        Dialect::BigQuery => format!("DATE '{}'", d.format("%Y-%m-%d")),
    };
    let e = match dialect {
        Dialect::Sqlite => expr.to_string(),
        Dialect::BigQuery => format!("DATE({expr})"),
    };
    let mut parts = Vec::new();
    if let Some(s) = start {
        parts.push(format!("{e} >= {}", lit(s)));
    }
    if let Some(x) = end {
        parts.push(format!("{e} < {}", lit(x)));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// The median of `expr`, or `None` when the dialect has no such aggregate.
pub fn median(dialect: Dialect, expr: &str) -> Option<String> {
    match dialect {
        Dialect::Sqlite => None,
        Dialect::BigQuery => Some(format!("APPROX_QUANTILES({expr}, 2)[OFFSET(1)]")),
    }
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
