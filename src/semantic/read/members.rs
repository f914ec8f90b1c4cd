//! Members: the values of dimension columns named in the question (the value index, exact
//! spellings first, close ones after the lexicon's phrases), and at the end the dimension each
//! member is read in ("the North zone" of the stores for revenue, "Rock" the genre).

use std::collections::BTreeMap;

use super::lexicon::{key, Term};
use super::state::{Input, Member, Read, Reader};
use super::words::{COMPARE, GRAMMAR, NEGATORS};
use crate::question::tokens::TokenKind;
use crate::semantic::model::SemanticManifest;
use crate::semantic::query::DimensionRef;
use crate::warehouse::Schema;

impl Input<'_> {
    /// The dimensions' members a phrase of `len` tokens at `i` names (model, dimension, stored
    /// value): exact spellings, case aside (with `fuzzy`, close spellings too), or the singular
    /// of a plural ("cost increases", "supercenters").
    pub(super) fn member_hits(
        &self,
        i: usize,
        len: usize,
        fuzzy: bool,
    ) -> Vec<(String, String, String)> {
        let (question, toks, values, lexicon) =
            (self.question, self.toks, self.values, self.lexicon);
        let phrase = question[toks[i].start..toks[i + len - 1].end].trim_matches('\'');
        // "vs" is not the album "Vs.", "show us" not the USA: a grammar word is a member only
        // as stored, or written in capitals ("revenue from the US")
        let capitals = phrase.len() >= 2 && phrase.chars().all(|c| c.is_ascii_uppercase());
        let grammar_word = len == 1
            && !capitals
            && (GRAMMAR.contains(&toks[i].lower.as_str())
                || COMPARE.contains(&toks[i].lower.as_str()));
        let mut matches = if fuzzy {
            values.lookup(phrase)
        } else {
            values.lookup_same(phrase)
        };
        if matches.iter().all(|m| m.score < 0.95) {
            if let Some(one) = singular(phrase) {
                matches = values.lookup_same(&one);
            }
        }
        matches
            .into_iter()
            .filter(|m| m.score >= 0.95 && member_spelling_fits(phrase, m))
            .filter(|m| !grammar_word || m.value == phrase)
            .filter_map(|m| {
                lexicon
                    .columns
                    .get(&(m.table.to_ascii_lowercase(), m.column.to_ascii_lowercase()))
                    .map(|(model, dim)| (model.clone(), dim.clone(), m.value.clone()))
            })
            .collect()
    }

    /// "excluding Dairy", "outside the USA", "other than Rock": a member named at `i` is left out.
    pub(super) fn negated_at(&self, i: usize) -> bool {
        let toks = self.toks;
        let before = if i > 1 && toks[i - 1].lower == "the" {
            i - 2
        } else {
            i.saturating_sub(1)
        };
        i > 0
            && (NEGATORS.contains(&toks[before].lower.as_str())
                || (i > 1 && toks[i - 1].lower == "than" && toks[i - 2].lower == "other"))
    }
}

impl Reader<'_> {
    /// Members from `min_len` words up, longest first, over the words still unread; with
    /// `skip_phrases` a phrase of the lexicon is no member (the lexicon reads it later).
    pub(super) fn scan_members(&mut self, min_len: usize, fuzzy: bool, skip_phrases: bool) {
        let x = self.input;
        let toks = x.toks;
        let lexicon = x.lexicon;
        let values = x.values;
        let n = x.toks.len();
        let max_value_words = values.max_words().max(1);
        let mut i = 0;
        while i < n {
            if self.read[i] != Read::Unread || toks[i].kind == TokenKind::Punct {
                i += 1;
                continue;
            }
            let mut matched = false;
            for len in (min_len..=(2 * max_value_words).min(n - i)).rev() {
                if (i..i + len).any(|j| self.read[j] != Read::Unread && !x.inner_hyphen(j, i, len))
                {
                    continue;
                }
                if skip_phrases {
                    let phrase: Vec<&str> = toks[i..i + len].iter().filter_map(key).collect();
                    if lexicon.phrases.contains_key(&phrase.join(" ")) {
                        continue;
                    }
                }
                // "do we carry on each album": words in lower case right after a subject
                // pronoun are its verb, not a member ("Carry On", an album title)
                if i > 0
                    && matches!(x.words[i - 1], "we" | "they" | "you" | "i")
                    && toks[i..i + len]
                        .iter()
                        .all(|t| t.text.chars().all(|c| !c.is_uppercase()))
                {
                    continue;
                }
                let hits = x.member_hits(i, len, fuzzy);
                if hits.is_empty() {
                    continue;
                }
                for slot in self.read.iter_mut().skip(i).take(len) {
                    *slot = Read::Member(self.members.len());
                }
                self.members.push(Member {
                    candidates: hits,
                    start: i,
                    end: i + len,
                    negated: x.negated_at(i),
                });
                i += len;
                matched = true;
                break;
            }
            if !matched {
                i += 1;
            }
        }
    }

    /// Named filters the metric cannot reach that name a member of a dimension it reaches.
    pub(super) fn filters_as_members(&mut self, reached: &[String]) {
        let x = self.input;
        let manifest = x.manifest;
        // "How many price changes were promotions?": a named filter the question's metric cannot
        // reach, whose words also name a member of a dimension it reaches (the change reason
        // "Promotion"), is that member
        if !reached.is_empty() {
            let reach = &reached;
            let mut k = 0;
            while k < self.named.len() {
                let (name, start) = self.named[k].clone();
                let unreachable = manifest
                    .filter(&name)
                    .is_some_and(|f| !reach.contains(&f.semantic_model));
                let span = self
                    .found
                    .iter()
                    .find(|f| f.start == start && matches!(&f.term, Term::Filter(n) if *n == name));
                let hits: Vec<(String, String, String)> = match span {
                    Some(f) if unreachable => x
                        .member_hits(f.start, f.end - f.start, false)
                        .into_iter()
                        .filter(|(model, _, _)| reach.contains(model))
                        .collect(),
                    _ => Vec::new(),
                };
                // "the largest revenue increase": a filter named by a word of change alone
                // ("increases") that the metric cannot reach is the change of the metric
                let change_word = span
                    .filter(|f| unreachable && f.end == f.start + 1)
                    .is_some_and(|f| {
                        matches!(
                            x.words[f.start],
                            "increase" | "increases" | "decrease" | "decreases"
                        )
                    });
                if let (true, Some(f)) = (change_word, span) {
                    self.read[f.start] = Read::Grammar;
                    self.named.remove(k);
                    self.mark_grammar_words();
                    continue;
                }
                match span {
                    Some(f) if !hits.is_empty() => {
                        self.members.push(Member {
                            candidates: hits,
                            start: f.start,
                            end: f.end,
                            negated: x.negated_at(f.start),
                        });
                        self.named.remove(k);
                    }
                    _ => k += 1,
                }
            }
        }
    }

    /// Picks the dimension of each member: one named with it, else the one common to members
    /// compared, else the coarser one.
    pub(super) fn resolve_members(&mut self, reached_by: Option<String>, mut reached: Vec<String>) {
        let x = self.input;
        let manifest = x.manifest;
        let schema = x.schema;
        // a dimension named right next to one of its members qualifies the member ("the Dairy
        // category"); other dimensions and entities are group-bys
        let named_dims: Vec<String> = self
            .dims
            .iter()
            .filter_map(|(t, _, _)| match t {
                Term::Dimension { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        // a member's dimension among the models the metric reaches is the one meant ("the North
        // zone" of the stores for revenue, not the competitors' price checks' zone)
        if self.metrics.first() != reached_by.as_ref() {
            reached = x.reach_of(self.metrics.first());
        }
        for m in &mut self.members {
            if m.candidates
                .iter()
                .any(|(model, _, _)| reached.contains(model))
            {
                m.candidates.retain(|(model, _, _)| reached.contains(model));
            }
        }
        // members compared with each other share one dimension: pick the dimension common to all
        let common: Option<(String, String)> = {
            let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
            for m in &self.members {
                let mut seen = Vec::new();
                for (model, dim, _) in &m.candidates {
                    if !seen.contains(&(model.clone(), dim.clone())) {
                        seen.push((model.clone(), dim.clone()));
                        *counts.entry((model.clone(), dim.clone())).or_default() += 1;
                    }
                }
            }
            counts
                .into_iter()
                .find(|(_, c)| *c == self.members.len() && self.members.len() > 1)
                .map(|(k, _)| k)
        };
        for m in &self.members {
            let pick = m
                .candidates
                .iter()
                .find(|(_, d, _)| named_dims.contains(d))
                .or_else(|| {
                    common.as_ref().and_then(|(cm, cd)| {
                        m.candidates.iter().find(|(mm, dd, _)| mm == cm && dd == cd)
                    })
                })
                .or_else(|| {
                    // the coarser dimension (fewer distinct values) of the ones holding the value:
                    // the broader reading ("Iron Maiden" the artist, not the album; "Rock" the
                    // genre, not a track)
                    m.candidates.iter().min_by_key(|(model, dim, _)| {
                        match distinct(manifest, schema, model, dim) {
                            0 => u64::MAX,
                            d => d,
                        }
                    })
                })
                .expect("a member has candidates");
            self.resolved_members.push((
                DimensionRef {
                    model: Some(pick.0.clone()),
                    name: pick.1.clone(),
                },
                pick.2.clone(),
                m.negated,
                m.start,
            ));
            let _ = m.end;
        }
    }
}

/// Whether `phrase` as written may stand for the indexed value of `m`: a case-insensitive
/// match is a member unless the word is a stop word ("in" is not the state code `IN`, "or" not
/// `OR`) or the stored value is a short upper-case code the question writes in lower case.
pub(super) fn member_spelling_fits(phrase: &str, m: &crate::knowledge::values::ValueMatch) -> bool {
    if m.exact || m.value == phrase {
        return true;
    }
    // another name of the stored value ("Texas" for `TX`, see `knowledge::places`)
    let normalize = crate::knowledge::values::normalize;
    if m.score >= 0.95 && normalize(phrase) != normalize(&m.value) {
        return true;
    }
    let lower = phrase.to_lowercase();
    if !lower.contains(' ') && crate::sql::pattern::lexicon::is_stopword(&lower) {
        return false;
    }
    let code = m.value.chars().count() <= 3
        && m.value.chars().any(char::is_alphabetic)
        && m.value
            .chars()
            .all(|c| !c.is_alphabetic() || c.is_uppercase());
    // a code of three letters typed in lower case ("usa") names it, unless the word is a unit
    // ("kgs") or a clipping ("qty"); two letters ("in", "ca") are too often words
    let three_letters = lower.chars().count() == 3
        && lower.chars().all(char::is_alphabetic)
        && lower == m.value.to_lowercase()
        && crate::question::units::parse(&lower).is_none()
        && !crate::question::tokens::is_clipping(&lower);
    !(code && phrase.chars().any(char::is_lowercase)) || three_letters
}

/// The phrase with its last word in the singular ("cost increases": "cost increase",
/// "categories": "category"), for words of four letters or more ending in a plural `s`; `None`
/// otherwise.
fn singular(phrase: &str) -> Option<String> {
    let (head, last) = match phrase.rsplit_once(' ') {
        Some((h, l)) => (Some(h), l),
        None => (None, phrase),
    };
    let lower = last.to_lowercase();
    if lower.len() < 4 || lower.ends_with("ss") || !lower.ends_with('s') {
        return None;
    }
    let one = if let Some(stem) = last.strip_suffix("ies") {
        format!("{stem}y")
    } else if lower.ends_with("ches") || lower.ends_with("shes") || lower.ends_with("xes") {
        last[..last.len() - 2].to_string()
    } else {
        last[..last.len() - 1].to_string()
    };
    Some(match head {
        Some(h) => format!("{h} {one}"),
        None => one,
    })
}

/// The distinct values of a dimension's column in the schema (0 when unknown).
fn distinct(manifest: &SemanticManifest, schema: &Schema, model: &str, dim: &str) -> u64 {
    let Some(m) = manifest.model(model) else {
        return 0;
    };
    let Some(d) = m.dimension(dim) else { return 0 };
    schema
        .table(m.table())
        .and_then(|t| {
            t.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(d.expr()))
        })
        .map(|c| c.distinct_count)
        .unwrap_or(0)
}
