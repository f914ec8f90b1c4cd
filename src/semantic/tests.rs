//! Tests of the semantic layer on a small real SQLite file: compiled SQL is run and its rows
//! compared with hand-written SQL; questions are read into metric queries or refused.

use std::path::PathBuf;

use chrono::NaiveDate;
use rusqlite::Connection;

use super::query::*;
use super::*;
use crate::knowledge::ValueIndex;
use crate::warehouse::{SqliteWarehouse, Warehouse};

const MODEL: &str = r#"
semantic_models:
  - name: sales
    model: ref('sales')
    defaults: {agg_time_dimension: sale_date}
    entities:
      - {name: sale, type: primary, expr: id}
      - {name: product, type: foreign, expr: upc}
      - {name: store, type: foreign, expr: store_id}
    dimensions:
      - {name: sale_date, type: time, type_params: {time_granularity: day}}
      - {name: promo, type: categorical}
    measures:
      - {name: revenue, agg: sum}
      - {name: units, agg: sum}
  - name: margins
    model: margins
    defaults: {agg_time_dimension: period}
    entities:
      - {name: margin_row, type: primary, expr: id}
      - {name: product, type: foreign, expr: upc}
      - {name: store, type: foreign, expr: store_id}
    dimensions:
      - {name: period, type: time, expr: "period || '-01'", type_params: {time_granularity: month}}
    measures:
      - {name: gross_margin, agg: sum}
  - name: products
    model: products
    entities:
      - {name: product, type: primary, expr: upc, label: product_name, synonyms: [item, items]}
    dimensions:
      - {name: product_name, type: categorical}
      - {name: category, type: categorical, synonyms: [categories]}
      - {name: created, type: time}
  - name: stores
    model: stores
    entities:
      - {name: store, type: primary, expr: store_id, label: store_name}
    dimensions:
      - {name: store_name, type: categorical}
      - {name: zone, type: categorical, synonyms: [zones]}
      - {name: opened, type: time}
metrics:
  - {name: revenue, type: simple, type_params: {measure: revenue}, synonyms: [sales]}
  - {name: units, type: simple, type_params: {measure: units}, synonyms: [volume]}
  - {name: gross_margin, type: simple, type_params: {measure: gross_margin}, synonyms: [margin]}
  - name: asp
    type: ratio
    type_params: {numerator: revenue, denominator: units}
    synonyms: [average selling price]
  - name: promo_revenue
    type: simple
    type_params: {measure: revenue}
    filter: "{{ Dimension('sale__promo') }} = 1"
  - name: margin_per_revenue
    type: derived
    type_params:
      expr: 100.0 * gross_margin / revenue
      metrics: [gross_margin, revenue]
  - name: cumulative_revenue
    type: cumulative
    type_params: {measure: revenue}
filters:
  - {name: on promotion, semantic_model: sales, expr: "promo = 1", synonyms: [promo, promoted]}
"#;

/// A small database: 4 products in 2 categories, 3 stores in 2 zones, sales over 2023-2024,
/// monthly margins; a store opened in 2023 so that a wrong date filter would show.
fn database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("shop.sqlite");
    let c = Connection::open(&path).expect("the database opens");
    c.execute_batch(
        "CREATE TABLE products (upc TEXT PRIMARY KEY, product_name TEXT, category TEXT, created DATE);
         CREATE TABLE stores (store_id TEXT PRIMARY KEY, store_name TEXT, zone TEXT, opened DATE);
         CREATE TABLE sales (id INTEGER PRIMARY KEY, upc TEXT REFERENCES products(upc),
             store_id TEXT REFERENCES stores(store_id), sale_date DATE, units INTEGER, revenue REAL, promo INTEGER);
         CREATE TABLE margins (id INTEGER PRIMARY KEY, upc TEXT, store_id TEXT, period TEXT, gross_margin REAL);
         INSERT INTO products VALUES ('p1','Milk','Dairy','2020-01-01'),('p2','Cheese','Dairy','2020-01-01'),
             ('p3','Peas','Frozen Food','2020-01-01'),('p4','Pizza','Frozen Food','2020-01-01');
         INSERT INTO stores VALUES ('s1','Alpha','North','2019-05-01'),('s2','Beta','South','2023-06-01'),
             ('s3','Gamma','North','2021-01-01');",
    )
    .expect("the schema is created");
    let mut id = 0;
    for (y, m) in [
        (2023, 1),
        (2023, 4),
        (2023, 7),
        (2023, 10),
        (2024, 2),
        (2024, 5),
        (2024, 8),
        (2024, 11),
    ] {
        for (pi, p) in ["p1", "p2", "p3", "p4"].iter().enumerate() {
            for (si, s) in ["s1", "s2", "s3"].iter().enumerate() {
                id += 1;
                let units =
                    (1 + (pi * 3 + si * 2 + m as usize + (y as usize - 2023) * 5) % 9) as i64;
                let price = 1.5 + pi as f64;
                let promo = (id % 3 == 0) as i32;
                c.execute(
                    "INSERT INTO sales VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![
                        id,
                        p,
                        s,
                        format!("{y}-{m:02}-{:02}", 3 + si),
                        units,
                        units as f64 * price,
                        promo
                    ],
                )
                .expect("a sale");
                c.execute(
                    "INSERT INTO margins VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![id, p, s, format!("{y}-{m:02}"), units as f64 * 0.4],
                )
                .expect("a margin row");
            }
        }
    }
    drop(c);
    (dir, path)
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    schema: crate::warehouse::Schema,
    values: ValueIndex,
    layer: SemanticLayer,
}

fn fixture() -> Fixture {
    let (dir, path) = database();
    let wh = SqliteWarehouse::open(&path).expect("the warehouse opens");
    let schema = wh.introspect().expect("introspection");
    let values = ValueIndex::build(&wh, &schema).expect("the value index");
    let manifest = SemanticManifest::parse(MODEL).expect("the model parses");
    let layer = SemanticLayer::new(manifest, |_| None);
    let layer = SemanticLayer {
        reference: Reference {
            date: NaiveDate::from_ymd_opt(2024, 12, 30).unwrap(),
            source: "fixed",
        },
        ..layer
    };
    Fixture {
        _dir: dir,
        path,
        schema,
        values,
        layer,
    }
}

type Table = Vec<Vec<String>>;

fn rows(path: &PathBuf, sql: &str) -> Table {
    let c = Connection::open(path).expect("opens");
    let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let out = stmt
        .query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get_ref(i).expect("a value") {
                    rusqlite::types::ValueRef::Null => "NULL".to_string(),
                    rusqlite::types::ValueRef::Integer(x) => format!("{:.4}", x as f64),
                    rusqlite::types::ValueRef::Real(x) => format!("{x:.4}"),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => "blob".into(),
                })
                .collect::<Vec<_>>())
        })
        .expect("runs")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    out
}

fn compiled(f: &Fixture, q: &MetricQuery) -> String {
    compile(&f.layer.manifest, &f.schema, Dialect::Sqlite, q)
        .unwrap_or_else(|e| panic!("{q:?} does not compile: {e}"))
        .sql
}

fn asked(f: &Fixture, question: &str) -> (MetricQuery, String) {
    match f
        .layer
        .answer(question, &f.schema, &f.values, Dialect::Sqlite)
    {
        Outcome::Compiled { query, sql, .. } => (query, sql),
        Outcome::Refused { reason, unread, .. } => {
            panic!("'{question}' refused: {reason} {unread:?}")
        }
    }
}

/// Asserts that the layer refuses `question` (no query compiled).
fn refused(f: &Fixture, question: &str) {
    if let Outcome::Compiled { sql, .. } =
        f.layer
            .answer(question, &f.schema, &f.values, Dialect::Sqlite)
    {
        panic!("'{question}' answered: {sql}");
    }
}

fn same(f: &Fixture, sql: &str, gold: &str) {
    // compared as multisets: rows tied on the ordered figure may come in either order
    let (mut a, mut b) = (rows(&f.path, sql), rows(&f.path, gold));
    a.sort();
    b.sort();
    assert!(!b.is_empty(), "the gold query returns rows: {gold}");
    assert_eq!(a, b, "\ncompiled: {sql}\ngold:     {gold}");
}

fn dim(name: &str) -> DimensionRef {
    DimensionRef {
        model: None,
        name: name.into(),
    }
}

fn period(y: i32) -> Period {
    Period {
        start: NaiveDate::from_ymd_opt(y, 1, 1),
        end: NaiveDate::from_ymd_opt(y + 1, 1, 1),
        text: format!("{y}"),
    }
}

fn col(metric: &str) -> MetricColumn {
    MetricColumn {
        metric: metric.into(),
        slice: None,
    }
}

#[test]
fn a_metric_by_a_dimension_over_a_period_filters_the_measures_own_date() {
    let f = fixture();
    let q = MetricQuery {
        columns: vec![col("revenue")],
        group_by: vec![GroupBy::Entity {
            name: "store".into(),
        }],
        period: Some(period(2023)),
        order: vec![Order {
            by: OrderBy::Figure,
            descending: true,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT st.store_name, SUM(s.revenue) AS r FROM sales s JOIN stores st ON s.store_id = st.store_id \
         WHERE s.sale_date >= '2023-01-01' AND s.sale_date < '2024-01-01' GROUP BY st.store_id ORDER BY r DESC",
    );
}

#[test]
fn two_fact_tables_are_aggregated_apart_before_they_meet() {
    let f = fixture();
    let q = MetricQuery {
        columns: vec![col("revenue"), col("gross_margin")],
        group_by: vec![GroupBy::Dimension(dim("zone"))],
        order: vec![Order {
            by: OrderBy::Groups,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT a.zone, a.r, b.m FROM (SELECT st.zone, SUM(s.revenue) r FROM sales s JOIN stores st USING (store_id) GROUP BY 1) a \
         JOIN (SELECT st.zone, SUM(m.gross_margin) m FROM margins m JOIN stores st USING (store_id) GROUP BY 1) b ON a.zone = b.zone ORDER BY 1",
    );
}

#[test]
fn ratio_derived_and_filtered_metrics_compute_from_sums() {
    let f = fixture();
    let q = MetricQuery {
        columns: vec![col("asp"), col("promo_revenue"), col("margin_per_revenue")],
        group_by: vec![GroupBy::Dimension(dim("category"))],
        order: vec![Order {
            by: OrderBy::Groups,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT a.category, a.asp, a.pr, 100.0 * b.m / a.r FROM (SELECT p.category, 1.0 * SUM(s.revenue) / SUM(s.units) asp, \
         SUM(CASE WHEN s.promo = 1 THEN s.revenue END) pr, SUM(s.revenue) r FROM sales s JOIN products p USING (upc) GROUP BY 1) a \
         JOIN (SELECT p.category, SUM(m.gross_margin) m FROM margins m JOIN products p USING (upc) GROUP BY 1) b USING (category) ORDER BY 1",
    );
}

#[test]
fn time_grains_group_by_the_measures_date_and_a_cumulative_metric_runs_over_them() {
    let f = fixture();
    let q = MetricQuery {
        columns: vec![col("revenue"), col("cumulative_revenue")],
        time_grain: Some(model::Grain::Quarter),
        period: Some(period(2024)),
        order: vec![Order {
            by: OrderBy::Time,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT q, r, SUM(r) OVER (ORDER BY q) FROM (SELECT 'Q' || ((CAST(strftime('%m', sale_date) AS INTEGER) + 2) / 3) q, \
         SUM(revenue) r FROM sales WHERE sale_date >= '2024-01-01' AND sale_date < '2025-01-01' GROUP BY 1) ORDER BY q",
    );
}

#[test]
fn an_entity_is_counted_through_the_fact_when_a_period_is_named() {
    let f = fixture();
    let q = MetricQuery {
        entity_count: Some(EntityCount {
            entity: "product".into(),
            through: None,
            part: None,
        }),
        filters: vec![Filter::Members {
            dimension: dim("zone"),
            values: vec!["South".into()],
            negated: false,
        }],
        period: Some(Period {
            start: NaiveDate::from_ymd_opt(2023, 1, 1),
            end: NaiveDate::from_ymd_opt(2023, 3, 1),
            text: "x".into(),
        }),
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT COUNT(DISTINCT s.upc) FROM sales s JOIN stores st USING (store_id) WHERE st.zone = 'South' AND s.sale_date >= '2023-01-01' AND s.sale_date < '2023-03-01'",
    );
}

#[test]
fn share_growth_running_total_rank_and_average_are_computed_in_sql() {
    let f = fixture();
    let base = |derived| MetricQuery {
        columns: vec![col("revenue")],
        group_by: vec![GroupBy::Dimension(dim("category"))],
        derived: Some(derived),
        order: vec![Order {
            by: OrderBy::Groups,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &base(Derived::ShareOfTotal)),
        "SELECT p.category, 100.0 * SUM(s.revenue) / (SELECT SUM(revenue) FROM sales) FROM sales s JOIN products p USING (upc) GROUP BY 1 ORDER BY 1",
    );
    let mut growth = base(Derived::PeriodGrowth);
    growth.columns = vec![
        MetricColumn {
            metric: "revenue".into(),
            slice: Some(Slice::Period(period(2023))),
        },
        MetricColumn {
            metric: "revenue".into(),
            slice: Some(Slice::Period(period(2024))),
        },
    ];
    same(
        &f,
        &compiled(&f, &growth),
        "SELECT category, a, b, 100.0 * (b - a) / a FROM (SELECT p.category, SUM(CASE WHEN s.sale_date < '2024-01-01' THEN revenue END) a, \
         SUM(CASE WHEN s.sale_date >= '2024-01-01' THEN revenue END) b FROM sales s JOIN products p USING (upc) GROUP BY 1) ORDER BY 1",
    );
    let running = MetricQuery {
        columns: vec![col("units")],
        time_grain: Some(model::Grain::Year),
        derived: Some(Derived::RunningTotal),
        order: vec![Order {
            by: OrderBy::Time,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &running),
        "SELECT y, SUM(u) OVER (ORDER BY y) FROM (SELECT strftime('%Y', sale_date) y, SUM(units) u FROM sales GROUP BY 1) ORDER BY y",
    );
    let pop = MetricQuery {
        columns: vec![col("units")],
        time_grain: Some(model::Grain::Year),
        derived: Some(Derived::PeriodOverPeriod { lag: 1 }),
        order: vec![Order {
            by: OrderBy::Time,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &pop),
        "SELECT y, u, 100.0 * (u - LAG(u) OVER (ORDER BY y)) / LAG(u) OVER (ORDER BY y) FROM (SELECT strftime('%Y', sale_date) y, SUM(units) u FROM sales GROUP BY 1) ORDER BY y",
    );
    let rank = MetricQuery {
        columns: vec![col("revenue")],
        group_by: vec![
            GroupBy::Dimension(dim("category")),
            GroupBy::Entity {
                name: "product".into(),
            },
        ],
        derived: Some(Derived::RankWithin {
            top: Some(1),
            ascending: false,
        }),
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &rank),
        "SELECT category, product_name, r FROM (SELECT p.category, p.product_name, SUM(s.revenue) r, RANK() OVER (PARTITION BY p.category ORDER BY SUM(s.revenue) DESC) k \
         FROM sales s JOIN products p USING (upc) GROUP BY p.upc) WHERE k = 1 ORDER BY category",
    );
    let above = MetricQuery {
        columns: vec![col("revenue")],
        group_by: vec![GroupBy::Entity {
            name: "product".into(),
        }],
        derived: Some(Derived::VersusAverage {
            above: true,
            of_whole: false,
            per: Vec::new(),
        }),
        order: vec![Order {
            by: OrderBy::Figure,
            descending: true,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &above),
        "WITH t AS (SELECT p.product_name n, SUM(s.revenue) r FROM sales s JOIN products p USING (upc) GROUP BY p.upc) \
         SELECT n, r FROM t WHERE r > (SELECT AVG(r) FROM t) ORDER BY r DESC",
    );
}

#[test]
fn members_and_filters_sit_side_by_side() {
    let f = fixture();
    let q = MetricQuery {
        columns: vec![
            MetricColumn {
                metric: "revenue".into(),
                slice: Some(Slice::Member {
                    dimension: dim("category"),
                    value: "Dairy".into(),
                    negated: false,
                }),
            },
            MetricColumn {
                metric: "revenue".into(),
                slice: Some(Slice::Member {
                    dimension: dim("category"),
                    value: "Frozen Food".into(),
                    negated: false,
                }),
            },
        ],
        time_grain: Some(model::Grain::Year),
        order: vec![Order {
            by: OrderBy::Time,
            descending: false,
        }],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT strftime('%Y', sale_date), SUM(CASE WHEN category = 'Dairy' THEN revenue END), SUM(CASE WHEN category = 'Frozen Food' THEN revenue END) \
         FROM sales JOIN products USING (upc) GROUP BY 1 ORDER BY 1",
    );
    let q = MetricQuery {
        columns: vec![
            MetricColumn {
                metric: "units".into(),
                slice: Some(Slice::Named {
                    name: "on promotion".into(),
                    negated: false,
                }),
            },
            MetricColumn {
                metric: "units".into(),
                slice: Some(Slice::Named {
                    name: "on promotion".into(),
                    negated: true,
                }),
            },
        ],
        ..Default::default()
    };
    same(
        &f,
        &compiled(&f, &q),
        "SELECT SUM(CASE WHEN promo = 1 THEN units END), SUM(CASE WHEN promo <> 1 THEN units END) FROM sales",
    );
}

#[test]
fn questions_are_read_as_metric_queries_and_answer_like_hand_written_sql() {
    let f = fixture();
    let (q, sql) = asked(&f, "Top 2 stores by revenue in 2023");
    assert_eq!(q.limit, Some(2));
    same(
        &f,
        &sql,
        "SELECT st.store_name, SUM(s.revenue) r FROM sales s JOIN stores st USING (store_id) WHERE s.sale_date BETWEEN '2023-01-01' AND '2023-12-31' \
         GROUP BY st.store_id ORDER BY r DESC LIMIT 2",
    );
    let (_, sql) = asked(&f, "What were total sales by quarter in 2024?");
    same(
        &f,
        &sql,
        "SELECT 'Q' || ((CAST(strftime('%m', sale_date) AS INTEGER) + 2) / 3), SUM(revenue) FROM sales \
         WHERE sale_date LIKE '2024%' GROUP BY 1 ORDER BY 1",
    );
    let (q, _) = asked(
        &f,
        "Which categories grew fastest in 2024 compared to 2023?",
    );
    assert_eq!(q.derived, Some(Derived::PeriodGrowth));
    let (q, _) = asked(&f, "Compare revenue of Dairy vs Frozen Food by quarter");
    assert_eq!(q.columns.len(), 2);
    assert_eq!(q.time_grain, Some(model::Grain::Quarter));
    let (q, _) = asked(&f, "Share of units by zone");
    assert_eq!(q.derived, Some(Derived::ShareOfTotal));
    let (q, sql) = asked(&f, "How many items were sold in the South zone last year?");
    assert!(q.entity_count.is_some(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(DISTINCT upc) FROM sales JOIN stores USING (store_id) WHERE zone = 'South' AND sale_date LIKE '2023%'",
    );
    let (q, _) = asked(&f, "Which month had the highest revenue?");
    assert_eq!(
        (q.time_grain, q.limit),
        (Some(model::Grain::Month), Some(1))
    );
    let (q, _) = asked(&f, "Monthly revenue with and without promotion");
    assert_eq!(q.columns.len(), 2);
    let (q, _) = asked(&f, "Running total of sales by month in 2024");
    assert_eq!(q.derived, Some(Derived::RunningTotal));
    let (q, _) = asked(&f, "Top item by revenue in each category");
    assert!(
        matches!(q.derived, Some(Derived::RankWithin { .. })),
        "{q:?}"
    );
    let (q, _) = asked(&f, "Which stores have above average sales?");
    assert_eq!(
        q.derived,
        Some(Derived::VersusAverage {
            above: true,
            of_whole: false,
            per: Vec::new(),
        })
    );
    // a member named with its dimension, then the entity: a filter, not a breakdown
    let (q, sql) = asked(&f, "Total revenue of South zone stores");
    assert!(q.group_by.is_empty(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT SUM(revenue) FROM sales JOIN stores USING (store_id) WHERE zone = 'South'",
    );
    let (q, _) = asked(&f, "What was the best-selling category in 2024?");
    assert_eq!(q.limit, Some(1), "{q:?}");
    // a metric named as the base of a derived metric ("promo share of revenue") is its input
    let (q, _) = asked(&f, "Margin per revenue of revenue by category");
    assert_eq!(q.columns.len(), 1, "{q:?}");
    assert_eq!(q.columns[0].metric, "margin_per_revenue");
}

#[test]
fn ranks_shares_of_the_whole_counts_through_a_metric_and_averages_per_entity_are_read() {
    let f = fixture();
    // a rank column, rows in rank order
    let (q, sql) = asked(&f, "Rank the zones by revenue in 2024");
    assert_eq!(q.derived, Some(Derived::Rank { ascending: false }));
    same(
        &f,
        &sql,
        "SELECT zone, SUM(revenue) r, RANK() OVER (ORDER BY SUM(revenue) DESC) FROM sales JOIN stores USING (store_id) \
         WHERE sale_date LIKE '2024%' GROUP BY zone",
    );
    // a member's share of the whole
    let (q, sql) = asked(&f, "What percent of 2024 revenue came from Dairy?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole));
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(CASE WHEN category = 'Dairy' THEN revenue ELSE 0 END) / SUM(revenue) FROM sales \
         JOIN products USING (upc) WHERE sale_date LIKE '2024%'",
    );
    // a part named after the metric with "from" or a verb is each group's part of its whole
    let (q, sql) = asked(
        &f,
        "What share of revenue came from promotions in each zone?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT zone, 100.0 * SUM(CASE WHEN promo = 1 THEN revenue ELSE 0 END) / SUM(revenue) FROM sales \
         JOIN stores USING (store_id) GROUP BY zone",
    );
    let (q, sql) = asked(&f, "What percent of revenue came from Dairy in each zone?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT zone, 100.0 * SUM(CASE WHEN category = 'Dairy' THEN revenue ELSE 0 END) / SUM(revenue) \
         FROM sales JOIN products USING (upc) JOIN stores USING (store_id) GROUP BY zone",
    );
    // a filter that qualifies the metric is the whole shared among the groups
    let (q, _) = asked(
        &f,
        "What share of promoted revenue did each zone contribute?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfTotal), "{q:?}");
    let (q, _) = asked(
        &f,
        "What share of revenue in Dairy did each zone contribute?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfTotal), "{q:?}");
    // "stores in the North" names the member's rows, not a breakdown by store
    let (q, _) = asked(
        &f,
        "What share of sales did stores in the North account for?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    // a number before what is ranked
    let (q, sql) = asked(&f, "Which 2 categories sold the most units in 2023?");
    assert_eq!(q.limit, Some(2));
    same(
        &f,
        &sql,
        "SELECT category, SUM(units) u FROM sales JOIN products USING (upc) WHERE sale_date LIKE '2023%' \
         GROUP BY category ORDER BY u DESC LIMIT 2",
    );
    // a growth between the two ends of a range
    let (q, _) = asked(&f, "Which zones grew revenue the most from 2023 to 2024?");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    assert_eq!(q.columns.len(), 2);
    // "at least one": the entity among the metric's rows
    let (q, sql) = asked(
        &f,
        "How many items had at least one sale on promotion in 2024?",
    );
    assert!(q.entity_count.is_some(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(DISTINCT upc) FROM sales WHERE promo = 1 AND sale_date LIKE '2024%'",
    );
    // an average of a total per entity and per week
    let (q, sql) = asked(&f, "Average monthly revenue per store in 2024");
    assert!(
        matches!(&q.derived, Some(Derived::AveragePer { per }) if per == &["store".to_string()]),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT AVG(r) FROM (SELECT store_id, strftime('%Y-%m', sale_date) m, SUM(revenue) r FROM sales \
         WHERE sale_date LIKE '2024%' GROUP BY store_id, m)",
    );
    let (_, sql) = asked(
        &f,
        "How many units does a store of each zone sell in an average month?",
    );
    same(
        &f,
        &sql,
        "SELECT zone, AVG(u) FROM (SELECT st.zone, s.store_id, strftime('%Y-%m', sale_date) m, SUM(units) u \
         FROM sales s JOIN stores st USING (store_id) GROUP BY st.zone, s.store_id, m) GROUP BY zone",
    );
    // a change within a period compares its first quarter with the quarter before it
    let (_, sql) = asked(&f, "Quarter-over-quarter change in units during 2024");
    same(
        &f,
        &sql,
        "SELECT q, u, c FROM (SELECT q, u, 100.0 * (u - LAG(u) OVER (ORDER BY q)) / LAG(u) OVER (ORDER BY q) c FROM \
         (SELECT strftime('%Y', sale_date) || '-Q' || ((CAST(strftime('%m', sale_date) AS INTEGER) + 2) / 3) q, SUM(units) u \
         FROM sales GROUP BY 1)) WHERE q LIKE '2024%'",
    );
    // a ratio is compared with its value over the whole, not with the average of the rows
    let (q, sql) = asked(
        &f,
        "Which categories have an average selling price above the overall average selling price?",
    );
    assert!(
        matches!(
            q.derived,
            Some(Derived::VersusAverage { of_whole: true, .. })
        ),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT category, 1.0 * SUM(revenue) / SUM(units) FROM sales JOIN products USING (upc) GROUP BY category \
         HAVING 1.0 * SUM(revenue) / SUM(units) > (SELECT 1.0 * SUM(revenue) / SUM(units) FROM sales)",
    );
    // the number of a dimension's values: on its own model, or among the sales
    let (q, sql) = asked(&f, "How many categories are there?");
    assert!(q.dimension_count.is_some(), "{q:?}");
    same(&f, &sql, "SELECT COUNT(DISTINCT category) FROM products");
    let (_, sql) = asked(&f, "number of categories sold in the South zone in 2024");
    same(
        &f,
        &sql,
        "SELECT COUNT(DISTINCT p.category) FROM sales s JOIN products p USING (upc) JOIN stores st USING (store_id) \
         WHERE st.zone = 'South' AND s.sale_date LIKE '2024%'",
    );
    // a decline between two periods as a condition
    let (q, sql) = asked(&f, "Which stores had lower revenue in 2024 than in 2023?");
    assert_eq!(
        q.derived,
        Some(Derived::PeriodGrowthWhere { decline: true }),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT n, a, b, 100.0 * (b - a) / a FROM (SELECT st.store_name n, \
         SUM(CASE WHEN sale_date LIKE '2023%' THEN revenue ELSE 0 END) a, SUM(CASE WHEN sale_date LIKE '2024%' THEN revenue ELSE 0 END) b \
         FROM sales JOIN stores st USING (store_id) GROUP BY st.store_id) WHERE b < a",
    );
    // periods as the rows asked for, a split in percent, one period named twice
    let (q, _) = asked(&f, "Months of 2024 with above-average revenue");
    assert_eq!(q.time_grain, Some(model::Grain::Month), "{q:?}");
    assert!(matches!(
        q.derived,
        Some(Derived::VersusAverage { above: true, .. })
    ));
    let (q, _) = asked(
        &f,
        "How was 2024 revenue split between the zones, in percent?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfTotal), "{q:?}");
    let (q, _) = asked(&f, "For each zone show 2024 revenue next to the 2024 units");
    assert_eq!((q.columns.len(), q.period.is_some()), (2, true), "{q:?}");
    // several figures side by side come in the order of the breakdown
    let (q, _) = asked(&f, "Revenue and units by zone");
    assert_eq!(q.order[0].by, OrderBy::Groups, "{q:?}");
}

#[test]
fn everyday_verbs_list_breakdowns_and_strength_words_are_read() {
    let f = fixture();
    // "and year" ends a list of breakdowns: the store's zone and the year
    let (q, _) = asked(&f, "Revenue by zone and year");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    assert_eq!(q.time_grain, Some(model::Grain::Year), "{q:?}");
    // each year after the one before
    let (q, _) = asked(&f, "How has revenue changed from year to year?");
    assert_eq!(q.time_grain, Some(model::Grain::Year), "{q:?}");
    // verbs of having and seeing carry nothing; "weakest" ranks from the bottom, "led" from
    // the top
    let (weak, sql) = asked(&f, "Which 2 categories saw the weakest sales in 2024?");
    assert_eq!(weak.limit, Some(2), "{weak:?}");
    same(
        &f,
        &sql,
        "SELECT p.category, SUM(s.revenue) r FROM sales s JOIN products p USING (upc) \
         WHERE s.sale_date LIKE '2024%' GROUP BY p.category ORDER BY r ASC LIMIT 2",
    );
    let (led, _) = asked(&f, "Which zone led revenue in 2023?");
    assert_eq!(led.limit, Some(1), "{led:?}");
    assert_ne!(weak.order, led.order, "weakest and led order apart");
}

#[test]
fn the_reader_refuses_words_it_cannot_read() {
    let f = fixture();
    for question in [
        "Which stores have the Express format?",
        "List the employees hired after 2010",
        "revenue by elephant",
        // words that ask for a figure the metric query would not compute
        "Rank the zones by revenue by month",
        "Revenue per store compared with the average",
        "Revenue percentage by zone",
        "Products sold at least once in 2024",
        "Average revenue by zone",
        "What share of revenue came from Dairy and Frozen Food?",
        "Revenue from promoted weeks by zone",
        "number of categories with sales",
    ] {
        match f
            .layer
            .answer(question, &f.schema, &f.values, Dialect::Sqlite)
        {
            Outcome::Refused { .. } => {}
            Outcome::Compiled { sql, .. } => panic!("'{question}' was read: {sql}"),
        }
    }
}

#[test]
fn bigquery_sql_parses_in_its_dialect() {
    let f = fixture();
    let q = MetricQuery {
        columns: vec![col("revenue"), col("gross_margin")],
        group_by: vec![GroupBy::Dimension(dim("zone"))],
        time_grain: Some(model::Grain::Month),
        period: Some(period(2024)),
        derived: Some(Derived::ShareOfTotal),
        ..Default::default()
    };
    let c = compile(&f.layer.manifest, &f.schema, Dialect::BigQuery, &q).expect("compiles");
    assert!(c.sql.contains("FORMAT_DATE('%Y-%m'"), "{}", c.sql);
    assert!(c.sql.contains("DATE '2024-01-01'"), "{}", c.sql);
    sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::BigQueryDialect {}, &c.sql)
        .unwrap_or_else(|e| panic!("{}: {e}", c.sql));
}

#[test]
fn reading_and_compiling_take_under_two_milliseconds_at_the_median() {
    let f = fixture();
    let questions = [
        "Top 2 stores by revenue in 2023",
        "What were total sales by quarter in 2024?",
        "Which categories grew fastest in 2024 compared to 2023?",
        "Share of units by zone",
        "Monthly revenue with and without promotion",
    ];
    let mut times = Vec::new();
    for _ in 0..20 {
        for q in questions {
            let t = std::time::Instant::now();
            let _ = f.layer.answer(q, &f.schema, &f.values, Dialect::Sqlite);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let p50 = times[times.len() / 2];
    println!(
        "semantic read+compile p50 {p50:.3} ms, p95 {:.3} ms",
        times[times.len() * 95 / 100]
    );
    assert!(p50 < 2.0, "p50 {p50} ms");
}

/// Every metric of a curated model compiles alone, by each dimension its measures reach, and
/// by month over a period, and runs on the database.
fn every_metric_runs(model_file: &str, db: &std::path::Path) {
    let manifest = SemanticManifest::parse(
        &std::fs::read_to_string(model_file).expect("the model file is read"),
    )
    .unwrap_or_else(|e| panic!("{model_file}: {e}"));
    let wh = SqliteWarehouse::open(db).expect("the warehouse opens");
    let schema = wh.introspect().expect("introspection");
    let c = Connection::open(db).expect("opens");
    let mut ran = 0;
    for m in &manifest.metrics {
        let mut queries = vec![MetricQuery {
            columns: vec![col(&m.name)],
            ..Default::default()
        }];
        for model in &manifest.semantic_models {
            for d in &model.dimensions {
                queries.push(MetricQuery {
                    columns: vec![col(&m.name)],
                    group_by: vec![GroupBy::Dimension(DimensionRef {
                        model: Some(model.name.clone()),
                        name: d.name.clone(),
                    })],
                    ..Default::default()
                });
            }
        }
        queries.push(MetricQuery {
            columns: vec![col(&m.name)],
            time_grain: Some(model::Grain::Month),
            period: Some(period(2024)),
            ..Default::default()
        });
        for q in queries {
            // a dimension the metric's measures do not reach is refused, not compiled wrong
            let Ok(compiled) = compile(&manifest, &schema, Dialect::Sqlite, &q) else {
                continue;
            };
            c.prepare(&compiled.sql)
                .and_then(|mut s| s.query([]).map(|_| ()))
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", m.name, compiled.sql));
            ran += 1;
        }
    }
    assert!(ran > manifest.metrics.len(), "{ran} queries ran");
}

/// An SQLite file with the retail schema and `rows` (SQL inserts) only.
fn retail_schema_db(rows: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("retail.sqlite");
    let c = Connection::open(&db).expect("opens");
    c.execute_batch(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/retail_schema.sql"
        ))
        .expect("the schema file"),
    )
    .expect("the schema is created");
    c.execute_batch(rows).expect("the rows");
    (dir, db)
}

#[test]
fn every_metric_of_the_retail_model_compiles_and_runs_on_the_retail_schema() {
    let (_dir, db) = retail_schema_db("");
    every_metric_runs(
        concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/retail/semantic.yml"),
        &db,
    );
}

#[test]
fn every_metric_of_the_chinook_model_compiles_and_runs_on_chinook() {
    every_metric_runs(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/knowledge/chinook/semantic.yml"
        ),
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/chinook/chinook.sqlite"
        )),
    );
}

/// The Chinook database shipped with querent and its curated semantic model, relative periods
/// read against 2025-12-22.
fn chinook() -> Fixture {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/chinook/chinook.sqlite"
    ));
    let wh = SqliteWarehouse::open(&path).expect("opens");
    let schema = wh.introspect().expect("introspection");
    let values = ValueIndex::build(&wh, &schema).expect("values");
    let manifest = load(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge")),
        "chinook",
    )
    .expect("a model")
    .expect("it loads");
    let layer = SemanticLayer {
        reference: Reference {
            date: NaiveDate::from_ymd_opt(2025, 12, 22).unwrap(),
            source: "fixed",
        },
        ..SemanticLayer::new(manifest, |_| None)
    };
    Fixture {
        _dir: tempfile::tempdir().unwrap(),
        path,
        schema,
        values,
        layer,
    }
}

#[test]
fn a_member_named_in_the_plural_or_around_a_word_of_the_model_is_the_member() {
    // "audio" alone is a word of the model; "Protected AAC audio files" is a media type
    let f = chinook();
    // a scale's adjective names the one metric of that scale: "longest" is the track length,
    // highest first; "cheapest" the price, lowest first
    let (q, sql) = asked(&f, "What are the 3 longest tracks in the Rock genre?");
    assert_eq!(q.columns[0].metric, "average_track_length", "{q:?}");
    same(
        &f,
        &sql,
        "SELECT t.Name, t.Milliseconds / 60000.0 m FROM Track t JOIN Genre g ON g.GenreId = t.GenreId \
         WHERE g.Name = 'Rock' ORDER BY m DESC LIMIT 3",
    );
    let (q, _) = asked(&f, "What are the cheapest albums?");
    assert_eq!(q.columns[0].metric, "average_track_price", "{q:?}");
    assert!(!q.order[0].descending, "{q:?}");
    // beside another breakdown, the tracks after the adjective are the rows measured
    let (q, _) = asked(&f, "Which genre has the longest tracks on average?");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "genre".into()
        }],
        "{q:?}"
    );
    // the entity right after a threshold's number is counted per the breakdown; "at least" is
    // the threshold's, not a ranking's
    let (q, sql) = asked(&f, "Which genres have at least 100 tracks?");
    assert_eq!(
        q.entity_count.as_ref().map(|c| c.entity.as_str()),
        Some("track"),
        "{q:?}"
    );
    assert!(q.order.iter().all(|o| o.descending), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT g.Name, COUNT(*) n FROM Track t JOIN Genre g ON g.GenreId = t.GenreId \
         GROUP BY g.GenreId HAVING COUNT(*) >= 100 ORDER BY n DESC",
    );
    // the tracks a member qualifies, right after "most", are counted per artist
    let (q, _) = asked(&f, "Which artist has the most tracks in the Metal genre?");
    assert_eq!(
        q.entity_count.as_ref().map(|c| c.entity.as_str()),
        Some("track"),
        "{q:?}"
    );
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "artist".into()
        }],
        "{q:?}"
    );
    // whole years side by side at a finer grain meet on the quarter within the year
    let (_, sql) = asked(&f, "Quarterly revenue in 2023 compared to 2022");
    same(
        &f,
        &sql,
        "SELECT 'Q' || ((CAST(substr(i.InvoiceDate, 6, 2) AS INTEGER) + 2) / 3) q, \
         SUM(CASE WHEN i.InvoiceDate LIKE '2022%' THEN il.UnitPrice * il.Quantity ELSE 0 END), \
         SUM(CASE WHEN i.InvoiceDate LIKE '2023%' THEN il.UnitPrice * il.Quantity ELSE 0 END) \
         FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId \
         WHERE i.InvoiceDate >= '2022-01-01' AND i.InvoiceDate < '2024-01-01' GROUP BY q ORDER BY q",
    );
    // the unit of a threshold's number that the metric's description states is read
    let (q, _) = asked(
        &f,
        "Which genres have an average track length over 5 minutes?",
    );
    assert!(q.having.is_some(), "{q:?}");
    // the entity after a possessive is the possessor's rows, not another breakdown
    let (q, _) = asked(&f, "Which sales agent's customers spent the most?");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "sales_agent".into()
        }],
        "{q:?}"
    );
    // "best-selling tracks" are ranked by the headline metric, not the metric "tracks sold"
    let (q, _) = asked(&f, "What were the 10 best-selling tracks of 2024?");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "track".into()
        }],
        "{q:?}"
    );
    assert_eq!(q.limit, Some(10));
    // a verb of issuing or releasing carries nothing of the query
    let (q, _) = asked(&f, "How many tracks has each artist released?");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "artist".into()
        }],
        "{q:?}"
    );
    let (q, _) = asked(&f, "How many invoices were issued per year?");
    assert_eq!(
        q.time_grain,
        Some(crate::semantic::model::Grain::Year),
        "{q:?}"
    );
    // "the number of tracks per invoice" counts the tracks of each invoice, then averages
    let (q, sql) = asked(&f, "Average number of tracks per invoice");
    assert_eq!(
        q.entity_count.as_ref().map(|c| c.entity.as_str()),
        Some("track"),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT AVG(n) FROM (SELECT InvoiceId, COUNT(DISTINCT TrackId) n FROM InvoiceLine GROUP BY InvoiceId)",
    );
    let (q, sql) = asked(
        &f,
        "What percentage of revenue came from Protected AAC audio files?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(CASE WHEN m.Name = 'Protected AAC audio file' THEN il.UnitPrice * il.Quantity ELSE 0 END) \
         / SUM(il.UnitPrice * il.Quantity) FROM InvoiceLine il JOIN Track t ON il.TrackId = t.TrackId \
         JOIN MediaType m ON t.MediaTypeId = m.MediaTypeId",
    );
    // a plural on the small model, and "driven by" as grammar
    let f = fixture();
    let (_, sql) = asked(
        &f,
        "What share of revenue was driven by frozen foods in 2024?",
    );
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(CASE WHEN p.category = 'Frozen Food' THEN s.revenue ELSE 0 END) / SUM(s.revenue) \
         FROM sales s JOIN products p ON p.upc = s.upc WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31'",
    );
}

#[test]
fn chinook_questions_join_through_entities_without_fan_out() {
    let f = chinook();
    let (_, sql) = asked(&f, "Top 5 artists by revenue");
    same(
        &f,
        &sql,
        "SELECT ar.Name, SUM(il.UnitPrice * il.Quantity) r FROM InvoiceLine il JOIN Track t ON il.TrackId = t.TrackId \
         JOIN Album al ON t.AlbumId = al.AlbumId JOIN Artist ar ON al.ArtistId = ar.ArtistId GROUP BY ar.ArtistId ORDER BY r DESC LIMIT 5",
    );
    let (_, sql) = asked(&f, "Revenue by genre in 2024");
    same(
        &f,
        &sql,
        "SELECT g.Name, SUM(il.UnitPrice * il.Quantity) r FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId \
         JOIN Track t ON il.TrackId = t.TrackId JOIN Genre g ON t.GenreId = g.GenreId WHERE i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01' \
         GROUP BY g.GenreId ORDER BY r DESC",
    );
    let (_, sql) = asked(&f, "How many customers bought Rock tracks last year?");
    same(
        &f,
        &sql,
        "SELECT COUNT(DISTINCT i.CustomerId) FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId JOIN Track t ON il.TrackId = t.TrackId \
         JOIN Genre g ON t.GenreId = g.GenreId WHERE g.Name = 'Rock' AND i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01'",
    );
    let (_, sql) = asked(&f, "Revenue by sales agent");
    same(
        &f,
        &sql,
        "SELECT e.FirstName, e.LastName, SUM(il.UnitPrice * il.Quantity) r FROM InvoiceLine il JOIN Invoice i USING (InvoiceId) \
         JOIN Customer c ON i.CustomerId = c.CustomerId JOIN Employee e ON c.SupportRepId = e.EmployeeId GROUP BY e.EmployeeId ORDER BY r DESC",
    );
    // distinct tracks sold: the tracks among the sales, not the quantity the metric sums
    let (q, sql) = asked(&f, "Number of distinct tracks sold per genre");
    assert!(q.entity_count.is_some(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT g.Name, COUNT(DISTINCT il.TrackId) FROM InvoiceLine il JOIN Track t ON il.TrackId = t.TrackId \
         JOIN Genre g ON t.GenreId = g.GenreId GROUP BY g.GenreId",
    );
    // "track count" counts the tracks of each album
    let (q, sql) = asked(&f, "Show the 4 albums with the highest track count");
    assert_eq!(q.limit, Some(4), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT al.Title, COUNT(*) n FROM Track t JOIN Album al ON t.AlbumId = al.AlbumId \
         GROUP BY al.AlbumId ORDER BY n DESC LIMIT 4",
    );
    let (_, sql) = asked(&f, "How many different tracks were sold in 2023?");
    same(
        &f,
        &sql,
        "SELECT COUNT(DISTINCT il.TrackId) FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId \
         WHERE i.InvoiceDate >= '2023-01-01' AND i.InvoiceDate < '2024-01-01'",
    );
}

/// A curated example read as the same metric query but for its slots is edited in them: the
/// period (written as day bounds), N, the direction, a member, the breakdown; and its rows are
/// those of the example's SQL written by hand for the new question.
#[test]
fn an_example_read_as_the_same_metric_query_is_edited_in_its_slots() {
    use crate::sql::pattern::example::{adapt_by_metric_query, Edit};
    use crate::sql::pattern::linking::ColRef;
    let f = fixture();
    let read = |q: &str| {
        f.layer
            .read(q, &f.schema, &f.values)
            .unwrap_or_else(|| panic!("{q} is read"))
    };
    let column = |d: &DimensionRef| {
        f.layer
            .dimension_column(d, &f.schema)
            .map(|(table, column)| ColRef { table, column })
    };
    let example_sql = "SELECT p.product_name, p.category, SUM(s.revenue) AS total_revenue \
        FROM sales s JOIN products p ON p.upc = s.upc \
        WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31' AND p.category = 'Dairy' \
        GROUP BY p.upc ORDER BY total_revenue DESC LIMIT 2";
    let example = read("top 2 products by revenue in Dairy in 2024");
    let asked = read("the 3 weakest items by sales in Frozen Food in Q3 2023");
    let (sql, edits) = adapt_by_metric_query(&asked, &example, example_sql, &f.schema, &column)
        .expect("the example adapts");
    assert!(edits.contains(&Edit::Value {
        old: "Dairy".into(),
        new: "Frozen Food".into()
    }));
    assert!(
        edits.iter().any(|e| matches!(e, Edit::Period { .. })),
        "{edits:?}"
    );
    assert!(
        edits.iter().any(|e| matches!(e, Edit::Direction { .. })),
        "{edits:?}"
    );
    assert!(
        edits
            .iter()
            .any(|e| matches!(e, Edit::Number { new, .. } if new == "3")),
        "{edits:?}"
    );
    assert_eq!(
        rows(&f.path, &sql),
        rows(
            &f.path,
            "SELECT p.product_name, p.category, SUM(s.revenue) AS total_revenue \
             FROM sales s JOIN products p ON p.upc = s.upc \
             WHERE s.sale_date BETWEEN '2023-07-01' AND '2023-09-30' AND p.category = 'Frozen Food' \
             GROUP BY p.upc ORDER BY total_revenue ASC LIMIT 3"
        ),
        "{sql}"
    );
    // one breakdown for another of the same kind
    let example_sql = "SELECT st.zone, SUM(s.revenue) AS total_revenue FROM sales s \
        JOIN stores st ON st.store_id = s.store_id GROUP BY st.zone ORDER BY total_revenue DESC";
    assert!(
        adapt_by_metric_query(
            &read("revenue by category"),
            &read("revenue by zone"),
            example_sql,
            &f.schema,
            &column,
        )
        .is_none(),
        "a dimension of a table the example does not read is not a swap"
    );
    // another metric, a filter added, a period dropped: not the same query
    for (asked, example) in [
        ("units by zone", "revenue by zone"),
        ("revenue by zone in Dairy", "revenue by zone"),
        ("revenue by zone", "revenue by zone in 2024"),
    ] {
        assert!(
            adapt_by_metric_query(
                &read(asked),
                &read(example),
                example_sql,
                &f.schema,
                &column
            )
            .is_none(),
            "{asked} from {example}"
        );
    }
    // with a time breakdown, a period of another length is not a slot edit: the example's
    // buckets ('Q1'..'Q4', no year) would merge two years
    let quarters = "SELECT 'Q' || ((CAST(strftime('%m', sale_date) AS INTEGER) + 2) / 3) AS quarter,         SUM(revenue) AS total_revenue FROM sales         WHERE sale_date BETWEEN '2023-01-01' AND '2023-12-31' GROUP BY quarter ORDER BY quarter";
    let example = read("revenue by quarter in 2023");
    assert!(adapt_by_metric_query(
        &read("revenue by quarter in 2024"),
        &example,
        quarters,
        &f.schema,
        &column
    )
    .is_some());
    assert!(adapt_by_metric_query(
        &read("revenue by quarter from 2023 to 2024"),
        &example,
        quarters,
        &f.schema,
        &column
    )
    .is_none());
}

/// "the albums with the most tracks" counts the entity after "most" per the other breakdown;
/// "who" before a verb asks for a person the question does not name: not read.
#[test]
fn the_most_of_an_entity_is_its_count_and_who_before_a_verb_is_not_read() {
    let f = fixture();
    let read = |q: &str| f.layer.read(q, &f.schema, &f.values);
    let q = read("which zones have the most stores").expect("read");
    assert_eq!(
        q.entity_count,
        Some(EntityCount {
            entity: "store".into(),
            through: None,
            part: None,
        }),
        "{q:?}"
    );
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    assert!(read("who sold the most items").is_none());
}

/// A negator is read only when it negates a member or a named filter.
#[test]
fn a_negator_that_negates_nothing_is_not_read() {
    let f = fixture();
    let read = |q: &str| f.layer.read(q, &f.schema, &f.values);
    let q = read("revenue excluding Dairy by zone").expect("read");
    assert!(
        matches!(&q.filters[..], [Filter::Members { negated: true, .. }]),
        "{q:?}"
    );
    // "all other products" is the rest, not a negator without a member
    // (`the_rest_of_the_members_is_a_column_beside_the_member`)
    assert!(read("revenue excluding by zone").is_none());
}

/// "X compared with all other products", "versus the rest", "everything else": the member (or
/// named filter) and its complement side by side.
#[test]
fn the_rest_of_the_members_is_a_column_beside_the_member() {
    let f = fixture();
    let (q, sql) = asked(
        &f,
        "revenue of Dairy compared with all other products in 2024",
    );
    assert!(
        matches!(
            &q.columns[..],
            [
                MetricColumn {
                    slice: Some(Slice::Member { negated: false, .. }),
                    ..
                },
                MetricColumn {
                    slice: Some(Slice::Member { negated: true, .. }),
                    ..
                }
            ]
        ) && q.group_by.is_empty(),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT SUM(CASE WHEN p.category = 'Dairy' THEN s.revenue ELSE 0 END), \
         SUM(CASE WHEN p.category <> 'Dairy' THEN s.revenue ELSE 0 END) \
         FROM sales s JOIN products p ON p.upc = s.upc WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31'",
    );
    let (_, sql) = asked(&f, "units on promotion versus the rest by year");
    same(
        &f,
        &sql,
        "SELECT strftime('%Y', sale_date) y, SUM(CASE WHEN promo = 1 THEN units ELSE 0 END), \
         SUM(CASE WHEN NOT (promo = 1) THEN units ELSE 0 END) FROM sales GROUP BY y",
    );
    // the rest of two members is not read
    let read = |q: &str| f.layer.read(q, &f.schema, &f.values);
    assert!(read("revenue of Dairy and Frozen Food versus everything else").is_none());
}

/// "revenue per store" alone is a breakdown by store; beside another breakdown it is the metric
/// of the average store in each group (per store, then averaged), not the best store of each
/// group; beside another derived figure it is refused rather than answered as a breakdown.
#[test]
fn a_figure_per_entity_beside_another_breakdown_is_averaged_per_entity() {
    let f = fixture();
    let read = |q: &str| f.layer.read(q, &f.schema, &f.values);
    let q = read("revenue per store in 2024").expect("read");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "store".into()
        }]
    );
    let q = read("which zones had the lowest revenue per store").expect("read");
    assert_eq!(
        q.derived,
        Some(Derived::AveragePer {
            per: vec!["store".into()]
        })
    );
    assert_eq!(q.group_by.len(), 1);
    assert!(!matches!(&q.group_by[0], GroupBy::Entity { name } if name == "store"));
    assert!(q.order.first().is_some_and(|o| !o.descending));
    // "the top product per category" ranks within; a growth of a figure per store is not read
    let q = read("top 3 products per category by revenue").expect("read");
    assert!(
        matches!(q.derived, Some(Derived::RankWithin { .. })),
        "{q:?}"
    );
    assert!(read("year over year growth of revenue per store by zone").is_none());
    // beside members: each member's figure per store of its own, side by side
    let (q, sql) = asked(&f, "revenue per store in 2024: North compared with South");
    assert!(
        matches!(q.derived, Some(Derived::AveragePer { .. })) && q.group_by.is_empty(),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT SUM(CASE WHEN st.zone = 'North' THEN s.revenue END) \
         / COUNT(DISTINCT CASE WHEN st.zone = 'North' THEN s.store_id END), \
         SUM(CASE WHEN st.zone = 'South' THEN s.revenue END) \
         / COUNT(DISTINCT CASE WHEN st.zone = 'South' THEN s.store_id END) \
         FROM sales s JOIN stores st ON st.store_id = s.store_id WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31'",
    );
}

/// "since the store opened", "of all time": the whole history, no period.
#[test]
fn the_whole_history_in_other_words_is_no_period() {
    let f = fixture();
    for question in [
        "revenue by quarter since the store opened",
        "revenue by zone of all time",
        "revenue by zone since we started",
    ] {
        let q = f
            .layer
            .read(question, &f.schema, &f.values)
            .unwrap_or_else(|| panic!("{question} is read"));
        assert_eq!(q.period, None, "{question}");
    }
}

/// "stores that sold more than $1.5K in 2023": a threshold on each row's figure, compiled as a
/// filter on the aggregated figure (SQL's HAVING); a percent after the number is a growth, not
/// a threshold, and a threshold on a single total is refused.
#[test]
fn a_threshold_on_the_figure_filters_the_rows_of_a_breakdown() {
    let f = fixture();
    let totals = rows(
        &f.path,
        "SELECT SUM(revenue) AS r FROM sales WHERE sale_date >= '2023-01-01' \
         AND sale_date < '2024-01-01' GROUP BY store_id ORDER BY r",
    );
    assert!(totals.len() >= 2);
    // a threshold between the smallest and the largest store
    let low: f64 = totals[0][0].parse().unwrap();
    let high: f64 = totals[totals.len() - 1][0].parse().unwrap();
    let cut = ((low + high) / 2.0).round();
    let (q, sql) = asked(&f, &format!("Which stores sold more than ${cut} in 2023?"));
    assert_eq!(
        q.having,
        Some(Threshold {
            op: ">".into(),
            value: cut
        })
    );
    same(
        &f,
        &sql,
        &format!(
            "SELECT st.store_name, SUM(s.revenue) AS r FROM sales s JOIN stores st \
             ON s.store_id = st.store_id WHERE s.sale_date >= '2023-01-01' \
             AND s.sale_date < '2024-01-01' GROUP BY st.store_id HAVING SUM(s.revenue) > {cut}"
        ),
    );
    assert!(rows(&f.path, &sql).len() < totals.len());
    let (q, _) = asked(&f, "revenue by store with at least 1.5k");
    assert_eq!(
        q.having,
        Some(Threshold {
            op: ">=".into(),
            value: 1500.0
        })
    );
    assert!(f
        .layer
        .read("was revenue above 1000 in 2023", &f.schema, &f.values)
        .is_none());
}

/// "compared to last year" names one period and compares it with the one after it; two
/// periods back to back joined by "and" ("by month for 2023 and 2024") are one period.
#[test]
fn a_previous_period_compared_is_set_beside_the_current_one_and_back_to_back_periods_join() {
    let f = fixture();
    let read = |q: &str| {
        f.layer
            .read(q, &f.schema, &f.values)
            .unwrap_or_else(|| panic!("{q} is read"))
    };
    // with no other breakdown, the two whole years come as a row each
    let q = read("how did revenue compare to last year");
    let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
    let p = q.period.clone().expect("one period");
    assert_eq!((p.start, p.end), (d(2023, 1), d(2025, 1)), "{q:?}");
    assert_eq!(q.time_grain, Some(super::model::Grain::Year), "{q:?}");
    // beside a breakdown they are columns side by side
    let q = read("how did revenue by zone compare to last year");
    let periods: Vec<(Option<NaiveDate>, Option<NaiveDate>)> = q
        .columns
        .iter()
        .filter_map(|c| match &c.slice {
            Some(Slice::Period(p)) => Some((p.start, p.end)),
            _ => None,
        })
        .collect();
    assert_eq!(
        periods,
        vec![(d(2023, 1), d(2024, 1)), (d(2024, 1), d(2025, 1))],
        "{q:?}"
    );
    let q = read("how much did revenue grow compared to last quarter");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    let q = read("revenue by month for 2023 and 2024");
    let p = q.period.expect("one period");
    assert_eq!((p.start, p.end), (d(2023, 1), d(2025, 1)));
    assert!(f
        .layer
        .read(
            "revenue by month for Q1 2023 and Q1 2024",
            &f.schema,
            &f.values
        )
        .is_none());
}

/// "the best performing store in each zone": a performance with no metric named is the model's
/// headline metric (its first), like a sale ("best-selling").
#[test]
fn a_performance_with_no_metric_named_is_the_headline_metric() {
    let f = fixture();
    let q = f
        .layer
        .read(
            "best performing store in each zone in 2023",
            &f.schema,
            &f.values,
        )
        .expect("read");
    assert_eq!(q.columns.len(), 1);
    assert_eq!(q.columns[0].metric, f.layer.manifest.metrics[0].name);
    assert!(
        matches!(q.derived, Some(Derived::RankWithin { .. })),
        "{q:?}"
    );
}

/// A named filter the question's metric cannot reach is not read when its words also name a
/// member the metric reaches: "promotions" among price changes is the reason "Promotion", not
/// the sales filter "on promotion".
#[test]
fn a_named_filter_out_of_reach_gives_way_to_a_member_of_the_same_words() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("pricing.sqlite");
    Connection::open(&path)
        .expect("opens")
        .execute_batch(
            "CREATE TABLE sales (id INTEGER PRIMARY KEY, promo INTEGER, revenue REAL, sale_date DATE);
             CREATE TABLE price_changes (id INTEGER PRIMARY KEY, reason TEXT, change_date DATE);
             INSERT INTO sales VALUES (1, 1, 10.0, '2024-01-05'), (2, 0, 5.0, '2024-02-05');
             INSERT INTO price_changes VALUES (1, 'Promotion', '2024-01-02'), (2, 'Cost Increase', '2024-01-03'),
                 (3, 'Promotion', '2024-03-04');",
        )
        .expect("the schema is created");
    let manifest = SemanticManifest::parse(
        r#"
semantic_models:
  - name: sales
    model: sales
    defaults: {agg_time_dimension: sale_date}
    entities: [{name: sale, type: primary, expr: id}]
    dimensions:
      - {name: sale_date, type: time, type_params: {time_granularity: day}}
    measures: [{name: revenue, agg: sum}]
  - name: price_changes
    model: price_changes
    defaults: {agg_time_dimension: change_date}
    entities: [{name: price_change, type: primary, expr: id}]
    dimensions:
      - {name: change_date, type: time, type_params: {time_granularity: day}}
      - {name: reason, type: categorical}
    measures: [{name: price_change_count, agg: count, expr: id}]
metrics:
  - {name: revenue, type: simple, type_params: {measure: revenue}}
  - name: price_change_count
    type: simple
    type_params: {measure: price_change_count}
    synonyms: [price changes]
filters:
  - {name: on promotion, semantic_model: sales, expr: "promo = 1", synonyms: [promotion, promotions]}
"#,
    )
    .expect("the model parses");
    let wh = SqliteWarehouse::open(&path).expect("opens");
    let schema = wh.introspect().expect("introspection");
    let f = Fixture {
        values: ValueIndex::build(&wh, &schema).expect("values"),
        schema,
        layer: SemanticLayer::new(manifest, |_| None),
        path,
        _dir: dir,
    };
    let (q, sql) = asked(&f, "How many price changes were promotions?");
    assert!(matches!(&q.filters[..], [Filter::Members { .. }]), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(*) FROM price_changes WHERE reason = 'Promotion'",
    );
    // where the filter is in reach, it is the filter
    let (q, _) = asked(&f, "revenue on promotion");
    assert!(matches!(&q.filters[..], [Filter::Named { .. }]), "{q:?}");
}

/// "revenue per unit by zone": a metric per another metric is their ratio, each figure
/// aggregated on its own and joined on the breakdown.
#[test]
fn a_metric_per_another_metric_is_their_ratio() {
    let f = fixture();
    let (q, sql) = asked(&f, "revenue per unit by zone in 2024");
    assert_eq!(q.derived, Some(Derived::Ratio), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT st.zone, 1.0 * SUM(s.revenue) / SUM(s.units) FROM sales s JOIN stores st ON st.store_id = s.store_id \
         WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31' GROUP BY st.zone",
    );
    let (_, sql) = asked(&f, "revenue per gross margin in 2023");
    same(
        &f,
        &sql,
        "SELECT (SELECT SUM(revenue) FROM sales WHERE sale_date LIKE '2023-%') * 1.0 \
         / (SELECT SUM(gross_margin) FROM margins WHERE period LIKE '2023-%')",
    );
}

#[test]
fn a_unit_the_metric_states_the_rows_measured_and_the_units_of_a_sale_are_read() {
    let f = chinook();
    // "in minutes": the unit average_track_length's description states; "of the tracks": the
    // rows it averages, before the breakdown "of each media type"
    let (q, sql) = asked(
        &f,
        "Mean duration in minutes of the tracks of each media type",
    );
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "media_type".into()
        }]
    );
    same(
        &f,
        &sql,
        "SELECT m.Name, AVG(t.Milliseconds / 60000.0) FROM Track t \
         JOIN MediaType m ON m.MediaTypeId = t.MediaTypeId GROUP BY m.MediaTypeId",
    );
    // a unit the description does not state is an unknown word
    assert!(matches!(
        f.layer.answer(
            "Mean duration in hours of each media type",
            &f.schema,
            &f.values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
    // "revenue of the tracks by genre" is revenue by genre
    let (q, _) = asked(&f, "Revenue of the tracks of each genre");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "genre".into()
        }]
    );
    // "copies" are the units a sale counts; "adds up to" a sum's threshold
    let (q, _) = asked(
        &f,
        "Which four albums sold the most copies of their tracks?",
    );
    assert_eq!(q.columns[0].metric, "tracks_sold");
    assert_eq!(q.limit, Some(4));
    let (q, _) = asked(
        &f,
        "Customers whose revenue adds up to more than 45 dollars",
    );
    assert_eq!(q.columns[0].metric, "revenue");
    assert!(q.having.is_some());
}

#[test]
fn below_average_revenue_per_store_compares_with_the_revenue_per_store_of_all_stores() {
    let f = fixture();
    let (q, sql) = asked(
        &f,
        "Which zones had below-average revenue per store in 2024?",
    );
    assert!(
        matches!(&q.derived, Some(Derived::VersusAverage { above: false, of_whole: true, per })
            if per == &vec!["store".to_string()]),
        "{q:?}"
    );
    let gold = "WITH z AS (SELECT st.zone, SUM(s.revenue) / COUNT(DISTINCT s.store_id) AS r \
         FROM sales s JOIN stores st ON st.store_id = s.store_id \
         WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31' GROUP BY st.zone) \
         SELECT zone, r FROM z WHERE r < (SELECT SUM(revenue) / COUNT(DISTINCT store_id) \
         FROM sales WHERE sale_date BETWEEN '2024-01-01' AND '2024-12-31') ORDER BY r ASC";
    assert!(!rows(&f.path, gold).is_empty(), "one zone is below");
    same(&f, &sql, gold);
    // a zone is an attribute of a store: the sales per store are summed once, for both sides
    assert_eq!(sql.matches("FROM sales").count(), 1, "{sql}");
    // a category is not: the revenue per store of all stores is summed on its own
    let (_, sql) = asked(
        &f,
        "Which categories had below-average revenue per store in 2024?",
    );
    assert_eq!(sql.matches("FROM sales").count(), 2, "{sql}");
    same(
        &f,
        &sql,
        "WITH c AS (SELECT p.category, SUM(s.revenue) / COUNT(DISTINCT s.store_id) AS r \
         FROM sales s JOIN products p ON p.upc = s.upc \
         WHERE s.sale_date BETWEEN '2024-01-01' AND '2024-12-31' GROUP BY p.category) \
         SELECT category, r FROM c WHERE r < (SELECT SUM(revenue) / COUNT(DISTINCT store_id) \
         FROM sales WHERE sale_date BETWEEN '2024-01-01' AND '2024-12-31') ORDER BY r ASC",
    );
    // above the average: the furthest above first
    let (q, _) = asked(&f, "Which zones had above-average units per store?");
    assert!(q.order[0].descending);
}

#[test]
fn a_ratio_named_again_after_above_or_below_is_its_value_over_the_whole() {
    let f = fixture();
    // "below the Dairy category's ASP": the ratio over every Dairy sale, the rows it filters
    let (q, sql) = asked(
        &f,
        "Which Dairy products had an asp below the Dairy category's asp?",
    );
    assert!(
        matches!(
            &q.derived,
            Some(Derived::VersusAverage {
                above: false,
                of_whole: true,
                ..
            })
        ),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT p.product_name, SUM(s.revenue) / SUM(s.units) AS asp FROM sales s \
         JOIN products p ON p.upc = s.upc WHERE p.category = 'Dairy' GROUP BY p.upc \
         HAVING SUM(s.revenue) / SUM(s.units) < (SELECT SUM(s2.revenue) / SUM(s2.units) \
         FROM sales s2 JOIN products p2 ON p2.upc = s2.upc WHERE p2.category = 'Dairy') \
         ORDER BY asp ASC",
    );
    // another member's value is no whole the rows belong to
    assert!(matches!(
        f.layer.answer(
            "Which Dairy products had an asp below the Frozen Food category's asp?",
            &f.schema,
            &f.values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
}

/// The retail semantic model over the retail schema with `rows` (SQL inserts) only: reading
/// needs no data but the members it names.
fn retail_layer(
    rows: &str,
) -> (
    tempfile::TempDir,
    crate::warehouse::Schema,
    ValueIndex,
    SemanticLayer,
) {
    let (dir, db) = retail_schema_db(rows);
    let wh = SqliteWarehouse::open(&db).expect("opens");
    let schema = wh.introspect().expect("introspection");
    let values = ValueIndex::build(&wh, &schema).expect("values");
    let manifest = load(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge")),
        "retail",
    )
    .expect("a model")
    .expect("it loads");
    (dir, schema, values, SemanticLayer::new(manifest, |_| None))
}

#[test]
fn an_average_of_the_rows_a_named_filter_keeps_is_the_filters_model_average() {
    let (_dir, schema, values, layer) = retail_layer("");
    // "price increases" is a named filter of the price changes; their one average metric is
    // the average change
    match layer.answer(
        "Average price increase by approver",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Compiled { query, .. } => {
            assert_eq!(query.columns[0].metric, "average_price_change");
            assert!(
                matches!(&query.filters[..], [Filter::Named { name, negated: false }] if name == "price increases"),
                "{query:?}"
            );
        }
        Outcome::Refused { reason, .. } => panic!("refused: {reason}"),
    }
    // the size of a change is the change; "signed off" is approved
    match layer.answer(
        "What is the average size of the price increases each approver signed off?",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Compiled { query, .. } => {
            assert_eq!(query.columns[0].metric, "average_price_change");
            assert_eq!(query.group_by.len(), 1, "{query:?}");
        }
        Outcome::Refused { reason, unread, .. } => panic!("refused: {reason} {unread:?}"),
    }
    // "size" of nothing read stays unread
    assert!(matches!(
        layer.answer(
            "Average price increase by size",
            &schema,
            &values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
    // without "average" the filter names no figure; a filter on other columns ("regular
    // price": not on promotion) says nothing of what its rows average
    for question in [
        "Price increases by approver",
        "Mean regular price for each department",
    ] {
        assert!(
            matches!(
                layer.answer(question, &schema, &values, Dialect::Sqlite),
                Outcome::Refused { .. }
            ),
            "{question}"
        );
    }
}

#[test]
fn members_compared_with_no_other_breakdown_come_as_a_row_each() {
    let f = fixture();
    let (q, sql) = asked(&f, "Compare revenue of Dairy vs Frozen Food");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Dimension(DimensionRef {
            model: Some("products".into()),
            name: "category".into()
        })],
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT p.category, SUM(s.revenue) FROM sales s JOIN products p ON p.upc = s.upc \
         WHERE p.category IN ('Dairy', 'Frozen Food') GROUP BY p.category ORDER BY p.category",
    );
    // beside a breakdown they stay columns side by side
    let (q, _) = asked(&f, "Dairy vs Frozen Food revenue by zone");
    assert!(
        q.columns
            .iter()
            .all(|c| matches!(c.slice, Some(Slice::Member { .. }))),
        "{q:?}"
    );
}

#[test]
fn a_member_is_read_on_the_dimension_the_metric_reaches() {
    // "North" is a zone of the stores and of the competitors' price checks; revenue reaches
    // the stores
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO stores (store_id, store_name, zone) VALUES ('S1', 'One', 'North');
         INSERT INTO competitive_pricing (competitor_name, zone) VALUES ('Aldi', 'North');",
    );
    match layer.answer(
        "Weekly revenue for the North zone in November 2024",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Compiled { query, .. } => assert!(
            matches!(&query.filters[..], [Filter::Members { dimension, .. }]
                if dimension.model.as_deref() == Some("stores")),
            "{query:?}"
        ),
        Outcome::Refused { reason, .. } => panic!("refused: {reason}"),
    }
}

#[test]
fn a_fall_between_two_periods_ranks_the_lowest_growth_first() {
    let f = fixture();
    let (q, _) = asked(
        &f,
        "Which products had the largest drop in units from 2023 to 2024?",
    );
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    assert!(!q.order[0].descending, "{q:?}");
    let (q, _) = asked(&f, "Which zones grew the most from 2023 to 2024?");
    assert!(q.order[0].descending, "{q:?}");
    // which ones fell: only those
    let (q, _) = asked(&f, "Which zones saw revenue fall from 2023 to 2024?");
    assert_eq!(
        q.derived,
        Some(Derived::PeriodGrowthWhere { decline: true }),
        "{q:?}"
    );
}

#[test]
fn a_member_named_with_a_type_is_a_filter_even_on_a_neighbouring_level() {
    // "Frozen Food" is a category; the asker calls it a department
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO products (upc_code, product_name, category_level_1, category_level_2, brand)
         VALUES ('1', 'Peas', 'Frozen', 'Frozen Food', 'Acme'),
                ('2', 'Milk', 'Dairy', 'Milk', 'Moo');",
    );
    let read = |question: &str| match layer.answer(question, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, .. } => panic!("{question}: refused: {reason}"),
    };
    let q = read("Top 5 products by margin in the Frozen Food department last year");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "product".into()
        }],
        "{q:?}"
    );
    assert_eq!(q.limit, Some(5));
    // the Dairy brands are brands: a breakdown
    let q = read("Revenue for the Dairy brands");
    assert!(
        matches!(&q.group_by[..], [GroupBy::Dimension(d)] if d.name == "brand"),
        "{q:?}"
    );
}

#[test]
fn popularity_is_the_units_sold_and_a_ranking_with_a_late_metric_ranks_the_qualified_entity() {
    let f = chinook();
    let (q, _) = asked(&f, "What are the 5 most popular genres?");
    assert_eq!(q.columns[0].metric, "tracks_sold");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "genre".into()
        }]
    );
    assert_eq!(q.limit, Some(5));
    // the metric comes from "best selling"; the albums a member qualifies are ranked
    let (q, _) = asked(&f, "What are the best selling albums in Rock?");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "album".into()
        }],
        "{q:?}"
    );
    assert!(q.order[0].descending);
}

#[test]
fn a_verb_that_is_a_metric_synonym_before_another_metric_is_only_its_verb() {
    let (_dir, schema, values, layer) = retail_layer("");
    let read = |question: &str| match layer.answer(question, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, .. } => panic!("{question}: refused: {reason}"),
    };
    // "earned" is a word of revenue ("earnings"); before "margin" it is the margin's verb
    let q = read("Which 10 products earned the highest margin in 2024?");
    let metrics: Vec<&str> = q.columns.iter().map(|c| c.metric.as_str()).collect();
    assert_eq!(metrics, vec!["gross_margin"], "{q:?}");
    assert_eq!(q.limit, Some(10));
    // "the most highly elastic products": the products a named filter qualifies, counted
    let q = read("Which categories have the most highly elastic products?");
    assert_eq!(
        q.entity_count.as_ref().map(|c| c.entity.as_str()),
        Some("product"),
        "{q:?}"
    );
    assert!(
        matches!(&q.filters[..], [Filter::Named { name, .. }] if name == "highly elastic"),
        "{q:?}"
    );
    // a growth in one whole year is against the year before it
    let q = read("Which department grew revenue fastest in 2024?");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    assert!(
        matches!(&q.columns[0].slice, Some(Slice::Period(p)) if p.text == "2023"),
        "{q:?}"
    );
    // "highest first" orders by the figure
    let q = read("Revenue by store for December 2024, highest first");
    assert!(q.order.iter().any(|o| o.descending), "{q:?}");
    // "increase" alone names the filter "price increases", which revenue cannot reach: it is
    // the change of revenue, in dollars (the growth in percent is shown beside it)
    let q = read("Which stores had the biggest increase in revenue from 2023 to 2024?");
    assert_eq!(q.derived, Some(Derived::PeriodDifference), "{q:?}");
    // in percent, it is the growth rate
    let q = read("Which stores had the biggest percent increase in revenue from 2023 to 2024?");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    // "the difference" between two years is in the metric's units
    let q = read("For each zone, compare revenue in 2023 and 2024 and show the difference");
    assert_eq!(q.derived, Some(Derived::PeriodDifference), "{q:?}");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    // alone, it is the metric
    let q = read("Which stores earned the most in 2024?");
    assert_eq!(q.columns[0].metric, "revenue", "{q:?}");
    // "the highest average revenue per store" by zone: the average per store, ranked
    let q = read("Which zone has the highest average revenue per store?");
    assert_eq!(
        q.derived,
        Some(Derived::AveragePer {
            per: vec!["store".into()]
        }),
        "{q:?}"
    );
    assert_eq!(q.limit, Some(1));
}

#[test]
fn year_over_year_growth_by_a_group_is_the_reference_year_against_the_one_before() {
    let f = fixture();
    // one growth a zone: the year of the reference date (2024-12-30) against 2023, the
    // fastest growing first
    let (q, sql) = asked(&f, "Year over year revenue growth by zone");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    assert_eq!(q.time_grain, None, "{q:?}");
    assert_eq!(q.columns.len(), 2, "{q:?}");
    assert!(
        q.columns[0].slice.is_some() && q.columns[1].slice.is_some(),
        "{q:?}"
    );
    assert_eq!(
        q.order,
        vec![Order {
            by: OrderBy::Figure,
            descending: true
        }]
    );
    assert!(
        sql.contains("2023-01-01") && sql.contains("2025-01-01"),
        "{sql}"
    );
    // with no breakdown it is the trend of each year against the one before
    let (q, _) = asked(&f, "year over year revenue growth");
    assert_eq!(q.time_grain, Some(model::Grain::Year), "{q:?}");
    assert!(
        matches!(q.derived, Some(Derived::PeriodOverPeriod { lag: 1 })),
        "{q:?}"
    );
    // another grain word keeps its rows per period
    let (q, _) = asked(&f, "Monthly revenue year over year by zone");
    assert_eq!(q.time_grain, Some(model::Grain::Month), "{q:?}");
    assert!(
        matches!(q.derived, Some(Derived::PeriodOverPeriod { lag: 12 })),
        "{q:?}"
    );
    let (q, _) = asked(&f, "Month-over-month revenue change by zone in 2024");
    assert_eq!(q.time_grain, Some(model::Grain::Month), "{q:?}");
}

#[test]
fn what_adds_up_to_a_threshold_is_the_headline_metric_summed_per_entity() {
    let f = chinook();
    // "purchases" (the invoices) add up: summed, not a breakdown
    let (q, sql) = asked(&f, "List the customers whose purchases add up to over $46");
    assert_eq!(q.columns[0].metric, "revenue", "{q:?}");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "customer".into()
        }],
        "{q:?}"
    );
    assert_eq!(
        q.having,
        Some(Threshold {
            op: ">".into(),
            value: 46.0
        }),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT c.FirstName, c.LastName, SUM(i.Total) AS t FROM Invoice i JOIN Customer c \
         ON c.CustomerId = i.CustomerId GROUP BY c.CustomerId HAVING t > 46 ORDER BY t DESC",
    );
}

#[test]
fn members_named_with_a_comparative_are_ranked_a_row_each() {
    let f = fixture();
    let (q, sql) = asked(&f, "Did the North or the South zone sell more units?");
    assert_eq!(q.limit, None, "{q:?}");
    assert_eq!(
        q.order,
        vec![Order {
            by: OrderBy::Figure,
            descending: true
        }]
    );
    same(
        &f,
        &sql,
        "SELECT zone, SUM(units) FROM sales JOIN stores USING (store_id) \
         WHERE zone IN ('North', 'South') GROUP BY zone",
    );
    let (q, _) = asked(&f, "Which of North and South had lower revenue?");
    assert_eq!(q.order.first().map(|o| o.descending), Some(false), "{q:?}");
    // "more than" is a threshold, not a ranking
    let (q, _) = asked(&f, "Which zones had more than 10 units?");
    assert!(q.having.is_some(), "{q:?}");
}

#[test]
fn the_most_recent_period_is_the_current_one_and_ranks_nothing() {
    // the reference date is 2024-12-30
    let f = fixture();
    for question in [
        "How many units did we sell in the most recent quarter?",
        "units sold in the latest quarter",
    ] {
        let (q, _) = asked(&f, question);
        let p = q.period.clone().expect("a period");
        assert_eq!(
            (p.start, p.end, q.limit),
            (
                NaiveDate::from_ymd_opt(2024, 10, 1),
                NaiveDate::from_ymd_opt(2025, 1, 1),
                None
            ),
            "{question}"
        );
        assert!(q.order.is_empty(), "{question}: {q:?}");
    }
}

#[test]
fn a_month_or_quarter_without_a_year_is_the_latest_that_began_by_the_reference_date() {
    // the reference date is 2024-12-30
    let f = fixture();
    let (q, sql) = asked(&f, "What was revenue in March?");
    let p = q.period.clone().expect("a period");
    assert_eq!(
        (p.start, p.end, p.text.as_str()),
        (
            NaiveDate::from_ymd_opt(2024, 3, 1),
            NaiveDate::from_ymd_opt(2024, 4, 1),
            "March 2024"
        )
    );
    same(
        &f,
        &sql,
        "SELECT SUM(revenue) FROM sales WHERE sale_date BETWEEN '2024-03-01' AND '2024-03-31'",
    );
    // the answer says which March
    assert_eq!(
        f.layer
            .period_note(&analysis("What was revenue in March?"), &q)
            .as_deref(),
        Some(
            "Period: March 2024 (2024-03-01 to 2024-03-31); dates read from 2024-12-30, the \
             configured reference date."
        )
    );
    assert_eq!(
        f.layer.period_note(&analysis("Revenue in March 2024"), &q),
        None
    );
    // a stretch of months, into the next year when it wraps; "May" after "in" is the month
    for (question, start, end) in [
        ("Revenue between March and June", (2024, 3), (2024, 7)),
        ("Revenue from November to February", (2024, 11), (2025, 3)),
        ("How much revenue did we make in May?", (2024, 5), (2024, 6)),
        // a quarter without a year, likewise
        ("Revenue by zone in Q3", (2024, 7), (2024, 10)),
        ("Revenue in the fourth quarter", (2024, 10), (2025, 1)),
    ] {
        let (q, _) = asked(&f, question);
        let p = q.period.expect(question);
        assert_eq!(
            (p.start, p.end),
            (
                NaiveDate::from_ymd_opt(start.0, start.1, 1),
                NaiveDate::from_ymd_opt(end.0, end.1, 1)
            ),
            "{question}"
        );
    }
}

#[test]
fn a_ranking_of_a_breakdown_with_no_figure_named_is_by_the_headline_metric() {
    let f = fixture();
    let headline = f.layer.manifest.metrics[0].name.clone();
    for question in [
        "Who are our top stores in the North?",
        "Top 3 products",
        "Which products generated more than 100 dollars?",
    ] {
        let (q, _) = asked(&f, question);
        assert_eq!(q.columns.len(), 1, "{question}: {q:?}");
        assert_eq!(q.columns[0].metric, headline, "{question}");
        assert!(!q.group_by.is_empty(), "{question}: {q:?}");
    }
    // a listing names no ranking: still not a metric question
    assert!(matches!(
        f.layer.answer(
            "List the stores in the North",
            &f.schema,
            &f.values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
}

#[test]
fn a_verb_relating_two_entities_is_read_as_grammar() {
    let f = chinook();
    let (q, sql) = asked(&f, "How many customers does each sales agent support?");
    assert_eq!(
        q.entity_count.as_ref().map(|e| e.entity.as_str()),
        Some("customer"),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT e.FirstName, e.LastName, COUNT(*) FROM Customer c \
         JOIN Employee e ON e.EmployeeId = c.SupportRepId GROUP BY e.EmployeeId",
    );
}

/// The analysis of `text` as the engine makes it.
fn analysis(text: &str) -> crate::question::Analysis {
    crate::question::analyze(&crate::question::Question::parse(text).expect("a question"))
}

/// "What percent of customers are from Brazil?": the instances of one member (or named filter)
/// among all instances, both counted where the member applies.
#[test]
fn a_share_of_an_entity_counts_the_slice_among_all_instances() {
    let f = chinook();
    let (q, sql) = asked(&f, "What percent of customers are from Brazil?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    assert!(
        q.filters.is_empty(),
        "the member is the part, not a filter: {q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(Country = 'Brazil') / COUNT(*) FROM Customer",
    );
    // the instances a member qualifies, with no verb between ("the share of X from Y")
    for question in [
        "What is the share of invoices from Canada?",
        "Share of invoices from Canada",
    ] {
        let (q, sql) = asked(&f, question);
        assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{question}: {q:?}");
        same(
            &f,
            &sql,
            "SELECT 100.0 * SUM(c.Country = 'Canada') / COUNT(*) FROM Invoice i \
             JOIN Customer c ON c.CustomerId = i.CustomerId",
        );
    }
    let (_, sql) = asked(&f, "What percentage of tracks are Rock?");
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(g.Name = 'Rock') / COUNT(*) FROM Track t \
         LEFT JOIN Genre g ON g.GenreId = t.GenreId",
    );
    // per breakdown: each country's share of its customers served by each support rep
    let (q, sql) = asked(
        &f,
        "What share of customers are from the USA by sales agent?",
    );
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT e.FirstName, e.LastName, 100.0 * SUM(c.Country = 'USA') / COUNT(*) \
         FROM Customer c JOIN Employee e ON e.EmployeeId = c.SupportRepId \
         GROUP BY e.EmployeeId",
    );
}

/// A word written as a named filter is the filter, though its stem is also a metric's
/// ("elastic" / "elasticity"); after a degree word ("most elastic") it is the metric's scale.
#[test]
fn a_word_spelled_as_a_named_filter_is_the_filter_not_a_metric_sharing_its_stem() {
    let (_dir, schema, values, layer) = retail_layer("");
    let read = |q: &str| layer.read(q, &schema, &values).expect("read");
    let q = read("How many products are elastic?");
    assert!(q.columns.is_empty(), "{q:?}");
    assert_eq!(
        q.entity_count.as_ref().map(|e| e.entity.as_str()),
        Some("product")
    );
    assert!(
        matches!(&q.filters[..], [Filter::Named { name, negated: false }] if name == "elastic"),
        "{q:?}"
    );
    let q = read("What percent of products are elastic?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    assert!(
        matches!(&q.entity_count, Some(EntityCount { part: Some(Slice::Named { name, .. }), .. }) if name == "elastic"),
        "{q:?}"
    );
    let q = read("Give me the 5 most elastic products");
    assert_eq!(q.columns[0].metric, "average_elasticity", "{q:?}");
    // a plural of the same word keeps the first term ("price change" / "price changes")
    let q = read("How many stores had at least one price change in January 2024?");
    assert_eq!(
        q.entity_count.as_ref().map(|e| e.entity.as_str()),
        Some("store"),
        "{q:?}"
    );
    assert!(q.group_by.is_empty(), "{q:?}");
}

/// "The best month for Rock", "our weakest year", "the 3 best months of 2023": the periods
/// ranked by the headline metric, one unless a number or a plural asks for more.
#[test]
fn the_best_or_worst_period_with_no_figure_named_ranks_periods_by_the_headline_metric() {
    let f = chinook();
    let (q, sql) = asked(&f, "What was the best month for Rock in 2023?");
    assert_eq!(
        q.time_grain,
        Some(crate::semantic::model::Grain::Month),
        "{q:?}"
    );
    assert_eq!(q.limit, Some(1), "{q:?}");
    // months may tie: the figure of the one row is the best month's
    top_figure_is(
        &f,
        &sql,
        "SELECT MAX(r) FROM (SELECT SUM(il.UnitPrice * il.Quantity) AS r \
         FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId \
         JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId \
         WHERE g.Name = 'Rock' AND i.InvoiceDate >= '2023-01-01' AND i.InvoiceDate < '2024-01-01' \
         GROUP BY substr(i.InvoiceDate, 1, 7))",
    );
    let (q, _) = asked(&f, "What was our weakest year?");
    assert_eq!(
        q.time_grain,
        Some(crate::semantic::model::Grain::Year),
        "{q:?}"
    );
    assert!(!q.order[0].descending, "{q:?}");
    assert_eq!(q.limit, Some(1), "{q:?}");
    let (q, _) = asked(&f, "What were our 3 best months in 2023?");
    assert_eq!(q.limit, Some(3), "{q:?}");
    // an entity named and no figure: the periods with the most of them
    let (q, sql) = asked(&f, "What's the busiest month for invoices in 2022?");
    assert!(q.columns.is_empty() && q.group_by.is_empty(), "{q:?}");
    top_figure_is(
        &f,
        &sql,
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM Invoice \
         WHERE InvoiceDate >= '2022-01-01' AND InvoiceDate < '2023-01-01' \
         GROUP BY substr(InvoiceDate, 1, 7))",
    );
}

/// `sql` returns one row whose last column is the one value `gold` returns.
fn top_figure_is(f: &Fixture, sql: &str, gold: &str) {
    let got = rows(&f.path, sql);
    let want = rows(&f.path, gold);
    assert_eq!(got.len(), 1, "{sql}");
    assert_eq!(
        got[0].last(),
        want[0].first(),
        "\ncompiled: {sql}\ngold:     {gold}"
    );
}

/// "Which categories have negative margin?": a sign before a metric is a threshold at zero.
#[test]
fn a_sign_before_a_metric_is_a_threshold_at_zero() {
    let (_dir, schema, values, layer) = retail_layer("");
    let read = |q: &str| layer.read(q, &schema, &values).expect("read");
    let q = read("Which categories have negative margin?");
    assert_eq!(
        q.having,
        Some(Threshold {
            op: "<".into(),
            value: 0.0
        }),
        "{q:?}"
    );
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    let q = read("Which products had positive gross margin in 2024?");
    assert_eq!(q.having.as_ref().map(|t| t.op.as_str()), Some(">"), "{q:?}");
}

/// "Revenue by day of the week": every model with a date of its own has a weekday breakdown,
/// named in the warehouse's dialect.
#[test]
fn a_breakdown_by_day_of_the_week_names_the_weekday_of_the_models_date() {
    let f = chinook();
    let (q, sql) = asked(&f, "Revenue by day of the week in 2024");
    assert!(
        matches!(&q.group_by[..], [GroupBy::Dimension(d)] if d.name == DAY_OF_WEEK),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "SELECT CASE strftime('%w', i.InvoiceDate) WHEN '0' THEN 'Sunday' WHEN '1' THEN 'Monday' \
         WHEN '2' THEN 'Tuesday' WHEN '3' THEN 'Wednesday' WHEN '4' THEN 'Thursday' \
         WHEN '5' THEN 'Friday' ELSE 'Saturday' END, SUM(il.UnitPrice * il.Quantity) \
         FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId \
         WHERE i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01' GROUP BY 1",
    );
    let (q, _) = asked(&f, "Which day of the week has the most invoices?");
    assert_eq!(q.limit, Some(1), "{q:?}");
    assert!(q.entity_count.is_some(), "{q:?}");
    // BigQuery's weekday numbers start at 1 (Sunday)
    match f.layer.answer(
        "Revenue by weekday",
        &f.schema,
        &f.values,
        Dialect::BigQuery,
    ) {
        Outcome::Compiled { sql, .. } => assert!(
            sql.contains("CASE EXTRACT(DAYOFWEEK FROM") && sql.contains("WHEN 1 THEN 'Sunday'"),
            "{sql}"
        ),
        Outcome::Refused { reason, .. } => panic!("refused: {reason}"),
    }
}

/// "What fraction of price changes were cost increases?", "what proportion of our stores":
/// shares however asked; "which categories are most promoted" ranks by a named filter with no
/// figure of it named, understood and not computed.
#[test]
fn a_fraction_or_proportion_is_a_share_and_a_ranking_by_a_named_filter_alone_is_not_computed() {
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO stores (store_id, store_name, zone) VALUES ('S1', 'One', 'North');
         INSERT INTO price_changes (store_id, change_reason) VALUES ('S1', 'Cost Increase');",
    );
    let read = |q: &str| layer.read(q, &schema, &values).expect("read");
    let q = read("What fraction of price changes were cost increases?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    let q = read("What proportion of our stores are in the North zone?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    assert!(
        q.entity_count.as_ref().is_some_and(|e| e.part.is_some()),
        "{q:?}"
    );
    match layer.answer(
        "Which categories are most promoted?",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Refused {
            understood, reason, ..
        } => assert!(understood && reason.contains("named filter"), "{reason}"),
        Outcome::Compiled { sql, .. } => panic!("answered: {sql}"),
    }
}

/// "Which month of 2024 had the fewest invoices?": the entity after "fewest" counted per
/// period; "how many customers bought more than 5 invoices" (a count of the instances having
/// more than N of another) is understood and not computed, not counted per invoice.
#[test]
fn an_entity_counted_per_period_and_a_count_of_instances_over_a_count() {
    let f = chinook();
    let (q, sql) = asked(&f, "Which month of 2024 had the fewest invoices?");
    assert!(q.entity_count.is_some() && q.group_by.is_empty(), "{q:?}");
    top_figure_is(
        &f,
        &sql,
        "SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM Invoice \
         WHERE InvoiceDate >= '2024-01-01' AND InvoiceDate < '2025-01-01' \
         GROUP BY substr(InvoiceDate, 1, 7))",
    );
    // the customers with more than 5 invoices, counted (it had been refused)
    let (q, sql) = asked(&f, "How many customers bought more than 5 invoices?");
    assert!(q.count_rows, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(*) FROM (SELECT CustomerId FROM Invoice GROUP BY CustomerId \
         HAVING COUNT(*) > 5)",
    );
    let (_, sql) = asked(&f, "How many customers placed at least 2 orders in 2025?");
    same(
        &f,
        &sql,
        "SELECT COUNT(*) FROM (SELECT CustomerId FROM Invoice WHERE InvoiceDate LIKE '2025%' \
         GROUP BY CustomerId HAVING COUNT(*) >= 2)",
    );
}

#[test]
fn a_filter_on_one_member_or_a_named_filter_is_a_slice_and_back() {
    let member = Filter::Members {
        dimension: dim("zone"),
        values: vec!["North".into()],
        negated: true,
    };
    let named = Filter::Named {
        name: "on promotion".into(),
        negated: false,
    };
    for f in [&member, &named] {
        let slice = Slice::of_filter(f).unwrap();
        assert_eq!(Filter::of_slice(&slice).as_ref(), Some(f));
    }
    // several members are no one slice; a period is no filter
    let several = Filter::Members {
        dimension: dim("zone"),
        values: vec!["North".into(), "South".into()],
        negated: false,
    };
    assert_eq!(Slice::of_filter(&several), None);
    let period = Slice::Period(Period {
        start: NaiveDate::from_ymd_opt(2024, 1, 1),
        end: NaiveDate::from_ymd_opt(2025, 1, 1),
        text: "in 2024".into(),
    });
    assert_eq!(Filter::of_slice(&period), None);
}

#[test]
fn copies_are_units_and_a_request_opening_with_a_superlative_in_the_singular_asks_for_one() {
    let f = chinook();
    // "copies" name the one metric called "units", with no other words about them
    let (q, sql) = asked(&f, "Which albums sold the most copies?");
    assert_eq!(q.columns[0].metric, "tracks_sold");
    assert_eq!(q.limit, None);
    same(
        &f,
        &sql,
        "SELECT al.Title, SUM(il.Quantity) FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId \
         JOIN Album al ON al.AlbumId = t.AlbumId GROUP BY al.AlbumId",
    );
    // a request that opens with the superlative, the thing ranked in the singular: one
    for question in [
        "Best selling track of all time",
        "Most popular genre",
        "Top customer by revenue",
    ] {
        let (q, _) = asked(&f, question);
        assert_eq!(q.limit, Some(1), "{question}: {q:?}");
    }
    // in the plural, the ranking
    let (q, _) = asked(&f, "Top customers by revenue");
    assert_eq!(q.limit, None);
    let (q, _) = asked(&f, "What are the most popular genres?");
    assert_eq!(q.limit, None);
}

#[test]
fn reporting_to_someone_is_a_relation_the_layer_does_not_read() {
    let f = chinook();
    match f.layer.answer(
        "How many employees report to the general manager?",
        &f.schema,
        &f.values,
        Dialect::Sqlite,
    ) {
        Outcome::Refused { unread, .. } => assert_eq!(unread, ["report"]),
        other => panic!("counted the general managers: {other:?}"),
    }
    // the report a request asks for is no word of the question's meaning
    let (q, _) = asked(&f, "Show me a report of revenue by country");
    assert_eq!(q.columns[0].metric, "revenue");
}

#[test]
fn a_ranking_names_members_and_leaves_out_the_rows_of_none() {
    let f = chinook();
    // most tracks have no composer: their NULL group is no composer to name
    let (_, sql) = asked(&f, "Which composer has the most tracks?");
    assert!(sql.contains("IS NOT NULL"), "{sql}");
    same(
        &f,
        &sql,
        "SELECT Composer, COUNT(*) FROM Track WHERE Composer IS NOT NULL \
         GROUP BY Composer ORDER BY COUNT(*) DESC LIMIT 1",
    );
    // a breakdown shows every group, the unknown one too
    let (_, sql) = asked(&f, "How many tracks does each composer have?");
    assert!(!sql.contains("IS NOT NULL"), "{sql}");
}

#[test]
fn people_named_by_first_and_last_name_are_compared_a_row_each() {
    let f = chinook();
    let gold =
        "SELECT e.FirstName, e.LastName, SUM(il.UnitPrice * il.Quantity) FROM InvoiceLine il \
         JOIN Invoice i USING (InvoiceId) JOIN Customer c ON i.CustomerId = c.CustomerId \
         JOIN Employee e ON c.SupportRepId = e.EmployeeId \
         WHERE ((e.FirstName = 'Jane' AND e.LastName = 'Peacock') \
             OR (e.FirstName = 'Margaret' AND e.LastName = 'Park')) \
         AND i.InvoiceDate >= '2022-01-01' AND i.InvoiceDate < '2023-01-01' GROUP BY e.EmployeeId";
    for question in [
        "Jane Peacock vs Margaret Park: who sold more in 2022?",
        "Jane Peacock versus Margaret Park: revenue in 2022",
    ] {
        let (q, sql) = asked(&f, question);
        assert!(
            q.filters
                .iter()
                .any(|x| matches!(x, Filter::Instances { rows, .. } if rows.len() == 2)),
            "{question}: {q:?}"
        );
        same(&f, &sql, gold);
    }
    // beside a time breakdown they would be a column each: not computed
    let refused = f.layer.answer(
        "Jane Peacock versus Margaret Park: revenue per year",
        &f.schema,
        &f.values,
        Dialect::Sqlite,
    );
    assert!(matches!(refused, Outcome::Refused { .. }), "{refused:?}");
}

#[test]
fn a_request_worded_as_a_favour_reads_as_its_question() {
    let f = fixture();
    let (_, plain) = asked(&f, "top 5 stores by revenue in 2024");
    for question in [
        "Can you pull the top 5 stores by revenue in 2024?",
        "Could you show me the top 5 stores by revenue in 2024?",
        "I need the top 5 stores by revenue in 2024",
        "top 5 stores by rev in 2024",
    ] {
        let (_, sql) = asked(&f, question);
        same(&f, &sql, &plain);
    }
}

#[test]
fn a_threshold_compares_the_rows_of_the_entity_a_member_qualifies() {
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO stores (store_id, store_name, zone, store_format) VALUES
             ('S1', 'One', 'North', 'Neighborhood'), ('S2', 'Two', 'South', 'Supercenter');",
    );
    let read = |question: &str| match layer.answer(question, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, .. } => panic!("{question}: refused: {reason}"),
    };
    let q = read("Which Neighborhood stores did more than $600K in sales in 2024?");
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "store".into()
        }],
        "{q:?}"
    );
    assert!(q.having.is_some(), "{q:?}");
    assert_eq!(q.filters.len(), 1, "{q:?}");
}

#[test]
fn a_named_filter_compared_with_its_negation_is_a_column_each() {
    let (_dir, schema, values, layer) = retail_layer("");
    for question in [
        "average selling price on promo vs not on promo in 2024",
        "average selling price on promo vs off promo in 2024",
    ] {
        let q = match layer.answer(question, &schema, &values, Dialect::Sqlite) {
            Outcome::Compiled { query, .. } => query,
            Outcome::Refused { reason, .. } => panic!("{question}: refused: {reason}"),
        };
        let slices: Vec<_> = q.columns.iter().map(|c| c.slice.clone()).collect();
        assert_eq!(
            slices,
            vec![
                Some(Slice::Named {
                    name: "on promotion".into(),
                    negated: false
                }),
                Some(Slice::Named {
                    name: "on promotion".into(),
                    negated: true
                }),
            ],
            "{question}: {q:?}"
        );
    }
}

#[test]
fn the_periods_named_again_and_the_whole_of_a_share_named_again_are_read() {
    let (_dir, schema, values, layer) = retail_layer("");
    let read = |question: &str| match layer.answer(question, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, .. } => panic!("{question}: refused: {reason}"),
    };
    // "both years" are the two years compared, not a breakdown by year
    let q = read(
        "How did revenue in 2024 compare with 2023? I'd like both years and the growth in percent.",
    );
    assert_eq!(q.columns.len(), 2, "{q:?}");
    assert_eq!(q.time_grain, None, "{q:?}");
    assert!(matches!(q.derived, Some(Derived::PeriodGrowth)), "{q:?}");
    // "as % of all changes": the whole the share is of
    let q = read("price changes in 2024 split by reason, as % of all changes");
    assert_eq!(q.derived, Some(Derived::ShareOfTotal), "{q:?}");
}

#[test]
fn a_unit_names_the_one_metric_whose_name_ends_with_it() {
    let f = chinook();
    // "MB" is also a stored state code; before any value it is the unit of storage_megabytes
    let (q, _) = asked(&f, "total MB of all video files");
    assert_eq!(q.columns[0].metric, "storage_megabytes", "{q:?}");
    assert_eq!(q.filters.len(), 1, "{q:?}");
}

#[test]
fn a_percent_sign_after_a_metric_stated_in_percent_is_its_unit() {
    let (_dir, schema, values, layer) = retail_layer("");
    let q = match layer.answer(
        "initial markup % by dept",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, .. } => panic!("refused: {reason}"),
    };
    assert_eq!(q.columns[0].metric, "markup", "{q:?}");
    assert_eq!(q.derived, None, "{q:?}");
    // a metric in dollars with a percent sign still asks for something else
    assert!(matches!(
        layer.answer("revenue % by zone", &schema, &values, Dialect::Sqlite),
        Outcome::Refused { .. }
    ));
}

#[test]
fn an_average_per_another_figure_is_refused_not_divided() {
    let (_dir, schema, values, layer) = retail_layer("");
    // the average selling price is already per unit: "per unit sold" divides nothing
    match layer.answer(
        "average selling price per unit sold in 2024",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Refused { reason, .. } => assert!(reason.contains("already per"), "{reason}"),
        Outcome::Compiled { sql, .. } => panic!("answered: {sql}"),
    }
    // a total per another figure is still their ratio
    match layer.answer(
        "revenue per square foot by zone",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Compiled { query, .. } => assert_eq!(query.derived, Some(Derived::Ratio)),
        Outcome::Refused { reason, .. } => panic!("refused: {reason}"),
    }
}

#[test]
fn time_order_words_possessive_rows_named_share_parts_and_differences_read_as_analysts_mean() {
    let f = chinook();
    // "in chronological order" / "in month order" order the series; "month order" alone asks
    // for the months; "order" is no invoice here
    for question in [
        "Show monthly sales for 2023 in chronological order",
        "Show monthly sales for 2023, in month order",
        "sales for 2023 in month order",
    ] {
        let (q, sql) = asked(&f, question);
        assert_eq!(
            q.time_grain,
            Some(super::model::Grain::Month),
            "{question}: {q:?}"
        );
        assert!(q.group_by.is_empty(), "{question}: {q:?}");
        same(
            &f,
            &sql,
            "SELECT substr(i.InvoiceDate, 1, 7) m, SUM(il.UnitPrice * il.Quantity) FROM InvoiceLine il \
             JOIN Invoice i ON il.InvoiceId = i.InvoiceId WHERE i.InvoiceDate >= '2023-01-01' \
             AND i.InvoiceDate < '2024-01-01' GROUP BY m ORDER BY m",
        );
    }
    let (q, _) = asked(&f, "monthly sales 2023 in reverse chronological order");
    assert!(
        q.order
            .iter()
            .any(|o| o.by == OrderBy::Time && o.descending),
        "{q:?}"
    );
    // a time order with no time to order by is not read
    assert!(matches!(
        f.layer.answer(
            "sales by country in chronological order",
            &f.schema,
            &f.values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
    // "their customers' sales": the customers are the rows measured, not a breakdown
    let (q, _) = asked(
        &f,
        "Which sales rep grew their customers' sales the most from 2021 to 2022?",
    );
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    // two entities shown by columns of one name: each output named after its entity
    let (_, sql) = asked(&f, "revenue by sales rep and customer in 2022");
    assert!(sql.contains("AS customer_first_name"), "{sql}");
    // a named filter on the member's own column restates the part of a share
    let (q, sql) = asked(
        &f,
        "What share of the tracks sold in 2022 were video files (Protected MPEG-4 video file)?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    assert!(q.filters.is_empty(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(CASE WHEN mt.Name = 'Protected MPEG-4 video file' THEN il.Quantity ELSE 0 END) \
         / SUM(il.Quantity) FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId \
         JOIN Track t ON il.TrackId = t.TrackId JOIN MediaType mt ON t.MediaTypeId = mt.MediaTypeId \
         WHERE i.InvoiceDate >= '2022-01-01' AND i.InvoiceDate < '2023-01-01'",
    );
    // "show the difference": the change in dollars, largest first, beside both years
    let (q, sql) = asked(
        &f,
        "For each country, compare sales in 2023 and 2024 and show the difference.",
    );
    assert_eq!(q.derived, Some(Derived::PeriodDifference), "{q:?}");
    assert!(sql.contains("AS revenue_change"), "{sql}");
    // "the best-selling artist in each year": one artist ranked first within each year
    let (q, sql) = asked(&f, "best selling artist by revenue for each year 2021-2025");
    assert!(
        matches!(q.derived, Some(Derived::RankWithin { top: Some(1), .. })),
        "{q:?}"
    );
    same(
        &f,
        &sql,
        "WITH a AS (SELECT ar.Name n, substr(i.InvoiceDate, 1, 4) y, SUM(il.UnitPrice * il.Quantity) r \
         FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId JOIN Track t ON il.TrackId = t.TrackId \
         JOIN Album al ON t.AlbumId = al.AlbumId JOIN Artist ar ON al.ArtistId = ar.ArtistId \
         WHERE i.InvoiceDate >= '2021-01-01' AND i.InvoiceDate < '2026-01-01' GROUP BY ar.ArtistId, y) \
         SELECT n, y, r FROM (SELECT a.*, RANK() OVER (PARTITION BY y ORDER BY r DESC) k FROM a) WHERE k = 1",
    );
}
#[test]
fn a_grain_noun_naming_the_rows_of_a_named_filter_is_no_breakdown() {
    let (_dir, schema, values, layer) = retail_layer("");
    for question in [
        "What percentage of 2024 revenue came from weeks on promotion?",
        "What percentage of 2024 revenue came from weeks when the product was on promotion?",
    ] {
        match layer.answer(question, &schema, &values, Dialect::Sqlite) {
            Outcome::Compiled { query, .. } => {
                assert_eq!(query.derived, Some(Derived::ShareOfWhole), "{query:?}");
                assert!(query.group_by.is_empty(), "{question}: {query:?}");
                assert_eq!(query.time_grain, None, "{question}: {query:?}");
            }
            Outcome::Refused { reason, .. } => panic!("{question}: refused: {reason}"),
        }
    }
    // a bare grain noun with no filter after it is still not read
    assert!(matches!(
        layer.answer(
            "revenue from weeks with high traffic",
            &schema,
            &values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
}

#[test]
fn counts_of_rows_past_a_threshold_possessive_picks_and_the_basis_of_a_change_read_as_meant() {
    let f = chinook();
    // "how many customers spent more than $20": one count of the customers that did
    let (q, sql) = asked(&f, "How many customers spent more than $20 in 2022?");
    assert!(q.count_rows, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(*) FROM (SELECT i.CustomerId FROM InvoiceLine il JOIN Invoice i \
         ON il.InvoiceId = i.InvoiceId WHERE i.InvoiceDate >= '2022-01-01' \
         AND i.InvoiceDate < '2023-01-01' GROUP BY i.CustomerId \
         HAVING SUM(il.UnitPrice * il.Quantity) > 20)",
    );
    // "which rep's customers": one rep, the top one; "which reps' customers": a rep a row
    let (q, _) = asked(&f, "Which sales rep's customers spent the most in 2022?");
    assert_eq!(q.limit, Some(1), "{q:?}");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    let (q, _) = asked(&f, "Which sales reps' customers spent the most in 2022?");
    assert_eq!(q.limit, None, "{q:?}");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    // "the change vs the previous year" beside a yearly series is the change's basis, no period
    for question in [
        "Revenue per year with the % change vs the previous year",
        "revenue by year with the percent change from the prior year",
    ] {
        let (q, _) = asked(&f, question);
        assert!(
            matches!(q.derived, Some(Derived::PeriodOverPeriod { .. })),
            "{question}: {q:?}"
        );
        assert_eq!(q.period, None, "{question}: {q:?}");
    }
    // "how did revenue change vs last year" still compares last year with this one
    let (q, _) = asked(&f, "How did revenue change vs last year?");
    assert_eq!(q.columns.len(), 2, "{q:?}");
    // a number counting another entity than the figure's is no threshold on the figure
    assert!(matches!(
        f.layer.answer(
            "Average invoice total per country, only for countries with at least 5 customers",
            &f.schema,
            &f.values,
            Dialect::Sqlite
        ),
        Outcome::Refused { .. }
    ));
}

#[test]
fn counts_through_a_verb_ranks_of_averages_and_periods_compared_in_percent() {
    let f = chinook();
    // "how many invoices did we bill": the invoices counted, not their totals
    let (q, sql) = asked(&f, "How many invoices did we bill in 2022?");
    assert!(q.entity_count.is_some() && q.columns.is_empty(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(*) FROM Invoice WHERE InvoiceDate >= '2022-01-01' AND InvoiceDate < '2023-01-01'",
    );
    // two periods compared "in %": a growth
    let (q, _) = asked(&f, "How did revenue in 2023 compare with 2022, in %?");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    // "rank the countries by average revenue per customer": the averages, ordered
    let (q, _) = asked(
        &f,
        "Rank the countries by average revenue per customer in 2022",
    );
    assert!(
        matches!(q.derived, Some(Derived::AveragePer { .. })),
        "{q:?}"
    );
    assert!(!q.order.is_empty(), "{q:?}");
}

#[test]
fn one_metric_as_a_percentage_of_another_is_the_ratio_metric_that_divides_them() {
    let (_dir, schema, values, layer) = retail_layer("");
    // gross_margin_pct divides gross margin by the margins' revenue (`margin_revenue`):
    // "revenue" there names it, and "as a percentage of" asks for no share
    for q in [
        "For each category, what was the gross margin as a percentage of revenue in Q3 2024?",
        "gross margin as a % of revenue by zone",
    ] {
        match layer.answer(q, &schema, &values, Dialect::Sqlite) {
            Outcome::Compiled { query, .. } => {
                assert_eq!(query.columns.len(), 1, "{q}: {query:?}");
                assert_eq!(query.columns[0].metric, "gross_margin_pct", "{q}");
                assert_eq!(query.derived, None, "{q}: {query:?}");
            }
            Outcome::Refused { reason, .. } => panic!("{q}: refused: {reason}"),
        }
    }
}

#[test]
fn an_entity_naming_the_rows_measured_beside_an_each_breakdown_is_no_breakdown_of_its_own() {
    let f = chinook();
    // "track sales revenue": the tracks' revenue, broken down by media type only
    let (q, _) = asked(
        &f,
        "What share of track sales revenue does each media type account for?",
    );
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "media_type".into()
        }],
        "{q:?}"
    );
    // an entity asked for by "which" before the metric is the breakdown
    let (q, _) = asked(&f, "Within each genre, which artist earned the most?");
    assert_eq!(q.group_by.len(), 2, "{q:?}");
    // "the customers of each sales agent": the rows through which the agent is reached
    let (q, _) = asked(
        &f,
        "What percentage of total revenue comes from the customers of each sales support agent?",
    );
    assert_eq!(
        q.group_by,
        vec![GroupBy::Entity {
            name: "sales_agent".into()
        }],
        "{q:?}"
    );
}

#[test]
fn clipped_period_words_codes_in_lower_case_and_everyday_verbs_are_read() {
    let f = chinook();
    // "yr" is the year
    let (q, _) = asked(&f, "revenue by yr");
    assert!(q.time_grain.is_some(), "{q:?}");
    // a code of three letters typed in lower case names the stored value ("usa": USA)
    let (q, _) = asked(&f, "revenue usa vs canada");
    assert!(format!("{q:?}").contains("\"USA\""), "{q:?}");
    // "stack up against" compares; "buying from us", "in our catalog" say nothing more
    let (q, _) = asked(
        &f,
        "How did our total revenue in 2022 stack up against 2021?",
    );
    assert!(q.time_grain.is_some() && q.period.is_some(), "{q:?}");
    // a threshold in percent on a share of the total
    let (q, sql) = asked(
        &f,
        "Which countries each account for more than 5% of our total revenue?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfTotal), "{q:?}");
    assert!(q.having.as_ref().is_some_and(|t| t.value == 5.0), "{q:?}");
    assert!(sql.contains("> 5"), "{sql}");
    // a count of entities "changed year by year" is its series per year
    let (q, _) = asked(
        &f,
        "How has the number of customers buying from us changed year by year?",
    );
    assert!(
        q.entity_count.is_some() && q.time_grain.is_some() && q.derived.is_none(),
        "{q:?}"
    );
    // "fall into each class" is belonging, no fall: no growth asked
    let (q, _) = asked(&f, "How many tracks fall into each genre?");
    assert_eq!(q.derived, None, "{q:?}");
}

#[test]
fn money_thresholds_on_counts_intersections_and_everyday_ranking_words() {
    let f = chinook();
    let refused = |q: &str| match f.layer.answer(q, &f.schema, &f.values, Dialect::Sqlite) {
        Outcome::Refused {
            reason,
            unread,
            understood,
            ..
        } => (reason, unread, understood),
        Outcome::Compiled { sql, .. } => panic!("'{q}' compiled: {sql}"),
    };
    // an amount of money compares each invoice's amount, not the number of invoices: the
    // number is left unread for the pattern engine (a condition on each row)
    let (_, unread, understood) = refused("number of invoices above $10 per year");
    assert_eq!((unread, understood), (vec!["10".to_string()], false));
    // a plain number still compares the count
    let (q, _) = asked(&f, "countries with more than 10 invoices");
    assert!(q.having.is_some(), "{q:?}");
    // "in both 2024 and 2025": an intersection, not the two years together
    let (reason, _, understood) =
        refused("How many customers bought from us in both 2024 and 2025?");
    assert!(understood && reason.contains("both periods"), "{reason}");
    // "year-to-date" with its hyphens is a period; "lifetime" the whole history
    let (q, _) = asked(&f, "year-to-date revenue by country");
    assert!(q.period.is_some(), "{q:?}");
    let (q, _) = asked(&f, "avg lifetime spend per customer by country");
    assert!(
        q.period.is_none() && matches!(q.derived, Some(Derived::AveragePer { .. })),
        "{q:?}"
    );
    // "top 10 countries by customer spend": the customers' spend ranks the countries
    let (q, _) = asked(&f, "top 10 countries by customer spend");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    assert_eq!(q.limit, Some(10));
    // "across 2023 and 2024, with the quarter-over-quarter change": one period of both years,
    // each quarter against the one before it (not the two years side by side)
    let (q, _) = asked(
        &f,
        "revenue by quarter across 2023 and 2024, with the quarter-over-quarter change in percent",
    );
    assert!(
        matches!(q.derived, Some(Derived::PeriodOverPeriod { .. })),
        "{q:?}"
    );
    let p = q.period.clone().expect("one period");
    assert_eq!(
        (p.start, p.end),
        (
            chrono::NaiveDate::from_ymd_opt(2023, 1, 1),
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
        ),
        "{q:?}"
    );
    // "so far this year ... the same period last year": both cut at the latest day
    let (q, sql) = asked(
        &f,
        "How does Rock revenue so far this year compare with the same period last year?",
    );
    assert!(
        sql.contains("< '2024-12-23'") && sql.contains("< '2025-12-23'"),
        "{q:?} {sql}"
    );
    // "the quarter before it": the quarter before the one named
    let (q, _) = asked(&f, "revenue in Q3 2025 compared with the quarter before it");
    assert!(format!("{q:?}").contains("2025-04-01"), "{q:?}");
}

#[test]
fn the_peak_period_and_signing_off_are_read() {
    let (_dir, schema, values, layer) = retail_layer("");
    let read = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, unread, .. } => panic!("{q}: refused: {reason} {unread:?}"),
    };
    let q = read("What was the peak week of 2024 for total units sold across the chain?");
    assert_eq!(q.limit, Some(1), "{q:?}");
    assert!(q.time_grain.is_some(), "{q:?}");
    let q = read("how many price changes did each approver sign off in 2024");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    // "most expensive first": an order, whatever the adjective
    let q = read("rank competitors by average price gap in 2024, most expensive first");
    assert!(
        matches!(q.derived, Some(Derived::Rank { ascending: false })),
        "{q:?}"
    );
    // a count of the price changes after "of" another of their metrics names the rows measured
    let q = read("average change percent of price changes by reason");
    assert_eq!(q.columns.len(), 1, "{q:?}");
    let q = read("Which five stores grew revenue the most in percentage terms from 2023 to 2024?");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
}

#[test]
fn never_on_promotion_lists_the_instances_the_filters_rows_never_reach() {
    let (_dir, schema, values, layer) = retail_layer("");
    let brands = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, sql, .. } => (query, sql),
        Outcome::Refused { reason, .. } => panic!("'{q}' refused: {reason}"),
    };
    // a brand never promoted: none of its sales rows on promotion (not: one of its products)
    let (q, sql) = brands("Which brands were never on promotion?");
    assert!(q.absent, "{q:?}");
    assert!(
        sql.contains("products.brand NOT IN (SELECT products.brand FROM sales_data")
            && sql.contains("promotion_flag = 1"),
        "{sql}"
    );
    // a filter said of the metric right after it is the metric's: no promoted sales
    let (q, sql2) = brands("Which brands had no promoted sales?");
    assert!(q.absent, "{q:?}");
    assert_eq!(sql2, sql);
    // a figure of those instances is more than the query of absence shows
    match layer.answer(
        "revenue of products with no promotion",
        &schema,
        &values,
        Dialect::Sqlite,
    ) {
        Outcome::Refused { .. } => {}
        Outcome::Compiled { sql, .. } => panic!("answered: {sql}"),
    }
}

#[test]
fn no_sales_lists_the_instances_the_metrics_rows_never_reach() {
    let f = chinook();
    // an entity: its instances from its own table, but those the sales' rows reach
    let (q, sql) = asked(&f, "Which genres had no sales in 2024?");
    assert!(q.absent, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT g.Name FROM Genre g WHERE g.GenreId NOT IN (SELECT t.GenreId FROM InvoiceLine il \
         JOIN Invoice i ON il.InvoiceId = i.InvoiceId JOIN Track t ON il.TrackId = t.TrackId \
         WHERE i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01')",
    );
    // "never ... a single track sold": the words between are no breakdown or number
    let (q, sql) = asked(
        &f,
        "Which genres have never had a single track sold in 2024?",
    );
    assert!(q.absent, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT g.Name FROM Genre g WHERE g.GenreId NOT IN (SELECT t.GenreId FROM InvoiceLine il \
         JOIN Invoice i ON il.InvoiceId = i.InvoiceId JOIN Track t ON il.TrackId = t.TrackId \
         WHERE i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01')",
    );
    // a negated verb denies with "any" or "a single": the same instances
    for q in [
        "Which genres haven't sold a single track in 2024?",
        "Which genres did not sell any tracks in 2024?",
        "Which genres never sold a single track in 2024?",
    ] {
        let (q2, sql2) = asked(&f, q);
        assert!(q2.absent, "{q}: {q2:?}");
        assert_eq!(sql2, sql, "{q}");
    }
    // over the whole history, an entity's instances are the pattern engine's to list (with
    // their key and display columns)
    refused(&f, "Which genres have never had a single track sold?");
    // a dimension: its values, none of which the rows reach
    let (q, sql) = asked(&f, "Which billing countries had no revenue last quarter?");
    assert!(q.absent, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT DISTINCT BillingCountry FROM Invoice WHERE BillingCountry NOT IN (SELECT \
         BillingCountry FROM Invoice WHERE InvoiceDate >= '2025-07-01' AND InvoiceDate < '2025-10-01')",
    );
    // how many of them
    let (q, sql) = asked(&f, "How many genres had no sales in 2024?");
    assert!(q.absent && q.count_rows, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT COUNT(*) FROM Genre g WHERE g.GenreId NOT IN (SELECT t.GenreId FROM InvoiceLine il \
         JOIN Invoice i ON il.InvoiceId = i.InvoiceId JOIN Track t ON il.TrackId = t.TrackId \
         WHERE i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01')",
    );
    // an average per invoice in a row per year is a breakdown the average does not make:
    // refused, not one average over every year
    refused(&f, "average number of tracks per invoice by year");
    // "both" before two periods asks for the rows of each, never the two as one
    refused(&f, "Which customers bought in both 2024 and 2025?");
    // ... and a figure asked for both periods shows them side by side
    let (q, _) = asked(&f, "Show revenue for both 2024 and 2025 by genre");
    assert_eq!(q.columns.len(), 2, "{q:?}");
    // more than a list of instances: refused, not answered as something else
    refused(&f, "Which genres had no sales by month?");
}

#[test]
fn the_instances_without_rows_are_those_a_filter_of_their_own_table_names() {
    let (dir, schema, values, layer) = retail_layer(
        "INSERT INTO products (upc_code, product_name, category_level_1, category_level_2)
           VALUES ('p1', 'Apples', 'Fresh', 'Produce'), ('p2', 'Pears', 'Fresh', 'Produce'),
                  ('p3', 'Milk', 'Dairy', 'Milk'), ('p4', 'Butter', 'Dairy', 'Butter');
         INSERT INTO stores (store_id, store_name, zone) VALUES ('s1', 'One', 'West'),
                  ('s2', 'Two', 'East');
         INSERT INTO sales_data (upc_code, store_id, sale_date, units_sold, revenue, promotion_flag)
           VALUES ('p1', 's1', '2024-03-04', 5, 10.0, 1), ('p3', 's1', '2024-03-04', 5, 10.0, 0),
                  ('p4', 's2', '2024-03-04', 5, 10.0, 0), ('p2', 's2', '2024-03-04', 5, 10.0, 0);",
    );
    let rows = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, sql, .. } => {
            assert!(query.absent, "{query:?}");
            let c = Connection::open(dir.path().join("retail.sqlite")).expect("opens");
            let mut st = c.prepare(&sql).expect("prepares");
            let names: Vec<String> = st
                .query_map([], |r| r.get::<_, String>(0))
                .expect("runs")
                .map(|r| r.expect("a row"))
                .collect();
            names
        }
        Outcome::Refused { reason, .. } => panic!("'{q}' refused: {reason}"),
    };
    // the Produce products never promoted: Pears (not every product the Produce rows miss)
    assert_eq!(
        rows("Which Produce products were never on promotion in 2024?"),
        vec!["Pears".to_string()]
    );
    // "at any store": no row of any store, not a breakdown by store
    assert_eq!(
        rows("Which Produce products were never on promotion at any store in 2024?"),
        vec!["Pears".to_string()]
    );
    // a member after a verb of sale denies that member's sales
    assert_eq!(
        rows("Which stores did not sell any Milk in 2024?"),
        vec!["Two".to_string()]
    );
    // a filter of another table only says which rows count: Butter sold in the East only
    assert_eq!(
        rows("Which Dairy products had no sales in the West zone in 2024?"),
        vec!["Butter".to_string()]
    );
}

#[test]
fn a_definition_said_again_in_words_is_grammar() {
    let f = chinook();
    // "i.e. total revenue divided by the number of customers": how the average per customer
    // is computed, not a second figure
    let (q, _) = asked(
        &f,
        "What is the average lifetime revenue per customer in each country, i.e. total revenue \
         divided by the number of customers there?",
    );
    assert_eq!(q.columns.len(), 1, "{q:?}");
    assert!(
        matches!(q.derived, Some(Derived::AveragePer { .. })),
        "{q:?}"
    );
    let (_dir, schema, values, layer) = retail_layer("");
    let read = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, unread, .. } => panic!("{q}: refused: {reason} {unread:?}"),
    };
    // "(revenue divided by units)" and "computed as ... over ...": the inputs of the metric
    // named before, one column
    for (question, metric) in [
        (
            "What was the average selling price (revenue divided by units) for each \
             sub-category in 2024?",
            "average_selling_price",
        ),
        (
            "What was the gross margin percentage for each zone in 2024, computed as total \
             gross margin over total revenue?",
            "gross_margin_pct",
        ),
    ] {
        let q = read(question);
        let names: Vec<&str> = q.columns.iter().map(|c| c.metric.as_str()).collect();
        assert_eq!(names, vec![metric], "{question}: {q:?}");
    }
    // a clause naming another figure is no definition: both are asked
    let q = read("average selling price (and units) by zone in 2024");
    assert_eq!(q.columns.len(), 2, "{q:?}");
}

#[test]
fn a_member_before_the_thing_ranked_keeps_it_singular() {
    let f = chinook();
    // "which Rock album": one album, as "which album"
    let (q, _) = asked(&f, "Which Rock album earned the most revenue in 2024?");
    assert_eq!(q.limit, Some(1), "{q:?}");
    let (q, _) = asked(&f, "Which Rock albums earned the most revenue in 2024?");
    assert_ne!(q.limit, Some(1), "{q:?}");
}

#[test]
fn an_entity_counted_beside_a_metric_is_counted_not_listed() {
    let f = chinook();
    // "number of tracks and average price by media type": both figures per media type (the
    // tracks had been the breakdown, every track listed)
    let (q, sql) = asked(&f, "number of tracks and average unit price by media type");
    assert!(q.entity_count.is_some(), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT m.Name, AVG(t.UnitPrice), COUNT(*) FROM Track t JOIN MediaType m \
         ON m.MediaTypeId = t.MediaTypeId GROUP BY m.MediaTypeId",
    );
    // a bare entity joined to the metric by "+" beside a breakdown (the count had been dropped)
    let (_, sql) = asked(&f, "USA invoices + rev by city, 2024");
    same(
        &f,
        &sql,
        "SELECT c.City, SUM(il.UnitPrice * il.Quantity), COUNT(DISTINCT i.InvoiceId) \
         FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId \
         JOIN Customer c ON c.CustomerId = i.CustomerId WHERE c.Country = 'USA' \
         AND i.InvoiceDate >= '2024-01-01' AND i.InvoiceDate < '2025-01-01' GROUP BY c.City",
    );
    // a verb between: the customers among the revenue's rows (they had been listed)
    let (_, sql) = asked(&f, "how many customers had revenue in 2024");
    same(
        &f,
        &sql,
        "SELECT COUNT(DISTINCT CustomerId) FROM Invoice \
         WHERE InvoiceDate >= '2024-01-01' AND InvoiceDate < '2025-01-01'",
    );
    // counted, but neither joined to the metric nor its rows: refused, not dropped
    refused(&f, "number of customers in each country ranked by revenue");
    // the entity a member qualifies is what is counted, per the breakdown (the albums had been
    // counted); lower-case words after "we" are a verb, not the album "Carry On"
    let (_, sql) = asked(
        &f,
        "How many Iron Maiden tracks do we carry on each of their albums?",
    );
    same(
        &f,
        &sql,
        "SELECT a.Title, COUNT(*) FROM Track t JOIN Album a ON a.AlbumId = t.AlbumId \
         JOIN Artist ar ON ar.ArtistId = a.ArtistId WHERE ar.Name = 'Iron Maiden' \
         GROUP BY a.AlbumId",
    );
}

#[test]
fn several_figures_for_members_compared_are_a_row_per_member() {
    let f = chinook();
    // the count of customers had been left for all countries beside a column per country
    let (q, sql) = asked(&f, "USA vs Canada: number of customers and total spend?");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT c.Country, (SELECT SUM(il.UnitPrice * il.Quantity) FROM InvoiceLine il \
         JOIN Invoice i ON i.InvoiceId = il.InvoiceId JOIN Customer c2 \
         ON c2.CustomerId = i.CustomerId WHERE c2.Country = c.Country), COUNT(*) \
         FROM Customer c WHERE c.Country IN ('USA', 'Canada') GROUP BY c.Country",
    );
    // one figure: as before
    let (q, _) = asked(&f, "Rock vs Metal revenue in 2024");
    assert_eq!(q.figure_count(), 1, "{q:?}");
}

#[test]
fn a_share_asked_beside_its_figure_shows_both() {
    let f = chinook();
    // "that year's" says the period again; "each country" the billing country again
    let (q, sql) = asked(
        &f,
        "What were total invoiced sales by billing country in 2024, and what share of that \
         year's sales did each country represent?",
    );
    assert!(q.share_with_figure, "{q:?}");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT BillingCountry, SUM(Total), 100.0 * SUM(Total) / (SELECT SUM(Total) FROM \
         Invoice WHERE InvoiceDate LIKE '2024%') FROM Invoice WHERE InvoiceDate LIKE '2024%' \
         GROUP BY BillingCountry",
    );
    // the share alone when only the share is asked
    let (q, _) = asked(&f, "What share of 2024 revenue came from each media type?");
    assert!(!q.share_with_figure, "{q:?}");
}

#[test]
fn the_instances_a_list_asks_for_are_the_breakdown_and_counted_where_one_row_each() {
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO stores (store_id, store_name, zone, store_format) VALUES \
         ('S1', 'One', 'South', 'Express');",
    );
    let read = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, sql, .. } => (query, sql),
        Outcome::Refused { reason, unread, .. } => panic!("{q}: refused: {reason} {unread:?}"),
    };
    // the stores listed, not their square feet summed by city
    let (q, _) =
        read("List our Express stores in the South zone with their city and square footage.");
    assert_eq!(
        q.group_by.first(),
        Some(&GroupBy::Entity {
            name: "store".into()
        }),
        "{q:?}"
    );
    // the products counted on the elasticity's rows (one per product), not among those sold
    let (_, sql) = read("How many highly elastic items do we have in each category?");
    assert!(sql.contains("FROM elasticity"), "{sql}");
}

#[test]
fn who_did_it_the_most_names_the_dimension_of_the_doer_and_counts_the_rows() {
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO price_changes (id, change_date, approved_by, change_percent) \
         VALUES (1, '2024-03-01', 'Ann', 5.0);",
    );
    let read = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, sql, .. } => (query, sql),
        Outcome::Refused { reason, unread, .. } => panic!("{q}: refused: {reason} {unread:?}"),
    };
    // "who approved": the dimension approved_by; "the most price increases": their number; one
    // person (the reader had refused "who" before a verb)
    let (q, _) = read("who approved the most price increases in 2024");
    assert_eq!(q.group_by.len(), 1, "{q:?}");
    assert!(q.entity_count.is_some(), "{q:?}");
    assert_eq!(q.limit, Some(1), "{q:?}");
    // a named filter between the verb and the metric: the stores among its rows
    let (q, _) = read("how many stores had promo sales in dec 2024");
    assert!(
        q.entity_count
            .as_ref()
            .is_some_and(|e| e.entity == "store" && e.through.is_some()),
        "{q:?}"
    );
}

#[test]
fn a_hash_before_a_word_counts_it_on_its_own_rows() {
    let f = chinook();
    // "#" is "number"; the invoices are counted on their own table, not their lines
    let (_, sql) = asked(&f, "# invoices per month in 2024");
    assert!(!sql.contains("InvoiceLine"), "{sql}");
    same(
        &f,
        &sql,
        "SELECT substr(InvoiceDate, 1, 7), COUNT(*) FROM Invoice \
         WHERE InvoiceDate LIKE '2024%' GROUP BY 1",
    );
}

#[test]
fn details_of_the_ranked_instances_are_shown_not_ranked_within() {
    let f = chinook();
    // "on each" at the end stands for the albums ranked: the three albums, each with its
    // artist (it had ranked three albums within every artist)
    let (q, sql) = asked(
        &f,
        "What are the three albums that have brought in the most sales revenue, and who is the \
         artist on each?",
    );
    assert_eq!(q.derived, None, "{q:?}");
    assert_eq!(q.limit, Some(3), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT a.Title, ar.Name, SUM(il.UnitPrice * il.Quantity) AS r FROM InvoiceLine il \
         JOIN Track t ON t.TrackId = il.TrackId JOIN Album a ON a.AlbumId = t.AlbumId \
         JOIN Artist ar ON ar.ArtistId = a.ArtistId GROUP BY a.AlbumId ORDER BY r DESC LIMIT 3",
    );
    // a detail that is no attribute of the instance is still a breakdown: refused, not ranked
    refused(&f, "top 3 albums by revenue by country");
}

#[test]
fn a_share_of_a_qualified_metric_that_came_from_a_named_filter_takes_the_filter_as_part() {
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO products (upc_code, product_name, category_level_1, category_level_2, brand)
         VALUES ('1', 'Beans', 'Grocery', 'Coffee', 'Acme');",
    );
    let read = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, unread, .. } => panic!("{q}: refused: {reason} {unread:?}"),
    };
    // the Coffee revenue is the whole, the weeks on promotion the part (it had read Coffee's
    // share of the promoted revenue)
    for question in [
        "How much of our Coffee revenue in 2024 came from weeks when the item was on promotion, \
         as a percentage?",
        "What share of Coffee revenue came from promotions in 2024?",
    ] {
        let q = read(question);
        assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
        assert!(
            matches!(&q.columns[0].slice, Some(Slice::Named { .. })),
            "{question}: {q:?}"
        );
        assert!(
            matches!(&q.filters[..], [Filter::Members { values, .. }] if values == &["Coffee"]),
            "{question}: {q:?}"
        );
    }
    // the member named after the verb is the part
    let q = read("What share of promoted revenue came from Coffee in 2024?");
    assert!(
        matches!(&q.columns[0].slice, Some(Slice::Member { .. })),
        "{q:?}"
    );
}

#[test]
fn classing_verbs_number_words_possessive_periods_and_clipped_grains_are_read() {
    let f = chinook();
    // "more than one of": a number, not a pronoun
    let (q, _) = asked(&f, "Which cities have more than one of our customers?");
    assert_eq!(q.having.as_ref().map(|h| h.value), Some(1.0), "{q:?}");
    // "each year's revenue": the years
    let (q, _) = asked(
        &f,
        "What percentage of each year's revenue came from customers in the USA?",
    );
    assert_eq!(q.time_grain, Some(model::Grain::Year), "{q:?}");
    // "the year's total" after "in 2025": the period said again
    let (q, _) = asked(
        &f,
        "How much revenue did each support rep's customers generate in 2025, and what share of \
         the year's total is that?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfTotal), "{q:?}");
    let (_dir, schema, values, layer) = retail_layer(
        "INSERT INTO products (upc_code, product_name, category_level_1, category_level_2, brand)
         VALUES ('1', 'Peas', 'Frozen', 'Frozen Food', 'Acme');
         INSERT INTO elasticity (upc_code, elasticity_category) VALUES ('1', 'Highly Elastic');",
    );
    let read = |q: &str| match layer.answer(q, &schema, &values, Dialect::Sqlite) {
        Outcome::Compiled { query, .. } => query,
        Outcome::Refused { reason, unread, .. } => panic!("{q}: refused: {reason} {unread:?}"),
    };
    // "rated": how an instance is classed
    let q = read("Which brands have more than 5 products rated Highly Elastic?");
    assert!(q.entity_count.is_some() && q.having.is_some(), "{q:?}");
    // "my": the asker's; "which brand makes each": a detail of the products ranked
    let q = read("I manage Frozen Food - what were my 10 biggest products by revenue in 2024, and which brand makes each?");
    assert_eq!(q.limit, Some(10), "{q:?}");
    assert_eq!(q.derived, None, "{q:?}");
    // "gross margin rate": the percent (a curated synonym)
    let q = read("Which category had the weakest gross margin rate in 2024?");
    assert_eq!(q.columns[0].metric, "gross_margin_pct", "{q:?}");
}

#[test]
fn a_part_asked_with_its_share_two_digit_years_compared_and_a_change_in_dollars() {
    let f = chinook();
    // "how much ... came from ... and what percent": the part's figure beside its share
    let (q, sql) = asked(
        &f,
        "For each year, how much revenue came from customers in the USA and what percent of \
         that year's total revenue was it?",
    );
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    assert!(q.share_with_figure, "{q:?}");
    same(
        &f,
        &sql,
        "SELECT substr(InvoiceDate, 1, 4), \
         SUM(CASE WHEN BillingCountry = 'USA' THEN Total ELSE 0 END), \
         100.0 * SUM(CASE WHEN BillingCountry = 'USA' THEN Total ELSE 0 END) / SUM(Total) \
         FROM Invoice GROUP BY 1",
    );
    // "24 vs 25": two years
    let (q, _) = asked(&f, "rev growth by genre, 24 vs 25");
    assert_eq!(q.derived, Some(Derived::PeriodGrowth), "{q:?}");
    assert_eq!(q.columns.len(), 2, "{q:?}");
    // "in dollars and in percent": the change in dollars beside the growth
    let (q, _) = asked(
        &f,
        "By how much did total revenue grow from 2021 to 2025, in dollars and in percent?",
    );
    assert_eq!(q.derived, Some(Derived::PeriodDifference), "{q:?}");
}

#[test]
fn a_country_named_by_another_of_its_names_is_the_stored_member() {
    let f = chinook();
    // "the US" is the stored "USA" (it had been dropped, or refused); "us" is the asker
    let (q, sql) = asked(&f, "what % of revenue comes from the US?");
    assert_eq!(q.derived, Some(Derived::ShareOfWhole), "{q:?}");
    same(
        &f,
        &sql,
        "SELECT 100.0 * SUM(CASE WHEN BillingCountry = 'USA' THEN Total ELSE 0 END) / SUM(Total) \
         FROM Invoice",
    );
    let (q, _) = asked(&f, "show us revenue by genre for 2024");
    assert!(q.filters.is_empty(), "{q:?}");
}
