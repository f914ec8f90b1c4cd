//! The pattern engine (placeholder until its module lands).
