//! What a question says, as a set of meanings: the tables, columns and values its words link to,
//! and the operations its words ask for (counts, extremes, averages, sums, comparisons with their
//! numbers, orderings, negations), whatever words say them and in whatever order.
//!
//! Two questions that say the same are one question to the pattern engine, even when its frame
//! reads them into different queries ("Find the maximum and minimum durations of tracks" /
//! "What are the durations of the longest and the shortest tracks?"): a curated example that says
//! what the asked question says answers it with its SQL ([`super::reading::same_reading`]). Words
//! that link to nothing and ask for no operation ("find", "located", "information") are left out;
//! a link the two questions make differently, or an operation word one of them has, tells them
//! apart.

use std::collections::BTreeSet;

use super::align::{keys, scale_measured_by};
use crate::knowledge::values::normalize;
use crate::question::Analysis;
use crate::sql::pattern::frame::own_name_column;
use crate::sql::pattern::lexicon::{logic_class, OPERATION_WORDS};
use crate::sql::pattern::linking::{ColRef, Linking, Target};
use crate::warehouse::Schema;

/// The class of an operation word a comparison or ordering is said with: "more", "greater",
/// "above" are one upward comparison; "ascending", "alphabetical", "sorted" one ordering;
/// "descending" an ordering and its direction. Other operation words are their own class.
fn operation_class(word: &str) -> &[&str] {
    match word {
        "more" | "greater" | "larger" | "higher" | "bigger" | "above" | "over" => &["#up"],
        "less" | "fewer" | "smaller" | "lower" | "below" | "under" => &["#down"],
        "order" | "ordered" | "sort" | "sorted" | "ascending" | "alphabetical"
        | "alphabetically" => &["#order"],
        "descending" | "reverse" => &["#order", "#desc"],
        _ => &[],
    }
}

/// The meanings of `a` as linked by `links` (see the module doc): `t<table>`, `c<table>.<column>`,
/// `v<table>.<column>=<value>` for the links (a table one of its columns or values is linked
/// from is left out: "the customers' last names" and "the last names" say the same; the column
/// that names a table's rows by its name, [`names_rows`], is the table), and the
/// operation keys of the alignment ([`keys`]: `#count`, `#most`, `#cmp:gt`, `#n:20`, ...; an
/// extreme without the scale its word names), logic classes (`not`, `or`) and operation
/// classes of the words no link covers.
pub(super) fn content_of(a: &Analysis, links: &Linking, schema: &Schema) -> BTreeSet<String> {
    let mut linked: BTreeSet<(usize, Option<usize>, Option<String>)> = BTreeSet::new();
    for span in &links.spans {
        linked.insert(match &span.best().target {
            Target::Table { table } => (*table, None, None),
            // "the oldest person" and "the name of the oldest person": the column that names
            // a table's rows says what the table says
            Target::Column { col } if names_rows(schema, *col) => (col.table, None, None),
            Target::Column { col } => (col.table, Some(col.column), None),
            Target::Value { col, value, .. } => {
                (col.table, Some(col.column), Some(normalize(value)))
            }
        });
    }
    let mut out: BTreeSet<String> = BTreeSet::new();
    for (table, column, value) in &linked {
        match (column, value) {
            (None, _) => {
                if !linked.iter().any(|(t, c, _)| t == table && c.is_some()) {
                    out.insert(format!("t{table}"));
                }
            }
            (Some(c), None) => {
                out.insert(format!("c{table}.{c}"));
            }
            (Some(c), Some(v)) => {
                out.insert(format!("v{table}.{c}={v}"));
            }
        }
    }
    if says_a_breakdown(a, links) {
        out.insert("#each".to_string());
    }
    let keys = keys(a);
    for (i, key) in keys.iter().enumerate() {
        if links.span_at(key.tok).is_some() || links.column_unit_at(a, key.tok) {
            continue;
        }
        if let Some(op) = key.key.strip_prefix('#') {
            let op = match op.split_once(':') {
                // "the oldest age" and "the maximum age": one extreme of the column named
                Some((dir @ ("most" | "least"), scale))
                    if linked.iter().any(|(t, c, _)| {
                        c.is_some_and(|c| {
                            scale_measured_by(scale, &schema.tables[*t].columns[c].name)
                        })
                    }) =>
                {
                    dir
                }
                // "price above 2000" and "price higher than 2000": one comparison
                Some(("cmp", "gt")) => "up",
                Some(("cmp", "lt")) => "down",
                _ => op,
            };
            // "the most games" and "the most number of games": one extreme of a count
            let after_extreme = i > 0
                && (keys[i - 1].key.starts_with("#most") || keys[i - 1].key.starts_with("#least"));
            if !(op == "count" && after_extreme) {
                out.insert(format!("#{op}"));
            }
            continue;
        }
        let lower = a.tokens[key.tok].lower.as_str();
        let next = a.tokens.get(key.tok + 1).map(|t| t.lower.as_str());
        if let Some(class) = logic_class(lower, next) {
            out.insert(format!("logic:{class}"));
        } else if OPERATION_WORDS.contains(&lower) {
            let classes = operation_class(lower);
            if classes.is_empty() {
                out.insert(lower.to_string());
            }
            out.extend(classes.iter().map(|c| c.to_string()));
        }
    }
    // "each" breaks a figure down ("the number of players from each country"); beside no
    // figure it lists rows ("the major of each student": of all students)
    let figure = ["#count", "#sum", "#avg", "#most", "#least"]
        .iter()
        .any(|f| {
            out.iter()
                .any(|k| k == f || k.starts_with(&format!("{f}:")))
        });
    if !figure {
        out.remove("#each");
    }
    // "the different types" and "the types" are one listing, and so are the different values
    // of a breakdown; a count of different values is not a count of rows
    if !out.contains("#count") || out.contains("#each") {
        out.remove("#distinct");
    }
    out
}

/// Whether `a` asks for a breakdown in words the keys leave out: "for each city", "per year",
/// "every", or a figure beside the rows ("the cities and the number of groups", "the country
/// names and the corresponding number of players").
fn says_a_breakdown(a: &Analysis, links: &Linking) -> bool {
    let t = &a.tokens;
    let w = |i: usize| t.get(i).map(|x| x.lower.as_str()).unwrap_or("");
    (0..t.len()).any(|i| {
        if links.span_at(i).is_some() {
            return false;
        }
        if matches!(w(i), "each" | "per" | "every") {
            return true;
        }
        if w(i) != "and" {
            return false;
        }
        let mut j = i + 1;
        while matches!(
            w(j),
            "the" | "their" | "its" | "corresponding" | "respective"
        ) {
            j += 1;
        }
        matches!(
            w(j),
            "number" | "count" | "total" | "average" | "sum" | "amount"
        )
    })
}

/// Whether `col` is the column that names its table's rows by a name of their own
/// ([`own_name_column`]: a `name`, a `<thing>_name` or a `title`).
pub(super) fn names_rows(schema: &Schema, col: ColRef) -> bool {
    own_name_column(schema, col.table) == Some(col)
}
