//! Rotation from metadata (docs/rotation.md), planned from parsed metadata documents: the
//! decisions (due, not due, blocked, disabled) and a property test — for arbitrary options
//! objects and arbitrary SAML metadata documents (any mix of signing, encryption and unlabelled
//! key descriptors over a pool of certificates), the plan's PATCH body never loses an option,
//! keeps `metadataUrl`, and holds nothing but `options` (+ `display_name`).

use super::tests::json_value;
use super::*;
use crate::config::{Source, Target};
use crate::expiry::Validity;
use crate::inventory::{CertRecord, Kind, Role, Snapshot, TenantSnapshot};
use crate::remote::{DocumentKind, IdpDocument, Published};
use crate::rotate::plan::{self, Action, Blocker, Decision, Settings};
use crate::sim::GeneratedCert;
use proptest::prelude::*;
use std::sync::OnceLock;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

/// Certificates the documents are made of: the trusted one (expiring in 10 days), two valid
/// later ones, one not valid yet, one expired.
fn pool() -> &'static [GeneratedCert] {
    static POOL: OnceLock<Vec<GeneratedCert>> = OnceLock::new();
    POOL.get_or_init(|| {
        let d = time::Duration::days;
        [
            ("trusted", -300, 10),
            ("next", -1, 400),
            ("later", -10, 700),
            ("future", 5, 900),
            ("expired", -400, -1),
        ]
        .iter()
        .map(|(cn, from, to)| crate::sim::generate_cert(cn, NOW + d(*from), NOW + d(*to)))
        .collect()
    })
}

/// A metadata document: each entry is (certificate index, `use` attribute).
fn document(keys: &[(usize, Option<&str>)]) -> String {
    let mut x = String::from(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example/"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
    );
    for (i, use_) in keys {
        let attr = use_.map(|u| format!(r#" use="{u}""#)).unwrap_or_default();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&pool()[*i].der);
        x.push_str(&format!(
            "<md:KeyDescriptor{attr}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        ));
    }
    x.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>");
    x
}

fn trusted_record() -> CertRecord {
    let c = &pool()[0];
    let info = crate::x509::decode_der(&c.der).unwrap();
    CertRecord {
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        role: Role::Active,
        object_id: "con_1".into(),
        object_name: "acme".into(),
        cert_id: info.sha1.clone(),
        subject: Some(info.subject.clone()),
        issuer: None,
        serial: None,
        sha1: Some(info.sha1.clone()),
        sha256: Some(info.sha256.clone()),
        validity: Validity::Window {
            not_before: Some(info.not_before),
            not_after: info.not_after,
        },
        error: None,
        source: crate::inventory::Source::Connections,
        owner: None,
        key_use: None,
    }
}

fn plan_from(xml: &str) -> Option<plan::TrustChange> {
    match decide(Some(xml), false) {
        Decision::Due(Action::FromMetadata { change }) => Some(*change),
        _ => None,
    }
}

/// The decision for the trusted connection against `xml` (`None`: no document fetched).
fn decide(xml: Option<&str>, disabled: bool) -> Decision {
    let parsed = xml.map(|x| crate::remote::saml::parse(x.as_bytes()).unwrap());
    let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
    t.up = true;
    t.records = vec![trusted_record()];
    t.facts.idp = parsed
        .map(|p| IdpDocument {
            connection_id: "con_1".into(),
            connection_name: "acme".into(),
            strategy: "samlp".into(),
            kind: DocumentKind::SamlMetadata,
            url: "https://idp.example/metadata".into(),
            published: Some(Published {
                valid_until: None,
                certs: p.signing,
            }),
            error: None,
        })
        .into_iter()
        .collect();
    let target = Target {
        tenant: None,
        kind: Some(Kind::ConnectionSigningCert),
        object_name: None,
        object_id: None,
        source: Source::Metadata,
        disabled,
    };
    let settings = Settings {
        rotate_before: Duration::from_secs(30 * 86_400),
        overlap: Duration::from_secs(86_400),
    };
    let snapshot = Snapshot { tenants: vec![t] };
    let steps = plan::plan(
        &snapshot,
        &[target],
        &Default::default(),
        &[],
        &settings,
        NOW,
    );
    steps[0].decision.clone()
}

#[test]
fn decisions_from_metadata() {
    let signing = |i| (i, Some("signing"));
    // Rolled over: publishes only a later certificate → due, to the latest-expiring valid one.
    let change = plan_from(&document(&[signing(1), signing(2), signing(3)])).unwrap();
    assert_eq!(change.after.sha1, pool()[2].sha1_hex);
    assert_eq!(change.published.len(), 3);
    assert!(
        change
            .reasons
            .iter()
            .any(|r| r.contains("no longer publishes"))
    );
    // Publishes the trusted one only, which expires within rotate_before: blocked.
    assert!(matches!(
        decide(Some(&document(&[signing(0)])), false),
        Decision::Blocked(Blocker::Metadata(_))
    ));
    // Only a certificate that is not valid yet, or expired, next to the trusted one: blocked.
    assert!(matches!(
        decide(
            Some(&document(&[signing(0), signing(3), signing(4)])),
            false
        ),
        Decision::Blocked(Blocker::Metadata(_))
    ));
    // Encryption keys are not signing certificates.
    assert!(plan_from(&document(&[signing(0), (2, Some("encryption"))])).is_none());
    // No metadata read: blocked (the trusted one is due by date), with the reason.
    match decide(None, false) {
        Decision::Blocked(b) => assert!(b.to_string().contains("[metadata]"), "{b}"),
        d => panic!("{d:?}"),
    }
    // policy = "disabled": never rotated.
    assert!(matches!(
        decide(Some(&document(&[signing(2)])), true),
        Decision::NotDue(why) if why.contains("disabled")
    ));
}

fn key_descriptors() -> impl Strategy<Value = Vec<(usize, Option<&'static str>)>> {
    let use_ = prop::sample::select(vec![Some("signing"), Some("encryption"), None]);
    prop::collection::vec((0..5usize, use_), 0..6)
}

fn options() -> impl Strategy<Value = Map<String, Value>> {
    let key = prop_oneof![
        "\\PC{1,16}",
        prop::sample::select(vec![
            "metadataUrl".to_string(),
            "signingCert".into(),
            "cert".into(),
            "thumbprints".into(),
            "signInEndpoint".into(),
            "decryptionKey".into(),
        ]),
    ];
    prop::collection::btree_map(key, json_value(), 0..12).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn metadata_patch_never_loses_an_option(
        keys in key_descriptors(),
        mut opts in options(),
        with_url in any::<bool>(),
        display in prop::option::of(json_value()),
        top in prop::collection::btree_map("[a-z_]{1,12}", json_value(), 0..4),
    ) {
        let Some(change) = plan_from(&document(&keys)) else {
            return Ok(());
        };
        if with_url {
            opts.insert("metadataUrl".into(), json!("https://idp.example/metadata"));
        }
        let mut conn: Map<String, Value> = top.into_iter().collect();
        conn.insert("id".into(), json!("con_1"));
        conn.insert("strategy".into(), json!("samlp"));
        conn.insert("options".into(), Value::Object(opts.clone()));
        match &display {
            Some(d) => conn.insert("display_name".into(), d.clone()),
            None => conn.remove("display_name"),
        };
        let conn = Value::Object(conn);
        let (body, expect) = metadata_body(&conn, &change).unwrap();

        // Nothing but options (+ display_name when the connection has a string one).
        let top_keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        prop_assert!(top_keys.iter().all(|k| *k == "options" || *k == "display_name"), "{:?}", top_keys);
        prop_assert_eq!(body.get("display_name"), display.as_ref().filter(|d| d.is_string()));

        let sent = body["options"].as_object().unwrap();
        let refresh = metadata_url(&conn).is_some();
        for (k, v) in &opts {
            let owned = COMPUTED.contains(&k.as_str()) || k == "signingCert";
            if !owned {
                prop_assert_eq!(sent.get(k), Some(v), "option {:?} lost", k);
            }
        }
        for k in sent.keys() {
            prop_assert!(opts.contains_key(k) || k == "signingCert", "added {:?}", k);
        }
        for k in COMPUTED {
            prop_assert!(!sent.contains_key(k));
        }
        if refresh {
            prop_assert_eq!(sent.get("metadataUrl"), opts.get("metadataUrl"));
            prop_assert!(!sent.contains_key("signingCert"));
            prop_assert!(matches!(expect, Expect::Published(_)));
        } else {
            prop_assert_eq!(&sent["signingCert"], &json!(signing_cert_value(&change.der)));
            prop_assert_eq!(&expect, &Expect::Exactly(change.after.sha1.clone()));
        }
        // The chosen certificate is published, valid now, and not the trusted one.
        prop_assert!(change.publishes(&change.after.sha1));
        prop_assert!(change.after.not_before.unwrap() <= NOW && NOW < change.after.not_after.unwrap());
        prop_assert!(change.trusted.iter().all(|t| t.sha1 != change.after.sha1));

        // An answer that echoes the options and trusts the chosen certificate verifies.
        let mut answer = body.clone();
        answer["options"]["thumbprints"] = json!([change.after.sha1]);
        prop_assert_eq!(verify_connection(&body, &answer, &expect), Ok(()));
    }
}
