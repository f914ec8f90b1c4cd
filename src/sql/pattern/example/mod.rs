//! Retrieve and adapt: a curated example close to the question is answered by editing the
//! example's SQL tree.
//!
//! The example question and the asked question are cut into keys (stems, with stopwords and
//! request words left out, "how many" / "number of" read as one count key, superlatives as
//! `most` / `least` keys, numbers by value, quoted strings by text) and aligned (longest common
//! subsequence; a key that only moved is matched too). Every stretch where they differ must be
//! explained by an edit of the example's SQL (parsed with sqlparser, edited as a tree, rendered
//! back):
//!
//! - a value the example names (a single- or double-quoted literal of its SQL) becomes the
//!   question's (the stored spelling when the value index knows it);
//! - a number (a literal or the `LIMIT`) becomes the question's number; a year shifts every date
//!   literal of that year;
//! - a period grain ("per year" / "per month") changes the `strftime` format;
//! - "most" / "least" flips the ordering (and `MAX` / `MIN`), and so do curated filter rules of
//!   opposite sign on the column the example ranks by ("price increases" / "price cuts");
//! - a comparison with a number, however written ("at least 5", "5 or more", "over 5"), is one
//!   key; another comparison changes the operator (`>` / `>=`);
//! - a column or table the example's words link to becomes the one the question's words link to;
//! - a value the example names and the question does not drops its filter; a stored value the
//!   question names and the example does not adds one (`col = 'value'`); a period the question
//!   names where the example names none restricts the date column of its first table.
//!
//! Words that link to the same table or column on both sides are the same meaning in other words.
//! Anything left unexplained makes the example not adaptable: reuse depends on the alignment,
//! not on a similarity cut-off. The confidence of an adapted query falls with each edit.
//!
//! The rooms: [`align`] cuts both questions into keys and pairs the stretches where they differ;
//! [`explain`] finds the edit that explains a stretch; [`tree`] makes the edit in the example's
//! SQL tree; [`figures`] reads and trims its aggregates and groups. The English words the
//! alignment reads (request, operation, extreme and grain words) are in the pattern engine's
//! [`lexicon`](super::lexicon).

mod align;
mod content;
mod explain;
mod figures;
mod metric;
mod opposite;
mod period;
mod reading;
mod slots;
#[cfg(test)]
mod tests;
mod tree;

use std::collections::HashMap;

use serde::Serialize;

use super::linking::{self, Lexicon, Linking};
use crate::knowledge::{BusinessRule, Example, ValueIndex};
use crate::question::{analyze, Analysis, Question};
use crate::warehouse::Schema;
use align::{align, respell, Side};
use explain::explain;
pub use metric::{adapt_by_metric_query, drop_unasked_figures};
pub use reading::{
    same_reading, Reader, Reading, ReadingCache, SAID_THE_SAME_CONFIDENCE, SAME_READING_CONFIDENCE,
};
use tree::Tree;

/// One edit of an example's SQL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// A string literal swapped.
    Value { old: String, new: String },
    /// A number (literal or `LIMIT`) swapped.
    Number { old: String, new: String },
    /// Dates of one year moved to another.
    Year { old: i64, new: i64 },
    /// The bounds of one period moved to another's ("Q4 2023" -> "the second quarter of 2024").
    Period { old: String, new: String },
    /// A period grain (`strftime` format) changed.
    Grain { old: String, new: String },
    /// The ordering (and `MAX` / `MIN`) flipped.
    Direction { old: String, new: String },
    /// A comparison with a number changed ("more than" / "at least": `>` / `>=`).
    Comparison { old: String, new: String },
    /// The example names a curated filter rule, the question the rule of opposite sign on the
    /// same column ("price increases" / "price cuts"): the example's condition turned round,
    /// or its ranking by that column flipped and the question's condition added.
    OppositeRule {
        old: String,
        new: String,
        /// The question's rule's condition as the query now states it.
        condition: String,
    },
    /// A column swapped for the one the question names.
    Column { old: String, new: String },
    /// A table swapped for the one the question names.
    Table { old: String, new: String },
    /// A filter on a value the question does not name, dropped.
    DropFilter { value: String },
    /// A filter on a stored value the question names, added.
    AddFilter { column: String, value: String },
    /// A period the question names, added on the date column of the table the example reads
    /// first (the example names none).
    AddPeriod { column: String, period: String },
    /// A figure the example shows beside the one asked, dropped: the question names its metric
    /// by name where the example's wording covered both ("revenue" for "sales": revenue and
    /// units).
    DropColumn { column: String },
    /// Other words that name nothing of the schema and no operation ("find" / "give", "located"
    /// / "based"): the same query.
    Reworded { old: String, new: String },
}

impl Edit {
    /// Whether the edit swaps like for like in the example's own query (a value, a number, a
    /// year, a grain, a direction, a word for a word) rather than changing its shape (another
    /// column or table, a filter dropped or added, a word the example does not have).
    pub fn keeps_shape(&self) -> bool {
        match self {
            Edit::Value { .. }
            | Edit::Number { .. }
            | Edit::Year { .. }
            | Edit::Period { .. }
            | Edit::Grain { .. }
            | Edit::Direction { .. }
            | Edit::Comparison { .. }
            | Edit::OppositeRule { .. }
            | Edit::AddPeriod { .. }
            | Edit::DropColumn { .. } => true,
            Edit::Reworded { old, new } => !old.trim().is_empty() && !new.trim().is_empty(),
            Edit::Column { .. }
            | Edit::Table { .. }
            | Edit::DropFilter { .. }
            | Edit::AddFilter { .. } => false,
        }
    }

    /// One line for the trace.
    pub fn describe(&self) -> String {
        match self {
            Edit::Value { old, new } => format!("value '{old}' -> '{new}'"),
            Edit::Number { old, new } => format!("number {old} -> {new}"),
            Edit::Year { old, new } => format!("year {old} -> {new}"),
            Edit::Period { old, new } => format!("period '{old}' -> '{new}'"),
            Edit::Grain { old, new } => format!("period {old} -> {new}"),
            Edit::Direction { old, new } => format!("direction {old} -> {new}"),
            Edit::Comparison { old, new } => format!("comparison {old} -> {new}"),
            Edit::OppositeRule {
                old,
                new,
                condition,
            } => format!("rule '{old}' -> its opposite '{new}' ({condition})"),
            Edit::Column { old, new } => format!("column {old} -> {new}"),
            Edit::Table { old, new } => format!("table {old} -> {new}"),
            Edit::DropFilter { value } => format!("dropped the filter on '{value}'"),
            Edit::AddFilter { column, value } => format!("added the filter {column} = '{value}'"),
            Edit::AddPeriod { column, period } => {
                format!("added the period '{period}' on {column}")
            }
            Edit::DropColumn { column } => format!("dropped the column {column}, not asked for"),
            Edit::Reworded { old, new } => format!("reworded '{old}' as '{new}'"),
        }
    }

    /// How much this kind of edit keeps of the example's certainty (multiplied into the
    /// confidence): swapping a literal is safe, swapping structure less so.
    pub fn keep(&self) -> f64 {
        match self {
            Edit::Value { .. } | Edit::Number { .. } | Edit::Year { .. } | Edit::Period { .. } => {
                0.97
            }
            Edit::Grain { .. }
            | Edit::Direction { .. }
            | Edit::Comparison { .. }
            | Edit::OppositeRule { .. }
            | Edit::AddPeriod { .. }
            | Edit::DropColumn { .. } => 0.93,
            Edit::Column { .. } => 0.85,
            Edit::Table { .. } => 0.8,
            Edit::DropFilter { .. } | Edit::AddFilter { .. } => 0.85,
            Edit::Reworded { .. } => 0.95,
        }
    }
}

/// An adapted example.
#[derive(Debug, Clone)]
pub struct Adapted {
    pub sql: String,
    /// The example's question.
    pub question: String,
    /// Retrieval similarity of the example (0..1; used to rank, not to decide).
    pub similarity: f32,
    /// The edits made to the example's SQL (none: the example's SQL as written).
    pub edits: Vec<Edit>,
    /// Confidence of the adapted query, 0..1.
    pub confidence: f64,
    /// How the example was found to answer the question.
    pub how: Match,
}

/// How an example was found to answer a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// Its question's words aligned with the asked question's, every difference explained by
    /// an edit ([`adapt`]).
    Aligned,
    /// The pattern engine reads both questions into the same query ([`same_reading`]).
    ReadTheSame,
    /// Both questions say the same (the same links and operations, in other words and order),
    /// though the engine reads them into different queries ([`same_reading`]).
    SaidTheSame,
}

impl Match {
    /// The label of the trace ("aligned", "read the same", "said the same").
    pub fn label(self) -> &'static str {
        match self {
            Match::Aligned => "aligned",
            Match::ReadTheSame => "read the same",
            Match::SaidTheSame => "said the same",
        }
    }
}

impl Adapted {
    /// The example's SQL after `edits`, with the confidence `prior` times each edit's
    /// [`Edit::keep`].
    fn new(
        example: &Example,
        similarity: f32,
        (sql, edits): (String, Vec<Edit>),
        prior: f64,
        how: Match,
    ) -> Self {
        let confidence = edits.iter().fold(prior, |c, e| c * e.keep());
        Adapted {
            sql,
            question: example.question.clone(),
            similarity,
            edits,
            confidence,
            how,
        }
    }
}

/// Confidence of an example reused as written.
pub const EXACT_CONFIDENCE: f64 = 0.92;

/// Examples tried per question (best retrieval score first).
pub const TRIED: usize = 6;

/// Tries to adapt one example to the question: the edited SQL and its edits, or `None` when a
/// difference between the questions has no edit that explains it.
pub fn adapt_one(
    question: (&Analysis, &Linking),
    example: (&Example, &Analysis, &Linking),
    schema: &Schema,
    values: &ValueIndex,
    rules: &[(BusinessRule, f32)],
) -> Option<(String, Vec<Edit>)> {
    let mut q = Side::new(question.0, question.1, schema, rules);
    let mut ex = Side::new(example.1, example.2, schema, rules);
    respell(&mut ex, &q);
    respell(&mut q, &ex);
    if q.keys.is_empty() || ex.keys.is_empty() {
        return None;
    }
    if counts_the_breakdown(&ex, &q) {
        return None;
    }
    let (matched, stretches) = align((ex.a, &ex.keys), (q.a, &q.keys));
    if stretches.is_empty() {
        return Some((example.0.sql.clone(), Vec::new()));
    }
    if matched == 0 {
        return None;
    }
    let mut tree = Tree::parse(&example.0.sql, schema)?;
    let mut edits = Vec::new();
    for (es, qs) in &stretches {
        let Some(explained) = explain(&mut tree, &ex, &q, es, qs, values) else {
            tracing::debug!(
                question = %question.0.text,
                example = %example.0.question,
                example_words = %ex.text(es),
                question_words = %q.text(qs),
                "example not adaptable: no edit explains the difference"
            );
            return None;
        };
        edits.extend(explained);
    }
    // structural edits need as many of the example's words kept
    let structural = edits
        .iter()
        .filter(|e| {
            matches!(
                e,
                Edit::Column { .. }
                    | Edit::Table { .. }
                    | Edit::DropFilter { .. }
                    | Edit::AddFilter { .. }
            )
        })
        .count();
    let reworded = edits
        .iter()
        .filter(|e| matches!(e, Edit::Reworded { .. }))
        .count();
    if structural > matched || reworded > matched.div_ceil(2) {
        tracing::debug!(
            question = %question.0.text,
            example = %example.0.question,
            matched,
            structural,
            reworded,
            "example not adaptable: more edits than words kept"
        );
        return None;
    }
    if edits.iter().all(|e| matches!(e, Edit::Reworded { .. })) {
        return Some((example.0.sql.clone(), edits));
    }
    if edits.is_empty() {
        return Some((example.0.sql.clone(), edits));
    }
    Some((tree.stmt.to_string(), edits))
}

/// Whether the question counts what the example breaks its count down by: "how many *item
/// categories*" (the words right after the count, one noun phrase) against "the number of items
/// in *each category*". The alignment would match both words and leave only "each", which a
/// grouped query says anyway.
fn counts_the_breakdown(ex: &Side, q: &Side) -> bool {
    if q.keys.iter().any(|k| k.key == "#each") {
        return false;
    }
    let Some(c) = q.keys.iter().position(|k| k.key == "#count") else {
        return false;
    };
    let mut counted = Vec::new();
    let mut tok = q.keys[c].tok;
    for k in &q.keys[c + 1..] {
        if k.tok != tok + 1 || k.key.starts_with('#') {
            break;
        }
        counted.push(k.key.as_str());
        tok = k.tok;
    }
    ex.keys
        .windows(2)
        .any(|w| w[0].key == "#each" && counted.contains(&w[1].key.as_str()))
}

/// Adapts the retrieved examples (best retrieval score first) to the question: every example
/// whose differences from the question are all explained by edits, fewest edits first.
pub fn adapt(
    analysis: &Analysis,
    links: &Linking,
    examples: &[(Example, f32)],
    schema: &Schema,
    lex: &Lexicon,
    values: &ValueIndex,
    rules: &[(BusinessRule, f32)],
) -> Vec<Adapted> {
    let mut sorted: Vec<&(Example, f32)> = examples.iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let no_scores = HashMap::new();
    let mut out: Vec<Adapted> = Vec::new();
    for (ex, sim) in sorted.into_iter().take(TRIED) {
        let Ok(parsed) = Question::parse(&ex.question) else {
            continue;
        };
        let ea = analyze(&parsed);
        let el = linking::link(&ea, schema, lex, values, &no_scores);
        let Some((sql, edits)) =
            adapt_one((analysis, links), (ex, &ea, &el), schema, values, rules)
        else {
            continue;
        };
        if out.iter().any(|o| o.sql == sql) {
            continue;
        }
        out.push(Adapted::new(
            ex,
            *sim,
            (sql, edits),
            EXACT_CONFIDENCE,
            Match::Aligned,
        ));
    }
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.similarity.total_cmp(&a.similarity))
    });
    out
}
