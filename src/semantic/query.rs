//! The metric query: what a business question asks, as a typed value (MetricFlow's query spec).
//!
//! The reader ([`super::read`]) builds one from a question; the planner ([`super::plan`])
//! resolves it against the manifest and the compiler renders it as SQL. Names here are the
//! manifest's names; nothing is SQL yet.

use chrono::NaiveDate;
use serde::Serialize;

use super::model::Grain;

/// A half-open date range `[start, end)` on each measure's own time dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// The words that named it ("in 2024", "last quarter").
    pub text: String,
}

impl Period {
    /// True when the period has both ends and lies within one calendar year.
    pub fn within_one_year(&self) -> bool {
        use chrono::Datelike;
        match (self.start, self.end.and_then(|e| e.pred_opt())) {
            (Some(s), Some(last)) => s.year() == last.year(),
            _ => false,
        }
    }

    /// True when the period is one whole calendar year (January 1 to the next January 1).
    pub fn whole_year(&self) -> bool {
        use chrono::Datelike;
        match (self.start, self.end) {
            (Some(s), Some(e)) => {
                s.month() == 1
                    && s.day() == 1
                    && e.month() == 1
                    && e.day() == 1
                    && e.year() == s.year() + 1
            }
            _ => false,
        }
    }

    /// A short label for a column (`2024`, `2024_q2`, `2023_12`, or the dates).
    pub fn label(&self) -> String {
        use chrono::Datelike;
        match (self.start, self.end) {
            (Some(s), Some(e)) => {
                let months = (e.year() - s.year()) * 12 + e.month() as i32 - s.month() as i32;
                if s.day() == 1 && e.day() == 1 && s.month() == 1 && months == 12 {
                    format!("{}", s.year())
                } else if s.day() == 1 && e.day() == 1 && months == 3 && (s.month() - 1) % 3 == 0 {
                    format!("{}_q{}", s.year(), (s.month() - 1) / 3 + 1)
                } else if s.day() == 1 && e.day() == 1 && months == 1 {
                    format!("{}_{:02}", s.year(), s.month())
                } else {
                    format!(
                        "{}_to_{}",
                        s.format("%Y%m%d"),
                        (e - chrono::Duration::days(1)).format("%Y%m%d")
                    )
                }
            }
            (Some(s), None) => format!("since_{}", s.format("%Y%m%d")),
            (None, Some(e)) => format!("before_{}", e.format("%Y%m%d")),
            (None, None) => "all_time".into(),
        }
    }
}

/// A dimension named by a question: `dimension` of `model` (the planner picks the model
/// reachable from the measures when `model` is `None`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionRef {
    pub model: Option<String>,
    pub name: String,
}

/// What a group-by is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroupBy {
    /// A categorical dimension.
    Dimension(DimensionRef),
    /// An entity ("by store"): shown by its label dimension, grouped by its key.
    Entity { name: String },
}

/// A condition on the rows of every measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Filter {
    /// `dimension IN (values)` (or `NOT IN` when `negated`).
    Members {
        dimension: DimensionRef,
        values: Vec<String>,
        negated: bool,
    },
    /// A named filter of the manifest, or its negation.
    Named { name: String, negated: bool },
    /// Instances named by several dimensions at once, a person by first and last name ("Jane
    /// Peacock versus Margaret Park"): the rows where the dimensions hold one of `rows`, each
    /// row one value per dimension, in order.
    Instances {
        dimensions: Vec<DimensionRef>,
        rows: Vec<Vec<String>>,
    },
}

impl Filter {
    /// The filter that keeps the rows of `slice`; `None` for a period (the query's period
    /// states it).
    pub fn of_slice(slice: &Slice) -> Option<Filter> {
        match slice {
            Slice::Member {
                dimension,
                value,
                negated,
            } => Some(Filter::Members {
                dimension: dimension.clone(),
                values: vec![value.clone()],
                negated: *negated,
            }),
            Slice::Named { name, negated } => Some(Filter::Named {
                name: name.clone(),
                negated: *negated,
            }),
            Slice::Period(_) => None,
        }
    }
}

impl Slice {
    /// The slice of the rows `filter` keeps; `None` for a filter on several members (a slice
    /// is one member).
    pub fn of_filter(filter: &Filter) -> Option<Slice> {
        match filter {
            Filter::Members {
                dimension,
                values,
                negated,
            } => match values.as_slice() {
                [value] => Some(Slice::Member {
                    dimension: dimension.clone(),
                    value: value.clone(),
                    negated: *negated,
                }),
                _ => None,
            },
            Filter::Named { name, negated } => Some(Slice::Named {
                name: name.clone(),
                negated: *negated,
            }),
            Filter::Instances { .. } => None,
        }
    }
}

/// One column of figures: a metric, optionally restricted to a slice (a member, a filter, a
/// period) so that slices sit side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricColumn {
    pub metric: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<Slice>,
}

/// The restriction of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Slice {
    /// The rows of one member, or (`negated`) of every other member: "highly elastic products
    /// compared with all other products".
    Member {
        dimension: DimensionRef,
        value: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        negated: bool,
    },
    Named {
        name: String,
        negated: bool,
    },
    Period(Period),
}

/// The number of instances of an entity ("how many products"), counted through a fact's
/// foreign key when the question names a period or a fact's filter, else on its own model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityCount {
    pub entity: String,
    /// Counted through the model of this metric ("how many stores had at least one price
    /// change": the stores among the price changes' rows), not through any fact reaching it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
    /// The instances of one slice counted beside all of them, for their share ("what percent
    /// of stores are in the North zone": the North's stores among all stores, with
    /// [`Derived::ShareOfWhole`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<Slice>,
}

/// The number of distinct values of a dimension ("how many brands", "number of categories
/// sold in Snacks"): counted on the dimension's own model, or among the rows of a fact when
/// the question names a period, a fact's filter, or `through` a metric's rows (a sale).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionCount {
    pub dimension: DimensionRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
}

/// A figure computed from the aggregated rows (post-aggregation, in SQL).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Derived {
    /// Each row's percent of the total (of its period, when grouped by time and more).
    ShareOfTotal,
    /// Growth from the first period column to the second (`columns` hold two period slices).
    PeriodGrowth,
    /// The change from the first period column to the second in the metric's own units ("the
    /// difference", "the largest increase in revenue"), shown beside the growth in percent; the
    /// change is the figure that orders the rows.
    PeriodDifference,
    /// The growth, only on rows whose later period is lower (`decline`) or higher than the
    /// earlier one: "which stores had lower revenue in 2024 than in 2023".
    PeriodGrowthWhere { decline: bool },
    /// Change from the previous row of the time series, `lag` periods back (1: period over
    /// period; 12 at month grain: year over year).
    PeriodOverPeriod { lag: u32 },
    /// Running total over time (within each group).
    RunningTotal,
    /// Rank within the group of the first group-by (the second group-by is ranked).
    RankWithin { top: Option<u64>, ascending: bool },
    /// Only rows above (or below) the average: of all rows' figures, or, when `of_whole`, the
    /// metric over the whole (an average or a ratio: "countries whose average invoice is below
    /// the overall average invoice" compares with the average over every invoice).
    VersusAverage {
        above: bool,
        #[serde(default)]
        of_whole: bool,
        /// The figure is an average per these entities ([`Derived::AveragePer`]), compared
        /// with the same average over the whole: "zones with below-average revenue per store".
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        per: Vec<String>,
    },
    /// Each row's rank on the figure (`RANK()`, 1 = highest unless `ascending`), rows in rank
    /// order: "rank the zones by margin".
    Rank { ascending: bool },
    /// The part's percent of the whole: the first column (the metric on a member) over the
    /// second (the same metric, all members): "what share of revenue came from Rock".
    ShareOfWhole,
    /// The average over the rows of a finer breakdown: the metric is aggregated per
    /// `per` entities and at the query's time grain, then averaged within the query's other
    /// group-bys ("average weekly revenue per store", "units per store in an average week").
    AveragePer { per: Vec<String> },
    /// The first figure per unit of the second, each aggregated on its own ("revenue per square
    /// foot by store format": the format's revenue over its stores' square feet); a period
    /// applies to the figures with a time dimension.
    Ratio,
}

/// Ordering of the result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// Which column: the first metric column unless a time series.
    pub by: OrderBy,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderBy {
    /// The first figure (the metric, or the derived figure when there is one).
    Figure,
    /// The time dimension.
    Time,
    /// The group-by columns, in order.
    Groups,
}

/// A metric query.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct MetricQuery {
    pub columns: Vec<MetricColumn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_count: Option<EntityCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension_count: Option<DimensionCount>,
    pub group_by: Vec<GroupBy>,
    /// Group by each measure's agg_time_dimension at this grain (`metric_time`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_grain: Option<Grain>,
    pub filters: Vec<Filter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived: Option<Derived>,
    pub order: Vec<Order>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// A condition on the figure of each row ("stores that sold more than $1M"): SQL's
    /// `HAVING`, applied after the figure is computed and before the order and the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub having: Option<Threshold>,
    /// "How many stores sold more than $1M in 2024": one row, the number of rows of the
    /// breakdown that pass [`having`](Self::having).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub count_rows: bool,
    /// "Which genres had no sales in 2024": the instances of the one entity breakdown that no
    /// row of the metric reaches (in the period and filters), listed by their label; the figure
    /// is not shown (an anti-join: `key NOT IN (the keys of the metric's rows)`); with
    /// [`count_rows`](Self::count_rows), their number ("how many products had no price
    /// change").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
    /// "Gross margin by department, and what share of the total did each account for", "how
    /// much revenue came from promotions and what percent of the total was it": the figure (the
    /// part's, for [`Derived::ShareOfWhole`]) is shown before its share, since both are asked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub share_with_figure: bool,
}

impl MetricQuery {
    /// The figures each row shows: the metric columns, and an entity or a dimension count.
    pub fn figure_count(&self) -> usize {
        self.columns.len()
            + usize::from(self.entity_count.is_some())
            + usize::from(self.dimension_count.is_some())
    }
}

/// A comparison of a row's figure with a number ("more than 1,000,000", "at most 10").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// `>`, `>=`, `<` or `<=`.
    pub op: String,
    /// The number compared with, in the metric's unit ("$1.5M" is 1500000).
    pub value: f64,
}
