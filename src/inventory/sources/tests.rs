//! Source conversion tests, on recorded Auth0 bodies where they exist.

use super::*;
use crate::auth0::wire;

fn recorded(name: &str) -> Value {
    let p = format!("{}/tests/fixtures/auth0/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn conn(v: Value) -> (wire::Connection, Value) {
    let c: wire::Connection = serde_json::from_value(v).unwrap();
    let o = c.options.clone().unwrap();
    (c, o)
}

fn cert(cn: &str, days: i64) -> String {
    let mut p = rcgen::CertificateParams::new(vec![cn.into()]).unwrap();
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(days);
    p.self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

#[test]
fn samlp_with_identical_cert_and_signing_cert_is_one_record() {
    let (c, o) = conn(recorded("samlp-connection-get.go-auth0.json"));
    let recs = connection("prod", &c, &o);
    let signing: Vec<_> = recs
        .iter()
        .filter(|r| r.kind == Kind::ConnectionSigningCert)
        .collect();
    assert_eq!(signing.len(), 1);
    let r = signing[0];
    assert_eq!(r.object_id, c.id);
    assert_eq!(r.object_name, c.name);
    assert_eq!(r.cert_id, o["thumbprints"][0].as_str().unwrap());
    assert_eq!(r.sha1.as_deref(), o["thumbprints"][0].as_str());
    let expires = OffsetDateTime::parse(o["expires"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(r.not_after(), Some(expires));
    assert!(r.error.is_none());
}

#[test]
fn samlp_metadata_derived_base64_signing_cert_and_placeholder_keys() {
    let (c, o) = conn(recorded(
        "samlp-connection-get-metadataXml-derived.terraform.json",
    ));
    let recs = connection("prod", &c, &o);
    let signing: Vec<_> = recs
        .iter()
        .filter(|r| r.kind == Kind::ConnectionSigningCert)
        .collect();
    assert_eq!(signing.len(), 1, "base64-of-PEM signingCert equals cert");
    assert_eq!(signing[0].sha1.as_deref(), o["thumbprints"][0].as_str());
    // The recorded decryptionKey is a placeholder: reported as unparseable, never dropped.
    let dec: Vec<_> = recs
        .iter()
        .filter(|r| r.kind == Kind::ConnectionDecryptionKey)
        .collect();
    assert_eq!(dec.len(), 1);
    assert!(dec[0].error.is_some());
    assert_eq!(dec[0].validity, Validity::Unknown);
}

#[test]
fn pingfederate_uses_returned_cert() {
    let (c, o) = conn(recorded("pingfederate-connection-get.go-auth0.json"));
    let recs = connection("prod", &c, &o);
    let r = recs
        .iter()
        .find(|r| r.kind == Kind::ConnectionSigningCert)
        .unwrap();
    assert_eq!(r.sha1.as_deref(), o["thumbprints"][0].as_str());
}

#[test]
fn waad_thumbprints_only() {
    let (c, o) = conn(recorded("waad-connection-create-response.terraform.json"));
    let recs = connection("prod", &c, &o);
    assert_eq!(recs.len(), 5);
    assert!(
        recs.iter()
            .all(|r| r.kind == Kind::ConnectionThumbprint && r.validity == Validity::Unknown)
    );
    assert_eq!(recs[0].cert_id, "2ed8047f8e84097e9e4579912efc013c96a07f0c");
    assert!(
        recs.iter().all(|r| r.error.is_none()),
        "thumbprint-only is not a parse error"
    );
}

#[test]
fn garbage_signing_cert_is_an_unknown_record_with_error() {
    let c = wire::Connection {
        id: "con_bad".into(),
        name: "broken-idp".into(),
        strategy: "samlp".into(),
        options: None,
        metadata: None,
    };
    let o = serde_json::json!({"signingCert": "definitely not a cert"});
    let recs = connection("prod", &c, &o);
    assert_eq!(recs.len(), 1);
    assert!(recs[0].error.is_some());
    assert!(recs[0].cert_id.starts_with("unparseable-"));
}

#[test]
fn decryption_key_as_pem_string_and_ad_certs() {
    let c = wire::Connection {
        id: "con_ad".into(),
        name: "corp-ad".into(),
        strategy: "ad".into(),
        options: None,
        metadata: None,
    };
    let (a, b) = (cert("a", 10), cert("b", 20));
    let o =
        serde_json::json!({"certs": [a, b], "thumbprints": ["x"], "decryptionKey": cert("d", 30)});
    let recs = connection("prod", &c, &o);
    assert_eq!(
        recs.iter()
            .filter(|r| r.kind == Kind::ConnectionSigningCert)
            .count(),
        2
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.kind == Kind::ConnectionDecryptionKey)
            .count(),
        1
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.kind == Kind::ConnectionThumbprint)
            .count(),
        0
    );
}

#[test]
fn signing_key_roles_and_thumbprints() {
    let keys: Vec<wire::SigningKey> = serde_json::from_value(serde_json::json!([
        {"kid": "k1", "cert": cert("t", 100), "current": true},
        {"kid": "k2", "cert": cert("t", 200), "next": true},
        {"kid": "k3", "cert": cert("t", 5), "previous": true},
        {"kid": "k4", "cert": cert("t", 5), "previous": true, "revoked": true},
    ]))
    .unwrap();
    let (recs, thumbs) = signing_keys("prod", "acme.auth0.com", &keys);
    let roles: Vec<_> = recs.iter().map(|r| r.role).collect();
    assert_eq!(
        roles,
        vec![Role::Current, Role::Next, Role::Previous, Role::Revoked]
    );
    assert_eq!(recs[0].object_name, "acme.auth0.com");
    assert_eq!(recs[0].cert_id, "k1");
    assert_eq!(thumbs.len(), 4);
}

#[test]
fn client_signing_keys_that_are_tenant_keys_are_skipped() {
    let tenant_cert = cert("tenant", 100);
    let own = cert("own", 100);
    let (tenant_recs, thumbs) = signing_keys(
        "prod",
        "d",
        &[wire::SigningKey {
            kid: "k".into(),
            cert: Some(tenant_cert.clone()),
            thumbprint: None,
            current: Some(true),
            next: None,
            previous: None,
            revoked: None,
        }],
    );
    assert_eq!(tenant_recs.len(), 1);
    let c: wire::Client = serde_json::from_value(serde_json::json!({
        "client_id": "c1", "name": "billing",
        "signing_keys": [{"cert": tenant_cert}, {"cert": own}],
        "encryption_key": {"cert": cert("enc", 50), "pub": "x"},
        "client_authentication_methods": {"private_key_jwt": {"credentials": [{"id": "cred_a"}]}},
        "signed_request_object": {"required": true, "credentials": [{"id": "cred_b"}]}
    }))
    .unwrap();
    let (recs, refs) = client("prod", &c, &thumbs);
    assert_eq!(
        recs.iter()
            .filter(|r| r.kind == Kind::ClientSigningKey)
            .count(),
        1
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.kind == Kind::ClientEncryptionKey)
            .count(),
        1
    );
    assert_eq!(
        refs,
        HashSet::from(["cred_a".to_string(), "cred_b".to_string()])
    );
}

#[test]
fn global_client_contributes_nothing() {
    let c: wire::Client = serde_json::from_value(serde_json::json!({
        "client_id": "g", "name": "All Applications", "global": true,
        "signing_keys": [{"cert": cert("x", 1)}]
    }))
    .unwrap();
    let (recs, refs) = client("prod", &c, &HashSet::new());
    assert!(recs.is_empty() && refs.is_empty());
}

#[test]
fn credentials_roles_and_expiry_from_recorded_list() {
    let creds: Vec<wire::Credential> =
        serde_json::from_value(recorded("client-credentials-list.terraform.json")).unwrap();
    let refs = HashSet::from([creds[0].id.clone()]);
    let recs = credentials("prod", "c1", "api", &refs, &creds);
    assert_eq!(recs[0].role, Role::InUse);
    assert_eq!(recs[1].role, Role::Unused);
    assert_eq!(recs[0].cert_id, creds[0].id);
    assert_eq!(
        recs[0].not_after(),
        Some(OffsetDateTime::parse("2033-05-13T11:29:08.000Z", &Rfc3339).unwrap())
    );
    let none: Vec<wire::Credential> =
        serde_json::from_value(serde_json::json!([{"id": "cred_x", "expires_at": null}, {"id": "cred_y", "expires_at": "soon"}]))
            .unwrap();
    let recs = credentials("prod", "c1", "api", &refs, &none);
    assert_eq!(recs[0].validity, Validity::Never);
    assert!(recs[1].error.is_some());
    let x509: wire::Credential =
        serde_json::from_value(recorded("client-credential-x509-cert-create.go-auth0.json"))
            .unwrap();
    let recs = credentials("prod", "c1", "api", &refs, &[x509]);
    assert_eq!(recs[0].sha256.as_ref().map(String::len), Some(64));
    assert_eq!(recs[0].not_after().map(|t| t.year()), Some(9999));
}

#[test]
fn connection_keys_from_recorded_body() {
    let keys: Vec<wire::ConnectionKey> =
        serde_json::from_value(recorded("connection-keys-list-after-rotate.go-auth0.json"))
            .unwrap();
    let c = wire::Connection {
        id: "con_C2e0oblyUcpOWkUv".into(),
        name: "oidc".into(),
        strategy: "oidc".into(),
        options: Some(serde_json::json!({"token_endpoint_auth_method": "private_key_jwt"})),
        metadata: None,
    };
    assert!(has_connection_keys(&c));
    let recs = connection_keys("prod", &c, &keys);
    let roles: Vec<_> = recs.iter().map(|r| r.role).collect();
    assert_eq!(roles, vec![Role::Current, Role::Previous, Role::Next]);
    assert_eq!(
        recs[0].sha1.as_deref(),
        Some("0d763ac94f287ae1aa66630cd259c0a951c19881")
    );
    assert_eq!(recs[0].cert_id, keys[0].kid);
    assert!(recs.iter().all(|r| r.key_use.as_deref() == Some("signing")));
    // Keys can exist before private_key_jwt is switched on: every oidc/okta connection is read.
    let plain = wire::Connection {
        options: Some(serde_json::json!({"token_endpoint_auth_method": "client_secret_post"})),
        ..c.clone()
    };
    assert!(has_connection_keys(&plain));
    let okta = wire::Connection {
        strategy: "okta".into(),
        options: None,
        ..c.clone()
    };
    assert!(has_connection_keys(&okta));
    let saml = wire::Connection {
        strategy: "samlp".into(),
        ..c
    };
    assert!(!has_connection_keys(&saml));
}
