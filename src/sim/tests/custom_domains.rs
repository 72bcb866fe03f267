//! Custom domains: the checkpoint page like the recording, the scope they need, and every
//! certificate state decoded through the real `auth0::Client`.

use super::*;

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
            budget_share: crate::auth0::budget::Share::WHOLE,
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
