//! Tests of schema linking on a small schema of departments and their heads.

use std::collections::HashMap;

use super::*;
use crate::knowledge::{TableDoc, ValueIndex};
use crate::question::{analyze, Question};
use crate::warehouse::{ColumnSchema, TableSchema};

fn col(name: &str, ty: &str) -> ColumnSchema {
    ColumnSchema {
        name: name.into(),
        data_type: ty.into(),
        ..Default::default()
    }
}

fn schema() -> Schema {
    Schema {
        tables: vec![
            TableSchema {
                name: "department".into(),
                columns: vec![
                    col("department_id", "int"),
                    col("dept_name", "text"),
                    col("NumEmployees", "int"),
                    col("budget_in_billions", "real"),
                ],
                ..Default::default()
            },
            TableSchema {
                name: "head".into(),
                columns: vec![
                    col("head_id", "int"),
                    col("name", "text"),
                    col("born_state", "text"),
                    col("age", "int"),
                ],
                ..Default::default()
            },
        ],
    }
}

fn linked(q: &str, docs: &[TableDoc]) -> Vec<(String, Target)> {
    let s = schema();
    let lex = Lexicon::build(&s, docs);
    let a = analyze(&Question::parse(q).unwrap());
    let l = link(&a, &s, &lex, &ValueIndex::default(), &HashMap::new());
    l.spans
        .iter()
        .map(|sp| (sp.text.clone(), sp.best().target.clone()))
        .collect()
}

fn column(t: usize, c: usize) -> Target {
    Target::Column {
        col: ColRef {
            table: t,
            column: c,
        },
    }
}

#[test]
fn snake_and_camel_case_names_link_to_their_words() {
    let l = linked("born state and number of employees", &[]);
    assert!(l.contains(&("born state".into(), column(1, 2))), "{l:?}");
    assert!(
        l.contains(&("number of employees".into(), column(0, 2))),
        "{l:?}"
    );
}

#[test]
fn plurals_link_to_singular_table_names() {
    let l = linked("How many heads of the departments are there?", &[]);
    assert!(
        l.contains(&("heads".into(), Target::Table { table: 1 })),
        "{l:?}"
    );
    assert!(
        l.iter()
            .any(|(t, target)| t == "departments" && *target == Target::Table { table: 0 }),
        "{l:?}"
    );
}

#[test]
fn a_column_named_after_its_table_links_by_its_other_words() {
    let l = linked("the budget of the department", &[]);
    assert!(l.contains(&("budget".into(), column(0, 3))), "{l:?}");
}

#[test]
fn synonyms_from_table_docs_link() {
    let docs = vec![TableDoc {
        name: "head".into(),
        synonyms: vec!["director".into()],
        columns: vec![crate::knowledge::ColumnDoc {
            name: "age".into(),
            synonyms: vec!["years old".into()],
            ..Default::default()
        }],
        ..Default::default()
    }];
    let l = linked("directors who are 50 years old", &docs);
    assert!(
        l.contains(&("directors".into(), Target::Table { table: 1 })),
        "{l:?}"
    );
    assert!(l.contains(&("years old".into(), column(1, 3))), "{l:?}");
}

#[test]
fn misspelled_names_link_fuzzily() {
    let l = linked("what is the budjet in billions", &[]);
    assert!(l.iter().any(|(_, t)| *t == column(0, 3)), "{l:?}");
}

#[test]
fn a_stored_value_written_with_a_hyphen_links_as_one_span() {
    let s = schema();
    let lex = Lexicon::build(&s, &[]);
    let mut values = ValueIndex::default();
    values.insert("head", "born_state", "High-Low".into());
    values.insert("head", "born_state", "EDLP".into());
    let a = analyze(&Question::parse("heads born in EDLP or High-Low states").unwrap());
    let l = link(&a, &s, &lex, &values, &HashMap::new());
    let found: Vec<(String, Target)> = l
        .spans
        .iter()
        .map(|sp| (sp.text.clone(), sp.best().target.clone()))
        .collect();
    assert!(
        found.iter().any(|(_, t)| matches!(
            t,
            Target::Value { value, .. } if value == "High-Low"
        )),
        "{found:?}"
    );
}

#[test]
fn a_long_stored_value_links_whole_as_spelled() {
    // eight words: longer than the fuzzy look-up reads, found as spelled
    let s = schema();
    let lex = Lexicon::build(&s, &[]);
    let mut values = ValueIndex::default();
    let long = "Artisan Loaf Co Chocolate Layer Cake 24 oz";
    values.insert("head", "name", long.into());
    values.insert("head", "name", "Artisan Loaf Co Chocolate Layer".into());
    let a = analyze(&Question::parse(&format!("How old is the {long}?")).unwrap());
    let l = link(&a, &s, &lex, &values, &HashMap::new());
    let found: Vec<(String, Target)> = l
        .spans
        .iter()
        .map(|sp| (sp.text.clone(), sp.best().target.clone()))
        .collect();
    assert!(
        found.iter().any(|(_, t)| matches!(
            t,
            Target::Value { value, .. } if value == long
        )),
        "{found:?}"
    );
}

#[test]
fn a_curated_synonym_wins_over_the_same_words_as_another_columns_name() {
    // `head.age` is named "age"; a curator gives the word to `department.NumEmployees` (as a
    // business may call a column by another column's name): the curated meaning wins
    let plain = linked("department age", &[]);
    assert!(plain.iter().any(|(_, t)| *t == column(1, 3)), "{plain:?}");
    let mut docs = crate::knowledge::introspect::table_docs(&schema());
    for c in docs
        .iter_mut()
        .filter(|d| d.name == "department")
        .flat_map(|d| d.columns.iter_mut())
        .filter(|c| c.name == "NumEmployees")
    {
        c.synonyms.push("age".into());
    }
    let curated = linked("department age", &docs);
    assert!(
        curated.contains(&("age".into(), column(0, 2))),
        "{curated:?}"
    );
}

#[test]
fn the_curated_tables_lean_a_word_of_two_tables_their_way_and_say_by_how_much() {
    let s = schema();
    let lex = Lexicon::build(&s, &[]);
    let a = analyze(&Question::parse("List the names.").unwrap());
    let none = HashMap::new();
    let plain = link(&a, &s, &lex, &ValueIndex::default(), &none);
    let best = |l: &Linking| {
        let sp = l.spans.iter().find(|sp| sp.text == "names").unwrap();
        sp.best().clone()
    };
    assert_eq!(best(&plain).target, column(1, 1), "{plain:?}");
    assert_eq!(best(&plain).curated, 0.0);
    let curated = HashMap::from([("department".to_string(), 6.0f32)]);
    let leaned = link_with_priors(&a, &s, &lex, &ValueIndex::default(), &none, &curated);
    let b = best(&leaned);
    assert_eq!(b.target, column(0, 1), "{leaned:?}");
    assert!((b.curated - 0.3).abs() < 1e-6, "{b:?}");
}

#[test]
fn the_word_that_makes_a_period_relative_names_no_column() {
    let s = Schema {
        tables: vec![TableSchema {
            name: "customer".into(),
            columns: vec![
                col("customer_id", "int"),
                col("first_name", "text"),
                col("last_name", "text"),
                col("last_year", "int"),
            ],
            ..Default::default()
        }],
    };
    let lex = Lexicon::build(&s, &[]);
    let spans = |q: &str| -> Vec<(String, Target)> {
        let a = analyze(&Question::parse(q).unwrap());
        link(&a, &s, &lex, &ValueIndex::default(), &HashMap::new())
            .spans
            .iter()
            .map(|sp| (sp.text.clone(), sp.best().target.clone()))
            .collect()
    };
    // "the last 6 months" is a period: "last" is no last name
    let l = spans("customers in the last 6 months");
    assert!(l.iter().all(|(_, t)| *t != column(0, 2)), "{l:?}");
    // outside a period it still is, and a column named by the period's words keeps them
    let l = spans("customers by last name");
    assert!(l.iter().any(|(_, t)| *t == column(0, 2)), "{l:?}");
    let l = spans("the first year and last year of customers");
    assert!(l.iter().any(|(_, t)| *t == column(0, 3)), "{l:?}");
}

#[test]
fn the_curated_lean_never_puts_a_key_above_the_table_it_refers_to() {
    // "Which is the newest store?" beside a curated example about prices at a store: the word
    // names the stores, not the key the prices keep of them
    let s = Schema {
        tables: vec![
            TableSchema {
                name: "stores".into(),
                columns: vec![
                    col("store_id", "text"),
                    col("store_name", "text"),
                    col("open_date", "date"),
                ],
                primary_key: vec!["store_id".into()],
                ..Default::default()
            },
            TableSchema {
                name: "pricing".into(),
                columns: vec![
                    col("store_id", "text"),
                    col("price", "real"),
                    col("price_date", "date"),
                ],
                foreign_keys: vec![crate::warehouse::ForeignKey {
                    from_column: "store_id".into(),
                    to_table: "stores".into(),
                    to_column: "store_id".into(),
                }],
                ..Default::default()
            },
        ],
    };
    let lex = Lexicon::build(&s, &[]);
    let a = analyze(&Question::parse("Which is the newest store?").unwrap());
    let none = HashMap::new();
    let curated = HashMap::from([("pricing".to_string(), 6.0f32)]);
    let leaned = link_with_priors(&a, &s, &lex, &ValueIndex::default(), &none, &curated);
    let sp = leaned.spans.iter().find(|sp| sp.text == "store").unwrap();
    assert_ne!(sp.best().target, column(1, 0), "{leaned:?}");
    let key = sp.links.iter().find(|l| l.target == column(1, 0));
    assert!(key.is_none_or(|l| l.curated == 0.0), "{key:?}");
}
