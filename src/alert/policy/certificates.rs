//! The certificate ledger (docs/alerts.md): which certificates have been notified as not ok, and
//! the pure decision of one poll's certificate notifications from the report — fire, remind,
//! resolve (`renewed` / `removed`) — plus the recovery after a lost ledger (`seed`). The record
//! notified and remembered is the report's own certificate record.

use super::{AlertStatus, Settings};
use crate::config::Severity;
use crate::expiry::Status;
use crate::report::{CertificateReport, Report};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// The identity of one certificate across polls: (tenant, kind, object_id, cert_id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    /// Tenant name.
    pub tenant: String,
    /// Kind label.
    pub kind: String,
    /// Owning object id.
    pub object_id: String,
    /// kid / credential id / sha1.
    pub cert_id: String,
}

impl Key {
    /// The ledger key of a certificate record.
    pub fn of(c: &CertificateReport) -> Self {
        Self {
            tenant: c.tenant.clone(),
            kind: c.kind.clone(),
            object_id: c.object_id.clone(),
            cert_id: c.cert_id.clone(),
        }
    }

    fn same_object(&self, c: &CertificateReport) -> bool {
        self.tenant == c.tenant && self.kind == c.kind && self.object_id == c.object_id
    }
}

/// What the ledger remembers about one certificate that has been notified as not ok. Certificates
/// that are ok (or never alerted) have no entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The state last notified (lowered quietly when the status improves without becoming ok).
    pub severity: Severity,
    /// The worst state notified since the certificate stopped being ok (routes `resolved`).
    pub max_severity: Severity,
    /// When this episode was first notified.
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When it was last notified (the `repeat_interval` clock).
    #[serde(with = "time::serde::rfc3339")]
    pub last_notified: OffsetDateTime,
    /// The record as last seen (so a `removed` notification can still describe what disappeared).
    pub certificate: CertificateReport,
}

impl Entry {
    /// A certificate first notified (or, after a lost ledger, taken as notified) at `now`.
    fn new(severity: Severity, certificate: CertificateReport, now: OffsetDateTime) -> Entry {
        Entry {
            severity,
            max_severity: severity,
            first_notified: now,
            last_notified: now,
            certificate,
        }
    }
}

/// Ledger entries by key.
pub type Entries = BTreeMap<Key, Entry>;

/// Why an alert resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The status went back to ok, or the object now has another certificate.
    Renewed,
    /// The certificate disappeared from a tenant that polled successfully.
    Removed,
}

impl Resolution {
    /// The JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Renewed => "renewed",
            Resolution::Removed => "removed",
        }
    }
}

/// One notification about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Firing or resolved.
    pub status: AlertStatus,
    /// The severity notified (for `resolved`: the worst severity of the episode).
    pub severity: Severity,
    /// Why it resolved.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    /// True for a `repeat_interval` reminder of an unchanged state.
    #[serde(default)]
    pub reminder: bool,
    /// The certificate as of the poll (for `removed`: as last seen).
    pub certificate: CertificateReport,
    /// For `renewed` by a new certificate on the same object: that certificate.
    #[serde(default)]
    pub replacement: Option<CertificateReport>,
    /// When the poll that produced it ran (relative wording like "expires in 5 days" is as of this).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl Alert {
    fn firing(
        certificate: CertificateReport,
        severity: Severity,
        reminder: bool,
        at: OffsetDateTime,
    ) -> Alert {
        Alert {
            status: AlertStatus::Firing,
            severity,
            resolution: None,
            reminder,
            certificate,
            replacement: None,
            at,
        }
    }

    /// The `resolved` notification closing the episode of `e`.
    fn resolved(
        certificate: CertificateReport,
        e: &Entry,
        resolution: Resolution,
        replacement: Option<CertificateReport>,
        at: OffsetDateTime,
    ) -> Alert {
        Alert {
            status: AlertStatus::Resolved,
            severity: e.max_severity,
            resolution: Some(resolution),
            reminder: false,
            certificate,
            replacement,
            at,
        }
    }
}

/// The alert severity of a status: `Some(None)` for ok, `Some(Some(s))` for warning / critical /
/// expired, and `None` for findings that are not expiry severities (unknown, not_yet_valid,
/// never_expires), which neither fire nor resolve.
fn class(status: Status) -> Option<Option<Severity>> {
    match status {
        Status::Ok => Some(None),
        Status::Warning => Some(Some(Severity::Warning)),
        Status::Critical => Some(Some(Severity::Critical)),
        Status::Expired => Some(Some(Severity::Expired)),
        Status::NotYetValid | Status::Unknown | Status::NeverExpires => None,
    }
}

/// Decide one poll's notifications and update `entries` accordingly.
///
/// - Only `alerting` certificates fire. A first sighting in a non-ok state, a worse state, or
///   `repeat_interval` elapsed since the last notification fires; anything else is quiet.
/// - A notified certificate resolves `renewed` when its status is ok again, when it left its
///   alerting role (a rotated signing key, a credential no longer used), or when it disappeared
///   but its object has another alerting certificate; `removed` when it disappeared from a tenant
///   whose poll succeeded. A tenant that is down (or absent from the report) resolves nothing.
/// - Statuses that are not expiry severities keep the entry as it is.
pub fn decide(
    entries: &mut Entries,
    report: &Report,
    settings: Settings,
    now: OffsetDateTime,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let mut present: BTreeSet<Key> = BTreeSet::new();
    for c in &report.certificates {
        let key = Key::of(c);
        if !present.insert(key.clone()) {
            continue; // a duplicate identity: the first (soonest expiry) wins
        }
        if !c.alerting {
            // Handled by `resolve_tracked`: a notified certificate that lost its alerting role.
            continue;
        }
        let Some(severity) = class(c.status) else {
            continue; // unknown / not_yet_valid / never_expires: hold whatever was notified
        };
        let cert = c.clone();
        match (severity, entries.get_mut(&key)) {
            (None, None) => {}
            (None, Some(_)) => {
                if let Some(e) = entries.remove(&key) {
                    alerts.push(Alert::resolved(cert, &e, Resolution::Renewed, None, now));
                }
            }
            (Some(s), None) => {
                alerts.push(Alert::firing(cert.clone(), s, false, now));
                entries.insert(key, Entry::new(s, cert, now));
            }
            (Some(s), Some(e)) => {
                let due = now - e.last_notified >= settings.repeat_interval;
                if s > e.severity || due {
                    alerts.push(Alert::firing(cert.clone(), s, s <= e.severity, now));
                    e.last_notified = now;
                }
                e.severity = s;
                e.max_severity = e.max_severity.max(s);
                e.certificate = cert;
            }
        }
    }
    resolve_tracked(entries, report, now, &mut alerts);
    if !settings.send_resolved {
        alerts.retain(|a| a.status == AlertStatus::Firing);
    }
    alerts
}

/// The second half of `decide`: the notified certificates that are no longer alerting or no
/// longer reported. One that left its alerting role resolves `renewed` (or, muted in place, is
/// forgotten quietly); one that disappeared from a tenant that is up resolves `renewed` when its
/// object has another alerting certificate, else `removed`.
fn resolve_tracked(
    entries: &mut Entries,
    report: &Report,
    now: OffsetDateTime,
    alerts: &mut Vec<Alert>,
) {
    let tracked: Vec<Key> = entries.keys().cloned().collect();
    for key in tracked {
        let current = report.certificates.iter().find(|c| Key::of(c) == key);
        match current {
            Some(c) if c.alerting => {}
            Some(c) => {
                // Still there but no longer alerting.
                let Some(e) = entries.remove(&key) else {
                    continue;
                };
                if c.role != e.certificate.role {
                    alerts.push(Alert::resolved(
                        c.clone(),
                        &e,
                        Resolution::Renewed,
                        None,
                        now,
                    ));
                } else {
                    tracing::info!(
                        tenant = %key.tenant, kind = %key.kind, object_id = %key.object_id, cert_id = %key.cert_id,
                        "certificate no longer alerts (muted or alert_roles changed); forgetting it quietly"
                    );
                }
            }
            None => {
                let up = report.tenants.iter().any(|t| t.name == key.tenant && t.up);
                if !up {
                    continue; // nothing is known about a tenant that did not poll successfully
                }
                let Some(e) = entries.remove(&key) else {
                    continue;
                };
                let replacement = report
                    .certificates
                    .iter()
                    .filter(|c| c.alerting && key.same_object(c))
                    .max_by_key(|c| c.not_after);
                let (resolution, replacement) = match replacement {
                    Some(r) => (Resolution::Renewed, Some(r.clone())),
                    None => (Resolution::Removed, None),
                };
                let last_seen = e.certificate.clone();
                alerts.push(Alert::resolved(last_seen, &e, resolution, replacement, now));
            }
        }
    }
}

/// Recover from a lost ledger without an alert storm: every alerting certificate that is not ok
/// now is recorded as already notified at its current severity (reminders resume after
/// `repeat_interval`). Returns how many entries were added.
pub fn seed(entries: &mut Entries, report: &Report, now: OffsetDateTime) -> usize {
    let mut added = 0;
    for c in report.certificates.iter().filter(|c| c.alerting) {
        let Some(Some(s)) = class(c.status) else {
            continue;
        };
        let key = Key::of(c);
        if entries.contains_key(&key) {
            continue;
        }
        entries.insert(key, Entry::new(s, c.clone(), now));
        added += 1;
    }
    added
}

#[cfg(test)]
mod tests;
