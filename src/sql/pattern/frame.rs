//! The question frame: what the question asks for, in terms of the linked schema.
//!
//! From the analysis and the linked spans, [`build_frame`] reads the select list (columns,
//! aggregates, `COUNT(DISTINCT ..)`), filters (values, numbers with their comparison, date
//! ranges, negated existence "that have no ...", "above average"), group-by ("for each", "per"),
//! having ("with more than 3 <table>"), order and limit ("top 3", "ordered by", "highest",
//! "youngest", "the most <table>") and the FROM table. It also accounts for every word: the words
//! no span, number, date or structural cue explains are the unmapped ones, and coverage is the
//! share of content words explained.

use std::collections::{BTreeSet, HashMap};

use chrono::Datelike;
use serde::Serialize;

use super::ast::{AggFunc, CmpOp, Literal};
use super::joins::JoinGraph;
use super::linking::{is_temporal, is_year_column, ColRef, Lexicon, Linking, Span, Target};
use crate::knowledge::BusinessRule;
use crate::question::tokens::{is_stopword, split_identifier, stem};
use crate::question::{Analysis, TimeRange, TokenKind};
use crate::warehouse::{ColumnKind, Schema};

/// What a select item, an order key or a having clause measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Measure {
    Column(ColRef),
    /// `*` (with COUNT: the rows).
    Star,
    /// A business rule's SQL expression, with the rule's name.
    Rule {
        name: String,
        sql: String,
    },
}

/// One term of the select list, order or having.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub agg: Option<AggFunc>,
    pub distinct: bool,
    pub measure: Measure,
}

impl Term {
    fn col(c: ColRef) -> Term {
        Term {
            agg: None,
            distinct: false,
            measure: Measure::Column(c),
        }
    }

    fn count() -> Term {
        Term {
            agg: Some(AggFunc::Count),
            distinct: false,
            measure: Measure::Star,
        }
    }
}

/// One condition of the WHERE clause (all conditions are AND-ed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Cond {
    Cmp {
        col: ColRef,
        op: CmpOp,
        value: Literal,
    },
    /// `col IN (values)` (several values of one column, "A or B").
    In {
        col: ColRef,
        values: Vec<Literal>,
        negated: bool,
    },
    Between {
        col: ColRef,
        low: Literal,
        high: Literal,
    },
    Like {
        col: ColRef,
        pattern: String,
        negated: bool,
    },
    /// A date column within `[start, end)`.
    DateRange {
        col: ColRef,
        start: Option<chrono::NaiveDate>,
        end: Option<chrono::NaiveDate>,
    },
    /// An integer year column within `[start, end]` (inclusive years).
    YearRange {
        col: ColRef,
        start: Option<i32>,
        end: Option<i32>,
    },
    /// The month of a date column.
    Month { col: ColRef, month: u32 },
    /// `col op (SELECT agg(col) FROM its table [JOIN ..] [WHERE conds])` ("above average", the
    /// argmax of an aggregate, "greater than that of some instructor in Biology").
    CmpAgg {
        col: ColRef,
        op: CmpOp,
        agg: AggFunc,
        conds: Vec<Cond>,
    },
    /// `outer [NOT] IN (SELECT inner FROM inner's table [JOIN ..] [WHERE conds])`.
    InSub {
        outer: ColRef,
        inner: ColRef,
        conds: Vec<Cond>,
        negated: bool,
    },
    /// A business rule's condition.
    Raw { name: String, sql: String },
    /// Any of the conditions ("founded after 1850 or public").
    Or(Vec<Cond>),
}

impl Cond {
    /// The columns the condition reads in the outer query.
    pub fn columns(&self) -> Vec<ColRef> {
        match self {
            Cond::Cmp { col, .. }
            | Cond::In { col, .. }
            | Cond::Between { col, .. }
            | Cond::Like { col, .. }
            | Cond::DateRange { col, .. }
            | Cond::YearRange { col, .. }
            | Cond::Month { col, .. }
            | Cond::CmpAgg { col, .. } => vec![*col],
            Cond::InSub { outer, .. } => vec![*outer],
            Cond::Or(v) => v.iter().flat_map(Cond::columns).collect(),
            Cond::Raw { .. } => vec![],
        }
    }
}

/// How a value condition is negated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Neg {
    None,
    /// "not in France": the attribute differs.
    Attribute,
    /// "that have not produced a film by X": no related row has it.
    Existence,
}

/// `HAVING agg(measure) op value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Having {
    pub term: Term,
    pub op: CmpOp,
    pub value: Literal,
}

/// A set operation joining two frames that differ by one condition ("both A and B").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Combine {
    Intersect,
    Union,
    Except,
}

/// The frame of a question.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Frame {
    pub select: Vec<Term>,
    pub distinct: bool,
    pub conds: Vec<Cond>,
    pub group_by: Vec<ColRef>,
    pub having: Option<Having>,
    /// Order terms with `true` for descending.
    pub order: Vec<(Term, bool)>,
    pub limit: Option<u64>,
    /// The FROM table, when the question names it.
    pub subject: Option<usize>,
    /// Tables the question needs even without a column of theirs in the select list.
    pub tables: Vec<usize>,
    /// A set operation with the conditions listed: the query runs once per condition group.
    pub combine: Option<(Combine, Vec<Cond>, Vec<Cond>)>,
    /// Conditions of the rows to leave out ("that have not ..."): an EXCEPT or a NOT IN.
    pub excluded: Vec<Cond>,
    /// What the builder decided, for the trace.
    pub notes: Vec<String>,
    /// Content words nothing explained.
    pub unmapped: Vec<String>,
    /// Share of content words explained, 0..1.
    pub coverage: f32,
    /// Penalties for guesses (a column guessed for a number, a literal without a value match, ...).
    pub guesses: f32,
    /// Mean score of the links used.
    pub link_quality: f32,
    /// Names of the business rules applied.
    pub rules: Vec<String>,
    /// Group by the year of this date column, shown first ("2023 versus 2024").
    pub group_by_year: Option<ColRef>,
}

/// A business rule that the question calls up, by its tokens.
#[derive(Debug, Clone)]
pub struct RuleHit<'r> {
    pub rule: &'r BusinessRule,
    pub start: usize,
    pub end: usize,
}

/// Finds the business rules with a SQL fragment whose name or keywords appear in the question.
///
/// A keyword must match the question's words closely: each word the same, or the same stem with
/// at most two letters more or less ("price" / "prices", not "elastic" / "elasticity"). A filter
/// or order rule whose words lie inside a span that names a column (by its name or a documented
/// synonym, score >= 0.9) is left out: "their regular prices" names the column whose synonym is
/// "regular price", not the rule whose keyword is "regular price". Measure rules keep their
/// words: they say how to aggregate the very column they name.
pub fn rule_hits<'r>(
    analysis: &Analysis,
    rules: &'r [(BusinessRule, f32)],
    links: &Linking,
) -> Vec<RuleHit<'r>> {
    let stems: Vec<&str> = analysis.tokens.iter().map(|t| t.stem.as_str()).collect();
    let lowers: Vec<&str> = analysis.tokens.iter().map(|t| t.lower.as_str()).collect();
    let mut hits = Vec::new();
    for (rule, _) in rules {
        if rule.sql.as_deref().is_none_or(|s| s.trim().is_empty())
            || !matches!(rule.kind.as_str(), "measure" | "filter" | "order")
        {
            continue;
        }
        let phrases =
            std::iter::once(rule.name.as_str()).chain(rule.keywords.iter().map(String::as_str));
        let mut best: Option<(usize, usize)> = None;
        for p in phrases {
            let toks = crate::question::tokens::tokenize(p);
            let ps: Vec<(String, String)> = toks
                .iter()
                .filter(|t| t.kind != TokenKind::Punct || t.text == "%")
                .map(|t| (t.stem.clone(), t.lower.clone()))
                .collect();
            if ps.is_empty() {
                continue;
            }
            for i in 0..stems.len() {
                if i + ps.len() <= stems.len()
                    && ps
                        .iter()
                        .enumerate()
                        .all(|(k, (st, lo))| st == stems[i + k] && close_form(lo, lowers[i + k]))
                {
                    let cand = (i, i + ps.len());
                    if best.is_none_or(|b| cand.1 - cand.0 > b.1 - b.0) {
                        best = Some(cand);
                    }
                }
            }
        }
        let Some((start, end)) = best else { continue };
        if rule.kind != "measure" && names_a_column(links, start, end) {
            continue;
        }
        // "unit cost" names the column `cost`, not the measure rule whose keyword is "units"
        if links.spans.iter().any(|sp| {
            sp.start <= start
                && end <= sp.end
                && sp.end - sp.start > end - start
                && matches!(sp.best().target, Target::Column { .. })
                && sp.best().score >= 0.9
                && matches!(sp.best().how, "name" | "synonym")
        }) {
            continue;
        }
        hits.push(RuleHit { rule, start, end });
    }
    // a hit inside a longer one is the same words read less fully ("gross margin" within
    // "gross margin percent"): the longer reading wins
    let all = hits.clone();
    hits.retain(|h| {
        !all.iter()
            .any(|o| o.start <= h.start && h.end <= o.end && o.end - o.start > h.end - h.start)
    });
    hits
}

/// Two spellings of one word: equal, or of one stem and at most two letters apart in length.
fn close_form(a: &str, b: &str) -> bool {
    a == b || a.chars().count().abs_diff(b.chars().count()) <= 2
}

/// True when tokens `[start, end)` lie inside a span whose best link is a column named by its
/// name or a synonym (score >= 0.9).
fn names_a_column(links: &Linking, start: usize, end: usize) -> bool {
    links.spans.iter().any(|sp| {
        sp.start <= start
            && end <= sp.end
            && matches!(sp.best().target, Target::Column { .. })
            && sp.best().score >= 0.9
            && matches!(sp.best().how, "name" | "synonym" | "stem")
    })
}

/// Qualifies the bare column names of a rule's SQL fragment with the rule's table, so that the
/// fragment stays unambiguous when the query joins another table with a column of the same name
/// (`SUM(revenue)` -> `SUM(sales_data.revenue)`). Words inside quotes and words already qualified
/// (after a `.`) or followed by `(` (functions) are left alone.
pub fn qualify_rule_sql(sql: &str, table: &str, columns: &[String]) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            out.push(c);
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let after_dot = start > 0 && chars[start - 1] == '.';
            let mut k = i;
            while k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            let before_dot_or_call = k < chars.len() && (chars[k] == '.' || chars[k] == '(');
            if !after_dot
                && !before_dot_or_call
                && columns.iter().any(|c| c.eq_ignore_ascii_case(&word))
            {
                out.push_str(table);
                out.push('.');
            }
            out.push_str(&word);
            continue;
        }
        if c.is_ascii_digit() {
            // numbers like 1e5 or 100.0 are not identifiers
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Words that are part of how questions are asked, not of what they ask about.
fn is_structural(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "how",
        "many",
        "much",
        "number",
        "count",
        "total",
        "sum",
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
        "largest",
        "smallest",
        "biggest",
        "greatest",
        "fewest",
        "top",
        "bottom",
        "first",
        "last",
        "more",
        "less",
        "fewer",
        "greater",
        "larger",
        "bigger",
        "higher",
        "lower",
        "smaller",
        "than",
        "over",
        "above",
        "below",
        "under",
        "between",
        "exceeding",
        "order",
        "ordered",
        "sorted",
        "sort",
        "ranked",
        "descending",
        "ascending",
        "alphabetical",
        "alphabetic",
        "alphabetically",
        "decreasing",
        "increasing",
        "each",
        "per",
        "every",
        "distinct",
        "different",
        "unique",
        "not",
        "no",
        "never",
        "without",
        "except",
        "excluding",
        "any",
        "all",
        "name",
        "names",
        "list",
        "show",
        "give",
        "find",
        "return",
        "tell",
        "display",
        "what",
        "which",
        "who",
        "whose",
        "where",
        "when",
        "are",
        "is",
        "there",
        "did",
        "does",
        "do",
        "have",
        "has",
        "had",
        "equal",
        "equals",
        "same",
        "both",
        "either",
        "neither",
        "nor",
        "also",
        "other",
        "others",
        "another",
        "respectively",
        "many",
        "older",
        "younger",
        "oldest",
        "youngest",
        "cheapest",
        "expensive",
        "earliest",
        "latest",
        "recent",
        "newest",
        "longest",
        "shortest",
        "tallest",
        "heaviest",
        "lightest",
        "cheaper",
        "longer",
        "shorter",
        "taller",
        "heavier",
        "lighter",
        "earlier",
        "later",
        "times",
        "time",
        "entries",
        "entry",
        "rows",
        "row",
        "including",
        "include",
        "includes",
        "contain",
        "contains",
        "containing",
        "start",
        "starts",
        "starting",
        "end",
        "ends",
        "ending",
        "begin",
        "begins",
        "beginning",
        "like",
        "word",
        "letter",
        "substring",
        "string",
        "whole",
        "overall",
        "combined",
        "altogether",
        "result",
        "results",
        "amount",
        "exactly",
        "only",
        "greater",
        "equal",
        "null",
        "empty",
        "missing",
        "known",
        "unknown",
        "average",
        "outside",
        "besides",
        "apart",
        "ever",
        "yet",
        "still",
        "currently",
        "current",
        "available",
        "possible",
        "full",
        "complete",
        "everything",
        "anything",
        "something",
        "thing",
        "things",
        "kind",
        "kinds",
        "sort",
        "type",
        "types",
        "category",
        "categories",
        "popular",
        "common",
        "frequent",
        "frequently",
        "often",
        "usual",
        "typical",
        "best",
        "worst",
        "descending",
        "ascending",
        "percentage",
        "percent",
        "ratio",
        "proportion",
        "share",
        "associated",
        "related",
        "relevant",
        "belong",
        "belongs",
        "belonging",
        "involved",
        "involve",
        "involves",
        "having",
        "along",
        "together",
        "their",
        "its",
        "id",
        "ids",
        "identifier",
        "identifiers",
        "code",
        "codes",
        "key",
        "keys",
    ];
    WORDS.contains(&w)
}

/// Generic superlatives: `true` when they ask for the largest.
fn superlative(w: &str) -> Option<bool> {
    match w {
        "most" | "highest" | "largest" | "biggest" | "greatest" | "maximum" | "max" | "top"
        | "best" => Some(true),
        "least" | "fewest" | "lowest" | "smallest" | "minimum" | "min" | "worst" | "bottom" => {
            Some(false)
        }
        _ => None,
    }
}

/// Adjectives that name an attribute: (word forms, attribute stems with +1 when "more" of the
/// adjective means a larger value).
const ADJECTIVES: &[(&[&str], &[(&str, i8)])] = &[
    (
        &["old", "older", "oldest", "elder", "eldest"],
        &[
            ("age", 1),
            ("birth", -1),
            ("born", -1),
            ("dob", -1),
            ("year", -1),
            ("date", -1),
            ("found", -1),
            ("establish", -1),
            ("open", -1),
            ("built", -1),
        ],
    ),
    (
        &["young", "younger", "youngest"],
        &[
            ("age", -1),
            ("birth", 1),
            ("born", 1),
            ("dob", 1),
            ("year", 1),
            ("date", 1),
        ],
    ),
    (&["tall", "taller", "tallest"], &[("height", 1)]),
    (
        &["short", "shorter", "shortest"],
        &[("height", -1), ("length", -1), ("durat", -1)],
    ),
    (&["heavy", "heavier", "heaviest"], &[("weight", 1)]),
    (&["light", "lighter", "lightest"], &[("weight", -1)]),
    (
        &["long", "longer", "longest"],
        &[("length", 1), ("durat", 1), ("time", 1)],
    ),
    (
        &["expensive", "pricey", "costly"],
        &[("price", 1), ("cost", 1), ("fee", 1), ("amount", 1)],
    ),
    (
        &["cheap", "cheaper", "cheapest"],
        &[("price", -1), ("cost", -1), ("fee", -1), ("amount", -1)],
    ),
    (
        &["early", "earlier", "earliest"],
        &[("date", -1), ("year", -1), ("time", -1), ("start", -1)],
    ),
    (
        &[
            "late", "later", "latest", "recent", "newest", "new", "newer",
        ],
        &[("date", 1), ("year", 1), ("time", 1)],
    ),
    (&["populous"], &[("popul", 1)]),
    (
        &["rich", "richer", "richest", "wealthy", "wealthiest"],
        &[("worth", 1), ("money", 1), ("incom", 1), ("wealth", 1)],
    ),
    (
        &["fast", "faster", "fastest", "quick", "quickest"],
        &[("speed", 1)],
    ),
    (&["slow", "slower", "slowest"], &[("speed", -1)]),
    (
        &["big", "bigger", "biggest", "large", "larger", "largest"],
        &[("size", 1), ("area", 1), ("capac", 1), ("popul", 1)],
    ),
    (
        &["small", "smaller", "smallest"],
        &[("size", -1), ("area", -1), ("capac", -1), ("popul", -1)],
    ),
    (&["popular"], &[("popular", 1), ("rate", 1), ("view", 1)]),
];

fn adjective_attrs(w: &str) -> Option<&'static [(&'static str, i8)]> {
    ADJECTIVES
        .iter()
        .find(|(forms, _)| forms.contains(&w))
        .map(|(_, a)| *a)
}

struct Builder<'a> {
    a: &'a Analysis,
    schema: &'a Schema,
    lex: &'a Lexicon,
    links: &'a Linking,
    graph: &'a JoinGraph,
    /// Tokens explained by something.
    explained: Vec<bool>,
    /// Spans already used (index into links.spans).
    used: Vec<bool>,
    /// Chosen column per column span.
    span_col: HashMap<usize, ColRef>,
    f: Frame,
    quality: Vec<f32>,
    rule_tokens: Vec<(usize, usize, &'a BusinessRule)>,
    /// First token after the part of the question that says what to show.
    head_end: usize,
    /// First token of that part.
    head_start: usize,
    /// Superlative words read as an order ("the 3 highest rates"), not as aggregates.
    order_cues: Vec<usize>,
    /// The token each condition was read at (by index in `f.conds`), to join "A or B".
    cond_tokens: HashMap<usize, usize>,
    /// Groups named by a table ("for each department") and the column chosen for them.
    group_tables: Vec<(usize, ColRef)>,
    /// The name column shown when the question asks for the rows of a table themselves.
    listing: Option<ColRef>,
    /// "greater than that of some X in Y": the quantifier's token, the column, the comparison
    /// and the aggregate; the conditions read after the token go into its subquery.
    than_some: Option<(usize, ColRef, CmpOp, AggFunc)>,
    /// Columns chosen beforehand for an alternative reading.
    overridden: Vec<ColRef>,
}

/// Builds the frame of a question from its analysis, links and the business rules it calls up.
pub fn build_frame(
    a: &Analysis,
    schema: &Schema,
    lex: &Lexicon,
    links: &Linking,
    graph: &JoinGraph,
    hits: &[RuleHit<'_>],
) -> Frame {
    build_frame_with(a, schema, lex, links, graph, hits, &HashMap::new())
}

/// [`build_frame`] with the column of some spans chosen beforehand (`span index -> column`): an
/// alternative reading of an ambiguous word.
pub fn build_frame_with(
    a: &Analysis,
    schema: &Schema,
    lex: &Lexicon,
    links: &Linking,
    graph: &JoinGraph,
    hits: &[RuleHit<'_>],
    overrides: &HashMap<usize, ColRef>,
) -> Frame {
    let mut b = Builder {
        a,
        schema,
        lex,
        links,
        graph,
        explained: vec![false; a.tokens.len()],
        used: vec![false; links.spans.len()],
        span_col: overrides.clone(),
        f: Frame::default(),
        quality: Vec::new(),
        rule_tokens: hits.iter().map(|h| (h.start, h.end, h.rule)).collect(),
        head_end: 0,
        head_start: 0,
        order_cues: Vec::new(),
        cond_tokens: HashMap::new(),
        group_tables: Vec::new(),
        listing: None,
        than_some: None,
        overridden: overrides.values().copied().collect(),
    };
    b.run();
    b.f
}

const CLAUSE_WORDS: &[&str] = &[
    "where", "whose", "who", "which", "that", "with", "without", "having", "whom", "when",
];
const VERBS: &[&str] = &[
    "has", "have", "had", "is", "are", "was", "were", "do", "does", "did", "can",
];

impl<'a> Builder<'a> {
    fn w(&self, i: usize) -> &str {
        self.a.word(i)
    }

    fn n(&self) -> usize {
        self.a.tokens.len()
    }

    fn span(&self, si: usize) -> &'a Span {
        &self.links.spans[si]
    }

    fn span_index_at(&self, i: usize) -> Option<usize> {
        self.links.token_span.get(i).copied().flatten()
    }

    fn mark(&mut self, from: usize, to: usize) {
        for k in from..to.min(self.explained.len()) {
            self.explained[k] = true;
        }
    }

    fn use_span(&mut self, si: usize) {
        if !self.used[si] {
            self.used[si] = true;
            let sp = self.span(si);
            self.quality.push(sp.best().score.min(1.0));
            self.mark(sp.start, sp.end);
        }
    }

    fn is_column_span(&self, si: usize) -> bool {
        self.span(si)
            .links
            .iter()
            .any(|l| matches!(l.target, Target::Column { .. }))
            && matches!(
                self.span(si).best().target,
                Target::Column { .. } | Target::Table { .. }
            )
    }

    fn is_table_span(&self, si: usize) -> bool {
        matches!(self.span(si).best().target, Target::Table { .. })
    }

    fn is_value_span(&self, si: usize) -> bool {
        matches!(self.span(si).best().target, Target::Value { .. })
    }

    fn span_table(&self, si: usize) -> Option<usize> {
        self.span(si).links.iter().find_map(|l| match l.target {
            Target::Table { table } => Some(table),
            _ => None,
        })
    }

    /// The tables named in the question.
    fn mentioned_tables(&self) -> Vec<(usize, usize)> {
        (0..self.links.spans.len())
            .filter(|&si| self.is_table_span(si))
            .filter_map(|si| self.span_table(si).map(|t| (si, t)))
            .collect()
    }

    /// Next span starting within `window` tokens after `i` (skipping stopwords and the words
    /// given), or None when another kind of word comes first.
    fn next_span(&self, i: usize, window: usize, skip: &[&str]) -> Option<usize> {
        let mut k = i;
        let mut steps = 0;
        while k < self.n() && steps <= window {
            if let Some(si) = self.span_index_at(k) {
                return Some(si);
            }
            let w = self.w(k);
            // conjunctions and commas end the reach of a word, unless asked to skip them
            if matches!(w, "and" | "or" | "," | "but") && !skip.contains(&w) {
                return None;
            }
            if !(is_stopword(w)
                || skip.contains(&w)
                || self.a.tokens[k].kind == TokenKind::Punct && w != "?")
            {
                return None;
            }
            k += 1;
            steps += 1;
        }
        None
    }

    /// Previous span ending within `window` tokens before `i`.
    fn prev_span(&self, i: usize, window: usize, skip: &[&str]) -> Option<usize> {
        let mut k = i;
        let mut steps = 0;
        while k > 0 && steps <= window {
            k -= 1;
            if let Some(si) = self.span_index_at(k) {
                return Some(si);
            }
            let w = self.w(k);
            if matches!(w, "and" | "or" | "," | "but") && !skip.contains(&w) {
                return None;
            }
            if !(is_stopword(w) || skip.contains(&w)) {
                return None;
            }
            steps += 1;
        }
        None
    }

    /// Chooses the column of a column span, preferring tables the question names or already uses.
    fn resolve_column(&mut self, si: usize) -> Option<ColRef> {
        if let Some(c) = self.span_col.get(&si) {
            return Some(*c);
        }
        let sp = self.span(si);
        let best = sp.best().score;
        let mentioned: Vec<usize> = self
            .mentioned_tables()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let used_tables: BTreeSet<usize> =
            self.used_columns().into_iter().map(|c| c.table).collect();
        // nearest table mention after the span ("name of the heads")
        let next_table = (sp.end..self.n().min(sp.end + 5)).find_map(|k| {
            self.span_index_at(k)
                .filter(|&s| self.is_table_span(s))
                .and_then(|s| self.span_table(s))
        });
        let prev_table = (0..sp.start).rev().find_map(|k| {
            self.span_index_at(k)
                .filter(|&s| self.is_table_span(s))
                .and_then(|s| self.span_table(s))
        });
        let mut cands: Vec<(f32, ColRef)> = sp
            .links
            .iter()
            .filter_map(|l| match l.target {
                Target::Column { col } if l.score >= best - 0.2 => {
                    let mut s = l.score;
                    if Some(col.table) == next_table {
                        s += 0.2;
                    } else if Some(col.table) == prev_table {
                        s += 0.12;
                    }
                    if mentioned.contains(&col.table) {
                        s += 0.1;
                    }
                    if Some(col.table) == self.f.subject {
                        s += 0.08;
                    }
                    if used_tables.contains(&col.table) {
                        s += 0.06;
                    }
                    // keys are rarely what a question asks to see
                    let is_pk = self.schema.tables[col.table].primary_key.iter().any(|p| {
                        p.eq_ignore_ascii_case(
                            &self.schema.tables[col.table].columns[col.column].name,
                        )
                    });
                    if is_pk && self.schema.tables[col.table].foreign_keys.is_empty() {
                        s += 0.01;
                    }
                    Some((s, col))
                }
                _ => None,
            })
            .collect();
        // among namesakes of other tables, the one nearest the subject along the join graph
        // ("total sales by country" of invoices: the customer's country, not their support
        // rep's)
        if let (Some(subject), true) = (self.f.subject, cands.len() > 1) {
            let top = cands.iter().map(|x| x.0).fold(f32::MIN, f32::max);
            for (s, col) in cands.iter_mut() {
                if *s < top - 0.05 || col.table == subject {
                    continue;
                }
                let hops = self
                    .graph
                    .plan(self.schema, &[subject, col.table])
                    .map(|p| p.steps.len())
                    .unwrap_or(4)
                    .min(4);
                *s -= 0.01 * hops as f32;
            }
        }
        cands.sort_by(|x, y| y.0.total_cmp(&x.0));
        let c = cands.first().map(|x| x.1)?;
        self.span_col.insert(si, c);
        Some(c)
    }

    fn used_columns(&self) -> Vec<ColRef> {
        let mut v: Vec<ColRef> = Vec::new();
        for t in self
            .f
            .select
            .iter()
            .chain(self.f.order.iter().map(|(t, _)| t))
        {
            if let Measure::Column(c) = t.measure {
                v.push(c);
            }
        }
        for c in &self.f.conds {
            v.extend(c.columns());
        }
        v.extend(self.f.group_by.iter().copied());
        v
    }

    /// The column that names rows of a table: `name`, `title`, `..._name`, else the first text
    /// column, else the primary key.
    pub fn name_column(&self, t: usize) -> Option<ColRef> {
        name_column(self.schema, t)
    }

    /// Finds a column of the attribute stems, preferring the tables in `prefer`.
    fn attribute_column(&self, attrs: &[(&str, i8)], prefer: &[usize]) -> Option<(ColRef, i8)> {
        let mut best: Option<(i32, ColRef, i8)> = None;
        for (rank, (attr, dir)) in attrs.iter().enumerate() {
            for (ti, t) in self.schema.tables.iter().enumerate() {
                for ci in 0..t.columns.len() {
                    let c = ColRef {
                        table: ti,
                        column: ci,
                    };
                    let has = self.lex.column_stems(c).iter().any(|s| s.starts_with(attr));
                    if !has {
                        continue;
                    }
                    let kind = t.columns[ci].kind();
                    if !(kind.is_numeric()
                        || is_temporal(self.schema, c)
                        || kind == ColumnKind::Other
                        || kind == ColumnKind::Text)
                    {
                        continue;
                    }
                    let mut score = 100 - rank as i32 * 5;
                    if prefer.contains(&ti) {
                        score += 50;
                    }
                    if best.is_none_or(|b| score > b.0) {
                        best = Some((score, c, *dir));
                    }
                }
            }
        }
        best.map(|(_, c, d)| (c, d))
    }

    fn focus_tables(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.f.subject.into_iter().collect();
        for c in self.used_columns() {
            if !v.contains(&c.table) {
                v.push(c.table);
            }
        }
        for (_, t) in self.mentioned_tables() {
            if !v.contains(&t) {
                v.push(t);
            }
        }
        v
    }

    fn number_literal(v: f64) -> Literal {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            Literal::Number(format!("{}", v as i64))
        } else {
            Literal::Number(format!("{v}"))
        }
    }

    fn run(&mut self) {
        let n = self.n();
        // 0. rules and structural words
        for &(s, e, _) in &self.rule_tokens.clone() {
            self.mark(s, e);
            // the rule's words are the rule's: no column link of theirs is used
            for si in 0..self.links.spans.len() {
                let sp = self.span(si);
                if sp.start < e && s < sp.end {
                    self.used[si] = true;
                }
            }
        }
        for i in 0..n {
            let t = &self.a.tokens[i];
            if t.kind == TokenKind::Punct
                || t.kind == TokenKind::Word && (is_stopword(&t.lower) || is_structural(&t.lower))
            {
                self.explained[i] = true;
            }
        }
        // 1. the subject: the first table named (in the head when possible)
        let head_start = self.head_start();
        let head_end = self.head_end(head_start);
        self.head_start = head_start;
        self.head_end = head_end;
        let tables = self.mentioned_tables();
        // the subject: a table named in the head, else the table of the first column named in
        // the head ("the names of customers" linked as one column), else the first table named
        let head_column_table = (0..self.links.spans.len())
            .filter(|&si| {
                self.span(si).start >= head_start
                    && self.span(si).start < head_end
                    && self.is_column_span(si)
                    && !self.is_table_span(si)
                    && !self.used[si]
            })
            .find_map(|si| {
                self.span(si).links.iter().find_map(|l| match l.target {
                    Target::Column { col } => Some(col.table),
                    _ => None,
                })
            });
        let subject = tables
            .iter()
            .find(|(si, _)| self.span(*si).start >= head_start && self.span(*si).start < head_end)
            .map(|x| x.1)
            .or(head_column_table)
            .or(tables.first().map(|x| x.1));
        self.f.subject = subject;
        if let Some(t) = subject {
            self.f
                .notes
                .push(format!("subject table {}", self.schema.tables[t].name));
        }
        // 2. rules
        self.apply_rules(head_end);
        // 3. filters: values, numbers, dates, negated existence
        let like_tokens = self.like_pass();
        self.above_average();
        self.than_quantified();
        self.values(&like_tokens);
        self.numbers();
        self.times();
        self.negated_existence();
        // 4. group, order, superlatives
        self.grouping();
        self.ordering();
        self.superlatives(head_end);
        // 5. the select list from the head
        self.select_list(head_end);
        self.finish();
    }

    /// Index of the first token after the part that says what to show.
    /// Where the part that says what to show starts: at the beginning, or at a later clause that
    /// opens with a listing verb ("Which city has the lowest GDP? List the city name and its GDP.").
    fn head_start(&self) -> usize {
        let n = self.n();
        for i in 1..n.saturating_sub(1) {
            if !matches!(self.w(i), "?" | "." | "," | ";") {
                continue;
            }
            let mut k = i + 1;
            while k < n && matches!(self.w(k), "please" | "and" | "also" | "then") {
                k += 1;
            }
            if matches!(
                self.w(k),
                "list"
                    | "show"
                    | "give"
                    | "return"
                    | "display"
                    | "report"
                    | "provide"
                    | "tell"
                    | "include"
            ) {
                return k;
            }
        }
        0
    }

    fn head_end(&self, start: usize) -> usize {
        let n = self.n();
        let top_token = self.a.top_n.and_then(|_| {
            self.a
                .numbers
                .iter()
                .find(|m| Some(m.value as u64) == self.a.top_n)
                .map(|m| m.token)
        });
        let mut seen_link = false;
        for i in start..n {
            let w = self.w(i);
            if let Some(si) = self.span_index_at(i) {
                if self.is_value_span(si) && i > start {
                    return i;
                }
                seen_link = true;
            }
            // "along with the number of ...", "with their average ...": the select list goes on
            let with_measure = w == "with"
                && (i + 1..(i + 4).min(n)).any(|k| {
                    matches!(
                        self.w(k),
                        "number"
                            | "count"
                            | "average"
                            | "total"
                            | "sum"
                            | "maximum"
                            | "minimum"
                            | "max"
                            | "min"
                            | "mean"
                    )
                })
                && (i + 1..(i + 4).min(n)).all(|k| {
                    !matches!(
                        self.w(k),
                        "highest"
                            | "lowest"
                            | "largest"
                            | "most"
                            | "least"
                            | "smallest"
                            | "biggest"
                            | "greatest"
                            | "fewest"
                            | "than"
                    )
                });
            if i > start
                && CLAUSE_WORDS.contains(&w)
                && !with_measure
                && !(w == "which" && matches!(self.w(i - 1), "in" | "of" | "for" | "from"))
            {
                return i;
            }
            if seen_link && i >= start + 2 && VERBS.contains(&w) {
                return i;
            }
            if matches!(
                w,
                "each"
                    | "per"
                    | "every"
                    | "ordered"
                    | "sorted"
                    | "order"
                    | "sort"
                    | "ranked"
                    | "than"
                    | "between"
                    | "above"
                    | "below"
                    | "over"
                    | "under"
                    | "after"
                    | "before"
                    | "since"
                    | "during"
            ) && i > start
            {
                // "in each", "for each", "by": grouping ends the head, unless the question opens with it
                if i <= start + 1 && matches!(w, "each" | "per" | "every") {
                    continue;
                }
                return if matches!(
                    self.w(i.wrapping_sub(1)),
                    "for" | "in" | "of" | "by" | "from"
                ) {
                    i - 1
                } else {
                    i
                };
            }
            if w == "by" && seen_link {
                return i;
            }
            if self.a.tokens[i].kind == TokenKind::Number && Some(i) != top_token && i > start {
                return i;
            }
            if self.a.tokens[i].kind == TokenKind::Quoted {
                return i;
            }
        }
        n
    }

    fn apply_rules(&mut self, head_end: usize) {
        for &(s, _e, rule) in &self.rule_tokens.clone() {
            let mut sql = rule.sql.clone().unwrap_or_default();
            if let Some(t) = rule.table.as_deref().and_then(|t| {
                self.schema
                    .tables
                    .iter()
                    .position(|x| x.name.eq_ignore_ascii_case(t))
            }) {
                let table = &self.schema.tables[t];
                let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                sql = qualify_rule_sql(&sql, &table.name, &names);
                if !self.f.tables.contains(&t) {
                    self.f.tables.push(t);
                }
                if self.f.subject.is_none() {
                    self.f.subject = Some(t);
                }
            }
            self.f.rules.push(rule.name.clone());
            match rule.kind.as_str() {
                "filter" => {
                    self.f.conds.push(Cond::Raw {
                        name: rule.name.clone(),
                        sql,
                    });
                    self.f
                        .notes
                        .push(format!("business rule '{}' as a filter", rule.name));
                }
                "order" => {
                    let (expr, desc) = split_order(&sql);
                    self.f.order.push((
                        Term {
                            agg: None,
                            distinct: false,
                            measure: Measure::Rule {
                                name: rule.name.clone(),
                                sql: expr,
                            },
                        },
                        desc,
                    ));
                    self.f
                        .notes
                        .push(format!("business rule '{}' as the order", rule.name));
                }
                _ => {
                    let term = Term {
                        agg: None,
                        distinct: false,
                        measure: Measure::Rule {
                            name: rule.name.clone(),
                            sql,
                        },
                    };
                    // "top 10 items by <measure>": the measure orders; in the head it is shown too
                    let by = s > 0 && matches!(self.w(s - 1), "by" | "of") && s >= head_end;
                    if by || self.a.top_n.is_some() || s >= head_end {
                        let desc =
                            !(1..4).any(|k| s >= k && superlative(self.w(s - k)) == Some(false));
                        self.f.order.push((term.clone(), desc));
                    }
                    self.f.select.push(term);
                    self.f
                        .notes
                        .push(format!("business rule '{}' as a measure", rule.name));
                }
            }
        }
    }

    /// An attribute negation just before token `i` ("not in France", "other than", "outside").
    fn negated_before(&self, i: usize, window: usize) -> bool {
        (1..=window).any(|k| {
            i >= k
                && matches!(
                    self.w(i - k),
                    "not"
                        | "except"
                        | "excluding"
                        | "outside"
                        | "besides"
                        | "other"
                        | "isn't"
                        | "aren't"
                        | "non"
                        | "never"
                )
                && !(self.w(i - k) == "not" && self.w(i - k + 1) == "only")
        })
    }

    /// "except (for those)", "excluding", "without" before token `i` in the same clause: the
    /// condition that follows names the rows to leave out. Its token.
    fn exception_before(&self, i: usize) -> Option<usize> {
        (1..=8)
            .filter(|&k| i >= k)
            .map(|k| i - k)
            .take_while(|&k| !matches!(self.w(k), "and" | "or" | "but" | "," | ";"))
            .find(|&k| matches!(self.w(k), "except" | "excluding" | "without"))
    }

    /// A verbal negation before token `i` ("have not produced", "never took", "without"), its token.
    fn verbal_negation_before(&self, i: usize, window: usize) -> Option<usize> {
        (1..=window).filter(|&k| i >= k).map(|k| i - k).find(|&k| {
            matches!(
                self.w(k),
                "not"
                    | "never"
                    | "don't"
                    | "doesn't"
                    | "didn't"
                    | "haven't"
                    | "hasn't"
                    | "without"
                    | "no"
                    | "none"
            ) && !(self.w(k) == "not" && self.w(k + 1) == "only")
        })
    }

    /// "whose name contains 'Donor'", "with substring 'Book' in its name", "have TN in their address".
    fn like_pass(&mut self) -> Vec<usize> {
        let n = self.n();
        let mut consumed = Vec::new();
        for i in 0..n {
            let w = self.w(i).to_string();
            let word_cue = matches!(
                w.as_str(),
                "substring" | "phrase" | "word" | "letter" | "letters" | "string" | "pattern"
            );
            let contain_cue = matches!(
                w.as_str(),
                "contain"
                    | "contains"
                    | "containing"
                    | "include"
                    | "includes"
                    | "including"
                    | "like"
            );
            let starts = matches!(
                w.as_str(),
                "start" | "starts" | "starting" | "begin" | "begins" | "beginning"
            ) && self.w(i + 1) == "with";
            let ends = matches!(w.as_str(), "end" | "ends" | "ending") && self.w(i + 1) == "with";
            let trailing = {
                // <token> in its/their <column>
                let t = &self.a.tokens[i];
                (t.kind == TokenKind::Quoted
                    || t.kind == TokenKind::Word
                        && t.text.chars().any(|c| c.is_uppercase())
                        && i > 0
                        && self.span_index_at(i).is_none()
                        && !is_stopword(&t.lower)
                        && !is_structural(&t.lower))
                    && self.w(i + 1) == "in"
                    && matches!(self.w(i + 2), "its" | "their" | "his" | "her" | "the")
            };
            if !(word_cue || contain_cue || starts || ends || trailing) {
                continue;
            }
            let skip = [
                "with",
                "the",
                "a",
                "an",
                "word",
                "phrase",
                "substring",
                "string",
                "letter",
                "letters",
                "pattern",
                "of",
                "by",
                "as",
            ];
            let mut k = if trailing { i } else { i + 1 };
            while k < n && skip.contains(&self.w(k)) && self.a.tokens[k].kind == TokenKind::Word {
                k += 1;
            }
            if word_cue && (k >= n || self.a.tokens[k].kind != TokenKind::Quoted) {
                if let Some(q) = (i.saturating_sub(4)..i)
                    .rev()
                    .find(|&q| self.a.tokens[q].kind == TokenKind::Quoted)
                {
                    k = q;
                }
            }
            if k >= n || consumed.contains(&k) {
                continue;
            }
            let t = &self.a.tokens[k];
            let ok = match t.kind {
                TokenKind::Quoted => true,
                TokenKind::Word | TokenKind::Number => {
                    let linked_name = self
                        .span_index_at(k)
                        .is_some_and(|si| !self.is_value_span(si));
                    let letter =
                        t.text.chars().count() == 1 && t.text.chars().all(|c| c.is_uppercase());
                    !linked_name
                        && (!is_stopword(&t.lower) || letter)
                        && (word_cue
                            || trailing
                            || t.text.chars().any(|c| c.is_uppercase())
                            || starts
                            || ends)
                }
                _ => false,
            };
            if !ok {
                continue;
            }
            let text = t.text.clone();
            // the column: "in its <column>" after the pattern, or the column named before the cue
            let mut col = None;
            if self.w(k + 1) == "in" {
                if let Some(si) = self.next_span(k + 2, 2, &["its", "their", "his", "her", "the"]) {
                    if self.is_column_span(si) {
                        col = self.resolve_column(si);
                        self.use_span(si);
                    }
                }
            }
            if col.is_none() {
                let prev = self.prev_span(
                    i,
                    5,
                    &[
                        "whose", "which", "that", "has", "have", "with", "is", "are", "a", "an",
                        "the", "does", "do", "in", "its", "their",
                    ],
                );
                if let Some(p) = prev.filter(|&p| self.is_column_span(p)) {
                    col = self.resolve_column(p);
                    self.use_span(p);
                }
            }
            if col.is_none() {
                col = self.f.subject.and_then(|s| self.name_column(s));
                self.f.guesses += 0.1;
            }
            let Some(col) = col else { continue };
            let pattern = if starts {
                format!("{text}%")
            } else if ends {
                format!("%{text}")
            } else {
                format!("%{text}%")
            };
            let negated = self.negated_before(i, 3) || self.verbal_negation_before(i, 3).is_some();
            self.f
                .notes
                .push(format!("{} LIKE '{}'", self.col_name(col), pattern));
            self.f.conds.push(Cond::Like {
                col,
                pattern,
                negated,
            });
            self.mark(i, k + 1);
            consumed.push(k);
        }
        consumed
    }

    /// "above the average age", "less than average": comparison with the column's mean.
    fn above_average(&mut self) {
        let n = self.n();
        for i in 0..n {
            if !matches!(self.w(i), "average" | "mean") {
                continue;
            }
            let mut k = i;
            while k > 0 && matches!(self.w(k - 1), "the" | "than" | "an" | "that" | "of") {
                k -= 1;
            }
            if k == 0 {
                continue;
            }
            let op = match self.w(k - 1) {
                "above" | "over" | "higher" | "greater" | "more" | "larger" | "bigger"
                | "exceeds" | "exceeding" | "exceed" | "older" => CmpOp::Gt,
                "below" | "under" | "lower" | "less" | "smaller" | "fewer" | "younger" => CmpOp::Lt,
                _ => continue,
            };
            let after = self.next_span(i + 1, 3, &["of", "the", "number", "amount"]);
            let before = self.prev_span(
                k - 1,
                3,
                &[
                    "is", "are", "was", "were", "whose", "with", "has", "have", "a", "an", "the",
                ],
            );
            let pick = after
                .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
                .or(before.filter(|&p| self.is_column_span(p)));
            let col = match pick {
                Some(p) => {
                    let c = self.resolve_column(p);
                    self.use_span(p);
                    c
                }
                None => adjective_attrs(self.w(k - 1))
                    .and_then(|a| self.attribute_column(a, &self.focus_tables()).map(|x| x.0)),
            };
            if let Some(col) = col {
                self.mark(k - 1, i + 1);
                self.f
                    .notes
                    .push(format!("{} compared with its average", self.col_name(col)));
                self.f.conds.push(Cond::CmpAgg {
                    col,
                    op,
                    agg: AggFunc::Avg,
                    conds: vec![],
                });
            }
        }
    }

    /// "salary greater than that of some instructor in Biology", "a higher resolution than
    /// some songs in English": the column compared with its smallest (largest, for "less than
    /// some") value among the rows the rest of the clause describes.
    fn than_quantified(&mut self) {
        let n = self.n();
        for i in 1..n {
            if self.w(i) != "than" {
                continue;
            }
            let mut k = i + 1;
            while k < n && matches!(self.w(k), "that" | "those" | "of" | "the") {
                k += 1;
            }
            let quant = self.w(k).to_string();
            if !matches!(quant.as_str(), "some" | "any") {
                continue;
            }
            // the comparative: right before "than", or before the compared column
            let (cw_at, col_span) = if self
                .span_index_at(i - 1)
                .is_some_and(|si| self.is_column_span(si) && !self.is_table_span(si))
            {
                let si = self.span_index_at(i - 1).expect("checked");
                (self.span(si).start.saturating_sub(1), Some(si))
            } else {
                (i - 1, None)
            };
            let op = match self.w(cw_at) {
                "more" | "greater" | "higher" | "larger" | "bigger" | "older" | "later"
                | "longer" | "taller" | "heavier" | "after" | "above" => CmpOp::Gt,
                "less" | "fewer" | "lower" | "smaller" | "younger" | "earlier" | "shorter"
                | "lighter" | "cheaper" | "before" | "below" => CmpOp::Lt,
                _ => continue,
            };
            let col_span = col_span.or_else(|| {
                self.prev_span(
                    cw_at,
                    3,
                    &[
                        "is", "are", "was", "were", "with", "has", "have", "a", "an", "the",
                    ],
                )
                .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
            });
            let col = match col_span {
                Some(p) => {
                    let c = self.resolve_column(p);
                    self.use_span(p);
                    c
                }
                None => adjective_attrs(self.w(cw_at)).and_then(|a| {
                    self.attribute_column(a, &self.focus_tables())
                        .filter(|(_, dir)| *dir == a[0].1)
                        .map(|x| x.0)
                }),
            };
            let Some(col) = col else { continue };
            let agg = match (quant.as_str(), op) {
                ("some", CmpOp::Lt) => AggFunc::Max,
                _ => AggFunc::Min,
            };
            self.mark(cw_at, k + 1);
            // the rows compared with are of the column's own table ("some instructor")
            if let Some(si) = self.next_span(k + 1, 1, &[]) {
                if self.span_table(si) == Some(col.table) {
                    self.use_span(si);
                }
            }
            self.f.notes.push(format!(
                "{} compared with the {:?} of the rows after '{}'",
                self.col_name(col),
                agg,
                quant
            ));
            self.than_some = Some((k, col, op, agg));
            return;
        }
    }

    /// Fewer tables for the same columns: a table the question does not name, whose shown
    /// columns all have a namesake in another table of the query (a foreign key and the key it
    /// points to, a copied attribute), is left out and its columns read from that table
    /// ("the first and last names of students" reads both from the student table, not the last
    /// name from a joined faculty table).
    fn consolidate_tables(&mut self) {
        let named: Vec<usize> = self.mentioned_tables().into_iter().map(|x| x.1).collect();
        let mut fixed: Vec<usize> = self.f.tables.clone();
        for c in self.f.conds.iter().chain(self.f.excluded.iter()) {
            fixed.extend(c.columns().into_iter().map(|x| x.table));
        }
        if let Some((_, a, b)) = &self.f.combine {
            for c in a.iter().chain(b.iter()) {
                fixed.extend(c.columns().into_iter().map(|x| x.table));
            }
        }
        if let Some(h) = &self.f.having {
            if let Measure::Column(c) = h.term.measure {
                fixed.push(c.table);
            }
        }
        if let Some(c) = self.f.group_by_year {
            fixed.push(c.table);
        }
        let star = self.f.select.iter().any(|t| t.measure == Measure::Star)
            || self.f.order.iter().any(|(t, _)| t.measure == Measure::Star)
            || self.f.having.is_some();
        if let Some(s) = self.f.subject.filter(|_| star) {
            fixed.push(s);
        }
        let cols = |f: &Frame| -> Vec<ColRef> {
            f.select
                .iter()
                .chain(f.order.iter().map(|(t, _)| t))
                .filter_map(|t| match t.measure {
                    Measure::Column(c) => Some(c),
                    _ => None,
                })
                .chain(f.group_by.iter().copied())
                .collect()
        };
        // the subject first when the question names it: its namesake is the likeliest meaning
        let mut tables: Vec<usize> = Vec::new();
        for t in self
            .f
            .subject
            .filter(|s| named.contains(s))
            .into_iter()
            .chain(fixed.iter().copied())
            .chain(cols(&self.f).into_iter().map(|c| c.table))
        {
            if !tables.contains(&t) {
                tables.push(t);
            }
        }
        if tables.len() < 2 {
            return;
        }
        for t in tables.clone() {
            if fixed.contains(&t) || named.contains(&t) {
                continue;
            }
            let current = cols(&self.f);
            let mine: Vec<ColRef> = current.iter().copied().filter(|c| c.table == t).collect();
            // an alternative reading's column is the point of that reading: it stays, but for a
            // key's copy (the same value through a join edge)
            let mut map: Vec<(ColRef, ColRef)> = Vec::new();
            for c in &mine {
                let name = self.schema.tables[t].columns[c.column].name.to_lowercase();
                let target = tables.iter().filter(|&&u| u != t).find_map(|&u| {
                    self.schema.tables[u]
                        .columns
                        .iter()
                        .position(|x| x.name.to_lowercase() == name)
                        .map(|ci| ColRef {
                            table: u,
                            column: ci,
                        })
                });
                let same_value = |x: ColRef| {
                    self.graph
                        .edges
                        .iter()
                        .any(|e| (e.a == *c && e.b == x) || (e.a == x && e.b == *c))
                };
                match target {
                    // a namesake already shown is another thing shown twice ("names of
                    // students and of teachers"): keep both
                    Some(x)
                        if !current.contains(&x)
                            && (!self.overridden.contains(c) || same_value(x)) =>
                    {
                        map.push((*c, x))
                    }
                    _ => break,
                }
            }
            if mine.is_empty() || map.len() != mine.len() {
                continue;
            }
            let swap = |c: &mut ColRef| {
                if let Some((_, to)) = map.iter().find(|(from, _)| from == c) {
                    *c = *to;
                }
            };
            for term in self
                .f
                .select
                .iter_mut()
                .chain(self.f.order.iter_mut().map(|(t, _)| t))
            {
                if let Measure::Column(c) = &mut term.measure {
                    swap(c);
                }
            }
            for c in self.f.group_by.iter_mut() {
                swap(c);
            }
            let mut seen = Vec::new();
            self.f.group_by.retain(|c| {
                let new = !seen.contains(c);
                seen.push(*c);
                new
            });
            tables.retain(|&u| u != t);
            self.f.notes.push(format!(
                "columns of {} read from a table already in the query",
                self.schema.tables[t].name
            ));
        }
    }

    /// A grouped query shows each group once: a numeric measure shown beside the groups, not
    /// grouped and not a key, takes the aggregate the question names ("total sales by country":
    /// `SUM(total)`; "average track length by genre": `AVG(milliseconds)`).
    fn aggregate_grouped_measures(&mut self) {
        if self.f.group_by.is_empty() {
            return;
        }
        // "for each city, the highest latitude of its stations": the extreme per group, not the
        // one row of the largest
        let each = self
            .a
            .tokens
            .iter()
            .any(|t| matches!(t.lower.as_str(), "each" | "every" | "per"));
        if each
            && self.f.limit == Some(1)
            && self.f.order.len() == 1
            && self.f.having.is_none()
            && self.f.select.iter().all(|t| t.agg.is_none())
        {
            if let (
                Term {
                    agg: None,
                    measure: Measure::Column(c),
                    ..
                },
                desc,
            ) = self.f.order[0].clone()
            {
                if !self.f.group_by.contains(&c) {
                    let agg = if desc { AggFunc::Max } else { AggFunc::Min };
                    self.f.select.retain(|t| t.measure != Measure::Column(c));
                    self.f.select.push(Term {
                        agg: Some(agg),
                        distinct: false,
                        measure: Measure::Column(c),
                    });
                    self.f.order.clear();
                    self.f.limit = None;
                    self.f
                        .notes
                        .push(format!("{:?} of {} per group", agg, self.col_name(c)));
                    return;
                }
            }
        }
        let cue = self.a.tokens.iter().find_map(|t| match t.lower.as_str() {
            "average" | "avg" | "mean" => Some(AggFunc::Avg),
            "total" | "sum" => Some(AggFunc::Sum),
            _ => None,
        });
        let Some(agg) = cue else { return };
        if self.f.select.iter().any(|t| t.agg.is_some()) {
            return;
        }
        let group_by = self.f.group_by.clone();
        let mut changed = Vec::new();
        for t in self.f.select.iter_mut() {
            if let Measure::Column(c) = t.measure {
                let numeric = self.schema.tables[c.table].columns[c.column]
                    .kind()
                    .is_numeric();
                let key = self.schema.tables[c.table].primary_key.iter().any(|p| {
                    p.eq_ignore_ascii_case(&self.schema.tables[c.table].columns[c.column].name)
                }) || self.graph.edges.iter().any(|e| e.a == c || e.b == c);
                if numeric && !key && !group_by.contains(&c) {
                    t.agg = Some(agg);
                    changed.push(c);
                }
            }
        }
        for c in changed {
            self.f
                .notes
                .push(format!("{:?} of {} per group", agg, self.col_name(c)));
        }
    }

    /// Moves the conditions read after "than some" into its subquery.
    fn close_than_some(&mut self) {
        let Some((tok, col, op, agg)) = self.than_some.take() else {
            return;
        };
        let mut inner = Vec::new();
        let mut kept = Vec::new();
        let mut tokens = HashMap::new();
        for (i, c) in std::mem::take(&mut self.f.conds).into_iter().enumerate() {
            match self.cond_tokens.get(&i) {
                Some(&t) if t > tok => inner.push(c),
                t => {
                    if let Some(&t) = t {
                        tokens.insert(kept.len(), t);
                    }
                    kept.push(c);
                }
            }
        }
        self.f.conds = kept;
        self.cond_tokens = tokens;
        self.f.conds.push(Cond::CmpAgg {
            col,
            op,
            agg,
            conds: inner,
        });
    }

    fn values(&mut self, like_tokens: &[usize]) {
        let subject = self.f.subject;
        // (column, literal, first token, negation kind)
        let mut found: Vec<(ColRef, Literal, usize, Neg)> = Vec::new();
        for si in 0..self.links.spans.len() {
            if !self.is_value_span(si) || like_tokens.contains(&self.span(si).start) {
                continue;
            }
            let sp = self.span(si);
            // among value alternatives, prefer a column named right before ("city Paris") or a focus table
            let prev = self.prev_span(
                sp.start,
                2,
                &[
                    "is", "are", "was", "equal", "equals", "named", "called", "of", "as",
                ],
            );
            let prev_cols: Vec<ColRef> = prev
                .map(|p| {
                    self.span(p)
                        .links
                        .iter()
                        .filter_map(|l| match l.target {
                            Target::Column { col } => Some(col),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let next = self.next_span(sp.end, 1, &[]);
            let next_cols: Vec<ColRef> = next
                .map(|p| {
                    self.span(p)
                        .links
                        .iter()
                        .filter_map(|l| match l.target {
                            Target::Column { col } => Some(col),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let focus = self.focus_tables();
            let best = sp.best().score;
            let mut choice: Option<(f32, ColRef, String)> = None;
            for l in &sp.links {
                if let Target::Value { col, value, .. } = &l.target {
                    if l.score < best - 0.15 {
                        continue;
                    }
                    let mut s = l.score;
                    if prev_cols.contains(col) {
                        s += 0.3;
                    } else if next_cols.contains(col) {
                        s += 0.2;
                    }
                    if focus.contains(&col.table) {
                        s += 0.05;
                    }
                    if choice.as_ref().is_none_or(|c| s > c.0) {
                        choice = Some((s, *col, value.clone()));
                    }
                }
            }
            let Some((_, col, value)) = choice else {
                continue;
            };
            if let Some(p) = prev.filter(|_| prev_cols.contains(&col)) {
                self.span_col.insert(p, col);
                self.use_span(p);
            } else if let Some(p) = next.filter(|_| next_cols.contains(&col)) {
                // "the Third-rate class": the column named after the value
                self.span_col.insert(p, col);
                self.use_span(p);
            }
            self.use_span(si);
            let neg = self.negation_kind(sp.start, col, subject);
            found.push((col, Literal::Text(value), sp.start, neg));
        }
        // quoted strings with no value match: the column named just before, or the name column
        for i in 0..self.n() {
            let t = &self.a.tokens[i];
            if t.kind != TokenKind::Quoted
                || self.span_index_at(i).is_some()
                || like_tokens.contains(&i)
            {
                continue;
            }
            let text = t.text.clone();
            let prev = self.prev_span(
                i,
                3,
                &[
                    "is", "are", "was", "equal", "equals", "named", "called", "titled", "of", "as",
                ],
            );
            let col = match prev {
                Some(p) if self.is_table_span(p) => {
                    // "the film 'HUNGER ROOF'": the name of a row of that table
                    let c = self.span_table(p).and_then(|t| self.name_column(t));
                    self.use_span(p);
                    c
                }
                Some(p) if self.is_column_span(p) => {
                    let c = self.resolve_column(p);
                    self.use_span(p);
                    c
                }
                _ => self.f.subject.and_then(|s| self.name_column(s)),
            };
            if let Some(col) = col {
                self.explained[i] = true;
                self.f.guesses += 0.1;
                let neg = self.negation_kind(i, col, subject);
                found.push((col, Literal::Text(text.clone()), i, neg));
                self.f.notes.push(format!(
                    "'{}' compared with {} (no stored value matched)",
                    text,
                    self.col_name(col)
                ));
            }
        }
        // group by column: several values of one column are "A or B" (IN) or "both A and B" (INTERSECT)
        let mut done = vec![false; found.len()];
        for x in 0..found.len() {
            if done[x] {
                continue;
            }
            done[x] = true;
            let (col, ref lit, start, neg) = found[x].clone();
            let same: Vec<usize> = (x + 1..found.len())
                .filter(|&y| !done[y] && found[y].0 == col && found[y].3 == neg)
                .collect();
            if same.is_empty() {
                match neg {
                    Neg::None => self.push_cond_at(
                        start,
                        Cond::Cmp {
                            col,
                            op: CmpOp::Eq,
                            value: lit.clone(),
                        },
                    ),
                    Neg::Attribute => self.push_cond_at(
                        start,
                        Cond::Cmp {
                            col,
                            op: CmpOp::Ne,
                            value: lit.clone(),
                        },
                    ),
                    Neg::Existence => self.f.excluded.push(Cond::Cmp {
                        col,
                        op: CmpOp::Eq,
                        value: lit.clone(),
                    }),
                }
                continue;
            }
            let y = same[0];
            done[y] = true;
            let between: Vec<&str> = (start..found[y].2).map(|k| self.w(k)).collect();
            let or = between.contains(&"or") || self.a.has(crate::question::Intent::Either);
            let mut values = vec![lit.clone(), found[y].1.clone()];
            for &z in &same[1..] {
                done[z] = true;
                values.push(found[z].1.clone());
            }
            // "EDLP versus High-Low", "compare A and B": one group per value
            let versus = between
                .iter()
                .any(|w| matches!(*w, "versus" | "vs" | "vs." | "against"))
                || self.compares();
            if versus && neg == Neg::None {
                self.push_cond_at(
                    start,
                    Cond::In {
                        col,
                        values,
                        negated: false,
                    },
                );
                if !self.f.group_by.contains(&col) {
                    self.f.group_by.push(col);
                }
                self.f.notes.push(format!(
                    "values of {} compared: one group per value",
                    self.col_name(col)
                ));
                continue;
            }
            if !or && neg == Neg::None && values.len() == 2 && self.f.combine.is_none() {
                let a = Cond::Cmp {
                    col,
                    op: CmpOp::Eq,
                    value: values[0].clone(),
                };
                let b = Cond::Cmp {
                    col,
                    op: CmpOp::Eq,
                    value: values[1].clone(),
                };
                self.f.combine = Some((Combine::Intersect, vec![a], vec![b]));
                self.f.notes.push(
                    "two values of one column joined by 'and': INTERSECT of two queries".into(),
                );
            } else {
                match neg {
                    Neg::Existence => self.f.excluded.push(Cond::In {
                        col,
                        values,
                        negated: false,
                    }),
                    _ => self.push_cond_at(
                        start,
                        Cond::In {
                            col,
                            values,
                            negated: neg == Neg::Attribute,
                        },
                    ),
                }
            }
        }
    }

    /// How a value at token `i` is negated, if at all.
    fn negation_kind(&self, i: usize, col: ColRef, subject: Option<usize>) -> Neg {
        if let Some(k) = self.verbal_negation_before(i, 7) {
            // a clause boundary between the negation and the value ends its reach
            let crosses = (k + 1..i).any(|j| {
                matches!(
                    self.w(j),
                    "and" | "or" | "but" | "who" | "which" | "that" | "whose"
                )
            }) && !(k + 1..i).any(|j| self.w(j) == "any");
            if !crosses && (subject.is_some_and(|s| s != col.table) || i - k > 2) {
                return Neg::Existence;
            }
            if !crosses {
                return Neg::Attribute;
            }
        }
        if self.negated_before(i, 3) {
            Neg::Attribute
        } else {
            Neg::None
        }
    }

    fn col_name(&self, c: ColRef) -> String {
        format!(
            "{}.{}",
            self.schema.tables[c.table].name, self.schema.tables[c.table].columns[c.column].name
        )
    }

    /// The comparison a number's preceding words ask for, with how many tokens they take.
    fn comparison_before(&self, i: usize) -> (CmpOp, usize, Option<&'static [(&'static str, i8)]>) {
        let w1 = if i >= 1 { self.w(i - 1) } else { "" };
        let w2 = if i >= 2 { self.w(i - 2) } else { "" };
        let w3 = if i >= 3 { self.w(i - 3) } else { "" };
        let after = self.w(i + 1);
        let after2 = self.w(i + 2);
        let or_more = after == "or"
            && matches!(
                after2,
                "more" | "greater" | "higher" | "above" | "over" | "larger"
            );
        let or_less = after == "or"
            && matches!(
                after2,
                "less" | "fewer" | "lower" | "below" | "under" | "smaller"
            );
        if w1 == "than" {
            let neg = matches!(w3, "no" | "not");
            let op = match w2 {
                "more" | "greater" | "larger" | "bigger" | "higher" | "longer" | "older"
                | "taller" | "heavier" | "later" | "over" | "above" => {
                    if neg {
                        CmpOp::Le
                    } else {
                        CmpOp::Gt
                    }
                }
                "less" | "fewer" | "smaller" | "lower" | "shorter" | "younger" | "lighter"
                | "cheaper" | "earlier" | "below" | "under" => {
                    if neg {
                        CmpOp::Ge
                    } else {
                        CmpOp::Lt
                    }
                }
                _ => CmpOp::Gt,
            };
            // adjectives carry their attribute ("older than 56" -> age)
            let attrs = adjective_attrs(w2).or_else(|| {
                if w2 == "more" || w2 == "less" {
                    adjective_attrs(w3)
                } else {
                    None
                }
            });
            let attrs = attrs.filter(|_| {
                !matches!(
                    w2,
                    "more"
                        | "less"
                        | "greater"
                        | "larger"
                        | "bigger"
                        | "higher"
                        | "lower"
                        | "smaller"
                        | "fewer"
                )
            });
            return (op, 2 + usize::from(neg), attrs);
        }
        match (w2, w1) {
            ("at", "least") => return (CmpOp::Ge, 2, None),
            ("at", "most") => return (CmpOp::Le, 2, None),
            ("no", "more") | ("not", "over") => return (CmpOp::Le, 2, None),
            ("not", "equal") => return (CmpOp::Ne, 2, None),
            ("equal", "to") => return (CmpOp::Eq, 2, None),
            _ => {}
        }
        match w1 {
            "over" | "above" | "exceeding" | "exceeds" | "exceed" | "after" | "beyond" => {
                (CmpOp::Gt, 1, None)
            }
            "under" | "below" | "before" => (CmpOp::Lt, 1, None),
            "least" if w2 == "at" => (CmpOp::Ge, 2, None),
            _ if or_more => (CmpOp::Ge, 0, None),
            _ if or_less => (CmpOp::Le, 0, None),
            _ => (CmpOp::Eq, 0, None),
        }
    }

    fn numbers(&mut self) {
        let top_token = self.a.top_n.and_then(|n| {
            self.a
                .numbers
                .iter()
                .find(|m| m.value as u64 == n && m.integer)
                .map(|m| m.token)
        });
        let nums = self.a.numbers.clone();
        let mut skip_until = 0;
        for m in &nums {
            if Some(m.token) == top_token {
                self.explained[m.token] = true;
                continue;
            }
            if m.token < skip_until {
                continue;
            }
            // "than that of some (at least one) instructor": the quantifier restated
            if self
                .than_some
                .is_some_and(|(k, ..)| m.token > k && m.token <= k + 5)
                && m.token >= 2
                && self.w(m.token - 1) == "least"
            {
                self.mark(m.token - 2, m.token + 1);
                continue;
            }
            if self.span_index_at(m.token).is_some() {
                continue;
            }
            // a year that a time range explains is handled with the dates, unless compared ("more than 2000 students")
            let (mut op, cmp_len, attrs) = self.comparison_before(m.token);
            let in_range = self
                .a
                .time_ranges
                .iter()
                .any(|r| r.tokens.0 <= m.token && m.token < r.tokens.1 && !r.bare_year);
            if in_range && m.year_like && self.has_temporal() {
                // "after the year 1989", "between 2019 and 2021": the time ranges handle it
                continue;
            }
            if self.year_of_time(m, cmp_len) {
                // "units sold in 2023": a period, never an equality on a measure
                continue;
            }
            let between = m.token >= 1 && self.w(m.token - 1) == "between";
            // "between 10 and 15", "aged 20 to 25"
            let high = if (between && self.w(m.token + 1) == "and") || self.w(m.token + 1) == "to" {
                nums.iter().find(|x| x.token == m.token + 2).cloned()
            } else {
                None
            };
            let cmp_start = m.token - cmp_len.min(m.token) - usize::from(between);
            // the column: adjective attribute, a column named before, a table/column after, nearest numeric
            let mut col: Option<ColRef> = None;
            let mut count_of: Option<usize> = None;
            if let Some(attrs) = attrs {
                if let Some((c, dir)) = self.attribute_column(attrs, &self.focus_tables()) {
                    col = Some(c);
                    // the comparison word already reads the adjective's first attribute
                    // ("younger than 20": age < 20); a column of the opposite sense flips it
                    // ("older than 1990" of a birth year: year < 1990)
                    if dir != attrs[0].1 {
                        op = match op {
                            CmpOp::Gt => CmpOp::Lt,
                            CmpOp::Lt => CmpOp::Gt,
                            CmpOp::Ge => CmpOp::Le,
                            CmpOp::Le => CmpOp::Ge,
                            o => o,
                        };
                    }
                }
            }
            if col.is_none() {
                let mut after_end = high.as_ref().map(|h| h.token + 1).unwrap_or(m.token + 1);
                if self.w(after_end) == "or"
                    && matches!(
                        self.w(after_end + 1),
                        "more"
                            | "less"
                            | "fewer"
                            | "greater"
                            | "higher"
                            | "lower"
                            | "above"
                            | "below"
                    )
                {
                    after_end += 2;
                }
                let after = self.next_span(
                    after_end,
                    2,
                    &["more", "less", "fewer", "different", "distinct", "unique"],
                );
                let before = self.prev_span(
                    cmp_start,
                    3,
                    &[
                        "is", "are", "was", "were", "of", "has", "have", "had", "with", "equal",
                        "equals", "to", "a", "an", "the",
                    ],
                );
                let numeric = |b: &Self, c: ColRef| {
                    b.schema.tables[c.table].columns[c.column]
                        .kind()
                        .is_numeric()
                        || matches!(
                            b.schema.tables[c.table].columns[c.column].kind(),
                            ColumnKind::Other
                        )
                };
                let before_col = before
                    .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
                    .and_then(|p| self.resolve_column(p).map(|c| (p, c)));
                let after_col = after
                    .filter(|&p| self.is_column_span(p) && !self.is_table_span(p))
                    .and_then(|p| self.resolve_column(p).map(|c| (p, c)));
                let before_gap = before
                    .map(|p| cmp_start.saturating_sub(self.span(p).end))
                    .unwrap_or(99);
                let after_gap = after
                    .map(|p| self.span(p).start.saturating_sub(after_end))
                    .unwrap_or(99);
                let times = matches!(m.text.to_lowercase().as_str(), "once" | "twice" | "thrice")
                    || matches!(self.w(after_end), "times" | "time");
                if let Some(p) =
                    after.filter(|&p| self.is_table_span(p) && !in_range && !m.year_like)
                {
                    // "with more than 3 <table>"
                    count_of = self.span_table(p);
                    self.use_span(p);
                } else if let Some(p) = after.filter(|&p| self.is_value_span(p) && !m.year_like) {
                    // "at least 10 professors" where 'Professor' is a stored value: rows with it, counted
                    if let Target::Value { col, .. } = self.span(p).best().target {
                        count_of = Some(col.table);
                    }
                } else if times && cmp_len > 0 {
                    // "more than once", "at least 3 times": rows per group
                    count_of = self
                        .f
                        .subject
                        .or_else(|| self.focus_tables().first().copied());
                    self.mark(after_end, after_end + 1);
                } else if m.year_like
                    && before_col
                        .is_none_or(|(_, c)| !numeric(self, c) && !is_temporal(self.schema, c))
                {
                    if let Some(c) = self.temporal_column(m.token) {
                        col = Some(c);
                    }
                }
                if col.is_none() && count_of.is_none() {
                    let pick_after = match (before_col, after_col) {
                        (Some((_, bc)), Some((_, ac))) => {
                            (after_gap < before_gap || !numeric(self, bc)) && numeric(self, ac)
                        }
                        (None, Some(_)) => true,
                        _ => false,
                    };
                    if pick_after {
                        let (p, c) = after_col.expect("checked");
                        if numeric(self, c) || m.year_like {
                            col = Some(c);
                        } else {
                            // "more than 10 <names of rows>": count the rows of the column's table
                            count_of = Some(c.table);
                        }
                        self.use_span(p);
                    } else if let Some((p, c)) = before_col {
                        col = Some(c);
                        self.use_span(p);
                    } else if let Some(p) = before.filter(|&p| self.is_column_span(p)) {
                        col = self.resolve_column(p);
                        self.use_span(p);
                    }
                }
            }
            if let Some(t) = count_of {
                // "with more than 3 <table>": group the subject, count the rows of <table>
                let value = Self::number_literal(m.value);
                self.f.having = Some(Having {
                    term: Term::count(),
                    op,
                    value,
                });
                if !self.f.tables.contains(&t) {
                    self.f.tables.push(t);
                }
                self.mark(cmp_start, m.token + 1);
                self.f.notes.push(format!(
                    "having COUNT(*) {:?} {} ({} per group)",
                    op, m.text, self.schema.tables[t].name
                ));
                continue;
            }
            if col.is_none() && m.year_like {
                // leave it to the time ranges
                continue;
            }
            if col.is_none() {
                // the nearest numeric column named anywhere and not yet used
                let used = self.used_columns();
                let mut best: Option<(usize, usize, ColRef)> = None;
                for si in 0..self.links.spans.len() {
                    if self.used[si] || !self.is_column_span(si) {
                        continue;
                    }
                    if let Some(c) = self.resolve_column(si) {
                        if self.schema.tables[c.table].columns[c.column]
                            .kind()
                            .is_numeric()
                            && !used.contains(&c)
                        {
                            let d = self.span(si).start.abs_diff(m.token);
                            if best.is_none_or(|b| d < b.0) {
                                best = Some((d, si, c));
                            }
                        }
                    }
                }
                if let Some((_, si, c)) = best {
                    col = Some(c);
                    self.use_span(si);
                    self.f.guesses += 0.15;
                }
            }
            let Some(c) = col else { continue };
            if m.year_like && is_temporal(self.schema, c) {
                // a year compared with a date column: handled as a date range
                let r = self
                    .a
                    .time_ranges
                    .iter()
                    .find(|r| r.tokens.0 <= m.token && m.token < r.tokens.1)
                    .cloned();
                if let Some(r) = r {
                    self.date_cond(c, &r);
                    self.mark(r.tokens.0, r.tokens.1);
                    self.mark(cmp_start, m.token + 1);
                    continue;
                }
            }
            if let Some(h) = high {
                self.push_cond_at(
                    m.token,
                    Cond::Between {
                        col: c,
                        low: Self::number_literal(m.value),
                        high: Self::number_literal(h.value),
                    },
                );
                self.mark(cmp_start, h.token + 1);
                skip_until = h.token + 1;
            } else {
                let cond = Cond::Cmp {
                    col: c,
                    op,
                    value: Self::number_literal(m.value),
                };
                if let Some(k) = self.exception_before(cmp_start) {
                    // "all home cities except for those having a driver older than 40"
                    self.mark(k, k + 1);
                    self.f.excluded.push(cond);
                    self.f.notes.push(format!(
                        "rows with {} compared with {} left out",
                        self.col_name(c),
                        m.text
                    ));
                } else {
                    self.push_cond_at(m.token, cond);
                }
                self.mark(cmp_start, m.token + 1);
                if matches!(self.w(m.token + 1), "or") {
                    self.mark(m.token + 1, m.token + 3);
                }
            }
            self.f
                .notes
                .push(format!("{} compared with {}", self.col_name(c), m.text));
        }
    }

    /// True when the number at `m` is a year that names a period: a bare year after a temporal
    /// preposition ("in 2023", "for 2024", "during 2019"), with no comparison word, while a date
    /// or year column is at hand. The time ranges then turn it into a date range.
    fn year_of_time(&self, m: &crate::question::NumberMention, cmp_len: usize) -> bool {
        if !m.year_like || cmp_len > 0 || m.token == 0 {
            return false;
        }
        let bare = self
            .a
            .time_ranges
            .iter()
            .any(|r| r.tokens.0 <= m.token && m.token < r.tokens.1 && r.bare_year);
        let prep = matches!(
            self.w(m.token - 1),
            "in" | "for" | "during" | "of" | "throughout" | "within"
        ) || (matches!(
            self.w(m.token - 1),
            "and" | "or" | "versus" | "vs" | "vs." | ","
        ) && self.is_period_list(m.token));
        bare && prep && self.has_temporal_focus()
    }

    /// True when the year at token `i` ends a list of years ("in 2023 versus 2024").
    fn is_period_list(&self, i: usize) -> bool {
        let mut k = i;
        while k >= 2 {
            if !matches!(self.w(k - 1), "and" | "or" | "versus" | "vs" | "vs." | ",") {
                break;
            }
            if self.a.tokens[k - 2].kind != TokenKind::Number {
                return false;
            }
            k -= 2;
            if k >= 1 && matches!(self.w(k - 1), "in" | "for" | "during" | "of" | "between") {
                return true;
            }
        }
        false
    }

    /// True when a table the question is about (or a business rule's table) has a date or year
    /// column.
    fn has_temporal_focus(&self) -> bool {
        let mut tables = self.focus_tables();
        tables.extend(self.f.tables.iter().copied());
        tables.iter().any(|&t| {
            (0..self.schema.tables[t].columns.len()).any(|ci| {
                let c = ColRef {
                    table: t,
                    column: ci,
                };
                is_temporal(self.schema, c) || is_year_column(self.schema, c)
            })
        })
    }

    fn date_cond(&mut self, c: ColRef, r: &TimeRange) {
        if is_year_column(self.schema, c)
            || self.schema.tables[c.table].columns[c.column]
                .kind()
                .is_numeric()
        {
            let start = r.start.map(|d| d.year());
            let end = r.end.map(|d| d.year() - 1);
            // at the range's token: "before 2000 or after 2010" joins by its "or"
            self.push_cond_at(r.tokens.0, Cond::YearRange { col: c, start, end });
        } else {
            self.push_cond_at(
                r.tokens.0,
                Cond::DateRange {
                    col: c,
                    start: r.start,
                    end: r.end,
                },
            );
        }
        self.f
            .notes
            .push(format!("{} within {}", self.col_name(c), r.text));
    }

    fn temporal_column(&mut self, near: usize) -> Option<ColRef> {
        // a date/year column named in the question, else the only one of the focus tables
        let mut best: Option<(usize, usize, ColRef)> = None;
        for si in 0..self.links.spans.len() {
            if !self.is_column_span(si) {
                continue;
            }
            if let Some(c) = self.resolve_column(si) {
                if is_temporal(self.schema, c) || is_year_column(self.schema, c) {
                    let d = self.span(si).start.abs_diff(near);
                    if best.is_none_or(|b| d < b.0) {
                        best = Some((d, si, c));
                    }
                }
            }
        }
        if let Some((_, si, c)) = best {
            self.use_span(si);
            return Some(c);
        }
        // the tables of the business rules' measures first: a period filters the measured rows
        let mut focus: Vec<usize> = self
            .rule_tokens
            .iter()
            .filter(|(_, _, r)| r.kind == "measure")
            .filter_map(|(_, _, r)| {
                let name = r.table.as_deref()?;
                self.schema
                    .tables
                    .iter()
                    .position(|x| x.name.eq_ignore_ascii_case(name))
            })
            .collect();
        for t in self
            .focus_tables()
            .into_iter()
            .chain(self.f.tables.iter().copied())
        {
            if !focus.contains(&t) {
                focus.push(t);
            }
        }
        let mut cands = Vec::new();
        for &t in &focus {
            for ci in 0..self.schema.tables[t].columns.len() {
                let c = ColRef {
                    table: t,
                    column: ci,
                };
                if is_temporal(self.schema, c) || is_year_column(self.schema, c) {
                    cands.push(c);
                }
            }
            if !cands.is_empty() {
                break;
            }
        }
        if !cands.is_empty() {
            self.f.guesses += if cands.len() == 1 { 0.05 } else { 0.15 };
        }
        cands.first().copied()
    }

    /// True when a date or year column is named or belongs to a table the question is about.
    fn has_temporal(&self) -> bool {
        let named = self.links.spans.iter().any(|sp| {
            sp.links.iter().any(|l| match l.target {
                Target::Column { col } => {
                    is_temporal(self.schema, col) || is_year_column(self.schema, col)
                }
                _ => false,
            })
        });
        named
            || self.focus_tables().iter().any(|&t| {
                (0..self.schema.tables[t].columns.len()).any(|ci| {
                    let c = ColRef {
                        table: t,
                        column: ci,
                    };
                    is_temporal(self.schema, c) || is_year_column(self.schema, c)
                })
            })
    }

    /// True when the question compares the things it names ("compare", "versus", "vs", "against").
    fn compares(&self) -> bool {
        self.a.tokens.iter().any(|t| {
            matches!(
                t.lower.as_str(),
                "compare"
                    | "compared"
                    | "comparing"
                    | "comparison"
                    | "versus"
                    | "vs"
                    | "vs."
                    | "against"
            )
        })
    }

    /// "revenue in 2023 versus 2024": several whole years compared are one group per year,
    /// filtered to those years. Returns true when it read the question so.
    fn compared_years(&mut self) -> bool {
        let years: Vec<TimeRange> = self
            .a
            .time_ranges
            .iter()
            .filter(|r| r.bare_year)
            .filter(|r| {
                !(r.tokens.0..r.tokens.1)
                    .any(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            })
            .cloned()
            .collect();
        if years.len() < 2 || !self.compares() || self.a.time_ranges.len() != years.len() {
            return false;
        }
        let Some(c) = self.temporal_column(years[0].tokens.0) else {
            return false;
        };
        if is_year_column(self.schema, c)
            || self.schema.tables[c.table].columns[c.column]
                .kind()
                .is_numeric()
        {
            return false;
        }
        let conds: Vec<Cond> = years
            .iter()
            .map(|r| Cond::DateRange {
                col: c,
                start: r.start,
                end: r.end,
            })
            .collect();
        self.f.conds.push(Cond::Or(conds));
        self.f.group_by_year = Some(c);
        for r in &years {
            self.mark(r.tokens.0, r.tokens.1);
        }
        self.f.notes.push(format!(
            "years compared: grouped by the year of {}",
            self.col_name(c)
        ));
        true
    }

    fn times(&mut self) {
        if self.compared_years() {
            return;
        }
        let ranges = self.a.time_ranges.clone();
        for r in &ranges {
            if (r.tokens.0..r.tokens.1)
                .any(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            {
                continue;
            }
            if (r.tokens.0..r.tokens.1)
                .all(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            {
                continue;
            }
            if r.bare_year
                && (r.tokens.0..r.tokens.1)
                    .any(|k| self.explained[k] && self.a.tokens[k].kind == TokenKind::Number)
            {
                continue;
            }
            if let Some(c) = self.temporal_column(r.tokens.0) {
                self.date_cond(c, r);
                self.mark(r.tokens.0, r.tokens.1);
            }
        }
        for m in self.a.months.clone() {
            if let Some(c) = self.temporal_column(m.token) {
                if is_temporal(self.schema, c) {
                    self.f.conds.push(Cond::Month {
                        col: c,
                        month: m.month,
                    });
                    self.explained[m.token] = true;
                }
            }
        }
    }

    /// "singers that have no concerts", "students who never took a course".
    fn negated_existence(&mut self) {
        if !self.f.excluded.is_empty() {
            return;
        }
        let Some(subject) = self.f.subject else {
            return;
        };
        let n = self.n();
        for i in 0..n {
            let w = self.w(i);
            let neg = matches!(
                w,
                "no" | "never"
                    | "without"
                    | "not"
                    | "don't"
                    | "doesn't"
                    | "didn't"
                    | "haven't"
                    | "hasn't"
                    | "none"
            );
            if !neg {
                continue;
            }
            // a table named within the next words, that is not the subject
            let mut k = i + 1;
            let mut target = None;
            while k < n && k <= i + 6 {
                if let Some(si) = self.span_index_at(k) {
                    if self.is_value_span(si) || self.used[si] {
                        break;
                    }
                    if let Some(t) = self.span_table(si) {
                        if t != subject {
                            target = Some((si, t));
                            break;
                        }
                    }
                    // a column of another table ("with no order date"): its table
                    if self.is_column_span(si) {
                        if let Some(c) = self.resolve_column(si) {
                            if c.table != subject {
                                target = Some((si, c.table));
                                break;
                            }
                        }
                    }
                }
                k += 1;
            }
            let Some((si, t)) = target else {
                // "services that have never been used": no table named after the negation; the
                // one table that refers to the subject (or the one whose name the words after
                // the negation share) holds the rows that have it
                let mut v = i + 1;
                while v < n && matches!(self.w(v), "been" | "be" | "ever" | "yet" | "once") {
                    v += 1;
                }
                // a verb follows ("never been used", "don't participate"), not a noun phrase
                // ("without the letter M", which another reading explains)
                let verb = v < n
                    && !self
                        .f
                        .conds
                        .iter()
                        .any(|c| matches!(c, Cond::Like { negated: true, .. }))
                    && !matches!(self.w(v), "the" | "a" | "an" | "any" | "letter" | "letters");
                if let Some((outer, inner)) = verb
                    .then(|| self.referring_table(subject, i + 1, (i + 5).min(n)))
                    .flatten()
                {
                    self.mark(i, i + 1);
                    self.f.conds.push(Cond::InSub {
                        outer,
                        inner,
                        conds: vec![],
                        negated: true,
                    });
                    self.f.notes.push(format!(
                        "negated existence: {} not in {} (the table that refers to it)",
                        self.col_name(outer),
                        self.col_name(inner)
                    ));
                    return;
                }
                continue;
            };
            // the first edge on the path from the subject toward the target
            let Ok(plan) = self.graph.plan(self.schema, &[subject, t]) else {
                continue;
            };
            let Some(step) = plan.steps.first() else {
                continue;
            };
            let (outer, inner) = step.on[0];
            self.use_span(si);
            self.mark(i, i + 1);
            self.f.conds.push(Cond::InSub {
                outer,
                inner,
                conds: vec![],
                negated: true,
            });
            self.f.notes.push(format!(
                "negated existence: {} not in {}",
                self.col_name(outer),
                self.col_name(inner)
            ));
            return;
        }
    }

    /// The key of `subject` and the column of the table that refers to it by a foreign key:
    /// the only such table, or the one whose name shares a stem with the words in
    /// `from..to`. `None` when the words there link to anything or no table is singled out.
    fn referring_table(&self, subject: usize, from: usize, to: usize) -> Option<(ColRef, ColRef)> {
        // the words up to the clause's end ("never been used?")
        let to = (from..to)
            .find(|&k| self.a.tokens[k].kind != TokenKind::Word)
            .unwrap_or(to);
        if to == from || (from..to).any(|k| self.span_index_at(k).is_some()) {
            return None;
        }
        let mut children: Vec<(ColRef, ColRef)> = Vec::new();
        for e in &self.graph.edges {
            if e.b.table == subject
                && e.a.table != subject
                && !children.iter().any(|(_, a)| a.table == e.a.table)
            {
                children.push((e.b, e.a));
            }
        }
        if children.len() == 1 {
            return children.pop();
        }
        let words: Vec<&str> = (from..to).map(|k| self.a.tokens[k].stem.as_str()).collect();
        let mut hits = children.into_iter().filter(|(_, a)| {
            split_identifier(&self.schema.tables[a.table].name)
                .iter()
                .any(|p| words.contains(&stem(&p.to_lowercase()).as_str()))
        });
        match (hits.next(), hits.next()) {
            (Some(x), None) => Some(x),
            _ => None,
        }
    }

    fn grouping(&mut self) {
        let n = self.n();
        // a business rule's measure is an aggregate too: "units sold by store format" groups
        let rule_measure = self
            .f
            .select
            .iter()
            .any(|t| matches!(t.measure, Measure::Rule { .. }));
        let has_agg_words = rule_measure
            || self.a.has(crate::question::Intent::Count)
            || self.a.has(crate::question::Intent::Average)
            || self.a.has(crate::question::Intent::Sum)
            || self.a.has(crate::question::Intent::Maximum)
            || self.a.has(crate::question::Intent::Minimum);
        // "top 5 products by price" orders; "average price by category" groups
        let explicit_agg = self.a.top_n.is_none()
            && (rule_measure
                || self.a.has(crate::question::Intent::Count)
                || self.a.has(crate::question::Intent::Average)
                || self.a.has(crate::question::Intent::Sum)
                || (0..n).any(|k| matches!(self.w(k), "maximum" | "minimum" | "max" | "min")));
        for i in 0..n {
            let w = self.w(i);
            let cue = match w {
                "each" | "per" | "every" => true,
                "by" => {
                    explicit_agg
                        && !matches!(
                            self.w(i.wrapping_sub(1)),
                            "ordered"
                                | "sorted"
                                | "order"
                                | "sort"
                                | "ranked"
                                | "arranged"
                                | "grouped"
                        )
                }
                "grouped" => true,
                // "the average amount for different transaction types"
                "different" | "various" => {
                    explicit_agg
                        && matches!(self.w(i.wrapping_sub(1)), "for" | "across")
                        && i + 1 < n
                }
                _ => false,
            };
            if !cue {
                continue;
            }
            let skip = [
                "by",
                "of",
                "the",
                "different",
                "distinct",
                "unique",
                "individual",
            ];
            let Some(si) = self.next_span(i + 1, 2, &skip) else {
                continue;
            };
            if self.is_value_span(si) {
                continue;
            }
            if self.is_column_span(si) && !self.is_table_span(si) {
                if let Some(c) = self.resolve_column(si) {
                    self.use_span(si);
                    self.mark(i, i + 1);
                    if !self.f.group_by.contains(&c) {
                        self.f.group_by.push(c);
                        self.f
                            .notes
                            .push(format!("grouped by {}", self.col_name(c)));
                    }
                }
            } else if let Some(t) = self.span_table(si) {
                if !has_agg_words {
                    continue;
                }
                self.use_span(si);
                self.mark(i, i + 1);
                if let Some(c) = self.name_column(t) {
                    if !self.f.group_by.contains(&c) {
                        self.f.group_by.push(c);
                        self.group_tables.push((t, c));
                        self.f.notes.push(format!(
                            "grouped by {} (each {})",
                            self.col_name(c),
                            self.schema.tables[t].name
                        ));
                    }
                }
            }
        }
    }

    fn descending_words(&self) -> bool {
        let t = &self.a.tokens;
        t.iter().enumerate().any(|(i, tok)| {
            matches!(
                tok.lower.as_str(),
                "descending" | "desc" | "decreasing" | "reverse" | "descendingly"
            ) || (tok.lower == "from"
                && matches!(
                    self.w(i + 1),
                    "highest"
                        | "largest"
                        | "most"
                        | "biggest"
                        | "greatest"
                        | "oldest"
                        | "latest"
                        | "newest"
                        | "best"
                        | "high"
                        | "large"
                        | "big"
                        | "great"
                        | "many"
                        | "more"
                ))
        })
    }

    fn ordering(&mut self) {
        let n = self.n();
        for i in 0..n {
            let w = self.w(i);
            // "listed descending by the time they took office"
            let directed_by = matches!(w, "descending" | "ascending") && self.w(i + 1) == "by";
            // "in descending order" is an order even where an `orders` table is linked
            let directed_order = w == "order"
                && i > 0
                && matches!(
                    self.w(i - 1),
                    "descending"
                        | "ascending"
                        | "increasing"
                        | "decreasing"
                        | "reverse"
                        | "alphabetic"
                        | "alphabetical"
                );
            if !(matches!(
                w,
                "ordered" | "sorted" | "order" | "sort" | "ranked" | "arranged"
            ) || directed_by)
                || self.span_index_at(i).is_some() && !directed_order
                || !self.f.order.is_empty()
            {
                continue;
            }
            let desc = self.descending_words();
            self.mark(i, i + 1);
            if directed_order {
                if let Some(si) = self.span_index_at(i) {
                    self.used[si] = true;
                }
            }
            let skip = [
                "by",
                "of",
                "in",
                "the",
                "their",
                "its",
                "descending",
                "ascending",
                "decreasing",
                "increasing",
                "alphabetical",
                "alphabetically",
                "alphabetic",
                "order",
                "according",
                "to",
                "based",
                "on",
                "and",
                "then",
                "time",
                "date",
                "value",
                "values",
            ];
            // "ordered by the number of X": order by count
            let mut k = i + 1;
            while k < n && skip.contains(&self.w(k)) {
                k += 1;
            }
            let counted = if self.w(k) == "how" { k + 2 } else { k + 2 };
            let counted_column = self
                .next_span(counted, 2, &[])
                .is_some_and(|si| self.is_column_span(si) && !self.is_table_span(si));
            if (matches!(self.w(k), "number" | "count") && self.w(k + 1) == "of"
                || self.w(k) == "how" && self.w(k + 1) == "many")
                && !counted_column
            {
                self.f.order.push((Term::count(), desc));
                self.mark(k, k + 2);
                if let Some(si) = self.next_span(k + 2, 2, &[]) {
                    if let Some(t) = self.span_table(si) {
                        if !self.f.tables.contains(&t) {
                            self.f.tables.push(t);
                        }
                        self.use_span(si);
                    }
                }
                continue;
            }
            if let Some(si) = self.next_span(i + 1, 6, &skip) {
                if self.is_column_span(si) {
                    let agg = (si > 0)
                        .then(|| self.agg_before(self.span(si).start))
                        .flatten();
                    if let Some(c) = self.resolve_column(si) {
                        self.use_span(si);
                        let term = Term {
                            agg,
                            distinct: false,
                            measure: Measure::Column(c),
                        };
                        self.f.order.push((term, desc));
                        self.f.notes.push(format!(
                            "ordered by {}{}",
                            self.col_name(c),
                            if desc { " descending" } else { "" }
                        ));
                    }
                    continue;
                }
            }
            if !(0..n)
                .any(|k| matches!(self.w(k), "alphabetical" | "alphabetically" | "alphabetic"))
            {
                // "how many ... in descending order": the count orders
                if self.a.has(crate::question::Intent::Count)
                    || self.a.has(crate::question::Intent::Average)
                {
                    self.f.notes.push("ordered by the aggregate".into());
                    self.f.order.push((
                        Term {
                            agg: Some(AggFunc::Count),
                            distinct: true,
                            measure: Measure::Star,
                        },
                        desc,
                    ));
                } else if matches!(self.w(i), "sorted" | "sort")
                    || directed_by
                    || self.w(i) == "order"
                        && i > 0
                        && matches!(
                            self.w(i - 1),
                            "descending"
                                | "ascending"
                                | "increasing"
                                | "decreasing"
                                | "reverse"
                                | "alphabetic"
                        )
                {
                    // "sorted by the channel rating": a column a little further on
                    let further = (i + 1..n.min(i + 8)).find_map(|k| {
                        self.span_index_at(k).filter(|&si| {
                            self.is_column_span(si) && !self.is_table_span(si) && !self.used[si]
                        })
                    });
                    if let Some(si) = further {
                        if let Some(c) = self.resolve_column(si) {
                            self.use_span(si);
                            self.f.order.push((Term::col(c), desc));
                            self.f.notes.push(format!(
                                "ordered by {}{}",
                                self.col_name(c),
                                if desc { " descending" } else { "" }
                            ));
                            continue;
                        }
                    }
                    // "list the total scores in ascending order": the first column shown orders
                    // (decided after the select list); "the customer who ordered most" does not
                    self.f.notes.push("ordered by the column shown".into());
                    self.f.order.push((
                        Term {
                            agg: None,
                            distinct: false,
                            measure: Measure::Star,
                        },
                        desc,
                    ));
                }
                continue;
            }
            if (0..n).any(|k| matches!(self.w(k), "alphabetical" | "alphabetically" | "alphabetic"))
            {
                // ordered by the first text column shown (decided after the select list)
                self.f.notes.push("alphabetical order".into());
                self.f.order.push((
                    Term {
                        agg: None,
                        distinct: false,
                        measure: Measure::Star,
                    },
                    false,
                ));
            }
        }
    }

    /// The aggregate named just before token `i` ("average age", "the total number of").
    fn agg_before(&self, i: usize) -> Option<AggFunc> {
        let mut k = i;
        let mut steps = 0;
        while k > 0 && steps < 3 {
            k -= 1;
            steps += 1;
            match self.w(k) {
                "average" | "avg" | "mean" => return Some(AggFunc::Avg),
                "total" | "sum" | "combined" => return Some(AggFunc::Sum),
                "maximum" | "max" => return Some(AggFunc::Max),
                "minimum" | "min" => return Some(AggFunc::Min),
                "the" | "of" | "their" | "its" => {}
                _ => return None,
            }
        }
        None
    }

    fn superlatives(&mut self, head_end: usize) {
        let n = self.n();
        for i in 0..n {
            if self.explained[i] && !is_structural(self.w(i)) || self.span_index_at(i).is_some() {
                continue;
            }
            let w = self.w(i).to_string();
            let popular = matches!(
                self.w(i + 1),
                "popular" | "common" | "frequent" | "frequently" | "often"
            );
            // in the head a superlative is an aggregate ("the highest salary"), except "most
            // common", adjectives ("the oldest log") and a top-N ("the 3 highest rates")
            let adjective =
                adjective_attrs(&w).is_some() && w.ends_with("est") && superlative(&w).is_none();
            if i >= self.head_start
                && i < head_end
                && !(matches!(w.as_str(), "most" | "least") && popular)
                && !adjective
                && self.a.top_n.is_none()
            {
                continue;
            }
            if (w == "most" || w == "least") && i > 0 && self.w(i - 1) == "at" {
                continue;
            }
            // "the most recent start date", "the least expensive": the adjective decides
            if matches!(w.as_str(), "most" | "least") && !popular && self.f.order.is_empty() {
                if let Some(attrs) = adjective_attrs(self.w(i + 1)) {
                    let sign: i8 = if w == "most" { 1 } else { -1 };
                    let next = self.next_span(i + 2, 2, &[]);
                    let target = match next {
                        Some(si) if self.is_column_span(si) && !self.is_table_span(si) => {
                            self.resolve_column(si).map(|c| {
                                self.use_span(si);
                                (c, attrs[0].1 * sign)
                            })
                        }
                        _ => self
                            .attribute_column(attrs, &self.focus_tables())
                            .map(|(c, d)| (c, d * sign)),
                    };
                    if let Some((c, dir)) = target {
                        self.mark(i, i + 2);
                        self.order_cues.push(i);
                        self.order_cues.push(i + 1);
                        self.f.order.push((Term::col(c), dir > 0));
                        self.f.limit = Some(self.a.top_n.unwrap_or(1));
                        self.f.notes.push(format!(
                            "'{} {}' orders by {}",
                            w,
                            self.w(i + 1),
                            self.col_name(c)
                        ));
                        return;
                    }
                }
            }
            let generic = superlative(&w);
            let adj = adjective_attrs(&w)
                .filter(|_| w.ends_with("est") || matches!(w.as_str(), "recent" | "newest"));
            if generic.is_none() && adj.is_none() {
                continue;
            }
            if !self.f.order.is_empty() {
                break;
            }
            let limit = self.a.top_n.unwrap_or(1);
            let skip = [
                "number", "of", "amount", "count", "the", "total", "average", "avg", "mean", "sum",
                "value", "values", "paid", "popular",
            ];
            let next = self.next_span(i + 1, 4, &skip);
            let agg = next.and_then(|si| self.agg_before(self.span(si).start));
            let counts = (i + 1..n.min(i + 4)).any(|k| matches!(self.w(k), "number" | "count"))
                || self.w(i + 1) == "many"
                || popular;
            // "the largest number of bedrooms" with a `bedroom_count` column orders by the column
            let count_column = next.is_some_and(|si| {
                self.is_column_span(si)
                    && self.span(si).links.iter().any(|l| match l.target {
                        Target::Column { col } => {
                            self.lex.column_has_stem(col, "count")
                                || self.lex.column_has_stem(col, "number")
                        }
                        _ => false,
                    })
            });
            let counts = counts && !count_column;
            if let Some(desc) = generic {
                match next {
                    Some(si) if self.is_column_span(si) && !self.is_table_span(si) && !counts => {
                        if let Some(c) = self.resolve_column(si) {
                            self.use_span(si);
                            self.mark(i, i + 1);
                            self.order_cues.push(i);
                            self.f.order.push((
                                Term {
                                    agg,
                                    distinct: false,
                                    measure: Measure::Column(c),
                                },
                                desc,
                            ));
                            self.f.limit = Some(limit);
                            self.f.notes.push(format!(
                                "argmax: {} {} limit {}",
                                self.col_name(c),
                                if desc { "desc" } else { "asc" },
                                limit
                            ));
                            return;
                        }
                    }
                    Some(si) if self.is_table_span(si) || counts => {
                        // "the most <table>": the group with the most rows
                        if let Some(t) = self.span_table(si) {
                            if !self.f.tables.contains(&t) && Some(t) != self.f.subject {
                                self.f.tables.push(t);
                            }
                        }
                        self.use_span(si);
                        self.mark(i, i + 1);
                        self.order_cues.push(i);
                        self.f.order.push((Term::count(), desc));
                        self.f.limit = Some(limit);
                        self.f
                            .notes
                            .push(format!("argmax of the count, limit {limit}"));
                        return;
                    }
                    None if matches!(w.as_str(), "most" | "least" | "fewest") => {
                        // "which city has the most?" counts rows
                        self.mark(i, i + 1);
                        self.order_cues.push(i);
                        self.f.order.push((Term::count(), desc));
                        self.f.limit = Some(limit);
                        self.f
                            .notes
                            .push(format!("argmax of the count, limit {limit}"));
                        return;
                    }
                    _ => {}
                }
            }
            if let Some(attrs) = adj {
                if let Some((c, dir)) = self.attribute_column(attrs, &self.focus_tables()) {
                    self.mark(i, i + 1);
                    self.order_cues.push(i);
                    self.f.order.push((Term::col(c), dir > 0));
                    self.f.limit = Some(limit);
                    self.f.notes.push(format!(
                        "'{}' orders by {} {}",
                        w,
                        self.col_name(c),
                        if dir > 0 { "desc" } else { "asc" }
                    ));
                    return;
                }
            }
        }
        // "top 5 X by Y" without a superlative word
        if self.f.order.is_empty() {
            if let Some(nn) = self.a.top_n {
                for i in 0..n {
                    if self.w(i) == "by" {
                        // "top 3 customers by number of orders": the count orders
                        let mut k = i + 1;
                        while matches!(self.w(k), "the" | "total") {
                            k += 1;
                        }
                        if matches!(self.w(k), "number" | "count") && self.w(k + 1) == "of" {
                            if let Some(si) = self
                                .next_span(k + 2, 2, &[])
                                .filter(|&si| self.is_table_span(si))
                            {
                                if let Some(t) = self.span_table(si) {
                                    if Some(t) != self.f.subject && !self.f.tables.contains(&t) {
                                        self.f.tables.push(t);
                                    }
                                }
                                self.use_span(si);
                                self.mark(k, k + 2);
                                self.f.order.push((Term::count(), true));
                                self.f.limit = Some(nn);
                                self.f.notes.push(format!("top {nn} by the count"));
                                return;
                            }
                        }
                        if let Some(si) = self.next_span(i + 1, 3, &["the", "total", "average"]) {
                            if self.is_column_span(si) && !self.is_table_span(si) {
                                let agg = self.agg_before(self.span(si).start);
                                if let Some(c) = self.resolve_column(si) {
                                    self.use_span(si);
                                    self.f.order.push((
                                        Term {
                                            agg,
                                            distinct: false,
                                            measure: Measure::Column(c),
                                        },
                                        true,
                                    ));
                                    self.f.limit = Some(nn);
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
        if self.f.limit.is_none() {
            if let Some(nn) = self.a.top_n {
                if !self.f.order.is_empty() {
                    self.f.limit = Some(nn);
                }
            }
        }
    }

    fn select_list(&mut self, head_end: usize) {
        let n = self.n();
        let head_end = head_end.min(n);
        let mut pending: Vec<AggFunc> = Vec::new();
        let mut count = false;
        let mut distinct = false;
        let mut items: Vec<Term> = Vec::new();
        let mut head_tables: Vec<usize> = Vec::new();
        let mut i = self.head_start;
        // aggregates of the last column, for "average latitude and longitude"
        let mut last_aggs: Vec<AggFunc> = Vec::new();
        let mut last_end = usize::MAX;
        while i < head_end {
            let w = self.w(i).to_string();
            let in_span = self.span_index_at(i).is_some();
            let popular = matches!(
                self.w(i + 1),
                "popular" | "common" | "frequent" | "frequently" | "often"
            );
            match w.as_str() {
                _ if in_span || self.order_cues.contains(&i) => {}
                "most" | "least" if popular => {}
                "how" if self.w(i + 1) == "many" => {
                    count = true;
                    i += 2;
                    continue;
                }
                "number" | "count" if self.span_index_at(i).is_none() => {
                    // "the average number of votes" averages a column; "the number of X" counts
                    if (self.w(i + 1) == "of" || w == "count") && pending.is_empty() {
                        count = true;
                    }
                }
                "average" | "avg" | "mean" => pending.push(AggFunc::Avg),
                "total" | "sum" | "combined" => {
                    if !matches!(self.w(i + 1), "number" | "count") {
                        pending.push(AggFunc::Sum)
                    }
                }
                "maximum" | "max" | "highest" | "largest" | "biggest" | "greatest" | "most" => {
                    pending.push(AggFunc::Max)
                }
                "minimum" | "min" | "lowest" | "smallest" | "least" | "fewest" => {
                    pending.push(AggFunc::Min)
                }
                "distinct" | "different" | "unique" => distinct = true,
                _ => {}
            }
            if let Some(si) = self.span_index_at(i) {
                let sp = self.span(si);
                let end = sp.end;
                if self.used[si] || self.is_value_span(si) {
                    i = end;
                    continue;
                }
                if self.is_table_span(si) && !self.prefers_column(si, count && pending.is_empty()) {
                    if let Some(t) = self.span_table(si) {
                        head_tables.push(t);
                    }
                    self.use_span(si);
                    // "number of <table>": COUNT(*); a counted table other than the subject joins in
                    if count
                        && (!items.is_empty()
                            || self
                                .f
                                .subject
                                .is_some_and(|x| Some(x) != self.span_table(si)))
                    {
                        if let Some(t) = self.span_table(si) {
                            if !self.f.tables.contains(&t) {
                                self.f.tables.push(t);
                            }
                        }
                    }
                    if count && items.iter().all(|t| t.agg != Some(AggFunc::Count)) {
                        items.push(Term::count());
                        count = false;
                    }
                    pending.clear();
                } else if self.is_column_span(si) {
                    // "the positions of the players": a column after "of" names whose, not what
                    let possessor = {
                        let mut k = sp.start;
                        while k > 0 && matches!(self.w(k - 1), "the" | "all" | "each" | "every") {
                            k -= 1;
                        }
                        k > 0
                            && self.w(k - 1) == "of"
                            && items.last().is_some_and(|t| {
                                t.agg.is_none() && matches!(t.measure, Measure::Column(_))
                            })
                            && pending.is_empty()
                            && !count
                    };
                    let connected = last_end != usize::MAX
                        && (last_end..sp.start)
                            .all(|k| matches!(self.w(k), "and" | "," | "the" | "its" | "their"))
                        && pending.is_empty()
                        && !count;
                    if possessor {
                        self.mark(sp.start, sp.end);
                        i = end;
                        continue;
                    }
                    if let Some(c) = self.resolve_column(si) {
                        if self.flag_condition(si, c) {
                            i = end;
                            continue;
                        }
                        self.use_span(si);
                        if connected && !last_aggs.is_empty() {
                            pending = last_aggs.clone();
                        }
                        last_aggs = pending.clone();
                        last_end = end;
                        if count {
                            let is_pk = self.is_key(c);
                            items.push(Term {
                                agg: Some(AggFunc::Count),
                                distinct: distinct || !is_pk,
                                measure: if is_pk && !distinct {
                                    Measure::Star
                                } else {
                                    Measure::Column(c)
                                },
                            });
                            count = false;
                            distinct = false;
                        } else if pending.is_empty() {
                            items.push(Term::col(c));
                        } else {
                            for agg in pending.drain(..) {
                                items.push(Term {
                                    agg: Some(agg),
                                    distinct: false,
                                    measure: Measure::Column(c),
                                });
                            }
                        }
                    }
                }
                i = end;
                continue;
            }
            i += 1;
        }
        let mut trailing = Vec::new();
        self.trailing_columns(head_end, &mut trailing);
        if count {
            items.push(Term::count());
        }
        // the superlative of an argmax already orders: drop an aggregate on the same column
        let subject = self.f.subject.or(head_tables.first().copied());
        if self.f.subject.is_none() {
            self.f.subject = subject;
        }
        let only_rule_measures = !self.f.select.is_empty()
            && self
                .f
                .select
                .iter()
                .all(|t| matches!(t.measure, Measure::Rule { .. }))
            && !head_tables.is_empty();
        if items.is_empty() && (self.f.select.is_empty() || only_rule_measures) {
            // nothing named to show: the rows' names of the subject table
            let t = subject.or_else(|| self.used_columns().first().map(|c| c.table));
            if let Some(t) = t {
                let wants_all = (0..n).any(|k| {
                    matches!(
                        self.w(k),
                        "information" | "info" | "details" | "everything" | "all" | "attributes"
                    )
                }) && (0..n).any(|k| {
                    matches!(
                        self.w(k),
                        "information" | "info" | "details" | "everything" | "attributes"
                    )
                });
                if wants_all {
                    items.push(Term {
                        agg: None,
                        distinct: false,
                        measure: Measure::Star,
                    });
                } else if let Some(c) = self.name_column(t) {
                    // the rows themselves: their key, their name and the curated display columns
                    let key = self.key_column(t).filter(|k| *k != c && !distinct);
                    items.extend(key.map(Term::col));
                    items.push(Term::col(c));
                    self.listing = Some(c);
                    if !distinct {
                        for &ci in self.lex.display_columns(t) {
                            let d = ColRef {
                                table: t,
                                column: ci,
                            };
                            if d != c && Some(d) != key {
                                items.push(Term::col(d));
                            }
                        }
                    }
                    self.f.guesses += 0.1;
                    self.f.notes.push(format!(
                        "showing {} (the rows of {})",
                        items
                            .iter()
                            .filter_map(|t| match t.measure {
                                Measure::Column(c) => Some(self.col_name(c)),
                                _ => None,
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        self.schema.tables[t].name
                    ));
                }
            }
        }
        for t in trailing {
            if !items.contains(&t) {
                items.push(t);
            }
        }
        if distinct && items.iter().all(|t| t.agg.is_none()) {
            self.f.distinct = true;
        }
        if only_rule_measures {
            // the rows' names first, then the measures
            let measures = std::mem::take(&mut self.f.select);
            self.f.select = items;
            self.f.select.extend(measures);
            return;
        }
        self.f.select.extend(items);
    }

    /// Columns named after the head by a possessive ("the Cereal products with their brand and
    /// package size", "... along with its price"), unless a comparison or a value follows them
    /// (then they are a condition: "with their price above 10").
    fn trailing_columns(&mut self, head_end: usize, items: &mut Vec<Term>) {
        let n = self.n();
        let mut k = head_end;
        while k + 1 < n {
            let start = match (self.w(k), self.w(k + 1)) {
                ("with" | "and" | "including" | "plus", "their" | "its") => k + 2,
                ("along" | "together", "with") => k + 2,
                _ => {
                    k += 1;
                    continue;
                }
            };
            let mut j = start;
            let mut found: Vec<(usize, ColRef)> = Vec::new();
            loop {
                while j < n && matches!(self.w(j), "and" | "," | "the" | "their" | "its" | "as") {
                    j += 1;
                }
                let Some(si) = self.span_index_at(j).filter(|&si| self.span(si).start == j) else {
                    break;
                };
                if self.used[si] || !self.is_column_span(si) || self.is_value_span(si) {
                    break;
                }
                let Some(c) = self.resolve_column(si) else {
                    break;
                };
                found.push((si, c));
                j = self.span(si).end;
            }
            let next = self.w(j);
            let condition = j < n
                && (self.a.tokens[j].kind == TokenKind::Number
                    || self
                        .span_index_at(j)
                        .is_some_and(|si| self.is_value_span(si))
                    || matches!(
                        next,
                        "than"
                            | "above"
                            | "below"
                            | "over"
                            | "under"
                            | "greater"
                            | "less"
                            | "more"
                            | "fewer"
                            | "equal"
                            | "is"
                            | "are"
                            | "of"
                            | "between"
                            | "="
                            | ">"
                            | "<"
                            | "at"
                            | "not"
                            | "like"
                            | "containing"
                    ));
            if !found.is_empty() && !condition {
                for (si, c) in found {
                    self.use_span(si);
                    let term = Term::col(c);
                    if !items.contains(&term) {
                        items.push(term);
                    }
                }
                self.mark(k, start);
            }
            k = j.max(k + 1);
        }
    }

    /// A table span in a count phrase that also names a column better ("how many cities" with a `city` column).
    /// A table span that names a column better: in a count ("how many cities" with a `city`
    /// column), or a column of the table itself named like it (`allergy_type.allergytype`).
    fn prefers_column(&mut self, si: usize, counting: bool) -> bool {
        let sp = self.span(si);
        let Some((tbest, t)) = sp.links.iter().find_map(|l| match l.target {
            Target::Table { table } => Some((l.score, table)),
            _ => None,
        }) else {
            return false;
        };
        let own = sp.links.iter().find_map(|l| match l.target {
            // by the column's own name: a curated synonym ("store" for `store_name`) does not
            // make the table's word name one of its columns
            Target::Column { col }
                if col.table == t
                    && l.score >= tbest - 0.1
                    && !self.is_key(col)
                    && l.how != "synonym" =>
            {
                Some(col)
            }
            _ => None,
        });
        if let Some(c) = own {
            // "how many stores are there": a plain count of the table's rows, unless the
            // question asks for distinct values or the column is the better link
            let cscore = sp
                .links
                .iter()
                .find(|l| l.target == (Target::Column { col: c }))
                .map(|l| l.score)
                .unwrap_or(0.0);
            if counting && !self.a.has(crate::question::Intent::Distinct) && tbest >= cscore {
                return false;
            }
            self.span_col.insert(si, c);
            return true;
        }
        let cbest = sp
            .links
            .iter()
            .find(|l| matches!(l.target, Target::Column { .. }))
            .map(|l| l.score)
            .unwrap_or(0.0);
        counting && cbest > tbest + 0.05
    }

    /// A yes/no column named by an adjective ("promoted weeks", "discontinued products") is a
    /// condition (`= 1`, or `= 0` after "not"/"non"), not a column to show. Yes/no columns are
    /// integer columns named `..._flag`, `is_...`, `has_...`; the word must not be the column's
    /// own name ("the promotion flag" shows the column).
    fn flag_condition(&mut self, si: usize, c: ColRef) -> bool {
        let col = &self.schema.tables[c.table].columns[c.column];
        let words = split_identifier(&col.name);
        let flag_like = col.kind() == ColumnKind::Integer
            && (words.last().is_some_and(|w| w == "flag" || w == "ind")
                || words.first().is_some_and(|w| w == "is" || w == "has"));
        let sp = self.span(si);
        let (start, end) = (sp.start, sp.end);
        let own_name = (start..end).any(|k| {
            let w = self.w(k);
            w == "flag" || w == "indicator" || w == "flags"
        });
        if !flag_like || own_name {
            return false;
        }
        let negated = start > 0 && matches!(self.w(start - 1), "not" | "non" | "un" | "without");
        self.use_span(si);
        self.push_cond_at(
            start,
            Cond::Cmp {
                col: c,
                op: CmpOp::Eq,
                value: Self::number_literal(if negated { 0.0 } else { 1.0 }),
            },
        );
        self.f.notes.push(format!(
            "'{}' read as {} = {}",
            self.span(si).text,
            self.col_name(c),
            if negated { 0 } else { 1 }
        ));
        true
    }

    /// Groups with a measure and no order asked for: dates in time order, groups of listed
    /// values in the values' order, anything else by the first measure, largest first (what an
    /// analyst reads first; the chart follows it). Rows of a table listed by name come in name
    /// order.
    fn default_order(&mut self) {
        if !self.f.order.is_empty()
            || self.f.limit.is_some()
            || self.f.combine.is_some()
            || self.f.group_by_year.is_some()
        {
            return;
        }
        if self.f.group_by.is_empty() {
            let aggregated = self.f.select.iter().any(|t| t.agg.is_some());
            if let Some(c) = self.listing.filter(|_| !aggregated) {
                self.f.order.push((Term::col(c), false));
            }
            return;
        }
        let listed: Vec<ColRef> = self
            .f
            .conds
            .iter()
            .filter_map(|c| match c {
                Cond::In {
                    col,
                    negated: false,
                    ..
                } if self.f.group_by.contains(col) => Some(*col),
                _ => None,
            })
            .collect();
        if !listed.is_empty() {
            for c in listed {
                self.f.order.push((Term::col(c), false));
            }
            return;
        }
        let temporal: Vec<ColRef> = self
            .f
            .group_by
            .iter()
            .copied()
            .filter(|c| self.schema.tables[c.table].columns[c.column].kind() == ColumnKind::Date)
            .collect();
        if !temporal.is_empty() {
            for c in temporal {
                self.f.order.push((Term::col(c), false));
            }
            self.f.notes.push("groups in time order".into());
            return;
        }
        let measure = self
            .f
            .select
            .iter()
            .find(|t| t.agg.is_some() || matches!(t.measure, Measure::Rule { .. }))
            .cloned();
        if let Some(m) = measure {
            self.f.order.push((m, true));
            self.f
                .notes
                .push("groups by their measure, largest first".into());
        }
    }

    /// A top-N or an argmax shows what it ranked by ("the 10 cheapest products" shows the
    /// price), when that can be shown without changing the rows.
    fn show_order_terms(&mut self) {
        if self.f.limit.is_none() || self.f.distinct || self.f.combine.is_some() {
            return;
        }
        let grouped = !self.f.group_by.is_empty();
        let aggregated = self
            .f
            .select
            .iter()
            .any(|t| t.agg.is_some() || matches!(t.measure, Measure::Rule { .. }));
        for (t, _) in self.f.order.clone() {
            if self.f.select.contains(&t) {
                continue;
            }
            let shows = match (&t.measure, t.agg) {
                (Measure::Column(_), None) => !grouped && !aggregated,
                (Measure::Star, None) => false,
                (_, Some(_)) | (Measure::Rule { .. }, None) => grouped,
            };
            if shows {
                self.f.select.push(t);
            }
        }
    }

    /// The single-column primary key of table `t`, if it has one.
    fn key_column(&self, t: usize) -> Option<ColRef> {
        let table = &self.schema.tables[t];
        if table.primary_key.len() != 1 {
            return None;
        }
        let column = table
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(&table.primary_key[0]))?;
        Some(ColRef { table: t, column })
    }

    fn is_key(&self, c: ColRef) -> bool {
        let t = &self.schema.tables[c.table];
        t.primary_key.len() == 1 && t.primary_key[0].eq_ignore_ascii_case(&t.columns[c.column].name)
    }

    /// Two comparisons of one column that no single row meets (`x = 1989 AND x = 1990`,
    /// `age > 45 AND age < 35`) ask for rows of both kinds: an INTERSECT.
    fn split_contradictions(&mut self) {
        if self.f.combine.is_some() {
            return;
        }
        let num = |l: &Literal| match l {
            Literal::Number(n) => n.parse::<f64>().ok(),
            _ => None,
        };
        for x in 0..self.f.conds.len() {
            for y in x + 1..self.f.conds.len() {
                if let (
                    Cond::YearRange {
                        col: c1,
                        start: Some(s1),
                        end: Some(e1),
                    },
                    Cond::YearRange {
                        col: c2,
                        start: Some(s2),
                        end: Some(e2),
                    },
                ) = (&self.f.conds[x], &self.f.conds[y])
                {
                    // "a book published in 1989 and a book in 1990"
                    if c1 == c2 && (e1 < s2 || e2 < s1) {
                        let b = self.f.conds.remove(y);
                        let a = self.f.conds.remove(x);
                        self.f.combine = Some((Combine::Intersect, vec![a], vec![b]));
                        self.f
                            .notes
                            .push("two periods no row falls in at once: INTERSECT".into());
                        return;
                    }
                    continue;
                }
                let (
                    Cond::Cmp {
                        col: c1,
                        op: o1,
                        value: v1,
                    },
                    Cond::Cmp {
                        col: c2,
                        op: o2,
                        value: v2,
                    },
                ) = (&self.f.conds[x], &self.f.conds[y])
                else {
                    continue;
                };
                if c1 != c2 {
                    continue;
                }
                let disjoint = match (o1, o2, num(v1), num(v2)) {
                    (CmpOp::Eq, CmpOp::Eq, _, _) => v1 != v2,
                    (CmpOp::Gt | CmpOp::Ge, CmpOp::Lt | CmpOp::Le, Some(a), Some(b)) => a >= b,
                    (CmpOp::Lt | CmpOp::Le, CmpOp::Gt | CmpOp::Ge, Some(a), Some(b)) => b >= a,
                    _ => false,
                };
                if disjoint {
                    let b = self.f.conds.remove(y);
                    let a = self.f.conds.remove(x);
                    self.f.combine = Some((Combine::Intersect, vec![a], vec![b]));
                    self.f
                        .notes
                        .push("two conditions no row meets at once: INTERSECT".into());
                    return;
                }
            }
        }
    }

    /// "that have not ...": an EXCEPT of the rows that have it, or a NOT IN under an aggregate.
    fn apply_excluded(&mut self) {
        if self.f.excluded.is_empty() {
            return;
        }
        let excluded = std::mem::take(&mut self.f.excluded);
        let aggregated = self.f.select.iter().any(|t| t.agg.is_some());
        let subject = self.f.subject.or_else(|| {
            self.f.select.iter().find_map(|t| match t.measure {
                Measure::Column(c) => Some(c.table),
                _ => None,
            })
        });
        if !aggregated && self.f.combine.is_none() && self.f.limit.is_none() {
            self.f
                .notes
                .push("rows that have the negated condition are removed: EXCEPT".into());
            self.f.combine = Some((Combine::Except, vec![], excluded));
            return;
        }
        let Some(s) = subject else { return };
        for c in excluded {
            let Some(ct) = c.columns().first().map(|x| x.table) else {
                continue;
            };
            if ct == s {
                match c {
                    Cond::Cmp { col, op, value } => self.f.conds.push(Cond::Cmp {
                        col,
                        op: op.negate(),
                        value,
                    }),
                    Cond::In { col, values, .. } => self.f.conds.push(Cond::In {
                        col,
                        values,
                        negated: true,
                    }),
                    other => self.f.conds.push(other),
                }
            } else if let Ok(plan) = self.graph.plan(self.schema, &[s, ct]) {
                if let Some(step) = plan.steps.first() {
                    let (outer, inner) = step.on[0];
                    self.f.notes.push(format!(
                        "{} NOT IN the rows that have the condition",
                        self.col_name(outer)
                    ));
                    self.f.conds.push(Cond::InSub {
                        outer,
                        inner,
                        conds: vec![c],
                        negated: true,
                    });
                }
            }
        }
    }

    fn push_cond_at(&mut self, token: usize, c: Cond) {
        self.cond_tokens.insert(self.f.conds.len(), token);
        self.f.conds.push(c);
    }

    /// Conditions read at tokens with "or" (and no "and") between them become one OR.
    fn join_or(&mut self) {
        let mut at: Vec<(usize, usize)> = self.cond_tokens.iter().map(|(c, t)| (*t, *c)).collect();
        at.sort();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for w in at.windows(2) {
            let ((t1, c1), (t2, c2)) = (w[0], w[1]);
            let between: Vec<&str> = (t1 + 1..t2).map(|k| self.w(k)).collect();
            if between.contains(&"or")
                && !between.contains(&"and")
                && !self.a.has(crate::question::Intent::Either)
                || between.contains(&"or") && between.contains(&"either")
            {
                match groups.last_mut() {
                    Some(g) if g.last() == Some(&c1) => g.push(c2),
                    _ => groups.push(vec![c1, c2]),
                }
            }
        }
        if groups.is_empty() {
            return;
        }
        let mut remove: Vec<usize> = groups.iter().flatten().copied().collect();
        let ors: Vec<Cond> = groups
            .iter()
            .map(|g| Cond::Or(g.iter().map(|&i| self.f.conds[i].clone()).collect()))
            .collect();
        remove.sort_unstable();
        for i in remove.into_iter().rev() {
            self.f.conds.remove(i);
        }
        self.f.notes.push("conditions joined by 'or'".into());
        self.f.conds.extend(ors);
        self.cond_tokens.clear();
    }

    fn finish(&mut self) {
        self.close_than_some();
        self.join_or();
        // the argmax of an aggregate-only select: "the average age of students in the largest dorm"
        if self.f.limit == Some(1)
            && self.f.group_by.is_empty()
            && !self.f.select.is_empty()
            && self.f.select.iter().all(|t| t.agg.is_some())
            && self.f.order.len() == 1
        {
            if let (
                Term {
                    agg: None,
                    measure: Measure::Column(c),
                    ..
                },
                desc,
            ) = self.f.order[0].clone()
            {
                let agg = if desc { AggFunc::Max } else { AggFunc::Min };
                self.f.conds.push(Cond::CmpAgg {
                    col: c,
                    op: CmpOp::Eq,
                    agg,
                    conds: vec![],
                });
                self.f.order.clear();
                self.f.limit = None;
            }
        }
        self.split_contradictions();
        // "customers with an account": a table named after with/has joins in (rows that have one)
        for si in 0..self.links.spans.len() {
            let sp = self.span(si);
            if self.used[si] || !self.is_table_span(si) || sp.start < self.head_end {
                continue;
            }
            let has = (1..=3).any(|k| {
                sp.start >= k
                    && matches!(
                        self.w(sp.start - k),
                        "with" | "has" | "have" | "had" | "having"
                    )
            });
            if has && self.verbal_negation_before(sp.start, 4).is_none() {
                if let Some(t) = self.span_table(si) {
                    if !self.f.tables.contains(&t) {
                        self.f.tables.push(t);
                        self.f.notes.push(format!(
                            "joined {} (rows that have one)",
                            self.schema.tables[t].name
                        ));
                    }
                    self.use_span(si);
                }
            }
        }
        self.apply_excluded();
        // "in descending order" of an aggregate: the first aggregate shown
        if let Some(pos) = self
            .f
            .order
            .iter()
            .position(|(t, _)| t.measure == Measure::Star && t.distinct)
        {
            let first_agg = self.f.select.iter().find(|t| t.agg.is_some()).cloned();
            match first_agg {
                Some(t) => self.f.order[pos].0 = t,
                None => {
                    self.f.order.remove(pos);
                }
            }
        }
        // alphabetical order: the first text column shown
        if let Some(pos) = self
            .f
            .order
            .iter()
            .position(|(t, _)| t.measure == Measure::Star && t.agg.is_none())
        {
            let first_text = self.f.select.iter().find_map(|t| match t.measure {
                Measure::Column(c) if t.agg.is_none() => Some(c),
                _ => None,
            });
            let desc = self.f.order[pos].1;
            match first_text {
                Some(c) => self.f.order[pos] = (Term::col(c), desc),
                None => {
                    self.f.order.remove(pos);
                }
            }
        }
        // "the smallest salary for every department": when everything else comes from one table
        // with a key to the grouped table, group by that key instead of joining
        for (t, c) in self.group_tables.clone() {
            let others: BTreeSet<usize> = self
                .used_columns()
                .into_iter()
                .filter(|x| *x != c)
                .map(|x| x.table)
                .collect();
            if others.len() != 1 || others.contains(&t) || self.f.tables.contains(&t) {
                continue;
            }
            let f = *others.iter().next().expect("one table");
            let key = self
                .graph
                .between(f, t)
                .into_iter()
                .find(|(_, tc)| self.is_key(*tc));
            if let Some((fk, _)) = key {
                for g in self.f.group_by.iter_mut() {
                    if *g == c {
                        *g = fk;
                    }
                }
                self.f.notes.push(format!(
                    "grouped by the key {} instead of joining",
                    self.col_name(fk)
                ));
            }
        }
        let has_agg = self
            .f
            .select
            .iter()
            .any(|t| t.agg.is_some() || matches!(t.measure, Measure::Rule { .. }));
        let plain: Vec<ColRef> = self
            .f
            .select
            .iter()
            .filter_map(|t| match t.measure {
                Measure::Column(c) if t.agg.is_none() => Some(c),
                _ => None,
            })
            .collect();
        let order_agg = self.f.order.iter().any(|(t, _)| t.agg.is_some());
        // group-by columns are shown first
        for g in self.f.group_by.clone().into_iter().rev() {
            if !plain.contains(&g) {
                self.f.select.insert(0, Term::col(g));
            }
        }
        // "the artist who made the fewest songs": groups are the subject's rows, by its key
        let subject_key = self.f.subject.and_then(|t| {
            let named = self.mentioned_tables().iter().any(|(_, x)| *x == t);
            let pk = &self.schema.tables[t].primary_key;
            let key = (pk.len() == 1)
                .then(|| self.schema.tables[t].column(&pk[0]).map(|_| pk[0].clone()))
                .flatten()?;
            let ci = self.schema.tables[t]
                .columns
                .iter()
                .position(|c| c.name == key)?;
            // the rows themselves are shown (their key or name): "the most frequently used
            // carrier of the phones" groups by the carrier, not by each phone
            let name = self.name_column(t);
            let rows_shown = plain
                .iter()
                .any(|c| Some(*c) == name || (c.table == t && c.column == ci));
            (named && rows_shown && plain.iter().all(|c| c.table == t)).then_some(ColRef {
                table: t,
                column: ci,
            })
        });
        if self.f.group_by.is_empty()
            && (order_agg || self.f.having.is_some() || (has_agg && !plain.is_empty()))
        {
            if let Some(k) = subject_key.filter(|_| order_agg || self.f.having.is_some()) {
                self.f.group_by.push(k);
                for c in &plain {
                    if !self.f.group_by.contains(c) {
                        self.f.group_by.push(*c);
                    }
                }
            } else if plain.is_empty() {
                if let Some(t) = self.f.subject {
                    if let Some(c) = self.name_column(t) {
                        self.f.group_by.push(c);
                    }
                }
            } else {
                self.f.group_by = plain.clone();
            }
        }
        // a date shown beside grouped measures but not grouped by ("revenue from promoted weeks
        // by zone") is a word of the time frame, not a column of the answer
        if !self.f.group_by.is_empty() && has_agg {
            let group_by = self.f.group_by.clone();
            let schema = self.schema;
            self.f.select.retain(|t| match t.measure {
                Measure::Column(c) if t.agg.is_none() => {
                    group_by.contains(&c)
                        || schema.tables[c.table].columns[c.column].kind() != ColumnKind::Date
                }
                _ => true,
            });
        }
        // an argmax over groups shows the group, not the count
        if order_agg && self.f.select.is_empty() {
            self.f
                .select
                .extend(self.f.group_by.iter().map(|c| Term::col(*c)));
        }
        // placeholders of an order nothing resolved are dropped (never a bare `*` in ORDER BY)
        self.f
            .order
            .retain(|(t, _)| t.measure != Measure::Star || (t.agg.is_some() && !t.distinct));
        self.default_order();
        self.show_order_terms();
        self.consolidate_tables();
        let mut seen: Vec<Term> = Vec::new();
        self.f.select.retain(|t| {
            if seen.contains(t) {
                false
            } else {
                seen.push(t.clone());
                true
            }
        });
        self.aggregate_grouped_measures();
        // coverage and unmapped words
        let mut content = 0usize;
        let mut unmapped = Vec::new();
        // an average or a sum asked for and not computed leaves its word unexplained ("average
        // track length" with no column for the length)
        let mut aggs: Vec<AggFunc> = self
            .f
            .select
            .iter()
            .chain(self.f.order.iter().map(|(t, _)| t))
            .chain(self.f.having.iter().map(|h| &h.term))
            .filter_map(|t| t.agg)
            .collect();
        for c in &self.f.conds {
            if let Cond::CmpAgg { agg, .. } = c {
                aggs.push(*agg);
            }
        }
        let computed = !self.f.rules.is_empty() || self.f.combine.is_some();
        for t in self.a.tokens.iter() {
            let wanted = match t.lower.as_str() {
                "average" | "avg" | "mean" => AggFunc::Avg,
                "sum" => AggFunc::Sum,
                _ => continue,
            };
            if !computed && !aggs.contains(&wanted) {
                content += 1;
                unmapped.push(t.text.clone());
            }
        }
        for (i, t) in self.a.tokens.iter().enumerate() {
            if t.kind != TokenKind::Word || is_stopword(&t.lower) || is_structural(&t.lower) {
                continue;
            }
            content += 1;
            let linked = self.span_index_at(i).is_some();
            if !self.explained[i] && !linked {
                unmapped.push(t.text.clone());
            }
        }
        // linked but unused spans explain their words weakly
        let unused_links = (0..self.links.spans.len())
            .filter(|&si| !self.used[si] && !self.is_table_span(si))
            .count();
        self.f.unmapped = unmapped;
        self.f.coverage = if content == 0 {
            1.0
        } else {
            1.0 - self.f.unmapped.len() as f32 / content as f32
        };
        self.f.guesses += 0.05 * unused_links as f32;
        self.f.link_quality = if self.quality.is_empty() {
            0.0
        } else {
            self.quality.iter().sum::<f32>() / self.quality.len() as f32
        };
    }
}

/// The column that names rows of a table: `name`, `title`, `..._name`, else the first text
/// column that is not a key, else the primary key, else the first column.
pub fn name_column(schema: &Schema, t: usize) -> Option<ColRef> {
    let table = &schema.tables[t];
    let score = |name: &str| -> i32 {
        let words = split_identifier(name);
        let stems: Vec<String> = words.iter().map(|w| stem(w)).collect();
        if stems.iter().any(|s| s == "name") {
            if words.len() == 1 {
                100
            } else if words.first().map(String::as_str) == Some("first")
                || words.first().map(String::as_str) == Some("last")
            {
                70
            } else {
                90
            }
        } else if stems.iter().any(|s| s == "titl") {
            85
        } else {
            0
        }
    };
    let best = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (score(&c.name), i))
        .max_by_key(|x| (x.0, -(x.1 as i64)));
    if let Some((s, i)) = best {
        if s > 0 {
            return Some(ColRef {
                table: t,
                column: i,
            });
        }
    }
    let is_key = |name: &str| {
        split_identifier(name)
            .last()
            .is_some_and(|w| w == "id" || w == "code")
    };
    if let Some(i) = table
        .columns
        .iter()
        .position(|c| c.kind() == ColumnKind::Text && !is_key(&c.name))
    {
        return Some(ColRef {
            table: t,
            column: i,
        });
    }
    if let Some(pk) = table.primary_key.first() {
        if let Some(i) = table
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(pk))
        {
            return Some(ColRef {
                table: t,
                column: i,
            });
        }
    }
    (!table.columns.is_empty()).then_some(ColRef {
        table: t,
        column: 0,
    })
}

/// Splits `expr DESC` / `expr ASC` into the expression and the direction (descending by default
/// for neither).
fn split_order(sql: &str) -> (String, bool) {
    let t = sql.trim();
    let upper = t.to_ascii_uppercase();
    if let Some(e) = upper.strip_suffix(" DESC") {
        (t[..e.len()].trim().to_string(), true)
    } else if let Some(e) = upper.strip_suffix(" ASC") {
        (t[..e.len()].trim().to_string(), false)
    } else {
        (t.to_string(), true)
    }
}
