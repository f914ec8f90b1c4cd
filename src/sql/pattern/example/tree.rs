//! The example's SQL as a tree (sqlparser, SQLite dialect), and the edits made to it: strings,
//! numbers, years, the period grain, the direction, a column, a table, a filter dropped or added.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, FunctionArguments, GroupByExpr, Ident, ObjectName,
    ObjectNamePart, Query, Select, SelectItem, SetExpr, Statement, TableFactor, Value,
    ValueWithSpan, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::knowledge::values::normalize;
use crate::sql::dialect::TimeGrain;
use crate::sql::pattern::linking::ColRef;
use crate::warehouse::Schema;

/// The `strftime` formats of the grains an example's period column may be written with.
const STRFTIME_FORMATS: &[&str] = &["%Y", "%Y-%m", "%Y-%W", "%Y-%m-%d"];

/// The `strftime` format of a grain as the example's SQLite SQL writes it (quarters have none).
pub(super) fn strftime_format(grain: TimeGrain) -> Option<&'static str> {
    match grain {
        TimeGrain::Year => Some(STRFTIME_FORMATS[0]),
        TimeGrain::Month => Some(STRFTIME_FORMATS[1]),
        TimeGrain::Week => Some(STRFTIME_FORMATS[2]),
        TimeGrain::Day => Some(STRFTIME_FORMATS[3]),
        TimeGrain::Quarter => None,
    }
}

/// The example's SQL as a tree, with what an edit needs to know about it.
pub(super) struct Tree<'s> {
    pub(super) stmt: Statement,
    pub(super) schema: &'s Schema,
    /// Tables of the query (every level), lower case.
    tables: Vec<String>,
    /// alias (lower case) -> table name (lower case).
    aliases: HashMap<String, String>,
}

pub(super) fn object_last(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.to_lowercase(),
        _ => String::new(),
    }
}

/// The year a date literal starts with: `'2024'`, `'2024-03'`, `'2024-03-01'`; `None` for any
/// other string.
pub(super) fn literal_year(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    (b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit) && (b.len() == 4 || b[4] == b'-'))
        .then(|| s[..4].parse().ok())
        .flatten()
}

pub(super) fn trim_like(s: &str) -> &str {
    s.trim_matches('%')
}

fn is_column_name(schema: &Schema, name: &str) -> bool {
    schema
        .tables
        .iter()
        .any(|t| t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(name)))
}

/// A string literal of the tree: a quoted value, or a double-quoted "identifier" that names no
/// column (SQLite reads those as strings).
pub(super) fn string_of<'e>(schema: &Schema, e: &'e Expr) -> Option<&'e str> {
    match e {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s) | Value::DoubleQuotedString(s),
            ..
        }) => Some(s),
        Expr::Identifier(Ident {
            value,
            quote_style: Some('"'),
            ..
        }) if !is_column_name(schema, value) => Some(value),
        _ => None,
    }
}

pub(super) fn string_expr(s: String) -> Expr {
    Expr::Value(ValueWithSpan::from(Value::SingleQuotedString(s)))
}

impl<'s> Tree<'s> {
    pub(super) fn parse(sql: &str, schema: &'s Schema) -> Option<Tree<'s>> {
        let mut stmts = Parser::parse_sql(&SQLiteDialect {}, sql).ok()?;
        if stmts.len() != 1 {
            return None;
        }
        let stmt = stmts.remove(0);
        if !matches!(stmt, Statement::Query(_)) {
            return None;
        }
        struct Collect {
            tables: Vec<String>,
            aliases: HashMap<String, String>,
        }
        impl Visitor for Collect {
            type Break = ();
            fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
                if let TableFactor::Table { name, alias, .. } = tf {
                    let t = object_last(name);
                    if let Some(a) = alias {
                        self.aliases.insert(a.name.value.to_lowercase(), t.clone());
                    }
                    self.aliases.insert(t.clone(), t.clone());
                    if !self.tables.contains(&t) {
                        self.tables.push(t);
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut c = Collect {
            tables: Vec::new(),
            aliases: HashMap::new(),
        };
        let _ = Visit::visit(&stmt, &mut c);
        Some(Tree {
            stmt,
            schema,
            tables: c.tables,
            aliases: c.aliases,
        })
    }

    pub(super) fn strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let schema = self.schema;
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            if let Some(s) = string_of(schema, e) {
                out.push(s.to_string());
            }
            ControlFlow::<()>::Continue(())
        });
        out
    }

    pub(super) fn numbers(&self) -> Vec<f64> {
        let mut out = Vec::new();
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            if let Expr::Value(ValueWithSpan {
                value: Value::Number(n, _),
                ..
            }) = e
            {
                if let Ok(v) = n.parse::<f64>() {
                    out.push(v);
                }
            }
            ControlFlow::<()>::Continue(())
        });
        out
    }

    /// The string literal of the tree that `text` names (case and punctuation aside; `%` of a
    /// LIKE pattern aside).
    pub(super) fn string_named(&self, text: &str) -> Option<String> {
        let n = normalize(text);
        if n.is_empty() {
            return None;
        }
        self.strings()
            .into_iter()
            .find(|s| normalize(trim_like(s)) == n)
    }

    pub(super) fn table_name(&self, t: usize) -> String {
        self.schema.tables[t].name.to_lowercase()
    }

    pub(super) fn uses_table(&self, t: usize) -> bool {
        self.tables.contains(&self.table_name(t))
    }

    pub(super) fn col_name(&self, c: ColRef) -> &str {
        &self.schema.tables[c.table].columns[c.column].name
    }

    /// True when column `c` is referenced in the tree.
    pub(super) fn uses_column(&self, c: ColRef) -> bool {
        self.reads_column(&self.stmt, c)
    }

    /// True when an expression of `node` (a part of this tree) names column `c`.
    pub(super) fn reads_column<V: Visit>(&self, node: &V, c: ColRef) -> bool {
        let name = self.col_name(c).to_lowercase();
        let table = self.table_name(c.table);
        let mut found = false;
        let aliases = &self.aliases;
        let _ = sqlparser::ast::visit_expressions(node, |e: &Expr| {
            match e {
                Expr::Identifier(i) if i.value.to_lowercase() == name => found = true,
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    let q = parts[parts.len() - 2].value.to_lowercase();
                    if parts[parts.len() - 1].value.to_lowercase() == name
                        && aliases.get(&q).is_some_and(|t| *t == table)
                    {
                        found = true;
                    }
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        found
    }

    /// The top query's SELECT (`None` for a set operation).
    fn top_select(&self) -> Option<&Select> {
        let Statement::Query(q) = &self.stmt else {
            return None;
        };
        match q.body.as_ref() {
            SetExpr::Select(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the top SELECT is grouped (`GROUP BY`).
    pub(super) fn grouped(&self) -> bool {
        self.top_select().is_some_and(|s| match &s.group_by {
            GroupByExpr::Expressions(e, _) => !e.is_empty(),
            GroupByExpr::All(_) => true,
        })
    }

    /// Whether the query's rows are distinct however the question puts it: its SELECT is
    /// `DISTINCT` or grouped.
    pub(super) fn rows_distinct(&self) -> bool {
        self.grouped() || self.top_select().is_some_and(|s| s.distinct.is_some())
    }

    /// Whether a function of the top SELECT's projection satisfies `pred`.
    fn projects_function(&self, pred: impl Fn(&sqlparser::ast::Function) -> bool) -> bool {
        let Some(s) = self.top_select() else {
            return false;
        };
        let mut found = false;
        let _ = sqlparser::ast::visit_expressions(&s.projection, |e: &Expr| {
            if let Expr::Function(f) = e {
                found |= pred(f);
            }
            ControlFlow::<()>::Continue(())
        });
        found
    }

    /// Whether the top SELECT counts distinct values (`count(DISTINCT x)`).
    pub(super) fn counts_distinct(&self) -> bool {
        self.projects_function(|f| {
            matches!(&f.args, FunctionArguments::List(l)
                if l.duplicate_treatment == Some(DuplicateTreatment::Distinct))
        })
    }

    /// Whether the top SELECT computes an aggregate (`count`, `sum`, `avg`, `min`, `max`).
    pub(super) fn aggregates(&self) -> bool {
        self.projects_function(|f| {
            let name = object_last(&f.name).to_lowercase();
            matches!(name.as_str(), "count" | "sum" | "avg" | "min" | "max")
        })
    }

    /// Whether the top SELECT shows column `c`.
    pub(super) fn selects_column(&self, c: ColRef) -> bool {
        self.top_select()
            .is_some_and(|s| self.reads_column(&s.projection, c))
    }

    pub(super) fn replace_strings(&mut self, old: &str, new: &str) -> bool {
        let n = normalize(old);
        let schema = self.schema;
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Some(s) = string_of(schema, e) {
                if normalize(trim_like(s)) == n {
                    let pre = if s.starts_with('%') { "%" } else { "" };
                    let post = if s.len() > 1 && s.ends_with('%') {
                        "%"
                    } else {
                        ""
                    };
                    *e = string_expr(format!("{pre}{new}{post}"));
                    done = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    pub(super) fn replace_numbers(&mut self, old: f64, new: &str) -> bool {
        let mut done = false;
        let schema = self.schema;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            match e {
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) if n.parse::<f64>().ok() == Some(old) => {
                    *n = new.to_string();
                    done = true;
                }
                _ => {
                    if let Some(s) = string_of(schema, e) {
                        if s.parse::<f64>().ok() == Some(old) {
                            *e = string_expr(new.to_string());
                            done = true;
                        }
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    /// Moves every date literal of year `old` (and the bounds of its range) by `new - old` years.
    pub(super) fn shift_years(&mut self, old: i64, new: i64) -> bool {
        let delta = new - old;
        let schema = self.schema;
        // the year itself and the next one (an exclusive upper bound of a year's range)
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            let shifted = |y: i64| y == old || y == old + 1;
            match e {
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) => {
                    if let Ok(y) = n.parse::<i64>() {
                        if y == old {
                            *n = (y + delta).to_string();
                            done = true;
                        }
                    }
                }
                _ => {
                    if let Some(s) = string_of(schema, e) {
                        if let Some(y) = literal_year(s).filter(|y| shifted(*y)) {
                            *e = string_expr(format!("{}{}", y + delta, &s[4..]));
                            done = true;
                        }
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    /// Whether the tree writes a date: a date function (`strftime`, `date(...)`) or a literal
    /// of a month or a day (`'2024-03'`, `'2024-03-01'`; a bare `'2024'` may be any text).
    pub(super) fn writes_a_date(&self) -> bool {
        let text = self.stmt.to_string().to_lowercase();
        text.contains("strftime")
            || text.contains("date(")
            || self
                .strings()
                .iter()
                .any(|s| s.len() >= 7 && literal_year(s).is_some())
    }

    pub(super) fn replace_grain(&mut self, new_format: &str) -> Option<String> {
        let mut old = None;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(s),
                ..
            }) = e
            {
                if s.starts_with("%Y") && STRFTIME_FORMATS.contains(&s.as_str()) {
                    old = Some(s.clone());
                    *s = new_format.to_string();
                }
            }
            ControlFlow::<()>::Continue(())
        });
        old
    }

    /// Turns every comparison `old` of an expression with a number (`x > 40`, `40 < x`, both
    /// read from the expression's side) into `new`; `false` when the SQL compares no number so.
    pub(super) fn replace_comparison(
        &mut self,
        old: &BinaryOperator,
        new: &BinaryOperator,
    ) -> bool {
        let mirror = |op: &BinaryOperator| match op {
            BinaryOperator::Gt => BinaryOperator::Lt,
            BinaryOperator::Lt => BinaryOperator::Gt,
            BinaryOperator::GtEq => BinaryOperator::LtEq,
            BinaryOperator::LtEq => BinaryOperator::GtEq,
            other => other.clone(),
        };
        let is_number = |e: &Expr| {
            matches!(
                e,
                Expr::Value(ValueWithSpan {
                    value: Value::Number(..),
                    ..
                })
            )
        };
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Expr::BinaryOp { left, op, right } = e {
                if is_number(right) && *op == *old {
                    *op = new.clone();
                    done = true;
                } else if is_number(left) && *op == mirror(old) {
                    *op = mirror(new);
                    done = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    pub(super) fn flip_direction(&mut self) -> bool {
        struct Flip(bool);
        impl VisitorMut for Flip {
            type Break = ();
            fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
                if let Some(ob) = q.order_by.as_mut() {
                    if let sqlparser::ast::OrderByKind::Expressions(list) = &mut ob.kind {
                        for o in list {
                            o.options.asc = Some(o.options.asc == Some(false));
                            self.0 = true;
                        }
                    }
                }
                ControlFlow::Continue(())
            }
            fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
                if let Expr::Function(f) = e {
                    if let Some(ObjectNamePart::Identifier(i)) = f.name.0.last_mut() {
                        let l = i.value.to_lowercase();
                        if l == "max" || l == "min" {
                            let upper = i.value.chars().all(|c| c.is_uppercase());
                            let new = if l == "max" { "min" } else { "max" };
                            i.value = if upper {
                                new.to_uppercase()
                            } else {
                                new.into()
                            };
                            self.0 = true;
                        }
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut f = Flip(false);
        let _ = VisitMut::visit(&mut self.stmt, &mut f);
        f.0
    }

    /// Swaps column `old` for `new`; `new`'s table must be in the query.
    pub(super) fn replace_column(&mut self, old: ColRef, new: ColRef) -> bool {
        if !self.uses_table(new.table) || !self.uses_column(old) {
            return false;
        }
        let old_name = self.col_name(old).to_lowercase();
        let new_name = self.col_name(new).to_string();
        let old_table = self.table_name(old.table);
        let new_table = self.table_name(new.table);
        let new_alias = self
            .aliases
            .iter()
            .filter(|(a, t)| **t == new_table && **a != new_table)
            .map(|(a, _)| a.clone())
            .min()
            .unwrap_or(new_table.clone());
        let aliases = self.aliases.clone();
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            match e {
                Expr::Identifier(i) if i.value.to_lowercase() == old_name => {
                    i.value = new_name.clone();
                    done = true;
                }
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    let k = parts.len();
                    let q = parts[k - 2].value.to_lowercase();
                    if parts[k - 1].value.to_lowercase() == old_name
                        && aliases.get(&q).is_some_and(|t| *t == old_table)
                    {
                        parts[k - 1].value = new_name.clone();
                        if old_table != new_table {
                            parts[k - 2] = Ident::new(new_alias.clone());
                        }
                        done = true;
                    }
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        if done {
            self.rename_alias_of(&new_name);
        }
        done
    }

    /// The output name of a select item that is the column `column` alone, when the example
    /// named it after the column swapped out ("BillingCountry AS country", now BillingCity):
    /// the column's own name in snake case (`billing_city`). Left as it is when anything else
    /// in the query refers to the alias (an ordering, a grouping).
    fn rename_alias_of(&mut self, column: &str) {
        let Statement::Query(q) = &mut self.stmt else {
            return;
        };
        let SetExpr::Select(select) = q.body.as_mut() else {
            return;
        };
        let renamed = select.projection.iter().position(|item| {
            matches!(item, SelectItem::ExprWithAlias { expr, alias }
                if last_ident(expr).is_some_and(|c| c.eq_ignore_ascii_case(column))
                    && !alias.value.eq_ignore_ascii_case(column))
        });
        let Some(i) = renamed else { return };
        let SelectItem::ExprWithAlias { alias, .. } = &select.projection[i] else {
            return;
        };
        let old = alias.value.to_lowercase();
        let new = snake_case(column);
        if old == new {
            return;
        }
        // any other mention of the old alias (ORDER BY country) keeps it
        let mut mentions = 0;
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            if let Expr::Identifier(id) = e {
                mentions += usize::from(id.value.to_lowercase() == old);
            }
            ControlFlow::<()>::Continue(())
        });
        if mentions > 0 {
            return;
        }
        if let Statement::Query(q) = &mut self.stmt {
            if let SetExpr::Select(select) = q.body.as_mut() {
                if let Some(SelectItem::ExprWithAlias { alias, .. }) = select.projection.get_mut(i)
                {
                    *alias = Ident::new(new);
                }
            }
        }
    }

    /// Swaps table `old` for `new` when every column the query reads of `old` exists in `new`.
    pub(super) fn replace_table(&mut self, old: usize, new: usize) -> bool {
        if !self.uses_table(old) || self.uses_table(new) {
            return false;
        }
        let old_name = self.table_name(old);
        let new_t = &self.schema.tables[new];
        let has = |c: &str| new_t.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c));
        // every column name the query reads that belongs to the old table must exist in the new
        let old_cols: HashSet<String> = self.schema.tables[old]
            .columns
            .iter()
            .map(|c| c.name.to_lowercase())
            .collect();
        let mut ok = true;
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            let name = match e {
                Expr::Identifier(i) => Some(i.value.to_lowercase()),
                Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.to_lowercase()),
                _ => None,
            };
            if let Some(n) = name {
                if old_cols.contains(&n) && !has(&n) {
                    ok = false;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        if !ok {
            return false;
        }
        let new_name = new_t.name.clone();
        let _ = sqlparser::ast::visit_relations_mut(&mut self.stmt, |n: &mut ObjectName| {
            if object_last(n) == old_name {
                *n = ObjectName::from(vec![Ident::new(new_name.clone())]);
            }
            ControlFlow::<()>::Continue(())
        });
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Expr::CompoundIdentifier(p) = e {
                let k = p.len();
                if k >= 2 && p[k - 2].value.to_lowercase() == old_name {
                    p[k - 2] = Ident::new(new_name.clone());
                }
            }
            ControlFlow::<()>::Continue(())
        });
        self.aliases = self
            .aliases
            .drain()
            .map(|(a, t)| {
                if t == old_name {
                    (
                        if a == old_name {
                            new_name.to_lowercase()
                        } else {
                            a
                        },
                        new_name.to_lowercase(),
                    )
                } else {
                    (a, t)
                }
            })
            .collect();
        for t in self.tables.iter_mut() {
            if *t == old_name {
                *t = new_name.to_lowercase();
            }
        }
        true
    }

    /// Drops the conjunct of a WHERE that holds the string literal `value`.
    pub(super) fn drop_filter(&mut self, value: &str) -> bool {
        let n = normalize(value);
        let schema = self.schema;
        let holds = |e: &Expr| {
            let mut found = false;
            let _ = sqlparser::ast::visit_expressions(e, |x: &Expr| {
                if string_of(schema, x).is_some_and(|s| normalize(trim_like(s)) == n) {
                    found = true;
                }
                ControlFlow::<()>::Continue(())
            });
            found
        };
        fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
            match e {
                Expr::BinaryOp {
                    left,
                    op: BinaryOperator::And,
                    right,
                } => {
                    conjuncts(*left, out);
                    conjuncts(*right, out);
                }
                Expr::Nested(inner)
                    if matches!(
                        *inner,
                        Expr::BinaryOp {
                            op: BinaryOperator::And,
                            ..
                        }
                    ) =>
                {
                    conjuncts(*inner, out)
                }
                other => out.push(other),
            }
        }
        let mut done = false;
        let Statement::Query(q) = &mut self.stmt else {
            return false;
        };
        let mut bodies: Vec<&mut SetExpr> = vec![q.body.as_mut()];
        while let Some(b) = bodies.pop() {
            match b {
                SetExpr::Select(s) => {
                    if let Some(w) = s.selection.take() {
                        let mut parts = Vec::new();
                        conjuncts(w, &mut parts);
                        let before = parts.len();
                        parts.retain(|p| !holds(p));
                        done |= parts.len() < before;
                        s.selection = parts.into_iter().reduce(|a, b| Expr::BinaryOp {
                            left: Box::new(a),
                            op: BinaryOperator::And,
                            right: Box::new(b),
                        });
                    }
                }
                SetExpr::SetOperation { left, right, .. } => {
                    bodies.push(left.as_mut());
                    bodies.push(right.as_mut());
                }
                SetExpr::Query(inner) => bodies.push(inner.body.as_mut()),
                _ => {}
            }
        }
        done
    }

    /// Adds `col = 'value'` to the outer query's WHERE (the column's table must be read there).
    pub(super) fn add_filter(&mut self, col: ColRef, value: &str) -> bool {
        self.add_condition(col, BinaryOperator::Eq, string_expr(value.to_string()))
    }

    /// Adds `col <op> right` to the outer query's WHERE (the column's table must be read
    /// there), the column qualified by its table's alias when the query reads several tables.
    pub(super) fn add_condition(&mut self, col: ColRef, op: BinaryOperator, right: Expr) -> bool {
        let table = self.table_name(col.table);
        let col_name = self.col_name(col).to_string();
        let alias = self
            .aliases
            .iter()
            .filter(|(a, t)| **t == table && **a != table)
            .map(|(a, _)| a.clone())
            .min();
        let Statement::Query(q) = &mut self.stmt else {
            return false;
        };
        let SetExpr::Select(s) = q.body.as_mut() else {
            return false;
        };
        let reads = s.from.iter().any(|f| {
            std::iter::once(&f.relation)
                .chain(f.joins.iter().map(|j| &j.relation))
                .any(|r| matches!(r, TableFactor::Table { name, .. } if object_last(name) == table))
        });
        if !reads {
            return false;
        }
        let multi = s.from.len() > 1 || s.from.iter().any(|f| !f.joins.is_empty());
        let left = match (multi, alias) {
            (true, Some(a)) => Expr::CompoundIdentifier(vec![Ident::new(a), Ident::new(col_name)]),
            (true, None) => Expr::CompoundIdentifier(vec![Ident::new(table), Ident::new(col_name)]),
            (false, _) => Expr::Identifier(Ident::new(col_name)),
        };
        let cond = Expr::BinaryOp {
            left: Box::new(left),
            op,
            right: Box::new(right),
        };
        s.selection = Some(match s.selection.take() {
            Some(w) => Expr::BinaryOp {
                left: Box::new(w),
                op: BinaryOperator::And,
                right: Box::new(cond),
            },
            None => cond,
        });
        true
    }
}

/// The column an expression is, when it is a bare or qualified column name.
fn last_ident(e: &Expr) -> Option<&str> {
    match e {
        Expr::Identifier(i) => Some(i.value.as_str()),
        Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.as_str()),
        _ => None,
    }
}

/// `BillingCity` as `billing_city`, `unit_price` as it is.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (k, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                k > 0 && (chars[k - 1].is_lowercase() || chars[k - 1].is_ascii_digit());
            let before_lower = chars.get(k + 1).is_some_and(|n| n.is_lowercase());
            if k > 0 && (after_lower || (before_lower && chars[k - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}
