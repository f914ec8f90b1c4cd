//! Linking by value: n-grams of words and numbers, and quoted strings, looked up in the
//! [`ValueIndex`] of stored values.

use super::{Candidate, ColRef, Lexicon, Link, Target};
use crate::knowledge::ValueIndex;
use crate::question::tokens::is_stopword;
use crate::question::{Analysis, TokenKind};
use crate::sql::pattern::lexicon::is_cue;
use crate::warehouse::Schema;

/// Links of the question's n-grams and quoted strings to stored values. `bonus` adds a table's
/// retrieval bonus. A unit written after a number ([`Lexicon::is_unit`]: "5 MB") is not a value.
pub(super) fn value_links(
    analysis: &Analysis,
    schema: &Schema,
    lex: &Lexicon,
    values: &ValueIndex,
    bonus: &impl Fn(usize) -> f32,
) -> Vec<Candidate> {
    let toks = &analysis.tokens;
    let n = toks.len();
    let mut cands: Vec<Candidate> = Vec::new();
    // values: n-grams of words and numbers (stopwords allowed inside), quoted strings (two more
    // tokens than the longest value's words: a glued hyphen takes a token of its own); fuzzy
    // matches up to 6 tokens, longer n-grams (a product's full name) only as spelled
    const FUZZY_MAX_TOKENS: usize = 6;
    const MAX_TOKENS: usize = 12;
    let max_len = (values.max_words() + 2).min(MAX_TOKENS);
    for i in 0..n {
        for len in 1..=max_len {
            let j = i + len;
            if j > n {
                break;
            }
            let span = &toks[i..j];
            // a hyphen or slash written inside a word ("High-Low", "A/B") belongs to the value
            let glued = |k: usize| {
                k > 0
                    && k + 1 < len
                    && matches!(span[k].text.as_str(), "-" | "/" | "&")
                    && span[k - 1].end == span[k].start
                    && span[k].end == span[k + 1].start
            };
            if span.iter().enumerate().any(|(k, t)| {
                !matches!(
                    t.kind,
                    TokenKind::Word | TokenKind::Number | TokenKind::Quoted
                ) && !glued(k)
            }) || (len > 1 && span.iter().any(|t| t.kind == TokenKind::Quoted))
            {
                // a glue character ending the span may join the next word: read on
                let last = &span[len - 1];
                if len > 1
                    && matches!(last.text.as_str(), "-" | "/" | "&")
                    && span[len - 2].end == last.start
                    && (0..len - 1).all(|k| {
                        matches!(span[k].kind, TokenKind::Word | TokenKind::Number) || glued(k)
                    })
                {
                    continue;
                }
                break;
            }
            let quoted = span[0].kind == TokenKind::Quoted;
            // "division AS": an upper-case word is a code even when it spells a stopword
            let code = |t: &crate::question::Token| {
                t.text.len() >= 2
                    && t.text
                        .chars()
                        .all(|c| c.is_uppercase() || c.is_ascii_digit())
            };
            // a word joined by a hyphen is part of a compound ("Every-Day"), never a stopword
            let compound_start = len > 2 && glued(1);
            let compound_end = len > 2 && glued(len - 2);
            let stop_edge = !quoted
                && ((is_stopword(&span[0].lower) && !code(&span[0]) && !compound_start)
                    || (is_stopword(&span[len - 1].lower)
                        && !code(&span[len - 1])
                        && !compound_end));
            // "the album Let There Be Rock": a capitalised phrase of several words may start or
            // end with a stopword when it is a stored value exactly (a title)
            let titled = len >= 2 && span[0].text.chars().next().is_some_and(char::is_uppercase);
            if stop_edge && !titled {
                continue;
            }
            if !quoted && len == 1 && (span[0].kind == TokenKind::Number || span[0].lower.len() < 2)
            {
                continue;
            }
            // "larger than 5 MB": the unit of the number, not a stored code
            if !quoted
                && len == 1
                && i > 0
                && toks[i - 1].kind == TokenKind::Number
                && lex.is_unit(&span[0].lower)
            {
                continue;
            }
            let phrase = if quoted {
                span[0].text.clone()
            } else {
                analysis.text[span[0].start..span[len - 1].end].to_string()
            };
            let found = if len > FUZZY_MAX_TOKENS {
                values.lookup_same(&phrase)
            } else {
                values.lookup(&phrase)
            };
            let found: Vec<_> = if stop_edge {
                found.into_iter().filter(|m| m.exact).collect()
            } else if found.is_empty() {
                // "the Polar Kitchen Margherita Pizza": a name without its size
                values.lookup_prefix(&phrase).into_iter().collect()
            } else {
                found
            };
            for m in found {
                let Some(ti) = schema
                    .tables
                    .iter()
                    .position(|t| t.name.eq_ignore_ascii_case(&m.table))
                else {
                    continue;
                };
                let Some(ci) = schema.tables[ti]
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(&m.column))
                else {
                    continue;
                };
                let mut score = m.score.clamp(0.0, 1.0) * if m.exact { 1.0 } else { 0.92 };
                if !m.exact && score < 0.75 {
                    continue;
                }
                // a single common word that happens to be a value is weaker than a name
                if len == 1 && !quoted && !m.exact {
                    score *= 0.9;
                }
                if len == 1 && !quoted && is_cue(&span[0].lower) {
                    score *= 0.5;
                }
                cands.push((
                    i,
                    j,
                    Link {
                        curated: 0.0,
                        target: Target::Value {
                            col: ColRef {
                                table: ti,
                                column: ci,
                            },
                            value: m.value.clone(),
                            exact: m.exact,
                        },
                        score: score + 0.02 * (len as f32 - 1.0) + bonus(ti),
                        how: "value",
                    },
                ));
            }
        }
    }
    cands
}
