//! Adaptation of examples on a small shop database: rewordings, values in any quoting, numbers
//! and directions, columns, filters, years and grains, and what is left alone.

use std::collections::HashMap;

use super::*;
use crate::knowledge::{introspect, BusinessRule};
use crate::warehouse::{SqliteWarehouse, Warehouse};

const DDL: &str = "
CREATE TABLE categories (category_id INTEGER PRIMARY KEY, category_name TEXT NOT NULL);
CREATE TABLE items (item_id INTEGER PRIMARY KEY, item_name TEXT NOT NULL,
    category_id INTEGER REFERENCES categories(category_id), price REAL, weight REAL,
    brand TEXT);
CREATE TABLE sales (sale_id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items(item_id),
    sale_date TEXT, revenue REAL);
CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);
INSERT INTO categories VALUES (1, 'Frozen Food'), (2, 'Dairy'), (3, 'Bakery');
INSERT INTO items VALUES (1, 'Ice Cream', 1, 4.5, 0.5, 'Polar'), (2, 'Peas', 1, 2.0, 1.0, 'Green'),
    (3, 'Milk', 2, 1.2, 1.0, 'Polar'), (4, 'Cheese', 2, 6.0, 0.3, 'Alp'), (5, 'Bread', 3, 2.5, 0.8, 'Green');
INSERT INTO sales VALUES (1, 1, '2023-03-01', 10), (2, 3, '2023-07-12', 4), (3, 4, '2024-01-20', 12),
    (4, 5, '2024-05-05', 3), (5, 2, '2024-05-06', 7);
INSERT INTO singer VALUES (1, 'Ann', 'France', 30), (2, 'Bob', 'Spain', 41), (3, 'Cid', 'France', 25);
";

struct Fx {
    _dir: tempfile::TempDir,
    conn: rusqlite::Connection,
    schema: Schema,
    values: ValueIndex,
    lex: Lexicon,
}

fn fx() -> Fx {
    fx_with("")
}

/// The shop database with the tables of `extra` besides.
fn fx_with(extra: &str) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("{DDL}{extra}"))
        .unwrap();
    let wh = SqliteWarehouse::open(&path).unwrap();
    let schema = wh.introspect().unwrap();
    let values = ValueIndex::build(&wh, &schema).unwrap();
    let lex = Lexicon::build(&schema, &introspect::table_docs(&schema));
    let conn = rusqlite::Connection::open(&path).unwrap();
    Fx {
        _dir: dir,
        conn,
        schema,
        values,
        lex,
    }
}

fn adapt_to(f: &Fx, question: &str, ex_q: &str, ex_sql: &str) -> Vec<Adapted> {
    adapt_with_rules(f, question, (ex_q, ex_sql), &[])
}

fn adapt_with_rules(
    f: &Fx,
    question: &str,
    (ex_q, ex_sql): (&str, &str),
    rules: &[(BusinessRule, f32)],
) -> Vec<Adapted> {
    let a = analyze(&Question::parse(question).unwrap());
    let links = linking::link(&a, &f.schema, &f.lex, &f.values, &HashMap::new());
    let ex = Example {
        question: ex_q.into(),
        sql: ex_sql.into(),
        source: String::new(),
    };
    adapt(
        &a,
        &links,
        &[(ex, 0.5)],
        &f.schema,
        &f.lex,
        &f.values,
        rules,
    )
}

fn rows(f: &Fx, sql: &str) -> Vec<String> {
    let mut st = f.conn.prepare(sql).unwrap();
    let n = st.column_count();
    let mut out: Vec<String> = st
        .query_map([], |r| {
            Ok((0..n)
                .map(|i| {
                    r.get_ref(i)
                        .map(|v| match v {
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                            rusqlite::types::ValueRef::Real(x) => format!("{x:.2}"),
                            _ => "NULL".into(),
                        })
                        .unwrap()
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.sort();
    out
}

#[test]
fn a_rewording_reuses_the_example_as_written() {
    let f = fx();
    let out = adapt_to(
        &f,
        "What's the number of singers from France?",
        "How many singers are from 'France'?",
        "SELECT count(*) FROM singer WHERE country = 'France'",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].edits.is_empty());
    assert_eq!(rows(&f, &out[0].sql), vec!["2"]);
}

#[test]
fn a_double_quoted_value_is_swapped_for_the_questions_value() {
    let f = fx();
    let out = adapt_to(
        &f,
        "How many singers are from Spain?",
        "How many singers are from France?",
        "SELECT count(*) FROM singer WHERE country = \"France\"",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Value {
            old: "France".into(),
            new: "Spain".into()
        }]
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["1"]);
}

#[test]
fn numbers_and_the_direction_are_edited_in_the_tree() {
    let f = fx();
    let out = adapt_to(
        &f,
        "the 2 cheapest items in 'Dairy'",
        "the 3 most expensive items in 'Frozen Food'",
        "SELECT i.item_name FROM items AS i JOIN categories AS c ON i.category_id = c.category_id \
         WHERE c.category_name = 'Frozen Food' ORDER BY i.price DESC LIMIT 3",
    );
    // "most expensive" and "cheapest" are the two ends of price: the direction flips
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["Cheese", "Milk"]);
    assert!(
        out[0].sql.contains("ORDER BY i.price ASC LIMIT 2"),
        "{}",
        out[0].sql
    );
    let out = adapt_to(
        &f,
        "the 1 items with the lowest price in 'Dairy'",
        "the 3 items with the highest price in 'Frozen Food'",
        "SELECT i.item_name FROM items AS i JOIN categories AS c ON i.category_id = c.category_id \
         WHERE c.category_name = 'Frozen Food' ORDER BY i.price DESC LIMIT 3",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["Milk"]);
    assert_eq!(out[0].edits.len(), 3, "{:?}", out[0].edits);
}

#[test]
fn a_column_the_question_names_replaces_the_examples_column() {
    let f = fx();
    let out = adapt_to(
        &f,
        "What is the average weight of items?",
        "What is the average price of items?",
        "SELECT avg(price) FROM items",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Column {
            old: "items.price".into(),
            new: "items.weight".into()
        }]
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["0.72"]);
    // the example's name for the column swapped out goes with it; one the ordering uses stays
    let out = adapt_to(
        &f,
        "What is the weight of each item?",
        "What is the price of each item?",
        "SELECT item_name, price AS cost FROM items",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].sql.contains("weight AS weight"), "{}", out[0].sql);
    let out = adapt_to(
        &f,
        "What is the weight of each item?",
        "What is the price of each item?",
        "SELECT item_name, price AS cost FROM items ORDER BY cost",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].sql.contains("weight AS cost"), "{}", out[0].sql);
}

#[test]
fn a_filter_is_dropped_or_added_with_the_value_the_question_names() {
    let f = fx();
    let out = adapt_to(
        &f,
        "How many singers are there?",
        "How many singers are from France?",
        "SELECT count(*) FROM singer WHERE country = 'France'",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["3"]);
    let out = adapt_to(
        &f,
        "average price of Polar items",
        "average price of items",
        "SELECT avg(price) FROM items",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        matches!(&out[0].edits[..], [Edit::AddFilter { value, .. }] if value == "Polar"),
        "{:?}",
        out[0].edits
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["2.85"]);
}

#[test]
fn a_year_and_a_grain_are_moved() {
    let f = fx();
    let out = adapt_to(
        &f,
        "revenue per month in 2024",
        "revenue per year in 2023",
        "SELECT strftime('%Y', sale_date) AS period, sum(revenue) FROM sales \
         WHERE sale_date >= '2023-01-01' AND sale_date < '2024-01-01' GROUP BY period",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        rows(&f, &out[0].sql),
        vec!["2024-01|12.00", "2024-05|10.00"]
    );
}

#[test]
fn an_unexplained_difference_leaves_the_example_alone() {
    let f = fx();
    let out = adapt_to(
        &f,
        "Which brands sell bread?",
        "How many singers are from France?",
        "SELECT count(*) FROM singer WHERE country = 'France'",
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_period_or_a_grain_is_never_a_rewording() {
    let f = fx();
    // SQLite has no quarter format: the grain cannot be moved, and "from March to June" names
    // a period the example does not filter on; the example is left alone
    let quarterly = "SELECT 'Q' || ((CAST(strftime('%m', sale_date) AS INTEGER) + 2) / 3) AS q, \
         sum(revenue) FROM sales WHERE sale_date BETWEEN '2024-01-01' AND '2024-12-31' GROUP BY q";
    for question in [
        "revenue from March to June 2024",
        "revenue by month in 2024",
    ] {
        let out = adapt_to(&f, question, "revenue by quarter in 2024", quarterly);
        assert!(out.is_empty(), "'{question}': {out:?}");
    }
}

#[test]
fn a_superlative_that_names_its_scale_flips_only_its_opposite() {
    let f = fx();
    let sql = "SELECT item_name FROM items ORDER BY weight ASC LIMIT 2";
    // "priciest" is about price, "lightest" about weight: not one direction for the other
    let out = adapt_to(&f, "the 2 priciest items", "the 2 lightest items", sql);
    assert!(out.is_empty(), "{out:?}");
    let out = adapt_to(&f, "the 2 heaviest items", "the 2 lightest items", sql);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["Milk", "Peas"]);
}

#[test]
fn a_value_among_words_that_name_nothing_is_swapped_alone() {
    let f = fx();
    let out = adapt_to(
        &f,
        "Which singers are based in Spain?",
        "List the singers from France",
        "SELECT name FROM singer WHERE country = 'France'",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].edits.contains(&Edit::Value {
            old: "France".into(),
            new: "Spain".into()
        }),
        "{:?}",
        out[0].edits
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["Bob"]);
}

#[test]
fn a_quoted_value_named_with_its_column_is_swapped_alone() {
    let f = fx();
    // "the country \"Spain\"": the column named beside its value
    let out = adapt_to(
        &f,
        "Which singers do not have the country \"Spain\"?",
        "List the singers who are not from France",
        "SELECT name FROM singer WHERE country != 'France'",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].edits.contains(&Edit::Value {
            old: "France".into(),
            new: "Spain".into()
        }),
        "{:?}",
        out[0].edits
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["Ann", "Cid"]);
    // a quoted value beside a column the example does not compare is no swap of its value
    let out = adapt_to(
        &f,
        "Which singers do not have the name \"Bob\"?",
        "List the singers who are not from France",
        "SELECT name FROM singer WHERE country != 'France'",
    );
    assert!(
        out.iter().all(|a| !a.sql.contains("country != 'name")),
        "{out:?}"
    );
}

/// The examples read as the engine reads `question` ([`same_reading`]).
fn read_alike(f: &Fx, question: &str, ex_q: &str, ex_sql: &str) -> Vec<Adapted> {
    let graph = crate::sql::pattern::joins::JoinGraph::build(&f.schema);
    let reader = Reader {
        schema: &f.schema,
        lexicon: &f.lex,
        graph: &graph,
        values: &f.values,
        rules: &[],
    };
    let asked = reader
        .read(&analyze(&Question::parse(question).unwrap()))
        .unwrap();
    let ex = Example {
        question: ex_q.into(),
        sql: ex_sql.into(),
        source: String::new(),
    };
    same_reading(&reader, &asked, &[(ex, 0.5)], TRIED, None)
}

#[test]
fn a_paraphrase_the_engine_reads_alike_answers_with_the_examples_sql_and_its_values_swapped() {
    let f = fx();
    // the curator orders by age, which the engine's reading does not
    let sql = "SELECT name FROM singer WHERE country = 'France' ORDER BY age DESC";
    let question = "Show the names of singers with the country Spain";
    let example = "What are the names of the singers whose country is France?";
    let out = read_alike(&f, question, example, sql);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Value {
            old: "France".into(),
            new: "Spain".into()
        }]
    );
    assert!(out[0].sql.contains("ORDER BY age DESC"), "{}", out[0].sql);
    assert_eq!(rows(&f, &out[0].sql), vec!["Bob"]);
}

#[test]
fn questions_that_differ_in_what_a_frame_may_leave_unread_are_not_read_alike() {
    let f = fx();
    let sql = "SELECT name FROM singer WHERE country = 'France'";
    let example = "What are the names of the singers whose country is France?";
    // the same question reads alike
    assert_eq!(read_alike(&f, example, example, sql).len(), 1);
    // a negation, a period grain, another link, a number the reading leaves unread
    let top = "SELECT name FROM singer WHERE country = 'France' ORDER BY age DESC LIMIT 2";
    assert!(read_alike(
        &f,
        "the 2 singers whose country is France",
        "the singers whose country is France",
        top
    )
    .is_empty());
    for question in [
        "What are the names of the singers whose country is not France?",
        "What are the names of the singers whose country is France, for each year?",
        "What are the names and ages of the singers whose country is France?",
    ] {
        let out = read_alike(&f, question, example, sql);
        assert!(out.is_empty(), "{question}: {out:?}");
    }
    // a share, a growth or an extreme the frame may not compute is no paraphrase
    let sql = "SELECT c.category_name, SUM(s.revenue) FROM sales s JOIN items i ON s.item_id = i.item_id \
               JOIN categories c ON c.category_id = i.category_id GROUP BY c.category_name";
    let example = "What is revenue by category?";
    assert_eq!(
        read_alike(&f, "Show the revenue for each category", example, sql).len(),
        1
    );
    for question in [
        "What share of revenue comes from each category?",
        "Which category brings in the most revenue?",
        "How did revenue grow by category?",
        "What is the cumulative revenue by category?",
        "Rank the categories by revenue",
    ] {
        let out = read_alike(&f, question, example, sql);
        assert!(out.is_empty(), "{question}: {out:?}");
    }
    // an amount asked ("how much") is no listing of rows, however the frame reads it
    let sql = "SELECT item_name FROM items WHERE brand = 'Polar'";
    let example = "List the items of the brand Polar";
    assert_eq!(
        read_alike(&f, "Show the items of the brand Green", example, sql).len(),
        1
    );
    let out = read_alike(&f, "How much money did the brand Polar make?", example, sql);
    assert!(out.is_empty(), "{out:?}");
}

/// A number the reading's SQL writes and the question does not state (the `LIMIT 1` of "the
/// oldest singers") is not swapped into an example's SQL; a stated one is.
#[test]
fn only_numbers_the_question_states_are_swapped_into_an_example_read_alike() {
    let f = fx();
    let sql = "SELECT name FROM singer ORDER BY age DESC LIMIT 3";
    let example = "What are the names of the 3 oldest singers?";
    let out = read_alike(
        &f,
        "What are the names of the 2 oldest singers?",
        example,
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].sql.ends_with("LIMIT 2"), "{}", out[0].sql);
    let out = read_alike(
        &f,
        "What are the names of the oldest singers?",
        example,
        sql,
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_comparison_is_one_key_however_it_is_written() {
    let f = fx();
    // "at least 30" and "31 or more": the same comparison, another number
    let out = adapt_to(
        &f,
        "Singers aged 31 or more",
        "Singers aged at least 30",
        "SELECT name FROM singer WHERE age >= 30 ORDER BY name",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Number {
            old: "30".into(),
            new: "31".into()
        }]
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["Bob"]);
    // "over" is "more than"; "under" is another comparison: the operator changes
    let out = adapt_to(
        &f,
        "Singers aged under 30",
        "Singers aged more than 30",
        "SELECT name FROM singer WHERE age > 30",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].edits.contains(&Edit::Comparison {
        old: ">".into(),
        new: "<".into()
    }));
    assert_eq!(rows(&f, &out[0].sql), vec!["Cid"]);
    // written the other way round in the SQL (`30 < age`), the operator is mirrored
    let out = adapt_to(
        &f,
        "Singers aged 30 or less",
        "Singers aged over 30",
        "SELECT name FROM singer WHERE 30 < age",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["Ann", "Cid"]);
}

#[test]
fn a_comparison_the_sql_does_not_make_is_not_adapted() {
    let f = fx();
    // the example counts; nothing in its SQL compares with a number to turn into "under"
    let out = adapt_to(
        &f,
        "How many singers are under 30?",
        "How many singers are over 30?",
        "SELECT count(*) FROM singer",
    );
    assert!(out.is_empty(), "{out:?}");
    // a year after "over" is a period, not a threshold
    let a = analyze(&Question::parse("revenue over 2023").unwrap());
    assert!(
        !align::keys(&a).iter().any(|k| k.key.starts_with("#cmp")),
        "{:?}",
        align::keys(&a).iter().map(|k| &k.key).collect::<Vec<_>>()
    );
}

#[test]
fn figures_the_question_does_not_ask_for_are_dropped_unless_the_ordering_uses_them() {
    let f = fx();
    let example = "SELECT c.category_name, SUM(s.revenue) AS total_revenue, SUM(i.weight) AS \
                   total_weight FROM sales s JOIN items i ON i.item_id = s.item_id JOIN categories c \
                   ON c.category_id = i.category_id GROUP BY c.category_name ORDER BY total_revenue DESC";
    let asked = "SELECT categories.category_name, SUM(sales.revenue) AS revenue FROM sales \
                 JOIN items ON sales.item_id = items.item_id JOIN categories ON \
                 items.category_id = categories.category_id GROUP BY categories.category_name";
    let (sql, edits) = drop_unasked_figures(example, asked, &f.schema).expect("weight dropped");
    assert_eq!(
        edits,
        vec![Edit::DropColumn {
            column: "total_weight".into()
        }]
    );
    assert_eq!(rows(&f, &sql), rows(&f, asked), "{sql}");
    // the figure the rows are ordered by stays
    let by_weight = example.replace("ORDER BY total_revenue", "ORDER BY total_weight");
    assert!(drop_unasked_figures(&by_weight, asked, &f.schema).is_none());
    // a question aggregating none of the example's figures leaves it whole
    let other = "SELECT COUNT(items.price) FROM items";
    assert!(drop_unasked_figures(example, other, &f.schema).is_none());
}

#[test]
fn an_example_breaking_its_rows_down_by_a_column_the_question_does_not_name_is_another_question() {
    let f = fx();
    let graph = crate::sql::pattern::joins::JoinGraph::build(&f.schema);
    let reader = Reader {
        schema: &f.schema,
        lexicon: &f.lex,
        graph: &graph,
        values: &f.values,
        rules: &[],
    };
    let read = |q: &str| reader.read(&analyze(&Question::parse(q).unwrap())).unwrap();
    let sql = "SELECT brand, SUM(price) FROM items GROUP BY brand";
    let example = read("What is the total price of the items by brand?");
    // "total price of the items" names no brand: the example's rows by brand answer another
    // question, however the engine reads the two
    assert!(reading::groups_by_more(
        &f.schema,
        sql,
        &example,
        &read("What is the total price of the items?")
    ));
    // "by category" breaks down by the categories' rows; "by brand" by a column of another
    // table, though the example's SQL shows the brand too
    let sql = "SELECT c.category_id, c.category_name, i.brand, SUM(i.price) FROM items i \
               JOIN categories c ON c.category_id = i.category_id \
               GROUP BY c.category_id, c.category_name, i.brand";
    assert!(reading::groups_by_more(
        &f.schema,
        sql,
        &read("What is the total price of the items by category?"),
        &read("What is the total price of the items by brand?")
    ));
    // naming the brand too, it is the same question
    assert!(!reading::groups_by_more(
        &f.schema,
        sql,
        &example,
        &read("Total price of items for each brand")
    ));
}

#[test]
fn a_percentage_the_sql_writes_as_a_fraction_is_swapped_as_a_fraction() {
    let f = fx();
    let out = adapt_to(
        &f,
        "Which items have a weight above 40% of their price?",
        "Which items have a weight above 20% of their price?",
        "SELECT item_name FROM items WHERE weight > 0.2 * price",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Number {
            old: "20%".into(),
            new: "40%".into()
        }]
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["Milk", "Peas"]);
}

#[test]
fn among_equally_long_alignments_the_one_matching_the_same_words_wins() {
    // "elastic" and "elasticity" share a stem; the anchor is the word both questions wrote
    let ex = analyze(
        &Question::parse("List elastic products whose elasticity estimate is high").unwrap(),
    );
    let q = analyze(&Question::parse("Show sensitive items whose elasticity is high").unwrap());
    let (ek, qk) = (align::keys(&ex), align::keys(&q));
    let (matched, stretches) = align::align((&ex, &ek), (&q, &qk));
    assert_eq!(matched, 2, "{ek:?} {qk:?}");
    let words = |a: &Analysis, keys: &[align::Key], ks: &[usize]| -> Vec<String> {
        ks.iter()
            .map(|&k| a.tokens[keys[k].tok].lower.clone())
            .collect()
    };
    let pairs: Vec<(Vec<String>, Vec<String>)> = stretches
        .iter()
        .map(|(es, qs)| (words(&ex, &ek, es), words(&q, &qk, qs)))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (
                vec!["elastic".to_string(), "products".to_string()],
                vec!["sensitive".to_string(), "items".to_string()]
            ),
            (vec!["estimate".to_string()], vec![]),
        ]
    );
}

#[test]
fn a_word_the_question_adds_before_a_schema_word_qualifies_it_and_is_no_rewording() {
    let f = fx();
    let sql = "SELECT avg(age) FROM singer WHERE country = 'France'";
    let example = "What is the average age of singers from France?";
    // words that name nothing, added elsewhere, are another wording
    let out = adapt_to(
        &f,
        "Tell me please the average age of singers from France",
        example,
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    // "debut age" is not "age": the example does not answer it
    let out = adapt_to(
        &f,
        "What is the average debut age of singers from France?",
        example,
        sql,
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn the_one_asked_in_the_singular_limits_the_examples_top_n_to_one() {
    let f = fx();
    let out = adapt_to(
        &f,
        "What is the most expensive item?",
        "What are the 3 most expensive items?",
        "SELECT item_name, price FROM items ORDER BY price DESC LIMIT 3",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Number {
            old: "3".into(),
            new: "1".into()
        }]
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["Cheese|6.00"]);
    // the plural with no number is not the one, nor the example's N
    let out = adapt_to(
        &f,
        "What are the most expensive items?",
        "What are the 3 most expensive items?",
        "SELECT item_name, price FROM items ORDER BY price DESC LIMIT 3",
    );
    assert!(out.is_empty(), "{out:?}");
}

/// Price moves of the shop's items, signed: the curated rules "price increases" and "price cuts"
/// are conditions of opposite sign on `change_pct`.
const MOVES: &str = "
CREATE TABLE price_moves (move_id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items(item_id),
    change_pct REAL);
INSERT INTO price_moves VALUES (1, 1, 12.0), (2, 2, -3.0), (3, 3, 5.0), (4, 4, -20.0), (5, 5, -8.0),
    (6, 1, 2.0);
";

fn move_rules() -> Vec<(BusinessRule, f32)> {
    let rule = |name: &str, keywords: &[&str], sql: &str| BusinessRule {
        name: name.into(),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        sql: Some(sql.into()),
        table: Some("price_moves".into()),
        kind: "filter".into(),
        ..BusinessRule::default()
    };
    vec![
        (
            rule(
                "price increases",
                &["price increase", "price rises"],
                "change_pct > 0",
            ),
            0.5,
        ),
        (
            rule(
                "price cuts",
                &["price cut", "price decreases", "markdowns"],
                "change_pct < 0",
            ),
            0.5,
        ),
    ]
}

#[test]
fn a_rule_of_opposite_sign_flips_the_ranking_and_keeps_its_rows() {
    let f = fx_with(MOVES);
    let example = (
        "What were the 3 biggest price increases?",
        "SELECT move_id, change_pct FROM price_moves ORDER BY change_pct DESC LIMIT 3",
    );
    // the deepest cut is the most negative change
    let out = adapt_with_rules(
        &f,
        "What was the single deepest price cut?",
        example,
        &move_rules(),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["4|-20.00"]);
    assert!(out[0].edits.contains(&Edit::OppositeRule {
        old: "price increases".into(),
        new: "price cuts".into(),
        condition: "change_pct < 0".into(),
    }));
    // the smallest cuts are the negative changes closest to 0, not the increases
    let out = adapt_with_rules(
        &f,
        "What were the 2 smallest price cuts?",
        example,
        &move_rules(),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["2|-3.00", "5|-8.00"]);
    // without the curated rules, "cut" explains nothing
    let out = adapt_to(
        &f,
        "What was the single deepest price cut?",
        example.0,
        example.1,
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_rule_of_opposite_sign_turns_the_examples_condition_round() {
    let f = fx_with(MOVES);
    let example = (
        "How many price increases were there?",
        "SELECT COUNT(*) FROM price_moves WHERE change_pct > 0",
    );
    let out = adapt_with_rules(
        &f,
        "How many price cuts were there?",
        example,
        &move_rules(),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["3"]);
}

#[test]
fn a_period_the_question_adds_restricts_the_date_of_the_examples_events() {
    let f = fx();
    let sql = "SELECT c.category_name, SUM(s.revenue) AS revenue FROM sales s \
               JOIN items i ON i.item_id = s.item_id JOIN categories c ON c.category_id = i.category_id \
               GROUP BY c.category_name";
    let example = "What is the total revenue of each category?";
    let out = adapt_to(
        &f,
        "What is the total revenue of each category in 2024?",
        example,
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::AddPeriod {
            column: "sales.sale_date".into(),
            period: "2024".into()
        }]
    );
    assert_eq!(
        rows(&f, &out[0].sql),
        vec!["Bakery|3.00", "Dairy|12.00", "Frozen Food|7.00"]
    );
    // an example with a period of its own has its period swapped, not a second one added
    let dated =
        "SELECT SUM(revenue) FROM sales WHERE sale_date BETWEEN '2023-01-01' AND '2023-12-31'";
    let out = adapt_to(
        &f,
        "What was the total revenue in 2024?",
        "What was the total revenue in 2023?",
        dated,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["22.00"]);
}

#[test]
fn a_period_added_on_a_column_of_months_is_bounded_by_months() {
    // months written 'YYYY-MM' compare as text: '2024-01' sorts before '2024-01-01'
    let f = fx_with(
        "CREATE TABLE margins (item_id INTEGER REFERENCES items(item_id), period TEXT, margin REAL);
         INSERT INTO margins VALUES (1, '2023-12', 1), (1, '2024-01', 2), (3, '2024-12', 4),
             (3, '2025-01', 8);",
    );
    let sql = "SELECT SUM(m.margin) AS margin FROM margins m";
    let out = adapt_to(
        &f,
        "What was the total margin in 2024?",
        "What was the total margin?",
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        matches!(out[0].edits.as_slice(), [Edit::AddPeriod { .. }]),
        "{out:?}"
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["6.00"]);
}

#[test]
fn a_question_that_says_what_an_example_says_in_other_words_answers_with_its_sql() {
    let f = fx();
    // the engine reads the two into different queries; their links and operations are the same
    let sql = "SELECT c.category_name, MAX(i.price), MIN(i.price) FROM items i \
               JOIN categories c ON i.category_id = c.category_id GROUP BY c.category_name";
    let out = read_alike(
        &f,
        "Find the maximum and minimum price of items in each category.",
        "What are the highest and lowest item prices for each category?",
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].how, Match::SaidTheSame);
    assert_eq!(out[0].sql, sql);
    assert!(out[0].edits.is_empty());
    assert_eq!(out[0].confidence, SAID_THE_SAME_CONFIDENCE);
    let out = read_alike(
        &f,
        "Show each category and the number of items in it.",
        "How many items are there in each category?",
        "SELECT c.category_name, COUNT(*) FROM items i JOIN categories c \
         ON i.category_id = c.category_id GROUP BY c.category_name",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].how, Match::SaidTheSame);
    // a figure beside the rows is a breakdown, as "each" says; "different" lists values once
    // (the example's SQL says how)
    for (question, example, sql) in [
        (
            "Show the brands and the number of items.",
            "How many items does each brand have?",
            "SELECT brand, COUNT(*) FROM items GROUP BY brand",
        ),
        (
            "What is the oldest age among the singers?",
            "What is the maximum age of a singer?",
            "SELECT MAX(age) FROM singer",
        ),
        (
            "List the brands of the items.",
            "What are the different brands of items?",
            "SELECT DISTINCT brand FROM items",
        ),
        // "each" beside no figure lists the rows; "each category" breaks down by its names
        (
            "What is the brand of each item?",
            "List the brands of all the items.",
            "SELECT brand FROM items",
        ),
        (
            "How many items are there in each category?",
            "Show the category names and the corresponding number of items.",
            "SELECT c.category_name, COUNT(*) FROM items i JOIN categories c \
             ON i.category_id = c.category_id GROUP BY c.category_name",
        ),
        // the column that names a table's rows says what the table says
        (
            "Who is the oldest singer?",
            "What is the name of the oldest singer?",
            "SELECT name FROM singer ORDER BY age DESC LIMIT 1",
        ),
    ] {
        let out = read_alike(&f, question, example, sql);
        assert_eq!(out.len(), 1, "{question} / {example}: {out:?}");
        assert_eq!(out[0].sql, sql);
    }
}

#[test]
fn questions_that_differ_by_a_breakdown_an_ordering_an_extreme_or_a_value_do_not_say_the_same() {
    let f = fx();
    for (question, example, sql) in [
        // a count of brands is not a count per brand
        (
            "Count the number of different brands.",
            "How many items does each brand have?",
            "SELECT brand, COUNT(*) FROM items GROUP BY brand",
        ),
        // descending is said by one of them only
        (
            "List the item names sorted by weight.",
            "What are the names of the items in descending order of weight?",
            "SELECT item_name FROM items ORDER BY weight DESC",
        ),
        // another column than the name
        (
            "What is the country of the oldest singer?",
            "What is the name of the oldest singer?",
            "SELECT name FROM singer ORDER BY age DESC LIMIT 1",
        ),
        // the priciest is not the heaviest
        (
            "What is the name of the most expensive item?",
            "What is the name of the heaviest item?",
            "SELECT item_name FROM items ORDER BY weight DESC LIMIT 1",
        ),
        // the example's SQL filters on a value the question does not name
        (
            "Show each category and the number of items in it.",
            "How many items are there in each category?",
            "SELECT c.category_name, COUNT(*) FROM items i JOIN categories c \
             ON i.category_id = c.category_id WHERE i.brand = 'Polar' GROUP BY c.category_name",
        ),
    ] {
        let out = read_alike(&f, question, example, sql);
        assert!(out.is_empty(), "{question} / {example}: {out:?}");
    }
}

#[test]
fn a_column_the_examples_sql_shows_is_no_more_than_the_example_names() {
    // a table without a key: "who" and "the name" are read into the same query
    let f = fx_with(
        "CREATE TABLE person (name TEXT, age INTEGER, city TEXT);
         INSERT INTO person VALUES ('Ann', 30, 'Paris'), ('Bob', 41, 'Rome');",
    );
    let sql = "SELECT name FROM person ORDER BY age DESC LIMIT 1";
    // the name the question asks for is what the curator's SQL shows
    let out = read_alike(
        &f,
        "What is the name of the person who is the oldest?",
        "Who is the oldest person?",
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].how, Match::ReadTheSame);
    assert_eq!(rows(&f, &out[0].sql), vec!["Bob"]);
    // a column it does not show is more than the example names
    let out = read_alike(
        &f,
        "What is the city of the person who is the oldest?",
        "Who is the oldest person?",
        sql,
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_qualifier_of_the_rows_the_engine_cannot_read_is_no_rewording_of_an_example() {
    let f = fx();
    let sql = "SELECT c.category_name, COUNT(*) FROM items i JOIN categories c \
               ON i.category_id = c.category_id GROUP BY c.category_name";
    let example = "How many items are there in each category?";
    // "discontinued" is read by nothing: the engine cannot tell what it keeps of the rows
    let out = read_alike(
        &f,
        "How many items are discontinued in each category?",
        example,
        sql,
    );
    assert!(out.is_empty(), "{out:?}");
    let out = read_alike(&f, "How many items are in each category?", example, sql);
    assert_eq!(out.len(), 1, "{out:?}");
}

#[test]
fn a_qualifier_of_the_rows_is_no_rewording_when_aligning_an_example() {
    let f = fx();
    let sql = "SELECT c.category_name, COUNT(*) FROM items i JOIN categories c \
               ON i.category_id = c.category_id GROUP BY c.category_name";
    let example = "How many items do we have in each category?";
    // "do we have" / "are discontinued": the second keeps some rows the engine cannot read
    let out = adapt_to(
        &f,
        "How many items are discontinued in each category?",
        example,
        sql,
    );
    assert!(out.is_empty(), "{out:?}");
    let out = adapt_to(
        &f,
        "How many items do you have in each category?",
        example,
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
}

#[test]
fn a_listing_verb_after_a_determiner_is_a_word_of_the_question() {
    let f = fx();
    let sql = "SELECT price FROM items WHERE item_name = 'Milk'";
    let example = "What is the price of Milk?";
    // "the return price" is not "the price": "return" is a noun here, not a request
    let out = adapt_to(&f, "What is the return price of Milk?", example, sql);
    assert!(out.is_empty(), "{out:?}");
    let out = adapt_to(&f, "Return the price of Milk", example, sql);
    assert_eq!(out.len(), 1, "{out:?}");
}

const PEOPLE: &str = "
CREATE TABLE people (person_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, dept TEXT);
INSERT INTO people VALUES (1, 'Ann', 'Lee', 'Sales'), (2, 'Bo', 'Chan', 'Legal'),
    (3, 'Cy', 'Lee', 'Legal');
";

#[test]
fn a_name_the_sql_holds_in_parts_is_swapped_word_for_word() {
    let f = fx_with(PEOPLE);
    let out = adapt_to(
        &f,
        "Find the department of \"Bo Chan\".",
        "Find the department of \"Ann Lee\".",
        "SELECT dept FROM people WHERE first_name = \"Ann\" AND last_name = \"Lee\"",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].edits,
        vec![Edit::Value {
            old: "Ann Lee".into(),
            new: "Bo Chan".into()
        }]
    );
    assert_eq!(rows(&f, &out[0].sql), vec!["Legal"]);
    // a name of another length is no word-for-word swap
    let out = adapt_to(
        &f,
        "Find the department of \"Bo\".",
        "Find the department of \"Ann Lee\".",
        "SELECT dept FROM people WHERE first_name = \"Ann\" AND last_name = \"Lee\"",
    );
    assert!(out.iter().all(|o| !o.sql.contains("Bo")), "{out:?}");
}

#[test]
fn each_and_distinct_said_of_what_the_query_does_anyway_are_the_same_question() {
    let f = fx();
    // "distinct" of grouped rows
    let out = adapt_to(
        &f,
        "Show the different brands and the number of items of each brand.",
        "Show the brands and the number of items of the brand.",
        "SELECT brand, count(*) FROM items GROUP BY brand",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["Alp|1", "Green|2", "Polar|2"]);
    // "for each" of a total is a breakdown the example does not make
    let out = adapt_to(
        &f,
        "How many items are there for each brand?",
        "How many items are there?",
        "SELECT count(*) FROM items",
    );
    assert!(out.is_empty(), "{out:?}");
    // "how many different" of a count of every row is another count
    let out = adapt_to(
        &f,
        "How many different brands do the items have?",
        "How many brands do the items have?",
        "SELECT count(brand) FROM items",
    );
    assert!(out.is_empty(), "{out:?}");
    let out = adapt_to(
        &f,
        "How many different brands do the items have?",
        "How many brands do the items have?",
        "SELECT count(DISTINCT brand) FROM items",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["3"]);
    // the example's "how many different" is not what a question without it asks
    let out = adapt_to(
        &f,
        "How many brands do the items have?",
        "How many different brands do the items have?",
        "SELECT count(DISTINCT brand) FROM items",
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn counts_orderings_full_names_and_misspellings_are_the_same_words() {
    let f = fx_with(PEOPLE);
    let as_written = |question: &str, ex_q: &str, ex_sql: &str| {
        let out = adapt_to(&f, question, ex_q, ex_sql);
        assert_eq!(out.len(), 1, "{question}: {out:?}");
        assert!(out[0].edits.is_empty(), "{question}: {out:?}");
    };
    as_written(
        "Count the number of singers from France.",
        "How many singers are from France?",
        "SELECT count(*) FROM singer WHERE country = 'France'",
    );
    as_written(
        "List the items sorted by price.",
        "List the items ordered by price.",
        "SELECT item_name FROM items ORDER BY price",
    );
    as_written(
        "What are the full names of the people?",
        "What are the first and last names of the people?",
        "SELECT first_name, last_name FROM people",
    );
    as_written(
        "What is the average weight of the items?",
        "What is the average wieght of the items?",
        "SELECT avg(weight) FROM items",
    );
    // "the products ordered" is no ordering
    let out = adapt_to(
        &f,
        "List the items ordered in 2024.",
        "List the items sorted in 2024.",
        "SELECT item_name FROM items",
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn the_column_an_example_shows_a_table_by_stands_for_the_table_named_alone() {
    let f = fx();
    let out = adapt_to(
        &f,
        "List the items of the Dairy category.",
        "List the names of the items of the Bakery category.",
        "SELECT item_name FROM items JOIN categories ON items.category_id = categories.category_id \
         WHERE category_name = 'Bakery'",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(rows(&f, &out[0].sql), vec!["Cheese", "Milk"]);
}

#[test]
fn a_value_of_another_column_is_not_swapped_into_the_examples() {
    let f = fx();
    let out = adapt_to(
        &f,
        "How many items are 'Dairy'?",
        "How many items are 'Polar'?",
        "SELECT count(*) FROM items WHERE brand = 'Polar'",
    );
    assert!(out.iter().all(|o| !o.sql.contains("Dairy")), "{out:?}");
}

#[test]
fn a_percentage_after_a_column_is_its_unit_not_a_share() {
    let f = fx_with(
        "CREATE TABLE candidate (candidate_id INTEGER PRIMARY KEY, poll_source TEXT,
             support_rate REAL, oppose_rate REAL);
         INSERT INTO candidate VALUES (1, 'WNBC', 0.25, 0.43), (2, 'FOX', 0.17, 0.32);",
    );
    let sql = "SELECT max(support_rate), min(oppose_rate) FROM candidate";
    // "support percentage" names the column's unit: the two read alike
    let out = read_alike(
        &f,
        "Find the highest support percentage and the lowest oppose rate of all candidates.",
        "Return the maximum support rate and minimum oppose rate across all candidates.",
        sql,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].sql, sql);
    // "the percentage of candidates" asks for a share
    let out = read_alike(
        &f,
        "What percentage of candidates have a support rate above 0.2?",
        "How many candidates have a support rate above 0.2?",
        "SELECT count(*) FROM candidate WHERE support_rate > 0.2",
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_period_is_no_grain_and_a_breakdown_by_a_tables_rows_is_not_one_by_its_column() {
    let f = fx();
    // "this year" names a period; "by year" a breakdown: the example is not the question
    let sql = "SELECT strftime('%Y', sale_date) AS y, SUM(revenue) FROM sales GROUP BY y";
    let out = adapt_to(
        &f,
        "What was the total revenue this year?",
        "Show the total revenue by year",
        sql,
    );
    assert!(out.iter().all(|a| a.sql != sql), "{out:?}");
}

#[test]
fn words_naming_a_column_are_no_value_to_swap_in() {
    let f = fx();
    // "per country" asks for a breakdown; the example filters one country: no country
    // called 'country'
    let out = adapt_to(
        &f,
        "How many singers per country?",
        "How many singers are from France?",
        "SELECT count(*) FROM singer WHERE country = 'France'",
    );
    assert!(out.iter().all(|a| !a.sql.contains("'country'")), "{out:?}");
}

#[test]
fn words_saying_again_what_the_query_reads_change_nothing() {
    let f = fx();
    // "of each category" over the rows listed: the category names, said twice
    let sql = "SELECT category_name FROM categories";
    let out = adapt_to(
        &f,
        "What are the category names of each category?",
        "List all category names.",
        sql,
    );
    assert_eq!(out.first().map(|a| a.sql.as_str()), Some(sql), "{out:?}");
    assert_eq!(rows(&f, &out[0].sql).len(), 3);
    // the rows listed are no word said again: "only in the country France" is not "the
    // singers in the country France"
    let listed = "SELECT name FROM singer WHERE country = 'France'";
    let out = adapt_to(
        &f,
        "only in the country France",
        "List the singers in the country France",
        listed,
    );
    assert!(out.iter().all(|a| a.sql != listed), "{out:?}");
    // a table the query does not read is a breakdown or a join, not the same question
    let out = adapt_to(
        &f,
        "List the item names of each category.",
        "List all item names.",
        "SELECT item_name FROM items",
    );
    assert!(out.is_empty(), "{out:?}");
    // what a count counts is no breakdown: "how many item categories" is no count of the
    // items in each category
    let grouped = "SELECT category_name, count(*) FROM categories JOIN items \
                   ON categories.category_id = items.category_id GROUP BY category_name";
    let out = adapt_to(
        &f,
        "How many item categories are there?",
        "Show the category names and the number of items in each category.",
        grouped,
    );
    assert!(out.iter().all(|a| a.sql != grouped), "{out:?}");
}
