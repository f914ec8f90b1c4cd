//! Linking by name: each n-gram of the question's words matched against the normalised names
//! of tables and columns (exactly, by stems, joined, partially, abbreviated or fuzzily).

use super::names::{Form, Lexicon};
use super::{Candidate, ColRef, Link, Target};
use crate::question::tokens::is_stopword;
use crate::question::{Analysis, TokenKind};
use crate::sql::pattern::lexicon::{is_cue, is_noun_stopword};

/// An n-gram of the question.
pub(super) struct Gram {
    pub(super) stems: Vec<String>,
    pub(super) words: Vec<String>,
    pub(super) joined: String,
    pub(super) sorted: Vec<String>,
    pub(super) stem_concat: String,
    pub(super) spaced: String,
}

impl Gram {
    pub(super) fn new(stems: Vec<String>, words: Vec<String>, joined: String) -> Gram {
        let mut sorted = stems.clone();
        sorted.sort();
        Gram {
            stem_concat: stems.concat(),
            spaced: words.join(" "),
            sorted,
            stems,
            words,
            joined,
        }
    }
}

pub(super) fn match_form(g: &Gram, f: &Form) -> Option<(f32, &'static str)> {
    // words in another order match too ("description of the budget type"), except around
    // "number": `room_number` is not "the number of rooms"
    if g.stems.len() > 1
        && g.stems.len() == f.stems.len()
        && g.stems != f.stems
        && !g.stems.iter().any(|s| s == "number")
    {
        if g.sorted == f.sorted {
            return Some((0.95 * f.weight, "stem"));
        }
    }
    if g.stems == f.stems {
        return Some((
            f.weight,
            if f.how == "name" && g.words == f.words {
                "name"
            } else {
                f.how_or("stem")
            },
        ));
    }
    if g.joined.len() >= 4 && (g.joined == f.joined || g.stem_concat == f.stem_concat) {
        return Some((0.95 * f.weight, "joined"));
    }
    if f.stems.len() > g.stems.len() && g.stems.iter().all(|s| f.stems.contains(s)) {
        let frac = g.stems.len() as f32 / f.stems.len() as f32;
        let head = f.stems.last().is_some_and(|h| g.stems.contains(h));
        let generic = g.stems.len() == 1
            && matches!(
                g.stems[0].as_str(),
                "id" | "name" | "type" | "code" | "number" | "date" | "year"
            );
        let mut s = 0.5 + 0.3 * frac + if head { 0.08 } else { 0.0 };
        if generic {
            s -= 0.15;
        }
        return Some((s * f.weight, "partial"));
    }
    // an abbreviated one-word name is a prefix of the question's word (`prereq`: "prerequisites",
    // `inst`: "institution"); a prefix of four letters or more, shorter by three or more
    if g.words.len() == 1
        && f.words.len() == 1
        && f.how == "name"
        && !g.joined.ends_with("est")
        && f.joined.len() >= 4
        && g.joined.len() >= f.joined.len() + 3
        && g.joined.starts_with(&f.joined)
    {
        return Some((0.75 * f.weight, "abbreviation"));
    }
    // a normalized Levenshtein of 0.75 needs lengths within a quarter of each other
    let (la, lb) = (g.spaced.len(), f.spaced.len());
    if g.words.len() == f.words.len()
        && g.joined.len() >= 4
        && f.joined.len() >= 4
        && 4 * la.abs_diff(lb) <= la.max(lb)
    {
        let (a, b) = (&g.spaced, &f.spaced);
        let jw = strsim::jaro_winkler(a, b) as f32;
        if jw < 0.9 {
            return None;
        }
        let lev = strsim::normalized_levenshtein(a, b) as f32;
        if jw >= 0.9 && lev >= 0.75 {
            return Some((0.8 * jw * f.weight, "fuzzy"));
        }
    }
    None
}

/// Links of the question's n-grams (up to four words) to table and column names. `bonus` adds
/// a table's retrieval bonus.
pub(super) fn name_links(
    analysis: &Analysis,
    lex: &Lexicon,
    bonus: &impl Fn(usize) -> f32,
) -> Vec<Candidate> {
    let toks = &analysis.tokens;
    let n = toks.len();
    let mut cands: Vec<Candidate> = Vec::new();
    for i in 0..n {
        for len in 1..=4 {
            let j = i + len;
            if j > n {
                break;
            }
            let span = &toks[i..j];
            if span.iter().any(|t| t.kind != TokenKind::Word) {
                break;
            }
            // nouns among the stopwords ("records", "data") still name a table called so
            let noun_table = len == 1 && is_noun_stopword(&span[0].lower);
            if !noun_table && (is_stopword(&span[0].lower) || is_stopword(&span[len - 1].lower)) {
                continue;
            }
            if noun_table {
                let st = &span[0].stem;
                for (ti, forms) in lex.tables.iter().enumerate() {
                    if forms
                        .iter()
                        .any(|f| f.stems.len() == 1 && &f.stems[0] == st)
                    {
                        cands.push((
                            i,
                            j,
                            Link {
                                curated: 0.0,
                                target: Target::Table { table: ti },
                                score: 1.0 + bonus(ti) + 0.01,
                                how: "name",
                            },
                        ));
                    }
                }
                continue;
            }
            // inside a name only "of", "in", "per" and "and" ("date of birth", "budget in billions")
            if len > 2
                && span[1..len - 1].iter().any(|t| {
                    is_stopword(&t.lower)
                        && !matches!(t.lower.as_str(), "of" | "in" | "per" | "and" | "the")
                })
            {
                continue;
            }
            let words: Vec<String> = span.iter().map(|t| t.lower.clone()).collect();
            let content: Vec<&crate::question::Token> =
                span.iter().filter(|t| !is_stopword(&t.lower)).collect();
            let gram = Gram::new(
                content.iter().map(|t| t.stem.clone()).collect(),
                content
                    .iter()
                    .map(|t| t.lower.trim_end_matches("'s").to_string())
                    .collect(),
                words.concat(),
            );
            let cue_penalty = if len == 1 && is_cue(&span[0].lower) {
                0.55
            } else {
                1.0
            };
            for (ti, forms) in lex.tables.iter().enumerate() {
                if let Some((s, how)) = forms
                    .iter()
                    .filter_map(|f| match_form(&gram, f))
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                {
                    cands.push((
                        i,
                        j,
                        Link {
                            curated: 0.0,
                            target: Target::Table { table: ti },
                            // a table wins a tie with a column of the same name
                            score: s * cue_penalty + bonus(ti) + 0.01,
                            how,
                        },
                    ));
                }
                for (ci, cforms) in lex.columns[ti].iter().enumerate() {
                    if let Some((s, how)) = cforms
                        .iter()
                        .filter_map(|f| match_form(&gram, f))
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                    {
                        cands.push((
                            i,
                            j,
                            Link {
                                curated: 0.0,
                                target: Target::Column {
                                    col: ColRef {
                                        table: ti,
                                        column: ci,
                                    },
                                },
                                score: s * cue_penalty + bonus(ti),
                                how,
                            },
                        ));
                    }
                }
            }
        }
    }
    cands
}
