//! What a question may hold that the engine cannot read as a question about data (harden,
//! #13): SQL written into it (comment markers, statement separators, quote tricks, always-true
//! comparisons, SQL statements), numbers too large to compare exactly, and requests to change
//! data. Such a question is refused ([`unreadable`]) instead of being read word by word into a
//! query that means something else.

use regex::Regex;
use std::sync::OnceLock;

/// Verbs that ask to change data; a question that opens with one (after "please", "can you",
/// ...) asks for a write, which querent never does.
const WRITE_VERBS: &[&str] = &[
    "delete",
    "drop",
    "insert",
    "update",
    "truncate",
    "alter",
    "remove",
    "erase",
    "wipe",
    "modify",
    "overwrite",
    "grant",
    "revoke",
    "rename",
    "destroy",
    "purge",
];

/// Politeness and framing words that may come before the verb.
const LEAD_INS: &[&str] = &[
    "please", "can", "could", "would", "will", "you", "i", "we", "want", "to", "need", "lets",
    "let's", "let", "us", "go", "ahead", "and", "now", "just", "kindly",
];

/// The most digits a number may have and still be compared exactly (i64 has 19, f64 keeps
/// 15 to 17 significant ones).
const MAX_DIGITS: usize = 18;

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"--|/\*|\*/", "it contains an SQL comment marker"),
            (r";\s*\S", "it contains a statement separator (;)"),
            (r"''|\x22\x22", "it contains an empty quoted string"),
            (
                r"(?i)\b(or|and)\s+'?(\w+)'?\s*=\s*'?(\w+)'?",
                "TAUTOLOGY",
            ),
            (
                r"(?i)\b(union\s+(all\s+)?select|select\s+.+\s+from|insert\s+into|delete\s+from|update\s+\S+\s+set|drop\s+(table|view|index|database)|alter\s+table|truncate\s+table|create\s+(table|view|index|trigger)|attach\s+database|detach\s+database|pragma\s+\w+|load_extension|readfile|writefile|exec(ute)?\s*\()",
                "it contains an SQL statement",
            ),
        ]
        .into_iter()
        .map(|(p, why)| (Regex::new(p).expect("valid pattern"), why))
        .collect()
    })
}

/// Why the engine cannot read `question` as a question about data, with the part that shows
/// it; `None` for an ordinary question.
pub fn unreadable(question: &str) -> Option<(String, String)> {
    for (pattern, why) in patterns() {
        let Some(captures) = pattern.captures(question) else {
            continue;
        };
        let found = captures[0].trim().to_string();
        if *why == "TAUTOLOGY" {
            // `or 1 = 1`, `and 'a' = 'a'`: both sides the same word.
            if captures[2].eq_ignore_ascii_case(&captures[3]) {
                return Some((
                    "it contains a comparison that is always true (SQL, not a question)".into(),
                    found,
                ));
            }
            continue;
        }
        return Some((why.to_string(), found));
    }
    static DIGITS: OnceLock<Regex> = OnceLock::new();
    let digits = DIGITS.get_or_init(|| Regex::new(r"\d+").expect("valid pattern"));
    if let Some(m) = digits
        .find_iter(question)
        .find(|m| m.as_str().trim_start_matches('0').len() > MAX_DIGITS)
    {
        return Some((
            format!("the number {} is too large to compare exactly", m.as_str()),
            m.as_str().to_string(),
        ));
    }
    let words: Vec<String> = question
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let first = words.iter().find(|w| !LEAD_INS.contains(&w.as_str()))?;
    if WRITE_VERBS.contains(&first.as_str()) {
        return Some((
            format!("it asks to {first} data; querent only reads data"),
            first.clone(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_written_into_a_question_is_refused() {
        for q in [
            "stores where name = '' OR 1=1 --",
            "show products; drop table products",
            "products /* hidden */ by price",
            "stores with city = 'x' or 'a'='a'",
            "list stores UNION SELECT * FROM sqlite_master",
            "DROP TABLE stores",
            "what is load_extension('x')",
            "sales where 1=1 or 2=2",
        ] {
            assert!(unreadable(q).is_some(), "{q}");
        }
    }

    #[test]
    fn numbers_beyond_exact_comparison_are_refused() {
        let (why, part) = unreadable("products with price < -9223372036854775809").unwrap();
        assert!(why.contains("too large"), "{why}");
        assert_eq!(part, "9223372036854775809");
        assert!(unreadable("products with price over 123456789012345").is_none());
    }

    #[test]
    fn requests_to_change_data_are_refused() {
        for q in [
            "delete all stores",
            "Please remove the products in frozen food",
            "can you update the prices",
            "let's drop the sales",
            "Truncate sales",
        ] {
            let (why, _) = unreadable(q).unwrap_or_else(|| panic!("{q}"));
            assert!(why.contains("only reads data"), "{q}: {why}");
        }
    }

    #[test]
    fn ordinary_questions_pass() {
        for q in [
            "Show me the top 10 items by elasticity in frozen food",
            "How many stores are in each state?",
            "revenue by month in 2023 and 2024",
            "which products were never sold",
            "stores with more than 5 employees or less than 2",
            "What's the average price of items that aren't frozen?",
            "updates per month",
            "products where the name contains 'ice'",
            "sales where units = 3 and revenue > 10",
            "Stores in the O'Hare area",
        ] {
            assert_eq!(unreadable(q), None, "{q}");
        }
    }
}
