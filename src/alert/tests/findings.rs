//! Finding alerts through the engine: channels and filters, retries and the counter, restarts,
//! a lost ledger, digests, and independence from certificate and rotation alerts.

use super::*;
use crate::alert::ledger::{self, Ledger};
use crate::alert::{Engine, render};
use crate::findings::{Finding, FindingKind, FindingSeverity};
use crate::inventory::Kind;

fn engine(dir: &std::path::Path, cfg: Alerts, rs: &[&Arc<Recorder>]) -> (Engine, Arc<Metrics>) {
    let m = Arc::new(Metrics::new(false));
    let e = Engine::with_notifiers(cfg, dir, m.clone(), clock(), notifiers(rs)).unwrap();
    (e, m)
}

fn finding(kind: FindingKind, object_id: &str, severity: FindingSeverity) -> Finding {
    let object_kind = match kind {
        FindingKind::CredentialLimitReached => "client_credential",
        FindingKind::NoNextSigningKey => "tenant_signing_key",
        _ => "connection_signing_cert",
    };
    Finding {
        tenant: "prod".into(),
        finding: kind,
        object_kind,
        object_id: object_id.into(),
        object_name: format!("{object_id}-name"),
        severity,
        message: format!("{} on {object_id}", kind.as_str()),
        sha1: Some("3f1c".into()),
        not_after: None,
        owner: None,
    }
}

fn withdrawn(severity: FindingSeverity) -> Finding {
    finding(FindingKind::IdpCertificateWithdrawn, "con_1", severity)
}

fn limit() -> Finding {
    finding(
        FindingKind::CredentialLimitReached,
        "cli_1",
        FindingSeverity::Warning,
    )
}

/// A report of `findings` for tenant `prod` (up or not), with no certificates.
fn with_findings(now: OffsetDateTime, up: bool, findings: Vec<Finding>) -> Report {
    Report {
        findings,
        ..report_up(now, &[], up)
    }
}

#[tokio::test]
async fn findings_fire_escalate_remind_and_resolve_through_filtered_channels() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let pager = Recorder::new("pager", Severity::Critical);
    let creds = Recorder::filtered(
        "creds",
        Filter {
            kinds: vec![Kind::ClientCredential],
            ..filter(Severity::Warning)
        },
    );
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops, &pager, &creds]);
    let info = finding(
        FindingKind::UnusedCredential,
        "cli_2",
        FindingSeverity::Info,
    );

    let r = |now, f: Vec<Finding>| with_findings(now, true, f);
    e.notify_findings(
        &r(
            T0,
            vec![withdrawn(FindingSeverity::Warning), limit(), info.clone()],
        ),
        T0,
    )
    .await;
    assert_eq!(
        ops.finding_log(),
        ["con_1 firing warning", "cli_1 firing warning"]
    );
    assert!(pager.batches().is_empty(), "min_severity");
    assert_eq!(creds.finding_log(), ["cli_1 firing warning"], "kinds");
    assert!(ops.log().is_empty() && ops.rotation_log().is_empty());

    // Same findings: quiet; a certificate poll in between leaves them alone.
    let t1 = T0 + HOUR;
    e.notify_findings(
        &r(t1, vec![withdrawn(FindingSeverity::Warning), limit()]),
        t1,
    )
    .await;
    e.process(&report(t1, &[]), t1).await;
    assert_eq!(ops.finding_log().len(), 2);

    // Escalation reaches the pager.
    let t2 = T0 + 2 * HOUR;
    e.notify_findings(
        &r(t2, vec![withdrawn(FindingSeverity::Critical), limit()]),
        t2,
    )
    .await;
    assert_eq!(ops.finding_log()[2..], ["con_1 firing critical"]);
    assert_eq!(pager.finding_log(), ["con_1 firing critical"]);
    assert_eq!(
        render::email(&pager.batches()[0]).subject,
        "[certwatch] CRITICAL prod: connection 'con_1-name' idp_certificate_withdrawn — idp_certificate_withdrawn on con_1"
    );

    // repeat_interval after the last notification of each: reminders.
    let t3 = T0 + DAY;
    e.notify_findings(
        &r(t3, vec![withdrawn(FindingSeverity::Critical), limit()]),
        t3,
    )
    .await;
    assert_eq!(ops.finding_log()[3..], ["cli_1 firing warning reminder"]);
    let t4 = T0 + 2 * HOUR + DAY;
    e.notify_findings(
        &r(t4, vec![withdrawn(FindingSeverity::Critical), limit()]),
        t4,
    )
    .await;
    assert_eq!(ops.finding_log()[4..], ["con_1 firing critical reminder"]);

    // Gone while the tenant is down: nothing. Gone while up: resolved once, routed by the worst.
    let t5 = t4 + HOUR;
    e.notify_findings(&with_findings(t5, false, vec![]), t5)
        .await;
    assert_eq!(ops.finding_log().len(), 5);
    e.notify_findings(&r(t5, vec![limit()]), t5).await;
    assert_eq!(ops.finding_log()[5..], ["con_1 resolved critical"]);
    assert_eq!(pager.finding_log()[2..], ["con_1 resolved critical"]);
    e.notify_findings(&r(t5 + HOUR, vec![limit()]), t5 + HOUR)
        .await;
    assert_eq!(ops.finding_log().len(), 6, "resolved once");

    assert_eq!(sent_total(&m, "ops", "warning", "delivered"), 3);
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 2);
    assert_eq!(sent_total(&m, "ops", "resolved", "delivered"), 1);
    assert_eq!(sent_total(&m, "pager", "resolved", "delivered"), 1);
    assert_eq!(sent_total(&m, "creds", "warning", "delivered"), 2);
    let l = Ledger::load(&dir.path().join(ledger::FILE_NAME)).unwrap();
    assert_eq!(l.findings.len(), 1, "only the credential limit is open");
    assert!(l.entries.is_empty() && l.rotations.is_empty());
}

#[tokio::test]
async fn finding_alerts_are_retried_and_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    ops.set(Mode::Retry);
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    let r = with_findings(T0, true, vec![withdrawn(FindingSeverity::Critical)]);
    e.notify_findings(&r, T0).await;
    assert_eq!(e.pending(), 1);
    assert_eq!(sent_total(&m, "ops", "critical", "retrying"), 1);
    drop(e);

    // Restart: the pending delivery resumes, and the finding is not decided again.
    let ops = Recorder::new("ops", Severity::Warning);
    let (e, m) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    assert_eq!(e.pending(), 1);
    e.notify_findings(&r, T0 + Duration::from_secs(10)).await;
    assert!(ops.batches().is_empty(), "backoff not elapsed");
    e.retry_pending(T0 + Duration::from_secs(30)).await;
    assert_eq!(ops.finding_log(), ["con_1 firing critical"]);
    assert_eq!(e.pending(), 0);
    e.notify_findings(&r, T0 + HOUR).await;
    assert_eq!(ops.finding_log().len(), 1, "delivered exactly once");
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 1);

    // Rejected: dropped and counted, never retried.
    ops.set(Mode::Reject);
    e.notify_findings(&with_findings(T0 + HOUR, true, vec![]), T0 + HOUR)
        .await;
    assert_eq!(e.pending(), 0);
    assert_eq!(sent_total(&m, "ops", "resolved", "rejected"), 1);
}

#[tokio::test]
async fn a_lost_ledger_treats_current_findings_as_notified() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(ledger::FILE_NAME),
        b"{\"version\": 1, \"findings\": [",
    )
    .unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let logs = LogCapture::start();
    let (e, _) = engine(dir.path(), alerts_cfg(false), &[&ops]);
    let r = with_findings(T0, true, vec![withdrawn(FindingSeverity::Warning), limit()]);
    // The certificate poll runs first: the findings keep their own seeding.
    e.process(&report(T0, &[]), T0).await;
    e.notify_findings(&r, T0).await;
    assert!(
        ops.batches().is_empty(),
        "no storm: {:?}",
        ops.finding_log()
    );
    assert!(
        logs.text()
            .contains("treating every warning or critical finding as already notified")
    );

    // Normal service afterwards: escalation, resolve and reminders.
    let t1 = T0 + HOUR;
    e.notify_findings(
        &with_findings(t1, true, vec![withdrawn(FindingSeverity::Critical)]),
        t1,
    )
    .await;
    assert_eq!(
        ops.finding_log(),
        ["con_1 firing critical", "cli_1 resolved warning"]
    );
    let t2 = T0 + HOUR + DAY;
    e.notify_findings(
        &with_findings(t2, true, vec![withdrawn(FindingSeverity::Critical)]),
        t2,
    )
    .await;
    assert_eq!(ops.finding_log()[2..], ["con_1 firing critical reminder"]);
}

#[tokio::test]
async fn digest_sends_one_message_per_check_and_channel() {
    let dir = tempfile::tempdir().unwrap();
    let ops = Recorder::new("ops", Severity::Warning);
    let pager = Recorder::new("pager", Severity::Critical);
    let (e, m) = engine(dir.path(), alerts_cfg(true), &[&ops, &pager]);
    let mut staging = withdrawn(FindingSeverity::Warning);
    staging.tenant = "staging".into();
    let mut r = with_findings(
        T0,
        true,
        vec![withdrawn(FindingSeverity::Critical), limit(), staging],
    );
    r.tenants.push(crate::report::TenantReport {
        name: "staging".into(),
        ..r.tenants[0].clone()
    });
    e.notify_findings(&r, T0).await;
    let b = ops.batches();
    assert_eq!(b.len(), 1);
    assert!(b[0].digest && b[0].alerts.is_empty() && b[0].rotations.is_empty());
    assert_eq!(b[0].findings.len(), 3);
    assert_eq!(
        render::email(&b[0]).subject,
        "[certwatch] CRITICAL 3 findings for prod, staging"
    );
    assert_eq!(pager.batches().len(), 1);
    assert_eq!(pager.batches()[0].findings.len(), 1);
    assert_eq!(sent_total(&m, "ops", "warning", "delivered"), 2);
    assert_eq!(sent_total(&m, "ops", "critical", "delivered"), 1);
    e.notify_findings(&r, T0 + HOUR).await;
    assert_eq!(ops.batches().len(), 1, "nothing new: no message");
}
