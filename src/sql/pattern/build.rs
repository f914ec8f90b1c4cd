//! From a [`Frame`] to a [`Query`]: the tables it needs joined along the planned path, its
//! conditions, groups, order and limit as SQL tree nodes.

use super::ast::{AggFunc, CmpOp, Expr, Join, Literal, Query, Select, SelectItem, SetOp};
use super::frame::{Combine, Cond, Frame, Measure, Term};
use super::joins::{JoinGraph, JoinPlan};
use super::linking::{is_month_text, ColRef};
use crate::warehouse::{Schema, TableSchema};

/// Why a frame could not become a query.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildError {
    /// Nothing to select.
    EmptySelect,
    /// Tables that no join path reaches.
    Unreachable(Vec<String>),
    /// A sum or average the joins would inflate ([`super::chasm`]).
    ChasmTrap(super::chasm::ChasmTrap),
}

fn col_expr(schema: &Schema, c: ColRef) -> Expr {
    let t = &schema.tables[c.table];
    Expr::col(&t.name, &t.columns[c.column].name)
}

fn term_expr(schema: &Schema, t: &Term) -> Expr {
    let inner = match &t.measure {
        Measure::Column(c) => col_expr(schema, *c),
        Measure::Star => Expr::Star,
        Measure::Rule { sql, .. } => return Expr::Raw(sql.clone()),
    };
    match t.agg {
        Some(func) => Expr::Agg {
            func,
            distinct: t.distinct,
            arg: Box::new(inner),
        },
        None => inner,
    }
}

/// The year of a date column, or the first four characters of a `YYYY-MM` text column (both
/// written by the dialect).
fn year_expr(schema: &Schema, c: ColRef) -> Expr {
    if is_month_text(schema, c) {
        Expr::TextPrefix {
            expr: Box::new(col_expr(schema, c)),
            chars: 4,
        }
    } else {
        Expr::DatePart {
            part: super::ast::DatePart::Year,
            expr: Box::new(col_expr(schema, c)),
        }
    }
}

/// A `[start, end)` date range on a `YYYY-MM` text column: a whole year is `LIKE 'YYYY-%'`,
/// anything else compares the months as text (a start inside a month keeps that month).
fn month_text_range(
    col: Expr,
    start: Option<chrono::NaiveDate>,
    end: Option<chrono::NaiveDate>,
) -> Expr {
    use chrono::Datelike;
    let ym = |d: chrono::NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    if let (Some(s), Some(e)) = (start, end) {
        if s.month() == 1
            && s.day() == 1
            && e.month() == 1
            && e.day() == 1
            && e.year() == s.year() + 1
        {
            return Expr::Like {
                expr: Box::new(col),
                pattern: format!("{:04}-%", s.year()),
                negated: false,
            };
        }
    }
    let mut v = Vec::new();
    if let Some(s) = start {
        v.push(Expr::cmp(
            col.clone(),
            CmpOp::Ge,
            Expr::Lit(Literal::Text(ym(s))),
        ));
    }
    if let Some(e) = end {
        // the end is exclusive: a range ending on the 1st stops before that month
        let last = e.pred_opt().unwrap_or(e);
        v.push(Expr::cmp(
            col,
            CmpOp::Le,
            Expr::Lit(Literal::Text(ym(last))),
        ));
    }
    match v.len() {
        0 => Expr::Lit(Literal::Number("1".into())),
        1 => v.remove(0),
        _ => Expr::And(v),
    }
}

fn cond_expr(schema: &Schema, graph: &JoinGraph, c: &Cond) -> Expr {
    match c {
        Cond::Cmp { col, op, value } => {
            Expr::cmp(col_expr(schema, *col), *op, Expr::Lit(value.clone()))
        }
        Cond::In {
            col,
            values,
            negated,
        } => Expr::InList {
            expr: Box::new(col_expr(schema, *col)),
            list: values.clone(),
            negated: *negated,
        },
        Cond::Between { col, low, high } => Expr::Between {
            expr: Box::new(col_expr(schema, *col)),
            low: Box::new(Expr::Lit(low.clone())),
            high: Box::new(Expr::Lit(high.clone())),
        },
        Cond::Like {
            col,
            pattern,
            negated,
        } => Expr::Like {
            expr: Box::new(col_expr(schema, *col)),
            pattern: pattern.clone(),
            negated: *negated,
        },
        Cond::DateRange { col, start, end } if is_month_text(schema, *col) => {
            month_text_range(col_expr(schema, *col), *start, *end)
        }
        Cond::DateRange { col, start, end } => {
            let mut v = Vec::new();
            if let Some(s) = start {
                v.push(Expr::cmp(
                    col_expr(schema, *col),
                    CmpOp::Ge,
                    Expr::Lit(Literal::Date(*s)),
                ));
            }
            if let Some(e) = end {
                v.push(Expr::cmp(
                    col_expr(schema, *col),
                    CmpOp::Lt,
                    Expr::Lit(Literal::Date(*e)),
                ));
            }
            if v.len() == 1 {
                v.remove(0)
            } else {
                Expr::And(v)
            }
        }
        Cond::YearRange { col, start, end } => {
            let num = |y: i32| Expr::Lit(Literal::Number(y.to_string()));
            match (start, end) {
                (Some(s), Some(e)) if s == e => {
                    Expr::cmp(col_expr(schema, *col), CmpOp::Eq, num(*s))
                }
                (Some(s), Some(e)) => Expr::Between {
                    expr: Box::new(col_expr(schema, *col)),
                    low: Box::new(num(*s)),
                    high: Box::new(num(*e)),
                },
                (Some(s), None) => Expr::cmp(col_expr(schema, *col), CmpOp::Ge, num(*s)),
                (None, Some(e)) => Expr::cmp(col_expr(schema, *col), CmpOp::Le, num(*e)),
                (None, None) => Expr::Lit(Literal::Number("1".into())),
            }
        }
        Cond::Month { col, month } if is_month_text(schema, *col) => Expr::Like {
            expr: Box::new(col_expr(schema, *col)),
            pattern: format!("%-{month:02}"),
            negated: false,
        },
        Cond::Month { col, month } => Expr::cmp(
            Expr::DatePart {
                part: super::ast::DatePart::Month,
                expr: Box::new(col_expr(schema, *col)),
            },
            CmpOp::Eq,
            Expr::Lit(Literal::Number(month.to_string())),
        ),
        Cond::CmpAgg {
            col,
            op,
            agg,
            conds,
        } => {
            let t = &schema.tables[col.table];
            let mut sub = Select {
                items: vec![SelectItem {
                    expr: Expr::Agg {
                        func: *agg,
                        distinct: false,
                        arg: Box::new(col_expr(schema, *col)),
                    },
                    alias: None,
                }],
                from: t.name.clone(),
                ..Default::default()
            };
            if !conds.is_empty() {
                let mut tables = vec![col.table];
                for c in conds {
                    tables.extend(c.tables());
                }
                tables.dedup();
                if let Ok(plan) = graph.plan(schema, &tables) {
                    sub.joins = joins_of(schema, &plan);
                }
                sub.filter = Some(Expr::And(
                    conds.iter().map(|c| cond_expr(schema, graph, c)).collect(),
                ));
            }
            Expr::cmp(
                col_expr(schema, *col),
                *op,
                Expr::Subquery(Box::new(Query::Select(Box::new(sub)))),
            )
        }
        Cond::InSub {
            outer,
            inner,
            conds,
            negated,
        } => {
            let mut sub = Select {
                items: vec![SelectItem {
                    expr: col_expr(schema, *inner),
                    alias: None,
                }],
                from: schema.tables[inner.table].name.clone(),
                ..Default::default()
            };
            let mut tables = vec![inner.table];
            for c in conds {
                tables.extend(c.tables());
            }
            tables.dedup();
            if let Ok(plan) = graph.plan(schema, &tables) {
                sub.joins = joins_of(schema, &plan);
            }
            let parts: Vec<Expr> = conds.iter().map(|c| cond_expr(schema, graph, c)).collect();
            if !parts.is_empty() {
                sub.filter = Some(Expr::And(parts));
            }
            Expr::InQuery {
                expr: Box::new(col_expr(schema, *outer)),
                query: Box::new(Query::Select(Box::new(sub))),
                negated: *negated,
            }
        }
        Cond::Raw { sql, .. } => Expr::Raw(sql.clone()),
        Cond::Or(v) => Expr::Or(v.iter().map(|c| cond_expr(schema, graph, c)).collect()),
    }
}

fn joins_of(schema: &Schema, plan: &JoinPlan) -> Vec<Join> {
    plan.steps
        .iter()
        .map(|s| Join {
            table: schema.tables[s.table].name.clone(),
            on: s
                .on
                .iter()
                .map(|(a, b)| (col_expr(schema, *a), col_expr(schema, *b)))
                .collect(),
        })
        .collect()
}

/// The tables a frame reads, the FROM table first.
pub fn frame_tables(frame: &Frame) -> Vec<usize> {
    let mut tables: Vec<usize> = Vec::new();
    let mut add = |t: usize| {
        if !tables.contains(&t) {
            tables.push(t)
        }
    };
    let needs_subject = frame.select.iter().any(|t| t.measure == Measure::Star)
        || frame.having.is_some()
        || frame.order.iter().any(|(t, _)| t.measure == Measure::Star);
    let first_col = frame.select.iter().find_map(|t| match t.measure {
        Measure::Column(c) => Some(c.table),
        _ => None,
    });
    match (frame.subject, first_col) {
        (Some(s), Some(f)) if !needs_subject && !frame.tables.contains(&s) => {
            // the subject is the FROM table only when it is used; a column's table otherwise
            let used = frame_columns(frame).iter().any(|c| c.table == s);
            add(if used { s } else { f });
        }
        (Some(s), _) => add(s),
        (None, Some(f)) => add(f),
        (None, None) => {}
    }
    for c in frame_columns(frame) {
        add(c.table);
    }
    for &t in &frame.tables {
        add(t);
    }
    tables
}

fn frame_columns(frame: &Frame) -> Vec<ColRef> {
    let mut v = Vec::new();
    let terms = frame
        .select
        .iter()
        .chain(frame.order.iter().map(|(t, _)| t))
        .chain(frame.having.iter().map(|h| &h.term));
    for t in terms {
        if let Measure::Column(c) = t.measure {
            v.push(c);
        }
    }
    for c in &frame.conds {
        v.extend(c.columns());
    }
    if let Some((_, a, b)) = &frame.combine {
        for c in a.iter().chain(b) {
            v.extend(c.columns());
        }
    }
    v.extend(frame.group_by.iter().copied());
    v.extend(frame.group_by_year);
    v
}

/// Builds the query of a frame; returns it with the join plan of its (first) SELECT.
pub fn build_query(
    frame: &Frame,
    schema: &Schema,
    graph: &JoinGraph,
) -> Result<(Query, JoinPlan), BuildError> {
    match &frame.combine {
        None => {
            let (s, plan) = build_select(frame, schema, graph)?;
            Ok((Query::Select(Box::new(s)), plan))
        }
        Some((op, a, b)) => {
            // each side has its own tables: the rows removed by an EXCEPT may need joins the others do not
            let side = |extra: &[Cond]| {
                let mut f = frame.clone();
                f.combine = None;
                f.conds.extend(extra.iter().cloned());
                build_select(&f, schema, graph)
            };
            let (left, plan) = side(a)?;
            let (right, _) = side(b)?;
            let op = match op {
                Combine::Intersect => SetOp::Intersect,
                Combine::Union => SetOp::Union,
                Combine::Except => SetOp::Except,
            };
            Ok((
                Query::Set {
                    op,
                    left: Box::new(Query::Select(Box::new(left))),
                    right: Box::new(Query::Select(Box::new(right))),
                },
                plan,
            ))
        }
    }
}

/// Whether the query lists rows of one table, key included, and joins other tables that
/// repeat them ("Which artists have tracks in the Grunge playlist?": the artists, reached
/// through albums, tracks and playlist entries, one row per matching track): each row is then
/// shown once (`SELECT DISTINCT`), as the question asks which rows, not how many matches. A
/// join on the joined table's primary key (a store's region) repeats nothing.
/// Whether the columns named `columns` cover `table`'s whole primary key (never for a table
/// without one).
fn covers_key(table: &TableSchema, columns: &[&str]) -> bool {
    !table.primary_key.is_empty()
        && table
            .primary_key
            .iter()
            .all(|k| columns.iter().any(|c| c.eq_ignore_ascii_case(k)))
}

/// Whether a join step repeats the rows it joins to: the joined table, other than `table`,
/// is joined by columns that are not its whole primary key (an employee's certificates), while
/// a join on the joined table's key (an employee's department) repeats nothing. A table with no
/// declared key is taken not to repeat.
fn repeats_rows(schema: &Schema, plan: &JoinPlan, table: usize) -> bool {
    plan.steps.iter().any(|step| {
        let joined = &schema.tables[step.table];
        let on: Vec<&str> = step
            .on
            .iter()
            .filter(|(_, c)| c.table == step.table)
            .map(|(_, c)| joined.columns[c.column].name.as_str())
            .collect();
        step.table != table && !joined.primary_key.is_empty() && !covers_key(joined, &on)
    })
}

/// "How many employees have a certificate?": a `COUNT(*)` of the FROM table's rows through a
/// join that repeats them counts the matches, not the rows; the rows are then counted by their
/// key, each once (`COUNT(DISTINCT employee.emp_id)`). Returns that key when the query has one
/// `COUNT(*)`, no groups and the FROM table has a one-column primary key.
fn counted_key_through_joins(frame: &Frame, schema: &Schema, plan: &JoinPlan) -> Option<ColRef> {
    if !frame.group_by.is_empty()
        || frame.group_by_year.is_some()
        || frame.having.is_some()
        || frame.combine.is_some()
        || frame.select.len() != 1
        || !matches!(
            frame.select[0],
            Term {
                agg: Some(AggFunc::Count),
                distinct: false,
                measure: Measure::Star,
            }
        )
    {
        return None;
    }
    let &from = plan.tables.first()?;
    let key = super::frame::key_column(schema, from)?;
    repeats_rows(schema, plan, from).then_some(key)
}

fn lists_rows_through_joins(frame: &Frame, schema: &Schema, plan: &JoinPlan) -> bool {
    if !frame.group_by.is_empty() || frame.group_by_year.is_some() {
        return false;
    }
    let mut tables = frame.select.iter().map(|t| match (&t.measure, t.agg) {
        (Measure::Column(c), None) => Some(c.table),
        _ => None,
    });
    let Some(Some(listed)) = tables.next() else {
        return false;
    };
    if !tables.all(|t| t == Some(listed)) {
        return false;
    }
    let repeats = repeats_rows(schema, plan, listed);
    let table = &schema.tables[listed];
    let shown: Vec<&str> = frame
        .select
        .iter()
        .filter_map(|t| match t.measure {
            Measure::Column(c) if c.table == listed => Some(table.columns[c.column].name.as_str()),
            _ => None,
        })
        .collect();
    let key_shown = covers_key(table, &shown);
    // an order by a column not shown would be ambiguous over the duplicates
    let ordered_by_shown = frame.order.iter().all(|(t, _)| frame.select.contains(t));
    repeats && key_shown && ordered_by_shown
}

fn build_select(
    frame: &Frame,
    schema: &Schema,
    graph: &JoinGraph,
) -> Result<(Select, JoinPlan), BuildError> {
    if frame.select.is_empty() {
        return Err(BuildError::EmptySelect);
    }
    let tables = frame_tables(frame);
    let plan = match graph.plan(schema, &tables) {
        Ok(p) => p,
        Err(unreachable) => {
            // tables named but not needed by any column (the subject, a counted table) may be left out
            let needed: Vec<usize> = {
                let mut v: Vec<usize> = Vec::new();
                for c in frame_columns(frame) {
                    if !v.contains(&c.table) {
                        v.push(c.table);
                    }
                }
                v
            };
            let uses_star = frame.select.iter().any(|t| t.measure == Measure::Star);
            match graph.plan(schema, &needed) {
                Ok(p) if !needed.is_empty() && !uses_star => p,
                _ => {
                    return Err(BuildError::Unreachable(
                        unreachable
                            .into_iter()
                            .map(|t| schema.tables[t].name.clone())
                            .collect(),
                    ))
                }
            }
        }
    };
    if let Some(trap) = super::chasm::trap(frame, schema, &plan) {
        return Err(BuildError::ChasmTrap(trap));
    }
    let counted_key = counted_key_through_joins(frame, schema, &plan).map(|key| Term {
        agg: Some(AggFunc::Count),
        distinct: true,
        measure: Measure::Column(key),
    });
    let items = frame
        .select
        .iter()
        .map(|t| counted_key.as_ref().unwrap_or(t))
        .map(|t| SelectItem {
            expr: term_expr(schema, t),
            alias: match &t.measure {
                Measure::Rule { name, .. } => Some(name.clone()),
                _ => None,
            },
        })
        .collect();
    let mut items: Vec<SelectItem> = items;
    let mut group_by: Vec<Expr> = frame
        .group_by
        .iter()
        .map(|c| col_expr(schema, *c))
        .collect();
    // a ranking by a business rule's order shows what it ranks by ("the 5 most price-sensitive
    // products": their elasticity), when the rows are not grouped
    if frame.group_by.is_empty() && !frame.distinct {
        for (t, _) in &frame.order {
            if let (Measure::Rule { name, .. }, None) = (&t.measure, t.agg) {
                if !frame.select.contains(t) {
                    items.push(SelectItem {
                        expr: term_expr(schema, t),
                        alias: Some(name.clone()),
                    });
                }
            }
        }
    }
    if let Some(c) = frame.group_by_year {
        let year = year_expr(schema, c);
        items.insert(
            0,
            SelectItem {
                expr: year.clone(),
                alias: Some("year".into()),
            },
        );
        group_by.insert(0, year);
    }
    let mut conds: Vec<Expr> = frame
        .conds
        .iter()
        .map(|c| cond_expr(schema, graph, c))
        .collect();
    let select = Select {
        distinct: frame.distinct || lists_rows_through_joins(frame, schema, &plan),
        items,
        from: plan
            .tables
            .first()
            .map(|t| schema.tables[*t].name.clone())
            .unwrap_or_default(),
        joins: joins_of(schema, &plan),
        filter: match conds.len() {
            0 => None,
            1 => conds.pop(),
            _ => Some(Expr::And(conds)),
        },
        group_by,
        having: frame
            .having
            .as_ref()
            .map(|h| Expr::cmp(term_expr(schema, &h.term), h.op, Expr::Lit(h.value.clone()))),
        order_by: frame
            .order
            .iter()
            .map(|(t, desc)| (term_expr(schema, t), *desc))
            .collect(),
        limit: frame.limit,
    };
    Ok((select, plan))
}
