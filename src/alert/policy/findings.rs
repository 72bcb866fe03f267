//! The findings ledger (docs/findings.md, docs/alerts.md): which findings (warning or critical)
//! have been notified and not resolved yet, and the pure decision of one poll's finding
//! notifications from the report — fire, escalate, remind, resolve — plus the recovery after a
//! lost ledger (`seed_findings`).

use super::{AlertStatus, Settings};
use crate::config::Severity;
use crate::findings::{Finding, FindingSeverity};
use crate::report::Report;
use crate::timefmt::rfc3339_opt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// A finding exactly as the docs/findings.md record, as carried by a notification and remembered
/// in the ledger (so a `resolved` notification can still describe what went away). `kind` and
/// `severity` are kept as their JSON strings, so a ledger written by a build that knows more
/// finding kinds still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// Tenant name.
    pub tenant: String,
    /// The finding kind (`idp_certificate_withdrawn`, …).
    pub kind: String,
    /// Object id.
    pub object_id: String,
    /// Object name.
    pub object_name: String,
    /// `info`, `warning` or `critical`, as reported.
    pub severity: String,
    /// Human message.
    pub message: String,
    /// SHA-1 of the certificate concerned, where there is one.
    #[serde(default)]
    pub sha1: Option<String>,
    /// Expiry of the certificate concerned, where known.
    #[serde(default, with = "rfc3339_opt")]
    pub not_after: Option<OffsetDateTime>,
    /// The owning team of the object, where known.
    #[serde(default)]
    pub owner: Option<String>,
}

impl From<&Finding> for FindingRecord {
    fn from(f: &Finding) -> Self {
        Self {
            tenant: f.tenant.clone(),
            kind: f.finding.as_str().into(),
            object_id: f.object_id.clone(),
            object_name: f.object_name.clone(),
            severity: f.severity.as_str().into(),
            message: f.message.clone(),
            sha1: f.sha1.clone(),
            not_after: f.not_after,
            owner: f.owner.clone(),
        }
    }
}

impl FindingRecord {
    /// The ledger key of this finding.
    pub fn key(&self) -> FindingKey {
        FindingKey {
            tenant: self.tenant.clone(),
            kind: self.kind.clone(),
            object_id: self.object_id.clone(),
            sha1: self.sha1.clone().unwrap_or_default(),
        }
    }
}

/// The identity of one finding across polls: (tenant, finding kind, object_id, sha1 or "").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey {
    /// Tenant name.
    pub tenant: String,
    /// Finding kind.
    pub kind: String,
    /// Object id.
    pub object_id: String,
    /// SHA-1 of the certificate concerned, or "".
    pub sha1: String,
}

/// The alert severity of a finding: warning and critical alert, info never does.
pub fn finding_severity(s: FindingSeverity) -> Option<Severity> {
    match s {
        FindingSeverity::Info => None,
        FindingSeverity::Warning => Some(Severity::Warning),
        FindingSeverity::Critical => Some(Severity::Critical),
    }
}

/// What the ledger remembers about one notified finding (warning or critical) until it resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEntry {
    /// The severity last seen (lowered quietly; a rise above it fires).
    pub severity: Severity,
    /// The worst severity notified in this episode (routes `resolved`).
    pub max_severity: Severity,
    /// When this episode was first notified.
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When it was last notified (the `repeat_interval` clock).
    #[serde(with = "time::serde::rfc3339")]
    pub last_notified: OffsetDateTime,
    /// The kind of object the finding is about (a certificate kind or `custom_domain`): the
    /// channels' `kinds` filter.
    pub object_kind: String,
    /// The record as last seen.
    pub finding: FindingRecord,
}

impl FindingEntry {
    /// A finding first notified (or, after a lost ledger, taken as notified) at `now`.
    fn new(
        severity: Severity,
        object_kind: &str,
        finding: FindingRecord,
        now: OffsetDateTime,
    ) -> FindingEntry {
        FindingEntry {
            severity,
            max_severity: severity,
            first_notified: now,
            last_notified: now,
            object_kind: object_kind.into(),
            finding,
        }
    }
}

/// Finding ledger entries by key.
pub type FindingEntries = BTreeMap<FindingKey, FindingEntry>;

/// One notification about one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingAlert {
    /// Firing, or resolved (the finding is no longer reported, or dropped to `info`).
    pub status: AlertStatus,
    /// The severity notified (for `resolved`: the worst severity of the episode).
    pub severity: Severity,
    /// True for a `repeat_interval` reminder of an unchanged finding.
    #[serde(default)]
    pub reminder: bool,
    /// The kind of object (`FindingEntry::object_kind`).
    pub object_kind: String,
    /// The finding as of the poll (for `resolved`: as last seen while it alerted).
    pub finding: FindingRecord,
    /// When this episode was first notified (equals `at` for a new finding).
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When the poll that produced it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Decide one poll's finding notifications and update `entries`.
///
/// - A finding (tenant, kind, object_id, sha1) fires when first seen at warning or critical,
///   again when its severity rises above the one last seen, and as a reminder every
///   `repeat_interval` while it is still reported. A lower severity is recorded quietly. `info`
///   findings never fire.
/// - A notified finding resolves once (routed by the worst severity of the episode) when it is no
///   longer reported, or is reported at `info`, for a tenant whose poll is up.
/// - A tenant that is not up (or absent from the report) keeps its entries as they are: nothing
///   resolves, no reminder, no quiet update. A finding reported for it that is new or worse still
///   fires: what was read is evidence, what was not read is not.
/// - Of duplicate keys in the report the first wins.
pub fn decide_findings(
    entries: &mut FindingEntries,
    report: &Report,
    settings: Settings,
    now: OffsetDateTime,
) -> Vec<FindingAlert> {
    let up = |tenant: &str| report.tenants.iter().any(|t| t.name == tenant && t.up);
    let mut alerts = Vec::new();
    let mut present: BTreeSet<FindingKey> = BTreeSet::new();
    let alert = |status, severity, reminder, e: &FindingEntry| FindingAlert {
        status,
        severity,
        reminder,
        object_kind: e.object_kind.clone(),
        finding: e.finding.clone(),
        first_notified: e.first_notified,
        at: now,
    };
    for f in &report.findings {
        let record = FindingRecord::from(f);
        let key = record.key();
        if !present.insert(key.clone()) {
            continue;
        }
        let tenant_up = up(&f.tenant);
        match (finding_severity(f.severity), entries.get_mut(&key)) {
            (None, None) => {}
            (None, Some(_)) => {
                if tenant_up && let Some(e) = entries.remove(&key) {
                    alerts.push(alert(AlertStatus::Resolved, e.max_severity, false, &e));
                }
            }
            (Some(s), None) => {
                let e = FindingEntry::new(s, f.object_kind, record, now);
                alerts.push(alert(AlertStatus::Firing, s, false, &e));
                entries.insert(key, e);
            }
            (Some(s), Some(e)) => {
                let worse = s > e.severity;
                if !worse && !tenant_up {
                    continue;
                }
                let due = now - e.last_notified >= settings.repeat_interval;
                e.severity = s;
                e.max_severity = e.max_severity.max(s);
                e.object_kind = f.object_kind.into();
                e.finding = record;
                if worse || due {
                    e.last_notified = now;
                    alerts.push(alert(AlertStatus::Firing, s, !worse, e));
                }
            }
        }
    }
    let gone: Vec<FindingKey> = entries
        .keys()
        .filter(|k| !present.contains(*k) && up(&k.tenant))
        .cloned()
        .collect();
    for key in gone {
        if let Some(e) = entries.remove(&key) {
            alerts.push(alert(AlertStatus::Resolved, e.max_severity, false, &e));
        }
    }
    if !settings.send_resolved {
        alerts.retain(|a| a.status == AlertStatus::Firing);
    }
    alerts
}

/// Recover from a lost ledger like `seed` does for certificates: every warning or critical
/// finding reported now is recorded as already notified (reminders resume after
/// `repeat_interval`; it still resolves when it goes away). Returns how many entries were added.
pub fn seed_findings(entries: &mut FindingEntries, report: &Report, now: OffsetDateTime) -> usize {
    let mut added = 0;
    for f in &report.findings {
        let Some(s) = finding_severity(f.severity) else {
            continue;
        };
        let record = FindingRecord::from(f);
        let key = record.key();
        if entries.contains_key(&key) {
            continue;
        }
        entries.insert(key, FindingEntry::new(s, f.object_kind, record, now));
        added += 1;
    }
    added
}

#[cfg(test)]
mod tests;
