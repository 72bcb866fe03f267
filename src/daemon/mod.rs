//! The daemon's life: build the app, serve and poll until SIGINT/SIGTERM. Used by `certwatch
//! run` and `certwatch demo` (docs/cli.md).
//!
//! A reload (SIGHUP, docs/configuration.md) is all or nothing: the new configuration is read
//! and validated, then its replacement is built in full — the state directory checked, the app
//! and its alert channels built, the listener bound (or the running one kept when the address
//! is unchanged), the TLS certificate loaded — before the running app is touched. Only then is
//! the running app stopped and the new one started on the last snapshot, so metrics and
//! readiness do not reset. Any failure keeps the running app as it was, logs why and counts
//! `certwatch_config_reloads_total{outcome="failed"}` (docs/metrics.md). A reload that keeps
//! `[ha]` keeps the running leader election; one that changes it starts a new election and
//! ends the old one (a holder releases its Lease).

pub mod lease;

use crate::app::App;
use crate::clock::{Clock as _, SystemClock};
use crate::config::Config;
use crate::http::Endpoint;
use crate::inventory::Snapshot;
use crate::metrics::Metrics;
use crate::shutdown::Event;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

/// Exit status when the app cannot be built from the configuration (docs/cli.md).
const EXIT_CONFIG: u8 = 3;
/// Exit status when the listener cannot be bound or serving fails.
const EXIT_FAILED: u8 = 1;

/// What a SIGHUP re-reads: the config path (`None`: the default) and the `--listen` override.
pub type Reload = (Option<PathBuf>, Option<SocketAddr>);

/// Reads the configuration again for a reload.
pub type Loader = Box<dyn Fn() -> Result<Config, crate::config::Error> + Send + Sync>;

/// Run the daemon until SIGINT/SIGTERM; the exit status. With `reload`, SIGHUP re-reads the
/// configuration (see the module documentation); without, SIGHUP is not handled.
pub async fn run(config: Config, reload: Option<Reload>) -> u8 {
    let (tx, events) = mpsc::channel(4);
    let signals = tokio::spawn(crate::shutdown::forward(tx, reload.is_some()));
    let loader = reload.map(|(path, listen)| {
        Box::new(move || {
            let mut c = crate::config::load(path.as_deref())?;
            if let Some(l) = listen {
                c.listen = l;
            }
            Ok(c)
        }) as Loader
    });
    let code = run_until(config, loader, events).await;
    signals.abort();
    code
}

/// Run the daemon on `config` until `events` says stop or ends; `Reload` events read the
/// configuration with `loader` (ignored without one). The seam behind [`run`] for tests.
pub async fn run_until(
    config: Config,
    loader: Option<Loader>,
    mut events: mpsc::Receiver<Event>,
) -> u8 {
    let metrics = Arc::new(Metrics::new(config.expires_in_metric));
    let mut running = match Prepared::new(config, None, &metrics).await {
        Ok(p) => p.start(None),
        Err(Failure::Listen(addr, e)) => {
            eprintln!("certwatch: cannot listen on {addr}: {e}");
            return EXIT_FAILED;
        }
        Err(Failure::Config(e)) => {
            eprintln!("certwatch: {e:#}");
            return EXIT_CONFIG;
        }
    };
    metrics
        .server()
        .config_loaded(false, SystemClock.now().unix_timestamp());
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            ended = &mut running.task => {
                // The app stops only when told to; on its own, serving failed.
                let why = ended.map_err(anyhow::Error::from).and_then(|r| r).err();
                eprintln!("certwatch: {:#}", why.unwrap_or_else(|| anyhow::anyhow!("stopped serving")));
                return EXIT_FAILED;
            }
        };
        match event {
            Some(Event::Reload) => match &loader {
                Some(load) => match reload(running, load, &metrics).await {
                    Ok(r) => running = r,
                    Err(code) => return code,
                },
                None => info!("SIGHUP ignored: this daemon does not reload"),
            },
            Some(Event::Stop) | None => {
                running.stop().await;
                return 0;
            }
        }
    }
}

/// Replace `running` by an app on the configuration `load` returns; keep it on any failure.
/// `Err` (an exit status) only when the new app could not start after the old one stopped
/// and the old one could not be started again either.
async fn reload(running: Running, load: &Loader, metrics: &Arc<Metrics>) -> Result<Running, u8> {
    let prepared = match load() {
        Ok(config) => Prepared::new(config, Some(&running), metrics).await,
        Err(e) => Err(Failure::Config(e.into())),
    };
    let next = match prepared {
        Ok(next) => next,
        Err(e) => {
            error!(error = %e, "new configuration rejected; keeping the running one");
            metrics.server().reload_failed();
            return Ok(running);
        }
    };
    let (snapshot, old) = running.stop().await;
    // The alert ledger is read again now that the old app has written its last entries.
    let restarted = next.app.with_alerts().map(|app| Prepared {
        app,
        endpoint: next.endpoint,
        lease: next.lease,
    });
    match restarted {
        Ok(p) => {
            metrics
                .server()
                .config_loaded(true, SystemClock.now().unix_timestamp());
            info!("configuration reloaded");
            Ok(p.start(Some(&snapshot)))
        }
        Err(e) => {
            error!(error = %format!("{e:#}"), "new configuration failed to start; restarting the previous one");
            metrics.server().reload_failed();
            let again = App::build_with_metrics(old.config, Arc::new(SystemClock), metrics.clone())
                .map(|a| a.with_leadership(old.lease.leadership()))
                .and_then(App::with_alerts);
            match again {
                Ok(app) => Ok(Prepared {
                    app,
                    endpoint: old.endpoint,
                    lease: old.lease,
                }
                .start(Some(&snapshot))),
                Err(e) => {
                    eprintln!("certwatch: the previous configuration cannot start again: {e:#}");
                    Err(EXIT_CONFIG)
                }
            }
        }
    }
}

/// Why a configuration cannot be served.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The app cannot be built (state directory, alert channels, TLS files, …).
    #[error("{0:#}")]
    Config(anyhow::Error),
    /// The listen address cannot be bound.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// An app built and ready to serve, not started.
struct Prepared {
    app: App,
    endpoint: Endpoint,
    lease: Arc<lease::Election>,
}

impl Prepared {
    /// Build everything `config` needs. With `running`, its listener is kept when the address
    /// is the same (binding it again would fail while it is open).
    async fn new(
        config: Config,
        running: Option<&Running>,
        metrics: &Arc<Metrics>,
    ) -> Result<Self, Failure> {
        let listen = config.listen;
        config
            .check_state_dir(true)
            .map_err(|e| Failure::Config(e.into()))?;
        warn_if_few_descriptors(config.server_limits.max_connections);
        let lease = match running {
            Some(r) if r.lease.serves(&config.ha) => r.lease.clone(),
            _ => Arc::new(
                lease::Election::start(&config.ha)
                    .map_err(|e| Failure::Config(anyhow::anyhow!("leader election ([ha]): {e}")))?,
            ),
        };
        let app = App::build_with_metrics(config, Arc::new(SystemClock), metrics.clone())
            .map(|a| a.with_leadership(lease.leadership()))
            .and_then(App::with_alerts)
            .map_err(Failure::Config)?;
        let listener = match running {
            Some(r) if r.app.config().listen == listen => r.endpoint.listener.clone(),
            _ => Arc::new(
                tokio::net::TcpListener::bind(listen)
                    .await
                    .map_err(|e| Failure::Listen(listen, e))?,
            ),
        };
        let endpoint = app.endpoint(listener).map_err(Failure::Config)?;
        Ok(Self {
            app,
            endpoint,
            lease,
        })
    }

    /// Start serving, seeded with `previous` (after a reload).
    fn start(self, previous: Option<&Snapshot>) -> Running {
        let app = Arc::new(self.app);
        app.metrics().set_expires_in(app.config().expires_in_metric);
        app.metrics().set_leader_gauge(self.lease.gauge());
        if let Some(snapshot) = previous {
            app.restore(snapshot);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.clone().serve(self.endpoint.clone(), async {
            let _ = stopped.await;
        }));
        Running {
            app,
            endpoint: self.endpoint,
            lease: self.lease,
            stop,
            task,
        }
    }
}

/// The app being served.
struct Running {
    app: Arc<App>,
    endpoint: Endpoint,
    lease: Arc<lease::Election>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// What remains of a stopped app: enough to start it again.
struct Stopped {
    config: Config,
    endpoint: Endpoint,
    lease: Arc<lease::Election>,
}

impl Running {
    /// Stop serving and polling (in-flight work gets the app's grace period); the last
    /// snapshot, and what it takes to start the same configuration again.
    async fn stop(self) -> (Arc<Snapshot>, Stopped) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => error!(error = %format!("{e:#}"), "the app stopped with an error"),
            Err(e) => error!(error = %e, "the app's task failed"),
        }
        let snapshot = self.app.snapshot();
        let config = self.app.config().clone();
        (
            snapshot,
            Stopped {
                config,
                endpoint: self.endpoint,
                lease: self.lease,
            },
        )
    }
}

/// File descriptors kept for everything but HTTP connections: the listener, Auth0, webhook,
/// SMTP and metadata connections, the state files, the runtime.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Warn when `server.max_connections` could use up the open-files limit (Linux).
fn warn_if_few_descriptors(max_connections: usize) {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| open_files_limit(&l));
    if let Some(limit) = limit
        && max_connections as u64 + RESERVED_DESCRIPTORS > limit
    {
        warn!(
            max_connections,
            open_files_limit = limit,
            "server.max_connections leaves fewer than {RESERVED_DESCRIPTORS} file descriptors for \
             everything else: lower it or raise the limit"
        );
    }
}

/// The soft "Max open files" limit in the text of `/proc/self/limits`.
fn open_files_limit(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_soft_open_files_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             127574               127574               processes \n\
                      Max open files            8192                 524288               files     \n";
        assert_eq!(super::open_files_limit(limits), Some(8192));
        assert_eq!(
            super::open_files_limit("Max open files  unlimited unlimited files"),
            None
        );
    }
}
