//! `[alerts]`: re-notification and delivery bounds, and the channels: `[[alerts.email]]` (SMTP),
//! `[[alerts.webhook]]` (JSON, Slack or Teams; the URL is a secret) and
//! `[[alerts.alertmanager]]` (every Alertmanager of a cluster, bearer or basic auth), each with its
//! filters (lowest severity, tenants, kinds). See docs/alerts.md.

use super::Error;
use super::context::Ctx;
use super::raw::{RawAlertmanager, RawAlerts, RawEmail, RawFilter, RawWebhook};
use crate::inventory::Kind;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

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
    /// Owners (empty = all): only certificates and findings of objects whose owner is listed.
    pub owners: Vec<String>,
}

impl Filter {
    /// Whether an object owned by `owner` passes the owners filter (without an owner it passes
    /// only a channel that names none).
    pub fn owner_accepted(&self, owner: Option<&str>) -> bool {
        self.owners.is_empty() || owner.is_some_and(|o| self.owners.iter().any(|x| x == o))
    }
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

/// How certwatch authenticates to Alertmanager.
#[derive(Debug, Clone)]
pub enum AlertmanagerAuth {
    /// No `Authorization` header.
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

/// `[[alerts.alertmanager]]`, validated.
#[derive(Debug, Clone)]
pub struct AlertmanagerChannel {
    /// Name (the `channel` label), default `alertmanager-N`.
    pub name: String,
    /// Each Alertmanager of the cluster, posted to one by one.
    pub urls: Vec<Url>,
    /// Credentials.
    pub auth: AlertmanagerAuth,
    /// Filters.
    pub filter: Filter,
    /// Timeout of one request.
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
    /// Alertmanager channels (state-based: the full current set after each poll).
    pub alertmanager: Vec<AlertmanagerChannel>,
    /// The `client_metadata` / connection `metadata` key naming an object's owner.
    pub owner_key: String,
}

/// The default of `[alerts] owner_key`.
pub const DEFAULT_OWNER_KEY: &str = "certwatch_owner";

impl Alerts {
    /// Whether any channel is configured (the daemon starts the alert engine only then).
    pub fn has_channels(&self) -> bool {
        !(self.email.is_empty() && self.webhook.is_empty() && self.alertmanager.is_empty())
    }
}

/// `[alerts]`: every channel, then the engine's intervals (24h by default).
pub(super) fn validate(cx: &Ctx<'_>, a: &RawAlerts) -> Result<Alerts, Error> {
    let email: Vec<EmailChannel> = a
        .email
        .iter()
        .enumerate()
        .map(|(i, e)| email(cx, i, e))
        .collect::<Result<_, _>>()?;
    let webhook: Vec<WebhookChannel> = a
        .webhook
        .iter()
        .enumerate()
        .map(|(i, w)| webhook(cx, i, w))
        .collect::<Result<_, _>>()?;
    let alertmanager = a
        .alertmanager
        .iter()
        .enumerate()
        .map(|(i, m)| alertmanager(cx, i, m))
        .collect::<Result<Vec<_>, _>>()?;
    unique_names(cx, &email, &webhook, &alertmanager)?;
    Ok(Alerts {
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
        alertmanager,
        owner_key: owner_key(cx, a.owner_key.as_deref())?,
    })
}

/// Channel names label metrics and key the alert ledger: no two channels (email or webhook)
/// may share one.
fn unique_names(
    cx: &Ctx<'_>,
    email: &[EmailChannel],
    webhook: &[WebhookChannel],
    alertmanager: &[AlertmanagerChannel],
) -> Result<(), Error> {
    let mut seen = std::collections::BTreeMap::new();
    let keys = email
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("alerts.email[{i}].name"), &e.name))
        .chain(
            webhook
                .iter()
                .enumerate()
                .map(|(i, w)| (format!("alerts.webhook[{i}].name"), &w.name)),
        )
        .chain(
            alertmanager
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("alerts.alertmanager[{i}].name"), &m.name)),
        );
    for (key, name) in keys {
        if let Some(first) = seen.insert(name.as_str(), key.clone()) {
            return Err(cx.err(
                key,
                format!(
                    "{name:?} is already the name of {first}; give each channel a unique `name`"
                ),
            ));
        }
    }
    Ok(())
}

/// `alerts.email[i]`: host, from and at least one recipient; the port follows `tls`.
fn email(cx: &Ctx<'_>, i: usize, e: &RawEmail) -> Result<EmailChannel, Error> {
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
    Ok(EmailChannel {
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
        filter: filter(cx, &key, &e.filter)?,
        timeout: cx.duration(
            &format!("{key}.timeout"),
            e.timeout.as_deref(),
            Duration::from_secs(30),
        )?,
    })
}

/// `alerts.webhook[i]`: an http(s) URL (a secret, never the printed mask) and a format.
fn webhook(cx: &Ctx<'_>, i: usize, w: &RawWebhook) -> Result<WebhookChannel, Error> {
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
    Ok(WebhookChannel {
        name: w.name.clone().unwrap_or_else(|| format!("webhook-{i}")),
        url,
        format,
        hmac_secret: cx.secret(
            &format!("{key}.hmac_secret"),
            &w.hmac_secret,
            &w.hmac_secret_env,
            &w.hmac_secret_file,
        )?,
        filter: filter(cx, &key, &w.filter)?,
        timeout: cx.duration(
            &format!("{key}.timeout"),
            w.timeout.as_deref(),
            Duration::from_secs(10),
        )?,
    })
}

/// `alerts.alertmanager[i]`: at least one http(s) URL, and bearer or basic auth (not both).
fn alertmanager(cx: &Ctx<'_>, i: usize, m: &RawAlertmanager) -> Result<AlertmanagerChannel, Error> {
    let key = format!("alerts.alertmanager[{i}]");
    if m.urls.is_empty() {
        return Err(cx.err(
            format!("{key}.urls"),
            "needs at least one Alertmanager URL (list every replica, not a load balancer)",
        ));
    }
    let urls = m
        .urls
        .iter()
        .map(|u| {
            let parsed = Url::parse(u.0.trim())
                .map_err(|e| cx.err(format!("{key}.urls"), format!("not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(cx.err(format!("{key}.urls"), "must be http(s)"));
            }
            Ok(parsed)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bearer = cx.secret(
        &format!("{key}.bearer_token"),
        &m.bearer_token,
        &m.bearer_token_env,
        &m.bearer_token_file,
    )?;
    let password = cx.secret(
        &format!("{key}.password"),
        &m.password,
        &m.password_env,
        &m.password_file,
    )?;
    let auth = match (bearer, &m.username, password) {
        (Some(t), None, None) => AlertmanagerAuth::Bearer(t),
        (None, Some(u), Some(p)) => AlertmanagerAuth::Basic {
            username: u.clone(),
            password: p,
        },
        (None, None, None) => AlertmanagerAuth::None,
        (Some(_), _, _) => {
            return Err(cx.err(
                format!("{key}.bearer_token"),
                "set either a bearer token or username + password, not both",
            ));
        }
        (None, Some(_), None) => {
            return Err(cx.err(format!("{key}.password"), "is required with username"));
        }
        (None, None, Some(_)) => {
            return Err(cx.err(format!("{key}.username"), "is required with a password"));
        }
    };
    Ok(AlertmanagerChannel {
        name: m
            .name
            .clone()
            .unwrap_or_else(|| format!("alertmanager-{i}")),
        urls,
        auth,
        filter: filter(cx, &key, &m.filter)?,
        timeout: cx.duration(
            &format!("{key}.timeout"),
            m.timeout.as_deref(),
            Duration::from_secs(10),
        )?,
    })
}

/// A channel's filters: `warning` and above, every tenant and kind by default.
fn filter(cx: &Ctx<'_>, key: &str, f: &RawFilter) -> Result<Filter, Error> {
    let min_severity = match f.min_severity.as_deref().unwrap_or("warning") {
        "warning" => Severity::Warning,
        "critical" => Severity::Critical,
        "expired" => Severity::Expired,
        other => {
            return Err(cx.err(
                format!("{key}.min_severity"),
                format!("{other:?} is not one of warning, critical, expired"),
            ));
        }
    };
    let kinds = f
        .kinds
        .iter()
        .flatten()
        .map(|k| cx.kind(&format!("{key}.kinds"), k))
        .collect::<Result<_, _>>()?;
    let owners: Vec<String> = f.owners.clone().unwrap_or_default();
    if let Some(i) = owners.iter().position(|o| o.trim().is_empty()) {
        return Err(cx.err(format!("{key}.owners[{i}]"), "an owner cannot be empty"));
    }
    Ok(Filter {
        min_severity,
        tenants: f.tenants.clone().unwrap_or_default(),
        kinds,
        owners,
    })
}

/// `[alerts] owner_key`: a metadata key as Auth0 accepts one (docs/alerts.md#owners).
fn owner_key(cx: &Ctx<'_>, key: Option<&str>) -> Result<String, Error> {
    let k = key.unwrap_or(DEFAULT_OWNER_KEY);
    if k.is_empty() || k.len() > 255 || k.chars().any(char::is_whitespace) {
        return Err(cx.err(
            "alerts.owner_key",
            format!("{k:?} is not a metadata key (1 to 255 characters, no spaces)"),
        ));
    }
    Ok(k.to_string())
}
