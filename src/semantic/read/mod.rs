//! Reading a question as a metric query, or refusing.
//!
//! One pass over the question's tokens (the crate's tokenizer and date reader): periods are
//! read first ([`crate::question::dates`], against the reference date), then the longest
//! phrases of the manifest's lexicon (metrics, dimensions, entities, named filters, with
//! their synonyms, compared by word stems), then dimension members (the value index, exact
//! spellings only), then the words of the query's grammar (by/per/each, top/bottom N,
//! most/least, share, growth, vs, running total, above/below average, grains). Every word must
//! be read: one word left over and the reader refuses with that word, so the other generators
//! get their turn; the metric path never guesses.
//!
//! # Layout
//!
//! [`read`] runs the stages in order over one `Reader` (`state`). First every token is
//! marked: `periods`, `members` (of two words or more), `phrases` (the `lexicon`), `members`
//! again, `numbers`, `grammar`; `checks` refuses a word left unread. Then the query is built
//! from what was read: `metrics` (and the breakdowns), `counts`, `slices` (what is compared
//! side by side), `grain`, `signals` (what the words ask of the figure), `periods` compared,
//! the columns, `derived` figures, and `order` (with the last check of words not used). The
//! word lists are in `words`.

mod absence;
mod checks;
mod counts;
mod definitions;
mod derived;
mod grain;
mod grammar;
mod lexicon;
mod members;
mod metrics;
mod numbers;
mod order;
mod periods;
mod phrases;
mod signals;
mod slices;
mod state;
#[cfg(test)]
mod tests;
mod words;

use chrono::NaiveDate;
use serde::Serialize;

use super::model::SemanticManifest;
use super::query::MetricQuery;
use crate::knowledge::ValueIndex;
use crate::question::tokens;
use crate::warehouse::Schema;
use state::{Input, Reader};

pub use lexicon::Lexicon;

/// Why the reader did not read a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub reason: String,
    /// The words it could not read, or the words asking for what is not computed.
    pub unread: Vec<String>,
    /// True when every word was read and the question is a metric question the layer cannot
    /// compute (a rank, a member's share, a count of a dimension's values, ...); false when
    /// words were not read or no metric was named (not a metric question, as far as it knows).
    pub understood: bool,
    /// The metrics the question names (by name, label or synonym) when other words were not
    /// read: a metric question read in part. Empty otherwise.
    pub metrics: Vec<String>,
}

/// A refusal of words not read: not a metric question, as far as the reader knows.
fn refuse<T>(reason: impl Into<String>, unread: Vec<String>) -> Result<T, Refusal> {
    Err(Refusal {
        reason: reason.into(),
        unread,
        understood: false,
        metrics: Vec::new(),
    })
}

/// A refusal of a metric question read whole that the layer does not compute.
fn cannot_compute<T>(reason: impl Into<String>, words: Vec<String>) -> Result<T, Refusal> {
    Err(Refusal {
        reason: reason.into(),
        unread: words,
        understood: true,
        metrics: Vec::new(),
    })
}

/// The date relative periods count from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reference {
    pub date: NaiveDate,
    /// `today`, `latest` (of the data) or `fixed`.
    pub source: &'static str,
}

/// The whole word of a clipped period word ("rev by yr", "last 8 wks", "avg wkly units") or of
/// a period word's possessive ("each year's revenue"), else the word: the reader's period and
/// grain words are whole words.
fn unclipped(lower: &str) -> &str {
    match lower {
        "yr" => "year",
        "yrs" => "years",
        "qtr" => "quarter",
        "qtrs" => "quarters",
        "mth" => "month",
        "mths" | "mos" => "months",
        "mo" => "month",
        "wk" => "week",
        "wks" => "weeks",
        // "each year's revenue": a period word's possessive is the period word
        "year's" | "years'" => "year",
        "quarter's" | "quarters'" => "quarter",
        "month's" | "months'" => "month",
        "week's" | "weeks'" => "week",
        "day's" | "days'" => "day",
        "wkly" => "weekly",
        "mthly" | "mnthly" => "monthly",
        "qtrly" => "quarterly",
        "yrly" => "yearly",
        w => w,
    }
}

/// "rev growth by category, 24 vs 23": two two-digit numbers compared ("vs", "versus") are years of this century when both fall within 30 years before `reference_year` (or
/// the year after) and lie at most 10 years apart; they are rewritten as four-digit years.
fn two_digit_years(toks: &mut [tokens::Token], reference_year: i32) {
    let year = |t: &tokens::Token| -> Option<i32> {
        (t.kind == tokens::TokenKind::Number && t.lower.len() == 2)
            .then(|| t.lower.parse::<i32>().ok())
            .flatten()
            .map(|n| 2000 + n)
            .filter(|y| (reference_year - 30..=reference_year + 1).contains(y))
    };
    for i in 0..toks.len().saturating_sub(2) {
        let joined = matches!(toks[i + 1].lower.as_str(), "vs" | "versus");
        if let (true, Some(a), Some(b)) = (joined, year(&toks[i]), year(&toks[i + 2])) {
            if a != b && (a - b).abs() <= 10 {
                for (k, y) in [(i, a), (i + 2, b)] {
                    toks[k].lower = y.to_string();
                    toks[k].stem = y.to_string();
                    toks[k].text = y.to_string();
                }
            }
        }
    }
}

/// Reads `question` as a metric query against `manifest`.
///
/// Errors: a [`Refusal`] naming the words it could not read, or why the words do not make a
/// metric query (no metric, two metrics compared by growth, ...).
pub fn read(
    question: &str,
    manifest: &SemanticManifest,
    lexicon: &Lexicon,
    values: &ValueIndex,
    schema: &Schema,
    reference: Reference,
) -> Result<MetricQuery, Refusal> {
    let mut toks = tokens::tokenize(question);
    for t in &mut toks {
        let whole = unclipped(&t.lower);
        if whole != t.lower {
            t.lower = whole.to_string();
        }
    }
    // "# invoices per month": "#" before a word is "number"
    for i in 0..toks.len().saturating_sub(1) {
        if toks[i].text == "#" && toks[i + 1].kind == tokens::TokenKind::Word {
            let t = &mut toks[i];
            t.lower = "number".into();
            t.stem = "number".into();
            t.kind = tokens::TokenKind::Word;
        }
    }
    two_digit_years(&mut toks, chrono::Datelike::year(&reference.date));
    let words: Vec<&str> = toks.iter().map(|t| t.lower.as_str()).collect();
    let mut r = Reader::new(Input {
        question,
        toks: &toks,
        words: &words,
        manifest,
        lexicon,
        values,
        schema,
        reference,
    });
    r.asker()?;
    r.whole_history();
    r.time_order();
    // 1. periods
    r.periods();
    // members of two words or more that are no phrase of the lexicon come first: the longer
    // name wins over a lexicon word inside it ("cost increases" is a reason for a price
    // change, not the measure "cost")
    r.scan_members(2, false, true);
    // 2. lexicon phrases, longest first
    r.phrases();
    r.unit_metrics();
    r.sold();
    // 3. members (exact spellings of indexed values of dimension columns, close ones too)
    r.scan_members(1, true, false);
    // 4. numbers of "top N", thresholds and grammar words
    r.numbers();
    r.negators();
    r.absence();
    r.definitions_restated();
    r.the_rest();
    r.whole_restated();
    r.period_restated();
    r.units();
    r.order_words();
    r.magnitude_words();
    r.all_read()?;
    r.mark_grammar_words();

    // metrics, group-bys, filters
    let (reached_by, reached) = r.terms();
    r.filters_as_members(&reached);
    r.bases();
    let ratio_named = r.ratio_named();
    r.resolve_members(reached_by, reached);
    r.group_bys();
    r.counts()?;
    r.dimension_count()?;
    r.absent_rows_metric()?;
    r.implied_metric()?;
    r.slices()?;
    // grain
    r.grain()?;
    r.instances_beside_grain()?;
    // derived figures
    let mut s = r.signals();
    // "gross margin as a percentage of revenue" named a ratio metric, not a share
    s.share &= !ratio_named;
    let (period_slices, decline_between) = r.compare_periods(&s)?;
    // columns
    r.columns(period_slices, decline_between, &s)?;
    let per_entities = r.per(&mut s)?;
    r.derived(&s, per_entities)?;
    r.having()?;
    r.per_beside()?;
    // order and limit
    absence::checked(r.order(&s)?)
}
