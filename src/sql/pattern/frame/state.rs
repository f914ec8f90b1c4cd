//! The state the frame passes share: the question, its links and the schema they read, the
//! frame they build, and what earlier passes leave for later ones (words explained, spans used,
//! the head of the question, conditions by token).

use std::collections::HashMap;

use super::rules::RuleHit;
use super::Frame;
use crate::knowledge::BusinessRule;
use crate::question::Analysis;
use crate::sql::pattern::ast::{AggFunc, CmpOp};
use crate::sql::pattern::joins::JoinGraph;
use crate::sql::pattern::linking::{ColRef, Lexicon, Linking};
use crate::warehouse::Schema;

/// The frame being built, with what the passes read and leave for each other.
pub(super) struct Builder<'a> {
    pub(super) a: &'a Analysis,
    pub(super) schema: &'a Schema,
    pub(super) lex: &'a Lexicon,
    pub(super) links: &'a Linking,
    pub(super) graph: &'a JoinGraph,
    /// Tokens explained by something.
    pub(super) explained: Vec<bool>,
    /// Spans already used (index into links.spans).
    pub(super) used: Vec<bool>,
    /// Chosen column per column span.
    pub(super) span_col: HashMap<usize, ColRef>,
    pub(super) f: Frame,
    pub(super) quality: Vec<f32>,
    pub(super) rule_tokens: Vec<(usize, usize, &'a BusinessRule)>,
    /// First token after the part of the question that says what to show.
    pub(super) head_end: usize,
    /// First token of that part.
    pub(super) head_start: usize,
    /// Superlative words read as an order ("the 3 highest rates"), not as aggregates.
    pub(super) order_cues: Vec<usize>,
    /// The token each condition was read at (by index in `f.conds`), to join "A or B".
    pub(super) cond_tokens: HashMap<usize, usize>,
    /// Groups named by a table ("for each department") and the column chosen for them.
    pub(super) group_tables: Vec<(usize, ColRef)>,
    /// The name column shown when the question asks for the rows of a table themselves.
    pub(super) listing: Option<ColRef>,
    /// "greater than that of some X in Y": the quantifier's token, the column, the comparison
    /// and the aggregate; the conditions read after the token go into its subquery.
    pub(super) than_some: Option<(usize, ColRef, CmpOp, AggFunc)>,
    /// Columns chosen beforehand for an alternative reading.
    pub(super) overridden: Vec<ColRef>,
    /// Tokens the text-pattern pass read (its words are not values).
    pub(super) like_tokens: Vec<usize>,
}

impl<'a> Builder<'a> {
    /// A builder with nothing read yet; `overrides` choose the column of some spans beforehand.
    pub(super) fn new(
        a: &'a Analysis,
        schema: &'a Schema,
        lex: &'a Lexicon,
        links: &'a Linking,
        graph: &'a JoinGraph,
        hits: &[RuleHit<'a>],
        overrides: &HashMap<usize, ColRef>,
    ) -> Builder<'a> {
        Builder {
            a,
            schema,
            lex,
            links,
            graph,
            explained: vec![false; a.tokens.len()],
            used: vec![false; links.spans.len()],
            span_col: overrides.clone(),
            f: Frame::default(),
            quality: Vec::new(),
            rule_tokens: hits.iter().map(|h| (h.start, h.end, h.rule)).collect(),
            head_end: 0,
            head_start: 0,
            order_cues: Vec::new(),
            cond_tokens: HashMap::new(),
            group_tables: Vec::new(),
            listing: None,
            than_some: None,
            overridden: overrides.values().copied().collect(),
            like_tokens: Vec::new(),
        }
    }
}
