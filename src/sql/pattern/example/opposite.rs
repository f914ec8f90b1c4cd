//! Curated filter rules of opposite sign on one column: the example names one ("the 10 biggest
//! price increases", `change_percent > 0`), the question the other ("the deepest price cut",
//! `change_percent < 0`). Where the example's SQL ranks by that column, the question asks for
//! the other end of it (the biggest cut is the most negative change): the order flips, and the
//! question's condition keeps the rows it names. Where the example's SQL filters on the rule's
//! condition, the comparison turns round.

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, Expr, OrderByKind, SetExpr, Statement, Value, ValueWithSpan};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::align::Side;
use super::tree::Tree;
use super::Edit;
use crate::knowledge::BusinessRule;
use crate::sql::pattern::linking::ColRef;
use crate::warehouse::Schema;

/// A rule's condition when it is one comparison of a column of the rule's table with a number
/// (`change_percent > 0`): the column, the operator and the number as written.
fn condition(rule: &BusinessRule, schema: &Schema) -> Option<(ColRef, BinaryOperator, String)> {
    let table = schema.tables.iter().position(|t| {
        rule.table
            .as_deref()
            .is_some_and(|r| t.name.eq_ignore_ascii_case(r))
    })?;
    let expr = Parser::new(&GenericDialect {})
        .try_with_sql(rule.sql.as_deref()?)
        .ok()?
        .parse_expr()
        .ok()?;
    let Expr::BinaryOp { left, op, right } = expr else {
        return None;
    };
    let name = match *left {
        Expr::Identifier(i) => i.value,
        Expr::CompoundIdentifier(parts) => parts.last()?.value.clone(),
        _ => return None,
    };
    let Expr::Value(v) = *right else {
        return None;
    };
    let Value::Number(n, _) = v.value else {
        return None;
    };
    let column = schema.tables[table]
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(&name))?;
    if !matches!(
        op,
        BinaryOperator::Gt | BinaryOperator::GtEq | BinaryOperator::Lt | BinaryOperator::LtEq
    ) {
        return None;
    }
    Some((ColRef { table, column }, op, n))
}

/// Whether `op` keeps the values above its bound (`>`, `>=`).
fn above(op: &BinaryOperator) -> bool {
    matches!(op, BinaryOperator::Gt | BinaryOperator::GtEq)
}

/// Explains the stretches `es` / `qs` when each names one curated filter rule and the two
/// rules are opposite conditions on one column with one bound; `None` otherwise, or when the
/// example's SQL neither ranks nor filters by that column.
pub(super) fn explain_opposite(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
) -> Option<Vec<Edit>> {
    let (er, qr) = (ex.filter_rule(es)?, q.filter_rule(qs)?);
    let (ec, eop, en) = condition(er, tree.schema)?;
    let (qc, qop, qn) = condition(qr, tree.schema)?;
    if ec != qc || en != qn || above(&eop) == above(&qop) {
        return None;
    }
    let edit = |condition: String| {
        vec![Edit::OppositeRule {
            old: er.name.clone(),
            new: qr.name.clone(),
            condition,
        }]
    };
    if filters_on(tree, ec) {
        return replace_condition(tree, ec, &eop, &qop)
            .then(|| edit(format!("{} {qop} {qn}", tree.col_name(ec))));
    }
    // the example ranks the column unfiltered ("the biggest increases": descending); the
    // question's end of it is the other ("the biggest cuts": ascending), among the rows its
    // rule keeps ("the smallest cuts" are the negative changes closest to 0, not increases)
    if !orders_by(tree, ec) || !tree.flip_direction() {
        return None;
    }
    let bound = Expr::Value(ValueWithSpan::from(Value::Number(qn.clone(), false)));
    tree.add_condition(ec, qop.clone(), bound)
        .then(|| edit(format!("{} {qop} {qn}", tree.col_name(ec))))
}

/// The outer query's `SELECT`, when its body is one.
fn select<'t>(tree: &'t Tree) -> Option<(&'t sqlparser::ast::Query, &'t sqlparser::ast::Select)> {
    let Statement::Query(q) = &tree.stmt else {
        return None;
    };
    match q.body.as_ref() {
        SetExpr::Select(s) => Some((q, s)),
        _ => None,
    }
}

/// Whether the outer query's `WHERE` or `HAVING` reads column `c`.
fn filters_on(tree: &Tree, c: ColRef) -> bool {
    select(tree).is_some_and(|(_, s)| {
        s.selection
            .as_ref()
            .is_some_and(|w| tree.reads_column(w, c))
            || s.having.as_ref().is_some_and(|h| tree.reads_column(h, c))
    })
}

/// Whether the outer query's `ORDER BY` reads column `c`, itself or through the alias of an
/// output column that reads it (`ORDER BY avg_change` for `AVG(change_percent) AS avg_change`).
fn orders_by(tree: &Tree, c: ColRef) -> bool {
    let Some((q, s)) = select(tree) else {
        return false;
    };
    let Some(OrderByKind::Expressions(list)) = q.order_by.as_ref().map(|o| &o.kind) else {
        return false;
    };
    list.iter().any(|o| {
        tree.reads_column(&o.expr, c)
            || matches!(&o.expr, Expr::Identifier(i) if s.projection.iter().any(|p| matches!(
                p,
                sqlparser::ast::SelectItem::ExprWithAlias { expr, alias }
                    if alias.value.eq_ignore_ascii_case(&i.value) && tree.reads_column(expr, c)
            )))
    })
}

/// Turns `c <old> n` into `c <new> n` wherever column `c` is compared with a number.
fn replace_condition(
    tree: &mut Tree,
    c: ColRef,
    old: &BinaryOperator,
    new: &BinaryOperator,
) -> bool {
    let mut targets = Vec::new();
    let _ = sqlparser::ast::visit_expressions(&tree.stmt, |e: &Expr| {
        if let Expr::BinaryOp { left, op, right } = e {
            if op == old
                && matches!(right.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..)))
                && tree.reads_column(left.as_ref(), c)
            {
                targets.push(e.to_string());
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if targets.is_empty() {
        return false;
    }
    let _ = sqlparser::ast::visit_expressions_mut(&mut tree.stmt, |e: &mut Expr| {
        if matches!(e, Expr::BinaryOp { .. }) && targets.contains(&e.to_string()) {
            if let Expr::BinaryOp { op, .. } = e {
                *op = new.clone();
            }
        }
        ControlFlow::<()>::Continue(())
    });
    true
}
