//! Time in the question: years, months, quarters, days, ranges between them and relative
//! periods ("last 3 months"), each turned into a half-open date range `[start, end)`.
//!
//! Relative periods need today's date: [`time_ranges`] takes it as an argument so that analysis
//! is reproducible (tests pass a fixed date; [`super::analyze`] passes the local date).

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::numbers::{ordinal_value, word_value};
use super::tokens::{Token, TokenKind};

/// The size of the period a question names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeGrain {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A half-open date range `[start, end)`; an open side is `None` ("since 2020", "before 2015").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeRange {
    pub start: Option<NaiveDate>,
    /// Exclusive end.
    pub end: Option<NaiveDate>,
    /// The grain of the period(s) named.
    pub grain: TimeGrain,
    /// The words that named it.
    pub text: String,
    /// Token span `[first, last)` of those words.
    pub tokens: (usize, usize),
    /// True when the range is one bare year ("in 2019"), which may also be a plain number or a
    /// value of an integer year column.
    pub bare_year: bool,
    /// The two periods a range was named by ("from 2023 to 2024": 2023 and 2024, each
    /// `[start, end)`), for a growth between them; `None` for a period named alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<[(NaiveDate, NaiveDate); 2]>,
}

/// A month named without a year ("in March"), as a month-of-year filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthMention {
    /// 1..=12.
    pub month: u32,
    pub token: usize,
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The month number of a month name or its usual abbreviation (`"sept"` -> 9).
pub fn month_number(lower: &str) -> Option<u32> {
    if let Some(p) = MONTHS.iter().position(|m| *m == lower) {
        return Some(p as u32 + 1);
    }
    let abbr = lower.trim_end_matches('.');
    const ABBR: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if abbr == "sept" {
        return Some(9);
    }
    ABBR.iter().position(|m| *m == abbr).map(|p| p as u32 + 1)
}

/// The first month of a meteorological season of the northern hemisphere (three whole months:
/// spring from March, summer from June, autumn or fall from September, winter from December;
/// the WMO's and most national weather services' convention for seasonal statistics).
fn season_start(lower: &str) -> Option<u32> {
    match lower {
        "spring" => Some(3),
        "summer" => Some(6),
        "autumn" | "fall" => Some(9),
        "winter" => Some(12),
        _ => None,
    }
}

/// The index past a parenthesised restatement of the months of `[start, end)` at token `i`
/// ("(June through August)", "(Jun-Aug)", "(March)"); `None` when the tokens at `i` are not one.
fn restated_months(tokens: &[Token], i: usize, start: NaiveDate, end: NaiveDate) -> Option<usize> {
    if tokens.get(i)?.text != "(" {
        return None;
    }
    let first = month_number(&tokens.get(i + 1)?.lower)?;
    let last_month = add_months(end, -1).month();
    let (last, close) = match tokens.get(i + 2).map(|t| t.lower.as_str()) {
        Some(")") => (first, i + 2),
        Some("to" | "through" | "thru" | "till" | "until" | "-" | "and") => {
            (month_number(&tokens.get(i + 3)?.lower)?, i + 4)
        }
        _ => return None,
    };
    (first == start.month() && last == last_month && tokens.get(close)?.text == ")")
        .then_some(close + 1)
}

/// One point in time: a day, month, quarter or year, as `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Point {
    start: NaiveDate,
    end: NaiveDate,
    grain: TimeGrain,
    /// Index just past the point's last token.
    next: usize,
    bare_year: bool,
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn month_range(y: i32, m: u32) -> Option<(NaiveDate, NaiveDate)> {
    let start = ymd(y, m, 1)?;
    let end = if m == 12 {
        ymd(y + 1, 1, 1)?
    } else {
        ymd(y, m + 1, 1)?
    };
    Some((start, end))
}

fn year_at(tokens: &[Token], i: usize) -> Option<i32> {
    let t = tokens.get(i)?;
    if t.kind == TokenKind::Number && t.lower.len() == 4 {
        let y: i32 = t.lower.parse().ok()?;
        if (1800..=2100).contains(&y) {
            return Some(y);
        }
    }
    // "'19"-style years are too ambiguous to read
    None
}

fn quarter_word(lower: &str) -> Option<u32> {
    let b = lower.as_bytes();
    if b.len() == 2 && b[0] == b'q' && (b'1'..=b'4').contains(&b[1]) {
        return Some((b[1] - b'0') as u32);
    }
    None
}

fn quarter_range(y: i32, q: u32) -> Option<(NaiveDate, NaiveDate)> {
    let start = ymd(y, (q - 1) * 3 + 1, 1)?;
    let end = if q == 4 {
        ymd(y + 1, 1, 1)?
    } else {
        ymd(y, q * 3 + 1, 1)?
    };
    Some((start, end))
}

/// `h1` / `h2`: the half of a year.
fn half_word(lower: &str) -> Option<u32> {
    match lower {
        "h1" => Some(1),
        "h2" => Some(2),
        _ => None,
    }
}

/// The half-year `h` (1 or 2) of year `y` as `[start, end)`.
fn half_range(y: i32, h: u32) -> Option<(NaiveDate, NaiveDate)> {
    if h == 1 {
        Some((ymd(y, 1, 1)?, ymd(y, 7, 1)?))
    } else {
        Some((ymd(y, 7, 1)?, ymd(y + 1, 1, 1)?))
    }
}

fn skip(tokens: &[Token], mut i: usize, words: &[&str]) -> usize {
    while tokens
        .get(i)
        .is_some_and(|t| words.contains(&t.lower.as_str()))
    {
        i += 1;
    }
    i
}

/// A numbered part of a year (quarter `n` or half `n`) whose year follows from token `from`
/// ("Q3 2024", "H1 of 2024", "third quarter of 2023"): the range `range(year, n)`.
fn part_of_year(
    tokens: &[Token],
    from: usize,
    n: u32,
    range: fn(i32, u32) -> Option<(NaiveDate, NaiveDate)>,
) -> Option<Point> {
    let j = skip(tokens, from, &["of", ",", "in"]);
    let y = year_at(tokens, j)?;
    let (start, end) = range(y, n)?;
    Some(Point {
        start,
        end,
        grain: TimeGrain::Quarter,
        next: j + 1,
        bare_year: false,
    })
}

/// Reads a point starting at token `i`.
fn point_at(tokens: &[Token], i: usize) -> Option<Point> {
    let t = tokens.get(i)?;
    // ISO date
    if t.kind == TokenKind::Date {
        let d = NaiveDate::parse_from_str(&t.lower, "%Y-%m-%d").ok()?;
        return Some(Point {
            start: d,
            end: d + Duration::days(1),
            grain: TimeGrain::Day,
            next: i + 1,
            bare_year: false,
        });
    }
    // Q3 2024 / Q3 of 2024
    if let Some(q) = quarter_word(&t.lower) {
        return part_of_year(tokens, i + 1, q, quarter_range);
    }
    // H1 2024 / H2 of 2024
    if let Some(h) = half_word(&t.lower) {
        return part_of_year(tokens, i + 1, h, half_range);
    }
    // first half of 2024, second half of 2023
    if let Some(h) = ordinal_value(&t.lower).filter(|h| (1..=2).contains(h)) {
        if tokens.get(i + 1).is_some_and(|n| n.lower == "half") {
            return part_of_year(tokens, i + 2, h, half_range);
        }
    }
    // third quarter of 2024
    if let Some(q) = ordinal_value(&t.lower).filter(|q| (1..=4).contains(q)) {
        if tokens.get(i + 1).is_some_and(|n| n.lower == "quarter") {
            return part_of_year(tokens, i + 2, q, quarter_range);
        }
        return None;
    }
    // summer 2024 / winter of 2023: a meteorological season
    if let Some(first_month) = season_start(&t.lower) {
        let j = skip(tokens, i + 1, &["of", ","]);
        let y = year_at(tokens, j)?;
        // winter 2024 is December 2023 to February 2024: the winter whose January is in 2024
        let start = if first_month == 12 {
            ymd(y - 1, 12, 1)?
        } else {
            ymd(y, first_month, 1)?
        };
        return Some(Point {
            start,
            end: add_months(start, 3),
            grain: TimeGrain::Month,
            next: j + 1,
            bare_year: false,
        });
    }
    // March 15, 2024 / March 2024 / March of 2024
    if t.kind == TokenKind::Word {
        if let Some(m) = month_number(&t.lower) {
            // "may" is a verb too: only read it as a month when a year or a day follows
            let mut j = i + 1;
            let mut day = None;
            if let Some(n) = tokens
                .get(j)
                .filter(|n| n.kind == TokenKind::Number && n.lower.len() <= 2)
            {
                day = n.lower.parse::<u32>().ok().filter(|d| (1..=31).contains(d));
                if day.is_some() {
                    j += 1;
                }
            } else if let Some(d) = tokens.get(j).and_then(|n| ordinal_value(&n.lower)) {
                day = Some(d);
                j += 1;
            }
            let j = skip(tokens, j, &["of", ","]);
            let y = year_at(tokens, j)?;
            return match day {
                Some(d) => {
                    let s = ymd(y, m, d)?;
                    Some(Point {
                        start: s,
                        end: s + Duration::days(1),
                        grain: TimeGrain::Day,
                        next: j + 1,
                        bare_year: false,
                    })
                }
                None => {
                    let (s, e) = month_range(y, m)?;
                    Some(Point {
                        start: s,
                        end: e,
                        grain: TimeGrain::Month,
                        next: j + 1,
                        bare_year: false,
                    })
                }
            };
        }
    }
    // 15 March 2024
    if t.kind == TokenKind::Number && t.lower.len() <= 2 {
        if let Some(m) = tokens.get(i + 1).and_then(|n| month_number(&n.lower)) {
            let d: u32 = t.lower.parse().ok()?;
            let j = skip(tokens, i + 2, &[","]);
            let y = year_at(tokens, j)?;
            let s = ymd(y, m, d)?;
            return Some(Point {
                start: s,
                end: s + Duration::days(1),
                grain: TimeGrain::Day,
                next: j + 1,
                bare_year: false,
            });
        }
    }
    // 2024 Q3 / 2024
    if let Some(y) = year_at(tokens, i) {
        if let Some(q) = tokens.get(i + 1).and_then(|n| quarter_word(&n.lower)) {
            let (s, e) = quarter_range(y, q)?;
            return Some(Point {
                start: s,
                end: e,
                grain: TimeGrain::Quarter,
                next: i + 2,
                bare_year: false,
            });
        }
        return Some(Point {
            start: ymd(y, 1, 1)?,
            end: ymd(y + 1, 1, 1)?,
            grain: TimeGrain::Year,
            next: i + 1,
            bare_year: true,
        });
    }
    None
}

fn text_of(tokens: &[Token], a: usize, b: usize) -> String {
    tokens[a..b]
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn start_of_month(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d)
}

/// The first day of `d`'s calendar quarter.
fn start_of_quarter(d: NaiveDate) -> NaiveDate {
    add_months(start_of_month(d), -(((d.month() - 1) % 3) as i32))
}

fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month() as i32 - 1 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// "the same quarter a year earlier", "the same month last year", "the same period of the
/// previous year": the period named before (`prev`), one year back, with the index past the
/// words. `None` when the words are not there or no bounded period was named before.
fn same_period_a_year_back(
    tokens: &[Token],
    i: usize,
    prev: Option<&TimeRange>,
) -> Option<(NaiveDate, NaiveDate, TimeGrain, usize)> {
    let prev = prev?;
    let (start, end) = (prev.start?, prev.end?);
    let word = |k: usize| tokens.get(k).map(|t| t.lower.as_str()).unwrap_or("");
    let mut k = i;
    if word(k) == "the" {
        k += 1;
    }
    if word(k) != "same" {
        return None;
    }
    k += 1;
    // "the same three months", "the same 8 weeks"
    if tokens
        .get(k)
        .is_some_and(|t| t.kind == TokenKind::Number || word_value(&t.lower).is_some())
    {
        k += 1;
    }
    let unit = word(k);
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    if !matches!(
        unit,
        "quarter" | "month" | "week" | "day" | "period" | "time" | "season" | "half"
    ) {
        return None;
    }
    k += 1;
    // "the same three months of 2023": the period named before, in that year
    if matches!(word(k), "of" | "in") {
        if let Some(year) = word(k + 1)
            .parse::<i32>()
            .ok()
            .filter(|y| (1900..=2200).contains(y) && *y < start.year())
        {
            let months = 12 * (start.year() - year) as u32;
            let back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(months));
            return Some((back(start)?, back(end)?, prev.grain, k + 2));
        }
    }
    let back = |seq: &[&str]| (0..seq.len()).all(|j| word(k + j) == seq[j]);
    let said = [
        &["a", "year", "earlier"][..],
        &["a", "year", "ago"],
        &["a", "year", "before"],
        &["a", "year", "prior"],
        &["one", "year", "earlier"],
        &["one", "year", "ago"],
        &["of", "the", "previous", "year"],
        &["of", "the", "prior", "year"],
        &["of", "last", "year"],
        &["in", "the", "previous", "year"],
        &["in", "the", "prior", "year"],
        &["the", "year", "before"],
        &["the", "previous", "year"],
        &["the", "prior", "year"],
        &["last", "year"],
        &["previous", "year"],
        &["prior", "year"],
    ]
    .into_iter()
    .find(|seq| back(seq))?;
    let year_back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(12));
    Some((
        year_back(start)?,
        year_back(end)?,
        prev.grain,
        k + said.len(),
    ))
}

/// "the quarter before it", "the previous quarter", "the month prior": the period of the same
/// length right before the one named before (`prev`; "last quarter compared with the quarter
/// before it"), with the index past the words. The unit must be the grain of `prev` (or
/// "period"); `None` when the words are not there or no bounded period was named before.
fn period_before(
    tokens: &[Token],
    i: usize,
    prev: Option<&TimeRange>,
) -> Option<(NaiveDate, NaiveDate, TimeGrain, usize)> {
    let prev = prev?;
    let (start, end) = (prev.start?, prev.end?);
    let word = |k: usize| tokens.get(k).map(|t| t.lower.as_str()).unwrap_or("");
    let unit = |k: usize| {
        let w = word(k);
        w == "period"
            || matches!(
                (w, prev.grain),
                ("day", TimeGrain::Day)
                    | ("week", TimeGrain::Week)
                    | ("month", TimeGrain::Month)
                    | ("quarter", TimeGrain::Quarter)
                    | ("year", TimeGrain::Year)
            )
    };
    let mut k = i;
    if word(k) == "the" {
        k += 1;
    }
    let next = if matches!(word(k), "previous" | "preceding" | "prior") && unit(k + 1) {
        k + 2
    } else if unit(k) && matches!(word(k + 1), "before" | "prior" | "preceding") {
        let mut e = k + 2;
        if word(e) == "to" {
            e += 1;
        }
        if matches!(word(e), "it" | "that" | "this" | "then") {
            e += 1;
        }
        e
    } else {
        return None;
    };
    // the same length, right before: whole months by months, else by days
    let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
    let before = if start.day() == 1 && end.day() == 1 && months > 0 {
        start.checked_sub_months(chrono::Months::new(months as u32))?
    } else {
        start - (end - start)
    };
    Some((before, start, prev.grain, next))
}

/// Relative periods: "last year", "this month", "the latest quarter", "the most recent month",
/// "last 3 months", "past 30 days", "year to date".
/// Whether a lower-case word opens a period relative to today ("*last* 6 months", "*this*
/// quarter", "the *prior* year"): the word the date reader starts such a period with.
pub fn opens_relative_period(lower: &str) -> bool {
    matches!(
        lower,
        "last" | "past" | "previous" | "prior" | "preceding" | "this" | "current"
    )
}

fn relative_at(
    tokens: &[Token],
    i: usize,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate, TimeGrain, usize)> {
    let w = tokens.get(i)?.lower.as_str();
    // "the latest quarter", "the most recent month": the current one, as "this quarter"
    // "so far this year": the current period up to today, as "year to date"
    if w == "so" && tokens.get(i + 1).is_some_and(|t| t.lower == "far") {
        let this = tokens.get(i + 2)?;
        if !matches!(this.lower.as_str(), "this" | "current") {
            return None;
        }
        let (start, _, grain, next) = relative_at(tokens, i + 2, today)?;
        return Some((start, today + Duration::days(1), grain, next));
    }
    let (w, i) = match w {
        "latest" | "newest" => ("this", i),
        "most" if tokens.get(i + 1).is_some_and(|t| t.lower == "recent") => ("this", i + 1),
        _ => (w, i),
    };
    let tomorrow = today + Duration::days(1);
    let unit_at = |k: usize| tokens.get(k).map(|t| super::tokens::stem(&t.lower));
    match w {
        "today" => Some((today, tomorrow, TimeGrain::Day, i + 1)),
        "yesterday" => Some((today - Duration::days(1), today, TimeGrain::Day, i + 1)),
        "ytd" => Some((ymd(today.year(), 1, 1)?, tomorrow, TimeGrain::Year, i + 1)),
        "qtd" => Some((start_of_quarter(today), tomorrow, TimeGrain::Quarter, i + 1)),
        "mtd" => Some((start_of_month(today), tomorrow, TimeGrain::Month, i + 1)),
        // "year to date", "year-to-date", "quarter to date", "month-to-date"
        "year" | "quarter" | "month" => {
            let mut k = i + 1;
            let mut words = Vec::new();
            while words.len() < 2 {
                let t = tokens.get(k)?;
                if t.lower != "-" {
                    words.push(t.lower.as_str());
                }
                k += 1;
            }
            if words != ["to", "date"] {
                return None;
            }
            let (start, grain) = match w {
                "year" => (ymd(today.year(), 1, 1)?, TimeGrain::Year),
                "quarter" => (start_of_quarter(today), TimeGrain::Quarter),
                _ => (start_of_month(today), TimeGrain::Month),
            };
            Some((start, tomorrow, grain, k))
        }
        // "over the two years", "across the 3 months": the periods up to today, the current
        // one included, as "these two years"
        "over" | "across" | "throughout" | "during"
            if tokens
                .get(i + 1)
                .is_some_and(|t| matches!(t.lower.as_str(), "the" | "these")) =>
        {
            let t = tokens.get(i + 2)?;
            let n = if t.kind == TokenKind::Number {
                t.lower.parse::<f64>().ok()
            } else {
                word_value(&t.lower)
            }
            .filter(|v| v.fract() == 0.0 && *v >= 2.0 && *v <= 100.0)? as i32;
            let unit = unit_at(i + 3)?;
            let (start, grain) = match unit.as_str() {
                "day" => (tomorrow - Duration::days(n.into()), TimeGrain::Day),
                "week" => (tomorrow - Duration::days(7 * i64::from(n)), TimeGrain::Week),
                "month" => (add_months(start_of_month(today), -n + 1), TimeGrain::Month),
                "year" => (ymd(today.year() - n + 1, 1, 1)?, TimeGrain::Year),
                _ => return None,
            };
            Some((start, tomorrow, grain, i + 4))
        }
        w if opens_relative_period(w) => {
            // optional count: "last 3 months", "past thirty days"
            let mut j = i + 1;
            let mut count: Option<i64> = None;
            if let Some(t) = tokens.get(j) {
                let v = if t.kind == TokenKind::Number {
                    t.lower.parse::<f64>().ok()
                } else {
                    word_value(&t.lower)
                };
                if let Some(v) = v.filter(|v| v.fract() == 0.0 && *v >= 1.0) {
                    count = Some(v as i64);
                    j += 1;
                }
            }
            let unit = unit_at(j)?;
            let this = matches!(w, "this" | "current");
            let grain = match unit.as_str() {
                "day" => TimeGrain::Day,
                "week" => TimeGrain::Week,
                "month" => TimeGrain::Month,
                "quarter" => TimeGrain::Quarter,
                "year" => TimeGrain::Year,
                _ => return None,
            };
            let next = j + 1;
            if let Some(n) = count {
                // a rolling window ending today
                let start = match grain {
                    TimeGrain::Day => tomorrow - Duration::days(n),
                    TimeGrain::Week => tomorrow - Duration::days(7 * n),
                    TimeGrain::Month => add_months(start_of_month(today), -(n as i32) + 1),
                    TimeGrain::Quarter => add_months(start_of_month(today), -(3 * n as i32) + 1),
                    TimeGrain::Year => ymd(today.year() - n as i32 + 1, 1, 1)?,
                };
                let (start, end) = match grain {
                    // "last 3 months" = the three whole months before this one
                    TimeGrain::Month | TimeGrain::Quarter | TimeGrain::Year if !this => {
                        let months = match grain {
                            TimeGrain::Month => n as i32,
                            TimeGrain::Quarter => 3 * n as i32,
                            _ => 12 * n as i32,
                        };
                        let end = match grain {
                            TimeGrain::Year => ymd(today.year(), 1, 1)?,
                            _ => start_of_month(today),
                        };
                        (add_months(end, -months), end)
                    }
                    _ => (start, tomorrow),
                };
                return Some((start, end, grain, next));
            }
            let (s, e) = match grain {
                TimeGrain::Day => {
                    if this {
                        (today, tomorrow)
                    } else {
                        (today - Duration::days(1), today)
                    }
                }
                TimeGrain::Week => {
                    let monday =
                        today - Duration::days(today.weekday().num_days_from_monday() as i64);
                    if this {
                        (monday, monday + Duration::days(7))
                    } else {
                        (monday - Duration::days(7), monday)
                    }
                }
                TimeGrain::Month => {
                    let s = start_of_month(today);
                    if this {
                        (s, add_months(s, 1))
                    } else {
                        (add_months(s, -1), s)
                    }
                }
                TimeGrain::Quarter => {
                    let q0 = (today.month() - 1) / 3;
                    let s = ymd(today.year(), q0 * 3 + 1, 1)?;
                    if this {
                        (s, add_months(s, 3))
                    } else {
                        (add_months(s, -3), s)
                    }
                }
                TimeGrain::Year => {
                    let y = if this { today.year() } else { today.year() - 1 };
                    (ymd(y, 1, 1)?, ymd(y + 1, 1, 1)?)
                }
            };
            // "this year so far", "this quarter to date": up to today
            let after: Vec<&str> = tokens[next.min(tokens.len())..]
                .iter()
                .take(2)
                .map(|t| t.lower.as_str())
                .collect();
            if this && matches!(after.as_slice(), ["so", "far"] | ["to", "date"]) {
                return Some((s, tomorrow, grain, next + 2));
            }
            Some((s, e, grain, next))
        }
        _ => None,
    }
}

/// All time ranges of a tokenised question, left to right, and months named without a year.
///
/// Forms read: `between P and P`, `from P to|until|through P`, `P to P`, `since|from|starting P`,
/// `after P`, `before P`, `until|through|up to P`, `in|during|of P` and bare `P`, where P is a day
/// (`2024-03-15`, `March 15, 2024`), a month (`March 2024`), a quarter (`Q3 2024`, `third quarter
/// of 2024`, `2024 Q3`) or a year; and relative periods (`last year`, `last 3 months`, `this
/// quarter`, `year to date`) measured from `today`.
pub fn time_ranges(tokens: &[Token], today: NaiveDate) -> (Vec<TimeRange>, Vec<MonthMention>) {
    let mut ranges = Vec::new();
    let mut months = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let lower = tokens[i].lower.as_str();
        // "the same quarter a year earlier" (after a period), "last year", "this month"
        let bounded = same_period_a_year_back(tokens, i, ranges.last())
            .or_else(|| period_before(tokens, i, ranges.last()))
            .or_else(|| relative_at(tokens, i, today));
        if let Some((s, e, grain, next)) = bounded {
            ranges.push(TimeRange {
                start: Some(s),
                end: Some(e),
                grain,
                text: text_of(tokens, i, next),
                tokens: (i, next),
                bare_year: false,
                endpoints: None,
            });
            i = next;
            continue;
        }
        let (lead, p_at) = match lower {
            "between" | "from" | "since" | "after" | "before" | "until" | "till" | "through"
            | "starting" => (Some(lower), i + 1),
            "up" if tokens.get(i + 1).is_some_and(|t| t.lower == "to") => (Some("until"), i + 2),
            _ => (None, i),
        };
        let p_at = skip(tokens, p_at, &["the", "year"]);
        if let Some(p) = point_at(tokens, p_at) {
            let mut range = (Some(p.start), Some(p.end), p.grain, p.next, p.bare_year);
            let connector = tokens.get(p.next).map(|t| t.lower.as_str());
            let second = match (lead, connector) {
                (Some("between"), Some("and")) => {
                    point_at(tokens, skip(tokens, p.next + 1, &["the", "year"]))
                }
                (Some("from") | None, Some("to" | "until" | "through" | "-" | "till")) => {
                    point_at(tokens, skip(tokens, p.next + 1, &["the", "year"]))
                }
                _ => None,
            };
            let endpoints = second
                .as_ref()
                .map(|q| [(p.start, p.end), (q.start, q.end)]);
            if let Some(q) = second {
                range = (Some(p.start), Some(q.end), p.grain, q.next, false);
            } else {
                // "in or after 2005", "on or before 1 May": the point itself is in the range
                let inclusive = i >= 2
                    && tokens[i - 1].lower == "or"
                    && matches!(tokens[i - 2].lower.as_str(), "in" | "on" | "at" | "during");
                match lead {
                    Some("since" | "from" | "starting") => range.1 = None,
                    Some("after") if inclusive => {
                        range = (Some(p.start), None, p.grain, p.next, false)
                    }
                    Some("before") if inclusive => {
                        range = (None, Some(p.end), p.grain, p.next, false)
                    }
                    Some("after") => range = (Some(p.end), None, p.grain, p.next, false),
                    Some("before") => range = (None, Some(p.start), p.grain, p.next, false),
                    Some("until" | "till" | "through") => {
                        range = (None, Some(p.end), p.grain, p.next, false)
                    }
                    Some("between") => {}
                    _ => {}
                }
                // "2020 or later", "2019 onwards", "Q1 2023 or earlier": the point opens the
                // range on one side
                if lead.is_none() {
                    let word = |k: usize| tokens.get(p.next + k).map(|t| t.lower.as_str());
                    match (word(0), word(1)) {
                        (Some("or" | "and"), Some("later" | "after" | "beyond" | "newer")) => {
                            range = (Some(p.start), None, p.grain, p.next + 2, false)
                        }
                        (Some("onwards" | "onward"), _) => {
                            range = (Some(p.start), None, p.grain, p.next + 1, false)
                        }
                        (Some("or" | "and"), Some("earlier" | "before" | "older")) => {
                            range = (None, Some(p.end), p.grain, p.next + 2, false)
                        }
                        _ => {}
                    }
                }
                if lead.is_some() {
                    range.4 = false;
                }
            }
            // "summer 2024 (June through August)": the months in brackets restate the range
            if let (Some(s), Some(e)) = (range.0, range.1) {
                if let Some(past) = restated_months(tokens, range.3, s, e) {
                    range.3 = past;
                }
            }
            let first = if lead.is_some() && second.is_none() && lead == Some("between") {
                p_at
            } else if lead.is_some() {
                i
            } else {
                p_at
            };
            ranges.push(TimeRange {
                start: range.0,
                end: range.1,
                grain: range.2,
                text: text_of(tokens, first, range.3),
                tokens: (first, range.3),
                bare_year: range.4,
                endpoints,
            });
            i = range.3;
            continue;
        }
        // "June and July 2024", "between March and June 2024", "from March to May 2024": a
        // month whose year is the next month's, as the range of both
        if tokens[i].kind == TokenKind::Word && lower != "may" && MONTHS.contains(&lower) {
            let connector = tokens.get(i + 1).map(|t| t.lower.as_str());
            if matches!(
                connector,
                Some("and" | "to" | "through" | "till" | "until" | "-")
            ) {
                if let (Some(m), Some(p)) = (month_number(lower), point_at(tokens, i + 2)) {
                    if p.grain == TimeGrain::Month && m <= p.start.month() {
                        let start = NaiveDate::from_ymd_opt(p.start.year(), m, 1)
                            .expect("the first of a month");
                        let first = if i > 0
                            && matches!(tokens[i - 1].lower.as_str(), "between" | "from")
                        {
                            i - 1
                        } else {
                            i
                        };
                        ranges.push(TimeRange {
                            start: Some(start),
                            end: Some(p.end),
                            grain: TimeGrain::Month,
                            text: text_of(tokens, first, p.next),
                            tokens: (first, p.next),
                            bare_year: false,
                            endpoints: Some([(start, add_months(start, 1)), (p.start, p.end)]),
                        });
                        i = p.next;
                        continue;
                    }
                }
            }
        }
        // a bare month name ("in March") filters on the month of the year; "may" is a verb
        if tokens[i].kind == TokenKind::Word && lower != "may" && MONTHS.contains(&lower) {
            if let Some(m) = month_number(lower) {
                months.push(MonthMention { month: m, token: i });
            }
        }
        i += 1;
    }
    (ranges, months)
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tokenize;
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    fn ranges(q: &str) -> Vec<TimeRange> {
        time_ranges(&tokenize(q), NaiveDate::from_ymd_opt(2025, 5, 20).unwrap()).0
    }

    #[test]
    fn a_year_is_a_whole_year_range() {
        let r = ranges("sales in 2019");
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].end), (d(2019, 1, 1), d(2020, 1, 1)));
        assert!(r[0].bare_year);
        assert_eq!(r[0].grain, TimeGrain::Year);
    }

    #[test]
    fn quarters_are_read_in_three_wordings() {
        for q in [
            "revenue in Q3 2024",
            "revenue in the third quarter of 2024",
            "revenue 2024 Q3",
        ] {
            let r = ranges(q);
            assert_eq!(
                (r[0].start, r[0].end),
                (d(2024, 7, 1), d(2024, 10, 1)),
                "{q}"
            );
            assert_eq!(r[0].grain, TimeGrain::Quarter);
        }
    }

    #[test]
    fn month_names_with_a_year_are_month_ranges_and_without_are_mentions() {
        let r = ranges("orders in December 2023");
        assert_eq!((r[0].start, r[0].end), (d(2023, 12, 1), d(2024, 1, 1)));
        let (r, m) = time_ranges(
            &tokenize("orders placed in march"),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        );
        assert!(r.is_empty());
        assert_eq!(m[0].month, 3);
        let (_, m) = time_ranges(
            &tokenize("what may be sold"),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        );
        assert!(m.is_empty());
    }

    #[test]
    fn a_month_takes_the_year_of_the_month_it_is_paired_with() {
        for (text, start, end) in [
            ("June and July 2024", d(2024, 6, 1), d(2024, 8, 1)),
            ("between March and June 2024", d(2024, 3, 1), d(2024, 7, 1)),
            ("from March to May 2023", d(2023, 3, 1), d(2023, 6, 1)),
        ] {
            let r = ranges(text);
            assert_eq!(r.len(), 1, "{text}: {r:?}");
            assert_eq!((r[0].start, r[0].end), (start, end), "{text}");
        }
    }

    #[test]
    fn over_the_n_years_is_the_n_years_up_to_today() {
        let today = d(2024, 12, 30).unwrap();
        let (r, _) = time_ranges(
            &tokenize("coffee revenue by month over the two years"),
            today,
        );
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].end), (d(2023, 1, 1), d(2024, 12, 31)));
        assert_eq!(r[0].text, "over the two years");
        let (r, _) = time_ranges(&tokenize("units across the 3 months"), today);
        assert_eq!((r[0].start, r[0].end), (d(2024, 10, 1), d(2024, 12, 31)));
        // no count, or one period: not a span
        assert!(time_ranges(&tokenize("revenue over the years"), today)
            .0
            .is_empty());
        assert!(time_ranges(&tokenize("revenue over the year"), today)
            .0
            .is_empty());
    }

    #[test]
    fn seasons_are_their_three_months_and_a_restatement_in_brackets_is_part_of_them() {
        let r = ranges("gross margin in summer 2024 (June through August) by week");
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].end), (d(2024, 6, 1), d(2024, 9, 1)));
        assert_eq!(r[0].text, "summer 2024 ( June through August )");
        let r = ranges("sales in winter of 2024");
        assert_eq!((r[0].start, r[0].end), (d(2023, 12, 1), d(2024, 3, 1)));
        let r = ranges("fall 2023 (Sep-Nov)");
        assert_eq!((r[0].start, r[0].end), (d(2023, 9, 1), d(2023, 12, 1)));
        assert_eq!(r[0].tokens.1 - r[0].tokens.0, 7);
        // months in brackets that are not the period's are left alone
        let r = ranges("summer 2024 (July)");
        assert_eq!(r[0].tokens.1 - r[0].tokens.0, 2);
        // a season without a year is no period
        assert!(ranges("revenue in summer").is_empty());
    }

    #[test]
    fn ranges_between_two_points_include_the_second() {
        let r = ranges("between 2019 and 2021");
        assert_eq!((r[0].start, r[0].end), (d(2019, 1, 1), d(2022, 1, 1)));
        let r = ranges("from March 2023 to May 2023");
        assert_eq!((r[0].start, r[0].end), (d(2023, 3, 1), d(2023, 6, 1)));
        let r = ranges("from 2024-01-15 to 2024-02-01");
        assert_eq!((r[0].start, r[0].end), (d(2024, 1, 15), d(2024, 2, 2)));
    }

    #[test]
    fn open_ranges_come_from_since_after_and_before() {
        let r = ranges("stores opened since 2020");
        assert_eq!((r[0].start, r[0].end), (d(2020, 1, 1), None));
        let r = ranges("films released after 2010");
        assert_eq!((r[0].start, r[0].end), (d(2011, 1, 1), None));
        let r = ranges("before March 15, 2024");
        assert_eq!((r[0].start, r[0].end), (None, d(2024, 3, 15)));
    }

    #[test]
    fn a_point_or_later_or_earlier_opens_the_range_on_one_side() {
        let r = ranges("stores opened in 2020 or later");
        assert_eq!((r[0].start, r[0].end), (d(2020, 1, 1), None));
        assert_eq!(r[0].text, "2020 or later");
        assert!(!r[0].bare_year);
        let r = ranges("sales from March 2024 onwards");
        assert_eq!((r[0].start, r[0].end), (d(2024, 3, 1), None));
        let r = ranges("films released in 2010 or earlier");
        assert_eq!((r[0].start, r[0].end), (None, d(2011, 1, 1)));
        // two years named with "or" stay two points
        let r = ranges("sales in 2023 or 2024");
        assert_eq!(r.len(), 2, "{r:?}");
    }

    type Bounds = (Option<NaiveDate>, Option<NaiveDate>);

    /// Asserts that `q` names two periods, `first` then `second` (`[start, end)` each).
    fn two_periods(q: &str, today: NaiveDate, first: Bounds, second: Bounds) {
        let (r, _) = time_ranges(&tokenize(q), today);
        assert_eq!(r.len(), 2, "{q}: {r:?}");
        assert_eq!((r[0].start, r[0].end), first, "{q}");
        assert_eq!((r[1].start, r[1].end), second, "{q}");
    }

    #[test]
    fn the_same_period_a_year_back_is_the_period_named_before_one_year_earlier() {
        let today = NaiveDate::from_ymd_opt(2025, 12, 22).unwrap();
        for q in [
            "revenue last quarter compared with the same quarter a year earlier",
            "revenue in Q3 2025 vs the same quarter last year",
        ] {
            two_periods(
                q,
                today,
                (d(2025, 7, 1), d(2025, 10, 1)),
                (d(2024, 7, 1), d(2024, 10, 1)),
            );
        }
        // "the same three months of 2023": the months named before, in that year
        two_periods(
            "revenue over June through August 2024 compared with the same three months of 2023",
            today,
            (d(2024, 6, 1), d(2024, 9, 1)),
            (d(2023, 6, 1), d(2023, 9, 1)),
        );
        // with no period named before, nothing is read
        let (r, _) = time_ranges(
            &tokenize("revenue in the same quarter a year earlier"),
            today,
        );
        assert!(
            r.iter()
                .all(|x| x.text != "the same quarter a year earlier"),
            "{r:?}"
        );
    }

    #[test]
    fn the_period_before_the_one_named_is_read_after_it() {
        let today = NaiveDate::from_ymd_opt(2025, 5, 20).expect("a date");
        for q in [
            "revenue last quarter compared with the quarter before it",
            "revenue last quarter vs the previous quarter",
            "last quarter against the preceding quarter",
        ] {
            two_periods(
                q,
                today,
                (d(2025, 1, 1), d(2025, 4, 1)),
                (d(2024, 10, 1), d(2025, 1, 1)),
            );
        }
        let (r, _) = time_ranges(&tokenize("sales in March 2024 and the month before"), today);
        assert_eq!((r[1].start, r[1].end), (d(2024, 2, 1), d(2024, 3, 1)));
        // another unit than the period named is no such period
        let (r, _) = time_ranges(&tokenize("Q3 2024 and the month before"), today);
        assert!(r.iter().all(|x| x.start != d(2024, 6, 1)), "{r:?}");
    }

    #[test]
    fn relative_periods_are_measured_from_today() {
        let r = ranges("sales last year");
        assert_eq!((r[0].start, r[0].end), (d(2024, 1, 1), d(2025, 1, 1)));
        let r = ranges("sales in the last 3 months");
        assert_eq!((r[0].start, r[0].end), (d(2025, 2, 1), d(2025, 5, 1)));
        let r = ranges("this quarter");
        assert_eq!((r[0].start, r[0].end), (d(2025, 4, 1), d(2025, 7, 1)));
        let r = ranges("year to date");
        assert_eq!((r[0].start, r[0].end), (d(2025, 1, 1), d(2025, 5, 21)));
        let r = ranges("share of year-to-date revenue");
        assert_eq!((r[0].start, r[0].end), (d(2025, 1, 1), d(2025, 5, 21)));
        for q in ["quarter-to-date units", "units qtd"] {
            let r = ranges(q);
            assert_eq!(
                (r[0].start, r[0].end),
                (d(2025, 4, 1), d(2025, 5, 21)),
                "{q}"
            );
        }
        let r = ranges("month to date sales");
        assert_eq!((r[0].start, r[0].end), (d(2025, 5, 1), d(2025, 5, 21)));
        for q in [
            "revenue so far this year",
            "revenue this year so far",
            "this year to date",
        ] {
            let r = ranges(q);
            assert_eq!(r.len(), 1, "{q}: {r:?}");
            assert_eq!(
                (r[0].start, r[0].end),
                (d(2025, 1, 1), d(2025, 5, 21)),
                "{q}"
            );
        }
        for q in [
            "units in the most recent quarter",
            "the latest quarter's units",
        ] {
            let r = ranges(q);
            assert_eq!(r.len(), 1, "{q}: {r:?}");
            assert_eq!(
                (r[0].start, r[0].end),
                (d(2025, 4, 1), d(2025, 7, 1)),
                "{q}"
            );
        }
        assert_eq!(
            ranges("units in the most recent quarter")[0].text,
            "most recent quarter"
        );
        // clipped units, as typed in a search box
        let r = ranges("total units sold this qtr");
        assert_eq!((r[0].start, r[0].end), (d(2025, 4, 1), d(2025, 7, 1)));
        let r = ranges("gm% by month last 3 mos");
        assert_eq!((r[0].start, r[0].end), (d(2025, 2, 1), d(2025, 5, 1)));
    }
}
