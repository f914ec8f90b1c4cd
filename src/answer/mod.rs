//! The answer: deterministic insights, a chart and a summary computed from the rows.
//!
//! This room turns a question's result ([`Rows`]) into what a person reads next to the table.
//! Nothing here is written by a language model and nothing here executes anything: every
//! number is computed by our code from the rows. [`build_answer`] is the one door; it never
//! fails (an empty result gives a summary saying so and no chart).
//!
//! # Layout
//!
//! - this file: the public types and the column profile (which column is a measure, a
//!   category, a time dimension or an identifier, read from the values and the names);
//! - `insights`: the findings (totals, top/bottom, shares, change over time,
//!   outliers) and their sentences;
//! - `chart`: the chart kind chosen from the profile and the question's words,
//!   rendered to SVG with plotters;
//! - `chart_intent`: the chart a metric query asks for ([`ChartIntent`], from the semantic
//!   layer), which `chart` follows when the rows fit it;
//! - `summary`: a template sentence or two built from the findings.
//!
//! Where the rows come from (SQL generation, execution) is left to `sql` and `warehouse`;
//! how the answer travels (JSON, the chat page) is left to `server`.

mod chart;
mod chart_intent;
mod insights;
mod summary;
mod table;

pub use chart_intent::{ChartIntent, IntentKind};
pub use table::format_table;

use serde::Serialize;
use serde_json::Value;

use crate::warehouse::Rows;

/// What querent says about a result besides the rows themselves.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Short sentences with numbers formatted for people, most important first.
    pub insights: Vec<String>,
    /// The chart, when the result has something to plot.
    pub chart: Option<Chart>,
    /// One or two template sentences answering the question.
    pub summary: String,
}

/// A chart of the result, already rendered.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// The kind of chart chosen.
    pub kind: ChartKind,
    /// The shape of the metric query the chart follows (a trend, shares, a growth, a
    /// ranking); `None` when the kind was chosen from the columns and the question's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follows: Option<IntentKind>,
    /// The title drawn above the chart.
    pub title: String,
    /// The column on the horizontal axis (for a pie: the category column; for a histogram:
    /// the binned measure).
    pub x: String,
    /// The plotted measure columns (for a histogram: `["count"]`).
    pub y: Vec<String>,
    /// The chart as an SVG document, 720 x 400 pixels, text as plain `<text>` elements.
    pub svg: String,
}

/// The kinds of chart querent draws.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// One measure per category, horizontal bars.
    Bar,
    /// Measures over a time dimension.
    Line,
    /// Shares of a non-negative measure over a few categories.
    Pie,
    /// Two measures against each other.
    Scatter,
    /// The distribution of one measure.
    Histogram,
}

/// Builds insights, chart and summary. Never fails: an empty result gives a summary saying so,
/// no chart.
///
/// `question` is the person's text (its words steer the chart kind and the main measure);
/// `rows` is the executed result.
pub fn build_answer(question: &str, rows: &Rows) -> Answer {
    build_answer_following(question, rows, None)
}

/// [`build_answer`], with the chart following `intent` (what the metric query asks to show)
/// when the rows fit it; otherwise, or without an intent, the chart is chosen as
/// [`build_answer`] chooses it. Never fails.
pub fn build_answer_following(question: &str, rows: &Rows, intent: Option<&ChartIntent>) -> Answer {
    let profile = Profile::of(question, rows);
    let findings = insights::Findings::compute(&profile);
    let chart = chart::build(question, &profile, &findings, intent);
    let summary = summary::write(question, &profile, &findings);
    Answer {
        insights: findings.sentences(),
        chart,
        summary,
    }
}

/// The role a column plays, inferred from its values and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Numbers to add up, average and plot.
    Measure,
    /// Text (or mixed) values naming things.
    Category,
    /// Dates, months, quarters, weeks or years.
    Time,
    /// A key or code (name ending in id, code, key, ...): a dimension, never a measure.
    Identifier,
    /// Only nulls.
    Empty,
}

/// The granularity of a time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    /// A number within the year (month 1..12, quarter 1..4, week 1..53).
    OfYear,
}

/// One column of the result as the answer reasons about it.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub role: Role,
    /// Each row's value as a finite number; `None` for null, text and non-finite values.
    pub numbers: Vec<Option<f64>>,
    /// Each row's value as text shown to people; `None` for null.
    pub labels: Vec<Option<String>>,
    /// For time columns: each row's chronological sort key.
    pub time_keys: Vec<Option<i64>>,
    /// True when every number of the column is a JSON integer (formatted without decimals).
    pub integral: bool,
    /// Number of distinct non-null labels.
    pub distinct: usize,
}

impl Column {
    /// The finite numbers of the column, in row order.
    pub fn finite(&self) -> Vec<f64> {
        self.numbers.iter().flatten().copied().collect()
    }

    /// True when every non-null value is distinct.
    pub fn unique(&self) -> bool {
        self.distinct == self.labels.iter().flatten().count()
    }

    /// True when the measure can be summed across rows (a total means something): its name
    /// does not say it is an average, a ratio, a rate, a price or a score.
    pub fn additive(&self) -> bool {
        const NON_ADDITIVE: &[&str] = &[
            "avg",
            "average",
            "mean",
            "median",
            "rate",
            "ratio",
            "pct",
            "percent",
            "percentage",
            "share",
            "price",
            "elasticity",
            "index",
            "score",
            "per",
            "min",
            "max",
            "minimum",
            "maximum",
            "std",
            "stddev",
            "variance",
            "rank",
            "lift",
            "growth",
            "yoy",
        ];
        !name_tokens(&self.name)
            .iter()
            .any(|t| NON_ADDITIVE.contains(&t.as_str()))
    }
}

/// How the rows are ordered by the main measure, when they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Descending,
    Ascending,
}

/// The result's columns with their roles, and the choices the rest of the room builds on.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub columns: Vec<Column>,
    pub row_count: usize,
    pub truncated: bool,
    /// The measure the question is about (mentioned in it, or the rows are sorted by it, or
    /// the first one).
    pub main_measure: Option<usize>,
    /// The dimension columns whose values name each row (joined with " / " when several).
    pub label: Vec<usize>,
    /// The time dimension, when there is one.
    pub time: Option<usize>,
    /// The order of the rows by the main measure, when the query sorted them by it.
    pub order: Option<Order>,
    /// True when the question names the main measure more than any other measure.
    pub main_mentioned: bool,
}

impl Profile {
    /// Profiles `rows` for `question`.
    pub fn of(question: &str, rows: &Rows) -> Self {
        let row_count = rows.rows.len();
        let columns: Vec<Column> = rows
            .columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let cells: Vec<&Value> = rows
                    .rows
                    .iter()
                    .map(|r| r.get(i).unwrap_or(&Value::Null))
                    .collect();
                profile_column(name, &cells)
            })
            .collect();
        let question_words = words(question);
        let measures: Vec<usize> = (0..columns.len())
            .filter(|&i| columns[i].role == Role::Measure)
            .collect();
        let main_measure = choose_main_measure(&columns, &measures, &question_words);
        let order = main_measure.and_then(|m| sort_order(&columns[m].numbers));
        let main_mentioned = main_measure.is_some_and(|m| {
            let score = |i: usize| mention_score(&columns[i].name, &question_words);
            measures.iter().all(|&o| o == m || score(m) > score(o))
        });
        let time = columns.iter().position(|c| c.role == Role::Time);
        let label = choose_label(&columns, &question_words);
        Profile {
            columns,
            row_count,
            truncated: rows.truncated,
            main_measure,
            label,
            time,
            order,
            main_mentioned,
        }
    }

    /// Indices of the measure columns, in column order.
    pub fn measures(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&i| self.columns[i].role == Role::Measure)
            .collect()
    }

    /// The name of the label column(s), joined with " / ".
    pub fn label_name(&self) -> String {
        self.label
            .iter()
            .map(|&i| self.columns[i].name.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// The label of row `row`, from the label columns; `None` when they are all null. An
    /// identifier's value carries its column name ("store_id 17"): a bare number reads badly.
    pub fn row_label(&self, row: usize) -> Option<String> {
        let parts: Vec<String> = self
            .label
            .iter()
            .filter_map(|&i| {
                let c = &self.columns[i];
                let value = c.labels[row].clone()?;
                Some(if c.role == Role::Identifier && c.numbers[row].is_some() {
                    format!("{} {value}", c.name)
                } else {
                    value
                })
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" / "))
    }
}

/// The (x, y) measures of a scatter: y is the main measure when the question names it more
/// than the other, else the columns keep their select-list order (x first).
pub(crate) fn scatter_axes(profile: &Profile) -> Option<(usize, usize)> {
    let measures = profile.measures();
    let main = profile.main_measure?;
    let other = *measures.iter().find(|&&m| m != main)?;
    if profile.main_mentioned {
        Some((other, main))
    } else {
        Some((main.min(other), main.max(other)))
    }
}

/// Infers one column's role from its cells and name.
fn profile_column(name: &str, cells: &[&Value]) -> Column {
    let numbers: Vec<Option<f64>> = cells
        .iter()
        .map(|v| v.as_f64().filter(|x| x.is_finite()))
        .collect();
    let labels: Vec<Option<String>> = cells.iter().map(|v| display(v)).collect();
    let mut distinct: Vec<&String> = labels.iter().flatten().collect();
    distinct.sort();
    distinct.dedup();
    let distinct = distinct.len();
    let non_null: Vec<&Value> = cells.iter().copied().filter(|v| !v.is_null()).collect();
    let all_json_numbers = !non_null.is_empty() && non_null.iter().all(|v| v.is_number());
    // Integers as the database typed them: a REAL column of whole values still shows decimals.
    let integral = non_null_numbers_are_integers(cells);
    let tokens = name_tokens(name);

    let mut column = Column {
        name: name.to_string(),
        role: Role::Category,
        numbers,
        labels,
        time_keys: vec![None; cells.len()],
        integral,
        distinct,
    };
    if non_null.is_empty() {
        column.role = Role::Empty;
    } else if let Some(keys) = time_keys(&tokens, cells) {
        column.role = Role::Time;
        column.time_keys = keys;
    } else if is_identifier_name(&tokens) {
        column.role = Role::Identifier;
    } else if all_json_numbers {
        column.role = Role::Measure;
    }
    column
}

/// True when every JSON number among the cells is an integer (`5`, not `5.0`).
fn non_null_numbers_are_integers(cells: &[&Value]) -> bool {
    cells
        .iter()
        .filter_map(|v| v.as_number())
        .all(|n| n.is_i64() || n.is_u64())
}

/// A cell as text for labels: numbers as written, strings as they are, booleans as words.
fn display(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(
            n.as_f64()
                .filter(|x| x.is_finite())
                // Whole numbers as written, without separators: they are years, ids, codes.
                .map(|x| {
                    if x.fract() == 0.0 && x.abs() < 1e15 {
                        format!("{x:.0}")
                    } else {
                        n.to_string()
                    }
                })
                .unwrap_or_else(|| n.to_string()),
        ),
        other => Some(other.to_string()),
    }
}

/// True when the name's last token says the column is a key or a code.
fn is_identifier_name(tokens: &[String]) -> bool {
    const ID: &[&str] = &["id", "code", "key", "sku", "uuid", "ean", "upc", "gtin"];
    tokens.last().is_some_and(|t| ID.contains(&t.as_str()))
}

/// Chronological keys for a time column, or `None` when the column is not one.
///
/// Text: ISO dates and date-times ('2024-03-04', '2024-03-04 10:00:00'), months ('2024-03'),
/// quarters ('2024-Q1'), ISO weeks ('2024-W09'), and four-digit years when the name says year.
/// Numbers: whole years (1000..=9999) in a column named year, months 1..=12 in one named
/// month, quarters 1..=4 in one named quarter, weeks 1..=53 in one named week. Every non-null
/// value must share one granularity.
fn time_keys(tokens: &[String], cells: &[&Value]) -> Option<Vec<Option<i64>>> {
    let named = |w: &str| tokens.iter().any(|t| t == w);
    let mut grain: Option<Grain> = None;
    let mut keys = Vec::with_capacity(cells.len());
    for v in cells {
        let parsed = match v {
            Value::Null => {
                keys.push(None);
                continue;
            }
            Value::String(s) => parse_period(s.trim(), named("year")).or_else(|| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|x| number_period(x, &named))
            }),
            Value::Number(n) => n.as_f64().and_then(|x| number_period(x, &named)),
            _ => None,
        };
        let (g, key) = parsed?;
        if grain.is_some_and(|seen| seen != g) {
            return None;
        }
        grain = Some(g);
        keys.push(Some(key));
    }
    grain.map(|_| keys)
}

/// A number read as a period when the column's name says which.
fn number_period(x: f64, named: &dyn Fn(&str) -> bool) -> Option<(Grain, i64)> {
    if !x.is_finite() || x.fract() != 0.0 {
        return None;
    }
    let n = x as i64;
    if named("year") && (1000..=9999).contains(&n) {
        Some((Grain::Year, n))
    } else if (named("month") && (1..=12).contains(&n))
        || (named("quarter") && (1..=4).contains(&n))
        || (named("week") && (1..=53).contains(&n))
    {
        Some((Grain::OfYear, n))
    } else {
        None
    }
}

/// Parses ISO period text into its granularity and a chronological key.
fn parse_period(s: &str, year_named: bool) -> Option<(Grain, i64)> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if !digits(0..4) {
        return None;
    }
    let year: i64 = s[..4].parse().ok()?;
    if b.len() == 4 {
        return year_named.then_some((Grain::Year, year));
    }
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && digits(5..7) && digits(8..10) {
        let date = chrono::NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok()?;
        let days = i64::from(chrono::Datelike::num_days_from_ce(&date));
        let rest = &s[10..];
        let seconds = if rest.is_empty() {
            0
        } else if rest.starts_with('T') || rest.starts_with(' ') {
            parse_seconds(&rest[1..])?
        } else {
            return None;
        };
        return Some((Grain::Day, days * 86_400 + seconds));
    }
    if b.len() == 7 && b[4] == b'-' && digits(5..7) {
        let month: i64 = s[5..7].parse().ok()?;
        return (1..=12)
            .contains(&month)
            .then_some((Grain::Month, year * 12 + month - 1));
    }
    // 2024-Q1, 2024Q1, 2024 Q1
    let tail = s[4..].trim_start_matches(['-', ' ']);
    let tb = tail.as_bytes();
    if tb.len() == 2 && (tb[0] == b'Q' || tb[0] == b'q') && (b'1'..=b'4').contains(&tb[1]) {
        return Some((Grain::Quarter, year * 4 + i64::from(tb[1] - b'1')));
    }
    if tb.len() == 3 && (tb[0] == b'W' || tb[0] == b'w') && tb[1..].iter().all(u8::is_ascii_digit) {
        let week: i64 = tail[1..].parse().ok()?;
        return (1..=53)
            .contains(&week)
            .then_some((Grain::Week, year * 54 + week));
    }
    None
}

/// Seconds into the day of a time like '10:00', '10:00:00', '10:00:00.5Z' or '10:00:00+02:00'.
fn parse_seconds(t: &str) -> Option<i64> {
    let hms: Vec<&str> = t.get(..8.min(t.len()))?.split(':').collect();
    let part = |i: usize| {
        hms.get(i)
            .and_then(|p| p.get(..2))
            .and_then(|p| p.parse::<i64>().ok())
    };
    let h = part(0)?;
    let m = part(1)?;
    let s = part(2).unwrap_or(0);
    (h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s)
}

/// The measure the question is about: the one whose name best matches the question's words,
/// then the one the rows are sorted by, then the first.
fn choose_main_measure(
    columns: &[Column],
    measures: &[usize],
    question: &[String],
) -> Option<usize> {
    measures.iter().copied().max_by(|&a, &b| {
        let key = |i: usize| {
            (
                mention_score(&columns[i].name, question),
                sort_order(&columns[i].numbers).is_some(),
            )
        };
        let (sa, oa) = key(a);
        let (sb, ob) = key(b);
        sa.total_cmp(&sb).then(oa.cmp(&ob)).then(b.cmp(&a))
    })
}

/// The dimension(s) that name each row: a category with unique values (one the question
/// mentions first), else a unique identifier, else all non-time dimensions when together they
/// are unique, else the first category or identifier (rows then share labels and are grouped).
fn choose_label(columns: &[Column], question: &[String]) -> Vec<usize> {
    let dims: Vec<usize> = (0..columns.len())
        .filter(|&i| matches!(columns[i].role, Role::Category | Role::Identifier))
        .collect();
    if dims.is_empty() {
        return Vec::new();
    }
    let best = |role: Role, unique: bool| {
        dims.iter()
            .copied()
            .filter(|&i| columns[i].role == role && (!unique || columns[i].unique()))
            .max_by(|&a, &b| {
                mention_score(&columns[a].name, question)
                    .total_cmp(&mention_score(&columns[b].name, question))
                    .then(b.cmp(&a))
            })
    };
    if let Some(i) = best(Role::Category, true).or_else(|| best(Role::Identifier, true)) {
        return vec![i];
    }
    if dims.len() > 1 {
        let rows = columns[dims[0]].labels.len();
        let mut combined: Vec<Vec<Option<&String>>> = (0..rows)
            .map(|r| {
                dims.iter()
                    .map(|&i| columns[i].labels[r].as_ref())
                    .collect()
            })
            .collect();
        combined.sort();
        let n = combined.len();
        combined.dedup();
        if combined.len() == n {
            return dims;
        }
    }
    best(Role::Category, false)
        .or_else(|| best(Role::Identifier, false))
        .into_iter()
        .collect()
}

/// How strongly a column name is mentioned in the question: matching tokens count 1 (exact or
/// sharing a prefix of at least 5 letters, a crude stem), generic tokens ("total", "value") 0.25.
fn mention_score(name: &str, question: &[String]) -> f64 {
    const GENERIC: &[&str] = &[
        "total", "sum", "avg", "average", "value", "amount", "count", "num", "number", "name",
    ];
    name_tokens(name)
        .iter()
        .filter(|t| {
            question.iter().any(|w| {
                *w == **t
                    || (w.len() >= 5 && t.len() >= 5 && w.as_bytes()[..5] == t.as_bytes()[..5])
            })
        })
        .map(|t| {
            if GENERIC.contains(&t.as_str()) {
                0.25
            } else {
                1.0
            }
        })
        .sum()
}

/// The order of the values when the rows are sorted by them (at least 3 values, not all equal,
/// nulls ignored).
pub(crate) fn sort_order(numbers: &[Option<f64>]) -> Option<Order> {
    let v: Vec<f64> = numbers.iter().flatten().copied().collect();
    if v.len() < 3 || v.windows(2).all(|w| w[0] == w[1]) {
        return None;
    }
    if v.windows(2).all(|w| w[0] >= w[1]) {
        Some(Order::Descending)
    } else if v.windows(2).all(|w| w[0] <= w[1]) {
        Some(Order::Ascending)
    } else {
        None
    }
}

/// The lowercase words of a text (runs of letters and digits).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The lowercase tokens of a column name: split on non-alphanumerics and camelCase humps
/// (`storeId` -> `store`, `id`; `gross_margin_pct` -> `gross`, `margin`, `pct`).
pub(crate) fn name_tokens(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Formats a number for people: thousands separators; no decimals for whole numbers when
/// `integral`; otherwise 2 decimals, or 3 significant digits below 0.01. Non-finite values
/// read "n/a".
pub(crate) fn fmt_number(x: f64, integral: bool) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    if integral && x.fract() == 0.0 && x.abs() < 1e15 {
        return group_thousands(&format!("{:.0}", x));
    }
    let a = x.abs();
    if a != 0.0 && a < 0.01 {
        let decimals = (-a.log10().floor() as usize + 2).min(12);
        return format!("{:.*}", decimals, x);
    }
    let s = format!("{:.2}", x);
    let s = if s == "-0.00" { "0.00".to_string() } else { s };
    group_thousands(&s)
}

/// Formats a signed change: `+1,234.00`, `-5`.
pub(crate) fn fmt_signed(x: f64, integral: bool) -> String {
    let s = fmt_number(x, integral);
    if x > 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// Formats a share or a percentage (already multiplied by 100) with one decimal: `42.3%`.
pub(crate) fn fmt_percent(p: f64) -> String {
    if !p.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{:.1}", p);
    let s = if s == "-0.0" { "0.0".to_string() } else { s };
    format!("{}%", group_thousands(&s))
}

/// Inserts commas every three digits of the integer part of a formatted number.
fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// Rows from column names and JSON rows.
    pub(crate) fn rows(columns: &[&str], data: Vec<Vec<Value>>) -> Rows {
        Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: data,
            truncated: false,
            truncated_cells: false,
        }
    }

    fn role(columns: &[&str], data: Vec<Vec<Value>>, column: usize) -> Role {
        Profile::of("", &rows(columns, data)).columns[column].role
    }

    #[test]
    fn numbers_are_formatted_with_thousands_separators_and_two_decimals() {
        assert_eq!(fmt_number(1234567.891, false), "1,234,567.89");
        assert_eq!(fmt_number(-1234.5, false), "-1,234.50");
        assert_eq!(fmt_number(42.0, true), "42");
        assert_eq!(fmt_number(1000.0, true), "1,000");
        assert_eq!(fmt_number(0.00123, false), "0.00123");
        assert_eq!(fmt_number(-0.001, false), "-0.00100");
        assert_eq!(fmt_number(f64::NAN, false), "n/a");
        assert_eq!(fmt_signed(500.0, true), "+500");
        assert_eq!(fmt_percent(42.345), "42.3%");
    }

    #[test]
    fn iso_dates_months_quarters_and_named_years_are_time_columns() {
        let d = vec![
            vec![json!("2024-03-04")],
            vec![json!("2024-03-05 10:00:00")],
        ];
        assert_eq!(role(&["day"], d, 0), Role::Time);
        assert_eq!(
            role(
                &["m"],
                vec![vec![json!("2024-01")], vec![json!("2024-12")]],
                0
            ),
            Role::Time
        );
        assert_eq!(
            role(
                &["q"],
                vec![vec![json!("2024-Q1")], vec![json!("2024-Q2")]],
                0
            ),
            Role::Time
        );
        assert_eq!(
            role(
                &["sales_year"],
                vec![vec![json!(2023)], vec![json!(2024)]],
                0
            ),
            Role::Time
        );
        assert_eq!(
            role(&["year"], vec![vec![json!("2023")], vec![json!("2024")]], 0),
            Role::Time
        );
        // A four-digit number is not a year unless the name says so.
        assert_eq!(
            role(&["units"], vec![vec![json!(2023)], vec![json!(2024)]], 0),
            Role::Measure
        );
        // An invalid month is text.
        assert_eq!(
            role(&["m"], vec![vec![json!("2024-13")]], 0),
            Role::Category
        );
    }

    #[test]
    fn columns_named_like_keys_are_identifiers_not_measures() {
        let d = vec![vec![json!(1), json!(10.5)], vec![json!(2), json!(3.0)]];
        let p = Profile::of("", &rows(&["storeId", "revenue"], d));
        assert_eq!(p.columns[0].role, Role::Identifier);
        assert_eq!(p.columns[1].role, Role::Measure);
        assert_eq!(p.main_measure, Some(1));
        assert_eq!(p.label, vec![0]);
    }

    #[test]
    fn the_main_measure_is_the_one_the_question_mentions() {
        let d = vec![
            vec![json!("a"), json!(1), json!(-2.5)],
            vec![json!("b"), json!(5), json!(-1.0)],
        ];
        let p = Profile::of(
            "most elastic items",
            &rows(&["item", "units", "elasticity_value"], d),
        );
        assert_eq!(p.main_measure, Some(2));
    }

    #[test]
    fn the_main_measure_is_the_sorted_one_when_the_question_names_none() {
        let d = vec![
            vec![json!("a"), json!(1), json!(30)],
            vec![json!("b"), json!(5), json!(20)],
            vec![json!("c"), json!(2), json!(10)],
        ];
        let p = Profile::of("best items", &rows(&["item", "units", "revenue"], d));
        assert_eq!(p.main_measure, Some(2));
        assert_eq!(p.order, Some(Order::Descending));
    }
}
