//! Numbers in the question: digits and number words ("three"), and the top-N request
//! ("top 5", "the 3 most", "first ten").

use serde::Serialize;

use super::tokens::{Token, TokenKind};

/// A number the question mentions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberMention {
    pub value: f64,
    /// As written (`1,200`, `three`).
    pub text: String,
    /// Index of its token.
    pub token: usize,
    /// True when the value has no fractional part.
    pub integer: bool,
    /// True for a four-digit integer between 1800 and 2100 written in digits (may be a year).
    pub year_like: bool,
    /// True when written as a word ("three").
    pub from_word: bool,
}

const WORDS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("hundred", 100.0),
    ("thousand", 1000.0),
    ("dozen", 12.0),
    ("once", 1.0),
    ("twice", 2.0),
];

/// An amount written at token `i`: digits ("1,000,000", "$250" without its symbol), digits
/// with a scale word or suffix ("1.5 million", "2 thousand", "10k", "1.5M", "2bn"): the value
/// and the number of tokens it spans. A four-digit integer between 1800 and 2100 alone is read
/// as a year, not an amount.
pub fn amount(tokens: &[Token], i: usize) -> Option<(f64, usize)> {
    let t = tokens.get(i)?;
    let scale = |w: &str| match w {
        "k" | "thousand" => Some(1e3),
        "m" | "mm" | "million" | "mn" => Some(1e6),
        "b" | "bn" | "billion" => Some(1e9),
        _ => None,
    };
    if t.kind == TokenKind::Number {
        let v: f64 = t.lower.replace(',', "").parse().ok()?;
        if let Some(f) = tokens.get(i + 1).and_then(|n| scale(&n.lower)) {
            return Some((v * f, 2));
        }
        if v.fract() == 0.0 && (1800.0..=2100.0).contains(&v) && !t.lower.contains(',') {
            return None;
        }
        return Some((v, 1));
    }
    let digits = t
        .lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
    let (num, suffix) = t.lower.split_at(digits);
    let v: f64 = num.replace(',', "").parse().ok()?;
    Some((v * scale(suffix)?, 1))
}

/// Whether the number at token `i` is an amount of money: a currency sign written before it
/// (`$10`, `€5`: the tokenizer drops the sign, so it is read from `question` between the
/// previous token and this one) or a currency word after it ("10 dollars", "5 euros").
pub fn in_currency(question: &str, tokens: &[Token], i: usize) -> bool {
    let Some(t) = tokens.get(i) else {
        return false;
    };
    let from = i
        .checked_sub(1)
        .and_then(|p| tokens.get(p))
        .map_or(0, |p| p.end);
    let before = question.get(from.min(t.start)..t.start).unwrap_or("");
    let sign = before
        .chars()
        .any(|c| matches!(c, '$' | '\u{20AC}' | '\u{00A3}' | '\u{00A5}'));
    let word = tokens.get(i + 1).is_some_and(|n| {
        matches!(
            n.lower.as_str(),
            "dollar" | "dollars" | "usd" | "euro" | "euros" | "eur" | "pound" | "pounds" | "gbp"
        )
    });
    sign || word
}

/// The value of a number word (`"three"` -> 3).
pub fn word_value(lower: &str) -> Option<f64> {
    WORDS.iter().find(|(w, _)| *w == lower).map(|(_, v)| *v)
}

/// The value of an ordinal word (`"third"` -> 3), one to twelve.
pub fn ordinal_value(lower: &str) -> Option<u32> {
    const ORD: &[&str] = &[
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth", "eleventh", "twelfth",
    ];
    ORD.iter()
        .position(|w| *w == lower)
        .map(|p| p as u32 + 1)
        .or_else(|| {
            let digits = lower.trim_end_matches(|c: char| c.is_alphabetic());
            let suffix = &lower[digits.len()..];
            if matches!(suffix, "st" | "nd" | "rd" | "th") {
                digits.parse().ok()
            } else {
                None
            }
        })
}

/// The numbers of a tokenised question, in order.
///
/// "one" is skipped when it is a pronoun ("which one", "the one", "each one", "one of them"),
/// not after a comparison ("more than one of our stores").
pub fn numbers(tokens: &[Token]) -> Vec<NumberMention> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            TokenKind::Number => {
                if let Ok(v) = t.lower.parse::<f64>() {
                    let integer = v.fract() == 0.0;
                    let year_like = integer && t.lower.len() == 4 && (1800.0..=2100.0).contains(&v);
                    out.push(NumberMention {
                        value: v,
                        text: t.text.clone(),
                        token: i,
                        integer,
                        year_like,
                        from_word: false,
                    });
                }
            }
            TokenKind::Word => {
                if let Some(v) = word_value(&t.lower) {
                    let prev = i
                        .checked_sub(1)
                        .map(|p| tokens[p].lower.as_str())
                        .unwrap_or("");
                    // "more than one of our stores", "at least one of": a count, not a pronoun
                    let counted = matches!(prev, "than" | "least" | "most");
                    let pronoun = t.lower == "one"
                        && !counted
                        && (matches!(
                            prev,
                            "which" | "the" | "each" | "any" | "every" | "this" | "that" | "no"
                        ) || tokens.get(i + 1).is_some_and(|n| n.lower == "of"));
                    if !pronoun {
                        out.push(NumberMention {
                            value: v,
                            text: t.text.clone(),
                            token: i,
                            integer: true,
                            year_like: false,
                            from_word: true,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Words after a number that ask for the N best or worst ("5 highest", "3 most").
const RANK_WORDS: &[&str] = &[
    "most",
    "highest",
    "largest",
    "biggest",
    "best",
    "greatest",
    "top",
    "lowest",
    "smallest",
    "least",
    "cheapest",
    "fewest",
    "worst",
    "oldest",
    "youngest",
    "latest",
    "earliest",
    "newest",
    "longest",
    "shortest",
    "richest",
    "poorest",
    "heaviest",
    "lightest",
    "tallest",
    "fastest",
    "slowest",
    "last",
    "first",
    "recent",
    "expensive",
    "popular",
    "common",
    "frequent",
    "bottom",
];

/// The N of a top-N request: "top 5", "top five", "the 3 most ...", "first 10", "bottom 3".
/// "first"/"last" followed by a time unit ("last 3 months") is a time range, not a top-N.
pub fn top_n(tokens: &[Token], nums: &[NumberMention]) -> Option<u64> {
    for m in nums {
        if !m.integer || m.value < 1.0 || m.year_like {
            continue;
        }
        let prev = m
            .token
            .checked_sub(1)
            .map(|p| tokens[p].lower.as_str())
            .unwrap_or("");
        let next = tokens
            .get(m.token + 1)
            .map(|t| t.lower.as_str())
            .unwrap_or("");
        let next2 = tokens
            .get(m.token + 2)
            .map(|t| t.lower.as_str())
            .unwrap_or("");
        let time_unit = matches!(
            super::tokens::stem(next).as_str(),
            "day" | "week" | "month" | "year" | "quarter" | "hour"
        );
        if matches!(prev, "top" | "bottom") || (matches!(prev, "first" | "last") && !time_unit) {
            return Some(m.value as u64);
        }
        // "which 10 products have the cheapest price", "the 5 stores with the most revenue":
        // a count right before a noun, with a superlative later in the question
        let noun_next = tokens.get(m.token + 1).is_some_and(|t| {
            t.kind == TokenKind::Word && !super::tokens::is_stopword(&t.lower) && !time_unit
        });
        let superlative_later = (m.token + 1..tokens.len()).any(|k| {
            let w = tokens[k].lower.as_str();
            RANK_WORDS.contains(&w)
                && !matches!(w, "first" | "last" | "recent" | "popular" | "common")
                && !(matches!(w, "most" | "least") && tokens[k - 1].lower == "at")
        });
        if matches!(prev, "which" | "what" | "the") && noun_next && superlative_later {
            return Some(m.value as u64);
        }
        if RANK_WORDS.contains(&next) || (next == "most" && !next2.is_empty()) {
            // "3 most" but not "at least 3": the number must not follow a comparison
            let before = m
                .token
                .checked_sub(2)
                .map(|p| tokens[p].lower.as_str())
                .unwrap_or("");
            if !(prev == "least" && before == "at") && !matches!(prev, "than" | "most") {
                return Some(m.value as u64);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tokenize;
    use super::*;

    fn top(q: &str) -> Option<u64> {
        let t = tokenize(q);
        let n = numbers(&t);
        top_n(&t, &n)
    }

    #[test]
    fn numbers_are_read_from_digits_and_words() {
        let t = tokenize("older than 56 with three kids and 1,200.5 dollars in 2024");
        let n = numbers(&t);
        let values: Vec<f64> = n.iter().map(|m| m.value).collect();
        assert_eq!(values, vec![56.0, 3.0, 1200.5, 2024.0]);
        assert!(n[1].from_word);
        assert!(!n[2].integer);
        assert!(n[3].year_like);
    }

    #[test]
    fn one_as_a_pronoun_is_not_a_number() {
        let t = tokenize("which one has at least one order");
        let n = numbers(&t);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].token, 5);
    }

    #[test]
    fn top_n_is_found_in_its_usual_wordings() {
        assert_eq!(top("top 5 items by revenue"), Some(5));
        assert_eq!(top("top five stores"), Some(5));
        assert_eq!(top("the 3 most expensive products"), Some(3));
        assert_eq!(top("first 10 customers"), Some(10));
        assert_eq!(top("bottom 2 regions"), Some(2));
        assert_eq!(top("sales in the last 3 months"), None);
        assert_eq!(top("stores with at least 3 most"), None);
        assert_eq!(top("older than 56"), None);
    }

    #[test]
    fn ordinals_are_read_from_words_and_suffixes() {
        assert_eq!(ordinal_value("third"), Some(3));
        assert_eq!(ordinal_value("2nd"), Some(2));
        assert_eq!(ordinal_value("apple"), None);
    }
}
