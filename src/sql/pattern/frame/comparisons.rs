//! Comparisons with an aggregate: "above average", "greater than that of some X in Y".

use super::state::Builder;
use super::Cond;
use crate::sql::pattern::ast::{AggFunc, CmpOp};
use crate::sql::pattern::lexicon::adjective_attrs;

impl<'a> Builder<'a> {
    /// "above the average age", "less than average": comparison with the column's mean.
    pub(super) fn above_average(&mut self) {
        let n = self.n();
        for i in 0..n {
            if !matches!(self.w(i), "average" | "mean") {
                continue;
            }
            let mut k = i;
            while k > 0 && matches!(self.w(k - 1), "the" | "than" | "an" | "that" | "of") {
                k -= 1;
            }
            if k == 0 {
                continue;
            }
            // a comparative of an attribute ("shorter than average") names its direction too
            let comparative = self.w(k - 1).ends_with("er");
            let attrs = adjective_attrs(self.w(k - 1)).filter(|_| comparative);
            let mut op = match self.w(k - 1) {
                "above" | "over" | "higher" | "greater" | "more" | "larger" | "bigger"
                | "exceeds" | "exceeding" | "exceed" | "older" => CmpOp::Gt,
                "below" | "under" | "lower" | "less" | "smaller" | "fewer" | "younger" => CmpOp::Lt,
                _ => match attrs {
                    Some(a) if a[0].1 > 0 => CmpOp::Gt,
                    Some(_) => CmpOp::Lt,
                    None => continue,
                },
            };
            let after = self.next_span(i + 1, 3, &["of", "the", "number", "amount"]);
            let before = self.prev_span(
                k - 1,
                3,
                &[
                    "is", "are", "was", "were", "whose", "with", "has", "have", "a", "an", "the",
                ],
            );
            let pick = after
                .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
                .or(before.filter(|&p| self.is_column_span(p)));
            let col = match pick {
                Some(p) => {
                    let c = self.resolve_column(p);
                    self.use_span(p);
                    c
                }
                None => match adjective_attrs(self.w(k - 1))
                    .and_then(|a| self.attribute_column(a, &self.focus_tables()))
                {
                    // "older than average" on a birth date: the earlier dates
                    Some((c, dir)) if attrs.is_some_and(|a| a[0].1 != dir) => {
                        op = if op == CmpOp::Gt {
                            CmpOp::Lt
                        } else {
                            CmpOp::Gt
                        };
                        Some(c)
                    }
                    found => found.map(|x| x.0),
                },
            };
            if let Some(col) = col {
                self.mark(k - 1, i + 1);
                self.f
                    .notes
                    .push(format!("{} compared with its average", self.col_name(col)));
                self.f.conds.push(Cond::CmpAgg {
                    col,
                    op,
                    agg: AggFunc::Avg,
                    conds: vec![],
                });
            }
        }
    }

    /// "salary greater than that of some instructor in Biology", "a higher resolution than
    /// some songs in English": the column compared with its smallest (largest, for "less than
    /// some") value among the rows the rest of the clause describes.
    pub(super) fn than_quantified(&mut self) {
        let n = self.n();
        for i in 1..n {
            if self.w(i) != "than" {
                continue;
            }
            let mut k = i + 1;
            while k < n && matches!(self.w(k), "that" | "those" | "of" | "the") {
                k += 1;
            }
            let quant = self.w(k).to_string();
            if !matches!(quant.as_str(), "some" | "any") {
                continue;
            }
            // the comparative: right before "than", or before the compared column
            let (cw_at, col_span) = if self
                .span_index_at(i - 1)
                .is_some_and(|si| self.is_column_span(si) && !self.is_table_span(si))
            {
                let si = self.span_index_at(i - 1).expect("checked");
                (self.span(si).start.saturating_sub(1), Some(si))
            } else {
                (i - 1, None)
            };
            let op = match self.w(cw_at) {
                "more" | "greater" | "higher" | "larger" | "bigger" | "older" | "later"
                | "longer" | "taller" | "heavier" | "after" | "above" => CmpOp::Gt,
                "less" | "fewer" | "lower" | "smaller" | "younger" | "earlier" | "shorter"
                | "lighter" | "cheaper" | "before" | "below" => CmpOp::Lt,
                _ => continue,
            };
            let col_span = col_span.or_else(|| {
                self.prev_span(
                    cw_at,
                    3,
                    &[
                        "is", "are", "was", "were", "with", "has", "have", "a", "an", "the",
                    ],
                )
                .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
            });
            let col = match col_span {
                Some(p) => {
                    let c = self.resolve_column(p);
                    self.use_span(p);
                    c
                }
                None => adjective_attrs(self.w(cw_at)).and_then(|a| {
                    self.attribute_column(a, &self.focus_tables())
                        .filter(|(_, dir)| *dir == a[0].1)
                        .map(|x| x.0)
                }),
            };
            let Some(col) = col else { continue };
            let agg = match (quant.as_str(), op) {
                ("some", CmpOp::Lt) => AggFunc::Max,
                _ => AggFunc::Min,
            };
            self.mark(cw_at, k + 1);
            // the rows compared with are of the column's own table ("some instructor")
            if let Some(si) = self.next_span(k + 1, 1, &[]) {
                if self.span_table(si) == Some(col.table) {
                    self.use_span(si);
                }
            }
            self.f.notes.push(format!(
                "{} compared with the {:?} of the rows after '{}'",
                self.col_name(col),
                agg,
                quant
            ));
            self.than_some = Some((k, col, op, agg));
            return;
        }
    }

    /// Moves the conditions read after "than some" into its subquery.
    pub(super) fn close_than_some(&mut self) {
        let Some((tok, col, op, agg)) = self.than_some.take() else {
            return;
        };
        let inner = self
            .take_conds(|_, t| t.is_some_and(|t| t > tok))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        self.f.conds.push(Cond::CmpAgg {
            col,
            op,
            agg,
            conds: inner,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Cond;
    use crate::sql::pattern::ast::{AggFunc, CmpOp};

    #[test]
    fn above_average_compares_with_the_columns_average() {
        let c = case("employees with a salary above average");
        let b = c.until("above average");
        assert_eq!(
            b.f.conds,
            [Cond::CmpAgg {
                col: c.col("employee", "salary"),
                op: CmpOp::Gt,
                agg: AggFunc::Avg,
                conds: vec![],
            }]
        );
    }

    #[test]
    fn a_comparative_adjective_than_average_compares_its_attribute() {
        // "older" on a founding year: the earlier years
        let c = case("departments older than average");
        let b = c.until("above average");
        assert_eq!(
            b.f.conds,
            [Cond::CmpAgg {
                col: c.col("department", "founded_year"),
                op: CmpOp::Lt,
                agg: AggFunc::Avg,
                conds: vec![],
            }]
        );
    }

    #[test]
    fn a_question_without_an_average_adds_no_comparison() {
        let c = case("employees with a salary above 5000");
        let b = c.until("than quantified");
        assert!(b.f.conds.is_empty(), "{:?}", b.f.conds);
    }
}
