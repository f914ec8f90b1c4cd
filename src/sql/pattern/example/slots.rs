//! Slot edits of an example's SQL tree that a metric query names exactly: the `LIMIT` of the
//! outer query, and the bounds of a period written as date literals (`'2024-01-01'`,
//! `'2024-03'`, `'2024-%'`, `'2024'`) moved to another period.

use std::ops::ControlFlow;

use chrono::{Datelike, NaiveDate};
use sqlparser::ast::{Expr, LimitClause, Statement, Value, ValueWithSpan};

use super::tree::{string_expr, string_of, Tree};

/// A half-open date range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Span {
    pub(super) start: NaiveDate,
    pub(super) end: NaiveDate,
}

impl Span {
    fn last(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.end)
    }

    /// The calendar year when the span is exactly one.
    fn whole_year(&self) -> Option<i32> {
        (self.start.month() == 1
            && self.start.day() == 1
            && self.end == NaiveDate::from_ymd_opt(self.start.year() + 1, 1, 1)?)
        .then_some(self.start.year())
    }

    /// Whether both ends fall on the first of a month (the span is whole months).
    fn whole_months(&self) -> bool {
        self.start.day() == 1 && self.end.day() == 1
    }
}

fn month_text(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// What one literal of the example's SQL becomes when `old` moves to `new`: `Ok(None)` when it
/// is not a bound of `old`, `Err(())` when it is one that `new` cannot be written with (a
/// `'2023-%'` pattern for a quarter).
fn moved(lit: &str, old: Span, new: Span) -> Result<Option<String>, ()> {
    let b = lit.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    // 'YYYY-MM-DD'
    if b.len() == 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
    {
        let Ok(d) = NaiveDate::parse_from_str(lit, "%Y-%m-%d") else {
            return Ok(None);
        };
        let to = if d == old.start {
            new.start
        } else if d == old.last() {
            new.last()
        } else if d == old.end {
            new.end
        } else {
            return Ok(None);
        };
        return Ok(Some(to.format("%Y-%m-%d").to_string()));
    }
    // 'YYYY-MM'
    if b.len() == 7 && digits(0..4) && b[4] == b'-' && digits(5..7) {
        if !old.whole_months() {
            return Ok(None);
        }
        let text = lit.to_string();
        let to = if text == month_text(old.start) {
            new.start
        } else if text == month_text(old.last()) {
            new.last()
        } else if text == month_text(old.end) {
            new.end
        } else {
            return Ok(None);
        };
        return if new.whole_months() {
            Ok(Some(month_text(to)))
        } else {
            Err(())
        };
    }
    // 'YYYY-%' / 'YYYY%' (a LIKE on a year) and 'YYYY' (strftime('%Y', ...) = 'YYYY')
    let year_part = lit
        .strip_suffix("-%")
        .or_else(|| lit.strip_suffix('%'))
        .unwrap_or(lit);
    if year_part.len() == 4 && year_part.bytes().all(|c| c.is_ascii_digit()) {
        let y: i32 = year_part.parse().map_err(|_| ())?;
        let Some(oy) = old.whole_year() else {
            return Ok(None);
        };
        if y != oy {
            return Ok(None);
        }
        let ny = new.whole_year().ok_or(())?;
        return Ok(Some(format!("{ny}{}", &lit[4..])));
    }
    Ok(None)
}

impl Tree<'_> {
    /// The outer query's `LIMIT` when it is a number.
    pub(super) fn limit(&self) -> Option<u64> {
        let Statement::Query(q) = &self.stmt else {
            return None;
        };
        match &q.limit_clause {
            Some(LimitClause::LimitOffset {
                limit:
                    Some(Expr::Value(ValueWithSpan {
                        value: Value::Number(n, _),
                        ..
                    })),
                ..
            }) => n.parse().ok(),
            _ => None,
        }
    }

    /// Sets the outer query's `LIMIT` to `n` (adding one when there is none and the query is
    /// ordered). False when the query has an offset-style limit or no order to cut.
    pub(super) fn set_limit(&mut self, n: u64) -> bool {
        let Statement::Query(q) = &mut self.stmt else {
            return false;
        };
        let number = Expr::Value(ValueWithSpan::from(Value::Number(n.to_string(), false)));
        match &mut q.limit_clause {
            Some(LimitClause::LimitOffset { limit, .. }) => {
                *limit = Some(number);
                true
            }
            Some(LimitClause::OffsetCommaLimit { .. }) => false,
            None if q.order_by.is_some() => {
                q.limit_clause = Some(LimitClause::LimitOffset {
                    limit: Some(number),
                    offset: None,
                    limit_by: Vec::new(),
                });
                true
            }
            None => false,
        }
    }

    /// Moves every date literal that bounds `old` (its first day, last day, or the day after;
    /// its first or last month; its year as a pattern or a number) to the matching bound of
    /// `new`. False when no literal bounds `old`, or one does that `new` cannot be written with.
    pub(super) fn move_period(&mut self, old: Span, new: Span) -> bool {
        let schema = self.schema;
        let mut moved_any = false;
        let mut failed = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Expr::Value(ValueWithSpan {
                value: Value::Number(n, _),
                ..
            }) = e
            {
                if let (Ok(y), Some(oy)) = (n.parse::<i32>(), old.whole_year()) {
                    if y == oy {
                        match new.whole_year() {
                            Some(ny) => {
                                *n = ny.to_string();
                                moved_any = true;
                            }
                            None => failed = true,
                        }
                    }
                }
                return ControlFlow::<()>::Continue(());
            }
            if let Some(s) = string_of(schema, e) {
                match moved(s, old, new) {
                    Ok(Some(to)) => {
                        *e = string_expr(to);
                        moved_any = true;
                    }
                    Ok(None) => {}
                    Err(()) => failed = true,
                }
            }
            ControlFlow::<()>::Continue(())
        });
        moved_any && !failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn bounds_move_in_the_format_they_are_written_in() {
        let q4_2023 = Span {
            start: d(2023, 10, 1),
            end: d(2024, 1, 1),
        };
        let q2_2024 = Span {
            start: d(2024, 4, 1),
            end: d(2024, 7, 1),
        };
        assert_eq!(
            moved("2023-10-01", q4_2023, q2_2024),
            Ok(Some("2024-04-01".into()))
        );
        assert_eq!(
            moved("2023-12-31", q4_2023, q2_2024),
            Ok(Some("2024-06-30".into()))
        );
        assert_eq!(
            moved("2024-01-01", q4_2023, q2_2024),
            Ok(Some("2024-07-01".into()))
        );
        assert_eq!(
            moved("2023-10", q4_2023, q2_2024),
            Ok(Some("2024-04".into()))
        );
        assert_eq!(
            moved("2023-12", q4_2023, q2_2024),
            Ok(Some("2024-06".into()))
        );
        // a date that bounds nothing stays
        assert_eq!(moved("2023-11-15", q4_2023, q2_2024), Ok(None));
        let y2024 = Span {
            start: d(2024, 1, 1),
            end: d(2025, 1, 1),
        };
        let y2023 = Span {
            start: d(2023, 1, 1),
            end: d(2024, 1, 1),
        };
        assert_eq!(moved("2024-%", y2024, y2023), Ok(Some("2023-%".into())));
        assert_eq!(moved("2024", y2024, y2023), Ok(Some("2023".into())));
        // a year pattern cannot say a quarter
        assert_eq!(moved("2024-%", y2024, q2_2024), Err(()));
    }
}
