//! The guard: every statement is parsed with sqlparser and must be exactly one read-only query
//! over known tables; it gets a row limit. Only a [`ValidatedSql`] reaches a warehouse.
//!
//! Its whole surface is [`validate`]. The checks walk the parsed tree (never the text): one
//! statement, a `Query` and nothing nested that writes, no `SELECT ... INTO` or locking clause,
//! every table in `FROM` a known table or a CTE in scope, no function that reads files or loads
//! code. What differs between SQLite and BigQuery (parser, forbidden functions, qualified names)
//! comes from [`crate::sql::dialect`]. The checked tree, with its limit, is rendered back to SQL
//! by sqlparser's `Display`, so what runs is exactly what was checked.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, LimitClause, Query, SetExpr, Statement, TableFactor, Value, ValueWithSpan, Visit, Visitor,
};
use sqlparser::parser::Parser;

use crate::error::{QuerentError, QuerentResult};
use crate::sql::dialect::{for_dialect, Dialect, SqlDialect};

/// A statement that passed the guard: one read-only query over known tables, row-limited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedSql {
    sql: String,
    tables: Vec<String>,
}

impl ValidatedSql {
    /// The SQL text to run (with the row limit applied).
    pub fn as_str(&self) -> &str {
        &self.sql
    }

    /// The tables the statement reads, spelled as in `known_tables`, in order of first use
    /// (CTE names are not tables and are not listed).
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// Wraps SQL without checking it: for tests of the layers below the guard only.
    #[cfg(test)]
    pub(crate) fn trusted_for_tests(sql: &str) -> Self {
        Self {
            sql: sql.to_string(),
            tables: Vec::new(),
        }
    }
}

impl std::fmt::Display for ValidatedSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql)
    }
}

/// Checks `sql` and returns it ready to run.
///
/// - `known_tables`: the tables of the database (case-insensitive); CTE names are allowed too.
///   For BigQuery a qualified name (`dataset.table`) must match a known name as written.
/// - `max_rows`: a `LIMIT` is added (or lowered) so that at most this many rows come back; a
///   smaller limit and any `OFFSET` are kept.
///
/// Errors: [`QuerentError::SqlRejected`] with the reason (parse error, several statements,
/// not a query, a write, an unknown table, a forbidden function).
pub fn validate(
    sql: &str,
    dialect: Dialect,
    known_tables: &[String],
    max_rows: usize,
) -> QuerentResult<ValidatedSql> {
    let rules = for_dialect(dialect);
    let parser_dialect = rules.parser_dialect();
    let mut statements = Parser::parse_sql(parser_dialect.as_ref(), sql).map_err(|e| {
        let message = e.to_string();
        let message = message
            .strip_prefix("sql parser error: ")
            .unwrap_or(&message)
            .to_string();
        rejected(format!(
            "could not parse the SQL as {}: {message}",
            rules.name()
        ))
    })?;
    let mut query = match statements.len() {
        0 => return Err(rejected("the SQL is empty")),
        1 => match statements.remove(0) {
            Statement::Query(query) => query,
            other => {
                return Err(rejected(format!(
                    "only read-only queries (SELECT, WITH, VALUES) are allowed; found {}",
                    statement_kind(&other)
                )))
            }
        },
        n => {
            return Err(rejected(format!(
                "only one statement is allowed; found {n}"
            )))
        }
    };

    let mut checker = Checker {
        dialect: rules,
        known_tables,
        scopes: Vec::new(),
        tables: Vec::new(),
    };
    if let ControlFlow::Break(reason) = query.visit(&mut checker) {
        return Err(rejected(reason));
    }
    let tables = checker.tables;
    if !query.pipe_operators.is_empty() {
        return Err(rejected(
            "pipe syntax (|>) is not supported; write the query with SELECT",
        ));
    }
    let before = query.clone();
    apply_row_limit(&mut query, max_rows)?;
    let sql = splice_row_limit(sql, parser_dialect.as_ref(), &before, &query, max_rows)?;
    Ok(ValidatedSql { sql, tables })
}

/// The text to run: the statement as written (without the comments and semicolons around it),
/// with only its outermost row limit edited when [`apply_row_limit`] changed it.
///
/// The SQL is never re-rendered from the tree: sqlparser's tree does not keep every literal as
/// written (SQLite's `0x10` and `X'10'` parse to the same node, BigQuery's escapes are decoded),
/// so a rendered statement could mean something else. An edited text is parsed again and must
/// give exactly the checked tree with its new limit, or the statement is refused.
fn splice_row_limit(
    sql: &str,
    dialect: &dyn sqlparser::dialect::Dialect,
    before: &Query,
    after: &Query,
    max_rows: usize,
) -> QuerentResult<String> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Tokenizer};

    let tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .map_err(|e| rejected(format!("could not read the SQL: {e}")))?;
    let offsets = LineOffsets::new(sql);
    // (start byte, end byte, token, bracket depth) of every token of the statement itself.
    let mut significant: Vec<(usize, usize, &Token, i32)> = Vec::new();
    let mut depth = 0i32;
    for t in &tokens {
        if matches!(t.token, Token::Whitespace(_) | Token::EOF) {
            continue;
        }
        let (start, end) = (offsets.byte(t.span.start), offsets.byte(t.span.end));
        match t.token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                significant.push((start, end, &t.token, depth));
                depth += 1;
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                depth -= 1;
                significant.push((start, end, &t.token, depth));
            }
            _ => significant.push((start, end, &t.token, depth)),
        }
    }
    while significant
        .last()
        .is_some_and(|(_, _, t, _)| **t == Token::SemiColon)
    {
        significant.pop();
    }
    let first = significant
        .iter()
        .position(|(_, _, t, _)| **t != Token::SemiColon)
        .ok_or_else(|| rejected("the SQL is empty"))?;
    let significant = &significant[first..];
    let (start, end) = (significant[0].0, significant[significant.len() - 1].1);
    if before == after {
        return Ok(sql[start..end].to_string());
    }

    let top_keyword = |keyword: Keyword| {
        significant.iter().rposition(|(_, _, t, d)| {
            *d == 0
                && matches!(t, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none())
        })
    };
    let cap = max_rows.to_string();
    // The byte range to replace and what goes there.
    let (from, to, text) = match (top_keyword(Keyword::LIMIT), &before.limit_clause) {
        // No LIMIT written: add one, before a bare OFFSET if there is one.
        (None, _) => match top_keyword(Keyword::OFFSET) {
            Some(i) if before.limit_clause.is_some() => {
                let at = significant[i].0;
                (at, at, format!("LIMIT {cap} "))
            }
            _ => (end, end, format!(" LIMIT {cap}")),
        },
        // `LIMIT offset, count`: the count follows the comma.
        (Some(i), Some(LimitClause::OffsetCommaLimit { .. })) => {
            let comma = significant[i + 1..]
                .iter()
                .position(|(_, _, t, d)| *d == 0 && **t == Token::Comma)
                .map(|j| i + 1 + j)
                .ok_or_else(|| rejected("the row limit could not be applied to this query"))?;
            (significant[comma].1, end, format!(" {cap}"))
        }
        // `LIMIT count [OFFSET offset]`: the count runs up to the OFFSET or the end.
        (Some(i), _) => {
            let count_end = significant[i + 1..]
                .iter()
                .position(|(_, _, t, d)| {
                    *d == 0
                        && matches!(t, Token::Word(w) if w.keyword == Keyword::OFFSET && w.quote_style.is_none())
                })
                .map(|j| significant[i + j].1)
                .unwrap_or(end);
            (significant[i].1, count_end, format!(" {cap}"))
        }
    };
    let edited = format!("{}{text}{}", &sql[start..from], &sql[to..end]);
    let reparsed = Parser::parse_sql(dialect, &edited).ok();
    match reparsed.as_deref() {
        Some([Statement::Query(q)]) if **q == *after => Ok(edited),
        _ => Err(rejected(
            "the row limit could not be applied to this query; put LIMIT last",
        )),
    }
}

/// Maps sqlparser's locations (1-based line and character column) to byte offsets.
struct LineOffsets<'a> {
    text: &'a str,
    /// The byte offset where each line starts (lines end at `\n`, as the tokenizer counts).
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn byte(&self, location: sqlparser::tokenizer::Location) -> usize {
        let Some(&line_start) = self.starts.get((location.line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[line_start..]
            .char_indices()
            .nth((location.column as usize).saturating_sub(1))
            .map(|(i, _)| line_start + i)
            .unwrap_or(self.text.len())
    }
}

fn rejected(reason: impl Into<String>) -> QuerentError {
    QuerentError::SqlRejected {
        reason: reason.into(),
    }
}

/// The kind of a statement for messages ("INSERT", "DROP TABLE", "PRAGMA"): its leading
/// keywords as sqlparser renders them.
fn statement_kind(statement: &Statement) -> String {
    // Object words that make the kind clearer after CREATE / DROP / ALTER / TRUNCATE.
    const OBJECT_WORDS: &[&str] = &[
        "TABLE",
        "VIEW",
        "INDEX",
        "TRIGGER",
        "SCHEMA",
        "DATABASE",
        "TEMPORARY",
        "TEMP",
        "VIRTUAL",
        "UNIQUE",
        "MATERIALIZED",
        "FUNCTION",
        "PROCEDURE",
    ];
    let text = statement.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("statement").to_ascii_uppercase();
    let mut kind = first.clone();
    if matches!(first.as_str(), "CREATE" | "DROP" | "ALTER" | "TRUNCATE") {
        for word in words.take_while(|w| OBJECT_WORDS.contains(w)) {
            kind.push(' ');
            kind.push_str(word);
        }
    }
    kind
}

/// The visible CTE names of one query being checked.
struct Scope {
    /// The query this scope belongs to (identity only, never dereferenced).
    query: *const Query,
    /// CTE names visible from enclosing queries (lower case).
    outer: Vec<String>,
    /// This query's own CTEs, in order: lower-case name and the address of its body.
    ctes: Vec<(String, *const Query)>,
    /// `WITH RECURSIVE`: every CTE of the clause is visible in every body.
    recursive: bool,
}

/// Walks a parsed query and stops at the first thing the guard refuses (the `Break` value is
/// the reason), recording the known tables it reads.
struct Checker<'a> {
    dialect: &'a dyn SqlDialect,
    known_tables: &'a [String],
    scopes: Vec<Scope>,
    tables: Vec<String>,
}

impl Checker<'_> {
    /// Names visible inside `query`, which is about to be entered below the current scope.
    ///
    /// A CTE body sees the CTEs defined before it (all of them under `WITH RECURSIVE`, itself
    /// included), never itself otherwise: a non-recursive `WITH t AS (SELECT * FROM t)` reads
    /// the real table `t` in most engines, so that `t` must be a known table.
    fn outer_names_for(&self, query: *const Query) -> Vec<String> {
        let Some(parent) = self.scopes.last() else {
            return Vec::new();
        };
        let mut names = parent.outer.clone();
        match parent.ctes.iter().position(|(_, body)| *body == query) {
            Some(index) if !parent.recursive => {
                names.extend(parent.ctes[..index].iter().map(|(n, _)| n.clone()))
            }
            _ => names.extend(parent.ctes.iter().map(|(n, _)| n.clone())),
        }
        names
    }

    fn is_cte_in_scope(&self, name: &str) -> bool {
        let Some(scope) = self.scopes.last() else {
            return false;
        };
        let name = name.to_lowercase();
        scope.outer.contains(&name) || scope.ctes.iter().any(|(n, _)| *n == name)
    }

    fn check_table(&mut self, name: &sqlparser::ast::ObjectName) -> ControlFlow<String> {
        if let [part] = name.0.as_slice() {
            if let Some(ident) = part.as_ident() {
                if self.is_cte_in_scope(&ident.value) {
                    return ControlFlow::Continue(());
                }
            }
        }
        let Some(key) = self.dialect.table_key(name) else {
            return ControlFlow::Break(format!(
                "table '{name}' is outside the served database; known tables: {}",
                known_list(self.known_tables)
            ));
        };
        match self
            .known_tables
            .iter()
            .find(|t| t.eq_ignore_ascii_case(&key))
        {
            Some(known) => {
                if !self.tables.contains(known) {
                    self.tables.push(known.clone());
                }
                ControlFlow::Continue(())
            }
            None => ControlFlow::Break(format!(
                "unknown table '{key}'; known tables: {}",
                known_list(self.known_tables)
            )),
        }
    }

    fn check_function_name(&self, name: &sqlparser::ast::ObjectName) -> ControlFlow<String> {
        let base = function_base_name(name);
        if self.dialect.forbidden_functions().contains(&base.as_str()) {
            return ControlFlow::Break(format!(
                "function '{base}' is not allowed: it reads or writes files, loads code, leaves the database or reveals the server's build"
            ));
        }
        ControlFlow::Continue(())
    }
}

/// The known tables for a message: all of them up to a screenful, then how many more.
fn known_list(known_tables: &[String]) -> String {
    const SHOWN: usize = 30;
    if known_tables.len() <= SHOWN {
        return known_tables.join(", ");
    }
    format!(
        "{} and {} more",
        known_tables[..SHOWN].join(", "),
        known_tables.len() - SHOWN
    )
}

/// The last part of a function name, in lower case (`main.READFILE` gives `readfile`).
fn function_base_name(name: &sqlparser::ast::ObjectName) -> String {
    name.0
        .last()
        .map(|part| match part.as_ident() {
            Some(ident) => ident.value.to_lowercase(),
            None => part.to_string().to_lowercase(),
        })
        .unwrap_or_default()
}

/// Refuses what a query body may hold that writes or is not plain SQL for our dialects:
/// `SELECT ... INTO` and `TABLE name`. Nested statements are refused by the visitor.
fn check_set_expr(body: &SetExpr) -> ControlFlow<String> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => ControlFlow::Break(
            "SELECT ... INTO writes a table; only read-only queries are allowed".to_string(),
        ),
        SetExpr::SetOperation { left, right, .. } => {
            check_set_expr(left)?;
            check_set_expr(right)
        }
        SetExpr::Table(_) => ControlFlow::Break(
            "the `TABLE name` form is not supported; write SELECT * FROM name".into(),
        ),
        _ => ControlFlow::Continue(()),
    }
}

impl Visitor for Checker<'_> {
    type Break = String;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(
                "locking clauses (FOR UPDATE, FOR SHARE) are not allowed".into(),
            );
        }
        if query.for_clause.is_some() {
            return ControlFlow::Break("FOR XML / FOR JSON clauses are not supported".into());
        }
        check_set_expr(&query.body)?;
        let this: *const Query = query;
        let outer = self.outer_names_for(this);
        let (ctes, recursive) = match &query.with {
            Some(with) => (
                with.cte_tables
                    .iter()
                    .map(|cte| {
                        (
                            cte.alias.name.value.to_lowercase(),
                            &*cte.query as *const Query,
                        )
                    })
                    .collect(),
                with.recursive,
            ),
            None => (Vec::new(), false),
        };
        self.scopes.push(Scope {
            query: this,
            outer,
            ctes,
            recursive,
        });
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        debug_assert!(self
            .scopes
            .last()
            .is_some_and(|s| std::ptr::eq(s.query, query)));
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<String> {
        // The root is visited as a `Query`, so any statement met here is nested in it
        // (a data-modifying CTE, for instance).
        ControlFlow::Break(format!(
            "only read-only queries are allowed; found {} inside the query",
            statement_kind(statement)
        ))
    }

    fn pre_visit_table_factor(&mut self, table_factor: &TableFactor) -> ControlFlow<String> {
        match table_factor {
            TableFactor::Table {
                name, args: None, ..
            } => self.check_table(name),
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => {
                self.check_function_name(name)?;
                let base = function_base_name(name);
                if self
                    .dialect
                    .allowed_table_functions()
                    .contains(&base.as_str())
                {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(format!(
                        "table-valued function '{base}' is not allowed in FROM"
                    ))
                }
            }
            TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. }
            | TableFactor::Pivot { .. }
            | TableFactor::Unpivot { .. } => ControlFlow::Continue(()),
            other => ControlFlow::Break(format!("this FROM item is not supported: {other}")),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if let Expr::Function(function) = expr {
            self.check_function_name(&function.name)?;
        }
        ControlFlow::Continue(())
    }
}

/// Gives the outermost query a `LIMIT` of at most `max_rows`, keeping a smaller limit and any
/// offset. A limit that is not a whole-number literal is refused: its value cannot be checked.
fn apply_row_limit(query: &mut Query, max_rows: usize) -> QuerentResult<()> {
    if query.fetch.is_some() {
        return Err(rejected("FETCH FIRST is not supported; use LIMIT"));
    }
    let cap = || {
        Expr::Value(ValueWithSpan::from(Value::Number(
            max_rows.to_string(),
            false,
        )))
    };
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(cap()),
                offset: None,
                limit_by: Vec::new(),
            });
        }
        // `LIMIT ALL` or a bare `OFFSET`.
        Some(LimitClause::LimitOffset {
            limit: limit @ None,
            ..
        }) => *limit = Some(cap()),
        Some(LimitClause::LimitOffset {
            limit: Some(limit), ..
        })
        | Some(LimitClause::OffsetCommaLimit { limit, .. }) => {
            if limit_value(limit)?.is_none_or(|n| n > max_rows as u128) {
                *limit = cap();
            }
        }
    }
    Ok(())
}

/// The value of a literal limit; `None` for a negative one (no limit in SQLite).
fn limit_value(limit: &Expr) -> QuerentResult<Option<u128>> {
    let not_a_number = || rejected(format!("LIMIT must be a whole number; found '{limit}'"));
    match limit {
        Expr::Value(ValueWithSpan {
            value: Value::Number(text, _),
            ..
        }) => text.parse::<u128>().map(Some).map_err(|_| not_a_number()),
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(ValueWithSpan {
                value: Value::Number(_, _),
                ..
            }) => Ok(None),
            _ => Err(not_a_number()),
        },
        Expr::Nested(inner) => limit_value(inner),
        _ => Err(not_a_number()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["products", "sales", "Stores", "order items"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn sqlite(sql: &str) -> QuerentResult<ValidatedSql> {
        validate(sql, Dialect::Sqlite, &known(), 100)
    }

    fn reason(sql: &str) -> String {
        match sqlite(sql) {
            Err(QuerentError::SqlRejected { reason }) => reason,
            other => panic!("expected a rejection of {sql:?}, got {other:?}"),
        }
    }

    /// A real in-memory SQLite database with the known tables, to run what the guard returns.
    fn database() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL);
             CREATE TABLE stores (id INTEGER PRIMARY KEY, city TEXT);
             CREATE TABLE sales (product_id INTEGER, store_id INTEGER, day TEXT, units INTEGER, revenue REAL);
             CREATE TABLE \"order items\" (id INTEGER);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
             INSERT INTO products SELECT i, 'p' || i, CASE i % 3 WHEN 0 THEN 'frozen' ELSE 'dry' END, i * 1.5 FROM n;
             INSERT INTO stores VALUES (1, 'Lyon'), (2, 'Paris');
             INSERT INTO sales SELECT id, 1 + id % 2, '2024-0' || (1 + id % 9) || '-01', id % 7, id * 2.0 FROM products;",
        )
        .unwrap();
        conn
    }

    fn row_count(conn: &rusqlite::Connection, sql: &ValidatedSql) -> usize {
        let mut stmt = conn.prepare(sql.as_str()).unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut n = 0;
        while rows.next().unwrap().is_some() {
            n += 1;
        }
        n
    }

    #[test]
    fn accepts_joins_aggregates_and_strftime_and_runs_on_sqlite() {
        let v = sqlite(
            "SELECT s.city, strftime('%Y-%m', sa.day) AS month, SUM(sa.revenue) AS revenue, COUNT(*) \
             FROM sales sa JOIN stores s ON s.id = sa.store_id LEFT JOIN products p ON p.id = sa.product_id \
             WHERE p.category = 'frozen' GROUP BY s.city, month HAVING SUM(sa.units) > 0 ORDER BY revenue DESC",
        )
        .unwrap();
        assert_eq!(v.tables(), ["sales", "Stores", "products"]);
        assert!(v.as_str().ends_with("LIMIT 100"), "{}", v.as_str());
        assert!(row_count(&database(), &v) > 0);
    }

    #[test]
    fn accepts_ctes_and_subqueries_and_does_not_list_ctes_as_tables() {
        let v = sqlite(
            "WITH top AS (SELECT product_id, SUM(revenue) AS r FROM sales GROUP BY product_id), \
             best AS (SELECT * FROM top WHERE r > (SELECT AVG(r) FROM top)) \
             SELECT name FROM products WHERE id IN (SELECT product_id FROM best) \
             AND EXISTS (SELECT 1 FROM stores)",
        )
        .unwrap();
        assert_eq!(v.tables(), ["sales", "products", "Stores"]);
        assert_eq!(row_count(&database(), &v), 100);
    }

    #[test]
    fn accepts_a_recursive_cte_that_reads_itself() {
        let v = sqlite("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n")
            .unwrap();
        assert!(v.tables().is_empty());
        assert_eq!(row_count(&database(), &v), 5);
    }

    #[test]
    fn accepts_set_operations_and_limits_the_whole_result() {
        for op in ["UNION", "UNION ALL", "INTERSECT", "EXCEPT"] {
            let v = sqlite(&format!(
                "SELECT id FROM products {op} SELECT product_id FROM sales"
            ))
            .unwrap();
            assert!(v.as_str().contains(op), "{}", v.as_str());
            assert!(v.as_str().ends_with(" LIMIT 100"), "{}", v.as_str());
            assert!(row_count(&database(), &v) <= 100);
        }
    }

    #[test]
    fn accepts_quoted_identifiers_in_any_case() {
        let v = sqlite("SELECT \"name\", [price], `category` FROM \"PRODUCTS\" JOIN \"order items\" ON 1 = 1 JOIN main.stores ON 1 = 1")
            .unwrap();
        assert_eq!(v.tables(), ["products", "order items", "Stores"]);
        assert!(v.as_str().contains("\"order items\""), "{}", v.as_str());
        row_count(&database(), &v);
    }

    #[test]
    fn accepts_values_trailing_semicolons_and_comments() {
        let v = sqlite("-- the first rows\nVALUES (1), (2); ;").unwrap();
        assert_eq!(v.as_str(), "VALUES (1), (2) LIMIT 100");
        let v = sqlite("SELECT 1 /* one */;\n-- done\n").unwrap();
        assert_eq!(v.as_str(), "SELECT 1 LIMIT 100");
    }

    #[test]
    fn adds_a_limit_lowers_a_larger_one_and_keeps_a_smaller_one_and_the_offset() {
        assert_eq!(
            sqlite("SELECT id FROM products").unwrap().as_str(),
            "SELECT id FROM products LIMIT 100"
        );
        assert_eq!(
            sqlite("SELECT id FROM products LIMIT 5000")
                .unwrap()
                .as_str(),
            "SELECT id FROM products LIMIT 100"
        );
        assert_eq!(
            sqlite("SELECT id FROM products LIMIT 7").unwrap().as_str(),
            "SELECT id FROM products LIMIT 7"
        );
        assert_eq!(
            sqlite("SELECT id FROM products LIMIT 500 OFFSET 20")
                .unwrap()
                .as_str(),
            "SELECT id FROM products LIMIT 100 OFFSET 20"
        );
        assert_eq!(
            sqlite("SELECT id FROM products LIMIT -1").unwrap().as_str(),
            "SELECT id FROM products LIMIT 100"
        );
        assert_eq!(
            sqlite("SELECT id FROM products LIMIT 20, 500")
                .unwrap()
                .as_str(),
            "SELECT id FROM products LIMIT 20, 100"
        );
        // Inner limits are the query's business; only the outer result is capped.
        assert_eq!(
            sqlite("SELECT * FROM (SELECT id FROM products LIMIT 1000)")
                .unwrap()
                .as_str(),
            "SELECT * FROM (SELECT id FROM products LIMIT 1000) LIMIT 100"
        );
        let conn = database();
        assert_eq!(
            row_count(
                &conn,
                &sqlite("SELECT id FROM products LIMIT 500 OFFSET 20").unwrap()
            ),
            100
        );
        assert_eq!(
            row_count(
                &conn,
                &sqlite("SELECT id FROM products LIMIT 20, 500").unwrap()
            ),
            100
        );
    }

    #[test]
    fn rejects_a_limit_that_is_not_a_number() {
        assert_eq!(
            reason("SELECT id FROM products LIMIT (SELECT COUNT(*) FROM sales)"),
            "LIMIT must be a whole number; found '(SELECT COUNT(*) FROM sales)'"
        );
    }

    #[test]
    fn rejects_several_statements() {
        assert_eq!(
            reason("SELECT 1; DROP TABLE products"),
            "only one statement is allowed; found 2"
        );
        assert_eq!(
            reason("SELECT 1; SELECT 2; SELECT 3;"),
            "only one statement is allowed; found 3"
        );
    }

    #[test]
    fn rejects_writes_and_schema_changes_naming_the_statement() {
        let cases = [
            ("INSERT INTO products (id) VALUES (1)", "INSERT"),
            ("UPDATE products SET price = 0", "UPDATE"),
            ("DELETE FROM sales", "DELETE"),
            ("DROP TABLE products", "DROP TABLE"),
            ("CREATE TABLE t (a INT)", "CREATE TABLE"),
            ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
            ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH"),
            ("PRAGMA writable_schema = 1", "PRAGMA"),
        ];
        for (sql, kind) in cases {
            assert_eq!(
                reason(sql),
                format!("only read-only queries (SELECT, WITH, VALUES) are allowed; found {kind}"),
                "{sql}"
            );
        }
    }

    #[test]
    fn rejects_vacuum_and_a_write_hidden_in_a_cte() {
        assert_eq!(
            reason("VACUUM"),
            "only read-only queries (SELECT, WITH, VALUES) are allowed; found VACUUM"
        );
        assert_eq!(
            reason("WITH d AS (DELETE FROM products RETURNING *) SELECT * FROM d"),
            "only read-only queries are allowed; found DELETE inside the query"
        );
    }

    #[test]
    fn rejects_select_into_locking_clauses_and_fetch() {
        assert_eq!(
            validate(
                "SELECT * INTO copy FROM products",
                Dialect::BigQuery,
                &known(),
                10
            )
            .unwrap_err()
            .to_string(),
            "SQL rejected: SELECT ... INTO writes a table; only read-only queries are allowed"
        );
        assert_eq!(
            reason("SELECT * FROM products FOR UPDATE"),
            "locking clauses (FOR UPDATE, FOR SHARE) are not allowed"
        );
        assert_eq!(
            reason("SELECT * FROM (SELECT * FROM products FOR SHARE)"),
            "locking clauses (FOR UPDATE, FOR SHARE) are not allowed"
        );
        assert_eq!(
            reason("SELECT id FROM products FETCH FIRST 3 ROWS ONLY"),
            "FETCH FIRST is not supported; use LIMIT"
        );
    }

    #[test]
    fn rejects_unknown_tables_wherever_they_hide() {
        let known_list = "known tables: products, sales, Stores, order items";
        for sql in [
            "SELECT * FROM secrets",
            "SELECT * FROM products WHERE id IN (SELECT id FROM secrets)",
            "SELECT (SELECT MAX(x) FROM secrets) FROM products",
            "WITH t AS (SELECT * FROM secrets) SELECT * FROM t",
            "SELECT * FROM products JOIN (SELECT * FROM secrets) s ON 1 = 1",
            "SELECT id FROM products UNION SELECT id FROM secrets",
        ] {
            assert_eq!(
                reason(sql),
                format!("unknown table 'secrets'; {known_list}"),
                "{sql}"
            );
        }
        assert_eq!(
            reason("SELECT * FROM sqlite_master"),
            format!("unknown table 'sqlite_master'; {known_list}")
        );
        assert_eq!(
            reason("SELECT * FROM other.products"),
            format!("table 'other.products' is outside the served database; {known_list}")
        );
    }

    #[test]
    fn a_long_list_of_known_tables_is_cut_in_the_message() {
        let many: Vec<String> = (0..45).map(|i| format!("t{i}")).collect();
        match validate("SELECT * FROM nope", Dialect::Sqlite, &many, 10) {
            Err(QuerentError::SqlRejected { reason }) => {
                assert!(reason.starts_with("unknown table 'nope'; known tables: t0, t1, "));
                assert!(reason.ends_with(", t29 and 15 more"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cte_name_is_only_visible_where_it_is_in_scope() {
        let known_list = "known tables: products, sales, Stores, order items";
        // A CTE defined inside a subquery does not make the same name readable outside it.
        assert_eq!(
            reason("SELECT * FROM (WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master), sqlite_master"),
            format!("unknown table 'sqlite_master'; {known_list}")
        );
        // Without RECURSIVE, a CTE's body does not see its own name: that would be the real table.
        assert_eq!(
            reason(
                "WITH sqlite_master AS (SELECT * FROM sqlite_master) SELECT * FROM sqlite_master"
            ),
            format!("unknown table 'sqlite_master'; {known_list}")
        );
        // A later CTE sees an earlier one.
        assert!(
            sqlite("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b").is_ok()
        );
    }

    #[test]
    fn rejects_functions_that_touch_files_or_load_code() {
        assert_eq!(
            reason("SELECT load_extension('/tmp/evil.so')"),
            "function 'load_extension' is not allowed: it reads or writes files, loads code, leaves the database or reveals the server's build"
        );
        assert_eq!(
            reason("SELECT name FROM products WHERE name = READFILE('/etc/passwd')"),
            "function 'readfile' is not allowed: it reads or writes files, loads code, leaves the database or reveals the server's build"
        );
        assert_eq!(
            reason("SELECT * FROM fsdir('/')"),
            "function 'fsdir' is not allowed: it reads or writes files, loads code, leaves the database or reveals the server's build"
        );
        assert_eq!(
            reason("SELECT * FROM pragma_table_info('products')"),
            "table-valued function 'pragma_table_info' is not allowed in FROM"
        );
        let v = sqlite("SELECT value FROM json_each('[1, 2]')").unwrap();
        assert_eq!(row_count(&database(), &v), 2);
    }

    #[test]
    fn rejects_a_parse_error_with_the_parser_message() {
        let r = reason("SELECT FROM WHERE");
        assert!(r.starts_with("could not parse the SQL as SQLite: "), "{r}");
        assert!(r.contains("Line: 1"), "{r}");
        assert_eq!(reason("  -- nothing\n ;"), "the SQL is empty");
    }

    #[test]
    fn bigquery_needs_qualified_names_as_known() {
        let known = vec!["shop.sales".to_string()];
        let v = validate(
            "SELECT SUM(units) FROM `shop.sales` WHERE day >= '2024-01-01'",
            Dialect::BigQuery,
            &known,
            10,
        )
        .unwrap();
        assert_eq!(v.tables(), ["shop.sales"]);
        assert_eq!(
            v.as_str(),
            "SELECT SUM(units) FROM `shop.sales` WHERE day >= '2024-01-01' LIMIT 10"
        );
        assert!(validate("SELECT * FROM shop.sales", Dialect::BigQuery, &known, 10).is_ok());
        match validate("SELECT * FROM other.sales", Dialect::BigQuery, &known, 10) {
            Err(QuerentError::SqlRejected { reason }) => {
                assert_eq!(
                    reason,
                    "unknown table 'other.sales'; known tables: shop.sales"
                )
            }
            other => panic!("{other:?}"),
        }
        match validate(
            "SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1')",
            Dialect::BigQuery,
            &known,
            10,
        ) {
            Err(QuerentError::SqlRejected { reason }) => assert!(
                reason.contains("'external_query' is not allowed"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
    }

    /// Every literal form of SQLite (<https://www.sqlite.org/lang_expr.html#literal_values>):
    /// what runs gives the value SQLite gives for the literal as written.
    #[test]
    fn every_sqlite_literal_form_runs_with_its_written_meaning() {
        let conn = database();
        let literals = [
            "0x10 + 1",
            "0X1f",
            "0xFFFFFFFFFFFFFFFF",
            "-0x10",
            "X'10' + 1",
            "x'abCD'",
            "char(0x27)",
            "17",
            "-9223372036854775808",
            "9223372036854775807",
            "9223372036854775808",
            "1e3",
            "1E-2",
            ".5",
            "5.",
            "1_000",
            "'it''s'",
            "'line\nbreak'",
            "'\\n'",
            "\"not a column\"",
            "NULL",
            "TRUE",
            "FALSE",
            "CURRENT_DATE IS NOT NULL",
            "'a' || 'b'",
            "'%' LIKE '\\%' ESCAPE '\\'",
            "CAST('12' AS INTEGER)",
            "typeof(0x10)",
        ];
        for literal in literals {
            let sql = format!("SELECT {literal}");
            let written: rusqlite::types::Value = conn.query_row(&sql, [], |r| r.get(0)).unwrap();
            let v = sqlite(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(v.as_str(), format!("{sql} LIMIT 100"));
            let ran: rusqlite::types::Value = conn.query_row(v.as_str(), [], |r| r.get(0)).unwrap();
            assert_eq!(ran, written, "{sql} ran as {}", v.as_str());
        }
        // In a comparison, and with a LIMIT the guard edits.
        let v =
            sqlite("SELECT id FROM products WHERE price > 0x10 AND id < 0x20 LIMIT 500").unwrap();
        assert_eq!(
            v.as_str(),
            "SELECT id FROM products WHERE price > 0x10 AND id < 0x20 LIMIT 100"
        );
        assert_eq!(row_count(&conn, &v), 21);
    }

    /// Every literal form of BigQuery
    /// (<https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#literals>) comes
    /// out as written.
    #[test]
    fn every_bigquery_literal_form_is_kept_as_written() {
        let literals = [
            // (sqlparser reads `0x`, not `0X`: an upper-case prefix is refused, not misread)
            "0x10 + 1",
            "0xfF",
            "-0x10",
            "123",
            "1.5e-3",
            ".5",
            "'it\\'s'",
            "\"double\"",
            "'''triple\n'quoted'''",
            "\"\"\"triple\"\"\"",
            "'\\n\\t\\x41\\u00e9'",
            "r'raw\\d+'",
            "R\"raw\"",
            "b'bytes\\x00'",
            "B\"bytes\"",
            "NUMERIC '1.5'",
            "BIGNUMERIC '1.5'",
            "DATE '2024-01-31'",
            "TIMESTAMP '2024-01-31 10:00:00+00'",
            "DATETIME '2024-01-31 10:00:00'",
            "TIME '10:00:00'",
            "JSON '{\"a\": 1}'",
            "INTERVAL 1 DAY",
            "[1, 2, 3]",
            "ARRAY<INT64>[1, 2]",
            "STRUCT(1 AS a, 'x' AS b)",
            "(1, 'x')",
            "NULL",
            "TRUE",
        ];
        let known = vec!["shop.sales".to_string()];
        for literal in literals {
            let sql = format!("SELECT {literal} AS v");
            let v = validate(&sql, Dialect::BigQuery, &known, 10)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(v.as_str(), format!("{sql} LIMIT 10"));
        }
        // A limit that is edited keeps the rest as written.
        let v = validate(
            "SELECT 0x10 AS v, b'\\x00' AS w FROM `shop.sales` LIMIT 500 OFFSET 0x2",
            Dialect::BigQuery,
            &known,
            10,
        )
        .unwrap();
        assert_eq!(
            v.as_str(),
            "SELECT 0x10 AS v, b'\\x00' AS w FROM `shop.sales` LIMIT 10 OFFSET 0x2"
        );
    }

    #[test]
    fn only_the_row_limit_is_edited_and_comments_and_semicolons_around_are_dropped() {
        let cases = [
            (
                "SELECT id FROM products -- trailing comment",
                "SELECT id FROM products LIMIT 100",
            ),
            (
                "/* lead */ SELECT id /* mid */ FROM products;;",
                "SELECT id /* mid */ FROM products LIMIT 100",
            ),
            (
                "SELECT id FROM products LIMIT 500 -- c",
                "SELECT id FROM products LIMIT 100",
            ),
            (
                "SELECT id FROM products LIMIT (500)",
                "SELECT id FROM products LIMIT 100",
            ),
            (
                "SELECT id FROM products LIMIT -1 OFFSET 3",
                "SELECT id FROM products LIMIT 100 OFFSET 3",
            ),
            (
                "SELECT id FROM products LIMIT 5, /* c */ 500",
                "SELECT id FROM products LIMIT 5, 100",
            ),
            (
                "SELECT id FROM products\nORDER BY id\nLIMIT\n  900\nOFFSET (1 + 1)",
                "SELECT id FROM products\nORDER BY id\nLIMIT 100\nOFFSET (1 + 1)",
            ),
            (
                "SELECT 'é' AS ü FROM products LIMIT 9999",
                "SELECT 'é' AS ü FROM products LIMIT 100",
            ),
            (
                "SELECT (SELECT id FROM products LIMIT 1) AS x",
                "SELECT (SELECT id FROM products LIMIT 1) AS x LIMIT 100",
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(sqlite(sql).unwrap().as_str(), expected, "{sql}");
        }
    }

    #[test]
    fn functions_that_reveal_the_build_are_refused() {
        for f in [
            "sqlite_version()",
            "SQLITE_SOURCE_ID()",
            "sqlite_compileoption_get(0)",
            "sqlite_compileoption_used('ENABLE_FTS5')",
        ] {
            let r = reason(&format!("SELECT {f}"));
            assert!(r.starts_with("function 'sqlite_"), "{r}");
            assert!(r.contains("is not allowed"), "{r}");
        }
    }

    /// Runs every `stride`-th Spider training gold query through the guard (with its own
    /// database's tables) and checks that the SQL it returns gives the same rows as the gold SQL.
    /// Returns false when the data set is not on this machine.
    fn spider_gold_queries_keep_their_results(stride: usize) -> bool {
        use rusqlite::types::Value as SqlValue;
        let root = std::path::Path::new("/work/shared/datasets/spider-train");
        let Ok(text) = std::fs::read_to_string(root.join("questions.jsonl")) else {
            eprintln!("skipped: no Spider training set at {}", root.display());
            return false;
        };
        let (mut total, mut accepted, mut same_rows, mut gold_fails) = (0, 0, 0, 0);
        let mut rejections: Vec<(bool, String)> = Vec::new();
        let mut differences = Vec::new();
        let mut connections: std::collections::HashMap<
            String,
            (rusqlite::Connection, Vec<String>),
        > = Default::default();
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .step_by(stride)
        {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            let db_id = record["db_id"].as_str().unwrap().to_string();
            let gold = record["sql"].as_str().unwrap();
            let (conn, tables) = connections.entry(db_id.clone()).or_insert_with(|| {
                let path = root
                    .join("database")
                    .join(&db_id)
                    .join(format!("{db_id}.sqlite"));
                let conn = rusqlite::Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                let tables = conn
                    .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
                    .unwrap()
                    .query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                (conn, tables)
            });
            total += 1;
            // A small limit, so that most queries get one added or lowered.
            let validated = match validate(gold, Dialect::Sqlite, tables, 5) {
                Ok(v) => v,
                Err(e) => {
                    // A gold query SQLite cannot prepare either is not the guard's fault.
                    let sqlite_verdict = match conn.prepare(gold) {
                        Ok(_) => "SQLite runs it".to_string(),
                        Err(e) => format!("SQLite refuses it too: {e}"),
                    };
                    rejections.push((
                        sqlite_verdict.starts_with("SQLite runs"),
                        format!("{}: {e} ({sqlite_verdict})\n    {gold}", record["id"]),
                    ));
                    continue;
                }
            };
            accepted += 1;
            let run = |sql: &str| -> Result<Vec<Vec<SqlValue>>, rusqlite::Error> {
                let mut stmt = conn.prepare(sql)?;
                let n = stmt.column_count();
                let rows = stmt.query_map([], |row| {
                    (0..n).map(|i| row.get::<_, SqlValue>(i)).collect()
                })?;
                rows.collect()
            };
            // The gold rows, cut as the limit cuts them: the first 5 (their order is the
            // engine's either way, so compare as written and limited by SQLite itself).
            let gold_limited = format!(
                "SELECT * FROM ({}) LIMIT 5",
                gold.trim().trim_end_matches(';')
            );
            match (run(&gold_limited), run(gold), run(validated.as_str())) {
                (Ok(a), _, Ok(b)) if a == b => same_rows += 1,
                (_, Ok(a), Ok(b)) if a.len() <= 5 && a == b => same_rows += 1,
                (_, Err(_), _) => gold_fails += 1,
                (_, a, b) => differences.push(format!(
                    "{}: {gold}\n    => {}\n    {:?} vs {:?}",
                    record["id"],
                    validated.as_str(),
                    a.map(|r| r.len()),
                    b.map(|r| r.len())
                )),
            }
        }
        for (_, r) in rejections.iter().take(40) {
            println!("REJECTED {r}");
        }
        let runnable_rejected = rejections.iter().filter(|(runnable, _)| *runnable).count();
        for d in differences.iter().take(40) {
            println!("DIFFERENT {d}");
        }
        println!(
            "spider-train (every {stride}): {accepted}/{total} gold queries accepted ({:.2}%); {same_rows} give the same rows after the guard, \
             {} differ, {gold_fails} accepted gold queries fail on SQLite themselves; \
             {runnable_rejected} of the {} rejected ones run on SQLite",
            100.0 * accepted as f64 / total as f64,
            differences.len(),
            rejections.len()
        );
        assert!(accepted as f64 >= 0.99 * total as f64);
        assert_eq!(
            runnable_rejected, 0,
            "the guard rejects gold queries SQLite can run"
        );
        assert!(differences.is_empty(), "{differences:#?}");
        true
    }

    /// A sample of about 300 of the 6,904 training queries, in every run.
    #[test]
    fn a_sample_of_spider_gold_queries_gives_the_same_rows_after_the_guard() {
        spider_gold_queries_keep_their_results(23);
    }

    /// The whole training set (`cargo test --lib spider -- --ignored --nocapture`).
    #[test]
    #[ignore = "slow (a few minutes): the whole Spider training set"]
    fn every_spider_gold_query_gives_the_same_rows_after_the_guard() {
        assert!(spider_gold_queries_keep_their_results(1));
    }
}
