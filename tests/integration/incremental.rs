//! Incremental polls and the rate-limit budget against the simulator (docs/polling.md): what a
//! steady-state poll costs, how soon each kind of change shows, and that the tenant's
//! `x-ratelimit-remaining` never goes below the part left to its own applications.

use crate::helpers::*;
use certwatch::auth0::budget::Share;
use certwatch::auth0::{self, Auth0Api};
use certwatch::inventory::Kind;
use certwatch::inventory::poll::{PollSettings, poll_tenant};
use certwatch::sim::{
    RateLimit, RecordedRequest, Sim, SimClient, SimConnection, SimConnectionKey, SimCredential,
};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;
use time::Duration;

const FULL_REFRESH: StdDuration = StdDuration::from_secs(6 * 3600);

/// The per-object reads (credential lists, connection keys) among `requests`.
fn per_object(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.route.ends_with("/credentials") || r.route.ends_with("/keys"))
        .filter(|r| r.route != "/api/v2/keys/signing")
        .map(|r| r.path.clone())
        .collect()
}

/// Management API requests among `requests` (the public JWKS and SAML certificate are not).
fn management(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|r| r.route.starts_with("/api/v2/") || r.route == "/oauth/token")
        .count()
}

fn expiry(app: &TestApp, kind: Kind, name: &str, cert_id: &str) -> Option<time::OffsetDateTime> {
    app.find(kind, name)
        .into_iter()
        .find(|r| r.cert_id == cert_id)
        .and_then(|r| r.not_after())
}

#[tokio::test]
async fn a_steady_state_poll_reads_the_list_pages_only() {
    let app = TestApp::spawn(full_tenant().tenant).await;
    app.app.poll_now().await;
    let first = app.sim.requests();
    assert!(
        per_object(&first).len() >= 3,
        "the first poll is a full one: {:?}",
        per_object(&first)
    );
    let records = app.records().len();
    app.sim.clear_requests();
    // The same instant: no refresh slot can have come round (they are spread over the period).
    app.app.poll_now().await;
    let second = app.sim.requests();
    assert_eq!(per_object(&second), Vec::<String>::new(), "nothing changed");
    assert_eq!(app.records().len(), records, "every record still there");
    assert_eq!(
        app.find(Kind::ClientCredential, "billing-api").len(),
        2,
        "credentials from the last read"
    );
    let (_, metrics) = app.get("/metrics").await;
    let gauge = format!(
        "certwatch_poll_api_calls{{tenant=\"prod\"}} {}",
        management(&second)
    );
    assert!(metrics.contains(&gauge), "{gauge} in {metrics}");
    app.stop().await;
}

#[tokio::test]
async fn changed_references_are_read_at_once() {
    let app = TestApp::spawn(full_tenant().tenant).await;
    app.app.poll_now().await;
    let n = now();
    // A credential added and referenced: the client's references change.
    let added = SimCredential::public_key("cred_added", "new key", n, Some(n + Duration::days(42)));
    app.sim.update(|t| {
        let c = t.client_mut("cl_billing").unwrap();
        c.credentials.push(added.clone());
        *c = c.clone().private_key_jwt(&["cred_billing", "cred_added"]);
    });
    app.app.poll_now().await;
    let got = expiry(&app, Kind::ClientCredential, "billing-api", "cred_added");
    assert_eq!(got, Some(n + Duration::days(42)));
    // A referenced credential deleted: the references change again.
    app.sim.update(|t| {
        let c = t.client_mut("cl_mtls").unwrap();
        c.credentials.retain(|cred| cred.id != "cred_mtls");
        c.client_authentication_methods = None;
    });
    app.app.poll_now().await;
    let left: Vec<_> = app
        .find(Kind::ClientCredential, "mtls-gateway")
        .into_iter()
        .map(|r| r.cert_id)
        .collect();
    assert_eq!(
        left,
        vec!["cred_never".to_string()],
        "cred_mtls is gone at once"
    );
    // A connection whose key-bearing options change has its keys read at once.
    app.sim.update(|t| {
        let c = t.connection_mut("con_oidc").unwrap();
        c.options
            .insert("token_endpoint_auth_signing_alg".into(), "PS256".into());
        c.keys.retain(|k| k.kid != "ck-next");
    });
    app.sim.clear_requests();
    app.app.poll_now().await;
    assert_eq!(
        per_object(&app.sim.requests()),
        vec!["/api/v2/connections/con_oidc/keys".to_string()]
    );
    assert_eq!(app.find(Kind::ConnectionKey, "partner-oidc").len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn unreferenced_changes_show_within_full_refresh() {
    let app = TestApp::spawn(full_tenant().tenant).await;
    app.app.poll_now().await;
    let before = expiry(&app, Kind::ClientCredential, "billing-api", "cred_billing");
    assert!(before.is_some());
    let n = now();
    let later = n + Duration::days(700);
    let rotated = cert("oidc-conn", 900);
    app.sim.update(|t| {
        let billing = t.client_mut("cl_billing").unwrap();
        // expires_at changed, one unreferenced credential added and one deleted: the
        // references (cred_billing) are the same.
        billing.credentials[0].expires_at = Some(later);
        billing.credentials.retain(|c| c.id != "cred_unused");
        billing.credentials.push(SimCredential::public_key(
            "cred_spare",
            "spare key",
            n,
            Some(n + Duration::days(9)),
        ));
        // The connection key rotated: the options are the same.
        let oidc = t.connection_mut("con_oidc").unwrap();
        oidc.keys =
            vec![SimConnectionKey::from_cert("ck-rotated", &rotated, "partner-oidc").current(n)];
    });
    app.app.poll_now().await;
    assert_eq!(
        expiry(&app, Kind::ClientCredential, "billing-api", "cred_billing"),
        before,
        "not read again yet: its references did not change"
    );
    assert_eq!(app.find(Kind::ConnectionKey, "partner-oidc").len(), 2);
    // At the latest a full_refresh after their last read, every change shows.
    app.clock.advance(FULL_REFRESH);
    app.app.poll_now().await;
    assert_eq!(
        expiry(&app, Kind::ClientCredential, "billing-api", "cred_billing"),
        Some(later)
    );
    let creds: Vec<_> = app
        .find(Kind::ClientCredential, "billing-api")
        .into_iter()
        .map(|r| r.cert_id)
        .collect();
    assert!(creds.contains(&"cred_spare".to_string()), "{creds:?}");
    assert!(!creds.contains(&"cred_unused".to_string()), "{creds:?}");
    let keys: Vec<_> = app
        .find(Kind::ConnectionKey, "partner-oidc")
        .into_iter()
        .map(|r| r.cert_id)
        .collect();
    assert_eq!(keys, vec!["ck-rotated".to_string()]);
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_object_and_a_renamed_one_show_at_once() {
    let app = TestApp::spawn(full_tenant().tenant).await;
    app.app.poll_now().await;
    app.sim.update(|t| {
        t.remove_connection("con_oidc");
        t.client_mut("cl_billing").unwrap().name = "billing-api-v2".into();
    });
    app.app.poll_now().await;
    assert!(app.find(Kind::ConnectionKey, "partner-oidc").is_empty());
    assert!(app.find(Kind::ClientCredential, "billing-api").is_empty());
    assert_eq!(app.find(Kind::ClientCredential, "billing-api-v2").len(), 2);
    app.stop().await;
}

/// Every `x-ratelimit-remaining` a client saw.
#[derive(Default)]
struct Remaining(Mutex<Vec<u64>>);

impl auth0::Observer for Remaining {
    fn api_request(&self, _: &str, _: &str, _: &str) {}
    fn ratelimit_remaining(&self, _: &str, remaining: u64) {
        self.0.lock().unwrap().push(remaining);
    }
}

/// A tenant of 60 applications with credentials and 6 private_key_jwt connections: 72
/// Management API requests for a full poll, more than the 16 a budget of 32 leaves.
fn busy_tenant() -> certwatch::sim::SimTenant {
    let n = now();
    let mut t = base_tenant();
    for i in 0..60 {
        let cred = format!("cred_{i:03}");
        t.add_client(
            SimClient::new(&format!("cl_{i:03}"), &format!("app-{i:03}"))
                .credential(SimCredential::public_key(
                    &cred,
                    "k",
                    n,
                    Some(n + Duration::days(i)),
                ))
                .private_key_jwt(&[&cred]),
        );
    }
    for i in 0..6 {
        let name = format!("oidc-{i}");
        let key = cert(&name, 90);
        t.add_connection(
            SimConnection::oidc(&format!("con_oidc{i}"), &name)
                .key(SimConnectionKey::from_cert("ck", &key, &name).current(n)),
        );
    }
    t
}

#[tokio::test]
async fn a_poll_never_takes_the_bucket_below_the_budget_floor() {
    let sim = Sim::spawn(busy_tenant()).await.unwrap();
    sim.set_rate_limit(Some(RateLimit {
        burst: 32,
        per_second: 40.0,
    }));
    let seen = Arc::new(Remaining::default());
    let client = auth0::Client::new(
        auth0::client::Settings {
            tenant: "prod".into(),
            base_url: sim.url(),
            client_id: CLIENT_ID.into(),
            client_secret: certwatch::secret::Secret::new(SECRET),
            audience: format!("https://{DOMAIN}/api/v2/"),
            timeout: StdDuration::from_secs(5),
            max_requests_per_second: None,
            budget_share: Share::new(0.5).unwrap(),
        },
        seen.clone(),
    )
    .unwrap();
    let settings = PollSettings {
        concurrency: 8,
        ..PollSettings::default()
    };
    let out = poll_tenant(&client, "prod", DOMAIN, &settings).await;
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let requests = sim.requests();
    assert!(requests.iter().all(|r| r.status != 429), "no 429");
    let seen = seen.0.lock().unwrap().clone();
    assert!(seen.len() >= 70, "{} answers", seen.len());
    let lowest = seen.iter().min().copied().unwrap();
    assert!(lowest >= 16, "remaining went down to {lowest}: {seen:?}");
    assert_eq!(out.api_calls, client.requests_sent());
    assert_eq!(out.api_calls as usize, management(&requests));
}
