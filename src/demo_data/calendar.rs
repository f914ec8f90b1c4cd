//! The calendar of the demo data: the 105 sales weeks (Mondays 2023-01-02 .. 2024-12-30), the
//! 24 monthly periods ('2023-01' .. '2024-12') and the holiday weeks that lift some categories.
//!
//! Everything else in the generator indexes time by week number (0 = 2023-01-02) or month
//! number (0 = 2023-01); this room owns the conversion to dates and labels.

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};

/// Number of sales weeks.
pub(crate) const WEEKS: usize = 105;
/// Number of monthly periods.
pub(crate) const MONTHS: usize = 24;

/// The first sales week (a Monday).
pub(crate) const FIRST_WEEK: NaiveDate = date(2023, 1, 2);

/// A date from constant parts; an invalid constant fails the build, never a run.
pub(crate) const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("invalid constant date"),
    }
}

/// Holidays that change what people buy in their week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holiday {
    SuperBowl,
    IndependenceDay,
    Thanksgiving,
    Christmas,
}

impl Holiday {
    /// Position of the holiday in a category's `holiday_lifts` array.
    pub(crate) fn index(self) -> usize {
        match self {
            Self::SuperBowl => 0,
            Self::IndependenceDay => 1,
            Self::Thanksgiving => 2,
            Self::Christmas => 3,
        }
    }
}

/// Week and month tables of the two years, computed once.
pub(crate) struct Calendar {
    /// `YYYY-MM-DD` of each week start.
    pub week_labels: Vec<String>,
    /// Month number of each week's start date.
    pub week_month: Vec<usize>,
    /// Day of the year (1..=366) of each week's Wednesday, for seasonality.
    pub week_mid_day: Vec<f64>,
    /// Fractional years since the first week, for trends.
    pub week_years: Vec<f64>,
    /// The holiday falling in each week, if any.
    pub week_holiday: Vec<Option<Holiday>>,
    /// `YYYY-MM` of each month.
    pub month_labels: Vec<String>,
    /// First day of each month.
    pub month_starts: Vec<NaiveDate>,
    /// First week whose Monday falls in each month.
    pub month_first_week: Vec<usize>,
}

impl Calendar {
    /// Builds the tables of 2023-2024.
    pub(crate) fn new() -> Self {
        let weeks: Vec<NaiveDate> = (0..WEEKS)
            .map(|w| FIRST_WEEK + TimeDelta::days(7 * w as i64))
            .collect();
        let week_labels = weeks
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        let week_month: Vec<usize> = weeks.iter().map(|d| month_number(*d)).collect();
        let week_mid_day = weeks
            .iter()
            .map(|d| (*d + TimeDelta::days(3)).ordinal() as f64)
            .collect();
        let week_years = (0..WEEKS).map(|w| w as f64 * 7.0 / 365.25).collect();
        let month_starts: Vec<NaiveDate> = (0..MONTHS)
            .map(|m| date(2023 + (m / 12) as i32, (m % 12) as u32 + 1, 1))
            .collect();
        let month_labels = month_starts
            .iter()
            .map(|d| d.format("%Y-%m").to_string())
            .collect();
        let month_first_week = (0..MONTHS)
            .map(|m| week_month.iter().position(|&wm| wm == m).unwrap_or(0))
            .collect();
        let mut calendar = Self {
            week_labels,
            week_month,
            week_mid_day,
            week_years,
            week_holiday: vec![None; WEEKS],
            month_labels,
            month_starts,
            month_first_week,
        };
        for year in [2023, 2024] {
            let holidays = [
                // The game is on the second Sunday of February: shopping happens the week before.
                (
                    nth_weekday(year, 2, Weekday::Sun, 2).map(|d| d - TimeDelta::days(6)),
                    Holiday::SuperBowl,
                ),
                (Some(date(year, 7, 4)), Holiday::IndependenceDay),
                (
                    nth_weekday(year, 11, Weekday::Thu, 4),
                    Holiday::Thanksgiving,
                ),
                (Some(date(year, 12, 25)), Holiday::Christmas),
            ];
            for (day, holiday) in holidays {
                if let Some(week) = day.and_then(|d| calendar.week_containing(d)) {
                    calendar.week_holiday[week] = Some(holiday);
                }
            }
        }
        calendar
    }

    /// The week whose Monday..Sunday contains `day`, if it is in the range.
    pub(crate) fn week_containing(&self, day: NaiveDate) -> Option<usize> {
        let days = (day - FIRST_WEEK).num_days();
        if days < 0 {
            return None;
        }
        let week = (days / 7) as usize;
        (week < WEEKS).then_some(week)
    }

    /// The first week starting on or after `day`: 0 before the range, `WEEKS` after it.
    pub(crate) fn first_week_from(&self, day: NaiveDate) -> usize {
        let days = (day - FIRST_WEEK).num_days();
        if days <= 0 {
            0
        } else {
            (((days + 6) / 7) as usize).min(WEEKS)
        }
    }
}

/// Month number of a date (0 = 2023-01).
fn month_number(day: NaiveDate) -> usize {
    ((day.year() - 2023) * 12 + day.month0() as i32).max(0) as usize
}

/// The `n`-th given weekday of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_spans_105_mondays_and_24_months() {
        let calendar = Calendar::new();
        assert_eq!(
            calendar.week_labels.first().map(String::as_str),
            Some("2023-01-02")
        );
        assert_eq!(
            calendar.week_labels.last().map(String::as_str),
            Some("2024-12-30")
        );
        assert!(calendar.week_labels.iter().all(|label| {
            NaiveDate::parse_from_str(label, "%Y-%m-%d").is_ok_and(|d| d.weekday() == Weekday::Mon)
        }));
        assert_eq!(
            calendar.month_labels.first().map(String::as_str),
            Some("2023-01")
        );
        assert_eq!(
            calendar.month_labels.last().map(String::as_str),
            Some("2024-12")
        );
        assert_eq!(calendar.week_holiday.iter().flatten().count(), 8);
        assert_eq!(
            calendar.week_labels[calendar.month_first_week[1]],
            "2023-02-06"
        );
    }
}
