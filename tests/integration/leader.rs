//! Leader election (docs/alerts.md, `[ha]`): `daemon::lease::Elector`s against the fake
//! Kubernetes API server (`sim::kube`), and the alert engine of a replica that is not the leader.

use crate::helpers::*;
use certwatch::alert::Engine;
use certwatch::clock::Clock;
use certwatch::daemon::lease::{Elector, Leadership, Settings, Target};
use certwatch::metrics::Metrics;
use certwatch::sim::kube::KubeSim;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const NS: &str = "monitoring";
const LEASE: &str = "certwatch";
const LEASE_DURATION: Duration = Duration::from_secs(2);
const RENEW_EVERY: Duration = Duration::from_millis(250);

fn elector(sim: &KubeSim, identity: &str) -> Elector {
    let target = Target {
        base_url: sim.url(),
        namespace: NS.into(),
        name: LEASE.into(),
        token_file: None,
        ca_file: None,
    };
    let settings = Settings {
        identity: identity.into(),
        lease_duration: LEASE_DURATION,
        renew_every: RENEW_EVERY,
    };
    Elector::new(target, settings).unwrap()
}

#[tokio::test]
async fn of_two_candidates_one_wins_and_keeps_the_lease() {
    let sim = KubeSim::spawn().await.unwrap();
    let (mut a, mut b) = (elector(&sim, "pod-a"), elector(&sim, "pod-b"));
    assert!(a.tick().await, "the first candidate creates the lease");
    assert!(!b.tick().await, "the second finds it held");
    for _ in 0..3 {
        assert!(a.tick().await);
        assert!(!b.tick().await);
    }
    assert!(a.handle().is_leader() && !b.handle().is_leader());
    assert_eq!(sim.holder(NS, LEASE).as_deref(), Some("pod-a"));
    let lease = sim.lease(NS, LEASE).unwrap();
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 2);
    assert_eq!(lease["kind"], "Lease");
    assert!(
        sim.requests()
            .starts_with(&["GET certwatch".into(), "POST certwatch".into()])
    );
    assert_eq!(a.handle().gauge().get(), 1);
    assert_eq!(b.handle().gauge().get(), 0);
}

#[tokio::test]
async fn a_create_race_is_decided_by_the_api_server() {
    let sim = KubeSim::spawn().await.unwrap();
    let (mut a, mut b) = (elector(&sim, "pod-a"), elector(&sim, "pod-b"));
    let (wa, wb) = tokio::join!(a.tick(), b.tick());
    assert!(wa ^ wb, "exactly one wins: {wa} {wb}");
}

#[tokio::test]
async fn a_409_on_renewal_ends_leadership_at_once() {
    let sim = KubeSim::spawn().await.unwrap();
    let mut a = elector(&sim, "pod-a");
    assert!(a.tick().await);
    sim.conflict_next_put();
    assert!(!a.tick().await, "a 409 means someone else wrote the lease");
    assert!(!a.handle().is_leader());
    assert_eq!(a.handle().gauge().get(), 0);
    assert!(sim.requests().contains(&"PUT certwatch 409".to_string()));
    // Nobody else holds it: the next renewal takes it back.
    assert!(a.tick().await);
}

/// Run `a` and `b`, kill (`abort`) or stop `a`, and return how long `b` took to lead. Checks
/// every 10 ms that the two never lead at the same time.
async fn takeover(kill: bool) -> Duration {
    let sim = KubeSim::spawn().await.unwrap();
    let mut a = elector(&sim, "pod-a");
    assert!(a.tick().await);
    let (ha, b) = (a.handle(), elector(&sim, "pod-b"));
    let hb = b.handle();
    let (stop_a, stop_b) = (CancellationToken::new(), CancellationToken::new());
    let task_a = tokio::spawn(a.run(stop_a.clone()));
    tokio::spawn(b.run(stop_b.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(ha.is_leader() && !hb.is_leader());
    let died = Instant::now();
    if kill {
        task_a.abort();
    } else {
        stop_a.cancel();
    }
    loop {
        assert!(!(ha.is_leader() && hb.is_leader()), "two leaders at once");
        if hb.is_leader() {
            break;
        }
        assert!(died.elapsed() < Duration::from_secs(10), "no takeover");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = died.elapsed();
    assert_eq!(sim.holder(NS, LEASE).as_deref(), Some("pod-b"));
    stop_b.cancel();
    took
}

#[tokio::test]
async fn a_replica_takes_over_once_the_dead_holders_lease_expires() {
    let took = takeover(true).await;
    eprintln!(
        "takeover after the holder died: {took:?} (lease_duration {LEASE_DURATION:?}, renew_every {RENEW_EVERY:?})"
    );
    // Not before the lease expired (counted from b's first sight of the last renewal), and
    // within one renewal period after that.
    assert!(took >= LEASE_DURATION - RENEW_EVERY, "{took:?}");
    assert!(took <= LEASE_DURATION + 3 * RENEW_EVERY, "{took:?}");
}

#[tokio::test]
async fn a_holder_that_stops_releases_the_lease_for_an_immediate_takeover() {
    let took = takeover(false).await;
    eprintln!("takeover after the holder stopped gracefully: {took:?}");
    assert!(
        took <= 2 * RENEW_EVERY + Duration::from_millis(200),
        "{took:?}"
    );
}

#[derive(Debug)]
struct Follower;
impl Leadership for Follower {
    fn is_leader(&self) -> bool {
        false
    }
}

/// A finding (no next signing key) to notify, through an engine with one JSON webhook.
async fn engine_with_webhook(app: &TestApp, url: &str, state: &std::path::Path) -> Engine {
    let toml = format!(
        "{}\n[alerts]\n[[alerts.webhook]]\nname = \"hook\"\nurl = \"{url}\"\nformat = \"json\"\n",
        config_toml(&app.sim.url(), SECRET, state)
    );
    let cfg = certwatch::config::from_toml(&toml).unwrap();
    Engine::new(
        cfg.alerts,
        state,
        Arc::new(Metrics::new(false)),
        app.clock.clone(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_replica_that_is_not_the_leader_never_sends() {
    let n = now();
    let tenant = base_tenant().signing_key(
        certwatch::sim::SimSigningKey::from_cert("kid-current", &cert(DOMAIN, 400))
            .current(n - time::Duration::days(10)),
    );
    let app = TestApp::spawn(tenant).await;
    app.app.poll_now().await;
    let follower: Arc<dyn Leadership> = Arc::new(Follower);
    let (url, inbox) = webhook_listener().await;

    let state = tempfile::tempdir().unwrap();
    let engine = engine_with_webhook(&app, &url, state.path())
        .await
        .with_leader_check(Arc::new(move || follower.is_leader()));
    engine
        .notify_findings(&app.app.report(), app.clock.now())
        .await;
    engine
        .retry_pending(app.clock.now() + time::Duration::hours(1))
        .await;
    assert!(inbox.lock().unwrap().is_empty(), "a follower sent");
    assert_eq!(
        engine.pending(),
        0,
        "a follower keeps no backlog to send after a takeover"
    );

    // The same finding through the leader's engine is posted once.
    let state = tempfile::tempdir().unwrap();
    let engine = engine_with_webhook(&app, &url, state.path())
        .await
        .with_leader_check(Arc::new(|| true));
    engine
        .notify_findings(&app.app.report(), app.clock.now())
        .await;
    assert_eq!(inbox.lock().unwrap().len(), 1);
    app.stop().await;
}
