//! Follow-up questions suggested from a result, without an LLM: phrased as the refinements the
//! pattern engine resolves in a conversation (`sql::refine`), so that clicking one works.
//!
//! Read from the result's shape only: a label column gives "only for <its first value>", a
//! second measure "sort by <it> instead", a year in the question "and for <the year before>?",
//! no time column "now by month".

use chrono::Datelike;

use crate::question::Analysis;
use crate::warehouse::Rows;

/// Up to three follow-up questions for this result.
pub fn suggest(analysis: &Analysis, rows: &Rows) -> Vec<String> {
    let mut out = Vec::new();
    let is_number = |i: usize| {
        rows.rows
            .iter()
            .filter(|r| !r[i].is_null())
            .all(|r| r[i].is_number())
            && rows.rows.iter().any(|r| r[i].is_number())
    };
    let numeric: Vec<usize> = (0..rows.columns.len()).filter(|&i| is_number(i)).collect();
    let label = (0..rows.columns.len())
        .find(|i| !numeric.contains(i) && !looks_like_time(&rows.columns[*i]));
    if rows.rows.len() >= 2 {
        if let Some(l) = label {
            if let Some(v) = rows.rows[0][l].as_str().filter(|v| v.len() <= 40) {
                out.push(format!("only for {v}"));
            }
        }
    }
    if numeric.len() >= 2 {
        out.push(format!(
            "sort by {} instead",
            words(&rows.columns[numeric[1]])
        ));
    }
    if let Some(year) = analysis
        .time_ranges
        .iter()
        .find_map(|t| t.start.filter(|_| t.bare_year).map(|d| d.year()))
    {
        out.push(format!("and for {}?", year - 1));
    } else if !rows.columns.iter().any(|c| looks_like_time(c)) {
        out.push("now by month".to_string());
    }
    out.truncate(3);
    out
}

fn looks_like_time(column: &str) -> bool {
    let c = column.to_ascii_lowercase();
    ["date", "month", "year", "week", "day", "quarter", "period"]
        .iter()
        .any(|w| c.contains(w))
}

fn words(column: &str) -> String {
    column.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::{analyze, Question};
    use serde_json::json;

    #[test]
    fn a_ranking_by_region_suggests_a_filter_another_order_and_a_grain() {
        let rows = Rows {
            columns: vec!["region".into(), "revenue".into(), "units".into()],
            rows: vec![
                vec![json!("West"), json!(10.5), json!(3)],
                vec![json!("East"), json!(7.0), json!(2)],
            ],
            truncated: false,
            truncated_cells: false,
        };
        let a = analyze(&Question::parse("revenue by region").unwrap());
        assert_eq!(
            suggest(&a, &rows),
            vec!["only for West", "sort by units instead", "now by month"]
        );
    }

    #[test]
    fn a_year_in_the_question_suggests_the_year_before() {
        let rows = Rows {
            columns: vec!["month".into(), "revenue".into()],
            rows: vec![vec![json!("2023-01"), json!(1.0)]],
            truncated: false,
            truncated_cells: false,
        };
        let a = analyze(&Question::parse("revenue by month in 2023").unwrap());
        assert_eq!(suggest(&a, &rows), vec!["and for 2022?"]);
    }
}
