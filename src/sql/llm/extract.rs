//! The SQL in a model's reply: inside a code fence, or between prose, possibly among several
//! statements. [`extract_sql`] finds it; it never decides what is safe — the guard does, on
//! whatever this returns.
//!
//! Several statements are split with sqlparser's tokenizer (so a `;` inside a string literal
//! does not split). When they are all queries the first is taken; when any is not a query the
//! whole text is returned, so that the guard rejects it and the attempt counts as failed:
//! a write in the reply is never quietly dropped into a "valid" answer.

use regex::Regex;
use sqlparser::ast::Statement;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use std::sync::OnceLock;

/// The SQL of `reply`, trimmed, or `None` when the reply holds no SQL at all.
pub fn extract_sql(reply: &str) -> Option<String> {
    let candidate = fenced(reply).or_else(|| unfenced(reply))?;
    let candidate = candidate.trim().trim_end_matches(';').trim().to_string();
    if candidate.is_empty() {
        return None;
    }
    Some(first_query(&candidate).unwrap_or(candidate))
}

/// The first fenced block (```sql, ```SQL, ``` alone) that looks like SQL.
fn fenced(reply: &str) -> Option<String> {
    static FENCE: OnceLock<Regex> = OnceLock::new();
    let re = FENCE.get_or_init(|| {
        Regex::new(r"(?s)```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n(.*?)```").expect("static regex")
    });
    let blocks: Vec<(String, String)> = re
        .captures_iter(reply)
        .map(|c| (c[1].to_ascii_lowercase(), c[2].to_string()))
        .collect();
    blocks
        .iter()
        .find(|(lang, _)| lang == "sql" || lang == "sqlite" || lang == "bigquery")
        .or_else(|| blocks.iter().find(|(_, body)| starts_like_sql(body)))
        .map(|(_, body)| body.clone())
}

/// SQL between prose: from a line that starts with a statement keyword (or, failing that, the
/// first upper-case `SELECT`/`WITH`) up to a blank line or the end.
fn unfenced(reply: &str) -> Option<String> {
    static LINE_START: OnceLock<Regex> = OnceLock::new();
    static ANYWHERE: OnceLock<Regex> = OnceLock::new();
    let line = LINE_START.get_or_init(|| {
        Regex::new(r"(?im)^[ \t]*(select|with|insert|update|delete|drop|create|alter|replace|pragma|attach)\b")
            .expect("static regex")
    });
    let anywhere = ANYWHERE.get_or_init(|| Regex::new(r"\b(SELECT|WITH)\b").expect("static regex"));
    let start = line
        .find(reply)
        .map(|m| m.start())
        .or_else(|| anywhere.find(reply).map(|m| m.start()))?;
    let rest = &reply[start..];
    let end = rest
        .find("\n\n")
        .or_else(|| rest.find("\r\n\r\n"))
        .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

fn starts_like_sql(body: &str) -> bool {
    let head: String = body
        .trim_start()
        .chars()
        .take(6)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("select") || head.starts_with("with")
}

/// With several statements that are all queries, the first one's text; `None` otherwise (one
/// statement, a parse error, or any statement that is not a query).
fn first_query(sql: &str) -> Option<String> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).ok()?;
    if statements.len() < 2 || !statements.iter().all(|s| matches!(s, Statement::Query(_))) {
        return None;
    }
    Some(statements[0].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sql_code_fence_is_taken_without_the_prose_around_it() {
        let reply =
            "Here is the query:\n```sql\nSELECT name FROM stores;\n```\nIt lists the stores.";
        assert_eq!(
            extract_sql(reply).as_deref(),
            Some("SELECT name FROM stores")
        );
    }

    #[test]
    fn a_fence_without_a_language_is_taken_when_it_holds_sql() {
        let reply = "```\nSELECT 1\n```";
        assert_eq!(extract_sql(reply).as_deref(), Some("SELECT 1"));
    }

    #[test]
    fn bare_sql_after_prose_ends_at_the_blank_line() {
        let reply = "Sure! The answer is:\nSELECT region, SUM(revenue)\nFROM sales GROUP BY region\n\nThis groups by region.";
        assert_eq!(
            extract_sql(reply).as_deref(),
            Some("SELECT region, SUM(revenue)\nFROM sales GROUP BY region")
        );
    }

    #[test]
    fn of_several_queries_the_first_is_taken() {
        let reply = "```sql\nSELECT a FROM t; SELECT 'x;y' FROM u;\n```";
        assert_eq!(extract_sql(reply).as_deref(), Some("SELECT a FROM t"));
    }

    #[test]
    fn a_write_among_queries_keeps_the_whole_text_for_the_guard_to_reject() {
        let reply = "```sql\nSELECT a FROM t; DROP TABLE t;\n```";
        assert_eq!(
            extract_sql(reply).as_deref(),
            Some("SELECT a FROM t; DROP TABLE t")
        );
    }

    #[test]
    fn a_lone_write_is_returned_as_written() {
        assert_eq!(
            extract_sql("DELETE FROM sales").as_deref(),
            Some("DELETE FROM sales")
        );
    }

    #[test]
    fn prose_without_sql_gives_nothing() {
        assert_eq!(extract_sql("I cannot answer that from this schema."), None);
    }
}
