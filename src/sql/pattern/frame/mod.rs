//! The question frame: what the question asks for, in terms of the linked schema.
//!
//! From the analysis and the linked spans, [`build_frame`] reads the select list (columns,
//! aggregates, `COUNT(DISTINCT ..)`), filters (values, numbers with their comparison, date
//! ranges, negated existence "that have no ...", "above average"), group-by ("for each", "per"),
//! having ("with more than 3 <table>"), order and limit ("top 3", "ordered by", "highest",
//! "youngest", "the most <table>") and the FROM table. It also accounts for every word: the words
//! no span, number, date or structural cue explains are the unmapped ones, and coverage is the
//! share of content words explained.

use std::collections::HashMap;

use serde::Serialize;

use self::state::Builder;
use super::ast::{AggFunc, CmpOp, Literal};
use super::joins::JoinGraph;
use super::linking::{ColRef, Lexicon, Linking};
use crate::question::Analysis;
use crate::warehouse::Schema;

mod comparisons;
mod finish;
mod grouping;
mod head;
mod like;
mod links;
mod negation;
mod numbers;
mod ordering;
mod relation;
mod rules;
mod select;
mod sets;
mod state;
#[cfg(test)]
mod testing;
mod time;
mod values;

pub use self::links::{key_column, name_column, own_name_column};
pub use self::rules::{qualify_rule_sql, rule_hits, RuleHit};

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
    /// A business rule's condition, with the table its SQL reads (when the rule names one).
    Raw {
        name: String,
        sql: String,
        table: Option<usize>,
    },
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

    /// The tables the condition reads in the outer query: its columns' and a business rule's.
    pub fn tables(&self) -> Vec<usize> {
        match self {
            Cond::Raw { table, .. } => table.iter().copied().collect(),
            Cond::Or(v) => v.iter().flat_map(Cond::tables).collect(),
            _ => self.columns().iter().map(|c| c.table).collect(),
        }
    }
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
    /// A breakdown by a period the question asks for ("weekly revenue", "units per quarter")
    /// that the frame does not group by: its word. The frame answers another question.
    pub unread_breakdown: Option<String>,
    /// An average, a sum or an extreme the question asks for ("cheapest on average", "the
    /// highest salary" with no salary column) that the frame does not compute: its word. The
    /// frame answers another question.
    pub unread_aggregate: Option<String>,
    /// A word that names nothing while the frame lists every row of a table ("Which stores are
    /// underperforming?" answered with all the stores): the word qualified the rows asked for.
    /// The frame answers another question.
    pub unread_qualifier: Option<String>,
    /// A word that links to a foreign key of a table to itself ("Who does Jane Peacock report
    /// to?": `Employee.ReportsTo`): the relation between two rows of one table, which the frame
    /// never joins. The frame answers another question.
    pub self_relation: Option<String>,
    /// A number the question states that no part of the frame reads ("How many people are
    /// under 40?" with no column the 40 compares): the condition it asks for is missing. The
    /// frame answers another question.
    pub unread_number: Option<String>,
    /// A negation or a period the question states that no part of the frame reads ("customers
    /// with no invoices in 2024" answered with the invoices of 2024; "bought in 2024" on rows
    /// with no date): the frame answers another question, the opposite one for a negation.
    pub unread_condition: Option<String>,
}

/// The passes of the frame builder, in the order they run. Each reads the question and the
/// links and adds to the frame: the earlier passes claim words (a value, a number, a date) that
/// the later ones then leave alone.
const PASSES: &[(&str, fn(&mut Builder))] = &[
    // the words of business rules and the structural words are explained up front
    ("structure", |b| b.structure()),
    ("subject", |b| b.subject()),
    ("rules", |b| b.apply_rules(b.head_end)),
    // filters: text patterns, comparisons with aggregates, values, numbers, dates, negation
    ("like", |b| b.like_tokens = b.like_pass()),
    ("above average", |b| b.above_average()),
    ("than quantified", |b| b.than_quantified()),
    ("values", |b| {
        let like = b.like_tokens.clone();
        b.values(&like)
    }),
    ("numbers", |b| b.numbers()),
    ("times", |b| b.times()),
    ("negated existence", |b| b.negated_existence()),
    ("period of the negated rows", |b| b.period_of_negated_rows()),
    // group, order, superlatives
    ("grouping", |b| b.grouping()),
    ("ordering", |b| b.ordering()),
    ("first by date", |b| b.first_by_date()),
    ("superlatives", |b| b.superlatives(b.head_end)),
    // the select list from the head
    ("select list", |b| b.select_list(b.head_end)),
    ("count per group", |b| b.count_per_group()),
    ("asked time", |b| b.asked_time()),
    ("self relation", |b| b.self_relation_lookup()),
    // finishing: subqueries and alternatives, then groups, order and tables made consistent
    ("close than some", |b| b.close_than_some()),
    ("join or", |b| b.join_or()),
    ("argmax of aggregates", |b| b.argmax_of_aggregates()),
    ("split contradictions", |b| b.split_contradictions()),
    ("tables that are had", |b| b.join_had_tables()),
    ("apply excluded", |b| b.apply_excluded()),
    ("order placeholders", |b| b.resolve_order_placeholders()),
    ("group by keys", |b| b.group_by_keys()),
    ("group rows", |b| b.group_rows()),
    ("default order", |b| b.default_order()),
    ("show order terms", |b| b.show_order_terms()),
    ("consolidate tables", |b| b.consolidate_tables()),
    ("distinct select", |b| b.distinct_select()),
    ("aggregate grouped measures", |b| {
        b.aggregate_grouped_measures()
    }),
    ("coverage", |b| b.coverage()),
];

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
    let mut b = Builder::new(a, schema, lex, links, graph, hits, overrides);
    for (_, pass) in PASSES {
        pass(&mut b);
    }
    b.f
}
