//! The summary: one or two template sentences built from the question and the findings.
//!
//! [`write`] picks the lead findings (the single value, the ranking's leader and last, the
//! share of the leader, the change over time) and fills a fixed template. No language model
//! writes it; an LLM-written summary, when the engine has one, is the engine's business.

use super::insights::{capitalise, Aggregation, Findings};
use super::{fmt_number, fmt_percent, fmt_signed, words, Order, Profile};

/// Words that ask for the highest values.
const TOP_WORDS: &[&str] = &[
    "top", "highest", "best", "most", "largest", "biggest", "max", "maximum",
];
/// Words that ask for the lowest values.
const BOTTOM_WORDS: &[&str] = &[
    "bottom", "lowest", "worst", "least", "smallest", "fewest", "min", "minimum",
];

/// The summary of a result for `question`.
pub(crate) fn write(question: &str, profile: &Profile, f: &Findings) -> String {
    let q = question.trim();
    let asked = if q.is_empty() {
        String::new()
    } else {
        format!(" for “{q}”")
    };
    if f.row_count == 0 {
        return format!("The query returned no rows{asked}.");
    }
    if let Some(value) = &f.single {
        let column = profile
            .columns
            .first()
            .map(|c| format!(" ({})", c.name))
            .unwrap_or_default();
        return format!("The answer{asked} is {value}{column}.");
    }
    if !f.single_row.is_empty() {
        let cells: Vec<String> = f
            .single_row
            .iter()
            .map(|(c, v)| format!("{c} {v}"))
            .collect();
        return format!("One row answers{asked}: {}.", cells.join(", "));
    }
    let mut sentences: Vec<String> = Vec::new();
    if let Some(r) = &f.ranking {
        let question_words = words(q);
        let direction = if question_words
            .iter()
            .any(|w| BOTTOM_WORDS.contains(&w.as_str()))
        {
            "Bottom "
        } else if question_words
            .iter()
            .any(|w| TOP_WORDS.contains(&w.as_str()))
        {
            "Top "
        } else {
            ""
        };
        let measure = format!("{}{}", r.aggregation.word(), r.measure);
        let headline = if r.aggregation == Aggregation::None && !direction.is_empty() {
            format!(
                "{direction}{} rows by {}",
                fmt_number(r.items.len() as f64, true),
                r.measure
            )
        } else {
            capitalise(&format!(
                "{measure} by {} ({} {})",
                r.label,
                fmt_number(r.items.len() as f64, true),
                if r.aggregation == Aggregation::None {
                    "rows"
                } else {
                    "groups"
                }
            ))
        };
        // When the query sorted by the measure, its first row is what was asked for (the most
        // elastic item may be the lowest value); otherwise the highest leads.
        let (lead, last) = match (r.aggregation, profile.order) {
            (Aggregation::None, Some(Order::Ascending | Order::Descending)) => {
                (r.items[0].clone(), r.items[r.items.len() - 1].clone())
            }
            _ => (r.highest.clone(), r.lowest.clone()),
        };
        let mut s = format!(
            "{headline}: {} leads with {}, {} comes last with {}",
            lead.label,
            fmt_number(lead.value, r.integral),
            last.label,
            fmt_number(last.value, r.integral)
        );
        if let Some(shares) = &r.shares {
            s.push_str(&format!(
                "; {} holds {} of the total",
                r.highest.label,
                fmt_percent(shares.top())
            ));
        }
        s.push('.');
        sentences.push(s);
    }
    if let Some(t) = &f.trend {
        let pct = t
            .change_pct
            .map(|p| format!(", {}{}", if p > 0.0 { "+" } else { "" }, fmt_percent(p)))
            .unwrap_or_default();
        sentences.push(capitalise(&format!(
            "{}{} by {} went from {} in {} to {} in {} ({}{}), peaking at {} in {}.",
            t.aggregation.word(),
            t.measure,
            t.time,
            fmt_number(t.first().value, t.integral),
            t.first().label,
            fmt_number(t.last().value, t.integral),
            t.last().label,
            fmt_signed(t.change, t.integral),
            pct,
            fmt_number(t.peak.value, t.integral),
            t.peak.label
        )));
    }
    if let Some(c) = f.correlation.as_ref().filter(|_| sentences.is_empty()) {
        sentences.push(format!(
            "{} against {} over {} rows: Pearson r = {:.2}.",
            capitalise(&c.y),
            c.x,
            fmt_number(c.n as f64, true),
            c.r
        ));
    }
    if sentences.is_empty() {
        let columns: Vec<&str> = profile.columns.iter().map(|c| c.name.as_str()).collect();
        let mut s = format!(
            "{} rows{asked}, with columns {}",
            fmt_number(f.row_count as f64, true),
            columns.join(", ")
        );
        if let Some(m) = f.measures.first() {
            match m.total {
                Some(total) => s.push_str(&format!(
                    "; total {} is {}",
                    m.name,
                    fmt_number(total, m.integral)
                )),
                None => s.push_str(&format!(
                    "; average {} is {}",
                    m.name,
                    fmt_number(m.mean, false)
                )),
            }
        }
        s.push('.');
        sentences.push(s);
    }
    if f.truncated {
        sentences.push(format!(
            "Only the first {} rows were returned (row limit).",
            fmt_number(f.row_count as f64, true)
        ));
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use crate::answer::build_answer;
    use crate::answer::tests::rows;
    use crate::warehouse::Rows;
    use serde_json::{json, Value};

    fn items(values: &[f64]) -> Vec<Vec<Value>> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| vec![json!(format!("item {}", i + 1)), json!(v)])
            .collect()
    }

    #[test]
    fn a_top_n_question_leads_with_the_first_row_of_the_sorted_result() {
        // "Most elastic" sorted ascending: the first row leads although its value is lowest.
        let data = items(&[-3.2, -2.5, -1.75, -0.4]);
        let a = build_answer(
            "top 4 most elastic items",
            &rows(&["item_name", "elasticity_value"], data),
        );
        assert_eq!(
            a.summary,
            "Top 4 rows by elasticity_value: item 1 leads with -3.20, item 4 comes last with -0.40."
        );
    }

    #[test]
    fn a_category_summary_names_the_leader_and_its_share() {
        let data = vec![
            vec![json!("North"), json!(600)],
            vec![json!("South"), json!(300)],
            vec![json!("East"), json!(100)],
        ];
        let a = build_answer("revenue by zone", &rows(&["zone", "revenue"], data));
        assert_eq!(
            a.summary,
            "Revenue by zone (3 rows): North leads with 600, East comes last with 100; North holds 60.0% of the total."
        );
    }

    #[test]
    fn a_time_series_summary_gives_the_change_and_the_peak() {
        let data = vec![
            vec![json!(2021), json!(10.0)],
            vec![json!(2022), json!(40.0)],
            vec![json!(2023), json!(20.0)],
        ];
        let a = build_answer("sales per year", &rows(&["year", "sales"], data));
        assert_eq!(a.summary, "Sales by year went from 10.00 in 2021 to 20.00 in 2023 (+10.00, +100.0%), peaking at 40.00 in 2022.");
    }

    #[test]
    fn two_measures_are_summarised_by_their_correlation() {
        let data: Vec<Vec<Value>> = (0..6).map(|i| vec![json!(i), json!(10 + 2 * i)]).collect();
        let a = build_answer("units against price", &rows(&["price", "units"], data));
        assert_eq!(
            a.summary,
            "Units against price over 6 rows: Pearson r = 1.00."
        );
    }

    #[test]
    fn single_values_and_empty_results_have_their_own_sentences() {
        let one = build_answer(
            "how many stores?",
            &rows(&["store_count"], vec![vec![json!(1234)]]),
        );
        assert_eq!(
            one.summary,
            "The answer for “how many stores?” is 1,234 (store_count)."
        );
        let none = build_answer("revenue on mars", &rows(&["revenue"], vec![]));
        assert_eq!(
            none.summary,
            "The query returned no rows for “revenue on mars”."
        );
        let nothing = build_answer("", &Rows::default());
        assert_eq!(nothing.summary, "The query returned no rows.");
        assert!(nothing.chart.is_none());
    }

    #[test]
    fn a_truncated_result_says_the_row_limit_cut_it() {
        let mut r = rows(&["name"], vec![vec![json!("a")], vec![json!("b")]]);
        r.truncated = true;
        let a = build_answer("names", &r);
        assert!(
            a.summary
                .ends_with("Only the first 2 rows were returned (row limit)."),
            "{}",
            a.summary
        );
    }
}
