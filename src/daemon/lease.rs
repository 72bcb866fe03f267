//! Leader election between replicas (docs/alerts.md, docs/configuration.md `[ha]`): the holder
//! of a `coordination.k8s.io/v1` Lease is the only replica that sends email/webhook
//! notifications and runs the rotation pass. [`Leadership`] is what the rest of the daemon asks
//! (`is_leader()`, right before each direct delivery and before a rotation pass);
//! [`AlwaysLeader`] is the answer without `[ha]`, [`Elector`] the answer with it.
//!
//! The client is a few reqwest calls, not `kube`/`kube-lease-manager`: those pull kube-client,
//! k8s-openapi (every API type of every Kubernetes version) and a second TLS and config stack
//! for one object and three verbs. Here: GET the Lease (404 → POST creates it, holding it);
//! PUT it back with the `resourceVersion` read, so the API server's compare-and-swap decides
//! races (409: someone else wrote first, we are not the holder). The token and CA come from the
//! service account mount and are re-read at every request (projected tokens rotate).
//!
//! Expiry is judged by observation, not by the holder's `renewTime` (clocks of pods differ): a
//! Lease whose `resourceVersion` has not changed for `leaseDurationSeconds` since this replica
//! first saw it may be taken over. The holder counts itself leader until `lease_duration` after
//! the start of its last successful write, so it stops before anybody else may start; a 409 or
//! a Lease held by someone else ends leadership at once. Times are `tokio::time::Instant`s, so
//! tests can pause and advance time.

use prometheus::IntGauge;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where a pod's service account is mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Who may send direct notifications and rotate now.
pub trait Leadership: Send + Sync + std::fmt::Debug {
    /// True while this replica holds the lease (always true without leader election).
    fn is_leader(&self) -> bool;
}

/// No leader election (`[ha]` absent): this replica is the only one, or the operator accepts
/// that every replica sends.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysLeader;

impl Leadership for AlwaysLeader {
    fn is_leader(&self) -> bool {
        true
    }
}

/// What went wrong talking to the API server (never carries the token).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service account mount or the API server address is missing.
    #[error("not running in a Kubernetes pod: {0}")]
    NotInCluster(String),
    /// Transport failure or an unexpected status.
    #[error("Kubernetes API: {0}")]
    Api(String),
}

/// Where the Lease lives and how to reach the API server.
#[derive(Debug, Clone)]
pub struct Target {
    /// `https://host:port` (no trailing slash).
    pub base_url: String,
    /// Lease namespace.
    pub namespace: String,
    /// Lease name.
    pub name: String,
    /// Bearer token file, read at each request; `None`: no `Authorization` header (tests).
    pub token_file: Option<PathBuf>,
    /// PEM CA bundle of the API server; `None`: the system roots.
    pub ca_file: Option<PathBuf>,
}

impl Target {
    /// The in-cluster target: `KUBERNETES_SERVICE_HOST`/`_PORT` from `env`, token and CA from
    /// the service account directory `sa_dir`; the namespace is `namespace`, else `POD_NAMESPACE`,
    /// else the service account's.
    pub fn in_cluster(
        sa_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Target, Error> {
        let host = env("KUBERNETES_SERVICE_HOST")
            .ok_or_else(|| Error::NotInCluster("KUBERNETES_SERVICE_HOST is not set".into()))?;
        let port = env("KUBERNETES_SERVICE_PORT").unwrap_or_else(|| "443".into());
        // An IPv6 service address needs brackets in a URL.
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let namespace = match namespace
            .map(str::to_string)
            .or_else(|| env("POD_NAMESPACE"))
        {
            Some(ns) => ns,
            None => std::fs::read_to_string(sa_dir.join("namespace"))
                .map(|s| s.trim().to_string())
                .map_err(|e| {
                    Error::NotInCluster(format!("{}: {e}", sa_dir.join("namespace").display()))
                })?,
        };
        Ok(Target {
            base_url: format!("https://{host}:{port}"),
            namespace,
            name: name.to_string(),
            token_file: Some(sa_dir.join("token")),
            ca_file: Some(sa_dir.join("ca.crt")),
        })
    }
}

/// A `coordination.k8s.io/v1` Lease, the fields certwatch reads and writes (others are kept
/// through `rest` so a PUT does not drop them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lease {
    api_version: String,
    kind: String,
    metadata: Meta,
    spec: Spec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_version: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(skip_serializing_if = "Option::is_none")]
    holder_identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_duration_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acquire_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    renew_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_transitions: Option<u64>,
}

/// The outcome of a write.
enum Write {
    Done,
    /// 409: the Lease changed (PUT) or exists (POST) since we read it.
    Conflict,
}

/// The three calls on one Lease.
#[derive(Debug)]
struct Api {
    http: reqwest::Client,
    target: Target,
}

impl Api {
    fn new(target: Target) -> Result<Api, Error> {
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5));
        if let Some(ca) = &target.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| Error::NotInCluster(format!("{}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::NotInCluster(format!("{}: {e}", ca.display())))?;
            b = b.tls_certs_only(certs);
        }
        let http = b.build().map_err(|e| Error::Api(e.to_string()))?;
        Ok(Api { http, target })
    }

    fn collection(&self) -> String {
        format!(
            "{}/apis/coordination.k8s.io/v1/namespaces/{}/leases",
            self.target.base_url, self.target.namespace
        )
    }

    fn request(
        &self,
        method: reqwest::Method,
        url: String,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let r = self.http.request(method, url);
        Ok(match &self.target.token_file {
            None => r,
            Some(f) => {
                let token = std::fs::read_to_string(f)
                    .map_err(|e| Error::NotInCluster(format!("{}: {e}", f.display())))?;
                r.bearer_auth(token.trim())
            }
        })
    }

    async fn get(&self) -> Result<Option<Lease>, Error> {
        let url = format!("{}/{}", self.collection(), self.target.name);
        let resp = send(self.request(reqwest::Method::GET, url)?).await?;
        match resp.status().as_u16() {
            404 => Ok(None),
            200 => resp
                .json()
                .await
                .map(Some)
                .map_err(|e| Error::Api(e.to_string())),
            s => Err(Error::Api(format!("GET lease: HTTP {s}"))),
        }
    }

    async fn write(&self, lease: &Lease, create: bool) -> Result<Write, Error> {
        let (method, url) = if create {
            (reqwest::Method::POST, self.collection())
        } else {
            let url = format!("{}/{}", self.collection(), self.target.name);
            (reqwest::Method::PUT, url)
        };
        let resp = send(self.request(method, url)?.json(lease)).await?;
        match resp.status().as_u16() {
            200 | 201 => Ok(Write::Done),
            409 => Ok(Write::Conflict),
            s => Err(Error::Api(format!(
                "{} lease: HTTP {s}",
                if create { "POST" } else { "PUT" }
            ))),
        }
    }
}

async fn send(r: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
    // reqwest errors name the URL, never headers: the token stays out.
    r.send().await.map_err(|e| Error::Api(e.to_string()))
}

/// What the elector shares with [`LeaseHandle`]s.
#[derive(Debug)]
struct Shared {
    /// Leader until then (`None`: not leader).
    valid_until: Mutex<Option<Instant>>,
    /// `certwatch_leader{lease}`.
    gauge: IntGauge,
}

/// A cheap handle on an [`Elector`]'s state.
#[derive(Debug, Clone)]
pub struct LeaseHandle(Arc<Shared>);

impl Leadership for LeaseHandle {
    fn is_leader(&self) -> bool {
        let until = *self.0.valid_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|t| Instant::now() < t)
    }
}

impl LeaseHandle {
    /// The `certwatch_leader` gauge (1 holder, 0 not), to register in the app's metrics.
    pub fn gauge(&self) -> IntGauge {
        self.0.gauge.clone()
    }
}

/// Settings of one elector.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `spec.holderIdentity`.
    pub identity: String,
    /// `spec.leaseDurationSeconds` (whole seconds, at least 1).
    pub lease_duration: Duration,
    /// Renew / retry period.
    pub renew_every: Duration,
}

/// Acquires and renews one Lease.
#[derive(Debug)]
pub struct Elector {
    api: Api,
    settings: Settings,
    shared: Arc<Shared>,
    /// The last `resourceVersion` seen and when it was first seen.
    observed: Option<(String, Instant)>,
}

impl Elector {
    /// An elector for `target`; nothing is sent before [`Elector::tick`] or [`Elector::run`].
    pub fn new(target: Target, settings: Settings) -> Result<Elector, Error> {
        let gauge = IntGauge::with_opts(
            prometheus::Opts::new(
                "certwatch_leader",
                "1 while this replica holds the leader-election Lease ([ha]), 0 otherwise.",
            )
            .const_label("lease", crate::metrics::bound(&target.name)),
        )
        .map_err(|e| Error::Api(e.to_string()))?;
        Ok(Elector {
            api: Api::new(target)?,
            settings,
            shared: Arc::new(Shared {
                valid_until: Mutex::new(None),
                gauge,
            }),
            observed: None,
        })
    }

    /// The handle the daemon asks.
    pub fn handle(&self) -> LeaseHandle {
        LeaseHandle(self.shared.clone())
    }

    /// Try to acquire or renew until `stop`, every `renew_every`; on stop, a holder releases
    /// the Lease so that another replica takes over at once.
    pub async fn run(mut self, stop: CancellationToken) {
        loop {
            self.tick().await;
            tokio::select! {
                () = tokio::time::sleep(self.settings.renew_every) => {}
                () = stop.cancelled() => break,
            }
        }
        if self.handle().is_leader() {
            self.release().await;
        }
    }

    /// One attempt: read the Lease, and create, renew or take it over when allowed. Returns
    /// whether this replica is the leader afterwards.
    pub async fn tick(&mut self) -> bool {
        let started = Instant::now();
        let outcome = match self.api.get().await {
            Ok(None) => self.api.write(&self.fresh(None), true).await,
            Ok(Some(lease)) => {
                if !self.may_write(&lease, started) {
                    self.lost("the lease is held by another replica");
                    return false;
                }
                let next = self.fresh(Some(lease));
                self.api.write(&next, false).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Write::Done) => self.won(started),
            Ok(Write::Conflict) => self.lost("another replica wrote the lease first (409)"),
            Err(e) => {
                // Keep what we had: a holder stays leader until its lease would expire.
                tracing::warn!(error = %e, lease = %self.api.target.name, "leader election: cannot reach the lease");
                self.set_gauge();
            }
        }
        self.handle().is_leader()
    }

    /// We hold it, nobody does, or its `resourceVersion` has not moved for a lease duration.
    fn may_write(&mut self, lease: &Lease, now: Instant) -> bool {
        let holder = lease.spec.holder_identity.as_deref().unwrap_or("");
        if holder.is_empty() || holder == self.settings.identity {
            return true;
        }
        let rv = lease.metadata.resource_version.clone().unwrap_or_default();
        let first_seen = match &self.observed {
            Some((seen, at)) if *seen == rv => *at,
            _ => {
                self.observed = Some((rv, now));
                now
            }
        };
        let duration = lease
            .spec
            .lease_duration_seconds
            .map(Duration::from_secs)
            .unwrap_or(self.settings.lease_duration);
        now.duration_since(first_seen) >= duration
    }

    /// The Lease to write: ours, renewed now (from `old`, keeping its metadata, or new).
    fn fresh(&self, old: Option<Lease>) -> Lease {
        let now = micro_time(crate::clock::Clock::now(&crate::clock::SystemClock));
        let me = &self.settings.identity;
        let mut l = old.unwrap_or_else(|| Lease {
            metadata: Meta {
                name: self.api.target.name.clone(),
                namespace: Some(self.api.target.namespace.clone()),
                ..Meta::default()
            },
            ..Lease::default()
        });
        l.api_version = "coordination.k8s.io/v1".into();
        l.kind = "Lease".into();
        if l.spec.holder_identity.as_deref() != Some(me.as_str()) {
            let changed = l
                .spec
                .holder_identity
                .as_deref()
                .is_some_and(|h| !h.is_empty());
            l.spec.acquire_time = Some(now.clone());
            l.spec.lease_transitions =
                Some(l.spec.lease_transitions.unwrap_or(0) + u64::from(changed));
        }
        l.spec.holder_identity = Some(me.clone());
        l.spec.lease_duration_seconds = Some(self.settings.lease_duration.as_secs().max(1));
        l.spec.renew_time = Some(now);
        l
    }

    fn won(&mut self, started: Instant) {
        let was = self.handle().is_leader();
        *self
            .shared
            .valid_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(started + self.settings.lease_duration);
        self.observed = None;
        if !was {
            tracing::info!(lease = %self.api.target.name, identity = %self.settings.identity, "leader election: this replica is the leader");
        }
        self.set_gauge();
    }

    fn lost(&mut self, why: &str) {
        let was = self.handle().is_leader();
        *self
            .shared
            .valid_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        if was {
            tracing::warn!(lease = %self.api.target.name, identity = %self.settings.identity, "leader election: no longer the leader: {why}");
        }
        self.set_gauge();
    }

    fn set_gauge(&self) {
        self.shared.gauge.set(i64::from(self.handle().is_leader()));
    }

    /// Give the Lease up (holder cleared), so that another replica need not wait for expiry.
    async fn release(&mut self) {
        *self
            .shared
            .valid_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        self.set_gauge();
        if let Ok(Some(mut l)) = self.api.get().await
            && l.spec.holder_identity.as_deref() == Some(self.settings.identity.as_str())
        {
            l.spec.holder_identity = None;
            l.spec.renew_time = None;
            if let Err(e) = self.api.write(&l, false).await {
                tracing::warn!(error = %e, "leader election: cannot release the lease");
            }
        }
    }
}

/// A Kubernetes `MicroTime`: RFC 3339 in UTC with six fractional digits.
fn micro_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The leadership `[ha]` asks for, with its elector task started (stopped by `stop`).
/// Without leader election: [`AlwaysLeader`] and no task.
pub fn start(
    ha: &crate::config::Ha,
    stop: CancellationToken,
) -> Result<(Arc<dyn Leadership>, Option<IntGauge>), Error> {
    let Some(le) = &ha.leader_election else {
        return Ok((Arc::new(AlwaysLeader), None));
    };
    let target = Target::in_cluster(
        Path::new(SERVICE_ACCOUNT_DIR),
        |k| std::env::var(k).ok(),
        &le.lease_name,
        le.namespace.as_deref(),
    )?;
    let identity = le
        .identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::NotInCluster("no identity: set POD_NAME or [ha] identity".into()))?;
    let elector = Elector::new(
        target,
        Settings {
            identity,
            lease_duration: le.lease_duration,
            renew_every: le.renew_every,
        },
    )?;
    let handle = elector.handle();
    let gauge = handle.gauge();
    tokio::spawn(elector.run(stop));
    Ok((Arc::new(handle), Some(gauge)))
}

/// The leader election one configuration's `[ha]` asks for, running until dropped (a holder
/// then releases the Lease). A reload that keeps `[ha]` keeps the same election.
pub struct Election {
    config: crate::config::Ha,
    leadership: Arc<dyn Leadership>,
    gauge: Option<IntGauge>,
    _stop: tokio_util::sync::DropGuard,
}

impl Election {
    /// Start what `ha` asks for ([`start`]).
    pub fn start(ha: &crate::config::Ha) -> Result<Election, Error> {
        let stop = CancellationToken::new();
        let (leadership, gauge) = start(ha, stop.clone())?;
        Ok(Election {
            config: ha.clone(),
            leadership,
            gauge,
            _stop: stop.drop_guard(),
        })
    }

    /// Whether this election is what `ha` asks for.
    pub fn serves(&self, ha: &crate::config::Ha) -> bool {
        &self.config == ha
    }

    /// Whether this replica leads, asked before each direct delivery and rotation pass.
    pub fn leadership(&self) -> Arc<dyn Leadership> {
        self.leadership.clone()
    }

    /// The `certwatch_leader` gauge, with leader election.
    pub fn gauge(&self) -> Option<IntGauge> {
        self.gauge.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_time_has_six_fractional_digits_in_utc() {
        let t = time::macros::datetime!(2026-12-03 15:04:05.123456789 +01:00);
        assert_eq!(micro_time(t), "2026-12-03T14:04:05.123456Z");
    }

    #[test]
    fn in_cluster_reads_the_service_account_and_the_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("namespace"), "monitoring\n").unwrap();
        let env = |k: &str| match k {
            "KUBERNETES_SERVICE_HOST" => Some("fd00::1".to_string()),
            "KUBERNETES_SERVICE_PORT" => Some("6443".to_string()),
            _ => None,
        };
        let t = Target::in_cluster(dir.path(), env, "certwatch", None).unwrap();
        assert_eq!(t.base_url, "https://[fd00::1]:6443");
        assert_eq!(t.namespace, "monitoring");
        assert_eq!(t.token_file.unwrap(), dir.path().join("token"));
        let t = Target::in_cluster(dir.path(), env, "certwatch", Some("other")).unwrap();
        assert_eq!(t.namespace, "other");
        let e = Target::in_cluster(dir.path(), |_| None, "certwatch", None).unwrap_err();
        assert!(e.to_string().contains("KUBERNETES_SERVICE_HOST"), "{e}");
    }

    #[test]
    fn always_leader_is_leader() {
        assert!(AlwaysLeader.is_leader());
    }
}
