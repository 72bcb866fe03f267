//! A misbehaving Auth0 never stalls the daemon: a tenant whose listing hangs is stopped at its
//! poll timeout while the healthy tenants next to it are polled and published as usual; paging
//! that would never end (a cursor cycle, a cursor naming itself, a total never reached) costs a
//! few requests and a `decode` error naming the endpoint; objects listed twice are kept once and
//! counted; no token response, however odd its `expires_in`, panics or costs a token per call.

use crate::helpers::*;
use certwatch::app::App;
use certwatch::clock::ManualClock;
use certwatch::config;
use certwatch::inventory::{Reason, Source};
use certwatch::sim::{Fault, FaultKind, PagingFault, Sim, SimClient, SimConnection, SimTenant};
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

/// A tenant with `n` thumbprint-only ADFS connections (one record each, no certificate to make)
/// and `n` applications.
fn wide_tenant(n: usize) -> SimTenant {
    let mut t = base_tenant();
    for i in 0..n {
        let thumb = format!("{i:040x}");
        t.add_connection(SimConnection::adfs(
            &format!("con_{i:05}"),
            &format!("adfs-{i}"),
            &[&thumb],
        ));
        t.add_client(SimClient::new(
            &format!("client{i:026}"),
            &format!("app-{i}"),
        ));
    }
    t
}

/// One poll of a single-tenant app against `sim`, bounded by a generous test timeout.
async fn poll_once(sim: &Sim) -> (Arc<App>, certwatch::inventory::TenantSnapshot) {
    let state = tempfile::tempdir().unwrap();
    let cfg = config::from_toml(&config_toml(&sim.url(), SECRET, state.path())).unwrap();
    let app = Arc::new(App::build(cfg, Arc::new(ManualClock::new(now()))).unwrap());
    let snap = tokio::time::timeout(Duration::from_secs(60), app.poll_now())
        .await
        .expect("a misbehaving listing never makes a poll endless");
    (app, snap.tenants[0].clone())
}

fn calls(sim: &Sim, route: &str) -> usize {
    sim.requests().iter().filter(|r| r.route == route).count()
}

/// The tenant's one error of `source`: `decode`, naming the endpoint.
fn listing_error(
    t: &certwatch::inventory::TenantSnapshot,
    source: Source,
    endpoint: &str,
) -> String {
    let found: Vec<(Reason, &str)> = t
        .errors
        .iter()
        .filter(|e| e.source == source)
        .map(|e| (e.reason, e.message.as_str()))
        .collect();
    match found.as_slice() {
        [(Reason::Decode, msg)] if msg.contains(endpoint) => msg.to_string(),
        other => panic!("expected one decode error naming {endpoint}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cyclic_connection_cursor_costs_three_requests() {
    let sim = Sim::spawn(wide_tenant(250)).await.unwrap();
    sim.add_fault(Fault::new(
        "/api/v2/connections",
        FaultKind::Paging(PagingFault::CyclicCursor),
    ));
    let (_app, t) = poll_once(&sim).await;
    let msg = listing_error(&t, Source::Connections, "/api/v2/connections");
    assert!(msg.contains("already followed"), "{msg}");
    assert_eq!(calls(&sim, "/api/v2/connections"), 3);
    let connections = t.records.iter().filter(|r| r.source == Source::Connections);
    assert_eq!(connections.count(), 250, "the three pages read, each once");
    assert!(t.errors.iter().all(|e| e.source != Source::Clients));
}

#[tokio::test]
async fn a_cursor_naming_itself_is_reported_not_a_silent_end() {
    let sim = Sim::spawn(wide_tenant(250)).await.unwrap();
    sim.add_fault(Fault::new(
        "/api/v2/connections",
        FaultKind::Paging(PagingFault::StuckCursor),
    ));
    let (_app, t) = poll_once(&sim).await;
    listing_error(&t, Source::Connections, "/api/v2/connections");
    assert_eq!(calls(&sim, "/api/v2/connections"), 2);
    let connections = t.records.iter().filter(|r| r.source == Source::Connections);
    assert_eq!(
        connections.count(),
        200,
        "the two pages read; the rest was never named"
    );
    let mut ids: Vec<&str> = t.records.iter().map(|r| r.cert_id.as_str()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "no duplicated records");
}

#[tokio::test]
async fn a_total_never_reached_is_bounded() {
    // Full pages of the first 100 applications whatever the page, claiming a billion.
    let sim = Sim::spawn(wide_tenant(150)).await.unwrap();
    sim.add_fault(Fault::new(
        "/api/v2/clients",
        FaultKind::Paging(PagingFault::ClaimedTotal(1_000_000_000)),
    ));
    let (_app, t) = poll_once(&sim).await;
    let msg = listing_error(&t, Source::Clients, "/api/v2/clients");
    assert!(msg.contains("max_items_per_listing"), "{msg}");
    assert_eq!(calls(&sim, "/api/v2/clients"), 1);
    // Claiming a total under the cap: the second page repeats the first.
    sim.clear_faults();
    sim.clear_requests();
    sim.add_fault(Fault::new(
        "/api/v2/clients",
        FaultKind::Paging(PagingFault::ClaimedTotal(50_000)),
    ));
    let (_app, t) = poll_once(&sim).await;
    let msg = listing_error(&t, Source::Clients, "/api/v2/clients");
    assert!(msg.contains("repeats"), "{msg}");
    assert_eq!(calls(&sim, "/api/v2/clients"), 2);
}

#[tokio::test]
async fn objects_listed_twice_are_kept_once_and_counted() {
    let sim = Sim::spawn(wide_tenant(250)).await.unwrap();
    sim.add_fault(Fault::new(
        "/api/v2/connections",
        FaultKind::Paging(PagingFault::RepeatedObjects(3)),
    ));
    let (app, t) = poll_once(&sim).await;
    assert!(t.up, "copies are not an error: {:?}", t.errors);
    let connections = t.records.iter().filter(|r| r.source == Source::Connections);
    assert_eq!(connections.count(), 250, "each once");
    let text = app.metrics().render();
    assert!(
        text.contains(
            "certwatch_duplicate_objects_total{endpoint=\"/api/v2/connections\",tenant=\"prod\"} 6"
        ),
        "two later pages, three copies each:\n{text}"
    );
}

#[tokio::test]
async fn hostile_token_lifetimes_neither_panic_nor_cost_a_token_per_request() {
    for expires_in in [
        "18446744073709551615",
        "1e400",
        "0",
        "-86400",
        "0.25",
        "\"86400\"",
        "\"soon\"",
        "null",
        "{}",
        "",
    ] {
        let sim = Sim::spawn(full_tenant().tenant).await.unwrap();
        sim.add_fault(Fault::new(
            "/oauth/token",
            FaultKind::TokenExpiresIn(expires_in.into()),
        ));
        let (app, t) = poll_once(&sim).await;
        assert!(t.up, "{expires_in}: {:?}", t.errors);
        let again = app.poll_now().await;
        assert!(again.tenants[0].up, "{expires_in}");
        assert_eq!(
            calls(&sim, "/oauth/token"),
            1,
            "{expires_in}: one token for two polls"
        );
    }
}
