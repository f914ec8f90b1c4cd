//! Examples adapted through their metric query (#11, #12): when the semantic layer reads both
//! the asked question and a curated example's question as metric queries, and the two differ
//! only in slots — the period, the number of rows, the direction, the members of a filter, a
//! categorical dimension — the example's SQL is edited in those slots. The
//! wordings no longer need to share words: "best 5 items by sales in 2023" is answered from
//! "what are the top 10 products by revenue in 2024?", because both read as revenue by product,
//! ranked, cut to N rows, in one year. Everything else of the example (the columns its author
//! chose to show, its joins, its conditions) is kept: that is what the expert curated.

use super::slots::Span;
use super::tree::Tree;
use super::Edit;
use crate::semantic::query::{DimensionRef, Filter, GroupBy, MetricQuery, Period};
use crate::sql::pattern::linking::ColRef;
use crate::warehouse::Schema;

fn span(p: &Period) -> Option<Span> {
    Some(Span {
        start: p.start?,
        end: p.end?,
    })
}

/// Edits `example_sql` (the SQL of the curated example read as `example`) into the answer to
/// `asked`: the SQL and its edits, or `None` when the two queries differ in more than slots
/// (another metric, another breakdown shape, a derived figure, a filter added or dropped) or the
/// example's SQL does not write a slot where it can be edited. `dimension_column` gives the
/// column of a categorical dimension (for swapping one breakdown for another).
pub fn adapt_by_metric_query(
    asked: &MetricQuery,
    example: &MetricQuery,
    example_sql: &str,
    schema: &Schema,
    dimension_column: &dyn Fn(&DimensionRef) -> Option<ColRef>,
) -> Option<(String, Vec<Edit>)> {
    if asked.columns != example.columns
        || asked.entity_count != example.entity_count
        || asked.dimension_count != example.dimension_count
        || asked.derived != example.derived
        || asked.having != example.having
        || asked.group_by.len() != example.group_by.len()
        || asked.filters.len() != example.filters.len()
        || asked.order.len() != example.order.len()
    {
        return None;
    }
    let mut tree = Tree::parse(example_sql, schema)?;
    let mut edits = Vec::new();
    // the breakdown: the same, or one categorical dimension for another
    for (q, e) in asked.group_by.iter().zip(&example.group_by) {
        if q == e {
            continue;
        }
        let (GroupBy::Dimension(qd), GroupBy::Dimension(ed)) = (q, e) else {
            return None;
        };
        let (new, old) = (dimension_column(qd)?, dimension_column(ed)?);
        // a column the example shows already (a region beside its zone) is not a swap
        if tree.uses_column(new) || !tree.replace_column(old, new) {
            return None;
        }
        edits.push(Edit::Column {
            old: ed.name.clone(),
            new: qd.name.clone(),
        });
    }
    // the time grain: the same (the example's buckets are written for its grain; a grain of
    // its own is the semantic compiler's, which knows the data's granularity)
    if asked.time_grain != example.time_grain {
        return None;
    }
    // the filters: the same, or other members of the same dimension
    for (q, e) in asked.filters.iter().zip(&example.filters) {
        if q == e {
            continue;
        }
        let (
            Filter::Members {
                dimension: qd,
                values: qv,
                negated: qn,
            },
            Filter::Members {
                dimension: ed,
                values: ev,
                negated: en,
            },
        ) = (q, e)
        else {
            return None;
        };
        if qd.name != ed.name || qn != en || qv.len() != ev.len() {
            return None;
        }
        for (new, old) in qv.iter().zip(ev) {
            if new == old {
                continue;
            }
            if !tree.replace_strings(old, new) {
                return None;
            }
            edits.push(Edit::Value {
                old: old.clone(),
                new: new.clone(),
            });
        }
    }
    // the period
    match (&asked.period, &example.period) {
        (None, None) => {}
        (Some(q), Some(e)) if q.start == e.start && q.end == e.end => {}
        (Some(q), Some(e)) => {
            let (new, old) = (span(q)?, span(e)?);
            // with a time breakdown, a period of another length may need buckets the example's
            // do not make (quarters labelled without their year, over two years)
            if asked.time_grain.is_some() && new.end - new.start != old.end - old.start {
                let months = |s: super::slots::Span| {
                    use chrono::Datelike;
                    (s.end.year() - s.start.year()) * 12 + s.end.month() as i32
                        - s.start.month() as i32
                };
                if months(new) != months(old) {
                    return None;
                }
            }
            if !tree.move_period(old, new) {
                return None;
            }
            edits.push(Edit::Period {
                old: e.text.clone(),
                new: q.text.clone(),
            });
        }
        _ => return None,
    }
    // the direction
    for (q, e) in asked.order.iter().zip(&example.order) {
        if q.by != e.by {
            return None;
        }
        if q.descending != e.descending {
            if !tree.flip_direction() {
                return None;
            }
            edits.push(Edit::Direction {
                old: if e.descending { "most" } else { "least" }.into(),
                new: if q.descending { "most" } else { "least" }.into(),
            });
        }
    }
    // the number of rows: the question's N, where the example's SQL cuts its rows
    match (asked.limit, example.limit) {
        (a, e) if a == e => {}
        (Some(n), e) => {
            let old = tree.limit();
            if e.is_some() && old != e {
                return None;
            }
            if !tree.set_limit(n) {
                return None;
            }
            edits.push(Edit::Number {
                old: old.map_or_else(|| "all".into(), |o| o.to_string()),
                new: n.to_string(),
            });
        }
        (None, _) => return None,
    }
    let sql = if edits.is_empty() {
        example_sql.to_string()
    } else {
        tree.stmt.to_string()
    };
    Some((sql, edits))
}

/// Drops from `sql` (an example's SQL adapted to the asked question) the figures the asked
/// question does not ask for: the outer select items aggregating only columns that the
/// question's own compiled query (`asked_sql`) does not aggregate, unless the ordering uses
/// them. For an example whose wording covered several figures ("sales": revenue and units)
/// asked with a word naming one ("revenue"); the caller decides that. `None` when nothing is
/// dropped.
pub fn drop_unasked_figures(
    sql: &str,
    asked_sql: &str,
    schema: &Schema,
) -> Option<(String, Vec<Edit>)> {
    let keep = super::figures::aggregated_columns(asked_sql);
    if keep.is_empty() {
        return None;
    }
    let mut tree = Tree::parse(sql, schema)?;
    let dropped = tree.drop_figures_outside(&keep);
    if dropped.is_empty() {
        return None;
    }
    let edits = dropped
        .into_iter()
        .map(|column| Edit::DropColumn { column })
        .collect();
    Some((tree.stmt.to_string(), edits))
}
