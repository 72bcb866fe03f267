//! The `certwatch` binary: `scan` exit codes (Nagios), JSON on stdout only, `check-config`, and
//! secrets never appearing in any output even at trace level.

use crate::helpers::*;
use certwatch::sim::{Sim, SimConnection, SimTenant};
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_certwatch"));
    c.env_remove("RUST_LOG").env_remove("CERTWATCH_CONFIG");
    c
}

async fn scan(tenant: SimTenant, secret: &str) -> (i32, String, String) {
    let sim = Sim::spawn(tenant).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("certwatch.toml");
    std::fs::write(&cfg, config_toml(&sim.url(), secret, dir.path())).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(["scan", "--config"])
            .arg(&cfg)
            .args(["--output", "json", "--log-level", "trace"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    sim.shutdown().await;
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn saml_expiring_in(days: i64) -> SimTenant {
    let c = cert("idp.example", days);
    base_tenant().connection(SimConnection::samlp("con_1", "idp", &c.pem))
}

#[tokio::test]
async fn scan_exit_codes_follow_nagios() {
    let (code, out, _) = scan(saml_expiring_in(200), SECRET).await;
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value =
        serde_json::from_str(&out).expect("stdout is only the JSON document");
    assert_eq!(doc["certificates"][0]["status"], "ok");
    assert_eq!(scan(saml_expiring_in(20), SECRET).await.0, 1);
    assert_eq!(scan(saml_expiring_in(3), SECRET).await.0, 2);
    assert_eq!(scan(saml_expiring_in(-3), SECRET).await.0, 2);
    let (code, out, _) = scan(saml_expiring_in(200), "wrong-secret").await;
    assert_eq!(code, 3, "a tenant that cannot be polled is UNKNOWN");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["tenants"][0]["errors"][0]["reason"], "unauthorized");
}

#[tokio::test]
async fn non_alerting_roles_do_not_change_the_exit_code() {
    let n = now();
    let prev = cert(DOMAIN, 2);
    let cur = cert(DOMAIN, 400);
    let tenant = base_tenant()
        .signing_key(certwatch::sim::SimSigningKey::from_cert("cur", &cur).current(n))
        .signing_key(
            certwatch::sim::SimSigningKey::from_cert("prev", &prev)
                .previous(n - time::Duration::days(9), n),
        );
    assert_eq!(scan(tenant, SECRET).await.0, 0);
}

#[tokio::test]
async fn secrets_never_appear_in_output_even_at_trace_level() {
    let (_, out, err) = scan(saml_expiring_in(200), SECRET).await;
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "client secret leaked"
    );
    assert!(
        !err.contains("Bearer") || !err.to_lowercase().contains("authorization: bearer ey"),
        "token leaked"
    );
    // The simulator's tokens start with a recognisable prefix; none may be logged.
    assert!(!err.contains("access_token"), "token response logged");
}

#[test]
fn check_config_masks_secrets_and_reports_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        config_toml(&"http://127.0.0.1:1/".parse().unwrap(), SECRET, dir.path()),
    )
    .unwrap();
    let out = bin()
        .arg("check-config")
        .arg("--config")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("client_secret = \"********\""), "{stdout}");
    assert!(!stdout.contains(SECRET));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "{}\nunknown_thing = 1\n",
            std::fs::read_to_string(&good).unwrap()
        ),
    )
    .unwrap();
    let out = bin()
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("unknown_thing") && stderr.contains("bad.toml"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET));

    // Global flags are accepted after the subcommand too.
    let out = bin()
        .args(["check-config", "--log-format", "json", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// `run` polls at start and on the schedule, serves HTTP, and exits 0 on SIGTERM.
#[tokio::test]
async fn run_polls_on_schedule_and_stops_cleanly_on_sigterm() {
    let sim = Sim::spawn(saml_expiring_in(100)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let toml = config_toml(&sim.url(), SECRET, dir.path())
        .replace(
            "interval = \"1h\"\nrun_on_start = false",
            "interval = \"1s\"\nrun_on_start = true",
        )
        .replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
    let cfg = dir.path().join("certwatch.toml");
    std::fs::write(&cfg, toml).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            ready = true;
            break;
        }
    }
    assert!(ready, "daemon never became ready");
    // The schedule keeps polling: more signing-key calls arrive within a few seconds.
    let count = || {
        sim.requests()
            .iter()
            .filter(|r| r.path == "/api/v2/keys/signing")
            .count()
    };
    let first = count();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(count() > first, "no scheduled poll after the initial one");
    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("certwatch_tenant_up{tenant=\"prod\"} 1"));

    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("did not stop within 10 s of SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt as _;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("SIGTERM received") && stderr.contains("stopped"),
        "{stderr}"
    );
    sim.shutdown().await;
}

async fn wait_until(mut f: impl AsyncFnMut() -> bool, what: &str) {
    for _ in 0..100 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// SIGHUP reloads a valid config (keeping the snapshot) and rejects an invalid one.
#[tokio::test]
async fn sighup_reloads_valid_config_and_keeps_the_old_one_on_error() {
    let sim = Sim::spawn(saml_expiring_in(100)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = config_toml(&sim.url(), SECRET, dir.path())
        .replace("run_on_start = false", "run_on_start = true")
        .replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
    let cfg = dir.path().join("certwatch.toml");
    std::fs::write(&cfg, &base).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let status = async || -> Option<String> {
        let r = client
            .get(format!("http://127.0.0.1:{port}/api/v1/certificates"))
            .send()
            .await
            .ok()?;
        let doc: serde_json::Value = r.json().await.ok()?;
        doc["certificates"][0]["status"]
            .as_str()
            .map(str::to_string)
    };
    wait_until(
        async || status().await.as_deref() == Some("ok"),
        "first poll",
    )
    .await;
    let pid = child.id().unwrap().to_string();
    let hup = || {
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
    };

    std::fs::write(
        &cfg,
        format!("{base}\n[policy]\nwarning_before = \"200d\"\ncritical_before = \"7d\"\n"),
    )
    .unwrap();
    assert!(hup().success());
    wait_until(
        async || status().await.as_deref() == Some("warning"),
        "reloaded policy",
    )
    .await;
    let ready = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "the snapshot survives the reload");

    std::fs::write(&cfg, format!("{base}\nnot_a_key = true\n")).unwrap();
    assert!(hup().success());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        status().await.as_deref(),
        Some("warning"),
        "invalid config rejected, old one kept"
    );

    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code(), Some(0));
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt as _;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("configuration reloaded"), "{stderr}");
    assert!(
        stderr.contains("new configuration rejected") && stderr.contains("not_a_key"),
        "{stderr}"
    );
    sim.shutdown().await;
}
