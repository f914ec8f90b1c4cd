//! The grammar words read by what surrounds them: a negator that negates something
//! ("excluding Dairy"), "the rest" of a member ("compared with all other products"), and the
//! unit a metric's description states ("in minutes"), the order a ranking word states
//! ("highest first"), and words of a figure's magnitude or an approval ("the size of the
//! increases", "signed off").

use super::lexicon::{stems, Term};
use super::state::{Read, Reader};
use super::words::{ASC_WORDS, DESC_WORDS, NEGATORS};

impl Reader<'_> {
    /// Reads "first" after a ranking word ("revenue by store, highest first"): the ranking
    /// word orders the rows.
    pub(super) fn order_words(&mut self) {
        let words = self.input.words;
        for i in 1..words.len() {
            let ranking = DESC_WORDS.contains(&words[i - 1]) || ASC_WORDS.contains(&words[i - 1]);
            if self.read[i] == Read::Unread && words[i] == "first" && ranking {
                self.read[i] = Read::Grammar;
            }
            // "most expensive first", "least profitable first": an order, said by any adjective
            let order_by_adjective = i >= 2
                && matches!(words[i], "first" | "last")
                && matches!(words[i - 2], "most" | "least")
                && self.read[i - 1] == Read::Unread;
            if order_by_adjective {
                self.read[i - 1] = Read::Grammar;
                if self.read[i] == Read::Unread {
                    self.read[i] = Read::Grammar;
                }
            }
        }
    }

    /// Reads the words that only say a figure's magnitude or an approval: "the average size of
    /// the price increases" (the size of a change is the change), "the changes each approver
    /// signed off".
    pub(super) fn magnitude_words(&mut self) {
        let words = self.input.words;
        let n = words.len();
        for i in 0..n {
            if self.read[i] != Read::Unread {
                continue;
            }
            // "size of the ...", "magnitude of ...": the next word read is the figure
            let of_a_figure = matches!(words[i], "size" | "magnitude")
                && words.get(i + 1) == Some(&"of")
                && (i + 2..n.min(i + 4)).any(|j| matches!(self.read[j], Read::Term(_)));
            // "signed off (on)": approved
            let signed_off =
                matches!(words[i], "signed" | "sign" | "signs") && words.get(i + 1) == Some(&"off");
            if of_a_figure || signed_off {
                self.read[i] = Read::Grammar;
                if self.read[i + 1] == Read::Unread {
                    self.read[i + 1] = Read::Grammar;
                }
            }
        }
    }

    /// Reads a negator that negates something.
    pub(super) fn negators(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let n = x.toks.len();
        // a negator is read when it negates something: a member or a named filter within the next
        // three words ("excluding Dairy", "not on promotion", "other than Rock"); "compared with
        // all other products" negates nothing the query can say, and is left unread
        for i in 0..n {
            if self.read[i] != Read::Unread || !NEGATORS.contains(&toks[i].lower.as_str()) {
                continue;
            }
            let negates = (i + 1..n.min(i + 4)).any(|j| match self.read[j] {
                Read::Member(_) => true,
                Read::Term(k) => matches!(self.found[k].term, Term::Filter(_)),
                _ => false,
            });
            // "next to each other": no negation
            let each_other = toks[i].lower == "other" && i > 0 && toks[i - 1].lower == "each";
            if negates || each_other {
                self.read[i] = Read::Grammar;
            }
        }
    }

    /// Reads a metric's word said again for the whole it is a share of: "price changes by
    /// reason, as % of all changes", "units by brand as a share of total units".
    pub(super) fn whole_restated(&mut self) {
        let x = self.input;
        let toks = x.toks;
        for i in 1..toks.len() {
            if self.read[i] != Read::Unread || !matches!(x.words[i - 1], "all" | "total") {
                continue;
            }
            let restates = self.found.iter().any(|f| {
                matches!(f.term, Term::Metric(_))
                    && f.end <= i
                    && toks[f.start..f.end].iter().any(|t| t.stem == toks[i].stem)
            });
            if restates {
                self.read[i] = Read::Grammar;
            }
        }
    }

    /// "... in 2024, and what share of that year's sales": the period named before, said
    /// again ("that year's", "the year's", "that quarter", "the same month") after it, is
    /// grammar.
    pub(super) fn period_restated(&mut self) {
        let words = self.input.words;
        for i in 1..words.len() {
            let w = words[i].trim_end_matches("'s").trim_end_matches('\'');
            let grain = matches!(w, "year" | "quarter" | "month" | "week" | "period" | "day");
            // "what share of the year's total": a period's possessive after "the" too
            let possessive = self
                .input
                .toks
                .get(i)
                .is_some_and(|t| super::grain::possessive(&t.text));
            if !grain
                || self.read[i] != Read::Unread
                || !(matches!(words[i - 1], "that" | "this" | "same")
                    || (possessive && words[i - 1] == "the"))
                || !self.read[..i - 1]
                    .iter()
                    .any(|r| matches!(r, Read::Period(_)))
            {
                continue;
            }
            self.read[i] = Read::Grammar;
            if self.read[i - 1] == Read::Unread {
                self.read[i - 1] = Read::Grammar;
            }
            if i > 1
                && words[i - 1] == "same"
                && words[i - 2] == "the"
                && self.read[i - 2] == Read::Unread
            {
                self.read[i - 2] = Read::Grammar;
            }
        }
    }

    /// Reads the words naming the rest of a member, and notes where they are.
    pub(super) fn the_rest(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let n = x.toks.len();
        // "compared with all other products", "versus the rest", "everything else": the
        // complement of the one member named, as a column beside it
        for i in 0..n {
            let w = |k: usize| toks.get(k).map(|t| t.lower.as_str()).unwrap_or("");
            let before = |k: usize| if k > 0 { w(k - 1) } else { "" };
            let span = match w(i) {
                "other" | "others" if w(i + 1) != "than" && self.read[i] == Read::Unread => {
                    let mut start = i;
                    if before(start) == "the" {
                        start -= 1;
                    }
                    if matches!(before(start), "all" | "every") {
                        start -= 1;
                    }
                    let end = match self.read.get(i + 1) {
                        Some(Read::Term(k)) if w(i) == "other" => self.found[*k].end,
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
                for slot in self.read.iter_mut().take(end).skip(start) {
                    *slot = Read::Grammar;
                }
                self.rest = Some((start, end));
                break;
            }
        }
    }

    /// Reads a unit a metric's description states.
    pub(super) fn units(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let manifest = x.manifest;
        let n = x.toks.len();
        // "in minutes", "in dollars": the unit a metric's description states is part of the
        // metric; so is the unit of a threshold's number ("an average track length over 5
        // minutes")
        for i in 1..n {
            let after_threshold = self.threshold.is_some() && self.read[i - 1] == Read::Number;
            if self.read[i] != Read::Unread || !(toks[i - 1].lower == "in" || after_threshold) {
                continue;
            }
            let stated = self.found.iter().any(|f| match &f.term {
                Term::Metric(m) => manifest
                    .metric(m)
                    .is_some_and(|x| stems(&x.description).contains(&toks[i].stem)),
                _ => false,
            });
            if stated {
                self.read[i] = Read::Grammar;
            }
        }
    }
}
