//! Schema linking: the question's words and n-grams linked to tables, columns and values.
//!
//! Schema names are split (snake_case, camelCase), abbreviations expanded (`num` -> number,
//! `dept` -> department), stemmed the same way as the question ([`crate::question::tokens::stem`]),
//! and enriched with the synonyms of the table docs and a short list of general English synonyms.
//! An n-gram links to a name exactly, by its stems, by concatenation (`birthdate` / `birth_date`),
//! partially (`budget` -> `budget_in_billions`) or fuzzily (Jaro-Winkler via `strsim`); to a value
//! through the [`ValueIndex`] (exact, case-insensitive or fuzzy). Retrieval scores of the tables
//! add a small bonus. Non-overlapping spans are then chosen greedily, longest and best first; each
//! span keeps its close alternatives for the frame to disambiguate.

mod choose;
mod names;
mod temporal;
mod terms;
#[cfg(test)]
mod tests;
mod values;

use std::collections::HashMap;

use serde::Serialize;

use crate::knowledge::ValueIndex;
use crate::question::Analysis;
use crate::warehouse::Schema;

pub use self::names::Lexicon;
pub use self::temporal::{is_month_text, is_temporal, is_year_column};

/// A column by position: `schema.tables[table].columns[column]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct ColRef {
    pub table: usize,
    pub column: usize,
}

/// What a span of the question refers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Table {
        table: usize,
    },
    Column {
        col: ColRef,
    },
    /// A value stored in a column.
    Value {
        col: ColRef,
        value: String,
        exact: bool,
    },
}

/// One candidate link of a span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub target: Target,
    /// 0..1.
    pub score: f32,
    /// How it matched (`name`, `stem`, `synonym`, `joined`, `partial`, `fuzzy`, `value`).
    pub how: &'static str,
    /// The part of `score` that the closest curated example's tables added
    /// ([`link_with_priors`]): it decides between links, and is left out of the link quality
    /// that the confidence reads, so that a confidence means the same with curation or without.
    pub curated: f32,
}

/// A span of question tokens `[start, end)` with its candidate links, best first.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub links: Vec<Link>,
}

impl Span {
    /// The best link.
    pub fn best(&self) -> &Link {
        &self.links[0]
    }
}

/// The result of linking: chosen spans in question order.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Linking {
    pub spans: Vec<Span>,
    /// For each token, the index of the span covering it.
    #[serde(skip)]
    pub token_span: Vec<Option<usize>>,
}

impl Linking {
    /// The span covering token `i`.
    pub fn span_at(&self, i: usize) -> Option<&Span> {
        self.token_span
            .get(i)
            .copied()
            .flatten()
            .map(|s| &self.spans[s])
    }

    /// Whether word `i` of `a` is a percentage word that names only the unit of the column
    /// linked right before it ("the support percentage", "white percentage over 90"): no share
    /// of a whole is asked, as in "what percentage of customers" or "the percentage of
    /// revenue".
    pub fn column_unit_at(&self, a: &Analysis, i: usize) -> bool {
        let word = |j: usize| a.tokens.get(j).map(|t| t.lower.as_str());
        i > 0
            && matches!(word(i), Some("percentage" | "percentages" | "percent"))
            && word(i + 1) != Some("of")
            && self.span_at(i).is_none()
            && self
                .span_at(i - 1)
                .is_some_and(|s| matches!(s.best().target, Target::Column { .. }))
    }
}

/// One candidate link: tokens `[start, end)` and what they link to.
type Candidate = (usize, usize, Link);

/// Links the question to the schema and the value index.
///
/// `table_scores` are retrieval scores (0..1) per table name; a table (and its columns) gets up to
/// 0.05 added for them. [`link_with_priors`] with no curated priors.
pub fn link(
    analysis: &Analysis,
    schema: &Schema,
    lex: &Lexicon,
    values: &ValueIndex,
    table_scores: &HashMap<String, f32>,
) -> Linking {
    link_with_priors(analysis, schema, lex, values, table_scores, &HashMap::new())
}

/// Links the question as [`link`] does, the links to the names of a table of `curated` (its
/// columns' and its own, not its stored values: a value the question names is evidence of its
/// column by itself) scored up to 0.05 per unit of its weight higher (at most 0.3), the bonus
/// kept in [`Link::curated`]. `curated` weighs the tables of the closest curated example
/// ([`table_priors`](super::curated_tables::table_priors)).
pub fn link_with_priors(
    analysis: &Analysis,
    schema: &Schema,
    lex: &Lexicon,
    values: &ValueIndex,
    table_scores: &HashMap<String, f32>,
    curated: &HashMap<String, f32>,
) -> Linking {
    let bonus = |t: usize| -> f32 {
        table_scores
            .get(&schema.tables[t].name)
            .map(|s| 0.05 * s.clamp(0.0, 1.0))
            .unwrap_or(0.0)
    };
    let mut cands = terms::name_links(analysis, lex, &bonus);
    let named_tables: Vec<(usize, usize, usize)> = cands
        .iter()
        .filter_map(|(s, e, l)| match l.target {
            Target::Table { table } => Some((*s, *e, table)),
            _ => None,
        })
        .collect();
    for (start, end, l) in cands.iter_mut() {
        let table = match l.target {
            Target::Table { table } => table,
            Target::Column { col } => col.table,
            Target::Value { .. } => continue,
        };
        // "the newest store": words that name a table name the entity; the key that refers to
        // that table from the example's table gets no lean over it
        if let Target::Column { col } = l.target {
            let key = &schema.tables[col.table].columns[col.column].name;
            let refers_to_named = schema.tables[col.table].foreign_keys.iter().any(|fk| {
                fk.from_column.eq_ignore_ascii_case(key)
                    && named_tables.iter().any(|&(s, e, t)| {
                        (s, e) == (*start, *end)
                            && schema.tables[t].name.eq_ignore_ascii_case(&fk.to_table)
                    })
            });
            if refers_to_named {
                continue;
            }
        }
        if let Some(w) = curated.get(&schema.tables[table].name) {
            l.curated = 0.05 * w.clamp(0.0, 6.0);
            l.score += l.curated;
        }
    }
    cands.extend(values::value_links(analysis, schema, lex, values, &bonus));
    // "in the last 6 months": the word that makes a period relative names no column on its
    // own ("last" is no last name; a column named "last year" is still named by both words)
    cands.retain(|(start, end, l)| {
        let relative = *end == start + 1
            && crate::question::dates::opens_relative_period(&analysis.tokens[*start].lower)
            && analysis
                .time_ranges
                .iter()
                .any(|r| r.tokens.0 <= *start && *end < r.tokens.1);
        !relative || matches!(l.target, Target::Value { .. })
    });
    // "first and last name": the first word borrows the rest of the following name
    let extra = choose::elliptic_links(analysis, lex, &cands);
    cands.extend(extra);
    let mut linking = choose::choose_spans(analysis, schema, cands);
    refer_back(analysis, &mut linking);
    linking
}

/// "coffee products with a unit cost above $14, with their cost": a later span after a
/// determiner whose words are all words of an earlier span linked to a column of another table
/// refers to that column
/// again, when it is among its own links (a curated synonym may send "cost" alone to another
/// table's column). Within one table the words name other columns ("working horses" / "total
/// horses").
fn refer_back(analysis: &Analysis, linking: &mut Linking) {
    let stems = |sp: &Span| -> Vec<&str> {
        analysis.tokens[sp.start..sp.end]
            .iter()
            .filter(|t| t.kind == crate::question::TokenKind::Word)
            .map(|t| t.stem.as_str())
            .collect()
    };
    for i in 1..linking.spans.len() {
        let (before, rest) = linking.spans.split_at_mut(i);
        let sp = &mut rest[0];
        let mine = stems(sp);
        let Target::Column { col: own } = sp.best().target else {
            continue;
        };
        // a determiner refers back ("their cost"); a modifier names something else ("last names")
        let refers = sp.start > 0
            && matches!(
                analysis.tokens[sp.start - 1].lower.as_str(),
                "their" | "its" | "the" | "that" | "this" | "those" | "these" | "his" | "her"
            );
        if mine.is_empty() || !refers {
            continue;
        }
        let earlier = before.iter().rev().find_map(|e| match e.best().target {
            Target::Column { col }
                if e.end <= sp.start
                    && col.table != own.table
                    && mine.iter().all(|w| stems(e).contains(w)) =>
            {
                Some(col)
            }
            _ => None,
        });
        if let Some(col) = earlier {
            if let Some(k) = sp
                .links
                .iter()
                .position(|l| l.target == Target::Column { col })
            {
                let l = sp.links.remove(k);
                sp.links.insert(0, l);
            }
        }
    }
}
