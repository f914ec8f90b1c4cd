//! Business rules the question calls up: which rules its words name ([`rule_hits`]) and how
//! their SQL fragments become filters, orders and measures of the frame.

use super::state::Builder;
use super::{Cond, Measure, Term};
use crate::knowledge::BusinessRule;
use crate::question::{Analysis, TokenKind};
use crate::sql::pattern::lexicon::superlative;
use crate::sql::pattern::linking::{Linking, Target};
use crate::warehouse::Schema;

impl<'a> Builder<'a> {
    pub(super) fn apply_rules(&mut self, head_end: usize) {
        for &(s, _e, rule) in &self.rule_tokens.clone() {
            let mut sql = rule.sql.clone().unwrap_or_default();
            let table = rule.table.as_deref().and_then(|t| {
                self.schema
                    .tables
                    .iter()
                    .position(|x| x.name.eq_ignore_ascii_case(t))
            });
            if let Some(t) = table {
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
                        table,
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
///
/// The most specific reading wins and each rule applies once: a hit inside a longer one is
/// dropped; of rules of one kind naming exactly the same words, the one on a table the
/// question links (by name, column or value) wins, then the better retrieved (the `f32` of
/// `rules`); rules of one kind with the same SQL on the same table apply once.
pub fn rule_hits<'r>(
    analysis: &Analysis,
    schema: &Schema,
    rules: &'r [(BusinessRule, f32)],
    links: &Linking,
) -> Vec<RuleHit<'r>> {
    let stems: Vec<&str> = analysis.tokens.iter().map(|t| t.stem.as_str()).collect();
    let lowers: Vec<&str> = analysis.tokens.iter().map(|t| t.lower.as_str()).collect();
    // a keyword's words are matched over the question's tokens but for a hyphen inside a word
    // ("price-sensitive" says "price sensitive")
    let toks = &analysis.tokens;
    let at: Vec<usize> = (0..toks.len())
        .filter(|&i| {
            !(toks[i].text == "-"
                && i > 0
                && i + 1 < toks.len()
                && toks[i - 1].end == toks[i].start
                && toks[i].end == toks[i + 1].start)
        })
        .collect();
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
            for i in 0..at.len() {
                if i + ps.len() <= at.len()
                    && ps.iter().enumerate().all(|(k, (st, lo))| {
                        st == stems[at[i + k]] && close_form(lo, lowers[at[i + k]])
                    })
                {
                    let cand = (at[i], at[i + ps.len() - 1] + 1);
                    if best.is_none_or(|b| cand.1 - cand.0 > b.1 - b.0) {
                        best = Some(cand);
                    }
                }
            }
        }
        let Some((start, end)) = best else { continue };
        // "no promo weeks": after a negation, words that name the very column a filter rule
        // tests deny the rule's rows (the column alone would deny nothing)
        let denied = rule.kind == "filter"
            && (1..=3).any(|k| {
                start >= k && crate::sql::pattern::lexicon::NEGATIONS.contains(&lowers[start - k])
            })
            && named_column(links, start, end, schema).is_some_and(|c| {
                let sql = rule.sql.as_deref().unwrap_or_default().to_lowercase();
                sql.split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                    .any(|w| w == c.to_lowercase())
            });
        if rule.kind != "measure" && names_a_column(links, start, end) && !denied {
            continue;
        }
        // "priced above $10": a comparison keyword followed by a number states a threshold on
        // a figure, not the rule's condition ("priced above competitors")
        let next = analysis.tokens[end..]
            .iter()
            .find(|t| !(t.kind == TokenKind::Punct && t.text != "%"));
        let comparison_last = matches!(
            lowers[end - 1],
            "above" | "below" | "over" | "under" | "than" | "exceeding"
        );
        if comparison_last && next.is_some_and(|t| t.kind == TokenKind::Number) {
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
    // the same words read by several rules of one kind: the rule on a linked table, then the
    // better retrieved
    let linked: Vec<&str> = links
        .spans
        .iter()
        .filter_map(|sp| match &sp.best().target {
            Target::Table { table } => Some(*table),
            Target::Column { col } | Target::Value { col, .. } => Some(col.table),
        })
        .filter_map(|t| schema.tables.get(t).map(|t| t.name.as_str()))
        .collect();
    let rank = |h: &RuleHit| {
        let on_linked = h
            .rule
            .table
            .as_deref()
            .is_some_and(|t| linked.iter().any(|l| l.eq_ignore_ascii_case(t)));
        let score = rules
            .iter()
            .find(|(r, _)| std::ptr::eq(r, h.rule))
            .map_or(0.0, |(_, s)| *s);
        (on_linked, score)
    };
    let all = hits.clone();
    hits.retain(|h| {
        !all.iter().any(|o| {
            !std::ptr::eq(o.rule, h.rule)
                && (o.start, o.end) == (h.start, h.end)
                && o.rule.kind == h.rule.kind
                && rank(o) > rank(h)
        })
    });
    // one rule's SQL applies once, whatever names it goes by
    let mut applied: Vec<(String, String, String)> = Vec::new();
    hits.retain(|h| {
        let key = (
            h.rule.kind.clone(),
            h.rule.table.as_deref().unwrap_or("").to_lowercase(),
            h.rule
                .sql
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
        );
        if applied.contains(&key) {
            false
        } else {
            applied.push(key);
            true
        }
    });
    hits
}

/// Two spellings of one word: equal, or of one stem and at most two letters apart in length.
fn close_form(a: &str, b: &str) -> bool {
    a == b || a.chars().count().abs_diff(b.chars().count()) <= 2
}

/// The name of the column a span over `start..end` links to, when it links to one.
fn named_column<'s>(
    links: &Linking,
    start: usize,
    end: usize,
    schema: &'s Schema,
) -> Option<&'s str> {
    links.spans.iter().find_map(|sp| match sp.best().target {
        Target::Column { col } if sp.start <= start && end <= sp.end => {
            Some(schema.tables[col.table].columns[col.column].name.as_str())
        }
        _ => None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_fragment_splits_into_its_expression_and_direction() {
        assert_eq!(split_order("margin DESC"), ("margin".to_string(), true));
        assert_eq!(split_order("price asc"), ("price".to_string(), false));
        assert_eq!(split_order("  price  "), ("price".to_string(), true));
    }

    #[test]
    fn forms_of_one_stem_close_in_length_are_one_word() {
        assert!(close_form("price", "prices"));
        assert!(!close_form("elastic", "elasticity"));
    }
}
