//! The daemon's life: build the app, serve and poll until a signal; on SIGHUP with a valid new
//! configuration, stop and start again on it, keeping the last snapshot. Used by `certwatch run`
//! and `certwatch demo`.

use crate::app::App;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::inventory::Snapshot;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Exit status when the app cannot be built from the configuration (docs/cli.md).
const EXIT_CONFIG: u8 = 3;
/// Exit status when the listener cannot be bound or serving fails.
const EXIT_FAILED: u8 = 1;

/// What a SIGHUP re-reads: the config path (`None`: the default) and the `--listen` override.
pub type Reload = (Option<PathBuf>, Option<SocketAddr>);

/// Run the daemon until SIGINT/SIGTERM; the exit status. With `reload`, SIGHUP re-reads the
/// configuration: a valid one replaces the running daemon (the last snapshot is kept, so
/// metrics and readiness do not reset); an invalid one is rejected with a log line and the old
/// configuration keeps running.
pub async fn run(c: Config, reload: Option<Reload>) -> u8 {
    let mut config = c;
    let mut previous: Option<Arc<Snapshot>> = None;
    loop {
        let listener = match bind(config.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("certwatch: cannot listen on {}: {e}", config.listen);
                return EXIT_FAILED;
            }
        };
        let app = match App::build(config.clone(), Arc::new(SystemClock)).and_then(App::with_alerts)
        {
            Ok(app) => Arc::new(app),
            Err(e) => {
                eprintln!("certwatch: {e:#}");
                return EXIT_CONFIG;
            }
        };
        if let Some(snapshot) = previous.take() {
            app.restore(&snapshot);
        }
        let next: Arc<Mutex<Option<Config>>> = Arc::default();
        let stop = crate::shutdown::stop_or_reload(reload.clone(), next.clone());
        if let Err(e) = app.clone().run(listener, stop).await {
            eprintln!("certwatch: {e:#}");
            return EXIT_FAILED;
        }
        match next.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(new) => {
                tracing::info!("configuration reloaded");
                previous = Some(app.snapshot());
                config = new;
            }
            None => return 0,
        }
    }
}

/// Bind, retrying briefly: after a reload the previous listener may take a moment to close.
async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let mut attempt = 0;
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if attempt < 20 && e.kind() == std::io::ErrorKind::AddrInUse => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
