//! Pure alert policy (SPEC §7): (ledger entries, report, settings, now) → notifications, and the
//! routing of notifications to channels. No I/O and no clock: `now` is an argument.

use crate::config::{Filter, Severity};
use crate::expiry::Status;
use crate::inventory::Kind;
use crate::report::{CertificateReport, Report};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use time::OffsetDateTime;

/// RFC 3339 (seconds, `Z`) for `Option<OffsetDateTime>`, matching the SPEC §5 JSON.
mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(v: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_str(&crate::report::rfc3339(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}

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

/// Whether a channel's filter lets `alert` through. `resolved` is routed by the worst severity of
/// the episode, so a channel that saw the alert fire also sees it resolve.
pub fn accepts(filter: &Filter, alert: &Alert) -> bool {
    let c = &alert.certificate;
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&c.tenant))
        && (filter.kinds.is_empty() || filter.kinds.iter().any(|k| k.as_str() == c.kind))
}

/// One message for one channel: a single alert, or (digest mode) all of a poll's alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Render as a digest (even with one alert), so receivers see one shape per configuration.
    pub digest: bool,
    /// The alerts, in decision order.
    pub alerts: Vec<Alert>,
}

/// Route alerts to channels `(name, filter)`: one batch per alert and channel, or with `digest`
/// one batch per channel. Channels that accept nothing get nothing.
pub fn route<'a>(
    alerts: &[Alert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    let mut out = Vec::new();
    for (name, filter) in channels {
        let accepted: Vec<Alert> = alerts
            .iter()
            .filter(|a| accepts(filter, a))
            .cloned()
            .collect();
        if accepted.is_empty() {
            continue;
        }
        if digest {
            out.push((
                name.to_string(),
                Batch {
                    digest: true,
                    alerts: accepted,
                },
            ));
        } else {
            out.extend(accepted.into_iter().map(|a| {
                (
                    name.to_string(),
                    Batch {
                        digest: false,
                        alerts: vec![a],
                    },
                )
            }));
        }
    }
    out
}

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
}
