//! Set operations and alternatives: "A or B" as OR/IN, contradictory comparisons as an
//! INTERSECT, excluded rows as an EXCEPT or a NOT IN.

use super::state::Builder;
use super::{Combine, Cond, Measure};
use crate::sql::pattern::ast::{CmpOp, Literal};

impl<'a> Builder<'a> {
    /// Two comparisons of one column that no single row meets (`x = 1989 AND x = 1990`,
    /// `age > 45 AND age < 35`) ask for rows of both kinds: an INTERSECT.
    pub(super) fn split_contradictions(&mut self) {
        if self.f.combine.is_some() {
            return;
        }
        let num = |l: &Literal| match l {
            Literal::Number(n) => n.parse::<f64>().ok(),
            _ => None,
        };
        for x in 0..self.f.conds.len() {
            for y in x + 1..self.f.conds.len() {
                if let (
                    Cond::YearRange {
                        col: c1,
                        start: Some(s1),
                        end: Some(e1),
                    },
                    Cond::YearRange {
                        col: c2,
                        start: Some(s2),
                        end: Some(e2),
                    },
                ) = (&self.f.conds[x], &self.f.conds[y])
                {
                    // "a book published in 1989 and a book in 1990"
                    if c1 == c2 && (e1 < s2 || e2 < s1) {
                        let b = self.f.conds.remove(y);
                        let a = self.f.conds.remove(x);
                        self.f.combine = Some((Combine::Intersect, vec![a], vec![b]));
                        self.f
                            .notes
                            .push("two periods no row falls in at once: INTERSECT".into());
                        return;
                    }
                    continue;
                }
                let (
                    Cond::Cmp {
                        col: c1,
                        op: o1,
                        value: v1,
                    },
                    Cond::Cmp {
                        col: c2,
                        op: o2,
                        value: v2,
                    },
                ) = (&self.f.conds[x], &self.f.conds[y])
                else {
                    continue;
                };
                if c1 != c2 {
                    continue;
                }
                let disjoint = match (o1, o2, num(v1), num(v2)) {
                    (CmpOp::Eq, CmpOp::Eq, _, _) => v1 != v2,
                    (CmpOp::Gt | CmpOp::Ge, CmpOp::Lt | CmpOp::Le, Some(a), Some(b)) => a >= b,
                    (CmpOp::Lt | CmpOp::Le, CmpOp::Gt | CmpOp::Ge, Some(a), Some(b)) => b >= a,
                    _ => false,
                };
                if disjoint {
                    let b = self.f.conds.remove(y);
                    let a = self.f.conds.remove(x);
                    self.f.combine = Some((Combine::Intersect, vec![a], vec![b]));
                    self.f
                        .notes
                        .push("two conditions no row meets at once: INTERSECT".into());
                    return;
                }
            }
        }
    }

    /// "that have not ...": an EXCEPT of the rows that have it, or a NOT IN under an aggregate.
    pub(super) fn apply_excluded(&mut self) {
        if self.f.excluded.is_empty() {
            return;
        }
        let mut excluded = std::mem::take(&mut self.f.excluded);
        let aggregated = self.f.select.iter().any(|t| t.agg.is_some());
        let subject = self.f.subject.or_else(|| {
            self.f.select.iter().find_map(|t| match t.measure {
                Measure::Column(c) => Some(c.table),
                _ => None,
            })
        });
        if !aggregated && self.f.combine.is_none() && self.f.limit.is_none() {
            // "stores that ran no ice cream promotions": a filter rule named after the denial
            // is part of what is denied, not of the rows kept
            if let Some(k) = self.denial_token() {
                let after: Vec<String> = self
                    .rule_tokens
                    .iter()
                    .filter(|&&(s, _, _)| s > k)
                    .map(|&(_, _, r)| r.name.clone())
                    .collect();
                let denied = self
                    .take_conds(|c, _| matches!(c, Cond::Raw { name, .. } if after.contains(name)));
                excluded.extend(denied.into_iter().map(|(c, _)| c));
            }
            self.f
                .notes
                .push("rows that have the negated condition are removed: EXCEPT".into());
            self.f.combine = Some((Combine::Except, vec![], excluded));
            return;
        }
        let Some(s) = subject else { return };
        for c in excluded {
            let Some(ct) = c.columns().first().map(|x| x.table) else {
                continue;
            };
            if ct == s {
                match c {
                    Cond::Cmp { col, op, value } => self.f.conds.push(Cond::Cmp {
                        col,
                        op: op.negate(),
                        value,
                    }),
                    Cond::In { col, values, .. } => self.f.conds.push(Cond::In {
                        col,
                        values,
                        negated: true,
                    }),
                    other => self.f.conds.push(other),
                }
            } else if let Ok(plan) = self.graph.plan(self.schema, &[s, ct]) {
                if let Some(step) = plan.steps.first() {
                    let (outer, inner) = step.on[0];
                    self.f.notes.push(format!(
                        "{} NOT IN the rows that have the condition",
                        self.col_name(outer)
                    ));
                    self.f.conds.push(Cond::InSub {
                        outer,
                        inner,
                        conds: vec![c],
                        negated: true,
                    });
                }
            }
        }
    }

    /// Conditions read at tokens with "or" (and no "and") between them become one OR.
    pub(super) fn join_or(&mut self) {
        let mut at: Vec<(usize, usize)> = self.cond_tokens.iter().map(|(c, t)| (*t, *c)).collect();
        at.sort();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for w in at.windows(2) {
            let ((t1, c1), (t2, c2)) = (w[0], w[1]);
            let between: Vec<&str> = (t1 + 1..t2).map(|k| self.w(k)).collect();
            // "aged either 36 or 37": two values of one column are one OR, "either" or not
            let one_column = self.f.conds[c1].columns() == self.f.conds[c2].columns();
            if between.contains(&"or")
                && !between.contains(&"and")
                && (!self.a.has(crate::question::Intent::Either) || one_column)
                || between.contains(&"or") && between.contains(&"either")
            {
                match groups.last_mut() {
                    Some(g) if g.last() == Some(&c1) => g.push(c2),
                    _ => groups.push(vec![c1, c2]),
                }
            }
        }
        if groups.is_empty() {
            return;
        }
        let mut remove: Vec<usize> = groups.iter().flatten().copied().collect();
        let ors: Vec<Cond> = groups
            .iter()
            .map(|g| Cond::Or(g.iter().map(|&i| self.f.conds[i].clone()).collect()))
            .collect();
        remove.sort_unstable();
        for i in remove.into_iter().rev() {
            self.f.conds.remove(i);
        }
        self.f.notes.push("conditions joined by 'or'".into());
        self.f.conds.extend(ors);
        self.cond_tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::{Combine, Cond};
    use crate::sql::pattern::ast::Literal;

    #[test]
    fn two_values_of_one_column_joined_by_or_read_as_in() {
        let c = case("employees in Oslo or Bergen");
        let b = c.until("join or");
        assert_eq!(
            b.f.conds,
            [Cond::In {
                col: c.col("employee", "city"),
                values: vec![Literal::Text("Oslo".into()), Literal::Text("Bergen".into())],
                negated: false,
            }]
        );
    }

    #[test]
    fn two_values_no_row_has_at_once_read_as_an_intersect() {
        let c = case("employees who are in Oslo and in Bergen");
        let b = c.until("split contradictions");
        let combine = b.f.combine.as_ref().map(|x| x.0);
        assert_eq!(combine, Some(Combine::Intersect), "{:?}", b.f);
    }
}
