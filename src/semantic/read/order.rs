//! Order, limit and layout: a rank ordered by its figure, a ranking ("the top 5 stores", "which
//! store" asks for one), a series in time order ("oldest first", "newest first"), the rows
//! furthest above the average first; members or whole periods compared alone come as a row
//! each ("revenue in 2023 versus 2024"). The last check of words not used ends the reading.

use chrono::Datelike;

use super::checks::unused_signal;
use super::lexicon::Term;
use super::signals::Signals;
use super::state::{Found, Reader};
use super::words::{ASC_WORDS, DESC_WORDS};
use super::{cannot_compute, Refusal};
use crate::question::tokens::Token;
use crate::semantic::model::Grain;
use crate::semantic::query::{
    Derived, DimensionRef, Filter, GroupBy, MetricColumn, MetricQuery, Order, OrderBy, Period,
    Slice,
};

impl Reader<'_> {
    /// Orders and limits the query, lays it out, and checks its words a last time.
    pub(super) fn order(mut self, s: &Signals) -> Result<MetricQuery, Refusal> {
        let x = self.input;
        let toks = x.toks;
        let words = x.words;
        let manifest = x.manifest;
        let lower_better = self.lower_better();
        if matches!(self.q.derived, Some(Derived::Rank { .. })) {
            self.q.order = vec![Order {
                by: OrderBy::Figure,
                descending: false,
            }];
            self.q.limit = self.top_n;
            unused_signal(manifest, toks, &self.read, &self.q)?;
            return Ok(self.q);
        }
        // "the three albums ... and who is the artist on each": details of the ranked instances
        let details = self.q.derived.is_none() && x.details_of_one_entity(&self.q.group_by);
        if !details
            && (self.q.group_by.len() > 2
                || (self.q.group_by.len() == 2
                    && self.q.derived.is_none()
                    && (s.desc || s.asc)
                    && self.top_n.is_some()))
        {
            return cannot_compute("too many breakdowns to rank", Vec::new());
        }
        // order and limit
        let ranking = s.desc || s.asc;
        // an average per week is one figure, not a series
        let series = self.q.time_grain.is_some()
            && !matches!(self.q.derived, Some(Derived::AveragePer { .. }));
        if !matches!(self.q.derived, Some(Derived::RankWithin { .. })) {
            if ranking {
                let descending = if s.desc && !s.asc {
                    !lower_better
                } else {
                    lower_better
                };
                let change = matches!(
                    self.q.derived,
                    Some(
                        Derived::PeriodGrowth
                            | Derived::PeriodDifference
                            | Derived::PeriodOverPeriod { .. }
                    )
                );
                let descending = descending != (change && s.falling);
                self.q.order.push(Order {
                    by: OrderBy::Figure,
                    descending,
                });
                // "which store" (singular) asks for one
                let members: Vec<(usize, usize)> =
                    self.members.iter().map(|m| (m.start, m.end)).collect();
                let singular_pick =
                    self.top_n.is_none() && singular_subject(toks, &self.found, &members, words);
                self.q.limit = self.top_n.or(if singular_pick { Some(1) } else { None });
                if self.q.group_by.is_empty() && !series {
                    // "Did Canada or France spend more?": the members named are what is ranked,
                    // a row each, every one shown
                    long_layout(&mut self.q);
                    if self.q.group_by.is_empty() {
                        let named = self.q.filters.iter().find_map(|f| match f {
                            Filter::Members {
                                dimension,
                                values,
                                negated: false,
                            } if values.len() >= 2 => Some(dimension.clone()),
                            _ => None,
                        });
                        if let Some(dimension) = named {
                            self.q.group_by = vec![GroupBy::Dimension(dimension)];
                        }
                    }
                    if self.q.group_by.is_empty() && self.q.time_grain.is_none() {
                        return cannot_compute("a ranking with nothing to rank", Vec::new());
                    }
                    self.q.order = vec![Order {
                        by: OrderBy::Figure,
                        descending,
                    }];
                    self.q.limit = self.top_n;
                }
            } else if series {
                if !self.q.group_by.is_empty() {
                    self.q.order.push(Order {
                        by: OrderBy::Groups,
                        descending: false,
                    });
                }
                self.q.order.insert(
                    0,
                    Order {
                        by: OrderBy::Time,
                        descending: false,
                    },
                );
            } else if let Some(Derived::VersusAverage { above, .. }) = self.q.derived {
                // the rows furthest above (or below) the average first
                self.q.order.push(Order {
                    by: OrderBy::Figure,
                    descending: above,
                });
            } else if let Some(Derived::PeriodGrowthWhere { decline }) = self.q.derived {
                // the largest decline (or increase) first
                self.q.order.push(Order {
                    by: OrderBy::Figure,
                    descending: !decline,
                });
            } else if matches!(
                self.q.derived,
                Some(Derived::PeriodGrowth | Derived::PeriodDifference)
            ) && !self.q.group_by.is_empty()
            {
                // a growth for each group: the fastest growing first
                self.q.order.push(Order {
                    by: OrderBy::Figure,
                    descending: true,
                });
            } else if !self.q.group_by.is_empty() {
                // several figures side by side (members, periods, metrics): none is the sort key,
                // the rows come in the order of what they are broken down by
                let peers = self.q.figure_count() >= 2;
                self.q.order.push(Order {
                    by: if peers {
                        OrderBy::Groups
                    } else {
                        OrderBy::Figure
                    },
                    descending: !peers,
                });
            }
            if series && ranking && !self.q.group_by.is_empty() && self.top_n.is_none() {
                self.q.order.insert(
                    0,
                    Order {
                        by: OrderBy::Time,
                        descending: false,
                    },
                );
                self.q.limit = None;
            }
        }
        if let Some(Derived::RankWithin { .. }) = self.q.derived {
            self.q.limit = None;
        }
        if !ranking {
            long_layout(&mut self.q);
        }
        if s.time_order && !series && !s.newest_first {
            return cannot_compute("a time order, with no time to order by", Vec::new());
        }
        if s.newest_first {
            match self.q.order.iter_mut().find(|o| o.by == OrderBy::Time) {
                Some(o) => o.descending = true,
                None if series => self.q.order.insert(
                    0,
                    Order {
                        by: OrderBy::Time,
                        descending: true,
                    },
                ),
                None => {
                    return cannot_compute("newest first, with no time to order by", Vec::new())
                }
            }
        }
        // "the average number of invoices per invoice" is one: the words counted were misread
        if let (Some(count), Some(Derived::AveragePer { per })) =
            (&self.q.entity_count, &self.q.derived)
        {
            if per.contains(&count.entity) {
                return cannot_compute(
                    format!(
                        "an average count of {0} per {0} is always one",
                        count.entity
                    ),
                    Vec::new(),
                );
            }
        }
        // "average number of tracks per invoice by year": the average is taken per period of
        // the grain ("average weekly revenue per store"); a row per period beside it is a
        // breakdown the average does not make
        let by_period = x.words.windows(2).any(|w| {
            matches!(w[0], "by" | "each" | "every")
                && matches!(
                    w[1],
                    "year"
                        | "years"
                        | "quarter"
                        | "quarters"
                        | "month"
                        | "months"
                        | "week"
                        | "weeks"
                        | "day"
                        | "days"
                )
        });
        if by_period
            && self.q.time_grain.is_some()
            && matches!(self.q.derived, Some(Derived::AveragePer { .. }))
        {
            return cannot_compute(
                "an average per entity in a row per period (the period is what it averages over)",
                Vec::new(),
            );
        }
        unused_signal(manifest, toks, &self.read, &self.q)?;
        Ok(self.q)
    }
}

/// True when the thing ranked is named in the singular ("which month", "which store", "which
/// Frozen Food product": after the members `[start, end)` that qualify it).
fn singular_subject(
    toks: &[Token],
    found: &[Found],
    members: &[(usize, usize)],
    words: &[&str],
) -> bool {
    // "which month", "which store", and "the best-selling category", "the top brand", "our
    // busiest quarter"
    let superlative = |w: &str| {
        DESC_WORDS.contains(&w)
            || ASC_WORDS.contains(&w)
            || matches!(w, "selling" | "performing" | "-")
    };
    // the words from `k` on, after a determiner (`the`) or "which" / "what": `Some` when they
    // decide
    let ranked_from = |mut k: usize, the: bool| -> Option<bool> {
        let mut superlatives = 0;
        // "the single best city", "the very top brand"
        while k < toks.len() && (superlative(words[k]) || matches!(words[k], "single" | "very")) {
            superlatives += usize::from(superlative(words[k]));
            k += 1;
        }
        if the && superlatives == 0 {
            return None;
        }
        // "which Frozen Food product": the member qualifies what is ranked
        while let Some(&(_, end)) = members.iter().find(|(start, _)| *start == k) {
            k = end;
        }
        // "the most popular genre", "the most profitable store": one word after the
        // superlative that names nothing qualifies it
        if superlatives > 0
            && !found.iter().any(|f| f.start == k)
            && found.iter().any(|f| f.start == k + 1)
        {
            k += 1;
        }
        let next = toks.get(k)?;
        if matches!(
            next.lower.as_str(),
            "month" | "quarter" | "year" | "week" | "day"
        ) {
            return Some(true);
        }
        let f = found.iter().find(|f| f.start == k)?;
        // "which rep's customers": the rep, one; "which reps' customers": several
        let last = &toks[f.end - 1].lower;
        let last = last
            .strip_suffix("'s")
            .or_else(|| last.strip_suffix("\u{2019}s"))
            .unwrap_or(last);
        Some(!matches!(f.term, Term::Metric(_)) && !last.ends_with('s') && !last.ends_with('\''))
    };
    // "who approved the most price increases": one person, named by "who" and the verb
    if words.first() == Some(&"who")
        && found
            .iter()
            .any(|f| f.start == 0 && matches!(f.term, Term::Dimension { .. }))
    {
        return true;
    }
    // "Best selling track of all time", "Top customer by revenue": a request that opens with
    // the superlative
    if words.first().is_some_and(|w| superlative(w)) {
        if let Some(decided) = ranked_from(0, true) {
            return decided;
        }
    }
    for (i, w) in words.iter().enumerate() {
        // "the best month", "our busiest quarter"
        let the = matches!(*w, "the" | "our" | "my" | "their");
        if !(matches!(*w, "which" | "what") || the) {
            continue;
        }
        if let Some(decided) = ranked_from(i + 1, the) {
            return decided;
        }
    }
    false
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
