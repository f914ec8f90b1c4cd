//! Dialects: everything that differs between SQLite and BigQuery Standard SQL, behind one trait.
//!
//! A warehouse says which [`Dialect`] it speaks; [`Dialect::sql`] (or [`for_dialect`]) gives
//! the [`SqlDialect`] that knows how that dialect is parsed, checked, quoted and written: the
//! guard parses with it and asks it which functions and table names are allowed; the pattern
//! engine's renderer (`pattern/ast.rs`), the follow-up rewriter (`refine.rs`) and the LLM's
//! prompt (`llm/prompt.rs`, `templates/prompts/sql.j2`) take their date literals, date parts,
//! time grains, text prefixes, set operators, `LIKE`, limits and prompt hint from it. [`for_dialect`] is the
//! one `match` on [`Dialect`]; no other module matches on it.
//!
//! # Adding a dialect (Postgres, DuckDB, ...)
//!
//! In the terms of DESIGN.md, a dialect is one trait impl plus a warehouse:
//!
//! 1. here: a variant of [`Dialect`], an `impl SqlDialect` (parser dialect, forbidden functions,
//!    table keys, quoting, date literals and parts, time grains, set operators, prompt hint) and
//!    its arm in [`for_dialect`]; the unit tests below show what each method must return;
//! 2. `src/warehouse/<name>.rs`: an `impl Warehouse` (run guarded SQL read-only within the time
//!    and row limits, introspect the schema, distinct values for the value index) whose
//!    `dialect()` returns the new variant;
//! 3. `src/engine/startup.rs`: a `Source` variant and its settings, so that start-up opens it.
//!
//! The guard, the generators, the pipeline and the server need no change.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlparser::ast::ObjectName;
use sqlparser::dialect::{BigQueryDialect, SQLiteDialect};

/// The SQL dialect a warehouse speaks (a tag; its rules are [`Dialect::sql`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// BigQuery Standard SQL.
    BigQuery,
}

impl Dialect {
    /// The rules of this dialect.
    pub fn sql(self) -> &'static dyn SqlDialect {
        for_dialect(self)
    }
}

/// The dialect rules for `dialect`: the one place that matches on [`Dialect`].
pub fn for_dialect(dialect: Dialect) -> &'static dyn SqlDialect {
    match dialect {
        Dialect::Sqlite => &SqliteSql,
        Dialect::BigQuery => &BigQuerySql,
    }
}

/// A part of a date, as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Year,
    Month,
}

/// A time grain: the length of the periods rows are grouped by ("by month", "per quarter").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeGrain {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
    Quarter,
    Year,
}

impl TimeGrain {
    /// Every grain, finest first.
    pub const ALL: [TimeGrain; 5] = [
        TimeGrain::Day,
        TimeGrain::Week,
        TimeGrain::Month,
        TimeGrain::Quarter,
        TimeGrain::Year,
    ];

    /// The grain named `name` (`day`, `week`, `month`, `quarter`, `year`), or `None`.
    pub fn parse(name: &str) -> Option<TimeGrain> {
        Self::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// The grain's name in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }
}

/// A set operation between two queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    Union,
    Intersect,
    Except,
}

/// What the guard and the generators need to know about one SQL dialect.
pub trait SqlDialect: Send + Sync {
    /// The name people know the dialect by ("SQLite", "BigQuery").
    fn name(&self) -> &'static str;

    /// The sqlparser dialect that parses this SQL.
    fn parser_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect>;

    /// Functions a query may not call (lower case): they read or write files, load code or
    /// reach outside the database, or tell the library's version and build. Checked wherever a function is called.
    fn forbidden_functions(&self) -> &'static [&'static str];

    /// Table-valued functions a query may read from in `FROM` (lower case); any other
    /// function in `FROM` is refused.
    fn allowed_table_functions(&self) -> &'static [&'static str];

    /// The name a relation is matched by against the known tables, or `None` when the
    /// qualifier points outside the served database.
    fn table_key(&self, name: &ObjectName) -> Option<String>;

    /// Quotes an identifier so that any name (spaces, keywords, quotes) is read as written.
    fn quote_identifier(&self, name: &str) -> String;

    /// A date literal (`'2024-07-01'` where dates are ISO text, `DATE '2024-07-01'`).
    fn date_literal(&self, date: NaiveDate) -> String;

    /// The year or month of the date expression `expr`, as an integer.
    fn date_part(&self, part: DatePart, expr: &str) -> String;

    /// A text label of the period of `expr` at `grain` that sorts in time order (`2024-07`,
    /// `2024-Q3`, `2024-W27`); the day grain is the date itself.
    fn period_label(&self, grain: TimeGrain, expr: &str) -> String;

    /// The first day of the period of `expr` at `grain`, as a date of the dialect (the
    /// semantic layer groups and joins on it); weeks start on Monday.
    fn truncate_to_grain(&self, grain: TimeGrain, expr: &str) -> String;

    /// `expr` (a date, or ISO-8601 date text) as a value the dialect compares with
    /// [`Self::date_literal`]s: SQLite compares the text as is, BigQuery casts with `DATE()`.
    fn as_date(&self, expr: &str) -> String;

    /// The label of the period of `grain` holding the date `expr`, as the semantic layer shows
    /// it, sortable as text: `2024-03-04` (day; week: its Monday), `2024-03`, `2024-Q1`, `2024`.
    fn bucket_label(&self, grain: TimeGrain, expr: &str) -> String;

    /// The median of `expr` as an aggregate, or `None` when the dialect has none (SQLite).
    fn median(&self, expr: &str) -> Option<String>;

    /// The quarter of the date `expr` within its year, `Q1`..`Q4` (for periods of one year).
    fn quarter_label(&self, expr: &str) -> String;

    /// The month of the date `expr` within its year, `01`..`12` (for whole years compared).
    fn month_label(&self, expr: &str) -> String;

    /// The first `chars` characters of the text `expr` (the year of a `YYYY-MM` text column).
    fn text_prefix(&self, expr: &str, chars: u32) -> String;

    /// The keyword of a set operation with distinct rows (`UNION`, `UNION DISTINCT`).
    fn set_operator(&self, op: SetOperator) -> &'static str;

    /// True when a set operation's operand with its own `ORDER BY` or `LIMIT` must be
    /// parenthesised.
    fn parenthesize_ordered_set_operands(&self) -> bool;

    /// True when the dialect's `LIKE` ignores the case of ASCII letters.
    fn like_ignores_case(&self) -> bool;

    /// `expr [NOT] LIKE 'pattern'` with the dialect's own case rule ([`Self::like_ignores_case`]);
    /// `pattern` is the raw pattern, escaped here.
    fn like(&self, expr: &str, pattern: &str, negated: bool) -> String {
        format!(
            "{expr} {}LIKE {}",
            if negated { "NOT " } else { "" },
            string_literal(pattern)
        )
    }

    /// `expr [NOT] LIKE 'pattern'` ignoring case in every dialect (Postgres' `ILIKE`).
    fn ilike(&self, expr: &str, pattern: &str, negated: bool) -> String {
        if self.like_ignores_case() {
            self.like(expr, pattern, negated)
        } else {
            self.like(&format!("LOWER({expr})"), &pattern.to_lowercase(), negated)
        }
    }

    /// The clause that keeps the first `n` rows.
    fn limit_clause(&self, n: u64) -> String {
        format!("LIMIT {n}")
    }

    /// One line for the LLM's prompt on how dates are written in this dialect.
    fn prompt_hint(&self) -> &'static str;
}

/// A string literal with its quotes doubled (`'O''Hare'`), valid in every dialect here.
pub fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The unquoted parts of a dotted name (`main."Orders"` gives `["main", "Orders"]`), or `None`
/// when a part is computed (Snowflake's `IDENTIFIER(...)`).
fn name_parts(name: &ObjectName) -> Option<Vec<String>> {
    name.0
        .iter()
        .map(|part| part.as_ident().map(|ident| ident.value.clone()))
        .collect()
}

/// SQLite 3 (<https://www.sqlite.org/lang.html>).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteSql;

impl SqlDialect for SqliteSql {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn parser_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(SQLiteDialect {})
    }

    fn forbidden_functions(&self) -> &'static [&'static str] {
        // - load_extension: loads a shared library into the process
        //   (https://www.sqlite.org/lang_corefunc.html#load_extension);
        // - readfile, writefile, edit, fsdir, lsmode: the CLI's file I/O functions
        //   (https://www.sqlite.org/cli.html#file_i_o_functions, ext/misc/fileio.c);
        // - fts3_tokenizer: registers a tokenizer by pointer, "a security risk"
        //   (https://www.sqlite.org/fts3.html#f3tknzr, SQLITE_ENABLE_FTS3_TOKENIZER);
        // - zipfile, sqlar_compress, sqlar_uncompress: archive access from the CLI
        //   (https://www.sqlite.org/zipfile.html, https://www.sqlite.org/sqlar.html);
        // - sqlite_dbpage, sqlite_dbdata: raw page access (https://www.sqlite.org/dbpage.html);
        // - shell_*: the CLI's helper functions (src/shell.c.in);
        // - sqlite_version, sqlite_source_id, sqlite_compileoption_get/_used: the library's
        //   version and build options, which tell an attacker what the server runs.
        &[
            "load_extension",
            "readfile",
            "writefile",
            "edit",
            "fsdir",
            "lsmode",
            "fts3_tokenizer",
            "zipfile",
            "zipfile_cds",
            "sqlar_compress",
            "sqlar_uncompress",
            "sqlite_dbpage",
            "sqlite_dbdata",
            "sqlite_dbptr",
            "shell_add_schema",
            "shell_escape_crnl",
            "shell_idquote",
            "shell_int32",
            "shell_module_schema",
            "shell_putsnl",
            "sqlite_version",
            "sqlite_source_id",
            "sqlite_compileoption_get",
            "sqlite_compileoption_used",
        ]
    }

    fn allowed_table_functions(&self) -> &'static [&'static str] {
        // The JSON table-valued functions only read their argument
        // (https://www.sqlite.org/json1.html#jeach).
        &["json_each", "json_tree"]
    }

    fn table_key(&self, name: &ObjectName) -> Option<String> {
        let parts = name_parts(name)?;
        match parts.as_slice() {
            [table] => Some(table.clone()),
            // `main` is the served database itself (https://www.sqlite.org/lang_naming.html);
            // `temp` and attached databases are not served.
            [schema, table] if schema.eq_ignore_ascii_case("main") => Some(table.clone()),
            _ => None,
        }
    }

    fn quote_identifier(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    fn date_literal(&self, date: NaiveDate) -> String {
        // SQLite has no date type: dates are ISO-8601 text, which compares in time order
        // (https://www.sqlite.org/lang_datefunc.html).
        format!("'{}'", date.format("%Y-%m-%d"))
    }

    fn date_part(&self, part: DatePart, expr: &str) -> String {
        match part {
            DatePart::Year => format!("CAST(strftime('%Y', {expr}) AS INTEGER)"),
            DatePart::Month => format!("CAST(strftime('%m', {expr}) AS INTEGER)"),
        }
    }

    fn period_label(&self, grain: TimeGrain, expr: &str) -> String {
        match grain {
            TimeGrain::Day => expr.to_string(),
            // %W: the week of the year, Monday first, 00-53.
            TimeGrain::Week => format!("strftime('%Y-W%W', {expr})"),
            TimeGrain::Month => format!("strftime('%Y-%m', {expr})"),
            TimeGrain::Quarter => format!(
                "strftime('%Y', {expr}) || '-Q' || ((CAST(strftime('%m', {expr}) AS INTEGER) + 2) / 3)"
            ),
            TimeGrain::Year => format!("strftime('%Y', {expr})"),
        }
    }

    fn truncate_to_grain(&self, grain: TimeGrain, expr: &str) -> String {
        // Date modifiers: https://www.sqlite.org/lang_datefunc.html#modifiers
        match grain {
            TimeGrain::Day => format!("date({expr})"),
            // 'weekday 0' moves on to the next Sunday (or stays on one); six days back is Monday.
            TimeGrain::Week => format!("date({expr}, 'weekday 0', '-6 days')"),
            TimeGrain::Month => format!("date({expr}, 'start of month')"),
            TimeGrain::Quarter => format!(
                "date({expr}, 'start of month', '-' || ((CAST(strftime('%m', {expr}) AS INTEGER) - 1) % 3) || ' months')"
            ),
            TimeGrain::Year => format!("date({expr}, 'start of year')"),
        }
    }

    fn as_date(&self, expr: &str) -> String {
        expr.to_string()
    }

    fn bucket_label(&self, grain: TimeGrain, expr: &str) -> String {
        // month, quarter and year are prefixes of ISO-8601 text: `substr` reads them at about
        // two thirds of `strftime`'s cost per row (a year of 242k weekly sales: 130 vs 190 ms)
        match grain {
            TimeGrain::Day => format!("date({expr})"),
            // the Monday on or before the date
            TimeGrain::Week => format!("date({expr}, '-6 days', 'weekday 1')"),
            TimeGrain::Month => format!("substr({expr}, 1, 7)"),
            TimeGrain::Quarter => format!(
                "substr({expr}, 1, 4) || '-Q' || ((CAST(substr({expr}, 6, 2) AS INTEGER) + 2) / 3)"
            ),
            TimeGrain::Year => format!("substr({expr}, 1, 4)"),
        }
    }

    fn median(&self, _expr: &str) -> Option<String> {
        None
    }

    fn quarter_label(&self, expr: &str) -> String {
        format!("'Q' || ((CAST(substr({expr}, 6, 2) AS INTEGER) + 2) / 3)")
    }

    fn month_label(&self, expr: &str) -> String {
        format!("substr({expr}, 6, 2)")
    }

    fn text_prefix(&self, expr: &str, chars: u32) -> String {
        format!("substr({expr}, 1, {chars})")
    }

    fn set_operator(&self, op: SetOperator) -> &'static str {
        match op {
            SetOperator::Union => "UNION",
            SetOperator::Intersect => "INTERSECT",
            SetOperator::Except => "EXCEPT",
        }
    }

    fn parenthesize_ordered_set_operands(&self) -> bool {
        false
    }

    fn like_ignores_case(&self) -> bool {
        // "case-insensitive for ASCII characters by default" (https://www.sqlite.org/lang_expr.html#like)
        true
    }

    fn prompt_hint(&self) -> &'static str {
        "SQLite: dates are TEXT 'YYYY-MM-DD'; use strftime('%Y', col) for years and strftime('%Y-%m', col) for months."
    }
}

/// BigQuery Standard SQL (<https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax>).
#[derive(Debug, Clone, Copy, Default)]
pub struct BigQuerySql;

impl SqlDialect for BigQuerySql {
    fn name(&self) -> &'static str {
        "BigQuery"
    }

    fn parser_dialect(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(BigQueryDialect {})
    }

    fn forbidden_functions(&self) -> &'static [&'static str] {
        // EXTERNAL_QUERY runs a query in an external database
        // (https://cloud.google.com/bigquery/docs/reference/standard-sql/federated_query_functions).
        &["external_query"]
    }

    fn allowed_table_functions(&self) -> &'static [&'static str] {
        &[]
    }

    fn table_key(&self, name: &ObjectName) -> Option<String> {
        // `project.dataset.table` may be written as one quoted identifier or as parts; both
        // give the same dotted key, matched exactly against the known tables.
        Some(name_parts(name)?.join("."))
    }

    fn quote_identifier(&self, name: &str) -> String {
        // https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#quoted_identifiers
        format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
    }

    fn date_literal(&self, date: NaiveDate) -> String {
        format!("DATE '{}'", date.format("%Y-%m-%d"))
    }

    fn date_part(&self, part: DatePart, expr: &str) -> String {
        match part {
            DatePart::Year => format!("EXTRACT(YEAR FROM {expr})"),
            DatePart::Month => format!("EXTRACT(MONTH FROM {expr})"),
        }
    }

    fn period_label(&self, grain: TimeGrain, expr: &str) -> String {
        // https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements
        match grain {
            TimeGrain::Day => expr.to_string(),
            TimeGrain::Week => format!("FORMAT_DATE('%G-W%V', {expr})"),
            TimeGrain::Month => format!("FORMAT_DATE('%Y-%m', {expr})"),
            TimeGrain::Quarter => format!("FORMAT_DATE('%Y-Q%Q', {expr})"),
            TimeGrain::Year => format!("FORMAT_DATE('%Y', {expr})"),
        }
    }

    fn truncate_to_grain(&self, grain: TimeGrain, expr: &str) -> String {
        // https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_trunc
        let part = match grain {
            TimeGrain::Day => "DAY",
            TimeGrain::Week => "ISOWEEK",
            TimeGrain::Month => "MONTH",
            TimeGrain::Quarter => "QUARTER",
            TimeGrain::Year => "YEAR",
        };
        format!("DATE_TRUNC({expr}, {part})")
    }

    fn as_date(&self, expr: &str) -> String {
        format!("DATE({expr})")
    }

    fn bucket_label(&self, grain: TimeGrain, expr: &str) -> String {
        match grain {
            TimeGrain::Day => format!("FORMAT_DATE('%Y-%m-%d', DATE({expr}))"),
            TimeGrain::Week => {
                format!("FORMAT_DATE('%Y-%m-%d', DATE_TRUNC(DATE({expr}), WEEK(MONDAY)))")
            }
            TimeGrain::Month => format!("FORMAT_DATE('%Y-%m', DATE({expr}))"),
            TimeGrain::Quarter => format!("FORMAT_DATE('%Y-Q%Q', DATE({expr}))"),
            TimeGrain::Year => format!("FORMAT_DATE('%Y', DATE({expr}))"),
        }
    }

    fn median(&self, expr: &str) -> Option<String> {
        Some(format!("APPROX_QUANTILES({expr}, 2)[OFFSET(1)]"))
    }

    fn quarter_label(&self, expr: &str) -> String {
        format!("FORMAT_DATE('Q%Q', DATE({expr}))")
    }

    fn month_label(&self, expr: &str) -> String {
        format!("FORMAT_DATE('%m', DATE({expr}))")
    }

    fn text_prefix(&self, expr: &str, chars: u32) -> String {
        format!("SUBSTR({expr}, 1, {chars})")
    }

    fn set_operator(&self, op: SetOperator) -> &'static str {
        // BigQuery wants the set quantifier spelled out.
        match op {
            SetOperator::Union => "UNION DISTINCT",
            SetOperator::Intersect => "INTERSECT DISTINCT",
            SetOperator::Except => "EXCEPT DISTINCT",
        }
    }

    fn parenthesize_ordered_set_operands(&self) -> bool {
        true
    }

    fn like_ignores_case(&self) -> bool {
        false
    }

    fn prompt_hint(&self) -> &'static str {
        "BigQuery Standard SQL: use EXTRACT(YEAR FROM col) and FORMAT_DATE('%Y-%m', col)."
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::{Ident, ObjectName};

    fn sqlite_value(sql_expr: &str) -> String {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.query_row(&format!("SELECT {sql_expr}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn sqlite_truncates_dates_to_the_first_day_of_their_period() {
        let d = Dialect::Sqlite.sql();
        // 2024-08-15 is a Thursday of the third quarter.
        let want = [
            (TimeGrain::Day, "2024-08-15"),
            (TimeGrain::Week, "2024-08-12"),
            (TimeGrain::Month, "2024-08-01"),
            (TimeGrain::Quarter, "2024-07-01"),
            (TimeGrain::Year, "2024-01-01"),
        ];
        for (grain, first_day) in want {
            let sql = d.truncate_to_grain(grain, "'2024-08-15'");
            assert_eq!(sqlite_value(&sql), first_day, "{grain:?}: {sql}");
        }
        // A Monday and a Sunday stay in their own week.
        assert_eq!(
            sqlite_value(&d.truncate_to_grain(TimeGrain::Week, "'2024-08-12'")),
            "2024-08-12"
        );
        assert_eq!(
            sqlite_value(&d.truncate_to_grain(TimeGrain::Week, "'2024-08-18'")),
            "2024-08-12"
        );
        assert_eq!(
            sqlite_value(&d.truncate_to_grain(TimeGrain::Quarter, "'2024-12-31'")),
            "2024-10-01"
        );
    }

    #[test]
    fn sqlite_period_labels_sort_in_time_order() {
        let d = Dialect::Sqlite.sql();
        assert_eq!(
            sqlite_value(&d.period_label(TimeGrain::Quarter, "'2024-08-15'")),
            "2024-Q3"
        );
        assert_eq!(
            sqlite_value(&d.period_label(TimeGrain::Month, "'2024-08-15'")),
            "2024-08"
        );
        assert_eq!(d.period_label(TimeGrain::Day, "d"), "d");
    }

    #[test]
    fn bigquery_truncates_with_date_trunc_and_iso_weeks() {
        let d = Dialect::BigQuery.sql();
        assert_eq!(
            d.truncate_to_grain(TimeGrain::Week, "d"),
            "DATE_TRUNC(d, ISOWEEK)"
        );
        assert_eq!(
            d.period_label(TimeGrain::Quarter, "d"),
            "FORMAT_DATE('%Y-Q%Q', d)"
        );
    }

    #[test]
    fn time_grains_parse_from_their_names() {
        for g in TimeGrain::ALL {
            assert_eq!(TimeGrain::parse(g.as_str()), Some(g));
        }
        assert_eq!(TimeGrain::parse("fortnight"), None);
    }

    #[test]
    fn ilike_ignores_case_in_both_dialects() {
        assert_eq!(
            Dialect::Sqlite.sql().ilike("name", "%Bo'b%", false),
            "name LIKE '%Bo''b%'"
        );
        assert_eq!(
            Dialect::BigQuery.sql().ilike("name", "%Bob%", true),
            "LOWER(name) NOT LIKE '%bob%'"
        );
        // SQLite's LIKE already ignores ASCII case.
        assert_eq!(
            sqlite_value("CASE WHEN 'ABC' LIKE 'abc' THEN 'yes' ELSE 'no' END"),
            "yes"
        );
    }

    #[test]
    fn set_operators_and_prompt_hints_follow_the_dialect() {
        assert_eq!(
            Dialect::Sqlite.sql().set_operator(SetOperator::Except),
            "EXCEPT"
        );
        assert_eq!(
            Dialect::BigQuery.sql().set_operator(SetOperator::Union),
            "UNION DISTINCT"
        );
        assert!(Dialect::Sqlite.sql().prompt_hint().contains("strftime"));
        assert!(Dialect::BigQuery
            .sql()
            .prompt_hint()
            .contains("FORMAT_DATE"));
        assert_eq!(
            Dialect::BigQuery
                .sql()
                .date_literal(NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()),
            "DATE '2024-07-01'"
        );
    }

    fn object_name(parts: &[&str]) -> ObjectName {
        ObjectName::from(parts.iter().map(|p| Ident::new(*p)).collect::<Vec<_>>())
    }

    #[test]
    fn a_text_prefix_is_written_by_the_dialect_and_runs_on_sqlite() {
        let sqlite = Dialect::Sqlite.sql().text_prefix("'2024-03'", 4);
        assert_eq!(sqlite, "substr('2024-03', 1, 4)");
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let year: String = conn
            .query_row(&format!("SELECT {sqlite}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(year, "2024");
        assert_eq!(
            Dialect::BigQuery.sql().text_prefix("month", 4),
            "SUBSTR(month, 1, 4)"
        );
    }

    #[test]
    fn sqlite_accepts_the_main_schema_and_refuses_attached_ones() {
        let d = for_dialect(Dialect::Sqlite);
        assert_eq!(
            d.table_key(&object_name(&["orders"])),
            Some("orders".into())
        );
        assert_eq!(
            d.table_key(&object_name(&["MAIN", "orders"])),
            Some("orders".into())
        );
        assert_eq!(d.table_key(&object_name(&["other", "orders"])), None);
    }

    #[test]
    fn bigquery_keys_are_dotted_names() {
        let d = for_dialect(Dialect::BigQuery);
        assert_eq!(
            d.table_key(&object_name(&["ds", "orders"])),
            Some("ds.orders".into())
        );
        assert_eq!(
            d.table_key(&object_name(&["p.ds.orders"])),
            Some("p.ds.orders".into())
        );
    }

    #[test]
    fn identifiers_are_quoted_with_their_quotes_escaped() {
        assert_eq!(
            for_dialect(Dialect::Sqlite).quote_identifier("a \"b\""),
            "\"a \"\"b\"\"\""
        );
        assert_eq!(
            for_dialect(Dialect::BigQuery).quote_identifier("a`b"),
            "`a\\`b`"
        );
    }
}
