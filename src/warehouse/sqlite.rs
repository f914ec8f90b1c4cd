//! SQLite warehouse (placeholder).
pub struct SqliteWarehouse;
