//! Tests of the judgements on remote documents: drift, withdrawal, validUntil, unusable documents.

use super::*;
use crate::remote::{CustomDomain, Probe, TenantJwk};
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
        der: Vec::new(),
    }
}

fn record(kind: Kind, role: Role, object: &str, sha1: &str, expires_in_days: i64) -> CertRecord {
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
        owner: None,
        key_use: None,
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
fn the_idps_previous_certificate_left_after_a_rotation_is_only_info() {
    // The connection trusts the certificate issued 10 days ago; the IdP still publishes the
    // one before it (issued 300 days ago): nothing to add.
    let mut rotated = saml_cert("new");
    rotated.validity = Validity::Window {
        not_before: Some(days(-10)),
        not_after: days(355),
    };
    let mut fresh = published("new", 355);
    if let Some(c) = &mut fresh.cert {
        c.not_before = days(-10);
    }
    let t = tenant(
        vec![rotated],
        vec![doc(
            DocumentKind::SamlMetadata,
            vec![published("old", 65), fresh],
            None,
        )],
    );
    assert_eq!(
        run(&t),
        vec![(
            FindingKind::IdpNewCertificate,
            FindingSeverity::Info,
            Some("old".into())
        )]
    );
    let mut out = Vec::new();
    idp(&t, &Policy::default(), NOW, &mut out);
    assert!(
        out[0].message.contains("older signing certificate"),
        "{}",
        out[0].message
    );
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
                FindingSeverity::Info,
                Some("aa".into())
            ),
            (
                FindingKind::IdpCertificateExpiring,
                FindingSeverity::Info,
                Some("cc".into())
            ),
        ],
        "bb stays valid: Auth0 keeps verifying with it"
    );
}

#[test]
fn an_expired_upstream_key_beside_a_valid_one_pages_nobody() {
    let t = tenant(
        vec![],
        vec![doc(
            DocumentKind::OidcJwks,
            vec![published("old", -30), published("new", 300)],
            None,
        )],
    );
    let mut out = Vec::new();
    idp(&t, &Policy::default(), NOW, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].severity, FindingSeverity::Info);
    assert!(
        out[0].message.contains("expired") && out[0].message.contains("logins keep working"),
        "{}",
        out[0].message
    );
}

#[test]
fn upstream_keys_page_only_when_no_valid_key_remains() {
    let at = |certs| {
        let t = tenant(vec![], vec![doc(DocumentKind::OidcJwks, certs, None)]);
        let mut out = Vec::new();
        idp(&t, &Policy::default(), NOW, &mut out);
        out
    };
    // Every key expires within the horizons: the one that lasts longest carries the severity.
    let out = at(vec![published("aa", -3), published("bb", 20)]);
    let got: Vec<_> = out
        .iter()
        .map(|f| (f.sha1.as_deref().unwrap(), f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("aa", FindingSeverity::Info),
            ("bb", FindingSeverity::Warning)
        ]
    );
    assert!(
        out[1]
            .message
            .contains("logins through this connection fail")
    );
    assert!(out[0].message.contains("bb, is reported on its own"));
    // Nothing valid left at all: critical, on one finding only.
    let out = at(vec![published("aa", -3), published("bb", -1)]);
    let sev: Vec<_> = out.iter().map(|f| f.severity).collect();
    assert_eq!(sev, vec![FindingSeverity::Info, FindingSeverity::Critical]);
    assert!(out[1].message.contains("new key now"), "{}", out[1].message);
    // SAML certificates the connection does not trust keep their expiry severity.
    let t = tenant(
        vec![saml_cert("aa")],
        vec![doc(
            DocumentKind::SamlMetadata,
            vec![published("aa", 300), published("bb", -1)],
            None,
        )],
    );
    assert!(run(&t).contains(&(
        FindingKind::IdpCertificateExpiring,
        FindingSeverity::Critical,
        Some("bb".into())
    )));
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
