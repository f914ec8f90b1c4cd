//! The finishing passes: argmax of aggregates, tables joined by "with", order placeholders,
//! group-by, fewer tables, and the coverage of the question's words.

use super::state::Builder;
use super::{Combine, Cond, Frame, Measure, Term};
use crate::question::tokens::is_stopword;
use crate::question::TokenKind;
use crate::sql::pattern::ast::{AggFunc, CmpOp};
use crate::sql::pattern::lexicon::is_structural;
use crate::sql::pattern::linking::{ColRef, Target};
use crate::warehouse::ColumnKind;

use crate::sql::pattern::lexicon::NEGATIONS;

/// Words after a negation that make it a bound or an emphasis, not a denial of rows ("no more
/// than 5", "not over 30", "not only").
const NOT_DENYING_AFTER: &[&str] = &[
    "more",
    "less",
    "fewer",
    "greater",
    "over",
    "under",
    "above",
    "below",
    "equal",
    "only",
    "than",
    "later",
    "earlier",
    "exceeding",
    "exceed",
    "exceeds",
    "before",
    "after",
    "at",
    "higher",
    "lower",
    "larger",
    "smaller",
    "just",
    "necessarily",
];

impl<'a> Builder<'a> {
    /// Fewer tables for the same columns: a table the question does not name, whose shown
    /// columns all have a namesake in another table of the query (a foreign key and the key it
    /// points to, a copied attribute), is left out and its columns read from that table
    /// ("the first and last names of students" reads both from the student table, not the last
    /// name from a joined faculty table).
    pub(super) fn consolidate_tables(&mut self) {
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

    /// The argmax of an aggregate-only select: "the average age of students in the largest
    /// dorm" keeps the rows whose column equals its extreme, not the first row in order.
    pub(super) fn argmax_of_aggregates(&mut self) {
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
    }

    /// "customers with an account": a table named after with/has joins in (rows that have one).
    pub(super) fn join_had_tables(&mut self) {
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
    }

    /// Order placeholders resolved: "in descending order" of an aggregate orders by the first
    /// aggregate shown, alphabetical order by the first text column shown.
    pub(super) fn resolve_order_placeholders(&mut self) {
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
    }

    /// The groups of an aggregate: group-by columns shown first; rows of the subject grouped by
    /// its key ("the artist who made the fewest songs"), else by the plain columns shown.
    /// True when column `c` is named as the whole set ("of all schools", "across every country") or
    /// only in a condition that leaves values out (`Country <> 'Australia'`).
    fn names_the_whole_set(&self, c: ColRef) -> bool {
        let all = (0..self.links.spans.len()).any(|si| {
            let sp = self.span(si);
            // "of all schools", not "show all majors and the number of students"
            sp.start > 1
                && matches!(self.w(sp.start - 1), "all" | "every")
                && matches!(
                    self.w(sp.start - 2),
                    "of" | "across" | "for" | "over" | "among" | "in"
                )
                && matches!(sp.best().target, Target::Column { col } if col == c)
        });
        let left_out = self.f.conds.iter().any(|cond| match cond {
            Cond::Cmp {
                col, op: CmpOp::Ne, ..
            } => *col == c,
            Cond::In {
                col, negated: true, ..
            } => *col == c,
            _ => false,
        });
        all || left_out
    }

    pub(super) fn group_rows(&mut self) {
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
        // "the total enrollment of all schools", "the maximum level in countries that are not
        // Australia": a column beside figures that names the whole set, or the set a condition
        // leaves out, is no breakdown; it is not shown and nothing is grouped by it
        let plain: Vec<ColRef> =
            if has_agg && self.f.group_by.is_empty() && !order_agg && self.f.having.is_none() {
                let whole: Vec<ColRef> = plain
                    .iter()
                    .copied()
                    .filter(|&c| self.names_the_whole_set(c))
                    .collect();
                self.f.select.retain(|t| {
                    !(t.agg.is_none()
                        && matches!(t.measure, Measure::Column(c) if whole.contains(&c)))
                });
                plain.into_iter().filter(|c| !whole.contains(c)).collect()
            } else {
                plain
            };
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
            let rows_shown = plain
                .iter()
                .any(|c| c.table == t && (self.names_a_row(*c) || c.column == ci));
            // rows counted from the subject's table alone, one per key: every group would count
            // one row ("Which origin has the most flights?" groups by the origin)
            let alone = self.f.tables.iter().all(|&x| x == t)
                && self.mentioned_tables().iter().all(|&(_, x)| x == t)
                && self.used_columns().iter().all(|c| c.table == t)
                && self
                    .f
                    .order
                    .iter()
                    .map(|(term, _)| term)
                    .chain(self.f.having.iter().map(|h| &h.term))
                    .any(|term| term.agg == Some(AggFunc::Count) && term.measure == Measure::Star);
            (named && rows_shown && plain.iter().all(|c| c.table == t) && !alone).then_some(
                ColRef {
                    table: t,
                    column: ci,
                },
            )
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
    }

    /// Each select term once.
    pub(super) fn distinct_select(&mut self) {
        let mut seen: Vec<Term> = Vec::new();
        self.f.select.retain(|t| {
            if seen.contains(t) {
                false
            } else {
                seen.push(t.clone());
                true
            }
        });
    }

    /// Coverage and unmapped words: the content words nothing explained, the penalty for linked
    /// spans left unused, and the mean quality of the links used.
    /// Whether the frame leaves rows out by a denial: a `!=`, a `NOT IN` or `NOT LIKE`, rows
    /// excluded, an `EXCEPT`, or a business rule (which may say it in its own SQL).
    fn denies(&self) -> bool {
        fn denial(c: &Cond) -> bool {
            match c {
                Cond::Cmp { op, .. } => *op == CmpOp::Ne,
                Cond::In { negated, .. } | Cond::Like { negated, .. } => *negated,
                Cond::InSub { negated, conds, .. } => *negated || conds.iter().any(denial),
                Cond::CmpAgg { conds, .. } => conds.iter().any(denial),
                Cond::Raw { .. } => true,
                Cond::Or(v) => v.iter().any(denial),
                _ => false,
            }
        }
        !self.f.excluded.is_empty()
            || !self.f.rules.is_empty()
            || matches!(self.f.combine, Some((Combine::Except, ..)))
            || self.f.conds.iter().any(denial)
            || self
                .f
                .combine
                .as_ref()
                .is_some_and(|(_, a, b)| a.iter().chain(b).any(denial))
    }

    pub(super) fn coverage(&mut self) {
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
        for (i, t) in self.a.tokens.iter().enumerate() {
            let wanted = match t.lower.as_str() {
                "average" | "avg" | "mean" => AggFunc::Avg,
                "sum" => AggFunc::Sum,
                _ => continue,
            };
            // a word of a column's name ("average attendance", the `Average_Attendance`
            // column) names the column
            if self.span_index_at(i).is_some() {
                continue;
            }
            if !computed && !aggs.contains(&wanted) {
                content += 1;
                unmapped.push(t.text.clone());
                if self.f.unread_aggregate.is_none() {
                    self.f.unread_aggregate = Some(t.text.clone());
                }
            }
        }
        // a share asked for ("what percentage of customers are from the USA"): the frame
        // computes none, unless a business rule does
        if !computed && self.f.unread_aggregate.is_none() {
            self.f.unread_aggregate = self.a.tokens.iter().enumerate().find_map(|(i, t)| {
                let w = t.lower.as_str();
                let share = crate::sql::pattern::lexicon::SHARE_WORDS.contains(&w) || w == "ratio";
                let after_number =
                    i > 0 && self.a.tokens[i - 1].kind == crate::question::TokenKind::Number;
                (share
                    && !after_number
                    && self.span_index_at(i).is_none()
                    && !self.links.column_unit_at(self.a, i))
                .then(|| t.text.clone())
            });
        }
        // an extreme asked ("the highest salary") that the query neither ranks by nor computes
        // (no top-N, no MAX or MIN, no ranking read): the rows come in another order, which
        // answers another question; "at most" and "at least" compare
        let extreme_read = self.f.limit.is_some()
            || aggs
                .iter()
                .any(|a| matches!(a, AggFunc::Max | AggFunc::Min))
            || !self.order_cues.is_empty()
            || self.f.order.iter().any(|(t, _)| t.agg.is_some());
        if !computed && !extreme_read && self.f.unread_aggregate.is_none() {
            self.f.unread_aggregate = self.a.tokens.iter().enumerate().find_map(|(i, t)| {
                let compares = i > 0 && self.a.tokens[i - 1].lower == "at";
                (crate::sql::pattern::lexicon::superlative(&t.lower).is_some()
                    && !compares
                    && self.span_index_at(i).is_none())
                .then(|| t.text.clone())
            });
        }
        // an extreme of a verb the frame cannot read ("items that *react least to* price",
        // "depend most on"): ranking by the verb's object answers another question
        if !computed && extreme_read && self.f.unread_aggregate.is_none() {
            self.f.unread_aggregate = (1..self.a.tokens.len()).find_map(|j| {
                let extreme = matches!(self.a.word(j), "most" | "least")
                    && matches!(self.a.word(j + 1), "to" | "on" | "with" | "about" | "upon");
                if !extreme {
                    return None;
                }
                let i = if self.a.word(j - 1) == "the" && j > 1 {
                    j - 2
                } else {
                    j - 1
                };
                let t = &self.a.tokens[i];
                let verb = t.kind == TokenKind::Word
                    && !is_stopword(&t.lower)
                    && !is_structural(&t.lower)
                    && !self.explained[i]
                    && self.span_index_at(i).is_none();
                verb.then(|| format!("{} {}", t.text, self.a.tokens[j].text))
            });
        }
        // a breakdown by a period asked for ("weekly revenue", "units per quarter", "which
        // week") that the frame does not group by: the query answers another question
        let grouped_by_time = self.f.group_by_year.is_some()
            || self.f.group_by.iter().any(|&c| {
                crate::sql::pattern::linking::is_temporal(self.schema, c)
                    || crate::sql::pattern::linking::is_year_column(self.schema, c)
            });
        if !grouped_by_time {
            self.f.unread_breakdown = self.a.tokens.iter().enumerate().find_map(|(i, t)| {
                let w = t.lower.as_str();
                let adjective = matches!(
                    w,
                    "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually"
                );
                let noun = matches!(
                    w,
                    "day"
                        | "week"
                        | "month"
                        | "quarter"
                        | "year"
                        | "days"
                        | "weeks"
                        | "months"
                        | "quarters"
                        | "years"
                ) && i > 0
                    && matches!(
                        self.a.word(i - 1),
                        "by" | "per" | "each" | "every" | "which"
                    );
                // a word of a column's name ("daily hire cost", "days held", the `Month`
                // column) names that column, not a period
                let names_column = self.span_index_at(i).is_some_and(|si| {
                    self.span(si).links.iter().take(1).any(|l| match l.target {
                        Target::Column { col } => {
                            !crate::sql::pattern::linking::is_temporal(self.schema, col)
                        }
                        _ => false,
                    })
                });
                ((adjective || noun) && !names_column).then(|| t.text.clone())
            });
        }
        // a negation or a period no part of the query reads: another question is answered
        if !self.denies() {
            let n = self.n();
            let negation = (0..n).find(|&i| {
                let t = &self.a.tokens[i];
                t.kind == TokenKind::Word
                    && NEGATIONS.contains(&t.lower.as_str())
                    && self.span_index_at(i).is_none()
                    // "no more than 5", "not only", "whether or not": no denial of rows
                    && !NOT_DENYING_AFTER.contains(&self.w(i + 1))
                    && !(i > 0 && self.w(i - 1) == "or")
            });
            if let Some(i) = negation {
                let word = self.a.tokens[i].text.clone();
                self.f.unread_condition.get_or_insert(word);
            }
        }
        for r in &self.a.time_ranges {
            if self.period_unread(r) {
                let text: Vec<&str> = (r.tokens.0..r.tokens.1)
                    .map(|k| self.a.tokens[k].text.as_str())
                    .collect();
                self.f
                    .unread_condition
                    .get_or_insert_with(|| text.join(" "));
            }
        }
        for (i, t) in self.a.tokens.iter().enumerate() {
            if t.kind == TokenKind::Number {
                // a number no part of the query reads ("people under 40" with no column for
                // it): the condition it asks for is missing
                let in_time = self
                    .a
                    .time_ranges
                    .iter()
                    .any(|r| r.tokens.0 <= i && i < r.tokens.1);
                if !self.explained[i] && !in_time && self.span_index_at(i).is_none() {
                    content += 1;
                    unmapped.push(t.text.clone());
                    self.f.unread_number.get_or_insert_with(|| t.text.clone());
                }
                continue;
            }
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
        // every row of a table listed while a word after "are" names nothing: that word
        // qualified the rows
        let listing = self.listing;
        let lists_every_row = self.f.conds.is_empty()
            && self.f.excluded.is_empty()
            && self.f.combine.is_none()
            && self.f.group_by.is_empty()
            && self.f.having.is_none()
            && self.f.limit.is_none()
            && self.f.rules.is_empty()
            && self.f.select.iter().all(|t| t.agg.is_none())
            && self.f.order.iter().all(|(t, desc)| {
                !desc && matches!(t.measure, Measure::Column(c) if Some(c) == listing)
            });
        if lists_every_row {
            // a word that names nothing right after "are" / "is" ("which stores are
            // underperforming"): a predicate of the rows; request words ("all information")
            // and words elsewhere are left to the coverage
            self.f.unread_qualifier = self.a.tokens.iter().enumerate().find_map(|(i, t)| {
                let copula = i > 0 && matches!(self.a.word(i - 1), "is" | "are" | "was" | "were");
                (copula
                    && t.kind == TokenKind::Word
                    && !self.explained[i]
                    && self.span_index_at(i).is_none()
                    && self.f.unmapped.contains(&t.text))
                .then(|| t.text.clone())
            });
        }
        // a word of a foreign key from a table to itself: a relation the frame never joins
        // (unless it reads it: "Jane Peacock's manager")
        let relation_read =
            self.f.conds.iter().any(
                |c| matches!(c, Cond::InSub { outer, inner, .. } if outer.table == inner.table),
            );
        self.f.self_relation = self
            .links
            .spans
            .iter()
            .find_map(|sp| match sp.best().target {
                Target::Column { col } if !relation_read => {
                    self.self_reference(col).is_some().then(|| sp.text.clone())
                }
                _ => None,
            });
        self.f.coverage = if content == 0 {
            1.0
        } else {
            1.0 - self.f.unmapped.len() as f32 / content as f32
        };
        // a refusal names the negation or period it did not read
        if let Some(w) = self.f.unread_condition.clone() {
            if !self.f.unmapped.contains(&w) {
                self.f.unmapped.push(w);
            }
        }
        self.f.guesses += 0.05 * unused_links as f32;
        self.f.link_quality = if self.quality.is_empty() {
            0.0
        } else {
            self.quality.iter().sum::<f32>() / self.quality.len() as f32
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;

    #[test]
    fn every_word_of_a_fully_read_question_is_covered() {
        let f = case("the name of employees in Oslo").frame();
        assert!(f.unmapped.is_empty(), "{:?}", f.unmapped);
        assert_eq!(f.coverage, 1.0);
    }

    #[test]
    fn a_column_naming_the_whole_set_or_the_set_left_out_is_no_breakdown() {
        for q in [
            "the maximum salary of employees across all cities",
            "the maximum salary of employees in cities that are not Oslo",
        ] {
            let f = case(q).frame();
            assert!(f.group_by.is_empty(), "{q}: {f:?}");
            assert!(f.select.iter().all(|t| t.agg.is_some()), "{q}: {f:?}");
        }
        // "all cities and the number of employees" lists each city
        let f = case("Show all cities and the number of employees").frame();
        assert_eq!(f.group_by.len(), 1, "{f:?}");
    }

    #[test]
    fn a_negation_no_condition_reads_makes_the_frame_answer_another_question() {
        // the period read, its denial not
        let f = case("employees not hired in 2020").frame();
        assert_eq!(f.unread_condition.as_deref(), Some("not"), "{f:?}");
        // the refusal names it
        assert!(f.unmapped.contains(&"not".to_string()), "{:?}", f.unmapped);
        // a negation the frame reads, or one that bounds a number, is no such word
        for q in [
            "departments that have no employees",
            "employees in cities that are not Oslo",
            "employees aged no more than 30",
        ] {
            let f = case(q).frame();
            assert_eq!(f.unread_condition, None, "{q}: {f:?}");
        }
    }

    #[test]
    fn rows_of_one_table_counted_by_a_column_group_by_the_column_not_each_row() {
        // grouped by each employee, every group would count one row
        let c = case("Which employee names are used by more than one employee?");
        let f = c.frame();
        assert_eq!(f.group_by, [c.col("employee", "name")], "{f:?}");
    }

    #[test]
    fn words_nothing_explains_are_unmapped() {
        let f = case("employees who like jazz").frame();
        assert_eq!(f.unmapped, ["jazz"]);
        assert!(f.coverage < 1.0);
    }

    #[test]
    fn an_average_asked_for_and_not_computed_is_unmapped() {
        let f = case("the average colour of employees").frame();
        assert!(
            f.unmapped.iter().any(|w| w == "average"),
            "{:?}",
            f.unmapped
        );
    }

    #[test]
    fn every_row_listed_while_a_word_after_are_names_nothing_is_flagged() {
        let f = case("Which employees are underperforming?").frame();
        assert_eq!(f.unread_qualifier.as_deref(), Some("underperforming"));
        // a word the frame reads, or no predicate at all, is no unread qualifier
        let f = case("Which employees are in Oslo?").frame();
        assert_eq!(f.unread_qualifier, None, "{f:?}");
        let f = case("List all information about the employees").frame();
        assert_eq!(f.unread_qualifier, None, "{f:?}");
    }

    #[test]
    fn the_select_list_has_each_term_once() {
        let c = case("the name and the name of employees");
        let f = c.frame();
        let mut seen = f.select.clone();
        seen.dedup();
        assert_eq!(seen, f.select);
    }

    #[test]
    fn a_period_breakdown_the_frame_does_not_make_is_flagged() {
        // no time bucket in the frame: one average answers another question
        let f = case("Monthly average salary of employees").frame();
        assert_eq!(f.unread_breakdown.as_deref(), Some("Monthly"), "{f:?}");
        let f = case("average salary of employees per week").frame();
        assert_eq!(f.unread_breakdown.as_deref(), Some("week"), "{f:?}");
        // no period asked, or a word of a column's name: nothing flagged
        let f = case("average salary of employees in each department").frame();
        assert_eq!(f.unread_breakdown, None, "{f:?}");
    }
}
