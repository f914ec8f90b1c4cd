//! Periods: the whole history in other words ("since the store opened", "of all time"), the
//! periods the date reader finds (read first, against the reference date: "in 2024", "last
//! quarter", "from 2023 to 2024"), and at the end what the periods make of the query: one
//! period, or two compared as a growth or side by side ("grew from 2023 to 2024", "lower
//! revenue in 2024 than in 2023", "how did revenue compare to last year").

use chrono::{Datelike, NaiveDate};

use super::lexicon::Term;
use super::signals::Signals;
use super::state::{Read, Reader};
use super::{cannot_compute, Refusal};
use crate::question::dates;
use crate::semantic::model::Grain;
use crate::semantic::query::Period;

impl Reader<'_> {
    /// Marks the words naming the whole history as grammar (no period).
    pub(super) fn whole_history(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let n = x.toks.len();
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
            } else if w(i) == "all" && w(i + 1) == "-" && w(i + 2) == "time" {
                Some(3)
            } else if w(i) == "lifetime" {
                // "lifetime spend": over the whole history
                Some(1)
            } else {
                None
            };
            if let Some(len) = whole {
                for slot in self.read.iter_mut().skip(i).take(len) {
                    *slot = Read::Grammar;
                }
            }
        }
    }

    /// Stage 1: the periods the date reader finds, and months and quarters named without a
    /// year: the latest such month or quarter that began by the reference date ("revenue in
    /// March", asked in December 2024: March 2024; "between November and February": the latest
    /// such stretch that began by then), its year in the period's text.
    pub(super) fn periods(&mut self) {
        let x = self.input;
        let toks = x.toks;
        let reference = x.reference;
        let (mut ranges, mut months) = dates::time_ranges(toks, reference.date);
        // "May" is a verb to the date reader; capitalised after "in", "during", "of" or "for" it
        // is the month
        for (i, t) in toks.iter().enumerate().skip(1) {
            let before = toks[i - 1].lower.as_str();
            if t.text == "May" && matches!(before, "in" | "during" | "of" | "for" | "and" | "to") {
                months.push(dates::MonthMention { month: 5, token: i });
            }
        }
        months.sort_by_key(|m| m.token);
        ranges.extend(yearless_months(toks, &months, reference.date));
        let quarters = yearless_quarters(toks, &ranges, reference.date);
        ranges.extend(quarters);
        ranges.sort_by_key(|r| r.tokens.0);
        // "revenue per year with the change vs the previous year": the basis of a change period
        // over period, no period of its own
        let bases: Vec<(usize, usize)> = ranges
            .iter()
            .filter(|r| basis_of_a_change(toks, r, &ranges))
            .map(|r| r.tokens)
            .collect();
        for (from, to) in &bases {
            for slot in self.read.iter_mut().take(*to).skip(*from) {
                *slot = Read::Grammar;
            }
        }
        ranges.retain(|r| !bases.contains(&r.tokens));
        // the two periods a range was named by ("from 2023 to 2024"), per range
        for (pi, r) in ranges.iter().enumerate() {
            self.endpoints.push(r.endpoints.map(|[(s1, e1), (s2, e2)]| {
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
            for slot in self.read.iter_mut().take(r.tokens.1).skip(r.tokens.0) {
                *slot = Read::Period(pi);
            }
            self.periods.push((
                Period {
                    start: r.start,
                    end: r.end,
                    text: r.text.clone(),
                },
                r.grain,
            ));
        }
    }

    /// The query's period, or the two periods compared as columns (with whether only the rows
    /// that fell, or rose, are kept).
    pub(super) fn compare_periods(
        &mut self,
        s: &Signals,
    ) -> Result<(Vec<Period>, Option<bool>), Refusal> {
        let x = self.input;
        // periods: one is the query's period; two compared make a growth or side-by-side columns
        // ("2024 revenue next to the price changes made in 2024" names one period twice)
        self.periods
            .dedup_by(|b, a| a.0.start == b.0.start && a.0.end == b.0.end);
        // "how many customers bought in both 2024 and 2025": the rows found in each period (an
        // intersection), not the rows of the two periods together
        let both = x.words.iter().enumerate().any(|(i, w)| {
            *w == "both"
                && (i + 1..i + 3).any(|k| matches!(self.read.get(k), Some(Read::Period(_))))
        });
        if both && self.figure_is_a_count() {
            return cannot_compute(
                "a count of the rows found in both periods (an intersection)",
                Vec::new(),
            );
        }
        let mut period_slices: Vec<Period> = Vec::new();
        let mut decline_between: Option<bool> = None;
        match self.periods.len() {
            0 if s.growth
                && (s.over_period("year") || x.has("yoy"))
                && (self.grain.is_none()
                    || (self.grain == Some(Grain::Year) && self.grain_of_growth_only))
                && !self.q.group_by.is_empty()
                && self.slices.is_empty() =>
            {
                self.grain = None;
                self.q.time_grain = None;
                // "year over year revenue growth by zone": one growth a group, the year of the
                // reference date against the one before it (the trace names the two years)
                let years = year_of(x.reference.date).and_then(|y| Some((preceding_year(&y)?, y)));
                let Some((before, this_year)) = years else {
                    return cannot_compute("a growth needs two periods", Vec::new());
                };
                period_slices = vec![before, this_year];
            }
            0 => {}
            1 if s.growth && self.grain.is_none() && self.endpoints[0].is_some() => {
                // "grew from 2023 to 2024", "change between 2024 and 2025": the two periods;
                // "which stores saw revenue fall from 2023 to 2024": only the rows that fell
                let [a, b] = self.endpoints[0].clone().expect("checked");
                period_slices = vec![a, b];
                if s.falling && !s.desc && !s.asc && !self.q.group_by.is_empty() {
                    decline_between = Some(true);
                }
            }
            1 => {
                let p = self.periods[0].0.clone();
                let last_year_compare = (x.has_seq(&["last", "year"])
                    || x.has_seq(&["previous", "year"])
                    || x.has_seq(&["prior", "year"]))
                    && !p.text.to_lowercase().contains("last year");
                let previous = ["last ", "previous ", "prior "]
                    .iter()
                    .any(|w| p.text.to_lowercase().starts_with(w));
                if (s.growth || x.comparing())
                    && self.grain.is_none()
                    && previous
                    && self.slices.is_empty()
                {
                    // "how did revenue compare to last year": last year next to this one
                    if let Some(next) = following(&p) {
                        period_slices = vec![p, next];
                    } else {
                        return cannot_compute("a growth needs two periods", Vec::new());
                    }
                } else if s.growth
                    && self.grain.is_none()
                    && !x.comparing()
                    && !last_year_compare
                    && self.slices.is_empty()
                    && p.whole_year()
                {
                    // "which department grew revenue fastest in 2024": the year against the
                    // one before it
                    let Some(before) = preceding_year(&p) else {
                        return cannot_compute("a growth needs two periods", Vec::new());
                    };
                    period_slices = vec![before, p];
                } else if s.growth && self.grain.is_none() && (x.comparing() || last_year_compare) {
                    return cannot_compute("a growth needs two periods", Vec::new());
                } else {
                    self.q.period = Some(p);
                }
            }
            2 => {
                let (mut a, mut b) = (self.periods[0].0.clone(), self.periods[1].0.clone());
                // "lower revenue in 2024 than in 2023": the first period named against the one
                // after "than"
                let lower = ["lower", "less", "fewer", "smaller", "worse"]
                    .iter()
                    .any(|w| x.has(w));
                let higher = ["higher", "more", "greater", "bigger", "better"]
                    .iter()
                    .any(|w| x.has(w));
                let first_later = a.start > b.start;
                if first_later {
                    std::mem::swap(&mut a, &mut b);
                }
                // "revenue by quarter across 2023 and 2024 with the quarter-over-quarter
                // change": the change runs along the breakdown's own grain over one period
                let along_grain = self.grain.is_some_and(|g| {
                    let short = match g {
                        Grain::Week => "wow",
                        Grain::Month => "mom",
                        Grain::Quarter => "qoq",
                        Grain::Year => "yoy",
                        Grain::Day => "dod",
                    };
                    s.over_period(g.as_str()) || x.has(short)
                });
                if along_grain && a.end.is_some() && a.end == b.start {
                    self.q.period = Some(Period {
                        start: a.start,
                        end: b.end,
                        text: format!("{} and {}", a.text, b.text),
                    });
                } else if x.has("than") && (lower != higher) {
                    // the later period is lower when the first named is the later one and lower
                    decline_between = Some(lower == first_later);
                    period_slices = vec![a, b];
                } else if x.comparing() || s.growth {
                    period_slices = vec![a, b];
                } else if both {
                    // "which customers bought in both 2024 and 2025": the instances found in
                    // each period (an intersection), not the two periods as one; "revenue for
                    // both 2024 and 2025 by genre": the two side by side
                    let asks_instances = matches!(x.words.first(), Some(&("which" | "what")))
                        && matches!(self.read.get(1), Some(Read::Term(k))
                            if matches!(self.found[*k].term, Term::Entity(_) | Term::Dimension { .. }));
                    if asks_instances {
                        return cannot_compute(
                            "the instances found in both periods (an intersection)",
                            Vec::new(),
                        );
                    }
                    period_slices = vec![a, b];
                } else if a.end.is_some() && a.end == b.start && x.has("and") {
                    // "by month for 2023 and 2024": one period, the two back to back
                    self.q.period = Some(Period {
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
        Ok((period_slices, decline_between))
    }
}

/// The calendar year holding `date`.
fn year_of(date: chrono::NaiveDate) -> Option<Period> {
    use chrono::Datelike;
    let start = chrono::NaiveDate::from_ymd_opt(date.year(), 1, 1)?;
    let end = chrono::NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?;
    Some(Period {
        start: Some(start),
        end: Some(end),
        text: date.year().to_string(),
    })
}

/// The calendar year before the whole year `p` ("2023" before "2024").
fn preceding_year(p: &Period) -> Option<Period> {
    use chrono::Datelike;
    let start = p.start?;
    let before = start.with_year(start.year() - 1)?;
    Some(Period {
        start: Some(before),
        end: Some(start),
        text: before.year().to_string(),
    })
}

/// Whether range `r` is "the previous year" (or month, quarter, week, day; "prior",
/// "preceding", "last") right after a word that compares ("vs", "versus", "against", "over",
/// "from", "than", "with", "to"), in a question that names the same grain outside any range
/// ("per year", "monthly"): the basis of a change from one period of the grain to the next,
/// not a period to restrict the rows to.
fn basis_of_a_change(
    toks: &[crate::question::Token],
    r: &dates::TimeRange,
    ranges: &[dates::TimeRange],
) -> bool {
    let (from, to) = r.tokens;
    let words: Vec<&str> = toks[from..to]
        .iter()
        .map(|t| t.lower.as_str())
        .filter(|w| *w != "the")
        .collect();
    let [previous, grain] = words.as_slice() else {
        return false;
    };
    if !matches!(*previous, "previous" | "prior" | "preceding" | "last") {
        return false;
    }
    let family: &[&str] = match *grain {
        "year" => &["year", "years", "yearly", "annual", "annually"],
        "quarter" => &["quarter", "quarters", "quarterly"],
        "month" => &["month", "months", "monthly"],
        "week" => &["week", "weeks", "weekly"],
        "day" => &["day", "days", "daily"],
        _ => return false,
    };
    let mut k = from;
    while k > 0 && toks[k - 1].lower == "the" {
        k -= 1;
    }
    let compares = k > 0
        && matches!(
            toks[k - 1].lower.as_str(),
            "vs" | "versus" | "against" | "over" | "from" | "than" | "with" | "to"
        );
    let in_a_range = |i: usize| ranges.iter().any(|o| (o.tokens.0..o.tokens.1).contains(&i));
    compares
        && toks
            .iter()
            .enumerate()
            .any(|(i, t)| !in_a_range(i) && family.contains(&t.lower.as_str()))
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

/// The latest first day of `month` (1..=12) on or before `reference`: this year's when it has
/// begun, last year's otherwise; `None` for a month out of range.
fn latest_start(reference: NaiveDate, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(reference.year(), month, 1)
        .filter(|d| *d <= reference)
        .or_else(|| NaiveDate::from_ymd_opt(reference.year() - 1, month, 1))
}

/// Months named without a year as date ranges: a month alone ("in March"), or a stretch of
/// two ("between March and June", "from November to February": into the next year), each the
/// latest that began on or before `reference`. "March and June" alone are two months.
fn yearless_months(
    toks: &[crate::question::Token],
    months: &[dates::MonthMention],
    reference: NaiveDate,
) -> Vec<dates::TimeRange> {
    let after = |d: NaiveDate, n: u32| d.checked_add_months(chrono::Months::new(n));
    let word = |k: usize| toks.get(k).map(|t| t.lower.as_str()).unwrap_or("");
    let mut out = Vec::new();
    let mut k = 0;
    while k < months.len() {
        let m = &months[k];
        let lead = m.token > 0 && matches!(word(m.token - 1), "between" | "from");
        let stretch_to = months.get(k + 1).filter(|n| {
            n.token == m.token + 2
                && match word(m.token + 1) {
                    "and" => lead,
                    w => matches!(w, "to" | "through" | "till" | "until" | "-"),
                }
        });
        k += if stretch_to.is_some() { 2 } else { 1 };
        let Some(start) = latest_start(reference, m.month) else {
            continue;
        };
        let (span, tokens) = match stretch_to {
            Some(n) => (
                (n.month + 12 - m.month) % 12 + 1,
                (if lead { m.token - 1 } else { m.token }, n.token + 1),
            ),
            None => (1, (m.token, m.token + 1)),
        };
        let (Some(end), Some(last_month)) = (after(start, span), after(start, span - 1)) else {
            continue;
        };
        let named = toks[tokens.0..tokens.1]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let year = if last_month.year() == start.year() {
            start.year().to_string()
        } else {
            format!("{}-{}", start.year(), last_month.year())
        };
        out.push(dates::TimeRange {
            start: Some(start),
            end: Some(end),
            grain: dates::TimeGrain::Month,
            text: format!("{named} {year}"),
            tokens,
            bare_year: false,
            endpoints: (span > 1)
                .then_some([(start, after(start, 1).unwrap_or(end)), (last_month, end)]),
        });
    }
    out
}

/// Quarters named without a year ("in Q3", "the third quarter") as date ranges, each the latest
/// that began on or before `reference`; tokens inside `ranges` are left alone.
fn yearless_quarters(
    toks: &[crate::question::Token],
    ranges: &[dates::TimeRange],
    reference: NaiveDate,
) -> Vec<dates::TimeRange> {
    let covered = |i: usize| ranges.iter().any(|r| (r.tokens.0..r.tokens.1).contains(&i));
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if covered(i) {
            continue;
        }
        let lower = t.lower.as_str();
        let ordinal = match lower {
            "first" | "1st" => Some(1),
            "second" | "2nd" => Some(2),
            "third" | "3rd" => Some(3),
            "fourth" | "4th" => Some(4),
            _ => None,
        };
        let (n, len) = match (lower.strip_prefix('q'), ordinal) {
            (Some(d), _) if d.len() == 1 && ("1"..="4").contains(&d) => {
                (d.parse::<u32>().unwrap_or(1), 1)
            }
            (_, Some(n))
                if toks.get(i + 1).is_some_and(|t| t.lower == "quarter") && !covered(i + 1) =>
            {
                (n, 2)
            }
            _ => continue,
        };
        let first_month = 3 * (n - 1) + 1;
        let Some(start) = latest_start(reference, first_month) else {
            continue;
        };
        let Some(end) = start.checked_add_months(chrono::Months::new(3)) else {
            continue;
        };
        out.push(dates::TimeRange {
            start: Some(start),
            end: Some(end),
            grain: dates::TimeGrain::Quarter,
            text: format!("Q{n} {}", start.year()),
            tokens: (i, i + len),
            bare_year: false,
            endpoints: None,
        });
    }
    out
}
