//! Owners and connection keys end to end: the owner named in `client_metadata` / connection
//! `metadata` reaches the records, the JSON, the metrics and the alerts, a channel's `owners`
//! filter routes by it, and every oidc/okta connection's keys are read with their `key_use`
//! (docs/inventory.md, docs/alerts.md#owners).

use crate::helpers::*;
use certwatch::inventory::{Kind, Role};
use certwatch::sim::{
    Fault, FaultKind, SimClient, SimConnection, SimConnectionKey, SimCredential, SimTenant,
};

/// A client owned by team-a with a credential in use (10 days left), a SAML connection owned
/// by team-b (5 days left), an oidc connection that does not use private_key_jwt yet but holds
/// a signing and an encryption key, and an okta connection without keys.
fn tenant() -> SimTenant {
    let n = now();
    let cred = cert("billing-key", 10);
    let oidc = SimConnection::oidc("con_oidc", "partner-oidc")
        .option(
            "token_endpoint_auth_method",
            serde_json::json!("client_secret_post"),
        )
        .key(
            SimConnectionKey::from_cert("ck-sig", &cert("partner-oidc", 200), "partner-oidc")
                .current(n - time::Duration::days(1)),
        )
        .key(
            SimConnectionKey::from_cert("ck-enc", &cert("partner-oidc-enc", 300), "partner-oidc")
                .encryption()
                .next(),
        );
    base_tenant()
        .client(
            SimClient::new("cl_billing", "billing-api")
                .metadata("certwatch_owner", "team-a")
                .credential(SimCredential::public_key_from_cert(
                    "cred_billing",
                    "billing key",
                    &cred,
                    n,
                ))
                .private_key_jwt(&["cred_billing"]),
        )
        .connection(
            SimConnection::samlp("con_saml", "acme-saml", &cert("idp.acme.example", 5).pem)
                .metadata("certwatch_owner", "team-b")
                .metadata("cost_center", "42"),
        )
        .connection(oidc)
        .connection(SimConnection::okta("con_okta", "workforce-okta"))
}

#[tokio::test]
async fn owners_reach_records_json_metrics_and_keys_are_read_for_every_oidc_connection() {
    let app = TestApp::spawn(tenant()).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "errors: {:?}", snap.tenants[0].errors);

    let cred = one(&app, Kind::ClientCredential, "billing-api");
    assert_eq!(cred.owner.as_deref(), Some("team-a"));
    assert_eq!(
        one(&app, Kind::ConnectionSigningCert, "acme-saml")
            .owner
            .as_deref(),
        Some("team-b")
    );
    let keys = app.find(Kind::ConnectionKey, "partner-oidc");
    let mut uses: Vec<_> = keys
        .iter()
        .map(|k| (k.cert_id.as_str(), k.role, k.key_use.as_deref()))
        .collect();
    uses.sort_by_key(|u| u.0);
    assert_eq!(
        uses,
        [
            ("ck-enc", Role::Next, Some("encryption")),
            ("ck-sig", Role::Current, Some("signing")),
        ],
        "keys of an oidc connection without private_key_jwt are read"
    );
    assert!(keys.iter().all(|k| k.owner.is_none()));
    let key_calls: Vec<String> = app
        .sim
        .requests()
        .iter()
        .filter(|r| r.route.ends_with("/keys"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(key_calls.len(), 2, "both oidc and okta: {key_calls:?}");

    let (code, body) = app.get("/api/v1/certificates").await;
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let certs = doc["certificates"].as_array().unwrap();
    let by_id = |id: &str| certs.iter().find(|c| c["cert_id"] == id).unwrap();
    assert_eq!(by_id("cred_billing")["owner"], "team-a");
    assert_eq!(by_id("ck-enc")["key_use"], "encryption");
    assert_eq!(by_id("ck-enc")["owner"], serde_json::Value::Null);
    assert!(certs.iter().all(|c| c.get("owner").is_some()));

    let (_, metrics) = app.get("/metrics").await;
    let info = metrics
        .lines()
        .find(|l| l.starts_with("certwatch_certificate_info{") && l.contains("cred_billing"))
        .unwrap();
    assert!(info.contains("owner=\"team-a\""), "{info}");

    // The next poll re-reads no credential list (incremental polls) and still names the owner;
    // a new owner in the metadata shows at once.
    app.sim.update(|t| {
        let c = t
            .clients
            .iter_mut()
            .find(|c| c.client_id == "cl_billing")
            .unwrap();
        c.extra.insert(
            "client_metadata".into(),
            serde_json::json!({"certwatch_owner": "team-c"}),
        );
    });
    let before = app.sim.requests().len();
    app.app.poll_now().await;
    let again: Vec<_> = app.sim.requests()[before..]
        .iter()
        .filter(|r| r.route.ends_with("/credentials"))
        .map(|r| r.path.clone())
        .collect();
    assert!(again.is_empty(), "credentials re-read: {again:?}");
    assert_eq!(
        one(&app, Kind::ClientCredential, "billing-api")
            .owner
            .as_deref(),
        Some("team-c")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_connection_without_keys_answering_404_is_not_an_error() {
    let app = TestApp::spawn(tenant()).await;
    app.sim.add_fault(Fault::new(
        "/api/v2/connections/{id}/keys",
        FaultKind::Status(404),
    ));
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "errors: {:?}", snap.tenants[0].errors);
    assert!(app.find(Kind::ConnectionKey, "partner-oidc").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_channel_with_owners_gets_only_their_alerts() {
    let (all_url, all) = webhook_listener().await;
    let (team_url, team) = webhook_listener().await;
    let app = TestApp::spawn_toml(tenant(), |t| {
        format!(
            "{t}\n[alerts]\n\
             [[alerts.webhook]]\nname = \"all\"\nurl = \"{all_url}\"\nformat = \"json\"\n\
             [[alerts.webhook]]\nname = \"team-a\"\nurl = \"{team_url}\"\nformat = \"json\"\nowners = [\"team-a\"]\n"
        )
    })
    .await;
    app.app.poll_now().await;
    let ids = |inbox: &Inbox| -> Vec<(String, String)> {
        let mut v: Vec<_> = inbox
            .lock()
            .unwrap()
            .iter()
            .filter_map(|a| {
                let c = a.get("certificate")?;
                Some((
                    c["cert_id"].as_str()?.to_string(),
                    a["summary"].as_str()?.to_string(),
                ))
            })
            .collect();
        v.sort();
        v
    };
    let mine = ids(&team);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].0, "cred_billing");
    assert!(mine[0].1.ends_with("[owner team-a]"), "{}", mine[0].1);
    let everything = ids(&all);
    assert!(
        everything
            .iter()
            .any(|(id, s)| id != "cred_billing" && s.ends_with("[owner team-b]")),
        "{everything:?}"
    );
    assert!(everything.iter().any(|(id, _)| id == "cred_billing"));
    app.stop().await;
}
