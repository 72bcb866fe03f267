//! The Alertmanager channel against a fake receiver (a real HTTP listener answering with chosen
//! statuses): deterministic labels and `startsAt`, the `endsAt` arithmetic, the resolution
//! window, filters, retries and outcomes, secrets kept out of `Debug` and logs, and the state
//! surviving a restart.

use super::state::{self, CERTIFICATE_ALERT, Labels, RESOLVED_FOR, State};
use super::*;
use crate::alert::tests::{DAY, HOUR, LogCapture, T0, filter, report, report_up, saml, sent_total};
use crate::config::Severity;
use crate::findings::{FindingKind, FindingSeverity};
use crate::secret::Secret;
use std::collections::VecDeque;
use std::sync::Mutex;

const TOKEN: &str = "am-t0ken-never-logged";
const MIN: time::Duration = time::Duration::minutes(1);

/// What the fake Alertmanager received, and the statuses it answers with (200 once empty).
#[derive(Default)]
struct Inbox {
    posts: Vec<(String, Option<String>, serde_json::Value)>,
    answers: VecDeque<u16>,
}

type Shared = Arc<Mutex<Inbox>>;

/// A fake Alertmanager on loopback: its base URL and inbox.
async fn receiver() -> (Url, Shared) {
    let inbox: Shared = Arc::default();
    let sink = inbox.clone();
    let app = axum::Router::new().route(
        "/{*path}",
        axum::routing::post(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
                let sink = sink.clone();
                async move {
                    let mut inbox = sink.lock().unwrap();
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_string());
                    let json = serde_json::from_str(&body).unwrap_or_default();
                    inbox.posts.push((uri.path().to_string(), auth, json));
                    let code = inbox.answers.pop_front().unwrap_or(200);
                    axum::http::StatusCode::from_u16(code).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/am/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}

fn channel(name: &str, urls: Vec<Url>, f: Filter) -> AlertmanagerChannel {
    AlertmanagerChannel {
        name: name.into(),
        urls,
        auth: AlertmanagerAuth::Bearer(Secret::new(TOKEN)),
        filter: f,
        timeout: Duration::from_secs(5),
    }
}

fn poster(cfg: &[AlertmanagerChannel], dir: &Path, metrics: Arc<Metrics>) -> Alertmanager {
    let mut am = Alertmanager::new(cfg, dir, metrics).unwrap().unwrap();
    am.set_polls(Policy::default(), HOUR);
    am.set_backoff(vec![Duration::ZERO; 3]);
    am
}

fn step(st: &mut State, r: &Report, now: OffsetDateTime) -> Vec<AmAlert> {
    let up = |t: &str| r.tenants.iter().any(|x| x.name == t && x.up);
    st.step(
        state::current(r, &Policy::default(), now),
        up,
        4 * HOUR,
        now,
    )
}

#[test]
fn labels_and_starts_at_are_the_same_from_every_replica_and_poll() {
    let not_after = T0 + 20 * DAY; // warning since not_after - 30 days
    let at = |now| {
        let mut st = State::default();
        step(&mut st, &report(now, &[saml("aa01", not_after)]), now)
    };
    let (a, b) = (at(T0), at(T0 + 3 * HOUR));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].labels, b[0].labels);
    assert_eq!(a[0].starts_at, b[0].starts_at);
    assert_eq!(a[0].starts_at, not_after - 30 * DAY);
    let want: Labels = [
        ("alertname", CERTIFICATE_ALERT),
        ("severity", "warning"),
        ("tenant", "prod"),
        ("kind", "connection_signing_cert"),
        ("object_id", "con_acme"),
        ("cert_id", "aa01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(a[0].labels, want);
    for key in ["summary", "object_name", "not_after", "description"] {
        assert!(!a[0].annotations[key].is_empty(), "{key}");
    }
    // Critical and expired date from their own thresholds.
    let crit = at(T0)[0].clone();
    let mut st = State::default();
    let c = step(&mut st, &report(T0, &[saml("c", T0 + 3 * DAY)]), T0);
    assert_eq!(c[0].labels["severity"], "critical");
    assert_eq!(c[0].starts_at, T0 + 3 * DAY - 7 * DAY);
    let e = step(&mut st, &report(T0, &[saml("e", T0 - DAY)]), T0);
    assert!(
        e.iter()
            .any(|a| a.labels["severity"] == "expired" && a.starts_at == T0 - DAY)
    );
    assert_ne!(crit.labels, c[0].labels);
}

#[test]
fn firing_ends_after_four_polls_and_resolved_is_reposted_for_fifteen_minutes() {
    let mut st = State::default();
    let r = report(T0, &[saml("aa01", T0 + 3 * DAY)]);
    let first = step(&mut st, &r, T0);
    assert_eq!(first[0].ends_at, T0 + 4 * HOUR);
    let again = step(
        &mut st,
        &report(T0 + HOUR, &[saml("aa01", T0 + 3 * DAY)]),
        T0 + HOUR,
    );
    assert_eq!(again[0].ends_at, T0 + 5 * HOUR);
    assert_eq!(again[0].labels, first[0].labels);

    // Renewed: the same labels, endsAt = now, until 15 minutes have passed.
    let t1 = T0 + 2 * HOUR;
    let gone = step(&mut st, &report(t1, &[saml("aa02", T0 + 300 * DAY)]), t1);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].labels, first[0].labels);
    assert_eq!(gone[0].ends_at, t1);
    let t2 = t1 + 14 * MIN;
    let still = step(&mut st, &report(t2, &[]), t2);
    assert_eq!((still.len(), still[0].ends_at), (1, t2));
    let t3 = t1 + time::Duration::try_from(RESOLVED_FOR).unwrap();
    assert!(step(&mut st, &report(t3, &[]), t3).is_empty());
}

#[test]
fn a_tenant_that_is_down_keeps_its_alerts_firing() {
    let mut st = State::default();
    step(&mut st, &report(T0, &[saml("aa01", T0 + 3 * DAY)]), T0);
    let down = step(&mut st, &report_up(T0 + HOUR, &[], false), T0 + HOUR);
    assert_eq!(down[0].ends_at, T0 + 5 * HOUR);
    let back = step(&mut st, &report(T0 + 2 * HOUR, &[]), T0 + 2 * HOUR);
    assert_eq!(back[0].ends_at, T0 + 2 * HOUR);
}

#[test]
fn findings_are_labelled_by_kind_and_keep_their_first_start() {
    let mut r = report(T0, &[]);
    r.findings.push(crate::findings::Finding {
        tenant: "prod".into(),
        finding: FindingKind::IdpCertificateWithdrawn,
        object_kind: "connection_signing_cert",
        object_id: "con_acme".into(),
        object_name: "acme-idp".into(),
        severity: FindingSeverity::Critical,
        message: "the IdP no longer publishes it".into(),
        sha1: Some("ab12".into()),
        not_after: None,
        owner: None,
    });
    let mut info = r.findings[0].clone();
    info.severity = FindingSeverity::Info;
    info.finding = FindingKind::UnusedCredential;
    r.findings.push(info);
    let mut st = State::default();
    let a = step(&mut st, &r, T0);
    assert_eq!(a.len(), 1, "info findings never alert");
    assert_eq!(a[0].labels["alertname"], state::FINDING_ALERT);
    assert_eq!(a[0].labels["finding"], "idp_certificate_withdrawn");
    assert_eq!(a[0].labels["sha1"], "ab12");
    r.generated_at = T0 + HOUR;
    let b = step(&mut st, &r, T0 + HOUR);
    assert_eq!(
        (b[0].starts_at, b[0].labels.clone()),
        (T0, a[0].labels.clone())
    );
}

#[test]
fn channel_filters_apply_to_labels() {
    let mut st = State::default();
    let all = step(
        &mut st,
        &report(T0, &[saml("w", T0 + 20 * DAY), saml("c", T0 + 3 * DAY)]),
        T0,
    );
    let crit = filter(Severity::Critical);
    assert_eq!(all.iter().filter(|a| a.accepted_by(&crit)).count(), 1);
    let mut other = filter(Severity::Warning);
    other.tenants = vec!["staging".into()];
    assert!(!all.iter().any(|a| a.accepted_by(&other)));
    let mut kinds = filter(Severity::Warning);
    kinds.kinds = vec![crate::inventory::Kind::ClientCredential];
    assert!(!all.iter().any(|a| a.accepted_by(&kinds)));
    let mut team_a = filter(Severity::Warning);
    team_a.owners = vec!["team-a".into()];
    assert!(
        !all.iter().any(|a| a.accepted_by(&team_a)),
        "no owner label"
    );
    let mut owned = saml("o", T0 + 3 * DAY);
    owned.owner = Some("team-a".into());
    let mine = step(&mut st, &report(T0, &[owned]), T0);
    let mine: Vec<_> = mine.iter().filter(|a| a.accepted_by(&team_a)).collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].labels["owner"], "team-a");
    assert_eq!(mine[0].labels["cert_id"], "o");
}

#[tokio::test]
async fn posts_the_full_set_to_every_url_with_the_token() {
    let (u1, in1) = receiver().await;
    let (u2, in2) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::new(true));
    let cfg = [channel("am", vec![u1, u2], filter(Severity::Warning))];
    let am = poster(&cfg, dir.path(), metrics.clone());
    let r = report(T0, &[saml("w", T0 + 20 * DAY), saml("ok", T0 + 90 * DAY)]);
    am.post(&r, T0).await;
    for inbox in [&in1, &in2] {
        let inbox = inbox.lock().unwrap();
        assert_eq!(inbox.posts.len(), 1);
        let (path, auth, body) = &inbox.posts[0];
        assert_eq!(path, "/am/api/v2/alerts");
        assert_eq!(auth.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
        assert_eq!(body.as_array().unwrap().len(), 1);
        assert_eq!(body[0]["labels"]["cert_id"], "w");
        assert_eq!(body[0]["startsAt"], "2026-11-13T12:00:00Z");
        assert_eq!(body[0]["endsAt"], "2026-11-23T16:00:00Z");
    }
    assert_eq!(sent_total(&metrics, "am", "warning", "delivered"), 2);
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (url, inbox) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::new(true));
    let cfg = [channel("am", vec![url], filter(Severity::Warning))];
    let am = poster(&cfg, dir.path(), metrics.clone());
    let r = report(T0, &[saml("w", T0 + 20 * DAY)]);
    inbox.lock().unwrap().answers = [503, 500].into();
    am.post(&r, T0).await;
    assert_eq!(inbox.lock().unwrap().posts.len(), 3);
    assert_eq!(sent_total(&metrics, "am", "warning", "retrying"), 2);
    assert_eq!(sent_total(&metrics, "am", "warning", "delivered"), 1);

    inbox.lock().unwrap().answers = [400].into();
    am.post(&r, T0).await;
    assert_eq!(inbox.lock().unwrap().posts.len(), 4);
    assert_eq!(sent_total(&metrics, "am", "warning", "rejected"), 1);

    inbox.lock().unwrap().answers = [502, 502, 502, 502].into();
    am.post(&r, T0).await;
    assert_eq!(inbox.lock().unwrap().posts.len(), 8, "1 + 3 retries");
    assert_eq!(sent_total(&metrics, "am", "warning", "failed"), 1);
}

/// Set in the child process that runs [`secrets_probe`].
const SECRETS_PROBE: &str = "CERTWATCH_AM_SECRETS_PROBE";

/// Secrets stay out of `Debug` and the logs. The log capture is per thread while tracing's
/// callsite cache is per process, so under a parallel test run another test can make the
/// capture miss lines; the probe runs alone, in a child process of this test binary.
#[tokio::test]
async fn secrets_stay_out_of_debug_and_logs() {
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "alert::alertmanager::tests::secrets_probe",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(SECRETS_PROBE, "1")
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the probe did not run:\n{text}");
}

#[tokio::test]
#[ignore = "runs in a process of its own, started by secrets_stay_out_of_debug_and_logs"]
async fn secrets_probe() {
    if std::env::var_os(SECRETS_PROBE).is_none() {
        return;
    }
    let logs = LogCapture::start();
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback: every attempt fails.
    let url = Url::parse("http://user:urlpass@127.0.0.1:9/").unwrap();
    let mut cfg = channel("am", vec![url.clone()], filter(Severity::Warning));
    let basic = channel("am-basic", vec![url], filter(Severity::Warning));
    cfg.timeout = Duration::from_secs(1);
    let basic = AlertmanagerChannel {
        auth: AlertmanagerAuth::Basic {
            username: "certwatch".into(),
            password: Secret::new("b4sic-pass"),
        },
        ..basic
    };
    let am = poster(&[cfg, basic], dir.path(), Arc::new(Metrics::new(true)));
    am.post(&report(T0, &[saml("w", T0 + 20 * DAY)]), T0).await;
    let text = format!("{:?}\n{}", am, logs.text());
    assert!(text.contains("giving up"), "{text}");
    for secret in [TOKEN, "b4sic-pass", "urlpass"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[tokio::test]
async fn a_restart_still_resolves_what_went_away() {
    let (url, inbox) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = [channel("am", vec![url], filter(Severity::Warning))];
    let metrics = Arc::new(Metrics::new(true));
    poster(&cfg, dir.path(), metrics.clone())
        .post(&report(T0, &[saml("w", T0 + 20 * DAY)]), T0)
        .await;
    let again = poster(&cfg, dir.path(), metrics.clone());
    let t1 = T0 + HOUR;
    let posted = again.post(&report(t1, &[]), t1).await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].ends_at, t1);
    let inbox = inbox.lock().unwrap();
    assert_eq!(inbox.posts[1].2[0]["endsAt"], "2026-11-23T13:00:00Z");
    assert_eq!(sent_total(&metrics, "am", "resolved", "delivered"), 1);
}
