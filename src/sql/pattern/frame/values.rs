//! The value pass: stored values the question names become equality, IN and negated conditions.

use super::negation::Neg;
use super::state::Builder;
use super::{Combine, Cond};
use crate::question::TokenKind;
use crate::sql::pattern::ast::{CmpOp, Literal};
use crate::sql::pattern::linking::{ColRef, Target};

impl<'a> Builder<'a> {
    pub(super) fn values(&mut self, like_tokens: &[usize]) {
        let subject = self.f.subject;
        // (column, literal, first token, negation kind)
        let mut found: Vec<(ColRef, Literal, usize, Neg)> = Vec::new();
        for si in 0..self.links.spans.len() {
            if !self.is_value_span(si) || like_tokens.contains(&self.span(si).start) {
                continue;
            }
            let sp = self.span(si);
            // among value alternatives, prefer a column named right before ("city Paris") or a focus table
            let prev = self.prev_span(
                sp.start,
                2,
                &[
                    "is", "are", "was", "equal", "equals", "named", "called", "of", "as",
                ],
            );
            let prev_cols: Vec<ColRef> = prev
                .map(|p| {
                    self.span(p)
                        .links
                        .iter()
                        .filter_map(|l| match l.target {
                            Target::Column { col } => Some(col),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let next = self.next_span(sp.end, 1, &[]);
            let next_cols: Vec<ColRef> = next
                .map(|p| {
                    self.span(p)
                        .links
                        .iter()
                        .filter_map(|l| match l.target {
                            Target::Column { col } => Some(col),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let focus = self.focus_tables();
            let best = sp.best().score;
            let mut choice: Option<(f32, ColRef, String)> = None;
            for l in &sp.links {
                if let Target::Value { col, value, .. } = &l.target {
                    if l.score < best - 0.15 {
                        continue;
                    }
                    let mut s = l.score;
                    if prev_cols.contains(col) {
                        s += 0.3;
                    } else if next_cols.contains(col) {
                        s += 0.2;
                    }
                    if focus.contains(&col.table) {
                        s += 0.05;
                    }
                    if choice.as_ref().is_none_or(|c| s > c.0) {
                        choice = Some((s, *col, value.clone()));
                    }
                }
            }
            let Some((_, col, value)) = choice else {
                continue;
            };
            if let Some(p) = prev.filter(|_| prev_cols.contains(&col)) {
                self.span_col.insert(p, col);
                self.use_span(p);
            } else if let Some(p) = next.filter(|_| next_cols.contains(&col)) {
                // "the Third-rate class": the column named after the value
                self.span_col.insert(p, col);
                self.use_span(p);
            }
            self.use_span(si);
            let neg = self.negation_kind(sp.start, col, subject);
            found.push((col, Literal::Text(value), sp.start, neg));
        }
        // quoted strings with no value match: the column named just before, or the name column
        for i in 0..self.n() {
            let t = &self.a.tokens[i];
            if t.kind != TokenKind::Quoted
                || self.span_index_at(i).is_some()
                || like_tokens.contains(&i)
            {
                continue;
            }
            let text = t.text.clone();
            let prev = self.prev_span(
                i,
                3,
                &[
                    "is", "are", "was", "equal", "equals", "named", "called", "titled", "of", "as",
                ],
            );
            let col = match prev {
                Some(p) if self.is_table_span(p) => {
                    // "the film 'HUNGER ROOF'": the name of a row of that table
                    let c = self.span_table(p).and_then(|t| self.name_column(t));
                    self.use_span(p);
                    c
                }
                Some(p) if self.is_column_span(p) => {
                    let c = self.resolve_column(p);
                    self.use_span(p);
                    c
                }
                _ => self.f.subject.and_then(|s| self.name_column(s)),
            };
            if let Some(col) = col {
                self.explained[i] = true;
                self.f.guesses += 0.1;
                let neg = self.negation_kind(i, col, subject);
                found.push((col, Literal::Text(text.clone()), i, neg));
                self.f.notes.push(format!(
                    "'{}' compared with {} (no stored value matched)",
                    text,
                    self.col_name(col)
                ));
            }
        }
        // group by column: several values of one column are "A or B" (IN) or "both A and B" (INTERSECT)
        let mut done = vec![false; found.len()];
        for x in 0..found.len() {
            if done[x] {
                continue;
            }
            done[x] = true;
            let (col, ref lit, start, neg) = found[x].clone();
            let same: Vec<usize> = (x + 1..found.len())
                .filter(|&y| !done[y] && found[y].0 == col && found[y].3 == neg)
                .collect();
            if same.is_empty() {
                match neg {
                    Neg::None => self.push_cond_at(
                        start,
                        Cond::Cmp {
                            col,
                            op: CmpOp::Eq,
                            value: lit.clone(),
                        },
                    ),
                    Neg::Attribute => self.push_cond_at(
                        start,
                        Cond::Cmp {
                            col,
                            op: CmpOp::Ne,
                            value: lit.clone(),
                        },
                    ),
                    Neg::Existence => self.f.excluded.push(Cond::Cmp {
                        col,
                        op: CmpOp::Eq,
                        value: lit.clone(),
                    }),
                }
                continue;
            }
            let y = same[0];
            done[y] = true;
            let between: Vec<&str> = (start..found[y].2).map(|k| self.w(k)).collect();
            let or = between.contains(&"or") || self.a.has(crate::question::Intent::Either);
            let mut values = vec![lit.clone(), found[y].1.clone()];
            for &z in &same[1..] {
                done[z] = true;
                values.push(found[z].1.clone());
            }
            // "EDLP versus High-Low", "compare A and B": one group per value
            // "how many are male and how many are female": a figure asked for each value
            let asked_twice = (1..self.n())
                .filter(|&k| self.w(k - 1) == "how" && matches!(self.w(k), "many" | "much"))
                .count()
                >= 2;
            let versus = between
                .iter()
                .any(|w| matches!(*w, "versus" | "vs" | "vs." | "against"))
                || self.compares()
                || asked_twice;
            if versus && neg == Neg::None {
                self.push_cond_at(
                    start,
                    Cond::In {
                        col,
                        values,
                        negated: false,
                    },
                );
                if !self.f.group_by.contains(&col) {
                    self.f.group_by.push(col);
                }
                self.f.notes.push(format!(
                    "values of {} compared: one group per value",
                    self.col_name(col)
                ));
                continue;
            }
            if !or && neg == Neg::None && values.len() == 2 && self.f.combine.is_none() {
                let a = Cond::Cmp {
                    col,
                    op: CmpOp::Eq,
                    value: values[0].clone(),
                };
                let b = Cond::Cmp {
                    col,
                    op: CmpOp::Eq,
                    value: values[1].clone(),
                };
                self.f.combine = Some((Combine::Intersect, vec![a], vec![b]));
                self.f.notes.push(
                    "two values of one column joined by 'and': INTERSECT of two queries".into(),
                );
            } else {
                match neg {
                    Neg::Existence => self.f.excluded.push(Cond::In {
                        col,
                        values,
                        negated: false,
                    }),
                    _ => self.push_cond_at(
                        start,
                        Cond::In {
                            col,
                            values,
                            negated: neg == Neg::Attribute,
                        },
                    ),
                }
            }
        }
    }

    /// How a value at token `i` is negated, if at all.
    pub(super) fn negation_kind(&self, i: usize, col: ColRef, subject: Option<usize>) -> Neg {
        if let Some(k) = self.verbal_negation_before(i, 7) {
            // a clause boundary between the negation and the value ends its reach
            let crosses = (k + 1..i).any(|j| {
                matches!(
                    self.w(j),
                    "and" | "or" | "but" | "who" | "which" | "that" | "whose"
                )
            }) && !(k + 1..i).any(|j| self.w(j) == "any");
            if !crosses && (subject.is_some_and(|s| s != col.table) || i - k > 2) {
                return Neg::Existence;
            }
            if !crosses {
                return Neg::Attribute;
            }
        }
        if self.negated_before(i, 3) {
            Neg::Attribute
        } else {
            Neg::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Cond;
    use crate::sql::pattern::ast::{CmpOp, Literal};

    #[test]
    fn a_stored_value_reads_as_an_equality_on_its_column() {
        let c = case("employees in Oslo");
        let b = c.until("values");
        assert_eq!(
            b.f.conds,
            [Cond::Cmp {
                col: c.col("employee", "city"),
                op: CmpOp::Eq,
                value: Literal::Text("Oslo".into()),
            }]
        );
    }

    #[test]
    fn how_many_are_one_value_and_how_many_another_is_one_figure_per_value() {
        let c = case("How many employees are in Oslo and how many are in Bergen?");
        let b = c.until("values");
        let city = c.col("employee", "city");
        assert_eq!(
            b.f.conds,
            [Cond::In {
                col: city,
                values: vec![Literal::Text("Oslo".into()), Literal::Text("Bergen".into())],
                negated: false,
            }]
        );
        assert_eq!(b.f.group_by, [city]);
        assert!(b.f.combine.is_none());
    }

    #[test]
    fn a_negated_value_reads_as_an_inequality() {
        let c = case("employees not in Oslo");
        let b = c.until("values");
        assert_eq!(
            b.f.conds,
            [Cond::Cmp {
                col: c.col("employee", "city"),
                op: CmpOp::Ne,
                value: Literal::Text("Oslo".into()),
            }]
        );
    }
}
