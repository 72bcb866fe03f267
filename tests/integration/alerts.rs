//! Alerts end to end: the daemon, the simulator, an injected clock, a real HTTP listener and
//! (for findings) a real SMTP server.

use crate::helpers::*;
use certwatch::alert::Engine;
use certwatch::clock::Clock;
use certwatch::metrics::Metrics;
use certwatch::sim::{Fault, FaultKind, SimConnection, SimSigningKey, generate_cert};
use std::sync::Arc;
use std::time::Duration;

/// The aiosmtpd harness of the unit tests, shared by path (it uses nothing of the crate).
#[path = "../../src/alert/tests/smtpd.rs"]
mod smtpd;

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

/// An alert engine of its own (state in `state`) with an email channel to `smtp_port` and two
/// `json` webhooks: `all` and `creds` (only client credentials), from `[alerts]` TOML.
fn findings_engine(
    app: &TestApp,
    smtp_port: u16,
    all: &str,
    creds: &str,
    state: &std::path::Path,
) -> (Engine, Arc<Metrics>) {
    let toml = format!(
        "{}\n[alerts]\nrepeat_interval = \"30d\"\n\
         [[alerts.email]]\nname = \"mail\"\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
         from = \"certwatch@example.com\"\nto = [\"ops@example.com\"]\n\
         [[alerts.webhook]]\nname = \"all\"\nurl = \"{all}\"\nformat = \"json\"\n\
         [[alerts.webhook]]\nname = \"creds\"\nurl = \"{creds}\"\nformat = \"json\"\nkinds = [\"client_credential\"]\n",
        config_toml(&app.sim.url(), SECRET, state)
    );
    let cfg = certwatch::config::from_toml(&toml).unwrap();
    let metrics = Arc::new(Metrics::new(false));
    let engine = Engine::new(cfg.alerts, state, metrics.clone(), app.clock.clone()).unwrap();
    (engine, metrics)
}

/// Poll, then give the report to `engine` as the daemon does after each poll.
async fn poll_and_notify(app: &TestApp, engine: &Engine) {
    app.app.poll_now().await;
    engine
        .notify_findings(&app.app.report(), app.clock.now())
        .await;
}

#[tokio::test]
#[ignore = "needs aiosmtpd (pip install aiosmtpd==1.4.6; scripts/test.sh installs it)"]
async fn a_finding_is_emailed_and_posted_once_kept_while_the_tenant_is_down_then_resolved() {
    let n = now();
    let tenant = base_tenant().signing_key(
        SimSigningKey::from_cert("kid-current", &cert(DOMAIN, 400))
            .current(n - time::Duration::days(10)),
    );
    let app = TestApp::spawn(tenant).await;
    let port = smtpd::free_port();
    let smtp = smtpd::Smtpd::start(port).await;
    let (all_url, all) = webhook_listener().await;
    let (creds_url, creds) = webhook_listener().await;
    let state = tempfile::tempdir().unwrap();
    let (engine, metrics) = findings_engine(&app, port, &all_url, &creds_url, state.path());

    // No next signing key: a warning finding about the tenant's signing keys.
    poll_and_notify(&app, &engine).await;
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 1);
    let subject = smtpd::header(&msgs[0], "subject").join("");
    assert!(
        subject.starts_with(&format!(
            "[certwatch] WARNING prod: tenant '{DOMAIN}' no_next_signing_key — the tenant has no next signing key"
        )),
        "{subject}"
    );
    let text = smtpd::part(&msgs[0], "text/plain");
    assert!(
        text.contains("Finding:         no_next_signing_key (warning)"),
        "{text}"
    );
    assert!(text.contains("What to do: Do not rotate the tenant signing key"));
    let html = smtpd::part(&msgs[0], "text/html");
    assert!(html.contains("<code>no_next_signing_key</code>"), "{html}");
    let posted: Vec<serde_json::Value> = all.lock().unwrap().drain(..).collect();
    assert_eq!(posted.len(), 1);
    let p = &posted[0];
    assert_eq!(
        (
            &p["version"],
            &p["status"],
            &p["severity"],
            &p["resolution"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!("firing"),
            &serde_json::json!("warning"),
            &serde_json::Value::Null
        )
    );
    assert_eq!(p["finding"]["kind"], "no_next_signing_key");
    assert_eq!(p["finding"]["tenant"], "prod");
    assert_eq!(p["finding"]["object_id"], DOMAIN);
    assert_eq!(p["summary"].as_str(), subject.strip_prefix("[certwatch] "));
    assert!(
        creds.lock().unwrap().is_empty(),
        "a kinds filter for client credentials passes no signing-key finding"
    );

    // Unchanged: nothing twice.
    poll_and_notify(&app, &engine).await;
    assert_eq!(smtp.messages().len(), 1);
    assert!(all.lock().unwrap().is_empty());

    // The next key appears, but the key list cannot be read: the tenant is down, nothing resolves.
    app.sim.update(|t| {
        t.add_signing_key(SimSigningKey::from_cert("kid-next", &cert(DOMAIN, 800)).next())
    });
    app.sim
        .add_fault(Fault::new("/api/v2/keys/signing", FaultKind::Status(503)));
    app.clock.advance(Duration::from_secs(3600));
    poll_and_notify(&app, &engine).await;
    assert!(!app.app.report().tenants[0].up);
    assert_eq!(smtp.messages().len(), 1);
    assert!(all.lock().unwrap().is_empty());

    // Read again: the finding is gone, resolved once by email and webhook.
    app.sim.clear_faults();
    app.clock.advance(Duration::from_secs(3600));
    poll_and_notify(&app, &engine).await;
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 2);
    assert_eq!(
        smtpd::header(&msgs[1], "subject"),
        [format!(
            "[certwatch] RESOLVED prod: tenant '{DOMAIN}' no_next_signing_key (no longer found)"
        )]
    );
    let posted: Vec<serde_json::Value> = all.lock().unwrap().drain(..).collect();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["status"], "resolved");
    assert_eq!(posted[0]["resolution"], "resolved");
    assert_eq!(posted[0]["severity"], "warning");
    assert_eq!(posted[0]["finding"]["kind"], "no_next_signing_key");
    poll_and_notify(&app, &engine).await;
    assert_eq!(smtp.messages().len(), 2, "resolved once");
    assert!(all.lock().unwrap().is_empty());
    assert_eq!(engine.pending(), 0);

    let exposition = metrics.render();
    let sent = |channel: &str, severity: &str| {
        exposition.lines().any(|l| {
            l.starts_with("certwatch_alerts_sent_total{")
                && l.contains(&format!("channel=\"{channel}\""))
                && l.contains(&format!("severity=\"{severity}\""))
                && l.contains("outcome=\"delivered\"")
                && l.ends_with(" 1")
        })
    };
    for channel in ["mail", "all"] {
        assert!(
            sent(channel, "warning") && sent(channel, "resolved"),
            "{exposition}"
        );
    }
    app.stop().await;
}
