//! The shape of a query: its SQL with the names of tables and columns, the literals and the
//! aliases taken out, so that two queries built alike compare equal whatever they read.
//!
//! `SELECT T2.Theme FROM city AS T1 JOIN farm_competition AS T2 ON T1.City_ID = T2.Host_city_ID
//! WHERE T1.Population > 1000` and `SELECT name FROM singer JOIN concert ON singer.id =
//! concert.singer_id WHERE singer.age > 30` have one shape: `select _ from _ join where _ > ?`.
//!
//! The pattern engine uses it as evidence from curation: a reading whose shape one of the
//! curated examples close to the question has is a query of a kind the domain's curators write
//! ([`curated_shape`]). Measured on the curation-lift benchmark (`querent eval --curate-first`),
//! such readings were right more often than their calibrated confidence says (see
//! [`CURATED_SHAPE_CONFIDENCE`](super::calibration::CURATED_SHAPE_CONFIDENCE)).

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::knowledge::Example;
use crate::warehouse::Schema;

/// Words of SQL's structure kept in a shape (clauses, operators, aggregates); every other word
/// is a name.
const STRUCTURE: &[&str] = &[
    "select",
    "from",
    "where",
    "group",
    "by",
    "order",
    "having",
    "limit",
    "offset",
    "join",
    "on",
    "and",
    "or",
    "not",
    "in",
    "like",
    "between",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "distinct",
    "desc",
    "asc",
    "union",
    "intersect",
    "except",
    "is",
    "null",
    "exists",
    "case",
    "when",
    "then",
    "else",
    "end",
    "all",
];

/// The shape of `sql`, `None` when it does not tokenize. A double-quoted word is a name when
/// `schema` has a table or column so named, else a string literal (the quoting of many SQL
/// writers); single-quoted strings and numbers are literals (`?`); `AS alias` and the qualifier
/// of `t.col` are dropped; `JOIN t ON a = b [AND c = d]` is `join`; `INNER` is dropped.
pub fn shape(sql: &str, schema: &Schema) -> Option<String> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize().ok()?;
    let is_name = |w: &str| {
        schema.tables.iter().any(|t| {
            t.name.eq_ignore_ascii_case(w)
                || t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(w))
        })
    };
    // 1. words and symbols, names as `_`, literals as `?`, functions by name
    let mut out: Vec<String> = Vec::new();
    let significant: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::SemiColon))
        .collect();
    let mut i = 0;
    while i < significant.len() {
        let t = significant[i];
        let next = significant.get(i + 1).copied();
        match t {
            Token::Word(w) => {
                let lower = w.value.to_ascii_lowercase();
                let quoted_literal = w.quote_style == Some('"') && !is_name(&w.value);
                if quoted_literal {
                    out.push("?".into());
                } else if w.quote_style.is_none() && lower == "as" {
                    // an alias: `AS name`
                    i += 2;
                    continue;
                } else if w.quote_style.is_none() && lower == "inner" {
                } else if matches!(next, Some(Token::Period)) {
                    // a qualifier: `t.col` is `col`
                    i += 2;
                    continue;
                } else if w.quote_style.is_none() && STRUCTURE.contains(&lower.as_str()) {
                    out.push(lower);
                } else if matches!(next, Some(Token::LParen)) && w.quote_style.is_none() {
                    out.push(lower);
                } else {
                    out.push("_".into());
                }
            }
            Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::Number(_, _) => out.push("?".into()),
            other => out.push(other.to_string()),
        }
        i += 1;
    }
    // 2. a join's condition is how the tables meet, not what the query asks
    let mut shaped: Vec<String> = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if out[i] == "join" {
            shaped.push("join".into());
            i += 2; // the joined table
            if out.get(i).map(String::as_str) == Some("on") {
                i += 1;
                // `_ = _`, then any `and _ = _`
                let is = |k: usize, w: &str| out.get(k).map(String::as_str) == Some(w);
                while is(i, "_") && is(i + 1, "=") && is(i + 2, "_") {
                    i += 3;
                    if is(i, "and") && is(i + 1, "_") && is(i + 2, "=") && is(i + 3, "_") {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            continue;
        }
        shaped.push(out[i].clone());
        i += 1;
    }
    Some(shaped.join(" "))
}

/// The shapes of the first `tried` of `examples` (best retrieval score first) with their
/// questions, in that order: computed once per question, then compared with each reading
/// ([`curated_shape`]). An example whose SQL does not tokenize has none.
pub fn example_shapes<'e>(
    examples: &'e [(Example, f32)],
    tried: usize,
    schema: &Schema,
) -> Vec<(String, &'e str)> {
    let mut ranked: Vec<&(Example, f32)> = examples.iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
        .into_iter()
        .take(tried)
        .filter_map(|(e, _)| Some((shape(&e.sql, schema)?, e.question.as_str())))
        .collect()
}

/// The question of the first curated example of `shapes` ([`example_shapes`]) whose SQL has
/// the shape of `sql`, or `None`.
pub fn curated_shape<'e>(
    sql: &str,
    shapes: &[(String, &'e str)],
    schema: &Schema,
) -> Option<&'e str> {
    if shapes.is_empty() {
        return None;
    }
    let own = shape(sql, schema)?;
    shapes.iter().find(|(sh, _)| *sh == own).map(|(_, q)| *q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::{ColumnSchema, TableSchema};

    fn schema() -> Schema {
        let table = |name: &str, cols: &[&str]| TableSchema {
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnSchema {
                    name: c.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        Schema {
            tables: vec![
                table("city", &["City_ID", "Population", "Official_Name"]),
                table("farm_competition", &["Theme", "Host_city_ID", "Year"]),
            ],
        }
    }

    #[test]
    fn names_aliases_literals_and_join_conditions_do_not_make_a_shape() {
        let s = schema();
        let gold = shape(
            "SELECT T2.Theme FROM city AS T1 JOIN farm_competition AS T2 ON T1.City_ID  =  \
             T2.Host_city_ID WHERE T1.Population  >  1000",
            &s,
        );
        let ours = shape(
            "SELECT farm_competition.\"Year\" FROM farm_competition JOIN city ON \
             farm_competition.Host_city_ID = city.City_ID WHERE city.Official_Name = 'Paris'",
            &s,
        );
        assert_eq!(gold.as_deref(), Some("select _ from _ join where _ > ?"));
        // another comparison is another shape
        assert_eq!(ours.as_deref(), Some("select _ from _ join where _ = ?"));
    }

    #[test]
    fn a_double_quoted_word_is_a_name_only_when_the_schema_has_it() {
        let s = schema();
        let a = shape(
            "SELECT count(*) FROM city WHERE Official_Name = \"Paris\"",
            &s,
        );
        let b = shape(
            "SELECT COUNT(*) FROM city WHERE \"Official_Name\" = 'Lyon'",
            &s,
        );
        assert_eq!(a, b);
        assert_eq!(a.as_deref(), Some("select count ( * ) from _ where _ = ?"));
    }

    #[test]
    fn an_example_of_the_same_shape_is_found_among_the_first_tried() {
        let s = schema();
        let ex = |q: &str, sql: &str, score: f32| {
            (
                Example {
                    question: q.into(),
                    sql: sql.into(),
                    source: String::new(),
                },
                score,
            )
        };
        let examples = vec![
            ex("How many cities?", "SELECT count(*) FROM city", 0.2),
            ex(
                "Themes of competitions in big cities",
                "SELECT T2.Theme FROM city AS T1 JOIN farm_competition AS T2 ON T1.City_ID = T2.Host_city_ID WHERE T1.Population > 5000",
                0.9,
            ),
        ];
        let ours = "SELECT farm_competition.\"Year\" FROM farm_competition JOIN city ON \
                    farm_competition.Host_city_ID = city.City_ID WHERE city.Population > 10";
        let shapes = example_shapes(&examples, 5, &s);
        assert_eq!(shapes[0].1, "Themes of competitions in big cities");
        assert_eq!(
            curated_shape(ours, &shapes, &s),
            Some("Themes of competitions in big cities")
        );
        assert_eq!(
            curated_shape(ours, &example_shapes(&examples, 0, &s), &s),
            None
        );
        assert_eq!(
            curated_shape("SELECT Theme FROM farm_competition", &shapes, &s),
            None
        );
    }
}
