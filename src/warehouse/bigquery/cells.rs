//! BigQuery's REST rows into JSON values: the API sends every cell as text
//! (`{"f":[{"v":"12"}]}`, <https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata#TableRow>);
//! the field's type in the result's schema tells how to read it.
//!
//! INTEGER/INT64 become integers; FLOAT, NUMERIC and BIGNUMERIC become numbers (NUMERIC's 38
//! digits are read as a 64-bit float: exact to about 15 digits); BOOL becomes a boolean;
//! TIMESTAMP (seconds since the epoch, as a float) becomes RFC 3339 text in UTC; DATE, DATETIME,
//! TIME and STRING stay text. A repeated or nested field becomes its JSON text.

use gcp_bigquery_client::model::field_type::FieldType;
use gcp_bigquery_client::model::table_field_schema::TableFieldSchema;
use gcp_bigquery_client::model::table_row::TableRow;
use serde_json::Value;

/// The values of one REST row, one per field, in field order (a missing cell is null).
pub fn row_values(fields: &[TableFieldSchema], row: &TableRow) -> Vec<Value> {
    let cells = row.columns.as_deref().unwrap_or(&[]);
    fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let raw = cells.get(i).and_then(|c| c.value.as_ref());
            cell_value(field, raw)
        })
        .collect()
}

/// One cell's value read by its field's type.
pub fn cell_value(field: &TableFieldSchema, raw: Option<&Value>) -> Value {
    let text = match raw {
        None | Some(Value::Null) => return Value::Null,
        Some(Value::String(s)) => s.as_str(),
        // REPEATED fields and RECORDs arrive as arrays and objects of cells.
        Some(other) => return Value::String(other.to_string()),
    };
    if field.mode.as_deref() == Some("REPEATED") {
        return Value::String(text.to_string());
    }
    match field.r#type {
        FieldType::Integer | FieldType::Int64 => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_string())),
        FieldType::Float | FieldType::Float64 | FieldType::Numeric | FieldType::Bignumeric => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            // NaN and ±Infinity have no JSON number.
            .unwrap_or_else(|| Value::String(text.to_string())),
        FieldType::Boolean | FieldType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_string()),
        },
        FieldType::Timestamp => timestamp_text(text)
            .map(Value::String)
            .unwrap_or_else(|| Value::String(text.to_string())),
        _ => Value::String(text.to_string()),
    }
}

/// `1704067200.5` (seconds since the epoch, possibly `1.7040672E9`) as `2024-01-01T00:00:00.5Z`.
fn timestamp_text(text: &str) -> Option<String> {
    let seconds: f64 = text.parse().ok()?;
    if !seconds.is_finite() {
        return None;
    }
    let micros = (seconds * 1_000_000.0).round() as i64;
    let at = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros)?;
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(t: FieldType) -> TableFieldSchema {
        TableFieldSchema::new("c", t)
    }

    #[test]
    fn cells_are_read_by_their_field_type() {
        let s = |v: &str| json!(v);
        assert_eq!(
            cell_value(&field(FieldType::Int64), Some(&s("12"))),
            json!(12)
        );
        assert_eq!(
            cell_value(&field(FieldType::Integer), Some(&s("-3"))),
            json!(-3)
        );
        assert_eq!(
            cell_value(&field(FieldType::Float), Some(&s("2.5"))),
            json!(2.5)
        );
        assert_eq!(
            cell_value(&field(FieldType::Numeric), Some(&s("10.25"))),
            json!(10.25)
        );
        assert_eq!(
            cell_value(&field(FieldType::Float64), Some(&s("NaN"))),
            json!("NaN")
        );
        assert_eq!(
            cell_value(&field(FieldType::Bool), Some(&s("true"))),
            json!(true)
        );
        assert_eq!(
            cell_value(&field(FieldType::String), Some(&s("12"))),
            json!("12")
        );
        assert_eq!(
            cell_value(&field(FieldType::Date), Some(&s("2024-01-31"))),
            json!("2024-01-31")
        );
        assert_eq!(
            cell_value(&field(FieldType::Int64), Some(&Value::Null)),
            Value::Null
        );
        assert_eq!(cell_value(&field(FieldType::Int64), None), Value::Null);
    }

    #[test]
    fn timestamps_become_rfc3339_text_in_utc() {
        let f = field(FieldType::Timestamp);
        assert_eq!(
            cell_value(&f, Some(&json!("1.7040672E9"))),
            json!("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            cell_value(&f, Some(&json!("1704067200.25"))),
            json!("2024-01-01T00:00:00.250Z")
        );
    }

    #[test]
    fn rows_follow_the_field_order_and_repeated_fields_stay_json() {
        let row: TableRow = serde_json::from_value(json!({
            "f": [{"v": "7"}, {"v": [{"v": "a"}, {"v": "b"}]}, {"v": null}]
        }))
        .unwrap();
        let mut tags = field(FieldType::String);
        tags.mode = Some("REPEATED".into());
        let fields = vec![field(FieldType::Int64), tags, field(FieldType::String)];
        assert_eq!(
            row_values(&fields, &row),
            vec![
                json!(7),
                json!("[{\"v\":\"a\"},{\"v\":\"b\"}]"),
                Value::Null
            ]
        );
    }
}
