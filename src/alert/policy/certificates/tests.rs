//! `decide`, `seed` and `route` for certificates: first sighting, escalation, reminders,
//! renewed and removed, tenants that are down, non-alerting roles, filters and digests.

use super::*;
use crate::alert::policy::route;
use crate::alert::policy::test_support::{DAY, SETTINGS, T0};
use crate::config::Filter;
use crate::inventory::Kind;
use crate::report::TenantReport;

fn cert(cert_id: &str, status: Status, days: i64) -> CertificateReport {
    CertificateReport {
        tenant: "prod".into(),
        kind: "connection_signing_cert".into(),
        role: "active".into(),
        object_id: "con_1".into(),
        object_name: "acme-idp".into(),
        cert_id: cert_id.into(),
        subject: Some("CN=acme".into()),
        issuer: Some("CN=acme".into()),
        serial: Some("01".into()),
        sha1: Some(cert_id.into()),
        sha256: None,
        not_before: None,
        not_after: Some(T0 + time::Duration::days(days)),
        expires_in_seconds: Some(days * DAY),
        status,
        error: None,
        alerting: true,
        owner: None,
        key_use: None,
    }
}

fn report(up: bool, certs: Vec<CertificateReport>) -> Report {
    Report {
        generated_at: T0,
        tenants: vec![TenantReport {
            name: "prod".into(),
            domain: "acme.eu.auth0.com".into(),
            up,
            last_success: None,
            errors: vec![],
        }],
        certificates: certs,
        findings: vec![],
        idp_documents: vec![],
        custom_domains: vec![],
    }
}

fn run(
    entries: &mut Entries,
    r: &Report,
    now: OffsetDateTime,
) -> Vec<(AlertStatus, Severity, Option<Resolution>)> {
    decide(entries, r, SETTINGS, now)
        .into_iter()
        .map(|a| (a.status, a.severity, a.resolution))
        .collect()
}

use AlertStatus::{Firing, Resolved};
use Severity::{Critical, Expired, Warning};

#[test]
fn ok_never_fires_and_first_sighting_fires_once() {
    let mut e = Entries::new();
    assert!(run(&mut e, &report(true, vec![cert("a", Status::Ok, 90)]), T0).is_empty());
    assert!(e.is_empty(), "ok certificates are not tracked");
    let r = report(true, vec![cert("a", Status::Warning, 20)]);
    assert_eq!(run(&mut e, &r, T0), vec![(Firing, Warning, None)]);
    assert!(
        run(&mut e, &r, T0 + time::Duration::hours(1)).is_empty(),
        "same state twice"
    );
}

#[test]
fn worse_fires_better_is_quiet() {
    let mut e = Entries::new();
    run(
        &mut e,
        &report(true, vec![cert("a", Status::Warning, 20)]),
        T0,
    );
    let t = T0 + time::Duration::hours(1);
    assert_eq!(
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Critical, 5)]),
            t
        ),
        vec![(Firing, Critical, None)]
    );
    assert!(
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Warning, 8)]),
            t
        )
        .is_empty()
    );
    assert_eq!(e.values().next().unwrap().severity, Warning);
    assert_eq!(e.values().next().unwrap().max_severity, Critical);
    assert_eq!(
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Critical, 5)]),
            t
        ),
        vec![(Firing, Critical, None)],
        "worse again after improving fires again"
    );
    assert_eq!(
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Expired, -1)]),
            t
        ),
        vec![(Firing, Expired, None)]
    );
}

#[test]
fn repeat_interval_boundary() {
    let mut e = Entries::new();
    let r = report(true, vec![cert("a", Status::Critical, 5)]);
    run(&mut e, &r, T0);
    let just_before = T0 + time::Duration::seconds(DAY - 1);
    assert!(run(&mut e, &r, just_before).is_empty());
    let at = T0 + time::Duration::seconds(DAY);
    let alerts = decide(&mut e, &r, SETTINGS, at);
    assert_eq!(alerts.len(), 1, "exactly repeat_interval later re-notifies");
    assert!(alerts[0].reminder);
    assert!(run(&mut e, &r, at + time::Duration::seconds(DAY - 1)).is_empty());
    assert_eq!(run(&mut e, &r, at + time::Duration::seconds(DAY)).len(), 1);
}

#[test]
fn back_to_ok_resolves_renewed_once() {
    let mut e = Entries::new();
    run(
        &mut e,
        &report(true, vec![cert("a", Status::Critical, 5)]),
        T0,
    );
    let r = report(true, vec![cert("a", Status::Ok, 300)]);
    assert_eq!(
        run(&mut e, &r, T0),
        vec![(Resolved, Critical, Some(Resolution::Renewed))]
    );
    assert!(run(&mut e, &r, T0).is_empty());
    assert!(e.is_empty());
}

#[test]
fn new_cert_on_same_object_resolves_renewed() {
    let mut e = Entries::new();
    run(
        &mut e,
        &report(true, vec![cert("old", Status::Warning, 20)]),
        T0,
    );
    let alerts = decide(
        &mut e,
        &report(true, vec![cert("new", Status::Ok, 365)]),
        SETTINGS,
        T0,
    );
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].resolution, Some(Resolution::Renewed));
    assert_eq!(alerts[0].certificate.cert_id, "old");
    assert_eq!(alerts[0].replacement.as_ref().unwrap().cert_id, "new");
}

#[test]
fn disappearance_is_removed_only_when_the_tenant_is_up() {
    let mut e = Entries::new();
    run(
        &mut e,
        &report(true, vec![cert("a", Status::Expired, -3)]),
        T0,
    );
    assert!(
        run(&mut e, &report(false, vec![]), T0).is_empty(),
        "tenant down: nothing removed"
    );
    assert_eq!(e.len(), 1);
    let mut gone = report(true, vec![]);
    gone.tenants[0].name = "other".into();
    assert!(
        run(&mut e, &gone, T0).is_empty(),
        "tenant absent: nothing removed"
    );
    assert_eq!(
        run(&mut e, &report(true, vec![]), T0),
        vec![(Resolved, Expired, Some(Resolution::Removed))]
    );
    assert!(e.is_empty());
}

#[test]
fn non_alerting_roles_never_fire() {
    let mut e = Entries::new();
    let mut prev = cert("k1", Status::Expired, -10);
    prev.kind = "tenant_signing_key".into();
    prev.role = "previous".into();
    prev.alerting = false;
    let mut unused = cert("cred", Status::Critical, 2);
    unused.kind = "client_credential".into();
    unused.role = "unused".into();
    unused.alerting = false;
    assert!(run(&mut e, &report(true, vec![prev, unused]), T0).is_empty());
    assert!(e.is_empty());
}

#[test]
fn rotated_signing_key_resolves_renewed() {
    let mut e = Entries::new();
    let mut cur = cert("kid1", Status::Critical, 3);
    cur.kind = "tenant_signing_key".into();
    cur.role = "current".into();
    run(&mut e, &report(true, vec![cur.clone()]), T0);
    cur.role = "previous".into();
    cur.alerting = false;
    assert_eq!(
        run(&mut e, &report(true, vec![cur.clone()]), T0),
        vec![(Resolved, Critical, Some(Resolution::Renewed))]
    );
    // Muted in place (same role): forgotten quietly.
    let mut c = cert("x", Status::Critical, 3);
    run(&mut e, &report(true, vec![c.clone()]), T0);
    c.alerting = false;
    assert!(run(&mut e, &report(true, vec![c]), T0).is_empty());
    assert!(e.is_empty());
}

#[test]
fn findings_neither_fire_nor_resolve() {
    let mut e = Entries::new();
    for s in [Status::Unknown, Status::NotYetValid, Status::NeverExpires] {
        assert!(run(&mut e, &report(true, vec![cert("a", s, 10)]), T0).is_empty());
    }
    run(
        &mut e,
        &report(true, vec![cert("a", Status::Critical, 3)]),
        T0,
    );
    let later = T0 + time::Duration::days(3);
    assert!(
        run(
            &mut e,
            &report(true, vec![cert("a", Status::Unknown, 3)]),
            later
        )
        .is_empty()
    );
    assert_eq!(e.len(), 1, "held");
}

#[test]
fn send_resolved_false_drops_resolved_but_forgets() {
    let mut e = Entries::new();
    let s = Settings {
        send_resolved: false,
        ..SETTINGS
    };
    decide(
        &mut e,
        &report(true, vec![cert("a", Status::Critical, 3)]),
        s,
        T0,
    );
    assert!(decide(&mut e, &report(true, vec![]), s, T0).is_empty());
    assert!(e.is_empty());
}

#[test]
fn seed_marks_non_ok_as_notified() {
    let mut e = Entries::new();
    let r = report(
        true,
        vec![
            cert("a", Status::Critical, 3),
            cert("b", Status::Ok, 300),
            cert("c", Status::Unknown, 0),
        ],
    );
    assert_eq!(seed(&mut e, &r, T0), 1);
    assert!(run(&mut e, &r, T0).is_empty());
}

#[test]
fn routing_filters_and_digest() {
    let mut e = Entries::new();
    let mut other = cert("b", Status::Warning, 20);
    other.tenant = "staging".into();
    let r = Report {
        tenants: vec![],
        ..report(true, vec![cert("a", Status::Critical, 3), other])
    };
    let alerts = decide(&mut e, &r, SETTINGS, T0);
    let all = Filter {
        min_severity: Warning,
        tenants: vec![],
        kinds: vec![],
        owners: vec![],
    };
    let crit = Filter {
        min_severity: Critical,
        ..all.clone()
    };
    let staging = Filter {
        tenants: vec!["staging".into()],
        ..all.clone()
    };
    let creds = Filter {
        kinds: vec![Kind::ClientCredential],
        ..all.clone()
    };
    let chans = [
        ("all", &all),
        ("crit", &crit),
        ("staging", &staging),
        ("creds", &creds),
    ];
    let single = route(&alerts, chans, false);
    let names: Vec<&str> = single.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["all", "all", "crit", "staging"]);
    let digest = route(&alerts, chans, true);
    assert_eq!(digest.len(), 3);
    assert_eq!(digest[0].1.alerts.len(), 2);
    assert!(digest.iter().all(|(_, b)| b.digest));
}
