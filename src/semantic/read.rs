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

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::model::{EntityType, Grain, SemanticManifest};
use super::query::{
    Derived, DimensionRef, EntityCount, Filter, GroupBy, MetricColumn, MetricQuery, Order, OrderBy,
    Period, Slice,
};
use crate::knowledge::ValueIndex;
use crate::question::dates::{self, TimeGrain};
use crate::question::tokens::{self, Token, TokenKind};
use crate::warehouse::Schema;

/// What a phrase of the lexicon stands for.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Metric(String),
    Dimension { model: String, name: String },
    Entity(String),
    Filter(String),
}

/// The manifest's phrases by their stems, built once per manifest.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    phrases: HashMap<String, Vec<Term>>,
    max_words: usize,
    /// Dimension of each `(table, column)` (lower case), for the value index's matches.
    columns: HashMap<(String, String), (String, String)>,
}

/// The key of a token in the lexicon: its stem; `%`, "percentage" and "pct" as `percent`
/// ("gross margin percentage" is the metric "gross margin %"); `None` for other punctuation.
fn key(t: &Token) -> Option<&str> {
    match t.kind {
        TokenKind::Punct if t.text == "%" => Some("percent"),
        TokenKind::Punct => None,
        _ if matches!(t.lower.as_str(), "percent" | "percentage" | "pct") => Some("percent"),
        _ => Some(t.stem.as_str()),
    }
}

fn stems(text: &str) -> Vec<String> {
    tokens::tokenize(text)
        .iter()
        .filter_map(|t| key(t).map(str::to_string))
        .collect()
}

impl Lexicon {
    /// The phrases of `manifest`: names (underscores as spaces), labels and synonyms.
    pub fn build(manifest: &SemanticManifest) -> Self {
        let mut lex = Lexicon::default();
        let add = |lex: &mut Lexicon, phrase: &str, term: Term| {
            let s = stems(&phrase.replace('_', " "));
            if s.is_empty() {
                return;
            }
            lex.max_words = lex.max_words.max(s.len());
            let v = lex.phrases.entry(s.join(" ")).or_default();
            if !v.contains(&term) {
                v.push(term);
            }
        };
        for m in &manifest.metrics {
            let t = Term::Metric(m.name.clone());
            add(&mut lex, &m.name, t.clone());
            if let Some(l) = &m.label {
                add(&mut lex, l, t.clone());
            }
            for s in &m.synonyms {
                add(&mut lex, s, t.clone());
            }
        }
        for f in &manifest.filters {
            add(&mut lex, &f.name, Term::Filter(f.name.clone()));
            for s in &f.synonyms {
                add(&mut lex, s, Term::Filter(f.name.clone()));
            }
        }
        for model in &manifest.semantic_models {
            for d in &model.dimensions {
                let t = Term::Dimension {
                    model: model.name.clone(),
                    name: d.name.clone(),
                };
                add(&mut lex, &d.name, t.clone());
                for s in &d.synonyms {
                    add(&mut lex, s, t.clone());
                }
                lex.columns.insert(
                    (
                        model.table().to_ascii_lowercase(),
                        d.expr().to_ascii_lowercase(),
                    ),
                    (model.name.clone(), d.name.clone()),
                );
            }
            for e in &model.entities {
                if e.kind != EntityType::Primary {
                    continue;
                }
                add(&mut lex, &e.name, Term::Entity(e.name.clone()));
                for s in &e.synonyms {
                    add(&mut lex, s, Term::Entity(e.name.clone()));
                }
            }
        }
        lex
    }
}

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

/// What one token was read as.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Unread,
    Grammar,
    Period(usize),
    Term(usize),
    Member(usize),
    Number,
}

/// A lexicon phrase found in the question.
#[derive(Debug, Clone)]
struct Found {
    term: Term,
    start: usize,
    end: usize,
}

/// A dimension member found in the question.
#[derive(Debug, Clone)]
struct Member {
    /// Candidate dimensions `(model, name)` holding the value, with the stored spelling.
    candidates: Vec<(String, String, String)>,
    start: usize,
    end: usize,
    negated: bool,
}

/// Words of the metric query's grammar: read, never an unknown word.
const GRAMMAR: &[&str] = &[
    "what",
    "whats",
    "what's",
    "were",
    "was",
    "is",
    "are",
    "the",
    "a",
    "an",
    "of",
    "in",
    "for",
    "by",
    "per",
    "each",
    "every",
    "show",
    "me",
    "list",
    "give",
    "tell",
    "total",
    "our",
    "we",
    "did",
    "do",
    "does",
    "how",
    "much",
    "which",
    "who",
    "across",
    "and",
    "vs",
    "versus",
    "compared",
    "compare",
    "comparison",
    "to",
    "with",
    "over",
    "from",
    "during",
    "top",
    "bottom",
    "most",
    "least",
    "highest",
    "lowest",
    "best",
    "worst",
    "biggest",
    "largest",
    "smallest",
    "greatest",
    "fewest",
    "grew",
    "grow",
    "growth",
    "growing",
    "change",
    "changed",
    "share",
    "percent",
    "percentage",
    "pct",
    "%",
    "contribution",
    "contribute",
    "contributed",
    "running",
    "cumulative",
    "cumulatively",
    "rank",
    "ranked",
    "ranking",
    "above",
    "below",
    "average",
    "avg",
    "mean",
    "than",
    "more",
    "less",
    "fastest",
    "slowest",
    "trend",
    "trends",
    "monthly",
    "weekly",
    "quarterly",
    "yearly",
    "annual",
    "annually",
    "daily",
    "month",
    "months",
    "quarter",
    "quarters",
    "year",
    "years",
    "week",
    "weeks",
    "day",
    "days",
    "by",
    "breakdown",
    "broken",
    "down",
    "split",
    "side",
    "next",
    "each",
    "please",
    // asking, not meaning: "I'd like to see", "put ... side by side", "break down"
    "i'd",
    "like",
    "put",
    "break",
    "single",
    // occurrence: "how many price changes happened in March", "under the EDLP strategy"
    "happened",
    "happen",
    "occurred",
    "occur",
    "under",
    // the unit of a money metric: "gross margin dollars", "sales in dollars"
    "dollars",
    "dollar",
    "usd",
    "all",
    "their",
    "its",
    "it",
    "has",
    "have",
    "had",
    "generate",
    "generated",
    "bring",
    "brought",
    "make",
    "made",
    "get",
    "got",
    "?",
    "at",
    "on",
    "there",
    "time",
    "overall",
    "value",
    "amount",
    "number",
    "count",
    "many",
    "sold",
    "sell",
    "sells",
    "selling",
    // the units of a sale: "sold the most copies"; "the most popular genre"
    "copies",
    "copy",
    "popular",
    "popularity",
    "performing",
    "performer",
    "performers",
    "performed",
    "performance",
    "figures",
    "figure",
    "trended",
    "evolve",
    "evolved",
    "develop",
    "developed",
    "go",
    "went",
    "this",
    "that",
    "these",
    "those",
    "respectively",
    "both",
    "side-by-side",
    "as",
    "be",
    "earn",
    "earned",
    "bring",
    "contributes",
    "drove",
    "drive",
    "driving",
    "driven",
    "caused",
    "due",
    "because",
    "within",
    "inside",
    "into",
    "between",
    "along",
    "together",
    "per",
    "yoy",
    "mom",
    "qoq",
    "increase",
    "decline",
    "declined",
    "drop",
    "dropped",
    "fell",
    "fall",
    "drops",
    "decrease",
    "decreased",
    "rose",
    "rise",
    "increased",
    "against",
    "relative",
    "sum",
    "i",
    "can",
    "you",
    "see",
    "find",
    "display",
    "return",
    "versus",
    "had",
    "up",
    "show",
    "came",
    "come",
    "comes",
    "account",
    "accounted",
    "accounts",
    "represent",
    "represents",
    "represented",
    "level",
    "period",
    "periods",
    "numbers",
    "report",
    "stats",
    "statistics",
    "being",
    "been",
    "will",
    "would",
    "where",
    "when",
    "whose",
    "out",
    "only",
    "just",
    "also",
    "so",
    "far",
    "since",
    "after",
    "before",
    "until",
    "through",
    "throughout",
    "separately",
    "respective",
    "individual",
    "apiece",
    "name",
    "names",
    "them",
    "they",
    "then",
    "bought",
    "buy",
    "buys",
    "purchased",
    "ordered",
    // "the five brands that hold the largest share", "the highest-grossing albums"
    "hold",
    "holds",
    "held",
    "grossing",
    "earning",
    "earners",
    // the whole history: "every quarter in the data", "ever"
    "data",
    "history",
    "ever",
    // "lower revenue in 2024 than in 2023"
    "lower",
    "higher",
    "fewer",
    "greater",
    "smaller",
    "bigger",
    "beat",
    "beats",
    "exceed",
    "exceeds",
    "exceeded",
    "overall",
    // "price changes took effect", "tracks an invoice contains"
    "took",
    "take",
    "takes",
    "taken",
    "effect",
    "effective",
    "contain",
    "contains",
    "containing",
    // "how many different customers bought something"
    "different",
    "distinct",
    "unique",
    "something",
    "anything",
    // verbs of having, doing and seeing that carry nothing of the query: "which categories saw
    // the most price changes", "which brands carry the most items", "what volume did we move",
    // "which customer placed the biggest order"
    "saw",
    "seen",
    "sees",
    "carry",
    "carries",
    "carried",
    "placed",
    "record",
    "recorded",
    "post",
    "posted",
    "achieve",
    "achieved",
    "move",
    "moved",
    "generates",
    "brings",
    "makes",
    "gets",
    "strongest",
    "weakest",
    "poorest",
    "led",
    "lead",
    "leads",
    "leading",
];

/// Words of a fall between two periods: "the largest drop in units from 2023 to 2024".
const DROP_WORDS: &[&str] = &[
    "drop",
    "dropped",
    "drops",
    "fell",
    "fall",
    "decrease",
    "decreased",
];

const COMPARE: &[&str] = &[
    "vs",
    "versus",
    "compared",
    "compare",
    "comparison",
    "against",
];
const DESC_WORDS: &[&str] = &[
    "top",
    "most",
    "highest",
    "best",
    "biggest",
    "largest",
    "greatest",
    "fastest",
    "strongest",
    // "which brands led Beverages sales": the first by the metric
    "led",
    "lead",
    "leads",
    "leading",
];
const ASC_WORDS: &[&str] = &[
    "bottom", "least", "lowest", "worst", "smallest", "fewest", "slowest", "weakest", "poorest",
];
const NEGATORS: &[&str] = &[
    "excluding",
    "except",
    "exclude",
    "without",
    "not",
    "other",
    "besides",
    "outside",
];

/// The date relative periods count from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reference {
    pub date: NaiveDate,
    /// `today`, `latest` (of the data) or `fixed`.
    pub source: &'static str,
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
    let toks = tokens::tokenize(question);
    let n = toks.len();
    let mut read = vec![Read::Unread; n];
    for (i, t) in toks.iter().enumerate() {
        if t.kind == TokenKind::Punct && t.text != "%" {
            read[i] = Read::Grammar;
        }
    }
    // "who bought the most tracks": the asker is a person the question does not name (the
    // buyer, the seller); what follows the verb is the object, not the breakdown
    let word_at = |k: usize| {
        toks.iter()
            .filter(|t| t.kind == TokenKind::Word)
            .nth(k)
            .map(|t| t.lower.as_str())
    };
    if word_at(0) == Some("who") && !matches!(word_at(1), Some("is" | "are" | "was" | "were" | "s"))
    {
        return refuse(
            "\"who\" before a verb asks for a person the question does not name",
            vec!["who".into()],
        );
    }
    // the whole history in other words: "since the store opened", "since we started", "since
    // the beginning", "of all time" (no period)
    for i in 0..n {
        let w = |k: usize| toks.get(k).map(|t| t.lower.as_str()).unwrap_or("");
        let whole = if w(i) == "since" {
            let mut k = i + 1;
            while matches!(w(k), "the" | "we" | "our" | "you" | "it") {
                k += 1;
            }
            if matches!(w(k), "store" | "shop" | "business" | "company" | "firm") {
                k += 1;
            }
            matches!(
                w(k),
                "opened"
                    | "open"
                    | "started"
                    | "start"
                    | "began"
                    | "beginning"
                    | "launched"
                    | "launch"
                    | "founded"
            )
            .then_some(k + 1 - i)
        } else if w(i) == "all" && w(i + 1) == "time" {
            Some(2)
        } else {
            None
        };
        if let Some(len) = whole {
            for slot in read.iter_mut().skip(i).take(len) {
                *slot = Read::Grammar;
            }
        }
    }
    // 1. periods
    let (ranges, months) = dates::time_ranges(&toks, reference.date);
    if let Some(m) = months.first() {
        return refuse(
            "a month without a year is not read as a period",
            vec![toks[m.token].text.clone()],
        );
    }
    let mut periods: Vec<(Period, TimeGrain)> = Vec::new();
    // the two periods a range was named by ("from 2023 to 2024"), per range
    let mut endpoints: Vec<Option<[Period; 2]>> = Vec::new();
    for (pi, r) in ranges.iter().enumerate() {
        endpoints.push(r.endpoints.map(|[(s1, e1), (s2, e2)]| {
            let words = |s: NaiveDate, e: NaiveDate| {
                let p = Period {
                    start: Some(s),
                    end: Some(e),
                    text: String::new(),
                };
                Period {
                    text: p.label().replace('_', " "),
                    ..p
                }
            };
            [words(s1, e1), words(s2, e2)]
        }));
        for slot in read.iter_mut().take(r.tokens.1).skip(r.tokens.0) {
            *slot = Read::Period(pi);
        }
        periods.push((
            Period {
                start: r.start,
                end: r.end,
                text: r.text.clone(),
            },
            r.grain,
        ));
    }
    // a hyphen between two words of a span starting at `start`, `len` tokens long
    let inner_hyphen = |j: usize, start: usize, len: usize| {
        j > start && j + 1 < start + len && toks[j].text == "-"
    };
    // the dimensions' members a phrase of `len` tokens at `i` names (model, dimension, stored
    // value): exact spellings, case aside (with `fuzzy`, close spellings too), or the singular
    // of a plural ("cost increases", "supercenters")
    let member_hits = |i: usize, len: usize, fuzzy: bool| -> Vec<(String, String, String)> {
        let phrase = question[toks[i].start..toks[i + len - 1].end].trim_matches('\'');
        // "vs" is not the album "Vs.": a grammar word is a member only as stored
        let grammar_word = len == 1
            && (GRAMMAR.contains(&toks[i].lower.as_str())
                || COMPARE.contains(&toks[i].lower.as_str()));
        let mut matches = if fuzzy {
            values.lookup(phrase)
        } else {
            values.lookup_same(phrase)
        };
        if matches.iter().all(|m| m.score < 0.95) {
            if let Some(one) = singular(phrase) {
                matches = values.lookup_same(&one);
            }
        }
        matches
            .into_iter()
            .filter(|m| m.score >= 0.95 && member_spelling_fits(phrase, m))
            .filter(|m| !grammar_word || m.value == phrase)
            .filter_map(|m| {
                lexicon
                    .columns
                    .get(&(m.table.to_ascii_lowercase(), m.column.to_ascii_lowercase()))
                    .map(|(model, dim)| (model.clone(), dim.clone(), m.value.clone()))
            })
            .collect()
    };
    // "excluding Dairy", "outside the USA", "other than Rock": a member named at `i` is left out
    let negated_at = |i: usize| -> bool {
        let before = if i > 1 && toks[i - 1].lower == "the" {
            i - 2
        } else {
            i.saturating_sub(1)
        };
        i > 0
            && (NEGATORS.contains(&toks[before].lower.as_str())
                || (i > 1 && toks[i - 1].lower == "than" && toks[i - 2].lower == "other"))
    };
    let max_value_words = values.max_words().max(1);
    // members from `min_len` words up, longest first, over the words still unread; with
    // `skip_phrases` a phrase of the lexicon is no member (the lexicon reads it later)
    let scan_members = |read: &mut [Read],
                        members: &mut Vec<Member>,
                        min_len: usize,
                        fuzzy: bool,
                        skip_phrases: bool| {
        let mut i = 0;
        while i < n {
            if read[i] != Read::Unread || toks[i].kind == TokenKind::Punct {
                i += 1;
                continue;
            }
            let mut matched = false;
            for len in (min_len..=(2 * max_value_words).min(n - i)).rev() {
                if (i..i + len).any(|j| read[j] != Read::Unread && !inner_hyphen(j, i, len)) {
                    continue;
                }
                if skip_phrases {
                    let phrase: Vec<&str> = toks[i..i + len].iter().filter_map(key).collect();
                    if lexicon.phrases.contains_key(&phrase.join(" ")) {
                        continue;
                    }
                }
                let hits = member_hits(i, len, fuzzy);
                if hits.is_empty() {
                    continue;
                }
                for slot in read.iter_mut().skip(i).take(len) {
                    *slot = Read::Member(members.len());
                }
                members.push(Member {
                    candidates: hits,
                    start: i,
                    end: i + len,
                    negated: negated_at(i),
                });
                i += len;
                matched = true;
                break;
            }
            if !matched {
                i += 1;
            }
        }
    };
    // members of two words or more that are no phrase of the lexicon come first: the longer
    // name wins over a lexicon word inside it ("cost increases" is a reason for a price
    // change, not the measure "cost")
    let mut members: Vec<Member> = Vec::new();
    scan_members(&mut read, &mut members, 2, false, true);
    // 2. lexicon phrases, longest first
    let mut found: Vec<Found> = Vec::new();
    // the longest phrase starting at `i`, as its length
    let longest_at = |i: usize, read: &[Read]| -> Option<usize> {
        (1..=(2 * lexicon.max_words).min(n.saturating_sub(i)))
            .rev()
            .find(|&len| {
                // a hyphen joins the words of a phrase ("sub-category", "best-selling")
                !(i..i + len).any(|j| {
                    !(read[j] == Read::Unread && key(&toks[j]).is_some() || inner_hyphen(j, i, len))
                }) && {
                    let phrase: Vec<&str> = toks[i..i + len].iter().filter_map(key).collect();
                    lexicon.phrases.contains_key(&phrase.join(" "))
                }
            })
    };
    let mut i = 0;
    while i < n {
        if read[i] != Read::Unread {
            i += 1;
            continue;
        }
        // "average price index": a grammar word that would swallow the start of a longer
        // phrase ("average price" + "index") is left to the grammar
        if GRAMMAR.contains(&toks[i].lower.as_str()) {
            if let (Some(here), Some(next)) = (longest_at(i, &read), longest_at(i + 1, &read)) {
                if i + 1 + next > i + here {
                    i += 1;
                    continue;
                }
            }
        }
        let mut matched = false;
        for len in (1..=(2 * lexicon.max_words).min(n - i)).rev() {
            // a hyphen joins the words of a phrase ("sub-category", "best-selling")
            if (i..i + len).any(|j| {
                !(read[j] == Read::Unread && key(&toks[j]).is_some() || inner_hyphen(j, i, len))
            }) {
                continue;
            }
            let phrase: Vec<&str> = toks[i..i + len].iter().filter_map(key).collect();
            if let Some(terms) = lexicon.phrases.get(&phrase.join(" ")) {
                // a phrase that is also a member of a dimension reads as the member when the
                // phrase names no metric (a store called "Express")
                let term = terms[0].clone();
                for slot in read.iter_mut().skip(i).take(len) {
                    *slot = Read::Term(found.len());
                }
                found.push(Found {
                    term,
                    start: i,
                    end: i + len,
                });
                i += len;
                matched = true;
                break;
            }
        }
        if !matched {
            i += 1;
        }
    }
    // "sold the most tracks": an entity counted by a sale is the metric "tracks sold" when the
    // model has one
    let sold = stems("sold");
    if toks
        .iter()
        .any(|t| matches!(t.lower.as_str(), "sold" | "sell" | "sells" | "selling"))
    {
        for f in found.iter_mut() {
            if !matches!(f.term, Term::Entity(_)) {
                continue;
            }
            let mut phrase: Vec<String> = toks[f.start..f.end]
                .iter()
                .filter_map(|t| key(t).map(str::to_string))
                .collect();
            phrase.extend(sold.iter().cloned());
            if let Some(Term::Metric(m)) = lexicon
                .phrases
                .get(&phrase.join(" "))
                .and_then(|ts| ts.iter().find(|t| matches!(t, Term::Metric(_))))
            {
                f.term = Term::Metric(m.clone());
            }
        }
    }
    // 3. members (exact spellings of indexed values of dimension columns, close ones too)
    scan_members(&mut read, &mut members, 1, true, false);
    // 4. numbers of "top N", thresholds and grammar words
    let mut top_n: Option<u64> = None;
    let mut threshold: Option<crate::semantic::query::Threshold> = None;
    let ranks = toks
        .iter()
        .any(|t| DESC_WORDS.contains(&t.lower.as_str()) || ASC_WORDS.contains(&t.lower.as_str()));
    // "which 3 brands sold the most", "the three Neighborhood stores with the most units": a
    // number right before what is ranked (a dimension, an entity or a member of one)
    let ranked_at: Vec<bool> = read
        .iter()
        .map(|r| match r {
            Read::Term(k) => !matches!(found[*k].term, Term::Metric(_) | Term::Filter(_)),
            Read::Member(_) => true,
            _ => false,
        })
        .collect();
    let names_ranked = |j: usize| ranked_at.get(j).copied().unwrap_or(false);
    // "which store is number one in each zone": the first
    let mut number_one = false;
    let mut at_least_one = false;
    for i in 0..n {
        if read[i] != Read::Unread {
            continue;
        }
        let t = &toks[i];
        if t.lower == "one" && i > 0 && toks[i - 1].lower == "number" {
            number_one = true;
            top_n = Some(1);
            read[i] = Read::Number;
            read[i - 1] = Read::Grammar;
            continue;
        }
        // "more than $1M", "at least 10", "under 500": a threshold on the figure
        if let Some((value, len)) = crate::question::numbers::amount(&toks, i) {
            let lower = |j: usize| toks[j].lower.as_str();
            let after = toks.get(i + len).map(|t| t.lower.as_str()).unwrap_or("");
            let op = match (i.checked_sub(2).map(lower), i.checked_sub(1).map(lower)) {
                (Some("more" | "greater" | "higher" | "larger" | "bigger"), Some("than")) => {
                    Some((">", 2))
                }
                (Some("less" | "fewer" | "lower" | "smaller"), Some("than")) => Some(("<", 2)),
                (Some("at"), Some("least")) => Some((">=", 2)),
                (Some("at"), Some("most")) => Some(("<=", 2)),
                (_, Some("over" | "above" | "exceeding")) => Some((">", 1)),
                (_, Some("under" | "below")) => Some(("<", 1)),
                _ => None,
            };
            let percent = matches!(after, "%" | "percent" | "percentage" | "pct" | "points");
            let free = |j: usize| matches!(read[j], Read::Unread | Read::Grammar);
            if let Some((op, words_before)) = op {
                if !percent && (i - words_before..i).all(free) {
                    threshold = Some(crate::semantic::query::Threshold {
                        op: op.to_string(),
                        value,
                    });
                    for slot in read
                        .iter_mut()
                        .skip(i - words_before)
                        .take(words_before + len)
                    {
                        *slot = Read::Number;
                    }
                    continue;
                }
            }
        }
        // a number next to a ranking word, or right before what is ranked
        let is_digits = t.kind == TokenKind::Number;
        let value = if is_digits {
            t.lower.replace(',', "").parse::<u64>().ok()
        } else {
            crate::question::numbers::word_value(&t.lower).map(|v| v as u64)
        };
        if is_digits || value.is_some() {
            let prev = if i > 0 {
                toks[i - 1].lower.as_str()
            } else {
                ""
            };
            let next = toks.get(i + 1).map(|t| t.lower.as_str()).unwrap_or("");
            let ranking_word = |w: &str| DESC_WORDS.contains(&w) || ASC_WORDS.contains(&w);
            if ranking_word(prev) || ranking_word(next) || (ranks && names_ranked(i + 1)) {
                top_n = value;
                read[i] = Read::Number;
                continue;
            }
            if is_digits {
                continue;
            }
        }
        // "had at least one price change", "promoted at least once": existence, in a count
        if t.lower == "at"
            && toks.get(i + 1).is_some_and(|t| t.lower == "least")
            && toks
                .get(i + 2)
                .is_some_and(|t| matches!(t.lower.as_str(), "one" | "once" | "1"))
        {
            at_least_one = true;
            for slot in read.iter_mut().skip(i).take(3) {
                *slot = Read::Grammar;
            }
            continue;
        }
        // "purchases that add up to over $46": a total
        if matches!(t.lower.as_str(), "add" | "adds" | "added" | "adding")
            && toks.get(i + 1).is_some_and(|t| t.lower == "up")
        {
            read[i] = Read::Grammar;
            read[i + 1] = Read::Grammar;
            continue;
        }
        // "oldest first", "newest first": the order of a time series
        if t.lower == "first"
            && i > 0
            && matches!(
                toks[i - 1].lower.as_str(),
                "oldest" | "earliest" | "newest" | "latest" | "recent"
            )
        {
            read[i] = Read::Grammar;
            read[i - 1] = Read::Grammar;
            continue;
        }
        // "purchases that add up to over $46": a sum's threshold
        let adds_up = matches!(t.lower.as_str(), "add" | "adds" | "added" | "adding")
            && toks.get(i + 1).is_some_and(|u| u.lower == "up");
        if GRAMMAR.contains(&t.lower.as_str()) || t.text == "%" || adds_up {
            read[i] = Read::Grammar;
        }
    }
    // a negator is read when it negates something: a member or a named filter within the next
    // three words ("excluding Dairy", "not on promotion", "other than Rock"); "compared with
    // all other products" negates nothing the query can say, and is left unread
    for i in 0..n {
        if read[i] != Read::Unread || !NEGATORS.contains(&toks[i].lower.as_str()) {
            continue;
        }
        let negates = (i + 1..n.min(i + 4)).any(|j| match read[j] {
            Read::Member(_) => true,
            Read::Term(k) => matches!(found[k].term, Term::Filter(_)),
            _ => false,
        });
        // "next to each other": no negation
        let each_other = toks[i].lower == "other" && i > 0 && toks[i - 1].lower == "each";
        if negates || each_other {
            read[i] = Read::Grammar;
        }
    }
    // "compared with all other products", "versus the rest", "everything else": the
    // complement of the one member named, as a column beside it
    let mut rest: Option<(usize, usize)> = None;
    for i in 0..n {
        let w = |k: usize| toks.get(k).map(|t| t.lower.as_str()).unwrap_or("");
        let before = |k: usize| if k > 0 { w(k - 1) } else { "" };
        let span = match w(i) {
            "other" | "others" if w(i + 1) != "than" && read[i] == Read::Unread => {
                let mut start = i;
                if before(start) == "the" {
                    start -= 1;
                }
                if matches!(before(start), "all" | "every") {
                    start -= 1;
                }
                let end = match read.get(i + 1) {
                    Some(Read::Term(k)) if w(i) == "other" => found[*k].end,
                    _ => i + 1,
                };
                Some((start, end))
            }
            "rest" if before(i) == "the" => Some((i - 1, i + 1)),
            "else" if matches!(before(i), "everything" | "everyone" | "anything") => {
                Some((i - 1, i + 1))
            }
            _ => None,
        };
        if let Some((start, end)) = span {
            for slot in read.iter_mut().take(end).skip(start) {
                *slot = Read::Grammar;
            }
            rest = Some((start, end));
            break;
        }
    }
    // "in minutes", "in dollars": the unit a metric's description states is part of the metric
    for i in 1..n {
        if read[i] != Read::Unread || toks[i - 1].lower != "in" {
            continue;
        }
        let stated = found.iter().any(|f| match &f.term {
            Term::Metric(m) => manifest
                .metric(m)
                .is_some_and(|x| stems(&x.description).contains(&toks[i].stem)),
            _ => false,
        });
        if stated {
            read[i] = Read::Grammar;
        }
    }
    let unread: Vec<String> = (0..n)
        .filter(|&i| read[i] == Read::Unread)
        .map(|i| toks[i].text.clone())
        .collect();
    if !unread.is_empty() {
        let mut metrics: Vec<String> = Vec::new();
        for f in &found {
            if let Term::Metric(m) = &f.term {
                if !metrics.contains(m) {
                    metrics.push(m.clone());
                }
            }
        }
        return Err(Refusal {
            reason: "words the semantic model does not know".into(),
            unread,
            understood: false,
            metrics,
        });
    }
    let words: Vec<&str> = toks.iter().map(|t| t.lower.as_str()).collect();
    let has = |w: &str| words.contains(&w);
    let has_seq = |seq: &[&str]| words.windows(seq.len()).any(|x| x == seq);
    // the words read as grammar only: a derived figure is asked by these, not by a word inside
    // a metric's name ("promo share" names a metric, "share of revenue" asks for a share)
    let grammar_words: Vec<&str> = (0..n)
        .map(|i| {
            if read[i] == Read::Grammar {
                words[i]
            } else {
                ""
            }
        })
        .collect();
    let ghas = |w: &str| grammar_words.contains(&w);
    let ghas_seq = |seq: &[&str]| grammar_words.windows(seq.len()).any(|x| x == seq);

    // metrics, group-bys, filters
    let mut metrics: Vec<String> = Vec::new();
    let mut named: Vec<(String, usize)> = Vec::new();
    let mut dims: Vec<(Term, usize, usize)> = Vec::new();
    for f in &found {
        match &f.term {
            Term::Metric(m) => {
                if !metrics.contains(m) {
                    metrics.push(m.clone())
                }
            }
            Term::Filter(name) => named.push((name.clone(), f.start)),
            // "all other products" names the rest, not a breakdown by product
            _ if rest.is_some_and(|(a, b)| (a..b).contains(&f.start)) => {}
            t => dims.push((t.clone(), f.start, f.end)),
        }
    }
    // the models a metric reaches (none without a metric)
    let reach_of = |metric: Option<&String>| -> Vec<String> {
        let planner = super::plan::Planner {
            manifest,
            schema,
            dialect: crate::sql::dialect::Dialect::Sqlite,
        };
        metric
            .and_then(|m| planner.home_model(m, 0))
            .map(|home| {
                planner
                    .reachable(&home)
                    .iter()
                    .map(|(m, _)| m.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let reached_by = metrics.first().cloned();
    let mut reached = reach_of(reached_by.as_ref());
    // "How many price changes were promotions?": a named filter the question's metric cannot
    // reach, whose words also name a member of a dimension it reaches (the change reason
    // "Promotion"), is that member
    if !reached.is_empty() {
        let reach = &reached;
        let mut k = 0;
        while k < named.len() {
            let (name, start) = named[k].clone();
            let unreachable = manifest
                .filter(&name)
                .is_some_and(|f| !reach.contains(&f.semantic_model));
            let span = found
                .iter()
                .find(|f| f.start == start && matches!(&f.term, Term::Filter(n) if *n == name));
            let hits: Vec<(String, String, String)> = match span {
                Some(f) if unreachable => member_hits(f.start, f.end - f.start, false)
                    .into_iter()
                    .filter(|(model, _, _)| reach.contains(model))
                    .collect(),
                _ => Vec::new(),
            };
            match span {
                Some(f) if !hits.is_empty() => {
                    members.push(Member {
                        candidates: hits,
                        start: f.start,
                        end: f.end,
                        negated: negated_at(f.start),
                    });
                    named.remove(k);
                }
                _ => k += 1,
            }
        }
    }
    // "promo share of revenue": a metric named after "of" that is an input of another metric
    // the question names (a derived or ratio metric) is that metric's base, not a column
    let inputs = |name: &str| -> Vec<String> {
        manifest
            .metric(name)
            .map(|m| {
                let p = &m.type_params;
                p.metrics
                    .iter()
                    .chain(p.numerator.iter())
                    .chain(p.denominator.iter())
                    .map(|i| i.name().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let base_of_another: Vec<String> = found
        .iter()
        .filter_map(|f| match &f.term {
            Term::Metric(n)
                if f.start > 0
                    && words[f.start - 1] == "of"
                    && metrics.iter().any(|m| m != n && inputs(m).contains(n)) =>
            {
                Some(n.clone())
            }
            _ => None,
        })
        .collect();
    metrics.retain(|m| !base_of_another.contains(m));
    let mut q = MetricQuery::default();
    // a dimension named right next to one of its members qualifies the member ("the Dairy
    // category"); other dimensions and entities are group-bys
    let mut resolved_members: Vec<(DimensionRef, String, bool, usize)> = Vec::new();
    let named_dims: Vec<String> = dims
        .iter()
        .filter_map(|(t, _, _)| match t {
            Term::Dimension { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    // a member's dimension among the models the metric reaches is the one meant ("the North
    // zone" of the stores for revenue, not the competitors' price checks' zone)
    if metrics.first() != reached_by.as_ref() {
        reached = reach_of(metrics.first());
    }
    for m in &mut members {
        if m.candidates
            .iter()
            .any(|(model, _, _)| reached.contains(model))
        {
            m.candidates.retain(|(model, _, _)| reached.contains(model));
        }
    }
    // members compared with each other share one dimension: pick the dimension common to all
    let common: Option<(String, String)> = {
        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for m in &members {
            let mut seen = Vec::new();
            for (model, dim, _) in &m.candidates {
                if !seen.contains(&(model.clone(), dim.clone())) {
                    seen.push((model.clone(), dim.clone()));
                    *counts.entry((model.clone(), dim.clone())).or_default() += 1;
                }
            }
        }
        counts
            .into_iter()
            .find(|(_, c)| *c == members.len() && members.len() > 1)
            .map(|(k, _)| k)
    };
    for m in &members {
        let pick = m
            .candidates
            .iter()
            .find(|(_, d, _)| named_dims.contains(d))
            .or_else(|| {
                common.as_ref().and_then(|(cm, cd)| {
                    m.candidates.iter().find(|(mm, dd, _)| mm == cm && dd == cd)
                })
            })
            .or_else(|| {
                // the coarser dimension (fewer distinct values) of the ones holding the value:
                // the broader reading ("Iron Maiden" the artist, not the album; "Rock" the
                // genre, not a track)
                m.candidates.iter().min_by_key(|(model, dim, _)| {
                    match distinct(manifest, schema, model, dim) {
                        0 => u64::MAX,
                        d => d,
                    }
                })
            })
            .expect("a member has candidates");
        resolved_members.push((
            DimensionRef {
                model: Some(pick.0.clone()),
                name: pick.1.clone(),
            },
            pick.2.clone(),
            m.negated,
            m.start,
        ));
        let _ = m.end;
    }
    let mut qualifier_entities: Vec<String> = Vec::new();
    for (t, start, end) in &dims {
        let qualifies = match t {
            Term::Dimension { name, .. } => {
                resolved_members.iter().any(|(d, _, _, s)| {
                    d.name == *name
                        && (*s == *end || members.iter().any(|m| m.start == *s && m.end == *start))
                })
                    // "in the Frozen Food department": a member named with a type (singular:
                    // "the Dairy brands" are brands), even when the member is of a neighbouring
                    // level (a category, not a department)
                    || members.iter().any(|m| {
                        m.end == *start
                            && !words[*end - 1].ends_with('s')
                            && m.start > 1
                            && words[m.start - 1] == "the"
                            && matches!(words[m.start - 2], "in" | "for" | "from" | "of" | "at")
                            && !m.negated
                    })
            }
            // "Rock tracks", "Dairy products": the entity the member belongs to; and "West
            // zone stores", "Dairy category products": after a dimension naming a member
            Term::Entity(_) => {
                members.iter().any(|m| m.end == *start)
                    // "the average length of the tracks of each media type", "revenue of the
                    // tracks by genre": the rows measured, then the breakdown
                    || ({
                        let mut k = *start;
                        if k > 0 && words[k - 1] == "the" {
                            k -= 1;
                        }
                        k > 0 && words[k - 1] == "of"
                    } && {
                        let mut k = *end;
                        let linked = matches!(
                            words.get(k),
                            Some(&("of" | "in" | "for" | "by" | "per" | "across"))
                        );
                        k += 1;
                        if matches!(words.get(k), Some(&("each" | "every" | "the"))) {
                            k += 1;
                        }
                        linked && dims.iter().any(|(_, s, _)| *s == k)
                    })
                    // "promoted products", "highly elastic products": what a named filter
                    // qualifies
                    || found
                        .iter()
                        .any(|f| matches!(f.term, Term::Filter(_)) && f.end == *start)
                    // "customers in Germany", "stores in the West zone": the member's rows
                    || ({
                        let mut k = *end;
                        let linked = matches!(words.get(k), Some(&("in" | "from")));
                        k += 1;
                        if words.get(k) == Some(&"the") {
                            k += 1;
                        }
                        linked && members.iter().any(|m| m.start == k)
                    } && !(*start > 0
                        && matches!(words[*start - 1], "each" | "every" | "per" | "by")))
                    || dims.iter().any(|(d, s, e)| {
                        *e == *start
                            && matches!(d, Term::Dimension { .. })
                            && members.iter().any(|m| m.end == *s)
                    })
            }
            _ => false,
        };
        if qualifies {
            if let Term::Entity(e) = t {
                qualifier_entities.push(e.clone());
            }
            continue;
        }
        let g = match t {
            Term::Dimension { model, name } => GroupBy::Dimension(DimensionRef {
                model: Some(model.clone()),
                name: name.clone(),
            }),
            Term::Entity(e) => GroupBy::Entity { name: e.clone() },
            _ => continue,
        };
        if !q.group_by.contains(&g) {
            q.group_by.push(g);
        }
    }
    // "the three Neighborhood stores with the most units": ranked, the entity a member
    // qualifies is what is ranked when nothing else is
    let ranks_something = toks.iter().enumerate().any(|(i, t)| {
        DESC_WORDS.contains(&t.lower.as_str())
            || (ASC_WORDS.contains(&t.lower.as_str())
                && !(t.lower == "least" && i > 0 && toks[i - 1].lower == "at"))
    });
    let time_words = words.iter().any(|w| {
        matches!(
            *w,
            "day"
                | "days"
                | "week"
                | "weeks"
                | "month"
                | "months"
                | "quarter"
                | "quarters"
                | "year"
                | "years"
                | "daily"
                | "weekly"
                | "monthly"
                | "quarterly"
                | "yearly"
        )
    });
    if ranks_something && q.group_by.is_empty() && !metrics.is_empty() && !time_words {
        if let Some(e) = qualifier_entities.first() {
            q.group_by.push(GroupBy::Entity { name: e.clone() });
        }
    }
    // "how many stores had at least one price change": the stores among the metric's rows
    let counting_words =
        has_seq(&["how", "many"]) || (has("number") && !number_one) || has("count");
    let through = if at_least_one && counting_words && metrics.len() == 1 {
        metrics.pop()
    } else {
        None
    };
    if at_least_one && !counting_words {
        return cannot_compute("\"at least one\" outside a count", Vec::new());
    }
    // "how many <entity>" counts the entity when no metric is named: the one named right after
    // "how many" / "number of" when there are several ("for each rep, how many customers")
    if metrics.is_empty() {
        let counted_entity = |name: &str| {
            dims.iter().any(|(t, start, end)| {
                // "the albums with the highest track count": the entity before "count"
                let before_count = matches!(words.get(*end), Some(&"count") | Some(&"counts"));
                matches!(t, Term::Entity(e) if e == name)
                    && (before_count || {
                        let mut k = *start;
                        while k > 0
                            && matches!(
                                words[k - 1],
                                "of" | "different"
                                    | "distinct"
                                    | "unique"
                                    | "their"
                                    | "our"
                                    | "the"
                            )
                        {
                            k -= 1;
                        }
                        k > 0 && matches!(words[k - 1], "many" | "number" | "count")
                    })
            })
        };
        let pos = q
            .group_by
            .iter()
            .position(|g| matches!(g, GroupBy::Entity { name } if counted_entity(name)))
            .or_else(|| {
                q.group_by
                    .iter()
                    .position(|g| matches!(g, GroupBy::Entity { .. }))
            });
        // "the albums with the most tracks": the entity right after "most" / "fewest" is
        // counted per the other breakdown
        let most_pos = if q.group_by.len() >= 2 {
            q.group_by.iter().position(|g| {
                matches!(g, GroupBy::Entity { name }
                    if entity_named_after(&dims, &words, name, &["most", "fewest"]))
            })
        } else {
            None
        };
        let pos = if most_pos.is_some() && !counting_words {
            most_pos
        } else {
            pos
        };
        if let Some(pos) = pos {
            if counting_words || most_pos.is_some() {
                if let GroupBy::Entity { name } = q.group_by.remove(pos) {
                    q.entity_count = Some(EntityCount {
                        entity: name,
                        through: through.clone(),
                    });
                }
            }
        } else if let Some(e) = qualifier_entities.first() {
            if counting_words {
                q.entity_count = Some(EntityCount {
                    entity: e.clone(),
                    through: through.clone(),
                });
            }
        }
    }
    // "how many customers made a purchase": an entity named with "a" in a count is a condition
    // of existence (every counted customer has one), not a breakdown
    if q.entity_count.is_some() && !(ghas("average") || ghas("avg") || ghas("mean")) {
        q.group_by.retain(|g| {
            !matches!(g, GroupBy::Entity { name }
                if entity_named_after(&dims, &words, name, &["a", "an"]))
        });
    }
    if through.is_some() && q.entity_count.is_none() {
        return cannot_compute("\"at least one\" of what", Vec::new());
    }
    // "number of distinct tracks sold": the entity the metric's words start with ("tracks" of
    // "tracks sold"), counted among the metric's rows, not the metric (a sum of quantities)
    let distinct_words = ["distinct", "different", "unique"].iter().any(|w| has(w));
    if counting_words && distinct_words && q.entity_count.is_none() && metrics.len() == 1 {
        let metric = metrics[0].clone();
        let entity = found
            .iter()
            .filter(|f| matches!(&f.term, Term::Metric(m) if *m == metric))
            .find_map(|f| {
                // the whole span too: "tracks" of "different tracks were sold", read as the
                // metric "tracks sold" above
                (f.start + 1..=f.end).rev().find_map(|end| {
                    let phrase: Vec<&str> = toks[f.start..end].iter().filter_map(key).collect();
                    lexicon.phrases.get(&phrase.join(" ")).and_then(|ts| {
                        ts.iter().find_map(|t| match t {
                            Term::Entity(e) => Some(e.clone()),
                            _ => None,
                        })
                    })
                })
            });
        if let Some(entity) = entity {
            metrics.clear();
            q.entity_count = Some(EntityCount {
                entity,
                through: Some(metric),
            });
        }
    }
    // a distinct count the metric (a sum) is not
    if counting_words
        && q.entity_count.is_none()
        && ["distinct", "different", "unique"].iter().any(|w| has(w))
    {
        return cannot_compute("a distinct count of what the metric sums", Vec::new());
    }
    // "how many price increases": the rows of a named filter's model, counted by its key
    if metrics.is_empty()
        && q.entity_count.is_none()
        && named.len() == 1
        && (has_seq(&["how", "many"]) || has("number") || has("count"))
    {
        let entity = manifest
            .filter(&named[0].0)
            .and_then(|f| manifest.model(&f.semantic_model))
            .and_then(|m| m.primary_entity())
            .map(|e| e.name.clone());
        if let Some(entity) = entity {
            q.entity_count = Some(EntityCount {
                entity,
                through: None,
            });
        }
    }
    // "which categories grew fastest", "which month sold the most", "the best performing
    // store": a growth, a sale or a performance with no metric named is about the model's
    // headline metric, its first
    let selling = [
        "sold",
        "sell",
        "sells",
        "selling",
        "bought",
        "purchased",
        "grossing",
        "earning",
        "earners",
        "performing",
        "performer",
        "performers",
        "performed",
        "performance",
        "spend",
        "spends",
        "spent",
        "spending",
    ]
    .iter()
    .any(|w| has(w));
    let growing = ["grew", "grow", "growing", "growth", "declined", "decline"]
        .iter()
        .any(|w| has(w));
    // "number of categories", "how many brands": a count of a dimension's values is not
    // compiled here (an entity is counted; a dimension is not)
    for (i, w) in words.iter().enumerate() {
        if read[i] != Read::Grammar || !matches!(*w, "number" | "count" | "many") {
            continue;
        }
        let j = if words.get(i + 1) == Some(&"of") {
            i + 2
        } else {
            i + 1
        };
        let Some(Term::Dimension { model, name }) =
            found.iter().find(|f| f.start == j).map(|f| f.term.clone())
        else {
            continue;
        };
        if !metrics.is_empty() || q.entity_count.is_some() || q.dimension_count.is_some() {
            return cannot_compute(
                "a count of a dimension's values beside another figure",
                vec![toks[i].text.clone()],
            );
        }
        let d = DimensionRef {
            model: Some(model),
            name,
        };
        q.group_by
            .retain(|g| !matches!(g, GroupBy::Dimension(x) if *x == d));
        // "brands sold in Snacks": among the sales' rows
        let through = if selling {
            manifest.metrics.first().map(|m| m.name.clone())
        } else {
            None
        };
        q.dimension_count = Some(super::query::DimensionCount {
            dimension: d,
            through,
        });
    }
    let counting = has_seq(&["how", "many"]) || (has("number") && !number_one) || has("count");
    // "the most popular genre": popularity is the units sold, when the model has a metric of
    // units (named so, or with "units" or "quantity" among its synonyms)
    if metrics.is_empty() && q.entity_count.is_none() && (has("popular") || has("popularity")) {
        let units = manifest.metrics.iter().find(|m| {
            m.name.contains("units")
                || m.synonyms
                    .iter()
                    .any(|s| matches!(s.as_str(), "units" | "units sold" | "quantity"))
        });
        if let Some(m) = units {
            metrics.push(m.name.clone());
        }
    }
    if metrics.is_empty()
        && (selling || growing)
        && (q.entity_count.is_none() && !counting || has_seq(&["how", "much"]))
    {
        // "how many stores ..., and how much did each sell": the count and the headline metric
        if let Some(m) = manifest.metrics.first() {
            metrics.push(m.name.clone());
        }
    }
    // "the best selling products in Dairy", "the most popular tracks of Queen": with the metric
    // known only now, the entity a member qualifies is what is ranked, as above
    if ranks_something && q.group_by.is_empty() && !metrics.is_empty() && !time_words {
        if let Some(e) = qualifier_entities.first() {
            q.group_by.push(GroupBy::Entity { name: e.clone() });
        }
    }
    // "the average price increase by approver": an average of the rows a named filter keeps
    // by a condition on a column ("change_percent > 0") is the average metric of that column
    if metrics.is_empty()
        && q.entity_count.is_none()
        && q.dimension_count.is_none()
        && (ghas("average") || ghas("avg") || ghas("mean"))
        && named.len() == 1
    {
        let filter = manifest.filter(&named[0].0);
        let averages_there: Vec<&str> = manifest
            .metrics
            .iter()
            .filter(|m| {
                m.type_params.measure.as_ref().is_some_and(|i| {
                    manifest.measure(i.name()).is_some_and(|(sm, me)| {
                        let column = me.expr.as_deref().unwrap_or(&me.name);
                        filter.is_some_and(|f| {
                            f.semantic_model == sm.name
                                && f.expr
                                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                                    .any(|w| w.eq_ignore_ascii_case(column))
                        }) && matches!(me.agg, super::model::Agg::Average)
                    })
                })
            })
            .map(|m| m.name.as_str())
            .collect();
        if let [one] = averages_there.as_slice() {
            metrics.push(one.to_string());
        }
    }
    if metrics.is_empty() && q.entity_count.is_none() && q.dimension_count.is_none() {
        return refuse("no metric named", Vec::new());
    }
    // members: side by side when compared, else a filter
    // "X vs Y", and "side by side", "next to each other", "split into", "respectively"
    let comparing = COMPARE.iter().any(|w| has(w))
        || has_seq(&["side", "by", "side"])
        || has("side-by-side")
        || has_seq(&["next", "to"])
        || has("split")
        || has("respectively");
    let mut by_dim: Vec<(DimensionRef, Vec<String>, bool)> = Vec::new();
    for (d, v, neg, _) in &resolved_members {
        match by_dim.iter_mut().find(|(x, _, n)| x == d && n == neg) {
            // "Coffee products ... below the Coffee category's margin": one member, named twice
            Some((_, vs, _)) if vs.contains(v) => {}
            Some((_, vs, _)) => vs.push(v.clone()),
            None => by_dim.push((d.clone(), vec![v.clone()], *neg)),
        }
    }
    // "Jane Peacock versus Margaret Park": members of two dimensions compared pairwise are
    // not two filters
    if comparing
        && by_dim
            .iter()
            .filter(|(_, vs, neg)| vs.len() >= 2 && !neg)
            .count()
            >= 2
    {
        return cannot_compute(
            "members of several dimensions compared side by side",
            Vec::new(),
        );
    }
    let mut slices: Vec<Slice> = Vec::new();
    if rest.is_some() {
        match by_dim.as_slice() {
            [(d, vs, false)] if vs.len() == 1 => {
                slices = vec![
                    Slice::Member {
                        dimension: d.clone(),
                        value: vs[0].clone(),
                        negated: false,
                    },
                    Slice::Member {
                        dimension: d.clone(),
                        value: vs[0].clone(),
                        negated: true,
                    },
                ];
                by_dim.clear();
            }
            // "highly elastic products compared with all other products": a named filter
            [] if named.len() == 1 => {
                let (name, _) = named.remove(0);
                slices = vec![
                    Slice::Named {
                        name: name.clone(),
                        negated: false,
                    },
                    Slice::Named {
                        name,
                        negated: true,
                    },
                ];
            }
            _ => return cannot_compute("\"the rest\" beside anything but one member", Vec::new()),
        }
    }
    for (d, vs, neg) in by_dim {
        if comparing && vs.len() >= 2 && !neg && slices.is_empty() {
            slices.extend(vs.into_iter().map(|value| Slice::Member {
                dimension: d.clone(),
                value,
                negated: false,
            }));
        } else {
            q.filters.push(Filter::Members {
                dimension: d,
                values: vs,
                negated: neg,
            });
        }
    }
    // named filters: "with and without X", "X vs Y" side by side
    if has_seq(&["with", "and", "without"]) && named.len() == 1 && slices.is_empty() {
        let (f, at) = named[0].clone();
        // "with and without promotion" may have read "without promotion" as the negative
        // filter: "with" comes first either way
        let negative = words[at] == "without" || words[at] == "not" || words[at] == "non";
        slices.push(Slice::Named {
            name: f.clone(),
            negated: negative,
        });
        slices.push(Slice::Named {
            name: f,
            negated: !negative,
        });
    } else if named.len() >= 2
        && slices.is_empty()
        && (comparing
            || contradictory(
                manifest,
                &named.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            ))
    {
        for (f, _) in &named {
            slices.push(Slice::Named {
                name: f.clone(),
                negated: false,
            });
        }
    } else {
        for (f, at) in &named {
            let negated = *at > 0 && NEGATORS.contains(&words[*at - 1]);
            q.filters.push(Filter::Named {
                name: f.clone(),
                negated,
            });
        }
    }
    // grain
    let grain_word = |w: &str| -> Option<Grain> {
        Some(match w {
            "daily" | "day" | "days" => Grain::Day,
            "weekly" | "week" | "weeks" => Grain::Week,
            "monthly" | "month" | "months" => Grain::Month,
            "quarterly" | "quarter" | "quarters" => Grain::Quarter,
            "yearly" | "annual" | "annually" | "year" | "years" => Grain::Year,
            _ => return None,
        })
    };
    // the words without hyphens and articles: "month-over-month", "above the overall average",
    // "below-average", "beat the average genre"
    let plain: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !matches!(*w, "-" | "the" | "overall" | "a" | "an"))
        .collect();
    let pseq = |seq: &[&str]| plain.windows(seq.len()).any(|x| x == seq);
    let mut grain: Option<Grain> = None;
    for (i, w) in words.iter().enumerate() {
        if !matches!(read[i], Read::Grammar) {
            continue;
        }
        let Some(g) = grain_word(w) else { continue };
        // "month-over-month": the words either side of a hyphen
        let prev = match i {
            0 => "",
            1 => words[0],
            _ if words[i - 1] == "-" => words[i - 2],
            _ => words[i - 1],
        };
        let next = match words.get(i + 1) {
            Some(&"-") => words.get(i + 2).copied(),
            n => n.copied(),
        };
        let adjective = matches!(
            *w,
            "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annual" | "annually"
        );
        // "revenue by store format and year": the last of a list of breakdowns
        let listed = prev == "and"
            && words[..i]
                .iter()
                .any(|w| matches!(*w, "by" | "per" | "each" | "every"));
        // "from year to year", "month to month": each period after the one before
        let period_to_period = next == Some("to")
            && words.get(i + 2).and_then(|n| grain_word(n)) == Some(g)
            || (prev == "to" && i >= 2 && grain_word(words[i - 2]) == Some(g));
        let grouped = matches!(
            prev,
            "by" | "per" | "each" | "every" | "which" | "what" | "over" | "average"
        ) || listed
            || period_to_period
            || (words.get(i + 1) == Some(&"by")
                && words.get(i + 2).and_then(|n| grain_word(n)) == Some(g));
        // "months of 2024 with above-average revenue": the rows asked for are the periods
        let subject = matches!(*w, "days" | "weeks" | "months" | "quarters" | "years")
            && (i == 0 || matches!(prev, "the" | "which" | "what" | "list" | "show"))
            && matches!(next, Some("of" | "with" | "where" | "when" | "that" | "in"));
        if adjective || grouped || subject {
            grain = Some(g);
        } else if matches!(*w, "year" | "month" | "quarter" | "week") && next == Some("over") {
            // "year over year": read below
        } else if !matches!(
            prev,
            "last" | "this" | "next" | "previous" | "to" | "that" | "same"
        ) {
            // a bare "weeks" or "months" ("promoted weeks", "months with ..."): a breakdown or
            // a condition on the rows? Not read: the other generators get their turn.
            return refuse(
                "a time word that is neither a breakdown nor a period",
                vec![toks[i].text.clone()],
            );
        }
    }
    let over_period = |unit: &str| pseq(&[unit, "over", unit]);
    if grain.is_none()
        && (has("trend") || has("trends") || has("trended") || has_seq(&["over", "time"]))
    {
        grain = Some(Grain::Month);
    }
    // derived figures
    let share = ghas("share")
        || ghas("contribution")
        || ghas("contribute")
        || ghas("contributed")
        || ghas("contributes")
        || ghas_seq(&["percent", "of"])
        || ghas_seq(&["percentage", "of"])
        || ghas_seq(&["%", "of"]);
    let growth = ghas("growth")
        || ghas("grew")
        || ghas("grow")
        || ghas("growing")
        || ghas("change")
        || ghas("changed")
        || ghas("increase")
        || ghas("decline")
        || ghas("declined")
        || DROP_WORDS.iter().any(|w| ghas(w))
        || ghas("rose")
        || ghas("rise")
        || ghas("increased")
        || ghas("yoy")
        || ghas("mom")
        || ghas("qoq")
        || over_period("year")
        || over_period("month")
        || over_period("quarter")
        || over_period("week");
    // "how was revenue split between the agents, in percent": a share, unless a change is
    // what is asked in percent
    let share = share
        || (!growth
            && (ghas_seq(&["in", "percent"])
                || ghas_seq(&["as", "percent"])
                || ghas_seq(&["as", "a", "percent"])
                || ghas_seq(&["as", "a", "percentage"])
                || ghas_seq(&["in", "percentage"])
                || ghas_seq(&["in", "%"])));
    let running = ghas("running") || ghas("cumulative") || ghas("cumulatively");
    let above = ["above", "beat", "beats", "exceed", "exceeds", "exceeded"]
        .iter()
        .any(|w| pseq(&[w, "average"]))
        || ["more", "higher", "better", "greater"]
            .iter()
            .any(|w| pseq(&[w, "than", "average"]));
    let below = ["below", "under"].iter().any(|w| pseq(&[w, "average"]))
        || ["less", "lower", "worse", "smaller"]
            .iter()
            .any(|w| pseq(&[w, "than", "average"]));
    // "products with a margin percent below the Coffee category's margin percent", "above the
    // overall conversion rate": an average or a ratio named again after the comparison, over
    // no member but those the rows are filtered on, is its value over the whole
    let versus_itself = |dir: &[&str]| -> bool {
        let Some(first) = metrics.first().filter(|m| averages(manifest, m)) else {
            return false;
        };
        (0..n).any(|i| {
            if !dir.contains(&words[i]) {
                return false;
            }
            let again = found.iter().find(|f| {
                f.start > i && f.start <= i + 6 && matches!(&f.term, Term::Metric(m) if m == first)
            });
            let named_before = found
                .iter()
                .any(|f| f.start < i && matches!(&f.term, Term::Metric(m) if m == first));
            let Some(again) = again else { return false };
            let member_value = |k: usize| members[k].candidates.first().map(|c| &c.2);
            named_before
                && (i + 1..again.start).all(|j| match read[j] {
                    Read::Member(k) => members
                        .iter()
                        .enumerate()
                        .any(|(o, m)| m.end <= i && member_value(o) == member_value(k)),
                    Read::Term(k) => !matches!(found[k].term, Term::Metric(_) | Term::Filter(_)),
                    _ => true,
                })
        })
    };
    let above =
        above || versus_itself(&["above", "exceed", "exceeds", "exceeded", "beat", "beats"]);
    let below = below || versus_itself(&["below", "under"]);
    let desc = DESC_WORDS.iter().any(|w| has(w)) || number_one;
    let averaging_asked = ghas("average") || ghas("avg") || ghas("mean");
    let newest_first = ["newest", "latest", "recent"]
        .iter()
        .any(|w| has_seq(&[w, "first"]));
    let asc = words.iter().enumerate().any(|(i, w)| {
        ASC_WORDS.contains(w) && !(at_least_one && *w == "least" && i > 0 && words[i - 1] == "at")
    });
    let ranked_within = has("each") || has("every") || has("per");
    // "declined the most", "the largest drop": a fall, whose largest is the lowest growth
    let falling = DROP_WORDS.iter().any(|w| ghas(w)) || ghas("decline") || ghas("declined");

    // periods: one is the query's period; two compared make a growth or side-by-side columns
    // ("2024 revenue next to the price changes made in 2024" names one period twice)
    periods.dedup_by(|b, a| a.0.start == b.0.start && a.0.end == b.0.end);
    let mut period_slices: Vec<Period> = Vec::new();
    let mut decline_between: Option<bool> = None;
    match periods.len() {
        0 => {}
        1 if growth && grain.is_none() && endpoints[0].is_some() => {
            // "grew from 2023 to 2024", "change between 2024 and 2025": the two periods;
            // "which stores saw revenue fall from 2023 to 2024": only the rows that fell
            let [a, b] = endpoints[0].clone().expect("checked");
            period_slices = vec![a, b];
            if falling && !desc && !asc && !q.group_by.is_empty() {
                decline_between = Some(true);
            }
        }
        1 => {
            let p = periods[0].0.clone();
            let last_year_compare = (has_seq(&["last", "year"])
                || has_seq(&["previous", "year"])
                || has_seq(&["prior", "year"]))
                && !p.text.to_lowercase().contains("last year");
            let previous = ["last ", "previous ", "prior "]
                .iter()
                .any(|w| p.text.to_lowercase().starts_with(w));
            if (growth || comparing) && grain.is_none() && previous && slices.is_empty() {
                // "how did revenue compare to last year": last year next to this one
                if let Some(next) = following(&p) {
                    period_slices = vec![p, next];
                } else {
                    return cannot_compute("a growth needs two periods", Vec::new());
                }
            } else if growth && grain.is_none() && (comparing || last_year_compare) {
                return cannot_compute("a growth needs two periods", Vec::new());
            } else {
                q.period = Some(p);
            }
        }
        2 => {
            let (mut a, mut b) = (periods[0].0.clone(), periods[1].0.clone());
            // "lower revenue in 2024 than in 2023": the first period named against the one
            // after "than"
            let lower = ["lower", "less", "fewer", "smaller", "worse"]
                .iter()
                .any(|w| has(w));
            let higher = ["higher", "more", "greater", "bigger", "better"]
                .iter()
                .any(|w| has(w));
            let first_later = a.start > b.start;
            if first_later {
                std::mem::swap(&mut a, &mut b);
            }
            if has("than") && (lower != higher) {
                // the later period is lower when the first named is the later one and lower
                decline_between = Some(lower == first_later);
                period_slices = vec![a, b];
            } else if comparing || growth {
                period_slices = vec![a, b];
            } else if a.end.is_some() && a.end == b.start && has("and") {
                // "by month for 2023 and 2024": one period, the two back to back
                q.period = Some(Period {
                    start: a.start,
                    end: b.end,
                    text: format!("{} and {}", a.text, b.text),
                });
            } else {
                return cannot_compute("two periods without a comparison", Vec::new());
            }
        }
        _ => return cannot_compute("more than two periods", Vec::new()),
    }
    // columns
    if !period_slices.is_empty() {
        if metrics.len() != 1 || !slices.is_empty() {
            return cannot_compute(
                "a comparison of periods needs exactly one metric",
                Vec::new(),
            );
        }
        for p in period_slices {
            q.columns.push(MetricColumn {
                metric: metrics[0].clone(),
                slice: Some(Slice::Period(p)),
            });
        }
        // the rows of both periods, and only those
        q.period = None;
        if let Some(decline) = decline_between {
            q.derived = Some(Derived::PeriodGrowthWhere { decline });
        } else if growth {
            q.derived = Some(Derived::PeriodGrowth);
        }
    } else if !slices.is_empty() {
        if metrics.len() != 1 {
            return cannot_compute("side-by-side members need exactly one metric", Vec::new());
        }
        for s in slices {
            q.columns.push(MetricColumn {
                metric: metrics[0].clone(),
                slice: Some(s),
            });
        }
    } else {
        for m in &metrics {
            q.columns.push(MetricColumn {
                metric: m.clone(),
                slice: None,
            });
        }
    }
    q.time_grain = grain;
    // "revenue per store" beside another breakdown ("revenue per store by zone", "which zones
    // had the lowest revenue per store"): the revenue of the average store of each zone, the
    // metric per store averaged within the other breakdown; not "the best store in each zone"
    let metric_per: Vec<String> = q
        .group_by
        .iter()
        .filter_map(|g| match g {
            GroupBy::Entity { name } if metric_named_per(&found, &dims, &words, name) => {
                Some(name.clone())
            }
            _ => None,
        })
        .collect();
    // kept for "below-average revenue per store" after the branches below take `metric_per`
    let per_entities = metric_per.clone();
    let figures = q.figure_count();
    // "revenue per square foot": a metric per another metric is their ratio
    let per_metric = found.iter().any(|f| {
        f.start > 0
            && words[f.start - 1] == "per"
            && matches!(&f.term, Term::Metric(m) if q.columns.get(1).is_some_and(|c| c.metric == *m))
    });
    if per_metric
        && figures == 2
        && q.columns.len() == 2
        && q.derived.is_none()
        && q.time_grain.is_none()
        && q.columns.iter().all(|c| c.slice.is_none())
        && !(averaging_asked || share || running || growth || above || below)
    {
        q.derived = Some(Derived::Ratio);
    }
    let mut ranked_within = ranked_within;
    if !metric_per.is_empty()
        && q.group_by.len() > metric_per.len()
        && q.derived.is_none()
        && q.time_grain.is_none()
        && figures == 1
        && q.columns.iter().all(|c| c.slice.is_none())
        && !(averaging_asked || share || running || growth || above || below)
    {
        q.group_by
            .retain(|g| !matches!(g, GroupBy::Entity { name } if metric_per.contains(name)));
        q.derived = Some(Derived::AveragePer { per: metric_per });
        ranked_within = has("each") || has("every");
    } else if !metric_per.is_empty()
        && q.group_by.len() == metric_per.len()
        && q.derived.is_none()
        && q.time_grain.is_none()
        && figures >= 2
        && figures == q.columns.len()
        && q.columns
            .iter()
            .all(|c| matches!(c.slice, Some(Slice::Member { .. } | Slice::Named { .. })))
        && !(averaging_asked || share || running || growth || above || below)
    {
        // "revenue per store: Supercenter compared with Express": each member's figure per
        // store of its own, side by side
        q.group_by.clear();
        q.derived = Some(Derived::AveragePer { per: metric_per });
    }
    let first_metric = metrics.first().and_then(|m| manifest.metric(m));
    let lower_better = first_metric.is_some_and(|m| m.lower_is_better);
    if q.derived.is_none() {
        if share {
            // "what share of revenue came from Rock": the member's share of the whole, not a
            // share among the rows of the member alone; "customers in the USA" names the
            // member's rows, not a breakdown by customer
            let positive: Vec<usize> = q
                .filters
                .iter()
                .enumerate()
                .filter(|(_, f)| matches!(f, Filter::Members { negated: false, .. }))
                .map(|(i, _)| i)
                .collect();
            if !positive.is_empty() {
                let before_member = |end: usize| {
                    let mut k = end;
                    if !matches!(words.get(k), Some(&("in" | "from" | "of"))) {
                        return false;
                    }
                    k += 1;
                    if words.get(k) == Some(&"the") {
                        k += 1;
                    }
                    members.iter().any(|m| m.start == k)
                };
                q.group_by.retain(|g| match g {
                    GroupBy::Entity { name } => !dims.iter().any(|(t, start, end)| {
                        matches!(t, Term::Entity(e) if e == name)
                            && before_member(*end)
                            && !(*start > 0
                                && matches!(words[*start - 1], "each" | "every" | "per" | "by"))
                    }),
                    GroupBy::Dimension(_) => true,
                });
            }
            // "what share of revenue came from promotions in each zone", "what percent of units
            // were sold on promotion by department": a filter named after the metric with a
            // verb or "from" between is the part of each group's whole; one that qualifies the
            // metric ("promoted revenue", "revenue in Dairy") is the whole of a share among
            // the groups
            let metric_end = found
                .iter()
                .find(|f| matches!(&f.term, Term::Metric(m) if metrics.first() == Some(m)))
                .map(|f| f.end);
            let part_of_groups = |start: usize| {
                metric_end.is_some_and(|end| {
                    end <= start
                        && words[end..start].iter().any(|w| {
                            matches!(
                                *w,
                                "from" | "came" | "come" | "comes" | "were" | "was" | "is" | "are"
                            )
                        })
                })
            };
            let grouped_part = !q.group_by.is_empty()
                && q.time_grain.is_none()
                && q.columns.len() == 1
                && q.columns[0].slice.is_none()
                && q.filters.len() == 1;
            // "what percentage of the tracks sold were videos": a named filter's share
            let named_part = positive.is_empty()
                && (q.group_by.is_empty()
                    || (grouped_part
                        && named.iter().any(|(n, start)| {
                            matches!(&q.filters[0], Filter::Named { name, .. } if name == n)
                                && part_of_groups(*start)
                        })))
                && q.columns.len() == 1
                && q.columns[0].slice.is_none()
                && q.filters.len() == 1
                && matches!(q.filters[0], Filter::Named { negated: false, .. });
            if named_part {
                let Filter::Named { name, .. } = q.filters.remove(0) else {
                    unreachable!("checked")
                };
                let metric = q.columns[0].metric.clone();
                q.columns = vec![
                    MetricColumn {
                        metric: metric.clone(),
                        slice: Some(Slice::Named {
                            name,
                            negated: false,
                        }),
                    },
                    MetricColumn {
                        metric,
                        slice: None,
                    },
                ];
                q.derived = Some(Derived::ShareOfWhole);
            } else if !positive.is_empty()
                && (!q
                    .group_by
                    .iter()
                    .any(|g| matches!(g, GroupBy::Dimension(_)))
                    || (grouped_part
                        && members
                            .iter()
                            .any(|m| !m.negated && part_of_groups(m.start))))
            {
                let Filter::Members {
                    dimension, values, ..
                } = q.filters[positive[0]].clone()
                else {
                    unreachable!("positive member filters")
                };
                if positive.len() != 1
                    || values.len() != 1
                    || q.columns.len() != 1
                    || (!q.group_by.is_empty() && !grouped_part)
                {
                    return cannot_compute(
                        "the share of more than one member in the whole is not read",
                        Vec::new(),
                    );
                }
                q.filters.remove(positive[0]);
                let metric = q.columns[0].metric.clone();
                q.columns = vec![
                    MetricColumn {
                        metric: metric.clone(),
                        slice: Some(Slice::Member {
                            dimension,
                            value: values[0].clone(),
                            negated: false,
                        }),
                    },
                    MetricColumn {
                        metric,
                        slice: None,
                    },
                ];
                q.derived = Some(Derived::ShareOfWhole);
            } else {
                if q.group_by.is_empty() && q.time_grain.is_none() {
                    return cannot_compute("a share needs something to share among", Vec::new());
                }
                q.derived = Some(Derived::ShareOfTotal);
            }
        } else if running {
            if q.time_grain.is_none() {
                q.time_grain = Some(Grain::Month);
            }
            q.derived = Some(Derived::RunningTotal);
        } else if growth {
            let g = q.time_grain;
            let lag = if over_period("year") || has("yoy") {
                match g {
                    Some(Grain::Month) => 12,
                    Some(Grain::Quarter) => 4,
                    Some(Grain::Week) => 52,
                    Some(Grain::Year) | None => 1,
                    Some(Grain::Day) => {
                        return cannot_compute("year over year at day grain", Vec::new())
                    }
                }
            } else {
                1
            };
            if g.is_none() {
                if over_period("year") || has("yoy") {
                    q.time_grain = Some(Grain::Year);
                } else if over_period("month") || has("mom") {
                    q.time_grain = Some(Grain::Month);
                } else if over_period("quarter") || has("qoq") {
                    q.time_grain = Some(Grain::Quarter);
                } else {
                    return cannot_compute(
                        "a growth needs two periods or a time grain",
                        Vec::new(),
                    );
                }
            }
            if q.columns.len() != 1 {
                return cannot_compute("a growth of several metrics", Vec::new());
            }
            q.derived = Some(Derived::PeriodOverPeriod { lag });
        } else if above || below {
            // "which Coffee products had a margin below ...": the entity the member qualifies
            if q.group_by.is_empty() && q.time_grain.is_none() {
                if let Some(e) = qualifier_entities.first() {
                    q.group_by.push(GroupBy::Entity { name: e.clone() });
                }
            }
            if q.group_by.is_empty() && q.time_grain.is_none() {
                return cannot_compute("above or below the average of what", Vec::new());
            }
            // an average or a ratio is compared with its value over the whole, a total with
            // the average of the rows' totals
            let of_whole = q.columns.iter().any(|c| averages(manifest, &c.metric));
            // "zones with below-average revenue per store": the figure per store, against the
            // revenue per store of all stores
            let per = per_entities;
            let per_entity = !per.is_empty()
                && !of_whole
                && q.figure_count() == 1
                && !q.columns.iter().any(|c| c.slice.is_some());
            if per_entity {
                q.group_by
                    .retain(|g| !matches!(g, GroupBy::Entity { name } if per.contains(name)));
                if q.group_by.is_empty() && q.time_grain.is_none() {
                    return cannot_compute("above or below the average of what", Vec::new());
                }
            }
            q.derived = Some(Derived::VersusAverage {
                above,
                of_whole: of_whole || per_entity,
                per: if per_entity { per } else { Vec::new() },
            });
        } else if (desc || asc) && ranked_within && q.group_by.len() == 2 {
            // "top 3 products in each category": rank the one named without "each" within the
            // one named with it ("within each genre, which artist"); else the first within the
            // second
            let with_each = |g: &GroupBy| {
                dims.iter().any(|(t, start, _)| {
                    let same = match (t, g) {
                        (Term::Entity(e), GroupBy::Entity { name }) => e == name,
                        (Term::Dimension { name, .. }, GroupBy::Dimension(d)) => *name == d.name,
                        _ => false,
                    };
                    same && *start > 0 && matches!(words[*start - 1], "each" | "every" | "per")
                })
            };
            if !(with_each(&q.group_by[0]) && !with_each(&q.group_by[1])) {
                q.group_by.swap(0, 1);
            }
            q.derived = Some(Derived::RankWithin {
                top: top_n.or(Some(1)),
                ascending: asc != lower_better,
            });
        } else if ghas("rank") || ghas("ranked") || ghas("ranking") {
            // "rank the zones by margin", "where does each category rank on units"
            if q.group_by.len() != 1 || q.time_grain.is_some() || q.columns.len() != 1 {
                return cannot_compute("a rank of one breakdown by one metric", Vec::new());
            }
            q.derived = Some(Derived::Rank {
                ascending: asc != lower_better,
            });
        } else if averaging_asked
            && !comparing
            && !q.columns.iter().any(|c| averages(manifest, &c.metric))
        {
            // "average weekly revenue per store", "units a store sells in an average week":
            // the metric per store (and week), averaged
            let per: Vec<String> = dims
                .iter()
                .filter_map(|(t, start, _)| match t {
                    Term::Entity(e)
                        if *start > 0 && matches!(words[*start - 1], "per" | "a" | "an") =>
                    {
                        Some(e.clone())
                    }
                    _ => None,
                })
                .collect();
            q.group_by
                .retain(|g| !matches!(g, GroupBy::Entity { name } if per.contains(name)));
            if per.is_empty() && q.time_grain.is_none() {
                return cannot_compute(
                    "an average of a total needs what it is per (a store, a week)",
                    Vec::new(),
                );
            }
            if q.figure_count() != 1 || q.columns.iter().any(|c| c.slice.is_some()) {
                return cannot_compute("an average of several figures", Vec::new());
            }
            q.derived = Some(Derived::AveragePer { per });
        }
    }
    // a threshold compares each row's one figure ("stores that sold more than $1M in 2024")
    if let Some(t) = threshold {
        let figures = q.figure_count();
        let rows = !q.group_by.is_empty() || q.time_grain.is_some();
        let derived_ok = matches!(q.derived, None | Some(Derived::AveragePer { .. }));
        if figures != 1 || !rows || !derived_ok || q.columns.iter().any(|c| c.slice.is_some()) {
            return cannot_compute(
                "a threshold on a figure needs one figure per row of a breakdown",
                Vec::new(),
            );
        }
        q.having = Some(t);
    }
    // "revenue per store" beside members or another derived figure ("revenue per store:
    // Supercenter compared with Express", "zones with below-average revenue per store") asks for
    // a ratio to the number of stores that is not read yet; a breakdown by store would answer
    // another question
    if !matches!(q.derived, Some(Derived::AveragePer { .. })) {
        let per_entity = q.group_by.iter().any(|g| {
            matches!(g, GroupBy::Entity { name } if entity_named_after(&dims, &words, name, &["per"]))
        });
        let beside = q.group_by.len() > 1
            || q.columns
                .iter()
                .any(|c| matches!(c.slice, Some(Slice::Member { .. } | Slice::Named { .. })));
        if per_entity && beside {
            return cannot_compute(
                "a figure per entity beside members or another derived figure (a ratio to their number)",
                vec!["per".into()],
            );
        }
    }
    if matches!(q.derived, Some(Derived::Rank { .. })) {
        q.order = vec![Order {
            by: OrderBy::Figure,
            descending: false,
        }];
        q.limit = top_n;
        unused_signal(manifest, &toks, &read, &q)?;
        return Ok(q);
    }
    if q.group_by.len() > 2
        || (q.group_by.len() == 2 && q.derived.is_none() && (desc || asc) && top_n.is_some())
    {
        return cannot_compute("too many breakdowns to rank", Vec::new());
    }
    // order and limit
    let ranking = desc || asc;
    // an average per week is one figure, not a series
    let series = q.time_grain.is_some() && !matches!(q.derived, Some(Derived::AveragePer { .. }));
    if !matches!(q.derived, Some(Derived::RankWithin { .. })) {
        if ranking {
            let descending = if desc && !asc {
                !lower_better
            } else {
                lower_better
            };
            let change = matches!(
                q.derived,
                Some(Derived::PeriodGrowth | Derived::PeriodOverPeriod { .. })
            );
            let descending = descending != (change && falling);
            q.order.push(Order {
                by: OrderBy::Figure,
                descending,
            });
            // "which store" (singular) asks for one
            let singular_pick = top_n.is_none() && singular_subject(&toks, &found, &words);
            q.limit = top_n.or(if singular_pick { Some(1) } else { None });
            if q.group_by.is_empty() && !series {
                return cannot_compute("a ranking with nothing to rank", Vec::new());
            }
        } else if series {
            if !q.group_by.is_empty() {
                q.order.push(Order {
                    by: OrderBy::Groups,
                    descending: false,
                });
            }
            q.order.insert(
                0,
                Order {
                    by: OrderBy::Time,
                    descending: false,
                },
            );
        } else if let Some(Derived::VersusAverage { above, .. }) = q.derived {
            // the rows furthest above (or below) the average first
            q.order.push(Order {
                by: OrderBy::Figure,
                descending: above,
            });
        } else if let Some(Derived::PeriodGrowthWhere { decline }) = q.derived {
            // the largest decline (or increase) first
            q.order.push(Order {
                by: OrderBy::Figure,
                descending: !decline,
            });
        } else if !q.group_by.is_empty() {
            // several figures side by side (members, periods, metrics): none is the sort key,
            // the rows come in the order of what they are broken down by
            let peers = q.figure_count() >= 2;
            q.order.push(Order {
                by: if peers {
                    OrderBy::Groups
                } else {
                    OrderBy::Figure
                },
                descending: !peers,
            });
        }
        if series && ranking && !q.group_by.is_empty() && top_n.is_none() {
            q.order.insert(
                0,
                Order {
                    by: OrderBy::Time,
                    descending: false,
                },
            );
            q.limit = None;
        }
    }
    if let Some(Derived::RankWithin { .. }) = q.derived {
        q.limit = None;
    }
    if !ranking {
        long_layout(&mut q);
    }
    if newest_first {
        match q.order.iter_mut().find(|o| o.by == OrderBy::Time) {
            Some(o) => o.descending = true,
            None if series => q.order.insert(
                0,
                Order {
                    by: OrderBy::Time,
                    descending: true,
                },
            ),
            None => return cannot_compute("newest first, with no time to order by", Vec::new()),
        }
    }
    let _ = reference.date.year();
    unused_signal(manifest, &toks, &read, &q)?;
    Ok(q)
}

/// Refuses a question whose words ask for a figure the metric query does not compute: read
/// as grammar, these words carry meaning ("rank", "above the average", "percentage", "at
/// least once", "how many brands"), and a query that ignored them would answer another
/// question with confidence.
fn unused_signal(
    manifest: &SemanticManifest,
    toks: &[Token],
    read: &[Read],
    q: &MetricQuery,
) -> Result<(), Refusal> {
    // a metric that is itself an average or a ratio uses the word "average" ("the average
    // price index", "average selling price")
    let averaging = matches!(q.derived, Some(Derived::AveragePer { .. }))
        || q.columns.iter().any(|c| averages(manifest, &c.metric));
    let grammar = |i: usize| read[i] == Read::Grammar;
    let word = |i: usize| toks[i].lower.as_str();
    for i in 0..toks.len() {
        if !grammar(i) {
            continue;
        }
        let w = word(i);
        let next = if i + 1 < toks.len() { word(i + 1) } else { "" };
        let unused = match w {
            "rank" | "ranked" | "ranking" => !matches!(
                q.derived,
                Some(Derived::RankWithin { .. } | Derived::Rank { .. })
            ),
            "above" | "below" => !matches!(q.derived, Some(Derived::VersusAverage { .. })),
            "than" => !matches!(
                q.derived,
                Some(Derived::VersusAverage { .. } | Derived::PeriodGrowthWhere { .. })
            ),
            "average" | "avg" | "mean" => {
                !averaging && !matches!(q.derived, Some(Derived::VersusAverage { .. }))
            }
            "percent" | "percentage" | "pct" | "%" => !matches!(
                q.derived,
                Some(
                    Derived::ShareOfTotal
                        | Derived::ShareOfWhole
                        | Derived::PeriodGrowth
                        | Derived::PeriodGrowthWhere { .. }
                        | Derived::PeriodOverPeriod { .. }
                )
            ),
            "at" => matches!(next, "least" | "most") && q.entity_count.is_none(),
            _ => false,
        };
        if unused {
            return cannot_compute(
                "a word asks for a figure the metric query does not compute",
                vec![toks[i].text.clone()],
            );
        }
    }
    Ok(())
}

/// True when two of the named filters cannot both hold: one is the other's negation by name
/// ("on promotion", "not on promotion") or they test the same expression against different
/// values. Named together, such filters are sides to compare, not conditions to combine.
fn contradictory(manifest: &SemanticManifest, names: &[&str]) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], " ");
    names.iter().any(|a| {
        names.iter().any(|b| {
            let (na, nb) = (norm(a), norm(b));
            if na == nb {
                return false;
            }
            if nb == format!("not {na}") || nb == format!("non {na}") {
                return true;
            }
            match (manifest.filter(a), manifest.filter(b)) {
                (Some(fa), Some(fb)) => {
                    let lhs = |e: &str| {
                        e.split(['=', '<', '>', '!'])
                            .next()
                            .map(|x| x.trim().to_ascii_lowercase())
                            .unwrap_or_default()
                    };
                    fa.semantic_model == fb.semantic_model
                        && fa.expr.contains('=')
                        && fb.expr.contains('=')
                        && !fa.expr.contains(" AND ")
                        && !fb.expr.contains(" AND ")
                        && lhs(&fa.expr) == lhs(&fb.expr)
                        && fa.expr != fb.expr
                }
                _ => false,
            }
        })
    })
}

/// True when `metric` is itself an average or a ratio: "average" in the question names it
/// ("the average price index", "average selling price", "average margin percent").
fn averages(manifest: &SemanticManifest, metric: &str) -> bool {
    manifest.metric(metric).is_some_and(|m| match m.kind {
        super::model::MetricType::Ratio => true,
        // a derived metric that divides is a ratio too
        super::model::MetricType::Derived => m
            .type_params
            .expr
            .as_deref()
            .is_some_and(|e| e.contains('/')),
        _ => m
            .type_params
            .measure
            .as_ref()
            .and_then(|i| manifest.measure(i.name()))
            .is_some_and(|(_, me)| {
                matches!(
                    me.agg,
                    super::model::Agg::Average | super::model::Agg::Median
                )
            }),
    })
}

/// Whether `phrase` as written may stand for the indexed value of `m`: a case-insensitive
/// match is a member unless the word is a stop word ("in" is not the state code `IN`, "or" not
/// `OR`) or the stored value is a short upper-case code the question writes in lower case.
/// The phrase with its last word in the singular ("cost increases": "cost increase",
/// "categories": "category"), for words of four letters or more ending in a plural `s`; `None`
/// otherwise.
fn singular(phrase: &str) -> Option<String> {
    let (head, last) = match phrase.rsplit_once(' ') {
        Some((h, l)) => (Some(h), l),
        None => (None, phrase),
    };
    let lower = last.to_lowercase();
    if lower.len() < 4 || lower.ends_with("ss") || !lower.ends_with('s') {
        return None;
    }
    let one = if let Some(stem) = last.strip_suffix("ies") {
        format!("{stem}y")
    } else if lower.ends_with("ches") || lower.ends_with("shes") || lower.ends_with("xes") {
        last[..last.len() - 2].to_string()
    } else {
        last[..last.len() - 1].to_string()
    };
    Some(match head {
        Some(h) => format!("{h} {one}"),
        None => one,
    })
}

fn member_spelling_fits(phrase: &str, m: &crate::knowledge::values::ValueMatch) -> bool {
    if m.exact || m.value == phrase {
        return true;
    }
    // another name of the stored value ("Texas" for `TX`, see `knowledge::places`)
    let normalize = crate::knowledge::values::normalize;
    if m.score >= 0.95 && normalize(phrase) != normalize(&m.value) {
        return true;
    }
    let lower = phrase.to_lowercase();
    if !lower.contains(' ') && crate::sql::pattern::lexicon::is_stopword(&lower) {
        return false;
    }
    let code = m.value.chars().count() <= 3
        && m.value.chars().any(char::is_alphabetic)
        && m.value
            .chars()
            .all(|c| !c.is_alphabetic() || c.is_uppercase());
    !(code && phrase.chars().any(char::is_lowercase))
}

/// True when entity `name` is named (in `dims`: term, first and end word) right after one of
/// `before` ("the most tracks", "per store", "a purchase").
fn entity_named_after(
    dims: &[(Term, usize, usize)],
    words: &[&str],
    name: &str,
    before: &[&str],
) -> bool {
    dims.iter().any(|(t, start, _)| {
        matches!(t, Term::Entity(e) if e == name)
            && *start > 0
            && before.contains(&words[*start - 1])
    })
}

/// True when entity `name` is named right after "per" that follows a metric ("revenue per
/// store"), not after a thing ranked ("the top product per category").
fn metric_named_per(
    found: &[Found],
    dims: &[(Term, usize, usize)],
    words: &[&str],
    name: &str,
) -> bool {
    dims.iter().any(|(t, start, _)| {
        matches!(t, Term::Entity(e) if e == name)
            && *start >= 2
            && words[*start - 1] == "per"
            && found
                .iter()
                .any(|f| matches!(f.term, Term::Metric(_)) && f.end == *start - 1)
    })
}

/// The period right after `p`, as long as it ("this year" after "last year", the quarter after
/// "last quarter"): whole months when `p` runs from a first of the month to one, else days.
fn following(p: &Period) -> Option<Period> {
    use chrono::Datelike;
    let (start, end) = (p.start?, p.end?);
    let next_end = if start.day() == 1 && end.day() == 1 {
        let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
        end.checked_add_months(chrono::Months::new(u32::try_from(months).ok()?))?
    } else {
        end + (end - start)
    };
    let lower = p.text.to_lowercase();
    let rest = ["last ", "previous ", "prior "]
        .iter()
        .find_map(|w| lower.strip_prefix(w))
        .unwrap_or(&lower);
    Some(Period {
        start: Some(end),
        end: Some(next_end),
        text: format!("this {rest}"),
    })
}

/// True when the thing ranked is named in the singular ("which month", "which store").
fn singular_subject(toks: &[Token], found: &[Found], words: &[&str]) -> bool {
    // "which month", "which store", and "the best-selling category", "the top brand"
    let superlative = |w: &str| {
        DESC_WORDS.contains(&w)
            || ASC_WORDS.contains(&w)
            || matches!(w, "selling" | "performing" | "-")
    };
    for (i, w) in words.iter().enumerate() {
        let the = *w == "the";
        if !(matches!(*w, "which" | "what") || the) {
            continue;
        }
        let mut k = i + 1;
        let mut superlatives = 0;
        // "the single best city", "the very top brand"
        while k < toks.len() && (superlative(words[k]) || matches!(words[k], "single" | "very")) {
            superlatives += usize::from(superlative(words[k]));
            k += 1;
        }
        if the && superlatives == 0 {
            continue;
        }
        if let Some(next) = toks.get(k) {
            let t = &next.lower;
            if matches!(t.as_str(), "month" | "quarter" | "year" | "week" | "day") {
                return true;
            }
            if let Some(f) = found.iter().find(|f| f.start == k) {
                let last = &toks[f.end - 1].lower;
                return !matches!(f.term, Term::Metric(_)) && !last.ends_with('s');
            }
        }
    }
    false
}

fn distinct(manifest: &SemanticManifest, schema: &Schema, model: &str, dim: &str) -> u64 {
    let Some(m) = manifest.model(model) else {
        return 0;
    };
    let Some(d) = m.dimension(dim) else { return 0 };
    schema
        .table(m.table())
        .and_then(|t| {
            t.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(d.expr()))
        })
        .map(|c| c.distinct_count)
        .unwrap_or(0)
}

/// "Compare the average price under EDLP and High-Low", "revenue in 2023 versus 2024": two or
/// more members of one dimension, or whole periods of one grain back to back, compared with no
/// other breakdown and nothing derived, come as a row each, the way a `GROUP BY` writes them
/// (members in their order, periods in time order). Beside a breakdown they stay columns side
/// by side (a pivot); named filters and periods apart stay columns too.
fn long_layout(q: &mut MetricQuery) {
    if q.derived.is_some()
        || !q.group_by.is_empty()
        || q.time_grain.is_some()
        || q.having.is_some()
        || q.columns.len() < 2
        || q.entity_count.is_some()
        || q.dimension_count.is_some()
        || q.columns.iter().any(|c| c.metric != q.columns[0].metric)
    {
        return;
    }
    let metric = q.columns[0].metric.clone();
    let members: Option<(DimensionRef, Vec<String>)> = q
        .columns
        .iter()
        .try_fold(None, |acc: Option<(DimensionRef, Vec<String>)>, c| {
            match (&c.slice, acc) {
                (
                    Some(Slice::Member {
                        dimension,
                        value,
                        negated: false,
                    }),
                    None,
                ) => Some(Some((dimension.clone(), vec![value.clone()]))),
                (
                    Some(Slice::Member {
                        dimension,
                        value,
                        negated: false,
                    }),
                    Some((d, mut vs)),
                ) if *dimension == d => {
                    vs.push(value.clone());
                    Some(Some((d, vs)))
                }
                _ => None,
            }
        })
        .flatten();
    if let Some((dimension, values)) = members {
        q.filters.push(Filter::Members {
            dimension: dimension.clone(),
            values,
            negated: false,
        });
        q.group_by = vec![GroupBy::Dimension(dimension)];
        one_figure(q, metric, OrderBy::Groups);
        return;
    }
    let mut periods: Vec<Period> = Vec::new();
    for c in &q.columns {
        match &c.slice {
            Some(Slice::Period(p)) => periods.push(p.clone()),
            _ => return,
        }
    }
    if q.period.is_some() {
        return;
    }
    periods.sort_by_key(|p| p.start);
    let grain = periods
        .iter()
        .map(whole_grain)
        .collect::<Option<Vec<Grain>>>();
    let Some(grains) = grain else { return };
    let back_to_back = periods.windows(2).all(|w| w[0].end == w[1].start);
    if !back_to_back || grains.iter().any(|g| *g != grains[0]) {
        return;
    }
    q.period = Some(Period {
        start: periods[0].start,
        end: periods[periods.len() - 1].end,
        text: periods
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
    });
    q.time_grain = Some(grains[0]);
    one_figure(q, metric, OrderBy::Time);
}

/// The query's columns become `metric` alone, its rows ordered by `by`, ascending.
fn one_figure(q: &mut MetricQuery, metric: String, by: OrderBy) {
    q.columns = vec![MetricColumn {
        metric,
        slice: None,
    }];
    q.order = vec![Order {
        by,
        descending: false,
    }];
}

/// The calendar grain a period spans exactly (a whole month, quarter or year), if any.
fn whole_grain(p: &Period) -> Option<Grain> {
    let (start, end) = (p.start?, p.end?);
    if start.day() != 1 {
        return None;
    }
    let months = |n: u32| start.checked_add_months(chrono::Months::new(n)) == Some(end);
    if months(12) && start.month() == 1 {
        Some(Grain::Year)
    } else if months(3) && start.month() % 3 == 1 {
        Some(Grain::Quarter)
    } else if months(1) {
        Some(Grain::Month)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::member_spelling_fits;
    use crate::knowledge::values::ValueMatch;

    fn stored(value: &str, phrase: &str) -> ValueMatch {
        ValueMatch {
            table: "stores".into(),
            column: "state".into(),
            value: value.into(),
            score: 0.95,
            exact: value == phrase,
        }
    }

    #[test]
    fn a_stop_word_or_a_lower_case_code_is_not_a_member() {
        for (value, phrase, fits) in [
            ("IN", "in", false),
            ("OR", "or", false),
            ("IN", "IN", true),
            ("CA", "ca", false),
            ("CA", "CA", true),
            ("Dairy", "dairy", true),
            ("West", "west", true),
            ("Rock", "rock", true),
        ] {
            assert_eq!(
                member_spelling_fits(phrase, &stored(value, phrase)),
                fits,
                "{phrase} for {value}"
            );
        }
    }
}
