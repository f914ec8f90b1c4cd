//! The time pass: date ranges and years the question names, on the temporal column they qualify.

use chrono::Datelike;

use super::state::Builder;
use super::Cond;
use crate::question::{TimeRange, TokenKind};
use crate::sql::pattern::linking::{is_temporal, is_year_column, ColRef, Target};

impl<'a> Builder<'a> {
    /// True when a table the question is about (or a business rule's table) has a date or year
    /// column.
    pub(super) fn has_temporal_focus(&self) -> bool {
        let mut tables = self.focus_tables();
        tables.extend(self.f.tables.iter().copied());
        tables.iter().any(|&t| {
            (0..self.schema.tables[t].columns.len()).any(|ci| {
                let c = ColRef {
                    table: t,
                    column: ci,
                };
                is_temporal(self.schema, c) || is_year_column(self.schema, c)
            })
        })
    }

    pub(super) fn date_cond(&mut self, c: ColRef, r: &TimeRange) {
        if is_year_column(self.schema, c)
            || self.schema.tables[c.table].columns[c.column]
                .kind()
                .is_numeric()
        {
            let start = r.start.map(|d| d.year());
            let end = r.end.map(|d| d.year() - 1);
            // at the range's token: "before 2000 or after 2010" joins by its "or"
            self.push_cond_at(r.tokens.0, Cond::YearRange { col: c, start, end });
        } else {
            self.push_cond_at(
                r.tokens.0,
                Cond::DateRange {
                    col: c,
                    start: r.start,
                    end: r.end,
                },
            );
        }
        self.f
            .notes
            .push(format!("{} within {}", self.col_name(c), r.text));
    }

    pub(super) fn temporal_column(&mut self, near: usize) -> Option<ColRef> {
        // a date/year column named in the question, else the only one of the focus tables
        let mut best: Option<(usize, usize, ColRef)> = None;
        for si in 0..self.links.spans.len() {
            if !self.is_column_span(si) {
                continue;
            }
            if let Some(c) = self.resolve_column(si) {
                if is_temporal(self.schema, c) || is_year_column(self.schema, c) {
                    let d = self.span(si).start.abs_diff(near);
                    if best.is_none_or(|b| d < b.0) {
                        best = Some((d, si, c));
                    }
                }
            }
        }
        if let Some((_, si, c)) = best {
            self.use_span(si);
            return Some(c);
        }
        // the tables of the business rules' measures first: a period filters the measured
        // rows; then those of their filters ("products that had price increases in 2024": the
        // price changes of 2024, not the products created then)
        let rule_tables = |kind: &str| -> Vec<usize> {
            self.rule_tokens
                .iter()
                .filter(|(_, _, r)| r.kind == kind)
                .filter_map(|(_, _, r)| {
                    let name = r.table.as_deref()?;
                    self.schema
                        .tables
                        .iter()
                        .position(|x| x.name.eq_ignore_ascii_case(name))
                })
                .collect()
        };
        let mut focus: Vec<usize> = rule_tables("measure");
        for t in rule_tables("filter") {
            if !focus.contains(&t) {
                focus.push(t);
            }
        }
        for t in self
            .focus_tables()
            .into_iter()
            .chain(self.f.tables.iter().copied())
        {
            if !focus.contains(&t) {
                focus.push(t);
            }
        }
        let mut cands = Vec::new();
        for &t in &focus {
            for ci in 0..self.schema.tables[t].columns.len() {
                let c = ColRef {
                    table: t,
                    column: ci,
                };
                if is_temporal(self.schema, c) || is_year_column(self.schema, c) {
                    cands.push(c);
                }
            }
            if !cands.is_empty() {
                break;
            }
        }
        if !cands.is_empty() {
            self.f.guesses += if cands.len() == 1 { 0.05 } else { 0.15 };
        }
        cands.first().copied()
    }

    /// Whether no part of the frame reads the period `r`: none of its words but stopwords and
    /// punctuation is explained or linked.
    pub(super) fn period_unread(&self, r: &TimeRange) -> bool {
        let words: Vec<usize> = (r.tokens.0..r.tokens.1)
            .filter(|&k| {
                let t = &self.a.tokens[k];
                !(t.kind == TokenKind::Punct
                    || t.kind == TokenKind::Word && crate::question::tokens::is_stopword(&t.lower))
            })
            .collect();
        !words.is_empty()
            && words
                .iter()
                .all(|&k| !self.explained[k] && self.span_index_at(k).is_none())
    }

    /// The one date or year column of table `t`, if it has exactly one.
    pub(super) fn only_temporal_column(&self, t: usize) -> Option<ColRef> {
        let mut found = (0..self.schema.tables[t].columns.len())
            .map(|ci| ColRef {
                table: t,
                column: ci,
            })
            .filter(|&c| is_temporal(self.schema, c) || is_year_column(self.schema, c));
        match (found.next(), found.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }

    /// True when a date or year column is named or belongs to a table the question is about.
    pub(super) fn has_temporal(&self) -> bool {
        let named = self.links.spans.iter().any(|sp| {
            sp.links.iter().any(|l| match l.target {
                Target::Column { col } => {
                    is_temporal(self.schema, col) || is_year_column(self.schema, col)
                }
                _ => false,
            })
        });
        named
            || self.focus_tables().iter().any(|&t| {
                (0..self.schema.tables[t].columns.len()).any(|ci| {
                    let c = ColRef {
                        table: t,
                        column: ci,
                    };
                    is_temporal(self.schema, c) || is_year_column(self.schema, c)
                })
            })
    }

    /// True when the question compares the things it names ("compare", "versus", "vs", "against").
    pub(super) fn compares(&self) -> bool {
        self.a.tokens.iter().any(|t| {
            matches!(
                t.lower.as_str(),
                "compare"
                    | "compared"
                    | "comparing"
                    | "comparison"
                    | "versus"
                    | "vs"
                    | "vs."
                    | "against"
            )
        })
    }

    /// "revenue in 2023 versus 2024": several whole years compared are one group per year,
    /// filtered to those years. Returns true when it read the question so.
    pub(super) fn compared_years(&mut self) -> bool {
        let years: Vec<TimeRange> = self
            .a
            .time_ranges
            .iter()
            .filter(|r| r.bare_year)
            .filter(|r| {
                !(r.tokens.0..r.tokens.1)
                    .any(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            })
            .cloned()
            .collect();
        if years.len() < 2 || !self.compares() || self.a.time_ranges.len() != years.len() {
            return false;
        }
        let Some(c) = self.temporal_column(years[0].tokens.0) else {
            return false;
        };
        if is_year_column(self.schema, c)
            || self.schema.tables[c.table].columns[c.column]
                .kind()
                .is_numeric()
        {
            return false;
        }
        let conds: Vec<Cond> = years
            .iter()
            .map(|r| Cond::DateRange {
                col: c,
                start: r.start,
                end: r.end,
            })
            .collect();
        self.f.conds.push(Cond::Or(conds));
        self.f.group_by_year = Some(c);
        for r in &years {
            self.mark(r.tokens.0, r.tokens.1);
        }
        self.f.notes.push(format!(
            "years compared: grouped by the year of {}",
            self.col_name(c)
        ));
        true
    }

    pub(super) fn times(&mut self) {
        if self.compared_years() {
            return;
        }
        let ranges = self.a.time_ranges.clone();
        for r in &ranges {
            if (r.tokens.0..r.tokens.1)
                .any(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            {
                continue;
            }
            if (r.tokens.0..r.tokens.1)
                .all(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            {
                continue;
            }
            if r.bare_year
                && (r.tokens.0..r.tokens.1)
                    .any(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            {
                continue;
            }
            if let Some(c) = self.temporal_column(r.tokens.0) {
                self.date_cond(c, r);
                self.mark(r.tokens.0, r.tokens.1);
            }
        }
        for m in self.a.months.clone() {
            if let Some(c) = self.temporal_column(m.token) {
                if is_temporal(self.schema, c) {
                    self.f.conds.push(Cond::Month {
                        col: c,
                        month: m.month,
                    });
                    self.explained[m.token] = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::testing::case;
    use super::super::Cond;

    #[test]
    fn a_year_reads_as_a_date_range_on_the_date_column() {
        let c = case("employees hired in 2020");
        let b = c.until("times");
        assert_eq!(
            b.f.conds,
            [Cond::DateRange {
                col: c.col("employee", "hire_date"),
                start: NaiveDate::from_ymd_opt(2020, 1, 1),
                end: NaiveDate::from_ymd_opt(2021, 1, 1),
            }]
        );
    }

    #[test]
    fn a_relative_period_reads_from_the_day_of_the_question() {
        // the cases are asked on 2025-01-15
        let c = case("projects started last year");
        let b = c.until("times");
        assert_eq!(
            b.f.conds,
            [Cond::DateRange {
                col: c.col("project", "start_date"),
                start: NaiveDate::from_ymd_opt(2024, 1, 1),
                end: NaiveDate::from_ymd_opt(2025, 1, 1),
            }]
        );
    }
}
