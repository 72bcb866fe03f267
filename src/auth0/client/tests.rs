//! Tests of the reqwest client against small local servers: status mapping, the public JWKS,
//! hostile token responses.

use super::*;
use crate::auth0::Auth0Api as _;

#[test]
fn statuses_map_to_errors_the_caller_can_act_on() {
    let scope = br#"{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:clients","errorCode":"insufficient_scope"}"#;
    let e = status_error(StatusCode::FORBIDDEN, scope, false);
    assert_eq!(e.reason(), crate::auth0::Reason::MissingScope);
    let e = status_error(StatusCode::FORBIDDEN, b"{}", false);
    assert_eq!(e.reason(), crate::auth0::Reason::Forbidden);
    let e = status_error(StatusCode::UNAUTHORIZED, b"", false);
    assert_eq!(e.reason(), crate::auth0::Reason::Unauthorized);
    let e = status_error(StatusCode::BAD_GATEWAY, b"<html>", false);
    assert_eq!(
        e,
        Error::Server {
            status: 502,
            message: "no error message".into()
        }
    );
    let e = status_error(
        StatusCode::FORBIDDEN,
        br#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        true,
    );
    assert_eq!(e.reason(), crate::auth0::Reason::Unauthorized);
}

#[derive(Default)]
struct Seen(Mutex<Vec<(String, String)>>, Mutex<Vec<u64>>);

impl Observer for Seen {
    fn api_request(&self, _: &str, endpoint: &str, code: &str) {
        let mut seen = self.0.lock().unwrap();
        seen.push((endpoint.to_string(), code.to_string()));
    }
    fn ratelimit_remaining(&self, _: &str, remaining: u64) {
        self.1.lock().unwrap().push(remaining);
    }
}

/// A public JWKS endpoint answering 503 once, then the keys with its own rate-limit headers;
/// it records every request's path and whether it carried an `Authorization` header.
async fn jwks_server() -> (Url, Arc<Mutex<Vec<(String, bool)>>>) {
    use axum::http::{HeaderMap, Uri};
    let hits = Arc::new(Mutex::new(Vec::<(String, bool)>::new()));
    let seen = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let seen = Arc::clone(&seen);
        async move {
            let first = {
                let mut seen = seen.lock().unwrap();
                seen.push((
                    uri.path().to_string(),
                    headers.contains_key("authorization"),
                ));
                seen.len() == 1
            };
            let status = if first { 503 } else { 200 };
            axum::response::Response::builder()
                .status(status)
                .header("x-ratelimit-limit", "20")
                .header("x-ratelimit-remaining", "19")
                .header("x-ratelimit-reset", "1668283107")
                .body(axum::body::Body::from(r#"{"keys":[]}"#))
                .unwrap()
        }
    });
    (serve(app).await, hits)
}

/// Serve `app` on a free loopback port; its base URL.
async fn serve(app: axum::Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// A client of tenant `t` at `base_url`.
fn client(
    base_url: Url,
    max_requests_per_second: Option<f64>,
    observer: Arc<dyn Observer>,
) -> Client {
    let settings = Settings {
        tenant: "t".into(),
        base_url,
        client_id: "id".into(),
        client_secret: Secret::new("secret"),
        audience: "aud".into(),
        timeout: Duration::from_secs(5),
        max_requests_per_second,
        budget_share: crate::auth0::budget::Share::WHOLE,
    };
    Client::new(settings, observer).unwrap()
}

#[tokio::test]
async fn tenant_jwks_is_public_retried_counted_and_outside_the_management_budget() {
    let (base_url, hits) = jwks_server().await;
    let observer = Arc::new(Seen::default());
    let client = client(base_url, Some(1.0), observer.clone());
    let body = client.tenant_jwks().await.unwrap();
    assert_eq!(&body[..], br#"{"keys":[]}"#);
    assert_eq!(
        *hits.lock().unwrap(),
        vec![
            ("/.well-known/jwks.json".to_string(), false),
            ("/.well-known/jwks.json".to_string(), false)
        ],
        "no token request, no Authorization header, retried once after the 503"
    );
    assert_eq!(
        *observer.0.lock().unwrap(),
        vec![
            (JWKS_ENDPOINT.to_string(), "503".to_string()),
            (JWKS_ENDPOINT.to_string(), "200".to_string())
        ]
    );
    assert!(
        observer.1.lock().unwrap().is_empty(),
        "the JWKS bucket is not the Management API's headroom"
    );
    let governor = lock(&client.governor);
    assert_eq!(governor.tokens(), None, "the governor never saw the JWKS");
    assert_eq!(governor.rate(), None);
}

/// A tenant whose `/oauth/token` answers `token_body` and whose signing key listing is empty;
/// it counts the token requests.
async fn token_server(token_body: &'static str) -> (Url, Arc<Mutex<u32>>) {
    use axum::routing::{get, post};
    let grants = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&grants);
    let app = axum::Router::new()
        .route(
            "/oauth/token",
            post(move || {
                *counted.lock().unwrap() += 1;
                async move {
                    axum::response::Response::builder()
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(token_body))
                        .unwrap()
                }
            }),
        )
        .route("/api/v2/keys/signing", get(|| async { "[]" }));
    (serve(app).await, grants)
}

#[tokio::test]
async fn hostile_token_lifetimes_neither_panic_nor_cost_a_token_per_request() {
    let bodies = [
        r#"{"access_token":"t","expires_in":18446744073709551615}"#,
        r#"{"access_token":"t","expires_in":1e308}"#,
        r#"{"access_token":"t","expires_in":1e400}"#,
        r#"{"access_token":"t","expires_in":0}"#,
        r#"{"access_token":"t","expires_in":-5}"#,
        r#"{"access_token":"t","expires_in":0.25}"#,
        r#"{"access_token":"t","expires_in":"86400"}"#,
        r#"{"access_token":"t","expires_in":"never"}"#,
        r#"{"access_token":"t","expires_in":null}"#,
        r#"{"access_token":"t","expires_in":[1]}"#,
        r#"{"access_token":"t"}"#,
    ];
    for body in bodies {
        let (base_url, grants) = token_server(body).await;
        let client = client(base_url, None, Arc::new(crate::auth0::NoObserver));
        for _ in 0..5 {
            let keys = client.signing_keys().await;
            assert!(keys.is_ok(), "{body}: {keys:?}");
        }
        assert_eq!(
            *grants.lock().unwrap(),
            1,
            "{body}: one token for five calls"
        );
    }
}
