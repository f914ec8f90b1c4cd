//! The pattern engine: text-to-SQL without an LLM.
//!
//! [`generate`] is the whole surface. It links the question to the schema ([`linking`]: names,
//! stems, synonyms, fuzzy matches, the value index), reads a frame of the question ([`frame`]:
//! select list, aggregates, filters, dates, group-by, having, order, limit, negation), plans the
//! joins along the foreign-key graph ([`joins`]), builds the SQL as a tree ([`ast`], [`build`])
//! and renders it for the target dialect. Curated knowledge goes first: a close curated example
//! is adapted ([`example`]) and business rules the question calls up supply their SQL fragments.
//! Each candidate gets a confidence from how much of the question was explained and how sure the
//! links were; below the threshold the engine refuses with the words it could not map.

pub mod ast;
pub mod build;
pub mod example;
pub mod frame;
pub mod joins;
pub mod linking;

use std::collections::HashMap;

use serde_json::json;

use crate::error::{QuerentError, QuerentResult};
use crate::knowledge::{BusinessRule, Example, TableDoc, ValueIndex};
use crate::question::Analysis;
use crate::sql::{GeneratedSql, GenerationMethod, TraceStep};
use crate::warehouse::{Dialect, Schema};

use self::frame::Measure;
use self::joins::JoinGraph;
use self::linking::{Lexicon, Target};

/// Everything the pattern engine reads for one question.
pub struct PatternContext<'a> {
    pub analysis: &'a Analysis,
    pub schema: &'a Schema,
    pub docs: &'a [TableDoc],
    pub values: &'a ValueIndex,
    /// Retrieved business rules with their scores.
    pub rules: &'a [(BusinessRule, f32)],
    /// Retrieved examples with their scores (cosine similarity).
    pub examples: &'a [(Example, f32)],
    /// Retrieval scores per table name (0..1).
    pub table_scores: &'a HashMap<String, f32>,
    pub dialect: Dialect,
    /// Candidates below this confidence are not returned; none left means a refusal.
    pub min_confidence: f64,
}

/// Ranked candidates, best first (the engine runs them through the guard and takes the first that
/// runs).
///
/// Errors: [`QuerentError::CannotAnswer`] with the words that could not be mapped when no
/// candidate reaches `ctx.min_confidence`.
pub fn generate(ctx: &PatternContext) -> QuerentResult<Vec<GeneratedSql>> {
    let a = ctx.analysis;
    let lex = Lexicon::build(ctx.schema, ctx.docs);
    let graph = JoinGraph::build(ctx.schema);
    let links = linking::link(a, ctx.schema, &lex, ctx.values, ctx.table_scores);
    let link_trace = TraceStep::new(
        "linking",
        format!(
            "{} span(s) linked: {}",
            links.spans.len(),
            links
                .spans
                .iter()
                .map(|s| format!("'{}' -> {}", s.text, describe(ctx.schema, &s.best().target)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        json!(links
            .spans
            .iter()
            .map(|s| json!({
                "text": s.text,
                "tokens": [s.start, s.end],
                "links": s.links.iter().take(3).map(|l| json!({
                    "target": describe(ctx.schema, &l.target),
                    "score": (l.score * 1000.0).round() / 1000.0,
                    "how": l.how,
                })).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()),
    );
    let mut out: Vec<GeneratedSql> = Vec::new();

    // 1. curated examples close to the question
    for ad in example::adapt(a, &links, ctx.examples) {
        let confidence =
            (ad.similarity as f64 * if ad.swaps.is_empty() { 1.0 } else { 0.95 }).clamp(0.0, 1.0);
        out.push(GeneratedSql {
            sql: ad.sql.clone(),
            method: GenerationMethod::Example,
            confidence,
            trace: vec![
                link_trace.clone(),
                TraceStep::new(
                    "example",
                    format!("adapted the curated example \"{}\" (similarity {:.2})", ad.question, ad.similarity),
                    json!({ "question": ad.question, "similarity": ad.similarity, "swaps": ad.swaps }),
                ),
            ],
        });
    }

    // 2. the question frame, with business rules
    let hits = frame::rule_hits(a, ctx.rules, &links);
    let fr = frame::build_frame(a, ctx.schema, &lex, &links, &graph, &hits);
    let anything_linked = links
        .spans
        .iter()
        .any(|s| !matches!(s.best().target, Target::Value { .. }))
        || !hits.is_empty();
    let mut refusal_reason = String::new();
    if anything_linked {
        match build::build_query(&fr, ctx.schema, &graph) {
            Ok((query, plan)) => {
                let sql = query.render(ctx.dialect);
                let inferred = plan.steps.iter().filter(|s| !s.declared).count();
                let words = a
                    .tokens
                    .iter()
                    .filter(|t| t.kind == crate::question::TokenKind::Word)
                    .count();
                let features = Features::of(&fr, &links, plan.steps.len(), inferred, words);
                let confidence = features.confidence();
                let method_note = if fr.rules.is_empty() {
                    "the question frame".to_string()
                } else {
                    format!(
                        "the question frame with business rule(s) {}",
                        fr.rules.join(", ")
                    )
                };
                let mut trace = vec![link_trace.clone()];
                if !fr.rules.is_empty() {
                    trace.push(TraceStep::new(
                        "rule",
                        format!("applied business rule(s): {}", fr.rules.join(", ")),
                        json!(fr.rules),
                    ));
                }
                trace.push(TraceStep::new(
                    "frame",
                    format!("{}: {}", method_note, fr.notes.join("; ")),
                    json!({
                        "select": fr.select.iter().map(|t| term_name(ctx.schema, t)).collect::<Vec<_>>(),
                        "conditions": fr.conds.len(),
                        "group_by": fr.group_by.iter().map(|c| col_name(ctx.schema, *c)).collect::<Vec<_>>(),
                        "order": fr.order.iter().map(|(t, d)| format!("{}{}", term_name(ctx.schema, t), if *d { " desc" } else { "" })).collect::<Vec<_>>(),
                        "limit": fr.limit,
                        "coverage": fr.coverage,
                        "unmapped": fr.unmapped,
                    }),
                ));
                trace.push(TraceStep::new(
                    "join_path",
                    if plan.steps.is_empty() {
                        format!("one table: {}", plan.tables.first().map(|t| ctx.schema.tables[*t].name.as_str()).unwrap_or(""))
                    } else {
                        format!(
                            "joined {} along {}",
                            plan.tables.iter().map(|t| ctx.schema.tables[*t].name.as_str()).collect::<Vec<_>>().join(", "),
                            plan.steps
                                .iter()
                                .map(|s| format!(
                                    "{} = {}{}",
                                    col_name(ctx.schema, s.on[0].0),
                                    col_name(ctx.schema, s.on[0].1),
                                    if s.declared { "" } else { " (inferred)" }
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                    json!({ "tables": plan.tables.iter().map(|t| &ctx.schema.tables[*t].name).collect::<Vec<_>>(), "inferred_keys": inferred }),
                ));
                trace.push(TraceStep::new(
                    "confidence",
                    format!("confidence {confidence:.2}"),
                    json!({ "confidence": confidence, "features": features }),
                ));
                out.push(GeneratedSql {
                    sql,
                    method: GenerationMethod::Pattern,
                    confidence,
                    trace,
                });
            }
            Err(build::BuildError::EmptySelect) => {
                refusal_reason = "nothing in the question says what to show".into()
            }
            Err(build::BuildError::Unreachable(t)) => {
                refusal_reason = format!("no join path reaches {}", t.join(", "));
            }
        }
    } else {
        refusal_reason =
            "no word of the question matches a table, a column or a stored value".into();
    }

    // curated knowledge first: a close example outranks the generic frame
    let rank = |g: &GeneratedSql| {
        g.confidence
            + if g.method == GenerationMethod::Example && g.confidence >= 0.75 {
                1.0
            } else {
                0.0
            }
    };
    out.sort_by(|x, y| rank(y).total_cmp(&rank(x)));
    let best = out.first().map(|g| g.confidence).unwrap_or(0.0);
    out.retain(|g| g.confidence >= ctx.min_confidence);
    if out.is_empty() {
        let mut unmapped = fr.unmapped.clone();
        if unmapped.is_empty() {
            unmapped = a.content_words.clone();
        }
        let reason = if refusal_reason.is_empty() {
            format!(
                "the best reading of the question has confidence {:.2}, below {:.2}; could not map: {}",
                best,
                ctx.min_confidence,
                if unmapped.is_empty() { "(nothing specific)".to_string() } else { unmapped.join(", ") }
            )
        } else {
            format!("{refusal_reason}; could not map: {}", unmapped.join(", "))
        };
        return Err(QuerentError::CannotAnswer { reason, unmapped });
    }
    Ok(out)
}

/// What the confidence of a frame's query is computed from (also reported in the trace, and
/// the inputs of its calibration).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Features {
    /// Share of the question's content words explained, 0..1.
    pub coverage: f64,
    /// Mean score of the links used, 0..1.
    pub link_quality: f64,
    /// Penalties for guesses the frame made.
    pub guesses: f64,
    /// Joins in the plan.
    pub joins: usize,
    /// Joins on keys the database does not declare.
    pub inferred_keys: usize,
    /// Words of the question.
    pub words: usize,
    /// Spans whose second link scores within 0.05 of the first (ambiguous words).
    pub ambiguous: usize,
    /// The query is a set operation (INTERSECT, UNION, EXCEPT) or leaves rows out (NOT IN).
    pub set_operation: bool,
    /// The select list is `*`.
    pub star: bool,
    /// Business rules applied.
    pub rules: usize,
}

impl Features {
    fn of(
        fr: &frame::Frame,
        links: &linking::Linking,
        joins: usize,
        inferred_keys: usize,
        words: usize,
    ) -> Features {
        Features {
            coverage: fr.coverage as f64,
            link_quality: (fr.link_quality as f64).min(1.0),
            guesses: fr.guesses as f64,
            joins,
            inferred_keys,
            words,
            ambiguous: links
                .spans
                .iter()
                .filter(|s| s.links.len() > 1 && s.links[1].score >= s.links[0].score - 0.05)
                .count(),
            set_operation: fr.combine.is_some() || !fr.excluded.is_empty(),
            star: fr
                .select
                .iter()
                .all(|t| t.agg.is_none() && matches!(t.measure, Measure::Star)),
            rules: fr.rules.len(),
        }
    }

    /// Confidence of the query, 0..1: coverage of the question's words, quality of the links
    /// used, minus guesses, inferred join keys, long join paths and long questions (each extra
    /// join and each word past a dozen made a wrong reading measurably more likely on a sample
    /// of Spider training questions).
    pub fn confidence(&self) -> f64 {
        let mut c = 0.15 + 0.55 * self.coverage + 0.3 * self.link_quality;
        c -= self.guesses.min(0.4);
        c -= 0.05 * self.inferred_keys as f64;
        c -= 0.08 * self.joins.saturating_sub(1) as f64;
        c -= 0.02 * self.words.saturating_sub(12) as f64;
        if self.star {
            c -= 0.1;
        }
        c.clamp(0.0, 1.0)
    }
}

fn col_name(schema: &Schema, c: linking::ColRef) -> String {
    format!(
        "{}.{}",
        schema.tables[c.table].name, schema.tables[c.table].columns[c.column].name
    )
}

fn term_name(schema: &Schema, t: &frame::Term) -> String {
    let inner = match &t.measure {
        Measure::Column(c) => col_name(schema, *c),
        Measure::Star => "*".into(),
        Measure::Rule { name, .. } => format!("rule '{name}'"),
    };
    match t.agg {
        Some(a) => format!(
            "{:?}({}{})",
            a,
            if t.distinct { "distinct " } else { "" },
            inner
        )
        .to_lowercase(),
        None => inner,
    }
}

fn describe(schema: &Schema, t: &Target) -> String {
    match t {
        Target::Table { table } => format!("table {}", schema.tables[*table].name),
        Target::Column { col } => format!("column {}", col_name(schema, *col)),
        Target::Value { col, value, exact } => {
            format!(
                "value '{}' of {}{}",
                value,
                col_name(schema, *col),
                if *exact { "" } else { " (fuzzy)" }
            )
        }
    }
}

#[cfg(test)]
mod tests;
