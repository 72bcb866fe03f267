//! The `[[alerts.alertmanager]]` channel against two real clustered Alertmanagers (Debian's
//! `prometheus-alertmanager`) on loopback, whose webhook receiver is an in-test HTTP listener, and
//! several in-process certwatch replicas polling one simulated tenant and posting to both
//! Alertmanagers (docs/alerts.md): one notification per alerting certificate or finding whatever
//! the replica count, one resolution after a renewal, nothing changes when a replica goes away,
//! and with every replica gone nothing resolves before `endsAt`.

use crate::helpers::*;
use certwatch::app::App;
use certwatch::clock::SystemClock;
use certwatch::config;
use certwatch::sim::{Sim, SimConnection, SimTenant, generate_cert};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const BINARY: &str = "prometheus-alertmanager";

/// A running Alertmanager, killed on drop.
struct Am {
    child: Child,
    web: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Am {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// peer_timeout (500ms) well below group_interval (2s), as Alertmanager's HA advice has it: the
/// second Alertmanager then checks the shared notification log after the first one's flush of
/// the same alerts, never after a later one (which would make it repeat a stale state).
fn spawn_am(web: u16, cluster: u16, peer: u16, hook: &str) -> Am {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  resolve_timeout: 5s\nroute:\n  receiver: hook\n  group_by: [alertname, tenant, kind, object_id, cert_id, finding, sha1]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: {hook}\n        send_resolved: true\n"
        ),
    )
    .unwrap();
    let child = Command::new(BINARY)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .arg(format!("--cluster.listen-address=127.0.0.1:{cluster}"))
        .arg(format!("--cluster.advertise-address=127.0.0.1:{cluster}"))
        .arg(format!("--cluster.peer=127.0.0.1:{peer}"))
        .arg("--cluster.peer-timeout=500ms")
        .arg("--cluster.settle-timeout=5s")
        .arg("--cluster.gossip-interval=50ms")
        .arg("--cluster.pushpull-interval=1s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager runs");
    Am {
        child,
        web,
        _dir: dir,
    }
}

/// Two clustered Alertmanagers, ready and seeing each other, sending to `hook`.
async fn cluster(hook: &str) -> (Am, Am) {
    let (w1, w2, c1, c2) = (free_port(), free_port(), free_port(), free_port());
    let a = spawn_am(w1, c1, c2, hook);
    let b = spawn_am(w2, c2, c1, hook);
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let mut peers = 0;
        for am in [&a, &b] {
            let url = format!("http://127.0.0.1:{}/api/v2/status", am.web);
            if let Ok(r) = http.get(url).send().await
                && let Ok(v) = r.json::<Value>().await
            {
                peers += v["cluster"]["peers"].as_array().map_or(0, Vec::len);
            }
        }
        if peers == 4 {
            return (a, b);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the two Alertmanagers never formed a cluster");
}

/// A certwatch replica polling `sim`, posting to both Alertmanagers; polls every `interval`
/// nominally (the test polls by hand) on the system clock.
fn replica(sim: &Sim, ams: &(Am, Am), interval: &str) -> (Arc<App>, tempfile::TempDir) {
    let state = tempfile::tempdir().unwrap();
    let toml = config_toml(&sim.url(), SECRET, state.path())
        .replace("interval = \"1h\"", &format!("interval = \"{interval}\""));
    let toml = format!(
        "{toml}\n[[alerts.alertmanager]]\nname = \"am\"\nurls = [\"http://127.0.0.1:{}\", \"http://127.0.0.1:{}\"]\n",
        ams.0.web, ams.1.web
    );
    let cfg = config::from_toml(&toml).unwrap();
    let app = App::build(cfg, Arc::new(SystemClock))
        .unwrap()
        .with_alerts()
        .unwrap();
    (Arc::new(app), state)
}

fn tenant() -> SimTenant {
    let n = now();
    let warn = generate_cert(
        "warn.example",
        n - time::Duration::days(300),
        n + time::Duration::days(20),
    );
    let crit = generate_cert(
        "crit.example",
        n - time::Duration::days(300),
        n + time::Duration::days(3),
    );
    let fine = generate_cert(
        "fine.example",
        n - time::Duration::days(30),
        n + time::Duration::days(300),
    );
    base_tenant()
        .connection(SimConnection::samlp("con_warn", "warn-idp", &warn.pem))
        .connection(SimConnection::samlp("con_crit", "crit-idp", &crit.pem))
        .connection(SimConnection::samlp("con_fine", "fine-idp", &fine.pem))
}

/// Notifications per alert group key (`firing` and `resolved` counted apart). Each group is one
/// alert: the route groups by the identity labels.
fn tally(inbox: &Inbox) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for n in inbox.lock().unwrap().iter() {
        let key = n["groupKey"].as_str().unwrap_or("").to_string();
        let status = n["status"].as_str().unwrap_or("").to_string();
        *out.entry((key, status)).or_insert(0) += 1;
    }
    out
}

fn firing_for(t: &BTreeMap<(String, String), usize>, object_id: &str, status: &str) -> usize {
    t.iter()
        .filter(|((k, s), _)| s == status && k.contains(&format!("object_id=\"{object_id}\"")))
        .map(|(_, n)| n)
        .sum()
}

async fn poll_all(apps: &[&Arc<App>]) {
    for a in apps {
        a.poll_now().await;
    }
}

/// `certwatch_alerts_sent_total{outcome="delivered"}` of one replica.
fn delivered(app: &App) -> u64 {
    app.metrics()
        .render()
        .lines()
        .filter(|l| {
            l.starts_with("certwatch_alerts_sent_total{") && l.contains("outcome=\"delivered\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
#[ignore = "needs prometheus-alertmanager"]
async fn two_replicas_two_alertmanagers_one_notification_one_resolution() {
    let (hook, inbox) = webhook_listener().await;
    let ams = cluster(&hook).await;
    let sim = Sim::spawn(tenant()).await.unwrap();
    // endsAt = now + 4 × 5s: every phase below re-polls well within 20 s.
    let (a, _sa) = replica(&sim, &ams, "5s");
    let (b, _sb) = replica(&sim, &ams, "5s");
    poll_all(&[&a, &b]).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    poll_all(&[&a, &b]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t = tally(&inbox);
    assert_eq!(firing_for(&t, "con_warn", "firing"), 1, "{t:?}");
    assert_eq!(firing_for(&t, "con_crit", "firing"), 1, "{t:?}");
    assert_eq!(firing_for(&t, "con_fine", "firing"), 0, "{t:?}");
    assert!(
        t.values().all(|n| *n == 1),
        "one notification per alert: {t:?}"
    );

    // Renewal: both replicas poll again, one resolution.
    let renewed = generate_cert("crit.example", now(), now() + time::Duration::days(800));
    sim.update(|t| {
        let conn = t.connection_mut("con_crit").unwrap();
        conn.options
            .insert("signingCert".into(), Value::String(renewed.pem.clone()));
        conn.options.remove("cert");
        conn.recompute();
    });
    poll_all(&[&a, &b]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let t = tally(&inbox);
    assert_eq!(firing_for(&t, "con_crit", "resolved"), 1, "{t:?}");
    assert_eq!(firing_for(&t, "con_crit", "firing"), 1, "{t:?}");

    // One replica gone: nothing changes.
    drop(a);
    poll_all(&[&b]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    poll_all(&[&b]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(tally(&inbox), t, "losing a replica changes nothing");

    // Every replica gone: nothing resolves before endsAt (last poll + 20 s), then it does.
    drop(b);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(tally(&inbox), t, "nothing resolves before endsAt");
    tokio::time::sleep(Duration::from_secs(15)).await;
    let after = tally(&inbox);
    assert_eq!(firing_for(&after, "con_warn", "resolved"), 1, "{after:?}");
}

#[tokio::test]
#[ignore = "needs prometheus-alertmanager"]
async fn notifications_per_alert_with_one_two_and_three_replicas() {
    for replicas in 1..=3 {
        let (hook, inbox) = webhook_listener().await;
        let ams = cluster(&hook).await;
        let sim = Sim::spawn(tenant()).await.unwrap();
        let apps: Vec<_> = (0..replicas).map(|_| replica(&sim, &ams, "1h")).collect();
        let refs: Vec<&Arc<App>> = apps.iter().map(|(a, _)| a).collect();
        poll_all(&refs).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        poll_all(&refs).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let t = tally(&inbox);
        let alerts = t.len();
        let notifications: usize = t.values().sum();
        let polls = 2 * replicas;
        let posted: u64 = apps.iter().map(|(a, _)| delivered(a)).sum();
        println!(
            "replicas={replicas} alerts={alerts} notifications={notifications} \
             notifications_per_alert={:.2} alerts_delivered_per_poll={:.1} posts_per_poll=2",
            notifications as f64 / alerts as f64,
            posted as f64 / polls as f64,
        );
        assert!(alerts >= 2, "{t:?}");
        assert_eq!(notifications, alerts, "replicas={replicas}: {t:?}");
    }
}
