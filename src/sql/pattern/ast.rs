//! The SQL the pattern engine builds, as a small tree, and its rendering per dialect.
//!
//! Every dialect difference (identifier quoting, date literals, date parts, set operators,
//! `LIKE`, limits) comes from the dialect's [`SqlDialect`]; nothing else in the engine writes
//! SQL text. Identifiers are quoted when they are not plain words or are keywords; string
//! literals are escaped by doubling quotes.

use chrono::NaiveDate;

use crate::sql::dialect::{string_literal, Dialect, SetOperator, SqlDialect};

pub use crate::sql::dialect::DatePart;

const KEYWORDS: &[&str] = &[
    "all",
    "and",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "create",
    "cross",
    "current",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "escape",
    "except",
    "exists",
    "from",
    "full",
    "group",
    "having",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "primary",
    "references",
    "right",
    "rows",
    "select",
    "set",
    "table",
    "then",
    "to",
    "union",
    "unique",
    "update",
    "using",
    "values",
    "when",
    "where",
    "with",
    "window",
    "range",
    "date",
    "time",
    "timestamp",
    "interval",
    "year",
    "month",
    "level",
    "rank",
    "row",
    "groups",
];

fn needs_quoting(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    !first_ok
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || KEYWORDS.contains(&name.to_ascii_lowercase().as_str())
}

/// An identifier as the pattern engine writes it: bare when it is a plain word that is no
/// keyword, quoted by the dialect otherwise.
fn ident(d: &dyn SqlDialect, name: &str) -> String {
    if needs_quoting(name) {
        d.quote_identifier(name)
    } else {
        name.to_string()
    }
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggFunc {
    fn sql(self) -> &'static str {
        match self {
            Self::Count => "COUNT",
            Self::Sum => "SUM",
            Self::Avg => "AVG",
            Self::Min => "MIN",
            Self::Max => "MAX",
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// The operator with its sense reversed (`<` for `>=`).
    pub fn negate(self) -> Self {
        match self {
            Self::Eq => Self::Ne,
            Self::Ne => Self::Eq,
            Self::Lt => Self::Ge,
            Self::Le => Self::Gt,
            Self::Gt => Self::Le,
            Self::Ge => Self::Lt,
        }
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Literal {
    /// A number, written as given (`56`, `3.5`).
    Number(String),
    Text(String),
    Date(NaiveDate),
    Null,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column, qualified by its table when the query reads several tables.
    Column {
        table: String,
        column: String,
    },
    /// `*`.
    Star,
    Lit(Literal),
    Agg {
        func: AggFunc,
        distinct: bool,
        arg: Box<Expr>,
    },
    Cmp {
        left: Box<Expr>,
        op: CmpOp,
        right: Box<Expr>,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `expr [NOT] LIKE pattern`.
    Like {
        expr: Box<Expr>,
        pattern: String,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `expr [NOT] IN (subquery)`.
    InQuery {
        expr: Box<Expr>,
        query: Box<Query>,
        negated: bool,
    },
    /// `expr [NOT] IN (v1, v2, ...)`.
    InList {
        expr: Box<Expr>,
        list: Vec<Literal>,
        negated: bool,
    },
    /// A scalar subquery.
    Subquery(Box<Query>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// A year or month of a date expression.
    DatePart {
        part: DatePart,
        expr: Box<Expr>,
    },
    /// The first `chars` characters of a text expression (the year of a `YYYY-MM` text column).
    TextPrefix {
        expr: Box<Expr>,
        chars: u32,
    },
    /// A curated SQL fragment (a business rule's definition), inserted as written, parenthesised.
    Raw(String),
}

impl Expr {
    /// A column reference.
    pub fn col(table: &str, column: &str) -> Expr {
        Expr::Column {
            table: table.to_string(),
            column: column.to_string(),
        }
    }

    /// `COUNT(*)`.
    pub fn count_star() -> Expr {
        Expr::Agg {
            func: AggFunc::Count,
            distinct: false,
            arg: Box::new(Expr::Star),
        }
    }

    /// `left op right`.
    pub fn cmp(left: Expr, op: CmpOp, right: Expr) -> Expr {
        Expr::Cmp {
            left: Box::new(left),
            op,
            right: Box::new(right),
        }
    }

    /// True when the expression contains an aggregate (outside subqueries).
    pub fn has_aggregate(&self) -> bool {
        match self {
            Expr::Agg { .. } => true,
            Expr::Cmp { left, right, .. } => left.has_aggregate() || right.has_aggregate(),
            Expr::Between { expr, low, high } => {
                expr.has_aggregate() || low.has_aggregate() || high.has_aggregate()
            }
            Expr::Like { expr, .. } | Expr::IsNull { expr, .. } | Expr::InList { expr, .. } => {
                expr.has_aggregate()
            }
            Expr::InQuery { expr, .. } => expr.has_aggregate(),
            Expr::And(v) | Expr::Or(v) => v.iter().any(Expr::has_aggregate),
            Expr::DatePart { expr, .. } | Expr::TextPrefix { expr, .. } => expr.has_aggregate(),
            Expr::Raw(s) => {
                let u = s.to_ascii_uppercase();
                ["SUM(", "AVG(", "COUNT(", "MIN(", "MAX("]
                    .iter()
                    .any(|f| u.contains(f))
            }
            _ => false,
        }
    }
}

/// One item of a select list.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    pub expr: Expr,
    pub alias: Option<String>,
}

/// A join: `JOIN table ON l1 = r1 AND ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub table: String,
    /// Pairs of (column of an earlier table, column of this table), as qualified expressions.
    pub on: Vec<(Expr, Expr)>,
}

/// One SELECT.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    pub distinct: bool,
    pub items: Vec<SelectItem>,
    /// The first table.
    pub from: String,
    pub joins: Vec<Join>,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    /// Expressions with `true` for descending.
    pub order_by: Vec<(Expr, bool)>,
    pub limit: Option<u64>,
}

/// A set operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Intersect,
    Except,
}

/// A query: one SELECT or a set operation of two.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Select(Box<Select>),
    Set {
        op: SetOp,
        left: Box<Query>,
        right: Box<Query>,
    },
}

impl Query {
    /// Renders the query as SQL text for `dialect`.
    pub fn render(&self, dialect: Dialect) -> String {
        Renderer { d: dialect.sql() }.query(self)
    }
}

struct Renderer {
    d: &'static dyn SqlDialect,
}

impl Renderer {
    fn ident(&self, name: &str) -> String {
        ident(self.d, name)
    }

    fn query(&self, q: &Query) -> String {
        match q {
            Query::Select(s) => self.select(s),
            Query::Set { op, left, right } => {
                let op = match op {
                    SetOp::Union => SetOperator::Union,
                    SetOp::Intersect => SetOperator::Intersect,
                    SetOp::Except => SetOperator::Except,
                };
                let side = |q: &Query| match q {
                    Query::Select(s)
                        if self.d.parenthesize_ordered_set_operands()
                            && (s.limit.is_some() || !s.order_by.is_empty()) =>
                    {
                        format!("({})", self.query(q))
                    }
                    _ => self.query(q),
                };
                format!("{} {} {}", side(left), self.d.set_operator(op), side(right))
            }
        }
    }

    fn qualified(&self, s: &Select) -> bool {
        !s.joins.is_empty()
    }

    fn select(&self, s: &Select) -> String {
        let q = self.qualified(s);
        let mut out = String::from("SELECT ");
        if s.distinct {
            out.push_str("DISTINCT ");
        }
        let items: Vec<String> = s
            .items
            .iter()
            .map(|it| match &it.alias {
                Some(a) => format!("{} AS {}", self.expr(&it.expr, q), self.ident(a)),
                None => self.expr(&it.expr, q),
            })
            .collect();
        out.push_str(&items.join(", "));
        out.push_str(" FROM ");
        out.push_str(&self.ident(&s.from));
        for j in &s.joins {
            out.push_str(" JOIN ");
            out.push_str(&self.ident(&j.table));
            out.push_str(" ON ");
            let conds: Vec<String> =
                j.on.iter()
                    .map(|(l, r)| format!("{} = {}", self.expr(l, q), self.expr(r, q)))
                    .collect();
            out.push_str(&conds.join(" AND "));
        }
        if let Some(f) = &s.filter {
            out.push_str(" WHERE ");
            out.push_str(&self.expr(f, q));
        }
        if !s.group_by.is_empty() {
            let g: Vec<String> = s.group_by.iter().map(|e| self.expr(e, q)).collect();
            out.push_str(" GROUP BY ");
            out.push_str(&g.join(", "));
        }
        if let Some(h) = &s.having {
            out.push_str(" HAVING ");
            out.push_str(&self.expr(h, q));
        }
        if !s.order_by.is_empty() {
            let o: Vec<String> = s
                .order_by
                .iter()
                .map(|(e, desc)| {
                    format!(
                        "{}{}",
                        self.expr(e, q),
                        if *desc { " DESC" } else { " ASC" }
                    )
                })
                .collect();
            out.push_str(" ORDER BY ");
            out.push_str(&o.join(", "));
        }
        if let Some(n) = s.limit {
            out.push(' ');
            out.push_str(&self.d.limit_clause(n));
        }
        out
    }

    fn lit(&self, l: &Literal) -> String {
        match l {
            Literal::Number(n) => n.clone(),
            Literal::Text(s) => string_literal(s),
            Literal::Date(d) => self.d.date_literal(*d),
            Literal::Null => "NULL".into(),
        }
    }

    fn expr(&self, e: &Expr, q: bool) -> String {
        match e {
            Expr::Column { table, column } => {
                if q {
                    format!("{}.{}", self.ident(table), self.ident(column))
                } else {
                    self.ident(column)
                }
            }
            Expr::Star => "*".into(),
            Expr::Lit(l) => self.lit(l),
            Expr::Agg {
                func,
                distinct,
                arg,
            } => {
                format!(
                    "{}({}{})",
                    func.sql(),
                    if *distinct { "DISTINCT " } else { "" },
                    self.expr(arg, q)
                )
            }
            Expr::Cmp { left, op, right } => format!(
                "{} {} {}",
                self.expr(left, q),
                op.sql(),
                self.expr(right, q)
            ),
            Expr::Between { expr, low, high } => {
                format!(
                    "{} BETWEEN {} AND {}",
                    self.expr(expr, q),
                    self.expr(low, q),
                    self.expr(high, q)
                )
            }
            Expr::Like {
                expr,
                pattern,
                negated,
            } => self.d.like(&self.expr(expr, q), pattern, *negated),
            Expr::IsNull { expr, negated } => {
                format!(
                    "{} IS {}NULL",
                    self.expr(expr, q),
                    if *negated { "NOT " } else { "" }
                )
            }
            Expr::InQuery {
                expr,
                query,
                negated,
            } => format!(
                "{} {}IN ({})",
                self.expr(expr, q),
                if *negated { "NOT " } else { "" },
                self.query(query)
            ),
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let vals: Vec<String> = list.iter().map(|l| self.lit(l)).collect();
                format!(
                    "{} {}IN ({})",
                    self.expr(expr, q),
                    if *negated { "NOT " } else { "" },
                    vals.join(", ")
                )
            }
            Expr::Subquery(query) => format!("({})", self.query(query)),
            Expr::And(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .map(|x| match x {
                        Expr::Or(_) => format!("({})", self.expr(x, q)),
                        _ => self.expr(x, q),
                    })
                    .collect();
                parts.join(" AND ")
            }
            Expr::Or(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .map(|x| match x {
                        Expr::And(_) => format!("({})", self.expr(x, q)),
                        _ => self.expr(x, q),
                    })
                    .collect();
                parts.join(" OR ")
            }
            Expr::DatePart { part, expr } => self.d.date_part(*part, &self.expr(expr, q)),
            Expr::TextPrefix { expr, chars } => self.d.text_prefix(&self.expr(expr, q), *chars),
            Expr::Raw(s) => format!("({s})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_needed_per_dialect() {
        let (sqlite, bigquery) = (Dialect::Sqlite.sql(), Dialect::BigQuery.sql());
        assert_eq!(ident(sqlite, "age"), "age");
        assert_eq!(ident(sqlite, "order"), "\"order\"");
        assert_eq!(ident(sqlite, "my \"col\""), "\"my \"\"col\"\"\"");
        assert_eq!(ident(bigquery, "Net Sales"), "`Net Sales`");
    }

    #[test]
    fn a_select_with_join_filter_group_and_order_renders_in_clause_order() {
        let s = Select {
            items: vec![
                SelectItem {
                    expr: Expr::col("head", "name"),
                    alias: None,
                },
                SelectItem {
                    expr: Expr::count_star(),
                    alias: None,
                },
            ],
            from: "head".into(),
            joins: vec![Join {
                table: "management".into(),
                on: vec![(
                    Expr::col("head", "head_id"),
                    Expr::col("management", "head_id"),
                )],
            }],
            filter: Some(Expr::And(vec![
                Expr::cmp(
                    Expr::col("head", "age"),
                    CmpOp::Gt,
                    Expr::Lit(Literal::Number("56".into())),
                ),
                Expr::cmp(
                    Expr::col("head", "state"),
                    CmpOp::Eq,
                    Expr::Lit(Literal::Text("O'Hare".into())),
                ),
            ])),
            group_by: vec![Expr::col("head", "name")],
            order_by: vec![(Expr::count_star(), true)],
            limit: Some(3),
            ..Default::default()
        };
        let sql = Query::Select(Box::new(s)).render(Dialect::Sqlite);
        assert_eq!(
            sql,
            "SELECT head.name, COUNT(*) FROM head JOIN management ON head.head_id = management.head_id \
             WHERE head.age > 56 AND head.state = 'O''Hare' GROUP BY head.name ORDER BY COUNT(*) DESC LIMIT 3"
        );
    }

    #[test]
    fn date_parts_and_literals_follow_the_dialect() {
        let e = Expr::cmp(
            Expr::DatePart {
                part: DatePart::Year,
                expr: Box::new(Expr::col("t", "d")),
            },
            CmpOp::Eq,
            Expr::Lit(Literal::Number("2024".into())),
        );
        let s = Select {
            items: vec![SelectItem {
                expr: Expr::Star,
                alias: None,
            }],
            from: "t".into(),
            filter: Some(e),
            ..Default::default()
        };
        let q = Query::Select(Box::new(s));
        assert!(q
            .render(Dialect::Sqlite)
            .contains("CAST(strftime('%Y', d) AS INTEGER) = 2024"));
        assert!(q
            .render(Dialect::BigQuery)
            .contains("EXTRACT(YEAR FROM d) = 2024"));
        assert_eq!(
            Dialect::BigQuery
                .sql()
                .date_literal(NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()),
            "DATE '2024-07-01'"
        );
    }
}
