//! Grouping: "for each", "per", "by"; and the measures shown beside groups.

use std::collections::BTreeSet;

use super::links::person_name_columns;
use super::state::Builder;
use super::{Cond, Measure, Term};
use crate::sql::pattern::ast::AggFunc;
use crate::sql::pattern::linking::ColRef;

impl<'a> Builder<'a> {
    pub(super) fn grouping(&mut self) {
        let n = self.n();
        // a business rule's measure is an aggregate too: "units sold by store format" groups
        let rule_measure = self
            .f
            .select
            .iter()
            .any(|t| matches!(t.measure, Measure::Rule { .. }));
        let has_agg_words = rule_measure
            || self.a.has(crate::question::Intent::Count)
            || self.a.has(crate::question::Intent::Average)
            || self.a.has(crate::question::Intent::Sum)
            || self.a.has(crate::question::Intent::Maximum)
            || self.a.has(crate::question::Intent::Minimum);
        // "top 5 products by price" orders; "average price by category" groups
        let explicit_agg = self.a.top_n.is_none()
            && (rule_measure
                || self.a.has(crate::question::Intent::Count)
                || self.a.has(crate::question::Intent::Average)
                || self.a.has(crate::question::Intent::Sum)
                || (0..n).any(|k| matches!(self.w(k), "maximum" | "minimum" | "max" | "min")));
        for i in 0..n {
            let w = self.w(i);
            let cue = match w {
                "each" | "per" | "every" => true,
                "by" => {
                    explicit_agg
                        && !matches!(
                            self.w(i.wrapping_sub(1)),
                            "ordered"
                                | "sorted"
                                | "order"
                                | "sort"
                                | "ranked"
                                | "arranged"
                                | "grouped"
                        )
                }
                "grouped" => true,
                // "the average amount for different transaction types"
                "different" | "various" => {
                    explicit_agg
                        && matches!(self.w(i.wrapping_sub(1)), "for" | "across")
                        && i + 1 < n
                }
                _ => false,
            };
            if !cue {
                continue;
            }
            let skip = [
                "by",
                "of",
                "the",
                "different",
                "distinct",
                "unique",
                "individual",
            ];
            let Some(si) = self.next_span(i + 1, 2, &skip) else {
                continue;
            };
            if self.is_value_span(si) {
                continue;
            }
            if self.is_column_span(si) && !self.is_table_span(si) {
                if let Some(c) = self.resolve_column(si) {
                    self.use_span(si);
                    self.mark(i, i + 1);
                    if !self.f.group_by.contains(&c) {
                        self.f.group_by.push(c);
                        self.f
                            .notes
                            .push(format!("grouped by {}", self.col_name(c)));
                    }
                }
            } else if let Some(t) = self.span_table(si) {
                // "tracks per genre": the subject's rows per another table's are counted
                let rows_per = w == "per" && self.f.subject.is_some_and(|s| self.rows_before(i, s));
                if !has_agg_words && !rows_per {
                    continue;
                }
                self.use_span(si);
                self.mark(i, i + 1);
                if let Some(c) = self.name_column(t) {
                    if !self.f.group_by.contains(&c) {
                        self.f.group_by.push(c);
                        self.group_tables.push((t, c));
                        // a person is their first and last name together
                        if let Some((_, last)) = person_name_columns(self.schema, t) {
                            if !self.f.group_by.contains(&last) {
                                self.f.group_by.push(last);
                            }
                        }
                        self.f.notes.push(format!(
                            "grouped by {} (each {})",
                            self.col_name(c),
                            self.schema.tables[t].name
                        ));
                    }
                }
            }
        }
    }

    /// "invoices per country", "customers per support rep": the subject's rows named right
    /// before "per" and grouped by something else, with no figure asked, are counted per
    /// group (showing each row's columns beside a group would show one row of many).
    pub(super) fn count_per_group(&mut self) {
        let Some(subject) = self.f.subject else {
            return;
        };
        if self.f.group_by.is_empty()
            || self.f.having.is_some()
            || self.f.order.iter().any(|(t, _)| t.agg.is_some())
            || self
                .f
                .group_by
                .iter()
                .any(|g| g.table == subject && self.is_join_key(*g))
        {
            return;
        }
        let rows_per = (1..self.n()).any(|i| self.w(i) == "per" && self.rows_before(i, subject));
        let plain_rows = self.f.select.iter().all(|t| {
            t.agg.is_none() && matches!(t.measure, Measure::Column(c) if c.table == subject)
        }) && self
            .f
            .select
            .iter()
            .any(|t| matches!(t.measure, Measure::Column(c) if !self.f.group_by.contains(&c)));
        if rows_per && plain_rows {
            self.f.select = vec![Term::count()];
            self.f.notes.push(format!(
                "the rows of {} counted per group",
                self.schema.tables[subject].name
            ));
        }
    }

    /// Whether the words right before token `i` name the table `t` ("invoices" in "invoices
    /// per country").
    fn rows_before(&self, i: usize, t: usize) -> bool {
        (0..self.links.spans.len()).any(|si| {
            self.span(si).end == i && self.is_table_span(si) && self.span_table(si) == Some(t)
        })
    }

    /// A grouped query shows each group once: a numeric measure shown beside the groups, not
    /// grouped and not a key, takes the aggregate the question names ("total sales by country":
    /// `SUM(total)`; "average track length by genre": `AVG(milliseconds)`).
    pub(super) fn aggregate_grouped_measures(&mut self) {
        if self.f.group_by.is_empty() {
            return;
        }
        // "for each city, the highest latitude of its stations": the extreme per group, not the
        // one row of the largest
        let each = self
            .a
            .tokens
            .iter()
            .any(|t| matches!(t.lower.as_str(), "each" | "every" | "per"));
        if each
            && self.f.limit == Some(1)
            && self.f.order.len() == 1
            && self.f.having.is_none()
            && self.f.select.iter().all(|t| t.agg.is_none())
        {
            if let (
                Term {
                    agg: None,
                    measure: Measure::Column(c),
                    ..
                },
                desc,
            ) = self.f.order[0].clone()
            {
                if !self.f.group_by.contains(&c) {
                    let agg = if desc { AggFunc::Max } else { AggFunc::Min };
                    self.f.select.retain(|t| t.measure != Measure::Column(c));
                    self.f.select.push(Term {
                        agg: Some(agg),
                        distinct: false,
                        measure: Measure::Column(c),
                    });
                    self.f.order.clear();
                    self.f.limit = None;
                    self.f
                        .notes
                        .push(format!("{:?} of {} per group", agg, self.col_name(c)));
                    return;
                }
            }
        }
        let cue = self.a.tokens.iter().find_map(|t| match t.lower.as_str() {
            "average" | "avg" | "mean" => Some(AggFunc::Avg),
            "total" | "sum" => Some(AggFunc::Sum),
            _ => None,
        });
        let Some(agg) = cue else { return };
        if self.f.select.iter().any(|t| t.agg.is_some()) {
            return;
        }
        let changed: Vec<ColRef> = self
            .f
            .select
            .iter()
            .filter_map(|t| match t.measure {
                Measure::Column(c)
                    if self.schema.tables[c.table].columns[c.column]
                        .kind()
                        .is_numeric()
                        && !self.is_join_key(c)
                        && !self.f.group_by.contains(&c) =>
                {
                    Some(c)
                }
                _ => None,
            })
            .collect();
        for t in self.f.select.iter_mut() {
            if matches!(t.measure, Measure::Column(c) if changed.contains(&c)) {
                t.agg = Some(agg);
            }
        }
        for c in changed {
            self.f
                .notes
                .push(format!("{:?} of {} per group", agg, self.col_name(c)));
        }
    }

    /// "the smallest salary for every department": when everything else comes from one table
    /// with a key to the grouped table, group by that key instead of joining.
    pub(super) fn group_by_keys(&mut self) {
        // the key a subquery tests ("tracks never sold per genre") is no column read from the
        // table: the rows are still shown by the grouped table's name
        let tested: Vec<ColRef> = self
            .f
            .conds
            .iter()
            .filter_map(|x| match x {
                Cond::InSub { outer, .. } => Some(*outer),
                _ => None,
            })
            .collect();
        for (t, c) in self.group_tables.clone() {
            let others: BTreeSet<usize> = self
                .used_columns()
                .into_iter()
                .filter(|x| *x != c && !tested.contains(x))
                .map(|x| x.table)
                .collect();
            if others.len() != 1 || others.contains(&t) || self.f.tables.contains(&t) {
                continue;
            }
            let f = *others.iter().next().expect("one table");
            let key = self
                .graph
                .between(f, t)
                .into_iter()
                .find(|(_, tc)| self.is_key(*tc));
            if let Some((fk, _)) = key {
                for g in self.f.group_by.iter_mut() {
                    if *g == c {
                        *g = fk;
                    }
                }
                self.f.notes.push(format!(
                    "grouped by the key {} instead of joining",
                    self.col_name(fk)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;

    #[test]
    fn for_each_table_groups_by_its_name_column() {
        let c = case("the number of employees for each department");
        let b = c.until("grouping");
        assert_eq!(b.f.group_by, [c.col("department", "dept_name")]);
    }

    #[test]
    fn by_a_column_groups_by_it() {
        let c = case("average salary by city");
        let b = c.until("grouping");
        assert_eq!(b.f.group_by, [c.col("employee", "city")]);
    }
}
