//! The HTTP server: OpenAPI routes and web pages over the engine.

pub mod pages;
