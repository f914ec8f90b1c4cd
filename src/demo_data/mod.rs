//! The demo retail database generator.
