//! Examples read the same way: a curated example whose question the pattern engine reads into
//! the same query as the asked question answers it with its own SQL.
//!
//! Alignment ([`super::align`]) compares the words of two questions; it fails on paraphrases
//! that share few words ("How many singers are there?" / "What is the total number of
//! singers?"). This room compares what the engine makes of them instead: both questions are
//! linked and read into a frame with the same schema, lexicon and rules (no retrieval scores,
//! so the asked question's retrieval does not tip its links), and the frame's SQL is rendered.
//! When the two renderings are the same query but for their literals, and every table and
//! column the asked question links to is linked by the example's question too (the example may
//! name more: its curator's SQL may use them), the engine cannot tell the two apart, and what
//! the curator wrote for the example is what that reading means in this domain: the example's
//! SQL answers, with the literals that differ (values, numbers) swapped in its tree. A literal
//! the example's SQL does not contain cannot be swapped, and the example is left alone.
//!
//! The engine's reading may be wrong for both questions (that is when this helps most). The
//! guards against reading two different questions as one: the asked question names nothing the
//! example's does not, and the two agree on what a frame may leave unread: the words of logic
//! (negation, "or": [`lexicon::LOGIC_WORDS`]), the periods named, the grains asked for and the
//! numbers its SQL does not write.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::Mutex;

use sqlparser::ast::{Expr, Value, ValueWithSpan};

use super::content::{content_of, names_rows};
use super::tree::{string_expr, string_of, Tree};
use super::{Adapted, Edit, Match};
use crate::knowledge::values::normalize;
use crate::knowledge::{BusinessRule, Example, ValueIndex};
use crate::question::tokens::stem;
use crate::question::{analyze, Analysis, Question};
use crate::sql::dialect::Dialect;
use crate::sql::pattern::joins::JoinGraph;
use crate::sql::pattern::linking::{self, Lexicon, Target};
use crate::sql::pattern::{build, frame, lexicon};
use crate::sql::refine::is_follow_up;
use crate::warehouse::Schema;

/// Confidence of an example's SQL answering a question read the same way, before the edits'
/// [`Edit::keep`]: below an example reused word for word ([`super::EXACT_CONFIDENCE`]), since
/// the engine's reading may miss a word that tells the two apart.
pub const SAME_READING_CONFIDENCE: f64 = 0.86;

/// Confidence of an example's SQL answering a question that says the same in other words
/// ([`content_of`]) though the engine reads the two into different queries: below
/// [`SAME_READING_CONFIDENCE`], since nothing but the links and operation words tells the two
/// alike.
pub const SAID_THE_SAME_CONFIDENCE: f64 = 0.8;

/// A literal of a rendered reading, in the order the SQL writes them.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Text(String),
    Number(f64),
}

/// How the pattern engine reads one question.
#[derive(Debug, Clone)]
pub struct Reading {
    /// The SQL of the reading with every literal masked.
    shape: String,
    literals: Vec<Literal>,
    /// Tables and columns the question's words link to (values by their column).
    targets: BTreeSet<(usize, Option<usize>)>,
    /// The logic classes of its words ([`lexicon::logic_class`]).
    logic: BTreeSet<&'static str>,
    /// The numbers of the question its SQL does not write (outside the periods), sorted: "the
    /// 10 longest tracks" and "the longest track" may read alike when the frame leaves the
    /// extreme unread, and are not the same question.
    unread_numbers: Vec<String>,
    /// The numbers the question states (in words or digits): a number of the reading's SQL that
    /// is not one of them came from the frame ("the most": `LIMIT 1`) and is never swapped into
    /// an example's SQL.
    stated: Vec<f64>,
    /// Its time: each period named (grain, a bare year, two endpoints), and the grains named
    /// outside them ("per year", "monthly", "quarterly").
    time: (Vec<String>, BTreeSet<String>),
    /// The operations its words ask for that a frame may leave unread: an average, an
    /// extreme's direction, an amount ("how much"), a share or a growth ("What share of revenue comes
    /// from each genre?" is not "What is revenue by genre?", however the frame reads it).
    operations: BTreeSet<String>,
    /// What the question says ([`content_of`]): two questions that say the same answer alike
    /// however the frame reads them.
    content: BTreeSet<String>,
    /// The question's text, normalized ([`normalize`]).
    text: String,
    /// Whether the question says a whole question: a word of it names a table or a column (not
    /// only values), and it reads as no follow-up of an earlier one ("only in the West zone":
    /// [`is_follow_up`]), which says only what changes.
    whole: bool,
    /// Words the frame could not map that qualify the rows right after "is" / "are" / "was" /
    /// "were" ("products are *discontinued*"), lower case.
    qualifiers: Vec<String>,
    /// The stems of every word of the question.
    stems: BTreeSet<String>,
}

/// Words that ask for a growth, a derived figure a frame does not compute (shares:
/// [`lexicon::SHARE_WORDS`]).
const GROWTH_WORDS: &[&str] = &["growth", "grew", "grow", "grown"];
/// Words that ask for a running total.
const RUNNING_WORDS: &[&str] = &["cumulative", "cumulatively", "running"];
/// Words that ask for a rank beside each row.
const RANK_WORDS: &[&str] = &["rank", "ranked", "ranking", "ranks"];

/// The operations the words of `a` ask for ([`Reading::operations`]).
fn operations_of(a: &Analysis, links: &linking::Linking) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = super::align::keys(a)
        .into_iter()
        // a word of a column's name ("maximum page size") asks for nothing
        .filter(|k| links.span_at(k.tok).is_none())
        // "priciest" and "highest price" are one direction; a count is often only implied
        // ("the most planes" / "the largest number of planes"), a comparison's operator and
        // number are in the reading's SQL already
        .map(|k| k.key.split(':').next().unwrap_or_default().to_string())
        .filter(|k| matches!(k.as_str(), "#most" | "#least" | "#avg"))
        .collect();
    for (i, t) in a.tokens.iter().enumerate() {
        let w = t.lower.as_str();
        // "how much revenue did Iron Maiden generate": an amount, never a listing of rows
        // ("List the albums by Iron Maiden"), however little of it the frame reads
        if w == "much" && i > 0 && a.tokens[i - 1].lower == "how" {
            out.insert("amount".to_string());
        } else if lexicon::SHARE_WORDS.contains(&w) && !links.column_unit_at(a, i) {
            out.insert("share".to_string());
        } else if GROWTH_WORDS.contains(&w) {
            out.insert("growth".to_string());
        } else if RUNNING_WORDS.contains(&w) {
            out.insert("running".to_string());
        } else if RANK_WORDS.contains(&w) {
            out.insert("rank".to_string());
        }
    }
    out
}

/// Readings of example questions, by question and [`Reader::fingerprint`].
#[derive(Default)]
pub struct ReadingCache(Mutex<HashMap<(String, u64), Option<Reading>>>);

/// What a reading needs besides the question: the schema and what is derived from it.
pub struct Reader<'a> {
    pub schema: &'a Schema,
    pub lexicon: &'a Lexicon,
    pub graph: &'a JoinGraph,
    pub values: &'a ValueIndex,
    pub rules: &'a [(BusinessRule, f32)],
}

impl Reader<'_> {
    /// What a reading depends on besides the question and the lexicon: the rules (names and
    /// SQL) and the size of the value index.
    fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.values.len().hash(&mut h);
        for (r, _) in self.rules {
            r.name.hash(&mut h);
            r.sql.hash(&mut h);
        }
        h.finish()
    }

    /// The engine's reading of `a`: `None` when nothing is linked or the frame builds no query.
    pub fn read(&self, a: &Analysis) -> Option<Reading> {
        let links = linking::link(a, self.schema, self.lexicon, self.values, &HashMap::new());
        let targets: BTreeSet<(usize, Option<usize>)> = links
            .spans
            .iter()
            .map(|s| match &s.best().target {
                Target::Table { table } => (*table, None),
                Target::Column { col } | Target::Value { col, .. } => (col.table, Some(col.column)),
            })
            .collect();
        if targets.is_empty() {
            return None;
        }
        let hits = frame::rule_hits(a, self.schema, self.rules, &links);
        let fr = frame::build_frame(a, self.schema, self.lexicon, &links, self.graph, &hits);
        let (query, _) = build::build_query(&fr, self.schema, self.graph).ok()?;
        let mut tree = Tree::parse(&query.render(Dialect::Sqlite), self.schema)?;
        let literals = mask_literals(&mut tree);
        let logic = a
            .tokens
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                lexicon::logic_class(&t.lower, a.tokens.get(i + 1).map(|n| n.lower.as_str()))
            })
            .collect();
        let written: Vec<f64> = literals
            .iter()
            .filter_map(|l| match l {
                Literal::Number(v) => Some(*v),
                Literal::Text(t) => t.parse().ok(),
            })
            .collect();
        let mut unread_numbers: Vec<String> = a
            .numbers
            .iter()
            .filter(|n| !in_period(a, n.token) && !written.contains(&n.value))
            .map(|n| n.value.to_string())
            .collect();
        unread_numbers.sort();
        Some(Reading {
            shape: tree.stmt.to_string(),
            unread_numbers,
            stated: a.numbers.iter().map(|n| n.value).collect(),
            literals,
            targets,
            logic,
            time: time_of(a),
            operations: operations_of(a, &links),
            content: content_of(a, &links, self.schema),
            text: normalize(&a.text),
            qualifiers: unmapped_qualifiers(a, &fr.unmapped),
            stems: a.tokens.iter().map(|t| t.stem.clone()).collect(),
            whole: !is_follow_up(a)
                && links
                    .spans
                    .iter()
                    .any(|s| !matches!(s.best().target, Target::Value { .. })),
        })
    }
}

/// Whether token `i` is a word of a period the question names.
fn in_period(a: &Analysis, i: usize) -> bool {
    a.time_ranges
        .iter()
        .any(|r| (r.tokens.0..r.tokens.1).contains(&i))
}

/// The periods a question names and the grains it names outside them: two questions read the
/// same only when these agree (a frame may leave "for each year" unread, and a period's literals
/// are not like for like across grains: "this quarter" is not "in 2025").
fn time_of(a: &Analysis) -> (Vec<String>, BTreeSet<String>) {
    let periods = a
        .time_ranges
        .iter()
        .map(|r| format!("{:?}/{}/{}", r.grain, r.bare_year, r.endpoints.is_some()))
        .collect();
    let grains = a
        .tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| !in_period(a, *i))
        .filter_map(|(_, t)| {
            let w = t.lower.trim_end_matches('s');
            lexicon::GRAIN_WORDS
                .iter()
                .find(|(g, _)| *g == w)
                .map(|(_, grain)| format!("{grain:?}"))
                .or_else(|| w.starts_with("quarter").then(|| "Quarter".to_string()))
        })
        .collect();
    (periods, grains)
}

/// Replaces every literal of the tree by a placeholder; the literals, in visiting order.
fn mask_literals(tree: &mut Tree) -> Vec<Literal> {
    let schema = tree.schema;
    let mut out = Vec::new();
    let _ = sqlparser::ast::visit_expressions_mut(&mut tree.stmt, |e: &mut Expr| {
        if let Some(s) = string_of(schema, e) {
            out.push(Literal::Text(s.to_string()));
            *e = string_expr("?".into());
        } else if let Expr::Value(ValueWithSpan {
            value: Value::Number(n, _),
            ..
        }) = e
        {
            if let Ok(v) = n.parse::<f64>() {
                out.push(Literal::Number(v));
                *n = "0".into();
            }
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// The examples (best retrieval score first, at most `tried`) whose question is read as `asked`
/// is, each with its SQL and the literal swaps made to it. `cache` keeps the examples' readings
/// (emptied when it holds the given number of them).
pub fn same_reading(
    reader: &Reader,
    asked: &Reading,
    examples: &[(Example, f32)],
    tried: usize,
    cache: Option<(&ReadingCache, usize)>,
) -> Vec<Adapted> {
    let mut sorted: Vec<&(Example, f32)> = examples.iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let fingerprint = reader.fingerprint();
    let mut out = Vec::new();
    for (ex, sim) in sorted.into_iter().take(tried) {
        let key = (ex.question.clone(), fingerprint);
        let cached = cache.and_then(|(c, _)| c.0.lock().ok()?.get(&key).cloned());
        let theirs = match cached {
            Some(r) => r,
            None => {
                let r = Question::parse(&ex.question)
                    .ok()
                    .and_then(|parsed| reader.read(&analyze(&parsed)));
                if let Some((c, kept)) = cache {
                    if let Ok(mut map) = c.0.lock() {
                        if map.len() >= kept {
                            map.clear();
                        }
                        map.insert(key, r.clone());
                    }
                }
                r
            }
        };
        let Some(theirs) = theirs else {
            continue;
        };
        if theirs.logic != asked.logic
            || theirs.time != asked.time
            || theirs.operations != asked.operations
            || !asked
                .qualifiers
                .iter()
                .all(|w| theirs.stems.contains(&stem(w)))
        {
            continue;
        }
        if theirs.shape != asked.shape {
            // another query, the same things said: the example's SQL as written, when it filters
            // on no value the asked question does not name
            if asked.whole
                && theirs.content == asked.content
                && (asks_a_figure(&asked.content) || !computes_a_figure(reader.schema, &ex.sql))
                && stated_alike(&theirs.stated, &asked.stated)
                && names_the_values(reader.schema, &ex.sql, asked)
            {
                out.push(Adapted::new(
                    ex,
                    *sim,
                    (ex.sql.clone(), Vec::new()),
                    SAID_THE_SAME_CONFIDENCE,
                    Match::SaidTheSame,
                ));
            }
            continue;
        }
        if !names_no_more(reader.schema, &ex.sql, &theirs.targets, &asked.targets)
            || theirs.unread_numbers != asked.unread_numbers
            || theirs.literals.len() != asked.literals.len()
        {
            continue;
        }
        // a column the example names and the question does not, which the example's SQL
        // breaks its rows down by ("sales by zone" for "total sales"): another question
        if groups_by_more(reader.schema, &ex.sql, &theirs, asked) {
            continue;
        }
        let Some((sql, edits)) = swap_literals(reader.schema, &ex.sql, &theirs, asked) else {
            continue;
        };
        out.push(Adapted::new(
            ex,
            *sim,
            (sql, edits),
            SAME_READING_CONFIDENCE,
            Match::ReadTheSame,
        ));
    }
    out
}

/// Whether what a question says ([`content_of`]) asks for any operation (a count, a sum, an
/// average, an extreme, a comparison, a breakdown, ...), not only for rows.
fn asks_a_figure(content: &BTreeSet<String>) -> bool {
    content.iter().any(|k| k.starts_with('#'))
}

/// Whether `sql` computes a figure (an aggregate or a breakdown), read from its
/// [`shape`](crate::sql::pattern::shape::shape); `true` when it does not tokenize. An
/// example's words for its figure may link to nothing in the first reading ("What is revenue
/// by genre?", revenue being a curated rule): it says more than a question that asks for none
/// ("What are the names of genres?").
fn computes_a_figure(schema: &Schema, sql: &str) -> bool {
    crate::sql::pattern::shape::shape(sql, schema).is_none_or(|s| {
        s.split(' ')
            .any(|w| matches!(w, "count" | "sum" | "avg" | "min" | "max" | "group"))
    })
}

/// True when the example's SQL groups by a column its question names and the asked question
/// does not, or by a column of a table its question names that the asked question names no
/// column of the breakdown of (or when the SQL does not parse); the column that names a table's
/// rows ([`names_rows`]) is named by the table.
pub(super) fn groups_by_more(
    schema: &Schema,
    sql: &str,
    theirs: &Reading,
    asked: &Reading,
) -> bool {
    let Some(tree) = Tree::parse(sql, schema) else {
        return true;
    };
    theirs
        .targets
        .difference(&asked.targets)
        .any(|&(table, column)| {
            let col = |column| crate::sql::pattern::linking::ColRef { table, column };
            match column {
                Some(column) => {
                    // the names of countries are what "each country" breaks down by
                    let named =
                        names_rows(schema, col(column)) && asked.targets.contains(&(table, None));
                    !named && tree.groups_by(col(column))
                }
                // "by store" where the question says "by store format": the example breaks
                // its rows down by a column of the table it names that the question does not
                None => (0..schema.tables[table].columns.len()).any(|column| {
                    !asked.targets.contains(&(table, Some(column))) && tree.groups_by(col(column))
                }),
            }
        })
}

/// The example's SQL with each literal of its reading that differs from the asked reading's
/// swapped: `None` when the example's SQL does not contain the literal to swap.
fn swap_literals(
    schema: &Schema,
    sql: &str,
    theirs: &Reading,
    asked: &Reading,
) -> Option<(String, Vec<Edit>)> {
    let pairs: Vec<(&Literal, &Literal)> = theirs
        .literals
        .iter()
        .zip(&asked.literals)
        .filter(|(t, a)| t != a)
        .collect();
    if pairs.is_empty() {
        return Some((sql.to_string(), Vec::new()));
    }
    let mut tree = Tree::parse(sql, schema)?;
    let mut edits = Vec::new();
    for (old, new) in pairs {
        if edits.iter().any(|e| same_swap(e, old, new)) {
            continue;
        }
        let edit = match (old, new) {
            (Literal::Text(o), Literal::Text(n)) => {
                if !tree.replace_strings(o, n) {
                    return None;
                }
                Edit::Value {
                    old: o.clone(),
                    new: n.clone(),
                }
            }
            // "Which artists have the most albums?" states no number: its frame's `LIMIT 1`
            // does not replace the example's "5"
            (Literal::Number(_), Literal::Number(n)) if !asked.stated.contains(n) => return None,
            (Literal::Number(o), Literal::Number(n)) => {
                let text = number_text(*n);
                if !tree.replace_numbers(*o, &text) {
                    return None;
                }
                Edit::Number {
                    old: number_text(*o),
                    new: text,
                }
            }
            _ => return None,
        };
        edits.push(edit);
    }
    Some((tree.stmt.to_string(), edits))
}

/// True when `edit` already swapped `old` for `new` (a literal the reading writes twice).
fn same_swap(edit: &Edit, old: &Literal, new: &Literal) -> bool {
    match (edit, old, new) {
        (Edit::Value { old: o, new: n }, Literal::Text(a), Literal::Text(b)) => o == a && n == b,
        (Edit::Number { old: o, new: n }, Literal::Number(a), Literal::Number(b)) => {
            *o == number_text(*a) && *n == number_text(*b)
        }
        _ => false,
    }
}

/// A number as SQL writes it: a whole number without a fraction.
pub(super) fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// Whether two questions state the same numbers (in any order).
fn stated_alike(a: &[f64], b: &[f64]) -> bool {
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    sorted(a) == sorted(b)
}

/// Whether every string literal of `sql` is named by the asked question (in its normalized text,
/// or as a stored value its words link to): an example's SQL filters on no value the asked
/// question does not name.
fn names_the_values(schema: &Schema, sql: &str, asked: &Reading) -> bool {
    let Some(mut tree) = Tree::parse(sql, schema) else {
        return false;
    };
    let text = format!(" {} ", asked.text);
    let linked: Vec<&str> = asked
        .content
        .iter()
        .filter(|c| c.starts_with('v'))
        .filter_map(|c| c.split_once('=').map(|(_, v)| v))
        .collect();
    mask_literals(&mut tree).iter().all(|l| match l {
        Literal::Text(t) => {
            let t = normalize(t.trim_matches('%'));
            !t.is_empty() && (text.contains(&format!(" {t} ")) || linked.contains(&t.as_str()))
        }
        Literal::Number(_) => true,
    })
}

/// Whether the asked question names nothing the example's question does not, but for tables and
/// columns the example's SQL reads ("What is the name of the person who is the oldest?" /
/// "Who is the oldest person?": the name is in what the example's SQL shows).
fn names_no_more(
    schema: &Schema,
    sql: &str,
    theirs: &BTreeSet<(usize, Option<usize>)>,
    asked: &BTreeSet<(usize, Option<usize>)>,
) -> bool {
    let mut more = asked.difference(theirs).peekable();
    if more.peek().is_none() {
        return true;
    }
    let Some(tree) = Tree::parse(sql, schema) else {
        return false;
    };
    more.all(|&(table, column)| match column {
        Some(column) => tree.uses_column(crate::sql::pattern::linking::ColRef { table, column }),
        None => tree.uses_table(table),
    })
}

/// The words of `a` that qualify its rows ([`crate::sql::pattern::lexicon::qualifies_rows`])
/// and are among the frame's `unmapped` words: a qualifier the engine cannot read ("How many
/// products are discontinued in each department?"), which an example read alike must say too.
fn unmapped_qualifiers(a: &Analysis, unmapped: &[String]) -> Vec<String> {
    let unmapped: Vec<String> = unmapped.iter().map(|w| w.to_lowercase()).collect();
    let words: Vec<&str> = a.tokens.iter().map(|t| t.lower.as_str()).collect();
    (0..words.len())
        .filter(|&i| crate::sql::pattern::lexicon::qualifies_rows(&words, i))
        .map(|i| words[i].to_string())
        .filter(|w| unmapped.contains(w))
        .collect()
}
