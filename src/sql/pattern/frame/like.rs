//! The text-pattern pass: "whose name contains 'Donor'", "starting with B" as LIKE conditions.

use super::state::Builder;
use super::Cond;
use crate::question::tokens::is_stopword;
use crate::question::TokenKind;
use crate::sql::pattern::lexicon::is_structural;

impl<'a> Builder<'a> {
    /// "whose name contains 'Donor'", "with substring 'Book' in its name", "have TN in their address".
    pub(super) fn like_pass(&mut self) -> Vec<usize> {
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
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::super::Cond;

    #[test]
    fn a_contains_clause_reads_as_a_like_of_the_named_column() {
        let c = case("employees whose name contains 'son'");
        let b = c.until("like");
        assert_eq!(
            b.f.conds,
            [Cond::Like {
                col: c.col("employee", "name"),
                pattern: "%son%".into(),
                negated: false,
            }]
        );
        assert!(!b.like_tokens.is_empty());
    }

    #[test]
    fn starting_with_a_letter_reads_as_a_prefix_pattern() {
        let c = case("employees whose name starts with 'A'");
        let b = c.until("like");
        assert_eq!(
            b.f.conds,
            [Cond::Like {
                col: c.col("employee", "name"),
                pattern: "A%".into(),
                negated: false,
            }]
        );
    }
}
