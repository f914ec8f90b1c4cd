//! The pattern engine: text-to-SQL without an LLM.
//!
//! [`generate`] is the whole surface. It links the question to the schema ([`linking`]: names,
//! stems, synonyms, fuzzy matches, the value index), reads a frame of the question ([`frame`]:
//! select list, aggregates, filters, dates, group-by, having, order, limit, negation), plans the
//! joins along the foreign-key graph ([`joins`]), builds the SQL as a tree ([`ast`], [`build`])
//! and renders it for the target dialect. Curated knowledge goes first: a close curated example
//! is adapted ([`example`]) and business rules the question calls up supply their SQL fragments.
//! A reading whose [`shape`] a close curated example has is trusted more.
//! Each candidate gets a confidence from how much of the question was explained and how sure the
//! links were; below the threshold the engine refuses with the words it could not map.

pub mod ast;
pub mod build;
pub mod calibration;
pub mod chasm;
pub mod curated_tables;
pub mod example;
pub mod frame;
pub mod joins;
pub mod lexicon;
pub mod linking;
pub mod shape;

use std::collections::HashMap;

use serde_json::json;

use crate::error::{QuerentError, QuerentResult};
use crate::knowledge::{BusinessRule, Example, TableDoc, ValueIndex};
use crate::question::Analysis;
use crate::sql::dialect::Dialect;
use crate::sql::refusal::{Refusal, RefusalCause};
use crate::sql::{GeneratedSql, GenerationMethod, TraceStep};
use crate::warehouse::Schema;

use self::frame::Measure;
use self::joins::JoinGraph;
use self::linking::{Lexicon, Target};

pub use self::calibration::{Features, DEFAULT_MIN_CONFIDENCE};

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
    /// The refusal threshold (`QUERENT_MIN_CONFIDENCE`): candidates scored below it or below
    /// [`RANKING_FLOOR`], whichever is lower, are not returned; none left means a refusal.
    pub min_confidence: f64,
    /// The lexicon and join graph of `schema`, built once per database ([`Prepared::build`]);
    /// `None` builds them for this question (slow on wide schemas: tens of milliseconds at 100
    /// tables).
    pub prepared: Option<&'a Prepared>,
}

/// What the pattern engine derives from a schema and its docs alone: the lexicon of names and
/// synonyms and the join graph (declared and inferred keys). Built when a database is opened,
/// shared by every question on it.
pub struct Prepared {
    pub lexicon: Lexicon,
    pub graph: JoinGraph,
    /// The engine's readings of curated example questions ([`example::same_reading`]), kept as
    /// long as this lexicon: keyed by the question and a fingerprint of the rules and the value
    /// index they were read with; emptied past [`READINGS_KEPT`] entries.
    pub readings: example::ReadingCache,
}

/// At most this many example readings are kept per database.
pub const READINGS_KEPT: usize = 4096;

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("join_edges", &self.graph.edges.len())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// Builds the lexicon and the join graph of `schema` with its `docs`.
    pub fn build(schema: &Schema, docs: &[TableDoc]) -> Prepared {
        Prepared {
            lexicon: Lexicon::build(schema, docs),
            graph: JoinGraph::build(schema),
            readings: example::ReadingCache::default(),
        }
    }
}

/// Ranked candidates, best first (the engine runs them through the guard and takes the first that
/// runs).
///
/// Errors: [`QuerentError::CannotAnswer`] with the cause ([`Refusal::after_generation`]) and
/// the words that could not be mapped when no candidate reaches the floor of `ctx.min_confidence`.
pub fn generate(ctx: &PatternContext) -> QuerentResult<Vec<GeneratedSql>> {
    let a = ctx.analysis;
    let owned;
    let prepared = match ctx.prepared {
        Some(p) => p,
        None => {
            owned = Prepared::build(ctx.schema, ctx.docs);
            &owned
        }
    };
    let (lex, graph) = (&prepared.lexicon, &prepared.graph);
    // the tables of the closest curated example lean the linking their way
    let priors = curated_tables::table_priors(ctx.examples, ctx.schema);
    let links =
        linking::link_with_priors(a, ctx.schema, lex, ctx.values, ctx.table_scores, &priors);
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
    // 1. curated examples close to the question, adapted by editing their SQL
    let mut out = adapted_examples(ctx, prepared, (&links, &link_trace), false, ctx.rules);

    // 2. the question frame, with business rules; then alternative readings of ambiguous words
    let hits = frame::rule_hits(a, ctx.schema, ctx.rules, &links);
    let fr = frame::build_frame(a, ctx.schema, lex, &links, graph, &hits);
    let anything_linked = links
        .spans
        .iter()
        .any(|s| !matches!(s.best().target, Target::Value { .. }))
        || !hits.is_empty();
    let mut frame_failure = None;
    if anything_linked {
        match frame_candidate(ctx, &fr, &links, graph, &link_trace, None) {
            Ok(g) => out.push(g),
            Err(build::BuildError::EmptySelect) => {
                frame_failure = Some(RefusalCause::NothingToShow)
            }
            Err(build::BuildError::Unreachable(tables)) => {
                frame_failure = Some(RefusalCause::NoJoinPath { tables })
            }
            Err(build::BuildError::ChasmTrap(trap)) => {
                frame_failure = Some(RefusalCause::ChasmTrap(trap))
            }
        }
        let primary = out.last().map(|g| g.sql.clone());
        for (si, col) in alternatives(&links).into_iter().take(MAX_ALTERNATIVES) {
            let overrides = HashMap::from([(si, col)]);
            let alt = frame::build_frame_with(a, ctx.schema, lex, &links, graph, &hits, &overrides);
            let note = format!(
                "'{}' read as {} (its second-best link)",
                links.spans[si].text,
                col_name(ctx.schema, col)
            );
            if let Ok(g) = frame_candidate(ctx, &alt, &links, graph, &link_trace, Some(note)) {
                if Some(&g.sql) != primary.as_ref() && !out.iter().any(|o| o.sql == g.sql) {
                    out.push(g);
                }
            }
        }
    } else {
        frame_failure = Some(RefusalCause::NothingLinked);
    }

    // a reading of a shape that a close curated example has is a query of a kind the curators
    // write: evidence for its confidence (`Features::curated_shape`)
    let shapes = shape::example_shapes(ctx.examples, SHAPE_EXAMPLES, ctx.schema);
    for g in out
        .iter_mut()
        .filter(|g| g.method == GenerationMethod::Pattern)
    {
        let Some(f) = g.features.as_mut() else {
            continue;
        };
        if let Some(q) = shape::curated_shape(&g.sql, &shapes, ctx.schema) {
            f.curated_shape = true;
            let features = json!(f);
            for step in g.trace.iter_mut().filter(|s| s.stage == "confidence") {
                step.details["features"] = features.clone();
            }
            g.trace.push(TraceStep::new(
                "curated_shape",
                format!("the query has the shape of the curated example '{q}'"),
                json!({ "example": q, "shape": shape::shape(&g.sql, ctx.schema) }),
            ));
        }
    }

    // curated knowledge first: a close example outranks the generic frame
    let rank = |g: &GeneratedSql| {
        g.confidence
            + if g.method == GenerationMethod::Example && g.confidence >= EXAMPLE_OUTRANKS {
                1.0
            } else {
                0.0
            }
    };
    out.sort_by(|x, y| rank(y).total_cmp(&rank(x)));
    let best = out.first().map(|g| g.confidence).unwrap_or(0.0);
    // a reading scored below the floor explains too little to be worth running; the others are
    // judged on their calibrated confidence once the chosen one has run (`refusal::judge_result`)
    out.retain(|g| g.confidence >= RANKING_FLOOR.min(ctx.min_confidence));
    if out.is_empty() {
        return Err(QuerentError::CannotAnswer(Refusal::after_generation(
            frame_failure,
            best,
            ctx.min_confidence,
            &fr.unmapped,
            &a.content_words,
        )));
    }
    Ok(out)
}

/// How many of the closest curated examples (best retrieval score first) a reading's shape is
/// compared with ([`shape::curated_shape`]); the server retrieves five.
pub const SHAPE_EXAMPLES: usize = 5;

/// A confidence at which an adapted curated example outranks every generated reading: the
/// generator order asks curated examples first and keeps one at or above this
/// (`engine::generation`), and the pattern engine ranks it above its own frame.
pub const EXAMPLE_OUTRANKS: f64 = 0.75;

/// Readings whose ranking score ([`Features::ranking_score`]) or, for an adapted example, whose
/// prior confidence is below this are not run (or below `min_confidence`, when that is lower).
pub const RANKING_FLOOR: f64 = 0.2;

/// The curated examples close to the question whose adaptation keeps the example's shape
/// ([`example::Edit::keeps_shape`]: only values, numbers, periods, directions or words swapped),
/// as candidates with method `example`; best alignment first.
pub fn example_candidates(ctx: &PatternContext) -> Vec<GeneratedSql> {
    let owned;
    let prepared = match ctx.prepared {
        Some(p) => p,
        None => {
            owned = Prepared::build(ctx.schema, ctx.docs);
            &owned
        }
    };
    let priors = curated_tables::table_priors(ctx.examples, ctx.schema);
    let links = linking::link_with_priors(
        ctx.analysis,
        ctx.schema,
        &prepared.lexicon,
        ctx.values,
        ctx.table_scores,
        &priors,
    );
    let link_trace = TraceStep::new("linking", "linked for the curated examples", json!(null));
    // the first turn reads the question and the examples without the rules, as the frame of a
    // curated question is read: a measure rule the question names by other words than the
    // example ("promotion lift" / "promo lift") would make two readings of one query differ;
    // the rules serve the alignment there (opposite filters)
    adapted_examples(ctx, prepared, (&links, &link_trace), true, &[])
}

/// The curated examples adapted to the question (aligned, then read or said alike), as
/// candidates with method `example`: only those whose edits keep the example's shape when
/// `shape_kept`; the examples' questions and the asked one are read with `reading_rules`.
fn adapted_examples(
    ctx: &PatternContext,
    prepared: &Prepared,
    (links, link_trace): (&linking::Linking, &TraceStep),
    shape_kept: bool,
    reading_rules: &[(BusinessRule, f32)],
) -> Vec<GeneratedSql> {
    let lex = &prepared.lexicon;
    let mut adapted: Vec<example::Adapted> = example::adapt(
        ctx.analysis,
        links,
        ctx.examples,
        ctx.schema,
        lex,
        ctx.values,
        ctx.rules,
    )
    .into_iter()
    .filter(|ad| !shape_kept || ad.edits.iter().all(example::Edit::keeps_shape))
    .collect();
    // examples whose question the engine reads (or that say) what this one does (paraphrases)
    if !ctx.examples.is_empty() {
        let reader = example::Reader {
            schema: ctx.schema,
            lexicon: lex,
            graph: &prepared.graph,
            values: ctx.values,
            rules: reading_rules,
        };
        if let Some(asked) = reader.read(ctx.analysis) {
            let cache = Some((&prepared.readings, READINGS_KEPT));
            for ad in example::same_reading(&reader, &asked, ctx.examples, example::TRIED, cache) {
                if !adapted.iter().any(|o| o.sql == ad.sql) {
                    adapted.push(ad);
                }
            }
        }
    }
    let mut out: Vec<GeneratedSql> = Vec::new();
    for ad in adapted {
        let how = ad.how.label();
        let edits: Vec<String> = ad.edits.iter().map(example::Edit::describe).collect();
        let summary = match (ad.how, edits.is_empty()) {
            (example::Match::Aligned, true) => {
                format!("reused the curated example \"{}\" as written", ad.question)
            }
            (example::Match::Aligned, false) => format!(
                "adapted from example \"{}\": {}",
                ad.question,
                edits.join(", ")
            ),
            (example::Match::SaidTheSame, _) => format!(
                "reused the curated example \"{}\": the question says the same in other words (same links, same operations)",
                ad.question
            ),
            (_, true) => format!(
                "reused the curated example \"{}\": the question is read as it is (same links, same query)",
                ad.question
            ),
            (_, false) => format!(
                "adapted from example \"{}\", read as the question is but for: {}",
                ad.question,
                edits.join(", ")
            ),
        };
        out.push(GeneratedSql {
            sql: ad.sql.clone(),
            method: GenerationMethod::Example,
            confidence: ad.confidence,
            features: None,
            trace: vec![
                link_trace.clone(),
                TraceStep::new(
                    "example",
                    summary,
                    json!({ "question": ad.question, "similarity": ad.similarity, "edits": ad.edits, "match": how }),
                ),
            ],
        });
    }
    out
}

/// At most this many alternative readings are built per question.
const MAX_ALTERNATIVES: usize = 2;

/// Spans whose second link is another column scoring within 0.05 of the first, with that
/// column (span index, column), most ambiguous first.
fn alternatives(links: &linking::Linking) -> Vec<(usize, linking::ColRef)> {
    let mut alts: Vec<(f32, usize, linking::ColRef)> = links
        .spans
        .iter()
        .enumerate()
        .filter_map(|(si, sp)| {
            let (first, second) = (sp.links.first()?, sp.links.get(1)?);
            match (&first.target, &second.target) {
                (Target::Column { .. }, &Target::Column { col })
                    if second.score >= first.score - 0.05 =>
                {
                    Some((first.score - second.score, si, col))
                }
                _ => None,
            }
        })
        .collect();
    alts.sort_by(|x, y| x.0.total_cmp(&y.0));
    alts.into_iter().map(|(_, si, c)| (si, c)).collect()
}

/// The tables a negated subquery denies rows of: its own table and the tables that table
/// refers to ("tracks never sold" reads no `InvoiceLine` row, so no invoice either).
fn denied_tables(fr: &frame::Frame, graph: &joins::JoinGraph) -> Vec<usize> {
    let mut out = Vec::new();
    for c in &fr.conds {
        if let frame::Cond::InSub {
            inner,
            negated: true,
            ..
        } = c
        {
            out.push(inner.table);
            out.extend(graph.referred_by(inner.table));
        }
    }
    out
}

/// The query of one frame, rendered, with its trace and calibrated confidence; `alternative`
/// says which reading it is when it is not the first.
fn frame_candidate(
    ctx: &PatternContext,
    fr: &frame::Frame,
    links: &linking::Linking,
    graph: &JoinGraph,
    link_trace: &TraceStep,
    alternative: Option<String>,
) -> Result<GeneratedSql, build::BuildError> {
    let a = ctx.analysis;
    let (query, plan) = build::build_query(fr, ctx.schema, graph)?;
    let sql = query.render(ctx.dialect);
    let inferred = plan.steps.iter().filter(|s| !s.declared).count();
    let words = a
        .tokens
        .iter()
        .filter(|t| t.kind == crate::question::TokenKind::Word)
        .count();
    let mut features = Features::of(fr, links, ctx.schema, plan.steps.len(), inferred, words);
    features.alternative = alternative.is_some();
    // a column or value linked on a table the query never reads (set operations and excluded
    // sets read tables of their own)
    let denied = denied_tables(fr, graph);
    features.unused_link = fr.combine.is_none()
        && fr.excluded.is_empty()
        && links.spans.iter().any(|s| {
            let l = s.best();
            match &l.target {
                Target::Value { .. } => false,
                Target::Column { col } => {
                    // a key to a table the query reads names that table's rows ("tracks":
                    // the playlist entries' track key, of the tracks read)
                    let refers_to_read = graph
                        .edges
                        .iter()
                        .any(|e| e.a == *col && plan.tables.contains(&e.b.table));
                    l.how == "synonym"
                        && l.score >= 1.0
                        && !plan.tables.contains(&col.table)
                        && !denied.contains(&col.table)
                        && !refers_to_read
                }
                Target::Table { .. } => false,
            }
        });
    let confidence = features.ranking_score();
    let mut method_note = if fr.rules.is_empty() {
        "the question frame".to_string()
    } else {
        format!(
            "the question frame with business rule(s) {}",
            fr.rules.join(", ")
        )
    };
    if let Some(alt) = &alternative {
        method_note = format!("{method_note}, {alt}");
    }
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
            format!(
                "one table: {}",
                plan.tables.first().map(|t| ctx.schema.tables[*t].name.as_str()).unwrap_or("")
            )
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
        format!("ranking score {confidence:.2}; the confidence follows from the result"),
        json!({ "ranking_score": confidence, "features": features }),
    ));
    Ok(GeneratedSql {
        sql,
        method: GenerationMethod::Pattern,
        confidence,
        trace,
        features: Some(features),
    })
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
