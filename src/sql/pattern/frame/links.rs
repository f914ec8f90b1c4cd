//! What every pass reads: the question's words, the linked spans and the columns chosen for
//! them, the tables in play, and the small constructors of conditions and literals.

use std::collections::BTreeSet;

use super::state::Builder;
use super::{Cond, Measure};
use crate::question::tokens::{is_stopword, split_identifier, stem};
use crate::question::TokenKind;
use crate::sql::pattern::ast::Literal;
use crate::sql::pattern::linking::{is_temporal, ColRef, Span, Target};
use crate::warehouse::{ColumnKind, Schema};

impl<'a> Builder<'a> {
    pub(super) fn w(&self, i: usize) -> &str {
        self.a.word(i)
    }

    pub(super) fn n(&self) -> usize {
        self.a.tokens.len()
    }

    pub(super) fn span(&self, si: usize) -> &'a Span {
        &self.links.spans[si]
    }

    pub(super) fn span_index_at(&self, i: usize) -> Option<usize> {
        self.links.token_span.get(i).copied().flatten()
    }

    pub(super) fn mark(&mut self, from: usize, to: usize) {
        for k in from..to.min(self.explained.len()) {
            self.explained[k] = true;
        }
    }

    pub(super) fn use_span(&mut self, si: usize) {
        if !self.used[si] {
            self.used[si] = true;
            let sp = self.span(si);
            // the curated tables' bonus decides between links, it is no evidence of a link's quality
            self.quality
                .push((sp.best().score - sp.best().curated).min(1.0));
            self.mark(sp.start, sp.end);
        }
    }

    pub(super) fn is_column_span(&self, si: usize) -> bool {
        self.span(si)
            .links
            .iter()
            .any(|l| matches!(l.target, Target::Column { .. }))
            && matches!(
                self.span(si).best().target,
                Target::Column { .. } | Target::Table { .. }
            )
    }

    pub(super) fn is_table_span(&self, si: usize) -> bool {
        matches!(self.span(si).best().target, Target::Table { .. })
    }

    pub(super) fn is_value_span(&self, si: usize) -> bool {
        matches!(self.span(si).best().target, Target::Value { .. })
    }

    pub(super) fn span_table(&self, si: usize) -> Option<usize> {
        self.span(si).links.iter().find_map(|l| match l.target {
            Target::Table { table } => Some(table),
            _ => None,
        })
    }

    /// The tables named in the question.
    pub(super) fn mentioned_tables(&self) -> Vec<(usize, usize)> {
        (0..self.links.spans.len())
            .filter(|&si| self.is_table_span(si))
            // a word of a business rule's keyword is the rule's ("the most *price*-sensitive
            // products" names no pricing table)
            .filter(|&si| {
                let sp = self.span(si);
                !self
                    .rule_tokens
                    .iter()
                    .any(|&(s, e, _)| sp.start < e && s < sp.end)
            })
            .filter_map(|si| self.span_table(si).map(|t| (si, t)))
            .collect()
    }

    /// Next span starting within `window` tokens after `i` (skipping stopwords and the words
    /// given), or None when another kind of word comes first.
    pub(super) fn next_span(&self, i: usize, window: usize, skip: &[&str]) -> Option<usize> {
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
    pub(super) fn prev_span(&self, i: usize, window: usize, skip: &[&str]) -> Option<usize> {
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
    pub(super) fn resolve_column(&mut self, si: usize) -> Option<ColRef> {
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
        let mut c = cands.first().map(|x| x.1)?;
        // "the names of the employees", "customer names": the word "name" beside a table asks
        // for what names that table's rows (a person's first and last name), not for a column
        // of another table called `Name` nor for a synonym of "name" (a job title)
        if let Some(t) = self.named_table_of_name_word(si) {
            if let Some(nc) = self.row_name_column(t) {
                c = nc;
            }
        }
        self.span_col.insert(si, c);
        Some(c)
    }

    /// The column a table's rows are called by, when it has one of its own: a person's first
    /// name (with a last name beside it), or a `name`, a `<thing>_name` or a `title` that is no
    /// foreign key (`dept_name` of a course names its department). `None` for a table named only
    /// by a fallback text column or a key.
    pub(super) fn row_name_column(&self, t: usize) -> Option<ColRef> {
        match person_name_columns(self.schema, t) {
            Some((first, _)) => Some(first),
            None => own_name_column(self.schema, t),
        }
    }

    /// When span `si` is the bare word "name" ("names", "full name") right beside a table
    /// ("the names of all customers", "customer names"): that table.
    pub(super) fn named_table_of_name_word(&self, si: usize) -> Option<usize> {
        let sp = self.span(si);
        let words: Vec<&str> = (sp.start..sp.end).map(|k| self.w(k)).collect();
        if !matches!(words.as_slice(), ["name" | "names"]) {
            return None;
        }
        let mut k = sp.end;
        if self.w(k) == "of" {
            k += 1;
            while matches!(
                self.w(k),
                "the" | "all" | "each" | "every" | "our" | "these" | "those"
            ) {
                k += 1;
            }
            if let Some(t) = self
                .span_index_at(k)
                .filter(|&s| self.is_table_span(s) && self.span(s).start == k)
                .and_then(|s| self.span_table(s))
            {
                return Some(t);
            }
        }
        let mut k = sp.start;
        if k > 0 && self.w(k - 1) == "full" {
            k -= 1;
        }
        (k > 0)
            .then(|| self.span_index_at(k - 1))
            .flatten()
            .filter(|&s| self.is_table_span(s) && self.span(s).end == k)
            .and_then(|s| self.span_table(s))
    }

    pub(super) fn used_columns(&self) -> Vec<ColRef> {
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

    /// Whether column `c` says which row of its table a row is: the table's name column, a
    /// person's first or last name, or a column named as a name or title (`full_name`, `title`).
    pub(super) fn names_a_row(&self, c: ColRef) -> bool {
        if self.name_column(c.table) == Some(c) {
            return true;
        }
        if person_name_columns(self.schema, c.table).is_some_and(|(f, l)| c == f || c == l) {
            return true;
        }
        split_identifier(&self.schema.tables[c.table].columns[c.column].name)
            .iter()
            .any(|w| matches!(stem(w).as_str(), "name" | "titl"))
    }

    /// Finds a column of the attribute stems, preferring the tables in `prefer`.
    pub(super) fn attribute_column(
        &self,
        attrs: &[(&str, i8)],
        prefer: &[usize],
    ) -> Option<(ColRef, i8)> {
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

    pub(super) fn focus_tables(&self) -> Vec<usize> {
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

    pub(super) fn number_literal(v: f64) -> Literal {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            Literal::Number(format!("{}", v as i64))
        } else {
            Literal::Number(format!("{v}"))
        }
    }

    pub(super) fn col_name(&self, c: ColRef) -> String {
        format!(
            "{}.{}",
            self.schema.tables[c.table].name, self.schema.tables[c.table].columns[c.column].name
        )
    }

    /// The single-column primary key of table `t`, if it has one ([`key_column`]).
    pub(super) fn key_column(&self, t: usize) -> Option<ColRef> {
        self::key_column(self.schema, t)
    }

    pub(super) fn is_key(&self, c: ColRef) -> bool {
        let t = &self.schema.tables[c.table];
        t.primary_key.len() == 1 && t.primary_key[0].eq_ignore_ascii_case(&t.columns[c.column].name)
    }

    /// Whether `c` is part of its table's primary key or an end of a foreign key: a column
    /// that identifies rows, not a figure.
    pub(super) fn is_join_key(&self, c: ColRef) -> bool {
        let t = &self.schema.tables[c.table];
        let name = &t.columns[c.column].name;
        t.primary_key.iter().any(|k| k.eq_ignore_ascii_case(name))
            || self.graph.edges.iter().any(|e| e.a == c || e.b == c)
    }

    /// Takes the conditions `take` picks out of the frame (given each and the token it was
    /// read at, [`Builder::push_cond_at`]) and returns them in order with their tokens; the
    /// tokens of the others follow them to their new places.
    pub(super) fn take_conds(
        &mut self,
        take: impl Fn(&Cond, Option<usize>) -> bool,
    ) -> Vec<(Cond, Option<usize>)> {
        let mut taken = Vec::new();
        let mut kept = Vec::new();
        let mut tokens = std::collections::HashMap::new();
        for (i, c) in std::mem::take(&mut self.f.conds).into_iter().enumerate() {
            let token = self.cond_tokens.get(&i).copied();
            if take(&c, token) {
                taken.push((c, token));
            } else {
                if let Some(t) = token {
                    tokens.insert(kept.len(), t);
                }
                kept.push(c);
            }
        }
        self.f.conds = kept;
        self.cond_tokens = tokens;
        taken
    }

    pub(super) fn push_cond_at(&mut self, token: usize, c: Cond) {
        self.cond_tokens.insert(self.f.conds.len(), token);
        self.f.conds.push(c);
    }
}

/// The single-column primary key of table `t` of `schema`, if it has one.
pub fn key_column(schema: &Schema, t: usize) -> Option<ColRef> {
    let table = &schema.tables[t];
    let [key] = table.primary_key.as_slice() else {
        return None;
    };
    let column = table
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(key))?;
    Some(ColRef { table: t, column })
}

/// The column that names rows of a table: `name`, `title`, `..._name`, else the first text
/// column that is not a key, else the primary key, else the first column.
/// The first-name and last-name columns of a table of people (`FirstName`, `last_name`), when it
/// has both: together they say who a row is.
pub fn person_name_columns(schema: &Schema, t: usize) -> Option<(ColRef, ColRef)> {
    let table = &schema.tables[t];
    // `FirstName`, `first_name`, `customer_first_name`: the same words before each
    let find = |w: &str| {
        table.columns.iter().enumerate().find_map(|(i, c)| {
            let words = split_identifier(&c.name);
            let n = words.len();
            (n >= 2 && words[n - 2] == w && stem(&words[n - 1]) == "name")
                .then(|| (i, words[..n - 2].to_vec()))
        })
    };
    let ((first, before_first), (last, before_last)) = (find("first")?, find("last")?);
    if before_first != before_last {
        return None;
    }
    Some((
        ColRef {
            table: t,
            column: first,
        },
        ColRef {
            table: t,
            column: last,
        },
    ))
}

/// The column that names table `t`'s rows ([`name_column`]) when it is a name of their own: a
/// `name`, a `<thing>_name` or a `title`, not a first or last name, not a foreign key
/// (`dept_name` of a course names its department), not a fallback text column or key.
pub fn own_name_column(schema: &Schema, t: usize) -> Option<ColRef> {
    let c = name_column(schema, t)?;
    let table = &schema.tables[t];
    let name = &table.columns[c.column].name;
    let words = split_identifier(name);
    let first = words.first().map(String::as_str);
    let named = words.iter().any(|w| w == "name" || w == "title")
        && !matches!(first, Some("first" | "last"));
    let foreign = table
        .foreign_keys
        .iter()
        .any(|fk| fk.from_column.eq_ignore_ascii_case(name));
    (named && !foreign).then_some(c)
}

pub fn name_column(schema: &Schema, t: usize) -> Option<ColRef> {
    let table = &schema.tables[t];
    // a person's table (a first and a last name): the name, not a job title, says who a row is
    let person = person_name_columns(schema, t);
    if let Some((first, _)) = person {
        return Some(first);
    }
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

#[cfg(test)]
mod tests {
    use super::super::testing::{case, company};
    use super::*;
    use crate::warehouse::ForeignKey;

    #[test]
    fn the_name_column_of_a_table_is_its_name_or_title() {
        let s = company();
        assert_eq!(name_column(&s, 1).map(|c| c.column), Some(1)); // employee.name
        assert_eq!(name_column(&s, 2).map(|c| c.column), Some(1)); // project.title
        assert_eq!(name_column(&s, 0).map(|c| c.column), Some(1)); // department.dept_name
    }

    #[test]
    fn a_name_of_their_own_names_a_tables_rows_but_a_key_or_a_foreign_name_does_not() {
        let s = company();
        // employee.name, project.title, department.dept_name
        assert_eq!(own_name_column(&s, 1).map(|c| c.column), Some(1));
        assert_eq!(own_name_column(&s, 2).map(|c| c.column), Some(1));
        assert_eq!(own_name_column(&s, 0).map(|c| c.column), Some(1));
        // works_on: named by its key only
        assert_eq!(own_name_column(&s, 3), None);
        let mut fk = company();
        fk.tables[0].foreign_keys.push(ForeignKey {
            from_column: "dept_name".into(),
            to_table: "project".into(),
            to_column: "title".into(),
        });
        assert_eq!(own_name_column(&fk, 0), None);
        let mut first = company();
        first.tables[1].columns[1].name = "first_name".into();
        assert_eq!(own_name_column(&first, 1), None);
    }

    #[test]
    fn a_table_without_a_text_column_is_named_by_its_key() {
        let s = company();
        // works_on: no text column, a key of two columns: the first column
        assert_eq!(name_column(&s, 3).map(|c| c.column), Some(0));
    }

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        assert_eq!(Builder::number_literal(30.0), Literal::Number("30".into()));
        assert_eq!(Builder::number_literal(2.5), Literal::Number("2.5".into()));
    }

    #[test]
    fn the_next_span_skips_stop_words_but_not_conjunctions() {
        let c = case("the salary of the employees and their age");
        let b = c.until("structure");
        let of = (0..b.n()).find(|&i| b.w(i) == "of").unwrap();
        let next = b
            .next_span(of + 1, 3, &[])
            .map(|si| b.span(si).text.as_str());
        assert_eq!(next, Some("employees"));
        let and = (0..b.n()).find(|&i| b.w(i) == "and").unwrap();
        assert_eq!(b.next_span(and, 3, &[]), None);
        assert!(b.next_span(and, 3, &["and"]).is_some());
    }
}
