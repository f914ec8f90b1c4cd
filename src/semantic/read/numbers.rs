//! Stage 4, numbers and grammar words: the N of "top N" ("which 3 brands sold the most", "number
//! one"), thresholds on the figure ("more than $1M", "at least 10", "negative margin"), "at least one" in a count,
//! and the words of the query's grammar.

use super::lexicon::Term;
use super::state::{Read, Reader};
use super::words::{
    ASC_WORDS, COMPARATIVE_LESS, COMPARATIVE_MORE, DESC_WORDS, GRAIN_NOUNS, GRAMMAR,
};
use crate::question::tokens::{Token, TokenKind};

impl Reader<'_> {
    /// Reads the numbers ("top N", "number one", thresholds), "at least one", and the grammar
    /// words still unread.
    pub(super) fn numbers(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let n = x.toks.len();
        let ranks = toks.iter().any(|t| {
            DESC_WORDS.contains(&t.lower.as_str()) || ASC_WORDS.contains(&t.lower.as_str())
        });
        // "which 3 brands sold the most", "the three Neighborhood stores with the most units": a
        // number right before what is ranked (a dimension, an entity or a member of one)
        let ranked_at: Vec<bool> = self
            .read
            .iter()
            .map(|r| match r {
                Read::Term(k) => !matches!(self.found[*k].term, Term::Metric(_) | Term::Filter(_)),
                Read::Member(_) => true,
                _ => false,
            })
            .collect();
        let names_ranked = |j: usize| ranked_at.get(j).copied().unwrap_or(false);
        // "which store is number one in each zone": the first
        for i in 0..n {
            if self.read[i] != Read::Unread {
                continue;
            }
            let t = &toks[i];
            if t.lower == "one" && i > 0 && toks[i - 1].lower == "number" {
                self.number_one = true;
                self.top_n = Some(1);
                self.read[i] = Read::Number;
                self.read[i - 1] = Read::Grammar;
                continue;
            }
            // "categories with negative margin": a sign right before a metric is a threshold at 0
            if matches!(t.lower.as_str(), "negative" | "positive")
                && matches!(self.read.get(i + 1), Some(Read::Term(k))
                    if matches!(self.found[*k].term, Term::Metric(_)))
            {
                self.threshold = Some(crate::semantic::query::Threshold {
                    op: if t.lower == "negative" { "<" } else { ">" }.to_string(),
                    value: 0.0,
                });
                self.read[i] = Read::Number;
                continue;
            }
            // "more than $1M", "at least 10", "under 500": a threshold on the figure
            // a number in words ("more than one of our stores", "fewer than five") too, but
            // not "at least one", existence (below)
            let in_words = || {
                let existence = t.lower == "one"
                    && i >= 2
                    && toks[i - 2].lower == "at"
                    && toks[i - 1].lower == "least";
                crate::question::numbers::word_value(&t.lower)
                    .filter(|_| !existence)
                    .map(|v| (v, 1))
            };
            if let Some((value, len)) = crate::question::numbers::amount(toks, i).or_else(in_words)
            {
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
                let free = |j: usize| matches!(self.read[j], Read::Unread | Read::Grammar);
                if let Some((op, words_before)) = op {
                    if (i - words_before..i).all(free) {
                        // a number in percent compares a share ([`Reader::having`])
                        self.threshold_percent = percent;
                        self.threshold_money =
                            crate::question::numbers::in_currency(x.question, toks, i)
                                .then(|| t.text.clone());
                        self.threshold = Some(crate::semantic::query::Threshold {
                            op: op.to_string(),
                            value,
                        });
                        for slot in self
                            .read
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
                    self.top_n = value;
                    self.read[i] = Read::Number;
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
                self.at_least_one = true;
                for slot in self.read.iter_mut().skip(i).take(3) {
                    *slot = Read::Grammar;
                }
                continue;
            }
            // "purchases that add up to over $46": a total
            if matches!(t.lower.as_str(), "add" | "adds" | "added" | "adding")
                && toks.get(i + 1).is_some_and(|t| t.lower == "up")
            {
                self.read[i] = Read::Grammar;
                self.read[i + 1] = Read::Grammar;
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
                self.read[i] = Read::Grammar;
                self.read[i - 1] = Read::Grammar;
                continue;
            }
            // "purchases that add up to over $46": a sum's threshold
            let adds_up = matches!(t.lower.as_str(), "add" | "adds" | "added" | "adding")
                && toks.get(i + 1).is_some_and(|u| u.lower == "up");
            // "employees who report to the general manager": a relation between instances,
            // not the "report" a request asks for
            let reports_to = matches!(t.lower.as_str(), "report" | "reports" | "reported")
                && toks.get(i + 1).is_some_and(|u| u.lower == "to");
            // "did Canada or France spend more?": a comparative with no "than" after it ranks
            // what the question names ("more than 45" is a threshold, read above)
            let comparative = (COMPARATIVE_MORE.contains(&t.lower.as_str())
                || COMPARATIVE_LESS.contains(&t.lower.as_str()))
                && !toks[i + 1..].iter().any(|u| u.lower == "than");
            if (GRAMMAR.contains(&t.lower.as_str()) || t.text == "%" || adds_up || comparative)
                && !reports_to
            {
                self.read[i] = Read::Grammar;
            }
        }
    }
}

impl Reader<'_> {
    /// Marks the words asking for time order ("in chronological order", "in month order",
    /// "chronologically"; "reverse chronological order": newest first) as read, before any
    /// stage takes "order" for an entity or "month" for a grain.
    pub(super) fn time_order(&mut self) {
        let toks = self.input.toks;
        let mut i = 0;
        while i < toks.len() {
            match time_order_words(toks, i) {
                Some(n) => {
                    for slot in self.read.iter_mut().skip(i).take(n) {
                        *slot = Read::Grammar;
                    }
                    i += n;
                }
                None => i += 1,
            }
        }
    }
}

/// How many tokens from `i` ask for time order: "chronological order" / "date order" / "month
/// order" (2, or 3 with "reverse" before), "chronologically" (1); `None` for other words.
pub(super) fn time_order_words(toks: &[Token], i: usize) -> Option<usize> {
    let at = |k: usize| toks.get(k).map(|t| t.lower.as_str()).unwrap_or("");
    if at(i) == "chronologically" {
        return Some(1);
    }
    let reverse = usize::from(at(i) == "reverse");
    let first = at(i + reverse);
    let time_word =
        matches!(first, "chronological" | "date" | "time") || GRAIN_NOUNS.contains(&first);
    (time_word && at(i + reverse + 1) == "order").then_some(2 + reverse)
}
