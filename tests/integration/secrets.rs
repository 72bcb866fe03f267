//! Secrets never appear anywhere: not in the output of `run` at trace level, `scan`,
//! `check-config` (valid or not), HTTP bodies, state files, or the `Debug` of the configuration
//! and the app, in any usual encoding.

use crate::daemon::*;
use crate::helpers::*;
use crate::loopback::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certwatch::config;
use certwatch::sim::{Sim, SimConnection};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const BEARER: &str = "scrape-T0ken-b7Q2wXv9";
const SMTP_PASSWORD: &str = "smtp-Pa55-k2Lr8Zt4";
const HOOK_PATH_TOKEN: &str = "T0ken-in-path-9fJ3mQ";
const HOOK_QUERY_TOKEN: &str = "query-t0ken-Hx83vN";
const HOOK_USERINFO: &str = "userinfo-pw-Wq41sD";
const HMAC_KEY: &str = "hmac-K3y-Rt72pL0s";
const META_QUERY_TOKEN: &str = "meta-qu3ry-Zk41wQ";
const META_USERINFO: &str = "meta-us3r-Pq93tB";

/// Every spelling of a secret that would count as a leak.
fn leak_forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_string(),
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ]
}

#[tokio::test]
async fn secrets_never_appear_in_logs_outputs_bodies_state_or_debug() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let c = cert("idp.secrets.example", 3);
    let sim = Sim::spawn(base_tenant().connection(
        SimConnection::samlp("con_1", "idp", &c.pem).idp(certwatch::sim::SimIdp::publishing(&[&c])),
    ))
    .await
    .unwrap();
    // The simulator's access tokens: every one starts with the same JWT header segment.
    let grant: Value = reqwest::Client::new()
        .post(sim.url().join("oauth/token").unwrap())
        .json(
            &json!({"grant_type": "client_credentials", "client_id": CLIENT_ID,
                      "client_secret": SECRET, "audience": format!("https://{DOMAIN}/api/v2/")}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = grant["access_token"].as_str().unwrap().to_string();
    let token_header = access_token.split('.').next().unwrap().to_string();
    assert!(token_header.len() > 20, "{access_token}");

    let (hook_port, hook_inbox) = webhook_receiver(500, Duration::ZERO).await;
    let closed = closed_port();
    let port = closed_port();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let toml = format!(
        r#"state_dir = {state}
[server]
listen = "127.0.0.1:{port}"
bearer_token = "{BEARER}"
[schedule]
interval = "2s"
run_on_start = true
[[tenants]]
name = "prod"
domain = "{DOMAIN}"
base_url = "{url}"
client_id = "{CLIENT_ID}"
client_secret_file = {secret_file}
timeout = "5s"
metadata_urls = {{ "idp" = "http://certwatch:{META_USERINFO}@{sim_host}/idp/con_1/samlp/metadata.xml?token={META_QUERY_TOKEN}", "con_missing" = "http://127.0.0.1:{closed}/m?token={META_QUERY_TOKEN}" }}
[metadata]
enabled = true
allow_http = true
timeout = "2s"
[[alerts.email]]
name = "ops-mail"
host = "127.0.0.1"
port = {closed}
tls = "none"
username = "certwatch"
password_env = "CW_HARDENING_SMTP_PASSWORD"
from = "certwatch@example.com"
to = ["ops@example.com"]
timeout = "2s"
[[alerts.webhook]]
name = "failing-hook"
url = "http://127.0.0.1:{hook_port}/hooks/{HOOK_PATH_TOKEN}?token={HOOK_QUERY_TOKEN}"
hmac_secret = "{HMAC_KEY}"
format = "slack"
[[alerts.webhook]]
name = "unreachable-hook"
url = "http://certwatch:{HOOK_USERINFO}@127.0.0.1:{closed}/x/{HOOK_PATH_TOKEN}?token={HOOK_QUERY_TOKEN}"
hmac_secret = "{HMAC_KEY}"
format = "json"
"#,
        state = toml_str(&state.display().to_string()),
        url = sim.url(),
        sim_host = sim.addr(),
        secret_file = toml_str(&secret_file.display().to_string()),
    );
    let cfg = dir.path().join("certwatch.toml");
    std::fs::write(&cfg, &toml).unwrap();
    let env = [("CW_HARDENING_SMTP_PASSWORD", SMTP_PASSWORD)];

    // Everything that could show a secret goes in here, labelled.
    let mut seen: Vec<(String, String)> = Vec::new();

    // `run` at trace level: polls, alerts fail (SMTP refused, webhook 500, webhook unreachable).
    let daemon = Daemon::spawn(&cfg, dir.path(), "run", &["--log-level", "trace"], &env);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_for("every channel to fail once", 30, async || {
        let (_, m) = get(&client, &format!("{base}/metrics"), Some(BEARER)).await;
        ["ops-mail", "failing-hook", "unreachable-hook"]
            .iter()
            .all(|ch| {
                metric_sum(
                    &m,
                    "certwatch_alerts_sent_total",
                    &[&format!("channel=\"{ch}\""), "outcome=\"retrying\""],
                ) >= 1.0
            })
    })
    .await;
    assert!(
        !hook_inbox.lock().unwrap().is_empty(),
        "the webhook was called"
    );
    for path in [
        "/metrics",
        "/api/v1/certificates",
        "/api/v1/findings",
        "/",
        "/readyz",
        "/healthz",
    ] {
        let (code, body) = get(&client, &format!("{base}{path}"), Some(BEARER)).await;
        assert_eq!(code, 200, "{path}");
        seen.push((format!("GET {path}"), body));
    }
    seen.push((
        "GET /metrics unauthorised".into(),
        get(&client, &format!("{base}/metrics"), Some("wrong"))
            .await
            .1,
    ));
    let run_logs = daemon.stop().await;
    assert!(
        run_logs.contains("TRACE") && run_logs.contains("alert delivery failed; will retry"),
        "trace logging and delivery failures were exercised"
    );
    seen.push(("run (trace)".into(), run_logs));

    // `scan` at trace level, and `check-config`.
    for args in [
        vec!["scan", "--log-level", "trace", "--output", "json"],
        vec!["scan", "--log-level", "trace", "--output", "table"],
        vec!["check-config"],
        vec![
            "check-config",
            "--log-level",
            "trace",
            "--log-format",
            "json",
        ],
    ] {
        let out = bin()
            .args(&args)
            .arg("--config")
            .arg(&cfg)
            .envs(env)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c < 3),
            "{args:?}: {out:?}"
        );
        seen.push((
            format!("{args:?} stdout"),
            String::from_utf8_lossy(&out.stdout).into(),
        ));
        seen.push((
            format!("{args:?} stderr"),
            String::from_utf8_lossy(&out.stderr).into(),
        ));
    }
    // An invalid config that holds every secret: the error names the key, nothing else.
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        toml.replace("format = \"json\"", "format = \"xml\""),
    )
    .unwrap();
    let out = bin()
        .args(["check-config", "--config"])
        .arg(&broken)
        .envs(env)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    seen.push((
        "check-config (invalid)".into(),
        String::from_utf8_lossy(&out.stderr).into(),
    ));

    // State files.
    let mut stack = vec![state.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                seen.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into(),
                ));
            }
        }
    }
    assert!(state.join("alerts.json").exists(), "the ledger was written");

    // Debug output of the configuration, the effective config and the app.
    struct Env;
    impl config::EnvSource for Env {
        fn var(&self, name: &str) -> Option<String> {
            (name == "CW_HARDENING_SMTP_PASSWORD").then(|| SMTP_PASSWORD.to_string())
        }
    }
    let raw: config::RawConfig = toml::from_str(&toml).unwrap();
    let loaded = config::validate(raw, Some(cfg.clone()), &Env).unwrap();
    assert_eq!(
        loaded.alerts.email[0].password.as_ref().unwrap().expose(),
        SMTP_PASSWORD
    );
    seen.push(("Config {:?}".into(), format!("{loaded:?} {loaded:#?}")));
    seen.push(("effective {:?}".into(), format!("{:?}", loaded.effective())));
    let app = certwatch::app::App::build(loaded, Arc::new(certwatch::clock::SystemClock))
        .unwrap()
        .with_alerts()
        .unwrap();
    seen.push(("App {:?}".into(), format!("{app:?} {:?}", app.config())));

    let mut secrets = vec![
        ("client secret", SECRET.to_string()),
        ("bearer token", BEARER.to_string()),
        ("SMTP password", SMTP_PASSWORD.to_string()),
        ("webhook path token", HOOK_PATH_TOKEN.to_string()),
        ("webhook query token", HOOK_QUERY_TOKEN.to_string()),
        ("webhook userinfo", HOOK_USERINFO.to_string()),
        ("HMAC key", HMAC_KEY.to_string()),
        ("metadata URL query token", META_QUERY_TOKEN.to_string()),
        ("metadata URL userinfo", META_USERINFO.to_string()),
        ("Auth0 access token", access_token.clone()),
        ("Auth0 access token header", token_header.clone()),
    ];
    secrets.push((
        "SMTP AUTH PLAIN",
        STANDARD.encode(format!("\0certwatch\0{SMTP_PASSWORD}")),
    ));
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        for form in leak_forms(secret) {
            for (source, text) in &seen {
                if text.contains(&form) {
                    leaks.push(format!("{what} ({form}) in {source}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    assert!(seen.len() > 15);
    sim.shutdown().await;
}
