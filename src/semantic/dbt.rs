//! dbt import of the semantic layer: a dbt project's `semantic_models:` and `metrics:` (the
//! MetricFlow YAML spec) read into querent's own manifest types ([`super::model`]) and merged
//! into a domain's `semantic.yml`.
//!
//! [`read`] takes one YAML file's parsed value and gives its items, each deserialised alone so
//! that an error names the item (`models/orders.yml: metrics[revenue]: ...`); it accepts the
//! spellings dbt allows beside ours (a `filter` given as a list, `cumulative_type_params`, a
//! measure's `create_metric`) and refuses what querent would silently compute differently (a
//! measure's `non_additive_dimension`, an input's `offset_window`). [`merge`] puts the items into
//! a manifest: dbt's replace same-named ones, keeping the keys only querent has (synonyms, an
//! entity's `label` and `display`, a metric's `lower_is_better`, descriptions dbt leaves empty);
//! named filters and `reference_date` stay. Validating the result and writing it are the
//! caller's ([`SemanticManifest::validate`], [`super::save`]); the command is `querent knowledge
//! import-dbt` (see `knowledge::dbt`).

use serde_norway::Value;

use super::model::{ManifestError, Metric, MetricType, MetricTypeParams, SemanticModel};
use super::SemanticManifest;

/// The semantic items of one dbt YAML file.
#[derive(Debug, Clone, Default)]
pub struct DbtSemantic {
    pub semantic_models: Vec<SemanticModel>,
    pub metrics: Vec<Metric>,
}

/// What a [`merge`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MergeReport {
    /// Semantic models and metrics that were not in the manifest.
    pub added: usize,
    /// Semantic models and metrics that replaced same-named ones.
    pub replaced: usize,
}

fn err(path: String, message: impl Into<String>) -> ManifestError {
    ManifestError {
        path,
        message: message.into(),
    }
}

/// The `semantic_models` and `metrics` of one dbt YAML file (`source` names it in errors);
/// empty when it has neither.
///
/// Errors: a list that is not a list, an item without a name, an item that does not fit
/// MetricFlow's shape as querent reads it (an unknown `agg` or metric `type`, a missing `model`),
/// or a dbt feature querent does not compute (`non_additive_dimension`, `offset_window`,
/// `offset_to_grain`); the error's path names the item.
pub fn read(source: &str, file: &Value) -> Result<DbtSemantic, ManifestError> {
    let mut out = DbtSemantic::default();
    for (i, item) in list(source, file, "semantic_models")?.iter().enumerate() {
        let path = item_path(source, "semantic_models", i, item)?;
        refuse_unsupported_measures(&path, item)?;
        let model: SemanticModel =
            serde_norway::from_value(item.clone()).map_err(|e| err(path.clone(), e.to_string()))?;
        for measure in item
            .get("measures")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            // dbt's `create_metric: true` makes a simple metric of the measure's name.
            if measure.get("create_metric").and_then(Value::as_bool) == Some(true) {
                if let Some(name) = measure.get("name").and_then(Value::as_str) {
                    out.metrics.push(simple_metric(name, measure));
                }
            }
        }
        out.semantic_models.push(model);
    }
    for (i, item) in list(source, file, "metrics")?.iter().enumerate() {
        let path = item_path(source, "metrics", i, item)?;
        let mut item = item.clone();
        normalise_metric(&path, &mut item)?;
        let metric: Metric =
            serde_norway::from_value(item).map_err(|e| err(path.clone(), e.to_string()))?;
        out.metrics
            .retain(|m| !m.name.eq_ignore_ascii_case(&metric.name));
        out.metrics.push(metric);
    }
    Ok(out)
}

/// Merges `items` into `manifest`: same-named items (case-insensitive) are replaced in place,
/// keeping querent-only keys; new ones are appended. The manifest is no longer `inferred`.
pub fn merge(manifest: &mut SemanticManifest, items: DbtSemantic) -> MergeReport {
    let mut report = MergeReport::default();
    manifest.inferred = false;
    for mut model in items.semantic_models {
        model.inferred = false;
        match manifest
            .semantic_models
            .iter_mut()
            .find(|m| m.name.eq_ignore_ascii_case(&model.name))
        {
            Some(ours) => {
                keep_model_extensions(ours, &mut model);
                *ours = model;
                report.replaced += 1;
            }
            None => {
                manifest.semantic_models.push(model);
                report.added += 1;
            }
        }
    }
    for mut metric in items.metrics {
        match manifest
            .metrics
            .iter_mut()
            .find(|m| m.name.eq_ignore_ascii_case(&metric.name))
        {
            Some(ours) => {
                if metric.synonyms.is_empty() {
                    metric.synonyms = std::mem::take(&mut ours.synonyms);
                }
                if metric.description.trim().is_empty() {
                    metric.description = std::mem::take(&mut ours.description);
                }
                if metric.label.is_none() {
                    metric.label = ours.label.take();
                }
                metric.lower_is_better |= ours.lower_is_better;
                *ours = metric;
                report.replaced += 1;
            }
            None => {
                manifest.metrics.push(metric);
                report.added += 1;
            }
        }
    }
    report
}

/// Carries querent's keys of `ours` over to dbt's `new` model, item by item (by name).
fn keep_model_extensions(ours: &mut SemanticModel, new: &mut SemanticModel) {
    if new.description.trim().is_empty() {
        new.description = std::mem::take(&mut ours.description);
    }
    for e in &mut new.entities {
        if let Some(old) = ours
            .entities
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(&e.name))
        {
            if e.synonyms.is_empty() {
                e.synonyms = std::mem::take(&mut old.synonyms);
            }
            if e.description.trim().is_empty() {
                e.description = std::mem::take(&mut old.description);
            }
            if e.label.is_none() {
                e.label = old.label.take();
            }
            if e.display.is_empty() {
                e.display = std::mem::take(&mut old.display);
            }
        }
    }
    for d in &mut new.dimensions {
        if let Some(old) = ours
            .dimensions
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(&d.name))
        {
            if d.synonyms.is_empty() {
                d.synonyms = std::mem::take(&mut old.synonyms);
            }
            if d.description.trim().is_empty() {
                d.description = std::mem::take(&mut old.description);
            }
        }
    }
    for m in &mut new.measures {
        if let Some(old) = ours
            .measures
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(&m.name))
        {
            if m.synonyms.is_empty() {
                m.synonyms = std::mem::take(&mut old.synonyms);
            }
            if m.description.trim().is_empty() {
                m.description = std::mem::take(&mut old.description);
            }
        }
    }
}

/// The list under `key`, empty when absent.
fn list<'v>(source: &str, file: &'v Value, key: &str) -> Result<&'v [Value], ManifestError> {
    match file.get(key) {
        None | Some(Value::Null) => Ok(&[][..]),
        Some(Value::Sequence(items)) => Ok(items.as_slice()),
        Some(_) => Err(err(format!("{source}: {key}"), "is not a list")),
    }
}

/// `source: key[name]`, or an error when the item has no name.
fn item_path(source: &str, key: &str, i: usize, item: &Value) -> Result<String, ManifestError> {
    match item.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() => Ok(format!("{source}: {key}[{name}]")),
        _ => Err(err(format!("{source}: {key}[{i}]"), "has no name")),
    }
}

fn refuse_unsupported_measures(path: &str, model: &Value) -> Result<(), ManifestError> {
    for m in model
        .get("measures")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if m.get("non_additive_dimension").is_some() {
            let name = m.get("name").and_then(Value::as_str).unwrap_or("?");
            return Err(err(
                format!("{path}.measures[{name}]"),
                "non_additive_dimension (a semi-additive measure) is not supported by querent",
            ));
        }
    }
    Ok(())
}

/// A simple metric over `measure` (dbt's `create_metric`), with its description and label.
fn simple_metric(name: &str, measure: &Value) -> Metric {
    Metric {
        name: name.to_string(),
        kind: MetricType::Simple,
        type_params: MetricTypeParams {
            measure: Some(super::model::MetricInput::Name(name.to_string())),
            ..Default::default()
        },
        filter: None,
        label: measure
            .get("label")
            .and_then(Value::as_str)
            .map(str::to_string),
        description: measure
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        synonyms: Vec::new(),
        lower_is_better: false,
    }
}

/// Brings dbt's spellings to querent's: `filter` lists joined with `AND`,
/// `cumulative_type_params` into `type_params`; refuses offsets of derived inputs.
fn normalise_metric(path: &str, metric: &mut Value) -> Result<(), ManifestError> {
    join_filter(metric);
    let Some(map) = metric.as_mapping_mut() else {
        return Err(err(path.to_string(), "is not a mapping"));
    };
    let cumulative = map.remove("cumulative_type_params");
    let params = map
        .entry(Value::from("type_params"))
        .or_insert_with(|| Value::Mapping(Default::default()));
    let Some(params) = params.as_mapping_mut() else {
        return Err(err(format!("{path}.type_params"), "is not a mapping"));
    };
    if let Some(Value::Mapping(c)) = cumulative {
        for key in ["window", "grain_to_date"] {
            if let Some(v) = c.get(key) {
                params.insert(Value::from(key), v.clone());
            }
        }
    }
    for key in ["measure", "numerator", "denominator"] {
        if let Some(input) = params.get_mut(key) {
            join_filter(input);
        }
    }
    if let Some(Value::Sequence(inputs)) = params.get_mut("metrics") {
        for input in inputs {
            for offset in ["offset_window", "offset_to_grain"] {
                if input.get(offset).is_some() {
                    let name = input.get("name").and_then(Value::as_str).unwrap_or("?");
                    return Err(err(
                        format!("{path}.type_params.metrics[{name}]"),
                        format!("{offset} is not supported by querent"),
                    ));
                }
            }
            join_filter(input);
        }
    }
    Ok(())
}

/// dbt allows `filter:` as a list of conditions; querent holds one condition.
fn join_filter(item: &mut Value) {
    let Some(map) = item.as_mapping_mut() else {
        return;
    };
    if let Some(Value::Sequence(parts)) = map.get("filter") {
        let joined = parts
            .iter()
            .filter_map(Value::as_str)
            .map(|p| format!("({})", p.trim()))
            .collect::<Vec<_>>()
            .join(" AND ");
        map.insert(Value::from("filter"), Value::from(joined));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DBT: &str = r#"
semantic_models:
  - name: orders
    description: One row per order.
    model: ref('orders')
    defaults: {agg_time_dimension: ordered_at}
    config: {meta: {owner: finance}}
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - name: ordered_at
        type: time
        type_params: {time_granularity: day}
      - {name: status, type: categorical, label: Status}
    measures:
      - {name: order_total, agg: sum, expr: amount, create_metric: true}
      - {name: order_count, agg: count, expr: "1"}
metrics:
  - name: orders
    label: Orders
    type: simple
    type_params:
      measure: {name: order_count, join_to_timespine: false}
    filter:
      - "{{ Dimension('order__status') }} = 'done'"
  - name: average_order
    type: ratio
    type_params: {numerator: order_total, denominator: orders}
  - name: running_total
    type: cumulative
    type_params: {measure: order_total}
    cumulative_type_params: {grain_to_date: month}
"#;

    fn dbt() -> DbtSemantic {
        read("orders.yml", &serde_norway::from_str(DBT).unwrap()).unwrap()
    }

    #[test]
    fn dbt_items_read_into_a_manifest_that_validates() {
        let items = dbt();
        assert_eq!(items.semantic_models.len(), 1);
        let names: Vec<&str> = items.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["order_total", "orders", "average_order", "running_total"]
        );
        let mut manifest = SemanticManifest::default();
        let report = merge(&mut manifest, items);
        assert_eq!(
            report,
            MergeReport {
                added: 5,
                replaced: 0
            }
        );
        manifest.validate().unwrap();
        assert_eq!(manifest.semantic_models[0].table(), "orders");
        let orders = manifest.metric("orders").unwrap();
        assert_eq!(
            orders.filter.as_deref(),
            Some("({{ Dimension('order__status') }} = 'done')")
        );
        let running = manifest.metric("running_total").unwrap();
        assert_eq!(
            running.type_params.grain_to_date,
            Some(super::super::model::Grain::Month)
        );
    }

    #[test]
    fn a_dbt_item_replaces_ours_but_querent_keys_stay() {
        let mut manifest = SemanticManifest::parse(
            "semantic_models:\n  - name: orders\n    model: orders\n    entities:\n      - {name: order, type: primary, expr: id, synonyms: [purchase]}\n    dimensions:\n      - {name: status, type: categorical, synonyms: [state]}\n    measures:\n      - {name: old_measure, agg: sum, expr: x}\nmetrics:\n  - {name: orders, type: simple, type_params: {measure: old_measure}, synonyms: [order volume], lower_is_better: true}\nfilters:\n  - {name: done, semantic_model: orders, expr: \"status = 'done'\"}\n",
        )
        .unwrap();
        let report = merge(&mut manifest, dbt());
        assert_eq!(report.replaced, 2);
        manifest.validate().unwrap();
        let model = manifest.model("orders").unwrap();
        assert_eq!(model.entity("order").unwrap().expr(), "order_id");
        assert_eq!(model.entity("order").unwrap().synonyms, ["purchase"]);
        assert_eq!(model.dimension("status").unwrap().synonyms, ["state"]);
        assert!(model.measure("old_measure").is_none());
        let orders = manifest.metric("orders").unwrap();
        assert_eq!(orders.synonyms, ["order volume"]);
        assert!(orders.lower_is_better);
        assert_eq!(manifest.filters.len(), 1);
    }

    #[test]
    fn an_item_querent_cannot_read_is_an_error_naming_it() {
        let file = serde_norway::from_str(
            "metrics:\n  - {name: conversions, type: conversion, type_params: {}}\n",
        )
        .unwrap();
        let e = read("m.yml", &file).unwrap_err();
        assert_eq!(e.path, "m.yml: metrics[conversions]");
        assert!(e.message.contains("conversion"), "{e}");
        let file = serde_norway::from_str(
            "metrics:\n  - {name: growth, type: derived, type_params: {expr: a - b, metrics: [a, {name: a, offset_window: 1 month, alias: b}]}}\n",
        )
        .unwrap();
        let e = read("m.yml", &file).unwrap_err();
        assert_eq!(e.path, "m.yml: metrics[growth].type_params.metrics[a]");
        let file = serde_norway::from_str("metrics:\n  - {type: simple}\n").unwrap();
        assert_eq!(read("m.yml", &file).unwrap_err().message, "has no name");
    }
}
