//! The names of a schema's tables and columns, normalised for linking: split, abbreviations
//! expanded, stemmed, with the synonyms of the table docs and general English synonyms.

use super::ColRef;
use crate::knowledge::TableDoc;
use crate::question::tokens::{is_stopword, split_identifier, stem};
use crate::question::units::{self, Unit};
use crate::sql::pattern::lexicon::{ABBREVIATIONS, SYNONYMS};
use crate::warehouse::Schema;

/// One normalised name of a table or column.
#[derive(Debug, Clone)]
pub(super) struct Form {
    /// Content stems (stopwords removed).
    pub(super) stems: Vec<String>,
    /// Lower-case words joined without separators (`birthdate`).
    pub(super) joined: String,
    /// Lower-case content words (for fuzzy matching).
    pub(super) words: Vec<String>,
    /// The stems sorted, the stems concatenated and the words joined by spaces (precomputed:
    /// matching compares every n-gram with every form).
    pub(super) sorted: Vec<String>,
    pub(super) stem_concat: String,
    pub(super) spaced: String,
    pub(super) weight: f32,
    pub(super) how: &'static str,
}

impl Form {
    pub(super) fn new(words: &[String], weight: f32, how: &'static str) -> Option<Form> {
        let content: Vec<String> = words
            .iter()
            .filter(|w| !is_stopword(w) || words.len() == 1)
            .cloned()
            .collect();
        if content.is_empty() {
            return None;
        }
        let stems: Vec<String> = content.iter().map(|w| stem(w)).collect();
        let mut sorted = stems.clone();
        sorted.sort();
        Some(Form {
            stem_concat: stems.concat(),
            sorted,
            stems,
            joined: words.concat(),
            spaced: content.join(" "),
            words: content,
            weight,
            how,
        })
    }
}

impl Form {
    pub(super) fn how_or(&self, default: &'static str) -> &'static str {
        if self.how == "synonym" {
            "synonym"
        } else {
            default
        }
    }
}

fn expand_words(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        match ABBREVIATIONS.iter().find(|(a, _)| a == w) {
            Some((a, full))
                if words.len() > 1
                    || !matches!(
                        *a,
                        "no" | "cat" | "pos" | "dir" | "temp" | "ref" | "doc" | "min" | "max"
                    ) =>
            {
                out.extend(full.split(' ').map(str::to_string))
            }
            _ => out.push(w.clone()),
        }
    }
    out
}

/// The names of a schema's tables and columns, normalised for linking.
pub struct Lexicon {
    pub(super) tables: Vec<Vec<Form>>,
    pub(super) columns: Vec<Vec<Vec<Form>>>,
    /// Words of each table's name (stems), to recognise `dept_name`-style columns.
    pub(super) table_stems: Vec<Vec<String>>,
    /// Curated display columns of each table (column indices), from the table docs.
    pub(super) display: Vec<Vec<usize>>,
    /// Curated units of columns (lower-case unit, column), from the column docs' `unit`.
    pub(super) units: Vec<(String, ColRef)>,
    /// The unit each column stores (by table, then column): its curated `unit` when that is a
    /// unit of measure, else the unit its name ends with ([`crate::question::units`]).
    pub(super) measured: Vec<Vec<Option<Unit>>>,
}

/// The weight of a curated synonym (table and column docs' `synonyms`), against 1.0 for the
/// name itself: a word a curator gave a column wins over the same word as the name of a column
/// elsewhere ("price" curated for `pricing.current_price` beats `products.price`).
const CURATED_SYNONYM_WEIGHT: f32 = 1.01;

fn forms_for(name: &str, synonyms: &[String], extra_drop: &[String]) -> Vec<Form> {
    let raw = split_identifier(name);
    let words = expand_words(&raw);
    let mut forms = Vec::new();
    forms.extend(Form::new(&words, 1.0, "name"));
    if words != raw {
        forms.extend(Form::new(&raw, 0.95, "name"));
    }
    // conventional prefixes of table names (`ref_`, `tbl_`, `dim_`, ...) say nothing
    if words.len() > 1
        && matches!(
            words[0].as_str(),
            "ref" | "tbl" | "lu" | "dim" | "fact" | "t" | "lkp" | "reference"
        )
    {
        forms.extend(Form::new(&words[1..], 0.98, "name"));
    }
    // `service_type_code` is also `service type`: codes name what they identify (ids are left
    // alone: "film" names the table, not `film_id`)
    let mut bases = vec![words.clone()];
    if words.len() > 1 && matches!(words.last().map(String::as_str), Some("code" | "cd")) {
        let short = words[..words.len() - 1].to_vec();
        forms.extend(Form::new(&short, 0.92, "name"));
        bases.push(short);
    }
    // a column named after its table (`dept_name` in `department`) is also just `name`
    for base in &bases {
        if !extra_drop.is_empty() && base.len() > 1 {
            let kept: Vec<String> = base
                .iter()
                .filter(|w| !extra_drop.contains(&stem(w)))
                .cloned()
                .collect();
            if !kept.is_empty() && kept.len() < base.len() {
                forms.extend(Form::new(&kept, 0.9, "name"));
            }
        }
    }
    // "id" columns are rarely what a question names; keep them, but their other words matter
    // a curated synonym is a domain expert's word for this column: it outweighs the same words
    // as another column's name (CURATED_SYNONYM_WEIGHT)
    for s in synonyms {
        let sw: Vec<String> = s.split_whitespace().map(|w| w.to_lowercase()).collect();
        forms.extend(Form::new(&sw, CURATED_SYNONYM_WEIGHT, "synonym"));
    }
    // general synonyms of single words in the name
    let mut extra = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if let Some((_, syns)) = SYNONYMS.iter().find(|(k, _)| k == w) {
            for s in syns.iter() {
                let mut v = words.clone();
                if w == "count" && *s == "number" && i + 1 == words.len() && i > 0 {
                    // `bedroom_count` is "the number of bedrooms"
                    v.remove(i);
                    v.insert(0, "number".into());
                    v.insert(1, "of".into());
                } else {
                    v[i] = (*s).to_string();
                }
                extra.extend(Form::new(&v, 0.85, "synonym"));
            }
        }
    }
    forms.extend(extra);
    forms
}

impl Lexicon {
    /// Builds the lexicon of a schema with its table docs (synonyms of tables and columns).
    pub fn build(schema: &Schema, docs: &[TableDoc]) -> Lexicon {
        let mut tables = Vec::new();
        let mut columns = Vec::new();
        let mut table_stems = Vec::new();
        let mut display = Vec::new();
        let mut units = Vec::new();
        let mut measured = Vec::new();
        for (ti, t) in schema.tables.iter().enumerate() {
            let doc = docs.iter().find(|d| d.name.eq_ignore_ascii_case(&t.name));
            display.push(
                doc.map(|d| {
                    d.display_columns
                        .iter()
                        .filter_map(|name| {
                            t.columns
                                .iter()
                                .position(|c| c.name.eq_ignore_ascii_case(name))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            );
            let tsyn = doc.map(|d| d.synonyms.clone()).unwrap_or_default();
            let tforms = forms_for(&t.name, &tsyn, &[]);
            let mut stems: Vec<String> = tforms
                .iter()
                .take(2)
                .flat_map(|f| f.stems.clone())
                .collect();
            stems.extend(split_identifier(&t.name).iter().map(|w| stem(w)));
            table_stems.push(stems.clone());
            tables.push(tforms);
            let mut stored = Vec::new();
            let cols = t
                .columns
                .iter()
                .enumerate()
                .map(|(ci, c)| {
                    let cdoc = doc.and_then(|d| {
                        d.columns
                            .iter()
                            .find(|cd| cd.name.eq_ignore_ascii_case(&c.name))
                    });
                    stored.push(
                        cdoc.and_then(|cd| cd.unit.as_deref())
                            .and_then(units::parse)
                            .or_else(|| units::of_column_name(&c.name)),
                    );
                    if let Some(unit) = cdoc.and_then(|cd| cd.unit.as_deref()) {
                        let unit = unit.trim().to_lowercase();
                        if !unit.is_empty() {
                            units.push((
                                unit,
                                ColRef {
                                    table: ti,
                                    column: ci,
                                },
                            ));
                        }
                    }
                    let csyn = cdoc.map(|cd| cd.synonyms.clone()).unwrap_or_default();
                    forms_for(&c.name, &csyn, &stems)
                })
                .collect();
            columns.push(cols);
            measured.push(stored);
        }
        Lexicon {
            tables,
            columns,
            table_stems,
            display,
            units,
            measured,
        }
    }

    /// The unit of measure column `col` stores (curated, or read from its name), if any.
    pub fn column_unit(&self, col: ColRef) -> Option<Unit> {
        self.measured
            .get(col.table)
            .and_then(|t| t.get(col.column))
            .copied()
            .flatten()
    }

    /// The columns storing a unit of the same dimension as `unit` (minutes: the columns of
    /// milliseconds, seconds, hours), in schema order.
    pub fn columns_measured_in(&self, unit: Unit) -> Vec<ColRef> {
        let mut out = Vec::new();
        for (table, cols) in self.measured.iter().enumerate() {
            for (column, u) in cols.iter().enumerate() {
                if u.is_some_and(|u| u.dimension == unit.dimension) {
                    out.push(ColRef { table, column });
                }
            }
        }
        out
    }

    /// The columns whose curated unit is `word` (case aside; "MB" for a `size` documented
    /// with `unit: MB`), in schema order; empty when no column doc names that unit.
    pub fn unit_columns(&self, word: &str) -> Vec<ColRef> {
        self.units
            .iter()
            .filter(|(u, _)| u.eq_ignore_ascii_case(word))
            .map(|&(_, c)| c)
            .collect()
    }

    /// Whether `word` (lower case) is a unit of measure: a general one
    /// ([`crate::sql::pattern::lexicon::is_unit`]) or a column's curated unit.
    pub fn is_unit(&self, word: &str) -> bool {
        crate::sql::pattern::lexicon::is_unit(word) || self.units.iter().any(|(u, _)| u == word)
    }

    /// The curated display columns of table `t` (column indices, in the doc's order; empty when
    /// the docs name none).
    pub fn display_columns(&self, t: usize) -> &[usize] {
        self.display.get(t).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The stems of a table's name.
    pub fn table_stems(&self, table: usize) -> &[String] {
        &self.table_stems[table]
    }

    /// The content stems of a column's main name.
    pub fn column_stems(&self, col: ColRef) -> &[String] {
        self.columns[col.table][col.column]
            .first()
            .map(|f| f.stems.as_slice())
            .unwrap_or(&[])
    }

    /// True when a column's name (or synonym) contains a word with this stem.
    pub fn column_has_stem(&self, col: ColRef, s: &str) -> bool {
        self.columns[col.table][col.column]
            .iter()
            .any(|f| f.stems.iter().any(|x| x == s))
    }
}
