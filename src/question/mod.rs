//! Analysis of the question: validation ([`Question::parse`]), then [`analyze`] cuts it into
//! tokens with stems ([`tokens`]), reads numbers and the top-N ([`numbers`]), years, months,
//! quarters and date ranges ([`dates`]), quoted strings, and the intent words (count, sum,
//! average, extremes, negation, ...).
//!
//! Analysis knows no schema: linking the words to tables, columns and values is the pattern
//! engine's job (`crate::sql::pattern`), which builds on the [`Analysis`] returned here.

pub mod dates;
pub mod hostile;
pub mod numbers;
pub mod spelling;
pub mod tokens;
pub mod units;

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{QuerentError, QuerentResult};

pub use dates::{MonthMention, TimeGrain, TimeRange};
pub use numbers::NumberMention;
pub use tokens::{Token, TokenKind};

/// The longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 2000;

/// A question that passed validation: trimmed, non-empty, at most [`MAX_QUESTION_CHARS`] characters
/// as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question(String);

impl Question {
    /// Validates a question.
    ///
    /// Errors: [`QuerentError::EmptyQuestion`] when it is empty or only whitespace,
    /// [`QuerentError::QuestionTooLong`] when it has more than 2000 characters (counted as sent,
    /// whitespace around it included: the API's schema says `maxLength: 2000` of the string),
    /// [`QuerentError::CannotAnswer`] when it holds SQL, a number too large to compare exactly
    /// or a request to change data ([`hostile::unreadable`]).
    pub fn parse(s: &str) -> QuerentResult<Question> {
        let t = s.trim();
        if t.is_empty() {
            return Err(QuerentError::EmptyQuestion);
        }
        let length = s.chars().count();
        if length > MAX_QUESTION_CHARS {
            return Err(QuerentError::QuestionTooLong {
                length,
                limit: MAX_QUESTION_CHARS,
            });
        }
        if let Some((reason, part)) = hostile::unreadable(t) {
            return Err(QuerentError::CannotAnswer(crate::sql::refusal::Refusal {
                cause: crate::sql::refusal::RefusalCause::Unreadable {
                    reason: reason.to_string(),
                },
                unmapped: vec![part],
            }));
        }
        Ok(Question(t.to_string()))
    }

    /// The question text, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a question asks for, read from its wording alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// "how many", "number of", "count".
    Count,
    /// "total", "sum".
    Sum,
    /// "average", "mean".
    Average,
    /// "maximum", "highest", "most", "largest", ...
    Maximum,
    /// "minimum", "lowest", "least", "smallest", ...
    Minimum,
    /// "distinct", "different", "unique".
    Distinct,
    /// "not", "never", "without", "except", "no".
    Negation,
    /// "more than", "above", "below", "at least", "between".
    Comparison,
    /// "each", "per", "by", "for every".
    Grouping,
    /// "sorted", "ordered", "in order".
    Ordering,
    /// "over time", "trend", "monthly", "by month".
    Trend,
    /// "both ... and", "also".
    Both,
    /// "either ... or".
    Either,
}

/// The analysis of a question: its tokens and what they say, before any schema is seen.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The question as given (trimmed).
    pub text: String,
    pub tokens: Vec<Token>,
    /// Numbers, in order (digits and number words).
    pub numbers: Vec<NumberMention>,
    /// The N of "top N", when asked.
    pub top_n: Option<u64>,
    /// Date ranges named, in order.
    pub time_ranges: Vec<TimeRange>,
    /// Months named without a year.
    pub months: Vec<MonthMention>,
    /// Strings written between quotes.
    pub quoted: Vec<String>,
    /// Intents, in order of first appearance, without repeats.
    pub intents: Vec<Intent>,
    /// Lower-case words that are not stopwords (what linking must account for).
    pub content_words: Vec<String>,
}

impl Analysis {
    /// True when the question shows this intent.
    pub fn has(&self, intent: Intent) -> bool {
        self.intents.contains(&intent)
    }

    /// The lower-case word at token `i` ("" past the end or for a non-word).
    pub fn word(&self, i: usize) -> &str {
        self.tokens.get(i).map(|t| t.lower.as_str()).unwrap_or("")
    }
}

/// Analyses a question, reading relative dates ("last month") from today's local date.
pub fn analyze(q: &Question) -> Analysis {
    analyze_at(q, chrono::Local::now().date_naive())
}

/// Analyses a question with `today` as the reference for relative dates.
pub fn analyze_at(q: &Question, today: NaiveDate) -> Analysis {
    let tokens = tokens::tokenize(q.as_str());
    let numbers = numbers::numbers(&tokens);
    let top_n = numbers::top_n(&tokens, &numbers);
    let (time_ranges, months) = dates::time_ranges(&tokens, today);
    let quoted = tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Quoted)
        .map(|t| t.text.clone())
        .collect();
    let intents = intents(&tokens);
    let content_words = tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Word && !tokens::is_stopword(&t.lower))
        .map(|t| t.lower.clone())
        .collect();
    Analysis {
        text: q.as_str().to_string(),
        tokens,
        numbers,
        top_n,
        time_ranges,
        months,
        quoted,
        intents,
        content_words,
    }
}

fn intents(tokens: &[Token]) -> Vec<Intent> {
    let mut out: Vec<Intent> = Vec::new();
    let mut push = |i: Intent| {
        if !out.contains(&i) {
            out.push(i)
        }
    };
    let w = |i: usize| tokens.get(i).map(|t| t.lower.as_str()).unwrap_or("");
    for i in 0..tokens.len() {
        let cur = w(i);
        let next = w(i + 1);
        match cur {
            "how" if next == "many" => push(Intent::Count),
            "number" if next == "of" => push(Intent::Count),
            "count" | "counts" => push(Intent::Count),
            "total" | "sum" => push(Intent::Sum),
            "average" | "avg" | "mean" => push(Intent::Average),
            "maximum" | "max" | "highest" | "largest" | "biggest" | "greatest" | "most" | "top" => {
                if cur == "most" && w(i.wrapping_sub(1)) == "at" {
                    push(Intent::Comparison)
                } else {
                    push(Intent::Maximum)
                }
            }
            "minimum" | "min" | "lowest" | "smallest" | "least" | "fewest" | "cheapest"
            | "bottom" => {
                if cur == "least" && w(i.wrapping_sub(1)) == "at" {
                    push(Intent::Comparison)
                } else {
                    push(Intent::Minimum)
                }
            }
            "distinct" | "different" | "unique" => push(Intent::Distinct),
            "not" | "never" | "without" | "except" | "excluding" | "no" | "none" | "neither"
            | "nor" | "don't" | "doesn't" | "didn't" | "isn't" | "aren't" | "haven't"
            | "hasn't" => push(Intent::Negation),
            "over" if next == "time" => push(Intent::Trend),
            "than" | "above" | "below" | "over" | "under" | "between" | "exceeding" | "exceeds" => {
                push(Intent::Comparison)
            }
            "each" | "per" | "every" => push(Intent::Grouping),
            "by" if !matches!(
                w(i.wrapping_sub(1)),
                "ordered" | "sorted" | "order" | "sort" | "ranked"
            ) =>
            {
                push(Intent::Grouping)
            }
            "sorted" | "ordered" | "order" | "sort" | "ranked" | "alphabetical"
            | "alphabetically" => push(Intent::Ordering),
            "trend" | "monthly" | "weekly" | "daily" | "yearly" | "annually" | "quarterly" => {
                push(Intent::Trend)
            }
            "both" => push(Intent::Both),
            "either" => push(Intent::Either),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(q: &str) -> Analysis {
        analyze_at(
            &Question::parse(q).unwrap(),
            NaiveDate::from_ymd_opt(2025, 5, 20).unwrap(),
        )
    }

    #[test]
    fn empty_and_overlong_questions_are_refused() {
        assert!(matches!(
            Question::parse("   "),
            Err(QuerentError::EmptyQuestion)
        ));
        let long = "a".repeat(2001);
        assert!(matches!(
            Question::parse(&long),
            Err(QuerentError::QuestionTooLong {
                length: 2001,
                limit: 2000
            })
        ));
        assert_eq!(Question::parse("  hi  ").unwrap().as_str(), "hi");
        // the limit is on the text as sent, as the API's schema says
        let padded = format!("{} ", "a".repeat(2000));
        assert!(matches!(
            Question::parse(&padded),
            Err(QuerentError::QuestionTooLong { length: 2001, .. })
        ));
    }

    #[test]
    fn analysis_reads_top_n_numbers_and_intents() {
        let a = analysis("What are the top 5 items by total revenue in frozen food?");
        assert_eq!(a.top_n, Some(5));
        assert_eq!(a.numbers.len(), 1);
        assert!(a.has(Intent::Sum));
        assert!(a.has(Intent::Maximum));
        assert!(a.content_words.contains(&"frozen".to_string()));
        assert!(!a.content_words.contains(&"the".to_string()));
    }

    #[test]
    fn analysis_reads_quarters_and_quoted_values() {
        let a = analysis("How many orders in Q3 2024 for 'Frozen Food'?");
        assert!(a.has(Intent::Count));
        assert_eq!(a.quoted, vec!["Frozen Food".to_string()]);
        assert_eq!(a.time_ranges.len(), 1);
        assert_eq!(a.time_ranges[0].start, NaiveDate::from_ymd_opt(2024, 7, 1));
    }

    #[test]
    fn at_least_is_a_comparison_not_an_extreme() {
        let a = analysis("students with at least 3 courses who never failed");
        assert!(a.has(Intent::Comparison));
        assert!(a.has(Intent::Negation));
        assert!(!a.has(Intent::Minimum));
    }

    #[test]
    fn analysis_serializes_to_json() {
        let a = analysis("average age by city since 2020");
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["intents"][0], "average");
        assert!(v["time_ranges"][0]["end"].is_null());
    }
}
