//! Charts that follow the metric query: a typed hint read from the semantic layer's query, and
//! the plan it asks for.
//!
//! The semantic layer knows what a result is before a row is seen: a figure over time at a
//! grain, each row's share of a total, a growth between periods, rows in rank order. The
//! column roles of `chart` only guess it. [`ChartIntent::from_query`] reads the hint from a
//! [`MetricQuery`] and the columns its SQL returns; [`plan`] turns the hint and the rows'
//! profile into a [`Plan`], or gives `None` when the rows do not fit the hint (a column it
//! names is missing, too few rows): then `chart`'s own rules decide, as for answers of the
//! other generators.
//!
//! Rules: a trend is a line over the time column in time order, one line per member of the
//! other dimensions (or per side-by-side figure); a share is bars labelled in percent (lines
//! in percent when it is a share per period of several members); a growth is signed bars in
//! percent (columns over the periods for a period-over-period change), negative ones below
//! zero in their own colour; a ranking is bars of the ranked figure in the query's order; the
//! same metric for two or more members (or periods) side by side, with no time axis, is a
//! comparison: grouped bars, a group per row and a bar per member (one bar per member when the
//! result is a single row).

use serde::Serialize;

use crate::semantic::model::Grain;
use crate::semantic::query::{Derived, MetricQuery, OrderBy};

use super::chart::{Plan, Series, MAX_BARS, MAX_GROUPS, MAX_SERIES};
use super::insights::{Aggregation, Item};
use super::{fmt_number, Profile, Role};

/// The shape of result a metric query asks the chart to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    /// Figures over time at the query's grain: a line chart.
    Trend,
    /// Each row's percent of a total: bars labelled in percent.
    Share,
    /// A change in percent between periods: signed bars.
    Growth,
    /// Rows in rank order of a figure (a rank, a top N, a sort by the figure): ordered bars.
    Ranking,
    /// One metric for two or more members or periods side by side, no time axis: grouped
    /// bars.
    Comparison,
}

impl IntentKind {
    /// The kind's name as the API reports it (`trend`, `share`, `growth`, `ranking`).
    pub fn as_str(self) -> &'static str {
        match self {
            IntentKind::Trend => "trend",
            IntentKind::Share => "share",
            IntentKind::Growth => "growth",
            IntentKind::Ranking => "ranking",
            IntentKind::Comparison => "comparison",
        }
    }
}

/// What chart a metric query asks for, with the result columns it names.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartIntent {
    pub kind: IntentKind,
    /// The plotted figure columns as the compiled query names them, main one first; several
    /// when figures sit side by side (two metrics, a metric on two members) over time.
    pub values: Vec<String>,
    /// The time dimension's column, when the result is grouped by time.
    pub time_column: Option<String>,
    /// The grain of the time column (its labels are periods of this grain).
    pub grain: Option<Grain>,
    /// True when the figures are percentages on a 0..100 scale (shares, growths).
    pub percent: bool,
}

impl ChartIntent {
    /// The hint for `query`, whose compiled SQL returns `columns`; `None` when the query's
    /// shape asks for nothing particular (a single figure, a plain breakdown, an average
    /// comparison), so the answer's own rules choose.
    pub fn from_query(query: &MetricQuery, columns: &[String]) -> Option<Self> {
        let last = columns.last()?.clone();
        let time_column = query
            .time_grain
            .map(|g| g.as_str().to_string())
            .filter(|t| columns.contains(t));
        let intent = |kind, values: Vec<String>, percent| {
            Some(ChartIntent {
                kind,
                values,
                time_column: time_column.clone(),
                grain: query.time_grain.filter(|_| time_column.is_some()),
                percent,
            })
        };
        let by_figure = query.order.first().is_some_and(|o| o.by == OrderBy::Figure);
        match &query.derived {
            None | Some(Derived::AveragePer { .. }) => {
                let n = query.columns.len()
                    + usize::from(query.entity_count.is_some())
                    + usize::from(query.dimension_count.is_some());
                // one metric sliced into members or periods side by side
                let side_by_side = n == query.columns.len()
                    && n >= 2
                    && query
                        .columns
                        .iter()
                        .all(|c| c.slice.is_some() && c.metric == query.columns[0].metric);
                // a figure alone is no chart, unless figures sit side by side
                if n == 0 || columns.len() < n || (columns.len() == n && !side_by_side) {
                    return None;
                }
                let figures = columns[columns.len() - n..].to_vec();
                let grouped = !query.group_by.is_empty() || time_column.is_some();
                if side_by_side && time_column.is_none() {
                    intent(IntentKind::Comparison, figures, false)
                } else if grouped && by_figure {
                    intent(IntentKind::Ranking, vec![figures[0].clone()], false)
                } else if time_column.is_some() {
                    intent(IntentKind::Trend, figures, false)
                } else {
                    None
                }
            }
            Some(Derived::RunningTotal) if time_column.is_some() => {
                intent(IntentKind::Trend, vec![last], false)
            }
            Some(Derived::ShareOfTotal | Derived::ShareOfWhole) => {
                intent(IntentKind::Share, vec![last], true)
            }
            Some(
                Derived::PeriodGrowth
                | Derived::PeriodDifference
                | Derived::PeriodGrowthWhere { .. }
                | Derived::PeriodOverPeriod { .. },
            ) => intent(IntentKind::Growth, vec![last], true),
            // the rank column says the order; the bars show the ranked figure before it
            Some(Derived::Rank { .. }) if columns.len() >= 2 => intent(
                IntentKind::Ranking,
                vec![columns[columns.len() - 2].clone()],
                false,
            ),
            Some(Derived::RankWithin { .. }) => intent(IntentKind::Ranking, vec![last], false),
            Some(Derived::VersusAverage { .. }) if time_column.is_some() => {
                intent(IntentKind::Trend, vec![last], false)
            }
            _ => None,
        }
    }
}

/// The plan `intent` asks for on these rows, or `None` when they do not fit it (then the
/// answer's own rules choose). Needs at least two rows.
pub(crate) fn plan(intent: &ChartIntent, profile: &Profile) -> Option<Plan> {
    let fewest_rows = if intent.kind == IntentKind::Comparison {
        1
    } else {
        2
    };
    if profile.row_count < fewest_rows {
        return None;
    }
    let find = |name: &str| {
        profile
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    };
    let values: Vec<usize> = intent
        .values
        .iter()
        .map(|v| find(v).filter(|&i| profile.columns[i].role == Role::Measure))
        .collect::<Option<_>>()?;
    let main = *values.first()?;
    let time = match &intent.time_column {
        Some(t) => Some(find(t)?),
        None => None,
    };
    // the dimensions besides time: the members of a series or the labels of bars
    let dims: Vec<usize> = (0..profile.columns.len())
        .filter(|i| Some(*i) != time && !values.contains(i))
        .filter(|&i| {
            matches!(
                profile.columns[i].role,
                Role::Category | Role::Identifier | Role::Time
            )
        })
        .collect();
    match (intent.kind, time) {
        (IntentKind::Trend, Some(t)) => Some(line(intent, profile, t, &values, &dims)),
        (IntentKind::Share | IntentKind::Growth, Some(t)) if !dims.is_empty() => {
            Some(line(intent, profile, t, &[main], &dims))
        }
        (IntentKind::Share | IntentKind::Growth, Some(t)) => {
            let items = items(profile, &[t], main);
            (items.len() >= 2).then(|| Plan::Columns {
                x: profile.columns[t].name.clone(),
                measure: profile.columns[main].name.clone(),
                items,
                percent: intent.percent,
            })
        }
        (IntentKind::Trend, None) => None,
        (IntentKind::Comparison, _) => comparison(profile, &values, &dims),
        (_, time) => {
            let mut label_cols = dims.clone();
            label_cols.extend(time);
            label_cols.sort_unstable();
            if label_cols.is_empty() {
                return None;
            }
            let mut items = items(profile, &label_cols, main);
            if items.len() < 2 {
                return None;
            }
            let total = items.len();
            let note = (total > MAX_BARS).then(|| {
                items.truncate(MAX_BARS);
                format!("first {MAX_BARS} of {}", fmt_number(total as f64, true))
            });
            Some(Plan::Bar {
                label: label_cols
                    .iter()
                    .map(|&i| profile.columns[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join(" / "),
                measure: profile.columns[main].name.clone(),
                aggregation: Aggregation::None,
                items,
                note,
                percent: intent.percent,
            })
        }
    }
}

/// Side-by-side figures: a group of bars per row labelled by `dims`, a bar per figure; with
/// no dimension (one row), one unlabelled group. At most [`MAX_GROUPS`] groups, in the query's
/// order.
fn comparison(profile: &Profile, values: &[usize], dims: &[usize]) -> Option<Plan> {
    if dims.is_empty() && profile.row_count != 1 {
        return None;
    }
    let member = |r: usize| row_label(profile, dims, r);
    // one row and no dimension: one group, unlabelled
    let rows: Vec<(usize, String)> = if dims.is_empty() {
        vec![(0, String::new())]
    } else {
        (0..profile.row_count)
            .filter_map(|r| Some((r, member(r)?)))
            .collect()
    };
    let total = rows.len();
    let kept = &rows[..total.min(MAX_GROUPS)];
    let series = values
        .iter()
        .map(|&v| Series {
            name: profile.columns[v].name.clone(),
            values: kept
                .iter()
                .map(|(r, _)| profile.columns[v].numbers[*r])
                .collect(),
        })
        .collect();
    (!kept.is_empty()).then(|| Plan::GroupedBars {
        label: dims
            .iter()
            .map(|&i| profile.columns[i].name.as_str())
            .collect::<Vec<_>>()
            .join(" / "),
        groups: kept.iter().map(|(_, g)| g.clone()).collect(),
        series,
        note: (total > MAX_GROUPS)
            .then(|| format!("first {MAX_GROUPS} of {}", fmt_number(total as f64, true))),
    })
}

/// Row `r`'s labels in the columns `cols`, joined with " / "; `None` when all are empty.
fn row_label(profile: &Profile, cols: &[usize], r: usize) -> Option<String> {
    let parts: Vec<String> = cols
        .iter()
        .filter_map(|&c| profile.columns[c].labels[r].clone())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" / "))
}

/// The rows with a value, in the query's order, labelled by `label_cols` (joined with " / ").
fn items(profile: &Profile, label_cols: &[usize], value: usize) -> Vec<Item> {
    (0..profile.row_count)
        .filter_map(|r| {
            let value = profile.columns[value].numbers[r]?;
            Some(Item {
                label: row_label(profile, label_cols, r)?,
                value,
            })
        })
        .collect()
}

/// A line per member of `dims` (joined labels) of the first value column, or per value
/// column when there is no other dimension; periods in time order (by the profile's time
/// keys when it read the column as time, else in the query's order, which sorted by time).
/// At most [`MAX_SERIES`] lines: the members with the largest figures.
fn line(
    intent: &ChartIntent,
    profile: &Profile,
    t: usize,
    values: &[usize],
    dims: &[usize],
) -> Plan {
    let time = &profile.columns[t];
    let mut periods: Vec<(Option<i64>, String)> = Vec::new();
    for r in 0..profile.row_count {
        if let Some(l) = &time.labels[r] {
            if !periods.iter().any(|p| &p.1 == l) {
                periods.push((time.time_keys[r], l.clone()));
            }
        }
    }
    if periods.iter().all(|p| p.0.is_some()) {
        periods.sort_by_key(|p| p.0);
    }
    let period_of = |r: usize| {
        let l = time.labels[r].as_ref()?;
        periods.iter().position(|p| &p.1 == l)
    };
    let member = |r: usize| row_label(profile, dims, r);
    let fill = |value: usize, keep: &dyn Fn(usize) -> bool| -> Vec<Option<f64>> {
        let mut out = vec![None; periods.len()];
        for r in (0..profile.row_count).filter(|&r| keep(r)) {
            if let (Some(p), Some(v)) = (period_of(r), profile.columns[value].numbers[r]) {
                // rows are unique per period and member; a repeat adds up
                out[p] = Some(out[p].unwrap_or(0.0) + v);
            }
        }
        out
    };
    let main = values[0];
    let mut series: Vec<Series> = if dims.is_empty() {
        values
            .iter()
            .map(|&v| Series {
                name: profile.columns[v].name.clone(),
                values: fill(v, &|_| true),
            })
            .collect()
    } else {
        let mut names: Vec<String> = Vec::new();
        for r in 0..profile.row_count {
            if let Some(m) = member(r) {
                if !names.contains(&m) {
                    names.push(m);
                }
            }
        }
        names
            .into_iter()
            .map(|name| {
                let values = fill(main, &|r| member(r).as_ref() == Some(&name));
                Series { name, values }
            })
            .collect()
    };
    if series.len() > MAX_SERIES {
        let weight = |s: &Series| -> f64 { s.values.iter().flatten().map(|v| v.abs()).sum() };
        series.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
        series.truncate(MAX_SERIES);
    }
    let split_by = (!dims.is_empty()).then(|| {
        dims.iter()
            .map(|&i| profile.columns[i].name.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    });
    let y: Vec<String> = if dims.is_empty() {
        values
            .iter()
            .map(|&v| profile.columns[v].name.clone())
            .collect()
    } else {
        vec![profile.columns[main].name.clone()]
    };
    Plan::Line {
        time: time.name.clone(),
        measure_title: y.join(", "),
        split_by,
        periods: periods.into_iter().map(|p| p.1).collect(),
        series,
        y,
        percent: intent.percent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::tests::rows;
    use crate::answer::{build_answer_following, Chart, ChartKind};
    use crate::semantic::query::{DimensionRef, GroupBy, MetricColumn, Order, Slice};
    use serde_json::{json, Value};

    fn metric(name: &str) -> MetricColumn {
        MetricColumn {
            metric: name.into(),
            slice: None,
        }
    }

    fn by(dimension: &str) -> GroupBy {
        GroupBy::Dimension(DimensionRef {
            model: None,
            name: dimension.into(),
        })
    }

    fn names(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| c.to_string()).collect()
    }

    /// The chart of `data` under the intent `query` asks for with these result columns.
    fn chart(query: &MetricQuery, columns: &[&str], data: Vec<Vec<Value>>) -> Chart {
        let intent = ChartIntent::from_query(query, &names(columns)).expect("an intent");
        build_answer_following("", &rows(columns, data), Some(&intent))
            .chart
            .expect("a chart")
    }

    /// The `(y, height, fill)` of every `<rect>` filled with `colour` in the SVG.
    fn rects(svg: &str, colour: RGBColour) -> Vec<(f64, f64)> {
        let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", colour.0, colour.1, colour.2);
        let attr = |tag: &str, name: &str| -> f64 {
            let start = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
            tag[start..].split('"').next().unwrap().parse().unwrap()
        };
        svg.split("<rect")
            .skip(1)
            .map(|t| &t[..t.find("/>").unwrap_or(t.len())])
            .filter(|t| t.contains(&fill))
            .map(|t| (attr(t, "y"), attr(t, "height")))
            .collect()
    }

    type RGBColour = (u8, u8, u8);
    const BAR: RGBColour = (78, 121, 167);
    const FALL: RGBColour = (225, 87, 89);

    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn a_metric_by_month_is_a_line_over_the_month_column_in_time_order() {
        let q = MetricQuery {
            columns: vec![metric("revenue")],
            time_grain: Some(Grain::Month),
            ..Default::default()
        };
        // out of order on purpose: the line follows the periods, not the rows
        let data: Vec<Vec<Value>> = [3, 1, 2, 4]
            .iter()
            .map(|m| vec![json!(format!("2024-{m:02}")), json!(100 * m)])
            .collect();
        let c = chart(&q, &["month", "revenue"], data);
        assert_eq!(
            (c.kind, c.follows, c.x.as_str()),
            (ChartKind::Line, Some(IntentKind::Trend), "month")
        );
        assert_eq!(c.y, vec!["revenue".to_string()]);
        let t = texts(&c.svg);
        let at = |l: &str| t.iter().position(|x| x == l).expect(l);
        assert!(at("2024-01") < at("2024-02") && at("2024-02") < at("2024-03"));
        assert_eq!(c.svg.matches("<polyline").count() - mesh_lines(&c.svg), 1);
    }

    /// Polylines of the mesh, the axes and the legend's samples (black, or two points).
    fn mesh_lines(svg: &str) -> usize {
        svg.split("<polyline")
            .skip(1)
            .map(|t| &t[..t.find("/>").unwrap_or(t.len())])
            .filter(|t| {
                let points = t.split("points=\"").nth(1).unwrap_or("");
                let points = &points[..points.find('"').unwrap_or(0)];
                t.contains("stroke=\"#000000\"") || points.split_whitespace().count() <= 2
            })
            .count()
    }

    #[test]
    fn a_trend_with_a_breakdown_or_side_by_side_figures_draws_a_line_each() {
        let q = MetricQuery {
            columns: vec![metric("revenue")],
            group_by: vec![by("zone")],
            time_grain: Some(Grain::Quarter),
            ..Default::default()
        };
        let mut data = Vec::new();
        for quarter in 1..=4 {
            for (zone, base) in [("North", 10), ("South", 7)] {
                data.push(vec![
                    json!(zone),
                    json!(format!("2024-Q{quarter}")),
                    json!(base * quarter),
                ]);
            }
        }
        let c = chart(&q, &["zone", "quarter", "revenue"], data);
        assert_eq!((c.kind, c.x.as_str()), (ChartKind::Line, "quarter"));
        let t = texts(&c.svg);
        for label in ["North", "South", "2024-Q1"] {
            assert!(t.iter().any(|x| x == label), "{label} missing from {t:?}");
        }
        assert_eq!(c.y, names(&["revenue"]));

        // two members side by side, no other dimension: a line per figure
        let q = MetricQuery {
            columns: vec![metric("revenue"), metric("revenue")],
            time_grain: Some(Grain::Month),
            ..Default::default()
        };
        let data = (1..=3)
            .map(|m| vec![json!(format!("2024-0{m}")), json!(m), json!(2 * m)])
            .collect();
        let c = chart(&q, &["month", "revenue_dairy", "revenue_frozen"], data);
        assert_eq!(c.y, names(&["revenue_dairy", "revenue_frozen"]));
        assert_eq!(c.svg.matches("<polyline").count() - mesh_lines(&c.svg), 2);
    }

    #[test]
    fn shares_are_bars_labelled_in_percent_on_a_percent_axis() {
        let q = MetricQuery {
            columns: vec![metric("revenue")],
            group_by: vec![by("category")],
            derived: Some(Derived::ShareOfTotal),
            ..Default::default()
        };
        let data = [("Dairy", 50.0), ("Snacks", 30.0), ("Frozen", 20.0)]
            .iter()
            .map(|(c, v)| vec![json!(c), json!(v)])
            .collect();
        let c = chart(&q, &["category", "revenue_share_pct"], data);
        // a share question over few members would be a pie by the words alone: the query says bars
        assert_eq!(
            (c.kind, c.follows, c.x.as_str()),
            (ChartKind::Bar, Some(IntentKind::Share), "category")
        );
        let t = texts(&c.svg);
        for label in ["50.0%", "30.0%", "20.0%", "Dairy"] {
            assert!(t.iter().any(|x| x == label), "{label} missing from {t:?}");
        }
        assert!(
            t.iter().any(|x| x.ends_with('%') && x.len() <= 4),
            "percent ticks: {t:?}"
        );
    }

    #[test]
    fn a_growth_draws_a_fall_below_zero_in_its_own_colour() {
        // growth between two periods by zone: horizontal bars, a fall left of zero
        let q = MetricQuery {
            columns: vec![metric("revenue"), metric("revenue")],
            group_by: vec![by("zone")],
            derived: Some(Derived::PeriodGrowth),
            ..Default::default()
        };
        let columns = ["zone", "revenue_2023", "revenue_2024", "revenue_growth_pct"];
        let data = vec![
            vec![json!("North"), json!(100), json!(120), json!(20.0)],
            vec![json!("South"), json!(100), json!(85), json!(-15.0)],
        ];
        let intent = ChartIntent::from_query(&q, &names(&columns)).unwrap();
        let profile = Profile::of("", &rows(&columns, data.clone()));
        let Some(Plan::Bar { items, percent, .. }) = plan(&intent, &profile) else {
            panic!("a bar plan")
        };
        assert!(percent);
        assert_eq!(items[1].value, -15.0);
        let c = chart(&q, &columns, data);
        assert_eq!(c.follows, Some(IntentKind::Growth));
        assert_eq!(c.y, names(&["revenue_growth_pct"]));
        assert_eq!(
            (rects(&c.svg, BAR).len(), rects(&c.svg, FALL).len()),
            (1, 1)
        );
        assert!(texts(&c.svg).iter().any(|t| t == "-15.0%"));

        // period over period: columns over the months, the fall hanging below the zero line
        let q = MetricQuery {
            columns: vec![metric("revenue")],
            time_grain: Some(Grain::Month),
            derived: Some(Derived::PeriodOverPeriod { lag: 1 }),
            ..Default::default()
        };
        let data = vec![
            vec![json!("2024-01"), json!(100), json!(null)],
            vec![json!("2024-02"), json!(110), json!(10.0)],
            vec![json!("2024-03"), json!(88), json!(-20.0)],
            vec![json!("2024-04"), json!(99), json!(12.5)],
        ];
        let c = chart(&q, &["month", "revenue", "revenue_change_pct"], data);
        assert_eq!(
            (c.kind, c.x.as_str(), c.follows),
            (ChartKind::Bar, "month", Some(IntentKind::Growth))
        );
        let (up, down) = (rects(&c.svg, BAR), rects(&c.svg, FALL));
        assert_eq!((up.len(), down.len()), (2, 1));
        let zero = up[0].0 + up[0].1;
        assert!(
            (down[0].0 - zero).abs() <= 1.0,
            "a fall starts at zero and hangs below it: {up:?} {down:?}"
        );
        assert!(texts(&c.svg).iter().any(|t| t == "-20.0%"));
    }

    #[test]
    fn a_ranking_draws_the_ranked_figure_in_rank_order() {
        let q = MetricQuery {
            columns: vec![metric("revenue")],
            group_by: vec![by("zone")],
            derived: Some(Derived::Rank { ascending: true }),
            ..Default::default()
        };
        let columns = ["zone", "revenue", "revenue_rank"];
        let data = vec![
            vec![json!("East"), json!(5), json!(1)],
            vec![json!("North"), json!(9), json!(2)],
            vec![json!("West"), json!(30), json!(3)],
        ];
        let intent = ChartIntent::from_query(&q, &names(&columns)).unwrap();
        assert_eq!(
            intent.values,
            names(&["revenue"]),
            "the figure, not its rank"
        );
        let profile = Profile::of("", &rows(&columns, data.clone()));
        let Some(Plan::Bar { items, .. }) = plan(&intent, &profile) else {
            panic!("a bar plan")
        };
        let order: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(order, ["East", "North", "West"]);
        let c = chart(&q, &columns, data);
        assert_eq!(
            (c.kind, c.follows),
            (ChartKind::Bar, Some(IntentKind::Ranking))
        );

        // a top N by the figure
        let q = MetricQuery {
            columns: vec![metric("units")],
            group_by: vec![by("store")],
            order: vec![Order {
                by: OrderBy::Figure,
                descending: true,
            }],
            limit: Some(3),
            ..Default::default()
        };
        let intent = ChartIntent::from_query(&q, &names(&["store", "units"])).unwrap();
        assert_eq!(
            (intent.kind, intent.values.clone()),
            (IntentKind::Ranking, names(&["units"]))
        );
    }

    #[test]
    fn a_single_figure_or_a_plain_breakdown_keeps_the_answers_own_choice() {
        let single = MetricQuery {
            columns: vec![metric("revenue")],
            ..Default::default()
        };
        assert_eq!(ChartIntent::from_query(&single, &names(&["revenue"])), None);
        let share = MetricQuery {
            columns: vec![metric("revenue"), metric("revenue")],
            derived: Some(Derived::ShareOfWhole),
            ..Default::default()
        };
        let intent = ChartIntent::from_query(&share, &names(&["revenue_share_pct"])).unwrap();
        let one = build_answer_following(
            "",
            &rows(&["revenue_share_pct"], vec![vec![json!(12.5)]]),
            Some(&intent),
        );
        assert!(one.chart.is_none(), "one row, one value: no chart");
        let breakdown = MetricQuery {
            columns: vec![metric("revenue")],
            group_by: vec![by("zone")],
            ..Default::default()
        };
        assert_eq!(
            ChartIntent::from_query(&breakdown, &names(&["zone", "revenue"])),
            None
        );
        // an intent naming a column the rows lack: the answer's rules choose
        let trend = ChartIntent {
            kind: IntentKind::Trend,
            values: names(&["revenue"]),
            time_column: Some("month".into()),
            grain: Some(Grain::Month),
            percent: false,
        };
        let data = vec![vec![json!("a"), json!(1)], vec![json!("b"), json!(2)]];
        let a = build_answer_following("", &rows(&["zone", "units"], data), Some(&trend));
        let c = a.chart.expect("a chart by the answer's own rules");
        assert_eq!((c.kind, c.follows), (ChartKind::Bar, None));
    }

    #[test]
    fn one_metric_on_members_side_by_side_is_grouped_bars_a_colour_each() {
        let member = |value: &str| MetricColumn {
            metric: "revenue".into(),
            slice: Some(Slice::Member {
                dimension: DimensionRef {
                    model: None,
                    name: "category".into(),
                },
                value: value.into(),
                negated: false,
            }),
        };
        let q = MetricQuery {
            columns: vec![member("Dairy"), member("Frozen Food")],
            group_by: vec![by("zone")],
            ..Default::default()
        };
        let data = vec![
            vec![json!("North"), json!(30), json!(10)],
            vec![json!("South"), json!(20), json!(25)],
            vec![json!("West"), json!(5), json!(15)],
        ];
        let c = chart(&q, &["zone", "revenue_dairy", "revenue_frozen_food"], data);
        assert_eq!(
            (c.kind, c.follows, c.x.as_str()),
            (ChartKind::Bar, Some(IntentKind::Comparison), "zone")
        );
        assert_eq!(c.y, names(&["revenue_dairy", "revenue_frozen_food"]));
        // a bar per zone and member, each member in its colour, named in the legend
        const SECOND: RGBColour = (242, 142, 43);
        let (first, second) = (rects(&c.svg, BAR), rects(&c.svg, SECOND));
        // three bars and the legend's sample of each colour
        assert_eq!((first.len(), second.len()), (4, 4), "{}", c.svg);
        let t = texts(&c.svg);
        for label in [
            "North",
            "South",
            "West",
            "revenue_dairy",
            "revenue_frozen_food",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} missing from {t:?}");
        }
        // the groups in the query's order, top to bottom
        let y_of = |label: &str| -> f64 {
            let tag = c
                .svg
                .split("<text")
                .find(|t| t.contains(&format!(">\n{label}\n<")))
                .expect(label);
            let start = tag.find(" y=\"").expect("y") + 4;
            tag[start..].split('"').next().unwrap().parse().unwrap()
        };
        assert!(y_of("North") < y_of("South") && y_of("South") < y_of("West"));

        // one row: one group of a bar per member
        let q = MetricQuery {
            columns: vec![member("Dairy"), member("Frozen Food")],
            ..Default::default()
        };
        let c = chart(
            &q,
            &["revenue_dairy", "revenue_frozen_food"],
            vec![vec![json!(30), json!(10)]],
        );
        assert_eq!(c.follows, Some(IntentKind::Comparison));
        assert_eq!(
            (rects(&c.svg, BAR).len(), rects(&c.svg, SECOND).len()),
            (2, 2)
        );

        // two different metrics are not one scale: no comparison
        let q = MetricQuery {
            columns: vec![metric("revenue"), metric("units")],
            group_by: vec![by("zone")],
            ..Default::default()
        };
        assert_eq!(
            ChartIntent::from_query(&q, &names(&["zone", "revenue", "units"])),
            None
        );
    }
}
