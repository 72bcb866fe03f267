//! Configuration: figment (defaults → TOML file → `CERTWATCH_*` env, `__` nests) into `RawConfig`
//! (serde, unknown keys rejected), then `validate()` into `Config` (durations, URLs, cron and
//! secrets resolved) once at start-up. Nothing else reads configuration files or env vars.

use crate::inventory::{Kind, Role, Source};
use crate::policy::{Override, Policy};
use crate::secret::Secret;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Default config path (overridable with `--config` / `CERTWATCH_CONFIG`).
pub const DEFAULT_PATH: &str = "/etc/certwatch/certwatch.toml";
/// Default HTTP listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9879";

/// A configuration problem, naming the key and the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Parsing / unknown key / wrong type (figment names the key and the file).
    #[error("{0}")]
    Parse(Box<figment::Error>),
    /// A value that parsed but makes no sense.
    #[error("invalid value for `{key}`{}: {message}", .file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default())]
    Invalid {
        /// Dotted key path.
        key: String,
        /// What is wrong.
        message: String,
        /// The config file, if any.
        file: Option<PathBuf>,
    },
}

// ===== raw (as written) =====

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

/// `[metadata]` (SPEC §11): opt-in fetches outside Auth0.
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

fn masked_url(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(u) => MetadataUrl(u).masked(),
        Err(_) => "(not a URL)".into(),
    }
}

impl std::fmt::Debug for RawUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&masked_url(&self.0))
    }
}

impl Serialize for RawUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&masked_url(&self.0))
    }
}

/// A validated metadata URL; `Debug` hides its query and user info.
#[derive(Clone, PartialEq, Eq)]
pub struct MetadataUrl(pub Url);

impl MetadataUrl {
    /// `scheme://host[:port]/path`, saying so when a query or user info was left out.
    pub fn masked(&self) -> String {
        let u = &self.0;
        let mut out = crate::remote::fetch::redact(u);
        if u.query().is_some() || !u.username().is_empty() || u.password().is_some() {
            out.push_str(" (query and user info masked)");
        }
        out
    }
}

impl std::fmt::Debug for MetadataUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

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
    /// File or directory under the store.
    pub source: String,
}

// ===== validated =====

/// How polls are triggered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A 6-field cron expression (seconds first).
    Cron(String),
    /// A fixed interval.
    Interval(Duration),
}

/// `[schedule]`, validated.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// When to poll.
    pub trigger: Trigger,
    /// Poll once at start.
    pub run_on_start: bool,
}

impl Schedule {
    /// The nominal time between polls (for `/readyz` and staleness).
    pub fn interval(&self) -> Duration {
        match &self.trigger {
            Trigger::Interval(d) => *d,
            Trigger::Cron(expr) => cron_interval(expr).unwrap_or(Duration::from_secs(900)),
        }
    }
}

/// One tenant, validated.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Label.
    pub name: String,
    /// Domain.
    pub domain: String,
    /// Base URL ending in `/`.
    pub base_url: Url,
    /// M2M client id.
    pub client_id: String,
    /// M2M client secret.
    pub client_secret: Secret,
    /// Token audience.
    pub audience: String,
    /// Request timeout.
    pub timeout: Duration,
    /// Client-side pacing.
    pub max_requests_per_second: Option<f64>,
    /// Enabled sources.
    pub sources: BTreeSet<Source>,
    /// Concurrent per-object requests.
    pub concurrency: usize,
    /// Metadata URL overrides by connection name or id.
    pub metadata_urls: BTreeMap<String, MetadataUrl>,
    /// TLS probe addresses by custom domain.
    pub probe_addresses: BTreeMap<String, String>,
}

/// `[metadata]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Remote fetches on.
    pub enabled: bool,
    /// `http://` allowed.
    pub allow_http: bool,
    /// Per fetch / probe.
    pub timeout: Duration,
    /// Largest document.
    pub max_bytes: usize,
    /// Probe self-managed custom domains.
    pub probe_custom_domains: bool,
    /// Concurrent fetches and probes per tenant.
    pub concurrency: usize,
    /// Hosts metadata URLs may name (lowercase, and their subdomains); empty: any.
    pub allowed_hosts: Vec<String>,
}

/// Alert severities a channel can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Expires within warning_before.
    Warning,
    /// Expires within critical_before.
    Critical,
    /// Expired.
    Expired,
}

impl Severity {
    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
            Severity::Expired => "expired",
        }
    }
}

/// Channel filters, validated.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Lowest severity sent.
    pub min_severity: Severity,
    /// Tenants (empty = all).
    pub tenants: Vec<String>,
    /// Kinds (empty = all).
    pub kinds: Vec<Kind>,
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS upgrade (port 587).
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
    /// Plain text (local relays, tests).
    None,
}

/// `[[alerts.email]]`, validated.
#[derive(Debug, Clone)]
pub struct EmailChannel {
    /// Name.
    pub name: String,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Security.
    pub tls: SmtpTls,
    /// Login.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// From.
    pub from: String,
    /// To.
    pub to: Vec<String>,
    /// Filters.
    pub filter: Filter,
    /// Timeout.
    pub timeout: Duration,
}

/// Webhook payload formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// certwatch's versioned JSON.
    Json,
    /// Slack incoming webhook.
    Slack,
    /// Microsoft Teams.
    Teams,
}

/// `[[alerts.webhook]]`, validated.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    /// Name.
    pub name: String,
    /// URL.
    pub url: Secret,
    /// Format.
    pub format: WebhookFormat,
    /// HMAC key.
    pub hmac_secret: Option<Secret>,
    /// Filters.
    pub filter: Filter,
    /// Timeout.
    pub timeout: Duration,
}

/// `[alerts]`, validated.
#[derive(Debug, Clone)]
pub struct Alerts {
    /// Re-notify interval.
    pub repeat_interval: Duration,
    /// Digest mode.
    pub digest: bool,
    /// Send resolved notifications.
    pub send_resolved: bool,
    /// Give up on a delivery after this long.
    pub give_up_after: Duration,
    /// Email channels.
    pub email: Vec<EmailChannel>,
    /// Webhook channels.
    pub webhook: Vec<WebhookChannel>,
}

/// `[[rotation.targets]]`, validated.
#[derive(Debug, Clone)]
pub struct Target {
    /// Tenant.
    pub tenant: Option<String>,
    /// Kind.
    pub kind: Option<Kind>,
    /// Object name.
    pub object_name: Option<String>,
    /// Object id.
    pub object_id: Option<String>,
    /// Source under the store.
    pub source: PathBuf,
}

/// `[rotation]`, validated.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// Daemon pass enabled.
    pub enabled: bool,
    /// The daemon pass applies changes (otherwise it is a dry run).
    pub apply: bool,
    /// Horizon.
    pub rotate_before: Duration,
    /// Audit log path.
    pub audit_log: PathBuf,
    /// Credential overlap.
    pub overlap: Duration,
    /// Store root (filesystem).
    pub store: Option<PathBuf>,
    /// Targets.
    pub targets: Vec<Target>,
}

/// Access control of the HTTP server (`/healthz` and `/readyz` are always open for probes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HttpAuth {
    /// No authentication (bind to loopback or protect at the network level).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic …`.
    Basic {
        /// User.
        username: String,
        /// Password.
        password: Secret,
    },
}

/// TLS for the HTTP server (`[server] cert_file` + `key_file`), checked at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub file: Option<PathBuf>,
    /// State directory.
    pub state_dir: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// Access control for /metrics, /api and the status page.
    pub http_auth: HttpAuth,
    /// Serve HTTPS instead of HTTP.
    pub server_tls: Option<ServerTls>,
    /// Schedule.
    pub schedule: Schedule,
    /// Policy.
    pub policy: Policy,
    /// Export `certwatch_certificate_expires_in_seconds`.
    pub expires_in_metric: bool,
    /// Remote fetches.
    pub metadata: Metadata,
    /// Tenants.
    pub tenants: Vec<Tenant>,
    /// Alerts.
    pub alerts: Alerts,
    /// Rotation.
    pub rotation: Rotation,
    /// What was read (secrets masked when printed).
    pub raw: RawConfig,
}

/// The longest duration any key accepts (100 years).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);
/// The largest secret file read (a token, password or key is far smaller; `/dev/zero` is not).
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Read a secret file, refusing anything larger than [`MAX_SECRET_FILE_BYTES`].
fn read_secret_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_SECRET_FILE_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// Where env lookups go (a seam for tests).
pub trait EnvSource {
    /// The value of `name`.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Load `path` (if it exists or was given explicitly) plus `CERTWATCH_*` env, then validate.
pub fn load(path: Option<&Path>) -> Result<Config, Error> {
    let explicit = path.is_some();
    let path = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    if explicit && !path.exists() {
        return Err(Error::Invalid {
            key: "--config".into(),
            message: format!("{} does not exist", path.display()),
            file: None,
        });
    }
    let figment = Figment::new()
        .merge(Toml::file(&path))
        .merge(Env::prefixed("CERTWATCH_").split("__").ignore(&["config"]));
    let raw: RawConfig = figment.extract().map_err(|e| Error::Parse(Box::new(e)))?;
    validate(raw, path.exists().then_some(path), &ProcessEnv)
}

/// Parse a TOML string (tests, `demo`).
pub fn from_toml(text: &str) -> Result<Config, Error> {
    let raw: RawConfig = Figment::new()
        .merge(Toml::string(text))
        .extract()
        .map_err(|e| Error::Parse(Box::new(e)))?;
    validate(raw, None, &ProcessEnv)
}

struct Ctx<'a> {
    file: Option<PathBuf>,
    env: &'a dyn EnvSource,
}

impl Ctx<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            key: key.into(),
            message: message.into(),
            file: self.file.clone(),
        }
    }

    fn duration(&self, key: &str, v: Option<&str>, default: Duration) -> Result<Duration, Error> {
        match v {
            None => Ok(default),
            Some(s) => {
                let d = humantime::parse_duration(s.trim()).map_err(|e| {
                    self.err(
                        key,
                        format!("{s:?} is not a duration like \"30d\" or \"15m\": {e}"),
                    )
                })?;
                // Past this, `now + d` and `2 × interval` could overflow date and time types.
                if d > MAX_DURATION {
                    return Err(self.err(
                        key,
                        format!(
                            "{s:?} is longer than {}",
                            humantime::format_duration(MAX_DURATION)
                        ),
                    ));
                }
                Ok(d)
            }
        }
    }

    /// Resolve `X` / `X_env` / `X_file` (exactly one may be set).
    fn secret(
        &self,
        key: &str,
        direct: &Option<Secret>,
        env: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Result<Option<Secret>, Error> {
        let set = [direct.is_some(), env.is_some(), file.is_some()];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(self.err(
                key,
                format!("set only one of `{key}`, `{key}_env`, `{key}_file`"),
            ));
        }
        if let Some(s) = direct {
            return Ok(Some(s.clone()));
        }
        if let Some(var) = env {
            return match self.env.var(var) {
                Some(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(self.err(
                    format!("{key}_env"),
                    format!("environment variable {var} is not set or empty"),
                )),
            };
        }
        if let Some(path) = file {
            return match read_secret_file(path) {
                Ok(v) => Ok(Some(Secret::new(v.trim_end_matches(['\n', '\r'])))),
                Err(e) => Err(self.err(
                    format!("{key}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )),
            };
        }
        Ok(None)
    }

    fn filter(&self, key: &str, f: &RawFilter) -> Result<Filter, Error> {
        let min_severity = match f.min_severity.as_deref().unwrap_or("warning") {
            "warning" => Severity::Warning,
            "critical" => Severity::Critical,
            "expired" => Severity::Expired,
            other => {
                return Err(self.err(
                    format!("{key}.min_severity"),
                    format!("{other:?} is not one of warning, critical, expired"),
                ));
            }
        };
        let kinds = f
            .kinds
            .iter()
            .flatten()
            .map(|k| self.kind(&format!("{key}.kinds"), k))
            .collect::<Result<_, _>>()?;
        Ok(Filter {
            min_severity,
            tenants: f.tenants.clone().unwrap_or_default(),
            kinds,
        })
    }

    fn kind(&self, key: &str, k: &str) -> Result<Kind, Error> {
        Kind::parse(k).ok_or_else(|| {
            let all: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            self.err(
                key,
                format!("unknown kind {k:?} (one of {})", all.join(", ")),
            )
        })
    }
}

/// Validate a raw config (pure apart from secret env/file lookups through `env`).
pub fn validate(
    raw: RawConfig,
    file: Option<PathBuf>,
    env: &dyn EnvSource,
) -> Result<Config, Error> {
    let cx = Ctx { file, env };

    let listen_s = raw.server.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen: SocketAddr = listen_s.parse().map_err(|e| {
        cx.err(
            "server.listen",
            format!("{listen_s:?} is not host:port: {e}"),
        )
    })?;

    let srv = &raw.server;
    let bearer = cx.secret(
        "server.bearer_token",
        &srv.bearer_token,
        &srv.bearer_token_env,
        &srv.bearer_token_file,
    )?;
    let basic_password = cx.secret(
        "server.basic_password",
        &srv.basic_password,
        &srv.basic_password_env,
        &srv.basic_password_file,
    )?;
    let http_auth = match (bearer, &srv.basic_username, basic_password) {
        (None, None, None) => HttpAuth::None,
        (Some(token), None, None) => HttpAuth::Bearer(token),
        (None, Some(user), Some(password)) => HttpAuth::Basic {
            username: user.clone(),
            password,
        },
        (None, Some(_), None) => {
            return Err(cx.err(
                "server.basic_password",
                "basic_username needs a basic_password",
            ));
        }
        (None, None, Some(_)) => {
            return Err(cx.err(
                "server.basic_username",
                "basic_password needs a basic_username",
            ));
        }
        (Some(_), _, _) => {
            return Err(cx.err("server", "set either bearer_token or basic auth, not both"));
        }
    };

    let server_tls = match (&srv.cert_file, &srv.key_file) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(cx.err("server.key_file", "cert_file needs a key_file"));
        }
        (None, Some(_)) => {
            return Err(cx.err("server.cert_file", "key_file needs a cert_file"));
        }
        (Some(cert), Some(key)) => {
            // Loaded here so that `check-config` and a SIGHUP reload reject a broken pair.
            crate::tls::server_config(cert, key)
                .map_err(|e| cx.err(e.config_key(), e.to_string()))?;
            Some(ServerTls {
                cert_file: cert.clone(),
                key_file: key.clone(),
            })
        }
    };

    let trigger = match (&raw.schedule.cron, &raw.schedule.interval) {
        (Some(_), Some(_)) => {
            return Err(cx.err("schedule", "set either `cron` or `interval`, not both"));
        }
        (Some(c), None) => {
            cron_interval(c).map_err(|e| cx.err("schedule.cron", e))?;
            Trigger::Cron(c.trim().to_string())
        }
        (None, Some(i)) => {
            let d = cx.duration("schedule.interval", Some(i), Duration::ZERO)?;
            if d < Duration::from_secs(1) {
                return Err(cx.err("schedule.interval", "must be at least 1s"));
            }
            Trigger::Interval(d)
        }
        (None, None) => Trigger::Cron("0 */15 * * * *".to_string()),
    };
    let schedule = Schedule {
        trigger,
        run_on_start: raw.schedule.run_on_start.unwrap_or(true),
    };

    let mut policy = Policy::default();
    policy.thresholds.warning_before = cx.duration(
        "policy.warning_before",
        raw.policy.warning_before.as_deref(),
        policy.thresholds.warning_before,
    )?;
    policy.thresholds.critical_before = cx.duration(
        "policy.critical_before",
        raw.policy.critical_before.as_deref(),
        policy.thresholds.critical_before,
    )?;
    if policy.thresholds.critical_before > policy.thresholds.warning_before {
        return Err(cx.err(
            "policy.critical_before",
            "must not be longer than warning_before",
        ));
    }
    if let Some(roles) = &raw.policy.alert_roles {
        policy.alert_roles = roles
            .iter()
            .map(|r| {
                Role::parse(r).ok_or_else(|| {
                    let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                    cx.err(
                        "policy.alert_roles",
                        format!("unknown role {r:?} (one of {})", all.join(", ")),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
    }
    for (i, o) in raw.policy.overrides.iter().enumerate() {
        let key = format!("policy.overrides[{i}]");
        policy.overrides.push(Override {
            kind: o
                .kind
                .as_deref()
                .map(|k| cx.kind(&format!("{key}.kind"), k))
                .transpose()?,
            tenant: o.tenant.clone(),
            object_name: o.object_name.clone(),
            object_id: o.object_id.clone(),
            warning_before: o
                .warning_before
                .as_deref()
                .map(|d| cx.duration(&format!("{key}.warning_before"), Some(d), Duration::ZERO))
                .transpose()?,
            critical_before: o
                .critical_before
                .as_deref()
                .map(|d| cx.duration(&format!("{key}.critical_before"), Some(d), Duration::ZERO))
                .transpose()?,
            mute: o.mute.unwrap_or(false),
        });
    }

    let metadata = Metadata {
        enabled: raw.metadata.enabled.unwrap_or(false),
        allow_http: raw.metadata.allow_http.unwrap_or(false),
        timeout: cx.duration(
            "metadata.timeout",
            raw.metadata.timeout.as_deref(),
            Duration::from_secs(10),
        )?,
        max_bytes: match raw.metadata.max_bytes {
            None => 1 << 20,
            Some(0) => return Err(cx.err("metadata.max_bytes", "must be at least 1")),
            Some(n) => n,
        },
        probe_custom_domains: raw.metadata.probe_custom_domains.unwrap_or(true),
        concurrency: raw.metadata.concurrency.unwrap_or(8).clamp(1, 64),
        allowed_hosts: raw
            .metadata
            .allowed_hosts
            .iter()
            .flatten()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect(),
    };
    if let Some(bad) = metadata
        .allowed_hosts
        .iter()
        .find(|h| h.is_empty() || h.contains(['/', ':', ' ', '@']))
    {
        return Err(cx.err(
            "metadata.allowed_hosts",
            format!("{bad:?} is not a host name (write idp.example.com, no scheme or port)"),
        ));
    }
    if metadata.timeout.is_zero() {
        return Err(cx.err("metadata.timeout", "must be longer than zero"));
    }

    let mut tenants = Vec::new();
    let mut names = BTreeSet::new();
    for (i, t) in raw.tenants.iter().enumerate() {
        let key = format!("tenants[{i}]");
        if t.name.trim().is_empty() {
            return Err(cx.err(format!("{key}.name"), "is required"));
        }
        if !names.insert(t.name.clone()) {
            return Err(cx.err(
                format!("{key}.name"),
                format!("duplicate tenant name {:?}", t.name),
            ));
        }
        if t.domain.trim().is_empty() {
            return Err(cx.err(format!("{key}.domain"), "is required"));
        }
        if t.client_id.trim().is_empty() {
            return Err(cx.err(format!("{key}.client_id"), "is required"));
        }
        // Without a base_url the domain becomes the URL's host: it must be a bare host name
        // (no port, path, user info or spaces), and a bad one is reported as the domain.
        if t.base_url.is_none()
            && !t
                .domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(cx.err(
                format!("{key}.domain"),
                format!(
                    "{:?} is not a host name like acme.eu.auth0.com (set base_url for anything else)",
                    t.domain
                ),
            ));
        }
        let base = t
            .base_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", t.domain));
        let mut base_url = Url::parse(&base)
            .map_err(|e| cx.err(format!("{key}.base_url"), format!("{base:?}: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(cx.err(format!("{key}.base_url"), "must be http(s)"));
        }
        if !base_url.path().ends_with('/') {
            base_url.set_path(&format!("{}/", base_url.path()));
        }
        let client_secret = cx
            .secret(
                &format!("{key}.client_secret"),
                &t.client_secret,
                &t.client_secret_env,
                &t.client_secret_file,
            )?
            .ok_or_else(|| {
                cx.err(
                    format!("{key}.client_secret"),
                    "one of client_secret_env, client_secret_file or client_secret is required",
                )
            })?;
        let sources = match &t.sources {
            None => Source::POLLED.into_iter().collect(),
            Some(list) => list
                .iter()
                .map(|s| {
                    Source::parse(s).ok_or_else(|| {
                        let all: Vec<_> = Source::POLLED.iter().map(|s| s.as_str()).collect();
                        cx.err(
                            format!("{key}.sources"),
                            format!("unknown source {s:?} (one of {})", all.join(", ")),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if let Some(r) = t.max_requests_per_second
            && !(r > 0.0 && r.is_finite())
        {
            return Err(cx.err(
                format!("{key}.max_requests_per_second"),
                "must be a positive number",
            ));
        }
        tenants.push(Tenant {
            name: t.name.clone(),
            domain: t.domain.clone(),
            audience: t
                .audience
                .clone()
                .unwrap_or_else(|| format!("https://{}/api/v2/", t.domain)),
            base_url,
            client_id: t.client_id.clone(),
            client_secret,
            timeout: cx.duration(
                &format!("{key}.timeout"),
                t.timeout.as_deref(),
                Duration::from_secs(10),
            )?,
            max_requests_per_second: t.max_requests_per_second,
            sources,
            concurrency: t.concurrency.unwrap_or(4).clamp(1, 64),
            metadata_urls: metadata_urls(&cx, &key, t, &metadata)?,
            probe_addresses: probe_addresses(&cx, &key, t)?,
        });
    }

    let a = &raw.alerts;
    let mut email = Vec::new();
    for (i, e) in a.email.iter().enumerate() {
        let key = format!("alerts.email[{i}]");
        let tls = match e.tls.as_deref().unwrap_or("starttls") {
            "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Tls,
            "none" => SmtpTls::None,
            other => {
                return Err(cx.err(
                    format!("{key}.tls"),
                    format!("{other:?} is not one of starttls, tls, none"),
                ));
            }
        };
        if e.host.is_empty() {
            return Err(cx.err(format!("{key}.host"), "is required"));
        }
        if e.from.is_empty() {
            return Err(cx.err(format!("{key}.from"), "is required"));
        }
        if e.to.is_empty() {
            return Err(cx.err(format!("{key}.to"), "needs at least one recipient"));
        }
        email.push(EmailChannel {
            name: e.name.clone().unwrap_or_else(|| format!("email-{i}")),
            host: e.host.clone(),
            port: e.port.unwrap_or(match tls {
                SmtpTls::StartTls => 587,
                SmtpTls::Tls => 465,
                SmtpTls::None => 25,
            }),
            tls,
            username: e.username.clone(),
            password: cx.secret(
                &format!("{key}.password"),
                &e.password,
                &e.password_env,
                &e.password_file,
            )?,
            from: e.from.clone(),
            to: e.to.clone(),
            filter: cx.filter(&key, &e.filter)?,
            timeout: cx.duration(
                &format!("{key}.timeout"),
                e.timeout.as_deref(),
                Duration::from_secs(30),
            )?,
        });
    }
    let mut webhook = Vec::new();
    for (i, w) in a.webhook.iter().enumerate() {
        let key = format!("alerts.webhook[{i}]");
        let url = cx
            .secret(&format!("{key}.url"), &w.url, &w.url_env, &w.url_file)?
            .ok_or_else(|| {
                cx.err(
                    format!("{key}.url"),
                    "one of url_env, url_file or url is required",
                )
            })?;
        if url.expose() == crate::secret::MASK {
            // `check-config` prints a literal URL masked; pasted back, it must fail loudly.
            return Err(cx.err(
                format!("{key}.url"),
                "is the mask `check-config` prints, not a URL: give the real one (preferably \
                 as url_env or url_file)",
            ));
        }
        let parsed = Url::parse(url.expose())
            .map_err(|e| cx.err(format!("{key}.url"), format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(cx.err(format!("{key}.url"), "must be http(s)"));
        }
        let format = match w.format.as_deref().unwrap_or("json") {
            "json" => WebhookFormat::Json,
            "slack" => WebhookFormat::Slack,
            "teams" => WebhookFormat::Teams,
            other => {
                return Err(cx.err(
                    format!("{key}.format"),
                    format!("{other:?} is not one of json, slack, teams"),
                ));
            }
        };
        webhook.push(WebhookChannel {
            name: w.name.clone().unwrap_or_else(|| format!("webhook-{i}")),
            url,
            format,
            hmac_secret: cx.secret(
                &format!("{key}.hmac_secret"),
                &w.hmac_secret,
                &w.hmac_secret_env,
                &w.hmac_secret_file,
            )?,
            filter: cx.filter(&key, &w.filter)?,
            timeout: cx.duration(
                &format!("{key}.timeout"),
                w.timeout.as_deref(),
                Duration::from_secs(10),
            )?,
        });
    }
    let alerts = Alerts {
        repeat_interval: cx.duration(
            "alerts.repeat_interval",
            a.repeat_interval.as_deref(),
            Duration::from_secs(86_400),
        )?,
        digest: a.digest.unwrap_or(false),
        send_resolved: a.send_resolved.unwrap_or(true),
        give_up_after: cx.duration(
            "alerts.give_up_after",
            a.give_up_after.as_deref(),
            Duration::from_secs(86_400),
        )?,
        email,
        webhook,
    };

    let state_dir = raw
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/var/lib/certwatch"));
    let r = &raw.rotation;
    let store = match &r.store {
        None => None,
        Some(s) if s.kind == "filesystem" => Some(s.path.clone()),
        Some(s) => {
            return Err(cx.err(
                "rotation.store.kind",
                format!("{:?} is not supported (filesystem)", s.kind),
            ));
        }
    };
    let mut targets = Vec::new();
    for (i, t) in r.targets.iter().enumerate() {
        let key = format!("rotation.targets[{i}]");
        if t.source.is_empty() {
            return Err(cx.err(format!("{key}.source"), "is required"));
        }
        targets.push(Target {
            tenant: t.tenant.clone(),
            kind: t
                .kind
                .as_deref()
                .map(|k| cx.kind(&format!("{key}.kind"), k))
                .transpose()?,
            object_name: t.object_name.clone(),
            object_id: t.object_id.clone(),
            source: PathBuf::from(&t.source),
        });
    }
    if !targets.is_empty() && store.is_none() {
        return Err(cx.err("rotation.store", "targets need a [rotation.store]"));
    }
    let rotation = Rotation {
        enabled: r.enabled.unwrap_or(false),
        apply: r.apply.unwrap_or(false),
        rotate_before: cx.duration(
            "rotation.rotate_before",
            r.rotate_before.as_deref(),
            Duration::from_secs(30 * 86_400),
        )?,
        audit_log: r
            .audit_log
            .clone()
            .unwrap_or_else(|| state_dir.join("rotation-audit.jsonl")),
        overlap: cx.duration(
            "rotation.overlap",
            r.overlap.as_deref(),
            Duration::from_secs(86_400),
        )?,
        store,
        targets,
    };

    Ok(Config {
        file: cx.file.clone(),
        state_dir,
        listen,
        http_auth,
        server_tls,
        schedule,
        policy,
        expires_in_metric: raw.metrics.expires_in_seconds.unwrap_or(false),
        metadata,
        tenants,
        alerts,
        rotation,
        raw,
    })
}

/// `tenants[i].metadata_urls`: absolute URLs, https unless `metadata.allow_http`.
fn metadata_urls(
    cx: &Ctx<'_>,
    key: &str,
    t: &RawTenant,
    metadata: &Metadata,
) -> Result<BTreeMap<String, MetadataUrl>, Error> {
    let mut out = BTreeMap::new();
    for (connection, url) in &t.metadata_urls {
        let at = format!("{key}.metadata_urls.{connection}");
        let parsed =
            Url::parse(url.0.trim()).map_err(|e| cx.err(&at, format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if metadata.allow_http => {}
            "http" => {
                return Err(cx.err(
                    &at,
                    "http:// is refused unless metadata.allow_http = true (metadata decides which certificates are trusted)",
                ));
            }
            other => return Err(cx.err(&at, format!("scheme {other:?} is not http(s)"))),
        }
        out.insert(connection.clone(), MetadataUrl(parsed));
    }
    Ok(out)
}

/// `tenants[i].probe_addresses`: `host:port` per custom domain.
fn probe_addresses(
    cx: &Ctx<'_>,
    key: &str,
    t: &RawTenant,
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (domain, addr) in &t.probe_addresses {
        let at = format!("{key}.probe_addresses.{domain}");
        let addr = addr.trim();
        let port_ok = addr.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(cx.err(&at, format!("{addr:?} is not host:port")));
        }
        out.insert(domain.to_ascii_lowercase(), addr.to_string());
    }
    Ok(out)
}

/// Parse a 6-field cron expression and return the gap between its next two firings.
pub fn cron_interval(expr: &str) -> Result<Duration, String> {
    let cron = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr.trim())
        .map_err(|e| format!("{expr:?} is not a 6-field cron expression with seconds: {e}"))?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let now = chrono::DateTime::from_timestamp(now.unix_timestamp(), 0).unwrap_or_default();
    let a = cron
        .find_next_occurrence(&now, false)
        .map_err(|e| format!("{expr:?} never fires: {e}"))?;
    let b = cron
        .find_next_occurrence(&a, false)
        .map_err(|e| format!("{expr:?} fires only once: {e}"))?;
    (b - a).to_std().map_err(|e| e.to_string())
}

fn dur(d: Duration) -> Option<String> {
    Some(humantime::format_duration(d).to_string())
}

impl Config {
    /// The effective configuration (defaults filled in) as it would be written in the file;
    /// secrets keep their source (`X_env` / `X_file`) and literal values are masked.
    pub fn effective(&self) -> RawConfig {
        let mut raw = self.raw.clone();
        raw.state_dir = Some(self.state_dir.clone());
        raw.server.listen = Some(self.listen.to_string());
        match &self.schedule.trigger {
            Trigger::Cron(c) => raw.schedule.cron = Some(c.clone()),
            Trigger::Interval(d) => raw.schedule.interval = dur(*d),
        }
        raw.schedule.run_on_start = Some(self.schedule.run_on_start);
        raw.policy.warning_before = dur(self.policy.thresholds.warning_before);
        raw.policy.critical_before = dur(self.policy.thresholds.critical_before);
        raw.policy.alert_roles = Some(
            self.policy
                .alert_roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        );
        raw.metrics.expires_in_seconds = Some(self.expires_in_metric);
        raw.metadata = RawMetadata {
            enabled: Some(self.metadata.enabled),
            allow_http: Some(self.metadata.allow_http),
            timeout: dur(self.metadata.timeout),
            max_bytes: Some(self.metadata.max_bytes),
            probe_custom_domains: Some(self.metadata.probe_custom_domains),
            concurrency: Some(self.metadata.concurrency),
            allowed_hosts: Some(self.metadata.allowed_hosts.clone()),
        };
        for (r, t) in raw.tenants.iter_mut().zip(&self.tenants) {
            r.base_url = Some(t.base_url.to_string());
            r.audience = Some(t.audience.clone());
            r.timeout = dur(t.timeout);
            r.sources = Some(t.sources.iter().map(|s| s.as_str().to_string()).collect());
            r.concurrency = Some(t.concurrency);
        }
        raw.alerts.repeat_interval = dur(self.alerts.repeat_interval);
        raw.alerts.digest = Some(self.alerts.digest);
        raw.alerts.send_resolved = Some(self.alerts.send_resolved);
        raw.alerts.give_up_after = dur(self.alerts.give_up_after);
        for (r, e) in raw.alerts.email.iter_mut().zip(&self.alerts.email) {
            r.name = Some(e.name.clone());
            r.port = Some(e.port);
            r.timeout = dur(e.timeout);
            r.filter.min_severity = Some(e.filter.min_severity.as_str().to_string());
        }
        for (r, w) in raw.alerts.webhook.iter_mut().zip(&self.alerts.webhook) {
            r.name = Some(w.name.clone());
            r.timeout = dur(w.timeout);
            r.filter.min_severity = Some(w.filter.min_severity.as_str().to_string());
        }
        raw.rotation.enabled = Some(self.rotation.enabled);
        raw.rotation.apply = Some(self.rotation.apply);
        raw.rotation.rotate_before = dur(self.rotation.rotate_before);
        raw.rotation.audit_log = Some(self.rotation.audit_log.clone());
        raw.rotation.overlap = dur(self.rotation.overlap);
        raw
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn render_masked(&self) -> String {
        toml::to_string_pretty(&self.effective())
            .unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

#[cfg(test)]
mod tests;
