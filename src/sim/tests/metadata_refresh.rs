//! A samlp PATCH carrying `options.metadataUrl`: the simulator downloads its own IdP metadata and
//! recomputes the certificate members in the shapes of the recorded metadataUrl PATCH; the
//! `KeepCertificate` fault keeps the old certificate; an IdP that answers with an error fails
//! the PATCH.

use super::*;
use base64::Engine as _;

/// A samlp connection trusting `old` whose IdP publishes `published`.
fn rolled_tenant(old: &GeneratedCert, published: &[&GeneratedCert]) -> SimTenant {
    tenant().connection(
        SimConnection::samlp("con_md", "acme-md", &old.base64_pem_crlf())
            .display_name("Acme (metadata)")
            .option("debug", json!(true))
            .idp(SimIdp::publishing(published)),
    )
}

/// The PATCH certwatch sends: the options as read, computed members and signingCert removed.
async fn refresh_body(api: &Api) -> Value {
    let conn = api.ok("/api/v2/connections/con_md").await;
    let mut options = conn["options"].as_object().unwrap().clone();
    for k in ["cert", "expires", "subject", "thumbprints", "signingCert"] {
        options.remove(k);
    }
    json!({ "options": options, "display_name": conn["display_name"] })
}

#[tokio::test]
async fn metadata_url_patch_downloads_the_metadata_and_recomputes_the_certificate() {
    let old = cert("idp.acme.example.com", 20);
    let expiring = cert("idp.acme.example.com", 40);
    let new = cert("idp2.acme.example.com", 700);
    let api = Api::start(rolled_tenant(&old, &[&expiring, &new]), WRITE_ALL).await;
    let body = refresh_body(&api).await;
    let (status, got) = api.patch("/api/v2/connections/con_md", &body).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let o = &got["options"];
    // The valid certificate with the latest notAfter; shapes as in the recorded PATCH.
    assert_eq!(o["thumbprints"], json!([new.sha1_hex]));
    let signing = base64::engine::general_purpose::STANDARD
        .decode(o["signingCert"].as_str().unwrap())
        .unwrap();
    let signing = String::from_utf8(signing).unwrap();
    assert!(
        signing.starts_with("-----BEGIN CERTIFICATE-----\n")
            && signing.ends_with("-----END CERTIFICATE-----\n")
    );
    assert!(!signing.contains('\r'));
    assert!(
        o["cert"]
            .as_str()
            .unwrap()
            .ends_with("-----END CERTIFICATE-----\n")
    );
    assert_eq!(
        o["subject"],
        json!({ "commonName": "idp2.acme.example.com" })
    );
    assert_eq!(
        o["expires"],
        json!(crate::sim::render::iso_ms(NOW + time::Duration::days(700)))
    );
    assert_eq!(o["metadataUrl"], body["options"]["metadataUrl"]);
    assert_eq!(o["debug"], json!(true));
    assert_eq!(got["display_name"], json!("Acme (metadata)"));
    // Stored: a later GET shows the same.
    let again = api.ok("/api/v2/connections/con_md").await;
    assert_eq!(again["options"]["thumbprints"], json!([new.sha1_hex]));
}

#[tokio::test]
async fn keep_certificate_fault_and_idp_errors() {
    let old = cert("idp.acme.example.com", 20);
    let new = cert("idp2.acme.example.com", 700);
    let api = Api::start(rolled_tenant(&old, &[&new]), WRITE_ALL).await;
    let body = refresh_body(&api).await;
    api.sim.add_fault(
        Fault::new("/api/v2/connections/{id}", FaultKind::KeepCertificate)
            .method("PATCH")
            .times(1),
    );
    let (status, got) = api.patch("/api/v2/connections/con_md", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["options"]["thumbprints"], json!([old.sha1_hex]), "kept");
    let (_, got) = api.patch("/api/v2/connections/con_md", &body).await;
    assert_eq!(
        got["options"]["thumbprints"],
        json!([new.sha1_hex]),
        "fault used up"
    );

    api.sim.update(|t| {
        t.connection_mut("con_md")
            .unwrap()
            .idp
            .as_mut()
            .unwrap()
            .fault = Some(IdpFault::Status(503));
    });
    let (status, err) = api.patch("/api/v2/connections/con_md", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(
        api.ok("/api/v2/connections/con_md").await["options"]["thumbprints"],
        json!([new.sha1_hex]),
        "a failed download changes nothing"
    );
}

#[tokio::test]
async fn a_foreign_metadata_url_is_not_fetched() {
    let old = cert("idp.acme.example.com", 20);
    let api = Api::start(
        tenant().connection(
            SimConnection::samlp("con_x", "x", &old.base64_pem_crlf())
                .option("metadataUrl", json!("https://idp.example.org/metadata.xml")),
        ),
        WRITE_ALL,
    )
    .await;
    let conn = api.ok("/api/v2/connections/con_x").await;
    let (status, got) = api
        .patch(
            "/api/v2/connections/con_x",
            &json!({ "options": conn["options"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["options"]["thumbprints"], json!([old.sha1_hex]));
}
