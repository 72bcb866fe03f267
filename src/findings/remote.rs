//! Findings from remote facts (pure): IdP metadata drift and expiry, the tenant JWKS against
//! `/keys/signing`, and custom domain certificates.

use super::{Finding, FindingKind, FindingSeverity};
use crate::expiry::{self, Status, Thresholds, Validity};
use crate::inventory::{CertRecord, Kind, Role, Source, TenantSnapshot};
use crate::policy::Policy;
use crate::remote::{IdpDocument, PublishedCert};
use crate::timefmt::rfc3339;
use time::OffsetDateTime;

/// The finding severity of an expiry status: warning, or critical for critical and expired.
fn severity_of(status: Status) -> Option<FindingSeverity> {
    match status {
        Status::Expired | Status::Critical => Some(FindingSeverity::Critical),
        Status::Warning => Some(FindingSeverity::Warning),
        _ => None,
    }
}

fn window_status(
    not_after: OffsetDateTime,
    (thresholds, muted): (Thresholds, bool),
    now: OffsetDateTime,
) -> Option<Status> {
    if muted {
        return None;
    }
    let validity = Validity::Window {
        not_before: None,
        not_after,
    };
    Some(expiry::evaluate(validity, thresholds, now))
}

/// "in 5 days" / "5 days ago" / "today".
fn when(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let days = (t - now).whole_days();
    match days {
        0 if t >= now => format!("{} (today)", rfc3339(t)),
        0 => format!("{} (today, already past)", rfc3339(t)),
        d if d > 0 => format!("{} (in {d} days)", rfc3339(t)),
        d => format!("{} ({} days ago)", rfc3339(t), -d),
    }
}

struct Object<'a> {
    t: &'a TenantSnapshot,
    kind: &'static str,
    id: &'a str,
    name: &'a str,
}

impl Object<'_> {
    fn finding(
        &self,
        finding: FindingKind,
        severity: FindingSeverity,
        message: String,
        sha1: Option<String>,
        not_after: Option<OffsetDateTime>,
    ) -> Finding {
        Finding {
            tenant: self.t.name.clone(),
            finding,
            object_kind: self.kind,
            object_id: self.id.to_string(),
            object_name: self.name.to_string(),
            severity,
            message,
            sha1,
            not_after,
        }
    }
}

fn cert_dates(c: &PublishedCert) -> String {
    match &c.cert {
        Some(i) => format!(
            "{} (subject {}, valid {} to {})",
            c.sha1,
            i.subject,
            rfc3339(i.not_before),
            rfc3339(i.not_after)
        ),
        None => c.sha1.clone(),
    }
}

/// IdP documents: drift between what the IdP publishes and what the connection trusts, the
/// metadata's `validUntil`, and the expiry of published certificates no record covers.
pub(super) fn idp(
    t: &TenantSnapshot,
    policy: &Policy,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    for doc in &t.facts.idp {
        idp_document(t, doc, policy, now, out);
    }
}

fn idp_document(
    t: &TenantSnapshot,
    doc: &IdpDocument,
    policy: &Policy,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    let trusted: Vec<&CertRecord> = t
        .records
        .iter()
        .filter(|r| {
            r.object_id == doc.connection_id
                && matches!(
                    r.kind,
                    Kind::ConnectionSigningCert | Kind::ConnectionThumbprint
                )
                && r.sha1.is_some()
        })
        .collect();
    let kind = trusted
        .first()
        .map_or(Kind::ConnectionSigningCert, |r| r.kind);
    let o = Object {
        t,
        kind: kind.as_str(),
        id: &doc.connection_id,
        name: &doc.connection_name,
    };
    let what = match doc.kind {
        crate::remote::DocumentKind::OidcJwks => "the upstream JWKS",
        _ => "the IdP metadata",
    };
    if let Some(e) = &doc.error {
        let stale = if doc.published.is_some() {
            " (judging from the copy fetched earlier)"
        } else {
            ""
        };
        out.push(o.finding(
            FindingKind::MetadataUnavailable,
            FindingSeverity::Warning,
            format!("could not read {what} at {}: {e}{stale}", doc.url),
            None,
            None,
        ));
    }
    let Some(p) = &doc.published else { return };
    let thresholds = policy.thresholds_for_object(Some(kind), &t.name, o.id, o.name);

    if doc.kind.pinned() {
        if p.certs.is_empty() {
            out.push(o.finding(
                FindingKind::MetadataUnavailable,
                FindingSeverity::Warning,
                format!("{what} at {} publishes no signing certificate", doc.url),
                None,
                None,
            ));
        } else if !trusted.is_empty() {
            let published = |sha1: &str| p.certs.iter().any(|c| c.sha1 == sha1);
            let trusts = |sha1: &str| trusted.iter().any(|r| r.sha1.as_deref() == Some(sha1));
            for c in p.certs.iter().filter(|c| !trusts(&c.sha1)) {
                out.push(o.finding(
                    FindingKind::IdpNewCertificate,
                    FindingSeverity::Warning,
                    format!(
                        "the IdP publishes a signing certificate the connection does not trust yet: {}; add it to the connection before the IdP signs with it",
                        cert_dates(c)
                    ),
                    Some(c.sha1.clone()),
                    c.cert.as_ref().map(|i| i.not_after),
                ));
            }
            let any_current = trusted
                .iter()
                .any(|r| r.sha1.as_deref().is_some_and(published));
            for r in trusted
                .iter()
                .filter(|r| !r.sha1.as_deref().is_some_and(published))
            {
                let sha1 = r.sha1.clone().unwrap_or_default();
                let (severity, consequence) = if any_current {
                    (
                        FindingSeverity::Info,
                        "another trusted certificate is still published, so logins work; remove this one when convenient",
                    )
                } else {
                    (
                        FindingSeverity::Critical,
                        "the connection trusts no certificate the IdP publishes: logins fail as soon as the IdP signs with its new certificate (or already do)",
                    )
                };
                out.push(o.finding(
                    FindingKind::IdpCertificateWithdrawn,
                    severity,
                    format!("the connection trusts certificate {sha1}, which the IdP no longer publishes; {consequence}"),
                    Some(sha1),
                    r.not_after(),
                ));
            }
        }
    }

    if let Some(until) = p.valid_until
        && let Some(severity) = window_status(until, thresholds, now).and_then(severity_of)
    {
        out.push(o.finding(
            FindingKind::MetadataExpiring,
            severity,
            format!(
                "the IdP metadata at {} is valid until {}: ask the IdP for fresh metadata",
                doc.url,
                when(until, now)
            ),
            None,
            Some(until),
        ));
    }

    // Published certificates no inventory record covers (a record alerts on its own).
    let recorded = |sha1: &str| {
        t.records
            .iter()
            .any(|r| r.object_id == doc.connection_id && r.sha1.as_deref() == Some(sha1))
    };
    for c in p.certs.iter().filter(|c| !recorded(&c.sha1)) {
        let Some(info) = &c.cert else { continue };
        let Some(severity) = window_status(info.not_after, thresholds, now).and_then(severity_of)
        else {
            continue;
        };
        out.push(o.finding(
            FindingKind::IdpCertificateExpiring,
            severity,
            format!(
                "{what} publishes certificate {} (subject {}) that expires {}",
                c.sha1,
                info.subject,
                when(info.not_after, now)
            ),
            Some(c.sha1.clone()),
            Some(info.not_after),
        ));
    }
}

/// The tenant's public JWKS against `/keys/signing`: the current and next keys must be
/// published, and nothing else but the previous key.
pub(super) fn jwks(t: &TenantSnapshot, out: &mut Vec<Finding>) {
    let Some(jwks) = &t.facts.jwks else { return };
    if t.errors.iter().any(|e| e.source == Source::SigningKeys) {
        return;
    }
    let keys: Vec<&CertRecord> = t
        .records
        .iter()
        .filter(|r| r.kind == Kind::TenantSigningKey)
        .collect();
    if keys.is_empty() {
        return;
    }
    let same = |r: &CertRecord, kid: Option<&str>, sha1: Option<&str>| {
        kid.is_some_and(|k| k == r.cert_id) || (sha1.is_some() && sha1 == r.sha1.as_deref())
    };
    for r in keys
        .iter()
        .filter(|r| matches!(r.role, Role::Current | Role::Next))
    {
        if jwks
            .iter()
            .any(|k| same(r, k.kid.as_deref(), k.sha1.as_deref()))
        {
            continue;
        }
        let (severity, message) = if r.role == Role::Current {
            (
                FindingSeverity::Critical,
                format!(
                    "the current signing key {} is not in the tenant's JWKS: relying parties cannot verify the tokens it signs",
                    r.cert_id
                ),
            )
        } else {
            (
                FindingSeverity::Warning,
                format!(
                    "the next signing key {} is not in the tenant's JWKS: relying parties will not have it cached when the key is rotated",
                    r.cert_id
                ),
            )
        };
        out.push(super::finding(
            r,
            FindingKind::JwksMismatch,
            severity,
            message,
        ));
    }
    for k in jwks {
        let matched = keys
            .iter()
            .find(|r| same(r, k.kid.as_deref(), k.sha1.as_deref()));
        let kid = k.kid.clone().unwrap_or_else(|| "(no kid)".into());
        let message = match matched {
            Some(r) if r.role != Role::Revoked => continue,
            Some(_) => format!("the tenant's JWKS still publishes the revoked signing key {kid}"),
            None => {
                format!("the tenant's JWKS publishes key {kid}, which /keys/signing does not list")
            }
        };
        out.push(Finding {
            tenant: t.name.clone(),
            finding: FindingKind::JwksMismatch,
            object_kind: Kind::TenantSigningKey.as_str(),
            object_id: kid,
            object_name: t.domain.clone(),
            severity: FindingSeverity::Warning,
            message,
            sha1: k.sha1.clone(),
            not_after: None,
        });
    }
}

/// The `kind` label of custom domain findings.
pub const CUSTOM_DOMAIN: &str = "custom_domain";

/// Custom domains: failed Auth0-managed certificates, overdue renewals and, for self-managed
/// ones, the expiry of the certificate the probe saw served.
pub(super) fn custom_domains(
    t: &TenantSnapshot,
    policy: &Policy,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    for d in t.facts.custom_domains.iter().flatten() {
        let o = Object {
            t,
            kind: CUSTOM_DOMAIN,
            id: &d.id,
            name: &d.domain,
        };
        match d.certificate_status.as_deref() {
            Some(s @ ("renewing_failed" | "provisioning_failed")) => {
                let why = d
                    .error_msg
                    .as_deref()
                    .map_or(String::new(), |e| format!(": {e}"));
                out.push(o.finding(
                    FindingKind::CustomDomainCertificateFailed,
                    FindingSeverity::Critical,
                    format!(
                        "Auth0 reports the managed certificate of {} as {s}{why}",
                        d.domain
                    ),
                    None,
                    d.renews_before,
                ));
            }
            Some("provisioned") => {
                if let Some(rb) = d.renews_before
                    && rb <= now
                {
                    out.push(o.finding(
                        FindingKind::CustomDomainCertificateExpiring,
                        FindingSeverity::Warning,
                        format!(
                            "Auth0 was to renew the certificate of {} before {}: the renewal is overdue",
                            d.domain,
                            when(rb, now)
                        ),
                        None,
                        Some(rb),
                    ));
                }
            }
            _ => {}
        }
        let Some(probe) = &d.probe else { continue };
        if let Some(e) = &probe.error {
            out.push(o.finding(
                FindingKind::CustomDomainProbeFailed,
                FindingSeverity::Warning,
                format!("could not probe {} at {}: {e}", d.domain, probe.address),
                None,
                None,
            ));
        }
        let leaf = probe.chain.as_ref().and_then(|c| c.first());
        let Some((leaf, info)) = leaf.and_then(|l| l.cert.as_ref().map(|i| (l, i))) else {
            continue;
        };
        let thresholds = policy.thresholds_for_object(None, &t.name, &d.id, &d.domain);
        if let Some(severity) = window_status(info.not_after, thresholds, now).and_then(severity_of)
        {
            out.push(o.finding(
                FindingKind::CustomDomainCertificateExpiring,
                severity,
                format!(
                    "{} serves a certificate (subject {}) that expires {}",
                    d.domain,
                    info.subject,
                    when(info.not_after, now)
                ),
                Some(leaf.sha1.clone()),
                Some(info.not_after),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::{CustomDomain, DocumentKind, Probe, Published, TenantJwk};
    use crate::x509::CertInfo;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 0:00 UTC);

    fn days(d: i64) -> OffsetDateTime {
        NOW + time::Duration::days(d)
    }

    fn published(sha1: &str, expires_in_days: i64) -> PublishedCert {
        PublishedCert {
            sha1: sha1.into(),
            cert: Some(CertInfo {
                subject: format!("CN={sha1}"),
                issuer: format!("CN={sha1}"),
                serial: "01".into(),
                not_before: days(-300),
                not_after: days(expires_in_days),
                sha1: sha1.into(),
                sha256: String::new(),
            }),
            error: None,
        }
    }

    fn record(
        kind: Kind,
        role: Role,
        object: &str,
        sha1: &str,
        expires_in_days: i64,
    ) -> CertRecord {
        CertRecord {
            tenant: "prod".into(),
            kind,
            role,
            object_id: object.into(),
            object_name: format!("{object}-name"),
            cert_id: sha1.into(),
            subject: None,
            issuer: None,
            serial: None,
            sha1: Some(sha1.into()),
            sha256: None,
            validity: Validity::Window {
                not_before: None,
                not_after: days(expires_in_days),
            },
            error: None,
            source: Source::Connections,
        }
    }

    fn doc(kind: DocumentKind, certs: Vec<PublishedCert>, valid_until: Option<i64>) -> IdpDocument {
        IdpDocument {
            connection_id: "con_1".into(),
            connection_name: "acme-idp".into(),
            strategy: "samlp".into(),
            kind,
            url: "https://idp.example/metadata".into(),
            published: Some(Published {
                valid_until: valid_until.map(days),
                certs,
            }),
            error: None,
        }
    }

    fn tenant(records: Vec<CertRecord>, idp: Vec<IdpDocument>) -> TenantSnapshot {
        let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
        t.records = records;
        t.facts.idp = idp;
        t
    }

    fn run(t: &TenantSnapshot) -> Vec<(FindingKind, FindingSeverity, Option<String>)> {
        let mut out = Vec::new();
        let policy = Policy::default();
        idp(t, &policy, NOW, &mut out);
        jwks(t, &mut out);
        custom_domains(t, &policy, NOW, &mut out);
        out.into_iter()
            .map(|f| (f.finding, f.severity, f.sha1))
            .collect()
    }

    fn saml_cert(sha1: &str) -> CertRecord {
        record(
            Kind::ConnectionSigningCert,
            Role::Active,
            "con_1",
            sha1,
            200,
        )
    }

    #[test]
    fn metadata_in_step_with_the_connection_is_quiet() {
        let t = tenant(
            vec![saml_cert("aa")],
            vec![doc(
                DocumentKind::SamlMetadata,
                vec![published("aa", 200)],
                Some(100),
            )],
        );
        assert_eq!(run(&t), vec![]);
    }

    #[test]
    fn a_new_idp_certificate_warns_with_its_dates() {
        let t = tenant(
            vec![saml_cert("aa")],
            vec![doc(
                DocumentKind::SamlMetadata,
                vec![published("aa", 200), published("bb", 900)],
                None,
            )],
        );
        assert_eq!(
            run(&t),
            vec![(
                FindingKind::IdpNewCertificate,
                FindingSeverity::Warning,
                Some("bb".into())
            )]
        );
        let mut out = Vec::new();
        idp(&t, &Policy::default(), NOW, &mut out);
        assert!(out[0].message.contains("valid 2026-"), "{}", out[0].message);
        assert_eq!(out[0].not_after, Some(days(900)));
        assert_eq!(out[0].object_kind, "connection_signing_cert");
    }

    #[test]
    fn a_withdrawn_certificate_is_critical_only_when_nothing_trusted_is_published() {
        let all_gone = tenant(
            vec![saml_cert("aa")],
            vec![doc(
                DocumentKind::SamlMetadata,
                vec![published("bb", 900)],
                None,
            )],
        );
        assert_eq!(
            run(&all_gone),
            vec![
                (
                    FindingKind::IdpNewCertificate,
                    FindingSeverity::Warning,
                    Some("bb".into())
                ),
                (
                    FindingKind::IdpCertificateWithdrawn,
                    FindingSeverity::Critical,
                    Some("aa".into())
                ),
            ]
        );
        let stale_extra = tenant(
            vec![saml_cert("aa"), saml_cert("cc")],
            vec![doc(
                DocumentKind::SamlMetadata,
                vec![published("aa", 200)],
                None,
            )],
        );
        assert_eq!(
            run(&stale_extra),
            vec![(
                FindingKind::IdpCertificateWithdrawn,
                FindingSeverity::Info,
                Some("cc".into())
            )]
        );
    }

    #[test]
    fn adfs_thumbprints_are_compared_too_and_empty_metadata_is_not_a_withdrawal() {
        let thumb = record(Kind::ConnectionThumbprint, Role::Active, "con_1", "aa", 200);
        let t = tenant(
            vec![thumb.clone()],
            vec![doc(
                DocumentKind::AdfsMetadata,
                vec![published("bb", 300)],
                None,
            )],
        );
        let got = run(&t);
        assert_eq!(got[1].0, FindingKind::IdpCertificateWithdrawn);
        let empty = tenant(
            vec![thumb],
            vec![doc(DocumentKind::AdfsMetadata, vec![], None)],
        );
        assert_eq!(
            run(&empty),
            vec![(
                FindingKind::MetadataUnavailable,
                FindingSeverity::Warning,
                None
            )]
        );
    }

    #[test]
    fn metadata_valid_until_follows_the_policy_horizons() {
        let at = |d| {
            run(&tenant(
                vec![saml_cert("aa")],
                vec![doc(
                    DocumentKind::SamlMetadata,
                    vec![published("aa", 200)],
                    Some(d),
                )],
            ))
        };
        assert_eq!(at(60), vec![]);
        assert_eq!(
            at(20),
            vec![(
                FindingKind::MetadataExpiring,
                FindingSeverity::Warning,
                None
            )]
        );
        assert_eq!(
            at(3),
            vec![(
                FindingKind::MetadataExpiring,
                FindingSeverity::Critical,
                None
            )]
        );
        assert_eq!(
            at(-1),
            vec![(
                FindingKind::MetadataExpiring,
                FindingSeverity::Critical,
                None
            )]
        );
    }

    #[test]
    fn oidc_jwks_certificates_alert_on_expiry_not_on_drift() {
        let t = tenant(
            vec![],
            vec![doc(
                DocumentKind::OidcJwks,
                vec![
                    published("aa", 10),
                    published("bb", 400),
                    published("cc", 2),
                ],
                None,
            )],
        );
        assert_eq!(
            run(&t),
            vec![
                (
                    FindingKind::IdpCertificateExpiring,
                    FindingSeverity::Warning,
                    Some("aa".into())
                ),
                (
                    FindingKind::IdpCertificateExpiring,
                    FindingSeverity::Critical,
                    Some("cc".into())
                ),
            ]
        );
    }

    #[test]
    fn a_failed_fetch_warns_and_keeps_judging_the_last_good_copy() {
        let mut d = doc(DocumentKind::SamlMetadata, vec![published("bb", 900)], None);
        d.error = Some("timed out".into());
        let t = tenant(vec![saml_cert("aa")], vec![d]);
        let got = run(&t);
        assert_eq!(got[0].0, FindingKind::MetadataUnavailable);
        assert_eq!(
            got.len(),
            3,
            "drift still judged from the kept copy: {got:?}"
        );
        let mut out = Vec::new();
        idp(&t, &Policy::default(), NOW, &mut out);
        assert!(out[0].message.contains("timed out") && out[0].message.contains("earlier"));
    }

    fn keys(roles: &[(Role, &str)]) -> Vec<CertRecord> {
        roles
            .iter()
            .map(|(role, kid)| {
                let mut r = record(
                    Kind::TenantSigningKey,
                    *role,
                    kid,
                    &format!("sha-{kid}"),
                    4000,
                );
                r.source = Source::SigningKeys;
                r
            })
            .collect()
    }

    fn jwk(kid: &str) -> TenantJwk {
        TenantJwk {
            kid: Some(kid.into()),
            sha1: Some(format!("sha-{kid}")),
        }
    }

    #[test]
    fn jwks_must_publish_current_and_next_and_nothing_unknown() {
        let mut t = tenant(
            keys(&[
                (Role::Current, "k1"),
                (Role::Next, "k2"),
                (Role::Revoked, "k0"),
            ]),
            vec![],
        );
        t.facts.jwks = Some(vec![jwk("k1"), jwk("k2")]);
        assert_eq!(run(&t), vec![]);
        t.facts.jwks = Some(vec![jwk("k1")]);
        assert_eq!(
            run(&t),
            vec![(
                FindingKind::JwksMismatch,
                FindingSeverity::Warning,
                Some("sha-k2".into())
            )]
        );
        t.facts.jwks = Some(vec![jwk("k2"), jwk("k0"), jwk("kx")]);
        let got = run(&t);
        assert_eq!(
            got[0],
            (
                FindingKind::JwksMismatch,
                FindingSeverity::Critical,
                Some("sha-k1".into())
            )
        );
        assert_eq!(got.len(), 3, "revoked and unknown keys published: {got:?}");
        // A key matched by thumbprint when the kid differs.
        t.facts.jwks = Some(vec![
            TenantJwk {
                kid: Some("other".into()),
                sha1: Some("sha-k1".into()),
            },
            jwk("k2"),
        ]);
        assert_eq!(run(&t), vec![]);
        // Not read, or the key list failed: no claim.
        t.facts.jwks = None;
        assert_eq!(run(&t), vec![]);
    }

    fn domain(id: &str, domain_type: &str, cert_status: Option<&str>) -> CustomDomain {
        CustomDomain {
            id: id.into(),
            domain: format!("{id}.example.com"),
            domain_type: domain_type.into(),
            status: Some("ready".into()),
            certificate_status: cert_status.map(str::to_string),
            error_msg: Some("CAA record forbids letsencrypt".into()),
            renews_before: Some(days(40)),
            probe: None,
        }
    }

    #[test]
    fn custom_domain_certificates() {
        let mut t = tenant(vec![], vec![]);
        let mut overdue = domain("cd_3", "auth0_managed_certs", Some("provisioned"));
        overdue.renews_before = Some(days(-2));
        let mut probed = domain("cd_4", "self_managed_certs", None);
        probed.probe = Some(Probe {
            address: "cd_4.example.com:443".into(),
            chain: Some(vec![published("ee", 12)]),
            error: None,
        });
        let mut failed_probe = domain("cd_5", "self_managed_certs", None);
        failed_probe.probe = Some(Probe {
            address: "cd_5.example.com:443".into(),
            chain: None,
            error: Some("connection refused".into()),
        });
        t.facts.custom_domains = Some(vec![
            domain("cd_1", "auth0_managed_certs", Some("provisioned")),
            domain("cd_2", "auth0_managed_certs", Some("renewing_failed")),
            overdue,
            probed,
            failed_probe,
        ]);
        assert_eq!(
            run(&t),
            vec![
                (
                    FindingKind::CustomDomainCertificateFailed,
                    FindingSeverity::Critical,
                    None
                ),
                (
                    FindingKind::CustomDomainCertificateExpiring,
                    FindingSeverity::Warning,
                    None
                ),
                (
                    FindingKind::CustomDomainCertificateExpiring,
                    FindingSeverity::Warning,
                    Some("ee".into())
                ),
                (
                    FindingKind::CustomDomainProbeFailed,
                    FindingSeverity::Warning,
                    None
                ),
            ]
        );
        let mut out = Vec::new();
        custom_domains(&t, &Policy::default(), NOW, &mut out);
        assert!(out[0].message.contains("CAA record"), "{}", out[0].message);
        assert_eq!(out[0].object_kind, CUSTOM_DOMAIN);
        assert_eq!(out[0].object_name, "cd_2.example.com");
    }

    #[test]
    fn overrides_and_mutes_apply_to_published_certificates() {
        let t = tenant(
            vec![],
            vec![doc(DocumentKind::OidcJwks, vec![published("aa", 10)], None)],
        );
        let mut policy = Policy::default();
        policy.overrides.push(crate::policy::Override {
            object_name: Some("acme-idp".into()),
            mute: true,
            ..Default::default()
        });
        let mut out = Vec::new();
        idp(&t, &policy, NOW, &mut out);
        assert!(out.is_empty(), "muted: {out:?}");
    }
}
