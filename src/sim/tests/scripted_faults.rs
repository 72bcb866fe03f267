//! Scripted faults (statuses with after/times, latency, hangs, broken bodies, write faults,
//! expired tokens) and the JSON errors of unknown routes and methods.

use super::*;

#[tokio::test]
async fn status_fault_with_after_and_times_and_recording() {
    let api = Api::start(tenant_with_clients(1), READ_ALL).await;
    api.sim.clear_requests();
    api.sim.add_fault(
        Fault::new("/api/v2/clients", FaultKind::Status(503))
            .after(1)
            .times(2),
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(api.get("/api/v2/clients").await.0.as_u16());
    }
    assert_eq!(statuses, vec![200, 503, 503, 200]);
    let (status, body) = {
        api.sim
            .add_fault(Fault::new(faults::ANY_API_ROUTE, FaultKind::Status(500)).times(1));
        api.get("/api/v2/clients/client00/credentials").await
    };
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["statusCode"], 500);
    assert_eq!(body["error"], "Internal Server Error");
    let recorded = api.sim.requests();
    assert_eq!(recorded.len(), 5);
    assert_eq!(recorded[4].route, "/api/v2/clients/{id}/credentials");
    assert_eq!(recorded[4].path, "/api/v2/clients/client00/credentials");
    assert_eq!(recorded[4].method, "GET");
    assert_eq!(recorded[4].status, 500);
    api.sim.clear_faults();
    assert_eq!(api.get("/api/v2/clients").await.0, StatusCode::OK);
}

#[tokio::test]
async fn status_429_fault_looks_like_an_exhausted_bucket() {
    let api = Api::start(tenant_with_clients(1), READ_ALL).await;
    api.sim.set_rate_limit(Some(RateLimit {
        burst: 50,
        per_second: 0.01,
    }));
    api.sim.set_retry_after(true);
    api.sim
        .add_fault(Fault::new("/api/v2/clients", FaultKind::Status(429)).times(1));
    let (status, headers, body) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["errorCode"], "too_many_requests");
    assert_eq!(headers["x-ratelimit-limit"], "50");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["retry-after"], "1");
    let (status, headers, _) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["x-ratelimit-remaining"], "48",
        "the faulted request used a token"
    );
}

#[tokio::test]
async fn token_endpoint_is_faulted_only_by_name() {
    let sim = Sim::spawn(tenant().m2m(M2M, SECRET, READ_ALL))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    sim.add_fault(Fault::new(faults::ANY_API_ROUTE, FaultKind::Status(500)));
    fetch_token(&http, &sim, M2M, SECRET).await;
    sim.clear_faults();
    sim.add_fault(Fault::new("/oauth/token", FaultKind::Status(503)).times(1));
    let resp = http
        .post(sim.url().join("oauth/token").unwrap())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("error").is_some() && body.get("error_description").is_some());
    fetch_token(&http, &sim, M2M, SECRET).await;
}

#[tokio::test]
async fn latency_fault_delays_then_answers() {
    let api = Api::start(tenant_with_clients(1), READ_ALL).await;
    api.sim.add_fault(
        Fault::new(
            "/api/v2/clients",
            FaultKind::Latency(Duration::from_millis(300)),
        )
        .times(1),
    );
    let start = std::time::Instant::now();
    let (status, body) = api.get("/api/v2/clients").await;
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn hang_fault_never_answers_until_shutdown() {
    let api = Api::start(tenant_with_clients(1), READ_ALL).await;
    api.sim
        .add_fault(Fault::new("/api/v2/connections", FaultKind::Hang));
    let result = api
        .http
        .get(api.url("/api/v2/connections"))
        .bearer_auth(&api.token)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    let pending = api
        .sim
        .requests()
        .into_iter()
        .find(|r| r.route == "/api/v2/connections")
        .unwrap();
    assert_eq!(pending.status, 0, "still pending");
    assert_eq!(
        api.get("/api/v2/clients").await.0,
        StatusCode::OK,
        "other routes unaffected"
    );
    let start = std::time::Instant::now();
    api.sim.shutdown().await;
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn body_faults_break_the_body_the_advertised_way() {
    let api = Api::start(tenant_with_clients(3), READ_ALL).await;
    let url = api.url("/api/v2/clients");
    let fetch = || async {
        let resp = api
            .http
            .get(&url)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let ct = resp.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let len: Option<usize> = resp
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .map(|v| v.to_str().unwrap().parse().unwrap());
        let bytes = resp.bytes().await.unwrap();
        (status, ct, len, bytes)
    };
    let (_, _, _, normal) = fetch().await;

    api.sim
        .add_fault(Fault::new("/api/v2/clients", FaultKind::Truncated).times(1));
    let (status, ct, len, body) = fetch().await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/json"));
    assert_eq!(body.len(), normal.len() / 2);
    assert_eq!(len, Some(body.len()));
    assert_eq!(&normal[..body.len()], &body[..]);
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    api.sim
        .add_fault(Fault::new("/api/v2/clients", FaultKind::MalformedJson).times(1));
    let (status, ct, _, body) = fetch().await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/json"));
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    api.sim
        .add_fault(Fault::new("/api/v2/clients", FaultKind::WrongContentType).times(1));
    let (status, ct, _, body) = fetch().await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    assert!(body.starts_with(b"<!DOCTYPE html>"));

    api.sim
        .add_fault(Fault::new("/api/v2/clients", FaultKind::Giant(3_000_000)).times(1));
    let (status, _, len, body) = fetch().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 3_000_000);
    assert_eq!(len, Some(3_000_000));

    let (_, _, _, after) = fetch().await;
    assert_eq!(after.len(), normal.len(), "faults used up");
}

#[tokio::test]
async fn write_faults_apply_the_change_but_answer_wrongly() {
    let old = cert("old.example.com", 10);
    let new = cert("new.example.com", 400);
    let t = tenant().connection(SimConnection::samlp("con_s", "s", &old.pem));
    let api = Api::start(t, WRITE_ALL).await;
    let route = "/api/v2/connections/{id}";
    let patch = json!({"options": {"signingCert": new.base64_pem_crlf()}});

    // Method-limited: GETs pass, the PATCH is faulted.
    api.sim.add_fault(
        Fault::new(route, FaultKind::WrongThumbprint)
            .method("PATCH")
            .times(1),
    );
    let got = api.ok("/api/v2/connections/con_s").await;
    assert_eq!(got["options"]["thumbprints"], json!([old.sha1_hex]));
    let (status, body) = api.patch("/api/v2/connections/con_s", &patch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["options"]["thumbprints"],
        json!([WRONG_THUMBPRINT_FOR_TESTS])
    );
    let stored = api.ok("/api/v2/connections/con_s").await;
    assert_eq!(
        stored["options"]["thumbprints"],
        json!([new.sha1_hex]),
        "the change itself was applied"
    );

    api.sim.add_fault(
        Fault::new(route, FaultKind::StatusAfterApply(502))
            .method("PATCH")
            .times(1),
    );
    let back = json!({"options": {"signingCert": old.pem}});
    let (status, body) = api.patch("/api/v2/connections/con_s", &back).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["statusCode"], 502);
    let stored = api.ok("/api/v2/connections/con_s").await;
    assert_eq!(stored["options"]["thumbprints"], json!([old.sha1_hex]));
}

const WRONG_THUMBPRINT_FOR_TESTS: &str = "0000000000000000000000000000000000000bad";

#[tokio::test]
async fn expire_token_fault_invalidates_every_token() {
    let api = Api::start(tenant_with_clients(1), READ_ALL).await;
    api.sim
        .add_fault(Fault::new("/api/v2/clients/{id}", FaultKind::ExpireToken).times(1));
    let (status, body) = api.get("/api/v2/clients/client00").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "Expired token received for JSON Web Token validation"
    );
    let (status, _) = api.get("/api/v2/clients").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the token stays invalid");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let api = Api::start(tenant(), READ_ALL).await;
    let (status, body) = api.get("/api/v2/users").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["statusCode"], 404);
    let (status, _, body) = api
        .send(api.http.delete(api.url("/api/v2/connections/con_x")))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["statusCode"], 405);
    assert_eq!(
        api.sim.requests().last().unwrap().route,
        "/api/v2/connections/{id}"
    );
}
