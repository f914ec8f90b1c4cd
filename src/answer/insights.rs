//! Findings computed from the profiled rows, and the sentences that say them.
//!
//! [`Findings::compute`] works out, from a [`Profile`], the facts worth telling: the row count,
//! totals and averages of the measures, the highest and lowest items by the main measure, the
//! shares of the top items, the change over time, outliers by Tukey's fences, and Pearson's r
//! between two measures when the result has no dimension. The chart and
//! the summary read the same findings, so the three never disagree. [`Findings::sentences`]
//! renders them with numbers formatted for people.

use super::{fmt_number, fmt_percent, fmt_signed, Profile, Role};

/// Fewest values for which outliers are looked for: quartiles of fewer values say little.
const MIN_VALUES_FOR_OUTLIERS: usize = 8;
/// Outliers named in the sentence (the count covers them all).
const OUTLIERS_NAMED: usize = 3;
/// Measures whose total or average gets its own sentence.
const MEASURES_TOLD: usize = 3;

/// One labelled value: a row, a group of rows sharing a label, or a period.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub label: String,
    pub value: f64,
}

/// How the values behind an item were combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregation {
    /// One row per item.
    None,
    /// Rows sharing the label were added up (an additive measure).
    Sum,
    /// Rows sharing the label were averaged (a ratio, a price, a score...).
    Mean,
}

impl Aggregation {
    /// The word put before the measure's name ("total revenue", "average price").
    pub fn word(self) -> &'static str {
        match self {
            Aggregation::None => "",
            Aggregation::Sum => "total ",
            Aggregation::Mean => "average ",
        }
    }
}

/// Total, average and range of one measure.
#[derive(Debug, Clone)]
pub(crate) struct MeasureStats {
    pub name: String,
    /// The sum, for additive measures only.
    pub total: Option<f64>,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub integral: bool,
}

/// Shares of a non-negative additive measure, in percent of the result's total.
#[derive(Debug, Clone)]
pub(crate) struct Shares {
    /// The share of each item of [`Ranking::items`], in the same order; they add up to 100.
    pub of_item: Vec<f64>,
}

impl Shares {
    /// The shares, largest first.
    fn sorted(&self) -> Vec<f64> {
        let mut sorted = self.of_item.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        sorted
    }

    /// The share of the highest item.
    pub fn top(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(0.0)
    }

    /// The share of the three highest items, when there are more than three.
    pub fn top3(&self) -> Option<f64> {
        let sorted = self.sorted();
        (sorted.len() > 3).then(|| sorted[..3].iter().sum())
    }
}

/// The items named by the label columns, ranked by the main measure.
#[derive(Debug, Clone)]
pub(crate) struct Ranking {
    pub measure: String,
    pub label: String,
    pub integral: bool,
    pub aggregation: Aggregation,
    /// In the order they first appear in the rows.
    pub items: Vec<Item>,
    pub highest: Item,
    pub lowest: Item,
    pub shares: Option<Shares>,
}

/// The main measure over the time dimension.
#[derive(Debug, Clone)]
pub(crate) struct Trend {
    pub measure: String,
    pub time: String,
    pub integral: bool,
    pub aggregation: Aggregation,
    /// One point per period, in chronological order.
    pub points: Vec<Item>,
    pub change: f64,
    /// The change in percent of the first value; `None` when the first value is zero.
    pub change_pct: Option<f64>,
    pub peak: Item,
}

impl Trend {
    pub fn first(&self) -> &Item {
        &self.points[0]
    }
    pub fn last(&self) -> &Item {
        &self.points[self.points.len() - 1]
    }
}

/// Values beyond Tukey's fences (Q1 - 1.5 IQR, Q3 + 1.5 IQR).
#[derive(Debug, Clone)]
pub(crate) struct Outliers {
    pub measure: String,
    pub integral: bool,
    pub lower_fence: f64,
    pub upper_fence: f64,
    /// The outlying items, farthest from the median first.
    pub items: Vec<Item>,
}

/// The linear correlation of two measures (Pearson's r over the rows where both are numbers).
#[derive(Debug, Clone)]
pub(crate) struct Correlation {
    pub x: String,
    pub y: String,
    pub r: f64,
    /// Number of rows with both values.
    pub n: usize,
}

/// Everything the answer says about the rows.
#[derive(Debug, Clone)]
pub(crate) struct Findings {
    pub row_count: usize,
    pub truncated: bool,
    /// The one value of a one-row, one-column result, formatted.
    pub single: Option<String>,
    /// A one-row result with several columns: (column, formatted value) pairs.
    pub single_row: Vec<(String, String)>,
    pub measures: Vec<MeasureStats>,
    pub ranking: Option<Ranking>,
    pub trend: Option<Trend>,
    pub outliers: Option<Outliers>,
    /// Pearson's r between two measures of a result without dimensions.
    pub correlation: Option<Correlation>,
    /// The label column and its number of distinct values, for results without measures.
    pub distinct_labels: Option<(String, usize)>,
}

impl Findings {
    /// Computes the findings of a profiled result. Nulls, text in numeric columns and
    /// non-finite numbers are left out of every computation.
    pub fn compute(profile: &Profile) -> Findings {
        let mut findings = Findings {
            row_count: profile.row_count,
            truncated: profile.truncated,
            single: None,
            single_row: Vec::new(),
            measures: Vec::new(),
            ranking: None,
            trend: None,
            outliers: None,
            correlation: None,
            distinct_labels: None,
        };
        if profile.row_count == 0 || profile.columns.is_empty() {
            return findings;
        }
        if profile.row_count == 1 {
            let cells: Vec<(String, String)> = profile
                .columns
                .iter()
                .map(|c| {
                    let value = match (c.role, c.numbers[0]) {
                        (Role::Measure, Some(x)) => fmt_number(x, c.integral),
                        _ => c.labels[0].clone().unwrap_or_else(|| "null".to_string()),
                    };
                    (c.name.clone(), value)
                })
                .collect();
            if cells.len() == 1 {
                findings.single = cells.into_iter().next().map(|(_, v)| v);
            } else {
                findings.single_row = cells;
            }
            return findings;
        }
        findings.measures = profile
            .measures()
            .into_iter()
            .filter_map(|i| measure_stats(profile, i))
            .collect();
        findings.ranking = ranking(profile);
        findings.trend = trend(profile);
        findings.outliers = outliers(profile, findings.ranking.as_ref());
        findings.correlation = correlation(profile);
        if findings.measures.is_empty() && !profile.label.is_empty() {
            let mut labels: Vec<String> = (0..profile.row_count)
                .filter_map(|r| profile.row_label(r))
                .collect();
            labels.sort();
            labels.dedup();
            findings.distinct_labels = Some((profile.label_name(), labels.len()));
        }
        findings
    }

    /// The findings as short sentences, most important first.
    pub fn sentences(&self) -> Vec<String> {
        if self.row_count == 0 {
            return vec!["The query returned no rows.".to_string()];
        }
        if let Some(value) = &self.single {
            return vec![format!("The answer is {value}.")];
        }
        if !self.single_row.is_empty() {
            let cells: Vec<String> = self
                .single_row
                .iter()
                .map(|(c, v)| format!("{c} {v}"))
                .collect();
            return vec![format!("One row: {}.", cells.join(", "))];
        }
        let mut out = Vec::new();
        out.push(if self.truncated {
            format!(
                "The result has {} rows, cut at the row limit (more rows exist).",
                fmt_number(self.row_count as f64, true)
            )
        } else {
            format!(
                "The result has {} rows.",
                fmt_number(self.row_count as f64, true)
            )
        });
        if let Some((label, n)) = &self.distinct_labels {
            out.push(format!(
                "{label} has {} distinct values.",
                fmt_number(*n as f64, true)
            ));
        }
        for m in self.measures.iter().take(MEASURES_TOLD) {
            out.push(match m.total {
                Some(total) => format!(
                    "Total {}: {} (average {} per row).",
                    m.name,
                    fmt_number(total, m.integral),
                    fmt_number(m.mean, false)
                ),
                None => format!(
                    "Average {}: {} (from {} to {}).",
                    m.name,
                    fmt_number(m.mean, false),
                    fmt_number(m.min, m.integral),
                    fmt_number(m.max, m.integral)
                ),
            });
        }
        if let Some(r) = &self.ranking {
            let per = if r.aggregation == Aggregation::None {
                String::new()
            } else {
                format!(" by {}", r.label)
            };
            out.push(capitalise(&format!(
                "highest {}{}{}: {} ({}); lowest: {} ({}).",
                r.aggregation.word(),
                r.measure,
                per,
                r.highest.label,
                fmt_number(r.highest.value, r.integral),
                r.lowest.label,
                fmt_number(r.lowest.value, r.integral)
            )));
            if let Some(s) = &r.shares {
                let mut sentence = format!(
                    "{} holds {} of the {} in the result",
                    r.highest.label,
                    fmt_percent(s.top()),
                    r.measure
                );
                if let Some(top3) = s.top3() {
                    sentence.push_str(&format!("; the top 3 hold {}", fmt_percent(top3)));
                }
                sentence.push('.');
                out.push(sentence);
            }
        }
        if let Some(t) = &self.trend {
            let pct = t
                .change_pct
                .map(|p| format!(", {}", signed_percent(p)))
                .unwrap_or_default();
            out.push(capitalise(&format!(
                "{}{} went from {} in {} to {} in {} ({}{}); the peak was {} in {}.",
                t.aggregation.word(),
                t.measure,
                fmt_number(t.first().value, t.integral),
                t.first().label,
                fmt_number(t.last().value, t.integral),
                t.last().label,
                fmt_signed(t.change, t.integral),
                pct,
                fmt_number(t.peak.value, t.integral),
                t.peak.label
            )));
        }
        if let Some(c) = &self.correlation {
            let strength = match c.r.abs() {
                a if a >= 0.7 => "strongly",
                a if a >= 0.4 => "moderately",
                a if a >= 0.2 => "weakly",
                _ => "hardly",
            };
            let direction = if c.r >= 0.0 {
                "positively"
            } else {
                "negatively"
            };
            let direction = if strength == "hardly" { "" } else { direction };
            out.push(format!(
                "{} and {} are {strength} {direction}{}correlated (Pearson r = {:.2} over {} rows).",
                c.x,
                c.y,
                if direction.is_empty() { "" } else { " " },
                c.r,
                fmt_number(c.n as f64, true)
            ));
        }
        if let Some(o) = &self.outliers {
            let named: Vec<String> = o
                .items
                .iter()
                .take(OUTLIERS_NAMED)
                .map(|i| format!("{} ({})", i.label, fmt_number(i.value, o.integral)))
                .collect();
            let more = match o.items.len().saturating_sub(OUTLIERS_NAMED) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            let noun = if o.items.len() == 1 {
                "outlier"
            } else {
                "outliers"
            };
            out.push(format!(
                "{} {noun} in {} outside {} to {} (1.5 IQR beyond the quartiles, Tukey 1977): {}{more}.",
                o.items.len(),
                o.measure,
                fmt_number(o.lower_fence, false),
                fmt_number(o.upper_fence, false),
                named.join(", ")
            ));
        }
        out
    }
}

/// Total (when additive), average and range of measure column `i`.
fn measure_stats(profile: &Profile, i: usize) -> Option<MeasureStats> {
    let c = &profile.columns[i];
    let values = c.finite();
    if values.is_empty() {
        return None;
    }
    let sum: f64 = values.iter().sum();
    Some(MeasureStats {
        name: c.name.clone(),
        total: c.additive().then_some(sum).filter(|t| t.is_finite()),
        mean: sum / values.len() as f64,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        integral: c.integral,
    })
}

/// Items by label (first appearance order) with values combined when labels repeat.
fn group(
    labelled: impl Iterator<Item = (String, f64)>,
    additive: bool,
) -> (Vec<Item>, Aggregation) {
    let mut items: Vec<(String, f64, usize)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (label, value) in labelled {
        match index.get(&label) {
            Some(&k) => {
                let entry: &mut (String, f64, usize) = &mut items[k];
                entry.1 += value;
                entry.2 += 1;
            }
            None => {
                index.insert(label.clone(), items.len());
                items.push((label, value, 1));
            }
        }
    }
    let repeated = items.iter().any(|i| i.2 > 1);
    let aggregation = match (repeated, additive) {
        (false, _) => Aggregation::None,
        (true, true) => Aggregation::Sum,
        (true, false) => Aggregation::Mean,
    };
    let items = items
        .into_iter()
        .map(|(label, sum, n)| Item {
            label,
            value: if aggregation == Aggregation::Mean {
                sum / n as f64
            } else {
                sum
            },
        })
        .collect();
    (items, aggregation)
}

/// The items of the label columns ranked by the main measure, with shares when they apply.
fn ranking(profile: &Profile) -> Option<Ranking> {
    let m = profile.main_measure?;
    if profile.label.is_empty() {
        return None;
    }
    let c = &profile.columns[m];
    let labelled = (0..profile.row_count).filter_map(|r| {
        let v = c.numbers[r]?;
        Some((
            profile
                .row_label(r)
                .unwrap_or_else(|| "(blank)".to_string()),
            v,
        ))
    });
    let (items, aggregation) = group(labelled, c.additive());
    if items.len() < 2 || items.iter().any(|i| !i.value.is_finite()) {
        return None;
    }
    let highest = items
        .iter()
        .max_by(|a, b| a.value.total_cmp(&b.value))?
        .clone();
    // The first of equal lowest values, as for the highest (max_by keeps the last).
    let lowest = items
        .iter()
        .rev()
        .min_by(|a, b| a.value.total_cmp(&b.value))?
        .clone();
    let highest = items
        .iter()
        .find(|i| i.value == highest.value)
        .cloned()
        .unwrap_or(highest);
    let total: f64 = items.iter().map(|i| i.value).sum();
    let shares = (c.additive()
        && aggregation != Aggregation::Mean
        && items.iter().all(|i| i.value >= 0.0)
        && total > 0.0
        && total.is_finite())
    .then(|| Shares {
        of_item: items.iter().map(|i| 100.0 * i.value / total).collect(),
    });
    Some(Ranking {
        measure: c.name.clone(),
        label: profile.label_name(),
        integral: c.integral && aggregation != Aggregation::Mean,
        aggregation,
        items,
        highest,
        lowest,
        shares,
    })
}

/// The main measure per period of the time dimension, with first-to-last change and peak.
fn trend(profile: &Profile) -> Option<Trend> {
    let m = profile.main_measure?;
    let t = profile.time?;
    let c = &profile.columns[m];
    let time = &profile.columns[t];
    let mut keyed: Vec<(i64, String, f64)> = (0..profile.row_count)
        .filter_map(|r| Some((time.time_keys[r]?, time.labels[r].clone()?, c.numbers[r]?)))
        .collect();
    keyed.sort_by_key(|k| k.0);
    let (points, aggregation) = group(keyed.into_iter().map(|(_, l, v)| (l, v)), c.additive());
    if points.len() < 2 {
        return None;
    }
    let first = points[0].value;
    let last = points[points.len() - 1].value;
    let change = last - first;
    let peak = points
        .iter()
        .rev()
        .max_by(|a, b| a.value.total_cmp(&b.value))?
        .clone();
    let peak = points
        .iter()
        .find(|p| p.value == peak.value)
        .cloned()
        .unwrap_or(peak);
    Some(Trend {
        measure: c.name.clone(),
        time: time.name.clone(),
        integral: c.integral && aggregation != Aggregation::Mean,
        aggregation,
        change,
        change_pct: (first != 0.0)
            .then(|| 100.0 * change / first.abs())
            .filter(|p| p.is_finite()),
        peak,
        points,
    })
}

/// Items of the main measure beyond Tukey's fences: below Q1 - 1.5 IQR or above Q3 + 1.5 IQR
/// (J. W. Tukey, *Exploratory Data Analysis*, 1977). Quartiles by linear interpolation between
/// order statistics (Hyndman & Fan 1996, type 7, the default of R and NumPy). Looked for on the
/// ranked items when there are labels, else on the rows; skipped below 8 values or when the
/// IQR is zero.
fn outliers(profile: &Profile, ranking: Option<&Ranking>) -> Option<Outliers> {
    let m = profile.main_measure?;
    let c = &profile.columns[m];
    let items: Vec<Item> = match ranking {
        Some(r) => r.items.clone(),
        None => (0..profile.row_count)
            .filter_map(|r| {
                let value = c.numbers[r]?;
                let label = profile
                    .time
                    .and_then(|t| profile.columns[t].labels[r].clone())
                    .unwrap_or_else(|| format!("row {}", r + 1));
                Some(Item { label, value })
            })
            .collect(),
    };
    if items.len() < MIN_VALUES_FOR_OUTLIERS {
        return None;
    }
    let mut sorted: Vec<f64> = items.iter().map(|i| i.value).collect();
    sorted.sort_by(f64::total_cmp);
    let q1 = quantile(&sorted, 0.25);
    let q3 = quantile(&sorted, 0.75);
    let median = quantile(&sorted, 0.5);
    let iqr = q3 - q1;
    // A zero IQR (most values equal) would flag every other value; NaN or infinity says nothing.
    if !iqr.is_finite() || iqr <= 0.0 {
        return None;
    }
    let (lower_fence, upper_fence) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let mut out: Vec<Item> = items
        .into_iter()
        .filter(|i| i.value < lower_fence || i.value > upper_fence)
        .collect();
    if out.is_empty() {
        return None;
    }
    out.sort_by(|a, b| {
        (b.value - median)
            .abs()
            .total_cmp(&(a.value - median).abs())
    });
    Some(Outliers {
        measure: ranking.map_or_else(
            || c.name.clone(),
            |r| format!("{}{}", r.aggregation.word(), r.measure),
        ),
        integral: c.integral,
        lower_fence,
        upper_fence,
        items: out,
    })
}

/// Pearson's correlation coefficient between the main measure and the first other measure,
/// for results with no dimension and at least 3 rows where both are numbers; `None` when
/// either is constant.
fn correlation(profile: &Profile) -> Option<Correlation> {
    if !profile.label.is_empty() || profile.time.is_some() {
        return None;
    }
    let (x, y) = super::scatter_axes(profile)?;
    let (cx, cy) = (&profile.columns[x], &profile.columns[y]);
    let pairs: Vec<(f64, f64)> = (0..profile.row_count)
        .filter_map(|r| Some((cx.numbers[r]?, cy.numbers[r]?)))
        .collect();
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    (r.is_finite() && sxx > 0.0 && syy > 0.0).then(|| Correlation {
        x: cx.name.clone(),
        y: cy.name.clone(),
        r: r.clamp(-1.0, 1.0),
        n: pairs.len(),
    })
}

/// The `p` quantile of sorted values, interpolating linearly between order statistics
/// (Hyndman & Fan 1996, type 7).
pub(crate) fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A signed percentage: `+50.0%`, `-12.5%`.
fn signed_percent(p: f64) -> String {
    if p > 0.0 {
        format!("+{}", fmt_percent(p))
    } else {
        fmt_percent(p)
    }
}

/// The text with its first letter in upper case.
pub(crate) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::tests::rows;
    use crate::answer::{build_answer, Profile};
    use serde_json::{json, Value};

    fn findings(question: &str, columns: &[&str], data: Vec<Vec<Value>>) -> Findings {
        Findings::compute(&Profile::of(question, &rows(columns, data)))
    }

    fn zones() -> Vec<Vec<Value>> {
        vec![
            vec![json!("North"), json!(5000.0)],
            vec![json!("South"), json!(1250.5)],
            vec![json!("East"), json!(2500.0)],
            vec![json!("West"), json!(1249.5)],
        ]
    }

    #[test]
    fn a_category_result_names_the_top_and_bottom_items_with_their_values() {
        let f = findings("revenue by zone", &["zone", "revenue"], zones());
        let r = f.ranking.as_ref().expect("a ranking");
        assert_eq!(
            r.highest,
            Item {
                label: "North".into(),
                value: 5000.0
            }
        );
        assert_eq!(
            r.lowest,
            Item {
                label: "West".into(),
                value: 1249.5
            }
        );
        let s = f.sentences();
        assert!(
            s.contains(&"Highest revenue: North (5,000.00); lowest: West (1,249.50).".to_string()),
            "{s:?}"
        );
        assert!(
            s.contains(&"Total revenue: 10,000.00 (average 2,500.00 per row).".to_string()),
            "{s:?}"
        );
        assert_eq!(s[0], "The result has 4 rows.");
    }

    #[test]
    fn shares_of_non_negative_values_add_up_to_one_hundred_percent() {
        let f = findings("revenue by zone", &["zone", "revenue"], zones());
        let shares = f.ranking.unwrap().shares.expect("shares");
        let sum: f64 = shares.of_item.iter().sum();
        assert!((sum - 100.0).abs() < 1e-9, "{sum}");
        assert!((shares.top() - 50.0).abs() < 1e-9);
        assert!((shares.top3().unwrap() - 87.505).abs() < 1e-9);
        let s = findings("revenue by zone", &["zone", "revenue"], zones()).sentences();
        assert!(
            s.contains(
                &"North holds 50.0% of the revenue in the result; the top 3 hold 87.5%."
                    .to_string()
            ),
            "{s:?}"
        );
    }

    #[test]
    fn shares_are_left_out_when_a_value_is_negative() {
        let data = vec![
            vec![json!("a"), json!(-1.5)],
            vec![json!("b"), json!(3.0)],
            vec![json!("c"), json!(2.0)],
        ];
        let f = findings("", &["item", "profit"], data);
        assert!(f.ranking.unwrap().shares.is_none());
    }

    #[test]
    fn a_month_series_reports_the_change_from_first_to_last_and_the_peak() {
        // Rows arrive out of order; the change is first to last in time.
        let data = vec![
            vec![json!("2024-03"), json!(1800)],
            vec![json!("2024-01"), json!(1000)],
            vec![json!("2024-02"), json!(1200)],
            vec![json!("2024-04"), json!(1500)],
        ];
        let f = findings("revenue per month", &["month", "revenue"], data);
        let t = f.trend.as_ref().expect("a trend");
        assert_eq!(t.first().label, "2024-01");
        assert_eq!(t.last().label, "2024-04");
        assert_eq!(t.change, 500.0);
        assert_eq!(t.change_pct, Some(50.0));
        assert_eq!(t.peak.label, "2024-03");
        assert!(f.ranking.is_none());
        let s = f.sentences();
        assert!(
            s.contains(&"Revenue went from 1,000 in 2024-01 to 1,500 in 2024-04 (+500, +50.0%); the peak was 1,800 in 2024-03.".to_string()),
            "{s:?}"
        );
    }

    #[test]
    fn periods_repeated_by_a_category_are_added_up_per_period() {
        let data = vec![
            vec![json!("2024-01-01"), json!("N"), json!(10)],
            vec![json!("2024-01-01"), json!("S"), json!(5)],
            vec![json!("2024-01-02"), json!("N"), json!(7)],
            vec![json!("2024-01-02"), json!("S"), json!(3)],
        ];
        let f = findings("", &["day", "zone", "units"], data);
        let t = f.trend.unwrap();
        assert_eq!(t.aggregation, Aggregation::Sum);
        assert_eq!(
            t.points.iter().map(|p| p.value).collect::<Vec<_>>(),
            vec![15.0, 10.0]
        );
        assert_eq!(t.change_pct, Some(-100.0 / 3.0));
        let r = f.ranking.unwrap();
        assert_eq!(
            r.highest,
            Item {
                label: "N".into(),
                value: 17.0
            }
        );
    }

    #[test]
    fn a_one_by_one_result_is_a_single_value_answer() {
        let a = build_answer(
            "how many stores",
            &rows(&["store_count"], vec![vec![json!(42)]]),
        );
        assert_eq!(a.insights, vec!["The answer is 42.".to_string()]);
        assert!(a.chart.is_none());
    }

    #[test]
    fn an_empty_result_says_there_are_no_rows() {
        let a = build_answer("revenue by zone", &rows(&["zone", "revenue"], vec![]));
        assert_eq!(a.insights, vec!["The query returned no rows.".to_string()]);
        assert!(a.chart.is_none());
        assert!(a.summary.contains("no rows"), "{}", a.summary);
    }

    #[test]
    fn outliers_beyond_tukeys_fences_are_named() {
        let mut data: Vec<Vec<Value>> = (1..=10)
            .map(|i| vec![json!(format!("s{i}")), json!(100 + i)])
            .collect();
        data.push(vec![json!("huge"), json!(10_000)]);
        let f = findings("", &["store", "units"], data);
        let o = f.outliers.as_ref().expect("outliers");
        assert_eq!(
            o.items,
            vec![Item {
                label: "huge".into(),
                value: 10_000.0
            }]
        );
        assert!(f
            .sentences()
            .iter()
            .any(|s| s.starts_with("1 outlier in units")
                && s.contains("huge (10,000)")
                && s.contains("Tukey 1977")));
    }

    #[test]
    fn two_measures_without_dimensions_report_their_correlation() {
        let data: Vec<Vec<Value>> = (0..10)
            .map(|i| vec![json!(i), json!(100 - 3 * i)])
            .collect();
        let f = findings("", &["price", "units"], data);
        let c = f.correlation.as_ref().expect("a correlation");
        assert!((c.r + 1.0).abs() < 1e-12, "{}", c.r);
        assert!(f.sentences().contains(
            &"price and units are strongly negatively correlated (Pearson r = -1.00 over 10 rows)."
                .to_string()
        ));
        let constant: Vec<Vec<Value>> = (0..10).map(|i| vec![json!(i), json!(5)]).collect();
        assert!(findings("", &["price", "units"], constant)
            .correlation
            .is_none());
    }

    #[test]
    fn items_named_by_an_identifier_carry_the_column_name() {
        let data = vec![vec![json!(17), json!(5.5)], vec![json!(4), json!(2.5)]];
        let r = findings("", &["store_id", "revenue"], data)
            .ranking
            .unwrap();
        assert_eq!(r.highest.label, "store_id 17");
    }

    #[test]
    fn type_seven_quartiles_interpolate_between_order_statistics() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(&[7.0], 0.75), 7.0);
    }

    #[test]
    fn nulls_text_and_non_finite_values_do_not_panic() {
        let data = vec![
            vec![json!("a"), json!(null), json!("NaN")],
            vec![json!(null), json!(1.5), json!("inf")],
            vec![json!("c"), json!(f64::MAX), json!(null)],
            vec![json!("d"), json!(f64::MAX), json!(-0.0)],
        ];
        let a = build_answer("share of x", &rows(&["k", "x", "y"], data));
        assert!(!a.insights.is_empty());
        let a = build_answer(
            "",
            &rows(&["a", "b"], vec![vec![json!(null), json!(null)]; 3]),
        );
        assert_eq!(a.insights, vec!["The result has 3 rows.".to_string()]);
        // Ragged rows (fewer cells than columns) read as nulls.
        let a = build_answer("", &rows(&["a", "b"], vec![vec![json!(1)], vec![]]));
        assert!(!a.summary.is_empty());
    }

    #[test]
    fn non_additive_measures_get_an_average_and_range_not_a_total() {
        let data = vec![
            vec![json!("a"), json!(-2.5)],
            vec![json!("b"), json!(-0.5)],
            vec![json!("c"), json!(-1.0)],
        ];
        let s = findings("", &["item", "elasticity_value"], data).sentences();
        assert!(
            s.contains(&"Average elasticity_value: -1.33 (from -2.50 to -0.50).".to_string()),
            "{s:?}"
        );
        assert!(!s.iter().any(|x| x.starts_with("Total")));
    }
}
