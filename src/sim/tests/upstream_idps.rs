//! The simulated upstream IdPs: SAML metadata, ADFS federation metadata, OIDC discovery and
//! JWKS, and per-connection faults.

use super::*;

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
