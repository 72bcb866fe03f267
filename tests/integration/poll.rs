//! Polling end to end against the simulator: inventory, faults, rate limits, tokens, scopes.

use crate::helpers::*;
use certwatch::inventory::{Kind, Reason, Role, Source};
use certwatch::sim::{Fault, FaultKind, RateLimit, SimConnection};

fn na(c: &certwatch::sim::GeneratedCert) -> Option<time::OffsetDateTime> {
    Some(c.not_after)
}

#[tokio::test]
async fn every_kind_is_inventoried_with_the_right_expiry() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "errors: {:?}", snap.tenants[0].errors);

    let keys = app.find(Kind::TenantSigningKey, DOMAIN);
    let by_kid = |kid: &str| keys.iter().find(|r| r.cert_id == kid).unwrap().clone();
    assert_eq!(by_kid("kid-current").not_after(), na(&f.current));
    assert_eq!(by_kid("kid-current").role, Role::Current);
    assert_eq!(by_kid("kid-next").role, Role::Next);
    assert_eq!(by_kid("kid-next").not_after(), na(&f.next));
    assert_eq!(by_kid("kid-prev").role, Role::Previous);
    assert_eq!(by_kid("kid-prev").not_after(), na(&f.previous));
    assert_eq!(by_kid("kid-revoked").role, Role::Revoked);
    assert_eq!(by_kid("kid-revoked").not_after(), na(&f.revoked));

    let saml = one(&app, Kind::ConnectionSigningCert, "acme-saml");
    assert_eq!(saml.not_after(), na(&f.saml));
    assert_eq!(saml.cert_id, f.saml.sha1_hex);
    assert_eq!(saml.object_id, "con_saml");
    assert_eq!(
        one(&app, Kind::ConnectionSigningCert, "acme-ping").not_after(),
        na(&f.ping)
    );
    assert_eq!(
        one(&app, Kind::ConnectionSigningCert, "corp-ad").not_after(),
        na(&f.ad)
    );
    let adfs = one(&app, Kind::ConnectionThumbprint, "acme-adfs");
    assert_eq!(adfs.cert_id, "aabbccddeeff00112233445566778899aabbccdd");
    assert_eq!(adfs.not_after(), None);
    assert_eq!(
        one(&app, Kind::ConnectionSpSigningKey, "acme-sp").not_after(),
        na(&f.sp_key)
    );
    assert_eq!(
        one(&app, Kind::ConnectionDecryptionKey, "acme-sp").not_after(),
        na(&f.decryption)
    );
    let ck = app.find(Kind::ConnectionKey, "partner-oidc");
    assert_eq!(ck.len(), 2);
    assert!(ck.iter().any(|r| r.role == Role::Current
        && r.not_after() == na(&f.oidc_current)
        && r.cert_id == "ck-current"));
    assert!(
        ck.iter()
            .any(|r| r.role == Role::Next && r.not_after() == na(&f.oidc_next))
    );

    let creds = app.find(Kind::ClientCredential, "billing-api");
    assert_eq!(creds.len(), 2);
    let used = creds.iter().find(|r| r.cert_id == "cred_billing").unwrap();
    assert_eq!((used.role, used.not_after()), (Role::InUse, na(&f.cred)));
    assert_eq!(
        creds
            .iter()
            .find(|r| r.cert_id == "cred_unused")
            .unwrap()
            .role,
        Role::Unused
    );
    let gw = app.find(Kind::ClientCredential, "mtls-gateway");
    let mtls = gw.iter().find(|r| r.cert_id == "cred_mtls").unwrap();
    assert_eq!((mtls.role, mtls.not_after()), (Role::InUse, na(&f.x509)));
    assert_eq!(mtls.sha256.as_deref(), Some(f.x509.sha256_hex.as_str()));
    let jar = gw.iter().find(|r| r.cert_id == "cred_never").unwrap();
    assert_eq!(jar.role, Role::InUse, "referenced by signed_request_object");
    assert_eq!(jar.validity, certwatch::expiry::Validity::Never);
    assert_eq!(
        one(&app, Kind::ClientEncryptionKey, "wsfed-app").not_after(),
        na(&f.enc)
    );
    // The client's copy of the tenant signing key is not a separate certificate; its own key is.
    let own = one(&app, Kind::ClientSigningKey, "billing-api");
    assert_eq!(own.not_after(), na(&f.own_signing));
    assert!(
        app.records().iter().all(|r| r.object_id != "cl_global"),
        "global client skipped"
    );
    assert!(app.find(Kind::ClientCredential, "plain-spa").is_empty());

    // Minimum calls: credentials only for the two clients that reference some, keys only for oidc.
    let reqs = app.sim.requests();
    let cred_calls = reqs
        .iter()
        .filter(|r| r.route.ends_with("/credentials"))
        .count();
    assert_eq!(cred_calls, 2);
    assert_eq!(
        reqs.iter().filter(|r| r.route.ends_with("/keys")).count(),
        1
    );
    assert!(
        reqs.iter()
            .filter(|r| r.path == "/api/v2/clients")
            .all(|r| r.query.contains("per_page=100"))
    );
    assert!(
        reqs.iter()
            .filter(|r| r.path == "/api/v2/connections")
            .all(|r| r.query.contains("take=100") && r.query.contains("fields="))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limit_storm_still_completes_the_poll() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.sim.set_rate_limit(Some(RateLimit {
        burst: 1,
        per_second: 8.0,
    }));
    app.sim.set_retry_after(true);
    app.sim
        .add_fault(Fault::new("/api/v2/clients", FaultKind::Status(429)).times(2));
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "errors: {:?}", snap.tenants[0].errors);
    assert!(
        app.sim.requests().iter().any(|r| r.status == 429),
        "the storm happened"
    );
    assert_eq!(app.find(Kind::ClientCredential, "billing-api").len(), 2);
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains("code=\"429\""), "429s are counted");
    assert!(metrics.contains("certwatch_api_ratelimit_remaining{tenant=\"prod\"}"));
    app.stop().await;
}

#[tokio::test]
async fn a_token_that_expires_mid_poll_is_refreshed_once() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.sim
        .add_fault(Fault::new("/api/v2/connections", FaultKind::ExpireToken).times(1));
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "errors: {:?}", snap.tenants[0].errors);
    let tokens = app
        .sim
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count();
    assert_eq!(tokens, 2, "one initial token, one refresh after the 401");
    assert_eq!(app.find(Kind::ConnectionSigningCert, "acme-saml").len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_500_on_one_endpoint_keeps_the_rest_and_the_last_good_records() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.app.poll_now().await;
    assert!(app.app.snapshot().tenants[0].up);
    let before = app.find(Kind::ConnectionSigningCert, "acme-saml");

    app.sim
        .add_fault(Fault::new("/api/v2/connections", FaultKind::Status(500)));
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    assert!(!t.up);
    assert!(
        t.last_success.is_some(),
        "the earlier success is remembered"
    );
    assert!(
        t.errors
            .iter()
            .any(|e| e.source == Source::Connections && e.reason == Reason::ServerError)
    );
    assert_eq!(
        app.find(Kind::ConnectionSigningCert, "acme-saml"),
        before,
        "last good records stay visible"
    );
    assert_eq!(
        app.find(Kind::ClientCredential, "billing-api").len(),
        2,
        "other sources still polled"
    );
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains("certwatch_tenant_up{tenant=\"prod\"} 0"));
    assert!(metrics.contains("certwatch_poll_errors_total{reason=\"server_error\",source=\"connections\",tenant=\"prod\"} 1"));
    let (_, api) = app.get("/api/v1/certificates").await;
    let doc: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(doc["tenants"][0]["up"], false);
    assert_eq!(doc["tenants"][0]["errors"][0]["reason"], "server_error");
    assert_eq!(doc["tenants"][0]["errors"][0]["source"], "connections");

    app.sim.clear_faults();
    app.app.poll_now().await;
    assert!(app.app.snapshot().tenants[0].up, "recovers by itself");
    app.stop().await;
}

#[tokio::test]
async fn missing_options_scope_is_a_scope_error_not_no_certificate() {
    let f = full_tenant();
    let tenant = f.tenant;
    let app = TestApp::spawn(tenant).await;
    app.sim.update(|t| {
        let scopes: Vec<&str> = ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != "read:connections_options")
            .collect();
        t.set_scopes(CLIENT_ID, &scopes);
    });
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    assert!(!t.up);
    let e = t
        .errors
        .iter()
        .find(|e| e.reason == Reason::MissingScope)
        .expect("missing_scope error");
    assert!(
        e.message.contains("read:connections_options"),
        "{}",
        e.message
    );
    assert!(
        app.find(Kind::TenantSigningKey, DOMAIN).len() == 4,
        "other sources unaffected"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_deleted_between_polls_disappears_from_metrics() {
    let f = full_tenant();
    let sha1 = f.saml.sha1_hex.clone();
    let app = TestApp::spawn(f.tenant).await;
    app.app.poll_now().await;
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains(&format!("cert_id=\"{sha1}\"")));
    app.sim.update(|t| t.remove_connection("con_saml"));
    app.app.poll_now().await;
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        !metrics.contains(&format!("cert_id=\"{sha1}\"")),
        "no stale series"
    );
    assert!(
        app.find(Kind::ConnectionSigningCert, "acme-saml")
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_credentials_fail_the_tenant_without_hammering_auth0() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.sim.update(|t| t.set_scopes(CLIENT_ID, &[]));
    app.sim
        .add_fault(Fault::new("/oauth/token", FaultKind::Status(401)));
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    assert!(!t.up);
    assert!(
        t.errors.iter().all(|e| e.reason == Reason::Unauthorized),
        "{:?}",
        t.errors
    );
    let token_calls = app
        .sim
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count();
    assert_eq!(
        token_calls, 1,
        "a refused token is not retried by every source"
    );
    app.stop().await;
}

/// Hostile or broken responses: each fails only its source, with the right reason, the daemon
/// keeps serving `/metrics`, and the next clean poll recovers.
#[tokio::test]
async fn broken_responses_fail_one_source_and_recover() {
    let cases = [
        (FaultKind::MalformedJson, Reason::Decode),
        (FaultKind::Truncated, Reason::Decode),
        (FaultKind::WrongContentType, Reason::Decode),
        (FaultKind::Hang, Reason::Timeout),
        (FaultKind::Status(503), Reason::ServerError),
    ];
    let f = full_tenant();
    let app = TestApp::spawn_toml(f.tenant, |t| {
        t.replace("timeout = \"5s\"", "timeout = \"400ms\"")
    })
    .await;
    for (kind, reason) in cases {
        app.sim.clear_faults();
        app.sim
            .add_fault(Fault::new("/api/v2/connections", kind.clone()));
        app.app.poll_now().await;
        let t = app.app.snapshot().tenants[0].clone();
        assert!(!t.up, "{kind:?}");
        let e = t
            .errors
            .iter()
            .find(|e| e.source == Source::Connections)
            .unwrap_or_else(|| panic!("{kind:?}: {:?}", t.errors));
        assert_eq!(e.reason, reason, "{kind:?}: {}", e.message);
        assert_eq!(
            app.find(Kind::TenantSigningKey, DOMAIN).len(),
            4,
            "{kind:?}: other sources unaffected"
        );
        let (code, metrics) = app.get("/metrics").await;
        assert_eq!(code, 200);
        assert!(metrics.contains("certwatch_tenant_up{tenant=\"prod\"} 0"));
    }
    app.sim.clear_faults();
    app.app.poll_now().await;
    assert!(app.app.snapshot().tenants[0].up, "recovers by itself");
    app.stop().await;
}

/// A malformed certificate in one connection never hides the others.
#[tokio::test]
async fn one_bad_certificate_never_hides_the_others() {
    let good = cert("good.example", 100);
    let tenant = base_tenant()
        .connection(SimConnection::samlp(
            "con_bad",
            "bad-idp",
            "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----",
        ))
        .connection(SimConnection::samlp("con_good", "good-idp", &good.pem));
    let app = TestApp::spawn(tenant).await;
    app.app.poll_now().await;
    assert!(
        app.app.snapshot().tenants[0].up,
        "a bad certificate is a finding, not a poll failure"
    );
    let bad = one(&app, Kind::ConnectionSigningCert, "bad-idp");
    assert!(bad.error.is_some());
    assert_eq!(
        one(&app, Kind::ConnectionSigningCert, "good-idp").not_after(),
        Some(good.not_after)
    );
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains("certwatch_certificate_parse_error{cert_id=\"unparseable-"));
    app.stop().await;
}

/// A giant body is refused at the size bound instead of being read into memory.
#[tokio::test]
async fn a_giant_body_is_refused_at_the_bound() {
    let app = TestApp::spawn(full_tenant().tenant).await;
    app.sim.add_fault(Fault::new(
        "/api/v2/connections",
        FaultKind::Giant(40 * 1024 * 1024),
    ));
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    let e = t
        .errors
        .iter()
        .find(|e| e.source == Source::Connections)
        .unwrap();
    assert_eq!(e.reason, Reason::Decode, "{}", e.message);
    assert!(e.message.contains("larger than"), "{}", e.message);
    app.stop().await;
}
