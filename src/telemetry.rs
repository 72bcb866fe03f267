//! Logging: tracing-subscriber to stderr, `pretty` or `json`, filtered by `RUST_LOG` or `--log-level`.

use tracing_subscriber::EnvFilter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Install the global subscriber (once; later calls are ignored).
pub fn init(format: LogFormat, level: Option<&str>) {
    let filter = match (
        std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()),
        level,
    ) {
        (Some(env), _) => EnvFilter::try_new(env),
        (None, Some(level)) => EnvFilter::try_new(level),
        (None, None) => EnvFilter::try_new("info"),
    }
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
