//! Order, limit and superlatives: "ordered by", "top 3", "the highest", "the youngest", and
//! the default order of grouped results.

use super::state::Builder;
use super::{Cond, Measure, Term};
use crate::sql::pattern::ast::AggFunc;
use crate::sql::pattern::lexicon::{adjective_attrs, is_structural, superlative};
use crate::sql::pattern::linking::{ColRef, Target};
use crate::warehouse::ColumnKind;

impl<'a> Builder<'a> {
    pub(super) fn descending_words(&self) -> bool {
        let t = &self.a.tokens;
        t.iter().enumerate().any(|(i, tok)| {
            matches!(
                tok.lower.as_str(),
                "descending" | "desc" | "decreasing" | "reverse" | "descendingly"
            ) || (tok.lower == "from"
                && matches!(
                    self.w(i + 1),
                    "highest"
                        | "largest"
                        | "most"
                        | "biggest"
                        | "greatest"
                        | "oldest"
                        | "latest"
                        | "newest"
                        | "best"
                        | "high"
                        | "large"
                        | "big"
                        | "great"
                        | "many"
                        | "more"
                ))
        })
    }

    pub(super) fn ordering(&mut self) {
        let n = self.n();
        for i in 0..n {
            let w = self.w(i);
            // "listed descending by the time they took office"
            let directed_by = matches!(w, "descending" | "ascending") && self.w(i + 1) == "by";
            // "in descending order" is an order even where an `orders` table is linked
            let directed_order = w == "order"
                && i > 0
                && matches!(
                    self.w(i - 1),
                    "descending"
                        | "ascending"
                        | "increasing"
                        | "decreasing"
                        | "reverse"
                        | "alphabetic"
                        | "alphabetical"
                );
            if !(matches!(
                w,
                "ordered" | "sorted" | "order" | "sort" | "ranked" | "arranged"
            ) || directed_by)
                || self.span_index_at(i).is_some() && !directed_order
                || !self.f.order.is_empty()
            {
                continue;
            }
            let desc = self.descending_words();
            self.mark(i, i + 1);
            if directed_order {
                if let Some(si) = self.span_index_at(i) {
                    self.used[si] = true;
                }
            }
            let skip = [
                "by",
                "of",
                "in",
                "the",
                "their",
                "its",
                "descending",
                "ascending",
                "decreasing",
                "increasing",
                "alphabetical",
                "alphabetically",
                "alphabetic",
                "order",
                "according",
                "to",
                "based",
                "on",
                "and",
                "then",
                "time",
                "date",
                "value",
                "values",
            ];
            // "ordered by the number of X": order by count
            let mut k = i + 1;
            while k < n && skip.contains(&self.w(k)) {
                k += 1;
            }
            let counted = if self.w(k) == "how" { k + 2 } else { k + 2 };
            let counted_column = self
                .next_span(counted, 2, &[])
                .is_some_and(|si| self.is_column_span(si) && !self.is_table_span(si));
            if (matches!(self.w(k), "number" | "count") && self.w(k + 1) == "of"
                || self.w(k) == "how" && self.w(k + 1) == "many")
                && !counted_column
            {
                self.f.order.push((Term::count(), desc));
                self.mark(k, k + 2);
                if let Some(si) = self.next_span(k + 2, 2, &[]) {
                    if let Some(t) = self.span_table(si) {
                        if !self.f.tables.contains(&t) {
                            self.f.tables.push(t);
                        }
                        self.use_span(si);
                    }
                }
                continue;
            }
            if let Some(si) = self.next_span(i + 1, 6, &skip) {
                if self.is_column_span(si) {
                    let agg = (si > 0)
                        .then(|| self.agg_before(self.span(si).start))
                        .flatten();
                    if let Some(c) = self.resolve_column(si) {
                        self.use_span(si);
                        let term = Term {
                            agg,
                            distinct: false,
                            measure: Measure::Column(c),
                        };
                        self.f.order.push((term, desc));
                        self.f.notes.push(format!(
                            "ordered by {}{}",
                            self.col_name(c),
                            if desc { " descending" } else { "" }
                        ));
                    }
                    continue;
                }
            }
            if !(0..n)
                .any(|k| matches!(self.w(k), "alphabetical" | "alphabetically" | "alphabetic"))
            {
                // "how many ... in descending order": the count orders
                if self.a.has(crate::question::Intent::Count)
                    || self.a.has(crate::question::Intent::Average)
                {
                    self.f.notes.push("ordered by the aggregate".into());
                    self.f.order.push((
                        Term {
                            agg: Some(AggFunc::Count),
                            distinct: true,
                            measure: Measure::Star,
                        },
                        desc,
                    ));
                } else if matches!(self.w(i), "sorted" | "sort")
                    || directed_by
                    || self.w(i) == "order"
                        && i > 0
                        && matches!(
                            self.w(i - 1),
                            "descending"
                                | "ascending"
                                | "increasing"
                                | "decreasing"
                                | "reverse"
                                | "alphabetic"
                        )
                {
                    // "sorted by the channel rating": a column a little further on
                    let further = (i + 1..n.min(i + 8)).find_map(|k| {
                        self.span_index_at(k).filter(|&si| {
                            self.is_column_span(si) && !self.is_table_span(si) && !self.used[si]
                        })
                    });
                    if let Some(si) = further {
                        if let Some(c) = self.resolve_column(si) {
                            self.use_span(si);
                            self.f.order.push((Term::col(c), desc));
                            self.f.notes.push(format!(
                                "ordered by {}{}",
                                self.col_name(c),
                                if desc { " descending" } else { "" }
                            ));
                            continue;
                        }
                    }
                    // "list the total scores in ascending order": the first column shown orders
                    // (decided after the select list); "the customer who ordered most" does not
                    self.f.notes.push("ordered by the column shown".into());
                    self.f.order.push((
                        Term {
                            agg: None,
                            distinct: false,
                            measure: Measure::Star,
                        },
                        desc,
                    ));
                }
                continue;
            }
            if (0..n).any(|k| matches!(self.w(k), "alphabetical" | "alphabetically" | "alphabetic"))
            {
                // ordered by the first text column shown (decided after the select list);
                // "descending (reverse) alphabetical order" from Z to A
                self.f.notes.push("alphabetical order".into());
                self.f.order.push((
                    Term {
                        agg: None,
                        distinct: false,
                        measure: Measure::Star,
                    },
                    desc,
                ));
            }
        }
    }

    /// The aggregate named just before token `i` ("average age", "the total number of").
    pub(super) fn agg_before(&self, i: usize) -> Option<AggFunc> {
        let mut k = i;
        let mut steps = 0;
        while k > 0 && steps < 3 {
            k -= 1;
            steps += 1;
            match self.w(k) {
                "average" | "avg" | "mean" => return Some(AggFunc::Avg),
                "total" | "sum" | "combined" => return Some(AggFunc::Sum),
                "maximum" | "max" => return Some(AggFunc::Max),
                "minimum" | "min" => return Some(AggFunc::Min),
                "the" | "of" | "their" | "its" => {}
                _ => return None,
            }
        }
        None
    }

    /// "Which employee was hired first?", "the first employee hired", "who signed up last":
    /// first / last beside the one word within three that names a date column orders by that
    /// date, one row unless a number asks for more ("earliest" / "latest" are adjectives of
    /// [`adjective_attrs`], read by [`Self::superlatives`]). "first name" and "last year" are
    /// left to the column and the period.
    pub(super) fn first_by_date(&mut self) {
        if !self.f.order.is_empty() {
            return;
        }
        let n = self.n();
        for i in 0..n {
            let ascending = match self.w(i) {
                "first" => true,
                "last" => false,
                _ => continue,
            };
            // "first and last name", "(first and last)": words of names, not an order
            let beside = [self.w(i + 1), if i > 0 { self.w(i - 1) } else { "" }];
            if beside
                .iter()
                .any(|w| matches!(*w, "and" | "or" | "name" | "names" | "("))
                || self.explained[i] && !is_structural(self.w(i))
                || self
                    .span_index_at(i)
                    .is_some_and(|si| self.span(si).best().how != "partial")
            {
                continue;
            }
            let mut dates: Vec<(usize, ColRef)> = Vec::new();
            for k in i.saturating_sub(3)..(i + 4).min(n) {
                let Some(si) = self.span_index_at(k).filter(|_| k != i) else {
                    continue;
                };
                if dates.iter().any(|(s, _)| *s == si)
                    || !self.is_column_span(si)
                    || self.is_table_span(si)
                {
                    continue;
                }
                if let Some(c) = self.resolve_column(si) {
                    if self.schema.tables[c.table].columns[c.column].kind() == ColumnKind::Date {
                        dates.push((si, c));
                    }
                }
            }
            let [(si, c)] = dates.as_slice() else {
                continue;
            };
            let (si, c) = (*si, *c);
            self.use_span(si);
            self.mark(i, i + 1);
            self.order_cues.push(i);
            self.f.order.push((Term::col(c), !ascending));
            self.f.limit = Some(self.a.top_n.unwrap_or(1));
            self.f
                .notes
                .push(format!("'{}' orders by {}", self.w(i), self.col_name(c)));
            return;
        }
    }

    /// The adjective at token `i` orders by the attribute column `c`, largest first when `dir`
    /// is positive ("the oldest": `age` descending), `limit` rows.
    fn order_by_attribute(&mut self, i: usize, (c, dir): (ColRef, i8), limit: u64) {
        self.mark(i, i + 1);
        self.order_cues.push(i);
        self.f.order.push((Term::col(c), dir > 0));
        self.f.limit = Some(limit);
        self.f.notes.push(format!(
            "'{}' orders by {} {}",
            self.w(i),
            self.col_name(c),
            if dir > 0 { "desc" } else { "asc" }
        ));
    }

    pub(super) fn superlatives(&mut self, head_end: usize) {
        let n = self.n();
        for i in 0..n {
            if self.explained[i] && !is_structural(self.w(i)) || self.span_index_at(i).is_some() {
                continue;
            }
            let w = self.w(i).to_string();
            let popular = matches!(
                self.w(i + 1),
                "popular" | "common" | "frequent" | "frequently" | "often"
            );
            // in the head a superlative is an aggregate ("the highest salary"), except "most
            // common", adjectives ("the oldest log") and a top-N ("the 3 highest rates")
            let adjective =
                adjective_attrs(&w).is_some() && w.ends_with("est") && superlative(&w).is_none();
            // "the name of the most expensive product": an adjective of the rows named after
            // it, not an aggregate of a column ("the most recent start date")
            let most_adjective = matches!(w.as_str(), "most" | "least")
                && adjective_attrs(self.w(i + 1)).is_some()
                && !self
                    .next_span(i + 2, 2, &[])
                    .is_some_and(|si| self.is_column_span(si) && !self.is_table_span(si))
                || adjective_attrs(&w)
                    .zip(self.span_index_at(i + 1))
                    .is_some_and(|(a, si)| {
                        self.is_table_span(si)
                            && self.span_table(si).is_some_and(|t| {
                                self.attribute_column(a, &[t])
                                    .is_some_and(|(c, _)| c.table == t)
                            })
                    });
            if i >= self.head_start
                && i < head_end
                && !(matches!(w.as_str(), "most" | "least") && popular)
                && !adjective
                && !most_adjective
                && self.a.top_n.is_none()
            {
                continue;
            }
            if (w == "most" || w == "least") && i > 0 && self.w(i - 1) == "at" {
                continue;
            }
            // "the most recent start date", "the least expensive": the adjective decides
            if matches!(w.as_str(), "most" | "least") && !popular && self.f.order.is_empty() {
                if let Some(attrs) = adjective_attrs(self.w(i + 1)) {
                    let sign: i8 = if w == "most" { 1 } else { -1 };
                    let next = self.next_span(i + 2, 2, &[]);
                    let target = match next {
                        Some(si) if self.is_column_span(si) && !self.is_table_span(si) => {
                            self.resolve_column(si).map(|c| {
                                self.use_span(si);
                                (c, attrs[0].1 * sign)
                            })
                        }
                        _ => self
                            .attribute_column(attrs, &self.focus_tables())
                            .map(|(c, d)| (c, d * sign)),
                    };
                    if let Some((c, dir)) = target {
                        self.mark(i, i + 2);
                        self.order_cues.push(i);
                        self.order_cues.push(i + 1);
                        self.f.order.push((Term::col(c), dir > 0));
                        self.f.limit = Some(self.a.top_n.unwrap_or(1));
                        self.f.notes.push(format!(
                            "'{} {}' orders by {}",
                            w,
                            self.w(i + 1),
                            self.col_name(c)
                        ));
                        return;
                    }
                }
            }
            let generic = superlative(&w);
            let adj = adjective_attrs(&w)
                .filter(|_| w.ends_with("est") || matches!(w.as_str(), "recent" | "newest"));
            if generic.is_none() && adj.is_none() {
                continue;
            }
            if !self.f.order.is_empty() {
                break;
            }
            let limit = self.a.top_n.unwrap_or(1);
            let skip = [
                "number", "of", "amount", "count", "the", "total", "average", "avg", "mean", "sum",
                "value", "values", "paid", "popular",
            ];
            let next = self.next_span(i + 1, 4, &skip);
            let agg = next.and_then(|si| self.agg_before(self.span(si).start));
            let counts = (i + 1..n.min(i + 4)).any(|k| matches!(self.w(k), "number" | "count"))
                || self.w(i + 1) == "many"
                || popular;
            // "the largest number of bedrooms" with a `bedroom_count` column, "the largest
            // number of votes" with a `votes` quantity, order by the column
            let count_column = next.is_some_and(|si| {
                self.is_column_span(si)
                    && !self.is_table_span(si)
                    && self.span(si).links.iter().any(|l| match l.target {
                        Target::Column { col } => {
                            self.lex.column_has_stem(col, "count")
                                || self.lex.column_has_stem(col, "number")
                                || self.is_quantity(col)
                        }
                        _ => false,
                    })
            });
            let counts = counts && !count_column;
            if let Some(desc) = generic {
                match next {
                    Some(si) if self.is_column_span(si) && !self.is_table_span(si) && !counts => {
                        if let Some(c) = self.resolve_column(si) {
                            self.use_span(si);
                            self.mark(i, i + 1);
                            self.order_cues.push(i);
                            self.f.order.push((
                                Term {
                                    agg,
                                    distinct: false,
                                    measure: Measure::Column(c),
                                },
                                desc,
                            ));
                            self.f.limit = Some(limit);
                            self.f.notes.push(format!(
                                "argmax: {} {} limit {}",
                                self.col_name(c),
                                if desc { "desc" } else { "asc" },
                                limit
                            ));
                            return;
                        }
                    }
                    Some(si) if self.is_table_span(si) || counts => {
                        // "the highest building", "the largest city": the table's attribute
                        // the adjective names, where the table has one
                        let attribute = (!counts && !matches!(w.as_str(), "most" | "least"))
                            .then(|| adjective_attrs(&w).zip(self.span_table(si)))
                            .flatten()
                            .and_then(|(attrs, t)| {
                                self.attribute_column(attrs, &[t])
                                    .filter(|(c, _)| c.table == t)
                            });
                        if let Some((c, dir)) = attribute {
                            self.use_span(si);
                            self.order_by_attribute(i, (c, dir), limit);
                            return;
                        }
                        // "the most <table>": the group with the most rows
                        if let Some(t) = self.span_table(si) {
                            if !self.f.tables.contains(&t) && Some(t) != self.f.subject {
                                self.f.tables.push(t);
                            }
                        }
                        self.use_span(si);
                        self.mark(i, i + 1);
                        self.order_cues.push(i);
                        self.f.order.push((Term::count(), desc));
                        self.f.limit = Some(limit);
                        self.f
                            .notes
                            .push(format!("argmax of the count, limit {limit}"));
                        return;
                    }
                    None if matches!(w.as_str(), "most" | "least" | "fewest") => {
                        // "which city has the most?" counts rows
                        self.mark(i, i + 1);
                        self.order_cues.push(i);
                        self.f.order.push((Term::count(), desc));
                        self.f.limit = Some(limit);
                        self.f
                            .notes
                            .push(format!("argmax of the count, limit {limit}"));
                        return;
                    }
                    _ => {}
                }
            }
            if let Some(attrs) = adj {
                if let Some(attribute) = self.attribute_column(attrs, &self.focus_tables()) {
                    self.order_by_attribute(i, attribute, limit);
                    return;
                }
            }
        }
        // "top 5 X by Y" without a superlative word
        if self.f.order.is_empty() {
            if let Some(nn) = self.a.top_n {
                for i in 0..n {
                    if self.w(i) == "by" {
                        // "top 3 customers by number of orders": the count orders
                        let mut k = i + 1;
                        while matches!(self.w(k), "the" | "total") {
                            k += 1;
                        }
                        if matches!(self.w(k), "number" | "count") && self.w(k + 1) == "of" {
                            if let Some(si) = self
                                .next_span(k + 2, 2, &[])
                                .filter(|&si| self.is_table_span(si))
                            {
                                if let Some(t) = self.span_table(si) {
                                    if Some(t) != self.f.subject && !self.f.tables.contains(&t) {
                                        self.f.tables.push(t);
                                    }
                                }
                                self.use_span(si);
                                self.mark(k, k + 2);
                                self.f.order.push((Term::count(), true));
                                self.f.limit = Some(nn);
                                self.f.notes.push(format!("top {nn} by the count"));
                                return;
                            }
                        }
                        if let Some(si) = self.next_span(i + 1, 3, &["the", "total", "average"]) {
                            if self.is_column_span(si) && !self.is_table_span(si) {
                                let agg = self.agg_before(self.span(si).start);
                                if let Some(c) = self.resolve_column(si) {
                                    self.use_span(si);
                                    self.f.order.push((
                                        Term {
                                            agg,
                                            distinct: false,
                                            measure: Measure::Column(c),
                                        },
                                        true,
                                    ));
                                    self.f.limit = Some(nn);
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
        if self.f.limit.is_none() {
            if let Some(nn) = self.a.top_n {
                if !self.f.order.is_empty() {
                    self.f.limit = Some(nn);
                }
            }
        }
    }

    /// Groups with a measure and no order asked for: dates in time order, groups of listed
    /// values in the values' order, anything else by the first measure, largest first (what an
    /// analyst reads first; the chart follows it). Rows of a table listed by name come in name
    /// order.
    pub(super) fn default_order(&mut self) {
        if !self.f.order.is_empty()
            || self.f.limit.is_some()
            || self.f.combine.is_some()
            || self.f.group_by_year.is_some()
        {
            return;
        }
        if self.f.group_by.is_empty() {
            let aggregated = self.f.select.iter().any(|t| t.agg.is_some());
            if aggregated {
                return;
            }
            // "List employees by first name": rows listed by a column come in its order
            // ("used by grade 4" names rows, not an order)
            let by = (1..self.n()).find_map(|i| {
                let si = self.span_index_at(i)?;
                let end = self.span(si).end;
                let valued = self.a.tokens.get(end).is_some_and(|t| {
                    t.kind == crate::question::TokenKind::Number
                        || self.span_index_at(end).is_some()
                });
                (self.w(i - 1) == "by"
                    && self.span(si).start == i
                    && !self.is_table_span(si)
                    && !valued)
                    .then_some(si)
            });
            let named = match by {
                Some(si) if self.is_column_span(si) => self.resolve_column(si),
                _ => None,
            };
            if let Some(c) = named {
                if !self.f.select.contains(&Term::col(c)) {
                    self.f.select.push(Term::col(c));
                }
                if let Some(si) = by {
                    self.use_span(si);
                }
                self.f.order.push((Term::col(c), false));
                self.f
                    .notes
                    .push(format!("rows listed by {}", self.col_name(c)));
            } else if let Some(c) = self.listing {
                self.f.order.push((Term::col(c), false));
            }
            return;
        }
        let listed: Vec<ColRef> = self
            .f
            .conds
            .iter()
            .filter_map(|c| match c {
                Cond::In {
                    col,
                    negated: false,
                    ..
                } if self.f.group_by.contains(col) => Some(*col),
                _ => None,
            })
            .collect();
        if !listed.is_empty() {
            for c in listed {
                self.f.order.push((Term::col(c), false));
            }
            return;
        }
        let temporal: Vec<ColRef> = self
            .f
            .group_by
            .iter()
            .copied()
            .filter(|c| self.schema.tables[c.table].columns[c.column].kind() == ColumnKind::Date)
            .collect();
        if !temporal.is_empty() {
            for c in temporal {
                self.f.order.push((Term::col(c), false));
            }
            self.f.notes.push("groups in time order".into());
            return;
        }
        let measure = self
            .f
            .select
            .iter()
            .find(|t| t.agg.is_some() || matches!(t.measure, Measure::Rule { .. }))
            .cloned();
        if let Some(m) = measure {
            self.f.order.push((m, true));
            self.f
                .notes
                .push("groups by their measure, largest first".into());
        }
    }

    /// A top-N or an argmax shows what it ranked by ("the 10 cheapest products" shows the
    /// price), when that can be shown without changing the rows.
    pub(super) fn show_order_terms(&mut self) {
        if self.f.limit.is_none() || self.f.distinct || self.f.combine.is_some() {
            return;
        }
        let grouped = !self.f.group_by.is_empty();
        let aggregated = self
            .f
            .select
            .iter()
            .any(|t| t.agg.is_some() || matches!(t.measure, Measure::Rule { .. }));
        for (t, _) in self.f.order.clone() {
            if self.f.select.contains(&t) {
                continue;
            }
            let shows = match (&t.measure, t.agg) {
                (Measure::Column(_), None) => !grouped && !aggregated,
                (Measure::Star, None) => false,
                (_, Some(_)) | (Measure::Rule { .. }, None) => grouped,
            };
            if shows {
                self.f.select.push(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::{Measure, Term};

    fn ordered_by(order: &[(Term, bool)]) -> Vec<(Measure, bool)> {
        order.iter().map(|(t, d)| (t.measure.clone(), *d)).collect()
    }

    #[test]
    fn ordered_by_a_column_descending() {
        let c = case("employees ordered by age descending");
        let b = c.until("ordering");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("employee", "age")), true)]
        );
    }

    #[test]
    fn descending_alphabetical_order_runs_from_z_to_a() {
        let c = case("the names of employees in descending alphabetical order");
        let b = c.until("order placeholders");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("employee", "name")), true)]
        );
        let c = case("the names of employees in alphabetical order");
        let b = c.until("order placeholders");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("employee", "name")), false)]
        );
    }

    #[test]
    fn the_largest_number_of_a_quantity_orders_by_the_quantity_not_a_count() {
        let c = case("the work with the largest number of hours");
        let b = c.until("superlatives");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("works_on", "hours")), true)]
        );
        // the largest number of rows of a table counts them
        let c = case("the department with the largest number of employees");
        let b = c.until("superlatives");
        assert_eq!(ordered_by(&b.f.order), [(Measure::Star, true)]);
    }

    #[test]
    fn most_and_an_adjective_before_a_table_orders_its_rows_even_in_the_head() {
        let c = case("the name of the most recent department");
        let b = c.until("superlatives");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("department", "founded_year")), true)]
        );
        assert_eq!(b.f.limit, Some(1));
    }

    #[test]
    fn the_oldest_reads_the_age_largest_first_with_a_limit() {
        let c = case("the 3 oldest employees");
        let b = c.until("superlatives");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("employee", "age")), true)]
        );
        assert_eq!(b.f.limit, Some(3));
    }

    #[test]
    fn the_largest_budget_reads_one_row_largest_first() {
        let c = case("which department has the largest budget");
        let b = c.until("superlatives");
        assert_eq!(
            ordered_by(&b.f.order),
            [(Measure::Column(c.col("department", "budget")), true)]
        );
        assert_eq!(b.f.limit, Some(1));
    }
}
