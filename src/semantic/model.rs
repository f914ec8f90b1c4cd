//! The semantic manifest: dbt MetricFlow's `semantic_models` and `metrics`, read from
//! `knowledge/<db>/semantic.yml`, plus querent's extensions (`description`, `synonyms`, named
//! `filters`, an entity's `label` dimension) that dbt ignores.
//!
//! Shapes follow MetricFlow's legacy YAML spec: a semantic model names its table (`model:
//! ref('sales_data')` or a bare table name), its `entities` (join keys: `primary`, `foreign`,
//! `unique`, `natural`), `dimensions` (`categorical` or `time` with a `time_granularity`) and
//! `measures` (`agg` over an `expr`, with an `agg_time_dimension`); a metric is `simple` (one
//! measure), `ratio` (numerator / denominator metrics), `derived` (an expression over metrics)
//! or `cumulative` (a measure accumulated over time). [`SemanticManifest::parse`] validates
//! every reference once, so that later stages can trust the names they hold.

use serde::{Deserialize, Serialize};

/// Aggregations a measure may use (MetricFlow's `agg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Sum,
    Count,
    CountDistinct,
    Average,
    Min,
    Max,
    Median,
    /// dbt's `sum_boolean`: the number of rows where the expression is true.
    SumBoolean,
}

/// An entity's role in its semantic model: the join keys of the semantic graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Primary,
    Unique,
    Foreign,
    Natural,
}

/// A dimension's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionType {
    Categorical,
    Time,
}

/// A metric's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    Simple,
    Ratio,
    Derived,
    Cumulative,
}

/// Calendar grains of time dimensions and metric queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }
}

/// The whole model of one database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SemanticManifest {
    #[serde(default)]
    pub semantic_models: Vec<SemanticModel>,
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Named filters (querent's extension; the migrated `filter` business rules).
    #[serde(default)]
    pub filters: Vec<NamedFilter>,
    /// True when inferred from the schema and the data rather than curated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
    /// querent: what relative periods ("last year") count from: `today`, `latest` (the latest
    /// date of the measures' time dimensions) or a date `YYYY-MM-DD`; `QUERENT_REFERENCE_DATE`
    /// overrides it. Today when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<String>,
}

/// A semantic model: one table with its entities, dimensions and measures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SemanticModel {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The table: `ref('name')` or the bare name.
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<ModelDefaults>,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub measures: Vec<Measure>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
}

/// `defaults:` of a semantic model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelDefaults {
    #[serde(default)]
    pub agg_time_dimension: Option<String>,
}

/// A join key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: EntityType,
    /// The column (or SQL expression) of the key; the entity's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// querent: the dimension that names one instance (a primary entity's `store_name`), shown
    /// instead of the key when a question groups by the entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// querent: the dimensions that show one instance side by side, in order, instead of the
    /// `label` (a person by `first_name` and `last_name`, as analysts list people).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<String>,
}

/// Something to group and filter by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dimension {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: DimensionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_params: Option<DimensionTypeParams>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// `type_params` of a time dimension.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DimensionTypeParams {
    pub time_granularity: Grain,
}

/// A value to aggregate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measure {
    pub name: String,
    pub agg: Agg,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agg_time_dimension: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// A business metric.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: MetricType,
    #[serde(default)]
    pub type_params: MetricTypeParams,
    /// A condition on the metric's rows: SQL over its model's columns, or dbt's
    /// `{{ Dimension('entity__dimension') }}` references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// querent: lower values are better (a rank "top" orders ascending).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lower_is_better: bool,
}

/// `type_params` of a metric; which fields apply depends on its type.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MetricTypeParams {
    /// simple, cumulative: the measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<MetricInput>,
    /// ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<MetricInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<MetricInput>,
    /// derived: an expression over the input metrics' names (or aliases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricInput>,
    /// cumulative: a trailing window (`7 days`), or none for all time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// cumulative: restart at each period of this grain (month-to-date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain_to_date: Option<Grain>,
}

/// A metric or measure input: a bare name or `{name, filter, alias}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricInput {
    Name(String),
    Full {
        name: String,
        #[serde(default)]
        filter: Option<String>,
        #[serde(default)]
        alias: Option<String>,
    },
}

impl MetricInput {
    pub fn name(&self) -> &str {
        match self {
            MetricInput::Name(n) => n,
            MetricInput::Full { name, .. } => name,
        }
    }
    pub fn filter(&self) -> Option<&str> {
        match self {
            MetricInput::Name(_) => None,
            MetricInput::Full { filter, .. } => filter.as_deref(),
        }
    }
    /// The name the derived expression uses for this input.
    pub fn alias(&self) -> &str {
        match self {
            MetricInput::Full { alias: Some(a), .. } => a,
            _ => self.name(),
        }
    }
}

/// A named condition (querent's extension): "on promotion" is `promotion_flag = 1` on sales.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedFilter {
    pub name: String,
    /// The semantic model whose columns `expr` uses.
    pub semantic_model: String,
    pub expr: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// A manifest that does not hold together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ManifestError {
    /// Where: `metrics[revenue].type_params.measure`.
    pub path: String,
    pub message: String,
}

impl SemanticModel {
    /// The table this model reads (`ref('x')` gives `x`).
    pub fn table(&self) -> &str {
        let m = self.model.trim();
        if let Some(inner) = m.strip_prefix("ref(").and_then(|s| s.strip_suffix(')')) {
            return inner.trim().trim_matches(|c| c == '\'' || c == '"');
        }
        m
    }

    pub fn dimension(&self, name: &str) -> Option<&Dimension> {
        self.dimensions
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn measure(&self, name: &str) -> Option<&Measure> {
        self.measures
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// The primary (or unique) entity: what one row of this model is.
    pub fn primary_entity(&self) -> Option<&Entity> {
        self.entities
            .iter()
            .find(|e| matches!(e.kind, EntityType::Primary | EntityType::Unique))
    }

    /// The name of the time dimension a measure is aggregated over: its own, else the model's
    /// default; `entity__dimension` names a time dimension reached through an entity.
    pub fn agg_time_dimension_name<'m>(&'m self, measure: &'m Measure) -> Option<&'m str> {
        measure.agg_time_dimension.as_deref().or(self
            .defaults
            .as_ref()
            .and_then(|d| d.agg_time_dimension.as_deref()))
    }

    /// The time dimension a measure is aggregated over, when it is on this model.
    pub fn agg_time_dimension(&self, measure: &Measure) -> Option<&Dimension> {
        let name = measure.agg_time_dimension.as_deref().or(self
            .defaults
            .as_ref()
            .and_then(|d| d.agg_time_dimension.as_deref()))?;
        self.dimension(name)
            .filter(|d| d.kind == DimensionType::Time)
    }
}

impl Entity {
    pub fn expr(&self) -> &str {
        self.expr.as_deref().unwrap_or(&self.name)
    }
}

impl Dimension {
    pub fn expr(&self) -> &str {
        self.expr.as_deref().unwrap_or(&self.name)
    }
    pub fn granularity(&self) -> Grain {
        self.type_params
            .as_ref()
            .map(|p| p.time_granularity)
            .unwrap_or(Grain::Day)
    }
}

impl Measure {
    pub fn expr(&self) -> &str {
        self.expr.as_deref().unwrap_or(&self.name)
    }
}

impl Metric {
    /// The names of the metrics this one is computed from: a derived metric's `metrics`, a
    /// ratio's numerator and denominator (MetricFlow's `type_params`); none for a simple one.
    pub fn input_names(&self) -> Vec<String> {
        let p = &self.type_params;
        p.metrics
            .iter()
            .chain(p.numerator.iter())
            .chain(p.denominator.iter())
            .map(|i| i.name().to_string())
            .collect()
    }

    /// The name people read: the label, else the name with underscores as spaces.
    pub fn display(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.name.replace('_', " "))
    }
}

impl SemanticManifest {
    /// Reads and validates a manifest from YAML text.
    ///
    /// Errors: YAML that does not parse or fit the shape, or a reference that does not resolve
    /// (a measure's model, a metric's measure or input metric, an agg_time_dimension, a filter's
    /// semantic model), a cycle among derived metrics.
    pub fn parse(yaml: &str) -> Result<Self, ManifestError> {
        let manifest: SemanticManifest =
            serde_norway::from_str(yaml).map_err(|e| ManifestError {
                path: "semantic.yml".into(),
                message: e.to_string(),
            })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks every reference of the manifest.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let err = |path: String, message: String| Err(ManifestError { path, message });
        for m in &self.semantic_models {
            for measure in &m.measures {
                let local = measure
                    .agg_time_dimension
                    .as_deref()
                    .is_some_and(|n| !n.contains("__"));
                if local && m.agg_time_dimension(measure).is_none() {
                    return err(
                        format!("semantic_models[{}].measures[{}]", m.name, measure.name),
                        "agg_time_dimension is not a time dimension of the model".into(),
                    );
                }
            }
            for e in &m.entities {
                if let Some(label) = &e.label {
                    if m.dimension(label).is_none() {
                        return err(
                            format!("semantic_models[{}].entities[{}].label", m.name, e.name),
                            format!("no dimension '{label}' in the model"),
                        );
                    }
                }
                for d in &e.display {
                    if m.dimension(d).is_none() {
                        return err(
                            format!("semantic_models[{}].entities[{}].display", m.name, e.name),
                            format!("no dimension '{d}' in the model"),
                        );
                    }
                }
            }
        }
        for metric in &self.metrics {
            let path = format!("metrics[{}]", metric.name);
            let p = &metric.type_params;
            match metric.kind {
                MetricType::Simple | MetricType::Cumulative => {
                    let Some(measure) = &p.measure else {
                        return err(
                            path,
                            "a simple or cumulative metric needs type_params.measure".into(),
                        );
                    };
                    if self.measure(measure.name()).is_none() {
                        return err(
                            format!("{path}.type_params.measure"),
                            format!("no measure '{}'", measure.name()),
                        );
                    }
                }
                MetricType::Ratio => {
                    for (what, input) in
                        [("numerator", &p.numerator), ("denominator", &p.denominator)]
                    {
                        let Some(input) = input else {
                            return err(path, format!("a ratio metric needs type_params.{what}"));
                        };
                        if self.metric(input.name()).is_none() {
                            return err(
                                format!("{path}.type_params.{what}"),
                                format!("no metric '{}'", input.name()),
                            );
                        }
                    }
                }
                MetricType::Derived => {
                    if p.expr.is_none() || p.metrics.is_empty() {
                        return err(
                            path,
                            "a derived metric needs type_params.expr and metrics".into(),
                        );
                    }
                    for input in &p.metrics {
                        if self.metric(input.name()).is_none() {
                            return err(
                                format!("{path}.type_params.metrics"),
                                format!("no metric '{}'", input.name()),
                            );
                        }
                    }
                }
            }
            if self.depth(&metric.name, 0).is_none() {
                return err(path, "metrics refer to each other in a cycle".into());
            }
        }
        for f in &self.filters {
            if self.model(&f.semantic_model).is_none() {
                return err(
                    format!("filters[{}].semantic_model", f.name),
                    format!("no semantic model '{}'", f.semantic_model),
                );
            }
        }
        Ok(())
    }

    fn depth(&self, metric: &str, d: usize) -> Option<usize> {
        if d > 16 {
            return None;
        }
        let m = self.metric(metric)?;
        let inputs: Vec<&MetricInput> = match m.kind {
            MetricType::Ratio => [&m.type_params.numerator, &m.type_params.denominator]
                .into_iter()
                .flatten()
                .collect(),
            MetricType::Derived => m.type_params.metrics.iter().collect(),
            _ => Vec::new(),
        };
        let mut max = d;
        for i in inputs {
            max = max.max(self.depth(i.name(), d + 1)?);
        }
        Some(max)
    }

    pub fn model(&self, name: &str) -> Option<&SemanticModel> {
        self.semantic_models
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn filter(&self, name: &str) -> Option<&NamedFilter> {
        self.filters
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The measure a simple or cumulative metric of this name aggregates, with its model;
    /// `None` for a ratio or derived metric or an unknown name.
    pub fn metric_measure(&self, metric: &str) -> Option<(&SemanticModel, &Measure)> {
        let m = self.metric(metric)?;
        if !matches!(m.kind, MetricType::Simple | MetricType::Cumulative) {
            return None;
        }
        self.measure(m.type_params.measure.as_ref()?.name())
    }

    /// The measure of this name and the model it belongs to.
    pub fn measure(&self, name: &str) -> Option<(&SemanticModel, &Measure)> {
        self.semantic_models
            .iter()
            .find_map(|m| m.measure(name).map(|x| (m, x)))
    }

    pub fn is_empty(&self) -> bool {
        self.semantic_models.is_empty()
    }
}
