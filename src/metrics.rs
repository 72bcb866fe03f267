//! Prometheus metrics (docs/metrics.md): one owned `Registry`, counters that live for the process,
//! and a collector whose per-certificate and per-tenant series are rebuilt from each poll's
//! snapshot, so a certificate that disappears from Auth0 disappears from `/metrics` (no stale
//! series). The Auth0 client's request counters arrive through plain methods that `app` adapts
//! to the client's `auth0::Observer`, so this module never imports the client.

use crate::inventory::{PollError, PollOutcome, Snapshot};
use crate::policy::Policy;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;

pub mod server;
pub use server::ServerMetrics;

/// Label values longer than this are cut (docs/metrics.md).
pub const MAX_LABEL_LEN: usize = 256;

mod exposition;

const FROM_POLL: &str = "(from the last poll, not computed at scrape time)";

/// Cut a label value to `MAX_LABEL_LEN` characters.
pub fn bound(v: &str) -> &str {
    match v.char_indices().nth(MAX_LABEL_LEN) {
        Some((i, _)) => &v[..i],
        None => v,
    }
}

/// All certwatch metrics.
pub struct Metrics {
    registry: Registry,
    /// `certwatch_poll_errors_total{tenant,source,reason}`.
    poll_errors: IntCounterVec,
    /// `certwatch_api_requests_total{tenant,endpoint,code}`.
    api_requests: IntCounterVec,
    /// `certwatch_api_ratelimit_remaining{tenant}`.
    ratelimit_remaining: IntGaugeVec,
    /// `certwatch_alerts_sent_total{channel,severity,outcome}`.
    alerts_sent: IntCounterVec,
    /// `certwatch_rotations_total{tenant,kind,outcome}`.
    rotations: IntCounterVec,
    /// Reloads and HTTP connections.
    server: ServerMetrics,
    /// `certwatch_duplicate_objects_total{tenant,endpoint}`.
    duplicate_objects: IntCounterVec,
    /// `certwatch_poll_panics_total{tenant}`.
    poll_panics: IntCounterVec,
    /// `certwatch_poll_api_calls{tenant}`.
    poll_api_calls: IntGaugeVec,
    snapshot: Arc<SnapshotCollector>,
    /// `certwatch_leader{lease}` while `[ha]` elects a leader (daemon::lease owns it).
    leader: std::sync::Mutex<Option<prometheus::IntGauge>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition");
    r.register(Box::new(c.clone())).expect("unique metric name");
    c
}

impl Metrics {
    /// A fresh registry with every certwatch metric (and the process collector).
    pub fn new(expires_in_metric: bool) -> Self {
        let registry = Registry::new();
        let poll_errors = counter(
            &registry,
            "certwatch_poll_errors_total",
            "Failed Auth0 calls during polls, by tenant, source and reason.",
            &["tenant", "source", "reason"],
        );
        let api_requests = counter(
            &registry,
            "certwatch_api_requests_total",
            "Auth0 API requests by tenant, endpoint (route template) and status code.",
            &["tenant", "endpoint", "code"],
        );
        let ratelimit_remaining = IntGaugeVec::new(
            Opts::new(
                "certwatch_api_ratelimit_remaining",
                "The last x-ratelimit-remaining header Auth0 sent, per tenant.",
            ),
            &["tenant"],
        )
        .expect("static metric definition");
        registry
            .register(Box::new(ratelimit_remaining.clone()))
            .expect("unique metric name");
        let alerts_sent = counter(
            &registry,
            "certwatch_alerts_sent_total",
            "Alert deliveries by channel, severity and outcome.",
            &["channel", "severity", "outcome"],
        );
        let rotations = counter(
            &registry,
            "certwatch_rotations_total",
            "Rotation steps by tenant, kind and outcome (applied, dry_run, failed, rolled_back, blocked).",
            &["tenant", "kind", "outcome"],
        );
        let duplicate_objects = counter(
            &registry,
            "certwatch_duplicate_objects_total",
            "Objects an Auth0 listing returned more than once during a poll (one copy kept), by tenant and endpoint.",
            &["tenant", "endpoint"],
        );
        let poll_panics = counter(
            &registry,
            "certwatch_poll_panics_total",
            "Polls of the tenant that panicked (caught; every source of that poll is reported as failed).",
            &["tenant"],
        );
        let poll_api_calls = IntGaugeVec::new(
            Opts::new(
                "certwatch_poll_api_calls",
                "Management API requests (token requests and retries included) the last poll of the tenant made.",
            ),
            &["tenant"],
        )
        .expect("static metric definition");
        registry
            .register(Box::new(poll_api_calls.clone()))
            .expect("unique metric name");
        let build = GaugeVec::new(
            Opts::new(
                "certwatch_build_info",
                "certwatch build information; always 1.",
            ),
            &["version", "revision"],
        )
        .expect("static metric definition");
        build
            .with_label_values(&[
                env!("CARGO_PKG_VERSION"),
                option_env!("CERTWATCH_REVISION").unwrap_or("unknown"),
            ])
            .set(1.0);
        registry
            .register(Box::new(build))
            .expect("unique metric name");
        let server = ServerMetrics::register(&registry);
        let snapshot = Arc::new(SnapshotCollector::new(expires_in_metric));
        registry
            .register(Box::new(SharedCollector(snapshot.clone())))
            .expect("unique metric name");
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("unique metric name");
        Self {
            registry,
            poll_errors,
            api_requests,
            ratelimit_remaining,
            alerts_sent,
            rotations,
            server,
            duplicate_objects,
            poll_panics,
            poll_api_calls,
            snapshot,
            leader: std::sync::Mutex::new(None),
        }
    }

    /// The reload and HTTP-connection metrics.
    pub fn server(&self) -> &ServerMetrics {
        &self.server
    }

    /// Turn `certwatch_certificate_expires_in_seconds` on or off (a reload may change
    /// `[metrics] expires_in_seconds`); takes effect at the next `apply`.
    pub fn set_expires_in(&self, on: bool) {
        self.snapshot.expires_in.store(on, Ordering::Relaxed);
    }

    /// Rebuild the per-certificate and per-tenant series from a snapshot.
    pub fn apply(&self, snapshot: &Snapshot, policy: &Policy, now: OffsetDateTime) {
        self.snapshot.rebuild(snapshot, policy, now);
    }

    /// Count one poll's errors.
    pub fn count_poll_errors(&self, tenant: &str, errors: &[PollError]) {
        for e in errors {
            self.poll_errors
                .with_label_values(&[bound(tenant), e.source.as_str(), e.reason.as_str()])
                .inc();
        }
    }

    /// Count what one poll of `tenant` ran into: its errors, the objects its listings returned
    /// twice, whether it panicked, and what it cost.
    pub fn count_poll(&self, tenant: &str, outcome: &PollOutcome) {
        self.count_poll_errors(tenant, &outcome.errors);
        self.poll_api_calls
            .with_label_values(&[bound(tenant)])
            .set(i64::try_from(outcome.api_calls).unwrap_or(i64::MAX));
        for d in &outcome.duplicates {
            self.duplicate_objects
                .with_label_values(&[bound(tenant), d.endpoint])
                .inc_by(d.count);
        }
        if outcome.panicked {
            self.poll_panics.with_label_values(&[bound(tenant)]).inc();
        }
    }

    /// Count one alert delivery.
    pub fn alert_sent(&self, channel: &str, severity: &str, outcome: &str) {
        self.alerts_sent
            .with_label_values(&[bound(channel), severity, outcome])
            .inc();
    }

    /// Count one rotation step.
    pub fn rotation(&self, tenant: &str, kind: &str, outcome: &str) {
        self.rotations
            .with_label_values(&[bound(tenant), kind, outcome])
            .inc();
    }

    /// Export `gauge` as `certwatch_leader` (daemon::lease owns it) in place of the one a
    /// previous configuration exported, if any; `None` exports none (no `[ha]`).
    pub fn set_leader_gauge(&self, gauge: Option<prometheus::IntGauge>) {
        let mut current = self.leader.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = current.take() {
            let _ = self.registry.unregister(Box::new(old));
        }
        if let Some(g) = gauge {
            match self.registry.register(Box::new(g.clone())) {
                Ok(()) => *current = Some(g),
                Err(e) => tracing::warn!(error = %e, "cannot export certwatch_leader"),
            }
        }
    }

    /// The text exposition: the registry's families and the text of the last snapshot's
    /// families, in name order (as one registry would gather them).
    pub fn render(&self) -> String {
        let families = self.registry.gather();
        let snapshot = self.snapshot.text();
        let mut blocks = snapshot.iter().peekable();
        let size = snapshot.iter().map(|(_, text)| text.len()).sum::<usize>();
        let mut out = String::with_capacity(size + 16 * 1024);
        let encoder = TextEncoder::new();
        for mf in &families {
            while let Some((_, text)) = blocks.next_if(|(name, _)| name.as_str() < mf.name()) {
                out.push_str(text);
            }
            if let Err(e) = encoder.encode_utf8(std::slice::from_ref(mf), &mut out) {
                tracing::error!(error = %e, "cannot encode metrics");
            }
        }
        blocks.for_each(|(_, text)| out.push_str(text));
        out
    }
}

/// Counters fed by the Auth0 client. The client knows only its own `auth0::Observer` trait;
/// `app` adapts these methods to it, so the metrics never import the client.
impl Metrics {
    /// One HTTP exchange with Auth0 for `endpoint` (a route template) with `code` (status or
    /// `timeout` / `transport`).
    pub fn api_request(&self, tenant: &str, endpoint: &str, code: &str) {
        self.api_requests
            .with_label_values(&[bound(tenant), endpoint, code])
            .inc();
    }

    /// The last `x-ratelimit-remaining` a Management API response carried.
    pub fn ratelimit_remaining(&self, tenant: &str, remaining: u64) {
        self.ratelimit_remaining
            .with_label_values(&[bound(tenant)])
            .set(i64::try_from(remaining).unwrap_or(i64::MAX));
    }
}

/// The snapshot-derived families, kept as text and swapped as a whole after each poll (the
/// per-certificate ones are written by `exposition`). Registered for its descriptions only, so
/// that no other metric takes their names; `render` adds the text.
struct SnapshotCollector {
    descs: Vec<Desc>,
    expires_in: AtomicBool,
    text: RwLock<Arc<Vec<exposition::Block>>>,
}

struct SharedCollector(Arc<SnapshotCollector>);

impl Collector for SharedCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.0.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        Vec::new()
    }
}

/// Fresh gauge vectors for one rebuild.
struct Families {
    up: GaugeVec,
    last_success: GaugeVec,
    duration: GaugeVec,
    finding: GaugeVec,
    idp_not_after: GaugeVec,
    idp_valid_until: GaugeVec,
    domain_not_after: GaugeVec,
    domain_renews_before: GaugeVec,
    domain_info: GaugeVec,
}

impl Families {
    fn new() -> Self {
        let g = |name: &str, help: String, labels: &[&str]| {
            GaugeVec::new(Opts::new(name, help), labels).expect("static metric definition")
        };
        Self {
            up: g(
                "certwatch_tenant_up",
                format!("1 if the last poll of the tenant succeeded completely {FROM_POLL}."),
                &["tenant"],
            ),
            last_success: g(
                "certwatch_poll_last_success_timestamp_seconds",
                "Unix time of the last completely successful poll of the tenant.".into(),
                &["tenant"],
            ),
            duration: g(
                "certwatch_poll_duration_seconds",
                "Duration of the last poll of the tenant, seconds.".into(),
                &["tenant"],
            ),
            finding: g(
                "certwatch_finding",
                format!(
                    "1 for each finding beyond expiry dates (finding = what is wrong) {FROM_POLL}."
                ),
                &["tenant", "kind", "object_id", "object_name", "finding"],
            ),
            idp_not_after: g(
                "certwatch_idp_certificate_not_after_timestamp_seconds",
                format!(
                    "Expiry of each signing certificate a connection's IdP publishes (SAML/ADFS metadata, upstream OIDC JWKS), Unix seconds; trusted = whether the connection trusts it (dynamic for OIDC) {FROM_POLL}."
                ),
                &[
                    "tenant",
                    "kind",
                    "object_id",
                    "object_name",
                    "cert_id",
                    "source",
                    "trusted",
                ],
            ),
            idp_valid_until: g(
                "certwatch_idp_metadata_valid_until_timestamp_seconds",
                format!("The validUntil of a connection's IdP metadata, Unix seconds {FROM_POLL}."),
                &["tenant", "object_id", "object_name"],
            ),
            domain_not_after: g(
                "certwatch_custom_domain_certificate_not_after_timestamp_seconds",
                format!(
                    "Expiry of the certificate a self-managed custom domain serves (TLS probe), Unix seconds {FROM_POLL}."
                ),
                &["tenant", "object_id", "domain"],
            ),
            domain_renews_before: g(
                "certwatch_custom_domain_renews_before_timestamp_seconds",
                format!(
                    "When Auth0 will have renewed a managed custom domain certificate (renews_before), Unix seconds {FROM_POLL}."
                ),
                &["tenant", "object_id", "domain"],
            ),
            domain_info: g(
                "certwatch_custom_domain_info",
                format!("Custom domain type and status; always 1 {FROM_POLL}."),
                &[
                    "tenant",
                    "object_id",
                    "domain",
                    "type",
                    "status",
                    "certificate_status",
                ],
            ),
        }
    }

    fn all(&self) -> Vec<&GaugeVec> {
        vec![
            &self.up,
            &self.last_success,
            &self.duration,
            &self.finding,
            &self.idp_not_after,
            &self.idp_valid_until,
            &self.domain_not_after,
            &self.domain_renews_before,
            &self.domain_info,
        ]
    }
}

impl SnapshotCollector {
    fn new(expires_in: bool) -> Self {
        // Every family is described, so `expires_in` can be switched on later.
        let f = Families::new();
        let mut descs = exposition::descs();
        descs.extend(f.all().iter().flat_map(|g| g.desc().into_iter().cloned()));
        Self {
            descs,
            expires_in: AtomicBool::new(expires_in),
            text: RwLock::new(Arc::default()),
        }
    }

    /// The families of the last snapshot, as text, in name order.
    fn text(&self) -> Arc<Vec<exposition::Block>> {
        self.text.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn rebuild(&self, snapshot: &Snapshot, policy: &Policy, now: OffsetDateTime) {
        let f = Families::new();
        for t in &snapshot.tenants {
            let tenant = bound(&t.name);
            f.up.with_label_values(&[tenant])
                .set(if t.up { 1.0 } else { 0.0 });
            if let Some(ts) = t.last_success {
                f.last_success
                    .with_label_values(&[tenant])
                    .set(ts.unix_timestamp() as f64);
            }
            if let Some(d) = t.poll_duration {
                f.duration.with_label_values(&[tenant]).set(d.as_secs_f64());
            }
        }
        for t in &snapshot.tenants {
            remote_facts(&f, t);
        }
        for x in crate::findings::evaluate(snapshot, policy, now) {
            f.finding
                .with_label_values(&[
                    bound(&x.tenant),
                    x.object_kind,
                    bound(&x.object_id),
                    bound(&x.object_name),
                    x.finding.as_str(),
                ])
                .set(1.0);
        }
        // A registry of their own sorts them as the main one would; each becomes text.
        let registry = Registry::new();
        for g in f.all() {
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric name");
        }
        let expires_in = self.expires_in.load(Ordering::Relaxed);
        let mut text = exposition::certificates(snapshot, policy, now, expires_in);
        let encoder = TextEncoder::new();
        for mf in registry.gather() {
            let mut block = String::new();
            if let Err(e) = encoder.encode_utf8(std::slice::from_ref(&mf), &mut block) {
                tracing::error!(error = %e, "cannot encode metrics");
            }
            text.push((mf.name().to_string(), block));
        }
        text.sort_by(|a, b| a.0.cmp(&b.0));
        *self.text.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(text);
    }
}

/// The series of one tenant's remote facts (IdP certificates, custom domains).
fn remote_facts(f: &Families, t: &crate::inventory::TenantSnapshot) {
    let tenant = bound(&t.name);
    for doc in &t.facts.idp {
        let Some(p) = &doc.published else { continue };
        let (id, name) = (bound(&doc.connection_id), bound(&doc.connection_name));
        let trusted_kind = t
            .records
            .iter()
            .find(|r| r.object_id == doc.connection_id && r.sha1.is_some())
            .map_or(crate::inventory::Kind::ConnectionSigningCert, |r| r.kind);
        if let Some(until) = p.valid_until {
            f.idp_valid_until
                .with_label_values(&[tenant, id, name])
                .set(until.unix_timestamp() as f64);
        }
        for c in &p.certs {
            let Some(info) = &c.cert else { continue };
            let trusted = match crate::inventory::remote::trusted(&t.records, doc, &c.sha1) {
                None => "dynamic",
                Some(true) => "true",
                Some(false) => "false",
            };
            f.idp_not_after
                .with_label_values(&[
                    tenant,
                    trusted_kind.as_str(),
                    id,
                    name,
                    &c.sha1,
                    doc.kind.as_str(),
                    trusted,
                ])
                .set(info.not_after.unix_timestamp() as f64);
        }
    }
    for d in t.facts.custom_domains.iter().flatten() {
        let (id, domain) = (bound(&d.id), bound(&d.domain));
        let opt = |v: &Option<String>| bound(v.as_deref().unwrap_or("")).to_string();
        f.domain_info
            .with_label_values(&[
                tenant,
                id,
                domain,
                bound(&d.domain_type),
                &opt(&d.status),
                &opt(&d.certificate_status),
            ])
            .set(1.0);
        if let Some(rb) = d.renews_before {
            f.domain_renews_before
                .with_label_values(&[tenant, id, domain])
                .set(rb.unix_timestamp() as f64);
        }
        let leaf = d
            .probe
            .as_ref()
            .and_then(|p| p.chain.as_ref())
            .and_then(|c| c.first())
            .and_then(|l| l.cert.as_ref());
        if let Some(info) = leaf {
            f.domain_not_after
                .with_label_values(&[tenant, id, domain])
                .set(info.not_after.unix_timestamp() as f64);
        }
    }
}

#[cfg(test)]
mod tests;
