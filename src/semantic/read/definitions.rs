//! A figure's definition said again in words: "the average selling price (revenue divided by
//! units)", "gross margin % for each zone, computed as total gross margin over total revenue",
//! "average revenue per customer, i.e. total revenue divided by the number of customers". The
//! writer restates how the figure named before is computed; the clause names the figure's
//! inputs and asks for nothing more, so its words are grammar. A clause naming anything else
//! (another metric, a filter, a member) is left to be read, and refused if it cannot be.

use super::lexicon::Term;
use super::state::{Read, Reader};

/// Words that open a definition clause; "(" opens one closed by ")".
const OPENERS: &[&[&str]] = &[
    &["("],
    &["computed", "as"],
    &["calculated", "as"],
    &["defined", "as"],
    &["measured", "as"],
    &["i.e"],
    &["i.e."],
    &["ie"],
    &["meaning"],
    &["namely"],
];

/// Words of arithmetic one of which a definition clause says.
const ARITHMETIC: &[&str] = &[
    "divided",
    "over",
    "per",
    "/",
    "minus",
    "less",
    "times",
    "ratio",
    "share",
    "percentage",
];

impl Reader<'_> {
    /// Reads a clause that restates the definition of a figure named before it as grammar, and
    /// drops the clause's terms from the question's terms.
    pub(super) fn definitions_restated(&mut self) {
        let x = self.input;
        let words = x.words;
        let n = words.len();
        let manifest = x.manifest;
        // a metric and what it is computed from
        let inputs = |name: &str| -> Vec<String> {
            let mut out = vec![name.to_string()];
            if let Some(m) = manifest.metric(name) {
                out.extend(m.input_names());
            }
            out
        };
        let mut i = 0;
        while i < n {
            let Some(opener) = OPENERS
                .iter()
                .find(|o| words.get(i..i + o.len()) == Some(*o))
            else {
                i += 1;
                continue;
            };
            let mut body = i + opener.len();
            // "i.e." may come as "i.e" and a full stop
            if opener[0] != "(" && words.get(body) == Some(&".") {
                body += 1;
            }
            let end = if opener[0] == "(" {
                match (body..n).find(|&k| words[k] == ")") {
                    Some(k) => k + 1,
                    None => n,
                }
            } else {
                (body..n)
                    .find(|&k| matches!(words[k], "," | "?" | "." | ";" | "!"))
                    .unwrap_or(n)
            };
            let before: Vec<&Term> = self
                .found
                .iter()
                .filter(|f| f.end <= i)
                .map(|f| &f.term)
                .collect();
            let defined: Vec<String> = before
                .iter()
                .filter_map(|t| match t {
                    Term::Metric(m) => Some(inputs(m)),
                    _ => None,
                })
                .flatten()
                .collect();
            let within: Vec<&Term> = self
                .found
                .iter()
                .filter(|f| f.start >= body && f.end <= end)
                .map(|f| &f.term)
                .collect();
            // a term of the clause that the rest of the question names already: an input of a
            // figure named before, or the entity it is averaged over ("per customer")
            let restates = |t: &&Term| match t {
                // "revenue" for the margin table's `margin_revenue`: one word of the input
                Term::Metric(m) => defined.iter().any(|d| {
                    d == m || d.ends_with(&format!("_{m}")) || m.ends_with(&format!("_{d}"))
                }),
                Term::Entity(_) => before.contains(t),
                _ => false,
            };
            let says_arithmetic = words[body..end].iter().any(|w| ARITHMETIC.contains(w));
            let only_terms = (body..end).all(|k| {
                matches!(
                    self.read[k],
                    Read::Unread | Read::Grammar | Read::Term(_) | Read::Number
                )
            });
            if !defined.is_empty()
                && says_arithmetic
                && only_terms
                && within.iter().any(|t| matches!(t, Term::Metric(_)))
                && within.iter().all(restates)
            {
                self.drop_terms(i, end);
            }
            i = end.max(i + 1);
        }
    }

    /// Reads tokens `[start, end)` as grammar and forgets the terms found there.
    pub(super) fn drop_terms(&mut self, start: usize, end: usize) {
        let mut kept = Vec::new();
        let mut index = vec![None; self.found.len()];
        for (k, f) in self.found.iter().enumerate() {
            if !(f.start >= start && f.end <= end) {
                index[k] = Some(kept.len());
                kept.push(f.clone());
            }
        }
        self.found = kept;
        for (k, r) in self.read.iter_mut().enumerate() {
            if (start..end).contains(&k) {
                *r = Read::Grammar;
            } else if let Read::Term(t) = r {
                *t = index[*t].expect("a term outside the clause is kept");
            }
        }
    }
}
