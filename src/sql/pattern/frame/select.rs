//! The select-list pass: the columns, aggregates and counts the head asks to show.

use super::links::person_name_columns;
use super::state::Builder;
use super::{Cond, Measure, Term};
use crate::question::tokens::split_identifier;
use crate::question::TokenKind;
use crate::sql::pattern::ast::{AggFunc, CmpOp};
use crate::sql::pattern::lexicon::adjective_attrs;
use crate::sql::pattern::linking::{is_temporal, ColRef, Target};
use crate::warehouse::ColumnKind;

impl<'a> Builder<'a> {
    /// "how big is it", "how old is the captain": "how" before an adjective of an attribute
    /// asks for the attribute's column of the tables in focus (a store's square feet, an age),
    /// one term for each such pair of words the rest of the frame left unread.
    fn asked_attributes(&mut self) -> Vec<Term> {
        let mut out = Vec::new();
        for i in 0..self.n().saturating_sub(1) {
            if self.w(i) != "how" || self.order_cues.contains(&(i + 1)) {
                continue;
            }
            let Some(attrs) = adjective_attrs(self.w(i + 1)) else {
                continue;
            };
            let c = match self.span_index_at(i + 1) {
                // the adjective linked to its column ("how old": the age)
                Some(si) => match self.resolve_column(si).filter(|_| !self.used[si]) {
                    Some(c) => {
                        self.use_span(si);
                        c
                    }
                    None => continue,
                },
                None => {
                    let Some((c, _)) = self.attribute_column(attrs, &self.focus_tables()) else {
                        continue;
                    };
                    // "how large is the population": the column named, the words only ask
                    // for it
                    let named = self.links.spans.iter().any(|sp| {
                        sp.links
                            .iter()
                            .any(|l| matches!(l.target, Target::Column { col } if col == c))
                    });
                    if named {
                        continue;
                    }
                    c
                }
            };
            self.mark(i, i + 2);
            self.f.notes.push(format!(
                "'how {}' asks for {}",
                self.w(i + 1),
                self.col_name(c)
            ));
            out.push(Term::col(c));
        }
        out
    }

    pub(super) fn select_list(&mut self, head_end: usize) {
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
                    // "the average number of votes" averages a column; "the number of X" counts;
                    // "the flight number of flights" names an identifier, counts nothing
                    let compound = w == "number"
                        && i > 0
                        && self.span_index_at(i - 1).is_some()
                        && !matches!(self.w(i - 1), "total" | "average" | "the");
                    if (self.w(i + 1) == "of" || w == "count") && pending.is_empty() && !compound {
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
                if count && self.modifies_next_column(si) {
                    // "how many different captain ranks": the table's word qualifies its
                    // column, which is what is counted
                    if let Some(t) = self.span_table(si) {
                        head_tables.push(t);
                    }
                    self.use_span(si);
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
                        if count && !distinct && self.is_quantity(c) {
                            // "how many passengers", "the total number of hours": a column
                            // that holds a count is summed, not its values counted
                            items.push(Term {
                                agg: Some(AggFunc::Sum),
                                distinct: false,
                                measure: Measure::Column(c),
                            });
                            count = false;
                        } else if count {
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
                            // a person's name is the first and the last name ("full names")
                            if self.named_table_of_name_word(si).is_some() {
                                if sp.start > 0 && self.w(sp.start - 1) == "full" {
                                    self.mark(sp.start - 1, sp.start);
                                }
                                if let Some((first, last)) =
                                    person_name_columns(self.schema, c.table)
                                {
                                    if c == first {
                                        items.push(Term::col(last));
                                    }
                                }
                            }
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
        items.extend(self.asked_attributes());
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
                    // "stores opened after 2015", "products with a base price over $20": the
                    // rows beside the figure or date they were picked by (each row once, by
                    // its key: no group and no set operation reads the column otherwise)
                    if !distinct && key.is_some() && self.f.group_by.is_empty() {
                        for cond in &self.f.conds {
                            let col = match cond {
                                Cond::Cmp { col, op, .. }
                                    if !matches!(op, CmpOp::Eq | CmpOp::Ne) =>
                                {
                                    *col
                                }
                                Cond::Between { col, .. } | Cond::DateRange { col, .. } => *col,
                                _ => continue,
                            };
                            let shown = items.iter().any(|i| i.measure == Measure::Column(col));
                            if col.table == t && !shown && Some(col) != key {
                                items.push(Term::col(col));
                                // rows picked by a period: in the order of their time
                                let dated = matches!(cond, Cond::DateRange { .. });
                                if dated && self.f.order.is_empty() && self.f.limit.is_none() {
                                    self.f.order.push((Term::col(col), false));
                                }
                            }
                        }
                    }
                    // which columns show a row is a guess unless a curator named them
                    if distinct || self.lex.display_columns(t).is_empty() {
                        self.f.guesses += 0.1;
                    }
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

    /// "When did Nashville Express open?", "Which stores opened in 2020 or later, and when?": a
    /// question that asks "when" shows the time its words name: the temporal column a word
    /// links to and nothing else reads (`open` -> `open_date`), else the temporal column a
    /// condition reads. One row named by its name shows that time alone; rows listed show it
    /// after their display columns, in its order. Aggregates and groups are left alone.
    pub(super) fn asked_time(&mut self) {
        let n = self.n();
        let asks = (0..n).any(|k| {
            self.w(k) == "when"
                && (k == self.head_start || (k > 0 && matches!(self.w(k - 1), "and" | ",")))
        });
        if !asks
            || !self.f.group_by.is_empty()
            || self.f.select.iter().any(|t| t.agg.is_some())
            || self.f.select.is_empty()
        {
            return;
        }
        let mut time = None;
        for si in 0..self.links.spans.len() {
            if self.used[si] || !self.is_column_span(si) || self.is_value_span(si) {
                continue;
            }
            if let Some(c) = self
                .resolve_column(si)
                .filter(|&c| is_temporal(self.schema, c))
            {
                self.use_span(si);
                time = Some(c);
                break;
            }
        }
        let time = time.or_else(|| {
            self.f
                .conds
                .iter()
                .flat_map(Cond::columns)
                .find(|&c| is_temporal(self.schema, c))
        });
        let Some(c) = time else { return };
        if self.f.select.contains(&Term::col(c)) {
            // shown already (the rows were picked by it): in the order of that time
            if self.f.order.is_empty() && self.f.limit.is_none() {
                self.f.order.push((Term::col(c), false));
            }
            return;
        }
        // one row named: its name column (or a name of it: `FirstName`, `LastName`) equals a value
        let names_row = |b: &Self, col: ColRef, name: ColRef| {
            col == name
                || col.table == name.table
                    && split_identifier(&b.schema.tables[col.table].columns[col.column].name)
                        .iter()
                        .any(|w| w == "name")
        };
        let one_named = self.listing.is_some_and(|name| {
            self.f.conds.iter().any(|cond| match cond {
                Cond::Cmp { col, op, .. } => *op == CmpOp::Eq && names_row(self, *col, name),
                Cond::In {
                    col,
                    values,
                    negated: false,
                } => values.len() == 1 && names_row(self, *col, name),
                _ => false,
            })
        });
        if one_named {
            self.f.select = vec![Term::col(c)];
            self.listing = None;
        } else {
            self.f.select.push(Term::col(c));
            // rows asked "when": in the order of that time, unless an order is asked
            if self.f.order.is_empty() && self.f.limit.is_none() {
                self.f.order.push((Term::col(c), false));
            }
        }
        self.f
            .notes
            .push(format!("'when' shows {}", self.col_name(c)));
    }

    /// Columns named after the head by a possessive ("the Cereal products with their brand and
    /// package size", "... along with its price"), unless a comparison or a value follows them
    /// (then they are a condition: "with their price above 10").
    pub(super) fn trailing_columns(&mut self, head_end: usize, items: &mut Vec<Term>) {
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
    pub(super) fn prefers_column(&mut self, si: usize, counting: bool) -> bool {
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

    /// True when the table span `si` is a noun modifier of the column span right after it, of
    /// the same table and not a key ("captain ranks", "company industries"): the pair names the
    /// column, not the table's rows.
    fn modifies_next_column(&mut self, si: usize) -> bool {
        let Some(t) = self
            .span_table(si)
            .filter(|_| self.is_table_span(si) && !self.used[si])
        else {
            return false;
        };
        let Some(next) = self.span_index_at(self.span(si).end) else {
            return false;
        };
        if next == si || self.used[next] || self.is_table_span(next) || !self.is_column_span(next) {
            return false;
        }
        self.resolve_column(next)
            .is_some_and(|c| c.table == t && !self.is_key(c))
    }

    /// True when column `c` holds a quantity: numeric, not the table's key, not a foreign key,
    /// and not named as an identifier, code, number, year or rank (`hours`, `passengers`,
    /// `Undergraduate`; not `dept_id`, `zip_code`, `year`).
    pub(super) fn is_quantity(&self, c: ColRef) -> bool {
        let table = &self.schema.tables[c.table];
        let col = &table.columns[c.column];
        let numeric = matches!(col.kind(), ColumnKind::Integer | ColumnKind::Real);
        let foreign = table
            .foreign_keys
            .iter()
            .any(|fk| fk.from_column.eq_ignore_ascii_case(&col.name));
        let words = split_identifier(&col.name);
        let named_as_key = words.iter().any(|w| {
            matches!(
                w.as_str(),
                "id" | "code" | "number" | "num" | "no" | "year" | "rank" | "ranking" | "zip"
            )
        });
        numeric && !self.is_key(c) && !foreign && !named_as_key
    }

    /// A yes/no column named by an adjective ("promoted weeks", "discontinued products") is a
    /// condition (`= 1`, or `= 0` after "not"/"non"), not a column to show. Yes/no columns are
    /// integer columns named `..._flag`, `is_...`, `has_...`; the word must not be the column's
    /// own name ("the promotion flag" shows the column).
    pub(super) fn flag_condition(&mut self, si: usize, c: ColRef) -> bool {
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
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::{Measure, Term};
    use crate::sql::pattern::ast::AggFunc;

    #[test]
    fn how_and_an_adjective_ask_for_its_attribute() {
        let c = case("which city is the employee Ann in and how old is she");
        let f = c.frame();
        assert!(
            f.select
                .iter()
                .any(|t| t.measure == Measure::Column(c.col("employee", "age"))),
            "{f:?}"
        );
        // "how old" of a column the question names is the column's own wording
        let f = case("on average how large is the salary of employees").frame();
        assert_eq!(f.select.len(), 1, "{f:?}");
    }

    #[test]
    fn the_columns_named_in_the_head_are_shown() {
        let c = case("the name and salary of employees in Oslo");
        let b = c.until("select list");
        assert_eq!(
            b.f.select,
            [
                Term::col(c.col("employee", "name")),
                Term::col(c.col("employee", "salary"))
            ]
        );
    }

    #[test]
    fn how_many_counts_the_rows() {
        let c = case("How many employees are there?");
        let b = c.until("select list");
        assert_eq!(b.f.select, [Term::count()]);
    }

    #[test]
    fn how_many_different_table_column_counts_the_columns_distinct_values() {
        let c = case("How many different employee cities are there?");
        let b = c.until("select list");
        assert_eq!(
            b.f.select,
            [Term {
                agg: Some(AggFunc::Count),
                distinct: true,
                measure: Measure::Column(c.col("employee", "city")),
            }]
        );
    }

    #[test]
    fn a_number_of_a_quantity_column_sums_it_and_a_key_is_still_counted() {
        let c = case("What is the total number of hours of all employees?");
        let b = c.until("select list");
        assert_eq!(
            b.f.select,
            [Term {
                agg: Some(AggFunc::Sum),
                distinct: false,
                measure: Measure::Column(c.col("works_on", "hours")),
            }]
        );
        // different values of a quantity are counted
        let c = case("How many different ages do employees have?");
        let b = c.until("select list");
        assert_eq!(b.f.select[0].agg, Some(AggFunc::Count), "{:?}", b.f.select);
        // a department id is no quantity
        let c = case("How many dept ids are there?");
        let b = c.until("select list");
        assert_eq!(b.f.select[0].agg, Some(AggFunc::Count), "{:?}", b.f.select);
    }

    #[test]
    fn a_number_after_a_named_word_is_an_identifier_not_a_count() {
        let c = case("the city number of employees in Oslo");
        let b = c.until("select list");
        assert!(
            b.f.select.iter().all(|t| t.agg.is_none()),
            "{:?}",
            b.f.select
        );
        let c = case("the number of employees in Oslo");
        let b = c.until("select list");
        assert_eq!(b.f.select, [Term::count()]);
    }

    #[test]
    fn an_aggregate_word_applies_to_the_column_after_it() {
        let c = case("the average salary of employees");
        let b = c.until("select list");
        assert_eq!(
            b.f.select,
            [Term {
                agg: Some(AggFunc::Avg),
                distinct: false,
                measure: Measure::Column(c.col("employee", "salary")),
            }]
        );
    }

    #[test]
    fn when_shows_the_time_its_verb_names() {
        // one row named by its name: the time alone
        let c = case("When was Ada Lovelace hired?");
        let b = c.until("asked time");
        assert_eq!(b.f.select, [Term::col(c.col("employee", "hire_date"))]);
        // rows listed: their names, then the time
        let c = case("When were the employees in Oslo hired?");
        let b = c.until("asked time");
        assert_eq!(
            b.f.select.last(),
            Some(&Term::col(c.col("employee", "hire_date")))
        );
        assert!(b.f.select.len() > 1, "{:?}", b.f.select);
        assert_eq!(
            b.f.order,
            [(Term::col(c.col("employee", "hire_date")), false)]
        );
        // "and when": the time a condition reads is shown too
        let c = case("Which employees were hired after 2020, and when?");
        let b = c.until("asked time");
        assert!(
            b.f.select
                .contains(&Term::col(c.col("employee", "hire_date"))),
            "{:?}",
            b.f.select
        );
    }
}
