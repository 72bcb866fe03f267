//! Unit tests of the tenant builders: computed connection options, key rotation, credential
//! references and the tenant-derived members.

use super::*;
use crate::sim::certs::generate_cert;
use serde_json::json;
use time::macros::datetime;

#[test]
fn samlp_builder_computes_like_auth0_and_tolerates_garbage() {
    let cert = generate_cert(
        "idp",
        datetime!(2024-01-01 00:00 UTC),
        datetime!(2026-01-01 00:00 UTC),
    );
    let good = SimConnection::samlp("con_1", "acme", &cert.base64_der());
    assert_eq!(good.options["thumbprints"], json!([cert.sha1_hex]));
    assert_eq!(good.options["signingCert"], json!(cert.base64_der()));
    let bad = SimConnection::samlp("con_2", "broken", "garbage");
    assert_eq!(bad.options["signingCert"], json!("garbage"));
    assert!(!bad.options.contains_key("cert"));
    assert!(!bad.options.contains_key("thumbprints"));
}

#[test]
fn rotation_promotes_next_and_demotes_current() {
    let t0 = datetime!(2025-01-01 00:00 UTC);
    let now = datetime!(2025-06-01 00:00 UTC);
    let cur = generate_cert("t", t0, t0 + SIGNING_CERT_VALIDITY);
    let nxt = generate_cert("t", t0, t0 + SIGNING_CERT_VALIDITY);
    let mut tenant = SimTenant::new("acme.eu.auth0.com")
        .at(now)
        .signing_key(SimSigningKey::from_cert("cur", &cur).current(t0))
        .signing_key(SimSigningKey::from_cert("nxt", &nxt).next());
    let promoted = tenant.rotate_signing_keys().kid.clone();
    assert_eq!(promoted, "nxt");
    let flags: Vec<_> = tenant
        .signing_keys
        .iter()
        .map(|k| (k.kid.len(), k.current, k.next, k.previous))
        .collect();
    assert_eq!(
        flags,
        vec![
            (3, false, false, true),
            (3, true, false, false),
            (21, false, true, false)
        ]
    );
    assert_eq!(tenant.signing_keys[0].current_until, Some(now));
    assert_eq!(tenant.signing_keys[1].current_since, Some(now));
}

#[test]
fn referenced_credentials_cover_methods_and_jar() {
    let client = SimClient::new("c", "app")
        .private_key_jwt(&["cred_a", "cred_b"])
        .signed_request_object(true, &["cred_c"]);
    assert_eq!(
        client.referenced_credential_ids(),
        vec!["cred_a", "cred_b", "cred_c"]
    );
}

#[test]
fn tenant_name_and_ticket_urls() {
    let tenant = SimTenant::new("acme-prod.eu.auth0.com").connection(SimConnection::adfs(
        "con_abcdefghij",
        "corp",
        &[],
    ));
    assert_eq!(tenant.tenant_name, "acme-prod");
    assert_eq!(
        tenant.connections[0].provisioning_ticket_url.as_deref(),
        Some("https://acme-prod.eu.auth0.com/p/adfs/abcdefgh")
    );
}
