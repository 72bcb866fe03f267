//! The Alertmanager channel's pure half (docs/alerts.md): the alerts a report stands for — one
//! per alerting certificate at warning, critical or expired and one per warning or critical
//! finding, labelled only by what identifies them so every replica and every poll posts the same
//! labels — and the small state that turns successive reports into the full set to post: firing
//! alerts with `endsAt` = now + hold, and alerts that went away with `endsAt` = now for
//! [`RESOLVED_FOR`]. No I/O and no clock: `now` is an argument.

use crate::alert::render;
use crate::config::{Filter, Severity};
use crate::expiry::Status;
use crate::findings::Finding;
use crate::inventory::Kind;
use crate::policy::Policy;
use crate::report::{CertificateReport, Report};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;

/// `alertname` of a certificate alert.
pub const CERTIFICATE_ALERT: &str = "CertwatchCertificateExpiring";
/// `alertname` of a finding alert.
pub const FINDING_ALERT: &str = "CertwatchFinding";
/// How long an alert that went away is re-posted as resolved.
pub const RESOLVED_FOR: Duration = Duration::from_secs(15 * 60);

/// Label name → value, sorted (the alert's identity in Alertmanager).
pub type Labels = BTreeMap<String, String>;

/// One alert as `POST /api/v2/alerts` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmAlert {
    /// Identity: `alertname`, `severity`, `tenant`, `kind`, `object_id`, `cert_id` or `finding`.
    pub labels: Labels,
    /// `summary`, `object_name`, `not_after`, `description`.
    pub annotations: BTreeMap<String, String>,
    /// The threshold crossing (certificates) or when first seen (findings); never after now.
    #[serde(rename = "startsAt", with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// now + hold while firing; the resolution time once resolved.
    #[serde(rename = "endsAt", with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
}

impl AmAlert {
    fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }

    /// The severity label as a channel filter reads it.
    pub fn severity(&self) -> Severity {
        match self.label("severity") {
            "critical" => Severity::Critical,
            "expired" => Severity::Expired,
            _ => Severity::Warning,
        }
    }

    /// Whether a channel with `filter` takes it. An alert without an `owner` label passes only
    /// a channel that names no owners.
    pub fn accepted_by(&self, filter: &Filter) -> bool {
        crate::alert::policy::admits(
            filter,
            self.severity(),
            self.label("tenant"),
            self.label("kind"),
            self.labels.get("owner").map(String::as_str),
        )
    }

    /// Whether it is resolved at `now` (`endsAt` not in the future).
    pub fn resolved(&self, now: OffsetDateTime) -> bool {
        self.ends_at <= now
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn std_dur(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// When a certificate at `status` crossed into it: `not_after - critical_before` (critical),
/// `not_after - warning_before` (warning), `not_after` (expired); never after `now`.
pub fn crossing(
    c: &CertificateReport,
    policy: &Policy,
    severity: Severity,
    now: OffsetDateTime,
) -> OffsetDateTime {
    let Some(not_after) = c.not_after else {
        return now;
    };
    let (t, _) = policy.thresholds_for_object(
        Kind::parse(&c.kind),
        &c.tenant,
        &c.object_id,
        &c.object_name,
    );
    let at = match severity {
        Severity::Warning => not_after.checked_sub(std_dur(t.warning_before)),
        Severity::Critical => not_after.checked_sub(std_dur(t.critical_before)),
        Severity::Expired => Some(not_after),
    };
    at.unwrap_or(now).min(now)
}

fn certificate_alert(
    c: &CertificateReport,
    policy: &Policy,
    now: OffsetDateTime,
) -> Option<AmAlert> {
    let severity = match c.status {
        Status::Warning => Severity::Warning,
        Status::Critical => Severity::Critical,
        Status::Expired => Severity::Expired,
        _ => return None,
    };
    if !c.alerting {
        return None;
    }
    let firing = crate::alert::policy::Alert {
        status: crate::alert::policy::AlertStatus::Firing,
        severity,
        resolution: None,
        reminder: false,
        certificate: c.clone(),
        replacement: None,
        at: now,
    };
    let not_after = c.not_after.map(crate::timefmt::rfc3339).unwrap_or_default();
    let description = format!(
        "The {role} {what} ({kind} {cert_id} of object {object_id}) in Auth0 tenant {tenant} {when} \
         (not after {not_after}).",
        role = c.role,
        what = render::describe(c),
        kind = c.kind,
        cert_id = c.cert_id,
        object_id = c.object_id,
        tenant = c.tenant,
        when = render::when(c),
        not_after = if not_after.is_empty() {
            "unknown"
        } else {
            &not_after
        },
    );
    let mut l = labels(&[
        ("alertname", CERTIFICATE_ALERT),
        ("severity", severity.as_str()),
        ("tenant", &c.tenant),
        ("kind", &c.kind),
        ("object_id", &c.object_id),
        ("cert_id", &c.cert_id),
    ]);
    if let Some(owner) = &c.owner {
        l.insert("owner".into(), owner.clone());
    }
    Some(AmAlert {
        labels: l,
        annotations: labels(&[
            ("summary", &render::summary(&firing)),
            ("object_name", &c.object_name),
            ("not_after", &not_after),
            ("description", &description),
        ]),
        starts_at: crossing(c, policy, severity, now),
        ends_at: now,
    })
}

fn finding_alert(f: &Finding, now: OffsetDateTime) -> Option<AmAlert> {
    let severity = crate::alert::policy::finding_severity(f.severity)?;
    let mut l = labels(&[
        ("alertname", FINDING_ALERT),
        ("severity", severity.as_str()),
        ("tenant", &f.tenant),
        ("kind", f.object_kind),
        ("object_id", &f.object_id),
        ("finding", f.finding.as_str()),
    ]);
    // Two findings of one kind on one object differ by the certificate they are about.
    if let Some(sha1) = &f.sha1 {
        l.insert("sha1".into(), sha1.clone());
    }
    if let Some(owner) = &f.owner {
        l.insert("owner".into(), owner.clone());
    }
    let not_after = f.not_after.map(crate::timefmt::rfc3339).unwrap_or_default();
    let summary = render::finding_summary(&crate::alert::policy::FindingAlert {
        status: crate::alert::policy::AlertStatus::Firing,
        severity,
        reminder: false,
        object_kind: f.object_kind.into(),
        finding: f.into(),
        first_notified: now,
        at: now,
    });
    Some(AmAlert {
        labels: l,
        annotations: labels(&[
            ("summary", &summary),
            ("object_name", &f.object_name),
            ("not_after", &not_after),
            ("description", &f.message),
        ]),
        starts_at: now,
        ends_at: now,
    })
}

/// The alerts `report` stands for at `now` (`endsAt` still unset: [`State::step`] sets it).
pub fn current(report: &Report, policy: &Policy, now: OffsetDateTime) -> Vec<AmAlert> {
    let certs = report
        .certificates
        .iter()
        .filter_map(|c| certificate_alert(c, policy, now));
    let findings = report.findings.iter().filter_map(|f| finding_alert(f, now));
    certs.chain(findings).collect()
}

/// One alert the channel remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// As last posted.
    pub alert: AmAlert,
    /// When it went away (None while firing).
    #[serde(default, with = "crate::timefmt::rfc3339_opt")]
    pub resolved_at: Option<OffsetDateTime>,
}

/// What the channel remembers between polls (persisted as `alertmanager.json`): every alert
/// firing, and every alert resolved less than [`RESOLVED_FOR`] ago.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Persisted", into = "Persisted")]
pub struct State {
    /// By labels.
    pub alerts: BTreeMap<Labels, Tracked>,
}

#[derive(Serialize, Deserialize)]
struct Persisted {
    version: u32,
    alerts: Vec<Tracked>,
}

impl From<Persisted> for State {
    fn from(p: Persisted) -> Self {
        State {
            alerts: p
                .alerts
                .into_iter()
                .map(|t| (t.alert.labels.clone(), t))
                .collect(),
        }
    }
}

impl From<State> for Persisted {
    fn from(s: State) -> Self {
        Persisted {
            version: 1,
            alerts: s.alerts.into_values().collect(),
        }
    }
}

impl State {
    /// Fold one poll's `current` alerts in and return the full set to post, sorted by labels:
    /// current alerts firing until `now + hold` (keeping the earliest `startsAt` seen), alerts
    /// that went away resolved at `now` (re-posted with `endsAt` = now until [`RESOLVED_FOR`]
    /// has passed), except those of a tenant that is not `up` (`up(tenant)` false), which keep
    /// firing: a failed poll is not a renewal.
    pub fn step(
        &mut self,
        current: Vec<AmAlert>,
        up: impl Fn(&str) -> bool,
        hold: Duration,
        now: OffsetDateTime,
    ) -> Vec<AmAlert> {
        let until = now + std_dur(hold);
        let mut next = BTreeMap::new();
        for mut a in current {
            if let Some(old) = self.alerts.get(&a.labels) {
                a.starts_at = a.starts_at.min(old.alert.starts_at);
            }
            a.ends_at = until;
            next.insert(
                a.labels.clone(),
                Tracked {
                    alert: a,
                    resolved_at: None,
                },
            );
        }
        for (labels, mut t) in std::mem::take(&mut self.alerts) {
            if next.contains_key(&labels) {
                continue;
            }
            match t.resolved_at {
                None if !up(t.alert.label("tenant")) => t.alert.ends_at = until,
                None => {
                    t.resolved_at = Some(now);
                    t.alert.ends_at = now;
                }
                Some(at) if now - at >= std_dur(RESOLVED_FOR) => continue,
                Some(_) => t.alert.ends_at = now,
            }
            next.insert(labels, t);
        }
        self.alerts = next;
        self.alerts.values().map(|t| t.alert.clone()).collect()
    }
}
