//! Derived figures: a metric per entity ("revenue per store by zone"), a ratio of two metrics
//! ("revenue per square foot"), a share ("what share of revenue came from Rock"), a running
//! total, a growth over periods ("month over month"), above or below the average ("which
//! Coffee products had a margin below ..."), a rank within a breakdown ("top 3 products in each
//! category"), a rank ("rank the zones by margin"), an average of a total ("average weekly
//! revenue per store"); then a threshold on the figure ("stores that sold more than $1M").

use super::lexicon::Term;
use super::metrics::{averages, entity_named_after};
use super::signals::Signals;
use super::state::{Found, Read, Reader};
use super::{cannot_compute, Refusal};
use crate::semantic::model::{Grain, SemanticManifest};
use crate::semantic::query::{Derived, DimensionRef, Filter, GroupBy, MetricColumn, Slice};

impl Reader<'_> {
    /// "the best-selling artist in each year": one breakdown ranked within each period of the
    /// time grain, which "each" / "every" / "per" names.
    fn ranked_within_periods(&self) -> bool {
        let words = self.input.words;
        self.q.group_by.len() == 1
            && self.q.time_grain.is_some()
            && words.windows(2).any(|w| {
                matches!(w[0], "each" | "every" | "per")
                    && super::words::GRAIN_NOUNS.contains(&w[1])
            })
    }

    /// Whether the first metric is better when lower (a ranking from the top starts at its
    /// lowest).
    pub(super) fn lower_better(&self) -> bool {
        let first_metric = self
            .metrics
            .first()
            .and_then(|m| self.input.manifest.metric(m));
        first_metric.is_some_and(|m| m.lower_is_better)
    }

    /// A metric per entity or per metric, averaged within the other breakdown or as a ratio;
    /// the entities the metric is named per.
    pub(super) fn per(&mut self, s: &mut Signals) -> Result<Vec<String>, Refusal> {
        let x = self.input;
        let words = x.words;
        // "revenue per store" beside another breakdown ("revenue per store by zone", "which zones
        // had the lowest revenue per store"): the revenue of the average store of each zone, the
        // metric per store averaged within the other breakdown; not "the best store in each zone"
        let metric_per: Vec<String> = self
            .q
            .group_by
            .iter()
            .filter_map(|g| match g {
                GroupBy::Entity { name }
                    if metric_named_per(&self.found, &self.dims, words, name) =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        // kept for "below-average revenue per store" after the branches below take `metric_per`
        let per_entities = metric_per.clone();
        let figures = self.q.figure_count();
        // "revenue per square foot": a metric per another metric is their ratio
        let per_metric = self.found.iter().any(|f| {
            f.start > 0
                && words[f.start - 1] == "per"
                && matches!(&f.term, Term::Metric(m)
                    if self.q.columns.get(1).is_some_and(|c| c.metric == *m))
        });
        // "the average price per track sold": an average is already per something; divided
        // by another figure it is no figure anyone asked for
        if per_metric
            && self
                .q
                .columns
                .first()
                .is_some_and(|c| averages(x.manifest, &c.metric))
        {
            return cannot_compute(
                "an average or a ratio per another figure: it is already per something",
                Vec::new(),
            );
        }
        if per_metric
            && figures == 2
            && self.q.columns.len() == 2
            && self.q.derived.is_none()
            && self.q.time_grain.is_none()
            && self.q.columns.iter().all(|c| c.slice.is_none())
            && !(s.averaging_asked || s.share || s.running || s.growth || s.above || s.below)
        {
            self.q.derived = Some(Derived::Ratio);
        }
        if !metric_per.is_empty()
            && self.q.group_by.len() > metric_per.len()
            && self.q.derived.is_none()
            && self.q.time_grain.is_none()
            && figures == 1
            && self.q.columns.iter().all(|c| c.slice.is_none())
            && !(s.averaging_asked || s.share || s.running || s.growth || s.above || s.below)
        {
            self.q
                .group_by
                .retain(|g| !matches!(g, GroupBy::Entity { name } if metric_per.contains(name)));
            self.q.derived = Some(Derived::AveragePer { per: metric_per });
            s.ranked_within = x.has("each") || x.has("every");
        } else if !metric_per.is_empty()
            && self.q.group_by.len() == metric_per.len()
            && self.q.derived.is_none()
            && self.q.time_grain.is_none()
            && figures >= 2
            && figures == self.q.columns.len()
            && self
                .q
                .columns
                .iter()
                .all(|c| matches!(c.slice, Some(Slice::Member { .. } | Slice::Named { .. })))
            && !(s.averaging_asked || s.share || s.running || s.growth || s.above || s.below)
        {
            // "revenue per store: Supercenter compared with Express": each member's figure per
            // store of its own, side by side
            self.q.group_by.clear();
            self.q.derived = Some(Derived::AveragePer { per: metric_per });
        }
        Ok(per_entities)
    }

    /// The derived figure the signals ask for, when none is set yet.
    pub(super) fn derived(
        &mut self,
        s: &Signals,
        per_entities: Vec<String>,
    ) -> Result<(), Refusal> {
        let x = self.input;
        let words = x.words;
        let manifest = x.manifest;
        let lower_better = self.lower_better();
        if self.q.derived.is_none() {
            if s.share && self.q.columns.is_empty() && self.q.entity_count.is_some() {
                // "what percent of stores are in the North zone", "what share of products are
                // elastic": the instances of one member or named filter among all of them
                let part = match self.q.filters.as_slice() {
                    [only] => Slice::of_filter(only),
                    _ => None,
                };
                let Some(part) = part else {
                    return cannot_compute(
                        "a share of a count needs exactly one member or named filter",
                        Vec::new(),
                    );
                };
                self.q.filters.clear();
                if let Some(ec) = self.q.entity_count.as_mut() {
                    ec.part = Some(part);
                }
                self.q.derived = Some(Derived::ShareOfWhole);
            } else if s.share {
                // "what share of revenue came from Rock": the member's share of the whole, not a
                // share among the rows of the member alone; "customers in the USA" names the
                // member's rows, not a breakdown by customer
                let positive: Vec<usize> = self
                    .q
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
                        self.members.iter().any(|m| m.start == k)
                    };
                    self.q.group_by.retain(|g| match g {
                        GroupBy::Entity { name } => !self.dims.iter().any(|(t, start, end)| {
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
                let metric_end = self
                    .found
                    .iter()
                    .find(|f| matches!(&f.term, Term::Metric(m) if self.metrics.first() == Some(m)))
                    .map(|f| f.end);
                let part_of_groups = |start: usize| {
                    metric_end.is_some_and(|end| {
                        end <= start
                            && words[end..start].iter().any(|w| {
                                matches!(
                                    *w,
                                    "from"
                                        | "came"
                                        | "come"
                                        | "comes"
                                        | "were"
                                        | "was"
                                        | "is"
                                        | "are"
                                )
                            })
                    })
                };
                let grouped_part = !self.q.group_by.is_empty()
                    && self.q.time_grain.is_none()
                    && self.q.columns.len() == 1
                    && self.q.columns[0].slice.is_none()
                    && self.q.filters.len() == 1;
                // "what percentage of the tracks sold were videos": a named filter's share
                let named_part = positive.is_empty()
                    && (self.q.group_by.is_empty()
                        || (grouped_part && self.named.iter().any(|(n, start)| {
                            matches!(&self.q.filters[0], Filter::Named { name, .. } if name == n)
                                && part_of_groups(*start)
                        })))
                    && self.q.columns.len() == 1
                    && self.q.columns[0].slice.is_none()
                    && self.q.filters.len() == 1
                    && matches!(self.q.filters[0], Filter::Named { negated: false, .. });
                // "how much of our Coffee revenue came from weeks on promotion": the member
                // qualifies the metric (the whole), the named filter after the verb is the part
                let named_after_verb = self
                    .named
                    .iter()
                    .filter(|(_, start)| part_of_groups(*start))
                    .find_map(|(n, _)| {
                        self.q.filters.iter().position(
                            |f| matches!(f, Filter::Named { name, negated: false } if name == n),
                        )
                    });
                let members_qualify = !positive.is_empty()
                    && self
                        .members
                        .iter()
                        .all(|m| m.negated || !part_of_groups(m.start));
                let qualified_whole = match (
                    named_after_verb,
                    members_qualify,
                    self.q.group_by.is_empty(),
                    self.q.columns.len() == 1 && self.q.columns[0].slice.is_none(),
                ) {
                    (Some(at), true, true, true) => Some(at),
                    _ => None,
                };
                if let Some(at) = qualified_whole.or(named_part.then_some(0)) {
                    let Filter::Named { name, .. } = self.q.filters.remove(at) else {
                        unreachable!("found as a named filter")
                    };
                    let metric = self.q.columns[0].metric.clone();
                    self.q.columns = vec![
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
                    self.q.derived = Some(Derived::ShareOfWhole);
                    self.q.share_with_figure = self.figure_and_share_asked();
                } else if !positive.is_empty()
                    && (!self
                        .q
                        .group_by
                        .iter()
                        .any(|g| matches!(g, GroupBy::Dimension(_)))
                        || (grouped_part
                            && self
                                .members
                                .iter()
                                .any(|m| !m.negated && part_of_groups(m.start))))
                {
                    // one positive member: its slice (`of_filter` is `None` for several)
                    let part = Slice::of_filter(&self.q.filters[positive[0]]);
                    if positive.len() != 1
                        || part.is_none()
                        || self.q.columns.len() != 1
                        || (!self.q.group_by.is_empty() && !grouped_part)
                    {
                        return cannot_compute(
                            "the share of more than one member in the whole is not read",
                            Vec::new(),
                        );
                    }
                    self.q.filters.remove(positive[0]);
                    // "the tracks sold were video files (Protected MPEG-4 video file)": a named
                    // filter on the member's own column restates the part, it is no condition
                    // on the whole
                    if let Some(Slice::Member { dimension, .. }) = &part {
                        let manifest = self.input.manifest;
                        self.q.filters.retain(|f| match f {
                            Filter::Named { name, .. } => {
                                !restates_member(manifest, name, dimension)
                            }
                            _ => true,
                        });
                    }
                    let metric = self.q.columns[0].metric.clone();
                    self.q.columns = vec![
                        MetricColumn {
                            metric: metric.clone(),
                            slice: part,
                        },
                        MetricColumn {
                            metric,
                            slice: None,
                        },
                    ];
                    self.q.derived = Some(Derived::ShareOfWhole);
                    self.q.share_with_figure = self.figure_and_share_asked();
                } else {
                    if self.q.group_by.is_empty() && self.q.time_grain.is_none() {
                        return cannot_compute(
                            "a share needs something to share among",
                            Vec::new(),
                        );
                    }
                    self.q.derived = Some(Derived::ShareOfTotal);
                    self.q.share_with_figure = self.figure_and_share_asked();
                }
            } else if s.running {
                if self.q.time_grain.is_none() {
                    self.q.time_grain = Some(Grain::Month);
                }
                self.q.derived = Some(Derived::RunningTotal);
            } else if s.growth {
                let g = self.q.time_grain;
                let lag = if s.over_period("year") || x.has("yoy") {
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
                    if s.over_period("year") || x.has("yoy") {
                        self.q.time_grain = Some(Grain::Year);
                    } else if s.over_period("month") || x.has("mom") {
                        self.q.time_grain = Some(Grain::Month);
                    } else if s.over_period("quarter") || x.has("qoq") {
                        self.q.time_grain = Some(Grain::Quarter);
                    } else {
                        return cannot_compute(
                            "a growth needs two periods or a time grain",
                            Vec::new(),
                        );
                    }
                }
                // "how has the number of customers changed year by year": a count of entities
                // has no change column; its series per period shows how it changed
                let counted_over_time = self.q.columns.is_empty()
                    && self.q.entity_count.is_some()
                    && self.q.time_grain.is_some();
                if counted_over_time {
                    return Ok(());
                }
                if self.q.columns.len() != 1 {
                    return cannot_compute("a growth of several metrics", Vec::new());
                }
                self.q.derived = Some(Derived::PeriodOverPeriod { lag });
            } else if s.above || s.below {
                // "which Coffee products had a margin below ...": the entity the member qualifies
                if self.q.group_by.is_empty() && self.q.time_grain.is_none() {
                    if let Some(e) = self.qualifier_entities.first() {
                        self.q.group_by.push(GroupBy::Entity { name: e.clone() });
                    }
                }
                if self.q.group_by.is_empty() && self.q.time_grain.is_none() {
                    return cannot_compute("above or below the average of what", Vec::new());
                }
                // an average or a ratio is compared with its value over the whole, a total with
                // the average of the rows' totals
                let of_whole = self.q.columns.iter().any(|c| averages(manifest, &c.metric));
                // "zones with below-average revenue per store": the figure per store, against the
                // revenue per store of all stores
                let per = per_entities;
                let per_entity = !per.is_empty()
                    && !of_whole
                    && self.q.figure_count() == 1
                    && !self.q.columns.iter().any(|c| c.slice.is_some());
                if per_entity {
                    self.q
                        .group_by
                        .retain(|g| !matches!(g, GroupBy::Entity { name } if per.contains(name)));
                    if self.q.group_by.is_empty() && self.q.time_grain.is_none() {
                        return cannot_compute("above or below the average of what", Vec::new());
                    }
                }
                self.q.derived = Some(Derived::VersusAverage {
                    above: s.above,
                    of_whole: of_whole || per_entity,
                    per: if per_entity { per } else { Vec::new() },
                });
            } else if (s.desc || s.asc)
                && s.ranked_within
                && (self.q.group_by.len() == 2 || self.ranked_within_periods())
                // "which zone has the highest average revenue per store": an average per store,
                // ranked, not a rank of stores within zones
                && !(s.averaging_asked && !per_entities.is_empty())
            {
                // "top 3 products in each category": rank the one named without "each" within the
                // one named with it ("within each genre, which artist"); else the first within the
                // second
                let with_each = |g: &GroupBy| {
                    self.dims.iter().any(|(t, start, _)| {
                        let same = match (t, g) {
                            (Term::Entity(e), GroupBy::Entity { name }) => e == name,
                            (Term::Dimension { name, .. }, GroupBy::Dimension(d)) => {
                                *name == d.name
                            }
                            _ => false,
                        };
                        same && *start > 0 && matches!(words[*start - 1], "each" | "every" | "per")
                    })
                };
                if self.q.group_by.len() == 2
                    && !(with_each(&self.q.group_by[0]) && !with_each(&self.q.group_by[1]))
                {
                    self.q.group_by.swap(0, 1);
                }
                self.q.derived = Some(Derived::RankWithin {
                    top: self.top_n.or(Some(1)),
                    ascending: s.asc != lower_better,
                });
            } else if (self.ghas("rank") || self.ghas("ranked") || self.ghas("ranking"))
                // "rank the regions by average revenue per store": the average per store,
                // ordered
                && !(s.averaging_asked
                    && self.q.group_by.iter().any(|g| {
                        matches!(g, GroupBy::Entity { name }
                            if entity_named_after(&self.dims, words, name, &["per"]))
                    }))
            {
                // "rank the zones by margin", "where does each category rank on units"
                if self.q.group_by.len() != 1
                    || self.q.time_grain.is_some()
                    || self.q.columns.len() != 1
                {
                    return cannot_compute("a rank of one breakdown by one metric", Vec::new());
                }
                self.q.derived = Some(Derived::Rank {
                    ascending: s.asc != lower_better,
                });
            } else if s.averaging_asked
                && !x.comparing()
                && !self.q.columns.iter().any(|c| averages(manifest, &c.metric))
            {
                // "average weekly revenue per store", "units a store sells in an average week":
                // the metric per store (and week), averaged
                let per: Vec<String> = self
                    .dims
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
                self.q
                    .group_by
                    .retain(|g| !matches!(g, GroupBy::Entity { name } if per.contains(name)));
                if per.is_empty() && self.q.time_grain.is_none() {
                    return cannot_compute(
                        "an average of a total needs what it is per (a store, a week)",
                        Vec::new(),
                    );
                }
                if self.q.figure_count() != 1 || self.q.columns.iter().any(|c| c.slice.is_some()) {
                    return cannot_compute("an average of several figures", Vec::new());
                }
                self.q.derived = Some(Derived::AveragePer { per });
            }
        }
        Ok(())
    }

    /// The threshold on the figure, when the query has one figure per row.
    pub(super) fn having(&mut self) -> Result<(), Refusal> {
        // a threshold compares each row's one figure ("stores that sold more than $1M in 2024")
        if let Some(t) = self.threshold.clone() {
            // "countries with at least 5 customers" beside another figure (an average invoice):
            // the number counts the entity right after it, not the figure
            let counted_after = self.dims.iter().find_map(|(term, start, _)| match term {
                Term::Entity(e) if *start > 0 && self.read[*start - 1] == Read::Number => Some(e),
                _ => None,
            });
            if let Some(e) = counted_after {
                if self.q.entity_count.as_ref().is_none_or(|c| &c.entity != e) {
                    return cannot_compute(
                        "a condition on a count of another entity than the figure's",
                        vec![e.clone()],
                    );
                }
            }
            let figures = self.q.figure_count();
            let rows = !self.q.group_by.is_empty() || self.q.time_grain.is_some();
            // a number in percent compares a share of the total ("countries that account for
            // more than 5% of revenue"), no other figure (a growth in percent is not computed)
            let derived_ok = if self.threshold_percent {
                self.q.derived == Some(Derived::ShareOfTotal)
            } else {
                matches!(self.q.derived, None | Some(Derived::AveragePer { .. }))
            };
            if figures != 1
                || !rows
                || !derived_ok
                || self.q.columns.iter().any(|c| c.slice.is_some())
            {
                return cannot_compute(
                    "a threshold on a figure needs one figure per row of a breakdown",
                    Vec::new(),
                );
            }
            // "invoices above $10 per year": an amount of money compares each invoice's
            // amount, not their number; a condition on each row, which the metric query does
            // not express: the number is left unread (the pattern engine reads such conditions)
            if let Some(number) = self
                .threshold_money
                .clone()
                .filter(|_| self.figure_is_a_count())
            {
                let metrics = self.q.columns.iter().map(|c| c.metric.clone()).collect();
                return Err(Refusal {
                    reason: "an amount of money compared with a count: a condition on each row"
                        .into(),
                    unread: vec![number],
                    understood: false,
                    metrics,
                });
            }
            // "how many stores did at least $1M in sales": the number of the stores that did
            let x = self.input;
            if let [GroupBy::Entity { name }] = self.q.group_by.as_slice() {
                let counted = entity_named_after(&self.dims, x.words, name, &["many"])
                    || (x.has_seq(&["number", "of"])
                        && entity_named_after(&self.dims, x.words, name, &["of"]));
                self.q.count_rows = counted && self.counting_words();
            }
            self.q.having = Some(t);
        }
        Ok(())
    }

    /// Whether the query's one figure counts rows: a count of entities, or a metric whose
    /// measure counts (`count`, `count_distinct`, `sum_boolean`).
    pub(super) fn figure_is_a_count(&self) -> bool {
        use crate::semantic::model::Agg;
        let counts = |name: &str| {
            self.input
                .manifest
                .metric_measure(name)
                .is_some_and(|(_, measure)| {
                    matches!(
                        measure.agg,
                        Agg::Count | Agg::CountDistinct | Agg::SumBoolean
                    )
                })
        };
        self.q.entity_count.is_some() || self.q.columns.iter().any(|c| counts(&c.metric))
    }

    /// Refuses a figure per entity beside members or another derived figure.
    pub(super) fn per_beside(&self) -> Result<(), Refusal> {
        let x = self.input;
        let words = x.words;
        // "revenue per store" beside members or another derived figure ("revenue per store:
        // Supercenter compared with Express", "zones with below-average revenue per store") asks
        // for a ratio to the number of stores that is not read yet; a breakdown by store would
        // answer another question
        if !matches!(self.q.derived, Some(Derived::AveragePer { .. })) {
            let per_entity = self.q.group_by.iter().any(|g| {
                matches!(g, GroupBy::Entity { name }
                    if entity_named_after(&self.dims, words, name, &["per"]))
            });
            let beside =
                self.q.group_by.len() > 1
                    || self.q.columns.iter().any(|c| {
                        matches!(c.slice, Some(Slice::Member { .. } | Slice::Named { .. }))
                    });
            if per_entity && beside {
                return cannot_compute(
                    "a figure per entity beside members or another derived figure (a ratio to their number)",
                    vec!["per".into()],
                );
            }
        }
        Ok(())
    }
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

/// Whether the named filter `name` is a condition on the column of `dimension` (same semantic
/// model, its expression naming the dimension's column): "video files" beside the member
/// "Protected MPEG-4 video file" of the media type's name.
fn restates_member(manifest: &SemanticManifest, name: &str, dimension: &DimensionRef) -> bool {
    let Some(filter) = manifest.filter(name) else {
        return false;
    };
    let model = dimension
        .model
        .as_deref()
        .and_then(|m| manifest.model(m))
        .or_else(|| {
            manifest
                .semantic_models
                .iter()
                .find(|m| m.dimension(&dimension.name).is_some())
        });
    let Some(model) = model else {
        return false;
    };
    let Some(d) = model.dimension(&dimension.name) else {
        return false;
    };
    let column = d.expr().to_ascii_lowercase();
    filter.semantic_model.eq_ignore_ascii_case(&model.name)
        && filter
            .expr
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w.eq_ignore_ascii_case(&column))
}

impl Reader<'_> {
    /// "Gross margin by department in 2024, and what share of the total did each account
    /// for", "revenue and its share by genre": the metric named before an "and" that comes
    /// before the word of share asks for the figure too.
    fn figure_and_share_asked(&self) -> bool {
        let words = self.input.words;
        let Some(share_at) = words.iter().position(|w| super::words::share_word(w)) else {
            return false;
        };
        self.found.iter().any(|f| {
            matches!(f.term, Term::Metric(_))
                && f.end < share_at
                && words[f.end..share_at].contains(&"and")
        })
    }
}
