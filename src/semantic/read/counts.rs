//! Counts: of an entity ("how many customers", "the albums with the most tracks"), of the
//! rows having at least one of something ("how many stores had at least one price change"),
//! of distinct entities among a metric's rows ("number of distinct tracks sold"), of a named
//! filter's rows ("how many price increases"), and of a dimension's values ("how many brands").

use super::lexicon::{key, Term};
use super::metrics::entity_named_after;
use super::state::{Read, Reader};
use super::words::share_word;
use super::words::GRAIN_NOUNS;
use super::{cannot_compute, Refusal};
use crate::semantic::query::{DimensionRef, EntityCount, GroupBy};

impl Reader<'_> {
    /// "how many", "number" (not of "number one") or "count".
    pub(super) fn counting_words(&self) -> bool {
        let x = self.input;
        x.has_seq(&["how", "many"]) || (x.has("number") && !self.number_one) || x.has("count")
    }

    /// The entity counted, and what it is counted through.
    pub(super) fn counts(&mut self) -> Result<(), Refusal> {
        let x = self.input;
        let toks = x.toks;
        let words = x.words;
        let manifest = x.manifest;
        let lexicon = x.lexicon;
        // "how many stores had at least one price change": the stores among the metric's rows
        // "how many invoices did we bill to Canadian customers": a metric named by the verb
        // after "did we" is what the entity right after "how many" is counted among
        let verb_metric = self.found.iter().any(|f| {
            matches!(f.term, Term::Metric(_))
                && f.start >= 2
                && matches!(words[f.start - 1], "we" | "they" | "you" | "i")
                && matches!(
                    words[f.start - 2],
                    "did" | "do" | "does" | "have" | "has" | "had"
                )
        });
        let counted_after_how_many = self.dims.iter().any(|(t, start, _)| {
            matches!(t, Term::Entity(_))
                && *start >= 2
                && words[*start - 1] == "many"
                && words[*start - 2] == "how"
        });
        let through = if (self.at_least_one
            || (verb_metric && counted_after_how_many && self.threshold.is_none()))
            && self.counting_words()
            && self.metrics.len() == 1
        {
            self.metrics.pop()
        } else {
            None
        };
        if self.at_least_one && !self.counting_words() {
            return cannot_compute("\"at least one\" outside a count", Vec::new());
        }
        // "how many <entity>" counts the entity when no metric is named: the one named right after
        // "how many" / "number of" when there are several ("for each rep, how many customers")
        if self.metrics.is_empty() {
            let counted_entity = |name: &str| {
                self.dims.iter().any(|(t, start, end)| {
                    // "the albums with the highest track count": the entity before "count"
                    let before_count = matches!(words.get(*end), Some(&"count") | Some(&"counts"));
                    matches!(t, Term::Entity(e) if e == name)
                        && (before_count || {
                            let mut k = *start;
                            // "number of Iron Maiden tracks": a member between
                            while k > 0
                                && (matches!(
                                    words[k - 1],
                                    "of" | "different"
                                        | "distinct"
                                        | "unique"
                                        | "their"
                                        | "our"
                                        | "the"
                                ) || matches!(self.read[k - 1], Read::Member(_)))
                            {
                                k -= 1;
                            }
                            k > 0
                                && (matches!(words[k - 1], "many" | "number" | "count")
                                    || share_word(words[k - 1]))
                        })
                })
            };
            // "what percent of stores are in the North": the stores are counted, for a share
            let share_of = |name: &str| {
                self.dims.iter().any(|(t, start, _)| {
                    matches!(t, Term::Entity(e) if e == name) && {
                        let mut k = *start;
                        while k > 0 && matches!(words[k - 1], "of" | "the" | "our" | "all") {
                            k -= 1;
                        }
                        k > 0 && k < *start && share_word(words[k - 1])
                    }
                })
            };
            // "number of Iron Maiden tracks per album": the entity a member qualifies, when the
            // counting words name it, is counted per the breakdown
            let counted_listed = self
                .q
                .group_by
                .iter()
                .any(|g| matches!(g, GroupBy::Entity { name } if counted_entity(name)));
            let counted_qualified = self
                .qualifier_entities
                .iter()
                .find(|e| counted_entity(e))
                .cloned();
            if let (false, Some(e), true) =
                (counted_listed, counted_qualified, self.counting_words())
            {
                self.q.entity_count = Some(EntityCount {
                    entity: e,
                    through: through.clone(),
                    part: None,
                });
            }
            let pos = self
                .q
                .group_by
                .iter()
                .position(|g| matches!(g, GroupBy::Entity { name } if counted_entity(name)))
                .or_else(|| {
                    self.q
                        .group_by
                        .iter()
                        .position(|g| matches!(g, GroupBy::Entity { .. }))
                });
            // "the albums with the most tracks": the entity right after "most" / "fewest" is
            // counted per the other breakdown
            // "which month of 2024 had the fewest invoices": the periods are the other breakdown
            let by_period = words.windows(2).any(|w| {
                matches!(w[0], "which" | "what" | "each" | "every" | "per" | "by")
                    && GRAIN_NOUNS.contains(&w[1])
            });
            let most_pos =
                if self.q.group_by.len() >= 2 || (by_period && self.q.group_by.len() == 1) {
                    self.q.group_by.iter().position(|g| {
                        matches!(g, GroupBy::Entity { name }
                    if entity_named_after(&self.dims, words, name, &["most", "fewest"]))
                    })
                } else {
                    None
                };
            // "which albums have more than 20 tracks": the entity right after a threshold's
            // number, likewise
            let most_pos = most_pos.or_else(|| {
                if self.threshold.is_none() || self.q.group_by.len() < 2 {
                    return None;
                }
                self.q.group_by.iter().position(|g| {
                    matches!(g, GroupBy::Entity { name } if self.dims.iter().any(|(t, start, _)| {
                        matches!(t, Term::Entity(e) if e == name)
                            && {
                                // "more than two of our customers": "of our" between
                                let mut k = *start;
                                while k > 0 && matches!(words[k - 1], "of" | "our" | "the" | "my") {
                                    k -= 1;
                                }
                                k > 0 && matches!(self.read[k - 1], Read::Number)
                            }
                    }))
                })
            });
            // "how many customers placed at least 2 invoices": the other entity is counted per
            // instance, as in "which customers placed ..."; the instances over the threshold are
            // then counted ([`MetricQuery::count_rows`], read with the threshold)
            let over_threshold =
                most_pos.is_some() && self.counting_words() && self.threshold.is_some();
            let pos = if most_pos.is_some() && (!self.counting_words() || over_threshold) {
                most_pos
            } else {
                pos
            };
            // "which categories have the most highly elastic products": the entity a named
            // filter qualifies, right after "most" / "fewest", counted per the breakdown
            // ("which artist has the most tracks in the Metal genre": a member's)
            let most_qualified = |e: &String| {
                !self.q.group_by.is_empty()
                    && (entity_named_after(&self.dims, words, e, &["most", "fewest"])
                        || self.dims.iter().any(|(t, start, _)| {
                            matches!(t, Term::Entity(name) if name == e)
                                && self.found.iter().any(|f| {
                                    matches!(f.term, Term::Filter(_))
                                        && f.end == *start
                                        && f.start > 0
                                        && matches!(words[f.start - 1], "most" | "fewest")
                                })
                        }))
            };
            let qualified = if most_pos.is_none() && !self.counting_words() {
                self.qualifier_entities
                    .iter()
                    .find(|e| most_qualified(e))
                    .cloned()
            } else {
                None
            };
            // "the busiest month for invoices": the periods ranked by how many there were
            let qualified = qualified.or_else(|| {
                if !self.ranked_period() || self.counting_words() {
                    return None;
                }
                let entities: Vec<&String> = self
                    .q
                    .group_by
                    .iter()
                    .filter_map(|g| match g {
                        GroupBy::Entity { name } => Some(name),
                        GroupBy::Dimension(_) => None,
                    })
                    .collect();
                match entities.as_slice() {
                    [e] => Some((*e).clone()),
                    _ => None,
                }
            });
            if self.q.entity_count.is_some() {
                // counted above
            } else if let Some(e) = qualified {
                self.q
                    .group_by
                    .retain(|g| !matches!(g, GroupBy::Entity { name } if *name == e));
                self.q.entity_count = Some(EntityCount {
                    entity: e,
                    through: through.clone(),
                    part: None,
                });
            } else if let Some(pos) = pos {
                let share =
                    matches!(&self.q.group_by[pos], GroupBy::Entity { name } if share_of(name));
                if self.counting_words() || most_pos.is_some() || share {
                    if let GroupBy::Entity { name } = self.q.group_by.remove(pos) {
                        self.q.entity_count = Some(EntityCount {
                            entity: name,
                            through: through.clone(),
                            part: None,
                        });
                    }
                }
            } else if let Some(e) = self.qualifier_entities.first() {
                // "what is the share of invoices from Canada": the instances a member qualifies
                if self.counting_words() || share_of(e) {
                    self.q.entity_count = Some(EntityCount {
                        entity: e.clone(),
                        through: through.clone(),
                        part: None,
                    });
                }
            }
        }
        // (a count of the rows over a threshold, or of those without rows, is read later)
        if !self.metrics.is_empty()
            && self.q.entity_count.is_none()
            && through.is_none()
            && self.threshold.is_none()
            && !self.q.absent
            && self.absent_rows_of.is_none()
        {
            self.count_beside_metric()?;
        }
        // "how many customers made a purchase": an entity named with "a" in a count is a condition
        // of existence (every counted customer has one), not a breakdown
        if self.q.entity_count.is_some()
            && !(self.ghas("average") || self.ghas("avg") || self.ghas("mean"))
        {
            self.q.group_by.retain(|g| {
                !matches!(g, GroupBy::Entity { name }
                if entity_named_after(&self.dims, words, name, &["a", "an"]))
            });
        }
        if through.is_some() && self.q.entity_count.is_none() {
            return cannot_compute("\"at least one\" of what", Vec::new());
        }
        // "number of distinct tracks sold": the entity the metric's words start with ("tracks" of
        // "tracks sold"), counted among the metric's rows, not the metric (a sum of quantities)
        let distinct_words = ["distinct", "different", "unique"].iter().any(|w| x.has(w));
        if self.counting_words()
            && distinct_words
            && self.q.entity_count.is_none()
            && self.metrics.len() == 1
        {
            let metric = self.metrics[0].clone();
            let entity = self
                .found
                .iter()
                .filter(|f| matches!(&f.term, Term::Metric(m) if *m == metric))
                .find_map(|f| {
                    // the whole span too: "tracks" of "different tracks were sold", read as the
                    // metric "tracks sold" above
                    (f.start + 1..=f.end).rev().find_map(|end| {
                        let phrase: Vec<&str> = toks[f.start..end].iter().filter_map(key).collect();
                        lexicon.phrases.get(&phrase.join(" ")).and_then(|ts| {
                            ts.iter().find_map(|t| match t {
                                Term::Entity(e) => Some(e.clone()),
                                _ => None,
                            })
                        })
                    })
                });
            if let Some(entity) = entity {
                self.metrics.clear();
                self.q.entity_count = Some(EntityCount {
                    entity,
                    through: Some(metric),
                    part: None,
                });
            }
        }
        // a distinct count the metric (a sum) is not
        if self.counting_words()
            && self.q.entity_count.is_none()
            && ["distinct", "different", "unique"].iter().any(|w| x.has(w))
        {
            return cannot_compute("a distinct count of what the metric sums", Vec::new());
        }
        // "how many price increases": the rows of a named filter's model, counted by its key
        if self.metrics.is_empty()
            && self.q.entity_count.is_none()
            && self.named.len() == 1
            && (x.has_seq(&["how", "many"]) || x.has("number") || x.has("count"))
        {
            let entity = manifest
                .filter(&self.named[0].0)
                .and_then(|f| manifest.model(&f.semantic_model))
                .and_then(|m| m.primary_entity())
                .map(|e| e.name.clone());
            if let Some(entity) = entity {
                self.q.entity_count = Some(EntityCount {
                    entity,
                    through: None,
                    part: None,
                });
            }
        }
        Ok(())
    }

    /// An entity counted where a metric is named too, so that the count is never dropped:
    /// beside the metric when the two are joined by "and" ("number of customers and revenue by
    /// country", "USA invoices + rev by city": the count and the metric per city); among the
    /// metric's rows when a verb joins them ("how many customers had revenue in 2024"); refused
    /// otherwise. A bare entity (no counting word) is counted only when joined to the metric
    /// by "and" beside another breakdown.
    fn count_beside_metric(&mut self) -> Result<(), Refusal> {
        let words = self.input.words;
        let metric_spans: Vec<(usize, usize)> = self
            .found
            .iter()
            .filter(|f| matches!(f.term, Term::Metric(_)))
            .map(|f| (f.start, f.end))
            .collect();
        // only "and" (or "+", "&", "plus", a comma) and determiners between the two spans
        let joined = |a: usize, b: usize| {
            let between = &words[a..b];
            between
                .iter()
                .any(|w| matches!(*w, "and" | "+" | "&" | "plus" | ","))
                && between.iter().all(|w| {
                    matches!(
                        *w,
                        "and" | "+" | "&" | "plus" | "," | "the" | "their" | "its" | "total"
                    )
                })
        };
        let coordinated = |start: usize, end: usize| {
            metric_spans.iter().any(|&(ms, me)| {
                (me <= start && joined(me, start)) || (end <= ms && joined(end, ms))
            })
        };
        // an entity counted in words: "and" between the two is enough, whatever else comes
        // between ("how many tracks do we have in each media type, and what's the average
        // price"), unless another figure does
        let loosely_coordinated = |start: usize, end: usize| {
            metric_spans.iter().any(|&(ms, me)| {
                let (a, b) = if me <= start { (me, start) } else { (end, ms) };
                a <= b
                    && words[a..b]
                        .iter()
                        .any(|w| matches!(*w, "and" | "+" | "&" | "plus"))
                    && !metric_spans.iter().any(|&(s2, _)| s2 >= a && s2 < b)
            })
        };
        let counted = |start: usize, end: usize| {
            let mut k = start;
            while k > 0
                && (matches!(
                    words[k - 1],
                    "of" | "different" | "distinct" | "unique" | "their" | "our" | "the"
                ) || matches!(self.read[k - 1], Read::Member(_)))
            {
                k -= 1;
            }
            (k > 0 && matches!(words[k - 1], "many" | "number" | "count" | "#"))
                || matches!(words.get(end), Some(&("count" | "counts")))
        };
        let entities: Vec<(String, usize, usize)> = self
            .dims
            .iter()
            .filter_map(|(t, s, e)| match t {
                Term::Entity(name) => Some((name.clone(), *s, *e)),
                _ => None,
            })
            .collect();
        let breakdown_word = |s: usize| {
            s > 0
                && matches!(
                    words[s - 1],
                    "by" | "per"
                        | "each"
                        | "every"
                        | "which"
                        | "what"
                        | "top"
                        | "bottom"
                        | "list"
                        | "show"
                )
        };
        for (name, start, end) in entities {
            let listed = self
                .q
                .group_by
                .iter()
                .any(|g| matches!(g, GroupBy::Entity { name: n } if *n == name));
            let qualified = self.qualifier_entities.contains(&name);
            if !listed && !qualified {
                continue;
            }
            let other_breakdown = self
                .q
                .group_by
                .iter()
                .any(|g| !matches!(g, GroupBy::Entity { name: n } if *n == name))
                || self.q.time_grain.is_some();
            let explicit = counted(start, end);
            let bare = !explicit
                && words[end - 1].ends_with('s')
                && !breakdown_word(start)
                && other_breakdown
                && coordinated(start, end);
            if !explicit && !bare {
                continue;
            }
            if coordinated(start, end) || (explicit && loosely_coordinated(start, end)) {
                self.q
                    .group_by
                    .retain(|g| !matches!(g, GroupBy::Entity { name: n } if *n == name));
                self.q.entity_count = Some(EntityCount {
                    entity: name,
                    through: None,
                    part: None,
                });
                return Ok(());
            }
            // "how many customers had revenue in 2024": the customers among the revenue's rows
            // ("how many stores had promo sales": a named filter between)
            let in_filter = |k: usize| {
                self.found
                    .iter()
                    .any(|f| matches!(f.term, Term::Filter(_)) && f.start <= k && k < f.end)
            };
            let verb_then_metric = self.metrics.len() == 1
                && metric_spans.iter().any(|&(ms, _)| {
                    ms > end
                        && ms - end <= 4
                        && (end..ms).all(|k| {
                            in_filter(k)
                                || matches!(
                                    words[k],
                                    "had"
                                        | "have"
                                        | "has"
                                        | "with"
                                        | "made"
                                        | "generated"
                                        | "any"
                                        | "some"
                                )
                        })
                        && matches!(
                            words[end],
                            "had" | "have" | "has" | "with" | "made" | "generated"
                        )
                });
            if verb_then_metric && listed {
                self.q
                    .group_by
                    .retain(|g| !matches!(g, GroupBy::Entity { name: n } if *n == name));
                let metric = self.metrics.pop();
                self.q.entity_count = Some(EntityCount {
                    entity: name,
                    through: metric,
                    part: None,
                });
                return Ok(());
            }
            if explicit && listed {
                return cannot_compute(
                    format!("a count of {name} beside another figure"),
                    Vec::new(),
                );
            }
        }
        Ok(())
    }

    /// A count of a dimension's values; refused beside another figure.
    pub(super) fn dimension_count(&mut self) -> Result<(), Refusal> {
        let x = self.input;
        let toks = x.toks;
        let words = x.words;
        let manifest = x.manifest;
        // "number of categories", "how many brands": a count of a dimension's values is not
        // compiled here (an entity is counted; a dimension is not)
        for (i, w) in words.iter().enumerate() {
            if self.read[i] != Read::Grammar || !matches!(*w, "number" | "count" | "many") {
                continue;
            }
            let j = if words.get(i + 1) == Some(&"of") {
                i + 2
            } else {
                i + 1
            };
            let Some(Term::Dimension { model, name }) = self
                .found
                .iter()
                .find(|f| f.start == j)
                .map(|f| f.term.clone())
            else {
                continue;
            };
            if !self.metrics.is_empty()
                || self.q.entity_count.is_some()
                || self.q.dimension_count.is_some()
            {
                return cannot_compute(
                    "a count of a dimension's values beside another figure",
                    vec![toks[i].text.clone()],
                );
            }
            let d = DimensionRef {
                model: Some(model),
                name,
            };
            self.q
                .group_by
                .retain(|g| !matches!(g, GroupBy::Dimension(x) if *x == d));
            // "brands sold in Snacks": among the sales' rows
            let through = if x.selling() {
                manifest.metrics.first().map(|m| m.name.clone())
            } else {
                None
            };
            self.q.dimension_count = Some(crate::semantic::query::DimensionCount {
                dimension: d,
                through,
            });
        }
        Ok(())
    }
}
