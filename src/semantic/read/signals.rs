//! The words asking for a derived figure or an order, read once the metrics are known: a
//! share ("share of revenue", "in percent"), a growth ("year over year", "declined"), a
//! running total, above or below the average (or the metric's own value over the whole), a
//! ranking either way, "newest first".

use super::lexicon::Term;
use super::metrics::averages;
use super::state::{Read, Reader};
use super::words::{ASC_WORDS, COMPARATIVE_LESS, COMPARATIVE_MORE, DESC_WORDS, DROP_WORDS};

/// What the question's words ask of the figure.
pub(super) struct Signals<'a> {
    /// The words without hyphens and articles.
    plain: Vec<&'a str>,
    pub(super) share: bool,
    pub(super) growth: bool,
    /// The change asked in the metric's units, not in percent: "the difference", "the largest
    /// increase in revenue".
    pub(super) difference: bool,
    pub(super) running: bool,
    pub(super) above: bool,
    pub(super) below: bool,
    pub(super) desc: bool,
    pub(super) asc: bool,
    pub(super) averaging_asked: bool,
    pub(super) newest_first: bool,
    /// "in chronological order", "in month order": a series in time order (see
    /// [`super::numbers::time_order_words`]).
    pub(super) time_order: bool,
    /// "each", "every", "per": a ranking within a breakdown (not "per" once the figure is an
    /// average per entity, see [`Reader::per`]).
    pub(super) ranked_within: bool,
    pub(super) falling: bool,
}

impl Signals<'_> {
    /// `seq` among the words without hyphens and articles.
    pub(super) fn pseq(&self, seq: &[&str]) -> bool {
        self.plain.windows(seq.len()).any(|x| x == seq)
    }

    /// "year over year", "month-over-month".
    pub(super) fn over_period(&self, unit: &str) -> bool {
        self.pseq(&[unit, "over", unit])
    }
}

impl<'a> Reader<'a> {
    /// The signals of the question's words.
    pub(super) fn signals(&self) -> Signals<'a> {
        let x = self.input;
        let words = x.words;
        let manifest = x.manifest;
        let n = x.toks.len();
        // the words without hyphens and articles: "month-over-month", "above the overall average",
        // "below-average", "beat the average genre"
        let plain: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !matches!(*w, "-" | "the" | "overall" | "a" | "an"))
            .collect();
        let pseq = |seq: &[&str]| plain.windows(seq.len()).any(|x| x == seq);
        let over_period = |unit: &str| pseq(&[unit, "over", unit]);
        // derived figures
        let share = self.ghas("share")
            || self.ghas("contribution")
            || self.ghas("contribute")
            || self.ghas("contributed")
            || self.ghas("contributes")
            || self.ghas_seq(&["percent", "of"])
            || self.ghas_seq(&["percentage", "of"])
            || self.ghas_seq(&["proportion", "of"])
            || self.ghas_seq(&["fraction", "of"])
            || self.ghas_seq(&["%", "of"]);
        let growth = self.ghas("growth")
            || self.ghas("grew")
            || self.ghas("grow")
            || self.ghas("growing")
            || self.ghas("change")
            || self.ghas("changed")
            || self.ghas("difference")
            || self.ghas("differences")
            || self.ghas("increase")
            || self.ghas("decline")
            || self.ghas("declined")
            || DROP_WORDS.iter().any(|w| self.ghas(w))
            || self.ghas("rose")
            || self.ghas("rise")
            || self.ghas("increased")
            || self.ghas("yoy")
            || self.ghas("mom")
            || self.ghas("qoq")
            || over_period("year")
            || over_period("month")
            || over_period("quarter")
            || over_period("week");
        // "the difference", "the biggest increase in revenue": in the metric's units, unless a
        // percent or a rate is asked ("grew the most" stays a growth rate)
        let in_percent = ["percent", "percentage", "pct", "%", "rate"]
            .iter()
            .any(|w| self.ghas(w));
        // "how did revenue this quarter compare with last quarter, in %": two periods compared
        // in percent are a growth
        let growth = growth || (in_percent && x.comparing() && self.periods.len() == 2);
        let difference = !in_percent
            && (self.ghas("difference")
                || self.ghas("differences")
                || [
                    "increase",
                    "increases",
                    "decrease",
                    "decreases",
                    "gain",
                    "gains",
                ]
                .iter()
                .any(|w| x.has(w)))
            // "grow from 2021 to 2025, in dollars and in percent": the change in the metric's
            // units is asked too (a difference shows both)
            || ["dollars", "dollar", "usd"]
                .iter()
                .any(|w| self.ghas_seq(&["in", w]));
        // "how was revenue split between the agents, in percent": a share, unless a change is
        // what is asked in percent
        let share = share
            || (!growth
                && (self.ghas_seq(&["in", "percent"])
                    || self.ghas_seq(&["as", "percent"])
                    || self.ghas_seq(&["as", "a", "percent"])
                    || self.ghas_seq(&["as", "a", "percentage"])
                    || self.ghas_seq(&["in", "percentage"])
                    || self.ghas_seq(&["in", "%"])));
        let running = self.ghas("running") || self.ghas("cumulative") || self.ghas("cumulatively");
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
            let Some(first) = self.metrics.first().filter(|m| averages(manifest, m)) else {
                return false;
            };
            (0..n).any(|i| {
                if !dir.contains(&words[i]) {
                    return false;
                }
                let again = self.found.iter().find(|f| {
                    f.start > i
                        && f.start <= i + 6
                        && matches!(&f.term, Term::Metric(m) if m == first)
                });
                let named_before = self
                    .found
                    .iter()
                    .any(|f| f.start < i && matches!(&f.term, Term::Metric(m) if m == first));
                let Some(again) = again else { return false };
                let member_value = |k: usize| self.members[k].candidates.first().map(|c| &c.2);
                named_before
                    && (i + 1..again.start).all(|j| match self.read[j] {
                        Read::Member(k) => self
                            .members
                            .iter()
                            .enumerate()
                            .any(|(o, m)| m.end <= i && member_value(o) == member_value(k)),
                        Read::Term(k) => {
                            !matches!(self.found[k].term, Term::Metric(_) | Term::Filter(_))
                        }
                        _ => true,
                    })
            })
        };
        let above =
            above || versus_itself(&["above", "exceed", "exceeds", "exceeded", "beat", "beats"]);
        let below = below || versus_itself(&["below", "under"]);
        // "at least 100", "at most 5": a threshold, not a ranking
        let threshold_word = |i: usize, w: &str| {
            matches!(w, "least" | "most") && i > 0 && words[i - 1] == "at" && {
                self.at_least_one || self.threshold.is_some()
            }
        };
        // a word of a period ("the most recent quarter") ranks nothing
        let in_period = |i: usize| matches!(self.read[i], Read::Period(_));
        let desc = words
            .iter()
            .enumerate()
            .any(|(i, w)| DESC_WORDS.contains(w) && !threshold_word(i, w) && !in_period(i))
            || COMPARATIVE_MORE.iter().any(|w| self.ghas(w))
            || self.number_one;
        let averaging_asked = self.ghas("average") || self.ghas("avg") || self.ghas("mean");
        let time_order =
            (0..x.toks.len()).any(|i| super::numbers::time_order_words(x.toks, i).is_some());
        let newest_first = ["newest", "latest", "recent"]
            .iter()
            .any(|w| x.has_seq(&[w, "first"]))
            || x.has_seq(&["reverse", "chronological"]);
        let asc = words
            .iter()
            .enumerate()
            .any(|(i, w)| ASC_WORDS.contains(w) && !threshold_word(i, w) && !in_period(i))
            || COMPARATIVE_LESS.iter().any(|w| self.ghas(w));
        // "top 3 albums in each genre"; not "the three albums ..., and who is the artist on
        // each?", where a last "each" stands for the rows ranked
        let ranked_within = words.iter().enumerate().any(|(i, w)| {
            matches!(*w, "each" | "every" | "per")
                && words
                    .get(i + 1)
                    .is_some_and(|n| !matches!(*n, "?" | "." | "!" | "one" | "of"))
        });
        // "declined the most", "the largest drop": a fall, whose largest is the lowest growth
        let falling = DROP_WORDS.iter().any(|w| self.ghas(w))
            || self.ghas("decline")
            || self.ghas("declined");
        Signals {
            plain,
            share,
            growth,
            difference,
            running,
            above,
            below,
            desc,
            asc,
            averaging_asked,
            newest_first,
            time_order,
            ranked_within,
            falling,
        }
    }
}
