//! A row's relation to another row of its own table ("Jane Peacock's manager", "the manager of
//! Jane Peacock"): a foreign key from a table to itself, read as the rows the named rows point
//! to, `key IN (SELECT fk FROM t WHERE <the named rows>)`.

use super::state::Builder;
use super::{Cond, Measure, Term};
use crate::sql::pattern::linking::{ColRef, Target};

impl Builder<'_> {
    /// The foreign key of `col`'s table to itself that `col` is, as the key column it points to.
    pub(super) fn self_reference(&self, col: ColRef) -> Option<ColRef> {
        let table = &self.schema.tables[col.table];
        let name = &table.columns[col.column].name;
        let fk = table.foreign_keys.iter().find(|fk| {
            fk.from_column.eq_ignore_ascii_case(name)
                && fk.to_table.eq_ignore_ascii_case(&table.name)
        })?;
        let column = table
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(&fk.to_column))?;
        Some(ColRef {
            table: col.table,
            column,
        })
    }

    /// "Jane Peacock's manager": a word of a foreign key to the table itself, in the possessive
    /// of the rows the conditions name (or followed by "of" and them), asks for the rows those
    /// point to. Only a plain listing whose every condition reads the table's own columns.
    pub(super) fn self_relation_lookup(&mut self) {
        if !self.f.group_by.is_empty()
            || self.f.having.is_some()
            || self.f.limit.is_some()
            || self.f.conds.is_empty()
            || self.f.select.iter().any(|t| t.agg.is_some())
        {
            return;
        }
        let n = self.n();
        for si in 0..self.links.spans.len() {
            let Target::Column { col } = self.span(si).best().target else {
                continue;
            };
            let Some(key) = self.self_reference(col) else {
                continue;
            };
            let sp = self.span(si);
            let possessive = sp.start > 0 && {
                let w = self.w(sp.start - 1);
                w.ends_with("'s") || w.ends_with("s'") || w == "'" || w == "'s"
            };
            let of_after = sp.end < n && self.w(sp.end) == "of";
            if !(possessive || of_after) {
                continue;
            }
            let own_rows = self.f.conds.iter().all(|c| {
                let cols = c.columns();
                !cols.is_empty() && cols.iter().all(|x| x.table == col.table && *x != col)
            });
            if !own_rows {
                continue;
            }
            let conds = std::mem::take(&mut self.f.conds);
            self.cond_tokens.clear();
            self.f.conds.push(Cond::InSub {
                outer: key,
                inner: col,
                conds,
                negated: false,
            });
            self.f
                .select
                .retain(|t| !matches!(t.measure, Measure::Column(c) if c == col));
            if self.f.select.is_empty() {
                let shown = match super::links::person_name_columns(self.schema, col.table) {
                    Some((first, last)) => vec![first, last],
                    None => self.name_column(col.table).into_iter().collect(),
                };
                self.f.select.extend(shown.into_iter().map(Term::col));
            }
            self.use_span(si);
            self.mark(sp.start, sp.end);
            self.f.notes.push(format!(
                "the rows {} of the named rows points to",
                self.col_name(col)
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Cond;

    #[test]
    fn a_possessive_of_a_self_reference_reads_the_rows_pointed_to() {
        let c = case("Ada Lovelace's mentor");
        let f = c.frame();
        let [Cond::InSub {
            outer,
            inner,
            conds,
            negated: false,
        }] = &f.conds[..]
        else {
            panic!("one subquery: {:?}", f.conds);
        };
        assert_eq!(*outer, c.col("employee", "emp_id"));
        assert_eq!(*inner, c.col("employee", "mentor_id"));
        assert!(!conds.is_empty(), "{conds:?}");
        assert!(f.self_relation.is_none(), "{f:?}");
    }
}
