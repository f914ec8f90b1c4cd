//! From a plan to SQL: each source aggregated at its own grain (inline when there is one, a
//! CTE each when several, met on their keys), then the derived figure (share, growth, running
//! total, rank, versus average), the order and the limit.

use serde::Serialize;

use super::model::{Grain, SemanticManifest};
use super::plan::{Plan, PlanResult, Planner};
use super::query::{Derived, Filter, GroupBy, MetricQuery, OrderBy};
use crate::warehouse::{Dialect, Schema};

/// Compiled SQL and the columns it returns.
#[derive(Debug, Clone, Serialize)]
pub struct CompiledQuery {
    pub sql: String,
    pub columns: Vec<String>,
}

/// Plans and renders `q` for `dialect`.
///
/// Errors: as [`Planner::plan`].
pub fn compile(
    manifest: &SemanticManifest,
    schema: &Schema,
    dialect: Dialect,
    q: &MetricQuery,
) -> PlanResult<CompiledQuery> {
    let planner = Planner {
        manifest,
        schema,
        dialect,
    };
    if q.absent {
        return absent(&planner, q);
    }
    if let Some(t) = &q.having {
        return having(manifest, schema, dialect, q, t);
    }
    if let Some(Derived::AveragePer { per }) = &q.derived {
        return average_per(&planner, q, per);
    }
    if q.derived == Some(Derived::Ratio) {
        return ratio(&planner, q);
    }
    if let Some(Derived::VersusAverage {
        above,
        of_whole: true,
        per,
    }) = &q.derived
    {
        return versus_whole(&planner, q, *above, per);
    }
    if let (Some(Derived::PeriodOverPeriod { lag }), Some(grain), Some(start)) = (
        &q.derived,
        q.time_grain,
        q.period.as_ref().and_then(|p| p.start),
    ) {
        return change_within_period(&planner, q, *lag, grain, start);
    }
    let plan = planner.plan(q)?;
    Ok(render(&plan, q, dialect))
}

/// "Which genres had no sales in 2024" ([`MetricQuery::absent`]): the instances of the one
/// breakdown (an entity, read from its own model and shown by its label; or the values of a
/// dimension, from the dimension's model), whose key no row
/// of the metric reaches (the metric's rows in the period and filters, planned as for the
/// breakdown): `key NOT IN (SELECT <the rows' key> ... WHERE <key> IS NOT NULL)`.
///
/// Errors: as [`Planner::plan`]; a breakdown that is not one entity or dimension, or a metric
/// read from several sources.
fn absent(planner: &Planner, q: &MetricQuery) -> PlanResult<CompiledQuery> {
    let fail = |msg: &str| Err(super::plan::PlanError(msg.into()));
    let (entity_count, dimension_count) = match q.group_by.as_slice() {
        [GroupBy::Entity { name }] => (
            Some(super::query::EntityCount {
                entity: name.clone(),
                through: None,
                part: None,
            }),
            None,
        ),
        [GroupBy::Dimension(d)] => (
            None,
            Some(super::query::DimensionCount {
                dimension: d.clone(),
                through: None,
            }),
        ),
        _ => return fail("instances without rows need one breakdown to list"),
    };
    // the key of the entity among a plan's keys: the hidden one beside its label, or the only
    let key_of = |plan: &Plan| {
        plan.keys
            .iter()
            .position(|k| k.output.is_none())
            .or_else(|| (plan.keys.len() == 1).then_some(0))
    };
    let rows = planner.plan(&MetricQuery {
        order: Vec::new(),
        limit: None,
        absent: false,
        ..q.clone()
    })?;
    let ([facts], Some(k)) = (rows.sources.as_slice(), key_of(&rows)) else {
        return fail("the metric's rows come from more than one source");
    };
    let reached = &facts.key_sql[k];
    // every instance (every value of a dimension), from its own model
    let distinct = if dimension_count.is_some() {
        "DISTINCT "
    } else {
        ""
    };
    let instances = |filters: Vec<Filter>| {
        planner.plan(&MetricQuery {
            entity_count: entity_count.clone(),
            dimension_count: dimension_count.clone(),
            group_by: q.group_by.clone(),
            filters,
            ..MetricQuery::default()
        })
    };
    let unfiltered = instances(Vec::new())?;
    let ([bare], Some(_)) = (unfiltered.sources.as_slice(), key_of(&unfiltered)) else {
        return fail("the entity's instances come from more than one source");
    };
    // "which Produce items were never on promotion": a filter the instances' own model holds
    // says which instances are listed (the rows they lack are filtered by it too); a filter of
    // another model ("no sales in the West zone") only says which rows count
    let own_filters: Vec<Filter> = q
        .filters
        .iter()
        .filter(|f| {
            instances(vec![(*f).clone()]).is_ok_and(|p| {
                matches!(p.sources.as_slice(), [s] if s.from == bare.from && s.joins == bare.joins)
            })
        })
        .cloned()
        .collect();
    let all = instances(own_filters)?;
    let ([own], Some(k)) = (all.sources.as_slice(), key_of(&all)) else {
        return fail("the entity's instances come from more than one source");
    };
    let key = &own.key_sql[k];
    let shown: Vec<(&String, &String)> = all
        .keys
        .iter()
        .zip(&own.key_sql)
        .filter_map(|(k, sql)| k.output.as_ref().map(|o| (sql, o)))
        .collect();
    let select: Vec<String> = shown.iter().map(|(s, o)| format!("{s} AS {o}")).collect();
    let inner = source_select(facts, vec![reached.clone()], &[]);
    let reached_only = if facts.wheres.is_empty() {
        format!("{inner} WHERE {reached} IS NOT NULL")
    } else {
        format!("{inner} AND {reached} IS NOT NULL")
    };
    let mut sql = format!("SELECT {distinct}{} FROM {}", select.join(", "), own.from);
    for j in &own.joins {
        sql.push(' ');
        sql.push_str(j);
    }
    let mut wheres = own.wheres.clone();
    wheres.push(format!("{key} NOT IN ({reached_only})"));
    sql.push_str(" WHERE ");
    sql.push_str(&wheres.join(" AND "));
    if q.count_rows {
        // "how many products had no price change": the number of them
        let name = match q.group_by.as_slice() {
            [GroupBy::Entity { name }] => format!("{}_count", super::plan::slug(name)),
            _ => "row_count".to_string(),
        };
        return Ok(CompiledQuery {
            sql: format!("SELECT COUNT(*) AS {name} FROM ({sql}) absent_rows"),
            columns: vec![name],
        });
    }
    let order: Vec<String> = shown.iter().map(|(_, o)| format!("{o} ASC")).collect();
    push_order_and_limit(&mut sql, &order, q.limit);
    Ok(CompiledQuery {
        sql,
        columns: shown.iter().map(|(_, o)| (*o).clone()).collect(),
    })
}

/// A period-over-period change within a period ("month-over-month change in 2024"): the first
/// period's change compares with the period before it, so the series starts `lag` periods
/// earlier and the rows before the period are dropped after the change is computed.
fn change_within_period(
    planner: &Planner,
    q: &MetricQuery,
    lag: u32,
    grain: Grain,
    start: chrono::NaiveDate,
) -> PlanResult<CompiledQuery> {
    use chrono::{Datelike, Months};
    let back = match grain {
        Grain::Day => start - chrono::Duration::days(i64::from(lag)),
        Grain::Week => start - chrono::Duration::days(7 * i64::from(lag)),
        Grain::Month => start - Months::new(lag),
        Grain::Quarter => start - Months::new(3 * lag),
        Grain::Year => start - Months::new(12 * lag),
    };
    let label = match grain {
        Grain::Day | Grain::Week => start.format("%Y-%m-%d").to_string(),
        Grain::Month => start.format("%Y-%m").to_string(),
        Grain::Quarter => format!("{}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
        Grain::Year => start.format("%Y").to_string(),
    };
    let mut wide = q.clone();
    if let Some(p) = wide.period.as_mut() {
        p.start = Some(back);
    }
    wide.order = Vec::new();
    wide.limit = None;
    let inner = render(&planner.plan(&wide)?, &wide, planner.dialect);
    let t = grain.as_str();
    let mut sql = format!(
        "SELECT {} FROM ({}) pop WHERE {t} >= '{label}'",
        inner.columns.join(", "),
        inner.sql
    );
    let order: Vec<String> = q
        .order
        .iter()
        .map(|o| {
            let col = match o.by {
                OrderBy::Time => t.to_string(),
                OrderBy::Figure => inner.columns.last().cloned().unwrap_or_default(),
                OrderBy::Groups => inner.columns.first().cloned().unwrap_or_default(),
            };
            format!("{col} {}", if o.descending { "DESC" } else { "ASC" })
        })
        .collect();
    push_order_and_limit(&mut sql, &order, q.limit);
    Ok(CompiledQuery {
        sql,
        columns: inner.columns,
    })
}

/// Rows whose figure passes a threshold: the query without it (and without its order and
/// limit) as a subquery, filtered on its figure (the last column: one figure is read with a
/// threshold), then ordered and limited; or, with [`MetricQuery::count_rows`], the number of
/// those rows.
fn having(
    manifest: &SemanticManifest,
    schema: &Schema,
    dialect: Dialect,
    q: &MetricQuery,
    t: &super::query::Threshold,
) -> PlanResult<CompiledQuery> {
    let rows_q = MetricQuery {
        having: None,
        order: Vec::new(),
        limit: None,
        ..q.clone()
    };
    let rows = compile(manifest, schema, dialect, &rows_q)?;
    let Some((figure, keys)) = rows.columns.split_last() else {
        return Ok(rows);
    };
    let op = match t.op.as_str() {
        ">=" | "<" | "<=" => t.op.as_str(),
        _ => ">",
    };
    if q.count_rows {
        let name = match q.group_by.as_slice() {
            [GroupBy::Entity { name }] => format!("{name}_count"),
            _ => "row_count".to_string(),
        };
        return Ok(CompiledQuery {
            sql: format!(
                "SELECT COUNT(*) AS {name} FROM ({}) per WHERE {figure} {op} {}",
                rows.sql, t.value
            ),
            columns: vec![name],
        });
    }
    let mut sql = format!(
        "SELECT {} FROM ({}) per WHERE {figure} {op} {}",
        rows.columns.join(", "),
        rows.sql,
        t.value
    );
    let mut order = Vec::new();
    for o in &q.order {
        let dir = if o.descending { "DESC" } else { "ASC" };
        match o.by {
            OrderBy::Figure => order.push(format!("{figure} {dir}")),
            OrderBy::Time | OrderBy::Groups => {
                order.extend(keys.iter().map(|k| format!("{k} {dir}")))
            }
        }
    }
    push_order_and_limit(&mut sql, &order, q.limit);
    Ok(CompiledQuery {
        sql,
        columns: rows.columns,
    })
}

/// Rows whose figure is above (or below) the same metric over the whole: the query without
/// its breakdowns as a scalar subquery. With `per` entities the figure is an average per
/// entity ([`average_per`]) on both sides: the zones' revenue per store against the revenue
/// per store of all stores. When every breakdown is an attribute of those entities (a store's
/// zone), the figures per entity are computed once, as a CTE both sides average.
fn versus_whole(
    planner: &Planner,
    q: &MetricQuery,
    above: bool,
    per: &[String],
) -> PlanResult<CompiledQuery> {
    let op = if above { ">" } else { "<" };
    let (mut sql, columns, figure) = if per.is_empty() {
        let rows_q = MetricQuery {
            derived: None,
            order: Vec::new(),
            limit: None,
            ..q.clone()
        };
        let plan = planner.plan(&rows_q)?;
        let figure = plan
            .figures
            .first()
            .map(|f| f.output.clone())
            .unwrap_or_default();
        let rows = render(&plan, &rows_q, planner.dialect);
        let whole_q = MetricQuery {
            group_by: Vec::new(),
            time_grain: None,
            ..rows_q
        };
        let whole = render(&planner.plan(&whole_q)?, &whole_q, planner.dialect);
        let sql = versus_subquery(&rows, &whole.sql, &figure, op);
        (sql, rows.columns, figure)
    } else {
        let rows_q = MetricQuery {
            derived: Some(Derived::AveragePer { per: per.to_vec() }),
            order: Vec::new(),
            limit: None,
            ..q.clone()
        };
        let whole_q = MetricQuery {
            group_by: Vec::new(),
            ..rows_q.clone()
        };
        let parts = per_entity(planner, &rows_q, per)?;
        if attributes_of(planner.manifest, q, per) {
            // one pass over the facts: `per_entity` holds a row per entity (with its attributes)
            let rows = parts.averaged("per_entity", &rows_q);
            let whole = PerEntity {
                outer: Vec::new(),
                ..parts.clone()
            }
            .averaged("per_entity", &whole_q);
            let figure = whole.columns.first().cloned().unwrap_or_default();
            let (ctes, inner) = match parts.inner_sql.strip_prefix("WITH ") {
                Some(rest) => {
                    let (ctes, main) = split_with(rest);
                    (format!("{ctes}, "), main)
                }
                None => (String::new(), parts.inner_sql.clone()),
            };
            let sql = format!(
                "WITH {ctes}per_entity AS ({inner}) {}",
                versus_subquery(&rows, &whole.sql, &figure, op)
            );
            (sql, rows.columns, figure)
        } else {
            let rows = parts.averaged(&format!("({}) per", parts.inner_sql), &rows_q);
            let whole = average_per(planner, &whole_q, per)?;
            let figure = whole.columns.first().cloned().unwrap_or_default();
            let sql = versus_subquery(&rows, &whole.sql, &figure, op);
            (sql, rows.columns, figure)
        }
    };
    let dir = if q.order.first().is_some_and(|o| !o.descending) {
        "ASC"
    } else {
        "DESC"
    };
    sql.push_str(&format!(" ORDER BY {figure} {dir}"));
    if let Some(n) = q.limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    Ok(CompiledQuery { sql, columns })
}

/// `rows` whose `figure` compares by `op` with the one row of `whole`.
fn versus_subquery(rows: &CompiledQuery, whole: &str, figure: &str, op: &str) -> String {
    format!(
        "SELECT {} FROM ({}) per WHERE {figure} {op} (SELECT {figure} FROM ({whole}) whole)",
        rows.columns.join(", "),
        rows.sql,
    )
}

/// Whether every breakdown of `q` is an attribute of one of the `per` entities (a dimension of
/// the model whose primary entity it is, or the entity itself), with no time grain: then the
/// rows per entity are the same with or without the breakdowns.
fn attributes_of(manifest: &SemanticManifest, q: &MetricQuery, per: &[String]) -> bool {
    let is_per = |name: &str| per.iter().any(|p| p.eq_ignore_ascii_case(name));
    q.time_grain.is_none()
        && q.group_by.iter().all(|g| match g {
            GroupBy::Entity { name } => is_per(name),
            GroupBy::Dimension(d) => d
                .model
                .as_deref()
                .and_then(|m| manifest.model(m))
                .is_some_and(|m| {
                    m.dimension(&d.name).is_some()
                        && m.primary_entity().is_some_and(|e| is_per(&e.name))
                }),
        })
}

/// An average over a finer breakdown: the query grouped also by the `per` entities (and at its
/// time grain) inside, averaged per the query's own group-bys outside.
fn average_per(planner: &Planner, q: &MetricQuery, per: &[String]) -> PlanResult<CompiledQuery> {
    let parts = per_entity(planner, q, per)?;
    Ok(parts.averaged(&format!("({}) per", parts.inner_sql), q))
}

/// The figures of a query per entity ([`average_per`]'s inside) and what averages them.
#[derive(Clone)]
struct PerEntity {
    /// The query's own breakdown columns (the outside's group-bys).
    outer: Vec<String>,
    /// The figure columns of the inside.
    figures: Vec<String>,
    /// Whether each figure is a member's column (a slice).
    sliced: Vec<bool>,
    /// The inside: grouped by the query's breakdowns and the entities.
    inner_sql: String,
}

/// Plans the inside of [`average_per`]: `q` grouped also by the `per` entities.
fn per_entity(planner: &Planner, q: &MetricQuery, per: &[String]) -> PlanResult<PerEntity> {
    let outer_q = MetricQuery {
        derived: None,
        time_grain: None,
        order: Vec::new(),
        limit: None,
        ..q.clone()
    };
    let outer: Vec<String> = planner
        .plan(&outer_q)?
        .keys
        .iter()
        .filter_map(|k| k.output.clone())
        .collect();
    let mut inner_q = MetricQuery {
        derived: None,
        order: Vec::new(),
        limit: None,
        ..q.clone()
    };
    for e in per {
        let g = GroupBy::Entity { name: e.clone() };
        if !inner_q.group_by.contains(&g) {
            inner_q.group_by.push(g);
        }
    }
    let plan = planner.plan(&inner_q)?;
    let figures: Vec<String> = plan.figures.iter().map(|f| f.output.clone()).collect();
    let sliced = (0..figures.len())
        .map(|i| q.columns.get(i).is_some_and(|c| c.slice.is_some()))
        .collect();
    Ok(PerEntity {
        outer,
        figures,
        sliced,
        inner_sql: render(&plan, &inner_q, planner.dialect).sql,
    })
}

impl PerEntity {
    /// The figures averaged per the outside's breakdown, read `from` a subquery or CTE, in
    /// `q`'s order and limit.
    fn averaged(&self, from: &str, q: &MetricQuery) -> CompiledQuery {
        let outer = &self.outer;
        let mut cols = outer.clone();
        let mut sel = outer.clone();
        for (f, sliced) in self.figures.iter().zip(&self.sliced) {
            cols.push(format!("average_{f}"));
            // a member's column averages over the entities that have its rows: a store of
            // another format sums to 0 for "Supercenter" and is not one of its stores
            if *sliced {
                sel.push(format!("AVG(NULLIF({f}, 0)) AS average_{f}"));
            } else {
                sel.push(format!("AVG({f}) AS average_{f}"));
            }
        }
        let mut sql = format!("SELECT {} FROM {from}", sel.join(", "));
        if !outer.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", outer.join(", ")));
        }
        let mut order = Vec::new();
        for o in &q.order {
            let dir = if o.descending { "DESC" } else { "ASC" };
            match o.by {
                OrderBy::Figure => order.push(format!("{} {dir}", cols[outer.len()])),
                OrderBy::Groups => order.extend(outer.iter().map(|g| format!("{g} {dir}"))),
                OrderBy::Time => {}
            }
        }
        push_order_and_limit(&mut sql, &order, q.limit);
        CompiledQuery { sql, columns: cols }
    }
}

/// The first column's figure over the second's, each planned on its own and joined on the
/// breakdown; the period is left off a figure whose model has no time dimension (a snapshot
/// such as the stores' square feet).
fn ratio(planner: &Planner, q: &MetricQuery) -> PlanResult<CompiledQuery> {
    let [num, den] = &q.columns[..] else {
        return Err(super::plan::PlanError("a ratio needs two figures".into()));
    };
    let part = |col: &super::query::MetricColumn| -> PlanResult<CompiledQuery> {
        let mut one = MetricQuery {
            columns: vec![col.clone()],
            derived: None,
            order: Vec::new(),
            limit: None,
            ..q.clone()
        };
        let timed = planner
            .home_model(&col.metric, 0)
            .and_then(|m| planner.manifest.model(&m))
            .is_some_and(|m| {
                m.defaults
                    .as_ref()
                    .is_some_and(|d| d.agg_time_dimension.is_some())
                    || m.measures.iter().any(|x| x.agg_time_dimension.is_some())
            });
        if !timed {
            one.period = None;
        }
        Ok(render(&planner.plan(&one)?, &one, planner.dialect))
    };
    let (n, d) = (part(num)?, part(den)?);
    let groups: Vec<String> = n.columns[..n.columns.len().saturating_sub(1)].to_vec();
    let (a, b) = (
        n.columns.last().cloned().unwrap_or_default(),
        d.columns.last().cloned().unwrap_or_default(),
    );
    let name = format!("{a}_per_{b}");
    let on = if groups.is_empty() {
        "1 = 1".to_string()
    } else {
        groups
            .iter()
            .map(|g| format!("n.{g} = d.{g}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let mut sel: Vec<String> = groups.iter().map(|g| format!("n.{g}")).collect();
    sel.push(format!("1.0 * n.{a} / NULLIF(d.{b}, 0) AS {name}"));
    let mut sql = format!(
        "SELECT {} FROM ({}) n JOIN ({}) d ON {on}",
        sel.join(", "),
        n.sql,
        d.sql
    );
    let mut order = Vec::new();
    for o in &q.order {
        let dir = if o.descending { "DESC" } else { "ASC" };
        match o.by {
            OrderBy::Figure => order.push(format!("{name} {dir}")),
            OrderBy::Groups | OrderBy::Time => {
                order.extend(groups.iter().map(|g| format!("n.{g} {dir}")))
            }
        }
    }
    push_order_and_limit(&mut sql, &order, q.limit);
    let mut columns = groups;
    columns.push(name);
    Ok(CompiledQuery { sql, columns })
}

fn render(plan: &Plan, q: &MetricQuery, dialect: Dialect) -> CompiledQuery {
    let key_out: Vec<(usize, String)> = plan
        .keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.output.clone().map(|o| (i, o)))
        .collect();
    let time_out = plan.time_key.and_then(|i| plan.keys[i].output.clone());
    let group_out: Vec<String> = key_out
        .iter()
        .filter(|(i, _)| Some(*i) != plan.time_key)
        .map(|(_, o)| o.clone())
        .collect();
    let has_cumulative = plan.figures.iter().any(|f| f.cumulative) && time_out.is_some();
    let figure_sql = |f: &super::plan::Figure, inline: Option<&super::plan::Source>| -> String {
        let mut s = f.sql.clone();
        if let Some(src) = inline {
            for a in src.aggregates.iter().rev() {
                s = s.replace(&format!("{}.{}", src.alias, a.alias), &a.sql);
            }
        }
        s
    };
    let base: String;
    if plan.sources.len() == 1 && !has_cumulative {
        let s = &plan.sources[0];
        let mut cols = Vec::new();
        for (i, o) in &key_out {
            cols.push(format!("{} AS {o}", s.key_sql[*i]));
        }
        for f in &plan.figures {
            cols.push(format!("{} AS {}", figure_sql(f, Some(s)), f.output));
        }
        base = source_select(s, cols, &s.key_sql);
    } else {
        let mut ctes = Vec::new();
        for s in &plan.sources {
            let mut cols = Vec::new();
            for (i, k) in plan.keys.iter().enumerate() {
                cols.push(format!("{} AS {}", s.key_sql[i], k.alias));
            }
            for a in &s.aggregates {
                cols.push(format!("{} AS {}", a.sql, a.alias));
            }
            ctes.push(format!(
                "{} AS ({})",
                s.alias,
                source_select(s, cols, &s.key_sql)
            ));
        }
        let key_aliases: Vec<&str> = plan.keys.iter().map(|k| k.alias.as_str()).collect();
        let from = if plan.sources.len() == 1 {
            plan.sources[0].alias.clone()
        } else if key_aliases.is_empty() {
            plan.sources
                .iter()
                .map(|s| s.alias.clone())
                .collect::<Vec<_>>()
                .join(" CROSS JOIN ")
        } else {
            let union = plan
                .sources
                .iter()
                .map(|s| format!("SELECT {} FROM {}", key_aliases.join(", "), s.alias))
                .collect::<Vec<_>>()
                .join(&format!(
                    " {} ",
                    crate::sql::dialect::for_dialect(dialect)
                        .set_operator(crate::sql::dialect::SetOperator::Union)
                ));
            ctes.push(format!("k AS ({union})"));
            let mut f = "k".to_string();
            for s in &plan.sources {
                let on: Vec<String> = key_aliases
                    .iter()
                    .map(|a| format!("{}.{a} = k.{a}", s.alias))
                    .collect();
                f.push_str(&format!(" LEFT JOIN {} ON {}", s.alias, on.join(" AND ")));
            }
            f
        };
        let key_src = if plan.sources.len() == 1 {
            plan.sources[0].alias.as_str()
        } else {
            "k"
        };
        let mut cols = Vec::new();
        for (i, o) in &key_out {
            cols.push(format!("{key_src}.{} AS {o}", plan.keys[*i].alias));
        }
        let partition: Vec<String> = plan
            .keys
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != plan.time_key)
            .map(|(_, k)| format!("{key_src}.{}", k.alias))
            .collect();
        for f in &plan.figures {
            let sql = figure_sql(f, None);
            if f.cumulative && time_out.is_some() {
                cols.push(format!(
                    "SUM({sql}) OVER ({}ORDER BY {key_src}.t ROWS UNBOUNDED PRECEDING) AS {}",
                    partition_by(&partition),
                    f.output
                ));
            } else {
                cols.push(format!("{sql} AS {}", f.output));
            }
        }
        base = format!(
            "WITH {} SELECT {} FROM {from}",
            ctes.join(", "),
            cols.join(", ")
        );
    }

    let figures: Vec<String> = plan.figures.iter().map(|f| f.output.clone()).collect();
    let first = figures.first().cloned().unwrap_or_default();
    let mut shown: Vec<String> = group_out.clone();
    shown.extend(time_out.clone());
    let (body, figure_col, mut columns) = match &q.derived {
        None => {
            let mut c = shown.clone();
            c.extend(figures.iter().cloned());
            (None, first.clone(), c)
        }
        Some(Derived::ShareOfTotal) => {
            let part = if time_out.is_some() && !group_out.is_empty() {
                format!("PARTITION BY {}", time_out.clone().unwrap_or_default())
            } else {
                String::new()
            };
            let name = format!("{first}_share_pct");
            let mut c = shown.clone();
            let mut sel = shown.clone();
            if q.share_with_figure {
                c.push(first.clone());
                sel.push(first.clone());
            }
            c.push(name.clone());
            sel.push(format!(
                "100.0 * {first} / NULLIF(SUM({first}) OVER ({part}), 0) AS {name}"
            ));
            (
                Some(format!("SELECT {} FROM base", sel.join(", "))),
                name,
                c,
            )
        }
        Some(
            Derived::PeriodGrowth | Derived::PeriodGrowthWhere { .. } | Derived::PeriodDifference,
        ) => {
            let (a, b) = (
                figures.first().cloned().unwrap_or_default(),
                figures.get(1).cloned().unwrap_or_default(),
            );
            let metric = q
                .columns
                .first()
                .map(|c| super::plan::slug(&c.metric))
                .unwrap_or_default();
            let pct = format!("{metric}_growth_pct");
            // both periods' values and the growth, as analysts show a growth; a difference
            // asked shows the change in the metric's units before it, and orders by it
            let change = matches!(q.derived, Some(Derived::PeriodDifference))
                .then(|| format!("{metric}_change"));
            let mut c = shown.clone();
            c.extend([a.clone(), b.clone()]);
            c.extend(change.clone());
            c.push(pct.clone());
            let mut sel = shown.clone();
            sel.extend([a.clone(), b.clone()]);
            sel.extend(change.as_ref().map(|name| format!("{b} - {a} AS {name}")));
            sel.push(format!("100.0 * ({b} - {a}) / NULLIF({a}, 0) AS {pct}"));
            let only = match &q.derived {
                Some(Derived::PeriodGrowthWhere { decline: true }) => format!(" WHERE {b} < {a}"),
                Some(Derived::PeriodGrowthWhere { decline: false }) => format!(" WHERE {b} > {a}"),
                _ => String::new(),
            };
            (
                Some(format!("SELECT {} FROM base{only}", sel.join(", "))),
                change.unwrap_or(pct),
                c,
            )
        }
        Some(Derived::PeriodOverPeriod { lag }) => {
            let t = time_out.clone().unwrap_or_default();
            let name = format!("{first}_change_pct");
            let over = format!("OVER ({}ORDER BY {t})", partition_by(&group_out));
            let prev = format!("LAG({first}, {lag}) {over}");
            // the period, its value and the change, as analysts show a period-over-period
            let mut c = shown.clone();
            c.extend([first.clone(), name.clone()]);
            let mut sel = shown.clone();
            sel.push(first.clone());
            sel.push(format!(
                "100.0 * ({first} - {prev}) / NULLIF({prev}, 0) AS {name}"
            ));
            (
                Some(format!("SELECT {} FROM base", sel.join(", "))),
                name,
                c,
            )
        }
        Some(Derived::RunningTotal) => {
            let t = time_out.clone().unwrap_or_default();
            let name = format!("{first}_running_total");
            let mut c = shown.clone();
            c.push(name.clone());
            let mut sel = shown.clone();
            sel.push(format!(
                "SUM({first}) OVER ({}ORDER BY {t} ROWS UNBOUNDED PRECEDING) AS {name}",
                partition_by(&group_out)
            ));
            (
                Some(format!("SELECT {} FROM base", sel.join(", "))),
                name,
                c,
            )
        }
        Some(Derived::RankWithin { top, ascending }) => {
            // within each group of the first breakdown, or each period when one breakdown is
            // ranked by period ("the best-selling artist in each year")
            let g0 = match (&time_out, q.group_by.len()) {
                (Some(t), 1) => t.clone(),
                _ => group_out.first().cloned().unwrap_or_default(),
            };
            let dir = if *ascending { "ASC" } else { "DESC" };
            let mut c = shown.clone();
            c.push(first.clone());
            let inner = format!(
                "SELECT base.*, RANK() OVER (PARTITION BY {g0} ORDER BY {first} {dir}) AS rnk FROM base"
            );
            let filter = top
                .map(|n| format!(" WHERE rnk <= {n}"))
                .unwrap_or_default();
            (
                Some(format!(
                    "SELECT {} FROM ({inner}) ranked{filter}",
                    c.join(", ")
                )),
                first.clone(),
                c,
            )
        }
        Some(Derived::Rank { ascending }) => {
            let name = format!("{first}_rank");
            let dir = if *ascending { "ASC" } else { "DESC" };
            let mut c = shown.clone();
            c.extend([first.clone(), name.clone()]);
            let mut sel = shown.clone();
            sel.extend([
                first.clone(),
                format!("RANK() OVER (ORDER BY {first} {dir}) AS {name}"),
            ]);
            (
                Some(format!("SELECT {} FROM base", sel.join(", "))),
                name,
                c,
            )
        }
        Some(Derived::ShareOfWhole) => {
            let (part, whole) = (
                figures.first().cloned().unwrap_or_default(),
                figures.get(1).cloned().unwrap_or_default(),
            );
            let name = format!("{part}_share_pct");
            let mut c = shown.clone();
            let mut sel = shown.clone();
            // "how much revenue came from promotions, and what percent of the total was it"
            if q.share_with_figure {
                c.push(part.clone());
                sel.push(part.clone());
            }
            c.push(name.clone());
            sel.push(format!("100.0 * {part} / NULLIF({whole}, 0) AS {name}"));
            (
                Some(format!("SELECT {} FROM base", sel.join(", "))),
                name,
                c,
            )
        }
        // compiled by `average_per` and `ratio` before this
        Some(Derived::AveragePer { .. } | Derived::Ratio) => {
            let mut c = shown.clone();
            c.extend(figures.iter().cloned());
            (None, first.clone(), c)
        }
        Some(Derived::VersusAverage { above, .. }) => {
            let mut c = shown.clone();
            c.push(first.clone());
            let op = if *above { ">" } else { "<" };
            let inner = format!("SELECT base.*, AVG({first}) OVER () AS avg_all FROM base");
            (
                Some(format!(
                    "SELECT {} FROM ({inner}) averaged WHERE {first} {op} avg_all",
                    c.join(", ")
                )),
                first.clone(),
                c,
            )
        }
    };
    // order
    let mut order = Vec::new();
    if let Some(Derived::RankWithin { ascending, .. }) = &q.derived {
        match (&time_out, q.group_by.len()) {
            (Some(t), 1) => order.push(format!("{t} ASC")),
            _ => {
                if let Some(g0) = group_out.first() {
                    order.push(format!("{g0} ASC"));
                }
            }
        }
        order.push(format!(
            "{figure_col} {}",
            if *ascending { "ASC" } else { "DESC" }
        ));
    } else {
        for o in &q.order {
            let dir = if o.descending { "DESC" } else { "ASC" };
            match o.by {
                OrderBy::Figure => order.push(format!("{figure_col} {dir}")),
                OrderBy::Time => {
                    if let Some(t) = &time_out {
                        order.push(format!("{t} {dir}"));
                    }
                }
                OrderBy::Groups => order.extend(group_out.iter().map(|g| format!("{g} {dir}"))),
            }
        }
    }
    let tail = format!(
        "{}{}",
        if order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", order.join(", "))
        },
        q.limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default()
    );
    let sql = match body {
        None => format!("{base}{tail}"),
        Some(b) => {
            if let Some(rest) = base.strip_prefix("WITH ") {
                format!(
                    "WITH {rest_ctes}, base AS ({main}) {b}{tail}",
                    rest_ctes = split_with(rest).0,
                    main = split_with(rest).1
                )
            } else {
                format!("WITH base AS ({base}) {b}{tail}")
            }
        }
    };
    columns.dedup();
    CompiledQuery { sql, columns }
}

/// Appends ` ORDER BY ...` (when there is an order) and ` LIMIT n` to a wrapping query.
fn push_order_and_limit(sql: &mut String, order: &[String], limit: Option<u64>) {
    if !order.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
}

/// Splits `a AS (...), b AS (...) SELECT ...` (after `WITH `) into the CTE list and the select.
fn split_with(rest: &str) -> (String, String) {
    let mut depth = 0i32;
    let mut in_str = false;
    let bytes: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '\'' {
            in_str = !in_str;
        } else if !in_str {
            if c == '(' {
                depth += 1;
            } else if c == ')' {
                depth -= 1;
            } else if depth == 0 && rest[char_offset(&bytes, i)..].starts_with(" SELECT ") {
                let at = char_offset(&bytes, i);
                return (rest[..at].to_string(), rest[at + 1..].to_string());
            }
        }
        i += 1;
    }
    (rest.to_string(), String::new())
}

fn char_offset(chars: &[char], i: usize) -> usize {
    chars[..i].iter().map(|c| c.len_utf8()).sum()
}

fn partition_by(cols: &[String]) -> String {
    if cols.is_empty() {
        String::new()
    } else {
        format!("PARTITION BY {} ", cols.join(", "))
    }
}

fn source_select(s: &super::plan::Source, cols: Vec<String>, keys: &[String]) -> String {
    let mut sql = format!("SELECT {} FROM {}", cols.join(", "), s.from);
    for j in &s.joins {
        sql.push(' ');
        sql.push_str(j);
    }
    if !s.wheres.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&s.wheres.join(" AND "));
    }
    if !keys.is_empty() {
        sql.push_str(" GROUP BY ");
        sql.push_str(&keys.join(", "));
    }
    sql
}
