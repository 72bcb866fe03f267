//! Unit tests of credential creation and of the client-credentials grant check.

use super::credentials::new_credential;
use super::*;
use crate::sim::certs::generate_cert;
use time::macros::datetime;

#[test]
fn x509_credential_takes_expiry_and_thumbprint_from_the_cert() {
    let cert = generate_cert(
        "mtls",
        datetime!(2024-01-01 00:00 UTC),
        datetime!(2029-12-31 23:59:59 UTC),
    );
    let body = json!({ "credential_type": "x509_cert", "name": "n", "pem": cert.pem });
    let cred = new_credential(body.as_object().unwrap(), datetime!(2025-01-01 00:00 UTC)).unwrap();
    assert_eq!(cred.expires_at, Some(cert.not_after));
    assert_eq!(
        cred.thumbprint_sha256.as_deref(),
        Some(cert.thumbprint_sha256_b64url().as_str())
    );
    assert!(cred.id.starts_with("cred_"));
}

#[test]
fn public_key_expiry_is_explicit_parsed_or_absent() {
    let cert = generate_cert(
        "jwt",
        datetime!(2024-01-01 00:00 UTC),
        datetime!(2030-01-01 00:00 UTC),
    );
    let now = datetime!(2025-01-01 00:00 UTC);
    let parse = |body: Value| new_credential(body.as_object().unwrap(), now);
    let parsed =
        parse(json!({"credential_type":"public_key","pem":cert.pem,"parse_expiry_from_cert":true}))
            .unwrap();
    assert_eq!(parsed.expires_at, Some(cert.not_after));
    let explicit = parse(json!({
        "credential_type": "public_key",
        "pem": cert.pem,
        "expires_at": "2026-02-03T04:05:06Z",
    }))
    .unwrap();
    assert_eq!(
        explicit.expires_at,
        Some(datetime!(2026-02-03 04:05:06 UTC))
    );
    let never = parse(json!({"credential_type":"public_key","pem":cert.pem})).unwrap();
    assert_eq!(never.expires_at, None);
    assert_eq!(never.alg.as_deref(), Some("RS256"));
    assert!(parse(json!({"credential_type":"public_key","pem":"junk"})).is_err());
    assert!(parse(json!({"credential_type":"nope","pem":cert.pem})).is_err());
}

#[test]
fn token_grant_checks_secret_and_audience() {
    let tenant = SimTenant::new("acme.eu.auth0.com").m2m("cw", "s3cret", &["read:clients"]);
    let mut req = TokenRequest {
        grant_type: Some("client_credentials".into()),
        client_id: Some("cw".into()),
        client_secret: Some("s3cret".into()),
        audience: Some("https://acme.eu.auth0.com/api/v2/".into()),
    };
    assert_eq!(
        authorize_client(&tenant, &req).unwrap(),
        ("cw".to_owned(), vec!["read:clients".to_owned()])
    );
    req.audience = Some("https://acme.eu.auth0.com/api/v2".into());
    assert_eq!(authorize_client(&tenant, &req).unwrap_err().status, 403);
    req.client_secret = Some("wrong".into());
    let err = authorize_client(&tenant, &req).unwrap_err();
    assert_eq!(err.status, 401);
    assert_eq!(
        err.body,
        json!({"error":"access_denied","error_description":"Unauthorized"})
    );
}
