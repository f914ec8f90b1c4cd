//! The log: tracing to standard error, as text (colours only when standard error is a
//! terminal and `NO_COLOR` is unset) or as JSON lines with `QUERENT_LOG_FORMAT=json`. The filter
//! is `QUERENT_LOG` (tracing's syntax). Each line of a request carries its `request_id`
//! (the request's span, see [`crate::server::ops`]).

use std::io::IsTerminal;

/// The default filter: querent's own info, everyone else's warnings.
pub const DEFAULT_FILTER: &str = "querent=info,warn,qdrant_edge=error";

/// Installs the global subscriber; call once, first thing.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUERENT_LOG")
        .unwrap_or_else(|_| DEFAULT_FILTER.into());
    let json = std::env::var("QUERENT_LOG_FORMAT")
        .map(|v| v.trim().eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        builder.with_ansi(colour).init();
    }
}
