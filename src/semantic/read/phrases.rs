//! Stage 2, lexicon phrases, longest first: the metrics, dimensions, entities and named filters of
//! the manifest, by their names, labels and synonyms ("sub-category", "best-selling"), and an
//! entity counted by a sale read as the metric of its sales ("sold the most tracks").

use super::lexicon::{key, stems, Term};
use super::state::{Found, Read, Reader};
use super::words::GRAMMAR;
use crate::question::tokens::TokenKind;
use crate::question::units;

impl Reader<'_> {
    /// Reads the longest phrases of the lexicon over the words still unread.
    pub(super) fn phrases(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let lexicon = x.lexicon;
        let n = x.toks.len();
        // the longest phrase starting at `i`, as its length
        let longest_at = |i: usize, read: &[Read]| -> Option<usize> {
            (1..=(2 * lexicon.max_words).min(n.saturating_sub(i)))
                .rev()
                .find(|&len| {
                    // a hyphen joins the words of a phrase ("sub-category", "best-selling")
                    !(i..i + len).any(|j| {
                        !(read[j] == Read::Unread && key(&toks[j]).is_some()
                            || x.inner_hyphen(j, i, len))
                    }) && {
                        let phrase: Vec<&str> = toks[i..i + len].iter().filter_map(key).collect();
                        lexicon.phrases.contains_key(&phrase.join(" "))
                    }
                })
        };
        let mut i = 0;
        while i < n {
            if self.read[i] != Read::Unread {
                i += 1;
                continue;
            }
            // "average price index": a grammar word that would swallow the start of a longer
            // phrase ("average price" + "index") is left to the grammar
            if GRAMMAR.contains(&toks[i].lower.as_str()) {
                if let (Some(here), Some(next)) =
                    (longest_at(i, &self.read), longest_at(i + 1, &self.read))
                {
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
                    !(self.read[j] == Read::Unread && key(&toks[j]).is_some()
                        || x.inner_hyphen(j, i, len))
                }) {
                    continue;
                }
                let phrase: Vec<&str> = toks[i..i + len].iter().filter_map(key).collect();
                if let Some(terms) = lexicon.phrases.get(&phrase.join(" ")) {
                    // a phrase that is also a member of a dimension reads as the member when the
                    // phrase names no metric (a store called "Express")
                    let term = self.preferred_term(i, len, terms);
                    for slot in self.read.iter_mut().skip(i).take(len) {
                        *slot = Read::Term(self.found.len());
                    }
                    self.found.push(Found {
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
    }

    /// A unit of measure read as the one metric whose name ends with that unit ("total MB of
    /// video files": `storage_megabytes`; [`crate::question::units`]), before a stored
    /// value could take it (the state code "MB").
    pub(super) fn unit_metrics(&mut self) {
        let x = self.input;
        for i in 0..x.toks.len() {
            if self.read[i] != Read::Unread {
                continue;
            }
            let Some(unit) = units::parse(&x.toks[i].lower) else {
                continue;
            };
            let named: Vec<&str> = x
                .manifest
                .metrics
                .iter()
                .filter(|m| units::of_column_name(&m.name) == Some(unit))
                .map(|m| m.name.as_str())
                .collect();
            if let [metric] = named.as_slice() {
                self.read[i] = Read::Term(self.found.len());
                self.found.push(Found {
                    term: Term::Metric(metric.to_string()),
                    start: i,
                    end: i + 1,
                });
            }
        }
    }

    /// Of the terms whose phrase shares the stems of the words at `i..i + len`, the one written
    /// as they are ("How many products are elastic?": the named filter "elastic", not the
    /// metric "elasticity"), unless a degree word comes before them ("most elastic", "how
    /// elastic" ask for the metric's scale); else the first.
    fn preferred_term(&self, i: usize, len: usize, terms: &[Term]) -> Term {
        let toks = self.input.toks;
        let degree = i > 0
            && matches!(
                toks[i - 1].lower.as_str(),
                "most" | "least" | "more" | "less" | "how" | "very" | "so" | "too" | "as"
            );
        let as_written: Vec<&str> = toks[i..i + len]
            .iter()
            .filter(|t| t.kind != TokenKind::Punct)
            .map(|t| t.lower.as_str())
            .collect();
        let written = &self.input.lexicon.written;
        let text = as_written.join(" ");
        let spelled = written
            .get(&text)
            .and_then(|w| terms.iter().find(|t| w.contains(t)));
        // the first term written the same but for a plural ("price change" / "price changes")
        // keeps its place: only a term reached through a longer word ("elasticity") gives way
        let first_inflected = [
            format!("{text}s"),
            format!("{text}es"),
            text.strip_suffix('s').unwrap_or(&text).to_string(),
            text.strip_suffix("es").unwrap_or(&text).to_string(),
        ]
        .iter()
        .any(|v| written.get(v).is_some_and(|w| w.contains(&terms[0])));
        match spelled {
            Some(t) if !degree && !first_inflected => t.clone(),
            _ => terms[0].clone(),
        }
    }

    /// "sold the most tracks": the entity counted by a sale as the metric of its sales.
    pub(super) fn sold(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let lexicon = x.lexicon;
        // "sold the most tracks": an entity counted by a sale is the metric "tracks sold" when the
        // model has one
        let sold = stems("sold");
        if toks
            .iter()
            .any(|t| matches!(t.lower.as_str(), "sold" | "sell" | "sells" | "selling"))
        {
            for f in self.found.iter_mut() {
                if !matches!(f.term, Term::Entity(_)) {
                    continue;
                }
                // "the 10 best-selling tracks": the tracks are ranked by the headline metric
                let before = toks[..f.start]
                    .iter()
                    .rev()
                    .find(|t| t.kind != TokenKind::Punct)
                    .map(|t| t.lower.as_str());
                if before == Some("selling") {
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
    }
}
