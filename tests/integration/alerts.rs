//! Alerts end to end: the daemon, the simulator, an injected clock and a real HTTP listener.

use crate::helpers::*;
use certwatch::sim::{SimConnection, generate_cert};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Inbox = Arc<Mutex<Vec<serde_json::Value>>>;

/// A real HTTP listener collecting webhook bodies.
async fn webhook_listener() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let sink = inbox.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.0);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}

fn take(inbox: &Inbox) -> Vec<(String, String, Option<String>)> {
    inbox
        .lock()
        .unwrap()
        .drain(..)
        .map(|v| {
            (
                v["status"].as_str().unwrap_or_default().to_string(),
                v["severity"].as_str().unwrap_or_default().to_string(),
                v["resolution"].as_str().map(str::to_string),
            )
        })
        .collect()
}

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test]
async fn a_certificate_walking_to_expiry_and_renewed_notifies_exactly_once_per_step() {
    let n = now();
    let c = generate_cert(
        "idp.acme.example",
        n - time::Duration::days(300),
        n + time::Duration::days(40),
    );
    let tenant = base_tenant()
        .connection(SimConnection::samlp("con_1", "acme-idp", &c.pem))
        .signing_key(
            certwatch::sim::SimSigningKey::from_cert("prev", &cert(DOMAIN, 10))
                .previous(n - time::Duration::days(90), n),
        );
    let (url, inbox) = webhook_listener().await;
    let app = TestApp::spawn_toml(tenant, |t| {
        format!("{t}\n[alerts]\nrepeat_interval = \"30d\"\n[[alerts.webhook]]\nname = \"hook\"\nurl = \"{url}\"\nformat = \"json\"\n")
    })
    .await;

    app.app.poll_now().await; // 40 days left: ok
    assert_eq!(
        take(&inbox),
        vec![],
        "ok, and the previous key never alerts"
    );
    app.clock.advance(15 * DAY); // 25 days: warning
    app.app.poll_now().await;
    assert_eq!(
        take(&inbox),
        vec![("firing".into(), "warning".into(), None)]
    );
    app.app.poll_now().await;
    assert_eq!(take(&inbox), vec![], "nothing twice for the same state");
    app.clock.advance(20 * DAY); // 5 days: critical
    app.app.poll_now().await;
    assert_eq!(
        take(&inbox),
        vec![("firing".into(), "critical".into(), None)]
    );
    app.clock.advance(6 * DAY); // expired
    app.app.poll_now().await;
    assert_eq!(
        take(&inbox),
        vec![("firing".into(), "expired".into(), None)]
    );

    let renewed = generate_cert("idp.acme.example", n, n + time::Duration::days(800));
    app.sim.update(|t| {
        let conn = t.connection_mut("con_1").unwrap();
        conn.options.insert(
            "signingCert".into(),
            serde_json::Value::String(renewed.pem.clone()),
        );
        conn.options.remove("cert");
        conn.recompute();
    });
    app.app.poll_now().await;
    let got = take(&inbox);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "resolved");
    assert_eq!(got[0].2.as_deref(), Some("renewed"));
    app.app.poll_now().await;
    assert_eq!(take(&inbox), vec![]);
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("certwatch_alerts_sent_total{channel=\"hook\""),
        "deliveries are counted"
    );
    app.stop().await;
}
