//! The written text against what `prometheus`' own gauges and text encoder make of the same
//! records: byte for byte, with escapes, cut labels that collide, and every kind of validity.

use super::*;
use crate::expiry::Validity;
use crate::inventory::{CertRecord, Kind, Role, Source, TenantSnapshot};
use prometheus::{GaugeVec, Opts, Registry, TextEncoder};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 0:00 UTC);

fn rec(tenant: &str, object_id: &str, name: &str, cert_id: &str, validity: Validity) -> CertRecord {
    CertRecord {
        tenant: tenant.into(),
        kind: Kind::ConnectionSigningCert,
        role: Role::Active,
        object_id: object_id.into(),
        object_name: name.into(),
        cert_id: cert_id.into(),
        subject: Some(format!("CN={name}")),
        issuer: Some("CN=\"quoted\" \\ CA".into()),
        serial: Some("01".into()),
        sha1: Some(cert_id.into()),
        sha256: None,
        validity,
        error: None,
        source: Source::Connections,
        owner: None,
        key_use: None,
    }
}

fn window(days: i64) -> Validity {
    Validity::Window {
        not_before: Some(NOW - time::Duration::days(10)),
        not_after: NOW + time::Duration::days(days),
    }
}

/// Records that exercise every path: escapes, unicode, cut labels that become one series, no
/// dates, parse errors, a credential without expiry, notAfter 9999-12-31, two tenants.
fn snapshot() -> Snapshot {
    let long = "x".repeat(300);
    let mut bad = rec("prod", "con_bad", "bad", "unparseable-1", Validity::Unknown);
    bad.error = Some("invalid X.509".into());
    bad.subject = None;
    let mut cred = rec("prod", "app_1", "app", "cred_1", Validity::Never);
    cred.kind = Kind::ClientCredential;
    cred.role = Role::InUse;
    let mut no_start = rec("prod", "app_2", "app", "cred_2", window(5));
    no_start.validity = Validity::Window {
        not_before: None,
        not_after: NOW + time::Duration::days(5),
    };
    let forever = Validity::Window {
        not_before: Some(NOW),
        not_after: crate::expiry::NO_WELL_DEFINED_EXPIRATION,
    };
    let prod = vec![
        rec("prod", "con_2", "acme \"idp\"\nline", "bb", window(3)),
        rec("prod", "con_1", "ünïcødé ✓", "aa", window(100)),
        rec("prod", &format!("{long}a"), "cut", &long, window(20)),
        rec("prod", &format!("{long}b"), "cut", &long, window(40)),
        rec("prod", "con_\\back", "back\\slash", "cc", window(-2)),
        rec("prod", "con_9999", "forever", "dd", forever),
        bad,
        cred,
        no_start,
    ];
    let mut a = TenantSnapshot::pending("prod", "acme.auth0.com");
    a.records = prod;
    let mut b = TenantSnapshot::pending("dev", "dev.auth0.com");
    b.records = vec![rec("dev", "con_1", "acme", "aa", window(60))];
    Snapshot {
        tenants: vec![a, b],
    }
}

/// The per-certificate families as they were built before: gauges in a registry, encoded.
fn with_gauges(snapshot: &Snapshot, policy: &Policy, expires_in: bool) -> String {
    let registry = Registry::new();
    let g = |name: &str, labels: &[&str]| {
        let g = GaugeVec::new(Opts::new(name, help(name)), labels).unwrap();
        registry.register(Box::new(g.clone())).unwrap();
        g
    };
    let info_labels: Vec<&str> = IDENTITY.iter().chain(&INFO_EXTRA).copied().collect();
    let (not_after, not_before) = (g(NOT_AFTER, &IDENTITY), g(NOT_BEFORE, &IDENTITY));
    let (info, parse_error) = (g(INFO, &info_labels), g(PARSE_ERROR, &IDENTITY));
    let remaining = expires_in.then(|| g(EXPIRES_IN, &IDENTITY));
    for t in &snapshot.tenants {
        for r in &t.records {
            let id = [
                bound(&t.name),
                r.kind.as_str(),
                bound(&r.object_id),
                bound(&r.object_name),
                bound(&r.cert_id),
            ];
            if let Some(at) = r.expires_at() {
                not_after
                    .with_label_values(&id)
                    .set(at.unix_timestamp() as f64);
                if let Some(g) = &remaining {
                    g.with_label_values(&id)
                        .set((at - NOW).whole_seconds() as f64);
                }
            }
            if let Some(nb) = r.not_before() {
                not_before
                    .with_label_values(&id)
                    .set(nb.unix_timestamp() as f64);
            }
            if r.error.is_some() {
                parse_error.with_label_values(&id).set(1.0);
            }
            let mut labels = id.to_vec();
            labels.extend([
                r.role.as_str(),
                policy.status(r, NOW).as_str(),
                opt(&r.subject),
                opt(&r.issuer),
                opt(&r.serial),
                opt(&r.sha1),
                opt(&r.owner),
            ]);
            info.with_label_values(&labels).set(1.0);
        }
    }
    TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap()
}

#[test]
fn the_text_is_what_the_encoder_writes() {
    let snapshot = snapshot();
    for expires_in in [false, true] {
        let ours: String = certificates(&snapshot, &Policy::default(), NOW, expires_in)
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        assert_eq!(ours, with_gauges(&snapshot, &Policy::default(), expires_in));
    }
    let text: String = certificates(&snapshot, &Policy::default(), NOW, false)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert!(
        text.contains(r#"object_name="acme \"idp\"\nline""#),
        "{text}"
    );
    assert!(!text.contains("cert_id=\"dd\",kind=\"connection_signing_cert\",object_id=\"con_9999\",object_name=\"forever\",tenant=\"prod\"} 253402300799"));
    assert!(text.contains("status=\"never_expires\""));
}

#[test]
fn nothing_to_write_without_records() {
    let empty = Snapshot {
        tenants: vec![TenantSnapshot::pending("prod", "acme.auth0.com")],
    };
    assert!(certificates(&empty, &Policy::default(), NOW, true).is_empty());
    assert_eq!(with_gauges(&empty, &Policy::default(), true), "");
}
