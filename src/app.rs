//! Wiring: `App::build(Config)` creates one Auth0 client per tenant, the metrics and the snapshot
//! channel; `poll_now()` runs one poll cycle (used by the scheduler, `scan` and tests);
//! `run()` serves HTTP and schedules polls until the shutdown future resolves. Rotation gets a
//! `rotate::Context` from `rotation_context()`, never the app itself.

use crate::auth0::{self, Auth0Api};
use crate::clock::Clock;
use crate::config::{self, Config};
use crate::inventory::poll::{PollSettings, poll_tenant_incremental};
use crate::inventory::refresh::Memory;
use crate::inventory::{Snapshot, TenantSnapshot};
use crate::metrics::Metrics;
use crate::remote::collect::Remote;
use crate::remote::fetch::{FetchSettings, Fetcher, HttpFetcher};
use crate::remote::probe::{Prober, TlsProber};
use crate::report::Report;
use anyhow::Context as _;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument as _, info, info_span, warn};

/// How often pending alert deliveries are retried (each has its own backoff on top).
pub const ALERT_RETRY_EVERY: Duration = Duration::from_secs(30);

/// How long in-flight work may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

struct TenantPoller {
    cfg: config::Tenant,
    api: Arc<dyn Auth0Api>,
    settings: PollSettings,
    /// What earlier polls read (docs/polling.md, incremental polls); empty after a start or reload.
    memory: tokio::sync::Mutex<Memory>,
}

/// The running daemon's state.
pub struct App {
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    tenants: Vec<TenantPoller>,
    snapshot: watch::Sender<Arc<Snapshot>>,
    cycle: tokio::sync::Mutex<()>,
    /// Who may send direct notifications and rotate (`[ha]`, daemon::lease).
    leadership: Arc<dyn crate::daemon::lease::Leadership>,
    alerts: Option<crate::alert::Engine>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("tenants", &self.tenants.len())
            .finish_non_exhaustive()
    }
}

/// The fetcher and prober shared by every tenant, when `[metadata] enabled`.
type Seams = (Arc<dyn Fetcher>, Arc<dyn Prober>);

fn remote_seams(m: &config::Metadata) -> anyhow::Result<Option<Seams>> {
    if !m.enabled {
        return Ok(None);
    }
    let fetcher = HttpFetcher::new(FetchSettings {
        allow_http: m.allow_http,
        timeout: m.timeout,
        max_bytes: m.max_bytes,
        allowed_hosts: m.allowed_hosts.clone(),
    })
    .context("building the metadata HTTP client")?;
    Ok(Some((
        Arc::new(fetcher),
        Arc::new(TlsProber::new(m.timeout)),
    )))
}

impl App {
    /// Build the app: one Auth0 client per tenant (no request is made yet).
    pub fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new(config.expires_in_metric));
        Self::build_with_metrics(config, clock, metrics)
    }

    /// Like [`App::build`], counting into `metrics` (the daemon keeps one across reloads, so
    /// its counters do not reset). Building changes nothing in `metrics`: whoever starts the
    /// app applies `[metrics]` to it ([`Metrics::set_expires_in`]).
    pub fn build_with_metrics(
        config: Config,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let seams = remote_seams(&config.metadata)?;
        let mut tenants = Vec::new();
        for t in &config.tenants {
            let client = auth0::Client::new(
                auth0::client::Settings {
                    tenant: t.name.clone(),
                    base_url: t.base_url.clone(),
                    client_id: t.client_id.clone(),
                    client_secret: t.client_secret.clone(),
                    audience: t.audience.clone(),
                    timeout: t.timeout,
                    max_requests_per_second: t.max_requests_per_second,
                    budget_share: t.budget_share,
                },
                Arc::new(MetricsObserver(metrics.clone())),
            )
            .with_context(|| format!("tenant {}", t.name))?;
            tenants.push(TenantPoller {
                cfg: t.clone(),
                api: Arc::new(client),
                settings: PollSettings {
                    sources: t.sources.clone(),
                    concurrency: t.concurrency,
                    remote: seams.as_ref().map(|(fetcher, prober)| Remote {
                        fetcher: fetcher.clone(),
                        prober: prober.clone(),
                        metadata_urls: t
                            .metadata_urls
                            .iter()
                            .map(|(k, v)| (k.clone(), v.0.clone()))
                            .collect(),
                        probe_addresses: t.probe_addresses.clone(),
                        probe_custom_domains: config.metadata.probe_custom_domains,
                        concurrency: config.metadata.concurrency,
                    }),
                    max_items: t.max_items_per_listing,
                    timeout: config.schedule.poll_timeout(),
                    owner_key: config.alerts.owner_key.clone(),
                    full_refresh: t.full_refresh,
                },
                memory: tokio::sync::Mutex::default(),
            });
        }
        let initial = Snapshot {
            tenants: config
                .tenants
                .iter()
                .map(|t| TenantSnapshot::pending(&t.name, &t.domain))
                .collect(),
        };
        let (snapshot, _) = watch::channel(Arc::new(initial));
        Ok(Self {
            config: Arc::new(config),
            clock,
            metrics,
            tenants,
            snapshot,
            cycle: tokio::sync::Mutex::new(()),
            alerts: None,
            leadership: Arc::new(crate::daemon::lease::AlwaysLeader),
        })
    }

    /// Send direct notifications and rotate only while `l` says this replica leads (`[ha]`);
    /// before [`App::with_alerts`].
    pub fn with_leadership(mut self, l: Arc<dyn crate::daemon::lease::Leadership>) -> Self {
        self.leadership = l;
        self
    }

    /// Turn on the alert engine (the daemon does; `scan` does not notify anyone). Loads the
    /// ledger from `state_dir`; does nothing when no channel is configured.
    pub fn with_alerts(mut self) -> anyhow::Result<Self> {
        let a = &self.config.alerts;
        if !a.has_channels() {
            return Ok(self);
        }
        let engine = crate::alert::Engine::new(
            a.clone(),
            &self.config.state_dir,
            self.metrics.clone(),
            self.clock.clone(),
        )
        .context("starting the alert engine")?
        .with_polls(self.config.policy.clone(), self.config.schedule.interval());
        let l = self.leadership.clone();
        self.alerts = Some(engine.with_leader_check(Arc::new(move || l.is_leader())));
        Ok(self)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// What a rotation pass needs: `[rotation]`, the state dir, every tenant's Management API
    /// client (the poller's: same token and pacing), the latest snapshot, the clock, the metrics.
    pub fn rotation_context(&self) -> crate::rotate::Context {
        crate::rotate::Context {
            settings: self.config.rotation.clone(),
            state_dir: self.config.state_dir.clone(),
            apis: self
                .tenants
                .iter()
                .map(|t| (t.cfg.name.clone(), t.api.clone()))
                .collect(),
            snapshot: self.snapshot(),
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Seed the state from a previous run (after a config reload): tenants with the same name
    /// keep their records and poll history; new tenants start pending.
    pub fn restore(&self, previous: &Snapshot) {
        self.snapshot.send_modify(|s| {
            let mut next = (**s).clone();
            for t in &mut next.tenants {
                if let Some(old) = previous.tenants.iter().find(|o| o.name == t.name) {
                    let domain = t.domain.clone();
                    *t = old.clone();
                    t.domain = domain;
                }
            }
            *s = Arc::new(next);
        });
        self.metrics
            .apply(&self.snapshot(), &self.config.policy, self.clock.now());
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// The report of the latest snapshot, now.
    pub fn report(&self) -> Report {
        Report::new(&self.snapshot(), &self.config.policy, self.clock.now())
    }

    /// Run one poll cycle over every tenant concurrently; each tenant's result is published as
    /// soon as it is ready. A cycle already running makes this wait for it, then run.
    pub async fn poll_now(&self) -> Arc<Snapshot> {
        let _cycle = self.cycle.lock().await;
        let polls = self.tenants.iter().enumerate().map(|(i, t)| {
            let span = info_span!("poll", tenant = %t.cfg.name);
            async move {
                let started = tokio::time::Instant::now();
                let mut memory = t.memory.lock().await;
                let outcome = poll_tenant_incremental(
                    t.api.as_ref(),
                    &t.cfg.name,
                    &t.cfg.domain,
                    &t.settings,
                    &mut memory,
                    self.clock.now(),
                )
                .await;
                drop(memory);
                let took = started.elapsed();
                self.metrics.count_poll(&t.cfg.name, &outcome);
                let errors = outcome.errors.len();
                let now = self.clock.now();
                self.snapshot.send_modify(|s| {
                    let mut next = (**s).clone();
                    next.tenants[i] = next.tenants[i].apply(outcome, now, took);
                    *s = Arc::new(next);
                });
                self.metrics
                    .apply(&self.snapshot(), &self.config.policy, now);
                if errors == 0 {
                    info!(?took, "poll complete");
                } else {
                    warn!(?took, errors, "poll finished with errors");
                }
            }
            .instrument(span)
        });
        futures::future::join_all(polls).await;
        if let Some(engine) = &self.alerts {
            let now = self.clock.now();
            let report = self.report();
            async {
                engine.process(&report, now).await;
                engine.notify_findings(&report, now).await;
            }
            .instrument(info_span!("alerts"))
            .await;
        }
        self.snapshot()
    }

    /// One daemon cycle (what the scheduler runs): a poll, alerts, then the rotation pass when
    /// enabled. Skipped (not queued) when a cycle is already running.
    pub async fn run_cycle(&self) {
        if self.cycle.try_lock().is_err() {
            warn!("previous poll still running; skipping this tick");
            return;
        }
        self.poll_now().await;
        if self.config.rotation.enabled && self.leadership.is_leader() {
            self.rotation_pass()
                .instrument(info_span!("rotation", apply = self.config.rotation.apply))
                .await;
        }
    }

    /// The daemon's rotation pass after a poll (dry run unless `rotation.apply`); problems are
    /// logged, counted by the rotator and sent through the alert engine.
    async fn rotation_pass(&self) {
        let report = crate::rotate::pass(self.rotation_context(), self.config.rotation.apply).await;
        for issue in &report.issues {
            warn!(tenant = issue.tenant.as_deref().unwrap_or("-"), kind = ?issue.kind, "{}", issue.message);
        }
        let events: Vec<_> = report
            .alerting()
            .filter_map(crate::rotate::StepOutcome::alert_event)
            .collect();
        if events.is_empty() {
            info!(steps = report.steps.len(), "rotation pass complete");
        } else {
            warn!(
                steps = report.steps.len(),
                problems = events.len(),
                "rotation pass found problems"
            );
        }
        // Called after every pass, also with no events: that is how cleared problems are forgotten.
        if let Some(engine) = &self.alerts {
            engine.notify_rotation(&events, self.clock.now()).await;
        }
    }

    /// The HTTP state.
    pub fn http_state(self: &Arc<Self>) -> crate::http::AppState {
        crate::http::AppState {
            snapshot: self.snapshot.subscribe(),
            metrics: self.metrics.clone(),
            policy: Arc::new(self.config.policy.clone()),
            clock: self.clock.clone(),
            interval: self.config.schedule.interval(),
            auth: Arc::new(self.config.http_auth.clone()),
        }
    }

    /// Where to serve on `listener`: with TLS when `[server] cert_file` is set. The certificate
    /// is read at every start and reload, so SIGHUP picks up a renewed one.
    pub fn endpoint(
        &self,
        listener: Arc<tokio::net::TcpListener>,
    ) -> anyhow::Result<crate::http::Endpoint> {
        let tls = match &self.config.server_tls {
            Some(t) => Some(tokio_rustls::TlsAcceptor::from(
                crate::tls::server_config(&t.cert_file, &t.key_file)
                    .context("loading the HTTP server's TLS certificate")?,
            )),
            None => None,
        };
        Ok(crate::http::Endpoint { listener, tls })
    }

    /// Serve HTTP on `listener` and poll on the schedule until `shutdown` resolves.
    pub async fn run(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let endpoint = self.endpoint(Arc::new(listener))?;
        self.serve(endpoint, shutdown).await
    }

    /// Serve HTTP on `endpoint` and poll on the schedule until `shutdown` resolves; then stop
    /// accepting, let in-flight work finish (at most [`SHUTDOWN_GRACE`]) and return. The
    /// listener itself stays open for its other owners (the daemon reuses it on a reload).
    pub async fn serve(
        self: Arc<Self>,
        endpoint: crate::http::Endpoint,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let addr = endpoint.listener.local_addr()?;
        let scheme = endpoint.scheme();
        let served = crate::http::serve(
            endpoint,
            crate::http::router(self.http_state()),
            self.config.server_limits,
            self.metrics.clone(),
            token.clone(),
        );
        tracker.spawn(
            async move {
                served.await;
                info!("HTTP server stopped");
            }
            .instrument(info_span!("http", %addr, scheme)),
        );
        info!(%addr, scheme, tenants = self.tenants.len(), "certwatch listening");

        crate::scheduler::start(self.tick(), &self.config.schedule, token.clone(), &tracker)
            .context("starting the scheduler")?;
        if self.config.schedule.run_on_start {
            let app = self.clone();
            let t = token.clone();
            tracker.spawn(
                async move {
                    tokio::select! {
                        _ = app.run_cycle() => {}
                        _ = t.cancelled() => info!("initial poll interrupted by shutdown"),
                    }
                }
                .instrument(info_span!("initial_poll")),
            );
        }
        if self.alerts.is_some() {
            tracker.spawn(
                self.clone()
                    .retry_alerts(token.clone())
                    .instrument(info_span!("alert_retry")),
            );
        }

        shutdown.await;
        info!("shutting down");
        token.cancel();
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            warn!(grace = ?SHUTDOWN_GRACE, "tasks did not finish within the grace period");
        }
        info!("stopped");
        Ok(())
    }

    /// The scheduler's job: one [`App::run_cycle`] per tick.
    fn tick(self: &Arc<Self>) -> crate::scheduler::Tick {
        let app = self.clone();
        Arc::new(move || {
            let app = app.clone();
            Box::pin(async move { app.run_cycle().await })
        })
    }

    /// Retry pending alert deliveries every [`ALERT_RETRY_EVERY`] until `stop` is cancelled.
    async fn retry_alerts(self: Arc<Self>, stop: CancellationToken) {
        let mut every = tokio::time::interval(ALERT_RETRY_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Some(engine) = &self.alerts {
                        engine.retry_pending(self.clock.now()).await;
                    }
                }
                _ = stop.cancelled() => break,
            }
        }
    }
}

impl From<&Arc<App>> for crate::rotate::Context {
    /// The app's rotation context now (see [`App::rotation_context`]).
    fn from(app: &Arc<App>) -> Self {
        app.rotation_context()
    }
}

/// Feeds the Auth0 clients' exchanges into the metrics (the one place both are known).
struct MetricsObserver(Arc<Metrics>);

impl auth0::Observer for MetricsObserver {
    fn api_request(&self, tenant: &str, endpoint: &str, code: &str) {
        self.0.api_request(tenant, endpoint, code);
    }

    fn ratelimit_remaining(&self, tenant: &str, remaining: u64) {
        self.0.ratelimit_remaining(tenant, remaining);
    }
}
