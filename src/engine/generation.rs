//! The generation stage: curated examples, the semantic layer, the LLM, a refinement of the
//! conversation's last SQL and the pattern engine as [`Generator`]s, asked in order by [`generate`]. Every SQL runs through the guard
//! ([`Engine::run_guarded`]) and is timed.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Instant;

use super::generators::{self, Answered, Attempt, Generator, Outcome, Settled};
use super::{Database, Engine};
use crate::conversation::Turn;
use crate::error::{QuerentError, QuerentResult};
use crate::knowledge::{BusinessRule, Example, TableDoc};
use crate::question::Analysis;
use crate::retrieval::{Hit, Retrieved};
use crate::sql::llm::{PriorTurn, SqlPromptInput};
use crate::sql::pattern::{self, PatternContext};
use crate::sql::refusal::{self, Refusal, RefusalCause};
use crate::sql::{refine, GeneratedSql, GenerationMethod, TraceStep};
use crate::warehouse::{CancellationToken, Rows};

/// The confidence of a follow-up answered by rewriting the previous SQL. Not calibrated (there
/// is no set of follow-ups to fit it on): a fixed prior, because the rewrite starts from SQL
/// that answered the previous question and changes only what the follow-up names. It sits
/// above the refusal threshold (0.2 by default) and below the 0.75 at which a curated example
/// outranks the pattern engine's own reading.
pub const REFINEMENT_CONFIDENCE: f64 = 0.7;

/// At most this many of the pattern engine's candidates are run, best first.
const TRY_AT_MOST: usize = 4;

/// What the generators read for one question, and the time they spend.
pub(super) struct Input<'a> {
    pub engine: &'a Engine,
    pub db: &'a Database,
    /// Cancelled when nobody waits for the answer any more: SQL stops running.
    pub cancel: &'a CancellationToken,
    pub analysis: &'a Analysis,
    pub retrieved: &'a Retrieved,
    /// The conversation's earlier turns, oldest first.
    pub history: &'a [Turn],
    /// Milliseconds spent running SQL (guard and warehouse).
    pub execution_ms: Cell<f64>,
    /// Milliseconds of the LLM stage (prompt, calls, extraction), without execution.
    pub llm_ms: Cell<f64>,
}

impl Input<'_> {
    /// Guards and runs `sql`, adding its time to `execution_ms`.
    fn run(&self, sql: &str) -> QuerentResult<(String, Rows)> {
        let t = Instant::now();
        let r = self
            .engine
            .run_guarded_cancellable(self.db, sql, self.cancel);
        self.add_execution(t);
        r
    }

    /// What the pattern engine reads for this question: the database's schema, docs, values and
    /// prepared linking, with the retrieved `examples` and `rules` and the tables' retrieval
    /// scores (`table_scores`, by table name; empty when the tables' ranking should not count).
    fn pattern_context<'c>(
        &'c self,
        examples: &'c [(Example, f32)],
        rules: &'c [(BusinessRule, f32)],
        table_scores: &'c HashMap<String, f32>,
    ) -> PatternContext<'c> {
        PatternContext {
            analysis: self.analysis,
            schema: &self.db.schema,
            docs: &self.db.docs,
            values: &self.db.values,
            rules,
            examples,
            table_scores,
            dialect: self.db.warehouse.dialect(),
            min_confidence: self.engine.min_confidence,
            prepared: Some(&self.db.prepared),
        }
    }

    fn add_execution(&self, since: Instant) {
        self.execution_ms
            .set(self.execution_ms.get() + since.elapsed().as_secs_f64() * 1000.0);
    }
}

/// Asks the generators in their order and keeps the first answer.
pub(super) fn generate(input: &Input) -> QuerentResult<Settled> {
    // Curated knowledge wins: a curated example that aligns with the question answers first;
    // then the semantic layer (#11), for metric questions it reads completely.
    let examples = ExampleTurn(input);
    let semantic = SemanticTurn(input);
    let llm = LlmTurn(input);
    let refinement = RefinementTurn(input);
    let pattern = PatternTurn(input);
    generators::first_answer(&[&examples, &semantic, &llm, &refinement, &pattern])
}

/// True when a retrieved curated business rule with SQL (a measure or a filter the pattern
/// engine applies) names one of `words` in its name or keywords ("gap" in "price gap"): the
/// words the semantic layer did not read are then curated knowledge, not a guess.
fn curated_rule_names_any(i: &Input, words: &[String]) -> bool {
    let rules: Vec<(BusinessRule, f32)> = hits_as(&i.retrieved.rules);
    let words: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    rules.iter().any(|(rule, _)| {
        rule.sql.is_some()
            && std::iter::once(&rule.name)
                .chain(&rule.keywords)
                .flat_map(|phrase| {
                    phrase
                        .split(|c: char| !c.is_alphanumeric())
                        .map(str::to_lowercase)
                        .collect::<Vec<_>>()
                })
                .any(|w| words.contains(&w))
    })
}

/// Curated examples adapted to the question (#12): the first that aligns well enough
/// ([`pattern::EXAMPLE_OUTRANKS`]) and runs with rows answers; else the next generator.
struct ExampleTurn<'a>(&'a Input<'a>);

impl Generator for ExampleTurn<'_> {
    fn name(&self) -> &'static str {
        "example"
    }

    fn attempt(&self) -> Attempt {
        let i = self.0;
        let examples: Vec<(Example, f32)> = hits_as(&i.retrieved.examples);
        if examples.is_empty() {
            return Attempt::new(
                Outcome::Skipped("no curated example retrieved".into()),
                Vec::new(),
            );
        }
        // the curated rules retrieved: filter rules of opposite sign explain a difference
        let rules: Vec<(BusinessRule, f32)> = hits_as(&i.retrieved.rules);
        let table_scores: HashMap<String, f32> = HashMap::new();
        let ctx = i.pattern_context(&examples, &rules, &table_scores);
        let close: Vec<GeneratedSql> = pattern::example_candidates(&ctx)
            .into_iter()
            .filter(|g| g.confidence >= pattern::EXAMPLE_OUTRANKS)
            .collect();
        if close.is_empty() {
            return Attempt::new(
                Outcome::Skipped("no curated example aligns closely with the question".into()),
                Vec::new(),
            );
        }
        let t = Instant::now();
        let executed = execute_candidates(i, close);
        i.add_execution(t);
        match executed {
            Ok((chosen, sql, rows, runs)) if !rows.rows.is_empty() => {
                let mut trace = chosen.trace.clone();
                trace.extend(runs);
                Attempt::new(
                    Outcome::Answered(Answered {
                        chosen,
                        sql,
                        rows,
                        chart_intent: None,
                        period_note: None,
                    }),
                    trace,
                )
            }
            Ok((_, _, _, runs)) => Attempt::new(
                Outcome::Failed("the adapted curated example returned no rows".into()),
                runs,
            ),
            Err(e) => Attempt::new(
                Outcome::Failed(format!("the adapted curated example did not run: {e}")),
                Vec::new(),
            ),
        }
    }
}

/// The confidence of an answer compiled from the semantic model: the question was read
/// completely as a metric query over curated (or inferred) metrics. Not calibrated yet.
pub const SEMANTIC_CONFIDENCE: f64 = 0.9;

/// The semantic layer (#11): a metric question read completely is compiled and run; a
/// question it cannot read, or compiled SQL that fails, passes the turn.
struct SemanticTurn<'a>(&'a Input<'a>);

impl Generator for SemanticTurn<'_> {
    fn name(&self) -> &'static str {
        "semantic"
    }

    fn attempt(&self) -> Attempt {
        let i = self.0;
        if !i.engine.semantic_answers {
            return Attempt::new(
                Outcome::Skipped("the semantic layer is set to show only (--semantic show)".into()),
                Vec::new(),
            );
        }
        let Some(layer) = i.db.semantic.as_ref().filter(|l| l.answers()) else {
            return Attempt::new(
                Outcome::Skipped("no semantic model for this database".into()),
                Vec::new(),
            );
        };
        let outcome = layer.answer(
            &i.analysis.text,
            &i.db.schema,
            &i.db.values,
            i.db.warehouse.dialect(),
        );
        let mut trace = vec![outcome.trace()];
        if let crate::semantic::Outcome::Refused {
            reason,
            unread,
            understood: true,
            ..
        } = &outcome
        {
            // A metric question read whole that the layer does not compute: the LLM may write
            // it; without one, the pattern engine's reading of such questions is almost always
            // wrong (measured on the business sets), so querent says why it cannot answer
            // (unless a follow-up's refinement of the conversation's last SQL answers it).
            if i.engine.llm.is_none() {
                let refusal = Refusal {
                    cause: RefusalCause::NotComputed {
                        reason: reason.clone(),
                    },
                    unmapped: unread.clone(),
                };
                return Attempt::new(Outcome::Refused(QuerentError::CannotAnswer(refusal)), trace);
            }
            return Attempt::new(Outcome::Failed(reason.clone()), trace);
        }
        if let crate::semantic::Outcome::Refused {
            unread, metrics, ..
        } = &outcome
        {
            // A business question naming a curated metric, read only in part: without an LLM the
            // pattern engine would guess (and is almost always wrong on such questions), so
            // querent says what it read and what it did not (unless a follow-up's refinement of
            // the conversation's last SQL answers it: "sort by units sold instead").
            // Only numbers unread ("products with an elasticity below -2"): a condition on
            // each row, which the metric query does not express and the pattern engine reads;
            // its calibrated confidence decides.
            let numbers_only = unread
                .iter()
                .all(|w| w.replace(',', "").parse::<f64>().is_ok());
            // Only a negation unread ("products that have never had a price change"): rows
            // without any related row, which the pattern engine reads as such; its calibrated
            // confidence decides too.
            let negation_only = unread.iter().all(|w| {
                matches!(
                    w.to_lowercase().as_str(),
                    "never"
                        | "no"
                        | "not"
                        | "none"
                        | "don't"
                        | "doesn't"
                        | "didn't"
                        | "haven't"
                        | "hasn't"
                        | "hadn't"
                        | "without"
                )
            });
            if i.engine.llm.is_none()
                && !metrics.is_empty()
                && !unread.is_empty()
                && !numbers_only
                && !negation_only
                && !curated_rule_names_any(i, unread)
            {
                let refusal = Refusal {
                    cause: RefusalCause::PartlyRead {
                        metrics: metrics.clone(),
                    },
                    unmapped: unread.clone(),
                };
                return Attempt::new(Outcome::Refused(QuerentError::CannotAnswer(refusal)), trace);
            }
        }
        let crate::semantic::Outcome::Compiled {
            sql,
            query,
            columns,
            ..
        } = &outcome
        else {
            return Attempt::new(Outcome::Skipped("not read as a metric query".into()), trace);
        };
        // a curated example read as the same metric query but for its slots answers with
        // the columns and conditions its author chose
        if let Some(answered) = example_by_metric_query(i, layer, (query, sql), &trace) {
            return answered;
        }
        match i.run(sql) {
            Ok((ran, rows)) => Attempt::new(
                Outcome::Answered(Answered {
                    chosen: GeneratedSql {
                        sql: sql.clone(),
                        method: GenerationMethod::Semantic,
                        confidence: SEMANTIC_CONFIDENCE,
                        trace: Vec::new(),
                        features: None,
                    },
                    sql: ran,
                    rows,
                    chart_intent: crate::answer::ChartIntent::from_query(query, columns),
                    period_note: layer.period_note(i.analysis, query),
                }),
                trace,
            ),
            Err(e) => {
                trace.push(TraceStep::new(
                    "semantic",
                    format!("the compiled SQL failed: {e}"),
                    serde_json::json!({ "sql": sql, "code": e.code() }),
                ));
                Attempt::new(Outcome::Failed(e.to_string()), trace)
            }
        }
    }
}

/// Examples tried through their metric query, best retrieval score first.
const METRIC_EXAMPLES_TRIED: usize = 6;

/// The first retrieved curated example whose question the semantic layer reads as `asked` but
/// for its slots (period, N, direction, members, a dimension;
/// [`pattern::example::adapt_by_metric_query`]) and whose edited SQL runs with rows.
fn example_by_metric_query(
    i: &Input,
    layer: &crate::semantic::SemanticLayer,
    (asked, asked_sql): (&crate::semantic::MetricQuery, &str),
    semantic_trace: &[TraceStep],
) -> Option<Attempt> {
    let mut examples: Vec<(Example, f32)> = hits_as(&i.retrieved.examples);
    examples.sort_by(|a, b| b.1.total_cmp(&a.1));
    let schema = &i.db.schema;
    let dimension_column = |d: &crate::semantic::query::DimensionRef| {
        layer
            .dimension_column(d, schema)
            .map(|(table, column)| pattern::linking::ColRef { table, column })
    };
    for (ex, similarity) in examples.into_iter().take(METRIC_EXAMPLES_TRIED) {
        let Some(read) = layer.read(&ex.question, schema, &i.db.values) else {
            continue;
        };
        let Some((mut sql, mut edits)) = pattern::example::adapt_by_metric_query(
            asked,
            &read,
            &ex.sql,
            schema,
            &dimension_column,
        ) else {
            continue;
        };
        // the example's wording covered more figures than the question, which names its
        // metric by name ("revenue" asked of "sales": revenue and units): the others go
        if layer.names_metrics_by_name(&i.analysis.text, asked)
            && !layer.names_metrics_by_name(&ex.question, &read)
        {
            if let Some((trimmed, dropped)) =
                pattern::example::drop_unasked_figures(&sql, asked_sql, schema)
            {
                sql = trimmed;
                edits.extend(dropped);
            }
        }
        let Ok((ran, rows)) = i.run(&sql) else {
            continue;
        };
        if rows.rows.is_empty() {
            continue;
        }
        let described: Vec<String> = edits.iter().map(pattern::example::Edit::describe).collect();
        let summary = if described.is_empty() {
            format!(
                "reused the curated example \"{}\": the same metric query",
                ex.question
            )
        } else {
            format!(
                "adapted from example \"{}\" (the same metric query but for: {})",
                ex.question,
                described.join(", ")
            )
        };
        let mut trace = semantic_trace.to_vec();
        trace.push(TraceStep::new(
            "example",
            summary,
            serde_json::json!({ "question": ex.question, "similarity": similarity, "edits": edits, "through": "metric_query" }),
        ));
        let confidence = edits
            .iter()
            .fold(pattern::example::EXACT_CONFIDENCE, |c, e| c * e.keep());
        return Some(Attempt::new(
            Outcome::Answered(Answered {
                chosen: GeneratedSql {
                    sql,
                    method: GenerationMethod::Example,
                    confidence,
                    trace: Vec::new(),
                    features: None,
                },
                sql: ran,
                rows,
                chart_intent: None,
                period_note: layer.period_note(i.analysis, asked),
            }),
            trace,
        ));
    }
    None
}

/// The LLM, when one is configured and its circuit is closed.
struct LlmTurn<'a>(&'a Input<'a>);

impl Generator for LlmTurn<'_> {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn attempt(&self) -> Attempt {
        let i = self.0;
        let Some(llm) = &i.engine.llm else {
            return Attempt::new(
                Outcome::Skipped("no LLM configured".into()),
                vec![TraceStep::new(
                    "generation",
                    "no LLM configured: the pattern engine writes the SQL",
                    serde_json::json!({ "generator": "pattern" }),
                )],
            );
        };
        if llm.circuit_open() {
            let reason = format!(
                "the LLM circuit is open after repeated failures ({})",
                llm.status().circuit.last_error.unwrap_or_default()
            );
            let step = TraceStep::new(
                "generation",
                format!("LLM skipped, no call made: {reason}"),
                serde_json::json!({ "generator": "pattern", "fallback_reason": reason }),
            );
            return Attempt::new(Outcome::FellBack(reason), vec![step]);
        }
        let tables: Vec<TableDoc> = i
            .retrieved
            .tables
            .iter()
            .filter_map(|h| i.db.docs.iter().find(|d| d.name == h.key).cloned())
            .collect();
        let prior: Vec<PriorTurn> = i
            .history
            .iter()
            .map(|t| PriorTurn {
                question: t.question.clone(),
                sql: t.sql.clone(),
            })
            .collect();
        let examples: Vec<Example> = hits_as::<Example>(&i.retrieved.examples)
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        let mut rules: Vec<BusinessRule> = hits_as::<BusinessRule>(&i.retrieved.rules)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        // the metric definitions in effect (#11), as rules whose SQL is the metric
        if let Some(layer) = i.db.semantic.as_ref().filter(|l| l.answers()) {
            rules.extend(layer.metric_rules(
                &i.analysis.text,
                &i.db.schema,
                i.db.warehouse.dialect(),
            ));
        }
        let prompt = SqlPromptInput {
            dialect: i.db.warehouse.dialect(),
            tables: &tables,
            examples: &examples,
            rules: &rules,
            history: &prior,
            content_words: &i.analysis.content_words,
            context_tokens: llm.context_tokens(),
        };
        let started = Instant::now();
        let executed_before = i.execution_ms.get();
        let outcome = llm.generate(&i.analysis.text, &prompt, &|sql: &str| i.run(sql));
        // The LLM stage's own time: prompt, calls, extraction; not the warehouse's.
        i.llm_ms.set(
            started.elapsed().as_secs_f64() * 1000.0 - (i.execution_ms.get() - executed_before),
        );
        match outcome {
            Ok(a) => {
                let mut trace = a.generated.trace.clone();
                trace.push(TraceStep::new(
                    "generation",
                    format!(
                        "the LLM wrote the SQL ({} repair{})",
                        a.repairs,
                        if a.repairs == 1 { "" } else { "s" }
                    ),
                    serde_json::json!({ "generator": "llm", "repairs": a.repairs }),
                ));
                let answered = Answered {
                    chosen: a.generated,
                    sql: a.sql,
                    rows: a.rows,
                    chart_intent: None,
                    period_note: None,
                };
                Attempt::new(Outcome::Answered(answered), trace)
            }
            Err(f) => {
                let mut trace = f.trace;
                trace.push(TraceStep::new(
                    "generation",
                    format!("falling back to the pattern engine: {}", f.reason),
                    serde_json::json!({ "generator": "pattern", "fallback_reason": f.reason }),
                ));
                Attempt::new(Outcome::FellBack(f.reason), trace)
            }
        }
    }
}

/// A follow-up of a conversation: the previous SQL rewritten ([`refine`]).
struct RefinementTurn<'a>(&'a Input<'a>);

impl Generator for RefinementTurn<'_> {
    fn name(&self) -> &'static str {
        "refinement"
    }

    fn attempt(&self) -> Attempt {
        let i = self.0;
        let skipped = |reason: &str| Attempt::new(Outcome::Skipped(reason.into()), Vec::new());
        let Some(previous) = i.history.last() else {
            return skipped("no earlier question in the conversation");
        };
        if !refine::is_follow_up(i.analysis) {
            return skipped("the question is not a follow-up");
        }
        let dialect = i.db.warehouse.dialect();
        let Some(r) = refine::refine(
            &previous.sql,
            i.analysis,
            &i.db.schema,
            &i.db.values,
            dialect,
        ) else {
            return skipped("nothing in the follow-up changes the previous SQL");
        };
        match i.run(&r.sql) {
            Ok((sql, rows)) => {
                let step = TraceStep::new(
                    "refinement",
                    format!(
                        "follow-up of '{}': {}",
                        previous.question,
                        r.changes.join("; ")
                    ),
                    serde_json::json!({ "previous_sql": previous.sql, "changes": r.changes, "sql": sql }),
                );
                let answered = Answered {
                    chosen: GeneratedSql {
                        sql: r.sql,
                        method: GenerationMethod::Refinement,
                        confidence: REFINEMENT_CONFIDENCE,
                        trace: Vec::new(),
                        features: None,
                    },
                    sql,
                    rows,
                    chart_intent: None,
                    period_note: None,
                };
                Attempt::new(Outcome::Answered(answered), vec![step])
            }
            Err(e) => {
                let step = TraceStep::new(
                    "refinement",
                    format!("the refined SQL failed: {e}"),
                    serde_json::json!({ "sql": r.sql, "code": e.code() }),
                );
                Attempt::new(Outcome::Failed(e.to_string()), vec![step])
            }
        }
    }
}

/// The pattern engine: the last generator, which answers or refuses.
struct PatternTurn<'a>(&'a Input<'a>);

impl Generator for PatternTurn<'_> {
    fn name(&self) -> &'static str {
        "pattern"
    }

    /// It answers whatever it can link: an earlier reader's refusal outranks it.
    fn guesses(&self) -> bool {
        true
    }

    fn attempt(&self) -> Attempt {
        let i = self.0;
        let examples: Vec<(Example, f32)> = hits_as(&i.retrieved.examples);
        let rules: Vec<(BusinessRule, f32)> = hits_as(&i.retrieved.rules);
        let table_scores: HashMap<String, f32> = i
            .retrieved
            .tables
            .iter()
            .map(|h| (h.key.clone(), h.score))
            .collect();
        let ctx = i.pattern_context(&examples, &rules, &table_scores);
        let candidates = match pattern::generate(&ctx) {
            Ok(c) => c,
            Err(e) => return Attempt::new(Outcome::Stop(e), Vec::new()),
        };
        let t = Instant::now();
        let executed = execute_candidates(i, candidates);
        i.add_execution(t);
        let (mut chosen, sql, rows, runs) = match executed {
            Ok(x) => x,
            Err(e) => return Attempt::new(Outcome::Stop(e), Vec::new()),
        };
        let mut trace = chosen.trace.clone();
        trace.extend(runs);
        match refusal::judge_result(&mut chosen, rows.rows.len(), i.engine.min_confidence) {
            Ok(step) => trace.extend(step),
            Err(refusal) => {
                return Attempt::new(Outcome::Stop(QuerentError::CannotAnswer(refusal)), trace)
            }
        }
        let answered = Answered {
            chosen,
            sql,
            rows,
            chart_intent: None,
            period_note: None,
        };
        Attempt::new(Outcome::Answered(answered), trace)
    }
}

/// Runs candidates in rank order through the guard and the warehouse: the first with rows,
/// else the first that ran; the trace has one step per candidate run.
fn execute_candidates(
    i: &Input,
    candidates: Vec<GeneratedSql>,
) -> QuerentResult<(GeneratedSql, String, Rows, Vec<TraceStep>)> {
    let mut runs = Vec::new();
    let mut first_empty: Option<(GeneratedSql, String, Rows)> = None;
    let mut last_error = None;
    for candidate in candidates.into_iter().take(TRY_AT_MOST) {
        match i
            .engine
            .run_guarded_cancellable(i.db, &candidate.sql, i.cancel)
        {
            Ok((sql, rows)) if rows.rows.is_empty() => {
                runs.push(TraceStep::new(
                    "execution",
                    "candidate ran and returned no rows",
                    serde_json::json!({ "sql": sql }),
                ));
                if first_empty.is_none() {
                    first_empty = Some((candidate, sql, rows));
                }
            }
            Ok((sql, rows)) => {
                runs.push(TraceStep::new(
                    "execution",
                    format!("ran, {} rows", rows.rows.len()),
                    serde_json::json!({ "sql": sql }),
                ));
                return Ok((candidate, sql, rows, runs));
            }
            Err(e) => {
                runs.push(TraceStep::new(
                    "execution",
                    format!("candidate failed: {e}"),
                    serde_json::json!({ "sql": candidate.sql, "code": e.code() }),
                ));
                last_error = Some(e);
            }
        }
    }
    if let Some((c, sql, rows)) = first_empty {
        return Ok((c, sql, rows, runs));
    }
    Err(last_error
        .unwrap_or_else(|| QuerentError::CannotAnswer(Refusal::new(RefusalCause::NoCandidate))))
}

/// Payloads of retrieval hits as knowledge items, with their scores.
fn hits_as<T: serde::de::DeserializeOwned>(hits: &[Hit]) -> Vec<(T, f32)> {
    hits.iter()
        .filter_map(|h| {
            let item = h
                .payload
                .get("item")
                .cloned()
                .unwrap_or_else(|| h.payload.clone());
            serde_json::from_value(item).ok().map(|i| (i, h.score))
        })
        .collect()
}
