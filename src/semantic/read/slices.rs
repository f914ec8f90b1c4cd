//! What is compared side by side, and the columns: members compared ("Rock vs Jazz", "side
//! by side"), a member against the rest ("compared with all other products"), named filters
//! compared ("with and without promotion"), else filters; then the columns of the query, one
//! per metric, per member or filter compared, or per period compared.

use super::signals::Signals;
use super::state::{Input, Reader};
use super::words::{COMPARE, NEGATORS};
use super::{cannot_compute, Refusal};
use crate::semantic::model::SemanticManifest;
use crate::semantic::query::{Derived, DimensionRef, Filter, GroupBy, MetricColumn, Period, Slice};

impl Input<'_> {
    /// "X vs Y", and "side by side", "next to each other", "split into", "respectively".
    pub(super) fn comparing(&self) -> bool {
        COMPARE.iter().any(|w| self.has(w))
            || self.has_seq(&["side", "by", "side"])
            || self.has("side-by-side")
            || self.has_seq(&["next", "to"])
            || self.has("split")
            || self.has("respectively")
    }
}

impl Reader<'_> {
    /// Instances named by two dimensions beside a time breakdown would be columns side by side
    /// (a pivot by person), which the layer does not compute.
    pub(super) fn instances_beside_grain(&self) -> Result<(), Refusal> {
        let instances = self
            .q
            .filters
            .iter()
            .any(|f| matches!(f, Filter::Instances { .. }));
        if instances && self.grain.is_some() {
            return cannot_compute(
                "people named by two dimensions each, beside a time breakdown",
                Vec::new(),
            );
        }
        Ok(())
    }

    /// Members and named filters: side by side when compared, else filters.
    pub(super) fn slices(&mut self) -> Result<(), Refusal> {
        let x = self.input;
        let words = x.words;
        let manifest = x.manifest;
        // members: side by side when compared, else a filter
        let mut by_dim: Vec<(DimensionRef, Vec<String>, bool)> = Vec::new();
        for (d, v, neg, _) in &self.resolved_members {
            match by_dim.iter_mut().find(|(x, _, n)| x == d && n == neg) {
                // "Coffee products ... below the Coffee category's margin": one member, named twice
                Some((_, vs, _)) if vs.contains(v) => {}
                Some((_, vs, _)) => vs.push(v.clone()),
                None => by_dim.push((d.clone(), vec![v.clone()], *neg)),
            }
        }
        // "Jane Peacock versus Margaret Park": instances named by two dimensions of one model
        // each, a row each
        let instances = self
            .q
            .group_by
            .is_empty()
            .then(|| instances_named(&self.resolved_members))
            .flatten();
        if let Some((dimensions, rows)) = instances {
            by_dim.retain(|(d, _, _)| !dimensions.contains(d));
            self.q.group_by = dimensions.iter().cloned().map(GroupBy::Dimension).collect();
            self.q.filters.push(Filter::Instances { dimensions, rows });
        }
        // members of two dimensions compared pairwise otherwise are not two filters
        if x.comparing()
            && by_dim
                .iter()
                .filter(|(_, vs, neg)| vs.len() >= 2 && !neg)
                .count()
                >= 2
        {
            return cannot_compute(
                "members of several dimensions compared side by side",
                Vec::new(),
            );
        }
        if self.rest.is_some() {
            match by_dim.as_slice() {
                [(d, vs, false)] if vs.len() == 1 => {
                    self.slices = vec![
                        Slice::Member {
                            dimension: d.clone(),
                            value: vs[0].clone(),
                            negated: false,
                        },
                        Slice::Member {
                            dimension: d.clone(),
                            value: vs[0].clone(),
                            negated: true,
                        },
                    ];
                    by_dim.clear();
                }
                // "highly elastic products compared with all other products": a named filter
                [] if self.named.len() == 1 => {
                    let (name, _) = self.named.remove(0);
                    self.slices = vec![
                        Slice::Named {
                            name: name.clone(),
                            negated: false,
                        },
                        Slice::Named {
                            name,
                            negated: true,
                        },
                    ];
                }
                _ => {
                    return cannot_compute(
                        "\"the rest\" beside anything but one member",
                        Vec::new(),
                    )
                }
            }
        }
        for (d, vs, neg) in by_dim {
            if x.comparing() && vs.len() >= 2 && !neg && self.slices.is_empty() {
                self.slices
                    .extend(vs.into_iter().map(|value| Slice::Member {
                        dimension: d.clone(),
                        value,
                        negated: false,
                    }));
            } else {
                self.q.filters.push(Filter::Members {
                    dimension: d,
                    values: vs,
                    negated: neg,
                });
            }
        }
        // named filters: "with and without X", "X vs Y" side by side
        if x.has_seq(&["with", "and", "without"]) && self.named.len() == 1 && self.slices.is_empty()
        {
            let (f, at) = self.named[0].clone();
            // "with and without promotion" may have read "without promotion" as the negative
            // filter: "with" comes first either way
            let negative = words[at] == "without" || words[at] == "not" || words[at] == "non";
            self.slices.push(Slice::Named {
                name: f.clone(),
                negated: negative,
            });
            self.slices.push(Slice::Named {
                name: f,
                negated: !negative,
            });
        } else if self.named.len() >= 2
            && self.slices.is_empty()
            && (x.comparing()
                || contradictory(
                    manifest,
                    &self
                        .named
                        .iter()
                        .map(|(f, _)| f.as_str())
                        .collect::<Vec<_>>(),
                ))
        {
            // "on promo vs not on promo": a negator before one of them negates it
            for (f, at) in &self.named {
                self.slices.push(Slice::Named {
                    name: f.clone(),
                    negated: *at > 0 && NEGATORS.contains(&words[*at - 1]),
                });
            }
        } else {
            for (f, at) in &self.named {
                let negated = *at > 0 && NEGATORS.contains(&words[*at - 1]);
                self.q.filters.push(Filter::Named {
                    name: f.clone(),
                    negated,
                });
            }
        }
        Ok(())
    }

    /// The columns: the periods compared, else the slices, else the metrics.
    pub(super) fn columns(
        &mut self,
        period_slices: Vec<Period>,
        decline_between: Option<bool>,
        s: &Signals,
    ) -> Result<(), Refusal> {
        // columns
        if !period_slices.is_empty() {
            if self.metrics.len() != 1 || !self.slices.is_empty() {
                return cannot_compute(
                    "a comparison of periods needs exactly one metric",
                    Vec::new(),
                );
            }
            for p in period_slices {
                self.q.columns.push(MetricColumn {
                    metric: self.metrics[0].clone(),
                    slice: Some(Slice::Period(p)),
                });
            }
            // the rows of both periods, and only those
            self.q.period = None;
            if let Some(decline) = decline_between {
                self.q.derived = Some(Derived::PeriodGrowthWhere { decline });
            } else if s.growth && s.difference {
                self.q.derived = Some(Derived::PeriodDifference);
            } else if s.growth {
                self.q.derived = Some(Derived::PeriodGrowth);
            }
        } else if !self.slices.is_empty() {
            // "USA vs Canada: number of customers and total spend": several figures for members
            // of one dimension compared are a row per member (columns per member would leave
            // the other figures for all members together)
            let members_of_one: Option<(DimensionRef, Vec<String>)> = self
                .slices
                .iter()
                .try_fold(None, |acc: Option<(DimensionRef, Vec<String>)>, s| {
                    match (acc, s) {
                        (
                            None,
                            Slice::Member {
                                dimension,
                                value,
                                negated: false,
                            },
                        ) => Some(Some((dimension.clone(), vec![value.clone()]))),
                        (
                            Some((d, mut vs)),
                            Slice::Member {
                                dimension,
                                value,
                                negated: false,
                            },
                        ) if *dimension == d => {
                            vs.push(value.clone());
                            Some(Some((d, vs)))
                        }
                        _ => None,
                    }
                })
                .flatten();
            let figures = self.metrics.len() + usize::from(self.q.entity_count.is_some());
            if let (Some((dimension, values)), true) = (members_of_one, figures >= 2) {
                self.slices.clear();
                self.q.group_by.push(GroupBy::Dimension(dimension.clone()));
                self.q.filters.push(Filter::Members {
                    dimension,
                    values,
                    negated: false,
                });
                for m in &self.metrics {
                    self.q.columns.push(MetricColumn {
                        metric: m.clone(),
                        slice: None,
                    });
                }
                self.q.time_grain = self.grain;
                return Ok(());
            }
            if self.metrics.len() != 1 {
                return cannot_compute("side-by-side members need exactly one metric", Vec::new());
            }
            for slice in std::mem::take(&mut self.slices) {
                self.q.columns.push(MetricColumn {
                    metric: self.metrics[0].clone(),
                    slice: Some(slice),
                });
            }
        } else {
            for m in &self.metrics {
                self.q.columns.push(MetricColumn {
                    metric: m.clone(),
                    slice: None,
                });
            }
        }
        self.q.time_grain = self.grain;
        Ok(())
    }
}

/// True when two of the named filters cannot both hold: one is the other's negation by name
/// ("on promotion", "not on promotion") or they test the same expression against different
/// values. Named together, such filters are sides to compare, not conditions to combine.
fn contradictory(manifest: &SemanticManifest, names: &[&str]) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], " ");
    names.iter().any(|a| {
        names.iter().any(|b| {
            let (na, nb) = (norm(a), norm(b));
            if na == nb {
                return false;
            }
            if nb == format!("not {na}") || nb == format!("non {na}") {
                return true;
            }
            match (manifest.filter(a), manifest.filter(b)) {
                (Some(fa), Some(fb)) => {
                    let lhs = |e: &str| {
                        e.split(['=', '<', '>', '!'])
                            .next()
                            .map(|x| x.trim().to_ascii_lowercase())
                            .unwrap_or_default()
                    };
                    fa.semantic_model == fb.semantic_model
                        && fa.expr.contains('=')
                        && fb.expr.contains('=')
                        && !fa.expr.contains(" AND ")
                        && !fb.expr.contains(" AND ")
                        && lhs(&fa.expr) == lhs(&fb.expr)
                        && fa.expr != fb.expr
                }
                _ => false,
            }
        })
    })
}

/// Instances named by two dimensions of one model, each right after the other ("Jane Peacock
/// versus Margaret Park": first name, last name, twice): the two dimensions and a row of values
/// each, when there are at least two such instances and every member of the two dimensions is
/// part of one; `None` otherwise.
fn instances_named(
    members: &[(DimensionRef, String, bool, usize)],
) -> Option<(Vec<DimensionRef>, Vec<Vec<String>>)> {
    let mut named: Vec<&(DimensionRef, String, bool, usize)> =
        members.iter().filter(|m| !m.2).collect();
    named.sort_by_key(|m| m.3);
    let mut dims: Option<(DimensionRef, DimensionRef)> = None;
    let mut rows = Vec::new();
    let mut k = 0;
    while k + 1 < named.len() {
        let (a, b) = (named[k], named[k + 1]);
        if a.0 != b.0 && a.0.model == b.0.model && b.3 > a.3 && b.3 <= a.3 + 2 {
            match &dims {
                None => dims = Some((a.0.clone(), b.0.clone())),
                Some((da, db)) if *da == a.0 && *db == b.0 => {}
                Some(_) => return None,
            }
            rows.push(vec![a.1.clone(), b.1.clone()]);
            k += 2;
        } else {
            k += 1;
        }
    }
    let (da, db) = dims?;
    let paired = 2 * rows.len();
    let of_the_two = named.iter().filter(|m| m.0 == da || m.0 == db).count();
    (rows.len() >= 2 && paired == of_the_two).then(|| (vec![da, db], rows))
}
