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

/// The filter when neither `RUST_LOG` nor `--log-level` is given: certwatch's own messages at
/// `info`, its dependencies' only from `warn` (their start-up chatter, e.g. the scheduler's
/// "Uninited", is noise to an operator). `--log-level debug` shows everything.
pub const DEFAULT_FILTER: &str = "warn,certwatch=info";

/// The filter directive in force: `RUST_LOG` when set and not empty, else `--log-level`, else
/// `DEFAULT_FILTER`.
pub fn directive(rust_log: Option<&str>, level: Option<&str>) -> String {
    rust_log
        .filter(|v| !v.is_empty())
        .or(level)
        .unwrap_or(DEFAULT_FILTER)
        .to_string()
}

/// Install the global subscriber (once; later calls are ignored).
pub fn init(format: LogFormat, level: Option<&str>) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = EnvFilter::try_new(directive(rust_log.as_deref(), level))
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Whether an event at `level` from `target` passes `directive`.
    fn passes(directive: &str, target: &str, level: Level) -> bool {
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let seen = seen.clone();
            move || {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                std::io::sink()
            }
        };
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(directive))
            .with(tracing_subscriber::fmt::layer().with_writer(writer));
        tracing::subscriber::with_default(subscriber, || match (target, level) {
            ("tokio_cron_scheduler::job_scheduler", Level::INFO) => {
                tracing::info!(target: "tokio_cron_scheduler::job_scheduler", "Uninited")
            }
            ("tokio_cron_scheduler::job_scheduler", _) => {
                tracing::warn!(target: "tokio_cron_scheduler::job_scheduler", "w")
            }
            ("certwatch::app", _) => tracing::info!(target: "certwatch::app", "poll complete"),
            _ => unreachable!(),
        });
        seen.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn dependency_chatter_is_filtered_unless_asked_for() {
        let default = directive(None, None);
        assert!(passes(&default, "certwatch::app", Level::INFO));
        assert!(!passes(
            &default,
            "tokio_cron_scheduler::job_scheduler",
            Level::INFO
        ));
        assert!(passes(
            &default,
            "tokio_cron_scheduler::job_scheduler",
            Level::WARN
        ));
        let debug = directive(None, Some("debug"));
        assert!(passes(
            &debug,
            "tokio_cron_scheduler::job_scheduler",
            Level::INFO
        ));
        // RUST_LOG wins over --log-level; an empty RUST_LOG does not count.
        assert_eq!(directive(Some("trace"), Some("warn")), "trace");
        assert_eq!(directive(Some(""), Some("warn")), "warn");
    }
}
