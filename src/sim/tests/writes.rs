//! The write endpoints: PATCH semantics of connections and clients, the options scope,
//! credential create/delete and the two-credential limit, signing-key rotation.

use super::*;

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
