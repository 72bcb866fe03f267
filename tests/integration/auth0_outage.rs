//! Auth0 unreachable for hours: each poll makes a bounded number of spaced attempts, `/readyz`
//! tells the truth, `/metrics` and the API keep serving the last good inventory, and the next
//! poll recovers without a restart.

use crate::daemon::*;
use crate::helpers::*;
use crate::loopback::closed_port;
use certwatch::inventory::Reason;
use certwatch::sim::Sim;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn auth0_unreachable_for_hours_is_bounded_honest_and_recovers_by_itself() {
    let closed = closed_port();
    let down_url = format!("http://127.0.0.1:{closed}/");
    let app = TestApp::spawn_toml(full_tenant().tenant, |t| with_base_url(&t, &down_url)).await;
    let transport_attempts = async || {
        metric_sum(
            &app.get("/metrics").await.1,
            "certwatch_api_requests_total",
            &["code=\"transport\""],
        )
    };

    // Each poll makes a bounded number of attempts, with backoff between them, and gives up.
    let mut per_poll = Vec::new();
    for _ in 0..3 {
        let before = transport_attempts().await;
        let started = std::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(30), app.app.poll_now())
            .await
            .expect("a poll against an unreachable Auth0 ends");
        let took = started.elapsed();
        let attempts = transport_attempts().await - before;
        per_poll.push(attempts);
        let limit = f64::from(certwatch::auth0::client::MAX_TRANSIENT_RETRIES + 1);
        assert!(
            (1.0..=limit).contains(&attempts),
            "{attempts} connection attempts in one poll (at most {limit})"
        );
        // The retries are spaced out (exponential backoff), not a hot loop.
        assert!(took >= Duration::from_millis(500), "{took:?}");
        // Hours pass between polls.
        app.clock.advance(Duration::from_secs(3 * 3600));
    }
    assert!(per_poll.windows(2).all(|w| w[0] == w[1]), "{per_poll:?}");
    // Nothing retries in the background between polls.
    let idle = transport_attempts().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(transport_attempts().await, idle, "attempts outside polls");

    let t = app.app.snapshot().tenants[0].clone();
    assert!(!t.up);
    assert!(
        t.errors.iter().all(|e| e.reason == Reason::Transport)
            && t.errors
                .iter()
                .any(|e| e.message.contains("Connection refused")),
        "{:?}",
        t.errors
    );
    let (code, body) = app.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(
        body.contains("tenant prod: no successful poll yet"),
        "{body}"
    );
    let (code, metrics) = app.get("/metrics").await;
    assert_eq!(code, 200, "/metrics keeps serving");
    assert!(metrics.contains("certwatch_tenant_up{tenant=\"prod\"} 0"));
    let (code, api) = app.get("/api/v1/certificates").await;
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&api).unwrap();
    assert_eq!(
        doc["tenants"][0]["errors"][0]["reason"], "transport",
        "{doc}"
    );

    // Auth0 comes back on the same address: the next poll succeeds, no restart needed.
    let back = Sim::spawn_on(full_tenant().tenant, ([127, 0, 0, 1], closed).into())
        .await
        .unwrap();
    app.app.poll_now().await;
    assert!(
        app.app.snapshot().tenants[0].up,
        "{:?}",
        app.app.snapshot().tenants[0].errors
    );
    assert_eq!(app.get("/readyz").await.0, 200);
    let good = app.get("/metrics").await.1;
    let series = metric_sum(
        &good,
        "certwatch_certificate_not_after_timestamp_seconds",
        &[],
    );
    assert!(series > 0.0);

    // Down again for hours: not ready (stale), the last good certificates stay visible.
    back.shutdown().await;
    app.clock.advance(Duration::from_secs(3 * 3600));
    app.app.poll_now().await;
    let (code, body) = app.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(body.contains("older than"), "{body}");
    let stale = app.get("/metrics").await.1;
    assert!(stale.contains("certwatch_tenant_up{tenant=\"prod\"} 0"));
    assert_eq!(
        metric_sum(
            &stale,
            "certwatch_certificate_not_after_timestamp_seconds",
            &[]
        ),
        series,
        "the last good inventory stays exported while Auth0 is unreachable"
    );
    let again = Sim::spawn_on(full_tenant().tenant, ([127, 0, 0, 1], closed).into())
        .await
        .unwrap();
    app.app.poll_now().await;
    assert_eq!(app.get("/readyz").await.0, 200);
    app.stop().await;
    again.shutdown().await;
}
