//! Log output: JSON for machines or pretty for people, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::json_log::{JsonLine, SpanMembers};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line, with the request span's fields.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Installs the global subscriber. `RUST_LOG` overrides the default level.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // tracing-subscriber's JSON line, written without its round trips through
        // `serde_json::Value` (json_log.rs).
        LogFormat::Json => builder
            .fmt_fields(SpanMembers)
            .event_format(JsonLine)
            .init(),
        LogFormat::Pretty => builder.compact().init(),
    }
}
