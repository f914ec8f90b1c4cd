//! Metrics and breakdowns: the metrics, named filters, dimensions and entities the phrases
//! name, a metric that is another's base ("promo share of revenue"), the group-bys (a dimension
//! or an entity, unless it qualifies a member: "the Dairy category", "Rock tracks"), and the
//! metric a question implies without naming it ("the most popular genre", "which month sold
//! the most", "the average price increase").

use super::lexicon::Term;
use super::state::{Found, Input, Read, Reader};
use super::words::{ASC_WORDS, DESC_WORDS, GRAIN_NOUNS, SCALES};
use super::{cannot_compute, refuse, Refusal};
use crate::semantic::model::SemanticManifest;
use crate::semantic::query::{DimensionRef, GroupBy};

impl Input<'_> {
    /// Whether the breakdowns are one entity and details of each instance of it
    /// ([`Planner::determines`](crate::semantic::plan::Planner::determines)): "the three albums
    /// ... and the artist on each", "stores with their city and state" rank the instances.
    pub(super) fn details_of_one_entity(&self, group_by: &[GroupBy]) -> bool {
        let planner = crate::semantic::plan::Planner {
            manifest: self.manifest,
            schema: self.schema,
            dialect: crate::sql::dialect::Dialect::Sqlite,
        };
        let entities: Vec<&String> = group_by
            .iter()
            .filter_map(|g| match g {
                GroupBy::Entity { name } => Some(name),
                GroupBy::Dimension(_) => None,
            })
            .collect();
        // the finest entity: the one that determines every other breakdown
        entities.iter().any(|e| {
            group_by.iter().all(|g| {
                matches!(g, GroupBy::Entity { name } if name == *e) || planner.determines(e, g)
            })
        })
    }

    /// The models a metric reaches (none without a metric).
    pub(super) fn reach_of(&self, metric: Option<&String>) -> Vec<String> {
        let (manifest, schema) = (self.manifest, self.schema);
        let planner = crate::semantic::plan::Planner {
            manifest,
            schema,
            dialect: crate::sql::dialect::Dialect::Sqlite,
        };
        metric
            .and_then(|m| planner.home_model(m, 0))
            .map(|home| {
                planner
                    .reachable(&home)
                    .iter()
                    .map(|(m, _)| m.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A ranking word, "at least" aside.
    pub(super) fn ranks_something(&self) -> bool {
        let toks = self.toks;
        toks.iter().enumerate().any(|(i, t)| {
            DESC_WORDS.contains(&t.lower.as_str())
                || (ASC_WORDS.contains(&t.lower.as_str())
                    && !(t.lower == "least" && i > 0 && toks[i - 1].lower == "at"))
        })
    }

    /// A word of a time grain ("month", "quarterly").
    pub(super) fn time_words(&self) -> bool {
        let words = self.words;
        words.iter().any(|w| {
            GRAIN_NOUNS.contains(w)
                || matches!(*w, "daily" | "weekly" | "monthly" | "quarterly" | "yearly")
        })
    }

    /// A word of a sale or a performance ("sold", "best performing").
    pub(super) fn selling(&self) -> bool {
        [
            "sold",
            "sell",
            "sells",
            "selling",
            "bought",
            "purchased",
            "grossing",
            "earning",
            "earners",
            "performing",
            "performer",
            "performers",
            "performed",
            "performance",
            "spend",
            "spends",
            "spent",
            "spending",
            "generated",
            "generate",
            "generates",
            "generating",
            "earned",
            "grossed",
        ]
        .iter()
        .any(|w| self.has(w))
    }

    /// A word of a growth ("grew", "declined").
    pub(super) fn growing(&self) -> bool {
        ["grew", "grow", "growing", "growth", "declined", "decline"]
            .iter()
            .any(|w| self.has(w))
    }
}

impl Reader<'_> {
    /// The metrics, named filters and breakdowns the phrases name; with the first metric and
    /// the models it reaches.
    pub(super) fn terms(&mut self) -> (Option<String>, Vec<String>) {
        let x = self.input;
        let words = x.words;
        // "which products earned the highest margin": a verb that is a metric's synonym
        // ("earned": earnings) before another metric is the verb of that metric
        let metric_at = |f: &Found| matches!(f.term, Term::Metric(_)).then_some(f.start);
        let verb_of_another = |f: &Found| {
            f.end == f.start + 1
                && (words[f.start].ends_with("ed") || matches!(words[f.start], "spent" | "made"))
                && self.found.iter().any(|g| {
                    metric_at(g).is_some_and(|s| s > f.start && s <= f.end + 3) && g.term != f.term
                })
        };
        // metrics, group-bys, filters
        for f in &self.found {
            match &f.term {
                Term::Metric(_) if verb_of_another(f) => {}
                Term::Metric(m) => {
                    if !self.metrics.contains(m) {
                        self.metrics.push(m.clone())
                    }
                }
                Term::Filter(name) => self.named.push((name.clone(), f.start)),
                // "all other products" names the rest, not a breakdown by product
                _ if self.rest.is_some_and(|(a, b)| (a..b).contains(&f.start)) => {}
                t => self.dims.push((t.clone(), f.start, f.end)),
            }
        }
        let reached_by = self.metrics.first().cloned();
        let reached = x.reach_of(reached_by.as_ref());
        (reached_by, reached)
    }

    /// Drops a metric named as the base of another the question names.
    pub(super) fn bases(&mut self) {
        let x = self.input;
        let words = x.words;
        let manifest = x.manifest;
        // "promo share of revenue": a metric named after "of" that is an input of another metric
        // the question names (a derived or ratio metric) is that metric's base, not a column
        let inputs = |name: &str| -> Vec<String> {
            manifest
                .metric(name)
                .map(|m| m.input_names())
                .unwrap_or_default()
        };
        let base_of_another: Vec<String> = self
            .found
            .iter()
            .filter_map(|f| match &f.term {
                Term::Metric(n)
                    if f.start > 0
                        && words[f.start - 1] == "of"
                        && self.metrics.iter().any(|m| m != n && inputs(m).contains(n)) =>
                {
                    Some(n.clone())
                }
                _ => None,
            })
            .collect();
        self.metrics.retain(|m| !base_of_another.contains(m));
        // "the average change % of price changes": a count of a model's rows named after "of"
        // another metric of the same model names the rows measured, not a second figure
        let simple = |name: &str| {
            let (model, measure) = manifest.metric_measure(name)?;
            Some((model.name.clone(), measure.agg))
        };
        let rows_measured: Vec<String> = self
            .found
            .iter()
            .filter_map(|f| match &f.term {
                Term::Metric(n) if f.start > 0 => {
                    let mut k = f.start - 1;
                    while k > 0 && matches!(words[k], "the" | "all" | "our") {
                        k -= 1;
                    }
                    let (model, agg) = simple(n)?;
                    let counts = matches!(
                        agg,
                        crate::semantic::model::Agg::Count
                            | crate::semantic::model::Agg::CountDistinct
                    );
                    let of_another = words[k] == "of"
                        && self.found.iter().any(|g| match &g.term {
                            Term::Metric(m) => {
                                m != n
                                    && g.end == k
                                    && simple(m).is_some_and(|(other, _)| other == model)
                            }
                            _ => false,
                        });
                    (counts && of_another).then(|| n.clone())
                }
                _ => None,
            })
            .collect();
        if self.metrics.len() > rows_measured.len() {
            self.metrics.retain(|m| !rows_measured.contains(m));
        }
    }

    /// "gross margin as a percentage of revenue", "units divided by stores": two metrics named
    /// as a ratio, the first over the second, are the model's ratio or derived metric that
    /// divides the one by the other (its denominator the second or a metric named after it:
    /// `margin_revenue` for "revenue"). True when one was read; the question's "percentage
    /// of" then asks for no share.
    pub(super) fn ratio_named(&mut self) -> bool {
        let x = self.input;
        let words = x.words;
        let mut named: Vec<(&String, usize, usize)> = self
            .found
            .iter()
            .filter_map(|f| match &f.term {
                Term::Metric(m) if self.metrics.contains(m) => Some((m, f.start, f.end)),
                _ => None,
            })
            .collect();
        named.sort_by_key(|&(_, s, _)| s);
        for pair in named.windows(2) {
            let ((a, _, a_end), (b, b_start, _)) = (pair[0], pair[1]);
            if a == b || a_end > b_start {
                continue;
            }
            let between: Vec<&str> = words[a_end..b_start]
                .iter()
                .copied()
                .filter(|w| !matches!(*w, "a" | "an" | "the" | "total" | "overall" | "our"))
                .collect();
            let as_ratio = matches!(
                between[..],
                [
                    "as",
                    "percent" | "percentage" | "%" | "pct" | "fraction" | "proportion",
                    "of"
                ] | ["percent" | "percentage" | "%", "of"]
                    | ["divided", "by"]
                    | ["relative", "to"]
            );
            if !as_ratio {
                continue;
            }
            let Some(ratio) = x.manifest.metrics.iter().find(|m| divides(m, a, b)) else {
                continue;
            };
            let (a, b) = (a.clone(), b.clone());
            let at = self.metrics.iter().position(|m| *m == a).unwrap_or(0);
            self.metrics.retain(|m| *m != a && *m != b);
            self.metrics
                .insert(at.min(self.metrics.len()), ratio.name.clone());
            return true;
        }
        false
    }

    /// The dimensions and entities that qualify a member or are qualified by one, and the
    /// group-bys (the others).
    pub(super) fn group_bys(&mut self) {
        let x = self.input;
        let words = x.words;
        for (t, start, end) in &self.dims {
            let qualifies = match t {
                Term::Dimension { name, .. } => {
                    self.resolved_members.iter().any(|(d, _, _, s)| {
                        d.name == *name
                            && (*s == *end
                                || self.members.iter().any(|m| m.start == *s && m.end == *start))
                    })
                    // "in the Frozen Food department": a member named with a type (singular:
                    // "the Dairy brands" are brands), even when the member is of a neighbouring
                    // level (a category, not a department)
                    || self.members.iter().any(|m| {
                        m.end == *start
                            && !words[*end - 1].ends_with('s')
                            && m.start > 1
                            && words[m.start - 1] == "the"
                            && matches!(words[m.start - 2], "in" | "for" | "from" | "of" | "at")
                            && !m.negated
                    })
                }
                // "Rock tracks", "Dairy products": the entity the member belongs to; and "West
                // zone stores", "Dairy category products": after a dimension naming a member
                Term::Entity(_) => {
                    self.members.iter().any(|m| m.end == *start)
                    // "the average length of the tracks of each media type", "revenue of the
                    // tracks by genre": the rows measured, then the breakdown ("the number of
                    // tracks per invoice" counts them)
                    || ({
                        let mut k = *start;
                        if k > 0 && words[k - 1] == "the" {
                            k -= 1;
                        }
                        // "... comes from the customers of each sales agent": the rows
                        // through which the breakdown reaches the measure
                        k > 0
                            && matches!(words[k - 1], "of" | "from")
                            && !(k > 1 && matches!(words[k - 2], "number" | "count" | "total"))
                    } && {
                        let mut k = *end;
                        let linked = matches!(
                            words.get(k),
                            Some(&("of" | "in" | "for" | "by" | "per" | "across"))
                        );
                        k += 1;
                        if matches!(words.get(k), Some(&("each" | "every" | "the"))) {
                            k += 1;
                        }
                        linked && self.dims.iter().any(|(_, s, _)| *s == k)
                    })
                    // "promoted products", "highly elastic products": what a named filter
                    // qualifies
                    || self.found
                        .iter()
                        .any(|f| matches!(f.term, Term::Filter(_)) && f.end == *start)
                    // "which sales agent's customers spent the most": the rows of the entity
                    // named in the possessive, which is the breakdown
                    || self.dims.iter().any(|(d, _, e)| {
                        // the possessive mark in the word, or a token of its own
                        let marked = (*e == *start
                            && (words[*e - 1].ends_with("'s") || words[*e - 1].ends_with("s'")))
                            || (*e + 1 == *start && matches!(words[*e], "'" | "'s"));
                        matches!(d, Term::Entity(_)) && marked
                    })
                    // "which sales rep grew their customers' sales": an entity in the possessive
                    // before the metric names the rows measured, beside another breakdown
                    || (self.dims.len() > 1 && {
                        // the possessive mark in the word, or a token of its own
                        let after = if words[*end - 1].ends_with("'s")
                            || words[*end - 1].ends_with("s'")
                        {
                            Some(*end)
                        } else if matches!(words.get(*end), Some(&("'" | "'s"))) {
                            Some(*end + 1)
                        } else {
                            None
                        };
                        after.is_some_and(|k| {
                            self.found
                                .iter()
                                .any(|f| matches!(f.term, Term::Metric(_)) && f.start == k)
                        })
                    })
                    // "the share of track sales revenue each media type accounts for": an
                    // entity right before the metric names the rows measured, beside a
                    // breakdown said with "each", "every", "per" or "by" ("which artist earned
                    // the most within each genre" asks for the artist)
                    || (self.found.iter().any(|f| matches!(f.term, Term::Metric(_)) && f.start == *end)
                        && !(*start > 0
                            && matches!(
                                words[*start - 1],
                                "which" | "what" | "who" | "whose" | "top" | "bottom" | "each"
                                    | "every" | "per" | "by" | "best" | "worst"
                            ))
                        && self.dims.iter().any(|(_, s, _)| {
                            *s != *start
                                && *s > 0
                                && matches!(words[*s - 1], "each" | "every" | "per" | "by")
                        }))
                    // "top 10 countries by customer spend": an entity right before the metric
                    // that ranks another entity or dimension names the rows measured
                    || (*start > 0
                        && words[*start - 1] == "by"
                        && self.found.iter().any(|f| matches!(f.term, Term::Metric(_)) && f.start == *end)
                        && self.dims.iter().any(|(_, s, _)| {
                            let before = |k: usize| s.checked_sub(k).map(|j| words[j]);
                            *s < *start
                                && (matches!(before(1), Some("top" | "bottom" | "which" | "what" | "rank"))
                                    || (matches!(before(2), Some("top" | "bottom" | "rank"))
                                        && before(1).is_some_and(|w| {
                                            w.parse::<u64>().is_ok()
                                                || crate::question::numbers::word_value(w).is_some()
                                                || w == "the"
                                        })))
                        }))
                    // "which genre has the longest tracks": the rows a scale's adjective
                    // measures, beside another breakdown
                    || (self.dims.len() > 1
                        && self.found.iter().any(|f| {
                            matches!(f.term, Term::Metric(_))
                                && f.end == *start
                                && f.end == f.start + 1
                                && SCALES.iter().any(|(_, adjectives)| {
                                    adjectives.contains(&words[f.start])
                                })
                        }))
                    // "customers in Germany", "stores in the West zone": the member's rows
                    || ({
                        let mut k = *end;
                        let linked = matches!(words.get(k), Some(&("in" | "from")));
                        k += 1;
                        if words.get(k) == Some(&"the") {
                            k += 1;
                        }
                        linked && self.members.iter().any(|m| m.start == k)
                    } && !(*start > 0
                        && matches!(words[*start - 1], "each" | "every" | "per" | "by")))
                    || self.dims.iter().any(|(d, s, e)| {
                        *e == *start
                            && matches!(d, Term::Dimension { .. })
                            && self.members.iter().any(|m| m.end == *s)
                    })
                }
                _ => false,
            };
            if qualifies {
                if let Term::Entity(e) = t {
                    self.qualifier_entities.push(e.clone());
                }
                continue;
            }
            // "sales by billing country, and what share did each country represent": the head
            // noun of a breakdown named before is that breakdown again
            let toks = x.toks;
            let said_again = *end == *start + 1
                && self.dims.iter().any(|(t2, s2, e2)| {
                    *e2 <= *start
                        && *e2 >= *s2 + 2
                        && group_by_of(t2).is_some_and(|g2| self.q.group_by.contains(&g2))
                        && toks[*e2 - 1].stem == toks[*start].stem
                });
            if said_again {
                continue;
            }
            let Some(g) = group_by_of(t) else {
                continue;
            };
            if !self.q.group_by.contains(&g) {
                self.q.group_by.push(g);
            }
        }
        // "the three Neighborhood stores with the most units": ranked, the entity a member
        // qualifies is what is ranked when nothing else is
        self.rank_qualified_entity();
    }

    /// Ranks the entity a member qualifies when the question ranks something (or asks for the
    /// instances without rows), has a metric and no breakdown yet ("the three Neighborhood stores with the most units"); a threshold on
    /// the figure compares the entity's rows too ("Which Neighborhood stores did more than
    /// $600K in sales?").
    fn rank_qualified_entity(&mut self) {
        let x = self.input;
        // "which Dairy products had no sales": absence lists the instances of the entity
        if (x.ranks_something() || self.threshold.is_some() || self.q.absent)
            && self.q.group_by.is_empty()
            && !self.metrics.is_empty()
            && !x.time_words()
        {
            if let Some(e) = self.qualifier_entities.first() {
                self.q.group_by.push(GroupBy::Entity { name: e.clone() });
            }
        }
        // "List our Express stores in the South zone with their city": the instances a list
        // asks for, whatever members qualify them, are the first breakdown
        let words = x.words;
        let listed = self.qualifier_entities.iter().find(|e| {
            self.dims.iter().any(|(t, start, _)| {
                let mut k = *start;
                while k > 0
                    && (matches!(words[k - 1], "our" | "all" | "the" | "of" | "me" | "us")
                        || matches!(self.read[k - 1], Read::Member(_)))
                {
                    k -= 1;
                }
                matches!(t, Term::Entity(n) if n == *e)
                    && k < *start
                    && k > 0
                    && matches!(words[k - 1], "list" | "show")
                    && k - 1 == 0
            })
        });
        if let Some(e) = listed.cloned() {
            if !self
                .q
                .group_by
                .iter()
                .any(|g| matches!(g, GroupBy::Entity { name } if *name == e))
            {
                self.q.group_by.insert(0, GroupBy::Entity { name: e });
            }
        }
    }

    /// The metric a question implies when it names none; refused when there is still none to
    /// compute (and no count).
    pub(super) fn implied_metric(&mut self) -> Result<(), Refusal> {
        let x = self.input;
        let manifest = x.manifest;
        // "the most popular genre": popularity is the units sold, when the model has a metric of
        // units (named so, or with "units" or "quantity" among its synonyms)
        if self.metrics.is_empty()
            && self.q.entity_count.is_none()
            && (x.has("popular") || x.has("popularity"))
        {
            let units = manifest.metrics.iter().find(|m| {
                m.name.contains("units")
                    || m.synonyms
                        .iter()
                        .any(|s| matches!(s.as_str(), "units" | "units sold" | "quantity"))
            });
            if let Some(m) = units {
                self.metrics.push(m.name.clone());
            }
        }
        // "customers whose purchases add up to over $46": a total over a threshold, the
        // entity that adds up (the purchases) what is summed, not a breakdown
        let adds_up_at = (1..x.words.len()).find(|&i| {
            matches!(x.words[i], "add" | "adds" | "added")
                && x.words.get(i + 1) == Some(&"up")
                && x.words.get(i + 2) == Some(&"to")
        });
        let adds_up = self.threshold.is_some() && adds_up_at.is_some();
        if let (true, Some(at), true) = (adds_up, adds_up_at, self.metrics.is_empty()) {
            let summed = self.dims.iter().find_map(|(t, _, end)| match t {
                Term::Entity(e) if *end == at => Some(e.clone()),
                _ => None,
            });
            if let Some(e) = summed {
                if self.q.group_by.len() > 1 {
                    self.q
                        .group_by
                        .retain(|g| !matches!(g, GroupBy::Entity { name } if *name == e));
                }
            }
        }
        // "which categories grew fastest", "which month sold the most", "the best performing
        // store": a growth, a sale or a performance with no metric named is about the model's
        // headline metric, its first
        // "our top customers in Brazil", "the biggest stores": a ranking of a breakdown with no
        // figure named is by the headline metric too
        let ranked_alone = self.ranked_period()
            || ["top", "best", "biggest", "worst"].iter().any(|w| x.has(w))
                && (!self.q.group_by.is_empty()
                    || self.q.time_grain.is_some()
                    || self
                        .dims
                        .iter()
                        .any(|(t, _, _)| matches!(t, Term::Entity(_))));
        if self.metrics.is_empty()
            && (x.selling() || x.growing() || adds_up || ranked_alone)
            && (self.q.entity_count.is_none() && !self.counting_words()
                || x.has_seq(&["how", "much"]))
        {
            // "how many stores ..., and how much did each sell": the count and the headline metric
            if let Some(m) = manifest.metrics.first() {
                self.metrics.push(m.name.clone());
            }
        }
        // "the best selling products in Dairy", "the most popular tracks of Queen": with the metric
        // known only now, the entity a member qualifies is what is ranked, as above
        self.rank_qualified_entity();
        // "the average price increase by approver": an average of the rows a named filter keeps
        // by a condition on a column ("change_percent > 0") is the average metric of that column
        if self.metrics.is_empty()
            && self.q.entity_count.is_none()
            && self.q.dimension_count.is_none()
            && (self.ghas("average") || self.ghas("avg") || self.ghas("mean"))
            && self.named.len() == 1
        {
            let filter = manifest.filter(&self.named[0].0);
            let averages_there: Vec<&str> = manifest
                .metrics
                .iter()
                .filter(|m| {
                    m.type_params.measure.as_ref().is_some_and(|i| {
                        manifest.measure(i.name()).is_some_and(|(sm, me)| {
                            let column = me.expr.as_deref().unwrap_or(&me.name);
                            filter.is_some_and(|f| {
                                f.semantic_model == sm.name
                                    && f.expr
                                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                                        .any(|w| w.eq_ignore_ascii_case(column))
                            }) && matches!(me.agg, crate::semantic::model::Agg::Average)
                        })
                    })
                })
                .map(|m| m.name.as_str())
                .collect();
            if let [one] = averages_there.as_slice() {
                self.metrics.push(one.to_string());
            }
        }
        if self.metrics.is_empty()
            && self.q.entity_count.is_none()
            && self.q.dimension_count.is_none()
        {
            // "which categories are most promoted": a breakdown ranked by a named filter with no
            // figure of it named (its revenue? its count? its share?) is understood and not
            // computed, rather than left to a generator that would rank by the flag itself
            let ranked_by_filter = !self.q.group_by.is_empty()
                && self.found.iter().any(|f| {
                    matches!(f.term, Term::Filter(_))
                        && f.start > 0
                        && matches!(x.words[f.start - 1], "most" | "least")
                });
            // "who approved the most price increases": a filter named by a plural noun of its
            // rows ("increases") ranks by how many of them there are
            let counted_rows = self.found.iter().find_map(|f| match &f.term {
                Term::Filter(name)
                    if f.start > 0
                        && matches!(x.words[f.start - 1], "most" | "fewest")
                        && x.words[f.end - 1].ends_with('s')
                        && !x.words[f.end - 1].ends_with("ss") =>
                {
                    x.manifest
                        .filter(name)
                        .and_then(|fl| x.manifest.model(&fl.semantic_model))
                        .and_then(|m| m.primary_entity())
                        .map(|e| e.name.clone())
                }
                _ => None,
            });
            if let (true, Some(entity)) = (ranked_by_filter, counted_rows) {
                self.q.entity_count = Some(crate::semantic::query::EntityCount {
                    entity,
                    through: None,
                    part: None,
                });
                return Ok(());
            }
            if ranked_by_filter {
                return cannot_compute(
                    "a ranking by a named filter with no figure named (its revenue, its count, \
                     its share?)",
                    Vec::new(),
                );
            }
            return refuse("no metric named", Vec::new());
        }
        Ok(())
    }
}

/// True when `metric` is itself an average or a ratio: "average" in the question names it
/// ("the average price index", "average selling price", "average margin percent").
/// Whether metric `m` divides metric `a` by metric `b`, or by a metric whose name holds `b`'s
/// as whole words (`margin_revenue` for `revenue`): a ratio's numerator and denominator, or a
/// derived metric's expression `... a / b ...`.
fn divides(m: &crate::semantic::model::Metric, a: &str, b: &str) -> bool {
    use crate::semantic::model::MetricType;
    let named_after = |input: &str| {
        input == b || {
            let parts: Vec<&str> = input.split('_').collect();
            let want: Vec<&str> = b.split('_').collect();
            parts.windows(want.len()).any(|w| w == want.as_slice())
        }
    };
    let p = &m.type_params;
    match m.kind {
        MetricType::Ratio => {
            p.numerator.as_ref().is_some_and(|n| n.name() == a)
                && p.denominator
                    .as_ref()
                    .is_some_and(|d| named_after(d.name()))
        }
        MetricType::Derived => {
            let Some((top, bottom)) = p.expr.as_deref().and_then(|e| e.split_once('/')) else {
                return false;
            };
            let word_in = |text: &str, w: &str| {
                text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|x| x == w)
            };
            p.metrics
                .iter()
                .any(|i| i.name() == a && word_in(top, i.alias()))
                && p.metrics
                    .iter()
                    .any(|i| named_after(i.name()) && word_in(bottom, i.alias()))
        }
        _ => false,
    }
}

pub(super) fn averages(manifest: &SemanticManifest, metric: &str) -> bool {
    manifest.metric(metric).is_some_and(|m| match m.kind {
        crate::semantic::model::MetricType::Ratio => true,
        // a derived metric that divides is a ratio too
        crate::semantic::model::MetricType::Derived => m
            .type_params
            .expr
            .as_deref()
            .is_some_and(|e| e.contains('/')),
        _ => manifest.metric_measure(metric).is_some_and(|(_, me)| {
            matches!(
                me.agg,
                crate::semantic::model::Agg::Average | crate::semantic::model::Agg::Median
            )
        }),
    })
}

/// True when entity `name` is named (in `dims`: term, first and end word) right after one of
/// `before` ("the most tracks", "per store", "a purchase").
pub(super) fn entity_named_after(
    dims: &[(Term, usize, usize)],
    words: &[&str],
    name: &str,
    before: &[&str],
) -> bool {
    dims.iter().any(|(t, start, _)| {
        matches!(t, Term::Entity(e) if e == name)
            && *start > 0
            && before.contains(&words[*start - 1])
    })
}

/// The breakdown a dimension or an entity of the lexicon names; `None` for other terms.
pub(super) fn group_by_of(t: &Term) -> Option<GroupBy> {
    match t {
        Term::Dimension { model, name } => Some(GroupBy::Dimension(DimensionRef {
            model: Some(model.clone()),
            name: name.clone(),
        })),
        Term::Entity(e) => Some(GroupBy::Entity { name: e.clone() }),
        _ => None,
    }
}
