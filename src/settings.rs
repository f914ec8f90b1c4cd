//! The one typed configuration.
pub struct Settings;
