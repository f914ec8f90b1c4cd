//! The head pass: which words say what to show (from the listing verb to the first clause
//! word), and the subject table the question is about.

use super::state::Builder;
use crate::question::tokens::is_stopword;
use crate::question::TokenKind;
use crate::sql::pattern::lexicon::{is_structural, relation_phrase_at, CLAUSE_WORDS, VERBS};
use crate::sql::pattern::linking::{ColRef, Target};

impl<'a> Builder<'a> {
    /// The words of the business rules the question calls up are the rules' (no column link of
    /// theirs is used); punctuation, stop words and structural words need no link.
    pub(super) fn structure(&mut self) {
        let n = self.n();
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
            // "the customers Margaret Park looks after": a verb of assignment says how two
            // linked things relate, which the join between them reads
            if let Some(len) = relation_phrase_at(&self.a.tokens, i) {
                if (i..i + len).all(|k| self.span_index_at(k).is_none()) {
                    self.mark(i, i + len);
                }
            }
        }
    }

    /// The head of the question and its subject: a table named in the head, else the table of
    /// the first column named in the head ("the names of customers" linked as one column), else
    /// the first table named.
    pub(super) fn subject(&mut self) {
        let head_start = self.after_leading_values(self.head_start());
        let head_end = self.head_end(head_start);
        self.head_start = head_start;
        self.head_end = head_end;
        let tables = self.mentioned_tables();
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
    }

    /// Where the head starts in a question typed as "<who> <what>" ("robert king hire date",
    /// "Nancy Edwards' phone", "AC/DC albums"): after the stored values it opens with, when a
    /// column or table follows them; else `start`.
    fn after_leading_values(&self, start: usize) -> usize {
        let n = self.n();
        let mut k = start;
        let mut values = 0;
        while k < n {
            if let Some(si) = self.span_index_at(k).filter(|&si| self.span(si).start == k) {
                if self.is_value_span(si) && !self.is_column_span(si) && !self.is_table_span(si) {
                    values += 1;
                    k = self.span(si).end;
                    continue;
                }
            }
            if matches!(self.w(k), "'s" | "'" | "the") {
                k += 1;
                continue;
            }
            break;
        }
        let names_what = self
            .span_index_at(k)
            .filter(|&si| self.span(si).start == k && !self.is_value_span(si))
            .is_some_and(|si| self.is_column_span(si) || self.is_table_span(si));
        if values > 0 && names_what {
            k
        } else {
            start
        }
    }

    /// Index of the first token after the part that says what to show.
    /// Where the part that says what to show starts: at the beginning, or at a later clause that
    /// opens with a listing verb ("Which city has the lowest GDP? List the city name and its GDP.").
    pub(super) fn head_start(&self) -> usize {
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

    /// Whether the values from token `i` on end in a possessive followed by a column ("What is
    /// Nancy Edwards's title?", "Jane Peacock's manager"): the column is asked for, the values
    /// name the row.
    fn possessive_of_a_column(&self, i: usize) -> bool {
        let n = self.n();
        let mut k = i;
        let mut last = None;
        let mut value_columns = Vec::new();
        while k < n {
            match self.span_index_at(k) {
                Some(si) if self.is_value_span(si) => {
                    if let Target::Value { col, .. } = self.span(si).best().target {
                        value_columns.push(col);
                    }
                    last = Some(self.span(si).end);
                    k = self.span(si).end;
                }
                _ => break,
            }
        }
        let Some(end) = last else {
            return false;
        };
        let w = self.w(end - 1);
        let after = if w.ends_with("'s") || w.ends_with("s'") {
            end
        } else if matches!(self.w(end), "'" | "'s") {
            end + 1
        } else {
            return false;
        };
        // an attribute: another column than the values' own, and no foreign key to another
        // table ("Alice's friends" through a column of friends names a relation, not an
        // attribute of Alice; a key to the table itself is read by the self relation pass)
        let foreign_key = |col: ColRef| {
            let table = &self.schema.tables[col.table];
            let name = &table.columns[col.column].name;
            table.foreign_keys.iter().any(|fk| {
                fk.from_column.eq_ignore_ascii_case(name)
                    && !fk.to_table.eq_ignore_ascii_case(&table.name)
            })
        };
        self.span_index_at(after).is_some_and(|si| {
            self.is_column_span(si)
                && !self.span(si).links.iter().any(|l| {
                    matches!(l.target, Target::Column { col }
                        if value_columns.contains(&col) || foreign_key(col))
                })
        })
    }

    pub(super) fn head_end(&self, start: usize) -> usize {
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
                if self.is_value_span(si) && i > start && !self.possessive_of_a_column(i) {
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
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Term;

    #[test]
    fn a_column_after_a_possessive_value_is_asked_for() {
        for q in [
            "What is Ada Lovelace's salary?",
            "What is Ada Lovelace' salary?",
        ] {
            let c = case(q);
            let f = c.frame();
            assert_eq!(
                f.select,
                vec![Term::col(c.col("employee", "salary"))],
                "{q}: {f:?}"
            );
            assert!(!f.conds.is_empty(), "{q}: {f:?}");
        }
    }

    #[test]
    fn structural_words_and_stop_words_are_explained_up_front() {
        let c = case("How many employees are there?");
        let b = c.until("structure");
        let explained: Vec<&str> = (0..b.n())
            .filter(|&i| b.explained[i])
            .map(|i| b.w(i))
            .collect();
        assert_eq!(explained, ["how", "many", "are", "there", "?"]);
    }

    #[test]
    fn the_subject_is_the_table_named_in_the_head() {
        let c = case("List the names of employees in the Sales department");
        let b = c.until("subject");
        assert_eq!(b.f.subject, Some(c.table("employee")));
        assert_eq!(b.head_start, 0);
        // the head ends at the first stored value
        assert_eq!(b.w(b.head_end), "sales");
    }

    #[test]
    fn a_later_listing_clause_starts_the_head() {
        let c = case("Which department has the largest budget? List its name and budget.");
        let b = c.until("subject");
        assert_eq!(b.w(b.head_start), "list");
        // the subject is read in the listing clause ("its name and budget"), not in the
        // question before it
        assert!(b.f.subject.is_some());
    }

    #[test]
    fn a_question_typed_as_who_then_what_asks_for_the_what() {
        // "Sales budget": the stored value says which row, the column what to show
        for q in ["Sales budget", "the Research department's budget"] {
            let c = case(q);
            let b = c.until("select list");
            assert!(b.head_start > 0, "{q}");
            assert_eq!(
                b.f.select,
                [super::super::Term::col(c.col("department", "budget"))],
                "{q}"
            );
        }
        // a value that opens a question with a verb still ends nothing
        let c = case("Sales has which budget?");
        let b = c.until("subject");
        assert_eq!(b.head_start, 0);
    }

    #[test]
    fn a_clause_word_ends_the_head() {
        let c = case("the names of employees who are older than 30");
        let b = c.until("subject");
        assert_eq!(b.w(b.head_end), "who");
    }
}
