//! Retrieve and adapt: a curated example close to the question is answered by editing the
//! example's SQL tree.
//!
//! The example question and the asked question are cut into keys (stems, with stopwords and
//! request words left out, "how many" / "number of" read as one count key, superlatives as
//! `most` / `least` keys, numbers by value, quoted strings by text) and aligned (longest common
//! subsequence; a key that only moved is matched too). Every stretch where they differ must be
//! explained by an edit of the example's SQL (parsed with sqlparser, edited as a tree, rendered
//! back):
//!
//! - a value the example names (a single- or double-quoted literal of its SQL) becomes the
//!   question's (the stored spelling when the value index knows it);
//! - a number (a literal or the `LIMIT`) becomes the question's number; a year shifts every date
//!   literal of that year;
//! - a period grain ("per year" / "per month") changes the `strftime` format;
//! - "most" / "least" flips the ordering (and `MAX` / `MIN`);
//! - a column or table the example's words link to becomes the one the question's words link to;
//! - a value the example names and the question does not drops its filter; a stored value the
//!   question names and the example does not adds one (`col = 'value'`).
//!
//! Words that link to the same table or column on both sides are the same meaning in other words.
//! Anything left unexplained makes the example not adaptable: reuse depends on the alignment,
//! not on a similarity cut-off. The confidence of an adapted query falls with each edit.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use serde::Serialize;
use sqlparser::ast::{
    BinaryOperator, Expr, Ident, ObjectName, ObjectNamePart, Query, SetExpr, Statement,
    TableFactor, Value, ValueWithSpan, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use super::linking::{self, ColRef, Lexicon, Linking, Target};
use crate::knowledge::values::normalize;
use crate::knowledge::{Example, ValueIndex};
use crate::question::tokens::is_stopword;
use crate::question::{analyze, Analysis, Question, TokenKind};
use crate::warehouse::Schema;

/// One edit of an example's SQL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// A string literal swapped.
    Value { old: String, new: String },
    /// A number (literal or `LIMIT`) swapped.
    Number { old: String, new: String },
    /// Dates of one year moved to another.
    Year { old: i64, new: i64 },
    /// A period grain (`strftime` format) changed.
    Grain { old: String, new: String },
    /// The ordering (and `MAX` / `MIN`) flipped.
    Direction { old: String, new: String },
    /// A column swapped for the one the question names.
    Column { old: String, new: String },
    /// A table swapped for the one the question names.
    Table { old: String, new: String },
    /// A filter on a value the question does not name, dropped.
    DropFilter { value: String },
    /// A filter on a stored value the question names, added.
    AddFilter { column: String, value: String },
    /// Other words that name nothing of the schema and no operation ("find" / "give", "located"
    /// / "based"): the same query.
    Reworded { old: String, new: String },
}

impl Edit {
    /// Whether the edit swaps like for like in the example's own query (a value, a number, a
    /// year, a grain, a direction, a word for a word) rather than changing its shape (another
    /// column or table, a filter dropped or added, a word the example does not have).
    pub fn keeps_shape(&self) -> bool {
        match self {
            Edit::Value { .. }
            | Edit::Number { .. }
            | Edit::Year { .. }
            | Edit::Grain { .. }
            | Edit::Direction { .. } => true,
            Edit::Reworded { old, new } => !old.trim().is_empty() && !new.trim().is_empty(),
            Edit::Column { .. }
            | Edit::Table { .. }
            | Edit::DropFilter { .. }
            | Edit::AddFilter { .. } => false,
        }
    }

    /// One line for the trace.
    pub fn describe(&self) -> String {
        match self {
            Edit::Value { old, new } => format!("value '{old}' -> '{new}'"),
            Edit::Number { old, new } => format!("number {old} -> {new}"),
            Edit::Year { old, new } => format!("year {old} -> {new}"),
            Edit::Grain { old, new } => format!("period {old} -> {new}"),
            Edit::Direction { old, new } => format!("direction {old} -> {new}"),
            Edit::Column { old, new } => format!("column {old} -> {new}"),
            Edit::Table { old, new } => format!("table {old} -> {new}"),
            Edit::DropFilter { value } => format!("dropped the filter on '{value}'"),
            Edit::AddFilter { column, value } => format!("added the filter {column} = '{value}'"),
            Edit::Reworded { old, new } => format!("reworded '{old}' as '{new}'"),
        }
    }

    /// How much this kind of edit keeps of the example's certainty (multiplied into the
    /// confidence): swapping a literal is safe, swapping structure less so.
    fn keep(&self) -> f64 {
        match self {
            Edit::Value { .. } | Edit::Number { .. } | Edit::Year { .. } => 0.97,
            Edit::Grain { .. } | Edit::Direction { .. } => 0.93,
            Edit::Column { .. } => 0.85,
            Edit::Table { .. } => 0.8,
            Edit::DropFilter { .. } | Edit::AddFilter { .. } => 0.85,
            Edit::Reworded { .. } => 0.95,
        }
    }
}

/// An adapted example.
#[derive(Debug, Clone)]
pub struct Adapted {
    pub sql: String,
    /// The example's question.
    pub question: String,
    /// Retrieval similarity of the example (0..1; used to rank, not to decide).
    pub similarity: f32,
    /// The edits made to the example's SQL (none: the example's SQL as written).
    pub edits: Vec<Edit>,
    /// Confidence of the adapted query, 0..1.
    pub confidence: f64,
}

/// Confidence of an example reused as written.
pub const EXACT_CONFIDENCE: f64 = 0.92;

/// Examples tried per question (best retrieval score first).
const TRIED: usize = 6;

/// Words that ask rather than mean (beyond the stopwords).
#[rustfmt::skip]
const REQUEST_WORDS: &[&str] = &[
    "want", "know", "see", "need", "like", "fetch", "retrieve", "output", "identify", "determine",
    "kindly", "whats", "name's", "list", "lists", "listing", "shown", "showing", "given",
];

/// Words that change the query's operation when they differ (comparisons, negation, order):
/// never taken as a mere rewording.
#[rustfmt::skip]
const OPERATION_WORDS: &[&str] = &[
    "older", "younger", "more", "less", "greater", "fewer", "larger", "smaller", "higher",
    "lower", "bigger", "longer", "shorter", "above", "below", "before", "after", "over", "under",
    "not", "no", "never", "without", "except", "excluding", "only", "ascending", "descending",
    "alphabetical", "alphabetically", "order", "ordered", "sort", "sorted", "reverse", "first",
    "last", "between", "equal", "exactly", "same", "or", "both", "either", "neither", "nor",
    "earlier", "later", "newer", "cheaper", "expensive", "percentage", "percent", "ratio",
    "difference", "range", "along", "respectively",
];

/// True when the tokens of `ks` name nothing of the schema (no link), no value, number or
/// operation: words that may differ between two wordings of the same question.
fn generic(side: &Side, ks: &[usize]) -> bool {
    ks.iter().all(|&k| {
        let key = &side.keys[k];
        let tok = &side.a.tokens[key.tok];
        tok.kind == TokenKind::Word
            && !key.key.starts_with('#')
            && side.links.span_at(key.tok).is_none()
            && !OPERATION_WORDS.contains(&tok.lower.as_str())
            && grain_format(&tok.lower).is_none()
    })
}

#[rustfmt::skip]
const MOST: &[&str] = &[
    "maximum", "max", "highest", "largest", "biggest", "greatest", "most", "top", "oldest",
    "longest", "heaviest", "tallest", "latest", "newest", "best", "richest", "priciest",
];
#[rustfmt::skip]
const LEAST: &[&str] = &[
    "minimum", "min", "lowest", "smallest", "least", "fewest", "cheapest", "bottom", "youngest",
    "shortest", "lightest", "earliest", "worst", "poorest",
];
const GRAINS: &[(&str, &str)] = &[
    ("year", "%Y"),
    ("yearly", "%Y"),
    ("annual", "%Y"),
    ("month", "%Y-%m"),
    ("monthly", "%Y-%m"),
    ("week", "%Y-%W"),
    ("weekly", "%Y-%W"),
    ("day", "%Y-%m-%d"),
    ("daily", "%Y-%m-%d"),
];

fn grain_format(lower: &str) -> Option<&'static str> {
    let singular = lower.strip_suffix('s').unwrap_or(lower);
    GRAINS
        .iter()
        .find(|(w, _)| *w == lower || *w == singular)
        .map(|(_, f)| *f)
}

/// One key of a question: what it means for the alignment, and its token.
#[derive(Debug, Clone)]
struct Key {
    key: String,
    tok: usize,
}

fn keys(a: &Analysis) -> Vec<Key> {
    let t = &a.tokens;
    let w = |i: usize| t.get(i).map(|x| x.lower.as_str()).unwrap_or("");
    let mut out = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        let key = match tok.kind {
            TokenKind::Punct => continue,
            TokenKind::Number => match a.numbers.iter().find(|n| n.token == i) {
                Some(n) => format!("#n:{}", n.value),
                None => format!("#n:{}", tok.lower.replace(',', "")),
            },
            TokenKind::Date => format!("#d:{}", tok.lower),
            TokenKind::Quoted => format!("#q:{}", normalize(&tok.text)),
            TokenKind::Word => {
                let l = tok.lower.as_str();
                if let Some(n) = a.numbers.iter().find(|n| n.token == i && n.from_word) {
                    format!("#n:{}", n.value)
                } else if (l == "many" && w(i.wrapping_sub(1)) == "how")
                    || (l == "number" && w(i + 1) == "of")
                    || l == "count"
                    || l == "counts"
                {
                    "#count".into()
                } else if l == "total" && w(i + 1) == "number" {
                    continue;
                } else if (l == "most" || l == "least") && w(i.wrapping_sub(1)) == "at" {
                    format!("#at_{l}")
                } else if MOST.contains(&l) {
                    "#most".into()
                } else if LEAST.contains(&l) {
                    "#least".into()
                } else if matches!(l, "average" | "avg" | "mean") {
                    "#avg".into()
                } else if matches!(l, "total" | "sum") {
                    "#sum".into()
                } else if matches!(l, "distinct" | "different" | "unique") {
                    "#distinct".into()
                } else if is_stopword(l) || REQUEST_WORDS.contains(&l) {
                    continue;
                } else {
                    tok.stem.clone()
                }
            }
        };
        out.push(Key { key, tok: i });
    }
    out
}

/// Pairs of differing key positions `(example keys, question keys)`, between matched anchors.
fn align(e: &[Key], q: &[Key]) -> (usize, Vec<(Vec<usize>, Vec<usize>)>) {
    let (n, m) = (e.len(), q.len());
    let mut l = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if e[i].key == q[j].key {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let mut anchors = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if e[i].key == q[j].key {
            anchors.push((i, j));
            i += 1;
            j += 1;
        } else if l[i][j + 1] >= l[i + 1][j] {
            j += 1;
        } else {
            i += 1;
        }
    }
    let mut e_free: Vec<bool> = vec![true; n];
    let mut q_free: Vec<bool> = vec![true; m];
    for &(i, j) in &anchors {
        e_free[i] = false;
        q_free[j] = false;
    }
    // a key that only moved is matched too
    for i in 0..n {
        if !e_free[i] {
            continue;
        }
        if let Some(j) = (0..m).find(|&j| q_free[j] && q[j].key == e[i].key) {
            e_free[i] = false;
            q_free[j] = false;
        }
    }
    let mut out = Vec::new();
    let (mut pi, mut pj) = (0, 0);
    for &(ai, aj) in anchors.iter().chain(std::iter::once(&(n, m))) {
        let es: Vec<usize> = (pi..ai).filter(|&x| e_free[x]).collect();
        let qs: Vec<usize> = (pj..aj).filter(|&x| q_free[x]).collect();
        if !es.is_empty() || !qs.is_empty() {
            out.push((es, qs));
        }
        pi = ai + 1;
        pj = aj + 1;
    }
    (e_free.iter().filter(|f| !**f).count(), out)
}

/// A question with its analysis and linking.
struct Side<'a> {
    a: &'a Analysis,
    links: &'a Linking,
    keys: Vec<Key>,
}

impl Side<'_> {
    /// The text of the tokens of `ks` (key positions), from the first to the last, as written.
    fn text(&self, ks: &[usize]) -> String {
        let (Some(f), Some(l)) = (ks.first(), ks.last()) else {
            return String::new();
        };
        let (tf, tl) = (
            &self.a.tokens[self.keys[*f].tok],
            &self.a.tokens[self.keys[*l].tok],
        );
        if f == l && tf.kind == TokenKind::Quoted {
            return tf.text.clone();
        }
        self.a.text[tf.start..tl.end]
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string()
    }

    /// The best link targets of the spans covering the tokens of `ks`, in order, without
    /// repeats; `None` when a token is not covered.
    fn targets(&self, ks: &[usize]) -> Option<Vec<Target>> {
        let mut out: Vec<Target> = Vec::new();
        for &k in ks {
            let sp = self.links.span_at(self.keys[k].tok)?;
            let t = sp.best().target.clone();
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Some(out)
    }

    fn number(&self, k: usize) -> Option<(f64, String)> {
        let tok = self.keys[k].tok;
        self.a
            .numbers
            .iter()
            .find(|n| n.token == tok)
            .map(|n| (n.value, n.text.replace(',', "")))
    }
}

/// The example's SQL as a tree, with what an edit needs to know about it.
struct Tree<'s> {
    stmt: Statement,
    schema: &'s Schema,
    /// Tables of the query (every level), lower case.
    tables: Vec<String>,
    /// alias (lower case) -> table name (lower case).
    aliases: HashMap<String, String>,
}

fn object_last(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.to_lowercase(),
        _ => String::new(),
    }
}

fn trim_like(s: &str) -> &str {
    s.trim_matches('%')
}

fn is_column_name(schema: &Schema, name: &str) -> bool {
    schema
        .tables
        .iter()
        .any(|t| t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(name)))
}

/// A string literal of the tree: a quoted value, or a double-quoted "identifier" that names no
/// column (SQLite reads those as strings).
fn string_of<'e>(schema: &Schema, e: &'e Expr) -> Option<&'e str> {
    match e {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s) | Value::DoubleQuotedString(s),
            ..
        }) => Some(s),
        Expr::Identifier(Ident {
            value,
            quote_style: Some('"'),
            ..
        }) if !is_column_name(schema, value) => Some(value),
        _ => None,
    }
}

fn string_expr(s: String) -> Expr {
    Expr::Value(ValueWithSpan::from(Value::SingleQuotedString(s)))
}

impl<'s> Tree<'s> {
    fn parse(sql: &str, schema: &'s Schema) -> Option<Tree<'s>> {
        let mut stmts = Parser::parse_sql(&SQLiteDialect {}, sql).ok()?;
        if stmts.len() != 1 {
            return None;
        }
        let stmt = stmts.remove(0);
        if !matches!(stmt, Statement::Query(_)) {
            return None;
        }
        struct Collect {
            tables: Vec<String>,
            aliases: HashMap<String, String>,
        }
        impl Visitor for Collect {
            type Break = ();
            fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
                if let TableFactor::Table { name, alias, .. } = tf {
                    let t = object_last(name);
                    if let Some(a) = alias {
                        self.aliases.insert(a.name.value.to_lowercase(), t.clone());
                    }
                    self.aliases.insert(t.clone(), t.clone());
                    if !self.tables.contains(&t) {
                        self.tables.push(t);
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut c = Collect {
            tables: Vec::new(),
            aliases: HashMap::new(),
        };
        let _ = Visit::visit(&stmt, &mut c);
        Some(Tree {
            stmt,
            schema,
            tables: c.tables,
            aliases: c.aliases,
        })
    }

    fn strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let schema = self.schema;
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            if let Some(s) = string_of(schema, e) {
                out.push(s.to_string());
            }
            ControlFlow::<()>::Continue(())
        });
        out
    }

    fn numbers(&self) -> Vec<f64> {
        let mut out = Vec::new();
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            if let Expr::Value(ValueWithSpan {
                value: Value::Number(n, _),
                ..
            }) = e
            {
                if let Ok(v) = n.parse::<f64>() {
                    out.push(v);
                }
            }
            ControlFlow::<()>::Continue(())
        });
        out
    }

    /// The string literal of the tree that `text` names (case and punctuation aside; `%` of a
    /// LIKE pattern aside).
    fn string_named(&self, text: &str) -> Option<String> {
        let n = normalize(text);
        if n.is_empty() {
            return None;
        }
        self.strings()
            .into_iter()
            .find(|s| normalize(trim_like(s)) == n)
    }

    fn table_name(&self, t: usize) -> String {
        self.schema.tables[t].name.to_lowercase()
    }

    fn uses_table(&self, t: usize) -> bool {
        self.tables.contains(&self.table_name(t))
    }

    fn col_name(&self, c: ColRef) -> &str {
        &self.schema.tables[c.table].columns[c.column].name
    }

    /// True when column `c` is referenced in the tree.
    fn uses_column(&self, c: ColRef) -> bool {
        let name = self.col_name(c).to_lowercase();
        let table = self.table_name(c.table);
        let mut found = false;
        let aliases = &self.aliases;
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            match e {
                Expr::Identifier(i) if i.value.to_lowercase() == name => found = true,
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    let q = parts[parts.len() - 2].value.to_lowercase();
                    if parts[parts.len() - 1].value.to_lowercase() == name
                        && aliases.get(&q).is_some_and(|t| *t == table)
                    {
                        found = true;
                    }
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        found
    }

    fn replace_strings(&mut self, old: &str, new: &str) -> bool {
        let n = normalize(old);
        let schema = self.schema;
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Some(s) = string_of(schema, e) {
                if normalize(trim_like(s)) == n {
                    let pre = if s.starts_with('%') { "%" } else { "" };
                    let post = if s.len() > 1 && s.ends_with('%') {
                        "%"
                    } else {
                        ""
                    };
                    *e = string_expr(format!("{pre}{new}{post}"));
                    done = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    fn replace_numbers(&mut self, old: f64, new: &str) -> bool {
        let mut done = false;
        let schema = self.schema;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            match e {
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) if n.parse::<f64>().ok() == Some(old) => {
                    *n = new.to_string();
                    done = true;
                }
                _ => {
                    if let Some(s) = string_of(schema, e) {
                        if s.parse::<f64>().ok() == Some(old) {
                            *e = string_expr(new.to_string());
                            done = true;
                        }
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    /// Moves every date literal of year `old` (and the bounds of its range) by `new - old` years.
    fn shift_years(&mut self, old: i64, new: i64) -> bool {
        let delta = new - old;
        let schema = self.schema;
        // the year itself and the next one (an exclusive upper bound of a year's range)
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            let shifted = |y: i64| y == old || y == old + 1;
            match e {
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) => {
                    if let Ok(y) = n.parse::<i64>() {
                        if y == old {
                            *n = (y + delta).to_string();
                            done = true;
                        }
                    }
                }
                _ => {
                    if let Some(s) = string_of(schema, e) {
                        let b = s.as_bytes();
                        if b.len() >= 4
                            && b[..4].iter().all(u8::is_ascii_digit)
                            && (b.len() == 4 || b[4] == b'-')
                        {
                            let y: i64 = s[..4].parse().unwrap_or(0);
                            if shifted(y) {
                                *e = string_expr(format!("{}{}", y + delta, &s[4..]));
                                done = true;
                            }
                        }
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    fn replace_grain(&mut self, new_format: &str) -> Option<String> {
        let mut old = None;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(s),
                ..
            }) = e
            {
                if s.starts_with("%Y") && GRAINS.iter().any(|(_, f)| f == s) {
                    old = Some(s.clone());
                    *s = new_format.to_string();
                }
            }
            ControlFlow::<()>::Continue(())
        });
        old
    }

    fn flip_direction(&mut self) -> bool {
        struct Flip(bool);
        impl VisitorMut for Flip {
            type Break = ();
            fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
                if let Some(ob) = q.order_by.as_mut() {
                    if let sqlparser::ast::OrderByKind::Expressions(list) = &mut ob.kind {
                        for o in list {
                            o.options.asc = Some(o.options.asc == Some(false));
                            self.0 = true;
                        }
                    }
                }
                ControlFlow::Continue(())
            }
            fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
                if let Expr::Function(f) = e {
                    if let Some(ObjectNamePart::Identifier(i)) = f.name.0.last_mut() {
                        let l = i.value.to_lowercase();
                        if l == "max" || l == "min" {
                            let upper = i.value.chars().all(|c| c.is_uppercase());
                            let new = if l == "max" { "min" } else { "max" };
                            i.value = if upper {
                                new.to_uppercase()
                            } else {
                                new.into()
                            };
                            self.0 = true;
                        }
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut f = Flip(false);
        let _ = VisitMut::visit(&mut self.stmt, &mut f);
        f.0
    }

    /// Swaps column `old` for `new`; `new`'s table must be in the query.
    fn replace_column(&mut self, old: ColRef, new: ColRef) -> bool {
        if !self.uses_table(new.table) || !self.uses_column(old) {
            return false;
        }
        let old_name = self.col_name(old).to_lowercase();
        let new_name = self.col_name(new).to_string();
        let old_table = self.table_name(old.table);
        let new_table = self.table_name(new.table);
        let new_alias = self
            .aliases
            .iter()
            .filter(|(a, t)| **t == new_table && **a != new_table)
            .map(|(a, _)| a.clone())
            .min()
            .unwrap_or(new_table.clone());
        let aliases = self.aliases.clone();
        let mut done = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            match e {
                Expr::Identifier(i) if i.value.to_lowercase() == old_name => {
                    i.value = new_name.clone();
                    done = true;
                }
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    let k = parts.len();
                    let q = parts[k - 2].value.to_lowercase();
                    if parts[k - 1].value.to_lowercase() == old_name
                        && aliases.get(&q).is_some_and(|t| *t == old_table)
                    {
                        parts[k - 1].value = new_name.clone();
                        if old_table != new_table {
                            parts[k - 2] = Ident::new(new_alias.clone());
                        }
                        done = true;
                    }
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        done
    }

    /// Swaps table `old` for `new` when every column the query reads of `old` exists in `new`.
    fn replace_table(&mut self, old: usize, new: usize) -> bool {
        if !self.uses_table(old) || self.uses_table(new) {
            return false;
        }
        let old_name = self.table_name(old);
        let new_t = &self.schema.tables[new];
        let has = |c: &str| new_t.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c));
        // every column name the query reads that belongs to the old table must exist in the new
        let old_cols: HashSet<String> = self.schema.tables[old]
            .columns
            .iter()
            .map(|c| c.name.to_lowercase())
            .collect();
        let mut ok = true;
        let _ = sqlparser::ast::visit_expressions(&self.stmt, |e: &Expr| {
            let name = match e {
                Expr::Identifier(i) => Some(i.value.to_lowercase()),
                Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.to_lowercase()),
                _ => None,
            };
            if let Some(n) = name {
                if old_cols.contains(&n) && !has(&n) {
                    ok = false;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        if !ok {
            return false;
        }
        let new_name = new_t.name.clone();
        let _ = sqlparser::ast::visit_relations_mut(&mut self.stmt, |n: &mut ObjectName| {
            if object_last(n) == old_name {
                *n = ObjectName::from(vec![Ident::new(new_name.clone())]);
            }
            ControlFlow::<()>::Continue(())
        });
        let _ = sqlparser::ast::visit_expressions_mut(&mut self.stmt, |e: &mut Expr| {
            if let Expr::CompoundIdentifier(p) = e {
                let k = p.len();
                if k >= 2 && p[k - 2].value.to_lowercase() == old_name {
                    p[k - 2] = Ident::new(new_name.clone());
                }
            }
            ControlFlow::<()>::Continue(())
        });
        self.aliases = self
            .aliases
            .drain()
            .map(|(a, t)| {
                if t == old_name {
                    (
                        if a == old_name {
                            new_name.to_lowercase()
                        } else {
                            a
                        },
                        new_name.to_lowercase(),
                    )
                } else {
                    (a, t)
                }
            })
            .collect();
        for t in self.tables.iter_mut() {
            if *t == old_name {
                *t = new_name.to_lowercase();
            }
        }
        true
    }

    /// Drops the conjunct of a WHERE that holds the string literal `value`.
    fn drop_filter(&mut self, value: &str) -> bool {
        let n = normalize(value);
        let schema = self.schema;
        let holds = |e: &Expr| {
            let mut found = false;
            let _ = sqlparser::ast::visit_expressions(e, |x: &Expr| {
                if string_of(schema, x).is_some_and(|s| normalize(trim_like(s)) == n) {
                    found = true;
                }
                ControlFlow::<()>::Continue(())
            });
            found
        };
        fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
            match e {
                Expr::BinaryOp {
                    left,
                    op: BinaryOperator::And,
                    right,
                } => {
                    conjuncts(*left, out);
                    conjuncts(*right, out);
                }
                Expr::Nested(inner)
                    if matches!(
                        *inner,
                        Expr::BinaryOp {
                            op: BinaryOperator::And,
                            ..
                        }
                    ) =>
                {
                    conjuncts(*inner, out)
                }
                other => out.push(other),
            }
        }
        let mut done = false;
        let Statement::Query(q) = &mut self.stmt else {
            return false;
        };
        let mut bodies: Vec<&mut SetExpr> = vec![q.body.as_mut()];
        while let Some(b) = bodies.pop() {
            match b {
                SetExpr::Select(s) => {
                    if let Some(w) = s.selection.take() {
                        let mut parts = Vec::new();
                        conjuncts(w, &mut parts);
                        let before = parts.len();
                        parts.retain(|p| !holds(p));
                        done |= parts.len() < before;
                        s.selection = parts.into_iter().reduce(|a, b| Expr::BinaryOp {
                            left: Box::new(a),
                            op: BinaryOperator::And,
                            right: Box::new(b),
                        });
                    }
                }
                SetExpr::SetOperation { left, right, .. } => {
                    bodies.push(left.as_mut());
                    bodies.push(right.as_mut());
                }
                SetExpr::Query(inner) => bodies.push(inner.body.as_mut()),
                _ => {}
            }
        }
        done
    }

    /// Adds `col = 'value'` to the outer query's WHERE (the column's table must be read there).
    fn add_filter(&mut self, col: ColRef, value: &str) -> bool {
        let table = self.table_name(col.table);
        let col_name = self.col_name(col).to_string();
        let alias = self
            .aliases
            .iter()
            .filter(|(a, t)| **t == table && **a != table)
            .map(|(a, _)| a.clone())
            .min();
        let Statement::Query(q) = &mut self.stmt else {
            return false;
        };
        let SetExpr::Select(s) = q.body.as_mut() else {
            return false;
        };
        let reads = s.from.iter().any(|f| {
            std::iter::once(&f.relation)
                .chain(f.joins.iter().map(|j| &j.relation))
                .any(|r| matches!(r, TableFactor::Table { name, .. } if object_last(name) == table))
        });
        if !reads {
            return false;
        }
        let multi = s.from.len() > 1 || s.from.iter().any(|f| !f.joins.is_empty());
        let left = match (multi, alias) {
            (true, Some(a)) => Expr::CompoundIdentifier(vec![Ident::new(a), Ident::new(col_name)]),
            (true, None) => Expr::CompoundIdentifier(vec![Ident::new(table), Ident::new(col_name)]),
            (false, _) => Expr::Identifier(Ident::new(col_name)),
        };
        let cond = Expr::BinaryOp {
            left: Box::new(left),
            op: BinaryOperator::Eq,
            right: Box::new(string_expr(value.to_string())),
        };
        s.selection = Some(match s.selection.take() {
            Some(w) => Expr::BinaryOp {
                left: Box::new(w),
                op: BinaryOperator::And,
                right: Box::new(cond),
            },
            None => cond,
        });
        true
    }
}

/// The stored spelling of the value the question's tokens of `ks` link to, with its column.
fn linked_value(side: &Side, ks: &[usize]) -> Option<(ColRef, String)> {
    let targets = side.targets(ks)?;
    match targets.as_slice() {
        [Target::Value { col, value, .. }] => Some((*col, value.clone())),
        _ => None,
    }
}

/// The one column or table the tokens of `ks` link to.
fn linked_schema_item(side: &Side, ks: &[usize]) -> Option<Target> {
    let targets = side.targets(ks)?;
    let items: Vec<&Target> = targets
        .iter()
        .filter(|t| !matches!(t, Target::Value { .. }))
        .collect();
    match items.as_slice() {
        [t] if targets.len() == 1 => Some((*t).clone()),
        _ => None,
    }
}

fn all_keys(side: &Side, ks: &[usize], set: &[&str]) -> bool {
    !ks.is_empty() && ks.iter().all(|&k| set.contains(&side.keys[k].key.as_str()))
}

/// Explains one differing stretch pair by edits of `tree`; `None` when it cannot.
fn explain(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
    values: &ValueIndex,
) -> Option<Vec<Edit>> {
    // the same meaning in other words: both sides link to the same tables and columns
    if !es.is_empty() && !qs.is_empty() {
        if let (Some(te), Some(tq)) = (ex.targets(es), q.targets(qs)) {
            if te == tq && !te.iter().any(|t| matches!(t, Target::Value { .. })) {
                return Some(Vec::new());
            }
        }
    }
    let explained = explain_edits(tree, ex, q, es, qs, values);
    if explained.is_some() {
        return explained;
    }
    // words that name nothing on either side: another wording of the same question
    (generic(ex, es) && generic(q, qs)).then(|| {
        vec![Edit::Reworded {
            old: ex.text(es),
            new: q.text(qs),
        }]
    })
}

fn explain_edits(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
    values: &ValueIndex,
) -> Option<Vec<Edit>> {
    match (es.is_empty(), qs.is_empty()) {
        (false, false) => {
            if let Some(e) = substitute(tree, ex, q, es, qs, values) {
                return Some(e);
            }
            // stretches of equal length: word for word
            if es.len() == qs.len() && es.len() > 1 {
                let mut edits = Vec::new();
                for (e1, q1) in es.iter().zip(qs) {
                    edits.extend(explain(tree, ex, q, &[*e1], &[*q1], values)?);
                }
                return Some(edits);
            }
            None
        }
        (false, true) => {
            // the example names a value the question does not: drop its filter
            let text = ex.text(es);
            let lit = tree
                .string_named(&text)
                .or_else(|| linked_value(ex, es).and_then(|(_, v)| tree.string_named(&v)))?;
            tree.drop_filter(&lit)
                .then(|| vec![Edit::DropFilter { value: lit }])
        }
        (true, false) => {
            // the question names a stored value the example does not: add a filter
            let (col, value) = linked_value(q, qs)?;
            tree.add_filter(col, &value).then(|| {
                vec![Edit::AddFilter {
                    column: format!(
                        "{}.{}",
                        tree.schema.tables[col.table].name,
                        tree.schema.tables[col.table].columns[col.column].name
                    ),
                    value,
                }]
            })
        }
        (true, true) => Some(Vec::new()),
    }
}

fn substitute(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
    values: &ValueIndex,
) -> Option<Vec<Edit>> {
    // a number
    if es.len() == 1 && qs.len() == 1 {
        if let (Some((ev, et)), Some((qv, qt))) = (ex.number(es[0]), q.number(qs[0])) {
            let year = |v: f64| v.fract() == 0.0 && (1800.0..=2100.0).contains(&v);
            if year(ev) && year(qv) && tree.shift_years(ev as i64, qv as i64) {
                return Some(vec![Edit::Year {
                    old: ev as i64,
                    new: qv as i64,
                }]);
            }
            if !tree.numbers().contains(&ev) && tree.string_named(&et).is_none() {
                return None;
            }
            let new = if qv.fract() == 0.0 {
                format!("{}", qv as i64)
            } else {
                qt.clone()
            };
            return tree
                .replace_numbers(ev, &new)
                .then(|| vec![Edit::Number { old: et, new }]);
        }
    }
    // a value
    let etext = ex.text(es);
    if let Some(lit) = tree
        .string_named(&etext)
        .or_else(|| linked_value(ex, es).and_then(|(_, v)| tree.string_named(&v)))
    {
        let new = match linked_value(q, qs) {
            Some((_, v)) => v,
            None => {
                let raw = q.text(qs);
                values
                    .lookup(&raw)
                    .into_iter()
                    .find(|m| m.exact || m.score >= 0.95)
                    .map(|m| m.value)
                    .unwrap_or(raw)
            }
        };
        if new.is_empty() {
            return None;
        }
        if normalize(&new) == normalize(trim_like(&lit)) {
            // the same value, written another way (quoted in one question only)
            return Some(Vec::new());
        }
        return tree.replace_strings(&lit, &new).then(|| {
            vec![Edit::Value {
                old: trim_like(&lit).to_string(),
                new,
            }]
        });
    }
    // most / least
    let flip = (all_keys(ex, es, &["#most"]) && all_keys(q, qs, &["#least"]))
        || (all_keys(ex, es, &["#least"]) && all_keys(q, qs, &["#most"]));
    if flip {
        let (old, new) = (ex.text(es), q.text(qs));
        return tree
            .flip_direction()
            .then_some(vec![Edit::Direction { old, new }]);
    }
    // a period grain
    if es.len() == 1 && qs.len() == 1 {
        let ew = &ex.a.tokens[ex.keys[es[0]].tok].lower;
        let qw = &q.a.tokens[q.keys[qs[0]].tok].lower;
        if let (Some(ef), Some(qf)) = (grain_format(ew), grain_format(qw)) {
            if ef == qf {
                return Some(Vec::new());
            }
            return tree.replace_grain(qf).map(|_| {
                vec![Edit::Grain {
                    old: ew.clone(),
                    new: qw.clone(),
                }]
            });
        }
    }
    // a column or a table
    match (linked_schema_item(ex, es)?, linked_schema_item(q, qs)?) {
        (Target::Column { col: a }, Target::Column { col: b }) if a != b => {
            let names = (
                format!("{}.{}", tree.schema.tables[a.table].name, tree.col_name(a)),
                format!("{}.{}", tree.schema.tables[b.table].name, tree.col_name(b)),
            );
            tree.replace_column(a, b).then(|| {
                vec![Edit::Column {
                    old: names.0,
                    new: names.1,
                }]
            })
        }
        (Target::Table { table: a }, Target::Table { table: b }) if a != b => {
            let names = (
                tree.schema.tables[a].name.clone(),
                tree.schema.tables[b].name.clone(),
            );
            tree.replace_table(a, b).then(|| {
                vec![Edit::Table {
                    old: names.0,
                    new: names.1,
                }]
            })
        }
        _ => None,
    }
}

/// Tries to adapt one example to the question: the edited SQL and its edits, or `None` when a
/// difference between the questions has no edit that explains it.
pub fn adapt_one(
    question: (&Analysis, &Linking),
    example: (&Example, &Analysis, &Linking),
    schema: &Schema,
    values: &ValueIndex,
) -> Option<(String, Vec<Edit>)> {
    let q = Side {
        a: question.0,
        links: question.1,
        keys: keys(question.0),
    };
    let ex = Side {
        a: example.1,
        links: example.2,
        keys: keys(example.1),
    };
    if q.keys.is_empty() || ex.keys.is_empty() {
        return None;
    }
    let (matched, stretches) = align(&ex.keys, &q.keys);
    if stretches.is_empty() {
        return Some((example.0.sql.clone(), Vec::new()));
    }
    if matched == 0 {
        return None;
    }
    let mut tree = Tree::parse(&example.0.sql, schema)?;
    let mut edits = Vec::new();
    for (es, qs) in &stretches {
        edits.extend(explain(&mut tree, &ex, &q, es, qs, values)?);
    }
    // structural edits need as many of the example's words kept
    let structural = edits
        .iter()
        .filter(|e| {
            matches!(
                e,
                Edit::Column { .. }
                    | Edit::Table { .. }
                    | Edit::DropFilter { .. }
                    | Edit::AddFilter { .. }
            )
        })
        .count();
    let reworded = edits
        .iter()
        .filter(|e| matches!(e, Edit::Reworded { .. }))
        .count();
    if structural > matched || reworded > matched.div_ceil(2) {
        return None;
    }
    if edits.iter().all(|e| matches!(e, Edit::Reworded { .. })) {
        return Some((example.0.sql.clone(), edits));
    }
    if edits.is_empty() {
        return Some((example.0.sql.clone(), edits));
    }
    Some((tree.stmt.to_string(), edits))
}

/// Adapts the retrieved examples (best retrieval score first) to the question: every example
/// whose differences from the question are all explained by edits, fewest edits first.
pub fn adapt(
    analysis: &Analysis,
    links: &Linking,
    examples: &[(Example, f32)],
    schema: &Schema,
    lex: &Lexicon,
    values: &ValueIndex,
) -> Vec<Adapted> {
    let mut sorted: Vec<&(Example, f32)> = examples.iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let no_scores = HashMap::new();
    let mut out: Vec<Adapted> = Vec::new();
    for (ex, sim) in sorted.into_iter().take(TRIED) {
        let Ok(parsed) = Question::parse(&ex.question) else {
            continue;
        };
        let ea = analyze(&parsed);
        let el = linking::link(&ea, schema, lex, values, &no_scores);
        let Some((sql, edits)) = adapt_one((analysis, links), (ex, &ea, &el), schema, values)
        else {
            continue;
        };
        if out.iter().any(|o| o.sql == sql) {
            continue;
        }
        let confidence = edits.iter().fold(EXACT_CONFIDENCE, |c, e| c * e.keep());
        out.push(Adapted {
            sql,
            question: ex.question.clone(),
            similarity: *sim,
            edits,
            confidence,
        });
    }
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.similarity.total_cmp(&a.similarity))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::introspect;
    use crate::warehouse::{SqliteWarehouse, Warehouse};

    const DDL: &str = "
    CREATE TABLE categories (category_id INTEGER PRIMARY KEY, category_name TEXT NOT NULL);
    CREATE TABLE items (item_id INTEGER PRIMARY KEY, item_name TEXT NOT NULL,
        category_id INTEGER REFERENCES categories(category_id), price REAL, weight REAL,
        brand TEXT);
    CREATE TABLE sales (sale_id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items(item_id),
        sale_date TEXT, revenue REAL);
    CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);
    INSERT INTO categories VALUES (1, 'Frozen Food'), (2, 'Dairy'), (3, 'Bakery');
    INSERT INTO items VALUES (1, 'Ice Cream', 1, 4.5, 0.5, 'Polar'), (2, 'Peas', 1, 2.0, 1.0, 'Green'),
        (3, 'Milk', 2, 1.2, 1.0, 'Polar'), (4, 'Cheese', 2, 6.0, 0.3, 'Alp'), (5, 'Bread', 3, 2.5, 0.8, 'Green');
    INSERT INTO sales VALUES (1, 1, '2023-03-01', 10), (2, 3, '2023-07-12', 4), (3, 4, '2024-01-20', 12),
        (4, 5, '2024-05-05', 3), (5, 2, '2024-05-06', 7);
    INSERT INTO singer VALUES (1, 'Ann', 'France', 30), (2, 'Bob', 'Spain', 41), (3, 'Cid', 'France', 25);
    ";

    struct Fx {
        _dir: tempfile::TempDir,
        conn: rusqlite::Connection,
        schema: Schema,
        values: ValueIndex,
        lex: Lexicon,
    }

    fn fx() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.sqlite");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(DDL)
            .unwrap();
        let wh = SqliteWarehouse::open(&path).unwrap();
        let schema = wh.introspect().unwrap();
        let values = ValueIndex::build(&wh, &schema).unwrap();
        let lex = Lexicon::build(&schema, &introspect::table_docs(&schema));
        let conn = rusqlite::Connection::open(&path).unwrap();
        Fx {
            _dir: dir,
            conn,
            schema,
            values,
            lex,
        }
    }

    fn adapt_to(f: &Fx, question: &str, ex_q: &str, ex_sql: &str) -> Vec<Adapted> {
        let a = analyze(&Question::parse(question).unwrap());
        let links = linking::link(&a, &f.schema, &f.lex, &f.values, &HashMap::new());
        let ex = Example {
            question: ex_q.into(),
            sql: ex_sql.into(),
            source: String::new(),
        };
        adapt(&a, &links, &[(ex, 0.5)], &f.schema, &f.lex, &f.values)
    }

    fn rows(f: &Fx, sql: &str) -> Vec<String> {
        let mut st = f.conn.prepare(sql).unwrap();
        let n = st.column_count();
        let mut out: Vec<String> = st
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| {
                        r.get_ref(i)
                            .map(|v| match v {
                                rusqlite::types::ValueRef::Text(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                                rusqlite::types::ValueRef::Real(x) => format!("{x:.2}"),
                                _ => "NULL".into(),
                            })
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_rewording_reuses_the_example_as_written() {
        let f = fx();
        let out = adapt_to(
            &f,
            "What's the number of singers from France?",
            "How many singers are from 'France'?",
            "SELECT count(*) FROM singer WHERE country = 'France'",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].edits.is_empty());
        assert_eq!(rows(&f, &out[0].sql), vec!["2"]);
    }

    #[test]
    fn a_double_quoted_value_is_swapped_for_the_questions_value() {
        let f = fx();
        let out = adapt_to(
            &f,
            "How many singers are from Spain?",
            "How many singers are from France?",
            "SELECT count(*) FROM singer WHERE country = \"France\"",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            out[0].edits,
            vec![Edit::Value {
                old: "France".into(),
                new: "Spain".into()
            }]
        );
        assert_eq!(rows(&f, &out[0].sql), vec!["1"]);
    }

    #[test]
    fn numbers_and_the_direction_are_edited_in_the_tree() {
        let f = fx();
        let out = adapt_to(
            &f,
            "the 2 cheapest items in 'Dairy'",
            "the 3 most expensive items in 'Frozen Food'",
            "SELECT i.item_name FROM items AS i JOIN categories AS c ON i.category_id = c.category_id \
             WHERE c.category_name = 'Frozen Food' ORDER BY i.price DESC LIMIT 3",
        );
        // "most expensive" vs "cheapest" is not one superlative against another: not adapted
        assert!(out.is_empty(), "{out:?}");
        let out = adapt_to(
            &f,
            "the 1 items with the lowest price in 'Dairy'",
            "the 3 items with the highest price in 'Frozen Food'",
            "SELECT i.item_name FROM items AS i JOIN categories AS c ON i.category_id = c.category_id \
             WHERE c.category_name = 'Frozen Food' ORDER BY i.price DESC LIMIT 3",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(rows(&f, &out[0].sql), vec!["Milk"]);
        assert_eq!(out[0].edits.len(), 3, "{:?}", out[0].edits);
    }

    #[test]
    fn a_column_the_question_names_replaces_the_examples_column() {
        let f = fx();
        let out = adapt_to(
            &f,
            "What is the average weight of items?",
            "What is the average price of items?",
            "SELECT avg(price) FROM items",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            out[0].edits,
            vec![Edit::Column {
                old: "items.price".into(),
                new: "items.weight".into()
            }]
        );
        assert_eq!(rows(&f, &out[0].sql), vec!["0.72"]);
    }

    #[test]
    fn a_filter_is_dropped_or_added_with_the_value_the_question_names() {
        let f = fx();
        let out = adapt_to(
            &f,
            "How many singers are there?",
            "How many singers are from France?",
            "SELECT count(*) FROM singer WHERE country = 'France'",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(rows(&f, &out[0].sql), vec!["3"]);
        let out = adapt_to(
            &f,
            "average price of Polar items",
            "average price of items",
            "SELECT avg(price) FROM items",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            matches!(&out[0].edits[..], [Edit::AddFilter { value, .. }] if value == "Polar"),
            "{:?}",
            out[0].edits
        );
        assert_eq!(rows(&f, &out[0].sql), vec!["2.85"]);
    }

    #[test]
    fn a_year_and_a_grain_are_moved() {
        let f = fx();
        let out = adapt_to(
            &f,
            "revenue per month in 2024",
            "revenue per year in 2023",
            "SELECT strftime('%Y', sale_date) AS period, sum(revenue) FROM sales \
             WHERE sale_date >= '2023-01-01' AND sale_date < '2024-01-01' GROUP BY period",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            rows(&f, &out[0].sql),
            vec!["2024-01|12.00", "2024-05|10.00"]
        );
    }

    #[test]
    fn an_unexplained_difference_leaves_the_example_alone() {
        let f = fx();
        let out = adapt_to(
            &f,
            "Which brands sell bread?",
            "How many singers are from France?",
            "SELECT count(*) FROM singer WHERE country = 'France'",
        );
        assert!(out.is_empty(), "{out:?}");
    }
}
