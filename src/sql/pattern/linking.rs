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

use std::collections::HashMap;

use serde::Serialize;

use crate::knowledge::{TableDoc, ValueIndex};
use crate::question::tokens::{is_stopword, split_identifier, stem};
use crate::question::{Analysis, TokenKind};
use crate::warehouse::{ColumnKind, Schema};

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
}

/// One normalised name of a table or column.
#[derive(Debug, Clone)]
struct Form {
    /// Content stems (stopwords removed).
    stems: Vec<String>,
    /// Lower-case words joined without separators (`birthdate`).
    joined: String,
    /// Lower-case content words (for fuzzy matching).
    words: Vec<String>,
    /// The stems sorted, the stems concatenated and the words joined by spaces (precomputed:
    /// matching compares every n-gram with every form).
    sorted: Vec<String>,
    stem_concat: String,
    spaced: String,
    weight: f32,
    how: &'static str,
}

impl Form {
    fn new(words: &[String], weight: f32, how: &'static str) -> Option<Form> {
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

/// Abbreviations common in schema names, expanded to words.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("num", "number"),
    ("no", "number"),
    ("nbr", "number"),
    ("qty", "quantity"),
    ("amt", "amount"),
    ("dept", "department"),
    ("emp", "employee"),
    ("cust", "customer"),
    ("prod", "product"),
    ("desc", "description"),
    ("descr", "description"),
    ("addr", "address"),
    ("dob", "date of birth"),
    ("yr", "year"),
    ("mgr", "manager"),
    ("org", "organization"),
    ("pct", "percent"),
    ("perc", "percent"),
    ("avg", "average"),
    ("tot", "total"),
    ("acct", "account"),
    ("ctry", "country"),
    ("loc", "location"),
    ("lang", "language"),
    ("doc", "document"),
    ("ref", "reference"),
    ("stu", "student"),
    ("prof", "professor"),
    ("tel", "telephone"),
    ("fname", "first name"),
    ("lname", "last name"),
    ("dt", "date"),
    ("cnt", "count"),
    ("temp", "temperature"),
    ("bdate", "birth date"),
    ("std", "standard"),
    ("pos", "position"),
    ("attr", "attribute"),
    ("cat", "category"),
    ("max", "maximum"),
    ("min", "minimum"),
    ("rev", "revenue"),
    ("hq", "headquarters"),
    ("gpa", "grade point average"),
    ("cred", "credit"),
    ("crs", "course"),
    ("apt", "apartment"),
    ("bldg", "building"),
    ("div", "division"),
    ("stat", "status"),
    ("ssn", "social security number"),
    ("eid", "employee id"),
    ("sid", "student id"),
    ("pid", "product id"),
    ("cid", "customer id"),
    ("ver", "version"),
    ("mfr", "manufacturer"),
    ("mfg", "manufacturing"),
    ("intl", "international"),
    ("natl", "national"),
    ("govt", "government"),
    ("univ", "university"),
    ("dir", "director"),
    ("pop", "population"),
    ("wt", "weight"),
    ("ht", "height"),
    ("sec", "seconds"),
    ("hr", "hour"),
    ("lat", "latitude"),
    ("long", "longitude"),
    ("lng", "longitude"),
    ("lon", "longitude"),
    ("yn", "yes no"),
    ("dob", "date of birth"),
    ("zip", "zip code"),
    ("postcode", "post code"),
];

/// General English synonyms: a name word and other words people use for it.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("country", &["nation", "nationality"]),
    ("nationality", &["country"]),
    ("salary", &["wage", "pay", "earn", "earning", "income"]),
    ("film", &["movie"]),
    ("movie", &["film"]),
    ("song", &["track"]),
    ("track", &["song"]),
    ("customer", &["client", "buyer"]),
    ("client", &["customer"]),
    ("employee", &["staff", "worker"]),
    ("price", &["cost"]),
    ("cost", &["price"]),
    ("city", &["town"]),
    ("gender", &["sex"]),
    ("sex", &["gender"]),
    ("location", &["place"]),
    ("revenue", &["sales", "turnover"]),
    ("quantity", &["units", "amount"]),
    ("teacher", &["instructor"]),
    ("instructor", &["teacher"]),
    ("professor", &["teacher", "instructor"]),
    ("student", &["pupil"]),
    ("author", &["writer"]),
    ("phone", &["telephone"]),
    ("telephone", &["phone"]),
    ("email", &["e-mail", "mail"]),
    ("birth", &["born"]),
    ("born", &["birth"]),
    ("age", &["old"]),
    ("height", &["tall"]),
    ("weight", &["heavy"]),
    ("population", &["populous", "inhabitants"]),
    ("capacity", &["seats"]),
    ("duration", &["long", "length"]),
    ("length", &["long", "duration"]),
    // a duration stored in its unit is the length of the thing
    ("milliseconds", &["length", "duration", "long"]),
    ("seconds", &["length", "duration", "long"]),
    ("minutes", &["length", "duration", "long"]),
    ("headquarters", &["headquartered", "based"]),
    ("title", &["name"]),
    ("description", &["describe", "described"]),
    ("rating", &["rated", "score"]),
    ("score", &["rating", "points"]),
    ("year", &["when"]),
    ("date", &["when"]),
    ("total", &["sum", "sales"]),
    ("aircraft", &["plane", "airplane"]),
    ("airline", &["carrier"]),
    ("vehicle", &["car"]),
    ("car", &["vehicle", "automobile"]),
    ("count", &["number"]),
    ("number", &["count"]),
];

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
    tables: Vec<Vec<Form>>,
    columns: Vec<Vec<Vec<Form>>>,
    /// Words of each table's name (stems), to recognise `dept_name`-style columns.
    table_stems: Vec<Vec<String>>,
    /// Curated display columns of each table (column indices), from the table docs.
    display: Vec<Vec<usize>>,
}

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
    for s in synonyms {
        let sw: Vec<String> = s.split_whitespace().map(|w| w.to_lowercase()).collect();
        forms.extend(Form::new(&sw, 0.95, "synonym"));
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
        for t in &schema.tables {
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
            let cols = t
                .columns
                .iter()
                .map(|c| {
                    let csyn = doc
                        .and_then(|d| {
                            d.columns
                                .iter()
                                .find(|cd| cd.name.eq_ignore_ascii_case(&c.name))
                        })
                        .map(|cd| cd.synonyms.clone())
                        .unwrap_or_default();
                    forms_for(&c.name, &csyn, &stems)
                })
                .collect();
            columns.push(cols);
        }
        Lexicon {
            tables,
            columns,
            table_stems,
            display,
        }
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

/// An n-gram of the question.
struct Gram {
    stems: Vec<String>,
    words: Vec<String>,
    joined: String,
    sorted: Vec<String>,
    stem_concat: String,
    spaced: String,
}

impl Gram {
    fn new(stems: Vec<String>, words: Vec<String>, joined: String) -> Gram {
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

/// Stopwords that are nouns and may be a table's whole name ("records", "data").
fn is_noun_stopword(w: &str) -> bool {
    matches!(
        w,
        "record" | "records" | "data" | "value" | "values" | "information" | "info"
    )
}

fn match_form(g: &Gram, f: &Form) -> Option<(f32, &'static str)> {
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

impl Form {
    fn how_or(&self, default: &'static str) -> &'static str {
        if self.how == "synonym" {
            "synonym"
        } else {
            default
        }
    }
}

/// Words whose role is structural (aggregates, extremes, counting): linking them alone to a
/// column needs a stronger match.
fn is_cue(lower: &str) -> bool {
    const CUES: &[&str] = &[
        "number",
        "count",
        "total",
        "average",
        "avg",
        "mean",
        "maximum",
        "max",
        "minimum",
        "min",
        "highest",
        "lowest",
        "most",
        "least",
        "many",
        "much",
        "sum",
        "largest",
        "smallest",
        "top",
        "different",
        "distinct",
        "order",
        "sorted",
        "ordered",
        "descending",
        "ascending",
        "more",
        "less",
        "greater",
        "fewer",
        "than",
        "larger",
        "higher",
        "lower",
        "bigger",
        "when",
        "all",
    ];
    CUES.contains(&lower)
}

/// Links the question to the schema and the value index.
///
/// `table_scores` are retrieval scores (0..1) per table name; a table (and its columns) gets up to
/// 0.05 added for them.
pub fn link(
    analysis: &Analysis,
    schema: &Schema,
    lex: &Lexicon,
    values: &ValueIndex,
    table_scores: &HashMap<String, f32>,
) -> Linking {
    let toks = &analysis.tokens;
    let n = toks.len();
    let mut cands: Vec<(usize, usize, Link)> = Vec::new();
    let bonus = |t: usize| -> f32 {
        table_scores
            .get(&schema.tables[t].name)
            .map(|s| 0.05 * s.clamp(0.0, 1.0))
            .unwrap_or(0.0)
    };
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
    // values: n-grams of words and numbers (up to 5 tokens, stopwords allowed inside), quoted strings
    // (two more tokens than the longest value's words: a glued hyphen takes a token of its own)
    let max_len = (values.max_words() + 2).min(6);
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
            if !quoted
                && ((is_stopword(&span[0].lower) && !code(&span[0]) && !compound_start)
                    || (is_stopword(&span[len - 1].lower)
                        && !code(&span[len - 1])
                        && !compound_end))
            {
                continue;
            }
            if !quoted && len == 1 && (span[0].kind == TokenKind::Number || span[0].lower.len() < 2)
            {
                continue;
            }
            let phrase = if quoted {
                span[0].text.clone()
            } else {
                analysis.text[span[0].start..span[len - 1].end].to_string()
            };
            for m in values.lookup(&phrase) {
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
    // "first and last name": the first word borrows the rest of the following name
    let extra = elliptic_links(analysis, lex, &cands);
    cands.extend(extra);
    choose_spans(analysis, schema, cands)
}

fn elliptic_links(
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

fn choose_spans(
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

/// True when a column holds dates (by type) or years (by name with an integer type).
pub fn is_temporal(schema: &Schema, c: ColRef) -> bool {
    let col = &schema.tables[c.table].columns[c.column];
    let kind = col.kind();
    if kind == ColumnKind::Date {
        return true;
    }
    let words = split_identifier(&col.name);
    let dateish = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "date" | "time" | "timestamp" | "datetime" | "day" | "dt"
        )
    });
    dateish && matches!(kind, ColumnKind::Text | ColumnKind::Other)
        || col
            .sample_values
            .first()
            .is_some_and(|v| looks_like_date(v))
            && !kind.is_numeric()
        || is_month_text(schema, c)
}

/// True when a text column holds months written `YYYY-MM` (a "period" column): every sample
/// value has that shape. Such a column compares as text: `>= '2023-07'`, `LIKE '2023-%'`.
pub fn is_month_text(schema: &Schema, c: ColRef) -> bool {
    let col = &schema.tables[c.table].columns[c.column];
    !col.kind().is_numeric()
        && !col.sample_values.is_empty()
        && col.sample_values.iter().all(|v| {
            let b = v.as_bytes();
            b.len() == 7
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[5..].iter().all(u8::is_ascii_digit)
        })
}

/// True when a column holds a year as an integer (named `year`, `..._year`, `yr`).
pub fn is_year_column(schema: &Schema, c: ColRef) -> bool {
    let col = &schema.tables[c.table].columns[c.column];
    let words = split_identifier(&col.name);
    words
        .iter()
        .any(|w| matches!(w.as_str(), "year" | "yr" | "years"))
        && !is_temporal(schema, c)
}

fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::{analyze, Question};
    use crate::warehouse::{ColumnSchema, TableSchema};

    fn col(name: &str, ty: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            data_type: ty.into(),
            ..Default::default()
        }
    }

    fn schema() -> Schema {
        Schema {
            tables: vec![
                TableSchema {
                    name: "department".into(),
                    columns: vec![
                        col("department_id", "int"),
                        col("dept_name", "text"),
                        col("NumEmployees", "int"),
                        col("budget_in_billions", "real"),
                    ],
                    ..Default::default()
                },
                TableSchema {
                    name: "head".into(),
                    columns: vec![
                        col("head_id", "int"),
                        col("name", "text"),
                        col("born_state", "text"),
                        col("age", "int"),
                    ],
                    ..Default::default()
                },
            ],
        }
    }

    fn linked(q: &str, docs: &[TableDoc]) -> Vec<(String, Target)> {
        let s = schema();
        let lex = Lexicon::build(&s, docs);
        let a = analyze(&Question::parse(q).unwrap());
        let l = link(&a, &s, &lex, &ValueIndex::default(), &HashMap::new());
        l.spans
            .iter()
            .map(|sp| (sp.text.clone(), sp.best().target.clone()))
            .collect()
    }

    fn column(t: usize, c: usize) -> Target {
        Target::Column {
            col: ColRef {
                table: t,
                column: c,
            },
        }
    }

    #[test]
    fn snake_and_camel_case_names_link_to_their_words() {
        let l = linked("born state and number of employees", &[]);
        assert!(l.contains(&("born state".into(), column(1, 2))), "{l:?}");
        assert!(
            l.contains(&("number of employees".into(), column(0, 2))),
            "{l:?}"
        );
    }

    #[test]
    fn plurals_link_to_singular_table_names() {
        let l = linked("How many heads of the departments are there?", &[]);
        assert!(
            l.contains(&("heads".into(), Target::Table { table: 1 })),
            "{l:?}"
        );
        assert!(
            l.iter()
                .any(|(t, target)| t == "departments" && *target == Target::Table { table: 0 }),
            "{l:?}"
        );
    }

    #[test]
    fn a_column_named_after_its_table_links_by_its_other_words() {
        let l = linked("the budget of the department", &[]);
        assert!(l.contains(&("budget".into(), column(0, 3))), "{l:?}");
    }

    #[test]
    fn synonyms_from_table_docs_link() {
        let docs = vec![TableDoc {
            name: "head".into(),
            synonyms: vec!["director".into()],
            columns: vec![crate::knowledge::ColumnDoc {
                name: "age".into(),
                synonyms: vec!["years old".into()],
                ..Default::default()
            }],
            ..Default::default()
        }];
        let l = linked("directors who are 50 years old", &docs);
        assert!(
            l.contains(&("directors".into(), Target::Table { table: 1 })),
            "{l:?}"
        );
        assert!(l.contains(&("years old".into(), column(1, 3))), "{l:?}");
    }

    #[test]
    fn misspelled_names_link_fuzzily() {
        let l = linked("what is the budjet in billions", &[]);
        assert!(l.iter().any(|(_, t)| *t == column(0, 3)), "{l:?}");
    }

    #[test]
    fn a_stored_value_written_with_a_hyphen_links_as_one_span() {
        let s = schema();
        let lex = Lexicon::build(&s, &[]);
        let mut values = ValueIndex::default();
        values.insert("head", "born_state", "High-Low".into());
        values.insert("head", "born_state", "EDLP".into());
        let a = analyze(&Question::parse("heads born in EDLP or High-Low states").unwrap());
        let l = link(&a, &s, &lex, &values, &HashMap::new());
        let found: Vec<(String, Target)> = l
            .spans
            .iter()
            .map(|sp| (sp.text.clone(), sp.best().target.clone()))
            .collect();
        assert!(
            found.iter().any(|(_, t)| matches!(
                t,
                Target::Value { value, .. } if value == "High-Low"
            )),
            "{found:?}"
        );
    }
}
