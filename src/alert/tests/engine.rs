//! Engine scenarios with an injected `now` and an in-memory notifier.

use super::*;
use crate::alert::ledger::{self, Ledger};
use crate::alert::{Engine, RotationEvent, RotationOutcome, render};
use crate::inventory::Kind;

fn engine(dir: &std::path::Path, cfg: Alerts, rs: &[&Arc<Recorder>]) -> (Engine, Arc<Metrics>) {
    let m = Arc::new(Metrics::new(false));
    let e = Engine::with_notifiers(cfg, dir, m.clone(), clock(), notifiers(rs)).unwrap();
    (e, m)
}

fn at(base: OffsetDateTime, d: Duration) -> OffsetDateTime {
    base + d
}

#[tokio::test]
async fn walk_ok_warning_critical_expired_renewed() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let pager = Recorder::new("pager", Severity::Critical);
    let mut cfg = alerts_cfg(false);
    cfg.repeat_interval = 100 * DAY; // no reminders in this walk
    let (e, m) = engine(dir.path(), cfg, &[&ops, &pager]);

    let old = saml("old", T0 + 40 * DAY);
    let new = saml("new", T0 + 41 * DAY + 365 * DAY);
    let mut delivered_at = Vec::new();
    // Poll every 12 hours for 42 days; the certificate is replaced at day 41.
    for step in 0..=84u32 {
        let now = at(T0, 12 * HOUR * step);
        let specs = if now < T0 + 41 * DAY {
            vec![old.clone()]
        } else {
            vec![new.clone()]
        };
        let before = ops.batches().len();
        e.process(&report(now, &specs), now).await;
        if ops.batches().len() > before {
            delivered_at.push(now);
        }
    }
    assert_eq!(
        ops.log(),
        [
            "old firing warning",
            "old firing critical",
            "old firing expired",
            "old resolved expired renewed"
        ]
    );
    // Boundaries: exactly 30d / 7d left is still the milder state; expires_in == 0 is expired.
    assert_eq!(
        delivered_at,
        [
            T0 + 10 * DAY + 12 * HOUR,
            T0 + 33 * DAY + 12 * HOUR,
            T0 + 40 * DAY,
            T0 + 41 * DAY
        ]
    );
    assert_eq!(
        pager.log(),
        [
            "old firing critical",
            "old firing expired",
            "old resolved expired renewed"
        ]
    );
    let resolved = &ops.batches()[3].alerts[0];
    assert_eq!(resolved.replacement.as_ref().unwrap().cert_id, "new");
    assert_eq!(e.pending(), 0);
    assert_eq!(sent_total(&m, "ops", "warning", "delivered"), 1);
    assert_eq!(sent_total(&m, "pager", "resolved", "delivered"), 1);
    assert_eq!(sent_total(&m, "pager", "warning", "delivered"), 0);
}

#[tokio::test]
async fn reminders_every_repeat_interval() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    let c = saml("c", T0 + 100 * DAY);
    // Critical from T0 - 93d on; poll hourly for 50 hours starting when it is critical.
    let start = T0 + 95 * DAY;
    for h in 0..50u32 {
        let now = at(start, HOUR * h);
        e.process(&report(now, std::slice::from_ref(&c)), now).await;
    }
    assert_eq!(
        ops.log(),
        [
            "c firing critical",
            "c firing critical",
            "c firing critical"
        ]
    );
    let b = ops.batches();
    assert!(!b[0].alerts[0].reminder && b[1].alerts[0].reminder);
    assert_eq!(b[1].alerts[0].at, start + DAY);
    assert_eq!(b[2].alerts[0].at, start + 2 * DAY);
}

#[tokio::test]
async fn restart_in_the_middle_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let c = saml("c", T0 + 20 * DAY); // warning at T0
    let ops = Recorder::new("ops", Severity::Warning);
    {
        let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops]);
        e.process(&report(T0, std::slice::from_ref(&c)), T0).await;
    }
    assert_eq!(ops.log(), ["c firing warning"]);

    // Restart: same state, same ledger → nothing.
    let ops2 = Recorder::new("ops", Severity::Warning);
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops2]);
    let t1 = T0 + HOUR;
    e.process(&report(t1, std::slice::from_ref(&c)), t1).await;
    assert!(ops2.log().is_empty());

    // A delivery fails, the process restarts before the retry: the new process delivers it once.
    ops2.set(Mode::Retry);
    let t2 = T0 + 14 * DAY; // 6 days left: critical
    e.process(&report(t2, std::slice::from_ref(&c)), t2).await;
    assert_eq!(e.pending(), 1);
    drop(e);

    let ops3 = Recorder::new("ops", Severity::Warning);
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops3]);
    assert_eq!(e.pending(), 1, "pending deliveries survive restarts");
    e.retry_pending(t2 + Duration::from_secs(29)).await;
    assert!(ops3.log().is_empty(), "backoff not elapsed");
    e.retry_pending(t2 + Duration::from_secs(30)).await;
    assert_eq!(ops3.log(), ["c firing critical"]);
    assert_eq!(e.pending(), 0);
    e.retry_pending(t2 + HOUR).await;
    e.process(&report(t2 + HOUR, std::slice::from_ref(&c)), t2 + HOUR)
        .await;
    assert_eq!(ops3.log(), ["c firing critical"], "exactly once");
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 1);
}

/// A notifier that reads the ledger file each time it is asked to send.
#[derive(Debug)]
struct Peek(std::path::PathBuf, Filter, Mutex<Vec<Ledger>>);

impl Peek {
    fn new(state_dir: &std::path::Path) -> Arc<Peek> {
        Arc::new(Peek(
            state_dir.join(ledger::FILE_NAME),
            filter(Severity::Warning),
            Mutex::new(vec![]),
        ))
    }
}

#[async_trait::async_trait]
impl Notifier for Peek {
    fn name(&self) -> &str {
        "peek"
    }
    fn filter(&self) -> &Filter {
        &self.1
    }
    async fn send(&self, _: &Batch) -> Result<(), DeliveryError> {
        self.2.lock().unwrap().push(Ledger::load(&self.0).unwrap());
        Ok(())
    }
}

#[tokio::test]
async fn ledger_is_written_before_delivering() {
    let dir = tempfile::tempdir().unwrap();
    let peek = Peek::new(dir.path());
    let m = Arc::new(Metrics::new(false));
    let e = Engine::with_notifiers(
        alerts_cfg(false),
        dir.path(),
        m,
        clock(),
        vec![peek.clone()],
    )
    .unwrap();
    e.process(&report(T0, &[saml("c", T0 + 3 * DAY)]), T0).await;
    let seen = peek.2.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].entries.len(),
        1,
        "the decision is on disk before the send"
    );
    assert_eq!(seen[0].pending.len(), 1, "and so is the pending delivery");
    let after = Ledger::load(&dir.path().join(ledger::FILE_NAME)).unwrap();
    assert!(after.pending.is_empty(), "outcome recorded after the send");
    assert_eq!(after.entries.len(), 1);
}

#[tokio::test]
async fn each_delivery_is_on_disk_before_the_next_is_sent() {
    // A crash mid-round repeats at most the message being sent: the ledger read during the
    // second send already shows the first as delivered.
    let dir = tempfile::tempdir().unwrap();
    let peek = Peek::new(dir.path());
    let m = Arc::new(Metrics::new(false));
    let e = Engine::with_notifiers(
        alerts_cfg(false),
        dir.path(),
        m,
        clock(),
        vec![peek.clone()],
    )
    .unwrap();
    let certs = [
        saml("a", T0 + 3 * DAY),
        saml("b", T0 + 4 * DAY),
        saml("c", T0 + 5 * DAY),
    ];
    e.process(&report(T0, &certs), T0).await;
    let pending: Vec<usize> = peek
        .2
        .lock()
        .unwrap()
        .iter()
        .map(|l| l.pending.len())
        .collect();
    assert_eq!(pending, vec![3, 2, 1]);
    let after = Ledger::load(&dir.path().join(ledger::FILE_NAME)).unwrap();
    assert!(after.pending.is_empty());
}

#[tokio::test]
async fn retries_with_backoff_then_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    ops.set(Mode::Retry);
    let mut cfg = alerts_cfg(false);
    cfg.give_up_after = 2 * HOUR;
    let (e, m) = engine(dir.path(), cfg, &[&ops]);
    e.process(&report(T0, &[saml("c", T0 + 3 * DAY)]), T0).await;
    assert_eq!(ops.attempts.load(Ordering::SeqCst), 1);
    // The daemon ticks every 30 s for 3 hours.
    for tick in 1..=360u32 {
        e.retry_pending(T0 + Duration::from_secs(30) * tick).await;
    }
    // Attempts at 0, 30s, 1m30, 3m30, 7m30, 15m30, 31m30, 63m30, 2h03m30 (past 2h: give up).
    assert_eq!(ops.attempts.load(Ordering::SeqCst), 9);
    assert_eq!(e.pending(), 0);
    assert_eq!(sent_total(&m, "ops", "critical", "retrying"), 8);
    assert_eq!(sent_total(&m, "ops", "critical", "failed"), 1);
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 0);
}

#[tokio::test]
async fn rejected_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    ops.set(Mode::Reject);
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    e.process(&report(T0, &[saml("c", T0 + 3 * DAY)]), T0).await;
    assert_eq!(e.pending(), 0);
    e.retry_pending(T0 + HOUR).await;
    assert_eq!(ops.attempts.load(Ordering::SeqCst), 1);
    assert_eq!(sent_total(&m, "ops", "critical", "rejected"), 1);
}

#[tokio::test]
async fn a_down_channel_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let down = Recorder::new("down", Severity::Warning);
    let up = Recorder::new("up", Severity::Warning);
    down.set(Mode::Retry);
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&down, &up]);
    let specs = [saml("a", T0 + 3 * DAY), saml("b", T0 + 20 * DAY)];
    e.process(&report(T0, &specs), T0).await;
    assert_eq!(up.log().len(), 2);
    assert_eq!(
        down.attempts.load(Ordering::SeqCst),
        1,
        "one failure per round, the rest wait"
    );
    assert_eq!(e.pending(), 2);
    down.set(Mode::Deliver);
    e.retry_pending(T0 + Duration::from_secs(30)).await;
    assert_eq!(
        down.log().len(),
        2,
        "both delivered once the channel is back"
    );
    assert_eq!(e.pending(), 0);
}

#[tokio::test]
async fn digest_sends_one_message_per_poll_and_channel() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let pager = Recorder::new("pager", Severity::Critical);
    let (e, _) = engine(dir.path(), alerts_cfg(true), &[&ops, &pager]);
    let b_spec = Spec {
        object_id: "con_other".into(),
        ..saml("b", T0 + 20 * DAY)
    };
    let mut specs = vec![saml("a", T0 + 3 * DAY), b_spec];
    specs.push(Spec {
        object_id: "cli_1".into(),
        object_name: "billing".into(),
        kind: "client_credential",
        role: "in_use",
        ..saml("cred", T0 - DAY)
    });
    e.process(&report(T0, &specs), T0).await;
    let b = ops.batches();
    assert_eq!(b.len(), 1);
    assert!(b[0].digest);
    assert_eq!(b[0].alerts.len(), 3);
    assert_eq!(pager.batches().len(), 1);
    assert_eq!(
        pager.batches()[0].alerts.len(),
        2,
        "the pager only gets critical and expired"
    );
    // Next poll, same states: nothing. One certificate removed: one digest with one alert.
    e.process(&report(T0 + HOUR, &specs), T0 + HOUR).await;
    assert_eq!(ops.batches().len(), 1);
    e.process(&report(T0 + 2 * HOUR, &specs[1..]), T0 + 2 * HOUR)
        .await;
    assert_eq!(ops.log()[3..], ["a resolved critical removed"]);
    assert_eq!(ops.batches().len(), 2);
}

#[tokio::test]
async fn non_alerting_roles_never_alert() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    let quiet = |cert_id: &str, kind: &'static str, role: &'static str| Spec {
        kind,
        role,
        alerting: false,
        object_id: cert_id.into(),
        ..saml(cert_id, T0 - 10 * DAY)
    };
    let specs = [
        quiet("prev", "tenant_signing_key", "previous"),
        quiet("revoked", "tenant_signing_key", "revoked"),
        quiet("unused", "client_credential", "unused"),
    ];
    for h in 0..72u32 {
        let now = T0 + HOUR * h;
        e.process(&report(now, &specs), now).await;
    }
    e.process(&report(T0 + 3 * DAY, &[]), T0 + 3 * DAY).await;
    assert!(ops.log().is_empty());
}

#[tokio::test]
async fn a_tenant_that_is_down_resolves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    let c = saml("c", T0 + 3 * DAY);
    e.process(&report(T0, std::slice::from_ref(&c)), T0).await;
    e.process(&report_up(T0 + HOUR, &[], false), T0 + HOUR)
        .await;
    assert_eq!(ops.log(), ["c firing critical"]);
    e.process(&report(T0 + 2 * HOUR, &[]), T0 + 2 * HOUR).await;
    assert_eq!(
        ops.log(),
        ["c firing critical", "c resolved critical removed"]
    );
}

#[tokio::test]
async fn corrupt_ledger_is_moved_aside_without_an_alert_storm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ledger::FILE_NAME);
    std::fs::write(&path, b"{\"version\": 1, \"entries\": [tru").unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let logs = LogCapture::start();
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    let aside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("alerts.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "moved aside");
    assert!(!path.exists() || Ledger::load(&path).is_ok());

    let specs = [
        saml("a", T0 + 3 * DAY),
        saml("b", T0 + 20 * DAY),
        saml("x", T0 - DAY),
        saml("ok", T0 + 90 * DAY),
    ];
    e.process(&report(T0, &specs), T0).await;
    assert!(ops.log().is_empty(), "no storm: {:?}", ops.log());
    assert!(
        logs.text().contains("alert ledger unusable"),
        "{}",
        logs.text()
    );
    assert!(logs.text().contains("already notified"));
    // Normal service afterwards: a state change fires, reminders resume after repeat_interval.
    let t1 = T0 + 14 * DAY; // b: 6 days left → critical
    e.process(&report(t1, &specs), t1).await;
    assert_eq!(
        ops.log(),
        ["a firing expired", "b firing critical", "x firing expired"]
    );
    assert!(Ledger::load(&path).is_ok(), "a fresh ledger was written");
}

#[tokio::test]
async fn a_corrupt_ledger_is_moved_aside_at_the_injected_clock_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(ledger::FILE_NAME), b"not json").unwrap();
    let later = T0 + 3 * DAY;
    let m = Arc::new(Metrics::new(false));
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::ManualClock::new(later));
    Engine::with_notifiers(alerts_cfg(false), dir.path(), m, clock, vec![]).unwrap();
    let aside = format!("alerts.json.corrupt-{}", later.unix_timestamp());
    assert!(
        dir.path().join(aside).exists(),
        "named after the engine's clock, not the wall clock"
    );
}

#[tokio::test]
async fn duplicate_channel_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = Recorder::new("ops", Severity::Warning);
    let b = Recorder::new("ops", Severity::Critical);
    let err = Engine::with_notifiers(
        alerts_cfg(false),
        dir.path(),
        Arc::new(Metrics::new(false)),
        clock(),
        notifiers(&[&a, &b]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("ops"), "{err}");
}

#[tokio::test]
async fn state_dir_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/state");
    let ops = Recorder::new("ops", Severity::Warning);
    let (e, _) = engine(&nested, alerts_cfg(false), &[&ops]);
    e.process(&report(T0, &[saml("c", T0 + 3 * DAY)]), T0).await;
    assert!(nested.join(ledger::FILE_NAME).exists());
}

#[test]
fn engine_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Engine>();
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[]);
    let r = report(T0, &[]);
    let process = e.process(&r, T0);
    assert_send(&process);
    let retry = e.retry_pending(T0);
    assert_send(&retry);
}

#[tokio::test]
async fn a_channel_that_stays_down_gives_up_on_everything_queued() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    ops.set(Mode::Retry);
    let mut cfg = alerts_cfg(false);
    cfg.give_up_after = HOUR;
    let (e, m) = engine(dir.path(), cfg, &[&ops]);
    let other = Spec {
        object_id: "con_other".into(),
        ..saml("b", T0 + 20 * DAY)
    };
    e.process(&report(T0, &[saml("a", T0 + 3 * DAY), other]), T0)
        .await;
    assert_eq!(
        ops.attempts.load(Ordering::SeqCst),
        1,
        "the second waits behind the first"
    );
    assert_eq!(e.pending(), 2);
    e.retry_pending(T0 + 2 * HOUR).await;
    assert_eq!(ops.attempts.load(Ordering::SeqCst), 2);
    assert_eq!(e.pending(), 0);
    assert_eq!(sent_total(&m, "ops", "critical", "failed"), 1);
    assert_eq!(sent_total(&m, "ops", "warning", "failed"), 1);
}

#[tokio::test]
async fn pending_for_a_removed_channel_is_dropped_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let old = Recorder::new("old", Severity::Warning);
    old.set(Mode::Retry);
    {
        let (e, _) = engine(dir.path(), alerts_cfg(false), &[&old]);
        e.process(&report(T0, &[saml("a", T0 + 3 * DAY)]), T0).await;
        assert_eq!(e.pending(), 1);
    }
    let new = Recorder::new("new", Severity::Warning);
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&new]);
    e.retry_pending(T0 + HOUR).await;
    assert_eq!(e.pending(), 0);
    assert_eq!(sent_total(&m, "old", "critical", "failed"), 1);
    assert!(
        new.log().is_empty(),
        "a new channel does not inherit another's queue"
    );
}

fn rotation(object_id: &str, outcome: RotationOutcome) -> RotationEvent {
    RotationEvent {
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        object_id: object_id.into(),
        object_name: format!("{object_id}-idp"),
        outcome,
        message: "PATCH /api/v2/connections: HTTP 503 Service Unavailable".into(),
    }
}

#[tokio::test]
async fn rotation_problems_are_sent_repeated_forgotten_and_survive_restarts() {
    use RotationOutcome::{Blocked, Failed, RolledBack};
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let pager = Recorder::new("pager", Severity::Critical);
    let creds_only = Recorder::filtered(
        "creds",
        Filter {
            kinds: vec![Kind::ClientCredential],
            ..filter(Severity::Warning)
        },
    );
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops, &pager, &creds_only]);
    let failed = rotation("con_1", Failed);
    let blocked = rotation("con_2", Blocked);

    e.notify_rotation(&[failed.clone(), blocked.clone()], T0)
        .await;
    assert_eq!(
        ops.rotation_log(),
        ["con_1 failed critical", "con_2 blocked warning"]
    );
    assert_eq!(
        pager.rotation_log(),
        ["con_1 failed critical"],
        "min_severity"
    );
    assert!(creds_only.batches().is_empty(), "kind filter");
    assert!(ops.log().is_empty(), "no certificate alerts");
    assert_eq!(
        render::email(&ops.batches()[0]).subject,
        "[certwatch] CRITICAL prod: rotation of SAML connection 'con_1-idp' signing certificate failed"
    );

    // Persists: quiet. A certificate poll in between leaves rotation problems alone.
    e.notify_rotation(&[failed.clone(), blocked.clone()], T0 + HOUR)
        .await;
    e.process(&report(T0 + HOUR, &[]), T0 + HOUR).await;
    // con_1 no longer reported: forgotten, no message.
    e.notify_rotation(std::slice::from_ref(&blocked), T0 + 2 * HOUR)
        .await;
    assert_eq!(ops.rotation_log().len(), 2);
    // repeat_interval after the first notification: a reminder for what persists.
    e.notify_rotation(std::slice::from_ref(&blocked), T0 + DAY)
        .await;
    assert_eq!(ops.rotation_log()[2..], ["con_2 blocked warning reminder"]);
    assert_eq!(pager.rotation_log().len(), 1);
    // con_1 fails again after having cleared: new.
    e.notify_rotation(&[failed.clone(), blocked.clone()], T0 + DAY + HOUR)
        .await;
    assert_eq!(ops.rotation_log()[3..], ["con_1 failed critical"]);
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 2);
    assert_eq!(sent_total(&m, "ops", "warning", "delivered"), 2);
    assert_eq!(sent_total(&m, "pager", "critical", "delivered"), 2);
    drop(e);

    // Restart: the ledger remembers, nothing is sent twice.
    let ops2 = Recorder::new("ops", Severity::Warning);
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops2]);
    let t = T0 + DAY + 2 * HOUR;
    e.notify_rotation(&[failed.clone(), blocked.clone()], t)
        .await;
    assert!(ops2.batches().is_empty());

    // Retried with backoff like certificate alerts.
    ops2.set(Mode::Retry);
    let rolled_back = rotation("con_3", RolledBack);
    e.notify_rotation(&[failed, blocked, rolled_back], t).await;
    assert_eq!(e.pending(), 1);
    ops2.set(Mode::Deliver);
    e.retry_pending(t + Duration::from_secs(29)).await;
    assert_eq!(e.pending(), 1, "backoff not elapsed");
    e.retry_pending(t + Duration::from_secs(30)).await;
    assert_eq!(e.pending(), 0);
    assert_eq!(ops2.rotation_log(), ["con_3 rolled_back critical"]);
    assert_eq!(sent_total(&m, "ops", "critical", "retrying"), 1);
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 1);

    // Nothing reported: every entry is forgotten.
    e.notify_rotation(&[], t + HOUR).await;
    let l = Ledger::load(&dir.path().join(ledger::FILE_NAME)).unwrap();
    assert!(l.rotations.is_empty());
}

#[tokio::test]
async fn rotation_digest_is_one_message_per_pass_and_channel() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let (e, _) = engine(dir.path(), alerts_cfg(true), &[&ops]);
    let mut other = rotation("con_2", RotationOutcome::Blocked);
    other.tenant = "staging".into();
    e.notify_rotation(&[rotation("con_1", RotationOutcome::Failed), other], T0)
        .await;
    let b = ops.batches();
    assert_eq!(b.len(), 1);
    assert!(b[0].digest && b[0].alerts.is_empty());
    assert_eq!(b[0].rotations.len(), 2);
    assert_eq!(
        render::email(&b[0]).subject,
        "[certwatch] CRITICAL 2 rotation alerts for prod, staging"
    );
}
