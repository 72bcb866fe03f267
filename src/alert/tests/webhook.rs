//! The webhook channel against a real HTTP listener (axum on 127.0.0.1:0): payloads arrive in each
//! format, the HMAC verifies, a 500 is retried and a 400 is not, and the URL never leaks.

use super::*;
use crate::alert::Engine;
use crate::config::{WebhookChannel, WebhookFormat};
use crate::secret::Secret;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone)]
struct Received {
    name: String,
    headers: HeaderMap,
    body: String,
}

/// A recording webhook receiver; `/hook/{name}` answers the scripted statuses, then 200.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        let app = axum::Router::new()
            .route("/hook/{name}", post(hook))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, base)
    }

    fn script(&self, name: &str, statuses: &[u16]) {
        self.script
            .lock()
            .unwrap()
            .insert(name.into(), statuses.iter().copied().collect());
    }

    fn for_hook(&self, name: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.name == name)
            .cloned()
            .collect()
    }
}

async fn hook(
    State(r): State<Receiver>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let status = r
        .script
        .lock()
        .unwrap()
        .get_mut(&name)
        .and_then(VecDeque::pop_front)
        .unwrap_or(200);
    r.received.lock().unwrap().push(Received {
        name,
        headers,
        body,
    });
    StatusCode::from_u16(status).unwrap()
}

fn channel(name: &str, url: String, format: WebhookFormat, hmac: Option<&str>) -> WebhookChannel {
    WebhookChannel {
        name: name.into(),
        url: Secret::new(url),
        format,
        hmac_secret: hmac.map(Secret::new),
        filter: filter(Severity::Warning),
        timeout: Duration::from_secs(5),
    }
}

fn engine_with(chans: Vec<WebhookChannel>, state: &std::path::Path) -> (Engine, Arc<Metrics>) {
    let mut cfg = alerts_cfg(false);
    cfg.webhook = chans;
    let m = Arc::new(Metrics::new(false));
    // The real channels sign and send with the wall clock, as the daemon does.
    let clock = Arc::new(crate::clock::SystemClock);
    (Engine::new(cfg, state, m.clone(), clock).unwrap(), m)
}

fn header<'a>(r: &'a Received, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn json_slack_and_teams_payloads_arrive_and_the_hmac_verifies() {
    let (rx, base) = Receiver::start().await;
    let state = tempfile::tempdir().unwrap();
    let (e, m) = engine_with(
        vec![
            channel(
                "json",
                format!("{base}/hook/json"),
                WebhookFormat::Json,
                Some("s3cret"),
            ),
            channel(
                "slack",
                format!("{base}/hook/slack"),
                WebhookFormat::Slack,
                None,
            ),
            channel(
                "teams",
                format!("{base}/hook/teams"),
                WebhookFormat::Teams,
                None,
            ),
        ],
        state.path(),
    );
    e.process(&report(T0, &[saml("3f1c", T0 + 5 * DAY + HOUR)]), T0)
        .await;
    assert_eq!(e.pending(), 0);

    let json = rx.for_hook("json");
    assert_eq!(json.len(), 1);
    let r = &json[0];
    assert_eq!(header(r, "content-type"), Some("application/json"));
    let ts = header(r, "x-certwatch-timestamp").expect("timestamp header");
    let wall = crate::clock::unix_now() as i64;
    assert!(
        (ts.parse::<i64>().unwrap() - wall).abs() < 300,
        "the signature is dated with the wall clock"
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(format!("{ts}.{}", r.body).as_bytes());
    let sig = header(r, "x-certwatch-signature").expect("signature header");
    let hex_sig = sig.strip_prefix("sha256=").expect("sha256= prefix");
    mac.verify_slice(&hex::decode(hex_sig).unwrap())
        .expect("HMAC verifies");
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "firing");
    assert_eq!(v["severity"], "critical");
    assert_eq!(v["resolution"], Value::Null);
    assert_eq!(
        v["summary"],
        "CRITICAL prod: SAML connection 'acme-idp' signing certificate expires in 5 days"
    );
    assert_eq!(v["certificate"]["cert_id"], "3f1c");
    assert_eq!(v["certificate"]["not_after"], "2026-11-28T13:00:00Z");

    let slack = rx.for_hook("slack");
    assert_eq!(slack.len(), 1);
    assert!(
        header(&slack[0], "x-certwatch-signature").is_none(),
        "unsigned without hmac_secret"
    );
    let v: Value = serde_json::from_str(&slack[0].body).unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("[certwatch] CRITICAL prod: SAML connection")
    );
    assert_eq!(v["blocks"][0]["type"], "header");
    assert_eq!(v["blocks"][1]["type"], "section");

    let teams = rx.for_hook("teams");
    assert_eq!(teams.len(), 1);
    let v: Value = serde_json::from_str(&teams[0].body).unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(v["attachments"][0]["content"]["type"], "AdaptiveCard");

    for ch in ["json", "slack", "teams"] {
        assert_eq!(sent_total(&m, ch, "critical", "delivered"), 1, "{ch}");
    }
}

#[tokio::test]
async fn a_500_is_retried_and_a_400_is_not() {
    let (rx, base) = Receiver::start().await;
    rx.script("flaky", &[500, 503]);
    rx.script("bad", &[400, 400, 400]);
    let state = tempfile::tempdir().unwrap();
    let (e, m) = engine_with(
        vec![
            channel(
                "flaky",
                format!("{base}/hook/flaky"),
                WebhookFormat::Json,
                Some("k"),
            ),
            channel("bad", format!("{base}/hook/bad"), WebhookFormat::Json, None),
        ],
        state.path(),
    );
    let certs = [saml("c", T0 + 20 * DAY)];
    e.process(&report(T0, &certs), T0).await;
    assert_eq!(rx.for_hook("flaky").len(), 1);
    assert_eq!(rx.for_hook("bad").len(), 1);
    assert_eq!(e.pending(), 1, "only the 500 stays pending");
    assert_eq!(sent_total(&m, "flaky", "warning", "retrying"), 1);
    assert_eq!(sent_total(&m, "bad", "warning", "rejected"), 1);

    e.retry_pending(T0 + Duration::from_secs(30)).await; // 503: retried again
    assert_eq!(rx.for_hook("flaky").len(), 2);
    e.retry_pending(T0 + Duration::from_secs(60)).await; // backoff now 60 s: not yet
    assert_eq!(rx.for_hook("flaky").len(), 2);
    e.retry_pending(T0 + Duration::from_secs(90)).await; // 200
    let flaky = rx.for_hook("flaky");
    assert_eq!(flaky.len(), 3);
    assert!(
        flaky.iter().all(|r| r.body == flaky[0].body),
        "the same message each time"
    );
    assert_eq!(e.pending(), 0);
    e.retry_pending(T0 + HOUR).await;
    e.process(&report(T0 + HOUR, &certs), T0 + HOUR).await;
    assert_eq!(rx.for_hook("flaky").len(), 3);
    assert_eq!(rx.for_hook("bad").len(), 1, "a 400 is never retried");
    assert_eq!(sent_total(&m, "flaky", "warning", "delivered"), 1);
    assert_eq!(sent_total(&m, "flaky", "warning", "retrying"), 2);
}

#[tokio::test]
async fn the_url_and_keys_never_appear_in_logs_errors_or_debug() {
    let (rx, base) = Receiver::start().await;
    rx.script("T0KEN-rejected", &[401]);
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let logs = LogCapture::start();
    let (e, _) = engine_with(
        vec![
            channel(
                "dead",
                format!("http://{dead}/hook/T0KEN-dead"),
                WebhookFormat::Slack,
                Some("HMAC-K3Y"),
            ),
            channel(
                "rejecting",
                format!("{base}/hook/T0KEN-rejected"),
                WebhookFormat::Json,
                Some("HMAC-K3Y"),
            ),
        ],
        state.path(),
    );
    e.process(&report(T0, &[saml("c", T0 + 3 * DAY)]), T0).await;
    e.retry_pending(T0 + Duration::from_secs(30)).await;
    assert_eq!(rx.for_hook("T0KEN-rejected").len(), 1);
    let text = logs.text();
    assert!(
        text.contains("dead") && text.contains("rejecting"),
        "logs name the channels: {text}"
    );
    assert!(text.contains("retrying") && text.contains("rejected"));
    let ledger = std::fs::read_to_string(state.path().join("alerts.json")).unwrap();
    // (The host and port may appear in hyper's own debug logs; the path and the keys must not.)
    for leak in ["T0KEN", "HMAC-K3Y"] {
        assert!(!text.contains(leak), "{leak} leaked into logs: {text}");
        assert!(!format!("{e:?}").contains(leak));
        assert!(!ledger.contains(leak), "{leak} leaked into the ledger");
    }
}
