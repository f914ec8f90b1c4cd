//! The pipeline: one function per stage call.
pub struct Engine;
