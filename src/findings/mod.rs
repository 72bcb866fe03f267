//! Findings beyond expiry dates (docs/findings.md), computed purely from a snapshot: tenant signing-key
//! health, client-credential hygiene and (from `remote` facts) IdP metadata drift, JWKS and
//! custom domains. Each finding is a JSON record, a `certwatch_finding` series, a row on the
//! status page and an alert.

mod remote;
pub use remote::CUSTOM_DOMAIN;

use crate::expiry::{Status, Validity};
use crate::inventory::{CertRecord, Kind, Role, Snapshot, Source, TenantSnapshot};
use crate::policy::Policy;
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Auth0's limit of credentials per application.
pub const CREDENTIAL_LIMIT: usize = 2;

/// What a finding is about (the `finding` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The tenant has no pre-generated `next` signing key.
    NoNextSigningKey,
    /// The `next` signing key expires before the `current` one.
    NextKeyExpiresFirst,
    /// A credential in use that never expires.
    CredentialWithoutExpiry,
    /// A credential the application does not reference.
    UnusedCredential,
    /// The application holds the maximum number of credentials: a rotation cannot add one.
    CredentialLimitReached,
    /// The IdP publishes a signing certificate the connection does not trust yet.
    IdpNewCertificate,
    /// The connection trusts a certificate the IdP no longer publishes.
    IdpCertificateWithdrawn,
    /// The IdP metadata's `validUntil` is near or past.
    MetadataExpiring,
    /// A certificate the IdP publishes (metadata or upstream JWKS `x5c`) expires soon.
    IdpCertificateExpiring,
    /// The IdP metadata / upstream JWKS could not be fetched or parsed.
    MetadataUnavailable,
    /// The tenant's public JWKS does not match `/keys/signing`.
    JwksMismatch,
    /// An Auth0-managed custom domain certificate failed to provision or renew.
    CustomDomainCertificateFailed,
    /// A custom domain's certificate (TLS probe, or Auth0's `renews_before`) expires soon.
    CustomDomainCertificateExpiring,
    /// A self-managed custom domain could not be probed.
    CustomDomainProbeFailed,
}

impl FindingKind {
    /// Label / JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::NoNextSigningKey => "no_next_signing_key",
            FindingKind::NextKeyExpiresFirst => "next_key_expires_first",
            FindingKind::CredentialWithoutExpiry => "credential_without_expiry",
            FindingKind::UnusedCredential => "unused_credential",
            FindingKind::CredentialLimitReached => "credential_limit_reached",
            FindingKind::IdpNewCertificate => "idp_new_certificate",
            FindingKind::IdpCertificateWithdrawn => "idp_certificate_withdrawn",
            FindingKind::MetadataExpiring => "metadata_expiring",
            FindingKind::IdpCertificateExpiring => "idp_certificate_expiring",
            FindingKind::MetadataUnavailable => "metadata_unavailable",
            FindingKind::JwksMismatch => "jwks_mismatch",
            FindingKind::CustomDomainCertificateFailed => "custom_domain_certificate_failed",
            FindingKind::CustomDomainCertificateExpiring => "custom_domain_certificate_expiring",
            FindingKind::CustomDomainProbeFailed => "custom_domain_probe_failed",
        }
    }
}

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// Worth knowing; nothing breaks.
    Info,
    /// Will cause trouble (a failed rotation, an outage at the next key rotation).
    Warning,
    /// Logins are failing or about to (a withdrawn IdP certificate, a failed renewal).
    Critical,
}

impl FindingSeverity {
    /// JSON / label value.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSeverity::Info => "info",
            FindingSeverity::Warning => "warning",
            FindingSeverity::Critical => "critical",
        }
    }
}

/// One finding (the docs/findings.md record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Tenant name.
    pub tenant: String,
    /// The finding (JSON `kind`, metric label `finding`).
    #[serde(rename = "kind")]
    pub finding: FindingKind,
    /// What the object is (metric label `kind`): a certificate kind (`Kind::as_str`) or
    /// `custom_domain`.
    #[serde(skip)]
    pub object_kind: &'static str,
    /// Object id.
    pub object_id: String,
    /// Object name.
    pub object_name: String,
    /// Severity.
    pub severity: FindingSeverity,
    /// Human message.
    pub message: String,
    /// SHA-1 of the certificate concerned, where there is one.
    pub sha1: Option<String>,
    /// Expiry of the certificate concerned, where known.
    #[serde(with = "crate::timefmt::rfc3339_opt")]
    pub not_after: Option<OffsetDateTime>,
    /// The owning team of the object, where its metadata names one (docs/alerts.md#owners).
    pub owner: Option<String>,
}

/// Every finding of a snapshot at `now`, tenant by tenant, in a stable order. `policy` gives
/// the horizons of certificates that are not inventory records (IdP-published, custom domains).
pub fn evaluate(snapshot: &Snapshot, policy: &Policy, now: OffsetDateTime) -> Vec<Finding> {
    let mut out = Vec::new();
    for t in &snapshot.tenants {
        let first = out.len();
        signing_keys(t, &mut out);
        remote::jwks(t, &mut out);
        credentials(t, policy, now, &mut out);
        remote::idp(t, policy, now, &mut out);
        remote::custom_domains(t, policy, now, &mut out);
        name_owners(t, &mut out[first..]);
    }
    out
}

/// Give each finding the owner of its object, as the object's records carry it.
fn name_owners(t: &TenantSnapshot, findings: &mut [Finding]) {
    let owners: std::collections::HashMap<&str, &str> = t
        .records
        .iter()
        .filter_map(|r| Some((r.object_id.as_str(), r.owner.as_deref()?)))
        .collect();
    for f in findings {
        f.owner = owners.get(f.object_id.as_str()).map(|o| o.to_string());
    }
}

fn finding(
    r: &CertRecord,
    finding: FindingKind,
    severity: FindingSeverity,
    message: String,
) -> Finding {
    Finding {
        tenant: r.tenant.clone(),
        finding,
        object_kind: r.kind.as_str(),
        object_id: r.object_id.clone(),
        object_name: r.object_name.clone(),
        severity,
        message,
        sha1: r.sha1.clone(),
        not_after: r.not_after(),
        owner: None,
    }
}

fn signing_keys(t: &TenantSnapshot, out: &mut Vec<Finding>) {
    // Judge only tenants whose key list was read (records present, or the last poll read it).
    let keys: Vec<&CertRecord> = t
        .records
        .iter()
        .filter(|r| r.kind == Kind::TenantSigningKey)
        .collect();
    let read_failed = t.errors.iter().any(|e| e.source == Source::SigningKeys);
    let Some(current) = keys.iter().find(|r| r.role == Role::Current) else {
        return;
    };
    match keys.iter().find(|r| r.role == Role::Next) {
        None if !read_failed => out.push(Finding {
            object_id: t.domain.clone(),
            object_name: t.domain.clone(),
            sha1: None,
            not_after: None,
            ..finding(
                current,
                FindingKind::NoNextSigningKey,
                FindingSeverity::Warning,
                "the tenant has no next signing key: rotating the signing key would switch to a key no relying party has cached".into(),
            )
        }),
        None => {}
        Some(next) => {
            if let (Some(n), Some(c)) = (next.not_after(), current.not_after())
                && n < c
            {
                out.push(finding(
                    next,
                    FindingKind::NextKeyExpiresFirst,
                    FindingSeverity::Warning,
                    format!(
                        "the next signing key {} expires before the current key {}",
                        next.cert_id, current.cert_id
                    ),
                ));
            }
        }
    }
}

fn credentials(t: &TenantSnapshot, policy: &Policy, now: OffsetDateTime, out: &mut Vec<Finding>) {
    let mut per_client: BTreeMap<&str, Vec<&CertRecord>> = BTreeMap::new();
    for r in t
        .records
        .iter()
        .filter(|r| r.kind == Kind::ClientCredential)
    {
        per_client.entry(&r.object_id).or_default().push(r);
        if r.validity == Validity::Never && r.role == Role::InUse {
            out.push(finding(
                r,
                FindingKind::CredentialWithoutExpiry,
                FindingSeverity::Info,
                format!("credential {} is in use and never expires", r.cert_id),
            ));
        }
        if r.role == Role::Unused {
            out.push(finding(
                r,
                FindingKind::UnusedCredential,
                FindingSeverity::Info,
                format!("credential {} is not referenced by the application; delete it if it is no longer needed", r.cert_id),
            ));
        }
    }
    for creds in per_client.values() {
        if creds.len() >= CREDENTIAL_LIMIT {
            out.push(credential_limit(creds, policy, now));
        }
    }
}

/// The application holds Auth0's maximum of credentials (docs/findings.md): `info` while none is
/// due, `warning` when a credential that alerts (its role is in `alert_roles`, not muted) is
/// within the `warning_before` of the policy that applies to it, or past: that credential must
/// be rotated and the rotation cannot add its successor. The message names the due credential.
fn credential_limit(creds: &[&CertRecord], policy: &Policy, now: OffsetDateTime) -> Finding {
    let due = creds
        .iter()
        .filter(|r| policy.is_alerting(r))
        .filter(|r| {
            matches!(
                policy.status(r, now),
                Status::Warning | Status::Critical | Status::Expired
            )
        })
        .min_by_key(|r| r.not_after());
    let held = format!(
        "the application holds {} credentials (Auth0's limit is {CREDENTIAL_LIMIT})",
        creds.len()
    );
    let (severity, message, not_after) = match due {
        Some(d) => {
            let expiry = d
                .not_after()
                .map_or_else(|| "-".into(), crate::timefmt::rfc3339);
            let verb = if policy.status(d, now) == Status::Expired {
                "expired"
            } else {
                "expires"
            };
            (
                FindingSeverity::Warning,
                format!(
                    "{held} and credential {}{} {verb} {expiry}: its rotation cannot add a new credential before one is deleted",
                    d.cert_id,
                    d.subject
                        .as_deref()
                        .map_or_else(String::new, |s| format!(" (subject {s})"))
                ),
                d.not_after(),
            )
        }
        None => (
            FindingSeverity::Info,
            format!(
                "{held}: a new one cannot be added before one is deleted; no credential is due yet"
            ),
            None,
        ),
    };
    Finding {
        sha1: None,
        not_after,
        ..finding(
            due.copied().unwrap_or(creds[0]),
            FindingKind::CredentialLimitReached,
            severity,
            message,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 0:00 UTC);

    fn rec(kind: Kind, role: Role, object: &str, id: &str, validity: Validity) -> CertRecord {
        CertRecord {
            tenant: "prod".into(),
            kind,
            role,
            object_id: object.into(),
            object_name: object.into(),
            cert_id: id.into(),
            subject: None,
            issuer: None,
            serial: None,
            sha1: Some(format!("sha-{id}")),
            sha256: None,
            validity,
            error: None,
            source: Source::SigningKeys,
            owner: None,
            key_use: None,
        }
    }

    fn days(d: i64) -> Validity {
        Validity::Window {
            not_before: None,
            not_after: NOW + time::Duration::days(d),
        }
    }

    fn tenant(records: Vec<CertRecord>) -> Snapshot {
        let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
        t.records = records;
        Snapshot { tenants: vec![t] }
    }

    fn evaluate(s: &Snapshot) -> Vec<Finding> {
        super::evaluate(s, &Policy::default(), NOW)
    }

    fn kinds(s: &Snapshot) -> Vec<FindingKind> {
        evaluate(s).into_iter().map(|f| f.finding).collect()
    }

    #[test]
    fn signing_key_health() {
        let cur = rec(Kind::TenantSigningKey, Role::Current, "k1", "k1", days(400));
        assert_eq!(
            kinds(&tenant(vec![cur.clone()])),
            vec![FindingKind::NoNextSigningKey]
        );
        let late_next = rec(Kind::TenantSigningKey, Role::Next, "k2", "k2", days(800));
        assert_eq!(kinds(&tenant(vec![cur.clone(), late_next])), vec![]);
        let early_next = rec(Kind::TenantSigningKey, Role::Next, "k2", "k2", days(100));
        let s = tenant(vec![cur.clone(), early_next]);
        assert_eq!(kinds(&s), vec![FindingKind::NextKeyExpiresFirst]);
        assert_eq!(evaluate(&s)[0].object_kind, "tenant_signing_key");
        assert_eq!(
            kinds(&tenant(vec![])),
            vec![],
            "no keys read: nothing to judge"
        );
        let mut failed = tenant(vec![cur]);
        failed.tenants[0].errors.push(crate::inventory::PollError {
            source: Source::SigningKeys,
            reason: crate::inventory::Reason::ServerError,
            message: "x".into(),
            object_id: None,
        });
        assert_eq!(
            kinds(&failed),
            vec![],
            "stale key list: no claim about the next key"
        );
    }

    #[test]
    fn credential_hygiene() {
        let s = tenant(vec![
            rec(
                Kind::ClientCredential,
                Role::InUse,
                "c1",
                "cred_a",
                Validity::Never,
            ),
            rec(
                Kind::ClientCredential,
                Role::Unused,
                "c1",
                "cred_b",
                days(10),
            ),
            rec(
                Kind::ClientCredential,
                Role::InUse,
                "c2",
                "cred_c",
                days(10),
            ),
        ]);
        let f = evaluate(&s);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.finding, f.object_id.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (FindingKind::CredentialWithoutExpiry, "c1"),
                (FindingKind::UnusedCredential, "c1"),
                (FindingKind::CredentialLimitReached, "c1"),
            ]
        );
        let json = serde_json::to_value(&f[0]).unwrap();
        assert_eq!(json["kind"], "credential_without_expiry");
        assert_eq!(json["severity"], "info");
        assert_eq!(json["not_after"], serde_json::Value::Null);
    }

    fn limit(s: &Snapshot) -> Finding {
        evaluate(s)
            .into_iter()
            .find(|f| f.finding == FindingKind::CredentialLimitReached)
            .expect("credential_limit_reached")
    }

    #[test]
    fn credential_limit_is_info_until_a_credential_is_due() {
        let cred = |role, id, d| rec(Kind::ClientCredential, role, "c1", id, days(d));
        let calm = tenant(vec![
            cred(Role::InUse, "cred_a", 200),
            cred(Role::Unused, "cred_b", 3),
        ]);
        let f = limit(&calm);
        assert_eq!(
            f.severity,
            FindingSeverity::Info,
            "an unused credential that expires blocks no rotation: {}",
            f.message
        );
        assert_eq!(f.not_after, None);

        let due = tenant(vec![
            cred(Role::InUse, "cred_a", 20),
            cred(Role::Unused, "cred_b", 300),
        ]);
        let f = limit(&due);
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.message.contains("credential cred_a") && f.message.contains("2026-12-13"),
            "the message names the due credential and its expiry: {}",
            f.message
        );
        assert_eq!(f.not_after, Some(NOW + time::Duration::days(20)));
        assert_eq!(f.object_id, "c1");

        let mut expired = due.clone();
        expired.tenants[0].records[0].validity = days(-2);
        assert!(limit(&expired).message.contains("expired"));

        // The horizon is the one of the policy that applies to the credential.
        let short = Policy {
            overrides: vec![crate::policy::Override {
                kind: Some(Kind::ClientCredential),
                warning_before: Some(std::time::Duration::from_secs(10 * 86_400)),
                critical_before: Some(std::time::Duration::from_secs(86_400)),
                ..Default::default()
            }],
            ..Policy::default()
        };
        let severity_under = |policy: &Policy| {
            super::evaluate(&due, policy, NOW)
                .into_iter()
                .find(|f| f.finding == FindingKind::CredentialLimitReached)
                .map(|f| f.severity)
        };
        assert_eq!(severity_under(&short), Some(FindingSeverity::Info));
        let muted = Policy {
            overrides: vec![crate::policy::Override {
                object_id: Some("c1".into()),
                mute: true,
                ..Default::default()
            }],
            ..Policy::default()
        };
        assert_eq!(
            severity_under(&muted),
            Some(FindingSeverity::Info),
            "a muted credential pages nobody"
        );
    }
}
