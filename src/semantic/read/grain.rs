//! The time grain: a grain word read as a breakdown ("by month", "monthly", "from year to
//! year", "months of 2024 with ...", "the best month"), a trend ("over time": by month), or refused when it is
//! neither a breakdown nor a period ("promoted weeks").

use super::lexicon::Term;
use super::state::{Read, Reader};
use super::words::{GRAIN_NOUNS, RANKED_PERIOD};
use super::{refuse, Refusal};
use crate::semantic::model::Grain;
use crate::semantic::query::GroupBy;

impl Reader<'_> {
    /// Whether the plural grain noun at `i` names the rows a named filter keeps: the filter
    /// right after it ("weeks on promotion"), or after "when" / "where" / "that" / "with" within
    /// a few words ("weeks when the product was on promotion").
    /// The filter's first token.
    fn rows_of_a_named_filter(&self, i: usize) -> Option<usize> {
        let words = self.input.words;
        if !words[i].ends_with('s') {
            return None;
        }
        let filter_at = |k: &usize| {
            self.found
                .iter()
                .any(|f| matches!(f.term, Term::Filter(_)) && f.start == *k)
        };
        if filter_at(&(i + 1)) {
            return Some(i + 1);
        }
        if !matches!(
            words.get(i + 1),
            Some(&("when" | "where" | "that" | "with" | "in" | "during"))
        ) {
            return None;
        }
        (i + 2..(i + 7).min(words.len())).find(filter_at)
    }

    /// Whether the question ranks periods: a superlative right before a grain word ("the best
    /// month", "our 3 weakest quarters").
    pub(super) fn ranked_period(&self) -> bool {
        self.input
            .words
            .windows(2)
            .any(|w| RANKED_PERIOD.contains(&w[0]) && GRAIN_NOUNS.contains(&w[1]))
    }

    /// The time grain the words ask for, if any.
    pub(super) fn grain(&mut self) -> Result<(), Refusal> {
        let x = self.input;
        let toks = x.toks;
        let words = x.words;
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
        let word_before = |k: usize| match k {
            0 => None,
            _ if words[k - 1] == "-" => k.checked_sub(2),
            _ => Some(k - 1),
        };
        for (i, w) in words.iter().enumerate() {
            if !matches!(self.read[i], Read::Grammar) {
                continue;
            }
            let Some(g) = grain_word(w) else { continue };
            // "in month order": the order of the series, read below
            if words.get(i + 1) == Some(&"order") {
                continue;
            }
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
            // "the best month for frozen food", "our busiest quarter": the periods ranked
            let ranked = RANKED_PERIOD.contains(&prev) && !matches!(next, Some("over" | "to"));
            let grouped = matches!(
                prev,
                "by" | "per" | "each" | "every" | "which" | "what" | "over" | "average"
            ) || ranked
                || listed
                || period_to_period
                || (words.get(i + 1) == Some(&"by")
                    && words.get(i + 2).and_then(|n| grain_word(n)) == Some(g));
            // "months of 2024 with above-average revenue": the rows asked for are the periods
            let subject = matches!(*w, "days" | "weeks" | "months" | "quarters" | "years")
                && (i == 0 || matches!(prev, "the" | "which" | "what" | "list" | "show"))
                && matches!(next, Some("of" | "with" | "where" | "when" | "that" | "in"));
            // "year over year": the second "year" names the grain of the growth
            let over_itself = prev == "over"
                && word_before(i)
                    .and_then(word_before)
                    .is_some_and(|k| grain_word(words[k]) == Some(g));
            if over_itself && self.grain.is_some() && !self.grain_of_growth_only {
                // "monthly revenue year over year": the months, each against a year before
            } else if adjective || grouped || subject {
                self.grain_of_growth_only = over_itself;
                self.grain = Some(g);
            } else if matches!(*w, "year" | "month" | "quarter" | "week") && next == Some("over") {
                // "year over year": read below
            } else if let Some(at) = self.rows_of_a_named_filter(i) {
                // "revenue from weeks on promotion", "weeks when the product was on promotion":
                // the rows a named filter keeps, described by their grain; what the words
                // between name ("the product") is no breakdown
                let between: Vec<GroupBy> = self
                    .dims
                    .iter()
                    .filter(|(_, s, e)| *s > i && *e <= at)
                    .filter_map(|(t, _, _)| super::metrics::group_by_of(t))
                    .collect();
                self.q.group_by.retain(|g| !between.contains(g));
            } else if !(matches!(
                prev,
                "last" | "this" | "next" | "previous" | "prior" | "preceding" | "to" | "that" | "same"
                    // "I'd like both years and the growth": the periods named, again
                    | "both" | "two" | "these" | "those"
            ) || (prev == "the" && possessive(&toks[i].text)))
            {
                // a bare "weeks" or "months" ("promoted weeks", "months with ..."): a breakdown or
                // a condition on the rows? Not read: the other generators get their turn.
                return refuse(
                    "a time word that is neither a breakdown nor a period",
                    vec![toks[i].text.clone()],
                );
            }
        }
        // "sales for 2023 in month order": the months, in order
        if self.grain.is_none() {
            self.grain = words
                .windows(2)
                .find(|w| w[1] == "order" && GRAIN_NOUNS.contains(&w[0]))
                .and_then(|w| grain_word(w[0]));
        }
        if self.grain.is_none()
            && (x.has("trend")
                || x.has("trends")
                || x.has("trended")
                || x.has_seq(&["over", "time"]))
        {
            self.grain = Some(Grain::Month);
        }
        Ok(())
    }
}

/// Whether a word is a possessive ("year's", "years'"): "the year's total" is the period named.
pub(super) fn possessive(text: &str) -> bool {
    let t = text.to_lowercase();
    t.ends_with("'s") || t.ends_with("s'") || t.ends_with("\u{2019}s")
}
