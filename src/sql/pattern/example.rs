//! Adaptation of the nearest curated example: when a retrieved example question differs from the
//! asked question only by literals ("top 10 items in frozen food" vs "top 5 items in dairy"),
//! its SQL is reused with the example's literals swapped for the question's.
//!
//! The two questions are aligned word by word (longest common subsequence); each differing stretch
//! of the example must be a literal of its SQL (a quoted string or a number) and the matching
//! stretch of the question becomes the new literal (the stored value when the value index knows
//! it). Anything else that differs makes the example not adaptable.

use super::linking::{Linking, Target};
use crate::knowledge::Example;
use crate::question::tokens::tokenize;
use crate::question::{Analysis, TokenKind};

/// An adapted example.
#[derive(Debug, Clone)]
pub struct Adapted {
    pub sql: String,
    /// The example's question.
    pub question: String,
    /// Retrieval similarity of the example (cosine, 0..1).
    pub similarity: f32,
    /// (old literal, new literal) pairs swapped.
    pub swaps: Vec<(String, String)>,
}

/// Examples closer than this (cosine) are considered for adaptation.
pub const MIN_SIMILARITY: f32 = 0.8;

#[derive(Debug, Clone)]
struct Word {
    lower: String,
    text: String,
    start: usize,
    end: usize,
    number: bool,
}

fn words_of(text: &str) -> Vec<Word> {
    tokenize(text)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Punct)
        .map(|t| Word {
            lower: t.lower.clone(),
            text: t.text.clone(),
            start: t.start,
            end: t.end,
            number: t.kind == TokenKind::Number,
        })
        .collect()
}

/// Differing stretches `(example range, question range)` of an LCS alignment.
fn diff(a: &[Word], b: &[Word]) -> Vec<((usize, usize), (usize, usize))> {
    let (n, m) = (a.len(), b.len());
    let mut l = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if a[i].lower == b[j].lower {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    let (mut si, mut sj) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i].lower == b[j].lower {
            if si < i || sj < j {
                out.push(((si, i), (sj, j)));
            }
            i += 1;
            j += 1;
            si = i;
            sj = j;
        } else if j < m && (i == n || l[i][j + 1] >= l[i + 1][j]) {
            j += 1;
        } else {
            i += 1;
        }
    }
    if si < n || sj < m {
        out.push(((si, n), (sj, m)));
    }
    out
}

/// One literal of an SQL text: byte range and its text (unquoted).
#[derive(Debug, Clone)]
struct SqlLiteral {
    start: usize,
    end: usize,
    value: String,
    quoted: bool,
}

fn sql_literals(sql: &str) -> Vec<SqlLiteral> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            let mut j = i + 1;
            let mut v = Vec::new();
            while j < b.len() {
                if b[j] == b'\'' {
                    if j + 1 < b.len() && b[j + 1] == b'\'' {
                        v.push(b'\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                v.push(b[j]);
                j += 1;
            }
            out.push(SqlLiteral {
                start: i,
                end: (j + 1).min(b.len()),
                value: String::from_utf8_lossy(&v).into_owned(),
                quoted: true,
            });
            i = j + 1;
        } else if c == b'"' || c == b'`' {
            // quoted identifier
            let mut j = i + 1;
            while j < b.len() && b[j] != c {
                j += 1;
            }
            i = j + 1;
        } else if c.is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.'))
        {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            if j == b.len() || !(b[j].is_ascii_alphabetic() || b[j] == b'_') {
                out.push(SqlLiteral {
                    start: i,
                    end: j,
                    value: sql[i..j].to_string(),
                    quoted: false,
                });
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Adapts the closest examples (similarity at least [`MIN_SIMILARITY`]) to the question.
pub fn adapt(analysis: &Analysis, links: &Linking, examples: &[(Example, f32)]) -> Vec<Adapted> {
    let q = words_of(&analysis.text);
    let mut out = Vec::new();
    let mut sorted: Vec<&(Example, f32)> = examples
        .iter()
        .filter(|(_, s)| *s >= MIN_SIMILARITY)
        .collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (ex, sim) in sorted.into_iter().take(3) {
        let e = words_of(&ex.question);
        let lits = sql_literals(&ex.sql);
        let mut swaps: Vec<(usize, String, String)> = Vec::new();
        let mut ok = true;
        for ((ea, eb), (qa, qb)) in diff(&e, &q) {
            if ea == eb || qa == qb {
                // an insertion or deletion: fine only for stopwords
                let extra = if ea == eb { &q[qa..qb] } else { &e[ea..eb] };
                if extra
                    .iter()
                    .all(|w| crate::question::tokens::is_stopword(&w.lower))
                {
                    continue;
                }
                ok = false;
                break;
            }
            let etext = ex.question[e[ea].start..e[eb - 1].end]
                .trim_matches(|c| c == '\'' || c == '"')
                .to_string();
            let qtext = analysis.text[q[qa].start..q[qb - 1].end]
                .trim_matches(|c| c == '\'' || c == '"')
                .to_string();
            let e_is_number = eb - ea == 1 && e[ea].number;
            let found = lits.iter().enumerate().find(|(_, l)| {
                if l.quoted {
                    l.value.eq_ignore_ascii_case(&etext)
                } else {
                    e_is_number && l.value == e[ea].text.replace(',', "")
                }
            });
            let Some((li, lit)) = found else {
                ok = false;
                break;
            };
            let new = if lit.quoted {
                // the stored spelling when the question's words link to a value
                let qtok = analysis.tokens.iter().position(|t| t.start == q[qa].start);
                let stored =
                    qtok.and_then(|k| links.span_at(k))
                        .and_then(|sp| match &sp.best().target {
                            Target::Value { value, .. } => Some(value.clone()),
                            _ => None,
                        });
                stored.unwrap_or(qtext.clone())
            } else {
                if !(qb - qa == 1 && q[qa].number) {
                    ok = false;
                    break;
                }
                q[qa].text.replace(',', "")
            };
            swaps.push((li, lit.value.clone(), new));
        }
        if !ok {
            continue;
        }
        // rewrite the SQL, every occurrence of a swapped literal
        let mut sql = String::new();
        let mut last = 0;
        for l in &lits {
            let swap = swaps.iter().find(|(_, old, _)| {
                (l.quoted && old.eq_ignore_ascii_case(&l.value)) || (!l.quoted && *old == l.value)
            });
            let Some((_, _, new)) = swap else { continue };
            sql.push_str(&ex.sql[last..l.start]);
            if l.quoted {
                sql.push_str(&format!("'{}'", new.replace('\'', "''")));
            } else {
                sql.push_str(new);
            }
            last = l.end;
        }
        sql.push_str(&ex.sql[last..]);
        out.push(Adapted {
            sql,
            question: ex.question.clone(),
            similarity: *sim,
            swaps: swaps.into_iter().map(|(_, o, n)| (o, n)).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::{analyze, Question};

    fn example(q: &str, sql: &str) -> (Example, f32) {
        (
            Example {
                question: q.into(),
                sql: sql.into(),
                source: String::new(),
            },
            0.9,
        )
    }

    #[test]
    fn literals_of_a_close_example_are_swapped_for_the_questions() {
        let a = analyze(&Question::parse("top 5 items by revenue in 'Dairy'").unwrap());
        let ex = example(
            "top 10 items by revenue in 'Frozen Food'",
            "SELECT name FROM items WHERE category = 'Frozen Food' ORDER BY revenue DESC LIMIT 10",
        );
        let out = adapt(&a, &Linking::default(), &[ex]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].sql,
            "SELECT name FROM items WHERE category = 'Dairy' ORDER BY revenue DESC LIMIT 5"
        );
    }

    #[test]
    fn an_example_that_differs_by_more_than_literals_is_not_adapted() {
        let a = analyze(&Question::parse("average price of items in 'Dairy'").unwrap());
        let ex = example(
            "top 10 items by revenue in 'Frozen Food'",
            "SELECT name FROM items WHERE category = 'Frozen Food' LIMIT 10",
        );
        assert!(adapt(&a, &Linking::default(), &[ex]).is_empty());
    }

    #[test]
    fn distant_examples_are_ignored() {
        let a = analyze(&Question::parse("how many items").unwrap());
        let mut ex = example("how many items", "SELECT COUNT(*) FROM items");
        ex.1 = 0.5;
        assert!(adapt(&a, &Linking::default(), &[ex]).is_empty());
    }
}
