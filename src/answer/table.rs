//! Plain-text rendering of rows for the terminal (`querent ask`).

/// Renders `columns` and the first `max_rows` of `rows` as an aligned text table, with a
/// "... N more rows" line when rows were left out. Values are JSON scalars.
pub fn format_table(
    columns: &[String],
    rows: &[Vec<serde_json::Value>],
    max_rows: usize,
) -> String {
    let cell = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "NULL".to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{}", (f * 100.0).round() / 100.0),
            _ => n.to_string(),
        },
        other => other.to_string(),
    };
    let shown: Vec<Vec<String>> = rows
        .iter()
        .take(max_rows)
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in &shown {
        for (i, v) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(v.chars().count().min(40));
            }
        }
    }
    let line = |values: &[String]| {
        values
            .iter()
            .zip(&widths)
            .map(|(v, w)| {
                let v: String = v.chars().take(40).collect();
                format!("{v:<w$}")
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let mut out = vec![
        line(columns),
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    ];
    out.extend(shown.iter().map(|r| line(r)));
    if rows.len() > max_rows {
        out.push(format!("... {} more rows", rows.len() - max_rows));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_table_aligns_columns_and_counts_the_rows_left_out() {
        let cols = vec!["zone".to_string(), "n".to_string()];
        let rows = vec![
            vec![serde_json::json!("West"), serde_json::json!(12)],
            vec![serde_json::json!("North"), serde_json::json!(2.5)],
        ];
        let t = format_table(&cols, &rows, 1);
        assert_eq!(t, "zone | n \n-----+---\nWest | 12\n... 1 more rows");
    }
}
