//! Temporal columns: dates by type, years by name, months written `YYYY-MM`.

use super::ColRef;
use crate::question::tokens::split_identifier;
use crate::warehouse::{ColumnKind, Schema};

/// True when a column holds dates (by type) or years (by name with an integer type).
pub fn is_temporal(schema: &Schema, c: ColRef) -> bool {
    let col = &schema.tables[c.table].columns[c.column];
    let kind = col.kind();
    if kind == ColumnKind::Date {
        return true;
    }
    let words = split_identifier(&col.name);
    let dateish = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "date" | "time" | "timestamp" | "datetime" | "day" | "dt"
        )
    });
    dateish && matches!(kind, ColumnKind::Text | ColumnKind::Other)
        || col
            .sample_values
            .first()
            .is_some_and(|v| looks_like_date(v))
            && !kind.is_numeric()
        || is_month_text(schema, c)
}

/// True when a text column holds months written `YYYY-MM` (a "period" column): every sample
/// value has that shape. Such a column compares as text: `>= '2023-07'`, `LIKE '2023-%'`.
pub fn is_month_text(schema: &Schema, c: ColRef) -> bool {
    let col = &schema.tables[c.table].columns[c.column];
    !col.kind().is_numeric()
        && !col.sample_values.is_empty()
        && col.sample_values.iter().all(|v| {
            let b = v.as_bytes();
            b.len() == 7
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[5..].iter().all(u8::is_ascii_digit)
        })
}

/// True when a column holds a year as an integer (named `year`, `..._year`, `yr`).
pub fn is_year_column(schema: &Schema, c: ColRef) -> bool {
    let col = &schema.tables[c.table].columns[c.column];
    let words = split_identifier(&col.name);
    words
        .iter()
        .any(|w| matches!(w.as_str(), "year" | "yr" | "years"))
        && !is_temporal(schema, c)
}

fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}
