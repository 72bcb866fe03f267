//! The surfaces of docs/inventory.md added for "every certificate a tenant depends on": Token
//! Vault credential references, the SAML2 Web App add-on, custom signing keys, the tenant's SAML
//! SP certificate — each against the simulator, each failing alone when its scope is missing.

use crate::helpers::*;
use certwatch::expiry::Validity;
use certwatch::findings::FindingKind;
use certwatch::inventory::{Kind, Reason, Role, Source};
use certwatch::sim::{SimClient, SimCredential, SimSigningKey, SimTenant};
use serde_json::json;

fn with_keys(t: SimTenant) -> SimTenant {
    let n = now();
    t.signing_key(SimSigningKey::from_cert("kid-current", &cert(DOMAIN, 400)).current(n))
        .signing_key(SimSigningKey::from_cert("kid-next", &cert(DOMAIN, 800)).next())
}

#[tokio::test]
async fn a_token_vault_credential_is_read_and_in_use() {
    let n = now();
    let cred = SimCredential::public_key("cred_vault", "vault", n, None);
    let tenant = with_keys(base_tenant()).client(
        SimClient::new("cl_agent", "ai-agent")
            .field(
                "token_vault_privileged_access",
                json!({ "credentials": [{ "id": "cred_vault" }], "ip_allowlist": [] }),
            )
            .credential(cred),
    );
    let app = TestApp::spawn(tenant).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let r = one(&app, Kind::ClientCredential, "ai-agent");
    assert_eq!((r.role, r.validity), (Role::InUse, Validity::Never));
    assert!(
        app.sim
            .requests()
            .iter()
            .any(|r| r.path == "/api/v2/clients"
                && r.query.contains("token_vault_privileged_access"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_saml_addon_certificate_is_a_record_and_a_bare_public_key_is_not() {
    let sp = cert("sp.expense.example.com", 25);
    let key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
    let addon = |pem: &str| json!({ "samlp": { "signingCert": pem } });
    let tenant = with_keys(base_tenant())
        .client(SimClient::new("cl_expense", "expense").field("addons", addon(&sp.pem)))
        .client(SimClient::new("cl_vendor", "vendor").field("addons", addon(key)));
    let app = TestApp::spawn(tenant).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let r = one(&app, Kind::ClientSamlSpCert, "expense");
    assert_eq!((r.role, r.not_after()), (Role::Active, Some(sp.not_after)));
    assert_eq!(r.cert_id, sp.sha1_hex);
    assert!(app.records().iter().all(|r| r.object_id != "cl_vendor"));
    app.stop().await;
}

#[tokio::test]
async fn custom_signing_keys_are_records_and_known_to_the_jwks_check() {
    let with_x5c = cert("custom.acme.example", 40);
    let bare = cert("bare.acme.example", 400);
    let tenant = with_keys(base_tenant())
        .custom_signing_key("custom-1", &with_x5c, true)
        .custom_signing_key("custom-bare", &bare, false);
    let app = TestApp::spawn(tenant).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let keys: Vec<_> = app
        .records()
        .into_iter()
        .filter(|r| r.kind == Kind::CustomSigningKey)
        .collect();
    assert_eq!(keys.len(), 1, "a JWK without x5c is not a record");
    assert_eq!(keys[0].cert_id, "custom-1");
    assert_eq!(keys[0].not_after(), Some(with_x5c.not_after));
    // The public JWKS publishes both custom keys: neither is "a key /keys/signing does not list".
    let f = app.app.report().findings;
    assert!(
        f.iter().all(|f| f.finding != FindingKind::JwksMismatch),
        "{f:#?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn no_custom_signing_keys_is_a_404_and_not_an_error() {
    let app = TestApp::spawn(with_keys(base_tenant())).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let asked = app
        .sim
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v2/keys/custom-signing")
        .count();
    assert_eq!(asked, 1);
    app.stop().await;
}

#[tokio::test]
async fn custom_signing_keys_without_the_scope_is_an_explained_error_of_that_source_only() {
    let tenant = with_keys(base_tenant()).saml_sp_cert(&cert(DOMAIN, 900));
    let app = TestApp::spawn(tenant).await;
    app.sim.update(|t| {
        let scopes: Vec<&str> = ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != "read:custom_signing_keys")
            .collect();
        t.set_scopes(CLIENT_ID, &scopes);
    });
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    assert_eq!(t.errors.len(), 1, "{:?}", t.errors);
    let e = &t.errors[0];
    assert_eq!(
        (e.source, e.reason),
        (Source::CustomSigningKeys, Reason::MissingScope)
    );
    assert!(
        e.message.contains("read:custom_signing_keys"),
        "{}",
        e.message
    );
    assert!(e.message.contains("sources"), "{}", e.message);
    assert_eq!(app.find(Kind::TenantSigningKey, DOMAIN).len(), 2);
    assert_eq!(app.find(Kind::TenantSamlCert, DOMAIN).len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_tenant_saml_certificate_is_read_without_a_token() {
    let sp = cert(DOMAIN, 900);
    let app = TestApp::spawn(with_keys(base_tenant()).saml_sp_cert(&sp)).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let r = one(&app, Kind::TenantSamlCert, DOMAIN);
    assert_eq!((r.role, r.not_after()), (Role::Active, Some(sp.not_after)));
    assert_eq!(
        (r.object_id.as_str(), r.source),
        (DOMAIN, Source::TenantSaml)
    );
    let reqs = app.sim.requests();
    let pem = reqs.iter().find(|r| r.path == "/pem").expect("asked");
    assert_eq!(pem.query, "cert=connection");
    app.stop().await;
}

#[tokio::test]
async fn sources_config_drops_the_new_sources() {
    let tenant = with_keys(base_tenant()).saml_sp_cert(&cert(DOMAIN, 900));
    let app = TestApp::spawn_toml(tenant, |t| {
        format!("{t}sources = [\"signing_keys\", \"clients\", \"client_credentials\", \"connections\", \"connection_keys\", \"custom_domains\", \"jwks\"]\n")
    })
    .await;
    app.app.poll_now().await;
    let reqs = app.sim.requests();
    assert!(
        !reqs
            .iter()
            .any(|r| r.path == "/pem" || r.path == "/api/v2/keys/custom-signing")
    );
    assert!(app.find(Kind::TenantSamlCert, DOMAIN).is_empty());
    app.stop().await;
}
