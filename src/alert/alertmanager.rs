//! The `[[alerts.alertmanager]]` channel (docs/alerts.md): state-based, not edge-based. After each
//! poll it posts the full current set of alerts (`state`: one per alerting certificate or
//! finding, identical labels from every replica) to every configured Alertmanager with
//! `POST /api/v2/alerts` — each URL on its own, never through a load balancer, so the cluster
//! deduplicates and a replica or an Alertmanager can go away without losing an alert. Alerts
//! fire until now + 4 × the poll interval and are re-posted every poll; one that went away is
//! posted resolved for 15 minutes. The state lives in memory and in `{state_dir}/alertmanager.json`
//! (written atomically) so a restart still resolves what went away meanwhile.
//!
//! 2xx is delivered, 5xx, 408, 429 and transport errors are retried with backoff within the poll
//! (the next poll posts everything again anyway), other 4xx are logged. Every outcome counts in
//! `certwatch_alerts_sent_total{channel, severity, outcome}`, one per alert and Alertmanager.
//! Credentials (bearer token, basic auth password) never reach logs, errors or `Debug`.

pub mod state;

use super::{Error, ledger};
use crate::config::{AlertmanagerAuth, AlertmanagerChannel, Filter};
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::report::Report;
use state::{AmAlert, State};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use url::Url;

/// The state file in the state directory.
pub const FILE_NAME: &str = "alertmanager.json";
/// How many poll intervals a firing alert lasts without being re-posted.
pub const HOLD_POLLS: u32 = 4;
/// Waits before the retries of one post (so at most 1 + 3 attempts per poll).
pub const BACKOFF: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// One `[[alerts.alertmanager]]` channel: its filters, URLs and HTTP client.
struct Channel {
    name: String,
    filter: Filter,
    endpoints: Vec<(Url, String)>,
    auth: AlertmanagerAuth,
    client: reqwest::Client,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<&str> = self
            .endpoints
            .iter()
            .map(|(_, shown)| shown.as_str())
            .collect();
        f.debug_struct("Channel")
            .field("name", &self.name)
            .field("urls", &urls)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// How one post to one Alertmanager ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Posted {
    Delivered,
    Retry(String),
    Rejected(String),
}

impl Channel {
    fn new(c: &AlertmanagerChannel) -> Result<Channel, Error> {
        let client = super::webhook::http_client(&c.name, c.timeout)?;
        let endpoints = c
            .urls
            .iter()
            .map(|u| {
                let mut api = u.clone();
                let path = format!("{}/api/v2/alerts", u.path().trim_end_matches('/'));
                api.set_path(&path);
                (api, crate::remote::fetch::redact(u))
            })
            .collect();
        Ok(Channel {
            name: c.name.clone(),
            filter: c.filter.clone(),
            endpoints,
            auth: c.auth.clone(),
            client,
        })
    }

    /// One attempt: POST `body` to `url`.
    async fn post_once(&self, url: &Url, body: &str) -> Posted {
        let mut req = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        req = match &self.auth {
            AlertmanagerAuth::None => req,
            AlertmanagerAuth::Bearer(t) => req.bearer_auth(t.expose()),
            AlertmanagerAuth::Basic { username, password } => {
                req.basic_auth(username, Some(password.expose()))
            }
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Posted::Retry(super::webhook::transport_error(e)),
        };
        let status = resp.status();
        if status.is_success() {
            return Posted::Delivered;
        }
        let msg = format!("HTTP {status}");
        if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            Posted::Retry(msg)
        } else {
            Posted::Rejected(msg)
        }
    }
}

/// Every Alertmanager channel, and the state they post.
pub struct Alertmanager {
    channels: Vec<Channel>,
    policy: Policy,
    hold: Duration,
    backoff: Vec<Duration>,
    path: PathBuf,
    state: tokio::sync::Mutex<State>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Alertmanager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanager")
            .field("channels", &self.channels)
            .field("hold", &self.hold)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Alertmanager {
    /// The channels of `cfg`, or None when there is none. Loads the state from `state_dir`
    /// (a missing or unreadable file starts empty: alerts then only time out at their `endsAt`).
    pub fn new(
        cfg: &[AlertmanagerChannel],
        state_dir: &Path,
        metrics: Arc<Metrics>,
    ) -> Result<Option<Alertmanager>, Error> {
        if cfg.is_empty() {
            return Ok(None);
        }
        let channels = cfg
            .iter()
            .map(Channel::new)
            .collect::<Result<Vec<_>, _>>()?;
        let path = state_dir.join(FILE_NAME);
        let state = match super::ledger::read_capped(&path, super::ledger::MAX_BYTES) {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "unreadable alertmanager state; starting empty");
                State::default()
            }),
            Ok(None) => {
                tracing::warn!(path = %path.display(), "alertmanager state too large; starting empty");
                State::default()
            }
            Err(_) => State::default(),
        };
        Ok(Some(Alertmanager {
            channels,
            policy: Policy::default(),
            hold: Duration::from_secs(15 * 60) * HOLD_POLLS,
            backoff: BACKOFF.to_vec(),
            path,
            state: tokio::sync::Mutex::new(state),
            metrics,
        }))
    }

    /// Use the daemon's policy (the thresholds that date `startsAt`) and poll interval (alerts
    /// fire until now + [`HOLD_POLLS`] × it).
    pub fn set_polls(&mut self, policy: Policy, interval: Duration) {
        self.policy = policy;
        self.hold = interval.saturating_mul(HOLD_POLLS);
    }

    /// Replace the waits between retries (tests).
    pub fn set_backoff(&mut self, backoff: Vec<Duration>) {
        self.backoff = backoff;
    }

    /// After a poll: fold the report into the state, persist it, and post the full set to every
    /// Alertmanager of every channel (in parallel). Returns the set that was built.
    pub async fn post(&self, report: &Report, now: OffsetDateTime) -> Vec<AmAlert> {
        let all = {
            let mut st = self.state.lock().await;
            let current = state::current(report, &self.policy, now);
            let up = |tenant: &str| {
                report
                    .tenants
                    .iter()
                    .find(|t| t.name == tenant)
                    .is_none_or(|t| t.up)
            };
            let all = st.step(current, up, self.hold, now);
            self.persist(&st).await;
            all
        };
        let posts = self.channels.iter().flat_map(|c| {
            let alerts: Vec<&AmAlert> = all.iter().filter(|a| a.accepted_by(&c.filter)).collect();
            let body = serde_json::to_string(&alerts).unwrap_or_else(|_| "[]".into());
            let alerts = std::sync::Arc::new(alerts);
            c.endpoints.iter().map(move |(url, shown)| {
                let body = body.clone();
                let alerts = alerts.clone();
                async move {
                    if !alerts.is_empty() {
                        self.post_with_retries(c, url, shown, &body, &alerts, now)
                            .await;
                    }
                }
            })
        });
        futures::future::join_all(posts).await;
        all
    }

    /// Post to one Alertmanager, retrying temporary failures after each [`BACKOFF`] wait.
    async fn post_with_retries(
        &self,
        c: &Channel,
        url: &Url,
        shown: &str,
        body: &str,
        alerts: &[&AmAlert],
        now: OffsetDateTime,
    ) {
        let firing = alerts.iter().filter(|a| !a.resolved(now)).count();
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            match c.post_once(url, body).await {
                Posted::Retry(m) if attempt <= self.backoff.len() => {
                    let wait = self.backoff[attempt - 1];
                    tracing::warn!(channel = %c.name, url = %shown, attempt, error = %m, ?wait,
                        "alertmanager post failed; will retry");
                    self.count(c, alerts, now, "retrying");
                    tokio::time::sleep(wait).await;
                }
                other => break other,
            }
        };
        let label = match &outcome {
            Posted::Delivered => {
                tracing::info!(channel = %c.name, url = %shown, attempt, alerts = alerts.len(), firing,
                    "alerts posted to alertmanager");
                "delivered"
            }
            Posted::Rejected(m) => {
                tracing::error!(channel = %c.name, url = %shown, attempt, error = %m,
                    "alertmanager rejected the alerts; not retrying");
                "rejected"
            }
            Posted::Retry(m) => {
                tracing::error!(channel = %c.name, url = %shown, attempt, error = %m,
                    "alertmanager post failed; giving up until the next poll");
                "failed"
            }
        };
        self.count(c, alerts, now, label);
    }

    fn count(&self, c: &Channel, alerts: &[&AmAlert], now: OffsetDateTime, outcome: &str) {
        for a in alerts {
            let severity = if a.resolved(now) {
                "resolved"
            } else {
                a.severity().as_str()
            };
            self.metrics.alert_sent(&c.name, severity, outcome);
        }
    }

    async fn persist(&self, st: &State) {
        let bytes = serde_json::to_vec_pretty(st).unwrap_or_default();
        let Err(err) = ledger::write_in_background(&self.path, bytes).await else {
            return;
        };
        tracing::error!(path = %self.path.display(), error = %err, "cannot write the alertmanager state");
    }
}

#[cfg(test)]
mod tests;
