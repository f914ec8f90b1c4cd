//! Dialects: everything that differs between SQLite and BigQuery Standard SQL, behind one trait.
//!
//! The guard and the generators ask [`for_dialect`] for a [`SqlDialect`] and call its methods;
//! no other module matches on [`Dialect`] to decide how SQL is parsed, checked or quoted.

use sqlparser::ast::ObjectName;
use sqlparser::dialect::{BigQueryDialect, SQLiteDialect};

use crate::warehouse::Dialect;

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
}

/// The dialect rules for `dialect`.
pub fn for_dialect(dialect: Dialect) -> &'static dyn SqlDialect {
    match dialect {
        Dialect::Sqlite => &SqliteSql,
        Dialect::BigQuery => &BigQuerySql,
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::{Ident, ObjectName};

    fn object_name(parts: &[&str]) -> ObjectName {
        ObjectName::from(parts.iter().map(|p| Ident::new(*p)).collect::<Vec<_>>())
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
