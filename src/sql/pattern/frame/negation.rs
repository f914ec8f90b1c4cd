//! Negation: attribute negation ("not in France"), exceptions, and negated existence ("that
//! have no ...", "that have not produced ...").

use super::state::Builder;
use super::Cond;
use crate::question::tokens::{split_identifier, stem};
use crate::question::TokenKind;
use crate::sql::pattern::lexicon::NEGATIONS;
use crate::sql::pattern::linking::{ColRef, Target};

impl<'a> Builder<'a> {
    /// An attribute negation just before token `i` ("not in France", "other than", "outside").
    pub(super) fn negated_before(&self, i: usize, window: usize) -> bool {
        (1..=window).any(|k| {
            i >= k
                && matches!(
                    self.w(i - k),
                    "not"
                        | "except"
                        | "excluding"
                        | "outside"
                        | "besides"
                        | "other"
                        | "isn't"
                        | "aren't"
                        | "non"
                        | "never"
                )
                && !(self.w(i - k) == "not" && self.w(i - k + 1) == "only")
        })
    }

    /// "except (for those)", "excluding", "without" before token `i` in the same clause: the
    /// condition that follows names the rows to leave out. Its token.
    pub(super) fn exception_before(&self, i: usize) -> Option<usize> {
        (1..=8)
            .filter(|&k| i >= k)
            .map(|k| i - k)
            .take_while(|&k| !matches!(self.w(k), "and" | "or" | "but" | "," | ";"))
            .find(|&k| matches!(self.w(k), "except" | "excluding" | "without"))
    }

    /// A verbal negation before token `i` ("have not produced", "never took", "without"), its token.
    pub(super) fn verbal_negation_before(&self, i: usize, window: usize) -> Option<usize> {
        (1..=window).filter(|&k| i >= k).map(|k| i - k).find(|&k| {
            matches!(
                self.w(k),
                "not"
                    | "never"
                    | "don't"
                    | "doesn't"
                    | "didn't"
                    | "haven't"
                    | "hasn't"
                    | "without"
                    | "no"
                    | "none"
            ) && !(self.w(k) == "not" && self.w(k + 1) == "only")
        })
    }

    /// "singers that have no concerts", "students who never took a course".
    pub(super) fn negated_existence(&mut self) {
        if !self.f.excluded.is_empty() {
            return;
        }
        let Some(mut subject) = self.f.subject else {
            return;
        };
        if let Some(referred) = self.subject_by_its_key(subject) {
            subject = referred;
        }
        let n = self.n();
        for i in 0..n {
            let w = self.w(i);
            let neg = matches!(
                w,
                "no" | "never"
                    | "without"
                    | "not"
                    | "don't"
                    | "doesn't"
                    | "didn't"
                    | "haven't"
                    | "hasn't"
                    | "none"
            );
            if !neg {
                continue;
            }
            // a table named within the next words, that is not the subject
            let mut k = i + 1;
            let mut target = None;
            while k < n && k <= i + 6 {
                // a filter rule on another table ("never on promotion", "no promo weeks"): the
                // rows of its table that meet it are the ones denied
                if let Some((name, t)) = self.filter_rule_at(k).filter(|&(_, t)| t != subject) {
                    if self.deny_rule_rows(subject, &name, t) {
                        self.mark(i, i + 1);
                        return;
                    }
                }
                if let Some(si) = self.span_index_at(k) {
                    // a table named after the negation is its rows, though a period read its
                    // date ("no orders in 2024")
                    if self.is_value_span(si) || self.used[si] && !self.is_table_span(si) {
                        break;
                    }
                    if let Some(t) = self.span_table(si) {
                        if t != subject {
                            target = Some((si, t));
                            break;
                        }
                    }
                    // a column of another table ("with no order date"): its table
                    if self.is_column_span(si) {
                        if let Some(c) = self.resolve_column(si) {
                            if c.table != subject {
                                target = Some((si, c.table));
                                break;
                            }
                        }
                    }
                }
                k += 1;
            }
            let Some((si, t)) = target else {
                // "services that have never been used": no table named after the negation; the
                // one table that refers to the subject (or the one whose name the words after
                // the negation share) holds the rows that have it
                let mut v = i + 1;
                while v < n && matches!(self.w(v), "been" | "be" | "ever" | "yet" | "once") {
                    v += 1;
                }
                // a verb follows ("never been used", "don't participate"), not a noun phrase
                // ("without the letter M", which another reading explains)
                let verb = v < n
                    && !self
                        .f
                        .conds
                        .iter()
                        .any(|c| matches!(c, Cond::Like { negated: true, .. }))
                    && !matches!(self.w(v), "the" | "a" | "an" | "any" | "letter" | "letters");
                if let Some((outer, inner)) = verb
                    .then(|| self.referring_table(subject, i + 1, (i + 5).min(n)))
                    .flatten()
                {
                    self.mark(i, i + 1);
                    self.f.conds.push(Cond::InSub {
                        outer,
                        inner,
                        conds: vec![],
                        negated: true,
                    });
                    self.f.notes.push(format!(
                        "negated existence: {} not in {} (the table that refers to it)",
                        self.col_name(outer),
                        self.col_name(inner)
                    ));
                    return;
                }
                continue;
            };
            // the first edge on the path from the subject toward the target
            let Ok(plan) = self.graph.plan(self.schema, &[subject, t]) else {
                continue;
            };
            let Some(step) = plan.steps.first() else {
                continue;
            };
            let (outer, inner) = step.on[0];
            self.use_span(si);
            self.mark(i, i + 1);
            self.f.conds.push(Cond::InSub {
                outer,
                inner,
                conds: vec![],
                negated: true,
            });
            self.f.notes.push(format!(
                "negated existence: {} not in {}",
                self.col_name(outer),
                self.col_name(inner)
            ));
            return;
        }
    }

    /// The first word of the question that denies what follows it ([`NEGATIONS`]).
    pub(super) fn denial_token(&self) -> Option<usize> {
        (0..self.n()).find(|&k| NEGATIONS.contains(&self.w(k)))
    }

    /// The name and table of the filter rule whose words start at token `k`.
    fn filter_rule_at(&self, k: usize) -> Option<(String, usize)> {
        self.f.conds.iter().find_map(|c| match c {
            Cond::Raw {
                name,
                table: Some(t),
                ..
            } if self
                .rule_tokens
                .iter()
                .any(|&(s, _, r)| s == k && r.name == *name && r.kind == "filter") =>
            {
                Some((name.clone(), *t))
            }
            _ => None,
        })
    }

    /// "products never on promotion": the subject's key not in the rows of the rule's table
    /// `t` that meet the rule `name` (its condition moves from the outer query into the
    /// subquery). False when no foreign key leads from the subject toward `t`.
    fn deny_rule_rows(&mut self, subject: usize, name: &str, t: usize) -> bool {
        let Ok(plan) = self.graph.plan(self.schema, &[subject, t]) else {
            return false;
        };
        let Some(&(outer, inner)) = plan.steps.first().and_then(|s| s.on.first()) else {
            return false;
        };
        if inner.table != t && !self.graph.referred_by(inner.table).any(|r| r == t) {
            return false;
        }
        let rule = self
            .take_conds(|c, _| matches!(c, Cond::Raw { name: n, .. } if n == name))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        self.f.tables.retain(|&x| x != t);
        self.f.conds.push(Cond::InSub {
            outer,
            inner,
            conds: rule,
            negated: true,
        });
        self.f.notes.push(format!(
            "negated existence: {} not in the rows of {} that are '{name}'",
            self.col_name(outer),
            self.schema.tables[t].name
        ));
        true
    }

    /// "customers with no invoices": the head's word links to the invoices' key to the
    /// customers, and the negation denies invoices, the subject's own rows. The rows asked for
    /// are the ones the key refers to: they become the subject (the head's link is read as
    /// them) and their table is returned.
    fn subject_by_its_key(&mut self, subject: usize) -> Option<usize> {
        let n = self.n();
        let denies_subject = (0..n).any(|i| {
            matches!(self.w(i), "no" | "never" | "without")
                && (i + 1..(i + 4).min(n)).any(|k| {
                    self.span_index_at(k).is_some_and(|si| {
                        self.is_table_span(si) && self.span_table(si) == Some(subject)
                    })
                })
        });
        if !denies_subject {
            return None;
        }
        let (si, referred) = (0..self.links.spans.len()).find_map(|si| {
            let sp = self.span(si);
            if sp.start < self.head_start || sp.start >= self.head_end || self.is_table_span(si) {
                return None;
            }
            let Target::Column { col } = sp.best().target else {
                return None;
            };
            let e = self
                .graph
                .edges
                .iter()
                .find(|e| e.a == col && e.b.table != subject)?;
            (col.table == subject).then_some((si, e.b.table))
        })?;
        self.use_span(si);
        // the denied table's words are the negation's to read
        for other in 0..self.links.spans.len() {
            if self.is_table_span(other) && self.span_table(other) == Some(subject) {
                self.used[other] = false;
            }
        }
        self.f.subject = Some(referred);
        self.f.notes.push(format!(
            "the rows asked for are those of {} (the key '{}' refers to)",
            self.schema.tables[referred].name,
            self.span(si).text
        ));
        Some(referred)
    }

    /// "customers who made no purchases in 2025": a period on the table whose rows are denied
    /// bounds the rows looked for (the purchases of 2025), not the subject's rows; it moves into
    /// the negated subquery.
    pub(super) fn period_of_negated_rows(&mut self) {
        let Some(subject) = self.f.subject else {
            return;
        };
        // "customers who did not buy anything in 2024": a period no date column of the
        // question's tables took bounds the denied rows, by their one date column
        let denied: Vec<usize> = self
            .f
            .conds
            .iter()
            .filter_map(|c| match c {
                Cond::InSub {
                    inner,
                    negated: true,
                    ..
                } if inner.table != subject => Some(inner.table),
                _ => None,
            })
            .collect();
        if let [t] = denied[..] {
            if let Some(c) = self.only_temporal_column(t) {
                let denial = self.denial_token();
                let ranges = self.a.time_ranges.clone();
                for r in &ranges {
                    if self.period_unread(r) {
                        self.date_cond(c, r);
                        self.mark(r.tokens.0, r.tokens.1);
                    } else if ranges.len() == 1 && denial.is_some_and(|k| r.tokens.0 > k) {
                        // "products that had no price change in 2024": the one period, said
                        // after the denial, was read on the subject's own date; it bounds the
                        // denied rows
                        let moved = self.take_conds(|x, _| {
                            matches!(
                                x,
                                Cond::DateRange { .. }
                                    | Cond::YearRange { .. }
                                    | Cond::Month { .. }
                            ) && x.columns().iter().all(|col| col.table == subject)
                        });
                        if !moved.is_empty() {
                            self.date_cond(c, r);
                        }
                    }
                }
            }
        }
        if !self.f.conds.iter().any(
            |c| matches!(c, Cond::InSub { inner, negated: true, .. } if inner.table != subject),
        ) {
            return;
        }
        let mut periods = self.take_conds(|c, _| {
            matches!(
                c,
                Cond::DateRange { .. } | Cond::YearRange { .. } | Cond::Month { .. }
            )
        });
        for c in self.f.conds.iter_mut() {
            let Cond::InSub {
                inner,
                conds,
                negated: true,
                ..
            } = c
            else {
                continue;
            };
            if inner.table == subject {
                continue;
            }
            // the period of the denied rows or of the rows they refer to ("products never
            // ordered in 2023": the order lines of the orders of 2023)
            let referred: Vec<usize> = self
                .graph
                .referred_by(inner.table)
                .filter(|&t| t != subject)
                .collect();
            let (inside, outside): (Vec<_>, Vec<_>) = std::mem::take(&mut periods)
                .into_iter()
                .partition(|(p, _)| {
                    p.columns()
                        .iter()
                        .all(|col| col.table == inner.table || referred.contains(&col.table))
                });
            if !inside.is_empty() {
                self.f.notes.push(format!(
                    "the period bounds the rows of {} that are denied",
                    self.schema.tables[inner.table].name
                ));
            }
            conds.extend(inside.into_iter().map(|(p, _)| p));
            periods = outside;
        }
        for (p, token) in periods {
            match token {
                Some(t) => self.push_cond_at(t, p),
                None => self.f.conds.push(p),
            }
        }
    }

    /// The key of `subject` and the column of the table that refers to it by a foreign key:
    /// the only such table, or the one whose name shares a stem with the words in
    /// `from..to`. `None` when the words there link to anything or no table is singled out.
    pub(super) fn referring_table(
        &self,
        subject: usize,
        from: usize,
        to: usize,
    ) -> Option<(ColRef, ColRef)> {
        // the words up to the clause's end ("never been used?")
        let to = (from..to)
            .find(|&k| self.a.tokens[k].kind != TokenKind::Word)
            .unwrap_or(to);
        if to == from || (from..to).any(|k| self.span_index_at(k).is_some()) {
            return None;
        }
        let mut children: Vec<(ColRef, ColRef)> = Vec::new();
        for e in &self.graph.edges {
            if e.b.table == subject
                && e.a.table != subject
                && !children.iter().any(|(_, a)| a.table == e.a.table)
            {
                children.push((e.b, e.a));
            }
        }
        if children.len() == 1 {
            return children.pop();
        }
        let words: Vec<&str> = (from..to).map(|k| self.a.tokens[k].stem.as_str()).collect();
        let mut hits = children.into_iter().filter(|(_, a)| {
            split_identifier(&self.schema.tables[a.table].name)
                .iter()
                .any(|p| words.contains(&stem(&p.to_lowercase()).as_str()))
        });
        match (hits.next(), hits.next()) {
            (Some(x), None) => Some(x),
            _ => None,
        }
    }
}

/// How a value condition is negated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Neg {
    None,
    /// "not in France": the attribute differs.
    Attribute,
    /// "that have not produced a film by X": no related row has it.
    Existence,
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Cond;

    #[test]
    fn that_have_no_rows_of_a_table_reads_as_a_negated_subquery() {
        let c = case("departments that have no employees");
        let b = c.until("negated existence");
        assert_eq!(
            b.f.conds,
            [Cond::InSub {
                outer: c.col("department", "dept_id"),
                inner: c.col("employee", "dept_id"),
                conds: vec![],
                negated: true,
            }]
        );
    }

    #[test]
    fn a_period_on_the_denied_rows_bounds_the_subquery_not_the_subject() {
        let c = case("departments that have no employees hired in 2024");
        let f = c.frame();
        let [Cond::InSub {
            inner,
            conds,
            negated: true,
            ..
        }] = &f.conds[..]
        else {
            panic!("one negated subquery: {:?}", f.conds);
        };
        assert_eq!(*inner, c.col("employee", "dept_id"));
        assert!(
            matches!(&conds[..], [Cond::DateRange { col, .. }] if *col == c.col("employee", "hire_date")),
            "{conds:?}"
        );
        // a period on the subject's own rows stays outside
        let c = case("employees hired in 2024 who work on no project");
        let f = c.frame();
        assert!(
            f.conds
                .iter()
                .any(|x| matches!(x, Cond::DateRange { col, .. } if *col == c.col("employee", "hire_date"))),
            "{:?}",
            f.conds
        );
    }

    #[test]
    fn negation_words_are_found_before_a_token() {
        let c = case("employees who never worked on a project");
        let b = c.until("subject");
        let project = (0..b.n()).find(|&i| b.w(i) == "project").unwrap();
        assert!(b.verbal_negation_before(project, 4).is_some());
        assert!(b.negated_before(project, 4));
        assert!(b.exception_before(project).is_none());
    }
}
