//! Follow-ups without an LLM: a short question that refines the previous one ("only in the West
//! zone", "and for 2023?", "now by month", "sort by revenue instead") rewrites the previous SQL
//! tree instead of being answered from scratch.
//!
//! [`is_follow_up`] tells such a question by its wording; [`refine`] parses the previous SQL with
//! sqlparser in the target dialect and edits the tree: a value the value index knows becomes a
//! `WHERE column = value` (replacing an equality on the same column), a time range replaces the
//! conditions on the date column, "by month" / "by <column>" replaces the grouping, "sort by
//! <measure>" the order. New pieces are parsed from text with quoted identifiers and escaped
//! literals, then spliced into the tree; the result goes through the guard like any SQL.

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, OrderBy, OrderByExpr, OrderByKind, OrderByOptions,
    Query, SelectItem, SetExpr, Statement, TableFactor,
};
use sqlparser::parser::Parser;

use crate::knowledge::ValueIndex;
use crate::question::Analysis;
use crate::sql::dialect::{Dialect, SqlDialect, TimeGrain};
use crate::warehouse::{ColumnKind, Schema};

/// The rewritten SQL and what changed, one line per change.
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    pub sql: String,
    pub changes: Vec<String>,
}

/// Words that open a refinement of the previous question.
const LEADS: &[&str] = &[
    "only", "just", "and", "now", "but", "same", "sort", "order", "instead", "then", "also",
    "exclude", "except",
];

/// Words that open a refinement when the question is at most four words ("for 2023?", "by
/// month").
const SHORT_LEADS: &[&str] = &["for", "in", "by", "per"];

/// True when the question reads as a refinement of the previous one: it opens with a
/// refining word ("only", "and", "now", "sort", "what about", "how about"), says "instead", or
/// is a bare "for 2023" / "by month"; and it is short (at most ten words).
pub fn is_follow_up(analysis: &Analysis) -> bool {
    let words: Vec<&str> = analysis
        .tokens
        .iter()
        .map(|t| t.lower.as_str())
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    if words.is_empty() || words.len() > 10 {
        return false;
    }
    words.contains(&"instead")
        || LEADS.contains(&words[0])
        || (matches!(words[0], "what" | "how") && words.get(1) == Some(&"about"))
        || (words.len() <= 4 && SHORT_LEADS.contains(&words[0]))
}

/// The previous SQL rewritten for the follow-up, or `None` when nothing in the question maps
/// to a change (or the previous SQL is not one plain SELECT).
pub fn refine(
    previous_sql: &str,
    analysis: &Analysis,
    schema: &Schema,
    values: &ValueIndex,
    dialect: Dialect,
) -> Option<Refinement> {
    let parser_dialect = dialect.sql().parser_dialect();
    let mut statements = Parser::parse_sql(parser_dialect.as_ref(), previous_sql).ok()?;
    if statements.len() != 1 {
        return None;
    }
    let Statement::Query(mut query) = statements.remove(0) else {
        return None;
    };
    let tables = relations(&query)?;
    let words: Vec<String> = analysis.tokens.iter().map(|t| t.lower.clone()).collect();
    let mut r = Rewriter {
        dialect: dialect.sql(),
        tables,
        schema,
        changes: Vec::new(),
    };
    r.value_filters(&mut query, analysis, values)?;
    r.time_range(&mut query, analysis)?;
    r.grouping(&mut query, &words)?;
    r.ordering(&mut query, &words)?;
    if r.changes.is_empty() {
        return None;
    }
    Some(Refinement {
        sql: query.to_string(),
        changes: r.changes,
    })
}

/// A table of the query and how its columns are referred to.
struct Relation {
    table: String,
    /// The alias, or the table name when there are several tables; `None` for bare names.
    qualifier: Option<String>,
}

fn relations(query: &Query) -> Option<Vec<Relation>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let mut out = Vec::new();
    for twj in &select.from {
        for factor in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table { name, alias, .. } = factor {
                let table = name.0.last()?.as_ident()?.value.clone();
                out.push((table, alias.as_ref().map(|a| a.name.value.clone())));
            }
        }
    }
    if out.is_empty() {
        return None;
    }
    let several = out.len() > 1;
    Some(
        out.into_iter()
            .map(|(table, alias)| Relation {
                qualifier: alias.or_else(|| several.then(|| table.clone())),
                table,
            })
            .collect(),
    )
}

struct Rewriter<'a> {
    dialect: &'static dyn SqlDialect,
    tables: Vec<Relation>,
    schema: &'a Schema,
    changes: Vec<String>,
}

/// Words never looked up as values on their own.
const NOT_VALUES: &[&str] = &[
    "only", "just", "and", "now", "what", "about", "how", "but", "the", "in", "for", "of", "by",
    "sort", "order", "instead", "to", "a", "an", "with", "show", "me", "same", "zone", "region",
    "month", "year", "week", "day", "quarter",
];

impl Rewriter<'_> {
    fn quote(&self, name: &str) -> String {
        let simple = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if simple {
            name.to_string()
        } else {
            self.dialect.quote_identifier(name)
        }
    }

    fn column_ref(&self, rel: &Relation, column: &str) -> String {
        match &rel.qualifier {
            Some(q) => format!("{}.{}", self.quote(q), self.quote(column)),
            None => self.quote(column),
        }
    }

    fn relation(&self, table: &str) -> Option<&Relation> {
        self.tables
            .iter()
            .find(|r| r.table.eq_ignore_ascii_case(table))
    }

    fn parse_expr(&self, text: &str) -> Option<Expr> {
        let d = self.dialect.parser_dialect();
        Parser::new(d.as_ref())
            .try_with_sql(text)
            .ok()?
            .parse_expr()
            .ok()
    }

    /// Phrases of the question that the value index maps to a column of a query table.
    fn value_filters(
        &mut self,
        query: &mut Query,
        analysis: &Analysis,
        values: &ValueIndex,
    ) -> Option<()> {
        let words: Vec<&str> = analysis.tokens.iter().map(|t| t.lower.as_str()).collect();
        let mut used = vec![false; words.len()];
        let max = values.max_words().max(1);
        for n in (1..=max.min(words.len())).rev() {
            for start in 0..=words.len() - n {
                if used[start..start + n].iter().any(|u| *u) {
                    continue;
                }
                let phrase_words = &words[start..start + n];
                if n == 1
                    && (NOT_VALUES.contains(&phrase_words[0])
                        || phrase_words[0].chars().all(|c| c.is_ascii_digit()))
                {
                    continue;
                }
                let phrase = phrase_words.join(" ");
                let Some(m) = values
                    .lookup(&phrase)
                    .into_iter()
                    .find(|m| m.score >= 0.95 && self.relation(&m.table).is_some())
                else {
                    continue;
                };
                let rel = self.relation(&m.table)?;
                let column = self.column_ref(rel, &m.column);
                let literal = format!("'{}'", m.value.replace('\'', "''"));
                let condition = self.parse_expr(&format!("{column} = {literal}"))?;
                let select = select_mut(query)?;
                let replaced = select
                    .selection
                    .as_mut()
                    .map(|w| replace_equality(w, &m.column, &condition))
                    .unwrap_or(false);
                if !replaced {
                    select.selection = Some(and(select.selection.take(), condition));
                }
                self.changes.push(format!(
                    "{} {column} = {literal}",
                    if replaced {
                        "filter replaced:"
                    } else {
                        "filter added:"
                    }
                ));
                used[start..start + n].iter_mut().for_each(|u| *u = true);
            }
        }
        Some(())
    }

    /// The date column of the query's tables: one already in WHERE, else the first.
    fn date_column(&self, query: &Query) -> Option<(String, String)> {
        let where_text = select_ref(query)
            .and_then(|s| s.selection.as_ref())
            .map(|w| w.to_string().to_lowercase())
            .unwrap_or_default();
        let mut candidates = Vec::new();
        for rel in &self.tables {
            let Some(t) = self.schema.table(&rel.table) else {
                continue;
            };
            for c in &t.columns {
                if c.kind() == ColumnKind::Date {
                    candidates.push((rel, c.name.clone()));
                }
            }
        }
        let (rel, col) = candidates
            .iter()
            .find(|(_, c)| where_text.contains(&c.to_lowercase()))
            .or_else(|| candidates.first())?;
        Some((self.column_ref(rel, col), col.clone()))
    }

    /// A time range in the question replaces the conditions on the date column.
    fn time_range(&mut self, query: &mut Query, analysis: &Analysis) -> Option<()> {
        let Some(range) = analysis
            .time_ranges
            .iter()
            .find(|r| r.start.is_some() || r.end.is_some())
        else {
            return Some(());
        };
        let Some((column, bare)) = self.date_column(query) else {
            return Some(());
        };
        let mut parts = Vec::new();
        if let Some(s) = range.start {
            parts.push(format!("{column} >= {}", self.dialect.date_literal(s)));
        }
        if let Some(e) = range.end {
            parts.push(format!("{column} < {}", self.dialect.date_literal(e)));
        }
        let condition = self.parse_expr(&parts.join(" AND "))?;
        let select = select_mut(query)?;
        let kept = select
            .selection
            .take()
            .and_then(|w| drop_conjuncts_on(w, &bare));
        select.selection = Some(and(kept, condition));
        self.changes.push(format!(
            "time range set to {} ({})",
            range.text,
            parts.join(" AND ")
        ));
        Some(())
    }

    /// "by month" (year, quarter, week, day) or "by <column>" replaces the grouping key.
    fn grouping(&mut self, query: &mut Query, words: &[String]) -> Option<()> {
        let Some(i) = words.iter().position(|w| w == "by") else {
            return Some(());
        };
        if i > 0
            && matches!(
                words[i - 1].as_str(),
                "sort" | "order" | "sorted" | "ordered" | "rank" | "ranked"
            )
        {
            return Some(());
        }
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        let grains = ["month", "year", "quarter", "week", "day"];
        let (key, alias, label) =
            if let Some(grain) = grains.iter().find(|g| next.trim_end_matches('s') == **g) {
                let Some((column, _)) = self.date_column(query) else {
                    return Some(());
                };
                (
                    self.period(&column, grain),
                    grain.to_string(),
                    format!("by {grain}"),
                )
            } else {
                // "by <column words>": the longest run of words naming a column of a query table.
                let mut found = None;
                for n in (1..=3).rev() {
                    if i + 1 + n > words.len() {
                        continue;
                    }
                    let name = words[i + 1..i + 1 + n].join("_");
                    for rel in &self.tables {
                        if let Some(t) = self.schema.table(&rel.table) {
                            if let Some(c) = t
                                .columns
                                .iter()
                                .find(|c| c.name.eq_ignore_ascii_case(&name))
                            {
                                found = Some((self.column_ref(rel, &c.name), c.name.clone()));
                            }
                        }
                    }
                    if found.is_some() {
                        break;
                    }
                }
                let Some((column, name)) = found else {
                    return Some(());
                };
                (column, name.clone(), format!("by {name}"))
            };
        let key_expr = self.parse_expr(&key)?;
        let alias_ident = Ident::new(alias.clone());
        let select = select_mut(query)?;
        let old_keys: Vec<Expr> = match &select.group_by {
            GroupByExpr::Expressions(e, _) => e.clone(),
            GroupByExpr::All(_) => Vec::new(),
        };
        let is_key = |e: &Expr| {
            old_keys.iter().any(|k| k == e || matches!(k, Expr::Identifier(id) if matches!(e, Expr::Identifier(x) if x.value == id.value)))
        };
        let mut projection = Vec::new();
        let mut placed = false;
        for item in select.projection.drain(..) {
            let keyed = match &item {
                SelectItem::UnnamedExpr(e) => {
                    is_key(e)
                        || old_keys
                            .iter()
                            .any(|k| matches!(k, Expr::Identifier(id) if e.to_string() == id.value))
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    is_key(expr)
                        || old_keys
                            .iter()
                            .any(|k| matches!(k, Expr::Identifier(id) if id.value == alias.value))
                }
                _ => false,
            };
            if keyed {
                if !placed {
                    projection.push(SelectItem::ExprWithAlias {
                        expr: key_expr.clone(),
                        alias: alias_ident.clone(),
                    });
                    placed = true;
                }
            } else {
                projection.push(item);
            }
        }
        if !placed {
            projection.insert(
                0,
                SelectItem::ExprWithAlias {
                    expr: key_expr.clone(),
                    alias: alias_ident.clone(),
                },
            );
        }
        select.projection = projection;
        select.group_by = GroupByExpr::Expressions(vec![key_expr.clone()], Vec::new());
        let period = grains.contains(&alias.as_str());
        if period {
            query.order_by = Some(order_by(key_expr, true));
            query.limit_clause = None;
        }
        self.changes.push(format!("grouping set to {label}"));
        Some(())
    }

    /// The period label of `column` at `grain` (`2024-07` for a month); the column itself for
    /// a name that is no grain.
    fn period(&self, column: &str, grain: &str) -> String {
        match TimeGrain::parse(grain) {
            Some(g) => self.dialect.period_label(g, column),
            None => column.to_string(),
        }
    }

    /// "sort by <measure>" / "<measure> instead": order by the select item that names it.
    fn ordering(&mut self, query: &mut Query, words: &[String]) -> Option<()> {
        let sort_at = words.iter().position(|w| {
            matches!(
                w.as_str(),
                "sort" | "order" | "sorted" | "ordered" | "rank" | "ranked"
            )
        });
        let instead = words.iter().position(|w| w == "instead");
        let phrase: Vec<&str> = match (sort_at, instead) {
            (Some(s), end) => words[s + 1..end.unwrap_or(words.len())]
                .iter()
                .map(String::as_str)
                .filter(|w| {
                    !matches!(
                        *w,
                        "by" | "the"
                            | "on"
                            | "it"
                            | "them"
                            | "descending"
                            | "ascending"
                            | "lowest"
                            | "highest"
                            | "first"
                    )
                })
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .collect(),
            (None, Some(e)) if e > 0 => vec![words[e - 1].as_str()],
            _ => return Some(()),
        };
        if phrase.is_empty() {
            return Some(());
        }
        let ascending = words.iter().any(|w| {
            matches!(
                w.as_str(),
                "ascending" | "asc" | "lowest" | "smallest" | "least"
            )
        });
        let wanted = phrase.join("_");
        let select = select_ref(query)?;
        let matches = |name: &str| {
            let n = name.to_lowercase();
            n == wanted || n.contains(&wanted) || wanted.contains(&n) && n.len() >= 3
        };
        let target = select.projection.iter().find_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } if matches(&alias.value) => {
                Some(Expr::Identifier(alias.clone()))
            }
            SelectItem::UnnamedExpr(e) if matches(&e.to_string()) => Some(e.clone()),
            _ => None,
        });
        let grouped = matches!(&select.group_by, GroupByExpr::Expressions(e, _) if !e.is_empty());
        let target = match target {
            Some(t) => t,
            None => {
                // A numeric column of a query table, aggregated when the query groups.
                let mut found = None;
                for rel in &self.tables {
                    if let Some(t) = self.schema.table(&rel.table) {
                        if let Some(c) = t
                            .columns
                            .iter()
                            .find(|c| c.kind().is_numeric() && matches(&c.name))
                        {
                            found = Some(self.column_ref(rel, &c.name));
                            break;
                        }
                    }
                }
                let column = found?;
                self.parse_expr(&if grouped {
                    format!("SUM({column})")
                } else {
                    column
                })?
            }
        };
        let shown = target.to_string();
        query.order_by = Some(order_by(target, ascending));
        self.changes.push(format!(
            "order set to {shown} {}",
            if ascending { "ascending" } else { "descending" }
        ));
        Some(())
    }
}

fn select_mut(query: &mut Query) -> Option<&mut sqlparser::ast::Select> {
    match query.body.as_mut() {
        SetExpr::Select(s) => Some(s.as_mut()),
        _ => None,
    }
}

fn select_ref(query: &Query) -> Option<&sqlparser::ast::Select> {
    match query.body.as_ref() {
        SetExpr::Select(s) => Some(s.as_ref()),
        _ => None,
    }
}

fn order_by(expr: Expr, ascending: bool) -> OrderBy {
    OrderBy {
        kind: OrderByKind::Expressions(vec![OrderByExpr {
            expr,
            options: OrderByOptions {
                asc: Some(ascending),
                nulls_first: None,
            },
            with_fill: None,
        }]),
        interpolate: None,
    }
}

fn and(left: Option<Expr>, right: Expr) -> Expr {
    match left {
        None => right,
        Some(l) => Expr::BinaryOp {
            left: Box::new(nest(l)),
            op: BinaryOperator::And,
            right: Box::new(nest(right)),
        },
    }
}

fn nest(e: Expr) -> Expr {
    match e {
        Expr::BinaryOp {
            op: BinaryOperator::Or,
            ..
        } => Expr::Nested(Box::new(e)),
        other => other,
    }
}

/// The last identifier part of a column reference.
fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Identifier(i) => Some(&i.value),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.as_str()),
        Expr::Nested(inner) => column_name(inner),
        _ => None,
    }
}

/// Replaces a `column = literal` conjunct of `expr` by `condition`; true when one was found.
fn replace_equality(expr: &mut Expr, column: &str, condition: &Expr) -> bool {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            replace_equality(left, column, condition) || replace_equality(right, column, condition)
        }
        Expr::Nested(inner) => replace_equality(inner, column, condition),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            ..
        } if column_name(left).is_some_and(|c| c.eq_ignore_ascii_case(column)) => {
            *expr = condition.clone();
            true
        }
        _ => false,
    }
}

/// `expr` without its top-level conjuncts that mention `column`; `None` when none is left.
fn drop_conjuncts_on(expr: Expr, column: &str) -> Option<Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => match (
            drop_conjuncts_on(*left, column),
            drop_conjuncts_on(*right, column),
        ) {
            (Some(l), Some(r)) => Some(and(Some(l), r)),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (None, None) => None,
        },
        e => {
            let text = e.to_string().to_lowercase();
            let col = column.to_lowercase();
            let mentions = text.match_indices(&col).any(|(i, _)| {
                let before = text[..i].chars().last();
                let after = text[i + col.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            (!mentions).then_some(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::{analyze, Question};
    use crate::warehouse::{ColumnSchema, TableSchema};

    fn schema() -> Schema {
        let col = |name: &str, t: &str| ColumnSchema {
            name: name.into(),
            data_type: t.into(),
            ..Default::default()
        };
        Schema {
            tables: vec![
                TableSchema {
                    name: "stores".into(),
                    columns: vec![
                        col("store_id", "TEXT"),
                        col("zone", "TEXT"),
                        col("store_format", "TEXT"),
                    ],
                    ..Default::default()
                },
                TableSchema {
                    name: "sales_data".into(),
                    columns: vec![
                        col("store_id", "TEXT"),
                        col("sale_date", "DATE"),
                        col("units_sold", "INTEGER"),
                        col("revenue", "REAL"),
                    ],
                    ..Default::default()
                },
            ],
        }
    }

    fn values() -> ValueIndex {
        let mut v = ValueIndex::default();
        for zone in ["West", "East"] {
            v.insert("stores", "zone", zone.into());
        }
        v.insert("stores", "store_format", "Express".into());
        v
    }

    fn refined(previous: &str, question: &str) -> Option<Refinement> {
        let a = analyze(&Question::parse(question).unwrap());
        refine(previous, &a, &schema(), &values(), Dialect::Sqlite)
    }

    #[test]
    fn a_value_adds_an_equality_filter_on_its_column() {
        let r = refined("SELECT COUNT(*) AS n FROM stores", "only in the West zone").unwrap();
        assert_eq!(
            r.sql,
            "SELECT COUNT(*) AS n FROM stores WHERE zone = 'West'"
        );
    }

    #[test]
    fn a_value_replaces_the_equality_on_the_same_column_and_keeps_the_others() {
        let r = refined(
            "SELECT COUNT(*) FROM stores s WHERE s.zone = 'West' AND s.store_format = 'Express'",
            "what about East?",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT COUNT(*) FROM stores AS s WHERE s.zone = 'East' AND s.store_format = 'Express'"
        );
    }

    #[test]
    fn a_year_replaces_the_date_conditions() {
        let r = refined(
            "SELECT SUM(units_sold) FROM sales_data WHERE sale_date BETWEEN '2023-01-01' AND '2023-12-31'",
            "and for 2024?",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT SUM(units_sold) FROM sales_data WHERE sale_date >= '2024-01-01' AND sale_date < '2025-01-01'"
        );
    }

    #[test]
    fn by_month_groups_by_the_month_of_the_date_column_in_time_order() {
        let r = refined(
            "SELECT SUM(units_sold) AS units FROM sales_data WHERE sale_date >= '2024-01-01'",
            "now by month",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT strftime('%Y-%m', sale_date) AS month, SUM(units_sold) AS units FROM sales_data WHERE sale_date >= '2024-01-01' GROUP BY strftime('%Y-%m', sale_date) ORDER BY strftime('%Y-%m', sale_date) ASC"
        );
    }

    #[test]
    fn by_a_column_replaces_the_grouping_key() {
        let r = refined(
            "SELECT zone, COUNT(*) AS n FROM stores GROUP BY zone",
            "now by store format",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT store_format AS store_format, COUNT(*) AS n FROM stores GROUP BY store_format"
        );
    }

    #[test]
    fn sort_by_a_measure_orders_by_its_select_item() {
        let r = refined(
            "SELECT zone, SUM(revenue) AS revenue, SUM(units_sold) AS units FROM sales_data JOIN stores ON stores.store_id = sales_data.store_id GROUP BY zone ORDER BY units DESC",
            "sort by revenue instead",
        )
        .unwrap();
        assert!(r.sql.ends_with("ORDER BY revenue DESC"), "{}", r.sql);
    }

    #[test]
    fn a_new_question_is_not_a_follow_up() {
        let a = analyze(&Question::parse("How many stores are in the West zone?").unwrap());
        assert!(!is_follow_up(&a));
        let a = analyze(&Question::parse("only in the West zone").unwrap());
        assert!(is_follow_up(&a));
    }

    #[test]
    fn a_question_with_nothing_to_change_gives_no_refinement() {
        assert!(refined("SELECT COUNT(*) FROM stores", "and then?").is_none());
    }
}
