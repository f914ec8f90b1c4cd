//! The plan: a metric query resolved against the manifest and the schema (MetricFlow's
//! dataflow plan, in small).
//!
//! Each measure is aggregated in its own source, one per semantic model: the model's table
//! joined to the models its entities reach many-to-one (foreign key to primary key only, so a
//! join never multiplies the measure's rows), filtered by the query's conditions and the
//! period on the measure's own `agg_time_dimension`, grouped by the query's keys. Sources
//! then meet on those keys ([`super::compile`]), never row by row: no fan-out.

use std::collections::{BTreeMap, VecDeque};

use super::dialect::{self as sqld, ident};
use super::model::{Agg, Dimension, EntityType, MetricType, SemanticManifest, SemanticModel};
use super::query::{DimensionRef, Filter, GroupBy, MetricQuery, Period, Slice};
use crate::warehouse::{Dialect, Schema};

/// Why a query cannot be planned: a name that does not resolve, a dimension no measure
/// reaches, an aggregate the dialect lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

pub type PlanResult<T> = Result<T, PlanError>;

fn fail<T>(msg: impl Into<String>) -> PlanResult<T> {
    Err(PlanError(msg.into()))
}

/// One many-to-one join: `from.from_expr = to.to_expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub entity: String,
}

/// A grouping key of every source: output name, SQL per source is computed per model.
#[derive(Debug, Clone)]
pub struct Key {
    /// The column name in the result (`None`: grouped by, not shown: an entity's key).
    pub output: Option<String>,
    pub alias: String,
}

/// One aggregated measure in a source.
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub alias: String,
    pub sql: String,
}

/// One source: a semantic model's table, its joins, conditions, keys and aggregates.
#[derive(Debug, Clone)]
pub struct Source {
    pub alias: String,
    pub model: String,
    pub from: String,
    pub joins: Vec<String>,
    pub wheres: Vec<String>,
    /// SQL of each key, in the order of [`Plan::keys`].
    pub key_sql: Vec<String>,
    pub aggregates: Vec<Aggregate>,
}

/// A figure of the result: SQL over `source_alias.aggregate_alias` references.
#[derive(Debug, Clone)]
pub struct Figure {
    pub output: String,
    pub sql: String,
    /// A cumulative metric: summed over time in the result.
    pub cumulative: bool,
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub keys: Vec<Key>,
    /// Index in `keys` of the time key.
    pub time_key: Option<usize>,
    pub sources: Vec<Source>,
    pub figures: Vec<Figure>,
}

/// A condition on a measure's rows, before it is resolved in its source.
#[derive(Debug, Clone)]
enum Cond {
    /// SQL over `home`'s columns (may hold `{{ Dimension('e__d') }}`).
    Sql {
        home: String,
        sql: String,
    },
    Member {
        dimension: DimensionRef,
        values: Vec<String>,
        negated: bool,
    },
    Named {
        name: String,
        negated: bool,
    },
    Instances {
        dimensions: Vec<DimensionRef>,
        rows: Vec<Vec<String>>,
    },
    Period(Period),
}

/// A measure to aggregate with its own conditions (a metric's filter, a column's slice).
#[derive(Debug, Clone)]
struct MeasureUse {
    model: String,
    /// The agg_time_dimension of the measure (`None` for an entity count).
    time_dim: Option<String>,
    /// An entity count: `expr` is the key of this entity as reached from `model`.
    entity: Option<String>,
    /// A count of a dimension's values: the dimension as reached from `model`.
    dimension: Option<DimensionRef>,
    agg: Agg,
    expr: String,
    conds: Vec<Cond>,
}

/// The condition of a slice and the suffix of its figure's name (`_dairy`, `_other_than_usa`,
/// `_on_promotion`, `_2024`).
fn slice_cond(slice: &Slice) -> (Cond, String) {
    match slice {
        Slice::Member {
            dimension,
            value,
            negated,
        } => (
            Cond::Member {
                dimension: dimension.clone(),
                values: vec![value.clone()],
                negated: *negated,
            },
            if *negated {
                format!("_other_than_{}", slug(value))
            } else {
                format!("_{}", slug(value))
            },
        ),
        Slice::Named { name, negated } => {
            let base = slug(name);
            (
                Cond::Named {
                    name: name.clone(),
                    negated: *negated,
                },
                match (negated, base.strip_prefix("not_")) {
                    (true, Some(positive)) => format!("_{positive}"),
                    (true, None) => format!("_not_{base}"),
                    (false, _) => format!("_{base}"),
                },
            )
        }
        Slice::Period(p) => (Cond::Period(p.clone()), format!("_{}", p.label())),
    }
}

/// The weekday's name of `date` ("Monday"): SQLite's `strftime('%w')` (0 = Sunday), BigQuery's
/// `EXTRACT(DAYOFWEEK)` (1 = Sunday).
fn day_of_week_sql(dialect: Dialect, date: &str) -> String {
    const NAMES: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let (number, first) = match dialect {
        Dialect::Sqlite => (format!("CAST(strftime('%w', {date}) AS INTEGER)"), 0),
        Dialect::BigQuery => (format!("EXTRACT(DAYOFWEEK FROM {date})"), 1),
    };
    let whens: Vec<String> = NAMES
        .iter()
        .enumerate()
        .map(|(k, n)| format!("WHEN {} THEN '{n}'", k + first))
        .collect();
    format!("CASE {number} {} END", whens.join(" "))
}

/// The planner: the manifest, the schema it runs on and the dialect.
pub struct Planner<'a> {
    pub manifest: &'a SemanticManifest,
    pub schema: &'a Schema,
    pub dialect: Dialect,
}

impl<'a> Planner<'a> {
    fn model(&self, name: &str) -> PlanResult<&'a SemanticModel> {
        self.manifest
            .model(name)
            .ok_or_else(|| PlanError(format!("no semantic model '{name}'")))
    }

    /// The models reachable many-to-one from `from`, with the path to each (breadth first).
    pub fn reachable(&self, from: &str) -> Vec<(&'a SemanticModel, Vec<Edge>)> {
        let Some(start) = self.manifest.model(from) else {
            return Vec::new();
        };
        let mut out = vec![(start, Vec::new())];
        let mut queue = VecDeque::from([(start, Vec::<Edge>::new())]);
        while let Some((m, path)) = queue.pop_front() {
            if path.len() >= 4 {
                continue;
            }
            for e in &m.entities {
                if e.kind == EntityType::Primary {
                    continue;
                }
                for target in &self.manifest.semantic_models {
                    let is_key = target.entities.iter().any(|t| {
                        t.name.eq_ignore_ascii_case(&e.name)
                            && matches!(t.kind, EntityType::Primary | EntityType::Unique)
                    });
                    if !is_key || out.iter().any(|(o, _)| o.name == target.name) {
                        continue;
                    }
                    let mut p = path.clone();
                    p.push(Edge {
                        from: m.name.clone(),
                        to: target.name.clone(),
                        entity: e.name.clone(),
                    });
                    out.push((target, p.clone()));
                    queue.push_back((target, p));
                }
            }
        }
        out
    }

    /// Whether one instance of `entity` has one value of `g`: `g` is a dimension of the
    /// entity's own model (where it is the primary or unique key) or of a model reached from it
    /// many-to-one, or an entity keyed there ("the album's artist", "the store's city"). Such a
    /// breakdown beside the entity is a detail shown for each instance, not a second breakdown.
    pub fn determines(&self, entity: &str, g: &GroupBy) -> bool {
        self.manifest
            .semantic_models
            .iter()
            .filter(|m| {
                m.entity(entity)
                    .is_some_and(|e| matches!(e.kind, EntityType::Primary | EntityType::Unique))
            })
            .any(|home| {
                self.reachable(&home.name).iter().any(|(m, _)| match g {
                    GroupBy::Dimension(d) => {
                        d.model.as_deref().is_none_or(|n| n == m.name)
                            && m.dimension(&d.name).is_some()
                    }
                    GroupBy::Entity { name } => m.entity(name).is_some(),
                })
            })
    }

    /// The dimension `r` as seen from `from`: its model, itself and the join path.
    fn resolve_dimension(
        &self,
        from: &str,
        r: &DimensionRef,
    ) -> PlanResult<(&'a SemanticModel, &'a Dimension, Vec<Edge>)> {
        for (m, path) in self.reachable(from) {
            if r.model
                .as_ref()
                .is_some_and(|x| !x.eq_ignore_ascii_case(&m.name))
            {
                continue;
            }
            if let Some(d) = m.dimension(&r.name) {
                return Ok((m, d, path));
            }
        }
        if r.model.is_some() {
            // a dimension of the same name elsewhere (`zone` on stores and on observations)
            let any = DimensionRef {
                model: None,
                name: r.name.clone(),
            };
            return self.resolve_dimension(from, &any);
        }
        fail(format!(
            "the dimension '{}' cannot be reached from '{from}'",
            r.name
        ))
    }

    fn table_columns(&self, model: &SemanticModel) -> PlanResult<Vec<String>> {
        let t = self.schema.table(model.table()).ok_or_else(|| {
            PlanError(format!(
                "the table '{}' of semantic model '{}' is not in the database",
                model.table(),
                model.name
            ))
        })?;
        Ok(t.columns.iter().map(|c| c.name.clone()).collect())
    }

    /// `expr` over `model`'s columns with each column qualified by the model's table.
    fn qualify(&self, model: &SemanticModel, expr: &str) -> PlanResult<String> {
        let cols = self.table_columns(model)?;
        let table = self
            .schema
            .table(model.table())
            .map(|t| t.name.clone())
            .unwrap_or_default();
        // the day of the week the layer adds (`super::add_day_of_week`), in the dialect
        if let Some(inner) = expr
            .trim()
            .strip_prefix("{{ day_of_week(")
            .and_then(|r| r.strip_suffix(") }}"))
        {
            let date = qualify(inner, &ident(self.dialect, &table), &cols);
            return Ok(day_of_week_sql(self.dialect, &date));
        }
        Ok(qualify(expr, &ident(self.dialect, &table), &cols))
    }

    /// Replaces dbt's `{{ Dimension('entity__dim') }}` with the dimension's column, and
    /// records the joins it needs.
    fn render_sql_cond(
        &self,
        from: &str,
        home: &str,
        sql: &str,
        edges: &mut Vec<Edge>,
    ) -> PlanResult<String> {
        let re = regex::Regex::new(r#"\{\{\s*Dimension\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)\s*\}\}"#)
            .expect("static regex");
        let mut out = String::new();
        let mut last = 0;
        for cap in re.captures_iter(sql) {
            let m = cap.get(0).expect("whole match");
            let full = &cap[1];
            let (entity, dim) = match full.rsplit_once("__") {
                Some((e, d)) => (Some(e), d),
                None => (None, full),
            };
            let model = entity.and_then(|e| {
                self.manifest
                    .semantic_models
                    .iter()
                    .find(|m| {
                        m.primary_entity()
                            .is_some_and(|p| p.name.eq_ignore_ascii_case(e))
                    })
                    .map(|m| m.name.clone())
            });
            let (dm, d, path) = self.resolve_dimension(
                from,
                &DimensionRef {
                    model,
                    name: dim.to_string(),
                },
            )?;
            add_edges(edges, path);
            // the part before the reference is over the home model's columns
            out.push_str(&self.qualify(self.model(home)?, &sql[last..m.start()])?);
            out.push_str(&self.qualify(dm, d.expr())?);
            last = m.end();
        }
        let home_model = self.model(home)?;
        if home != from {
            let path = self
                .reachable(from)
                .into_iter()
                .find(|(m, _)| m.name == home_model.name)
                .map(|(_, p)| p)
                .ok_or_else(|| PlanError(format!("'{home}' cannot be reached from '{from}'")))?;
            add_edges(edges, path);
        }
        out.push_str(&self.qualify(home_model, &sql[last..])?);
        Ok(out)
    }

    /// A condition as SQL in the source of `from`.
    fn cond_sql(
        &self,
        from: &str,
        cond: &Cond,
        edges: &mut Vec<Edge>,
        time: Option<&str>,
    ) -> PlanResult<String> {
        match cond {
            Cond::Sql { home, sql } => Ok(format!(
                "({})",
                self.render_sql_cond(from, home, sql, edges)?
            )),
            Cond::Member {
                dimension,
                values,
                negated,
            } => {
                let (m, d, path) = self.resolve_dimension(from, dimension)?;
                add_edges(edges, path);
                let col = self.qualify(m, d.expr())?;
                let list: Vec<String> = values.iter().map(|v| sqld::string(v)).collect();
                let not = if *negated { "NOT " } else { "" };
                Ok(if list.len() == 1 && !negated {
                    format!("{col} = {}", list[0])
                } else {
                    format!("{col} {not}IN ({})", list.join(", "))
                })
            }
            Cond::Instances { dimensions, rows } => {
                let mut cols = Vec::new();
                for dimension in dimensions {
                    let (m, d, path) = self.resolve_dimension(from, dimension)?;
                    add_edges(edges, path);
                    cols.push(self.qualify(m, d.expr())?);
                }
                let each: Vec<String> = rows
                    .iter()
                    .map(|row| {
                        let parts: Vec<String> = cols
                            .iter()
                            .zip(row)
                            .map(|(c, v)| format!("{c} = {}", sqld::string(v)))
                            .collect();
                        format!("({})", parts.join(" AND "))
                    })
                    .collect();
                Ok(format!("({})", each.join(" OR ")))
            }
            Cond::Named { name, negated } => {
                let f = self
                    .manifest
                    .filter(name)
                    .ok_or_else(|| PlanError(format!("no filter '{name}'")))?;
                let sql = self.render_sql_cond(from, &f.semantic_model, &f.expr, edges)?;
                Ok(if *negated {
                    format!("NOT ({sql})")
                } else {
                    format!("({sql})")
                })
            }
            Cond::Period(p) => {
                let Some(t) = time else {
                    return fail(format!(
                        "'{}' has no time dimension for the period '{}'",
                        from, p.text
                    ));
                };
                Ok(sqld::in_range(self.dialect, t, p.start, p.end)
                    .unwrap_or_else(|| "1 = 1".into()))
            }
        }
    }

    /// The measure uses and the figure SQL of one metric column (`slot` numbers aggregates).
    fn metric_figure(
        &self,
        metric: &str,
        extra: &[Cond],
        uses: &mut Vec<MeasureUse>,
        depth: usize,
    ) -> PlanResult<(String, bool)> {
        if depth > 8 {
            return fail("metrics nest too deep");
        }
        let m = self
            .manifest
            .metric(metric)
            .ok_or_else(|| PlanError(format!("no metric '{metric}'")))?;
        let mut conds = extra.to_vec();
        let p = &m.type_params;
        match m.kind {
            MetricType::Simple | MetricType::Cumulative => {
                let input = p
                    .measure
                    .as_ref()
                    .ok_or_else(|| PlanError("no measure".into()))?;
                let (model, measure) = self
                    .manifest
                    .measure(input.name())
                    .ok_or_else(|| PlanError(format!("no measure '{}'", input.name())))?;
                for f in [m.filter.as_deref(), input.filter()].into_iter().flatten() {
                    conds.push(Cond::Sql {
                        home: model.name.clone(),
                        sql: f.to_string(),
                    });
                }
                uses.push(MeasureUse {
                    model: model.name.clone(),
                    time_dim: model.agg_time_dimension_name(measure).map(str::to_string),
                    entity: None,
                    dimension: None,
                    agg: measure.agg,
                    expr: measure.expr().to_string(),
                    conds,
                });
                Ok((
                    format!("@{}", uses.len() - 1),
                    m.kind == MetricType::Cumulative,
                ))
            }
            MetricType::Ratio => {
                if let Some(f) = &m.filter {
                    conds.push(self.metric_home_cond(metric, f)?);
                }
                let num = p
                    .numerator
                    .as_ref()
                    .ok_or_else(|| PlanError("no numerator".into()))?;
                let den = p
                    .denominator
                    .as_ref()
                    .ok_or_else(|| PlanError("no denominator".into()))?;
                let mut nc = conds.clone();
                let mut dc = conds.clone();
                if let Some(f) = num.filter() {
                    nc.push(self.metric_home_cond(num.name(), f)?);
                }
                if let Some(f) = den.filter() {
                    dc.push(self.metric_home_cond(den.name(), f)?);
                }
                let (n, _) = self.metric_figure(num.name(), &nc, uses, depth + 1)?;
                let (d, _) = self.metric_figure(den.name(), &dc, uses, depth + 1)?;
                Ok((format!("1.0 * ({n}) / NULLIF({d}, 0)"), false))
            }
            MetricType::Derived => {
                if let Some(f) = &m.filter {
                    conds.push(self.metric_home_cond(metric, f)?);
                }
                let mut subs = BTreeMap::new();
                for input in &p.metrics {
                    let mut c = conds.clone();
                    if let Some(f) = input.filter() {
                        c.push(self.metric_home_cond(input.name(), f)?);
                    }
                    let (s, _) = self.metric_figure(input.name(), &c, uses, depth + 1)?;
                    subs.insert(input.alias().to_ascii_lowercase(), format!("({s})"));
                }
                let expr = p.expr.as_deref().unwrap_or_default();
                Ok((
                    replace_identifiers(expr, |w| subs.get(&w.to_ascii_lowercase()).cloned()),
                    false,
                ))
            }
        }
    }

    /// A filter written on a ratio or derived metric: SQL over the model of its first measure.
    fn metric_home_cond(&self, metric: &str, sql: &str) -> PlanResult<Cond> {
        let home = self
            .home_model(metric, 0)
            .ok_or_else(|| PlanError(format!("no model for the filter of '{metric}'")))?;
        Ok(Cond::Sql {
            home,
            sql: sql.to_string(),
        })
    }

    pub(crate) fn home_model(&self, metric: &str, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let m = self.manifest.metric(metric)?;
        let p = &m.type_params;
        match m.kind {
            MetricType::Simple | MetricType::Cumulative => Some(
                self.manifest
                    .measure(p.measure.as_ref()?.name())?
                    .0
                    .name
                    .clone(),
            ),
            MetricType::Ratio => self.home_model(p.numerator.as_ref()?.name(), depth + 1),
            MetricType::Derived => self.home_model(p.metrics.first()?.name(), depth + 1),
        }
    }

    /// Plans `q`.
    ///
    /// Errors: unknown names, a dimension or filter no measure reaches, a period or time grain
    /// on a measure without a time dimension, a median on SQLite.
    pub fn plan(&self, q: &MetricQuery) -> PlanResult<Plan> {
        let mut uses: Vec<MeasureUse> = Vec::new();
        let mut figures = Vec::new();
        for col in &q.columns {
            let (extra, suffix) = match &col.slice {
                Some(slice) => {
                    let (cond, suffix) = slice_cond(slice);
                    (vec![cond], suffix)
                }
                None => (Vec::new(), String::new()),
            };
            let (sql, cumulative) = self.metric_figure(&col.metric, &extra, &mut uses, 0)?;
            figures.push(Figure {
                output: format!("{}{suffix}", slug(&col.metric)),
                sql,
                cumulative,
            });
        }
        if let Some(ec) = &q.entity_count {
            let model = self.entity_count_source(q, &ec.entity)?;
            // counted through a metric: among the rows its measure counts (its filters too)
            let conds = match &ec.through {
                Some(m) => {
                    let mut scratch = Vec::new();
                    self.metric_figure(m, &[], &mut scratch, 0)?;
                    scratch
                        .into_iter()
                        .find(|u| u.model == model)
                        .map(|u| u.conds)
                        .unwrap_or_default()
                }
                None => Vec::new(),
            };
            // a share of the instances: the slice's count first, then the whole's
            let part = ec.part.as_ref().map(slice_cond);
            let slices = match &part {
                Some(p) => vec![Some(p), None],
                None => vec![None],
            };
            for slice in slices {
                let mut conds = conds.clone();
                let mut suffix = String::new();
                if let Some((cond, s)) = slice {
                    conds.push(cond.clone());
                    suffix.clone_from(s);
                }
                uses.push(MeasureUse {
                    model: model.clone(),
                    time_dim: None,
                    entity: Some(ec.entity.clone()),
                    dimension: None,
                    expr: String::new(),
                    agg: Agg::CountDistinct,
                    conds,
                });
                figures.push(Figure {
                    output: format!("{}_count{suffix}", slug(&ec.entity)),
                    sql: format!("@{}", uses.len() - 1),
                    cumulative: false,
                });
            }
        }
        if let Some(dc) = &q.dimension_count {
            let model = self.dimension_count_source(q, dc)?;
            uses.push(MeasureUse {
                model,
                time_dim: None,
                entity: None,
                dimension: Some(dc.dimension.clone()),
                expr: String::new(),
                agg: Agg::CountDistinct,
                conds: Vec::new(),
            });
            figures.push(Figure {
                output: format!("{}_count", slug(&dc.dimension.name)),
                sql: format!("@{}", uses.len() - 1),
                cumulative: false,
            });
        }
        if figures.is_empty() {
            return fail("the query names no metric");
        }
        // keys, and the entity a label key shows
        let mut keys = Vec::new();
        let mut owners: Vec<(usize, String)> = Vec::new();
        for g in &q.group_by {
            match g {
                GroupBy::Dimension(d) => keys.push(Key {
                    output: Some(slug(&d.name)),
                    alias: format!("g{}", keys.len()),
                }),
                GroupBy::Entity { name } => {
                    let label = self.entity_label(name);
                    match &label {
                        Some((_, dims)) => {
                            for d in dims {
                                keys.push(Key {
                                    output: Some(slug(&d.name)),
                                    alias: format!("g{}", keys.len()),
                                });
                                owners.push((keys.len() - 1, name.clone()));
                            }
                        }
                        None => keys.push(Key {
                            output: Some(slug(name)),
                            alias: format!("g{}", keys.len()),
                        }),
                    }
                    if label.is_some() {
                        keys.push(Key {
                            output: None,
                            alias: format!("g{}", keys.len()),
                        });
                    }
                }
            }
        }
        // two entities shown by columns of one name ("first_name" of the agent and of the
        // customer): each named after its entity, so no output name repeats
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for k in &keys {
            if let Some(o) = &k.output {
                *seen.entry(o.clone()).or_default() += 1;
            }
        }
        for (i, e) in &owners {
            let k = &mut keys[*i];
            if let Some(o) = &k.output {
                if seen.get(o).is_some_and(|n| *n > 1) {
                    k.output = Some(format!("{}_{o}", slug(e)));
                }
            }
        }
        let time_key = q.time_grain.map(|g| {
            keys.push(Key {
                output: Some(g.as_str().to_string()),
                alias: "t".into(),
            });
            keys.len() - 1
        });
        // one source per model
        let mut by_model: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, u) in uses.iter().enumerate() {
            match by_model.iter_mut().find(|(m, _)| *m == u.model) {
                Some((_, v)) => v.push(i),
                None => by_model.push((u.model.clone(), vec![i])),
            }
        }
        let mut sources = Vec::new();
        let mut refs: BTreeMap<usize, String> = BTreeMap::new();
        for (si, (model_name, idx)) in by_model.iter().enumerate() {
            let model = self.model(model_name)?;
            let alias = format!("s{si}");
            let mut edges = Vec::new();
            // the time dimension of this source: the agg_time_dimension of its first measure
            let time_name = idx
                .iter()
                .find_map(|&i| uses[i].time_dim.clone())
                .or_else(|| {
                    model
                        .defaults
                        .as_ref()
                        .and_then(|d| d.agg_time_dimension.clone())
                });
            let time_sql = match time_name {
                Some(n) => Some(self.time_dimension_sql(model, &n, &mut edges)?),
                None => None,
            };
            let mut key_sql = Vec::new();
            for g in &q.group_by {
                match g {
                    GroupBy::Dimension(r) => {
                        let (m, d, path) = self.resolve_dimension(model_name, r)?;
                        add_edges(&mut edges, path);
                        key_sql.push(self.qualify(m, d.expr())?);
                    }
                    GroupBy::Entity { name } => {
                        let (key, labels) = self.entity_key(model_name, name, &mut edges)?;
                        key_sql.extend(labels);
                        key_sql.push(key);
                    }
                }
            }
            if let Some(g) = q.time_grain {
                let Some(t) = &time_sql else {
                    return fail(format!(
                        "'{model_name}' has no time dimension to group by {}",
                        g.as_str()
                    ));
                };
                // quarters of one year read `Q1`..`Q4`; across years `2024-Q1`; whole years
                // side by side ("quarterly revenue in 2024 compared to 2023") meet on the
                // quarter or the month within the year, a row each
                let one_year = q.period.as_ref().is_some_and(Period::within_one_year);
                let years_side_by_side = !q.columns.is_empty()
                    && q.columns
                        .iter()
                        .all(|c| matches!(&c.slice, Some(Slice::Period(p)) if p.whole_year()));
                key_sql.push(match g {
                    super::model::Grain::Quarter if one_year || years_side_by_side => {
                        sqld::quarter_of_year(self.dialect, t)
                    }
                    super::model::Grain::Month if years_side_by_side => {
                        sqld::month_of_year(self.dialect, t)
                    }
                    _ => sqld::truncate(self.dialect, g, t),
                });
            }
            let mut wheres = Vec::new();
            let mut all_conds: Vec<Cond> = q.filters.iter().map(filter_cond).collect();
            if let Some(p) = &q.period {
                all_conds.push(Cond::Period(p.clone()));
            }
            for c in &all_conds {
                wheres.push(self.cond_sql(model_name, c, &mut edges, time_sql.as_deref())?);
            }
            let mut aggregates = Vec::new();
            // slices side by side ("Dairy vs Frozen Food", "2023 vs 2024"): when every measure of
            // the source has its own conditions, rows meeting none of them add nothing, so the
            // source reads only the rows of some slice (an index can then drive the join)
            let mut any_slice: Vec<String> = Vec::new();
            let sliced = q.columns.iter().any(|c| c.slice.is_some())
                && idx.iter().all(|&i| !uses[i].conds.is_empty());
            for &i in idx {
                let u = &uses[i];
                let mut cs = Vec::new();
                for c in &u.conds {
                    cs.push(self.cond_sql(model_name, c, &mut edges, time_sql.as_deref())?);
                }
                if sliced {
                    let one = format!("({})", cs.join(" AND "));
                    if !any_slice.contains(&one) {
                        any_slice.push(one);
                    }
                }
                let expr = match (&u.entity, &u.dimension) {
                    (Some(e), _) => self.entity_key(model_name, e, &mut edges)?.0,
                    (None, Some(d)) => {
                        let (m, dim, path) = self.resolve_dimension(model_name, d)?;
                        add_edges(&mut edges, path);
                        self.qualify(m, dim.expr())?
                    }
                    (None, None) => self.qualify(model, &u.expr)?,
                };
                let sql = aggregate(self.dialect, u.agg, &expr, &cs)?;
                let a = format!("a{}", aggregates.len());
                refs.insert(i, format!("{alias}.{a}"));
                aggregates.push(Aggregate { alias: a, sql });
            }
            if sliced && !any_slice.is_empty() {
                wheres.push(format!("({})", any_slice.join(" OR ")));
            }
            let table = ident(
                self.dialect,
                &self
                    .schema
                    .table(model.table())
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
            );
            let mut joins = Vec::new();
            for e in &edges {
                joins.push(self.join_sql(e)?);
            }
            sources.push(Source {
                alias,
                model: model_name.clone(),
                from: table,
                joins,
                wheres,
                key_sql,
                aggregates,
            });
        }
        for f in &mut figures {
            f.sql = replace_refs(&f.sql, &refs);
        }
        // a ranking names members: the rows of no member (NULL) rank nothing ("Which composer
        // has the most tracks?" is not answered by the tracks without a composer)
        let ranks = q.limit.is_some()
            && q.order
                .iter()
                .any(|o| o.by == super::query::OrderBy::Figure);
        if let ([source], true) = (sources.as_mut_slice(), ranks) {
            for (i, key) in source.key_sql.iter().enumerate() {
                // the shown members (an entity's key beside its name is never NULL)
                if Some(i) != time_key && keys[i].output.is_some() {
                    source.wheres.push(format!("{key} IS NOT NULL"));
                }
            }
        }
        Ok(Plan {
            keys,
            time_key,
            sources,
            figures,
        })
    }

    /// The SQL of the time dimension `name` of `model`: its own, or `entity__dimension` on the
    /// model whose primary entity that is (joined many-to-one).
    fn time_dimension_sql(
        &self,
        model: &SemanticModel,
        name: &str,
        edges: &mut Vec<Edge>,
    ) -> PlanResult<String> {
        if let Some(d) = model.dimension(name) {
            return self.qualify(model, d.expr());
        }
        let Some((entity, dim)) = name.rsplit_once("__") else {
            return fail(format!("no time dimension '{name}' on '{}'", model.name));
        };
        let target = self
            .manifest
            .semantic_models
            .iter()
            .find(|m| {
                m.primary_entity()
                    .is_some_and(|p| p.name.eq_ignore_ascii_case(entity))
            })
            .map(|m| m.name.clone());
        let (m, d, path) = self.resolve_dimension(
            &model.name,
            &DimensionRef {
                model: target,
                name: dim.to_string(),
            },
        )?;
        add_edges(edges, path);
        self.qualify(m, d.expr())
    }

    fn join_sql(&self, e: &Edge) -> PlanResult<String> {
        let from = self.model(&e.from)?;
        let to = self.model(&e.to)?;
        let fe = from
            .entity(&e.entity)
            .ok_or_else(|| PlanError("entity".into()))?;
        let te = to
            .entity(&e.entity)
            .ok_or_else(|| PlanError("entity".into()))?;
        let table = self
            .schema
            .table(to.table())
            .map(|t| t.name.clone())
            .ok_or_else(|| {
                PlanError(format!("the table '{}' is not in the database", to.table()))
            })?;
        Ok(format!(
            "LEFT JOIN {} ON {} = {}",
            ident(self.dialect, &table),
            self.qualify(from, fe.expr())?,
            self.qualify(to, te.expr())?
        ))
    }

    /// The dimensions that show an entity (on the model where it is primary): its `display`
    /// dimensions, else its label; `None` when it has neither.
    fn entity_label(&self, entity: &str) -> Option<(&'a SemanticModel, Vec<&'a Dimension>)> {
        self.manifest.semantic_models.iter().find_map(|m| {
            let e = m.entity(entity)?;
            if !matches!(e.kind, EntityType::Primary | EntityType::Unique) {
                return None;
            }
            if !e.display.is_empty() {
                let dims: Option<Vec<&Dimension>> =
                    e.display.iter().map(|d| m.dimension(d)).collect();
                return Some((m, dims?));
            }
            Some((m, vec![m.dimension(e.label.as_deref()?)?]))
        })
    }

    /// The key SQL of an entity in the source of `from`, and its label SQL.
    fn entity_key(
        &self,
        from: &str,
        entity: &str,
        edges: &mut Vec<Edge>,
    ) -> PlanResult<(String, Vec<String>)> {
        let reach = self.reachable(from);
        let (m, path) = reach
            .iter()
            .find(|(m, _)| m.entity(entity).is_some())
            .ok_or_else(|| {
                PlanError(format!(
                    "the entity '{entity}' cannot be reached from '{from}'"
                ))
            })?;
        add_edges(edges, path.clone());
        let key = self.qualify(m, m.entity(entity).expect("found").expr())?;
        let labels = match self.entity_label(entity) {
            Some((lm, dims)) => {
                let p = reach
                    .iter()
                    .find(|(x, _)| x.name == lm.name)
                    .map(|(_, p)| p.clone())
                    .ok_or_else(|| {
                        PlanError(format!("the label of '{entity}' cannot be reached"))
                    })?;
                add_edges(edges, p);
                dims.iter()
                    .map(|d| self.qualify(lm, d.expr()))
                    .collect::<PlanResult<Vec<_>>>()?
            }
            None => Vec::new(),
        };
        Ok((key, labels))
    }

    /// Where to count an entity: on its own model when the query's conditions all apply
    /// there, else through the first fact (a model with a default time dimension) that
    /// reaches it and where they all apply.
    fn entity_count_source(&self, q: &MetricQuery, entity: &str) -> PlanResult<String> {
        if let Some(metric) = q.entity_count.as_ref().and_then(|e| e.through.as_deref()) {
            let home = self
                .home_model(metric, 0)
                .ok_or_else(|| PlanError(format!("no model for '{metric}'")))?;
            if self.entity_key(&home, entity, &mut Vec::new()).is_err() {
                return fail(format!("'{entity}' cannot be reached from '{home}'"));
            }
            return Ok(home);
        }
        // every model with one row per instance: the entity's own, and one like the
        // elasticity of each product ("how many highly elastic products in each category"
        // counts them there, not among the products sold)
        let own = self.manifest.semantic_models.iter().filter(|m| {
            m.entity(entity)
                .is_some_and(|e| matches!(e.kind, EntityType::Primary | EntityType::Unique))
        });
        let facts = self.manifest.semantic_models.iter().filter(|m| {
            m.defaults
                .as_ref()
                .is_some_and(|d| d.agg_time_dimension.is_some())
                && self.entity_key(&m.name, entity, &mut Vec::new()).is_ok()
        });
        let mut candidates: Vec<&SemanticModel> = Vec::new();
        if q.period.is_none() && q.time_grain.is_none() {
            candidates.extend(own);
        }
        // facts holding the entity as a foreign key first, then those reaching it further
        let (mut direct, further): (Vec<&SemanticModel>, Vec<&SemanticModel>) =
            facts.partition(|m| m.entity(entity).is_some());
        // the fact with one row per instance first (the invoices for invoices, not their lines)
        direct.sort_by_key(|m| {
            !m.entity(entity)
                .is_some_and(|e| matches!(e.kind, EntityType::Primary | EntityType::Unique))
        });
        candidates.extend(direct);
        candidates.extend(further);
        let mut probe = MetricQuery {
            columns: Vec::new(),
            entity_count: None,
            ..q.clone()
        };
        // the slice a share counts must apply where the instances are counted
        if let Some(f) = q
            .entity_count
            .as_ref()
            .and_then(|e| e.part.as_ref())
            .and_then(Filter::of_slice)
        {
            probe.filters.push(f);
        }
        for m in candidates {
            if self.conditions_reach(&m.name, &probe) {
                return Ok(m.name.clone());
            }
        }
        fail(format!(
            "no model counts '{entity}' under the question's conditions"
        ))
    }

    /// Where to count a dimension's values: through the metric's model when the question
    /// counts `through` one (a sale), else on the dimension's own model when the query's
    /// conditions all apply there, else through the first fact that reaches it where they do.
    fn dimension_count_source(
        &self,
        q: &MetricQuery,
        dc: &super::query::DimensionCount,
    ) -> PlanResult<String> {
        let probe = MetricQuery {
            columns: Vec::new(),
            entity_count: None,
            dimension_count: None,
            ..q.clone()
        };
        let reaches = |m: &str| self.resolve_dimension(m, &dc.dimension).is_ok();
        if let Some(metric) = &dc.through {
            let home = self
                .home_model(metric, 0)
                .ok_or_else(|| PlanError(format!("no model for '{metric}'")))?;
            if reaches(&home) && self.conditions_reach(&home, &probe) {
                return Ok(home);
            }
            return fail(format!(
                "'{}' cannot be counted among the rows of '{metric}'",
                dc.dimension.name
            ));
        }
        let mut candidates: Vec<&SemanticModel> = Vec::new();
        if q.period.is_none() && q.time_grain.is_none() {
            if let Some(own) = dc
                .dimension
                .model
                .as_deref()
                .and_then(|m| self.manifest.model(m))
            {
                candidates.push(own);
            }
        }
        candidates.extend(self.manifest.semantic_models.iter().filter(|m| {
            m.defaults
                .as_ref()
                .is_some_and(|d| d.agg_time_dimension.is_some())
        }));
        for m in candidates {
            if reaches(&m.name) && self.conditions_reach(&m.name, &probe) {
                return Ok(m.name.clone());
            }
        }
        fail(format!(
            "no model counts '{}' under the question's conditions",
            dc.dimension.name
        ))
    }

    fn conditions_reach(&self, model: &str, q: &MetricQuery) -> bool {
        let Some(m) = self.manifest.model(model) else {
            return false;
        };
        let has_time = m
            .defaults
            .as_ref()
            .is_some_and(|d| d.agg_time_dimension.is_some());
        if (q.period.is_some() || q.time_grain.is_some()) && !has_time {
            return false;
        }
        let mut edges = Vec::new();
        q.filters.iter().all(|f| {
            self.cond_sql(model, &filter_cond(f), &mut edges, Some("t"))
                .is_ok()
        }) && q.group_by.iter().all(|g| match g {
            GroupBy::Dimension(r) => self.resolve_dimension(model, r).is_ok(),
            GroupBy::Entity { name } => self.entity_key(model, name, &mut edges).is_ok(),
        })
    }
}

fn filter_cond(f: &Filter) -> Cond {
    match f {
        Filter::Members {
            dimension,
            values,
            negated,
        } => Cond::Member {
            dimension: dimension.clone(),
            values: values.clone(),
            negated: *negated,
        },
        Filter::Named { name, negated } => Cond::Named {
            name: name.clone(),
            negated: *negated,
        },
        Filter::Instances { dimensions, rows } => Cond::Instances {
            dimensions: dimensions.clone(),
            rows: rows.clone(),
        },
    }
}

fn add_edges(edges: &mut Vec<Edge>, path: Vec<Edge>) {
    for e in path {
        if !edges.iter().any(|x| x.to == e.to) {
            edges.push(e);
        }
    }
}

/// The aggregate of `expr` over the rows where every condition holds.
fn aggregate(dialect: Dialect, agg: Agg, expr: &str, conds: &[String]) -> PlanResult<String> {
    let cond = conds.join(" AND ");
    let x = |e: &str| {
        if conds.is_empty() {
            e.to_string()
        } else {
            format!("CASE WHEN {cond} THEN {e} END")
        }
    };
    Ok(match agg {
        // a slice with no rows in a group sums to 0, not NULL ("Metal revenue in 2009: 0")
        Agg::Sum if !conds.is_empty() => format!("SUM(CASE WHEN {cond} THEN {expr} ELSE 0 END)"),
        Agg::Sum => format!("SUM({})", x(expr)),
        Agg::Count => {
            if expr == "*" || expr == "1" {
                if conds.is_empty() {
                    "COUNT(*)".into()
                } else {
                    format!("COUNT({})", x("1"))
                }
            } else {
                format!("COUNT({})", x(expr))
            }
        }
        Agg::CountDistinct => format!("COUNT(DISTINCT {})", x(expr)),
        Agg::Average => format!("AVG({})", x(expr)),
        Agg::Min => format!("MIN({})", x(expr)),
        Agg::Max => format!("MAX({})", x(expr)),
        Agg::SumBoolean => {
            let all = if conds.is_empty() {
                format!("({expr})")
            } else {
                format!("{cond} AND ({expr})")
            };
            format!("SUM(CASE WHEN {all} THEN 1 ELSE 0 END)")
        }
        Agg::Median => sqld::median(dialect, &x(expr))
            .ok_or_else(|| PlanError("the median is not available in this dialect".into()))?,
    })
}

/// Lower-case words joined by `_` (a column name).
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

fn replace_refs(sql: &str, refs: &BTreeMap<usize, String>) -> String {
    let re = regex::Regex::new(r"@(\d+)").expect("static regex");
    re.replace_all(sql, |c: &regex::Captures| {
        c[1].parse::<usize>()
            .ok()
            .and_then(|i| refs.get(&i).cloned())
            .unwrap_or_else(|| "NULL".into())
    })
    .into_owned()
}

/// Applies `f` to every bare identifier of `sql` outside string literals (not after a `.`,
/// not a function name); `None` keeps the identifier.
pub fn replace_identifiers(sql: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
            continue;
        }
        if c == '"' || c == '`' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let word: String = chars[start + 1..i.saturating_sub(1).max(start + 1)]
                .iter()
                .collect();
            let prev_dot = start > 0 && chars[start - 1] == '.';
            match (!prev_dot).then(|| f(&word)).flatten() {
                Some(r) => out.push_str(&r),
                None => out.extend(&chars[start..i]),
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let prev_dot = start > 0 && chars[start - 1] == '.';
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            let call = chars.get(j) == Some(&'(');
            let next_dot = chars.get(i) == Some(&'.');
            match (!prev_dot && !call && !next_dot)
                .then(|| f(&word))
                .flatten()
            {
                Some(r) => out.push_str(&r),
                None => out.push_str(&word),
            }
            continue;
        }
        if c.is_ascii_digit() {
            // a number (possibly 1.0e3): copied whole so that `e3` is not read as a name
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `expr` with each bare column of `columns` qualified by `qualifier`.
pub fn qualify(expr: &str, qualifier: &str, columns: &[String]) -> String {
    replace_identifiers(expr, |w| {
        columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(w))
            .map(|_| format!("{qualifier}.{w}"))
    })
}
