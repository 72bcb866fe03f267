use super::*;
use time::macros::datetime;

const HOUR: Duration = Duration::from_secs(3600);
const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

fn at(now: OffsetDateTime) -> Schedule {
    Schedule {
        now,
        period: 6 * HOUR,
    }
}

fn refs(ids: &[&str]) -> HashSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_stored_object_is_reused_until_its_references_change() {
    let mut o = Objects::default();
    let fp = credential_fingerprint(&refs(&["cred_1"]));
    o.begin();
    assert!(o.reuse("app", fp, at(T0)).is_none(), "never read: read it");
    o.store("app", fp, at(T0), Vec::new());
    o.finish(true);
    o.begin();
    let later = at(T0 + Duration::from_secs(60));
    assert!(o.reuse("app", fp, later).is_some());
    let changed = credential_fingerprint(&refs(&["cred_1", "cred_2"]));
    assert!(
        o.reuse("app", changed, later).is_none(),
        "changed: read at once"
    );
}

#[test]
fn credential_fingerprints_ignore_order_and_separate_ids() {
    assert_eq!(
        credential_fingerprint(&refs(&["a", "b"])),
        credential_fingerprint(&refs(&["b", "a"]))
    );
    assert_ne!(
        credential_fingerprint(&refs(&["ab", "c"])),
        credential_fingerprint(&refs(&["a", "bc"]))
    );
    let opts = serde_json::json!({"token_endpoint_auth_method": "private_key_jwt"});
    let other = serde_json::json!({"token_endpoint_auth_method": "client_secret_post"});
    assert_ne!(
        connection_fingerprint("oidc", Some(&opts)),
        connection_fingerprint("oidc", Some(&other))
    );
    assert_ne!(
        connection_fingerprint("oidc", Some(&opts)),
        connection_fingerprint("okta", Some(&opts))
    );
}

#[test]
fn an_unchanged_object_is_reread_within_one_period() {
    for id in ["a", "b", "con_1", "app-00042", "x"] {
        for start_min in [0u64, 7, 59, 200, 359] {
            let read = T0 + Duration::from_secs(start_min * 60);
            assert!(
                !due(id, read, read, 6 * HOUR),
                "{id}: not due right after a read"
            );
            assert!(
                due(id, read, read + 6 * HOUR, 6 * HOUR),
                "{id}: due after a period"
            );
            // Polled every 15 minutes, exactly one of the polls in the next period re-reads it.
            let hits = (1..=24)
                .filter(|k| {
                    let prev = read + Duration::from_secs((k - 1) * 900);
                    let now = read + Duration::from_secs(k * 900);
                    !due(id, read, prev, 6 * HOUR) && due(id, read, now, 6 * HOUR)
                })
                .count();
            assert_eq!(hits, 1, "{id} read at +{start_min}m");
        }
    }
}

#[test]
fn refreshes_are_spread_over_the_period() {
    // 2,400 objects all read at T0, polled every 15 minutes: each poll of the next six hours
    // re-reads about a 24th of them, none more than twice the average.
    let ids: Vec<String> = (0..2400).map(|i| format!("scale{i:027}")).collect();
    let mut per_poll = Vec::new();
    for k in 1..=24u64 {
        let prev = T0 + Duration::from_secs((k - 1) * 900);
        let now = T0 + Duration::from_secs(k * 900);
        let n = ids
            .iter()
            .filter(|id| !due(id, T0, prev, 6 * HOUR) && due(id, T0, now, 6 * HOUR))
            .count();
        per_poll.push(n);
    }
    assert_eq!(per_poll.iter().sum::<usize>(), 2400, "{per_poll:?}");
    assert!(per_poll.iter().all(|&n| n <= 200), "{per_poll:?}");
}

#[test]
fn zero_period_and_a_clock_going_back_reread() {
    assert!(due("a", T0, T0, Duration::ZERO));
    assert!(due("a", T0, T0 - Duration::from_secs(1), 6 * HOUR));
}

#[test]
fn a_complete_listing_forgets_unlisted_objects_an_incomplete_one_keeps_them() {
    let mut o = Objects::default();
    o.begin();
    o.store("a", 1, at(T0), Vec::new());
    o.store("b", 2, at(T0), Vec::new());
    o.finish(true);
    assert_eq!(o.len(), 2);
    o.begin();
    assert!(o.reuse("a", 1, at(T0)).is_some());
    o.finish(false);
    assert_eq!(o.len(), 2, "an incomplete listing proves nothing about b");
    o.begin();
    assert!(o.reuse("a", 1, at(T0)).is_some());
    o.finish(true);
    assert_eq!(o.len(), 1, "b is gone");
    o.forget("a");
    assert!(o.is_empty());
}

#[test]
fn the_hash_is_stable() {
    // FNV-1a over the part and its 0xff separator: the same on every run and platform.
    assert_eq!(
        stable_hash(b""),
        (0xcbf2_9ce4_8422_2325_u64 ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3)
    );
    let mut f = Fingerprint::new();
    f.add(b"a");
    assert_eq!(f.value(), stable_hash(b"a"));
}
