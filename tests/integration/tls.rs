//! TLS: the HTTP server over HTTPS (plain HTTP and untrusted clients refused, a renewed
//! certificate picked up on SIGHUP), and Auth0's certificate always verified before anything is
//! sent.

use crate::daemon::*;
use crate::helpers::*;
use crate::loopback::*;
use certwatch::inventory::Reason;
use certwatch::sim::Sim;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn https_serves_metrics_and_plain_http_to_the_tls_port_fails() {
    let dir = tempfile::tempdir().unwrap();
    let files = tls_files(dir.path(), "server");
    let app = TestApp::spawn_with(
        full_tenant().tenant,
        &format!(
            "cert_file = {}\nkey_file = {}\nbearer_token = \"tls-scrape-token\"",
            toml_str(&files.cert.display().to_string()),
            toml_str(&files.key.display().to_string())
        ),
    )
    .await;
    app.app.poll_now().await;
    let client = https_client(&files.cert_pem);
    let base = format!("https://{}", app.addr);
    let (code, metrics) = get(
        &client,
        &format!("{base}/metrics"),
        Some("tls-scrape-token"),
    )
    .await;
    assert_eq!(code, 200);
    assert!(metrics.contains("certwatch_tenant_up{tenant=\"prod\"} 1"));
    assert_eq!(get(&client, &format!("{base}/metrics"), None).await.0, 401);
    assert_eq!(get(&client, &format!("{base}/readyz"), None).await.0, 200);

    // Plain HTTP to the TLS port: no response.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await;
    assert!(
        r.is_err(),
        "plain HTTP answered: {:?}",
        r.map(|r| r.status())
    );
    // A client that does not trust the certificate refuses it.
    let other = tls_files(dir.path(), "other");
    let r = https_client(&other.cert_pem)
        .get(format!("{base}/healthz"))
        .send()
        .await;
    assert!(r.is_err(), "an unknown certificate was accepted");
    // A client that connects and never starts a handshake does not block the others.
    let _idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    assert_eq!(get(&client, &format!("{base}/healthz"), None).await.0, 200);
    app.stop().await;
}

/// Auth0's certificate is always verified: a tenant served with a certificate nobody trusts fails
/// at the handshake, before any request (and so before the client secret) is sent.
#[tokio::test]
async fn auth0_tls_certificates_are_always_verified() {
    let dir = tempfile::tempdir().unwrap();
    let files = tls_files(dir.path(), "fake-auth0");
    let reached = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reached.clone();
    let router = axum::Router::new().fallback(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { "{}" }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = certwatch::tls::TlsListener::new(
        listener,
        certwatch::tls::server_config(&files.cert, &files.key).unwrap(),
    )
    .unwrap();
    tokio::spawn(async move { axum::serve(tls, router).await.unwrap() });
    // The fake answers over TLS (checked with a client that trusts it).
    assert_eq!(
        get(
            &https_client(&files.cert_pem),
            &format!("https://{addr}/x"),
            None
        )
        .await
        .0,
        200
    );
    reached.store(0, std::sync::atomic::Ordering::SeqCst);

    let app = TestApp::spawn_toml(base_tenant(), |t| {
        with_base_url(&t, &format!("https://{addr}/"))
    })
    .await;
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    assert!(!t.up);
    let e = &t.errors[0];
    assert_eq!(e.reason, Reason::Transport, "{}", e.message);
    assert!(
        e.message.to_lowercase().contains("certificate"),
        "{}",
        e.message
    );
    assert_eq!(
        reached.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a request got through an untrusted TLS connection"
    );
    app.stop().await;
}

/// SIGHUP re-reads the server certificate: a renewed certificate is served without a restart.
#[tokio::test]
async fn sighup_picks_up_a_renewed_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::spawn(base_tenant()).await.unwrap();
    let old = tls_files(dir.path(), "old");
    let port = closed_port();
    let cfg = dir.path().join("certwatch.toml");
    let cert_path = dir.path().join("tls.crt");
    let key_path = dir.path().join("tls.key");
    std::fs::copy(&old.cert, &cert_path).unwrap();
    std::fs::copy(&old.key, &key_path).unwrap();
    let toml = config_toml(&sim.url(), SECRET, dir.path()).replace(
        "listen = \"127.0.0.1:0\"",
        &format!(
            "listen = \"127.0.0.1:{port}\"\ncert_file = {}\nkey_file = {}",
            toml_str(&cert_path.display().to_string()),
            toml_str(&key_path.display().to_string())
        ),
    );
    std::fs::write(&cfg, toml).unwrap();
    let daemon = Daemon::spawn(&cfg, dir.path(), "tls", &[], &[]);
    let url = format!("https://127.0.0.1:{port}/healthz");
    let (old_client, new_files) = (https_client(&old.cert_pem), tls_files(dir.path(), "new"));
    let new_client = https_client(&new_files.cert_pem);
    wait_for("HTTPS with the old certificate", 20, async || {
        get(&old_client, &url, None).await.0 == 200
    })
    .await;
    assert_eq!(get(&new_client, &url, None).await.0, 0);

    std::fs::copy(&new_files.cert, &cert_path).unwrap();
    std::fs::copy(&new_files.key, &key_path).unwrap();
    daemon.signal("-HUP");
    wait_for("HTTPS with the renewed certificate", 20, async || {
        get(&new_client, &url, None).await.0 == 200
    })
    .await;
    assert_eq!(get(&old_client, &url, None).await.0, 0);
    let logs = daemon.stop().await;
    assert!(logs.contains("configuration reloaded"), "{logs}");
    sim.shutdown().await;
}
