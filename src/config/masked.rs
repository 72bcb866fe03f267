//! How the configuration is shown back (`check-config`, `Debug`): URLs that may carry a token in
//! their query or user info print without them, and the effective configuration (every default
//! filled in) renders as TOML with literal secrets masked and `X_env` / `X_file` sources kept.

use super::raw::{RawConfig, RawMetadata, RawUrl};
use super::{Config, Trigger};
use serde::Serialize;
use std::time::Duration;
use url::Url;

/// A URL as written, shown like [`MetadataUrl::masked`] (or as not a URL at all).
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

/// A duration as the config file writes it (`"30days"`).
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
        raw.server.max_connections = Some(self.server_limits.max_connections);
        raw.server.header_read_timeout = dur(self.server_limits.header_read_timeout);
        raw.server.idle_timeout = dur(self.server_limits.idle_timeout);
        match &self.schedule.trigger {
            Trigger::Cron(c) => raw.schedule.cron = Some(c.clone()),
            Trigger::Interval(d) => raw.schedule.interval = dur(*d),
        }
        raw.schedule.run_on_start = Some(self.schedule.run_on_start);
        raw.schedule.poll_timeout = dur(self.schedule.poll_timeout());
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
            r.max_items_per_listing = Some(t.max_items_per_listing);
            r.budget_share = Some(t.budget_share.get());
            r.full_refresh = dur(t.full_refresh);
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
        for (r, m) in raw
            .alerts
            .alertmanager
            .iter_mut()
            .zip(&self.alerts.alertmanager)
        {
            r.name = Some(m.name.clone());
            r.timeout = dur(m.timeout);
            r.filter.min_severity = Some(m.filter.min_severity.as_str().to_string());
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
