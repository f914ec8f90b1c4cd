//! The semantic layer: business questions answered from metrics, dimensions and time, without
//! an LLM.
//!
//! Stages, each a typed value (STYLE 14, after dbt MetricFlow): the manifest ([`model`],
//! `knowledge/<db>/semantic.yml`, or [`infer`]red from the schema when none is curated) ->
//! the metric query a question is read as ([`read`] -> [`query`]) -> the plan that aggregates
//! each measure at its own grain before sources meet ([`plan`]) -> SQL per dialect
//! ([`compile`], [`dialect`]). [`SemanticLayer`] holds one database's manifest, its lexicon and
//! its reference date; the engine asks it first and falls through when it refuses.

pub mod compile;
pub mod dbt;
pub mod dialect;
pub mod infer;
pub mod model;
pub mod plan;
pub mod query;
pub mod read;

#[cfg(test)]
mod tests;

use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

pub use compile::{compile, CompiledQuery};
pub use model::{ManifestError, SemanticManifest};
pub use query::MetricQuery;
pub use read::{Lexicon, Reference, Refusal};

use crate::knowledge::ValueIndex;
use crate::warehouse::{Dialect, Schema};

/// The file of a domain's semantic model.
pub const SEMANTIC_FILE: &str = "semantic.yml";

/// One database's semantic layer: its manifest (curated or inferred), lexicon and reference date.
#[derive(Debug, Clone)]
pub struct SemanticLayer {
    pub manifest: SemanticManifest,
    pub lexicon: Lexicon,
    pub reference: Reference,
}

/// What the semantic layer made of a question.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Read and compiled.
    Compiled {
        query: MetricQuery,
        sql: String,
        columns: Vec<String>,
        /// The date relative periods counted from, and where it came from.
        reference: Reference,
        /// Milliseconds to read and compile.
        elapsed_ms: f64,
    },
    /// Not read (a word it does not know, no metric: `understood` false, the other generators
    /// get their turn) or read as a metric question it does not compute (a rank, a member's
    /// share: `understood` true, see `engine::generation`; a dimension no measure reaches is not).
    Refused {
        reason: String,
        unread: Vec<String>,
        understood: bool,
        /// The metrics named in a question read in part (see [`read::Refusal::metrics`]).
        metrics: Vec<String>,
    },
}

/// Reads `knowledge_dir/<domain>/semantic.yml`: `None` when there is none, else the manifest
/// or why it does not load.
pub fn load(knowledge_dir: &Path, domain: &str) -> Option<Result<SemanticManifest, ManifestError>> {
    load_file(&knowledge_dir.join(domain).join(SEMANTIC_FILE))
}

/// Reads the semantic model at `path`: `None` when there is no such file, else the manifest or
/// why it does not load (the error's path starts with the file's).
pub fn load_file(path: &Path) -> Option<Result<SemanticManifest, ManifestError>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(SemanticManifest::parse(&text).map_err(|mut e| {
        e.path = format!("{}: {}", path.display(), e.path);
        e
    }))
}

/// Writes `manifest` as `dir/semantic.yml` atomically (temp file, sync, rename), after
/// validating it: an invalid manifest is refused and nothing is written. Comments of the
/// previous file are not kept.
///
/// Errors: the manifest does not validate ([`ManifestError`], naming the item), or the folder or
/// file cannot be written.
pub fn save(dir: &Path, domain: &str, manifest: &SemanticManifest) -> anyhow::Result<()> {
    manifest.validate()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let text = format!(
        "# The semantic model of the '{domain}' domain (dbt MetricFlow's shape), written by querent.\n{}",
        serde_norway::to_string(manifest)?
    );
    crate::knowledge::files::write_atomic(&dir.join(SEMANTIC_FILE), &text)?;
    crate::knowledge::files::sync_dir(dir)
}

/// The name of the day-of-week dimension the layer adds to each model with a time dimension of
/// its own ([`add_day_of_week`]).
pub const DAY_OF_WEEK: &str = "day_of_week";

/// Adds to each semantic model whose default time dimension is its own a categorical dimension
/// `day_of_week`: the weekday's name of that date (MetricFlow's `date_part` `dow` on
/// `metric_time`, as a breakdown: "revenue by day of the week"). Its `expr` is the marker
/// `{{ day_of_week(column) }}`, which the planner writes in the warehouse's dialect. A model
/// with a dimension of that name keeps its own.
fn add_day_of_week(manifest: &mut SemanticManifest) {
    for m in &mut manifest.semantic_models {
        let Some(time) = m
            .defaults
            .as_ref()
            .and_then(|d| d.agg_time_dimension.clone())
            .and_then(|t| m.dimension(&t).map(|d| d.expr().to_string()))
        else {
            continue;
        };
        if m.dimension(DAY_OF_WEEK).is_some() {
            continue;
        }
        m.dimensions.push(model::Dimension {
            name: DAY_OF_WEEK.into(),
            kind: model::DimensionType::Categorical,
            expr: Some(format!("{{{{ day_of_week({time}) }}}}")),
            type_params: None,
            description: "The day of the week of the model's date (Monday to Sunday).".into(),
            synonyms: vec![
                "day of the week".into(),
                "days of the week".into(),
                "weekday".into(),
                "weekdays".into(),
                "day of week".into(),
            ],
        });
    }
}

/// Whether `d` is the day-of-week dimension the layer added ([`add_day_of_week`]), not one
/// of the curated or inferred model's.
pub fn is_added_day_of_week(d: &model::Dimension) -> bool {
    d.name == DAY_OF_WEEK && d.expr().trim_start().starts_with("{{ day_of_week(")
}

impl SemanticLayer {
    /// The layer of `manifest`; `latest` gives the latest date of the data when the reference
    /// date setting is `latest` (`QUERENT_REFERENCE_DATE`, else the manifest's
    /// `reference_date`, else today).
    pub fn new(
        manifest: SemanticManifest,
        latest: impl FnOnce(&SemanticManifest) -> Option<NaiveDate>,
    ) -> Self {
        let mut manifest = manifest;
        add_day_of_week(&mut manifest);
        let lexicon = Lexicon::build(&manifest);
        let setting = std::env::var("QUERENT_REFERENCE_DATE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| manifest.reference_date.clone())
            .unwrap_or_else(|| "today".into());
        let today = chrono::Local::now().date_naive();
        let reference = match setting.trim().to_ascii_lowercase().as_str() {
            "latest" => match latest(&manifest) {
                Some(d) => Reference {
                    date: d,
                    source: "latest",
                },
                None => Reference {
                    date: today,
                    source: "today",
                },
            },
            s => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Reference {
                    date: d,
                    source: "fixed",
                },
                Err(_) => Reference {
                    date: today,
                    source: "today",
                },
            },
        };
        SemanticLayer {
            manifest,
            lexicon,
            reference,
        }
    }

    /// SQL that gives the latest date of every measure's time dimension (one row, one column),
    /// or `None` when no model has one.
    pub fn latest_date_sql(manifest: &SemanticManifest, schema: &Schema) -> Option<String> {
        let mut parts = Vec::new();
        for m in &manifest.semantic_models {
            let Some(name) = m
                .defaults
                .as_ref()
                .and_then(|d| d.agg_time_dimension.as_deref())
            else {
                continue;
            };
            let (Some(d), Some(t)) = (m.dimension(name), schema.table(m.table())) else {
                continue;
            };
            let cols: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            let table = dialect::ident(Dialect::Sqlite, &t.name);
            parts.push(format!(
                "SELECT MAX({}) AS d FROM {table}",
                plan::qualify(d.expr(), &table, &cols)
            ));
        }
        (!parts.is_empty()).then(|| format!("SELECT MAX(d) FROM ({})", parts.join(" UNION ALL ")))
    }

    /// True when answering from this layer is allowed: a curated model always; an inferred one
    /// only with `QUERENT_SEMANTIC_INFERRED=answer` (it is shown by the API either way).
    pub fn answers(&self) -> bool {
        !self.manifest.inferred
            || std::env::var("QUERENT_SEMANTIC_INFERRED").is_ok_and(|v| v.trim() == "answer")
    }

    /// Reads `question` as a metric query without compiling it: `None` when it is not read
    /// whole (see [`read::read`]).
    pub fn read(
        &self,
        question: &str,
        schema: &Schema,
        values: &ValueIndex,
    ) -> Option<MetricQuery> {
        self.read_query(question, schema, values).ok()
    }

    fn read_query(
        &self,
        question: &str,
        schema: &Schema,
        values: &ValueIndex,
    ) -> Result<MetricQuery, Refusal> {
        read::read(
            question,
            &self.manifest,
            &self.lexicon,
            values,
            schema,
            self.reference,
        )
    }

    /// The period `query` covers, in a sentence for the answer, when the question (`analysis`)
    /// names no year (no year-like number) and the period was resolved against the reference date ("last quarter", "in
    /// March"): "Period: March 2024 (2024-03-01 to 2024-03-31), dates read from 2024-12-30, the
    /// latest date in the data." Side-by-side periods are listed in turn. `None` when the query
    /// has no period or the question states its year.
    pub fn period_note(
        &self,
        analysis: &crate::question::Analysis,
        query: &MetricQuery,
    ) -> Option<String> {
        if analysis.numbers.iter().any(|n| n.year_like) {
            return None;
        }
        let periods: Vec<String> = query
            .period
            .iter()
            .chain(query.columns.iter().filter_map(|c| match &c.slice {
                Some(query::Slice::Period(p)) => Some(p),
                _ => None,
            }))
            .filter_map(|p| {
                let (s, e) = (p.start?, p.end?.pred_opt()?);
                let text = p.text.trim();
                Some(
                    if !text.chars().any(char::is_alphabetic) || text.contains('_') {
                        format!("{s} to {e}")
                    } else {
                        format!("{text} ({s} to {e})")
                    },
                )
            })
            .collect();
        if periods.is_empty() {
            return None;
        }
        let source = match self.reference.source {
            "latest" => "the latest date in the data",
            "today" => "today",
            _ => "the configured reference date",
        };
        Some(format!(
            "Period: {}; dates read from {}, {source}.",
            periods.join(" and "),
            self.reference.date
        ))
    }

    /// Whether `question` names every metric of `query` by the metric's own name or label
    /// ("revenue", "units sold"), not only by a synonym ("sales"). Whole words, case aside.
    pub fn names_metrics_by_name(&self, question: &str, query: &MetricQuery) -> bool {
        let words = |s: &str| {
            let w: Vec<String> = s
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            format!(" {} ", w.join(" "))
        };
        let q = words(question);
        !query.columns.is_empty()
            && query.columns.iter().all(|c| {
                self.manifest.metric(&c.metric).is_some_and(|m| {
                    std::iter::once(m.name.as_str())
                        .chain(m.label.as_deref())
                        .any(|n| q.contains(&words(n)))
                })
            })
    }

    /// The table and column (names as the schema spells them) of a categorical dimension
    /// written as a bare column: of `d.model`, or of the only model with a dimension so named.
    /// `None` for a dimension computed from an expression, or one the schema does not have.
    pub fn dimension_column(
        &self,
        d: &query::DimensionRef,
        schema: &Schema,
    ) -> Option<(usize, usize)> {
        let mut models = self.manifest.semantic_models.iter().filter(|m| {
            d.model
                .as_deref()
                .is_none_or(|n| m.name.eq_ignore_ascii_case(n))
                && m.dimension(&d.name).is_some()
        });
        let model = models.next()?;
        if models.next().is_some() {
            return None;
        }
        let dim = model.dimension(&d.name)?;
        let column = dim.expr.as_deref().unwrap_or(&dim.name).trim();
        if !column.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let t = schema
            .tables
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(model.table()))?;
        let c = schema.tables[t]
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(column))?;
        Some((t, c))
    }

    /// Reads and compiles `question`.
    pub fn answer(
        &self,
        question: &str,
        schema: &Schema,
        values: &ValueIndex,
        dialect: Dialect,
    ) -> Outcome {
        let started = std::time::Instant::now();
        let q = match self.read_query(question, schema, values) {
            Ok(q) => q,
            Err(r) => {
                return Outcome::Refused {
                    reason: r.reason,
                    unread: r.unread,
                    understood: r.understood,
                    metrics: r.metrics,
                }
            }
        };
        match compile(&self.manifest, schema, dialect, &q) {
            Ok(c) => Outcome::Compiled {
                query: q,
                sql: c.sql,
                columns: c.columns,
                reference: self.reference,
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            },
            // a model that cannot express what was read (a dimension no measure reaches): the
            // other generators may still read the question their way
            Err(e) => Outcome::Refused {
                reason: e.0,
                unread: Vec::new(),
                understood: false,
                metrics: Vec::new(),
            },
        }
    }
}

/// The layer of database `name`: its curated `semantic.yml` when there is one, else the model
/// [`infer::infer`]red from its schema, with its reference date; `first_cell` runs SQL and gives the first value of its first row
/// as text (for the latest date of the data). A model that does not load is an `Err` with why.
pub fn layer_for(
    knowledge_dir: &Path,
    name: &str,
    schema: &Schema,
    first_cell: impl Fn(&str) -> Option<String>,
) -> Option<Result<SemanticLayer, ManifestError>> {
    layer_of(load(knowledge_dir, name), schema, first_cell)
}

/// The layer of an already read curated model (`loaded`, as [`load`] gives it): the model when
/// it loaded, the one [`infer::infer`]red from `schema` when there is none, or why it does not
/// load; see [`layer_for`].
pub fn layer_of(
    loaded: Option<Result<SemanticManifest, ManifestError>>,
    schema: &Schema,
    first_cell: impl Fn(&str) -> Option<String>,
) -> Option<Result<SemanticLayer, ManifestError>> {
    let manifest = match loaded {
        Some(Ok(m)) => m,
        Some(Err(e)) => return Some(Err(e)),
        None => infer::infer(schema),
    };
    Some(Ok(SemanticLayer::new(manifest, |m| {
        let sql = SemanticLayer::latest_date_sql(m, schema)?;
        let text = first_cell(&sql)?;
        NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
    })))
}

impl Outcome {
    /// The reasoning trace step of this outcome.
    pub fn trace(&self) -> crate::sql::TraceStep {
        match self {
            Outcome::Compiled {
                query,
                reference,
                elapsed_ms,
                ..
            } => {
                let period = query.period.as_ref().map(|p| {
                    format!(
                        "{} = [{}, {})",
                        p.text,
                        p.start.map(|d| d.to_string()).unwrap_or_else(|| "…".into()),
                        p.end.map(|d| d.to_string()).unwrap_or_else(|| "…".into())
                    )
                });
                // "which genres had no sales": the instances without the metric's rows
                let absent = if query.absent {
                    "the instances without rows of "
                } else {
                    ""
                };
                crate::sql::TraceStep::new(
                    "semantic",
                    format!(
                        "read as a metric query: {absent}{}{}{}",
                        query
                            .columns
                            .iter()
                            .map(|c| c.metric.clone())
                            .chain(
                                query
                                    .entity_count
                                    .iter()
                                    .map(|e| format!("count of {}", e.entity))
                            )
                            .collect::<Vec<_>>()
                            .join(", "),
                        period.map(|p| format!("; period {p}")).unwrap_or_default(),
                        format!(
                            "; relative dates from {} ({})",
                            reference.date, reference.source
                        ),
                    ),
                    serde_json::json!({
                        "metric_query": query,
                        "reference_date": reference.date.to_string(),
                        "reference_source": reference.source,
                        "elapsed_ms": elapsed_ms,
                    }),
                )
            }
            Outcome::Refused {
                reason,
                unread,
                understood,
                metrics,
            } => {
                crate::sql::TraceStep::new(
                    "semantic",
                    if *understood {
                        format!("read as a metric question the semantic layer does not compute: {reason}")
                    } else {
                        format!("not a metric question the semantic model can read: {reason}")
                    },
                    serde_json::json!({ "reason": reason, "unread": unread, "understood": understood, "metrics": metrics }),
                )
            }
        }
    }
}

impl SemanticLayer {
    /// The metrics a question names (by name, label or synonym), each as a business rule whose
    /// SQL is the metric compiled alone: what the LLM's prompt carries as definitions in effect.
    pub fn metric_rules(
        &self,
        question: &str,
        schema: &Schema,
        dialect: Dialect,
    ) -> Vec<crate::knowledge::BusinessRule> {
        let words: Vec<String> = crate::question::tokens::tokenize(question)
            .into_iter()
            .map(|t| t.stem)
            .collect();
        let text = format!(" {} ", words.join(" "));
        let mut out = Vec::new();
        for m in &self.manifest.metrics {
            let named = std::iter::once(m.name.replace('_', " "))
                .chain(m.label.clone())
                .chain(m.synonyms.iter().cloned())
                .any(|p| {
                    let stems: Vec<String> = crate::question::tokens::tokenize(&p)
                        .into_iter()
                        .map(|t| t.stem)
                        .collect();
                    !stems.is_empty() && text.contains(&format!(" {} ", stems.join(" ")))
                });
            if !named {
                continue;
            }
            let q = MetricQuery {
                columns: vec![query::MetricColumn {
                    metric: m.name.clone(),
                    slice: None,
                }],
                ..Default::default()
            };
            let Ok(c) = compile(&self.manifest, schema, dialect, &q) else {
                continue;
            };
            out.push(crate::knowledge::BusinessRule {
                name: m.display(),
                description: format!("{} (semantic model metric `{}`)", m.description, m.name),
                keywords: m.synonyms.clone(),
                sql: Some(c.sql),
                table: None,
                kind: "measure".into(),
                source: SEMANTIC_FILE.into(),
            });
        }
        out
    }
}
