//! End-to-end tests of the simulator over real HTTP (reqwest against `Sim::spawn` on port 0),
//! including shape tests against the real Auth0 bodies in `shared/auth0/recorded/`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const DOMAIN: &str = "acme.eu.auth0.com";
const M2M: &str = "certwatch-m2m";
const SECRET: &str = "m2m-secret";
const READ_ALL: &[&str] = demo::DEMO_SCOPES;
const WRITE_ALL: &[&str] = &[
    "read:connections",
    "read:connections_options",
    "update:connections",
    "update:connections_options",
    "read:clients",
    "read:client_keys",
    "read:client_credentials",
    "update:clients",
    "update:client_credentials",
    "create:client_credentials",
    "delete:client_credentials",
    "read:signing_keys",
    "create:signing_keys",
    "update:signing_keys",
];

fn recorded(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/auth0/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The type skeleton of a JSON value: same keys, same JSON types, arrays element by element.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
    }
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn cert(cn: &str, left_days: i64) -> GeneratedCert {
    generate_cert(
        cn,
        NOW - time::Duration::days(30),
        NOW + time::Duration::days(left_days),
    )
}

/// A running simulator plus an HTTP client holding a token.
struct Api {
    sim: Sim,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn start(tenant: SimTenant, scopes: &[&str]) -> Api {
        let sim = Sim::spawn(tenant.m2m(M2M, SECRET, scopes)).await.unwrap();
        let http = reqwest::Client::new();
        let token = fetch_token(&http, &sim, M2M, SECRET).await;
        Api { sim, http, token }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.sim.url(),
            path_and_query.trim_start_matches('/')
        )
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let resp = req.bearer_auth(&self.token).send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, headers, body)
    }

    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.send(self.http.get(self.url(path_and_query))).await;
        (status, body)
    }

    async fn ok(&self, path_and_query: &str) -> Value {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(status, StatusCode::OK, "{path_and_query}: {body}");
        body
    }

    async fn patch(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(self.http.patch(self.url(path)).json(body)).await;
        (status, body)
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(self.http.post(self.url(path)).json(body)).await;
        (status, body)
    }
}

async fn fetch_token(http: &reqwest::Client, sim: &Sim, id: &str, secret: &str) -> String {
    fetch_token_on(http, sim, DOMAIN, id, secret).await
}

/// A token for a simulated tenant on `domain`.
async fn fetch_token_on(
    http: &reqwest::Client,
    sim: &Sim,
    domain: &str,
    id: &str,
    secret: &str,
) -> String {
    let resp = http
        .post(sim.url().join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", &format!("https://{domain}/api/v2/")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn tenant() -> SimTenant {
    SimTenant::new(DOMAIN).at(NOW)
}

// === token and authentication ===

#[tokio::test]
async fn token_grant_json_and_form_then_401_once_expired() {
    let api = Api::start(
        tenant().signing_key(SimSigningKey::from_cert("kid1", &cert(DOMAIN, 4000)).current(NOW)),
        &["read:signing_keys"],
    )
    .await;
    let resp = api
        .http
        .post(api.url("/oauth/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": M2M,
            "client_secret": SECRET,
            "audience": format!("https://{DOMAIN}/api/v2/"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    assert_eq!(body["scope"], "read:signing_keys");
    assert_eq!(
        keys(&body),
        vec!["access_token", "expires_in", "scope", "token_type"]
    );

    assert_eq!(
        api.ok("/api/v2/keys/signing")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    api.sim.expire_tokens();
    let (status, body) = api.get("/api/v2/keys/signing").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({
            "statusCode": 401,
            "error": "Unauthorized",
            "message": "Expired token received for JSON Web Token validation",
            "attributes": { "error": "Expired token received for JSON Web Token validation" }
        })
    );
    // A fresh token works again.
    let fresh = fetch_token(&api.http, &api.sim, M2M, SECRET).await;
    let resp = api
        .http
        .get(api.url("/api/v2/keys/signing"))
        .bearer_auth(fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_errors_are_oauth_style() {
    let sim = Sim::spawn(tenant().m2m(M2M, SECRET, READ_ALL))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let post = |form: Vec<(&'static str, String)>| {
        let req = http
            .post(sim.url().join("oauth/token").unwrap())
            .form(&form);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let audience = format!("https://{DOMAIN}/api/v2/");
    let base = |secret: &str, aud: &str| {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", M2M.to_owned()),
            ("client_secret", secret.to_owned()),
            ("audience", aud.to_owned()),
        ]
    };
    let (status, body) = post(base("wrong", &audience)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    let (status, body) = post(base(SECRET, "https://other.example.com/api/v2/")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "access_denied");

    // Missing and unknown bearer tokens.
    let resp = http
        .get(sim.url().join("api/v2/clients").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = http
        .get(sim.url().join("api/v2/clients").unwrap())
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_lifetime_is_reported_and_enforced() {
    let sim = Sim::spawn(tenant().m2m(M2M, SECRET, READ_ALL))
        .await
        .unwrap();
    sim.set_token_lifetime(0);
    let http = reqwest::Client::new();
    let token = fetch_token(&http, &sim, M2M, SECRET).await;
    let resp = http
        .get(sim.url().join("api/v2/clients").unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "a 0 s token is already expired"
    );
    sim.set_token_lifetime(3600);
    let token = fetch_token(&http, &sim, M2M, SECRET).await;
    let resp = http
        .get(sim.url().join("api/v2/clients").unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    sim.shutdown().await;
}

// === pagination, fields, filters ===

fn tenant_with_clients(n: usize) -> SimTenant {
    let mut t = tenant().global_client("global000000000000000000000000000");
    for i in 0..n {
        t = t.client(SimClient::new(
            &format!("client{i:02}"),
            &format!("app-{i}"),
        ));
    }
    t
}

#[tokio::test]
async fn clients_offset_pagination_envelope_and_cap() {
    let api = Api::start(tenant_with_clients(7), READ_ALL).await;
    let page = api
        .ok("/api/v2/clients?include_totals=true&per_page=3&page=1")
        .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["start"].clone(),
            page["limit"].clone()
        ),
        (json!(8), json!(3), json!(3))
    );
    let ids: Vec<_> = page["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["client02", "client03", "client04"]);
    let last = api
        .ok("/api/v2/clients?include_totals=true&per_page=3&page=2")
        .await;
    assert_eq!(last["clients"].as_array().unwrap().len(), 2);

    let plain = api.ok("/api/v2/clients?per_page=5").await;
    assert_eq!(
        plain.as_array().unwrap().len(),
        5,
        "no include_totals: plain array"
    );

    let non_global = api
        .ok("/api/v2/clients?include_totals=true&is_global=false")
        .await;
    assert_eq!(non_global["total"], 7);
    let global = api.ok("/api/v2/clients?is_global=true").await;
    assert_eq!(global[0]["name"], "All Applications");
    assert_eq!(global[0]["global"], true);

    let (status, body) = api.get("/api/v2/clients?per_page=400").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "invalid_query_string");
    assert_eq!(body["statusCode"], 400);
}

#[tokio::test]
async fn fields_filter_keeps_tenant_like_auth0() {
    let api = Api::start(tenant_with_clients(2), READ_ALL).await;
    let page = api
        .ok("/api/v2/clients?fields=client_id&include_fields=true")
        .await;
    for c in page.as_array().unwrap() {
        assert_eq!(keys(c), vec!["client_id", "tenant"]);
    }
    let page = api
        .ok("/api/v2/clients?fields=client_secret,signing_keys&include_fields=false")
        .await;
    let first = &page[0];
    assert!(first.get("client_secret").is_none() && first.get("signing_keys").is_none());
    assert!(first.get("name").is_some());
    let one = api
        .ok("/api/v2/clients/client01?fields=name,client_id")
        .await;
    assert_eq!(keys(&one), vec!["client_id", "name", "tenant"]);
    let (status, body) = api.get("/api/v2/clients/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({
            "statusCode": 404,
            "error": "Not Found",
            "message": "The client does not exist",
            "errorCode": "inexistent_client"
        })
    );
}

fn tenant_with_connections() -> SimTenant {
    tenant()
        .connection(SimConnection::samlp("con_a", "saml-a", &cert("a", 100).pem))
        .connection(SimConnection::adfs("con_b", "adfs-b", &["00"]))
        .connection(SimConnection::samlp(
            "con_c",
            "saml-c",
            &cert("c", 100).base64_der(),
        ))
        .connection(SimConnection::waad("con_d", "waad-d", &[]))
        .connection(SimConnection::new("con_e", "db", "auth0"))
}

#[tokio::test]
async fn connections_checkpoint_pagination_ends_without_next() {
    let api = Api::start(tenant_with_connections(), READ_ALL).await;
    let mut ids = Vec::new();
    let mut from: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = api.sim.url().join("api/v2/connections").unwrap();
        url.query_pairs_mut().append_pair("take", "2");
        if let Some(f) = &from {
            url.query_pairs_mut().append_pair("from", f);
        }
        let page = api
            .ok(&format!("/api/v2/connections?{}", url.query().unwrap()))
            .await;
        pages += 1;
        assert!(page.get("total").is_none());
        ids.extend(
            page["connections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page.get("next") {
            Some(next) => from = Some(next.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(ids, vec!["con_a", "con_b", "con_c", "con_d", "con_e"]);

    // take wins over include_totals/per_page; a single page has no next.
    let page = api
        .ok("/api/v2/connections?include_totals=true&per_page=50&take=100")
        .await;
    assert_eq!(keys(&page), vec!["connections"]);
    assert_eq!(page["connections"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn strategy_and_name_filters() {
    let api = Api::start(tenant_with_connections(), READ_ALL).await;
    let page = api
        .ok("/api/v2/connections?strategy=samlp&strategy=adfs")
        .await;
    let ids: Vec<_> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["con_a", "con_b", "con_c"]);
    let page = api
        .ok("/api/v2/connections?name=waad-d&include_totals=true")
        .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["connections"][0]["strategy"], "waad");
    let fields = api
        .ok("/api/v2/connections?fields=id&include_fields=true&strategy=auth0")
        .await;
    assert_eq!(
        fields,
        json!([{"id": "con_e", "is_domain_connection": false}])
    );
}

// === scopes ===

/// `GET path` answers Auth0's 403 naming `scope`.
async fn assert_insufficient_scope(api: &Api, path: &str, scope: &str) {
    let (status, body) = api.get(path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    assert_eq!(
        body,
        json!({
            "statusCode": 403,
            "error": "Forbidden",
            "message": format!("Insufficient scope, expected any of: {scope}"),
            "errorCode": "insufficient_scope"
        })
    );
}

#[tokio::test]
async fn missing_scopes_give_403_and_hide_options_and_keys() {
    let t = tenant_with_connections().client(SimClient::new("c1", "billing").private_key_jwt(&[]));
    let api = Api::start(t, &["read:connections", "read:clients"]).await;
    let list = api.ok("/api/v2/connections").await;
    for conn in list.as_array().unwrap() {
        assert!(conn.get("options").is_none(), "{conn}");
        assert!(conn.get("strategy").is_some());
    }
    let single = api.ok("/api/v2/connections/con_a").await;
    assert!(single.get("options").is_none());
    assert_insufficient_scope(&api, "/api/v2/keys/signing", "read:signing_keys").await;
    let (status, _) = api.get("/api/v2/clients/c1/credentials").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let client = api.ok("/api/v2/clients/c1").await;
    assert!(client.get("client_authentication_methods").is_none());
    assert!(client.get("signing_keys").is_none());
    assert!(client.get("client_secret").is_none());
    assert_eq!(client["name"], "billing");
}

// === rate limiting ===

#[tokio::test]
async fn rate_limit_429_with_headers_then_recovers() {
    let api = Api::start(tenant_with_clients(1), READ_ALL).await;
    api.sim.set_rate_limit(Some(RateLimit {
        burst: 2,
        per_second: 4.0,
    }));
    api.sim.set_retry_after(true);
    let before = crate::clock::unix_now() as u64;

    let (status, headers, _) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ratelimit-limit"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "1");
    let reset: u64 = headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        reset >= before && reset <= before + 2,
        "reset {reset} vs {before}"
    );
    assert!(headers.get("retry-after").is_none());

    let (status, headers, _) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ratelimit-remaining"], "0");

    let (status, headers, body) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!({
            "statusCode": 429,
            "error": "Too Many Requests",
            "message": "Global limit has been reached",
            "errorCode": "too_many_requests"
        })
    );
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["retry-after"], "1");
    assert!(headers.get("x-ratelimit-reset").is_some());

    // The token endpoint is not limited.
    fetch_token(&api.http, &api.sim, M2M, SECRET).await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, _) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::OK, "a token was refilled after 250 ms");

    api.sim.set_retry_after(false);
    let (status, headers, _) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get("retry-after").is_none());

    api.sim.set_rate_limit(None);
    let (status, headers, _) = api.send(api.http.get(api.url("/api/v2/clients"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("x-ratelimit-limit").is_none());
    let statuses: Vec<u16> = api
        .sim
        .requests()
        .iter()
        .filter(|r| r.route == "/api/v2/clients")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 429, 200, 429, 200]);
}

// === faults ===

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

// === PATCH semantics, credentials, rotation ===

#[tokio::test]
async fn patch_connection_replaces_options_and_recomputes_certificate_fields() {
    let old = cert("old-idp.example.com", 10);
    let new = cert("new-idp.example.com", 400);
    let conn = SimConnection::samlp("con_saml", "acme-saml", &old.pem)
        .display_name("Acme SSO")
        .sp_signing_key("KEY", "CERT")
        .option("custom", json!({"keep": "only if re-sent"}));
    let api = Api::start(tenant().connection(conn), WRITE_ALL).await;

    let (status, body) = api
        .patch(
            "/api/v2/connections/con_saml",
            &json!({ "options": {
                "signingCert": new.base64_pem_crlf(),
                "signInEndpoint": "https://idp.example.com/sso",
                "thumbprints": [old.sha1_hex],
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let options = &body["options"];
    assert_eq!(
        keys(options),
        vec![
            "cert",
            "expires",
            "signInEndpoint",
            "signingCert",
            "subject",
            "thumbprints"
        ],
        "every option not sent is gone"
    );
    assert_eq!(options["thumbprints"], json!([new.sha1_hex]));
    assert_eq!(options["expires"], json!(render::iso_ms(new.not_after)));
    assert_eq!(
        options["subject"],
        json!({"commonName": "new-idp.example.com"})
    );
    assert_eq!(options["cert"], json!(new.pem));
    assert_eq!(options["signingCert"], json!(new.base64_pem_crlf()));
    assert_eq!(
        body["display_name"], "acme-saml",
        "display_name reset to name when omitted"
    );
    assert_eq!(body["id"], "con_saml");

    // Persisted.
    let again = api.ok("/api/v2/connections/con_saml").await;
    assert_eq!(again, body);

    // display_name survives when sent; other members are merged.
    let (status, body) = api
        .patch(
            "/api/v2/connections/con_saml",
            &json!({"display_name": "Acme", "show_as_button": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["display_name"], "Acme");
    assert_eq!(body["show_as_button"], true);
    assert_eq!(
        body["options"]["thumbprints"],
        json!([new.sha1_hex]),
        "options untouched when not sent"
    );

    let (status, body) = api
        .patch(
            "/api/v2/connections/con_saml",
            &json!({"options": {"signingCert": "garbage"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "invalid_body");
    let (status, _) = api.patch("/api/v2/connections/con_nope", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn patching_options_needs_the_options_scope() {
    let t = tenant().connection(SimConnection::adfs("con_1", "adfs", &[]));
    let api = Api::start(t, &["read:connections", "update:connections"]).await;
    let (status, body) = api
        .patch("/api/v2/connections/con_1", &json!({"options": {}}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errorCode"], "insufficient_scope");
}

#[tokio::test]
async fn credentials_limit_create_delete_and_client_patch() {
    let existing = SimCredential::public_key("cred_existing", "k1", NOW, None);
    let t = tenant().client(
        SimClient::new("app1", "billing-api")
            .private_key_jwt(&["cred_existing"])
            .credential(existing),
    );
    let api = Api::start(t, WRITE_ALL).await;

    let list = api
        .ok("/api/v2/clients/app1/credentials?include_totals=true&per_page=1")
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "always a plain array");
    assert_eq!(list[0]["expires_at"], Value::Null);

    let mtls = cert("mtls.example.com", 200);
    let (status, created) = api
        .post(
            "/api/v2/clients/app1/credentials",
            &json!({"credential_type": "x509_cert", "name": "mtls", "pem": mtls.pem}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["expires_at"], json!(render::iso_ms(mtls.not_after)));
    assert_eq!(
        created["thumbprint_sha256"],
        json!(mtls.thumbprint_sha256_b64url())
    );

    let (status, body) = api
        .post(
            "/api/v2/clients/app1/credentials",
            &json!({"credential_type": "public_key", "pem": mtls.pem}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "statusCode": 400,
            "error": "Bad Request",
            "message": "The client has reached the maximum number of credentials (2)",
            "errorCode": "too_many_credentials"
        })
    );

    let new_id = created["id"].as_str().unwrap();
    let (status, body) = api
        .patch(
            "/api/v2/clients/app1",
            &json!({"client_authentication_methods": {
                "private_key_jwt": {"credentials": [{"id": "cred_unknown"}]}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = api
        .patch(
            "/api/v2/clients/app1",
            &json!({"client_authentication_methods": {
                "self_signed_tls_client_auth": {"credentials": [{"id": new_id}]}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["client_authentication_methods"],
        json!({"self_signed_tls_client_auth": {"credentials": [{"id": new_id}]}}),
        "replaced whole, not merged"
    );
    assert_eq!(body["name"], "billing-api");

    let (status, _, body) = api
        .send(
            api.http
                .delete(api.url("/api/v2/clients/app1/credentials/cred_existing")),
        )
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let list = api.ok("/api/v2/clients/app1/credentials").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, created) = api
        .post(
            "/api/v2/clients/app1/credentials",
            &json!({"credential_type": "public_key", "pem": mtls.pem, "parse_expiry_from_cert": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["expires_at"], json!(render::iso_ms(mtls.not_after)));
    assert_eq!(created["created_at"], json!(render::iso_ms(NOW)));
}

#[tokio::test]
async fn rotating_signing_keys_promotes_next() {
    let t = tenant()
        .signing_key(
            SimSigningKey::from_cert("kid_current", &cert(DOMAIN, 4000))
                .current(NOW - time::Duration::days(100)),
        )
        .signing_key(SimSigningKey::from_cert("kid_next", &cert(DOMAIN, 5000)).next());
    let api = Api::start(t, WRITE_ALL).await;
    let (status, body) = api.post("/api/v2/keys/signing/rotate", &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(keys(&body), vec!["cert", "kid"]);
    assert_eq!(body["kid"], "kid_next");
    let list = api.ok("/api/v2/keys/signing").await;
    let roles: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k.get("current").is_some(),
                k.get("next").is_some(),
                k.get("previous").is_some(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            (false, false, true),
            (true, false, false),
            (false, true, false)
        ]
    );
    assert_eq!(list[1]["current_since"], json!(render::iso_ms(NOW)));
}

// === shapes against recorded Auth0 bodies ===

#[tokio::test]
async fn shape_connection_keys_match_recording() {
    let rec = recorded("connection-keys-list-after-rotate.go-auth0.json");
    let name = "Test-Connection-Rotate-Keys";
    let c = || cert(name, 365);
    let conn = SimConnection::oidc("con_oidc", name)
        .key(SimConnectionKey::from_cert("k1", &c(), name).current(NOW))
        .key(SimConnectionKey::from_cert("k2", &c(), name).previous())
        .key(SimConnectionKey::from_cert("k3", &c(), name).next());
    let api = Api::start(tenant().connection(conn), READ_ALL).await;
    let body = api.ok("/api/v2/connections/con_oidc/keys").await;
    assert_eq!(shape(&body), shape(&rec));
    assert!(body[0]["cert"].as_str().unwrap().contains("\r\n"));
    let fp = body[0]["fingerprint"].as_str().unwrap();
    assert_eq!(fp.replace(':', ""), body[0]["thumbprint"].as_str().unwrap());
}

#[tokio::test]
async fn shape_signing_keys_follow_the_key_family() {
    // No real /keys/signing body exists (API.md §10.1): expect the connection-key shape with
    // `pkcs7` for `pkcs` and without the connection-only members.
    let mut expected = shape(&recorded("connection-keys-list-after-rotate.go-auth0.json")[0]);
    let obj = expected.as_object_mut().unwrap();
    for k in ["algorithm", "key_use", "subject_dn", "pkcs"] {
        obj.remove(k);
    }
    obj.insert("pkcs7".into(), json!("string"));
    let api = Api::start(
        tenant().signing_key(SimSigningKey::from_cert("kid", &cert(DOMAIN, 4000)).current(NOW)),
        READ_ALL,
    )
    .await;
    let body = api.ok("/api/v2/keys/signing").await;
    assert_eq!(shape(&body[0]), expected);
}

#[tokio::test]
async fn shape_clients_offset_envelope_matches_recording() {
    let rec = recorded("clients-list-offset-envelope.go-auth0.json");
    let t = SimTenant::new("go-auth0-dev.eu.auth0.com")
        .client(SimClient::new("MlHBtDG6MsQ4wccuZyaI6ASClmpOfDlM", "app"));
    let sim = Sim::spawn(t.m2m(M2M, SECRET, READ_ALL)).await.unwrap();
    let http = reqwest::Client::new();
    let token = fetch_token_on(&http, &sim, "go-auth0-dev.eu.auth0.com", M2M, SECRET).await;
    let body: Value = http
        .get(
            sim.url()
                .join("api/v2/clients?fields=client_id&include_fields=true")
                .unwrap(),
        )
        .query(&[("include_totals", "true"), ("per_page", "50")])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body, rec,
        "identical, including the unrequested tenant member"
    );
}

#[tokio::test]
async fn shape_credentials_list_and_x509_create_match_recordings() {
    let t = tenant()
        .client(
            SimClient::new("app", "app")
                .credential(SimCredential::public_key(
                    "cred_1",
                    "Testing Credentials 2",
                    NOW,
                    Some(NOW + time::Duration::days(2000)),
                ))
                .credential(SimCredential::public_key(
                    "cred_2",
                    "Testing Credentials 1",
                    NOW,
                    Some(NOW + time::Duration::days(2000)),
                )),
        )
        .client(SimClient::new("app2", "app2"));
    let api = Api::start(t, WRITE_ALL).await;
    let list = api
        .ok("/api/v2/clients/app/credentials?include_totals=true&per_page=50")
        .await;
    assert_eq!(
        shape(&list),
        shape(&recorded("client-credentials-list.terraform.json"))
    );

    let c = cert("mtls", 100);
    let (status, created) = api
        .post(
            "/api/v2/clients/app2/credentials",
            &json!({"credential_type":"x509_cert","name":"Test Credential","pem":c.pem}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        shape(&created),
        shape(&recorded(
            "client-credential-x509-cert-create.go-auth0.json"
        ))
    );
}

#[tokio::test]
async fn connections_checkpoint_envelope_reproduces_recording() {
    let rec = recorded("connections-list-checkpoint-last-page.terraform.json");
    let mut t = tenant();
    for c in rec["connections"].as_array().unwrap() {
        t = t.connection(SimConnection::from_json(c));
    }
    let api = Api::start(t, READ_ALL).await;
    let body = api
        .ok("/api/v2/connections?include_totals=true&per_page=50&take=100")
        .await;
    assert_eq!(body, rec);
}

/// A connection as stored before Auth0 computed anything: the recorded body minus the computed
/// options, with `signing_cert` as the uploaded `signingCert`.
fn as_uploaded(rec: &Value, signing_cert: &str) -> SimConnection {
    let mut conn = SimConnection::from_json(rec);
    for computed in ["cert", "expires", "subject", "thumbprints"] {
        conn.options.remove(computed);
    }
    conn.options
        .insert("signingCert".into(), json!(signing_cert));
    conn.recompute();
    conn
}

#[tokio::test]
async fn samlp_and_pingfederate_gets_reproduce_recordings_from_their_signing_cert() {
    let raw_pem = recorded("samlp-connection-get.go-auth0.json");
    let base64_pem = recorded("samlp-connection-get-metadataXml-derived.terraform.json");
    let ping = recorded("pingfederate-connection-get.go-auth0.json");
    let waad = recorded("waad-connection-create-response.terraform.json");
    let t = tenant()
        .connection(as_uploaded(
            &raw_pem,
            raw_pem["options"]["signingCert"].as_str().unwrap(),
        ))
        .connection(as_uploaded(
            &base64_pem,
            base64_pem["options"]["signingCert"].as_str().unwrap(),
        ))
        .connection(as_uploaded(
            &ping,
            ping["options"]["cert"].as_str().unwrap(),
        ))
        .connection(SimConnection::from_json(&waad));
    let api = Api::start(t, READ_ALL).await;
    for rec in [&raw_pem, &base64_pem, &ping, &waad] {
        let id = rec["id"].as_str().unwrap();
        let body = api.ok(&format!("/api/v2/connections/{id}")).await;
        assert_eq!(shape(&body), shape(rec), "{id}");
        assert_eq!(
            &body, rec,
            "{id}: cert/expires/subject/thumbprints computed like Auth0"
        );
    }
}

#[tokio::test]
async fn patch_response_reproduces_recording() {
    let before = recorded("samlp-connection-get-metadataXml-derived.terraform.json");
    let request = recorded("samlp-connection-patch-request-body.terraform.json");
    let response = recorded("samlp-connection-patch-response.terraform.json");
    let api = Api::start(
        tenant().connection(SimConnection::from_json(&before)),
        WRITE_ALL,
    )
    .await;
    // Auth0 fetched metadataUrl to fill these; the simulator does not fetch, so send them.
    let mut body = request.clone();
    for derived in [
        "signingCert",
        "bindingMethod",
        "signInEndpoint",
        "signOutEndpoint",
    ] {
        body["options"][derived] = response["options"][derived].clone();
    }
    let id = before["id"].as_str().unwrap();
    let (status, got) = api.patch(&format!("/api/v2/connections/{id}"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&got), keys(&response));
    assert_eq!(keys(&got["options"]), keys(&response["options"]));
    assert_eq!(got, response);
}

// === demo tenant over HTTP ===

#[tokio::test]
async fn demo_tenant_serves_with_demo_credentials() {
    let sim = Sim::spawn(demo::tenant(NOW)).await.unwrap();
    let http = reqwest::Client::new();
    let resp = http
        .post(sim.url().join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::DEMO_CLIENT_ID),
            ("client_secret", demo::DEMO_CLIENT_SECRET),
            (
                "audience",
                &format!("https://{}/api/v2/", demo::DEMO_DOMAIN),
            ),
        ])
        .send()
        .await
        .unwrap();
    let token: Value = resp.json().await.unwrap();
    assert_eq!(token["scope"], demo::DEMO_SCOPES.join(" "));
    let get = |path: &str| {
        let req = http
            .get(sim.url().join(path).unwrap())
            .bearer_auth(token["access_token"].as_str().unwrap());
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let clients = get("api/v2/clients?is_global=false&include_totals=true&per_page=100").await;
    assert_eq!(clients["total"], 12);
    let tenant_cert = get("api/v2/keys/signing").await[0]["cert"].clone();
    let billing = clients["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "billing-api")
        .unwrap();
    assert_eq!(
        billing["signing_keys"][0]["cert"], tenant_cert,
        "clients show the tenant cert"
    );
    let samlp = get("api/v2/connections?strategy=samlp&per_page=100").await;
    assert_eq!(samlp.as_array().unwrap().len(), 10);
    sim.shutdown().await;
}

// === public tenant JWKS ===

/// A recorded JSON body exactly as sent on the wire: the file minus its pretty-printing (the
/// recorded values hold no white space).
fn recorded_compact(name: &str) -> String {
    let path = format!("{}/tests/fixtures/auth0/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .split_whitespace()
        .collect()
}

async fn get_public(sim: &Sim, path: &str) -> reqwest::Response {
    reqwest::get(sim.url().join(path.trim_start_matches('/')).unwrap())
        .await
        .unwrap()
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

// === custom domains ===

/// The two domains of the recorded page, built with the builders.
fn recorded_custom_domains() -> [SimCustomDomain; 2] {
    [
        SimCustomDomain::auth0_managed(
            "cd_UUjqFP42iem2WuwJ",
            "1773751522932822000.tempdomain.com",
            datetime!(2026-03-17 12:45:23.189 UTC),
        )
        .metadata("key", "value"),
        SimCustomDomain::auth0_managed(
            "cd_x3nQ29h09nUFod1e",
            "acul.acmetest.org",
            datetime!(2025-09-08 07:01:05 UTC),
        )
        .provisioned(datetime!(2026-02-04 23:31:22 UTC))
        .verified("failed", datetime!(2025-11-07 00:29:50 UTC)),
    ]
}

#[tokio::test]
async fn custom_domains_checkpoint_page_reproduces_recording() {
    let rec = recorded("custom-domains-list-checkpoint-page2.go-auth0.json");
    let filler = |i: usize| {
        SimCustomDomain::auth0_managed(
            &format!("cd_filler{i}"),
            &format!("login{i}.example.com"),
            NOW,
        )
    };
    let [a, b] = recorded_custom_domains();
    let t = SimTenant::new("go-auth0-dev.eu.auth0.com")
        .custom_domain(filler(0))
        .custom_domain(filler(1))
        .custom_domain(a)
        .custom_domain(b)
        .custom_domain(filler(2));
    let sim = Sim::spawn(t.m2m(M2M, SECRET, &["read:custom_domains"]))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = fetch_token_on(&http, &sim, "go-auth0-dev.eu.auth0.com", M2M, SECRET).await;
    let get = |query: Vec<(&'static str, String)>| {
        let req = http
            .get(sim.url().join("api/v2/custom-domains").unwrap())
            .query(&query)
            .bearer_auth(&token);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let (_, first) = get(vec![("take", "2".into())]).await;
    assert_eq!(first["custom_domains"][0]["custom_domain_id"], "cd_filler0");
    let next = first["next"].as_str().unwrap().to_owned();
    let (status, mut second) = get(vec![("from", next), ("take", "2".into())]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(second["next"].as_str().unwrap().starts_with("Fe26.2*"));
    let last_page = second["next"].as_str().unwrap().to_owned();
    // The cursor is the server's own secret; everything else is identical.
    second["next"] = rec["next"].clone();
    assert_eq!(second, rec);
    let (_, last) = get(vec![("from", last_page), ("take", "2".into())]).await;
    assert!(last.get("next").is_none(), "{last}");
    assert_eq!(last["custom_domains"].as_array().unwrap().len(), 1);

    let (_, all) = get(Vec::new()).await;
    assert_eq!(
        all.as_array().unwrap().len(),
        5,
        "no paging parameters: a bare array"
    );
    let (status, body) = get(vec![("take", "101".into())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "invalid_query_string");
    sim.shutdown().await;
}

#[tokio::test]
async fn custom_domains_need_their_scope() {
    let api = Api::start(
        tenant().custom_domain(SimCustomDomain::auth0_managed("cd_1", "a.example.com", NOW)),
        &["read:connections"],
    )
    .await;
    assert_insufficient_scope(
        &api,
        "/api/v2/custom-domains?take=100",
        "read:custom_domains",
    )
    .await;
}

/// An `auth0::Client` for the simulator (the test M2M app).
fn auth0_client(sim: &Sim) -> crate::auth0::Client {
    crate::auth0::Client::new(
        crate::auth0::client::Settings {
            tenant: "sim".into(),
            base_url: sim.url(),
            client_id: M2M.into(),
            client_secret: crate::secret::Secret::new(SECRET),
            audience: format!("https://{DOMAIN}/api/v2/"),
            timeout: Duration::from_secs(5),
            max_requests_per_second: None,
        },
        std::sync::Arc::new(crate::auth0::NoObserver),
    )
    .unwrap()
}

#[tokio::test]
async fn certificate_states_decode_through_the_real_client() {
    use crate::auth0::{Auth0Api as _, PageRequest};
    let (leaf, ca) = generate_chain(
        "login.self.example.com",
        NOW - time::Duration::days(1),
        NOW + time::Duration::days(12),
    );
    let t = tenant()
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_ok", "ok.example.com", NOW)
                .provisioned(NOW + time::Duration::days(60))
                .primary(true),
        )
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_renew", "renew.example.com", NOW).renewing_failed(
                NOW + time::Duration::days(3),
                "CAA record forbids letsencrypt.org",
            ),
        )
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_prov", "prov.example.com", NOW)
                .provisioning_failed("DNS record not found")
                .status("failed"),
        )
        .custom_domain(SimCustomDomain::self_managed(
            "cd_self",
            "login.self.example.com",
            NOW,
            SimServedChain::new(&leaf, &[&ca]),
        ))
        .signing_key(SimSigningKey::from_cert("cur", &cert(DOMAIN, 4000)).current(NOW));
    let sim = Sim::spawn(t.m2m(M2M, SECRET, &["read:custom_domains"]))
        .await
        .unwrap();
    let client = auth0_client(&sim);
    let mut page = PageRequest::Checkpoint {
        from: None,
        take: 3,
    };
    let mut domains = Vec::new();
    loop {
        let got = client.custom_domains(&page).await.unwrap();
        assert!(got.rejected.is_empty());
        domains.extend(got.items);
        match got.next {
            Some(next) => page = next,
            None => break,
        }
    }
    let by_id = |id: &str| domains.iter().find(|d| d.custom_domain_id == id).unwrap();
    assert_eq!(domains.len(), 4);
    let ok = by_id("cd_ok").certificate.clone().unwrap();
    assert_eq!(ok.status.as_deref(), Some("provisioned"));
    assert_eq!(
        ok.renews_before,
        Some(render::iso_seconds(NOW + time::Duration::days(60)))
    );
    assert_eq!(by_id("cd_ok").primary, Some(true));
    let renew = by_id("cd_renew").certificate.clone().unwrap();
    assert_eq!(renew.status.as_deref(), Some("renewing_failed"));
    assert_eq!(
        renew.error_msg.as_deref(),
        Some("CAA record forbids letsencrypt.org")
    );
    let prov = by_id("cd_prov");
    assert_eq!(prov.status.as_deref(), Some("failed"));
    assert_eq!(
        prov.certificate.as_ref().unwrap().status.as_deref(),
        Some("provisioning_failed")
    );
    let own = by_id("cd_self");
    assert_eq!(own.r#type.as_deref(), Some("self_managed_certs"));
    assert!(own.certificate.is_none());

    let jwks: Value = serde_json::from_slice(&client.tenant_jwks().await.unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "cur");
    let token_requests = sim
        .requests()
        .iter()
        .filter(|r| r.route == "/oauth/token")
        .count();
    assert_eq!(
        token_requests, 1,
        "one token for the listing, none for the JWKS"
    );
    sim.shutdown().await;
}

// === TLS listener of self-managed custom domains ===

async fn tls_chain(
    addr: std::net::SocketAddr,
    sni: &str,
    root_der: &[u8],
) -> std::io::Result<Vec<Vec<u8>>> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(root_der.to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
    let tls = connector.connect(name, tcp).await?;
    let (_, conn) = tls.get_ref();
    Ok(conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_vec())
        .collect())
}

#[tokio::test]
async fn tls_listener_serves_each_self_managed_chain_by_sni() {
    // The client verifies against the wall clock.
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let (leaf_a, ca_a) = generate_chain("login.a.example.com", now, now + time::Duration::days(12));
    let (leaf_b, ca_b) =
        generate_chain("login.b.example.com", now, now + time::Duration::days(300));
    let t = tenant()
        .custom_domain(SimCustomDomain::self_managed(
            "cd_a",
            "login.a.example.com",
            NOW,
            SimServedChain::new(&leaf_a, &[&ca_a]),
        ))
        .custom_domain(SimCustomDomain::self_managed(
            "cd_b",
            "login.b.example.com",
            NOW,
            SimServedChain::new(&leaf_b, &[]),
        ))
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_c", "login.c.example.com", NOW).provisioned(NOW),
        );
    let sim = Sim::spawn(t).await.unwrap();
    let addr = sim
        .tls_addr()
        .expect("a TLS listener for self-managed domains");
    let chain = tls_chain(addr, "login.a.example.com", &ca_a.der)
        .await
        .unwrap();
    assert_eq!(
        chain,
        vec![leaf_a.der.clone(), ca_a.der.clone()],
        "verified against the CA"
    );
    let chain = tls_chain(addr, "LOGIN.B.example.com", &ca_b.der)
        .await
        .unwrap();
    assert_eq!(chain, vec![leaf_b.der.clone()]);
    assert!(
        tls_chain(addr, "login.c.example.com", &ca_a.der)
            .await
            .is_err(),
        "no chain for Auth0-managed"
    );
    assert!(
        tls_chain(addr, "unknown.example.com", &ca_a.der)
            .await
            .is_err()
    );

    // The chain is looked up per handshake: a renewed certificate is served at once.
    let (renewed, renewed_ca) =
        generate_chain("login.a.example.com", now, now + time::Duration::days(90));
    sim.update(|t| {
        t.custom_domain_mut("cd_a").unwrap().served =
            Some(SimServedChain::new(&renewed, &[&renewed_ca]));
    });
    let chain = tls_chain(addr, "login.a.example.com", &renewed_ca.der)
        .await
        .unwrap();
    assert_eq!(chain[0], renewed.der);
    sim.shutdown().await;

    let plain = Sim::spawn(tenant()).await.unwrap();
    assert_eq!(plain.tls_addr(), None);
    plain.shutdown().await;
}

// === simulated upstream IdPs ===

fn xml_certs(doc: &roxmltree::Document<'_>, parent: &str, use_: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == "KeyDescriptor" && n.attribute("use") == Some(use_))
        .filter(|n| n.parent().is_some_and(|p| p.tag_name().name() == parent))
        .flat_map(|n| {
            n.descendants()
                .filter(|c| c.tag_name().name() == "X509Certificate")
        })
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect()
}

/// GETs a URL an option points at (no token), as a remote fetcher would.
async fn fetch_option(body: &Value, option: &str) -> reqwest::Response {
    let url = body["options"][option].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{option} = {url}");
    reqwest::get(url).await.unwrap()
}

#[tokio::test]
async fn saml_metadata_publishes_what_the_idp_publishes() {
    let trusted = cert("idp.acme.example.com", 200);
    let rolled = cert("idp.acme.example.com", 700);
    let encryption = cert("enc.acme.example.com", 700);
    let valid_until = NOW + time::Duration::days(5);
    let conn = SimConnection::samlp("con_saml", "acme", &trusted.base64_der()).idp(
        SimIdp::publishing(&[&trusted, &rolled])
            .encryption_cert(&encryption)
            .valid_until(valid_until),
    );
    assert!(
        conn.options["metadataUrl"]
            .as_str()
            .unwrap()
            .starts_with(SIM_BASE_URL)
    );
    let api = Api::start(tenant().connection(conn), READ_ALL).await;
    api.sim.set_rate_limit(Some(RateLimit {
        burst: 2,
        per_second: 0.001,
    }));
    let body = api.ok("/api/v2/connections/con_saml").await;
    assert_eq!(
        body["options"]["metadataUrl"],
        json!(format!("{}idp/con_saml/samlp/metadata.xml", api.sim.url()))
    );
    let list = api.ok("/api/v2/connections?strategy=samlp").await;
    assert_eq!(
        list[0]["options"]["metadataUrl"],
        body["options"]["metadataUrl"]
    );
    for _ in 0..3 {
        let resp = fetch_option(&body, "metadataUrl").await;
        assert_eq!(resp.status(), StatusCode::OK, "no token, no rate limit");
        assert_eq!(
            resp.headers()["content-type"],
            "application/samlmetadata+xml"
        );
        let text = resp.text().await.unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "EntityDescriptor");
        assert_eq!(
            root.tag_name().namespace(),
            Some("urn:oasis:names:tc:SAML:2.0:metadata")
        );
        assert_eq!(
            root.attribute("validUntil"),
            Some(render::iso_seconds(valid_until).as_str())
        );
        assert_eq!(
            xml_certs(&doc, "IDPSSODescriptor", "signing"),
            vec![trusted.base64_der(), rolled.base64_der()]
        );
        assert_eq!(
            xml_certs(&doc, "IDPSSODescriptor", "encryption"),
            vec![encryption.base64_der()]
        );
        assert!(text.contains("<ds:X509Certificate>"));
    }
}

#[tokio::test]
async fn adfs_federation_metadata_has_the_sts_role_and_the_idp_role() {
    let signing = cert("adfs.contoso.example.com", 20);
    let conn = SimConnection::adfs("con_adfs", "contoso", &[&signing.sha1_hex])
        .idp(SimIdp::publishing(&[&signing]));
    let api = Api::start(tenant().connection(conn), READ_ALL).await;
    let body = api.ok("/api/v2/connections/con_adfs").await;
    assert!(
        body["options"]["adfs_server"]
            .as_str()
            .unwrap()
            .ends_with("/idp/con_adfs/FederationMetadata/2007-06/FederationMetadata.xml")
    );
    let text = fetch_option(&body, "adfs_server")
        .await
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let sts = doc
        .descendants()
        .find(|n| n.tag_name().name() == "RoleDescriptor")
        .unwrap();
    let xsi = "http://www.w3.org/2001/XMLSchema-instance";
    assert_eq!(
        sts.attribute((xsi, "type")),
        Some("fed:SecurityTokenServiceType")
    );
    assert_eq!(
        xml_certs(&doc, "RoleDescriptor", "signing"),
        vec![signing.base64_der()]
    );
    assert_eq!(
        xml_certs(&doc, "IDPSSODescriptor", "signing"),
        vec![signing.base64_der()]
    );
    assert_eq!(doc.root_element().attribute("validUntil"), None);
    assert_eq!(body["options"]["thumbprints"], json!([signing.sha1_hex]));
}

#[tokio::test]
async fn oidc_discovery_points_at_a_jwks_with_x5c() {
    let upstream = cert("login.partner.example.com", 10);
    let conn = SimConnection::oidc("con_oidc", "partner").idp(SimIdp::publishing(&[&upstream]));
    let api = Api::start(tenant().connection(conn), READ_ALL).await;
    let body = api.ok("/api/v2/connections/con_oidc").await;
    let discovery: Value = fetch_option(&body, "discovery_url")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["jwks_uri"], body["options"]["jwks_uri"]);
    assert_eq!(
        discovery["issuer"],
        json!(format!("{}idp/con_oidc", api.sim.url()))
    );
    let jwks: Value = reqwest::get(discovery["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["x5c"], json!([upstream.base64_der()]));
    assert_eq!(jwks["keys"][0]["kid"], jwks["keys"][0]["x5t"]);
}

#[tokio::test]
async fn idp_faults_are_per_connection() {
    let c = cert("idp", 100);
    let saml = |id: &str, idp: SimIdp| SimConnection::samlp(id, id, &c.pem).idp(idp);
    let t = tenant()
        .connection(saml("con_ok", SimIdp::publishing(&[&c])))
        .connection(saml(
            "con_500",
            SimIdp::publishing(&[&c]).fault(IdpFault::Status(500)),
        ))
        .connection(saml(
            "con_bad",
            SimIdp::publishing(&[&c]).fault(IdpFault::Malformed),
        ))
        .connection(saml(
            "con_big",
            SimIdp::publishing(&[&c]).fault(IdpFault::Oversized(2 << 20)),
        ))
        .connection(
            SimConnection::oidc("con_oidc_bad", "o")
                .idp(SimIdp::publishing(&[&c]).fault(IdpFault::Malformed)),
        )
        .connection(SimConnection::samlp("con_none", "none", &c.pem));
    let sim = Sim::spawn(t).await.unwrap();
    let doc = |id: &str| format!("/idp/{id}/samlp/metadata.xml");
    let ok = get_public(&sim, &doc("con_ok")).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(roxmltree::Document::parse(&ok.text().await.unwrap()).is_ok());
    let down = get_public(&sim, &doc("con_500")).await;
    assert_eq!(down.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bad = get_public(&sim, &doc("con_bad")).await;
    assert_eq!(bad.status(), StatusCode::OK);
    assert!(roxmltree::Document::parse(&bad.text().await.unwrap()).is_err());
    let big = get_public(&sim, &doc("con_big")).await;
    assert_eq!(big.content_length(), Some(2 << 20));
    assert_eq!(big.bytes().await.unwrap().len(), 2 << 20);
    let bad_json = get_public(&sim, "/idp/con_oidc_bad/.well-known/openid-configuration").await;
    assert!(serde_json::from_slice::<Value>(&bad_json.bytes().await.unwrap()).is_err());
    for missing in [doc("con_none"), doc("con_nope")] {
        assert_eq!(
            get_public(&sim, &missing).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    sim.shutdown().await;
}

// === the demo tenant's remote checks (SPEC §11) ===

/// The notAfter of a base64 DER certificate.
fn not_after_b64(value: &str) -> OffsetDateTime {
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(value)
        .unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    cert.validity().not_after.to_datetime()
}

fn sha1_b64(value: &str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(value)
        .unwrap();
    hex::encode(sha1::Sha1::digest(der))
}

#[tokio::test]
async fn demo_tenant_serves_every_remote_check() {
    // The TLS client checks validity against the wall clock, so the demo is built at "now".
    let now = crate::clock::Clock::now(&crate::clock::SystemClock)
        .replace_nanosecond(0)
        .unwrap();
    let days = time::Duration::days;
    let sim = Sim::spawn(demo::tenant(now)).await.unwrap();
    let http = reqwest::Client::new();
    let token = fetch_token_on(
        &http,
        &sim,
        demo::DEMO_DOMAIN,
        demo::DEMO_CLIENT_ID,
        demo::DEMO_CLIENT_SECRET,
    )
    .await;
    let get = |path: &str| {
        let req = http.get(sim.url().join(path).unwrap()).bearer_auth(&token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    // Public JWKS: every published signing key but the next one.
    let jwks = get(".well-known/jwks.json").await;
    let published: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    let listed = get("api/v2/keys/signing").await;
    let next = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["next"] == true)
        .unwrap();
    assert_eq!(next["kid"], json!(demo::demo_jwks_missing_kid()));
    assert_eq!(published.len(), 2);
    assert!(!published.contains(&demo::demo_jwks_missing_kid()));

    // Custom domains.
    let domains = get("api/v2/custom-domains?take=100").await;
    let names: Vec<_> = domains["custom_domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, demo::DEMO_CUSTOM_DOMAINS);
    let cds = &domains["custom_domains"];
    assert_eq!(cds[0]["certificate"]["status"], "provisioned");
    assert_eq!(
        cds[0]["certificate"]["renews_before"],
        json!(render::iso_seconds(now + days(60)))
    );
    assert_eq!(cds[1]["certificate"]["status"], "renewing_failed");
    assert!(cds[1]["certificate"]["error_msg"].as_str().is_some());
    assert_eq!(cds[2]["type"], "self_managed_certs");
    assert!(cds[2].get("certificate").is_none());
    let chain = sim
        .update(|t| t.served_chain(demo::DEMO_DOMAIN_SELF_MANAGED).cloned())
        .unwrap();
    let served = tls_chain(
        sim.tls_addr().unwrap(),
        demo::DEMO_PROBE_DOMAINS[0],
        &chain.chain[1],
    )
    .await
    .unwrap();
    let (_, leaf) = x509_parser::parse_x509_certificate(&served[0]).unwrap();
    assert_eq!(leaf.validity().not_after.to_datetime(), now + days(12));

    // IdP metadata, at the URLs the connection options give.
    let connections = get("api/v2/connections?per_page=100").await;
    let conn = |name: &str| {
        connections
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    let metadata = |c: Value, option: &'static str| async move {
        fetch_option(&c, option).await.text().await.unwrap()
    };
    let contoso = conn("contoso-saml");
    let text = metadata(contoso.clone(), "metadataUrl").await;
    let doc = roxmltree::Document::parse(&text).unwrap();
    let certs = xml_certs(&doc, "IDPSSODescriptor", "signing");
    let shas: Vec<_> = certs.iter().map(|c| sha1_b64(c)).collect();
    assert_eq!(shas.len(), 2);
    assert_eq!(
        json!([shas[0]]),
        contoso["options"]["thumbprints"],
        "trusted + new"
    );

    let globex = conn("globex-saml");
    let text = metadata(globex.clone(), "metadataUrl").await;
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(
        doc.root_element().attribute("validUntil"),
        Some(render::iso_seconds(now + days(5)).as_str())
    );
    let certs = xml_certs(&doc, "IDPSSODescriptor", "signing");
    assert_eq!(certs.len(), 1);
    assert_ne!(
        json!([sha1_b64(&certs[0])]),
        globex["options"]["thumbprints"],
        "withdrawn"
    );

    let adfs = conn("contoso-adfs");
    let text = metadata(adfs.clone(), "adfs_server").await;
    let doc = roxmltree::Document::parse(&text).unwrap();
    let certs = xml_certs(&doc, "IDPSSODescriptor", "signing");
    let shas: Vec<_> = certs.iter().map(|c| sha1_b64(c)).collect();
    assert_eq!(json!(shas), adfs["options"]["thumbprints"]);
    assert_eq!(not_after_b64(&certs[0]), now + days(20));

    let oidc = conn("partner-oidc");
    let discovery: Value = fetch_option(&oidc, "discovery_url")
        .await
        .json()
        .await
        .unwrap();
    let upstream: Value = reqwest::get(discovery["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x5c = upstream["keys"][0]["x5c"][0].as_str().unwrap();
    assert_eq!(not_after_b64(x5c), now + days(10));
    sim.shutdown().await;
}
