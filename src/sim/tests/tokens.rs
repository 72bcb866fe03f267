//! Tokens and scopes: the client-credentials grant (JSON and form), OAuth-style errors, token
//! lifetime and expiry, and Auth0's 403 when a scope is missing.

use super::*;

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
