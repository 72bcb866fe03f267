//! A misbehaving Auth0 never stalls the daemon: a tenant whose listing hangs is stopped at its
//! poll timeout while the healthy tenants next to it are polled and published as usual.

use crate::helpers::*;
use certwatch::app::App;
use certwatch::clock::ManualClock;
use certwatch::config;
use certwatch::inventory::{Reason, Source};
use certwatch::sim::{Fault, FaultKind, Sim};
use std::sync::Arc;
use std::time::Duration;

/// An app polling every 2 s (poll timeout 1.8 s) over a healthy tenant `prod` and a tenant
/// `stuck` whose connection listing never answers.
async fn healthy_and_stuck() -> (Arc<App>, Sim, Sim, tempfile::TempDir) {
    let healthy = Sim::spawn(full_tenant().tenant).await.unwrap();
    let stuck = Sim::spawn(full_tenant().tenant).await.unwrap();
    stuck.add_fault(Fault::new("/api/v2/connections", FaultKind::Hang));
    let state = tempfile::tempdir().unwrap();
    let first = config_toml(&healthy.url(), SECRET, state.path()).replace("\"1h\"", "\"2s\"");
    let second = format!(
        "[[tenants]]\nname = \"stuck\"\ndomain = \"{DOMAIN}\"\nbase_url = \"{}\"\n\
         client_id = \"{CLIENT_ID}\"\nclient_secret = \"{SECRET}\"\ntimeout = \"5s\"\n",
        stuck.url()
    );
    let cfg = config::from_toml(&format!("{first}\n{second}")).unwrap();
    let app = App::build(cfg, Arc::new(ManualClock::new(now()))).unwrap();
    (Arc::new(app), healthy, stuck, state)
}

#[tokio::test]
async fn a_stuck_tenant_never_stalls_a_healthy_one() {
    let (app, _healthy, _stuck, _state) = healthy_and_stuck().await;
    let started = std::time::Instant::now();
    let polling = tokio::spawn({
        let app = app.clone();
        async move { app.poll_now().await }
    });
    // The healthy tenant is published as soon as it is done, long before the stuck one's deadline.
    let published = async {
        loop {
            let snap = app.snapshot();
            if snap.tenants[0].last_poll.is_some() {
                return snap;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let snap = tokio::time::timeout(Duration::from_millis(1_500), published)
        .await
        .expect("the healthy tenant is published on its own");
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    assert!(
        snap.tenants[1].last_poll.is_none(),
        "the stuck one is still running"
    );

    let snap = tokio::time::timeout(Duration::from_secs(10), polling)
        .await
        .expect("the cycle ends at the stuck tenant's poll timeout")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let stuck = &snap.tenants[1];
    assert!(!stuck.up);
    let errors: Vec<(Source, Reason)> = stuck.errors.iter().map(|e| (e.source, e.reason)).collect();
    assert_eq!(
        errors,
        [Source::Connections, Source::ConnectionKeys].map(|s| (s, Reason::Timeout))
    );
    assert!(
        stuck
            .records
            .iter()
            .any(|r| r.source == Source::SigningKeys),
        "what the stuck tenant's other sources found is kept"
    );

    // The next cycle polls both again: one stuck tenant never holds the schedule.
    let snap = tokio::time::timeout(Duration::from_secs(10), app.poll_now())
        .await
        .expect("the second cycle ends too");
    assert!(snap.tenants[0].up);
    assert!(!snap.tenants[1].up);
    let text = app.metrics().render();
    assert!(
        text.contains("certwatch_tenant_up{tenant=\"prod\"} 1"),
        "{text}"
    );
    assert!(text.contains("certwatch_tenant_up{tenant=\"stuck\"} 0"));
}
