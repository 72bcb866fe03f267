//! The configuration file as written (`RawConfig` and one struct per section): serde types with
//! unknown keys rejected and every field optional or defaulted, so that parsing only checks
//! types. Meaning is given later by the section validators; `check-config` prints these same
//! types back (secrets masked, see `masked`). The keys are described in docs/configuration.md.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The config file as written. Every field is documented in `config/certwatch.example.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// Where the alert ledger, rotation audit log and lock live.
    pub state_dir: Option<PathBuf>,
    /// `[server]`.
    pub server: RawServer,
    /// `[schedule]`.
    pub schedule: RawSchedule,
    /// `[policy]`.
    pub policy: RawPolicy,
    /// `[metrics]`.
    pub metrics: RawMetrics,
    /// `[metadata]`: remote fetches (IdP metadata, upstream JWKS, TLS probes).
    pub metadata: RawMetadata,
    /// `[[tenants]]`.
    pub tenants: Vec<RawTenant>,
    /// `[alerts]`.
    pub alerts: RawAlerts,
    /// `[rotation]`.
    pub rotation: RawRotation,
    /// `[ha]`: several replicas (leader election).
    pub ha: RawHa,
}

/// `[server]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    /// Listen address, `127.0.0.1:9879` by default.
    pub listen: Option<String>,
    /// Require `Authorization: Bearer <token>` on /metrics, /api and / (probes stay open).
    pub bearer_token: Option<Secret>,
    /// Env var holding the bearer token.
    pub bearer_token_env: Option<String>,
    /// File holding the bearer token.
    pub bearer_token_file: Option<PathBuf>,
    /// Require HTTP basic auth with this user (and `basic_password*`).
    pub basic_username: Option<String>,
    /// Basic auth password.
    pub basic_password: Option<Secret>,
    /// Env var holding the basic auth password.
    pub basic_password_env: Option<String>,
    /// File holding the basic auth password.
    pub basic_password_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Connections open at once, default 1024 (at the limit the longest-idle one is closed).
    pub max_connections: Option<usize>,
    /// Time to receive a complete request head, default `10s`.
    pub header_read_timeout: Option<String>,
    /// Time a kept-alive connection may stay without traffic, default `90s`.
    pub idle_timeout: Option<String>,
}

/// `[schedule]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSchedule {
    /// 6-field cron with seconds.
    pub cron: Option<String>,
    /// Or a fixed interval (`"15m"`).
    pub interval: Option<String>,
    /// Poll once at start (default true).
    pub run_on_start: Option<bool>,
    /// Each tenant's poll is stopped after this long (default nine tenths of the interval).
    pub poll_timeout: Option<String>,
}

/// `[policy]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPolicy {
    /// Default `30d`.
    pub warning_before: Option<String>,
    /// Default `7d`.
    pub critical_before: Option<String>,
    /// Default current, next, in_use, active.
    pub alert_roles: Option<Vec<String>>,
    /// `[[policy.overrides]]`.
    pub overrides: Vec<RawOverride>,
}

/// `[[policy.overrides]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOverride {
    /// Match kind.
    pub kind: Option<String>,
    /// Match tenant.
    pub tenant: Option<String>,
    /// Match object name.
    pub object_name: Option<String>,
    /// Match object id.
    pub object_id: Option<String>,
    /// Own warning horizon.
    pub warning_before: Option<String>,
    /// Own critical horizon.
    pub critical_before: Option<String>,
    /// Never alert.
    pub mute: Option<bool>,
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    /// Also export `certwatch_certificate_expires_in_seconds` (computed at scrape time).
    pub expires_in_seconds: Option<bool>,
}

/// `[metadata]` (docs/findings.md): opt-in fetches outside Auth0.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetadata {
    /// Fetch IdP metadata / upstream JWKS and probe custom domains (default false).
    pub enabled: Option<bool>,
    /// Allow `http://` URLs (default false: https only).
    pub allow_http: Option<bool>,
    /// Bound on each fetch or probe, default `10s`.
    pub timeout: Option<String>,
    /// Largest document read, default 1 MiB.
    pub max_bytes: Option<usize>,
    /// TLS-probe self-managed custom domains (default true when enabled).
    pub probe_custom_domains: Option<bool>,
    /// Concurrent fetches and probes per tenant, default 8.
    pub concurrency: Option<usize>,
    /// Hosts metadata URLs may name (and their subdomains); empty or absent: any.
    pub allowed_hosts: Option<Vec<String>>,
}

/// A URL as written whose query or user info may hold a token (a metadata URL): `Debug` and
/// `Serialize` (what `check-config` prints) show it without them.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RawUrl(pub String);

/// `[[tenants]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTenant {
    /// The `tenant` label.
    pub name: String,
    /// `acme.eu.auth0.com`.
    pub domain: String,
    /// Default `https://{domain}`.
    pub base_url: Option<String>,
    /// M2M client id.
    pub client_id: String,
    /// Client secret (discouraged: use `_env` or `_file`).
    pub client_secret: Option<Secret>,
    /// Env var holding the client secret.
    pub client_secret_env: Option<String>,
    /// File holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// Default `https://{domain}/api/v2/`.
    pub audience: Option<String>,
    /// Per-request timeout, default `10s`.
    pub timeout: Option<String>,
    /// Client-side pacing.
    pub max_requests_per_second: Option<f64>,
    /// Sources to poll (default all).
    pub sources: Option<Vec<String>>,
    /// Concurrent per-object requests, default 4.
    pub concurrency: Option<usize>,
    /// Objects one listing (clients, connections, custom domains) may return, default 100000.
    pub max_items_per_listing: Option<usize>,
    /// The part of the tenant's rate-limit bucket certwatch may use, `0 < x ≤ 1`, default 0.5.
    pub budget_share: Option<f64>,
    /// How often unchanged objects' credentials and connection keys are re-read, default `6h`.
    pub full_refresh: Option<String>,
    /// Metadata URL per connection (name or id), overriding `metadataUrl` / `adfs_server` /
    /// `discovery_url`, or giving one to a connection that has none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata_urls: BTreeMap<String, RawUrl>,
    /// Where to connect to TLS-probe a custom domain (`host:port`), by domain name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub probe_addresses: BTreeMap<String, String>,
}

/// `[alerts]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAlerts {
    /// Re-notify while not ok, default `24h`.
    pub repeat_interval: Option<String>,
    /// Group one poll's notifications per channel.
    pub digest: Option<bool>,
    /// Send `resolved` notifications (default true).
    pub send_resolved: Option<bool>,
    /// Give up on a delivery after this long (default `24h`).
    pub give_up_after: Option<String>,
    /// `[[alerts.email]]`.
    pub email: Vec<RawEmail>,
    /// `[[alerts.webhook]]`.
    pub webhook: Vec<RawWebhook>,
    /// `[[alerts.alertmanager]]`.
    pub alertmanager: Vec<RawAlertmanager>,
    /// The metadata key naming an object's owning team (default `certwatch_owner`).
    pub owner_key: Option<String>,
}

/// Shared channel filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFilter {
    /// `warning` (default), `critical` or `expired`.
    pub min_severity: Option<String>,
    /// Only these tenants.
    pub tenants: Option<Vec<String>>,
    /// Only these kinds.
    pub kinds: Option<Vec<String>>,
    /// Only objects of these owners (records' `owner`).
    pub owners: Option<Vec<String>>,
}

/// `[[alerts.email]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEmail {
    /// Channel name (metrics, logs).
    pub name: Option<String>,
    /// SMTP host.
    pub host: String,
    /// SMTP port (default by tls mode).
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, `none`.
    pub tls: Option<String>,
    /// SMTP user.
    pub username: Option<String>,
    /// SMTP password.
    pub password: Option<Secret>,
    /// Env var with the password.
    pub password_env: Option<String>,
    /// File with the password.
    pub password_file: Option<PathBuf>,
    /// From address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Filters.
    #[serde(flatten)]
    pub filter: RawFilter,
    /// SMTP timeout, default `30s`.
    pub timeout: Option<String>,
}

/// `[[alerts.webhook]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWebhook {
    /// Channel name.
    pub name: Option<String>,
    /// URL (a secret: it often embeds a token).
    pub url: Option<Secret>,
    /// Env var with the URL.
    pub url_env: Option<String>,
    /// File with the URL.
    pub url_file: Option<PathBuf>,
    /// `json` (default), `slack`, `teams`.
    pub format: Option<String>,
    /// HMAC key.
    pub hmac_secret: Option<Secret>,
    /// Env var with the HMAC key.
    pub hmac_secret_env: Option<String>,
    /// File with the HMAC key.
    pub hmac_secret_file: Option<PathBuf>,
    /// Filters.
    #[serde(flatten)]
    pub filter: RawFilter,
    /// Request timeout, default `10s`.
    pub timeout: Option<String>,
}

/// `[[alerts.alertmanager]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAlertmanager {
    /// Channel name (metrics, logs), default `alertmanager-N`.
    pub name: Option<String>,
    /// Every Alertmanager of the cluster (each is posted to; never a load balancer). Printed
    /// without query and user info.
    pub urls: Vec<RawUrl>,
    /// Bearer token.
    pub bearer_token: Option<Secret>,
    /// Env var with the bearer token.
    pub bearer_token_env: Option<String>,
    /// File with the bearer token.
    pub bearer_token_file: Option<PathBuf>,
    /// Basic auth user.
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<Secret>,
    /// Env var with the password.
    pub password_env: Option<String>,
    /// File with the password.
    pub password_file: Option<PathBuf>,
    /// Filters.
    #[serde(flatten)]
    pub filter: RawFilter,
    /// Request timeout, default `10s`.
    pub timeout: Option<String>,
}

/// `[rotation]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRotation {
    /// Run a rotation pass after each poll in the daemon.
    pub enabled: Option<bool>,
    /// Let the daemon's pass change Auth0 (default false: the pass is a dry run that reports and
    /// alerts on what is due or blocked; `certwatch rotate --apply` is the explicit way).
    pub apply: Option<bool>,
    /// Rotate when the current certificate expires within this, default `30d`.
    pub rotate_before: Option<String>,
    /// Default `{state_dir}/rotation-audit.jsonl`.
    pub audit_log: Option<PathBuf>,
    /// Credential overlap before the old one is removed, default `24h`.
    pub overlap: Option<String>,
    /// `[rotation.store]`.
    pub store: Option<RawStore>,
    /// `[[rotation.targets]]`.
    pub targets: Vec<RawTarget>,
    /// `windows = [{ cron, duration }]`: when an applying pass may write (UTC); none = always.
    pub windows: Vec<RawWindow>,
}

/// One `rotation.windows` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWindow {
    /// 6-field cron expression (seconds first, UTC): when the window opens.
    pub cron: String,
    /// How long it stays open, e.g. `2h`.
    pub duration: String,
}

/// `[rotation.store]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStore {
    /// `filesystem`.
    pub kind: String,
    /// Root directory.
    pub path: PathBuf,
}

/// `[[rotation.targets]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTarget {
    /// Tenant name.
    pub tenant: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Object name.
    pub object_name: Option<String>,
    /// Object id.
    pub object_id: Option<String>,
    /// File or directory under the store, or `metadata` (what the IdP publishes).
    pub source: String,
    /// `enabled` (default) or `disabled` (matched objects are never rotated).
    pub policy: Option<String>,
}

/// `[ha]` (docs/configuration.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHa {
    /// `"kubernetes"` (a Lease) or `"none"` (default).
    pub leader_election: Option<String>,
    /// Lease name, default `certwatch`.
    pub lease_name: Option<String>,
    /// Lease namespace, default the service account's.
    pub namespace: Option<String>,
    /// Default `15s`.
    pub lease_duration: Option<String>,
    /// Default `5s`.
    pub renew_every: Option<String>,
    /// Holder identity, default the pod name.
    pub identity: Option<String>,
}
