//! Tokenisation and word forms: the question cut into words, numbers, dates, quoted strings and
//! punctuation, each with its lower-case form and its stem.
//!
//! Stems come from the Snowball English stemmer (Porter 2, <https://snowballstem.org/>), after a
//! short table of irregular plurals; [`stem`] and [`split_identifier`] are shared with schema
//! linking so that question words and schema names are normalised the same way.

use std::sync::OnceLock;

use qdrant_rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Letters (and digits inside a word, like `Q3`).
    Word,
    /// A number as digits (`56`, `1,200`, `3.5`).
    Number,
    /// An ISO date (`2024-03-15`).
    Date,
    /// A string between quotes, quotes removed (`'Alabama'` -> `Alabama`).
    Quoted,
    /// Punctuation kept for structure (`,`, `?`, `(`, ...).
    Punct,
}

/// One token of the question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Token {
    /// The text as written (for a quoted string, without the quotes).
    pub text: String,
    /// Lower-case text.
    pub lower: String,
    /// Stem of the lower-case text (equal to `lower` for numbers, dates, quoted strings).
    pub stem: String,
    pub kind: TokenKind,
    /// Byte offsets of the token in the question, `[start, end)` (quotes included for quoted strings).
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// True for a word token.
    pub fn is_word(&self) -> bool {
        self.kind == TokenKind::Word
    }
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '\'' | '"' | '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}' | '`'
    )
}

fn closing_quote_for(c: char) -> &'static [char] {
    match c {
        '\u{2018}' | '\u{2019}' => &['\u{2019}', '\u{2018}', '\''],
        '\u{201C}' | '\u{201D}' => &['\u{201D}', '\u{201C}', '"'],
        '"' => &['"', '\u{201D}'],
        '`' => &['`'],
        _ => &['\'', '\u{2019}'],
    }
}

/// Cuts a question into tokens.
///
/// A quote opens a quoted string only after a non-alphanumeric character and when a matching
/// closing quote follows before the end (so `department's` stays one word). Hyphens split words
/// (`top-5` -> `top`, `5`) except inside ISO dates; commas inside digit groups (`1,200`) belong to
/// the number.
pub fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let end_of = |i: usize| if i < n { chars[i].0 } else { text.len() };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < n {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if is_quote(c) && (i == 0 || !chars[i - 1].1.is_alphanumeric()) {
            let closers = closing_quote_for(c);
            let close = (i + 1..n).find(|&j| {
                closers.contains(&chars[j].1) && (j + 1 == n || !chars[j + 1].1.is_alphanumeric())
            });
            if let Some(j) = close {
                if j > i + 1 {
                    let inner = text[end_of(i + 1)..chars[j].0].trim().to_string();
                    if !inner.is_empty() {
                        let lower = inner.to_lowercase();
                        tokens.push(Token {
                            text: inner,
                            stem: lower.clone(),
                            lower,
                            kind: TokenKind::Quoted,
                            start,
                            end: end_of(j + 1),
                        });
                    }
                    i = j + 1;
                    continue;
                }
            }
            i += 1;
            continue;
        }
        // a minus sign: "-" right before a digit, after a space, the start or a bracket
        // ("an elasticity below -2"); a hyphen between two numbers ("2023-2024") is not one
        let signed = c == '-'
            && i + 1 < n
            && chars[i + 1].1.is_ascii_digit()
            && (i == 0 || chars[i - 1].1.is_whitespace() || matches!(chars[i - 1].1, '(' | '='));
        if c.is_ascii_digit() || signed {
            let mut j = if signed { i + 1 } else { i };
            // ISO date: dddd-dd-dd
            let rest: String = chars[i..n.min(i + 10)].iter().map(|&(_, c)| c).collect();
            if is_iso_date(&rest) && (i + 10 == n || !chars[i + 10].1.is_alphanumeric()) {
                tokens.push(Token {
                    text: rest.clone(),
                    lower: rest.clone(),
                    stem: rest,
                    kind: TokenKind::Date,
                    start,
                    end: end_of(i + 10),
                });
                i += 10;
                continue;
            }
            while j < n {
                let cj = chars[j].1;
                let next_digit = j + 1 < n && chars[j + 1].1.is_ascii_digit();
                if cj.is_ascii_digit() || ((cj == '.' || cj == ',') && next_digit && j > i) {
                    // "1,200" groups of three digits only; "3.5" decimals
                    if cj == ',' {
                        let group = (j + 1..n.min(j + 4)).all(|k| chars[k].1.is_ascii_digit());
                        let group_end = j + 4 >= n || !chars[j + 4].1.is_ascii_digit();
                        if !(group && group_end && j + 3 < n) {
                            break;
                        }
                    }
                    j += 1;
                } else {
                    break;
                }
            }
            // digits followed by letters ("3rd", "10k", "2nd") stay one word
            if j < n && chars[j].1.is_alphabetic() {
                let mut k = j;
                while k < n && chars[k].1.is_alphanumeric() {
                    k += 1;
                }
                let word = &text[start..end_of(k)];
                tokens.push(word_token(word, start, end_of(k)));
                i = k;
                continue;
            }
            let word = &text[start..end_of(j)];
            tokens.push(Token {
                text: word.to_string(),
                lower: word.replace(',', ""),
                stem: word.replace(',', ""),
                kind: TokenKind::Number,
                start,
                end: end_of(j),
            });
            i = j;
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            let mut j = i;
            while j < n {
                let cj = chars[j].1;
                let inner_apostrophe = (cj == '\'' || cj == '\u{2019}')
                    && j + 1 < n
                    && chars[j + 1].1.is_alphabetic()
                    && j > i;
                let inner_dot = cj == '.'
                    && j + 1 < n
                    && chars[j + 1].1.is_alphabetic()
                    && j > i
                    && j + 2 < n
                    && chars[j + 2].1 == '.';
                if cj.is_alphanumeric() || cj == '_' || inner_apostrophe || inner_dot {
                    j += 1;
                } else {
                    break;
                }
            }
            let word = &text[start..end_of(j)];
            // "w/" and "w/o" are "with" and "without"
            if word.eq_ignore_ascii_case("w") && j < n && chars[j].1 == '/' {
                let ends = |k: usize| k >= n || !chars[k].1.is_alphanumeric();
                let without = j + 1 < n && chars[j + 1].1.eq_ignore_ascii_case(&'o') && ends(j + 2);
                if without || ends(j + 1) {
                    let (word, end) = if without {
                        ("without", j + 2)
                    } else {
                        ("with", j + 1)
                    };
                    tokens.push(word_token(word, start, end_of(end)));
                    i = end;
                    continue;
                }
            }
            tokens.push(word_token(word, start, end_of(j)));
            i = j;
            continue;
        }
        if c == '-' || c == '\u{2013}' || c == '\u{2014}' {
            // a dash between spaces reads as "to" in ranges; keep it as punctuation
            tokens.push(Token {
                text: c.to_string(),
                lower: "-".into(),
                stem: "-".into(),
                kind: TokenKind::Punct,
                start,
                end: end_of(i + 1),
            });
            i += 1;
            continue;
        }
        // "# of customers": the sign read as the word "number"
        if c == '#' {
            let rest: String = chars[i + 1..n.min(i + 5)].iter().map(|&(_, c)| c).collect();
            let rest = rest.trim_start().to_lowercase();
            if rest.starts_with("of") && !rest[2..].starts_with(|c: char| c.is_alphanumeric()) {
                tokens.push(word_token("number", start, end_of(i + 1)));
                i += 1;
                continue;
            }
        }
        if matches!(c, '$' | '\u{20AC}' | '\u{00A3}' | '\u{00A5}') {
            // currency symbols say nothing the number does not
            i += 1;
            continue;
        }
        let s = c.to_string();
        tokens.push(Token {
            text: s.clone(),
            lower: s.clone(),
            stem: s,
            kind: TokenKind::Punct,
            start,
            end: end_of(i + 1),
        });
        i += 1;
    }
    tokens
}

fn word_token(word: &str, start: usize, end: usize) -> Token {
    let lower = word.to_lowercase().replace('\u{2019}', "'");
    Token {
        text: word.to_string(),
        stem: stem(&lower),
        lower,
        kind: TokenKind::Word,
        start,
        end,
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Irregular plurals the stemmer does not fold.
const IRREGULAR: &[(&str, &str)] = &[
    ("people", "person"),
    ("persons", "person"),
    ("children", "child"),
    ("men", "man"),
    ("women", "woman"),
    ("feet", "foot"),
    ("teeth", "tooth"),
    ("mice", "mouse"),
    ("geese", "goose"),
    ("criteria", "criterion"),
    ("indices", "index"),
    ("analyses", "analysis"),
    ("staff", "staff"),
    ("media", "medium"),
];

/// Clipped forms business users type for whole words ("GM% by dept", "qty sold"): they stem as
/// the whole word. Only clippings with no other common meaning.
const CLIPPINGS: &[(&str, &str)] = &[
    ("dept", "department"),
    ("depts", "department"),
    ("qty", "quantity"),
    ("qtys", "quantity"),
    ("amt", "amount"),
    ("avg", "average"),
    ("mgr", "manager"),
    ("mgrs", "manager"),
    ("cust", "customer"),
    ("custs", "customer"),
    ("yr", "year"),
    ("yrs", "year"),
    ("acct", "account"),
    ("accts", "account"),
    ("qtr", "quarter"),
    ("qtrs", "quarter"),
    ("mos", "month"),
    ("mth", "month"),
    ("mths", "month"),
    ("wk", "week"),
    ("wks", "week"),
    ("rev", "revenue"),
    ("txn", "transaction"),
    ("txns", "transaction"),
    ("emp", "employee"),
    ("emps", "employee"),
    ("sq", "square"),
    ("ft", "foot"),
];

/// Whether a lower-case word is a clipping business users type for a whole word ("qty",
/// "yr", "rev"; [`CLIPPINGS`]).
pub fn is_clipping(lower: &str) -> bool {
    CLIPPINGS.iter().any(|(c, _)| *c == lower)
}

/// The stem of a lower-case word: possessive removed, irregular plurals and clippings
/// ([`CLIPPINGS`]) folded, then Snowball English (`departments` -> `depart`, `dept` -> `depart`,
/// `cities` -> `citi`, `ranking` -> `rank`).
pub fn stem(lower: &str) -> String {
    let w = lower
        .strip_suffix("'s")
        .or_else(|| lower.strip_suffix('\''))
        .unwrap_or(lower);
    if let Some((_, s)) = IRREGULAR.iter().chain(CLIPPINGS).find(|(p, _)| *p == w) {
        return stemmer().stem(s).into_owned();
    }
    if w.len() <= 2 {
        return w.to_string();
    }
    stemmer().stem(w).into_owned()
}

/// Splits an identifier into lower-case words: snake_case, kebab-case, camelCase, PascalCase,
/// acronyms and digits (`customerID` -> `customer id`, `born_state` -> `born state`,
/// `HTTPServer2` -> `http server 2`).
pub fn split_identifier(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split(|c: char| !c.is_alphanumeric()) {
        if part.is_empty() {
            continue;
        }
        let cs: Vec<char> = part.chars().collect();
        let mut cur = String::new();
        for (k, &c) in cs.iter().enumerate() {
            let prev = if k > 0 { Some(cs[k - 1]) } else { None };
            let next = cs.get(k + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) => {
                    (c.is_uppercase() && p.is_lowercase())
                        || (c.is_uppercase()
                            && p.is_uppercase()
                            && next.is_some_and(|x| x.is_lowercase()))
                        || (c.is_ascii_digit() != p.is_ascii_digit())
                }
            };
            if boundary && !cur.is_empty() {
                words.push(cur.to_lowercase());
                cur.clear();
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            words.push(cur.to_lowercase());
        }
    }
    words
}

/// Stop words live in the pattern engine's lexicon with the rest of the English it reads.
pub use crate::sql::pattern::lexicon::is_stopword;

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str) -> Vec<(String, TokenKind)> {
        tokenize(q).into_iter().map(|t| (t.text, t.kind)).collect()
    }

    #[test]
    fn with_and_without_clipped_with_a_slash_are_words() {
        let words = |s: &str| -> Vec<String> { tokenize(s).into_iter().map(|t| t.lower).collect() };
        assert_eq!(
            words("albums w/ 20 tracks"),
            ["albums", "with", "20", "tracks"]
        );
        assert_eq!(
            words("customers w/o a rep"),
            ["customers", "without", "a", "rep"]
        );
        assert_eq!(words("rev per sq ft")[2..], ["sq", "ft"]);
        assert_eq!(stem("sq"), stem("square"));
        assert_eq!(stem("ft"), stem("feet"));
        // a slash between other words stays punctuation
        assert_eq!(words("w/x"), ["w", "/", "x"]);
    }

    #[test]
    fn a_number_sign_before_of_is_the_word_number() {
        let words = |s: &str| -> Vec<String> { tokenize(s).into_iter().map(|t| t.lower).collect() };
        assert_eq!(
            words("# of customers per rep"),
            ["number", "of", "customers", "per", "rep"]
        );
        assert_eq!(words("#of tracks")[..2], ["number", "of"]);
        // elsewhere it stays a sign
        assert_eq!(words("# offers")[0], "#");
    }

    #[test]
    fn quoted_strings_are_one_token_and_possessives_are_not_quotes() {
        let t = kinds("the department's heads born in state 'Alabama'?");
        assert!(t.contains(&("department's".into(), TokenKind::Word)));
        assert!(t.contains(&("Alabama".into(), TokenKind::Quoted)));
        assert_eq!(t.last().unwrap().1, TokenKind::Punct);
    }

    #[test]
    fn numbers_keep_digit_groups_and_decimals() {
        let t = kinds("more than 1,200 units at 3.5 each, 10k");
        assert!(t.contains(&("1,200".into(), TokenKind::Number)));
        assert!(t.contains(&("3.5".into(), TokenKind::Number)));
        assert!(t.contains(&("10k".into(), TokenKind::Word)));
        assert_eq!(tokenize("1,200")[0].lower, "1200");
    }

    #[test]
    fn iso_dates_are_date_tokens_and_hyphens_split_words() {
        let t = kinds("since 2024-03-15 top-5");
        assert_eq!(t[1], ("2024-03-15".into(), TokenKind::Date));
        assert_eq!(t[2].0, "top");
        assert_eq!(t[4], ("5".into(), TokenKind::Number));
    }

    #[test]
    fn identifiers_split_on_snake_and_camel_case() {
        assert_eq!(split_identifier("born_state"), vec!["born", "state"]);
        assert_eq!(split_identifier("customerID"), vec!["customer", "id"]);
        assert_eq!(split_identifier("HTTPServer2"), vec!["http", "server", "2"]);
        assert_eq!(
            split_identifier("category_level_2"),
            vec!["category", "level", "2"]
        );
        assert_eq!(split_identifier("NumEmployees"), vec!["num", "employees"]);
    }

    #[test]
    fn stems_fold_plurals_and_irregulars() {
        assert_eq!(stem("departments"), stem("department"));
        assert_eq!(stem("cities"), stem("city"));
        assert_eq!(stem("people"), stem("person"));
        assert_eq!(stem("ranking"), stem("rank"));
        assert_eq!(stem("employee's"), stem("employees"));
        assert_eq!(stem("dept"), stem("departments"));
        assert_eq!(stem("yrs"), stem("year"));
        assert_eq!(stem("qtr"), stem("quarters"));
        assert_eq!(stem("mos"), stem("months"));
        assert_eq!(stem("rev"), stem("revenue"));
    }

    #[test]
    fn a_minus_sign_before_a_number_is_part_of_it() {
        let t = kinds("elasticity below -2.5 in 2023-2024");
        assert!(t.contains(&("-2.5".into(), TokenKind::Number)), "{t:?}");
        // a hyphen between two numbers is not a sign
        assert!(t.contains(&("2023".into(), TokenKind::Number)), "{t:?}");
        assert!(t.contains(&("2024".into(), TokenKind::Number)), "{t:?}");
    }
}
