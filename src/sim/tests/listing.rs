//! Listing: offset and checkpoint pagination with their envelopes and caps, `fields`
//! filtering, strategy and name filters.

use super::*;

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
