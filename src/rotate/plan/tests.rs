//! Boundary tests of planning: due / not due at `rotate_before`, candidate choice, the
//! two-credential limit, overlaps, supported kinds and target matching.

use super::*;
use crate::expiry::Validity;
use crate::inventory::Source;
use crate::rotate::store::Candidate;
use crate::sim::generate_cert;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const DAY: time::Duration = time::Duration::DAY;

fn settings() -> Settings {
    Settings {
        rotate_before: Duration::from_secs(30 * 86_400),
        overlap: Duration::from_secs(86_400),
    }
}

fn rec(
    kind: Kind,
    role: Role,
    object_id: &str,
    cert_id: &str,
    not_after: Option<OffsetDateTime>,
) -> CertRecord {
    CertRecord {
        tenant: "prod".into(),
        kind,
        role,
        object_id: object_id.into(),
        object_name: format!("{object_id}-name"),
        cert_id: cert_id.into(),
        subject: None,
        issuer: None,
        serial: None,
        sha1: (kind != Kind::ClientCredential && kind != Kind::TenantSigningKey)
            .then(|| cert_id.to_string()),
        sha256: None,
        validity: match not_after {
            Some(na) => Validity::Window {
                not_before: None,
                not_after: na,
            },
            None => Validity::Never,
        },
        error: None,
        source: Source::Connections,
        owner: None,
        key_use: None,
    }
}

fn conn(sha1: &str, expires_in: time::Duration) -> CertRecord {
    rec(
        Kind::ConnectionSigningCert,
        Role::Active,
        "con_1",
        sha1,
        Some(NOW + expires_in),
    )
}

fn snapshot(records: Vec<CertRecord>) -> Snapshot {
    let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
    t.up = true;
    t.records = records;
    Snapshot { tenants: vec![t] }
}

fn target(kind: Option<Kind>, name: Option<&str>) -> Target {
    Target {
        tenant: Some("prod".into()),
        kind,
        object_name: name.map(str::to_string),
        object_id: None,
        source: crate::config::Source::Store(PathBuf::from("idp")),
        disabled: false,
    }
}

/// A candidate valid from `from` to `to` (relative to NOW).
fn cand(name: &str, from: time::Duration, to: time::Duration) -> Candidate {
    let c = generate_cert(name, NOW + from, NOW + to);
    Candidate::from_der(format!("idp/{name}.pem"), c.der).unwrap()
}

fn listing(cands: Vec<Candidate>) -> Listings {
    let mut l = Listings::new();
    l.insert(
        PathBuf::from("idp"),
        Ok(Listing {
            candidates: cands,
            rejected: Vec::new(),
        }),
    );
    l
}

fn plan_one(
    records: Vec<CertRecord>,
    targets: &[Target],
    listings: &Listings,
    overlaps: &[Overlap],
) -> Vec<Step> {
    plan(
        &snapshot(records),
        targets,
        listings,
        overlaps,
        &settings(),
        NOW,
    )
}

fn only(steps: Vec<Step>) -> Step {
    assert_eq!(steps.len(), 1, "{steps:#?}");
    steps.into_iter().next().unwrap()
}

#[test]
fn due_exactly_at_rotate_before_not_one_second_earlier() {
    let good = cand("new", -DAY, 400 * DAY);
    let l = listing(vec![good.clone()]);
    let t = [target(None, Some("con_1-name"))];
    let at = only(plan_one(vec![conn("aa", 30 * DAY)], &t, &l, &[]));
    assert_eq!(
        at.decision,
        Decision::Due(Action::ReplaceConnectionCert {
            candidate: good.clone()
        })
    );
    let before = only(plan_one(
        vec![conn("aa", 30 * DAY + time::Duration::SECOND)],
        &t,
        &l,
        &[],
    ));
    assert!(
        matches!(before.decision, Decision::NotDue(ref w) if w.contains("not within rotate_before (30days)")),
        "{before:?}"
    );
    let expired = only(plan_one(vec![conn("aa", -DAY)], &t, &l, &[]));
    assert!(matches!(expired.decision, Decision::Due(_)));
    assert_eq!(expired.current.unwrap().cert_id, "aa");
}

#[test]
fn candidate_choice_valid_now_later_different_latest_wins() {
    let t = [target(None, None)];
    let current = conn("aa", 10 * DAY);
    // not_before == now is valid; the latest not_after among valid ones wins.
    let a = cand("a", time::Duration::ZERO, 200 * DAY);
    let b = cand("b", -DAY, 300 * DAY);
    let future = cand("future", DAY, 900 * DAY);
    let s = only(plan_one(
        vec![current.clone()],
        &t,
        &listing(vec![a, b.clone(), future]),
        &[],
    ));
    assert_eq!(
        s.decision,
        Decision::Due(Action::ReplaceConnectionCert { candidate: b })
    );

    // Only a not-yet-valid one: blocked, saying when it becomes valid.
    let future = cand("future", time::Duration::SECOND, 900 * DAY);
    let s = only(plan_one(
        vec![current.clone()],
        &t,
        &listing(vec![future]),
        &[],
    ));
    assert!(
        matches!(s.decision, Decision::Blocked(Blocker::NotYetValid { not_before, .. }) if not_before == NOW + time::Duration::SECOND)
    );

    // Expiring no later than the current one (equal counts as sooner), or already expired.
    let same_end = cand("same", -DAY, 10 * DAY);
    let dead = cand("dead", -9 * DAY, -DAY);
    let s = only(plan_one(
        vec![current.clone()],
        &t,
        &listing(vec![same_end, dead]),
        &[],
    ));
    assert!(
        matches!(s.decision, Decision::Blocked(Blocker::ExpiresSooner { .. })),
        "{s:?}"
    );
    assert!(s.explain().contains("not an improvement"));
}

#[test]
fn no_candidate_and_same_as_current_are_blocked() {
    let t = [target(None, None)];
    let s = only(plan_one(
        vec![conn("aa", 3 * DAY)],
        &t,
        &listing(vec![]),
        &[],
    ));
    assert_eq!(
        s.decision,
        Decision::Blocked(Blocker::NoCandidate {
            source: PathBuf::from("idp"),
            rejected: 0
        })
    );
    let c = cand("x", -DAY, 100 * DAY);
    let current = conn(&c.info.sha1, 3 * DAY);
    let s = only(plan_one(vec![current], &t, &listing(vec![c]), &[]));
    assert!(
        matches!(s.decision, Decision::Blocked(Blocker::SameAsCurrent { .. })),
        "{s:?}"
    );

    let mut broken = Listings::new();
    broken.insert(
        PathBuf::from("idp"),
        Err(store::Error::Unreadable {
            path: "x".into(),
            message: "gone".into(),
        }),
    );
    let s = only(plan_one(vec![conn("aa", 3 * DAY)], &t, &broken, &[]));
    assert!(matches!(s.decision, Decision::Blocked(Blocker::Store(_))));
    // Not due: the store is not even looked at.
    let s = only(plan_one(vec![conn("aa", 300 * DAY)], &t, &broken, &[]));
    assert!(matches!(s.decision, Decision::NotDue(_)));
}

#[test]
fn a_connection_with_two_certificates_is_judged_by_the_sooner_one() {
    let t = [target(None, None)];
    let c = cand("n", -DAY, 100 * DAY);
    let mut other = conn("bb", 200 * DAY);
    other.cert_id = "bb".into();
    let s = only(plan_one(
        vec![other, conn("aa", 5 * DAY)],
        &t,
        &listing(vec![c]),
        &[],
    ));
    assert_eq!(s.current.unwrap().cert_id, "aa");
    assert!(matches!(s.decision, Decision::Due(_)));
}

#[test]
fn unparseable_current_certificate_is_left_alone() {
    let t = [target(None, None)];
    let mut r = conn("aa", DAY);
    r.validity = Validity::Unknown;
    r.error = Some("invalid X.509 DER".into());
    let s = only(plan_one(
        vec![r],
        &t,
        &listing(vec![cand("n", -DAY, 100 * DAY)]),
        &[],
    ));
    assert!(matches!(s.decision, Decision::NotDue(ref w) if w.contains("cannot be parsed")));
}

fn cred(id: &str, role: Role, expires_in: Option<time::Duration>) -> CertRecord {
    rec(
        Kind::ClientCredential,
        role,
        "cl_1",
        id,
        expires_in.map(|d| NOW + d),
    )
}

#[test]
fn credential_rotation_respects_the_two_credential_limit() {
    let t = [target(Some(Kind::ClientCredential), None)];
    let l = listing(vec![cand("n", -DAY, 100 * DAY)]);
    let s = only(plan_one(
        vec![cred("cred_a", Role::InUse, Some(5 * DAY))],
        &t,
        &l,
        &[],
    ));
    assert!(
        matches!(s.decision, Decision::Due(Action::AddCredential { ref old_credential_id, .. }) if old_credential_id == "cred_a")
    );

    let s = only(plan_one(
        vec![
            cred("cred_a", Role::InUse, Some(5 * DAY)),
            cred("cred_x", Role::Unused, Some(-DAY)),
        ],
        &t,
        &l,
        &[],
    ));
    assert_eq!(
        s.decision,
        Decision::Blocked(Blocker::CredentialLimit {
            count: 2,
            unused: vec!["cred_x".into()]
        })
    );
    assert!(s.explain().contains("unreferenced: cred_x"));
}

#[test]
fn a_client_with_a_healthy_or_non_expiring_credential_is_not_due() {
    let t = [target(None, None)];
    let l = listing(vec![cand("n", -DAY, 100 * DAY)]);
    let s = only(plan_one(
        vec![
            cred("cred_a", Role::InUse, Some(5 * DAY)),
            cred("cred_b", Role::InUse, Some(200 * DAY)),
        ],
        &t,
        &l,
        &[],
    ));
    assert!(matches!(s.decision, Decision::NotDue(_)));
    let s = only(plan_one(
        vec![cred("cred_a", Role::InUse, None)],
        &t,
        &l,
        &[],
    ));
    assert!(matches!(s.decision, Decision::NotDue(ref w) if w.contains("never expires")));
    let s = only(plan_one(
        vec![cred("cred_a", Role::Unused, Some(DAY))],
        &t,
        &l,
        &[],
    ));
    assert!(matches!(s.decision, Decision::NotDue(ref w) if w.contains("no credential in use")));
}

#[test]
fn overlap_retires_the_old_credential_only_after_it_has_passed() {
    let t = [target(None, None)];
    let l = listing(vec![]);
    let records = vec![
        cred("cred_a", Role::InUse, Some(5 * DAY)),
        cred("cred_b", Role::InUse, Some(100 * DAY)),
    ];
    let overlap = |added_at| Overlap {
        tenant: "prod".into(),
        client_id: "cl_1".into(),
        old_credential_id: "cred_a".into(),
        new_credential_id: "cred_b".into(),
        added_at,
    };
    let s = only(plan_one(
        records.clone(),
        &t,
        &l,
        &[overlap(NOW - DAY + time::Duration::SECOND)],
    ));
    assert!(
        matches!(s.decision, Decision::NotDue(ref w) if w.contains("overlap")),
        "{s:?}"
    );
    let s = only(plan_one(records.clone(), &t, &l, &[overlap(NOW - DAY)]));
    assert_eq!(
        s.decision,
        Decision::Due(Action::RetireCredential {
            old_credential_id: "cred_a".into(),
            new_credential_id: "cred_b".into()
        })
    );
    // The added credential disappeared: keep the old one, say why.
    let s = only(plan_one(
        vec![records[0].clone()],
        &t,
        &l,
        &[overlap(NOW - 9 * DAY)],
    ));
    assert!(matches!(s.decision, Decision::Blocked(Blocker::Changed(_))));
    // The old one is gone already: the overlap is over, normal planning resumes.
    let s = only(plan_one(
        vec![records[1].clone()],
        &t,
        &l,
        &[overlap(NOW - 9 * DAY)],
    ));
    assert!(matches!(s.decision, Decision::NotDue(ref w) if w.contains("not within")));
}

#[test]
fn signing_keys_only_with_an_explicit_target_and_a_later_next_key() {
    let key = |kid: &str, role, days: i64| {
        rec(
            Kind::TenantSigningKey,
            role,
            kid,
            kid,
            Some(NOW + time::Duration::days(days)),
        )
    };
    let records = vec![
        key("k1", Role::Current, 10),
        key("k2", Role::Next, 4000),
        key("k0", Role::Previous, 1),
    ];
    let l = listing(vec![]);
    assert!(
        plan_one(records.clone(), &[target(None, None)], &l, &[]).is_empty(),
        "implicit targets never rotate keys"
    );
    let t = [target(Some(Kind::TenantSigningKey), None)];
    let s = only(plan_one(records.clone(), &t, &l, &[]));
    assert_eq!(s.object_id, "k1");
    assert_eq!(s.object_name, "acme.auth0.com");
    assert_eq!(
        s.decision,
        Decision::Due(Action::RotateSigningKey {
            next_kid: "k2".into(),
            next_not_after: Some(NOW + 4000 * DAY)
        })
    );
    let s = only(plan_one(records[..1].to_vec(), &t, &l, &[]));
    assert_eq!(s.decision, Decision::Blocked(Blocker::NoNextSigningKey));
    let s = only(plan_one(
        vec![key("k1", Role::Current, 10), key("k2", Role::Next, 10)],
        &t,
        &l,
        &[],
    ));
    assert!(matches!(
        s.decision,
        Decision::Blocked(Blocker::NextKeyExpiresFirst { .. })
    ));
    let s = only(plan_one(
        vec![key("k1", Role::Current, 400), key("k2", Role::Next, 4000)],
        &t,
        &l,
        &[],
    ));
    assert!(matches!(s.decision, Decision::NotDue(_)));
}

#[test]
fn unsupported_kinds_are_blocked_only_when_due_and_never_matched_implicitly() {
    let sp = |days: i64| {
        rec(
            Kind::ConnectionSpSigningKey,
            Role::Active,
            "con_1",
            "sp",
            Some(NOW + time::Duration::days(days)),
        )
    };
    let l = listing(vec![]);
    assert!(plan_one(vec![sp(3)], &[target(None, None)], &l, &[]).is_empty());
    let t = [target(Some(Kind::ConnectionSpSigningKey), None)];
    let s = only(plan_one(vec![sp(3)], &t, &l, &[]));
    assert_eq!(
        s.decision,
        Decision::Blocked(Blocker::UnsupportedKind(Kind::ConnectionSpSigningKey))
    );
    let s = only(plan_one(vec![sp(300)], &t, &l, &[]));
    assert!(matches!(s.decision, Decision::NotDue(_)));
}

#[test]
fn targets_match_by_name_id_and_tenant_and_the_first_target_owns_an_object() {
    let l = listing(vec![cand("n", -DAY, 100 * DAY)]);
    let mut other = conn("bb", 3 * DAY);
    other.object_id = "con_2".into();
    other.object_name = "con_2-name".into();
    let records = vec![conn("aa", 3 * DAY), other];
    let by_name = only(plan_one(
        records.clone(),
        &[target(None, Some("con_2-name"))],
        &l,
        &[],
    ));
    assert_eq!(by_name.object_id, "con_2");
    let mut by_id = target(None, None);
    by_id.object_id = Some("con_1".into());
    assert_eq!(
        only(plan_one(records.clone(), &[by_id.clone()], &l, &[])).object_id,
        "con_1"
    );
    let mut elsewhere = target(None, None);
    elsewhere.tenant = Some("staging".into());
    assert!(plan_one(records.clone(), std::slice::from_ref(&elsewhere), &l, &[]).is_empty());
    let targets = [by_id, target(None, None)];
    let steps = plan_one(records, &targets, &l, &[]);
    assert_eq!(steps.len(), 2);
    assert_eq!((steps[0].object_id.as_str(), steps[0].target), ("con_1", 0));
    assert_eq!((steps[1].object_id.as_str(), steps[1].target), ("con_2", 1));
    assert_eq!(unmatched(&[elsewhere], &[]), vec![0]);
}
