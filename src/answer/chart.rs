//! The chart: a kind chosen from the column roles and the question's words, drawn as SVG.
//!
//! [`plan`] decides what to draw as a typed [`Plan`] (never code from elsewhere); [`render`]
//! draws it with plotters on an `SVGBackend` of 720 x 400 pixels. The crate builds plotters
//! without a font backend (no `ttf`, no `ab_glyph`): plotters then uses its "naive" font,
//! which only estimates text extents (0.7 em per character) and never rasterises glyphs, and
//! the SVG backend writes every label as a plain `<text>` element the browser lays out. So
//! text works without system fonts; label widths below are reserved from the same estimate.
//!
//! A query's [`ChartIntent`] (from the semantic layer, see `chart_intent`) decides first when
//! the rows fit it. Then the rules, first match wins: nothing to plot (no rows, 1 x 1, no
//! measure) -> none; a time
//! dimension and a measure -> line; labelled items and a measure -> bar, or pie when the
//! question asks for a share/split/breakdown/proportion and there are at most 8 items with
//! non-negative values; two or more measures and no dimension -> scatter; one measure alone
//! with at least 10 rows -> histogram (Sturges 1926 bins).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use thiserror::Error;

use super::chart_intent::ChartIntent;
use super::insights::{Aggregation, Findings, Item};
use super::{fmt_number, fmt_percent, words, Chart, ChartKind, Profile, Role};

/// Canvas size in pixels.
const WIDTH: u32 = 720;
const HEIGHT: u32 = 400;
/// Most bars drawn; the title says when the result had more.
pub(crate) const MAX_BARS: usize = 25;
/// Most groups of side-by-side bars; the title says when the result had more.
pub(crate) const MAX_GROUPS: usize = 12;
/// Most wedges in a pie.
const MAX_PIE_SLICES: usize = 8;
/// Most lines when a category splits a time series.
pub(crate) const MAX_SERIES: usize = 8;
/// Fewest values for a histogram.
const MIN_HISTOGRAM_VALUES: usize = 10;
/// Longest label drawn, in characters (longer ones end with an ellipsis).
const MAX_LABEL_CHARS: usize = 28;
const FONT: &str = "sans-serif";

/// Tableau 10, a fixed qualitative palette readable by most colour-blind people.
const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];
/// The colour of a negative bar (a fall), apart from the palette's first colour.
const NEGATIVE: RGBColor = PALETTE[2];

/// Words by which a question asks for parts of a whole.
const SHARE_WORDS: &[&str] = &[
    "share",
    "shares",
    "split",
    "breakdown",
    "proportion",
    "proportions",
    "composition",
    "mix",
    "contribution",
    "percentage",
];

/// Drawing a chart failed (plotters reported an error).
#[derive(Debug, Error)]
#[error("drawing the chart failed: {0}")]
pub(crate) struct ChartError(String);

fn draw_err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError(e.to_string())
}

/// One line of a line chart: a value (or a gap) per period.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// What to draw, computed from the rows by our code.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Bar {
        label: String,
        measure: String,
        /// How rows sharing a label were combined into one bar.
        aggregation: Aggregation,
        items: Vec<Item>,
        /// Says which bars were kept when the result had more than [`MAX_BARS`].
        note: Option<String>,
        /// True when the values are percentages (0..100): ticks and bar labels end in `%`.
        percent: bool,
    },
    /// Vertical bars over periods in time order, negative ones below zero.
    Columns {
        x: String,
        measure: String,
        items: Vec<Item>,
        /// True when the values are percentages (0..100).
        percent: bool,
    },
    Pie {
        label: String,
        measure: String,
        items: Vec<Item>,
    },
    /// Bars in groups: one group per row (labelled by `label`'s columns), one bar per figure
    /// side by side in it (a member's or a period's), each figure in its own colour.
    GroupedBars {
        label: String,
        groups: Vec<String>,
        /// One per figure: its name and a value (or a gap) per group.
        series: Vec<Series>,
        /// Says which groups were kept when the result had more than [`MAX_GROUPS`].
        note: Option<String>,
    },
    Line {
        time: String,
        measure_title: String,
        /// The category whose values each get a line, when one splits the periods.
        split_by: Option<String>,
        periods: Vec<String>,
        series: Vec<Series>,
        y: Vec<String>,
        /// True when the values are percentages (0..100): ticks end in `%`.
        percent: bool,
    },
    Scatter {
        x: String,
        y: String,
        points: Vec<(f64, f64)>,
    },
    Histogram {
        measure: String,
        values: Vec<f64>,
    },
}

impl Plan {
    pub fn kind(&self) -> ChartKind {
        match self {
            Plan::Bar { .. } | Plan::Columns { .. } | Plan::GroupedBars { .. } => ChartKind::Bar,
            Plan::Pie { .. } => ChartKind::Pie,
            Plan::Line { .. } => ChartKind::Line,
            Plan::Scatter { .. } => ChartKind::Scatter,
            Plan::Histogram { .. } => ChartKind::Histogram,
        }
    }

    fn title(&self) -> String {
        let t = match self {
            Plan::Bar {
                label,
                measure,
                aggregation,
                note,
                ..
            } => match note {
                Some(n) => format!("{}{measure} by {label} ({n})", aggregation.word()),
                None => format!("{}{measure} by {label}", aggregation.word()),
            },
            Plan::Pie { label, measure, .. } => format!("Share of {measure} by {label}"),
            Plan::GroupedBars {
                label,
                series,
                note,
                ..
            } => {
                let names = series
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" vs ");
                match (label.is_empty(), note) {
                    (true, _) => names,
                    (false, Some(n)) => format!("{names} by {label} ({n})"),
                    (false, None) => format!("{names} by {label}"),
                }
            }
            Plan::Columns { x, measure, .. } => format!("{measure} by {x}"),
            Plan::Line {
                time,
                measure_title,
                split_by,
                ..
            } => match split_by {
                Some(split) => format!("{measure_title} by {time} and {split}"),
                None => format!("{measure_title} by {time}"),
            },
            Plan::Scatter { x, y, .. } => format!("{y} against {x}"),
            Plan::Histogram { measure, values } => {
                format!(
                    "Distribution of {measure} ({} values)",
                    fmt_number(values.len() as f64, true)
                )
            }
        };
        super::insights::capitalise(&t)
    }

    fn axes(&self) -> (String, Vec<String>) {
        match self {
            Plan::Bar { label, measure, .. } | Plan::Pie { label, measure, .. } => {
                (label.clone(), vec![measure.clone()])
            }
            Plan::Line { time, y, .. } => (time.clone(), y.clone()),
            Plan::GroupedBars { label, series, .. } => (
                label.clone(),
                series.iter().map(|s| s.name.clone()).collect(),
            ),
            Plan::Columns { x, measure, .. } => (x.clone(), vec![measure.clone()]),
            Plan::Scatter { x, y, .. } => (x.clone(), vec![y.clone()]),
            Plan::Histogram { measure, .. } => (measure.clone(), vec!["count".to_string()]),
        }
    }
}

/// Chooses and renders the chart, following `intent` when the rows fit it; `None` when there
/// is nothing to plot or drawing failed (logged: a chart is never worth failing an answer for).
pub(crate) fn build(
    question: &str,
    profile: &Profile,
    findings: &Findings,
    intent: Option<&ChartIntent>,
) -> Option<Chart> {
    let followed = intent.and_then(|i| Some((super::chart_intent::plan(i, profile)?, i.kind)));
    let (plan, follows) = match followed {
        Some((p, kind)) => (p, Some(kind)),
        None => (plan(question, profile, findings)?, None),
    };
    let title = plan.title();
    match render(&plan, &title) {
        Ok(svg) => {
            let (x, y) = plan.axes();
            Some(Chart {
                kind: plan.kind(),
                follows,
                title,
                x,
                y,
                svg,
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, kind = ?plan.kind(), "chart not drawn");
            None
        }
    }
}

/// Decides what to draw (see the module doc for the rules).
pub(crate) fn plan(question: &str, profile: &Profile, findings: &Findings) -> Option<Plan> {
    if profile.row_count < 2 {
        return None;
    }
    let main = profile.main_measure?;
    let measure = profile.columns[main].name.clone();
    if let Some(trend) = &findings.trend {
        return Some(line_plan(profile, main, trend.aggregation));
    }
    if let Some(r) = &findings.ranking {
        let asks_share = words(question)
            .iter()
            .any(|w| SHARE_WORDS.contains(&w.as_str()))
            || question.to_lowercase().contains("break down");
        if asks_share && r.shares.is_some() && r.items.len() <= MAX_PIE_SLICES {
            return Some(Plan::Pie {
                label: r.label.clone(),
                measure,
                items: r.items.clone(),
            });
        }
        let mut items = r.items.clone();
        let total = items.len();
        let mut note = None;
        if total > MAX_BARS {
            // Keep the query's own order when it sorted by the measure (its first rows are what
            // was asked for), otherwise the highest values.
            let descending = match (r.aggregation, profile.order) {
                (Aggregation::None, Some(super::Order::Ascending)) => false,
                (Aggregation::None, Some(super::Order::Descending)) => true,
                _ => {
                    items.sort_by(|a, b| b.value.total_cmp(&a.value));
                    true
                }
            };
            items.truncate(MAX_BARS);
            note = Some(format!(
                "{} {MAX_BARS} of {}",
                if descending { "top" } else { "bottom" },
                fmt_number(total as f64, true)
            ));
        }
        return Some(Plan::Bar {
            label: r.label.clone(),
            measure,
            aggregation: r.aggregation,
            items,
            note,
            percent: false,
        });
    }
    let dimensionless = profile.label.is_empty() && profile.time.is_none();
    let measures = profile.measures();
    if dimensionless && measures.len() >= 2 {
        let (x, y) = super::scatter_axes(profile)?;
        let (cx, cy) = (&profile.columns[x], &profile.columns[y]);
        let points: Vec<(f64, f64)> = (0..profile.row_count)
            .filter_map(|r| Some((cx.numbers[r]?, cy.numbers[r]?)))
            .collect();
        return (points.len() >= 2).then(|| Plan::Scatter {
            x: cx.name.clone(),
            y: cy.name.clone(),
            points,
        });
    }
    if dimensionless && measures.len() == 1 {
        let values = profile.columns[main].finite();
        return (values.len() >= MIN_HISTOGRAM_VALUES)
            .then_some(Plan::Histogram { measure, values });
    }
    None
}

/// A line per category (when a category with a few values splits the periods), else the main
/// measure with the other measures of a comparable size (within 20x), each per period.
fn line_plan(profile: &Profile, main: usize, aggregation: Aggregation) -> Plan {
    let t = profile.time.unwrap_or(0);
    let time = &profile.columns[t];
    let mut keyed: Vec<(i64, String)> = (0..profile.row_count)
        .filter_map(|r| Some((time.time_keys[r]?, time.labels[r].clone()?)))
        .collect();
    keyed.sort_by_key(|k| k.0);
    keyed.dedup_by_key(|k| k.0);
    let period_of =
        |r: usize| time.time_keys[r].and_then(|k| keyed.binary_search_by_key(&k, |p| p.0).ok());
    let per_period = |m: usize, keep: &dyn Fn(usize) -> bool| -> Vec<Option<f64>> {
        let mut sums = vec![(0.0, 0usize); keyed.len()];
        for r in (0..profile.row_count).filter(|&r| keep(r)) {
            if let (Some(p), Some(v)) = (period_of(r), profile.columns[m].numbers[r]) {
                sums[p].0 += v;
                sums[p].1 += 1;
            }
        }
        let mean = !profile.columns[m].additive();
        sums.into_iter()
            .map(|(s, n)| (n > 0).then(|| if mean { s / n as f64 } else { s }))
            .collect()
    };
    let main_name = profile.columns[main].name.clone();
    let split = profile.columns.iter().position(|c| {
        matches!(c.role, Role::Category | Role::Identifier)
            && (2..=MAX_SERIES).contains(&c.distinct)
    });
    let split = split.filter(|_| profile.row_count > keyed.len());
    let series: Vec<Series> = match split {
        Some(s) => {
            let mut names: Vec<String> = Vec::new();
            for l in profile.columns[s].labels.iter().flatten() {
                if !names.contains(l) {
                    names.push(l.clone());
                }
            }
            names
                .into_iter()
                .map(|name| {
                    let values = per_period(main, &|r| {
                        profile.columns[s].labels[r].as_ref() == Some(&name)
                    });
                    Series { name, values }
                })
                .collect()
        }
        None => {
            let size = |m: usize| {
                profile.columns[m]
                    .finite()
                    .iter()
                    .fold(0.0f64, |a, v| a.max(v.abs()))
            };
            let main_size = size(main);
            std::iter::once(main)
                .chain(profile.measures().into_iter().filter(|&m| {
                    m != main
                        && main_size > 0.0
                        && size(m) > 0.0
                        && (size(m) / main_size).max(main_size / size(m)) <= 20.0
                }))
                .take(4)
                .map(|m| Series {
                    name: profile.columns[m].name.clone(),
                    values: per_period(m, &|_| true),
                })
                .collect()
        }
    };
    let y: Vec<String> = if split.is_some() {
        vec![main_name.clone()]
    } else {
        series.iter().map(|s| s.name.clone()).collect()
    };
    let measure_title = if y.len() > 1 {
        y.join(", ")
    } else {
        let word = match aggregation {
            Aggregation::Sum if split.is_none() => "total ",
            Aggregation::Mean if split.is_none() => "average ",
            _ => "",
        };
        format!("{word}{main_name}")
    };
    Plan::Line {
        time: time.name.clone(),
        measure_title,
        split_by: split.map(|s| profile.columns[s].name.clone()),
        periods: keyed.into_iter().map(|k| k.1).collect(),
        series,
        y,
        percent: false,
    }
}

/// Draws a plan as an SVG document.
pub(crate) fn render(plan: &Plan, title: &str) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        match plan {
            Plan::Bar {
                label,
                measure,
                aggregation,
                items,
                percent,
                ..
            } => {
                let x_desc = format!("{}{measure}", aggregation.word());
                draw_bar(&root, title, label, &x_desc, items, *percent)?
            }
            Plan::Columns {
                x,
                measure,
                items,
                percent,
            } => draw_columns(&root, title, x, measure, items, *percent)?,
            Plan::Pie { items, .. } => draw_pie(&root, title, items)?,
            Plan::GroupedBars {
                label,
                groups,
                series,
                ..
            } => draw_grouped_bars(&root, title, label, groups, series)?,
            Plan::Line {
                time,
                periods,
                series,
                y,
                percent,
                ..
            } => draw_line(&root, title, time, periods, series, y, *percent)?,
            Plan::Scatter { x, y, points } => draw_scatter(&root, title, x, y, points)?,
            Plan::Histogram { measure, values } => draw_histogram(&root, title, measure, values)?,
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// Horizontal bars, first item on top, category labels on the left; negative bars left of
/// zero in [`NEGATIVE`]; with `percent`, ticks and a label at each bar's end in percent.
fn draw_bar(
    root: &Area,
    title: &str,
    label: &str,
    measure: &str,
    items: &[Item],
    percent: bool,
) -> Result<(), ChartError> {
    let labels: Vec<String> = items
        .iter()
        .map(|i| truncate(&i.label, MAX_LABEL_CHARS))
        .collect();
    let n = items.len().max(1) as i32;
    let (lo, hi) = padded_range(items.iter().map(|i| i.value).chain([0.0]));
    // room for the value labels at the bars' ends
    let (lo, hi) = if percent {
        widen_for_labels(lo, hi)
    } else {
        (lo, hi)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width(&labels, 14))
        .build_cartesian_2d(lo..hi, (0..n - 1).into_segmented())
        .map_err(draw_err)?;
    let y_fmt = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(k) | SegmentValue::Exact(k) => labels
            .get((n - 1 - *k) as usize)
            .cloned()
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    let x_fmt = |x: &f64| tick(*x, percent);
    chart
        .configure_mesh()
        .max_light_lines(2)
        .disable_y_mesh()
        .y_labels(n as usize)
        .y_label_formatter(&y_fmt)
        .x_labels(8)
        .x_label_formatter(&x_fmt)
        .x_desc(measure)
        .y_desc(label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(items.iter().enumerate().map(|(i, item)| {
            let k = n - 1 - i as i32;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(k)),
                    (item.value.clamp(lo, hi), SegmentValue::Exact(k + 1)),
                ],
                bar_colour(item.value).filled(),
            );
            bar.set_margin(2, 2, 0, 0);
            bar
        }))
        .map_err(draw_err)?;
    if percent {
        chart
            .draw_series(items.iter().enumerate().map(|(i, item)| {
                let k = n - 1 - i as i32;
                let at = (item.value.clamp(lo, hi), SegmentValue::CenterOf(k));
                let (dx, anchor) = if item.value < 0.0 {
                    (-4, HPos::Right)
                } else {
                    (4, HPos::Left)
                };
                let style = (FONT, 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(anchor, VPos::Center));
                EmptyElement::at(at) + Text::new(fmt_percent(item.value), (dx, 0), style)
            }))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Vertical bars, one per period left to right, negative ones below zero in [`NEGATIVE`],
/// a line at zero; with `percent`, ticks and a label over (or under) each bar in percent.
fn draw_columns(
    root: &Area,
    title: &str,
    x: &str,
    measure: &str,
    items: &[Item],
    percent: bool,
) -> Result<(), ChartError> {
    let n = items.len().max(1) as i32;
    let (lo, hi) = padded_range(items.iter().map(|i| i.value).chain([0.0]));
    let (lo, hi) = if percent {
        widen_for_labels(lo, hi)
    } else {
        (lo, hi)
    };
    let longest = items
        .iter()
        .map(|i| i.label.chars().count())
        .max()
        .unwrap_or(4);
    let x_labels = (620 / (longest * 7 + 16)).clamp(2, 24);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d((0..n - 1).into_segmented(), lo..hi)
        .map_err(draw_err)?;
    let x_fmt = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(k) | SegmentValue::Exact(k) => items
            .get(*k as usize)
            .map(|i| truncate(&i.label, 12))
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    let y_fmt = |v: &f64| tick(*v, percent);
    chart
        .configure_mesh()
        .max_light_lines(2)
        .disable_x_mesh()
        .x_labels(x_labels)
        .x_label_formatter(&x_fmt)
        .y_labels(8)
        .y_label_formatter(&y_fmt)
        .x_desc(x)
        .y_desc(measure)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(items.iter().enumerate().map(|(i, item)| {
            let k = i as i32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(k), 0.0),
                    (SegmentValue::Exact(k + 1), item.value.clamp(lo, hi)),
                ],
                bar_colour(item.value).filled(),
            );
            bar.set_margin(0, 0, 3, 3);
            bar
        }))
        .map_err(draw_err)?;
    if lo < 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(SegmentValue::Exact(0), 0.0), (SegmentValue::Last, 0.0)],
                BLACK.stroke_width(1),
            )))
            .map_err(draw_err)?;
    }
    if percent && items.len() <= 24 {
        chart
            .draw_series(items.iter().enumerate().map(|(i, item)| {
                let at = (SegmentValue::CenterOf(i as i32), item.value.clamp(lo, hi));
                let (dy, v) = if item.value < 0.0 {
                    (4, VPos::Top)
                } else {
                    (-4, VPos::Bottom)
                };
                let style = (FONT, 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, v));
                EmptyElement::at(at) + Text::new(fmt_percent(item.value), (0, dy), style)
            }))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Horizontal bars in groups, first group on top, its label on the left beside the group; in
/// each group one bar per series, in the series' palette colour, named in a legend.
fn draw_grouped_bars(
    root: &Area,
    title: &str,
    label: &str,
    groups: &[String],
    series: &[Series],
) -> Result<(), ChartError> {
    let k = series.len().max(1) as i32;
    // a slot per bar and one between groups
    let slots = groups.len().max(1) as i32 * (k + 1) - 1;
    let slot_of = |g: usize, s: usize| slots - 1 - (g as i32 * (k + 1) + s as i32);
    let labels: Vec<String> = groups
        .iter()
        .map(|g| truncate(g, MAX_LABEL_CHARS))
        .collect();
    let (lo, hi) = padded_range(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .chain([0.0]),
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width(&labels, 14))
        .build_cartesian_2d(lo..hi, (0..slots - 1).into_segmented())
        .map_err(draw_err)?;
    // a group's label beside its first bar
    let y_fmt = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(y) | SegmentValue::Exact(y) => {
            let from_top = slots - 1 - *y;
            if from_top % (k + 1) == 0 {
                labels
                    .get((from_top / (k + 1)) as usize)
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            }
        }
        SegmentValue::Last => String::new(),
    };
    let x_fmt = |x: &f64| tick(*x, false);
    let x_desc = if series.len() == 1 {
        series[0].name.clone()
    } else {
        String::new()
    };
    chart
        .configure_mesh()
        .max_light_lines(2)
        .disable_y_mesh()
        .y_labels(slots as usize)
        .y_label_formatter(&y_fmt)
        .x_labels(8)
        .x_label_formatter(&x_fmt)
        .x_desc(x_desc)
        .y_desc(label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_err)?;
    for (si, s) in series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let bars = s.values.iter().enumerate().filter_map(|(g, v)| {
            let v = v.filter(|x| x.is_finite())?;
            let y = slot_of(g, si);
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(y)),
                    (v.clamp(lo, hi), SegmentValue::Exact(y + 1)),
                ],
                colour.filled(),
            );
            bar.set_margin(1, 1, 0, 0);
            Some(bar)
        });
        chart
            .draw_series(bars)
            .map_err(draw_err)?
            .label(truncate(&s.name, 24))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(draw_err)?;
    Ok(())
}

/// The colour of a bar of `value`: [`NEGATIVE`] below zero.
fn bar_colour(value: f64) -> RGBColor {
    if value < 0.0 {
        NEGATIVE
    } else {
        PALETTE[0]
    }
}

/// The range widened by an eighth of its span on each side that has values, so value labels
/// at the bars' ends stay inside the plot.
fn widen_for_labels(lo: f64, hi: f64) -> (f64, f64) {
    let pad = (hi - lo) / 8.0;
    let lo = if lo < 0.0 { lo - pad } else { lo };
    let hi = if hi > 0.0 { hi + pad } else { hi };
    (lo.max(-AXIS_LIMIT), hi.min(AXIS_LIMIT))
}

/// A tick label: a percentage (`25%`) when `percent`, else a compact number.
fn tick(x: f64, percent: bool) -> String {
    if percent {
        format!("{}%", fmt_axis(x))
    } else {
        fmt_axis(x)
    }
}

/// Wedges clockwise from twelve o'clock, labels outside, percentages inside.
fn draw_pie(root: &Area, title: &str, items: &[Item]) -> Result<(), ChartError> {
    let area = root.titled(title, (FONT, 22)).map_err(draw_err)?;
    let (w, h) = area.dim_in_pixel();
    // The pie draws in backend coordinates; the titled area sits below the title.
    let offset = (HEIGHT - h) as i32;
    let center = ((w / 2) as i32, offset + (h / 2) as i32);
    let radius = f64::from(h.min(w)) * 0.36;
    let sizes: Vec<f64> = items.iter().map(|i| i.value.max(0.0)).collect();
    let colors: Vec<RGBColor> = (0..items.len())
        .map(|i| PALETTE[i % PALETTE.len()])
        .collect();
    let labels: Vec<String> = items.iter().map(|i| truncate(&i.label, 20)).collect();
    let mut pie = Pie::new(&center, &radius, &sizes, &colors, &labels);
    pie.start_angle(-90.0);
    pie.label_style((FONT, 17).into_font().color(&BLACK));
    pie.label_offset(8.0);
    pie.percentages((FONT, 14).into_font().color(&WHITE));
    area.draw(&pie).map_err(draw_err)?;
    Ok(())
}

/// One line per series over evenly spaced periods, gaps where a period has no value.
fn draw_line(
    root: &Area,
    title: &str,
    time: &str,
    periods: &[String],
    series: &[Series],
    y: &[String],
    percent: bool,
) -> Result<(), ChartError> {
    let n = periods.len().max(1) as i32;
    let (lo, hi) = padded_range(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    );
    let longest = periods.iter().map(|p| p.chars().count()).max().unwrap_or(4);
    // About 7 px per character at size 14 (11.3 px in the SVG), plus a gap, across ~620 px.
    let x_labels = (620 / (longest * 7 + 16)).clamp(2, 24);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0..n - 1, lo..hi)
        .map_err(draw_err)?;
    let x_fmt = |i: &i32| {
        periods
            .get(*i as usize)
            .map(|p| truncate(p, 12))
            .unwrap_or_default()
    };
    let y_fmt = |v: &f64| tick(*v, percent);
    let y_desc = if y.len() == 1 {
        y[0].clone()
    } else {
        String::new()
    };
    chart
        .configure_mesh()
        .max_light_lines(2)
        .x_labels(x_labels)
        .x_label_formatter(&x_fmt)
        .y_labels(8)
        .y_label_formatter(&y_fmt)
        .x_desc(time)
        .y_desc(y_desc)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_err)?;
    for (k, s) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(i32, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i as i32, v.filter(|x| x.is_finite())?.clamp(lo, hi))))
            .collect();
        // Runs of consecutive periods, so a missing period leaves a gap.
        let mut runs: Vec<Vec<(i32, f64)>> = Vec::new();
        for p in &points {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|q| q.0 + 1 == p.0) => run.push(*p),
                _ => runs.push(vec![*p]),
            }
        }
        for (r, run) in runs.into_iter().enumerate() {
            let line = chart
                .draw_series(LineSeries::new(run, color.stroke_width(2)))
                .map_err(draw_err)?;
            if r == 0 && series.len() > 1 {
                line.label(truncate(&s.name, 20)).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            }
        }
        if points.len() <= 60 {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(draw_err)?;
        }
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Points of two measures.
fn draw_scatter(
    root: &Area,
    title: &str,
    x: &str,
    y: &str,
    points: &[(f64, f64)],
) -> Result<(), ChartError> {
    let (x0, x1) = padded_range(points.iter().map(|p| p.0));
    let (y0, y1) = padded_range(points.iter().map(|p| p.1));
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(draw_err)?;
    let fmt = |v: &f64| fmt_axis(*v);
    chart
        .configure_mesh()
        .max_light_lines(2)
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .x_desc(x)
        .y_desc(y)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(points.iter().map(|&(x, y)| {
            Circle::new(
                (x.clamp(x0, x1), y.clamp(y0, y1)),
                3,
                PALETTE[0].mix(0.7).filled(),
            )
        }))
        .map_err(draw_err)?;
    Ok(())
}

/// Counts of one measure in equal-width bins; the number of bins by Sturges' rule,
/// ceil(log2 n) + 1 (H. A. Sturges, JASA 1926), kept within 5..=30.
fn draw_histogram(
    root: &Area,
    title: &str,
    measure: &str,
    values: &[f64],
) -> Result<(), ChartError> {
    let counts = bin(values);
    let (lo, hi, width) = (counts.lo, counts.hi, counts.width);
    let top = counts.counts.iter().copied().max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(lo..hi, 0u32..top + top / 10 + 1)
        .map_err(draw_err)?;
    let fmt = |v: &f64| fmt_axis(*v);
    chart
        .configure_mesh()
        .max_light_lines(2)
        .disable_x_mesh()
        .x_label_formatter(&fmt)
        .x_desc(measure)
        .y_desc("count")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(counts.counts.iter().enumerate().map(|(i, &c)| {
            let left = lo + width * i as f64;
            let mut bar = Rectangle::new([(left, 0), (left + width, c)], PALETTE[0].filled());
            bar.set_margin(0, 0, 1, 1);
            bar
        }))
        .map_err(draw_err)?;
    Ok(())
}

/// Equal-width bins over the values' range.
pub(crate) struct Bins {
    pub lo: f64,
    pub hi: f64,
    pub width: f64,
    pub counts: Vec<u32>,
}

/// Bins finite values by Sturges' rule (5..=30 bins); a constant column gets one unit-wide bin.
pub(crate) fn bin(values: &[f64]) -> Bins {
    let finite: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-AXIS_LIMIT, AXIS_LIMIT))
        .collect();
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if finite.is_empty() || max - min <= 1e-9 * min.abs().max(max.abs()).max(1e-9) {
        let centre = if finite.is_empty() { 0.0 } else { min };
        let half = centre.abs().max(1.0) * 0.5;
        return Bins {
            lo: centre - half,
            hi: centre + half,
            width: 2.0 * half,
            counts: vec![finite.len() as u32],
        };
    }
    let k = ((finite.len() as f64).log2().ceil() as usize + 1).clamp(5, 30);
    let width = (max - min) / k as f64;
    let mut counts = vec![0u32; k];
    for v in finite {
        let i = (((v - min) / width) as usize).min(k - 1);
        counts[i] += 1;
    }
    Bins {
        lo: min,
        hi: max,
        width,
        counts,
    }
}

/// Largest magnitude an axis reaches: plotters' tick search works in powers of ten and must
/// not meet infinities, so absurd values are drawn clipped at this bound. Every drawn value is
/// also clamped to its axis range, because plotters maps values to `i32` pixels and overflows
/// on coordinates far outside the plot.
const AXIS_LIMIT: f64 = 1e100;

/// The range of the values widened by 5% each side (10% around a single value), finite and
/// within [`AXIS_LIMIT`].
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        let v = v.clamp(-AXIS_LIMIT, AXIS_LIMIT);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    // A span lost in the values' precision would make the tick search spin.
    if span <= 1e-9 * lo.abs().max(hi.abs()).max(1e-9) {
        let pad = lo.abs().max(1.0) * 0.1;
        return (lo - pad, hi + pad);
    }
    let pad = span * 0.05;
    // Do not pad below zero when the values start at zero (bars grow from the axis), nor
    // past the largest finite numbers.
    let lo = if lo == 0.0 || !(lo - pad).is_finite() {
        lo
    } else {
        lo - pad
    };
    let hi = if hi == 0.0 || !(hi + pad).is_finite() {
        hi
    } else {
        hi + pad
    };
    (lo, hi)
}

/// Pixels reserved for category labels at `size` px: the naive font's estimate (0.7 em per
/// character, em = size / 1.24²) plus room for the axis description.
fn label_width(labels: &[String], size: u32) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let em = f64::from(size) / 1.24 / 1.24;
    ((longest * em * 0.7 * 1.35) as u32 + 34).clamp(50, 280)
}

/// Axis tick text: compact for large numbers (12.5k, 3.4M, 1.2B), else up to 2 decimals.
fn fmt_axis(x: f64) -> String {
    let a = x.abs();
    let compact = |v: f64, unit: &str| {
        let s = format!("{:.1}", v);
        format!("{}{unit}", s.strip_suffix(".0").unwrap_or(&s))
    };
    if !x.is_finite() {
        String::new()
    } else if a >= 1e9 {
        compact(x / 1e9, "B")
    } else if a >= 1e6 {
        compact(x / 1e6, "M")
    } else if a >= 1e4 {
        compact(x / 1e3, "k")
    } else if x.fract() == 0.0 {
        fmt_number(x, true)
    } else {
        let s = format!("{:.2}", x);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    }
}

/// The text cut to `max` characters, ending with an ellipsis when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::tests::rows;
    use crate::answer::{build_answer, Answer};
    use serde_json::{json, Value};

    fn answer(question: &str, columns: &[&str], data: Vec<Vec<Value>>) -> Answer {
        build_answer(question, &rows(columns, data))
    }

    /// Parses the SVG as XML (panicking when it is not well formed: unbalanced or mismatched
    /// tags, bad escapes) and returns the trimmed contents of its `<text>` elements.
    fn svg_texts(svg: &str) -> Vec<String> {
        use quick_xml::events::Event;
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        let mut reader = quick_xml::Reader::from_str(svg);
        let (mut texts, mut in_text, mut depth) = (Vec::new(), false, 0i32);
        loop {
            match reader.read_event().expect("well-formed SVG") {
                Event::Start(e) => {
                    depth += 1;
                    in_text = e.name().as_ref() == b"text";
                }
                Event::End(_) => {
                    depth -= 1;
                    in_text = false;
                }
                Event::Text(t) if in_text => {
                    texts.push(t.unescape().expect("valid escapes").trim().to_string())
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "every element closed");
        texts
    }

    fn kind(a: &Answer) -> Option<ChartKind> {
        a.chart.as_ref().map(|c| c.kind)
    }

    fn zones() -> Vec<Vec<Value>> {
        ["North", "South", "East", "West"]
            .iter()
            .zip([5000.0, 1250.5, 2500.0, 1249.5])
            .map(|(z, v)| vec![json!(z), json!(v)])
            .collect()
    }

    fn months() -> Vec<Vec<Value>> {
        (1..=12)
            .map(|m| vec![json!(format!("2024-{m:02}")), json!(1000 + 37 * m * m)])
            .collect()
    }

    #[test]
    fn a_month_series_is_drawn_as_a_line() {
        let a = answer("monthly revenue in 2024", &["month", "revenue"], months());
        let c = a.chart.expect("a chart");
        assert_eq!(c.kind, ChartKind::Line);
        assert_eq!(c.x, "month");
        assert_eq!(c.y, vec!["revenue".to_string()]);
        let texts = svg_texts(&c.svg);
        assert!(texts.iter().any(|t| t == "2024-01"), "{texts:?}");
        assert!(c.svg.contains("<polyline"), "a line");
    }

    #[test]
    fn categories_with_one_measure_are_drawn_as_bars_with_their_labels() {
        let a = answer("revenue by zone", &["zone", "revenue"], zones());
        let c = a.chart.expect("a chart");
        assert_eq!(c.kind, ChartKind::Bar);
        assert_eq!(c.title, "Revenue by zone");
        let texts = svg_texts(&c.svg);
        for label in [
            "North",
            "South",
            "East",
            "West",
            "Revenue by zone",
            "revenue",
            "zone",
        ] {
            assert!(
                texts.iter().any(|t| t == label),
                "{label} missing from {texts:?}"
            );
        }
    }

    #[test]
    fn a_question_about_shares_over_few_categories_gets_a_pie() {
        let a = answer("share of revenue by zone", &["zone", "revenue"], zones());
        let c = a.chart.expect("a chart");
        assert_eq!(c.kind, ChartKind::Pie);
        let texts = svg_texts(&c.svg);
        for label in ["North", "50.0%", "West", "12.5%"] {
            assert!(
                texts.iter().any(|t| t == label),
                "{label} missing from {texts:?}"
            );
        }
        // A share over negative values is not a pie.
        let mut data = zones();
        data[0][1] = json!(-5.0);
        assert_eq!(
            kind(&answer(
                "share of profit by zone",
                &["zone", "profit"],
                data
            )),
            Some(ChartKind::Bar)
        );
    }

    #[test]
    fn rows_sharing_a_category_are_added_into_one_bar() {
        let data = vec![
            vec![json!("a"), json!(1)],
            vec![json!("b"), json!(5)],
            vec![json!("a"), json!(2)],
        ];
        let c = answer("units per category", &["category", "units"], data)
            .chart
            .unwrap();
        assert_eq!(c.kind, ChartKind::Bar);
        assert_eq!(c.title, "Total units by category");
        assert_eq!(c.y, vec!["units".to_string()]);
        assert!(svg_texts(&c.svg).iter().any(|t| t == "total units"));
    }

    #[test]
    fn a_share_question_over_many_categories_stays_a_bar() {
        let data: Vec<Vec<Value>> = (0..12)
            .map(|i| vec![json!(format!("c{i}")), json!(i + 1)])
            .collect();
        assert_eq!(
            kind(&answer(
                "breakdown of units by category",
                &["category", "units"],
                data
            )),
            Some(ChartKind::Bar)
        );
    }

    fn data_40() -> Vec<Vec<Value>> {
        (0..40)
            .map(|i| vec![json!(format!("item {i}")), json!((i * 7919) % 101)])
            .collect()
    }

    #[test]
    fn more_than_twenty_five_categories_are_capped_and_the_title_says_so() {
        let a = answer("units by item", &["item", "units"], data_40());
        let c = a.chart.unwrap();
        assert_eq!(c.title, "Units by item (top 25 of 40)");
        let profile = Profile::of("units by item", &rows(&["item", "units"], data_40()));
        let Some(Plan::Bar { items, .. }) =
            plan("units by item", &profile, &Findings::compute(&profile))
        else {
            panic!("a bar plan")
        };
        assert_eq!(items.len(), MAX_BARS);
        assert!(
            items.windows(2).all(|w| w[0].value >= w[1].value),
            "the highest kept, highest first"
        );
    }

    #[test]
    fn two_measures_without_a_dimension_make_a_scatter() {
        let data: Vec<Vec<Value>> = (0..20)
            .map(|i| vec![json!(i as f64 * 1.5), json!(100 - i)])
            .collect();
        let a = answer("price against units", &["price", "units"], data);
        let c = a.chart.unwrap();
        assert_eq!(c.kind, ChartKind::Scatter);
        assert_eq!(
            (c.x.as_str(), c.y.as_slice()),
            ("price", &["units".to_string()][..])
        );
        // Named alone, a measure goes up the y axis.
        let data: Vec<Vec<Value>> = (0..5).map(|i| vec![json!(i), json!(2 * i)]).collect();
        let c = answer("what drives units", &["units", "price"], data)
            .chart
            .unwrap();
        assert_eq!((c.x.as_str(), c.y[0].as_str()), ("price", "units"));
        assert!(c.svg.contains("<circle"));
        assert!(svg_texts(&c.svg).iter().any(|t| t == "Units against price"));
    }

    #[test]
    fn one_measure_alone_over_many_rows_makes_a_histogram() {
        let data: Vec<Vec<Value>> = (0..50)
            .map(|i| vec![json!((i * 37 % 23) as f64 + 0.5)])
            .collect();
        let a = answer("basket sizes", &["basket_value"], data);
        let c = a.chart.unwrap();
        assert_eq!(c.kind, ChartKind::Histogram);
        assert_eq!(c.y, vec!["count".to_string()]);
        let b = bin(&(0..50).map(|i| i as f64).collect::<Vec<_>>());
        assert_eq!(b.counts.len(), 7, "Sturges: ceil(log2 50) + 1");
        assert_eq!(b.counts.iter().sum::<u32>(), 50);
    }

    #[test]
    fn results_with_nothing_to_plot_have_no_chart() {
        assert_eq!(
            kind(&answer("how many", &["n"], vec![vec![json!(42)]])),
            None
        );
        let text = vec![vec![json!("a"), json!("x")], vec![json!("b"), json!("y")]];
        assert_eq!(kind(&answer("list names", &["name", "city"], text)), None);
        assert_eq!(
            kind(&answer("", &["v"], vec![vec![json!(1)], vec![json!(2)]])),
            None
        );
    }

    #[test]
    fn a_category_splits_a_time_series_into_lines_with_a_legend() {
        let mut data = Vec::new();
        for m in 1..=6 {
            for (z, base) in [("North", 100), ("South", 60)] {
                data.push(vec![
                    json!(format!("2024-0{m}")),
                    json!(z),
                    json!(base + m * 10),
                ]);
            }
        }
        let a = answer(
            "revenue by month and zone",
            &["month", "zone", "revenue"],
            data,
        );
        let c = a.chart.unwrap();
        assert_eq!(c.kind, ChartKind::Line);
        assert_eq!(c.title, "Revenue by month and zone");
        assert!(c.svg.matches("<polyline").count() >= 2);
        let texts = svg_texts(&c.svg);
        assert!(texts.iter().any(|t| t == "North") && texts.iter().any(|t| t == "South"));
    }

    #[test]
    fn non_finite_and_null_values_do_not_break_the_drawing() {
        let data = vec![
            vec![json!("2024-01-01"), json!(null)],
            vec![json!("2024-01-02"), json!(f64::MAX)],
            vec![json!("2024-01-03"), json!(-f64::MAX)],
            vec![json!(null), json!(3)],
        ];
        let a = answer("", &["day", "v"], data);
        assert!(a.chart.is_some());
        let huge: Vec<Vec<Value>> = (0..12)
            .map(|i| vec![json!(if i % 2 == 0 { f64::MAX } else { -f64::MAX })])
            .collect();
        let _ = answer("", &["v"], huge);
    }

    #[test]
    fn axis_numbers_are_compact() {
        assert_eq!(fmt_axis(12_500.0), "12.5k");
        assert_eq!(fmt_axis(3_000_000.0), "3M");
        assert_eq!(fmt_axis(0.25), "0.25");
        assert_eq!(fmt_axis(1500.0), "1,500");
    }

    #[test]
    fn labels_with_markup_characters_are_escaped_and_long_ones_cut() {
        let data = vec![
            vec![json!("R&D <lab> \"east\""), json!(3)],
            vec![
                json!("A very long category name that would not fit the margin"),
                json!(2),
            ],
        ];
        let c = answer("", &["department", "headcount"], data)
            .chart
            .unwrap();
        let texts = svg_texts(&c.svg);
        assert!(texts.iter().any(|t| t == "R&D <lab> \"east\""), "{texts:?}");
        assert!(
            texts.iter().any(|t| t == "A very long category name t…"),
            "{texts:?}"
        );
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
