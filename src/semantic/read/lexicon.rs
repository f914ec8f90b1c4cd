//! The lexicon: the manifest's phrases (metrics, dimensions, entities, named filters, with
//! their labels and synonyms) by their word stems, built once per manifest, and the key a token
//! is looked up by ("%", "percentage" and "pct" are all `percent`).

use std::collections::HashMap;

use super::words::SCALES;
use crate::question::tokens::{self, Token, TokenKind};
use crate::semantic::model::{EntityType, Metric, SemanticManifest};

/// What a phrase of the lexicon stands for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Term {
    Metric(String),
    Dimension { model: String, name: String },
    Entity(String),
    Filter(String),
}

/// The manifest's phrases by their stems, built once per manifest.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    pub(super) phrases: HashMap<String, Vec<Term>>,
    pub(super) max_words: usize,
    /// The terms of each phrase as written (lower case, words joined by one space): the named
    /// filter "elastic" is written so, the metric "elasticity" shares only its stem.
    pub(super) written: HashMap<String, Vec<Term>>,
    /// Dimension of each `(table, column)` (lower case), for the value index's matches.
    pub(super) columns: HashMap<(String, String), (String, String)>,
}

/// The key of a token in the lexicon: its stem; `%`, "percentage" and "pct" as `percent`
/// ("gross margin percentage" is the metric "gross margin %"); `None` for other punctuation.
pub(super) fn key(t: &Token) -> Option<&str> {
    match t.kind {
        TokenKind::Punct if t.text == "%" => Some("percent"),
        TokenKind::Punct => None,
        _ if matches!(t.lower.as_str(), "percent" | "percentage" | "pct") => Some("percent"),
        _ => Some(t.stem.as_str()),
    }
}

/// The words of `text` as written, lower case, joined by one space (punctuation left out).
pub(super) fn written(text: &str) -> String {
    tokens::tokenize(text)
        .iter()
        .filter(|t| t.kind != TokenKind::Punct)
        .map(|t| t.lower.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The lexicon keys of the words of `text` (see [`key`]).
pub(super) fn stems(text: &str) -> Vec<String> {
    tokens::tokenize(text)
        .iter()
        .filter_map(|t| key(t).map(str::to_string))
        .collect()
}

impl Lexicon {
    /// The phrases of `manifest`: names (underscores as spaces), labels and synonyms.
    /// The phrases of the model as written (lower case): names and synonyms of its metrics,
    /// dimensions, entities and filters.
    pub fn written_phrases(&self) -> impl Iterator<Item = &str> {
        self.written.keys().map(String::as_str)
    }

    pub fn build(manifest: &SemanticManifest) -> Self {
        let mut lex = Lexicon::default();
        let add = |lex: &mut Lexicon, phrase: &str, term: Term| {
            let s = stems(&phrase.replace('_', " "));
            if s.is_empty() {
                return;
            }
            lex.max_words = lex.max_words.max(s.len());
            let w = lex
                .written
                .entry(written(&phrase.replace('_', " ")))
                .or_default();
            if !w.contains(&term) {
                w.push(term.clone());
            }
            let v = lex.phrases.entry(s.join(" ")).or_default();
            if !v.contains(&term) {
                v.push(term);
            }
        };
        for m in &manifest.metrics {
            let t = Term::Metric(m.name.clone());
            add(&mut lex, &m.name, t.clone());
            if let Some(l) = &m.label {
                add(&mut lex, l, t.clone());
            }
            for s in &m.synonyms {
                add(&mut lex, s, t.clone());
            }
        }
        // "the longest tracks", "the cheapest products": an adjective of a scale names the one
        // metric of that scale (a synonym that is the scale's noun, else a name ending in it)
        for (nouns, adjectives) in SCALES {
            let noun_stems: Vec<String> = nouns.iter().flat_map(|n| stems(n)).collect();
            let by_synonym: Vec<&Metric> = manifest
                .metrics
                .iter()
                .filter(|m| {
                    m.synonyms
                        .iter()
                        .any(|s| noun_stems.contains(&stems(s).join(" ")))
                })
                .collect();
            let by_name: Vec<&Metric> = manifest
                .metrics
                .iter()
                .filter(|m| {
                    stems(&m.name.replace('_', " "))
                        .last()
                        .is_some_and(|w| noun_stems.contains(w))
                })
                .collect();
            let scaled = match (by_synonym.as_slice(), by_name.as_slice()) {
                ([m], _) | ([], [m]) => m,
                _ => continue,
            };
            for a in *adjectives {
                add(&mut lex, a, Term::Metric(scaled.name.clone()));
            }
        }
        // "sold the most copies": copies are the units a sale counts, so they name the one
        // metric called "units" (by its name, label or a synonym)
        let units: Vec<&Metric> = manifest
            .metrics
            .iter()
            .filter(|m| {
                std::iter::once(&m.name)
                    .chain(&m.label)
                    .chain(&m.synonyms)
                    .any(|s| stems(&s.replace('_', " ")) == stems("units"))
            })
            .collect();
        if let [m] = units.as_slice() {
            for p in ["copies", "copies sold"] {
                add(&mut lex, p, Term::Metric(m.name.clone()));
            }
        }
        for f in &manifest.filters {
            add(&mut lex, &f.name, Term::Filter(f.name.clone()));
            for s in &f.synonyms {
                add(&mut lex, s, Term::Filter(f.name.clone()));
            }
        }
        for model in &manifest.semantic_models {
            for d in &model.dimensions {
                let t = Term::Dimension {
                    model: model.name.clone(),
                    name: d.name.clone(),
                };
                add(&mut lex, &d.name, t.clone());
                for s in &d.synonyms {
                    add(&mut lex, s, t.clone());
                }
                // "who approved the most price changes": a dimension named for the person who
                // did something ("approved_by", "reported_by") is named by "who" and the verb
                if let Some(verb) = d.name.strip_suffix("_by").filter(|v| !v.contains('_')) {
                    add(&mut lex, &format!("who {verb}"), t.clone());
                }
                lex.columns.insert(
                    (
                        model.table().to_ascii_lowercase(),
                        d.expr().to_ascii_lowercase(),
                    ),
                    (model.name.clone(), d.name.clone()),
                );
            }
            for e in &model.entities {
                if e.kind != EntityType::Primary {
                    continue;
                }
                add(&mut lex, &e.name, Term::Entity(e.name.clone()));
                for s in &e.synonyms {
                    add(&mut lex, s, Term::Entity(e.name.clone()));
                }
            }
        }
        lex
    }
}
