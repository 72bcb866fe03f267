//! The HTTP surface against a real poll: promtool-valid metrics, the JSON document, readiness and
//! an escaped status page.

use crate::helpers::*;
use certwatch::sim::SimConnection;

/// `promtool` must be installed (scripts/test.sh installs Debian's prometheus package).
pub(crate) fn promtool_check(metrics: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.txt");
    std::fs::write(&path, metrics).unwrap();
    let out = std::process::Command::new("promtool")
        .arg("check")
        .arg("metrics")
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .expect(
            "promtool not found: run scripts/test.sh, which installs Debian's prometheus package",
        );
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "needs promtool (Debian package prometheus; scripts/test.sh installs it)"]
async fn metrics_pass_promtool_and_carry_every_family() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.app.poll_now().await;
    let (code, metrics) = app.get("/metrics").await;
    assert_eq!(code, 200);
    for family in [
        "certwatch_certificate_not_after_timestamp_seconds",
        "certwatch_certificate_not_before_timestamp_seconds",
        "certwatch_certificate_info",
        "certwatch_tenant_up",
        "certwatch_poll_last_success_timestamp_seconds",
        "certwatch_poll_duration_seconds",
        "certwatch_api_requests_total",
        "certwatch_build_info",
        "process_resident_memory_bytes",
    ] {
        assert!(
            metrics.contains(&format!("# TYPE {family} ")),
            "missing {family}"
        );
    }
    assert!(metrics.contains("role=\"previous\""));
    assert!(metrics.contains("status=\"never_expires\""));
    assert!(metrics.contains("status=\"critical\""));
    assert!(metrics.contains("certwatch_finding{finding=\"credential_limit_reached\",kind=\"client_credential\",object_id=\"cl_billing\""));
    promtool_check(&metrics);
    app.stop().await;
}

#[tokio::test]
async fn api_document_is_the_spec_shape_sorted_by_expiry() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    app.app.poll_now().await;
    let (code, body) = app.get("/api/v1/certificates").await;
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(doc["generated_at"].as_str().unwrap().ends_with('Z'));
    let t = &doc["tenants"][0];
    assert_eq!(t["name"], "prod");
    assert_eq!(t["domain"], DOMAIN);
    assert_eq!(t["up"], true);
    assert!(t["last_success"].is_string());
    assert_eq!(t["errors"], serde_json::json!([]));
    let certs = doc["certificates"].as_array().unwrap();
    let keys = [
        "tenant",
        "kind",
        "role",
        "object_id",
        "object_name",
        "cert_id",
        "subject",
        "issuer",
        "serial",
        "sha1",
        "sha256",
        "not_before",
        "not_after",
        "expires_in_seconds",
        "status",
        "error",
        "owner",
        "key_use",
    ];
    for c in certs {
        let obj = c.as_object().unwrap();
        let mut got: Vec<_> = obj.keys().map(String::as_str).collect();
        got.sort();
        let mut want = keys.to_vec();
        want.sort();
        assert_eq!(got, want);
    }
    // Sorted by not_after ascending, nulls last.
    let afters: Vec<Option<&str>> = certs.iter().map(|c| c["not_after"].as_str()).collect();
    let first_null = afters
        .iter()
        .position(Option::is_none)
        .unwrap_or(afters.len());
    assert!(
        afters[first_null..].iter().all(Option::is_none),
        "nulls last"
    );
    let dated: Vec<&str> = afters[..first_null].iter().map(|a| a.unwrap()).collect();
    let mut sorted = dated.clone();
    sorted.sort();
    assert_eq!(dated, sorted);
    let findings: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap(),
                f["object_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        findings.contains(&("credential_limit_reached", "billing-api")),
        "{findings:?}"
    );
    assert!(
        findings.contains(&("unused_credential", "billing-api")),
        "{findings:?}"
    );
    assert!(
        findings.contains(&("credential_without_expiry", "mtls-gateway")),
        "{findings:?}"
    );
    assert!(
        !findings.iter().any(|(k, _)| k.contains("signing_key")),
        "current and next are healthy"
    );
    let revoked = certs
        .iter()
        .find(|c| c["cert_id"] == "kid-revoked")
        .unwrap();
    assert_eq!(revoked["status"], "expired");
    assert!(revoked["expires_in_seconds"].as_i64().unwrap() < 0);
    let saml = certs
        .iter()
        .find(|c| c["object_name"] == "acme-saml")
        .unwrap();
    assert_eq!(saml["status"], "warning");
    assert_eq!(saml["sha1"], f.saml.sha1_hex);
    assert_eq!(saml["sha256"], f.saml.sha256_hex);
    assert!(
        saml["subject"]
            .as_str()
            .unwrap()
            .contains("idp.acme.example")
    );
    app.stop().await;
}

#[tokio::test]
async fn readiness_tells_the_truth() {
    let f = full_tenant();
    let app = TestApp::spawn(f.tenant).await;
    assert_eq!(app.get("/healthz").await.0, 200);
    let (code, body) = app.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(body.contains("not polled yet"), "{body}");
    app.app.poll_now().await;
    assert_eq!(app.get("/readyz").await.0, 200);
    // Two intervals (1h each in the test config) later without a new success: not ready.
    app.clock
        .advance(std::time::Duration::from_secs(2 * 3600 + 1));
    let (code, body) = app.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(body.contains("older than"), "{body}");
    // And says why, when the polls since then failed.
    app.sim.add_fault(certwatch::sim::Fault::new(
        "/api/v2/connections",
        certwatch::sim::FaultKind::Status(500),
    ));
    app.app.poll_now().await;
    app.clock
        .advance(std::time::Duration::from_secs(2 * 3600 + 1));
    let (code, body) = app.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(
        body.contains("older than")
            && body.contains("the last poll failed: connections server_error"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
#[ignore = "needs promtool (Debian package prometheus; scripts/test.sh installs it)"]
async fn hostile_names_are_escaped_on_the_status_page_and_in_metrics() {
    let c = cert("<script>alert(1)</script>", 10);
    let hostile = "evil</script><script>alert(\"x\")</script>\nline2 é";
    let tenant = base_tenant().connection(SimConnection::samlp("con_evil", hostile, &c.pem));
    let app = TestApp::spawn(tenant).await;
    app.app.poll_now().await;
    let (code, page) = app.get("/").await;
    assert_eq!(code, 200);
    assert!(
        !page.contains("<script>"),
        "raw script tag on the status page"
    );
    assert!(page.contains("evil&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)"));
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics
            .contains("object_name=\"evil</script><script>alert(\\\"x\\\")</script>\\nline2 é\"")
    );
    promtool_check(&metrics);
    let (_, api) = app.get("/api/v1/certificates").await;
    let doc: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(doc["certificates"][0]["object_name"], hostile);
    app.stop().await;
}

#[tokio::test]
async fn bearer_token_protects_metrics_and_api_but_not_probes() {
    let app = TestApp::spawn_with(
        full_tenant().tenant,
        "bearer_token = \"t0ps3cret-scrape-token\"",
    )
    .await;
    app.app.poll_now().await;
    let base = format!("http://{}", app.addr);
    let client = reqwest::Client::new();
    for path in ["/metrics", "/api/v1/certificates", "/api/v1/findings", "/"] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without a token");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a wrong token");
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth("t0ps3cret-scrape-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with the token");
    }
    assert_eq!(app.get("/healthz").await.0, 200);
    assert_eq!(app.get("/readyz").await.0, 200);
    let (_, metrics) = app
        .get_with_token("/metrics", "t0ps3cret-scrape-token")
        .await;
    assert!(
        !metrics.contains("t0ps3cret"),
        "the token never appears in metrics"
    );
    app.stop().await;
}

#[tokio::test]
async fn basic_auth_protects_metrics() {
    let app = TestApp::spawn_with(
        full_tenant().tenant,
        "basic_username = \"prometheus\"\nbasic_password = \"pa55word\"",
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/metrics", app.addr);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let wrong = client
        .get(&url)
        .basic_auth("prometheus", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = client
        .get(&url)
        .basic_auth("prometheus", Some("pa55word"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    app.stop().await;
}

// ===== what a client may hold (docs/http.md, "Connection limits") =====

/// How many idle connections this process can open for a hoarding test: `want`, or fewer when
/// the open-files limit is low (each connection costs this process one descriptor).
fn hoard_budget(want: usize) -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    want.min(soft.saturating_sub(300) / 2).max(100)
}

/// Open `n` TCP connections to `addr` that never send a byte.
async fn hoard(addr: std::net::SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    held
}

/// How many of `held` the server has closed (a read returns end of file or an error).
async fn closed_by_server(held: &mut [tokio::net::TcpStream]) -> usize {
    use tokio::io::AsyncReadExt as _;
    let mut closed = 0;
    for s in held.iter_mut() {
        let mut b = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_millis(20), s.read(&mut b));
        if matches!(read.await, Ok(Ok(0) | Err(_))) {
            closed += 1;
        }
    }
    closed
}

fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

/// A client hoarding idle connections cannot starve the probes: past `max_connections` the
/// longest-idle connections are closed, so `/healthz` and `/metrics` answer at once and the
/// server never holds more than the limit (on today's unbounded server, thousands of idle
/// connections exhaust the unit's file descriptors and the probes time out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoarded_connections_never_starve_the_probes() {
    let app = TestApp::spawn_with(
        base_tenant(),
        "max_connections = 16\nheader_read_timeout = \"5m\"\nidle_timeout = \"5m\"",
    )
    .await;
    let n = hoard_budget(2_000);
    let mut held = hoard(app.addr, n).await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("http://{}", app.addr);
    for path in ["/healthz", "/metrics"] {
        let started = std::time::Instant::now();
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        // Generous: the point is "answers", not a benchmark (well under 1 s when measured).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{path} took {:?} behind {n} idle connections",
            started.elapsed()
        );
    }
    let (_, metrics) = crate::loopback::get(&client, &format!("{base}/metrics"), None).await;
    assert!(
        sample(&metrics, "certwatch_http_connections ") <= 16.0,
        "{metrics}"
    );
    let evicted = sample(
        &metrics,
        "certwatch_http_connections_rejected_total{reason=\"evicted\"}",
    );
    assert!(evicted >= (n - 16) as f64, "{evicted} evicted of {n}");
    let closed = closed_by_server(&mut held).await;
    assert!(
        closed >= n - 16,
        "the server closed {closed} of {n} idle connections"
    );
    app.stop().await;
}

/// The same over HTTPS: connections that never start their TLS handshake take a place each,
/// and are evicted like any idle connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoarded_tls_handshakes_never_starve_the_probes() {
    let dir = tempfile::tempdir().unwrap();
    let files = crate::loopback::tls_files(dir.path(), "hoard");
    let app = TestApp::spawn_with(
        base_tenant(),
        &format!(
            "max_connections = 8\ncert_file = {}\nkey_file = {}",
            crate::daemon::toml_str(&files.cert.display().to_string()),
            crate::daemon::toml_str(&files.key.display().to_string()),
        ),
    )
    .await;
    let n = hoard_budget(500);
    let _held = hoard(app.addr, n).await;
    let client = crate::loopback::https_client(&files.cert_pem);
    let url = format!("https://127.0.0.1:{}/healthz", app.addr.port());
    let (code, body) = crate::loopback::get(&client, &url, None).await;
    assert_eq!((code, body.as_str()), (200, "ok\n"));
    app.stop().await;
}

/// A connection that never sends its request head is closed after `header_read_timeout`; one
/// left idle after a request, after `idle_timeout`. Both are counted.
#[tokio::test]
async fn silent_and_idle_connections_are_closed_by_their_timeouts() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = TestApp::spawn_with(
        base_tenant(),
        "header_read_timeout = \"1s\"\nidle_timeout = \"2s\"",
    )
    .await;
    let until_closed = async |s: &mut tokio::net::TcpStream| {
        let started = std::time::Instant::now();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
                .await
                .expect("closed by the server within 10 s")
                .unwrap_or(0);
            if n == 0 {
                return started.elapsed();
            }
        }
    };
    // Silent: closed by header_read_timeout.
    let mut silent = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let waited = until_closed(&mut silent).await;
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "{waited:?}"
    );
    // A slow head (a byte a while) is held to the same deadline.
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    slow.write_all(b"Host: x\r\n").await.unwrap();
    until_closed(&mut slow).await;
    // Kept alive after a request: closed by idle_timeout, not header_read_timeout.
    let mut kept = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let waited = until_closed(&mut kept).await;
    assert!(
        waited >= std::time::Duration::from_millis(1_900),
        "{waited:?}"
    );
    let (_, metrics) = app.get("/metrics").await;
    assert_eq!(
        sample(
            &metrics,
            "certwatch_http_connections_timed_out_total{timeout=\"header_read\"}"
        ),
        2.0,
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "certwatch_http_connections_timed_out_total{timeout=\"idle\"}"
        ),
        1.0
    );
    app.stop().await;
}
