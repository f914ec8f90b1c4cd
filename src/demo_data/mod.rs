//! The demo retail database generator: writes the SQLite database described by the contract
//! `data/retail_schema.sql` (products, stores, pricing, elasticity, competitive pricing, weekly
//! sales, monthly margins, price changes over 2023-2024), deterministically from a fixed seed.
//!
//! The whole public surface is [`generate`] (write a database at a scale) and [`ensure`] (write
//! the default one only when missing), both atomic: rows go to a temporary file next to the
//! target, which is renamed into place only once complete. Inside, `calendar` owns weeks and
//! months, `catalog` the master data and assortment, `prices` the price histories, and
//! `writer` the demand model and the inserts. The tables are created by running the
//! contract's own DDL, so they match it exactly.

mod calendar;
mod catalog;
mod draw;
mod prices;
mod writer;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use rusqlite::Connection;
use thiserror::Error;

/// The contract: the DDL of the eight tables and, in its closing comment, what the data holds.
const SCHEMA_SQL: &str = include_str!("../../data/retail_schema.sql");

/// Indexes created after loading (cheaper than maintaining them during the inserts): the keys
/// analysts filter and join on (UPC, store, dates, periods) and the catalogue's categories.
/// `sales_data` has no index of its own on `sale_date`: with the statistics of `ANALYZE`, SQLite
/// skip-scans `(store_id, sale_date)` for date ranges (40 stores), and the separate index would
/// cost 10% of the file.
const INDEXES_SQL: &str = "
CREATE INDEX idx_products_category ON products (category_level_2);
CREATE INDEX idx_products_brand ON products (brand);
CREATE INDEX idx_stores_zone ON stores (zone);
CREATE INDEX idx_pricing_upc_date ON pricing (upc_code, price_date);
CREATE INDEX idx_pricing_store ON pricing (store_id);
CREATE INDEX idx_elasticity_upc ON elasticity (upc_code);
CREATE INDEX idx_competitive_upc_date ON competitive_pricing (upc_code, observation_date);
CREATE INDEX idx_sales_upc_date ON sales_data (upc_code, sale_date);
CREATE INDEX idx_sales_store_date ON sales_data (store_id, sale_date);
CREATE INDEX idx_margin_upc_period ON margin_analysis (upc_code, period);
CREATE INDEX idx_margin_store_period ON margin_analysis (store_id, period);
CREATE INDEX idx_changes_upc_date ON price_changes (upc_code, change_date);
CREATE INDEX idx_changes_store ON price_changes (store_id);
ANALYZE;
";

/// The seed of every random stream: the same scale always gives the same rows.
pub const SEED: u64 = 20_230_102;
/// The scale of the default demo database (40 stores, about 250,000 weekly sales rows).
pub const DEFAULT_SCALE: u32 = 1;
/// The largest accepted scale (4,000 stores, about 25 million sales rows, a few GB).
pub const MAX_SCALE: u32 = 100;

/// Errors of the generator that are the caller's fault.
#[derive(Debug, Error)]
pub enum DemoDataError {
    /// The scale is outside `1..=MAX_SCALE`.
    #[error("scale must be between 1 and {max}, got {scale}")]
    InvalidScale { scale: u32, max: u32 },
    /// The target path has no file name (it ends in `..` or is a root).
    #[error("'{}' does not name a file", .0.display())]
    NotAFile(PathBuf),
}

/// Summary of a generated database.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DemoStats {
    /// Where the database was written.
    pub path: PathBuf,
    /// Rows of `products`.
    pub products: u64,
    /// Rows of `stores` (40 per scale unit).
    pub stores: u64,
    /// Rows of `sales_data`.
    pub sales_rows: u64,
    /// Size of the database file in bytes.
    pub bytes: u64,
}

/// Writes the demo database to `path` (parent directories created), atomically.
///
/// `scale` multiplies the stores (40 per unit) and with them every per-store table; the
/// catalogue (420 products) and the two years of weeks stay fixed. An existing file at `path`
/// is replaced only once the new database is complete; an interrupted run leaves it untouched
/// (and at most a hidden `.NAME.PID.N.tmp` file next to it, removed on error).
///
/// # Errors
/// [`DemoDataError::InvalidScale`] unless `1 <= scale <= MAX_SCALE`;
/// [`DemoDataError::NotAFile`] when `path` has no file name; I/O and SQLite errors otherwise.
pub fn generate(path: &Path, scale: u32) -> anyhow::Result<DemoStats> {
    if scale == 0 || scale > MAX_SCALE {
        return Err(DemoDataError::InvalidScale {
            scale,
            max: MAX_SCALE,
        }
        .into());
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| DemoDataError::NotAFile(path.to_path_buf()))?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent)
        .with_context(|| format!("creating directory {}", parent.display()))?;

    static RUN: AtomicU64 = AtomicU64::new(0);
    let mut temp = TempFile {
        path: parent.join(format!(
            ".{}.{}.{}.tmp",
            file_name.to_string_lossy(),
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        )),
        keep: false,
    };
    let counts = write_database(&temp.path, scale as usize)
        .with_context(|| format!("writing the demo database to {}", temp.path.display()))?;
    // The connection ran without a journal or syncs (the file is private until renamed), so
    // flush it now: the rename must never publish a file whose pages are still in flight.
    File::open(&temp.path)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("syncing {}", temp.path.display()))?;
    fs::rename(&temp.path, path)
        .with_context(|| format!("moving the demo database to {}", path.display()))?;
    temp.keep = true;
    // Persist the rename itself; directories cannot be opened for syncing on every platform.
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
    let bytes = fs::metadata(path)
        .with_context(|| format!("reading the size of {}", path.display()))?
        .len();
    Ok(DemoStats {
        path: path.to_path_buf(),
        products: counts.products,
        stores: counts.stores,
        sales_rows: counts.sales_rows,
        bytes,
    })
}

/// Generates the database at `path` (at [`DEFAULT_SCALE`]) only when no file is there yet.
///
/// Returns `None` when the file already exists (its content is not checked).
///
/// # Errors
/// As [`generate`], and when the existence of `path` cannot be checked.
pub fn ensure(path: &Path) -> anyhow::Result<Option<DemoStats>> {
    if path
        .try_exists()
        .with_context(|| format!("checking {}", path.display()))?
    {
        return Ok(None);
    }
    generate(path, DEFAULT_SCALE).map(Some)
}

/// A temporary file removed when dropped (on error or panic) unless `keep` is set (renamed).
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Creates the schema, writes every table and the indexes into a fresh file at `path`.
fn write_database(path: &Path, scale: usize) -> anyhow::Result<writer::Counts> {
    if path.exists() {
        fs::remove_file(path)?;
    }
    let mut conn = Connection::open(path)?;
    // Private file until renamed: no rollback journal, no syncs (done once at the end).
    conn.pragma_update(None, "journal_mode", "OFF")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.execute_batch(SCHEMA_SQL)
        .context("creating the contract's tables")?;
    let counts = writer::write_all(&mut conn, scale)?;
    conn.execute_batch(INDEXES_SQL)
        .context("creating indexes")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(counts)
}

#[cfg(test)]
mod tests;
