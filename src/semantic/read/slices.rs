//! What is compared side by side, and the columns: members compared ("Rock vs Jazz", "side
//! by side"), a member against the rest ("compared with all other products"), named filters
//! compared ("with and without promotion"), else filters; then the columns of the query, one
//! per metric, per member or filter compared, or per period compared.

use super::signals::Signals;
use super::state::{Input, Reader};
use super::words::{COMPARE, NEGATORS};
use super::{cannot_compute, Refusal};
use crate::semantic::model::SemanticManifest;
use crate::semantic::query::{Derived, DimensionRef, Filter, MetricColumn, Period, Slice};

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
        // "Jane Peacock versus Margaret Park": members of two dimensions compared pairwise are
        // not two filters
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
            for (f, _) in &self.named {
                self.slices.push(Slice::Named {
                    name: f.clone(),
                    negated: false,
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
            } else if s.growth {
                self.q.derived = Some(Derived::PeriodGrowth);
            }
        } else if !self.slices.is_empty() {
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
