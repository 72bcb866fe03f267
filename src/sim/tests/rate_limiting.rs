//! The rate limit: 429 with Auth0's `X-RateLimit-*` headers, then recovery.

use super::*;

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
