//! The tenant's public JWKS (`/.well-known/jwks.json`): byte for byte like the recording, its
//! departures from the signing keys, faults and methods.

use super::*;

/// A recorded JSON body exactly as sent on the wire: the file minus its pretty-printing (the
/// recorded values hold no white space).
fn recorded_compact(name: &str) -> String {
    let path = format!("{}/tests/fixtures/auth0/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .split_whitespace()
        .collect()
}

#[tokio::test]
async fn tenant_jwks_reproduces_the_recorded_body_byte_for_byte() {
    let rec = recorded("tenant-jwks.common-auth0-com.dockyard.json");
    let key = |i: usize| {
        let k = &rec["keys"][i];
        SimSigningKey::from_raw(k["kid"].as_str().unwrap(), k["x5c"][0].as_str().unwrap())
    };
    let unpublished = cert("common.auth0.com", 4000);
    let t = SimTenant::new("common.auth0.com")
        .signing_key(key(0).previous(NOW, NOW))
        .signing_key(key(1).current(NOW))
        .signing_key(SimSigningKey::from_cert("revoked", &unpublished).revoked(NOW))
        .signing_key(SimSigningKey::from_cert("no-role", &unpublished));
    let sim = Sim::spawn(t).await.unwrap();
    // Auth0 limits the public endpoint apart from the Management API: no bucket here.
    sim.set_rate_limit(Some(RateLimit {
        burst: 1,
        per_second: 0.001,
    }));
    for _ in 0..3 {
        let resp = get_public(&sim, "/.well-known/jwks.json").await;
        assert_eq!(resp.status(), StatusCode::OK);
        let headers = resp.headers().clone();
        assert_eq!(
            headers["cache-control"],
            "public, max-age=15, stale-while-revalidate=15, stale-if-error=86400"
        );
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
        assert!(headers.get("x-ratelimit-limit").is_none());
        let body = resp.text().await.unwrap();
        assert_eq!(
            body,
            recorded_compact("tenant-jwks.common-auth0-com.dockyard.json"),
            "old-style kid == x5t kept, new-style x5t = base64url(SHA-1(DER)), RSA n/e from the cert"
        );
    }
    let routes: Vec<_> = sim.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes, vec!["/.well-known/jwks.json"; 3]);
    sim.shutdown().await;
}

#[tokio::test]
async fn tenant_jwks_can_omit_a_signing_key_or_publish_a_stale_one() {
    let current = cert(DOMAIN, 4000);
    let next = cert(DOMAIN, 4000);
    let stale = cert(DOMAIN, 4000);
    let t = tenant()
        .signing_key(SimSigningKey::from_cert("cur", &current).current(NOW))
        .signing_key(SimSigningKey::from_cert("nxt", &next).next())
        .jwks_without("nxt")
        .jwks_with_extra("stale", &stale);
    let sim = Sim::spawn(t).await.unwrap();
    let body: Value = get_public(&sim, "/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<_> = body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec!["cur", "stale"]);
    let jwk = &body["keys"][0];
    assert_eq!(
        keys(jwk),
        vec!["alg", "crv", "kid", "kty", "use", "x", "x5c", "x5t", "y"]
    );
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["alg"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"))
    );
    use base64::Engine as _;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    assert_eq!(
        hex::encode(b64url.decode(jwk["x5t"].as_str().unwrap()).unwrap()),
        current.sha1_hex
    );
    assert_eq!(jwk["x5c"], json!([current.base64_der()]));
    sim.shutdown().await;
}

#[tokio::test]
async fn tenant_jwks_faults_and_wrong_method() {
    let sim = Sim::spawn(tenant()).await.unwrap();
    sim.add_fault(Fault::new("/.well-known/jwks.json", FaultKind::Status(503)).times(1));
    sim.add_fault(Fault::new(faults::ANY_API_ROUTE, FaultKind::Status(500)));
    assert_eq!(
        get_public(&sim, "/.well-known/jwks.json").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let resp = get_public(&sim, "/.well-known/jwks.json").await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the API wildcard does not cover it"
    );
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"keys": []}));
    let resp = reqwest::Client::new()
        .post(sim.url().join(".well-known/jwks.json").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    sim.shutdown().await;
}
