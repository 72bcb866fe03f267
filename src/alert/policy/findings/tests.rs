//! `decide_findings`, `seed_findings` and `route` of finding alerts: new, escalation, reminder,
//! resolve, tenants that are not up, info, identity, filters.

use super::*;
use crate::alert::policy::route;
use crate::alert::policy::test_support::{DAY, SETTINGS, T0, channel_filters};
use crate::findings::FindingKind;
use crate::report::TenantReport;

use AlertStatus::{Firing, Resolved};
use FindingKind::{CredentialLimitReached, IdpCertificateWithdrawn, NoNextSigningKey};
use Severity::{Critical, Warning};

fn finding(kind: FindingKind, object_id: &str, severity: FindingSeverity) -> Finding {
    Finding {
        tenant: "prod".into(),
        finding: kind,
        object_kind: "connection_signing_cert",
        object_id: object_id.into(),
        object_name: format!("{object_id}-idp"),
        severity,
        message: "the IdP no longer publishes certificate 3f1c".into(),
        sha1: Some("3f1c".into()),
        not_after: Some(T0 + time::Duration::days(20)),
        owner: None,
    }
}

fn withdrawn(severity: FindingSeverity) -> Finding {
    finding(IdpCertificateWithdrawn, "con_1", severity)
}

fn tenant(name: &str, up: bool) -> TenantReport {
    TenantReport {
        name: name.into(),
        domain: format!("{name}.eu.auth0.com"),
        up,
        last_success: None,
        errors: vec![],
    }
}

fn report(up: bool, findings: Vec<Finding>) -> Report {
    Report {
        generated_at: T0,
        tenants: vec![tenant("prod", up)],
        certificates: vec![],
        findings,
        idp_documents: vec![],
        custom_domains: vec![],
    }
}

/// `(object_id, status, severity, reminder)` of each alert.
fn run(
    e: &mut FindingEntries,
    r: &Report,
    now: OffsetDateTime,
) -> Vec<(String, AlertStatus, Severity, bool)> {
    decide_findings(e, r, SETTINGS, now)
        .into_iter()
        .map(|a| (a.finding.object_id, a.status, a.severity, a.reminder))
        .collect()
}

fn at(secs: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(secs)
}

#[test]
fn info_never_fires_and_a_new_finding_fires_once() {
    let mut e = FindingEntries::new();
    let info = finding(
        FindingKind::UnusedCredential,
        "cli_1",
        FindingSeverity::Info,
    );
    assert!(run(&mut e, &report(true, vec![info.clone()]), T0).is_empty());
    assert!(e.is_empty(), "info findings are not tracked");
    let r = report(true, vec![info, withdrawn(FindingSeverity::Critical)]);
    assert_eq!(
        run(&mut e, &r, T0),
        vec![("con_1".into(), Firing, Critical, false)]
    );
    assert!(run(&mut e, &r, at(3600)).is_empty(), "same finding twice");
    let a = &decide_findings(&mut FindingEntries::new(), &r, SETTINGS, T0)[0];
    assert_eq!(a.object_kind, "connection_signing_cert");
    assert_eq!(a.finding.kind, "idp_certificate_withdrawn");
    assert_eq!(a.finding.severity, "critical");
    assert_eq!(a.first_notified, T0);
}

#[test]
fn a_rise_fires_a_fall_is_quiet() {
    let mut e = FindingEntries::new();
    run(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Warning)]),
        T0,
    );
    let crit = report(true, vec![withdrawn(FindingSeverity::Critical)]);
    let warn = report(true, vec![withdrawn(FindingSeverity::Warning)]);
    assert_eq!(
        run(&mut e, &crit, at(60)),
        vec![("con_1".into(), Firing, Critical, false)]
    );
    assert!(run(&mut e, &warn, at(120)).is_empty(), "lower: quiet");
    let entry = e.values().next().unwrap();
    assert_eq!((entry.severity, entry.max_severity), (Warning, Critical));
    assert_eq!(entry.finding.severity, "warning", "the record is refreshed");
    assert_eq!(
        run(&mut e, &crit, at(180)),
        vec![("con_1".into(), Firing, Critical, false)],
        "rising again after falling fires again"
    );
}

#[test]
fn reminder_every_repeat_interval_while_present() {
    let mut e = FindingEntries::new();
    let r = report(true, vec![withdrawn(FindingSeverity::Warning)]);
    run(&mut e, &r, T0);
    assert!(run(&mut e, &r, at(DAY - 1)).is_empty());
    let alerts = decide_findings(&mut e, &r, SETTINGS, at(DAY));
    assert_eq!(alerts.len(), 1, "exactly repeat_interval later re-notifies");
    assert!(alerts[0].reminder);
    assert_eq!(alerts[0].status, Firing);
    assert_eq!(alerts[0].first_notified, T0);
    assert_eq!(alerts[0].at, at(DAY));
    assert!(run(&mut e, &r, at(2 * DAY - 1)).is_empty());
    assert_eq!(
        run(&mut e, &r, at(2 * DAY)),
        vec![("con_1".into(), Firing, Warning, true)]
    );
}

#[test]
fn disappearing_resolves_once_with_the_worst_severity() {
    let mut e = FindingEntries::new();
    run(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Critical)]),
        T0,
    );
    run(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Warning)]),
        at(60),
    );
    let alerts = decide_findings(&mut e, &report(true, vec![]), SETTINGS, at(120));
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(
        (a.status, a.severity, a.reminder),
        (Resolved, Critical, false)
    );
    assert_eq!(a.finding.severity, "warning", "the record as last seen");
    assert_eq!(a.first_notified, T0);
    assert!(e.is_empty());
    assert!(
        run(&mut e, &report(true, vec![]), at(180)).is_empty(),
        "once"
    );
    assert_eq!(
        run(
            &mut e,
            &report(true, vec![withdrawn(FindingSeverity::Warning)]),
            at(240)
        ),
        vec![("con_1".into(), Firing, Warning, false)],
        "back after resolving: a new episode"
    );
}

#[test]
fn dropping_to_info_resolves() {
    let mut e = FindingEntries::new();
    run(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Warning)]),
        T0,
    );
    assert_eq!(
        run(
            &mut e,
            &report(true, vec![withdrawn(FindingSeverity::Info)]),
            at(60)
        ),
        vec![("con_1".into(), Resolved, Warning, false)]
    );
    assert!(e.is_empty());
}

#[test]
fn a_tenant_that_is_not_up_keeps_its_entries_untouched() {
    let mut e = FindingEntries::new();
    run(
        &mut e,
        &report(
            true,
            vec![
                withdrawn(FindingSeverity::Critical),
                finding(
                    NoNextSigningKey,
                    "prod.eu.auth0.com",
                    FindingSeverity::Warning,
                ),
            ],
        ),
        T0,
    );
    let before = e.clone();
    let down = |f: Vec<Finding>| report(false, f);
    assert!(run(&mut e, &down(vec![]), at(60)).is_empty(), "no resolve");
    let later = at(3 * DAY);
    assert!(
        run(
            &mut e,
            &down(vec![withdrawn(FindingSeverity::Critical)]),
            later
        )
        .is_empty(),
        "no reminder"
    );
    assert!(
        run(
            &mut e,
            &down(vec![withdrawn(FindingSeverity::Warning)]),
            later
        )
        .is_empty(),
        "no quiet update"
    );
    assert!(
        run(&mut e, &down(vec![withdrawn(FindingSeverity::Info)]), later).is_empty(),
        "no resolve through info"
    );
    let mut absent = report(true, vec![]);
    absent.tenants[0].name = "staging".into();
    assert!(
        run(&mut e, &absent, later).is_empty(),
        "tenant absent: same"
    );
    assert_eq!(e, before);

    // What a down tenant's poll did read still counts: new or worse fires.
    let new = finding(CredentialLimitReached, "cli_1", FindingSeverity::Warning);
    let worse = finding(
        NoNextSigningKey,
        "prod.eu.auth0.com",
        FindingSeverity::Critical,
    );
    assert_eq!(
        run(&mut e, &down(vec![new, worse]), later),
        vec![
            ("cli_1".into(), Firing, Warning, false),
            ("prod.eu.auth0.com".into(), Firing, Critical, false),
        ]
    );
    // Up again: reminders and resolves resume.
    let r = report(true, vec![withdrawn(FindingSeverity::Critical)]);
    assert_eq!(
        run(&mut e, &r, later),
        vec![
            ("con_1".into(), Firing, Critical, true),
            ("cli_1".into(), Resolved, Warning, false),
            ("prod.eu.auth0.com".into(), Resolved, Critical, false),
        ]
    );
}

#[test]
fn identity_is_tenant_kind_object_and_sha1_and_the_first_duplicate_wins() {
    let mut e = FindingEntries::new();
    let a = withdrawn(FindingSeverity::Warning);
    let mut other_cert = a.clone();
    other_cert.sha1 = Some("9e9e".into());
    let mut no_sha1 = a.clone();
    no_sha1.sha1 = None;
    let mut other_kind = a.clone();
    other_kind.finding = FindingKind::IdpNewCertificate;
    let mut other_tenant = a.clone();
    other_tenant.tenant = "staging".into();
    let mut dup = a.clone();
    dup.message = "second".into();
    dup.severity = FindingSeverity::Critical;
    let r = Report {
        tenants: vec![tenant("prod", true), tenant("staging", true)],
        ..report(
            true,
            vec![
                a.clone(),
                other_cert,
                no_sha1,
                other_kind,
                other_tenant,
                dup,
            ],
        )
    };
    let alerts = decide_findings(&mut e, &r, SETTINGS, T0);
    assert_eq!(alerts.len(), 5);
    assert!(
        alerts.iter().all(|a| a.severity == Warning),
        "of duplicates the first wins"
    );
    assert_eq!(e.len(), 5);
    assert!(e.contains_key(&FindingKey {
        tenant: "prod".into(),
        kind: "idp_certificate_withdrawn".into(),
        object_id: "con_1".into(),
        sha1: String::new(),
    }));
    // The message is not part of the identity.
    let mut reworded = a;
    reworded.message = "reworded".into();
    let mut r2 = r.clone();
    r2.findings[0] = reworded;
    assert!(decide_findings(&mut e, &r2, SETTINGS, at(60)).is_empty());
}

#[test]
fn send_resolved_false_drops_resolved_but_forgets() {
    let mut e = FindingEntries::new();
    let s = Settings {
        send_resolved: false,
        ..SETTINGS
    };
    decide_findings(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Warning)]),
        s,
        T0,
    );
    assert!(decide_findings(&mut e, &report(true, vec![]), s, at(60)).is_empty());
    assert!(e.is_empty());
}

#[test]
fn seed_marks_warning_and_critical_as_notified() {
    let mut e = FindingEntries::new();
    let r = report(
        true,
        vec![
            withdrawn(FindingSeverity::Critical),
            finding(
                FindingKind::UnusedCredential,
                "cli_1",
                FindingSeverity::Info,
            ),
        ],
    );
    assert_eq!(seed_findings(&mut e, &r, T0), 1);
    assert_eq!(seed_findings(&mut e, &r, T0), 0, "idempotent");
    assert!(run(&mut e, &r, at(60)).is_empty());
    assert_eq!(
        run(&mut e, &r, at(DAY)),
        vec![("con_1".into(), Firing, Critical, true)],
        "reminders resume"
    );
    assert_eq!(
        run(&mut e, &report(true, vec![]), at(DAY)),
        vec![("con_1".into(), Resolved, Critical, false)],
        "and it still resolves"
    );
}

#[test]
fn routing_applies_severity_tenant_and_object_kind_filters() {
    let mut e = FindingEntries::new();
    let mut cred = finding(CredentialLimitReached, "cli_1", FindingSeverity::Warning);
    cred.object_kind = "client_credential";
    let mut domain = finding(
        FindingKind::CustomDomainCertificateFailed,
        "cd_1",
        FindingSeverity::Critical,
    );
    domain.object_kind = "custom_domain";
    let mut staging = withdrawn(FindingSeverity::Warning);
    staging.tenant = "staging".into();
    staging.object_id = "con_9".into();
    let r = Report {
        tenants: vec![tenant("prod", true), tenant("staging", true)],
        ..report(
            true,
            vec![withdrawn(FindingSeverity::Critical), cred, domain, staging],
        )
    };
    let alerts = decide_findings(&mut e, &r, SETTINGS, T0);
    let filters = channel_filters();
    let chans = filters.each_ref().map(|(n, f)| (*n, f));
    let single = route(&alerts, chans, false);
    let got: Vec<(&str, &str)> = single
        .iter()
        .map(|(n, b)| (n.as_str(), b.findings[0].finding.object_id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("all", "con_1"),
            ("all", "cli_1"),
            ("all", "cd_1"),
            ("all", "con_9"),
            ("crit", "con_1"),
            ("crit", "cd_1"),
            ("staging", "con_9"),
            ("creds", "cli_1"),
        ]
    );
    assert!(
        single
            .iter()
            .all(|(_, b)| b.alerts.is_empty() && b.rotations.is_empty() && !b.digest)
    );
    let digest = route(&alerts, chans, true);
    assert_eq!(digest.len(), 4);
    assert_eq!(digest[0].1.findings.len(), 4);
    assert!(digest.iter().all(|(_, b)| b.digest));

    // Resolved is routed by the worst severity of the episode: the pager sees it close.
    let mut e = FindingEntries::new();
    decide_findings(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Critical)]),
        SETTINGS,
        T0,
    );
    decide_findings(
        &mut e,
        &report(true, vec![withdrawn(FindingSeverity::Warning)]),
        SETTINGS,
        at(60),
    );
    let resolved = decide_findings(&mut e, &report(true, vec![]), SETTINGS, at(120));
    let routed = route(&resolved, [chans[1]], false);
    assert_eq!(routed[0].0, "crit");
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].1.findings[0].status, Resolved);
}
