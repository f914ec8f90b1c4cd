//! The figures of an example's SQL: the columns its aggregates read, the figures a question
//! does not ask for dropped from its select list, and the columns its rows are grouped by.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{Expr, SetExpr, Statement, Visit};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use super::tree::{object_last, Tree};
use crate::sql::pattern::linking::ColRef;

/// Aggregate functions whose arguments are a query's figures.
const AGGREGATES: &[&str] = &["sum", "avg", "count", "min", "max", "total"];

/// The lower-case names of the columns `e` reads inside an aggregate function (`SUM(s.revenue)`:
/// `revenue`).
fn aggregated_in<V: Visit>(e: &V) -> HashSet<String> {
    let mut out = HashSet::new();
    let _ = sqlparser::ast::visit_expressions(e, |x: &Expr| {
        if let Expr::Function(f) = x {
            if AGGREGATES.contains(&object_last(&f.name).as_str()) {
                let _ = sqlparser::ast::visit_expressions(&f.args, |y: &Expr| {
                    match y {
                        Expr::Identifier(i) => {
                            out.insert(i.value.to_lowercase());
                        }
                        Expr::CompoundIdentifier(parts) => {
                            if let Some(last) = parts.last() {
                                out.insert(last.value.to_lowercase());
                            }
                        }
                        _ => {}
                    }
                    ControlFlow::<()>::Continue(())
                });
            }
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// The lower-case names of the columns aggregated anywhere in `sql` (SQLite dialect); empty
/// when it does not parse.
pub(super) fn aggregated_columns(sql: &str) -> HashSet<String> {
    Parser::parse_sql(&SQLiteDialect {}, sql)
        .map(|stmts| aggregated_in(&stmts))
        .unwrap_or_default()
}

impl Tree<'_> {
    /// Drops the outer select items that aggregate only columns outside `keep` (lower-case
    /// names), unless the ordering or a `HAVING` uses them, or no item aggregates a column of
    /// `keep`: the names (aliases) of the items dropped.
    pub(super) fn drop_figures_outside(&mut self, keep: &HashSet<String>) -> Vec<String> {
        let Statement::Query(q) = &mut self.stmt else {
            return Vec::new();
        };
        let lower = |x: Option<String>| x.unwrap_or_default().to_lowercase();
        let order = lower(q.order_by.as_ref().map(ToString::to_string));
        let SetExpr::Select(select) = q.body.as_mut() else {
            return Vec::new();
        };
        let having = lower(select.having.as_ref().map(ToString::to_string));
        let item_expr = |item: &sqlparser::ast::SelectItem| match item {
            sqlparser::ast::SelectItem::UnnamedExpr(e) => Some((e.clone(), e.to_string())),
            sqlparser::ast::SelectItem::ExprWithAlias { expr, alias } => {
                Some((expr.clone(), alias.value.clone()))
            }
            _ => None,
        };
        let mut figures = 0;
        let mut asked = false;
        let mut drop = Vec::new();
        for (i, item) in select.projection.iter().enumerate() {
            let Some((expr, name)) = item_expr(item) else {
                continue;
            };
            let cols = aggregated_in(&expr);
            if cols.is_empty() {
                continue;
            }
            figures += 1;
            asked |= !cols.is_disjoint(keep);
            let used = order.contains(&name.to_lowercase())
                || order.contains(&expr.to_string().to_lowercase())
                || having.contains(&expr.to_string().to_lowercase());
            if cols.is_disjoint(keep) && !used {
                drop.push((i, name));
            }
        }
        if drop.is_empty() || drop.len() >= figures || !asked {
            return Vec::new();
        }
        for (i, _) in drop.iter().rev() {
            select.projection.remove(*i);
        }
        drop.into_iter().map(|(_, name)| name).collect()
    }
}

impl Tree<'_> {
    /// True when the outer query's `GROUP BY` reads column `c`.
    pub(super) fn groups_by(&self, c: ColRef) -> bool {
        let Statement::Query(q) = &self.stmt else {
            return false;
        };
        let SetExpr::Select(select) = q.body.as_ref() else {
            return false;
        };
        let sqlparser::ast::GroupByExpr::Expressions(exprs, _) = &select.group_by else {
            return false;
        };
        self.reads_column(exprs, c)
    }
}
