//! `decide_rotations` and `route` of rotation alerts: new problems, reminders, forgetting,
//! identity and channel filters.

use super::*;
use crate::alert::policy::route;
use crate::alert::policy::test_support::{DAY, SETTINGS, T0, channel_filters};
use crate::config::Severity::{Critical, Warning};

fn event(object_id: &str, outcome: RotationOutcome) -> RotationEvent {
    RotationEvent {
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        object_id: object_id.into(),
        object_name: "acme-idp".into(),
        outcome,
        message: "PATCH /api/v2/connections/con_1: HTTP 503".into(),
    }
}

fn rot(
    e: &mut RotationEntries,
    events: &[RotationEvent],
    now: OffsetDateTime,
) -> Vec<(String, RotationOutcome, Severity, bool)> {
    decide_rotations(e, events, SETTINGS, now)
        .into_iter()
        .map(|a| {
            (
                a.rotation.object_id,
                a.rotation.outcome,
                a.severity,
                a.reminder,
            )
        })
        .collect()
}

use RotationOutcome::{Blocked, Failed, RolledBack};

#[test]
fn rotation_new_problem_fires_once_with_its_severity() {
    let mut e = RotationEntries::new();
    let evs = [
        event("con_1", Failed),
        event("con_2", RolledBack),
        event("con_3", Blocked),
    ];
    assert_eq!(
        rot(&mut e, &evs, T0),
        vec![
            ("con_1".into(), Failed, Critical, false),
            ("con_2".into(), RolledBack, Critical, false),
            ("con_3".into(), Blocked, Warning, false),
        ]
    );
    assert_eq!(e.len(), 3);
    assert!(rot(&mut e, &[], T0).is_empty());
    assert!(e.is_empty(), "nothing reported: nothing remembered");
    assert!(rot(&mut e, &[], T0).is_empty());
}

#[test]
fn rotation_persisting_problem_is_quiet_until_repeat_interval() {
    let mut e = RotationEntries::new();
    let evs = [event("con_1", Failed)];
    assert_eq!(rot(&mut e, &evs, T0).len(), 1);
    let just_before = T0 + time::Duration::seconds(DAY - 1);
    assert!(
        rot(&mut e, &evs, just_before).is_empty(),
        "persists quietly"
    );
    // The latest message is kept for the reminder.
    let mut changed = event("con_1", Failed);
    changed.message = "timeout".into();
    assert!(rot(&mut e, std::slice::from_ref(&changed), just_before).is_empty());
    let at = T0 + time::Duration::seconds(DAY);
    let alerts = decide_rotations(&mut e, &evs[..], SETTINGS, at);
    assert_eq!(alerts.len(), 1, "exactly repeat_interval later re-notifies");
    assert!(alerts[0].reminder);
    assert_eq!(alerts[0].first_notified, T0);
    assert_eq!(alerts[0].at, at);
    assert!(rot(&mut e, &evs, at + time::Duration::seconds(DAY - 1)).is_empty());
    assert_eq!(
        rot(&mut e, &evs, at + time::Duration::seconds(DAY)),
        vec![("con_1".into(), Failed, Critical, true)]
    );
    rot(&mut e, std::slice::from_ref(&changed), at);
    assert_eq!(e.values().next().unwrap().event.message, "timeout");
}

#[test]
fn rotation_cleared_problem_is_forgotten_and_fires_again_if_it_returns() {
    let mut e = RotationEntries::new();
    let evs = [event("con_1", Failed), event("con_2", Blocked)];
    rot(&mut e, &evs, T0);
    let t1 = T0 + time::Duration::hours(1);
    assert!(rot(&mut e, &evs[1..], t1).is_empty(), "cleared: no message");
    assert_eq!(e.len(), 1);
    assert_eq!(e.keys().next().unwrap().object_id, "con_2");
    let t2 = T0 + time::Duration::hours(2);
    assert_eq!(
        rot(&mut e, &evs, t2),
        vec![("con_1".into(), Failed, Critical, false)],
        "back after clearing: a new problem"
    );
}

#[test]
fn rotation_key_includes_the_outcome_and_first_duplicate_wins() {
    let mut e = RotationEntries::new();
    rot(&mut e, &[event("con_1", Blocked)], T0);
    let t1 = T0 + time::Duration::hours(1);
    assert_eq!(
        rot(&mut e, &[event("con_1", Failed)], t1),
        vec![("con_1".into(), Failed, Critical, false)],
        "blocked then failed is a new problem"
    );
    assert_eq!(e.len(), 1, "the blocked one is forgotten");
    let mut other_tenant = event("con_1", Failed);
    other_tenant.tenant = "staging".into();
    let mut dup = event("con_1", Failed);
    dup.message = "second".into();
    let alerts = decide_rotations(
        &mut e,
        &[event("con_1", Failed), dup, other_tenant],
        SETTINGS,
        t1,
    );
    assert_eq!(alerts.len(), 1, "only the other tenant's is new");
    assert_eq!(alerts[0].rotation.tenant, "staging");
    assert_eq!(
        e[&event("con_1", Failed).key()].event.message,
        event("con_1", Failed).message,
        "of duplicates the first wins"
    );
}

#[test]
fn rotation_routing_applies_severity_tenant_and_kind_filters() {
    let mut e = RotationEntries::new();
    let mut cred = event("cli_1", Blocked);
    cred.kind = Kind::ClientCredential;
    let mut staging = event("con_9", RolledBack);
    staging.tenant = "staging".into();
    let alerts = decide_rotations(
        &mut e,
        &[event("con_1", Failed), cred, staging],
        SETTINGS,
        T0,
    );
    let filters = channel_filters();
    let chans = filters.each_ref().map(|(n, f)| (*n, f));
    let single = route(&alerts, chans, false);
    let got: Vec<(&str, &str)> = single
        .iter()
        .map(|(n, b)| (n.as_str(), b.rotations[0].rotation.object_id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("all", "con_1"),
            ("all", "cli_1"),
            ("all", "con_9"),
            ("crit", "con_1"),
            ("crit", "con_9"),
            ("staging", "con_9"),
            ("creds", "cli_1"),
        ]
    );
    assert!(single.iter().all(|(_, b)| b.alerts.is_empty() && !b.digest));
    let digest = route(&alerts, chans, true);
    assert_eq!(digest.len(), 4);
    assert_eq!(digest[0].1.rotations.len(), 3);
    assert!(digest.iter().all(|(_, b)| b.digest));
}
