//! Tests of the pure flow bodies: against the recorded Auth0 bodies, and a property test that the
//! SAML PATCH body keeps every option it does not own, whatever it is.

use super::*;
use proptest::prelude::*;

fn recorded(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/auth0/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn new_cert() -> crate::sim::GeneratedCert {
    use time::macros::datetime;
    crate::sim::generate_cert(
        "new.idp.example",
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2030-01-01 0:00 UTC),
    )
}

#[test]
fn signing_cert_is_base64_of_crlf_pem() {
    let c = new_cert();
    assert_eq!(signing_cert_value(&c.der), c.base64_pem_crlf());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(signing_cert_value(&c.der))
        .unwrap();
    let text = String::from_utf8(decoded).unwrap();
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----\r\n"));
    assert!(text.ends_with("-----END CERTIFICATE-----\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'));
}

#[test]
fn recorded_samlp_body_keeps_everything_but_the_computed_members() {
    let conn = recorded("samlp-connection-get-metadataXml-derived.terraform.json");
    let c = new_cert();
    let sc = signing_cert_value(&c.der);
    let body = saml_patch_body(&conn, &sc).unwrap();
    let sent = body["options"].as_object().unwrap();
    let orig = conn["options"].as_object().unwrap();
    for k in COMPUTED {
        assert!(!sent.contains_key(k), "{k} must not be sent");
    }
    assert_eq!(sent["signingCert"], json!(sc));
    for (k, v) in orig {
        if !COMPUTED.contains(&k.as_str()) && k != "signingCert" {
            assert_eq!(sent.get(k), Some(v), "{k}");
        }
    }
    assert_eq!(sent.len(), orig.len() - COMPUTED.len());
    assert_eq!(body["display_name"], conn["display_name"]);
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        vec!["display_name", "options"],
        "nothing else is ever sent"
    );
}

#[test]
fn display_name_is_sent_only_when_the_connection_has_one() {
    let conn = recorded("samlp-connection-get.go-auth0.json");
    assert!(conn.get("display_name").is_none());
    let body = saml_patch_body(&conn, "x").unwrap();
    assert!(body.get("display_name").is_none());
}

#[test]
fn missing_options_is_a_scope_problem() {
    let conn = json!({"id": "con_1", "strategy": "samlp"});
    assert_eq!(saml_patch_body(&conn, "x"), Err(Error::MissingOptions));
}

#[test]
fn pingfederate_rollback_rebuilds_signing_cert_from_cert() {
    let conn = recorded("pingfederate-connection-get.go-auth0.json");
    assert!(conn["options"].get("signingCert").is_none());
    let body = saml_rollback_body(&conn).unwrap();
    let sc = body["options"]["signingCert"].as_str().unwrap();
    let info = crate::x509::decode(sc).unwrap();
    assert_eq!(info.sha1, "b93611bf2cfdb64110c7aae1485718cc9385e151");
    assert_eq!(
        body["options"]["pingFederateBaseUrl"],
        conn["options"]["pingFederateBaseUrl"]
    );
    assert!(body["options"].get("thumbprints").is_none());
}

#[test]
fn samlp_rollback_keeps_the_original_signing_cert_verbatim() {
    let conn = recorded("samlp-connection-get.go-auth0.json");
    let body = saml_rollback_body(&conn).unwrap();
    assert_eq!(
        body["options"]["signingCert"],
        conn["options"]["signingCert"]
    );
}

#[test]
fn verification_catches_wrong_thumbprint_lost_option_and_display_name() {
    let conn = recorded("samlp-connection-get-metadataXml-derived.terraform.json");
    let c = new_cert();
    let body = saml_patch_body(&conn, &signing_cert_value(&c.der)).unwrap();
    let mut good = body.clone();
    good["options"]["thumbprints"] = json!([c.sha1_hex.to_uppercase()]);
    good["options"]["cert"] = json!(c.pem);
    assert_eq!(verify_saml(&body, &good, &c.sha1_hex), Ok(()));

    let mut wrong = good.clone();
    wrong["options"]["thumbprints"] = json!(["499fdf1c2218a99c8595aac2fd95ce36f0a6d59d"]);
    assert!(
        verify_saml(&body, &wrong, &c.sha1_hex)
            .unwrap_err()
            .contains("thumbprints")
    );

    let mut lost = good.clone();
    lost["options"]
        .as_object_mut()
        .unwrap()
        .remove("requestTemplate");
    assert!(
        verify_saml(&body, &lost, &c.sha1_hex)
            .unwrap_err()
            .contains("requestTemplate")
    );

    let mut renamed = good.clone();
    renamed["display_name"] = json!("Acceptance");
    assert!(
        verify_saml(&body, &renamed, &c.sha1_hex)
            .unwrap_err()
            .contains("display_name")
    );

    // The recorded PATCH of a metadataUrl connection dropped unsent options: our check sees it.
    let response = recorded("samlp-connection-patch-response.terraform.json");
    assert!(verify_saml(&body, &response, &c.sha1_hex).is_err());
}

#[test]
fn masking_hides_private_keys_and_secrets_only() {
    let conn = recorded("samlp-connection-get-metadataXml-derived.terraform.json");
    let body = saml_patch_body(&conn, "c2lnbmluZw==").unwrap();
    let masked = mask_secrets(&body);
    assert_eq!(masked["options"]["signing_key"]["key"], json!(MASK));
    assert_eq!(masked["options"]["decryptionKey"]["key"], json!(MASK));
    assert_eq!(
        masked["options"]["decryptionKey"]["cert"],
        body["options"]["decryptionKey"]["cert"]
    );
    assert_eq!(masked["options"]["signingCert"], json!("c2lnbmluZw=="));
    assert_eq!(masked["options"]["fieldsMap"], body["options"]["fieldsMap"]);
    let text = masked.to_string();
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    let other = mask_secrets(
        &json!({"client_secret": "s3cret", "nested": [{"password": "p"}], "x": "-----BEGIN RSA PRIVATE KEY-----"}),
    );
    assert_eq!(
        other,
        json!({"client_secret": MASK, "nested": [{"password": MASK}], "x": MASK})
    );
}

#[test]
fn credential_body_follows_the_old_type() {
    let c = new_cert();
    let cand = Candidate::from_der("new.pem", c.der.clone()).unwrap();
    let pk = credential_body("public_key", &cand);
    assert_eq!(pk["credential_type"], "public_key");
    assert_eq!(pk["parse_expiry_from_cert"], true);
    assert_eq!(pk["pem"], json!(c.pem));
    assert_eq!(pk["name"], json!(credential_name(&c.sha1_hex)));
    let x = credential_body("x509_cert", &cand);
    assert!(x.get("parse_expiry_from_cert").is_none());
}

#[test]
fn references_are_added_next_to_the_old_one_and_removed_later() {
    let client = json!({
        "client_id": "cl_1",
        "client_authentication_methods": {"private_key_jwt": {"credentials": [{"id": "cred_old"}]}},
        "signed_request_object": {"required": true, "credentials": [{"id": "cred_old"}, {"id": "cred_jar"}]},
    });
    let add = add_reference(&client, "cred_old", "cred_new");
    assert_eq!(
        add,
        json!({
            "client_authentication_methods": {"private_key_jwt": {"credentials": [{"id": "cred_old"}, {"id": "cred_new"}]}},
            "signed_request_object": {"required": true, "credentials": [{"id": "cred_old"}, {"id": "cred_jar"}, {"id": "cred_new"}]},
        })
    );
    let mut after = client.clone();
    after
        .as_object_mut()
        .unwrap()
        .extend(add.as_object().unwrap().clone());
    assert_eq!(places(&after, "cred_new"), places(&client, "cred_old"));
    let remove = remove_reference(&after, "cred_old");
    assert_eq!(
        remove["signed_request_object"],
        json!({"required": true, "credentials": [{"id": "cred_jar"}, {"id": "cred_new"}]})
    );
    assert_eq!(
        restore_references(&client, &add),
        json!({
            "client_authentication_methods": client["client_authentication_methods"],
            "signed_request_object": client["signed_request_object"],
        })
    );
    // Only what references the old credential is touched.
    let only_jwt = json!({"client_authentication_methods": {"private_key_jwt": {"credentials": [{"id": "cred_old"}]}}, "signed_request_object": {"credentials": [{"id": "x"}]}});
    assert!(
        add_reference(&only_jwt, "cred_old", "n")
            .get("signed_request_object")
            .is_none()
    );
}

// === property: every option the flow does not own survives the PATCH body exactly ===

pub(super) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![0.5f64, -1.25, 1e10, 0.125]).prop_map(|f| json!(f)),
        ".*".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn extra_options() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("\\PC{1,16}", json_value(), 0..12).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| k != "signingCert" && !COMPUTED.contains(&k.as_str()))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn saml_patch_body_preserves_arbitrary_options(
        extra in extra_options(),
        display in prop::option::of("\\PC{0,20}"),
        strategy in prop::sample::select(vec!["samlp", "pingfederate"]),
    ) {
        let mut options = extra.clone();
        options.insert("cert".into(), json!("-----BEGIN CERTIFICATE-----\nold\n-----END CERTIFICATE-----"));
        options.insert("expires".into(), json!("2026-01-01T00:00:00.000Z"));
        options.insert("subject".into(), json!({"commonName": "old"}));
        options.insert("thumbprints".into(), json!(["aa"]));
        if strategy == "samlp" {
            options.insert("signingCert".into(), json!("b2xk"));
        }
        let mut conn = json!({"id": "con_1", "name": "c", "strategy": strategy, "options": options});
        if let Some(d) = &display {
            conn["display_name"] = json!(d);
        }
        let body = saml_patch_body(&conn, "bmV3").unwrap();
        let sent = body["options"].as_object().unwrap();
        for (k, v) in &extra {
            prop_assert_eq!(sent.get(k), Some(v), "option {:?}", k);
        }
        prop_assert_eq!(sent.len(), extra.len() + 1);
        prop_assert_eq!(&sent["signingCert"], &json!("bmV3"));
        for k in COMPUTED {
            prop_assert!(!sent.contains_key(k));
        }
        prop_assert_eq!(body.get("display_name").and_then(Value::as_str), display.as_deref());

        // Serialised and parsed back (what goes over the wire), still identical.
        let wire: Value = serde_json::from_str(&serde_json::to_string(&body).unwrap()).unwrap();
        prop_assert_eq!(&wire, &body);

        // A response echoing the body with the new thumbprint verifies; losing any one key fails.
        let mut response = body.clone();
        response["options"]["thumbprints"] = json!(["ab"]);
        prop_assert_eq!(verify_saml(&body, &response, "ab"), Ok(()));
        if let Some(k) = extra.keys().next() {
            response["options"].as_object_mut().unwrap().remove(k);
            prop_assert!(verify_saml(&body, &response, "ab").is_err());
        }

        // The rollback body restores the same options.
        let rollback = saml_rollback_body(&conn);
        if strategy == "samlp" {
            let rollback = rollback.unwrap();
            for (k, v) in &extra {
                prop_assert_eq!(rollback["options"].get(k), Some(v));
            }
            prop_assert_eq!(&rollback["options"]["signingCert"], &json!("b2xk"));
        }
    }
}

#[test]
fn metadata_url_query_is_masked_in_logged_bodies() {
    let body = json!({"options": {"metadataUrl": "https://u:p@idp.example/md.xml?token=s3cret", "debug": true}});
    let masked = mask_secrets(&body);
    assert_eq!(
        masked["options"]["metadataUrl"],
        json!(format!("https://idp.example/md.xml?{MASK}"))
    );
    assert!(!masked.to_string().contains("s3cret") && !masked.to_string().contains("u:p"));
    assert_eq!(redact_url("not a url"), MASK);
}
