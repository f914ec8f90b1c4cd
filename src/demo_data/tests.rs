//! Tests of the generator against the contract, on real generated SQLite files.
//!
//! Generating scale 1 takes a few seconds, so the read-only checks share one database written
//! once per test process to a fixed path in the temporary directory (overwritten atomically
//! by every run, so it never goes stale and never accumulates); tests that need their own file
//! write it in their own temporary directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use super::*;

/// The shared scale-1 database.
fn shared() -> &'static Path {
    static SHARED: OnceLock<PathBuf> = OnceLock::new();
    SHARED.get_or_init(|| {
        let path = std::env::temp_dir()
            .join("querent-demo-data-tests")
            .join("retail.sqlite");
        generate(&path, 1).expect("the scale-1 demo database is generated");
        path
    })
}

fn open(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("the database opens")
}

fn one<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn strings(conn: &Connection, sql: &str) -> BTreeSet<String> {
    let mut stmt = conn.prepare(sql).expect("the query prepares");
    let rows = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .expect("the query runs");
    rows.map(|r| r.expect("a text value")).collect()
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// SHA-256 over every table's rows in primary-key order, each value tagged with its type.
fn content_digest(path: &Path) -> String {
    let conn = open(path);
    let mut hasher = Sha256::new();
    let tables = [
        ("products", "upc_code"),
        ("stores", "store_id"),
        ("pricing", "id"),
        ("elasticity", "id"),
        ("competitive_pricing", "id"),
        ("sales_data", "id"),
        ("margin_analysis", "id"),
        ("price_changes", "id"),
    ];
    for (table, key) in tables {
        hasher.update(table.as_bytes());
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {key}"))
            .expect("select");
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).expect("query");
        while let Some(row) = rows.next().expect("row") {
            for i in 0..columns {
                match row.get_ref(i).expect("value") {
                    ValueRef::Null => hasher.update([0]),
                    ValueRef::Integer(v) => {
                        hasher.update([1]);
                        hasher.update(v.to_le_bytes());
                    }
                    ValueRef::Real(v) => {
                        hasher.update([2]);
                        hasher.update(v.to_bits().to_le_bytes());
                    }
                    ValueRef::Text(v) | ValueRef::Blob(v) => {
                        hasher.update([3]);
                        hasher.update((v.len() as u64).to_le_bytes());
                        hasher.update(v);
                    }
                }
            }
        }
    }
    hex::encode(hasher.finalize())
}

#[test]
fn generating_twice_gives_identical_content() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = generate(&dir.path().join("a.sqlite"), 1).expect("first run");
    let second = generate(&dir.path().join("nested/deeper/b.sqlite"), 1).expect("second run");
    assert_eq!(first.sales_rows, second.sales_rows);
    assert_eq!(content_digest(&first.path), content_digest(&second.path));
    // Only the two databases are left: no temporary file survives a run.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("listing")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn the_database_holds_the_contracts_spellings_and_counts() {
    let path = shared();
    let conn = open(path);
    let bytes = std::fs::metadata(path).expect("metadata").len();
    assert!(bytes < 60_000_000, "file is {bytes} bytes");

    let categories = strings(&conn, "SELECT DISTINCT category_level_2 FROM products");
    let required = set(&[
        "Frozen Food",
        "Ice Cream",
        "Dairy",
        "Snacks",
        "Beverages",
        "Bakery",
        "Produce",
        "Meat",
        "Cereal",
        "Coffee",
    ]);
    assert!(
        categories.is_superset(&required),
        "categories: {categories:?}"
    );
    assert_eq!(
        strings(&conn, "SELECT DISTINCT category_level_1 FROM products"),
        set(&["Frozen", "Grocery", "Fresh", "Dairy"])
    );
    assert!(one::<i64>(&conn, "SELECT COUNT(*) FROM products") >= 400);
    assert!(one::<i64>(&conn, "SELECT COUNT(DISTINCT brand) FROM products") >= 30);
    assert_eq!(
        strings(&conn, "SELECT DISTINCT unit_of_measure FROM products"),
        set(&["oz", "lb", "ct", "fl oz", "gal"])
    );
    let upcs = strings(&conn, "SELECT upc_code FROM products");
    for upc in &upcs {
        assert_eq!(
            catalog::upc_a(
                upc[1..6].parse().expect("digits"),
                upc[6..11].parse().expect("digits")
            ),
            *upc
        );
    }

    assert!(one::<i64>(&conn, "SELECT COUNT(*) FROM stores") >= 40);
    assert_eq!(
        strings(&conn, "SELECT DISTINCT zone FROM stores"),
        set(&["North", "South", "East", "West", "Central"])
    );
    assert_eq!(
        strings(&conn, "SELECT DISTINCT store_format FROM stores"),
        set(&["Supercenter", "Neighborhood", "Express"])
    );
    assert_eq!(
        one::<i64>(
            &conn,
            "SELECT COUNT(*) FROM stores WHERE length(state) <> 2"
        ),
        0
    );

    assert_eq!(
        strings(
            &conn,
            "SELECT DISTINCT competitor_name FROM competitive_pricing"
        ),
        set(&["Walmart", "Target", "Kroger", "Costco", "Aldi"])
    );
    assert_eq!(
        strings(&conn, "SELECT DISTINCT change_reason FROM price_changes"),
        set(&[
            "Cost Increase",
            "Competitive Response",
            "Promotion",
            "Clearance",
            "Elasticity Optimization"
        ])
    );
    assert_eq!(
        strings(&conn, "SELECT DISTINCT pricing_strategy FROM pricing"),
        set(&["EDLP", "High-Low", "Premium", "Competitive"])
    );

    let sales: i64 = one(&conn, "SELECT COUNT(*) FROM sales_data");
    assert!((100_000..=400_000).contains(&sales), "{sales} sales rows");
    assert_eq!(
        one::<String>(&conn, "SELECT MIN(sale_date) FROM sales_data"),
        "2023-01-02"
    );
    assert_eq!(
        one::<String>(&conn, "SELECT MAX(sale_date) FROM sales_data"),
        "2024-12-30"
    );
    assert_eq!(
        one::<i64>(&conn, "SELECT COUNT(DISTINCT sale_date) FROM sales_data"),
        105
    );
    assert_eq!(
        one::<i64>(
            &conn,
            "SELECT COUNT(*) FROM sales_data WHERE strftime('%w', sale_date) <> '1'"
        ),
        0
    );
    assert_eq!(one::<i64>(&conn, "SELECT COUNT(*) FROM sales_data WHERE abs(revenue - units_sold * avg_selling_price) > 0.006"), 0);

    let periods = strings(&conn, "SELECT DISTINCT period FROM margin_analysis");
    assert_eq!(periods.len(), 24);
    assert_eq!(periods.first().map(String::as_str), Some("2023-01"));
    assert_eq!(periods.last().map(String::as_str), Some("2024-12"));
    assert_eq!(one::<i64>(&conn, "SELECT COUNT(*) FROM margin_analysis WHERE abs(gross_margin - (revenue - cost_of_goods)) > 0.011"), 0);
    for (table, column) in [
        ("pricing", "price_date"),
        ("price_changes", "change_date"),
        ("competitive_pricing", "observation_date"),
    ] {
        let low: String = one(&conn, &format!("SELECT MIN({column}) FROM {table}"));
        let high: String = one(&conn, &format!("SELECT MAX({column}) FROM {table}"));
        assert!(
            low.as_str() >= "2023-01-01" && low.as_str() < "2023-02-01",
            "{table} starts {low}"
        );
        assert!(
            high.as_str() >= "2024-10-01" && high.as_str() <= "2024-12-31",
            "{table} ends {high}"
        );
    }
    assert_eq!(
        one::<i64>(&conn, "SELECT COUNT(*) FROM competitive_pricing WHERE abs(price_gap - (our_price - competitor_price)) > 0.011"),
        0
    );
    assert_eq!(
        one::<i64>(&conn, "SELECT COUNT(*) FROM pragma_foreign_key_check"),
        0,
        "dangling references"
    );
}

#[test]
fn ice_cream_peaks_in_summer_and_coffee_in_winter() {
    let conn = open(shared());
    let units = |category: &str, months: &str| -> i64 {
        one(
            &conn,
            &format!(
                "SELECT SUM(s.units_sold) FROM sales_data s JOIN products p ON p.upc_code = s.upc_code \
                 WHERE p.category_level_2 = '{category}' AND substr(s.sale_date, 6, 2) IN ({months})"
            ),
        )
    };
    let summer = "'06', '07', '08'";
    let winter = "'12', '01', '02'";
    assert!(units("Ice Cream", summer) as f64 > 1.5 * units("Ice Cream", winter) as f64);
    assert!(units("Coffee", winter) as f64 > 1.2 * units("Coffee", summer) as f64);
}

/// Per product, average units in promoted and regular weeks: (elasticity, promoted, regular).
fn promotion_averages(conn: &Connection) -> Vec<(f64, f64, f64)> {
    let mut stmt = conn
        .prepare(
            "SELECT e.elasticity_value, \
                    AVG(CASE WHEN s.promotion_flag = 1 THEN s.units_sold END), \
                    AVG(CASE WHEN s.promotion_flag = 0 THEN s.units_sold END) \
             FROM sales_data s JOIN elasticity e ON e.upc_code = s.upc_code \
             GROUP BY s.upc_code \
             HAVING SUM(s.promotion_flag = 1) >= 5 AND SUM(s.promotion_flag = 0) >= 20",
        )
        .expect("prepare");
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

#[test]
fn promotion_weeks_sell_more_units_than_regular_weeks_of_the_same_products() {
    let averages = promotion_averages(&open(shared()));
    assert!(
        averages.len() >= 200,
        "only {} products with both kinds of weeks",
        averages.len()
    );
    let lifted = averages
        .iter()
        .filter(|(_, promoted, regular)| promoted > regular)
        .count();
    assert!(
        lifted as f64 >= 0.9 * averages.len() as f64,
        "{lifted} of {} products lifted",
        averages.len()
    );
}

#[test]
fn elastic_products_react_more_to_promotions_than_inelastic_ones() {
    let averages = promotion_averages(&open(shared()));
    let mean_lift = |keep: &dyn Fn(f64) -> bool| {
        let lifts: Vec<f64> = averages
            .iter()
            .filter(|(e, _, _)| keep(*e))
            .map(|(_, p, r)| p / r)
            .collect();
        lifts.iter().sum::<f64>() / lifts.len().max(1) as f64
    };
    let highly_elastic = mean_lift(&|e| e < -2.0);
    let inelastic = mean_lift(&|e| e >= -1.0);
    assert!(
        highly_elastic > inelastic + 0.2,
        "lift {highly_elastic:.2} vs {inelastic:.2}"
    );
}

#[test]
fn elasticity_categories_agree_with_their_thresholds() {
    let conn = open(shared());
    assert_eq!(
        one::<i64>(&conn, "SELECT COUNT(*) FROM products"),
        one::<i64>(&conn, "SELECT COUNT(DISTINCT upc_code) FROM elasticity")
    );
    assert_eq!(
        one::<i64>(&conn, "SELECT COUNT(*) FROM products"),
        one::<i64>(&conn, "SELECT COUNT(*) FROM elasticity")
    );
    let mismatched: i64 = one(
        &conn,
        "SELECT COUNT(*) FROM elasticity WHERE elasticity_category <> CASE \
           WHEN elasticity_value < -2 THEN 'Highly Elastic' \
           WHEN elasticity_value < -1 THEN 'Elastic' ELSE 'Inelastic' END",
    );
    assert_eq!(mismatched, 0);
    assert_eq!(
        strings(&conn, "SELECT DISTINCT elasticity_category FROM elasticity"),
        set(&["Highly Elastic", "Elastic", "Inelastic"])
    );
    assert_eq!(
        one::<i64>(
            &conn,
            "SELECT COUNT(*) FROM elasticity e JOIN products p ON p.upc_code = e.upc_code \
             WHERE e.category_level_2 <> p.category_level_2"
        ),
        0
    );
}

#[test]
fn a_few_price_outliers_stand_out_from_the_base_prices() {
    let conn = open(shared());
    let outliers: i64 = one(
        &conn,
        "SELECT COUNT(*) FROM sales_data s JOIN products p ON p.upc_code = s.upc_code \
         WHERE s.avg_selling_price > 5 * p.base_price OR s.avg_selling_price < p.base_price / 5",
    );
    assert!(
        (1..=50).contains(&outliers),
        "{outliers} outlying sales prices"
    );
}

#[test]
fn scale_zero_is_rejected_with_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("retail.sqlite");
    let error = generate(&path, 0).expect_err("scale 0 must fail");
    assert!(matches!(
        error.downcast_ref::<DemoDataError>(),
        Some(DemoDataError::InvalidScale {
            scale: 0,
            max: MAX_SCALE
        })
    ));
    assert!(!path.exists());
    assert!(generate(&path, MAX_SCALE + 1).is_err());
}

#[test]
fn ensure_leaves_an_existing_file_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("retail.sqlite");
    std::fs::write(&path, b"not replaced").expect("write");
    assert_eq!(ensure(&path).expect("ensure"), None);
    assert_eq!(std::fs::read(&path).expect("read"), b"not replaced");
}

#[test]
fn ensure_writes_the_default_database_when_none_exists() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data").join("retail.sqlite");
    let stats = ensure(&path).expect("ensure").expect("a new database");
    assert_eq!(stats.path, path);
    assert_eq!(stats.stores, 40);
    assert_eq!(
        stats.bytes,
        std::fs::metadata(&path).expect("metadata").len()
    );
    let rows: i64 = one(&open(&path), "SELECT COUNT(*) FROM sales_data");
    assert_eq!(stats.sales_rows, rows as u64);
}
