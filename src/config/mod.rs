//! Configuration: figment (defaults → TOML file → `CERTWATCH_*` env, `__` nests) into `RawConfig`
//! (serde, unknown keys rejected), then `validate()` into `Config` (durations, URLs, cron and
//! secrets resolved) once at start-up. Nothing else reads configuration files or env vars.
//! The keys and their defaults are described in docs/configuration.md.
//!
//! # Layout
//! - `raw`: the file as written ([`RawConfig`] and one struct per section).
//! - one module per section, each with its validated types and its validator: `server`,
//!   `schedule`, `policy`, `metadata`, `tenants`, `alerts` (email and webhook channels),
//!   `rotation`, `ha`. They run in that order; the first error wins and names its key.
//! - `context`: what the validators share (the file named in errors, durations, kinds).
//! - `secrets`: `X` / `X_env` / `X_file` resolution through the [`EnvSource`] seam.
//! - `masked`: `Debug` of URLs that may carry tokens, and the effective configuration as TOML.
//! - `state_dir`: [`Config::check_state_dir`], the filesystem check `run`, reloads and
//!   `check-config` add to validation.

mod alerts;
mod context;
mod ha;
mod masked;
mod metadata;
mod policy;
mod raw;
mod rotation;
mod schedule;
mod secrets;
mod server;
mod state_dir;
mod tenants;

pub use alerts::{
    AlertmanagerAuth, AlertmanagerChannel, Alerts, DEFAULT_OWNER_KEY, EmailChannel, Filter,
    Severity, SmtpTls, WebhookChannel, WebhookFormat,
};
pub use context::MAX_DURATION;
pub use ha::{Ha, LeaderElection};
pub use masked::MetadataUrl;
pub use metadata::Metadata;
pub use raw::{
    RawAlerts, RawConfig, RawEmail, RawFilter, RawHa, RawMetadata, RawMetrics, RawOverride,
    RawPolicy, RawRotation, RawSchedule, RawServer, RawStore, RawTarget, RawTenant, RawUrl,
    RawWebhook, RawWindow,
};
pub use rotation::{METADATA_SOURCE, Rotation, Source, Target, Window};
pub use schedule::{Schedule, Trigger, cron_interval, parse_cron};
pub use secrets::{EnvSource, MAX_SECRET_FILE_BYTES, ProcessEnv};
pub use server::{HttpAuth, ServerTls};
pub use tenants::Tenant;

use crate::policy::Policy;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// What a client may hold: connections, header and idle timeouts.
    pub server_limits: crate::http::Limits,
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
    /// `[ha]`: leader election between replicas.
    pub ha: Ha,
    /// What was read (secrets masked when printed).
    pub raw: RawConfig,
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
    if !path.exists() && raw.tenants.is_empty() {
        return Err(Error::Invalid {
            key: "tenants".into(),
            message: format!(
                "no tenant configured and {} does not exist: give --config (or CERTWATCH_CONFIG)",
                path.display()
            ),
            file: None,
        });
    }
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

/// Validate a raw config (pure apart from secret env/file lookups through `env`), section by
/// section in file order.
pub fn validate(
    raw: RawConfig,
    file: Option<PathBuf>,
    env: &dyn EnvSource,
) -> Result<Config, Error> {
    let cx = context::Ctx { file, env };
    let listen = server::listen(&cx, &raw.server)?;
    let http_auth = server::http_auth(&cx, &raw.server)?;
    let server_tls = server::tls(&cx, &raw.server)?;
    let server_limits = server::limits(&cx, &raw.server)?;
    let schedule = schedule::validate(&cx, &raw.schedule)?;
    let policy = policy::validate(&cx, &raw.policy)?;
    let metadata = metadata::validate(&cx, &raw.metadata)?;
    let tenants = tenants::validate(&cx, &raw.tenants, &metadata)?;
    let alerts = alerts::validate(&cx, &raw.alerts)?;
    let state_dir = raw
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/var/lib/certwatch"));
    let rotation = rotation::validate(&cx, &raw.rotation, &state_dir)?;
    let ha = ha::validate(&cx, &raw.ha)?;
    Ok(Config {
        file: cx.file.clone(),
        state_dir,
        listen,
        http_auth,
        server_tls,
        server_limits,
        schedule,
        policy,
        expires_in_metric: raw.metrics.expires_in_seconds.unwrap_or(false),
        metadata,
        tenants,
        alerts,
        rotation,
        ha,
        raw,
    })
}

#[cfg(test)]
mod tests;
