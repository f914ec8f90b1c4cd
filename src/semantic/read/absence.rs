//! Absence: "which genres had no sales", "stores with zero revenue last month", "artists that
//! never sold a track". A word of absence right before a metric asks for the instances of the
//! breakdown that the metric's rows never reach (in the period and filters asked), not for a
//! figure: an anti-join ([`MetricQuery::absent`]).

use super::lexicon::Term;
use super::state::{Read, Reader};
use super::{cannot_compute, refuse, Refusal};
use crate::semantic::query::{GroupBy, MetricQuery};

/// Words that may stand between a word of absence and the metric it denies ("never *had a
/// single* track sold", "no *recorded* sales", "not *any* revenue").
const BETWEEN: &[&str] = &[
    "a",
    "an",
    "any",
    "single",
    "one",
    "had",
    "have",
    "has",
    "been",
    "made",
    "make",
    "recorded",
    "registered",
    "booked",
    "generated",
    "the",
    "sold",
    "sell",
    "bought",
    "buy",
    "purchased",
    "purchase",
];

/// A negated auxiliary ("haven't sold a single track", "didn't have any sales"): absence when
/// the words after it deny with "any" or "a single".
fn negated_auxiliary(w: &str) -> bool {
    w == "not" || (w.ends_with("n't") && w.len() > 3)
}

impl Reader<'_> {
    /// Reads a word of absence ("no", "zero", "never", "not any", "without any") that denies a
    /// metric, or a named filter, named within the next words; the words are grammar, the
    /// query asks for the instances without the metric's rows (the filter's rows).
    pub(super) fn absence(&mut self) {
        let x = self.input;
        let words = x.words;
        let n = words.len();
        for i in 0..n {
            // a word no stage has read, or read as grammar only ("single" in "a single track")
            let free = |r: &Read| matches!(r, Read::Unread | Read::Grammar);
            if !free(&self.read[i]) {
                continue;
            }
            let next = words.get(i + 1).copied();
            let mut j = i + 1;
            while j < n && free(&self.read[j]) && BETWEEN.contains(&words[j]) {
                j += 1;
            }
            let emphatic = words[i + 1..j]
                .iter()
                .any(|w| matches!(*w, "any" | "single"));
            let absent = match words[i] {
                "no" | "zero" | "never" => true,
                "without" => next == Some("any"),
                w => negated_auxiliary(w) && emphatic,
            };
            if !absent {
                continue;
            }
            // "did not sell any": the auxiliary before "not" is grammar too
            let i = if words[i] == "not"
                && i > 0
                && free(&self.read[i - 1])
                && matches!(words[i - 1], "did" | "do" | "does" | "have" | "has" | "had")
            {
                i - 1
            } else {
                i
            };
            let denied = match self.read.get(j) {
                Some(Read::Term(k)) => Some(&self.found[*k].term),
                _ => None,
            };
            // a named filter denied ("never on promotion", "no promo weeks"): the rows of its
            // model that the filter keeps
            // a filter said of the metric right after it is the metric's ("no promoted sales")
            let metric_after = |k: usize| {
                let mut j = k;
                while j < n && free(&self.read[j]) && BETWEEN.contains(&words[j]) {
                    j += 1;
                }
                matches!(self.read.get(j), Some(Read::Term(t))
                    if matches!(self.found[*t].term, Term::Metric(_)))
            };
            let filter_end = match self.read.get(j) {
                Some(Read::Term(k)) => self.found[*k].end,
                _ => j,
            };
            let filter_model = match denied {
                Some(Term::Filter(_)) if metric_after(filter_end) => None,
                Some(Term::Filter(name)) => x
                    .manifest
                    .filters
                    .iter()
                    .find(|f| &f.name == name)
                    .map(|f| f.semantic_model.clone()),
                _ => None,
            };
            if filter_model.is_some() {
                self.absent_rows_of = filter_model;
            }
            // "stores that never sold any Coffee Pods": a member after a verb of sale denies
            // the sales of that member
            let sale_verb = words[i + 1..j].iter().any(|w| {
                matches!(
                    *w,
                    "sold" | "sell" | "bought" | "buy" | "purchased" | "purchase"
                )
            });
            let member_sold = sale_verb && matches!(self.read.get(j), Some(Read::Member(_)));
            let of_metric = member_sold
                || matches!(denied, Some(Term::Metric(_)))
                || (matches!(denied, Some(Term::Filter(_))) && metric_after(filter_end));
            if of_metric || self.absent_rows_of.is_some() {
                for r in &mut self.read[i..j] {
                    *r = Read::Grammar;
                }
                // "never on promotion at any store": no row of any instance, no breakdown
                let after = filter_end;
                if matches!(
                    words.get(after),
                    Some(&("at" | "in" | "from" | "by" | "across"))
                ) && words.get(after + 1) == Some(&"any")
                {
                    if let Some(Read::Term(k)) = self.read.get(after + 2) {
                        if matches!(self.found[*k].term, Term::Entity(_)) {
                            let end = self.found[*k].end;
                            self.drop_terms(after, end);
                        }
                    }
                }
                self.q.absent = true;
                // "how many products had no price change": the number of them
                self.q.count_rows = self.counting_words();
            }
        }
    }
}

/// Checks a query of absence once built: the instances of one breakdown (an entity, a
/// dimension) without the rows of one metric. Anything else ("no sales by month", a share of nothing) is refused.
pub(super) fn checked(mut q: MetricQuery) -> Result<MetricQuery, Refusal> {
    if !q.absent {
        return Ok(q);
    }
    if q.group_by.len() != 1
        || q.columns.len() != 1
        || q.columns[0].slice.is_some()
        || q.derived.is_some()
        || q.having.is_some()
        || q.time_grain.is_some()
        || q.entity_count.is_some()
        || q.dimension_count.is_some()
    {
        return cannot_compute(
            "\"no\" / \"never\" before a metric asks for the instances of one breakdown without \
             its rows; this question asks for more than that",
            Vec::new(),
        );
    }
    // the instances of an entity over its whole history are the pattern engine's to list: it
    // shows them by key, name and the curated display columns, and reads a denial of rows
    // related to them ("products that have never had a price change"); the layer lists an
    // entity's instances without rows in a period, and a dimension's values
    if q.period.is_none() && matches!(q.group_by.as_slice(), [GroupBy::Entity { .. }]) {
        return refuse(
            "instances of an entity never related to rows: listed by the pattern engine",
            Vec::new(),
        );
    }
    // the instances are listed by name; no figure orders them
    q.order.clear();
    Ok(q)
}

impl Reader<'_> {
    /// The metric of a query of absence that names a filter and no metric ("brands never on
    /// promotion"): the first metric aggregating a measure of the filter's model; which one
    /// does not matter, since the query lists the instances its rows never reach.
    ///
    /// Errors: a metric named besides ("revenue of products with no promotion" asks for the
    /// figure of the instances without the filter's rows, which the query of absence does not
    /// show).
    pub(super) fn absent_rows_metric(&mut self) -> Result<(), Refusal> {
        let Some(model) = &self.absent_rows_of else {
            return Ok(());
        };
        if !self.q.absent {
            return Ok(());
        }
        if !self.metrics.is_empty() {
            return cannot_compute(
                "a figure of the instances without a filter's rows",
                Vec::new(),
            );
        }
        let manifest = self.input.manifest;
        let metric = manifest.metrics.iter().find(|m| {
            manifest
                .metric_measure(&m.name)
                .is_some_and(|(sm, _)| &sm.name == model)
        });
        if let Some(m) = metric {
            self.metrics.push(m.name.clone());
        }
        Ok(())
    }
}
