//! Alignment of an example's question with the asked one: both are cut into keys (stems, with
//! stop words and request words left out; counts, extremes, averages, sums, numbers, dates and
//! quoted strings as one key each) and aligned by their longest common subsequence, a key that
//! only moved matched too. What is left are the stretches that differ, for [`super::explain`].

use super::tree::strftime_format;
use crate::knowledge::values::normalize;
use crate::knowledge::BusinessRule;
use crate::question::tokens::is_stopword;
use crate::question::{Analysis, TokenKind};
use crate::sql::pattern::frame::{rule_hits, RuleHit};
use crate::sql::pattern::lexicon::{
    EXAMPLE_LEAST_WORDS, EXAMPLE_MOST_WORDS, GRAIN_WORDS, OPERATION_WORDS, REQUEST_WORDS,
};
use crate::sql::pattern::linking::{Linking, Target};
use crate::warehouse::Schema;

/// True when the tokens of `ks` name nothing of the schema (no link), no value, number or
/// operation: words that may differ between two wordings of the same question.
pub(super) fn generic(side: &Side, ks: &[usize]) -> bool {
    ks.iter().all(|&k| {
        let key = &side.keys[k];
        let tok = &side.a.tokens[key.tok];
        tok.kind == TokenKind::Word
            && !key.key.starts_with('#')
            && side.links.span_at(key.tok).is_none()
            && !OPERATION_WORDS.contains(&tok.lower.as_str())
            && !names_time(side, key.tok)
    })
}

/// Whether token `i` names time: a grain ("quarter", "monthly", even one the SQL dialect has no
/// format for), a month, or a word of a period the question names ("from March to June").
/// Such words change the query; they are never a mere rewording.
fn names_time(side: &Side, i: usize) -> bool {
    let lower = side.a.tokens[i].lower.as_str();
    let singular = lower.strip_suffix('s').unwrap_or(lower);
    GRAIN_WORDS
        .iter()
        .any(|(w, _)| *w == lower || *w == singular)
        // a month's full name ("may" is mostly a verb; a period with it is a time range)
        || (lower.len() > 3 && crate::question::dates::month_number(lower).is_some())
        || side
            .a
            .time_ranges
            .iter()
            .any(|r| (r.tokens.0..r.tokens.1).contains(&i))
}

/// Whether token `i` is a word of a period the question names ("this *year*", "the *last*
/// *quarter*"): its key is marked, so that it aligns only with a word of a period.
fn in_a_period(a: &Analysis, i: usize) -> bool {
    a.time_ranges
        .iter()
        .any(|r| (r.tokens.0..r.tokens.1).contains(&i))
}

/// The `strftime` format of the grain a word names ("month", "yearly", "days"), as the
/// example's SQLite SQL writes it.
pub(super) fn grain_format(lower: &str) -> Option<&'static str> {
    let singular = lower.strip_suffix('s').unwrap_or(lower);
    let grain = GRAIN_WORDS
        .iter()
        .find(|(w, _)| *w == lower || *w == singular)
        .map(|(_, g)| *g)?;
    strftime_format(grain)
}

/// The scale a superlative names of itself ("priciest": price; "longest": length), for the
/// words that carry one; `None` for the ones that take the scale from the question
/// ("highest", "most", "top").
fn superlative_scale(word: &str) -> Option<&'static str> {
    Some(match word {
        "oldest" | "youngest" => "age",
        "longest" | "shortest" => "length",
        "heaviest" | "lightest" => "weight",
        "tallest" => "height",
        "latest" | "newest" | "earliest" => "recency",
        "richest" | "poorest" => "wealth",
        "priciest" | "cheapest" => "price",
        _ => return None,
    })
}

/// The scale of an adjective that "most" / "least" make a superlative of ("most expensive").
fn adjective_scale(word: &str) -> Option<&'static str> {
    Some(match word {
        "expensive" | "costly" | "pricey" => "price",
        "recent" | "recently" => "recency",
        _ => return None,
    })
}

/// Words of a column's name that measure a superlative's scale ("the oldest age" is the
/// maximum of a column named "age"; "the longest" of a "duration" or "milliseconds").
pub(super) fn scale_measured_by(scale: &str, column: &str) -> bool {
    let words: &[&str] = match scale {
        "age" => &["age", "birth"],
        "length" => &[
            "length",
            "duration",
            "millisecond",
            "minute",
            "second",
            "time",
        ],
        "weight" => &["weight"],
        "height" => &["height"],
        "recency" => &["date", "year", "time", "day"],
        "wealth" => &["wealth", "worth", "income"],
        "price" => &["price", "cost"],
        _ => &[],
    };
    let column = column.to_lowercase();
    words.iter().any(|w| column.contains(w))
}

/// The key of an extreme: `#most` / `#least`, with the scale of a superlative that names one
/// (`#most:price`), so that "priciest" neither matches nor flips "shortest".
fn extreme_key(direction: &str, word: &str) -> String {
    match superlative_scale(word) {
        Some(scale) => format!("{direction}:{scale}"),
        None => direction.to_string(),
    }
}

/// The direction (`true`: most) and scale of an extreme's key.
pub(super) fn extreme_of(key: &str) -> Option<(bool, Option<&str>)> {
    let (direction, scale) = match key.split_once(':') {
        Some((d, s)) => (d, Some(s)),
        None => (key, None),
    };
    match direction {
        "#most" => Some((true, scale)),
        "#least" => Some((false, scale)),
        _ => None,
    }
}

/// One key of a question: what it means for the alignment, and its token.
#[derive(Debug, Clone)]
pub(super) struct Key {
    pub(super) key: String,
    pub(super) tok: usize,
}

impl Key {
    /// Whether two keys mean the same and were written as the same word ("elasticity" and
    /// "elasticity", where "elastic" shares only the stem).
    fn same_word(&self, other: &Key, e: &Analysis, q: &Analysis) -> bool {
        let word = |a: &Analysis, k: &Key| a.tokens.get(k.tok).map(|t| t.lower.clone());
        self.key == other.key && word(e, self) == word(q, other)
    }
}

/// Phrases that compare a figure with the number right after them, and the comparison's key:
/// "at least 0.9" and "no less than 0.9" are one key, as "more than 40", "over 40" and
/// "above 40" are another.
#[rustfmt::skip]
const COMPARISON_BEFORE: &[(&[&str], &str)] = &[
    (&["at", "least"], "#cmp:ge"), (&["no", "less", "than"], "#cmp:ge"),
    (&["not", "less", "than"], "#cmp:ge"), (&["a", "minimum", "of"], "#cmp:ge"),
    (&["at", "most"], "#cmp:le"), (&["no", "more", "than"], "#cmp:le"),
    (&["not", "more", "than"], "#cmp:le"), (&["up", "to"], "#cmp:le"),
    (&["a", "maximum", "of"], "#cmp:le"),
    (&["more", "than"], "#cmp:gt"), (&["greater", "than"], "#cmp:gt"),
    (&["higher", "than"], "#cmp:gt"), (&["larger", "than"], "#cmp:gt"),
    (&["bigger", "than"], "#cmp:gt"), (&["over"], "#cmp:gt"), (&["above"], "#cmp:gt"),
    (&["exceeding"], "#cmp:gt"), (&["exceeds"], "#cmp:gt"), (&["exceed"], "#cmp:gt"),
    (&["less", "than"], "#cmp:lt"), (&["fewer", "than"], "#cmp:lt"),
    (&["lower", "than"], "#cmp:lt"), (&["smaller", "than"], "#cmp:lt"),
    (&["under"], "#cmp:lt"), (&["below"], "#cmp:lt"),
];

/// Phrases that compare a figure with the number right before them ("0.97 or more").
#[rustfmt::skip]
const COMPARISON_AFTER: &[(&[&str], &str)] = &[
    (&["or", "more"], "#cmp:ge"), (&["or", "above"], "#cmp:ge"), (&["or", "higher"], "#cmp:ge"),
    (&["or", "greater"], "#cmp:ge"), (&["or", "over"], "#cmp:ge"),
    (&["or", "less"], "#cmp:le"), (&["or", "fewer"], "#cmp:le"), (&["or", "below"], "#cmp:le"),
    (&["or", "lower"], "#cmp:le"), (&["or", "under"], "#cmp:le"),
];

/// The comparisons stated around numbers: for the token of each number compared, the
/// comparison's key and the tokens of its words (read as that key, not as words).
fn comparisons(a: &Analysis) -> (Vec<(usize, &'static str)>, Vec<usize>) {
    let t = &a.tokens;
    let is_number = |i: usize| {
        t.get(i).is_some_and(|x| {
            x.kind == TokenKind::Number || a.numbers.iter().any(|n| n.token == i && n.from_word)
        })
    };
    let words_at = |i: usize, words: &[&str]| {
        words
            .iter()
            .enumerate()
            .all(|(k, w)| t.get(i + k).is_some_and(|x| x.lower == *w))
    };
    let (mut at, mut words) = (Vec::new(), Vec::new());
    for n in (0..t.len()).filter(|&i| is_number(i)) {
        // the words right before the number, a currency sign between them aside
        let mut end = n;
        while end > 0 && t[end - 1].kind == TokenKind::Punct && t[end - 1].text != "," {
            end -= 1;
        }
        // "over 2023", "up to 2024": a year after a word that also reads as time is a period
        let year = a.numbers.iter().any(|m| m.token == n && m.year_like);
        let before = COMPARISON_BEFORE.iter().find(|(ws, _)| {
            end >= ws.len()
                && words_at(end - ws.len(), ws)
                && !(year && matches!(ws[0], "over" | "under" | "up" | "above" | "below"))
        });
        let after = COMPARISON_AFTER.iter().find(|(ws, _)| words_at(n + 1, ws));
        match (before, after) {
            (Some((ws, key)), _) => {
                at.push((n, *key));
                words.extend(end - ws.len()..end);
            }
            (None, Some((ws, key))) => {
                at.push((n, *key));
                words.extend(n + 1..n + 1 + ws.len());
            }
            (None, None) => {}
        }
    }
    (at, words)
}

pub(super) fn keys(a: &Analysis) -> Vec<Key> {
    let t = &a.tokens;
    let w = |i: usize| t.get(i).map(|x| x.lower.as_str()).unwrap_or("");
    // a listing verb after a determiner is a noun ("the *return* rate", "our *display*s")
    let noun_after_determiner = |i: usize| {
        matches!(w(i), "return" | "display" | "show" | "list")
            && i > 0
            && matches!(
                w(i - 1),
                "the" | "a" | "an" | "our" | "their" | "its" | "your" | "this" | "that"
            )
    };
    // a word that asks for an ordering: "sort" / "sorted" anywhere, "ordered" / "arranged" /
    // "order" before "by", "ordered in descending order", and "order" after "in" or a direction
    // ("in descending order"); not "the products ordered in 2024" nor "each order"
    let direction = |word: &str| {
        matches!(
            word,
            "descending"
                | "ascending"
                | "alphabetical"
                | "reverse"
                | "increasing"
                | "decreasing"
                | "chronological"
                | "numerical"
        )
    };
    let sorts = |i: usize| match w(i) {
        "sort" | "sorted" | "sorting" => true,
        "ordered" | "arranged" | "order" if w(i + 1) == "by" => true,
        "ordered" | "arranged" => w(i + 1) == "in" && (direction(w(i + 2)) || w(i + 2) == "order"),
        "order" => w(i.wrapping_sub(1)) == "in" || direction(w(i.wrapping_sub(1))),
        _ => false,
    };
    let mut out: Vec<Key> = Vec::new();
    let first_word = t.iter().position(|x| x.kind == TokenKind::Word);
    let mut skip_next = false;
    let (compared, comparison_words) = comparisons(a);
    for (i, tok) in t.iter().enumerate() {
        if std::mem::take(&mut skip_next) || comparison_words.contains(&i) {
            continue;
        }
        // the comparison comes before its number, however it was written
        if let Some((_, key)) = compared.iter().find(|(n, _)| *n == i) {
            out.push(Key {
                key: (*key).to_string(),
                tok: i,
            });
        }
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
                } else if l == "number"
                    && w(i + 1) == "of"
                    && (out.last().is_some_and(|k: &Key| k.key == "#count")
                        || EXAMPLE_MOST_WORDS.contains(&w(i.wrapping_sub(1)))
                        || EXAMPLE_LEAST_WORDS.contains(&w(i.wrapping_sub(1))))
                {
                    // "count the number of": one count; "the most number of accounts": the
                    // most accounts
                    continue;
                } else if (l == "many" && w(i.wrapping_sub(1)) == "how")
                    || (l == "number" && w(i + 1) == "of")
                    || l == "count"
                    || l == "counts"
                {
                    "#count".into()
                } else if l == "total" && w(i + 1) == "number" {
                    continue;
                } else if Some(i) == first_word && matches!(l, "name" | "tell" | "give") {
                    // the imperative that opens a request ("Name the four artists ...")
                    continue;
                } else if let Some(scale) = (matches!(l, "most" | "least"))
                    .then(|| adjective_scale(w(i + 1)))
                    .flatten()
                {
                    // "most expensive" is "priciest"; "least recent" is "earliest"
                    skip_next = true;
                    format!("#{l}:{scale}")
                } else if (l == "most" || l == "least") && w(i.wrapping_sub(1)) == "at" {
                    format!("#at_{l}")
                } else if l == "single"
                    && (EXAMPLE_MOST_WORDS.contains(&w(i + 1))
                        || EXAMPLE_LEAST_WORDS.contains(&w(i + 1)))
                {
                    // "the single biggest": the top one
                    "#n:1".into()
                } else if EXAMPLE_MOST_WORDS.contains(&l) {
                    extreme_key("#most", l)
                } else if EXAMPLE_LEAST_WORDS.contains(&l) {
                    extreme_key("#least", l)
                } else if matches!(l, "average" | "avg" | "mean") {
                    "#avg".into()
                } else if matches!(l, "total" | "sum") {
                    "#sum".into()
                } else if matches!(l, "distinct" | "different" | "unique") {
                    "#distinct".into()
                } else if matches!(l, "each" | "every") && w(i + 1) != "other" {
                    // a breakdown ("for each party")
                    "#each".into()
                } else if sorts(i) {
                    // "sorted by", "ordered by", "in descending order": one ordering, however
                    // often and in whatever words it is said
                    if out.iter().any(|k| k.key == "#order") {
                        continue;
                    }
                    "#order".into()
                } else if l == "full" && matches!(w(i + 1), "name" | "names") {
                    // a full name is a first and a last name
                    out.push(Key {
                        key: "first".into(),
                        tok: i,
                    });
                    "last".into()
                } else if (is_stopword(l) && !noun_after_determiner(i))
                    || REQUEST_WORDS.contains(&l)
                {
                    continue;
                } else if in_a_period(a, i) {
                    // "this year" is a period, never the grain of "by year"
                    format!("@{}", tok.stem)
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
///
/// The anchors are a longest common subsequence of the keys; among the longest, the one that
/// matches the most keys written as the same word ("elastic products whose elasticity" against
/// "price-sensitive items whose elasticity" anchors the two "elasticity", not "elastic").
pub(super) fn align(
    (e_side, e): (&Analysis, &[Key]),
    (q_side, q): (&Analysis, &[Key]),
) -> (usize, Vec<(Vec<usize>, Vec<usize>)>) {
    let (n, m) = (e.len(), q.len());
    // a match weighs more than all same-word bonuses together: length first, then words
    let match_weight = n.min(m) as u32 + 1;
    let weight = |i: usize, j: usize| -> u32 {
        if e[i].key != q[j].key {
            0
        } else if e[i].same_word(&q[j], e_side, q_side) {
            match_weight + 1
        } else {
            match_weight
        }
    };
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let w = weight(i, j);
            let skip = l[i + 1][j].max(l[i][j + 1]);
            l[i][j] = if w > 0 {
                skip.max(l[i + 1][j + 1] + w)
            } else {
                skip
            };
        }
    }
    let mut anchors = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        let w = weight(i, j);
        if w > 0 && l[i][j] == l[i + 1][j + 1] + w {
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

/// Respells the word keys of `a` that link to nothing as the word of `b` one typing slip away
/// (Damerau–Levenshtein distance 1, both six letters or more) that links to the schema
/// ("deparment" / "department", "salaray" / "salary"): a misspelling is the same word.
pub(super) fn respell(a: &mut Side, b: &Side) {
    let word = |side: &Side, k: &Key| -> Option<String> {
        let tok = side.a.tokens.get(k.tok)?;
        (tok.kind == TokenKind::Word && !k.key.starts_with('#') && tok.lower.chars().count() >= 6)
            .then(|| tok.lower.clone())
    };
    for i in 0..a.keys.len() {
        let Some(wa) = word(a, &a.keys[i]) else {
            continue;
        };
        if a.links.span_at(a.keys[i].tok).is_some() {
            continue;
        }
        let near = b.keys.iter().find(|kb| {
            kb.key != a.keys[i].key
                && b.links.span_at(kb.tok).is_some()
                && word(b, kb).is_some_and(|wb| strsim::damerau_levenshtein(&wa, &wb) == 1)
        });
        if let Some(kb) = near {
            a.keys[i].key = kb.key.clone();
        }
    }
}

/// Link scores this close to a span's best are a tie (curated synonyms weigh alike).
pub(super) const LINK_TIE: f32 = 0.015;

/// A question with its analysis and linking.
pub(super) struct Side<'a> {
    pub(super) a: &'a Analysis,
    pub(super) links: &'a Linking,
    pub(super) keys: Vec<Key>,
    /// The curated filter rules the question's words name ([`rule_hits`]).
    pub(super) filters: Vec<RuleHit<'a>>,
}

impl<'a> Side<'a> {
    /// The side of `a`: its keys, and the filter rules of `rules` its words name.
    pub(super) fn new(
        a: &'a Analysis,
        links: &'a Linking,
        schema: &Schema,
        rules: &'a [(BusinessRule, f32)],
    ) -> Side<'a> {
        let filters = rule_hits(a, schema, rules, links)
            .into_iter()
            .filter(|h| h.rule.kind == "filter")
            .collect();
        Side {
            a,
            links,
            keys: keys(a),
            filters,
        }
    }

    /// The text of the tokens of `ks` (key positions), from the first to the last, as written.
    pub(super) fn text(&self, ks: &[usize]) -> String {
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

    /// The link targets of the spans covering the tokens of `ks` as [`Side::targets`], but a
    /// span whose curated words tie between targets ("shelf price": a column of the products, a
    /// table of prices) takes the one of `preferred` (the other question's reading) when it is
    /// among the tied links.
    pub(super) fn targets_preferring(
        &self,
        ks: &[usize],
        preferred: &[Target],
    ) -> Option<Vec<Target>> {
        let mut out: Vec<Target> = Vec::new();
        for &k in ks {
            let sp = self.links.span_at(self.keys[k].tok)?;
            let best = sp.best();
            let t = sp
                .links
                .iter()
                .take_while(|l| l.score >= best.score - LINK_TIE)
                .find(|l| {
                    l.how == "synonym" && best.how == "synonym" && preferred.contains(&l.target)
                })
                .unwrap_or(best)
                .target
                .clone();
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Some(out)
    }

    /// The best link targets of the spans covering the tokens of `ks`, in order, without
    /// repeats; `None` when a token is not covered.
    pub(super) fn targets(&self, ks: &[usize]) -> Option<Vec<Target>> {
        self.targets_preferring(ks, &[])
    }

    pub(super) fn number(&self, k: usize) -> Option<(f64, String)> {
        if !self.keys[k].key.starts_with("#n:") {
            return None;
        }
        let tok = self.keys[k].tok;
        if self.a.tokens[tok].lower == "single" {
            return Some((1.0, "1".into()));
        }
        self.a
            .numbers
            .iter()
            .find(|n| n.token == tok)
            .map(|n| (n.value, n.text.replace(',', "")))
    }

    /// The filter rule whose words cover every key of `ks` (`None` when no one rule does).
    pub(super) fn filter_rule(&self, ks: &[usize]) -> Option<&BusinessRule> {
        if ks.is_empty() {
            return None;
        }
        let toks: Vec<usize> = ks.iter().map(|&k| self.keys[k].tok).collect();
        let mut covering = self
            .filters
            .iter()
            .filter(|h| toks.iter().all(|t| (h.start..h.end).contains(t)));
        match (covering.next(), covering.next()) {
            (Some(h), None) => Some(h.rule),
            _ => None,
        }
    }
}
