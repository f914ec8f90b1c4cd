//! The number pass: numbers with their comparison ("more than 3", "between 5 and 10"), read
//! as a condition on a column, a having clause, a limit or a year.

use super::state::Builder;
use super::{Cond, Having, Term};
use crate::question::units;
use crate::question::TokenKind;
use crate::sql::pattern::ast::CmpOp;
use crate::sql::pattern::lexicon::{adjective_attrs, MONEY_COLUMN_WORDS};
use crate::sql::pattern::linking::{is_temporal, ColRef, Target};
use crate::warehouse::ColumnKind;

impl<'a> Builder<'a> {
    pub(super) fn numbers(&mut self) {
        let top_token = self.a.top_n.and_then(|n| {
            self.a
                .numbers
                .iter()
                .find(|m| m.value as u64 == n && m.integer)
                .map(|m| m.token)
        });
        let nums = self.a.numbers.clone();
        let mut skip_until = 0;
        // the last comparison read: its number's token and its column
        let mut last_cmp: Option<(usize, ColRef)> = None;
        for m in &nums {
            if Some(m.token) == top_token {
                self.explained[m.token] = true;
                continue;
            }
            if m.token < skip_until {
                continue;
            }
            // "than that of some (at least one) instructor": the quantifier restated
            if self
                .than_some
                .is_some_and(|(k, ..)| m.token > k && m.token <= k + 5)
                && m.token >= 2
                && self.w(m.token - 1) == "least"
            {
                self.mark(m.token - 2, m.token + 1);
                continue;
            }
            if self.span_index_at(m.token).is_some() {
                continue;
            }
            // a year that a time range explains is handled with the dates, unless compared ("more than 2000 students")
            let (mut op, cmp_len, attrs) = self.comparison_before(m.token);
            let in_range = self
                .a
                .time_ranges
                .iter()
                .any(|r| r.tokens.0 <= m.token && m.token < r.tokens.1 && !r.bare_year);
            if in_range && m.year_like && self.has_temporal() {
                // "after the year 1989", "between 2019 and 2021": the time ranges handle it
                continue;
            }
            if in_range
                && m.token > 0
                && crate::question::dates::opens_relative_period(self.w(m.token - 1))
            {
                // "in the last 6 months": the count of the period's grains, never a value
                continue;
            }
            if self.year_of_time(m, cmp_len) {
                // "units sold in 2023": a period, never an equality on a measure
                continue;
            }
            let between = m.token >= 1 && self.w(m.token - 1) == "between";
            // "between 10 and 15", "aged 20 to 25"
            let high = if (between && self.w(m.token + 1) == "and") || self.w(m.token + 1) == "to" {
                nums.iter().find(|x| x.token == m.token + 2).cloned()
            } else {
                None
            };
            let mut cmp_start = m.token - cmp_len.min(m.token) - usize::from(between);
            // the column: adjective attribute, a column named before, a table/column after, nearest numeric
            let mut col: Option<ColRef> = None;
            let mut count_of: Option<usize> = None;
            if cmp_len == 0 && !between && high.is_none() {
                // "above age 46", "under age 18": the comparison before the column it compares
                if let Some((c, si, o)) = self.comparison_before_column(m.token) {
                    col = Some(c);
                    op = o;
                    self.use_span(si);
                    cmp_start = self.span(si).start - 1;
                }
            }
            if col.is_none() && attrs.is_none() {
                // "taller than 200 or lower than 190", "aged either 36 or 37": the second
                // comparison's column is the first's, said once
                if let Some((at, c)) = last_cmp {
                    let between: Vec<&str> = (at + 1..cmp_start).map(|k| self.w(k)).collect();
                    let joined = if cmp_len > 0 {
                        matches!(between.as_slice(), ["or"] | ["and"] | [","])
                    } else {
                        matches!(between.as_slice(), ["or"] | [","])
                    };
                    if joined {
                        col = Some(c);
                        self.f.notes.push(format!(
                            "'{}' compares {} again",
                            m.text,
                            self.col_name(c)
                        ));
                    }
                }
            }
            if let Some(attrs) = attrs {
                if let Some((c, dir)) = self.attribute_column(attrs, &self.focus_tables()) {
                    col = Some(c);
                    // the comparison word already reads the adjective's first attribute
                    // ("younger than 20": age < 20); a column of the opposite sense flips it
                    // ("older than 1990" of a birth year: year < 1990)
                    if dir != attrs[0].1 {
                        op = match op {
                            CmpOp::Gt => CmpOp::Lt,
                            CmpOp::Lt => CmpOp::Gt,
                            CmpOp::Ge => CmpOp::Le,
                            CmpOp::Le => CmpOp::Ge,
                            o => o,
                        };
                    }
                }
            }
            if col.is_none() {
                // "larger than 5 MB": a curated unit names the column it measures
                let unit_at = high.as_ref().map(|h| h.token + 1).unwrap_or(m.token + 1);
                if let Some(c) = self.unit_column(unit_at) {
                    col = Some(c);
                    self.explained[unit_at] = true;
                    self.f.notes.push(format!(
                        "'{}' is the unit of {}",
                        self.w(unit_at),
                        self.col_name(c)
                    ));
                }
            }
            if col.is_none() && !m.year_like && self.in_currency(m.token) {
                // "invoices over $20": an amount of money compares the one money column of the
                // rows named right before it
                let before = self.prev_span(cmp_start, 3, &["of", "with", "a", "an", "the"]);
                if let Some(c) = before
                    .filter(|&p| self.is_table_span(p))
                    .and_then(|p| self.span_table(p))
                    .and_then(|t| self.money_column(t))
                {
                    col = Some(c);
                    // the column is inferred from its name, not named: a small guess
                    self.f.guesses += 0.05;
                    self.f.notes.push(format!(
                        "'{}' is an amount of money: {} compared",
                        m.text,
                        self.col_name(c)
                    ));
                }
            }
            if col.is_none() {
                let mut after_end = high.as_ref().map(|h| h.token + 1).unwrap_or(m.token + 1);
                if self.w(after_end) == "or"
                    && matches!(
                        self.w(after_end + 1),
                        "more"
                            | "less"
                            | "fewer"
                            | "greater"
                            | "higher"
                            | "lower"
                            | "above"
                            | "below"
                    )
                {
                    after_end += 2;
                }
                let after = self.next_span(
                    after_end,
                    2,
                    &["more", "less", "fewer", "different", "distinct", "unique"],
                );
                let before = self.prev_span(
                    cmp_start,
                    3,
                    &[
                        "is", "are", "was", "were", "of", "has", "have", "had", "with", "equal",
                        "equals", "to", "a", "an", "the",
                    ],
                );
                let numeric = |b: &Self, c: ColRef| {
                    b.schema.tables[c.table].columns[c.column]
                        .kind()
                        .is_numeric()
                        || matches!(
                            b.schema.tables[c.table].columns[c.column].kind(),
                            ColumnKind::Other
                        )
                };
                let before_col = before
                    .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
                    .and_then(|p| self.resolve_column(p).map(|c| (p, c)));
                let after_col = after
                    .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
                    .and_then(|p| self.resolve_column(p).map(|c| (p, c)));
                let before_gap = before
                    .map(|p| cmp_start.saturating_sub(self.span(p).end))
                    .unwrap_or(99);
                let after_gap = after
                    .map(|p| self.span(p).start.saturating_sub(after_end))
                    .unwrap_or(99);
                let times = matches!(m.text.to_lowercase().as_str(), "once" | "twice" | "thrice")
                    || matches!(self.w(after_end), "times" | "time");
                if let Some(p) =
                    after.filter(|&p| self.is_table_span(p) && !in_range && !m.year_like)
                {
                    // "with more than 3 <table>"
                    count_of = self.span_table(p);
                    self.use_span(p);
                } else if let Some(p) = after.filter(|&p| self.is_value_span(p) && !m.year_like) {
                    // "at least 10 professors" where 'Professor' is a stored value: rows with it, counted
                    if let Target::Value { col, .. } = self.span(p).best().target {
                        count_of = Some(col.table);
                    }
                } else if times && cmp_len > 0 {
                    // "more than once", "at least 3 times": rows per group
                    count_of = self
                        .f
                        .subject
                        .or_else(|| self.focus_tables().first().copied());
                    self.mark(after_end, after_end + 1);
                } else if m.year_like
                    && before_col
                        .is_none_or(|(_, c)| !numeric(self, c) && !is_temporal(self.schema, c))
                {
                    if let Some(c) = self.temporal_column(m.token) {
                        col = Some(c);
                    }
                }
                if col.is_none() && count_of.is_none() {
                    let pick_after = match (before_col, after_col) {
                        (Some((_, bc)), Some((_, ac))) => {
                            (after_gap < before_gap || !numeric(self, bc)) && numeric(self, ac)
                        }
                        (None, Some(_)) => true,
                        _ => false,
                    };
                    if pick_after {
                        let (p, c) = after_col.expect("checked");
                        // "with more than 100 tracks" where "tracks" links a key: no figure is
                        // compared with a key, the rows that hold it are counted
                        if (numeric(self, c) || m.year_like) && !self.is_join_key(c) {
                            col = Some(c);
                        } else {
                            // "more than 10 <names of rows>": count the rows of the column's table
                            count_of = Some(c.table);
                        }
                        self.use_span(p);
                    } else if let Some((p, c)) = before_col {
                        col = Some(c);
                        self.use_span(p);
                    } else if let Some(p) = before.filter(|&p| self.is_column_span(p)) {
                        col = self.resolve_column(p);
                        self.use_span(p);
                    }
                }
            }
            if let Some(t) = count_of {
                // "with more than 3 <table>": group the subject, count the rows of <table>
                let value = Self::number_literal(m.value);
                self.f.having = Some(Having {
                    term: Term::count(),
                    op,
                    value,
                });
                if !self.f.tables.contains(&t) {
                    self.f.tables.push(t);
                }
                self.mark(cmp_start, m.token + 1);
                self.f.notes.push(format!(
                    "having COUNT(*) {:?} {} ({} per group)",
                    op, m.text, self.schema.tables[t].name
                ));
                continue;
            }
            if col.is_none() && m.year_like {
                // leave it to the time ranges
                continue;
            }
            if col.is_none() {
                // the nearest numeric column named anywhere and not yet used
                let used = self.used_columns();
                let mut best: Option<(usize, usize, ColRef)> = None;
                for si in 0..self.links.spans.len() {
                    if self.used[si] || !self.is_column_span(si) {
                        continue;
                    }
                    if let Some(c) = self.resolve_column(si) {
                        if self.schema.tables[c.table].columns[c.column]
                            .kind()
                            .is_numeric()
                            && !used.contains(&c)
                        {
                            let d = self.span(si).start.abs_diff(m.token);
                            if best.is_none_or(|b| d < b.0) {
                                best = Some((d, si, c));
                            }
                        }
                    }
                }
                if let Some((_, si, c)) = best {
                    col = Some(c);
                    self.use_span(si);
                    self.f.guesses += 0.15;
                }
            }
            let Some(c) = col else { continue };
            // "longer than 15 minutes" of a column of milliseconds: the number in its unit
            let unit_at = high.as_ref().map(|h| h.token + 1).unwrap_or(m.token + 1);
            let (low_value, high_value) = match self.in_column_unit(unit_at, c) {
                Some(factor) => {
                    self.explained[unit_at] = true;
                    let low = units::round(m.value * factor);
                    self.f.notes.push(format!(
                        "{} {} is {} in the unit of {}",
                        m.text,
                        self.w(unit_at),
                        low,
                        self.col_name(c)
                    ));
                    (low, high.as_ref().map(|h| units::round(h.value * factor)))
                }
                None => (m.value, high.as_ref().map(|h| h.value)),
            };
            if m.year_like && is_temporal(self.schema, c) {
                // a year compared with a date column: handled as a date range
                let r = self
                    .a
                    .time_ranges
                    .iter()
                    .find(|r| r.tokens.0 <= m.token && m.token < r.tokens.1)
                    .cloned();
                if let Some(r) = r {
                    self.date_cond(c, &r);
                    self.mark(r.tokens.0, r.tokens.1);
                    self.mark(cmp_start, m.token + 1);
                    continue;
                }
            }
            if let Some(h) = high {
                self.push_cond_at(
                    m.token,
                    Cond::Between {
                        col: c,
                        low: Self::number_literal(low_value),
                        high: Self::number_literal(high_value.unwrap_or(h.value)),
                    },
                );
                self.mark(cmp_start, h.token + 1);
                skip_until = h.token + 1;
            } else {
                // "more than 75% of their shelf price": a share of another quantity, which this
                // comparison with the plain number does not read; say so and count it a guess
                if matches!(self.w(m.token + 1), "%" | "percent") && self.w(m.token + 2) == "of" {
                    self.f.guesses += 0.15;
                    self.f.notes.push(format!(
                        "'{}% of ...' compared as the number {} (a share of another quantity is not read)",
                        m.text, m.text
                    ));
                }
                let cond = Cond::Cmp {
                    col: c,
                    op,
                    value: Self::number_literal(low_value),
                };
                last_cmp = Some((m.token, c));
                if let Some(k) = self.exception_before(cmp_start) {
                    // "all home cities except for those having a driver older than 40"
                    self.mark(k, k + 1);
                    self.f.excluded.push(cond);
                    self.f.notes.push(format!(
                        "rows with {} compared with {} left out",
                        self.col_name(c),
                        m.text
                    ));
                } else {
                    self.push_cond_at(m.token, cond);
                }
                self.mark(cmp_start, m.token + 1);
                if matches!(self.w(m.token + 1), "or")
                    && or_comparative(self.w(m.token + 2)).is_some()
                {
                    // "30 or more", "30 or younger"
                    self.mark(m.token + 1, m.token + 3);
                }
            }
            self.f
                .notes
                .push(format!("{} compared with {}", self.col_name(c), m.text));
        }
    }

    /// "above age 46": the column span right before the number at `i`, when the word before
    /// the span compares (over, above, exceeding, beyond, under, below); with the span's index
    /// and the comparison. Date columns are left to the time ranges.
    fn comparison_before_column(&mut self, i: usize) -> Option<(ColRef, usize, CmpOp)> {
        let si = self.span_index_at(i.checked_sub(1)?)?;
        let start = self.span(si).start;
        if self.used[si] || !self.is_column_span(si) || self.is_table_span(si) || start == 0 {
            return None;
        }
        let op = match self.w(start - 1) {
            "over" | "above" | "exceeding" | "beyond" => CmpOp::Gt,
            "under" | "below" => CmpOp::Lt,
            _ => return None,
        };
        let c = self.resolve_column(si)?;
        (!is_temporal(self.schema, c)).then_some((c, si, op))
    }

    /// The comparison a number's preceding words ask for, with how many tokens they take.
    pub(super) fn comparison_before(
        &self,
        i: usize,
    ) -> (CmpOp, usize, Option<&'static [(&'static str, i8)]>) {
        let w1 = if i >= 1 { self.w(i - 1) } else { "" };
        let w2 = if i >= 2 { self.w(i - 2) } else { "" };
        let w3 = if i >= 3 { self.w(i - 3) } else { "" };
        let after = self.w(i + 1);
        let after2 = self.w(i + 2);
        let or_more = after == "or" && or_comparative(after2) == Some(CmpOp::Ge);
        let or_less = after == "or" && or_comparative(after2) == Some(CmpOp::Le);
        if w1 == "than" {
            let neg = matches!(w3, "no" | "not");
            let op = match w2 {
                "more" | "greater" | "larger" | "bigger" | "higher" | "longer" | "older"
                | "taller" | "heavier" | "later" | "over" | "above" => {
                    if neg {
                        CmpOp::Le
                    } else {
                        CmpOp::Gt
                    }
                }
                "less" | "fewer" | "smaller" | "lower" | "shorter" | "younger" | "lighter"
                | "cheaper" | "earlier" | "below" | "under" => {
                    if neg {
                        CmpOp::Ge
                    } else {
                        CmpOp::Lt
                    }
                }
                _ => CmpOp::Gt,
            };
            // adjectives carry their attribute ("older than 56" -> age)
            let attrs = adjective_attrs(w2).or_else(|| {
                if w2 == "more" || w2 == "less" {
                    adjective_attrs(w3)
                } else {
                    None
                }
            });
            let attrs = attrs.filter(|_| {
                !matches!(
                    w2,
                    "more"
                        | "less"
                        | "greater"
                        | "larger"
                        | "bigger"
                        | "higher"
                        | "lower"
                        | "smaller"
                        | "fewer"
                )
            });
            return (op, 2 + usize::from(neg), attrs);
        }
        match (w2, w1) {
            ("at", "least") => return (CmpOp::Ge, 2, None),
            ("at", "most") => return (CmpOp::Le, 2, None),
            ("no", "more") | ("not", "over") => return (CmpOp::Le, 2, None),
            ("not", "equal") => return (CmpOp::Ne, 2, None),
            ("equal", "to") => return (CmpOp::Eq, 2, None),
            _ => {}
        }
        match w1 {
            "over" | "above" | "exceeding" | "exceeds" | "exceed" | "after" | "beyond" => {
                (CmpOp::Gt, 1, None)
            }
            "under" | "below" | "before" => (CmpOp::Lt, 1, None),
            "least" if w2 == "at" => (CmpOp::Ge, 2, None),
            _ if or_more => (CmpOp::Ge, 0, None),
            _ if or_less => (CmpOp::Le, 0, None),
            _ => (CmpOp::Eq, 0, None),
        }
    }

    /// True when the number at `m` is a year that names a period: a bare year after a temporal
    /// preposition ("in 2023", "for 2024", "during 2019"), with no comparison word, while a date
    /// or year column is at hand. The time ranges then turn it into a date range.
    pub(super) fn year_of_time(&self, m: &crate::question::NumberMention, cmp_len: usize) -> bool {
        if !m.year_like || cmp_len > 0 || m.token == 0 {
            return false;
        }
        let bare = self
            .a
            .time_ranges
            .iter()
            .any(|r| r.tokens.0 <= m.token && m.token < r.tokens.1 && r.bare_year);
        let prep = matches!(
            self.w(m.token - 1),
            "in" | "for" | "during" | "of" | "throughout" | "within"
        ) || (matches!(
            self.w(m.token - 1),
            "and" | "or" | "versus" | "vs" | "vs." | ","
        ) && self.is_period_list(m.token));
        bare && prep && self.has_temporal_focus()
    }

    /// True when the year at token `i` ends a list of years ("in 2023 versus 2024").
    pub(super) fn is_period_list(&self, i: usize) -> bool {
        let mut k = i;
        while k >= 2 {
            if !matches!(self.w(k - 1), "and" | "or" | "versus" | "vs" | "vs." | ",") {
                break;
            }
            if self.a.tokens[k - 2].kind != TokenKind::Number {
                return false;
            }
            k -= 2;
            if k >= 1 && matches!(self.w(k - 1), "in" | "for" | "during" | "of" | "between") {
                return true;
            }
        }
        false
    }
}

/// The bound a comparative after "or" sets on the number before it: "30 or more" (`>=`),
/// "30 or younger" (`<=`); `None` for any other word.
fn or_comparative(w: &str) -> Option<CmpOp> {
    match w {
        "more" | "greater" | "higher" | "above" | "over" | "larger" | "older" | "later" => {
            Some(CmpOp::Ge)
        }
        "less" | "fewer" | "lower" | "below" | "under" | "smaller" | "younger" | "earlier" => {
            Some(CmpOp::Le)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Cond;
    use crate::sql::pattern::ast::{CmpOp, Literal};

    #[test]
    fn a_number_after_a_comparison_reads_as_a_condition_on_the_column_before() {
        let c = case("employees with a salary greater than 5000");
        let b = c.until("numbers");
        assert_eq!(
            b.f.conds,
            [Cond::Cmp {
                col: c.col("employee", "salary"),
                op: CmpOp::Gt,
                value: Literal::Number("5000".into()),
            }]
        );
    }

    #[test]
    fn older_than_reads_the_age_column() {
        let c = case("employees older than 30");
        let b = c.until("numbers");
        assert_eq!(
            b.f.conds,
            [Cond::Cmp {
                col: c.col("employee", "age"),
                op: CmpOp::Gt,
                value: Literal::Number("30".into()),
            }]
        );
    }

    #[test]
    fn a_second_comparison_without_a_column_compares_the_first_ones_column() {
        let c = case("employees with a salary greater than 9000 or less than 2000");
        let b = c.until("numbers");
        let salary = c.col("employee", "salary");
        assert_eq!(
            b.f.conds,
            [
                Cond::Cmp {
                    col: salary,
                    op: CmpOp::Gt,
                    value: Literal::Number("9000".into()),
                },
                Cond::Cmp {
                    col: salary,
                    op: CmpOp::Lt,
                    value: Literal::Number("2000".into()),
                }
            ]
        );
        let joined = c.until("join or");
        assert!(
            matches!(joined.f.conds.as_slice(), [Cond::Or(v)] if v.len() == 2),
            "{:?}",
            joined.f.conds
        );
    }

    #[test]
    fn either_of_two_numbers_of_one_column_is_one_or_and_or_older_compares() {
        let c = case("employees aged either 36 or 37");
        let b = c.until("join or");
        let age = c.col("employee", "age");
        assert_eq!(
            b.f.conds,
            [Cond::Or(vec![
                Cond::Cmp {
                    col: age,
                    op: CmpOp::Eq,
                    value: Literal::Number("36".into()),
                },
                Cond::Cmp {
                    col: age,
                    op: CmpOp::Eq,
                    value: Literal::Number("37".into()),
                }
            ])]
        );
        let c = case("employees aged 30 or younger");
        let b = c.until("numbers");
        assert_eq!(
            b.f.conds,
            [Cond::Cmp {
                col: age,
                op: CmpOp::Le,
                value: Literal::Number("30".into()),
            }]
        );
    }

    #[test]
    fn a_comparison_before_the_column_reads_the_column() {
        let c = case("employees above age 40");
        let b = c.until("numbers");
        assert_eq!(
            b.f.conds,
            [Cond::Cmp {
                col: c.col("employee", "age"),
                op: CmpOp::Gt,
                value: Literal::Number("40".into()),
            }]
        );
    }

    #[test]
    fn between_reads_both_bounds() {
        let c = case("employees aged between 30 and 40");
        let b = c.until("numbers");
        assert_eq!(
            b.f.conds,
            [Cond::Between {
                col: c.col("employee", "age"),
                low: Literal::Number("30".into()),
                high: Literal::Number("40".into()),
            }]
        );
    }
}

impl Builder<'_> {
    /// The numeric column whose curated unit is the word at token `i`
    /// ([`crate::sql::pattern::linking::Lexicon::unit_columns`]): the only one, or the only one
    /// in the question's tables; `None` when no column or several match.
    fn unit_column(&self, i: usize) -> Option<ColRef> {
        if i >= self.a.tokens.len() || self.a.tokens[i].kind != TokenKind::Word {
            return None;
        }
        let numeric = |c: &ColRef| {
            self.schema.tables[c.table].columns[c.column]
                .kind()
                .is_numeric()
        };
        let mut cols: Vec<ColRef> = self
            .lex
            .unit_columns(self.w(i))
            .into_iter()
            .filter(numeric)
            .collect();
        if cols.is_empty() {
            // "over 10 MB" of a column of bytes: a unit of the same dimension
            if let Some(u) = units::parse(self.w(i)) {
                cols = self
                    .lex
                    .columns_measured_in(u)
                    .into_iter()
                    .filter(numeric)
                    .collect();
            }
        }
        if let [c] = cols.as_slice() {
            return Some(*c);
        }
        let focus = self.focus_tables();
        let near: Vec<ColRef> = cols
            .into_iter()
            .filter(|c| focus.contains(&c.table))
            .collect();
        match near.as_slice() {
            [c] => Some(*c),
            _ => None,
        }
    }

    /// Whether the number at token `i` is an amount of money ("$20", "20 dollars";
    /// [`crate::question::numbers::in_currency`]).
    fn in_currency(&self, i: usize) -> bool {
        crate::question::numbers::in_currency(&self.a.text, &self.a.tokens, i)
    }

    /// The one column of `table` that holds an amount of money: numeric, no key, its name made
    /// of a word of [`MONEY_COLUMN_WORDS`] (`Total`, `UnitPrice`); `None` when none or several.
    fn money_column(&self, table: usize) -> Option<ColRef> {
        let t = &self.schema.tables[table];
        let cols: Vec<ColRef> = (0..t.columns.len())
            .map(|column| ColRef { table, column })
            .filter(|&c| {
                let col = &t.columns[c.column];
                col.kind().is_numeric()
                    && !self.is_join_key(c)
                    && crate::question::tokens::split_identifier(&col.name)
                        .iter()
                        .any(|w| MONEY_COLUMN_WORDS.contains(&w.as_str()))
            })
            .collect();
        match cols.as_slice() {
            [c] => Some(*c),
            _ => None,
        }
    }

    /// The factor that turns a number written in the unit at token `i` into the unit column
    /// `col` stores ([`units::convert`]): 60000 for minutes against milliseconds; `None` when
    /// the word is no unit, the column has none, they measure different things, or they are the
    /// same unit.
    fn in_column_unit(&self, i: usize, col: ColRef) -> Option<f64> {
        if i >= self.a.tokens.len() || self.a.tokens[i].kind != TokenKind::Word {
            return None;
        }
        let from = units::parse(self.w(i))?;
        let to = self.lex.column_unit(col)?;
        let factor = units::convert(1.0, from, to)?;
        (factor != 1.0).then_some(factor)
    }
}
