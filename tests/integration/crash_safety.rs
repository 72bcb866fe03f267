//! `kill -9` at arbitrary points: the alert ledger and the rotation audit log stay usable, no
//! notification storm follows, and a clean restart re-sends nothing.

use crate::daemon::*;
use crate::helpers::*;
use crate::loopback::*;
use certwatch::sim::{Sim, SimConnection};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

fn ledger_ok(state: &Path) -> Result<(), String> {
    match certwatch::alert::ledger::Ledger::load(&state.join("alerts.json")) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Complete lines of the audit log all parse; returns (complete lines, torn tail bytes).
fn audit_ok(path: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (complete, tail) = match text.rfind('\n') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", &text[..]),
    };
    for line in complete.lines() {
        serde_json::from_str::<certwatch::rotate::audit::Record>(line)
            .unwrap_or_else(|e| panic!("audit line does not parse ({e}): {line}"));
    }
    (complete.lines().count(), tail.len())
}

#[tokio::test]
async fn kill_9_at_any_point_leaves_usable_state_and_causes_no_alert_storm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store = dir.path().join("store");
    std::fs::create_dir_all(store.join("idp")).unwrap();
    let mut tenant = base_tenant();
    let ids = ["con_a", "con_b", "con_c"];
    for (i, id) in ids.iter().enumerate() {
        let c = cert(&format!("idp-{i}.example"), 3 + i as i64);
        tenant = tenant.connection(SimConnection::samlp(id, &format!("idp-{i}"), &c.pem));
    }
    let sim = Sim::spawn(tenant).await.unwrap();
    // A slow webhook: kills land before, during and after deliveries.
    let (hook_port, inbox) = webhook_receiver(200, Duration::from_millis(150)).await;
    let port = closed_port();
    let toml = format!(
        r#"state_dir = {state}
[server]
listen = "127.0.0.1:{port}"
[schedule]
interval = "1s"
run_on_start = true
[[tenants]]
name = "prod"
domain = "{DOMAIN}"
base_url = "{url}"
client_id = "{CLIENT_ID}"
client_secret = "{SECRET}"
[[alerts.webhook]]
name = "slow-hook"
url = "http://127.0.0.1:{hook_port}/hook"
format = "json"
[rotation]
enabled = true
[rotation.store]
kind = "filesystem"
path = {store}
[[rotation.targets]]
tenant = "prod"
kind = "connection_signing_cert"
source = "idp"
"#,
        state = toml_str(&state.display().to_string()),
        url = sim.url(),
        store = toml_str(&store.display().to_string()),
    );
    let cfg = dir.path().join("certwatch.toml");
    std::fs::write(&cfg, toml).unwrap();
    let audit = state.join("rotation-audit.jsonl");

    // Fixed kill points (ms after start): before the first poll, mid-poll, mid-delivery, later.
    let kill_after = [40u64, 250, 420, 700, 1100, 1650, 2400];
    let mut all_logs = String::new();
    let mut audit_lines = 0;
    for (i, ms) in kill_after.iter().enumerate() {
        let d = Daemon::spawn(&cfg, dir.path(), &format!("kill{i}"), &[], &[]);
        tokio::time::sleep(Duration::from_millis(*ms)).await;
        all_logs.push_str(&d.kill9().await);
        ledger_ok(&state).unwrap_or_else(|e| panic!("after kill {i} at {ms} ms: {e}"));
        let (lines, torn) = audit_ok(&audit);
        assert_eq!(torn, 0, "a torn audit line after kill {i}");
        assert!(lines >= audit_lines, "the audit log never shrinks");
        audit_lines = lines;
    }
    assert!(
        state.join("alerts.json").exists(),
        "the ledger was written before some kill"
    );
    assert!(
        audit_lines > 0,
        "the audit log was written before some kill"
    );

    let firing = |inbox: &Mutex<Vec<Value>>| {
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for v in inbox.lock().unwrap().iter() {
            let alerts = v
                .get("alerts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_else(|| vec![v.clone()]);
            for a in alerts {
                if a["status"] == "firing"
                    && let Some(id) = a["certificate"]["object_id"].as_str()
                {
                    *per.entry(id.to_string()).or_default() += 1;
                }
            }
        }
        per
    };

    // A clean run delivers whatever is still owed, then settles.
    let d = Daemon::spawn(&cfg, dir.path(), "settle", &[], &[]);
    wait_for(
        "every certificate notified and nothing pending",
        30,
        async || {
            let ledger = std::fs::read_to_string(state.join("alerts.json")).unwrap_or_default();
            firing(&inbox).len() == ids.len() && ledger.contains("\"pending\": []")
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    all_logs.push_str(&d.stop().await);
    let per_cert = firing(&inbox);
    let settled = inbox.lock().unwrap().len();
    for id in ids {
        let n = per_cert.get(id).copied().unwrap_or(0);
        assert!(
            (1..=kill_after.len() + 1).contains(&n),
            "{id} notified {n} times: at least once, and at most once per crash + 1"
        );
    }

    // A restart after a clean stop sends nothing again.
    let d = Daemon::spawn(&cfg, dir.path(), "restart", &[], &[]);
    let client = reqwest::Client::new();
    wait_for("ready after restart", 20, async || {
        get(&client, &format!("http://127.0.0.1:{port}/readyz"), None)
            .await
            .0
            == 200
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    all_logs.push_str(&d.stop().await);
    assert_eq!(
        inbox.lock().unwrap().len(),
        settled,
        "a restart re-sent notifications: {:?}",
        &inbox.lock().unwrap()[settled..]
    );

    assert!(!all_logs.contains("alert ledger unusable"), "{all_logs}");
    assert!(!all_logs.contains("panicked"), "{all_logs}");
    let corrupt: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("corrupt"))
        .collect();
    assert!(corrupt.is_empty(), "ledger moved aside: {corrupt:?}");
    ledger_ok(&state).unwrap();
    let (lines, torn) = audit_ok(&audit);
    assert!(lines > audit_lines && torn == 0);
    sim.shutdown().await;
}
