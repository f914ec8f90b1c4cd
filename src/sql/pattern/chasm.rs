//! The chasm trap: a sum or an average of one table's column over a join that climbs from that
//! table to a shared one (many rows to one) and then descends to another table with many rows
//! per row of the shared one. Each summed row is counted once per matching row of the other
//! table, so the figure is inflated ("units sold of a product" joined through the product to
//! its competitor price observations). A known trap of reporting over star schemas (Ralph
//! Kimball and Margy Ross, *The Data Warehouse Toolkit*, 3rd ed., 2013, on fact tables joined
//! through conformed dimensions: "drill across" by querying each fact table separately); the
//! pattern engine refuses such a query rather than answer with an inflated figure.

use std::ops::ControlFlow;

use serde::Serialize;
use sqlparser::ast::{visit_expressions, Expr};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use super::ast::AggFunc;
use super::frame::{Frame, Measure};
use super::joins::JoinPlan;
use super::linking::ColRef;
use crate::warehouse::Schema;

/// A sum or average the joins would inflate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChasmTrap {
    /// The summed or averaged column, as `table.column`.
    pub measure: String,
    /// The table both sides have many rows per (the measure's table climbs to it).
    pub shared: String,
    /// The table with many rows per row of `shared` that the join descends to.
    pub other: String,
}

/// Whether `c` holds one row per value: `Some(true)` when it is its table's whole primary key
/// or every scanned value differs, `Some(false)` when two scanned rows share a value, `None`
/// when introspection saw no values (a warehouse that does not count them).
fn unique(schema: &Schema, c: ColRef) -> Option<bool> {
    let t = &schema.tables[c.table];
    let col = &t.columns[c.column];
    if t.primary_key.len() == 1 && t.primary_key[0].eq_ignore_ascii_case(&col.name) {
        return Some(true);
    }
    if t.row_count == 0 || col.distinct_count == 0 {
        return None;
    }
    // introspection counts distinct values over the first rows only
    let scanned = t
        .row_count
        .min(crate::warehouse::sqlite::DISTINCT_SCAN_ROWS);
    Some(col.distinct_count >= scanned)
}

/// The first sum or average of `frame` that the joins of `plan` inflate, if any.
pub fn trap(frame: &Frame, schema: &Schema, plan: &JoinPlan) -> Option<ChasmTrap> {
    // the joins as edges both ways: (from table, to table, from column, to column)
    let mut edges: Vec<(ColRef, ColRef)> = Vec::new();
    for step in &plan.steps {
        for &(earlier, this) in &step.on {
            edges.push((earlier, this));
            edges.push((this, earlier));
        }
    }
    frame.select.iter().find_map(|t| match &t.measure {
        Measure::Column(c) if matches!(t.agg, Some(AggFunc::Sum | AggFunc::Avg)) => {
            descent_after_climb(schema, &edges, *c)
        }
        Measure::Rule { sql, .. } => summed_in(schema, sql)
            .into_iter()
            .find_map(|c| descent_after_climb(schema, &edges, c)),
        _ => None,
    })
}

/// The qualified columns (`table.column`) a rule's SQL expression reads inside `SUM` or `AVG`
/// (`SUM(sales_data.units_sold)`); none when it does not parse.
fn summed_in(schema: &Schema, sql: &str) -> Vec<ColRef> {
    let Ok(expr) = Parser::new(&SQLiteDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let _ = visit_expressions(&expr, |x: &Expr| {
        if let Expr::Function(f) = x {
            let name = f.name.to_string().to_ascii_lowercase();
            if matches!(name.as_str(), "sum" | "avg") {
                let _ = visit_expressions(&f.args, |y: &Expr| {
                    if let Expr::CompoundIdentifier(parts) = y {
                        if let [table, column] = parts.as_slice() {
                            out.extend(column_of(schema, &table.value, &column.value));
                        }
                    }
                    ControlFlow::<()>::Continue(())
                });
            }
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

fn column_of(schema: &Schema, table: &str, column: &str) -> Option<ColRef> {
    let t = schema
        .tables
        .iter()
        .position(|t| t.name.eq_ignore_ascii_case(table))?;
    let c = schema.tables[t]
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(column))?;
    Some(ColRef {
        table: t,
        column: c,
    })
}

/// Walks the join tree from the measure's table: a step to a table whose joined column is
/// unique while the column left is not climbs (many to one); the reverse descends. A descent
/// after a climb is the trap.
fn descent_after_climb(
    schema: &Schema,
    edges: &[(ColRef, ColRef)],
    measure: ColRef,
) -> Option<ChasmTrap> {
    let mut seen = vec![measure.table];
    let mut stack = vec![(measure.table, None::<usize>)];
    while let Some((table, climbed_to)) = stack.pop() {
        for &(from, to) in edges.iter().filter(|(f, _)| f.table == table) {
            if seen.contains(&to.table) {
                continue;
            }
            seen.push(to.table);
            let (from_unique, to_unique) = (unique(schema, from), unique(schema, to));
            let climbs = to_unique == Some(true) && from_unique == Some(false);
            let descends = from_unique == Some(true) && to_unique == Some(false);
            if descends {
                if let Some(shared) = climbed_to {
                    let m = &schema.tables[measure.table];
                    return Some(ChasmTrap {
                        measure: format!("{}.{}", m.name, m.columns[measure.column].name),
                        shared: schema.tables[shared].name.clone(),
                        other: schema.tables[to.table].name.clone(),
                    });
                }
            }
            let next = if climbs && climbed_to.is_none() {
                Some(to.table)
            } else {
                climbed_to
            };
            stack.push((to.table, next));
        }
    }
    None
}
