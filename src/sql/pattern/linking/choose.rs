//! Choosing spans: elliptic links ("first and last name"), then non-overlapping spans chosen
//! greedily, longest and best first, each keeping its close alternatives.

use super::names::Lexicon;
use super::terms::{match_form, Gram};
use super::{ColRef, Link, Linking, Span, Target};
use crate::question::tokens::is_stopword;
use crate::question::{Analysis, TokenKind};
use crate::warehouse::Schema;

/// "first and last name": the first word borrows the rest of the following name.
pub(super) fn elliptic_links(
    analysis: &Analysis,
    lex: &Lexicon,
    cands: &[(usize, usize, Link)],
) -> Vec<(usize, usize, Link)> {
    let toks = &analysis.tokens;
    let mut out = Vec::new();
    for i in 0..toks.len().saturating_sub(3) {
        if toks[i].kind != TokenKind::Word
            || is_stopword(&toks[i].lower)
            || !matches!(toks[i + 1].lower.as_str(), "and" | "or" | ",")
        {
            continue;
        }
        // the longest column link starting right after the conjunction
        let Some((_, j, _)) = cands
            .iter()
            .filter(|(a, b, l)| {
                *a == i + 2
                    && b - a >= 2
                    && matches!(l.target, Target::Column { .. })
                    && l.score >= 0.9
            })
            .max_by_key(|(a, b, _)| b - a)
        else {
            continue;
        };
        let stems: Vec<String> = std::iter::once(toks[i].stem.clone())
            .chain(toks[i + 3..*j].iter().map(|t| t.stem.clone()))
            .collect();
        let words: Vec<String> = std::iter::once(toks[i].lower.clone())
            .chain(toks[i + 3..*j].iter().map(|t| t.lower.clone()))
            .collect();
        let gram = Gram::new(stems, words.clone(), words.concat());
        for (ti, cols) in lex.columns.iter().enumerate() {
            for (ci, forms) in cols.iter().enumerate() {
                if let Some((s, how)) = forms
                    .iter()
                    .filter_map(|f| match_form(&gram, f))
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                {
                    if s >= 0.9 {
                        out.push((
                            i,
                            i + 1,
                            Link {
                                curated: 0.0,
                                target: Target::Column {
                                    col: ColRef {
                                        table: ti,
                                        column: ci,
                                    },
                                },
                                score: s,
                                how,
                            },
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Chooses non-overlapping spans from the candidates, in question order.
pub(super) fn choose_spans(
    analysis: &Analysis,
    schema: &Schema,
    mut cands: Vec<(usize, usize, Link)>,
) -> Linking {
    let n = analysis.tokens.len();
    let priority = |c: &(usize, usize, Link)| {
        let content = (c.0..c.1)
            .filter(|&k| !is_stopword(&analysis.tokens[k].lower))
            .count() as f32;
        c.2.score + 0.12 * (content - 1.0).max(0.0)
    };
    cands.retain(|c| c.2.score >= 0.5);
    cands.sort_by(|a, b| priority(b).total_cmp(&priority(a)));
    let mut taken: Vec<Option<usize>> = vec![None; n];
    let mut spans: Vec<Span> = Vec::new();
    for c in &cands {
        let (i, j) = (c.0, c.1);
        if let Some(si) = taken[i] {
            // same span: keep as an alternative when close to the best
            let sp = &mut spans[si];
            if sp.start == i
                && sp.end == j
                && c.2.score >= sp.links[0].score - 0.2
                && !sp.links.iter().any(|l| l.target == c.2.target)
            {
                sp.links.push(c.2.clone());
            }
            continue;
        }
        if (i..j).any(|k| taken[k].is_some()) {
            continue;
        }
        let text = analysis.text[analysis.tokens[i].start..analysis.tokens[j - 1].end].to_string();
        let si = spans.len();
        spans.push(Span {
            start: i,
            end: j,
            text,
            links: vec![c.2.clone()],
        });
        for t in taken.iter_mut().take(j).skip(i) {
            *t = Some(si);
        }
    }
    for sp in &mut spans {
        sp.links.sort_by(|a, b| b.score.total_cmp(&a.score));
        // values of several columns with the same text: keep them all (the frame picks by context)
        let _ = schema;
    }
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&s| spans[s].start);
    let spans: Vec<Span> = order.iter().map(|&s| spans[s].clone()).collect();
    let mut token_span = vec![None; n];
    for (si, sp) in spans.iter().enumerate() {
        for t in token_span.iter_mut().take(sp.end).skip(sp.start) {
            *t = Some(si);
        }
    }
    Linking { spans, token_span }
}
