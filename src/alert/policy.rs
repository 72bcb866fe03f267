//! Pure alert policy (SPEC §7): (ledger entries, report, settings, now) → notifications, the same
//! for the rotation problems of a pass (SPEC §8: failed, rolled back, blocked) and for the
//! report's findings (SPEC §11), and the routing of notifications to channels. No I/O and no
//! clock: `now` is an argument.

use crate::config::{Filter, Severity};
use crate::expiry::Status;
use crate::findings::{Finding, FindingSeverity};
use crate::inventory::Kind;
use crate::report::{CertificateReport, Report};
use crate::timefmt::rfc3339_opt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use time::OffsetDateTime;

/// One certificate exactly as the SPEC §5 record, as carried by a notification and remembered in
/// the ledger (so a `removed` notification can still describe what disappeared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Tenant name.
    pub tenant: String,
    /// Kind label.
    pub kind: String,
    /// Role label.
    pub role: String,
    /// Owning object id.
    pub object_id: String,
    /// Owning object name.
    pub object_name: String,
    /// kid / credential id / sha1.
    pub cert_id: String,
    /// Subject DN.
    #[serde(default)]
    pub subject: Option<String>,
    /// Issuer DN.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Serial (hex).
    #[serde(default)]
    pub serial: Option<String>,
    /// SHA-1 (lowercase hex).
    #[serde(default)]
    pub sha1: Option<String>,
    /// SHA-256 (lowercase hex).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Start of validity.
    #[serde(default, with = "rfc3339_opt")]
    pub not_before: Option<OffsetDateTime>,
    /// End of validity.
    #[serde(default, with = "rfc3339_opt")]
    pub not_after: Option<OffsetDateTime>,
    /// Seconds until `not_after` at the poll (negative when expired).
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// Status at the poll.
    pub status: Status,
    /// Parse error.
    #[serde(default)]
    pub error: Option<String>,
}

impl From<&CertificateReport> for Certificate {
    fn from(c: &CertificateReport) -> Self {
        Self {
            tenant: c.tenant.clone(),
            kind: c.kind.clone(),
            role: c.role.clone(),
            object_id: c.object_id.clone(),
            object_name: c.object_name.clone(),
            cert_id: c.cert_id.clone(),
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            serial: c.serial.clone(),
            sha1: c.sha1.clone(),
            sha256: c.sha256.clone(),
            not_before: c.not_before,
            not_after: c.not_after,
            expires_in_seconds: c.expires_in_seconds,
            status: c.status,
            error: c.error.clone(),
        }
    }
}

impl Certificate {
    /// The ledger key of this certificate.
    pub fn key(&self) -> Key {
        Key {
            tenant: self.tenant.clone(),
            kind: self.kind.clone(),
            object_id: self.object_id.clone(),
            cert_id: self.cert_id.clone(),
        }
    }

    /// The kind, when it is one certwatch knows.
    pub fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }
}

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
    fn of(c: &CertificateReport) -> Self {
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
    /// The record as last seen.
    pub certificate: Certificate,
}

/// Ledger entries by key.
pub type Entries = BTreeMap<Key, Entry>;

/// `firing` or `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The certificate is (still) expiring or expired.
    Firing,
    /// The certificate was renewed or removed.
    Resolved,
}

impl AlertStatus {
    /// The JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

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
    pub certificate: Certificate,
    /// For `renewed` by a new certificate on the same object: that certificate.
    #[serde(default)]
    pub replacement: Option<Certificate>,
    /// When the poll that produced it ran (relative wording like "expires in 5 days" is as of this).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The engine settings the policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Re-notify while not ok.
    pub repeat_interval: Duration,
    /// Send `resolved` notifications.
    pub send_resolved: bool,
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
    let resolved = |c: Certificate, e: &Entry, resolution, replacement| Alert {
        status: AlertStatus::Resolved,
        severity: e.max_severity,
        resolution: Some(resolution),
        reminder: false,
        certificate: c,
        replacement,
        at: now,
    };

    for c in &report.certificates {
        let key = Key::of(c);
        if !present.insert(key.clone()) {
            continue; // a duplicate identity: the first (soonest expiry) wins
        }
        if !c.alerting {
            // Handled below: a notified certificate that lost its alerting role.
            continue;
        }
        let Some(severity) = class(c.status) else {
            continue; // unknown / not_yet_valid / never_expires: hold whatever was notified
        };
        let cert = Certificate::from(c);
        match (severity, entries.get_mut(&key)) {
            (None, None) => {}
            (None, Some(_)) => {
                if let Some(e) = entries.remove(&key) {
                    alerts.push(resolved(cert, &e, Resolution::Renewed, None));
                }
            }
            (Some(s), None) => {
                alerts.push(firing(cert.clone(), s, false, now));
                entries.insert(
                    key,
                    Entry {
                        severity: s,
                        max_severity: s,
                        first_notified: now,
                        last_notified: now,
                        certificate: cert,
                    },
                );
            }
            (Some(s), Some(e)) => {
                let due = now - e.last_notified >= settings.repeat_interval;
                if s > e.severity || due {
                    alerts.push(firing(cert.clone(), s, s <= e.severity, now));
                    e.last_notified = now;
                }
                e.severity = s;
                e.max_severity = e.max_severity.max(s);
                e.certificate = cert;
            }
        }
    }

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
                    alerts.push(resolved(
                        Certificate::from(c),
                        &e,
                        Resolution::Renewed,
                        None,
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
                let alert = match replacement {
                    Some(r) => resolved(
                        e.certificate.clone(),
                        &e,
                        Resolution::Renewed,
                        Some(Certificate::from(r)),
                    ),
                    None => resolved(e.certificate.clone(), &e, Resolution::Removed, None),
                };
                alerts.push(alert);
            }
        }
    }

    if !settings.send_resolved {
        alerts.retain(|a| a.status == AlertStatus::Firing);
    }
    alerts
}

fn firing(
    certificate: Certificate,
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
        entries.insert(
            key,
            Entry {
                severity: s,
                max_severity: s,
                first_notified: now,
                last_notified: now,
                certificate: Certificate::from(c),
            },
        );
        added += 1;
    }
    added
}

/// What went wrong with one rotation step (the `outcome` of SPEC §8 that alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationOutcome {
    /// Not rotated: Auth0 was left as it was, or its state could not be established.
    Failed,
    /// Rotated, did not verify, undone.
    RolledBack,
    /// Due, but cannot be rotated (no usable replacement in the store, a limit, a guard).
    Blocked,
}

impl RotationOutcome {
    /// The JSON / label value (`failed`, `rolled_back`, `blocked`, as `certwatch_rotations_total`).
    pub fn as_str(self) -> &'static str {
        match self {
            RotationOutcome::Failed => "failed",
            RotationOutcome::RolledBack => "rolled_back",
            RotationOutcome::Blocked => "blocked",
        }
    }

    /// The alert severity: critical for failed and rolled back, warning for blocked.
    pub fn severity(self) -> Severity {
        match self {
            RotationOutcome::Failed | RotationOutcome::RolledBack => Severity::Critical,
            RotationOutcome::Blocked => Severity::Warning,
        }
    }

    /// The rotation module's outcome, when it is one that alerts.
    pub fn of(o: crate::rotate::Outcome) -> Option<RotationOutcome> {
        match o {
            crate::rotate::Outcome::Failed => Some(RotationOutcome::Failed),
            crate::rotate::Outcome::RolledBack => Some(RotationOutcome::RolledBack),
            crate::rotate::Outcome::Blocked => Some(RotationOutcome::Blocked),
            crate::rotate::Outcome::NotDue
            | crate::rotate::Outcome::Applied
            | crate::rotate::Outcome::DryRun => None,
        }
    }
}

/// One rotation problem to notify about. Also the `rotation` object of the `json` webhook payload
/// and what the ledger remembers (field order as serialized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationEvent {
    /// Tenant name.
    pub tenant: String,
    /// The kind of certificate being rotated.
    pub kind: Kind,
    /// Connection id, client id or (signing keys) the current kid, as in SPEC §5.
    pub object_id: String,
    /// Connection name, client name or tenant domain.
    pub object_name: String,
    /// What went wrong.
    pub outcome: RotationOutcome,
    /// What happened, in one human line (the step's detail and error).
    pub message: String,
}

impl RotationEvent {
    /// The event for a step of a rotation pass, if its outcome alerts (failed, rolled back,
    /// blocked): `PassReport::alerting().filter_map(RotationEvent::from_step)`.
    pub fn from_step(s: &crate::rotate::StepOutcome) -> Option<RotationEvent> {
        let outcome = RotationOutcome::of(s.outcome)?;
        let message = match (&s.error, s.detail.is_empty()) {
            (Some(e), false) => format!("{}: {e}", s.detail),
            (Some(e), true) => e.clone(),
            (None, false) => s.detail.clone(),
            (None, true) => s.step.explain(),
        };
        Some(RotationEvent {
            tenant: s.step.tenant.clone(),
            kind: s.step.kind,
            object_id: s.step.object_id.clone(),
            object_name: s.step.object_name.clone(),
            outcome,
            message,
        })
    }

    /// The ledger key of this problem.
    pub fn key(&self) -> RotationKey {
        RotationKey {
            tenant: self.tenant.clone(),
            kind: self.kind,
            object_id: self.object_id.clone(),
            outcome: self.outcome,
        }
    }
}

/// The identity of one rotation problem across passes: (tenant, kind, object_id, outcome). The
/// same object failing again is the same problem; failing after being blocked is a new one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RotationKey {
    /// Tenant name.
    pub tenant: String,
    /// Kind.
    pub kind: Kind,
    /// Object id.
    pub object_id: String,
    /// Outcome.
    pub outcome: RotationOutcome,
}

/// What the ledger remembers about one notified rotation problem that later passes still report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationEntry {
    /// When it was first notified.
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When it was last notified (the `repeat_interval` clock).
    #[serde(with = "time::serde::rfc3339")]
    pub last_notified: OffsetDateTime,
    /// The problem as last reported (its message may change from pass to pass).
    pub event: RotationEvent,
}

/// Rotation ledger entries by key.
pub type RotationEntries = BTreeMap<RotationKey, RotationEntry>;

/// One notification about one rotation problem. Always firing: a problem that a later pass no
/// longer reports is forgotten without a message (the certificate alerts say whether it expires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationAlert {
    /// `outcome.severity()`.
    pub severity: Severity,
    /// True for a `repeat_interval` reminder of a problem already notified.
    #[serde(default)]
    pub reminder: bool,
    /// The problem.
    pub rotation: RotationEvent,
    /// When the problem was first notified (equals `at` unless `reminder`).
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When the pass that reported it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Decide the notifications for the rotation problems of one pass and update `entries`.
///
/// A problem (tenant, kind, object_id, outcome) fires when it is not in `entries`, and again when
/// `repeat_interval` has elapsed since it was last notified; otherwise it is quiet. Entries that
/// `events` no longer contains are forgotten without a message. Of duplicate keys in `events` the
/// first wins.
pub fn decide_rotations(
    entries: &mut RotationEntries,
    events: &[RotationEvent],
    settings: Settings,
    now: OffsetDateTime,
) -> Vec<RotationAlert> {
    let mut alerts = Vec::new();
    let mut present: BTreeSet<RotationKey> = BTreeSet::new();
    for ev in events {
        let key = ev.key();
        if !present.insert(key.clone()) {
            continue;
        }
        let alert = |reminder, first_notified| RotationAlert {
            severity: ev.outcome.severity(),
            reminder,
            rotation: ev.clone(),
            first_notified,
            at: now,
        };
        match entries.get_mut(&key) {
            None => {
                alerts.push(alert(false, now));
                entries.insert(
                    key,
                    RotationEntry {
                        first_notified: now,
                        last_notified: now,
                        event: ev.clone(),
                    },
                );
            }
            Some(e) => {
                if now - e.last_notified >= settings.repeat_interval {
                    alerts.push(alert(true, e.first_notified));
                    e.last_notified = now;
                }
                e.event = ev.clone();
            }
        }
    }
    entries.retain(|k, _| {
        let keep = present.contains(k);
        if !keep {
            tracing::info!(
                tenant = %k.tenant, kind = %k.kind, object_id = %k.object_id, outcome = k.outcome.as_str(),
                "rotation problem no longer reported; forgetting it"
            );
        }
        keep
    });
    alerts
}

/// A finding exactly as the SPEC §11 record, as carried by a notification and remembered in the
/// ledger (so a `resolved` notification can still describe what went away). `kind` and `severity`
/// are kept as their JSON strings, so a ledger written by a build that knows more finding kinds
/// still loads.
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
                let e = FindingEntry {
                    severity: s,
                    max_severity: s,
                    first_notified: now,
                    last_notified: now,
                    object_kind: f.object_kind.into(),
                    finding: record,
                };
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
        entries.insert(
            key,
            FindingEntry {
                severity: s,
                max_severity: s,
                first_notified: now,
                last_notified: now,
                object_kind: f.object_kind.into(),
                finding: record,
            },
        );
        added += 1;
    }
    added
}

/// Whether a channel's filter lets `alert` through. `resolved` is routed by the worst severity of
/// the episode, so a channel that saw the alert fire also sees it resolve.
pub fn accepts(filter: &Filter, alert: &Alert) -> bool {
    let c = &alert.certificate;
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&c.tenant))
        && (filter.kinds.is_empty() || filter.kinds.iter().any(|k| k.as_str() == c.kind))
}

/// Whether a channel's filter lets a rotation alert through (severity, tenant, kind).
pub fn accepts_rotation(filter: &Filter, alert: &RotationAlert) -> bool {
    let r = &alert.rotation;
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&r.tenant))
        && (filter.kinds.is_empty() || filter.kinds.contains(&r.kind))
}

/// Whether a channel's filter lets a finding alert through (severity, tenant, and the kind of
/// the object the finding is about).
pub fn accepts_finding(filter: &Filter, alert: &FindingAlert) -> bool {
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&alert.finding.tenant))
        && (filter.kinds.is_empty() || filter.kinds.iter().any(|k| k.as_str() == alert.object_kind))
}

/// One message for one channel: a single alert, or (digest mode) all the alerts of one poll, one
/// rotation pass or one findings check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Render as a digest (even with one alert), so receivers see one shape per configuration.
    pub digest: bool,
    /// The certificate alerts, in decision order.
    pub alerts: Vec<Alert>,
    /// The rotation alerts, in decision order (absent from ledgers written before they existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<RotationAlert>,
    /// The finding alerts, in decision order (absent from ledgers written before they existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingAlert>,
}

impl Batch {
    /// A batch of certificate alerts.
    pub fn of_alerts(digest: bool, alerts: Vec<Alert>) -> Batch {
        Batch {
            digest,
            alerts,
            rotations: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// A batch of rotation alerts.
    pub fn of_rotations(digest: bool, rotations: Vec<RotationAlert>) -> Batch {
        Batch {
            digest,
            alerts: Vec::new(),
            rotations,
            findings: Vec::new(),
        }
    }

    /// A batch of finding alerts.
    pub fn of_findings(digest: bool, findings: Vec<FindingAlert>) -> Batch {
        Batch {
            digest,
            alerts: Vec::new(),
            rotations: Vec::new(),
            findings,
        }
    }

    /// How many alerts of either sort it carries.
    pub fn len(&self) -> usize {
        self.alerts.len() + self.rotations.len() + self.findings.len()
    }

    /// Whether it carries no alert.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Route alerts to channels `(name, filter)`: one batch per alert and channel, or with `digest`
/// one batch per channel. Channels that accept nothing get nothing.
pub fn route<'a>(
    alerts: &[Alert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    route_with(alerts, channels, digest, accepts, Batch::of_alerts)
}

/// `route` for rotation alerts.
pub fn route_rotations<'a>(
    alerts: &[RotationAlert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    route_with(
        alerts,
        channels,
        digest,
        accepts_rotation,
        Batch::of_rotations,
    )
}

/// `route` for finding alerts.
pub fn route_findings<'a>(
    alerts: &[FindingAlert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    route_with(
        alerts,
        channels,
        digest,
        accepts_finding,
        Batch::of_findings,
    )
}

fn route_with<'a, T: Clone>(
    items: &[T],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
    accepts: impl Fn(&Filter, &T) -> bool,
    batch: impl Fn(bool, Vec<T>) -> Batch,
) -> Vec<(String, Batch)> {
    let mut out = Vec::new();
    for (name, filter) in channels {
        let accepted: Vec<T> = items
            .iter()
            .filter(|a| accepts(filter, a))
            .cloned()
            .collect();
        if accepted.is_empty() {
            continue;
        }
        if digest {
            out.push((name.to_string(), batch(true, accepted)));
        } else {
            out.extend(
                accepted
                    .into_iter()
                    .map(|a| (name.to_string(), batch(false, vec![a]))),
            );
        }
    }
    out
}

#[cfg(test)]
mod findings_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TenantReport;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
    const DAY: i64 = 86_400;
    const SETTINGS: Settings = Settings {
        repeat_interval: Duration::from_secs(86_400),
        send_resolved: true,
    };

    fn cert(cert_id: &str, status: Status, days: i64) -> CertificateReport {
        CertificateReport {
            tenant: "prod".into(),
            kind: "connection_signing_cert".into(),
            role: "active".into(),
            object_id: "con_1".into(),
            object_name: "acme-idp".into(),
            cert_id: cert_id.into(),
            subject: Some("CN=acme".into()),
            issuer: Some("CN=acme".into()),
            serial: Some("01".into()),
            sha1: Some(cert_id.into()),
            sha256: None,
            not_before: None,
            not_after: Some(T0 + time::Duration::days(days)),
            expires_in_seconds: Some(days * DAY),
            status,
            error: None,
            alerting: true,
        }
    }

    fn report(up: bool, certs: Vec<CertificateReport>) -> Report {
        Report {
            generated_at: T0,
            tenants: vec![TenantReport {
                name: "prod".into(),
                domain: "acme.eu.auth0.com".into(),
                up,
                last_success: None,
                errors: vec![],
            }],
            certificates: certs,
            findings: vec![],
            idp_documents: vec![],
            custom_domains: vec![],
        }
    }

    fn run(
        entries: &mut Entries,
        r: &Report,
        now: OffsetDateTime,
    ) -> Vec<(AlertStatus, Severity, Option<Resolution>)> {
        decide(entries, r, SETTINGS, now)
            .into_iter()
            .map(|a| (a.status, a.severity, a.resolution))
            .collect()
    }

    use AlertStatus::{Firing, Resolved};
    use Severity::{Critical, Expired, Warning};

    #[test]
    fn ok_never_fires_and_first_sighting_fires_once() {
        let mut e = Entries::new();
        assert!(run(&mut e, &report(true, vec![cert("a", Status::Ok, 90)]), T0).is_empty());
        assert!(e.is_empty(), "ok certificates are not tracked");
        let r = report(true, vec![cert("a", Status::Warning, 20)]);
        assert_eq!(run(&mut e, &r, T0), vec![(Firing, Warning, None)]);
        assert!(
            run(&mut e, &r, T0 + time::Duration::hours(1)).is_empty(),
            "same state twice"
        );
    }

    #[test]
    fn worse_fires_better_is_quiet() {
        let mut e = Entries::new();
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Warning, 20)]),
            T0,
        );
        let t = T0 + time::Duration::hours(1);
        assert_eq!(
            run(
                &mut e,
                &report(true, vec![cert("a", Status::Critical, 5)]),
                t
            ),
            vec![(Firing, Critical, None)]
        );
        assert!(
            run(
                &mut e,
                &report(true, vec![cert("a", Status::Warning, 8)]),
                t
            )
            .is_empty()
        );
        assert_eq!(e.values().next().unwrap().severity, Warning);
        assert_eq!(e.values().next().unwrap().max_severity, Critical);
        assert_eq!(
            run(
                &mut e,
                &report(true, vec![cert("a", Status::Critical, 5)]),
                t
            ),
            vec![(Firing, Critical, None)],
            "worse again after improving fires again"
        );
        assert_eq!(
            run(
                &mut e,
                &report(true, vec![cert("a", Status::Expired, -1)]),
                t
            ),
            vec![(Firing, Expired, None)]
        );
    }

    #[test]
    fn repeat_interval_boundary() {
        let mut e = Entries::new();
        let r = report(true, vec![cert("a", Status::Critical, 5)]);
        run(&mut e, &r, T0);
        let just_before = T0 + time::Duration::seconds(DAY - 1);
        assert!(run(&mut e, &r, just_before).is_empty());
        let at = T0 + time::Duration::seconds(DAY);
        let alerts = decide(&mut e, &r, SETTINGS, at);
        assert_eq!(alerts.len(), 1, "exactly repeat_interval later re-notifies");
        assert!(alerts[0].reminder);
        assert!(run(&mut e, &r, at + time::Duration::seconds(DAY - 1)).is_empty());
        assert_eq!(run(&mut e, &r, at + time::Duration::seconds(DAY)).len(), 1);
    }

    #[test]
    fn back_to_ok_resolves_renewed_once() {
        let mut e = Entries::new();
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Critical, 5)]),
            T0,
        );
        let r = report(true, vec![cert("a", Status::Ok, 300)]);
        assert_eq!(
            run(&mut e, &r, T0),
            vec![(Resolved, Critical, Some(Resolution::Renewed))]
        );
        assert!(run(&mut e, &r, T0).is_empty());
        assert!(e.is_empty());
    }

    #[test]
    fn new_cert_on_same_object_resolves_renewed() {
        let mut e = Entries::new();
        run(
            &mut e,
            &report(true, vec![cert("old", Status::Warning, 20)]),
            T0,
        );
        let alerts = decide(
            &mut e,
            &report(true, vec![cert("new", Status::Ok, 365)]),
            SETTINGS,
            T0,
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].resolution, Some(Resolution::Renewed));
        assert_eq!(alerts[0].certificate.cert_id, "old");
        assert_eq!(alerts[0].replacement.as_ref().unwrap().cert_id, "new");
    }

    #[test]
    fn disappearance_is_removed_only_when_the_tenant_is_up() {
        let mut e = Entries::new();
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Expired, -3)]),
            T0,
        );
        assert!(
            run(&mut e, &report(false, vec![]), T0).is_empty(),
            "tenant down: nothing removed"
        );
        assert_eq!(e.len(), 1);
        let mut gone = report(true, vec![]);
        gone.tenants[0].name = "other".into();
        assert!(
            run(&mut e, &gone, T0).is_empty(),
            "tenant absent: nothing removed"
        );
        assert_eq!(
            run(&mut e, &report(true, vec![]), T0),
            vec![(Resolved, Expired, Some(Resolution::Removed))]
        );
        assert!(e.is_empty());
    }

    #[test]
    fn non_alerting_roles_never_fire() {
        let mut e = Entries::new();
        let mut prev = cert("k1", Status::Expired, -10);
        prev.kind = "tenant_signing_key".into();
        prev.role = "previous".into();
        prev.alerting = false;
        let mut unused = cert("cred", Status::Critical, 2);
        unused.kind = "client_credential".into();
        unused.role = "unused".into();
        unused.alerting = false;
        assert!(run(&mut e, &report(true, vec![prev, unused]), T0).is_empty());
        assert!(e.is_empty());
    }

    #[test]
    fn rotated_signing_key_resolves_renewed() {
        let mut e = Entries::new();
        let mut cur = cert("kid1", Status::Critical, 3);
        cur.kind = "tenant_signing_key".into();
        cur.role = "current".into();
        run(&mut e, &report(true, vec![cur.clone()]), T0);
        cur.role = "previous".into();
        cur.alerting = false;
        assert_eq!(
            run(&mut e, &report(true, vec![cur.clone()]), T0),
            vec![(Resolved, Critical, Some(Resolution::Renewed))]
        );
        // Muted in place (same role): forgotten quietly.
        let mut c = cert("x", Status::Critical, 3);
        run(&mut e, &report(true, vec![c.clone()]), T0);
        c.alerting = false;
        assert!(run(&mut e, &report(true, vec![c]), T0).is_empty());
        assert!(e.is_empty());
    }

    #[test]
    fn findings_neither_fire_nor_resolve() {
        let mut e = Entries::new();
        for s in [Status::Unknown, Status::NotYetValid, Status::NeverExpires] {
            assert!(run(&mut e, &report(true, vec![cert("a", s, 10)]), T0).is_empty());
        }
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Critical, 3)]),
            T0,
        );
        let later = T0 + time::Duration::days(3);
        assert!(
            run(
                &mut e,
                &report(true, vec![cert("a", Status::Unknown, 3)]),
                later
            )
            .is_empty()
        );
        assert_eq!(e.len(), 1, "held");
    }

    #[test]
    fn send_resolved_false_drops_resolved_but_forgets() {
        let mut e = Entries::new();
        let s = Settings {
            send_resolved: false,
            ..SETTINGS
        };
        decide(
            &mut e,
            &report(true, vec![cert("a", Status::Critical, 3)]),
            s,
            T0,
        );
        assert!(decide(&mut e, &report(true, vec![]), s, T0).is_empty());
        assert!(e.is_empty());
    }

    #[test]
    fn seed_marks_non_ok_as_notified() {
        let mut e = Entries::new();
        let r = report(
            true,
            vec![
                cert("a", Status::Critical, 3),
                cert("b", Status::Ok, 300),
                cert("c", Status::Unknown, 0),
            ],
        );
        assert_eq!(seed(&mut e, &r, T0), 1);
        assert!(run(&mut e, &r, T0).is_empty());
    }

    #[test]
    fn routing_filters_and_digest() {
        let mut e = Entries::new();
        let mut other = cert("b", Status::Warning, 20);
        other.tenant = "staging".into();
        let r = Report {
            tenants: vec![],
            ..report(true, vec![cert("a", Status::Critical, 3), other])
        };
        let alerts = decide(&mut e, &r, SETTINGS, T0);
        let all = Filter {
            min_severity: Warning,
            tenants: vec![],
            kinds: vec![],
        };
        let crit = Filter {
            min_severity: Critical,
            ..all.clone()
        };
        let staging = Filter {
            tenants: vec!["staging".into()],
            ..all.clone()
        };
        let creds = Filter {
            kinds: vec![Kind::ClientCredential],
            ..all.clone()
        };
        let chans = [
            ("all", &all),
            ("crit", &crit),
            ("staging", &staging),
            ("creds", &creds),
        ];
        let single = route(&alerts, chans, false);
        let names: Vec<&str> = single.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["all", "all", "crit", "staging"]);
        let digest = route(&alerts, chans, true);
        assert_eq!(digest.len(), 3);
        assert_eq!(digest[0].1.alerts.len(), 2);
        assert!(digest.iter().all(|(_, b)| b.digest));
    }

    fn event(object_id: &str, outcome: RotationOutcome) -> RotationEvent {
        RotationEvent {
            tenant: "prod".into(),
            kind: Kind::ConnectionSigningCert,
            object_id: object_id.into(),
            object_name: "acme-idp".into(),
            outcome,
            message: "PATCH /api/v2/connections/con_1: HTTP 503".into(),
        }
    }

    fn rot(
        e: &mut RotationEntries,
        events: &[RotationEvent],
        now: OffsetDateTime,
    ) -> Vec<(String, RotationOutcome, Severity, bool)> {
        decide_rotations(e, events, SETTINGS, now)
            .into_iter()
            .map(|a| {
                (
                    a.rotation.object_id,
                    a.rotation.outcome,
                    a.severity,
                    a.reminder,
                )
            })
            .collect()
    }

    use RotationOutcome::{Blocked, Failed, RolledBack};

    #[test]
    fn rotation_new_problem_fires_once_with_its_severity() {
        let mut e = RotationEntries::new();
        let evs = [
            event("con_1", Failed),
            event("con_2", RolledBack),
            event("con_3", Blocked),
        ];
        assert_eq!(
            rot(&mut e, &evs, T0),
            vec![
                ("con_1".into(), Failed, Critical, false),
                ("con_2".into(), RolledBack, Critical, false),
                ("con_3".into(), Blocked, Warning, false),
            ]
        );
        assert_eq!(e.len(), 3);
        assert!(rot(&mut e, &[], T0).is_empty());
        assert!(e.is_empty(), "nothing reported: nothing remembered");
        assert!(rot(&mut e, &[], T0).is_empty());
    }

    #[test]
    fn rotation_persisting_problem_is_quiet_until_repeat_interval() {
        let mut e = RotationEntries::new();
        let evs = [event("con_1", Failed)];
        assert_eq!(rot(&mut e, &evs, T0).len(), 1);
        let just_before = T0 + time::Duration::seconds(DAY - 1);
        assert!(
            rot(&mut e, &evs, just_before).is_empty(),
            "persists quietly"
        );
        // The latest message is kept for the reminder.
        let mut changed = event("con_1", Failed);
        changed.message = "timeout".into();
        assert!(rot(&mut e, std::slice::from_ref(&changed), just_before).is_empty());
        let at = T0 + time::Duration::seconds(DAY);
        let alerts = decide_rotations(&mut e, &evs[..], SETTINGS, at);
        assert_eq!(alerts.len(), 1, "exactly repeat_interval later re-notifies");
        assert!(alerts[0].reminder);
        assert_eq!(alerts[0].first_notified, T0);
        assert_eq!(alerts[0].at, at);
        assert!(rot(&mut e, &evs, at + time::Duration::seconds(DAY - 1)).is_empty());
        assert_eq!(
            rot(&mut e, &evs, at + time::Duration::seconds(DAY)),
            vec![("con_1".into(), Failed, Critical, true)]
        );
        rot(&mut e, std::slice::from_ref(&changed), at);
        assert_eq!(e.values().next().unwrap().event.message, "timeout");
    }

    #[test]
    fn rotation_cleared_problem_is_forgotten_and_fires_again_if_it_returns() {
        let mut e = RotationEntries::new();
        let evs = [event("con_1", Failed), event("con_2", Blocked)];
        rot(&mut e, &evs, T0);
        let t1 = T0 + time::Duration::hours(1);
        assert!(rot(&mut e, &evs[1..], t1).is_empty(), "cleared: no message");
        assert_eq!(e.len(), 1);
        assert_eq!(e.keys().next().unwrap().object_id, "con_2");
        let t2 = T0 + time::Duration::hours(2);
        assert_eq!(
            rot(&mut e, &evs, t2),
            vec![("con_1".into(), Failed, Critical, false)],
            "back after clearing: a new problem"
        );
    }

    #[test]
    fn rotation_key_includes_the_outcome_and_first_duplicate_wins() {
        let mut e = RotationEntries::new();
        rot(&mut e, &[event("con_1", Blocked)], T0);
        let t1 = T0 + time::Duration::hours(1);
        assert_eq!(
            rot(&mut e, &[event("con_1", Failed)], t1),
            vec![("con_1".into(), Failed, Critical, false)],
            "blocked then failed is a new problem"
        );
        assert_eq!(e.len(), 1, "the blocked one is forgotten");
        let mut other_tenant = event("con_1", Failed);
        other_tenant.tenant = "staging".into();
        let mut dup = event("con_1", Failed);
        dup.message = "second".into();
        let alerts = decide_rotations(
            &mut e,
            &[event("con_1", Failed), dup, other_tenant],
            SETTINGS,
            t1,
        );
        assert_eq!(alerts.len(), 1, "only the other tenant's is new");
        assert_eq!(alerts[0].rotation.tenant, "staging");
        assert_eq!(
            e[&event("con_1", Failed).key()].event.message,
            event("con_1", Failed).message,
            "of duplicates the first wins"
        );
    }

    #[test]
    fn rotation_event_from_a_pass_step() {
        use crate::rotate::{Blocker, Decision, Outcome, Step, StepOutcome};
        let b = Blocker::Store("signing/: permission denied".into());
        let step = |outcome, detail: &str, error: Option<&str>| StepOutcome {
            step: Step {
                tenant: "prod".into(),
                kind: Kind::ConnectionSigningCert,
                object_id: "con_1".into(),
                object_name: "acme-idp".into(),
                target: 0,
                current: None,
                decision: Decision::Blocked(b.clone()),
            },
            outcome,
            detail: detail.into(),
            error: error.map(Into::into),
            blocker: None,
            new: Default::default(),
            requests: vec![],
        };
        let ev = |s: StepOutcome| RotationEvent::from_step(&s).map(|e| (e.outcome, e.message));
        assert_eq!(
            ev(step(
                Outcome::RolledBack,
                "undone",
                Some("thumbprints differ")
            )),
            Some((RolledBack, "undone: thumbprints differ".into()))
        );
        assert_eq!(
            ev(step(Outcome::Failed, "", Some("HTTP 503"))),
            Some((Failed, "HTTP 503".into()))
        );
        assert_eq!(
            ev(step(Outcome::Blocked, "", None)),
            Some((Blocked, b.to_string())),
            "no detail nor error: the plan's explanation"
        );
        for quiet in [Outcome::NotDue, Outcome::Applied, Outcome::DryRun] {
            assert_eq!(ev(step(quiet, "done", None)), None);
        }
        let e = RotationEvent::from_step(&step(Outcome::Failed, "x", None)).unwrap();
        assert_eq!(
            (
                e.tenant.as_str(),
                e.kind,
                e.object_id.as_str(),
                e.object_name.as_str()
            ),
            ("prod", Kind::ConnectionSigningCert, "con_1", "acme-idp")
        );
    }

    /// One channel per filter dimension: `all` (warning), `crit`, `expired`, `staging` (tenant)
    /// and `creds` (kind client_credential).
    pub(super) fn channel_filters() -> [(&'static str, Filter); 5] {
        let all = Filter {
            min_severity: Warning,
            tenants: vec![],
            kinds: vec![],
        };
        [
            ("all", all.clone()),
            (
                "crit",
                Filter {
                    min_severity: Critical,
                    ..all.clone()
                },
            ),
            (
                "expired",
                Filter {
                    min_severity: Expired,
                    ..all.clone()
                },
            ),
            (
                "staging",
                Filter {
                    tenants: vec!["staging".into()],
                    ..all.clone()
                },
            ),
            (
                "creds",
                Filter {
                    kinds: vec![Kind::ClientCredential],
                    ..all
                },
            ),
        ]
    }

    #[test]
    fn rotation_routing_applies_severity_tenant_and_kind_filters() {
        let mut e = RotationEntries::new();
        let mut cred = event("cli_1", Blocked);
        cred.kind = Kind::ClientCredential;
        let mut staging = event("con_9", RolledBack);
        staging.tenant = "staging".into();
        let alerts = decide_rotations(
            &mut e,
            &[event("con_1", Failed), cred, staging],
            SETTINGS,
            T0,
        );
        let filters = channel_filters();
        let chans = filters.each_ref().map(|(n, f)| (*n, f));
        let single = route_rotations(&alerts, chans, false);
        let got: Vec<(&str, &str)> = single
            .iter()
            .map(|(n, b)| (n.as_str(), b.rotations[0].rotation.object_id.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("all", "con_1"),
                ("all", "cli_1"),
                ("all", "con_9"),
                ("crit", "con_1"),
                ("crit", "con_9"),
                ("staging", "con_9"),
                ("creds", "cli_1"),
            ]
        );
        assert!(single.iter().all(|(_, b)| b.alerts.is_empty() && !b.digest));
        let digest = route_rotations(&alerts, chans, true);
        assert_eq!(digest.len(), 4);
        assert_eq!(digest[0].1.rotations.len(), 3);
        assert!(digest.iter().all(|(_, b)| b.digest));
    }
}
