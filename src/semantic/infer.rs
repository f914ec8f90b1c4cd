//! The inferred semantic model, for a database nobody wrote one for: read from the schema
//! (declared keys, types) and the data (distinct counts), marked `inferred`.
//!
//! - a table with declared foreign keys and a date column is a fact: its numeric non-key
//!   columns are summed measures (`<column>` metrics), its first date column is the measures'
//!   time dimension, and its rows are counted (`<table>_count`);
//! - every single-column primary key is a primary entity named after its table, every
//!   declared foreign key a foreign entity named after the table it references;
//! - text columns of at most [`MAX_CATEGORIES`] distinct values are categorical dimensions,
//!   date columns time dimensions; a text column named like `name` or `title` labels the
//!   entity.
//!
//! Only what the schema declares is trusted: no key is guessed from a column's name.

use super::model::*;
use crate::warehouse::{ColumnKind, Schema};

/// Text columns with more distinct values than this are not dimensions (names, free text).
pub const MAX_CATEGORIES: u64 = 500;

/// The model inferred from `schema`.
pub fn infer(schema: &Schema) -> SemanticManifest {
    let mut manifest = SemanticManifest {
        inferred: true,
        ..Default::default()
    };
    for t in &schema.tables {
        let keys: Vec<&str> = t
            .primary_key
            .iter()
            .map(String::as_str)
            .chain(t.foreign_keys.iter().map(|f| f.from_column.as_str()))
            .collect();
        let mut m = SemanticModel {
            name: t.name.to_ascii_lowercase(),
            model: t.name.clone(),
            inferred: true,
            ..Default::default()
        };
        if t.primary_key.len() == 1 {
            let label = t
                .columns
                .iter()
                .find(|c| {
                    c.kind() == ColumnKind::Text && {
                        let n = c.name.to_ascii_lowercase();
                        n == "name" || n.ends_with("name") || n == "title"
                    }
                })
                .map(|c| c.name.to_ascii_lowercase());
            m.entities.push(Entity {
                name: t.name.to_ascii_lowercase(),
                kind: EntityType::Primary,
                expr: Some(t.primary_key[0].clone()),
                description: String::new(),
                synonyms: Vec::new(),
                label,
                display: Vec::new(),
            });
        }
        for fk in &t.foreign_keys {
            let name = fk.to_table.to_ascii_lowercase();
            if m.entity(&name).is_some() {
                continue;
            }
            m.entities.push(Entity {
                name,
                kind: EntityType::Foreign,
                expr: Some(fk.from_column.clone()),
                description: String::new(),
                synonyms: Vec::new(),
                label: None,
                display: Vec::new(),
            });
        }
        for c in &t.columns {
            let lower = c.name.to_ascii_lowercase();
            let is_label = m
                .entities
                .iter()
                .any(|e| e.label.as_deref() == Some(lower.as_str()));
            match c.kind() {
                ColumnKind::Text
                    if (c.distinct_count <= MAX_CATEGORIES || is_label)
                        && !keys.contains(&c.name.as_str()) =>
                {
                    m.dimensions.push(Dimension {
                        name: lower,
                        kind: DimensionType::Categorical,
                        expr: Some(c.name.clone()),
                        type_params: None,
                        description: String::new(),
                        synonyms: Vec::new(),
                    })
                }
                ColumnKind::Date => m.dimensions.push(Dimension {
                    name: lower,
                    kind: DimensionType::Time,
                    expr: Some(c.name.clone()),
                    type_params: Some(DimensionTypeParams {
                        time_granularity: Grain::Day,
                    }),
                    description: String::new(),
                    synonyms: Vec::new(),
                }),
                _ => {}
            }
        }
        let time = m
            .dimensions
            .iter()
            .find(|d| d.kind == DimensionType::Time)
            .map(|d| d.name.clone());
        let fact = !t.foreign_keys.is_empty() && time.is_some();
        if fact {
            m.defaults = Some(ModelDefaults {
                agg_time_dimension: time,
            });
            for c in &t.columns {
                let lower = c.name.to_ascii_lowercase();
                if !c.kind().is_numeric()
                    || keys.contains(&c.name.as_str())
                    || lower == "id"
                    || lower.ends_with("_id")
                {
                    continue;
                }
                let name = format!("{}_{}", m.name, lower);
                m.measures.push(Measure {
                    name: name.clone(),
                    agg: Agg::Sum,
                    expr: Some(c.name.clone()),
                    agg_time_dimension: None,
                    description: String::new(),
                    synonyms: Vec::new(),
                });
                manifest.metrics.push(Metric {
                    name,
                    kind: MetricType::Simple,
                    type_params: MetricTypeParams {
                        measure: Some(MetricInput::Name(format!("{}_{}", m.name, lower))),
                        ..Default::default()
                    },
                    filter: None,
                    label: Some(lower.replace('_', " ")),
                    description: format!("Sum of {}.{} (inferred).", t.name, c.name),
                    synonyms: Vec::new(),
                    lower_is_better: false,
                });
            }
        }
        manifest.semantic_models.push(m);
    }
    manifest
}
