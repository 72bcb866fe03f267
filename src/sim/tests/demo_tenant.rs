//! The demo tenant over HTTP: served with the demo credentials, and every remote check
//! (docs/findings.md) it is built to show.

use super::*;

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
    // Nine applications, plus the SAML2 Web App and Token Vault ones (docs/inventory.md).
    assert_eq!(clients["total"], 15);
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
    // The current and previous keys, after the two custom signing keys Auth0 prepends.
    assert_eq!(published.len(), 4);
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
