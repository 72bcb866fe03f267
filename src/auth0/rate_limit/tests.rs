//! Tests of the rate-limit decisions: pacing, the governor, 429 handling.

use super::*;

fn state(remaining: Option<u64>, reset: Option<i64>) -> RateState {
    RateState {
        limit: Some(10),
        remaining,
        reset,
    }
}

#[test]
fn reads_headers() {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-ratelimit-limit", "50".parse().unwrap());
    h.insert("x-ratelimit-remaining", "49".parse().unwrap());
    h.insert("x-ratelimit-reset", "1668283107".parse().unwrap());
    assert_eq!(
        RateState::from_headers(&h),
        RateState {
            limit: Some(50),
            remaining: Some(49),
            reset: Some(1_668_283_107)
        }
    );
    h.insert("x-ratelimit-remaining", "lots".parse().unwrap());
    assert_eq!(RateState::from_headers(&h).remaining, None);
}

#[test]
fn waits_only_when_bucket_is_empty() {
    let now = 1000.0;
    assert_eq!(wait_before_request(&state(Some(3), Some(1001)), now), None);
    assert_eq!(
        wait_before_request(&state(Some(0), Some(1001)), now),
        Some(Duration::from_secs(1))
    );
    assert_eq!(
        wait_before_request(&state(Some(0), Some(999)), now),
        None,
        "reset passed"
    );
    assert_eq!(wait_before_request(&state(None, None), now), None);
}

#[test]
fn after_429_prefers_retry_after_then_reset_then_backoff() {
    let now = 1000.0;
    let s = state(Some(0), Some(1003));
    assert_eq!(
        wait_after_429(Some("2"), &s, now, 1),
        Duration::from_secs(2)
    );
    assert_eq!(wait_after_429(None, &s, now, 1), Duration::from_secs(3));
    assert_eq!(
        wait_after_429(None, &state(None, None), now, 1),
        Duration::from_secs(1)
    );
    assert_eq!(
        wait_after_429(None, &state(None, None), now, 3),
        Duration::from_secs(4)
    );
    // A reset in the past never means "retry immediately in a hot loop".
    assert_eq!(
        wait_after_429(None, &state(Some(0), Some(990)), now, 1),
        Duration::from_secs(1)
    );
    assert_eq!(
        wait_after_429(Some("0"), &s, now, 1),
        Duration::from_millis(50)
    );
    // Absurd values are capped.
    assert_eq!(wait_after_429(Some("86400"), &s, now, 1), MAX_WAIT);
    assert_eq!(
        wait_after_429(None, &state(Some(0), Some(99_999)), now, 1),
        MAX_WAIT
    );
    assert_eq!(wait_after_429(None, &state(None, None), now, 30), MAX_WAIT);
}

#[test]
fn retry_after_http_date() {
    let at = 784_111_777.0; // Sun, 06 Nov 1994 08:49:37 GMT
    assert_eq!(
        wait_after_429(
            Some("Sun, 06 Nov 1994 08:49:37 GMT"),
            &RateState::default(),
            at - 5.0,
            1
        ),
        Duration::from_secs(5)
    );
}

#[test]
fn pacer_spaces_requests() {
    let t0 = tokio::time::Instant::now();
    let mut p = Pacer::new(4.0);
    assert_eq!(p.reserve(t0), Duration::ZERO);
    assert_eq!(p.reserve(t0), Duration::from_millis(250));
    assert_eq!(p.reserve(t0), Duration::from_millis(500));
    // After a long idle period no burst credit accumulates beyond one slot.
    let later = t0 + Duration::from_secs(10);
    assert_eq!(p.reserve(later), Duration::ZERO);
    assert_eq!(p.reserve(later), Duration::from_millis(250));
}

fn go(g: &mut Governor, now: Instant) -> Ticket {
    match g.acquire(now) {
        Permit::Go(ticket) => ticket,
        Permit::Wait(d) => panic!("expected to go, told to wait {d:?}"),
    }
}

#[test]
fn governor_lets_everything_go_without_headers() {
    let t0 = Instant::now();
    let mut g = Governor::default();
    let first = go(&mut g, t0);
    assert!(
        matches!(g.acquire(t0), Permit::Wait(_)),
        "one request until the first answer"
    );
    g.complete(first, t0, 1000.0, None, false);
    for _ in 0..100 {
        go(&mut g, t0);
    }
    assert_eq!(g.rate(), None);
}

#[test]
fn governor_without_a_rate_sends_one_probe_when_reset_passes() {
    let t0 = Instant::now();
    let unix = 1000.4;
    let mut g = Governor::default();
    let first = go(&mut g, t0);
    let empty = RateState {
        limit: Some(2),
        remaining: Some(0),
        reset: Some(1001),
    };
    g.complete(first, t0, unix, Some(&empty), false);
    // Reset is 0.6 s away: wait (in slices), whatever the number of waiters.
    assert_eq!(g.acquire(t0), Permit::Wait(MAX_GOVERNOR_WAIT));
    assert_eq!(g.acquire(t0), Permit::Wait(MAX_GOVERNOR_WAIT));
    let at_reset = t0 + Duration::from_millis(600) + RESET_MARGIN;
    let probe = go(&mut g, at_reset);
    assert!(
        matches!(g.acquire(at_reset), Permit::Wait(_)),
        "the others wait for the probe's answer"
    );
    let one_left = RateState {
        remaining: Some(1),
        ..empty
    };
    g.complete(probe, at_reset, unix + 0.6, Some(&one_left), false);
    go(&mut g, at_reset);
}

#[test]
fn governor_corrects_its_model_from_remaining() {
    let t0 = Instant::now();
    let mut g = Governor::default();
    let first = go(&mut g, t0);
    g.complete(first, t0, 1000.0, None, false);
    let (a, b) = (go(&mut g, t0), go(&mut g, t0));
    let seen = |remaining| RateState {
        limit: Some(50),
        remaining: Some(remaining),
        reset: Some(1000),
    };
    // One answer says 10 left while another request is still in flight: 9 are ours.
    g.complete(a, t0, 1000.0, Some(&seen(10)), false);
    assert_eq!(g.tokens(), Some(9.0));
    // Someone else drained the bucket: the model follows the server down (assuming the
    // first answer may have been counted after this one).
    g.complete(b, t0, 1000.0, Some(&seen(3)), false);
    assert_eq!(g.tokens(), Some(2.0));
    // The server shows more than modelled (refill the model did not know of): follow it up.
    let c = go(&mut g, t0);
    g.complete(c, t0, 1000.0, Some(&seen(7)), false);
    assert_eq!(g.tokens(), Some(7.0));
    // A 429 forgets the rate and the bucket.
    let d = go(&mut g, t0);
    g.complete(d, t0, 1000.0, Some(&seen(0)), true);
    assert_eq!((g.tokens(), g.rate()), (Some(0.0), None));
}

#[test]
fn governor_learns_a_lower_bound_of_the_rate() {
    // Sequential requests against a bucket of 10 refilled at 4/s, answered at once.
    let t0 = Instant::now();
    let mut g = Governor::default();
    let (mut server, mut last) = (10.0f64, 0.0f64);
    let mut now = 0.0f64;
    for _ in 0..200 {
        let ticket = loop {
            match g.acquire(t0 + Duration::from_secs_f64(now)) {
                Permit::Go(t) => break t,
                Permit::Wait(d) => now += d.as_secs_f64(),
            }
        };
        server = (server + (now - last) * 4.0).min(10.0);
        last = now;
        assert!(
            server >= 1.0,
            "sent into an empty bucket: {server} at {now}"
        );
        server -= 1.0;
        let next_token = if server >= 1.0 {
            0.0
        } else {
            (1.0 - server) / 4.0
        };
        let seen = RateState {
            limit: Some(10),
            remaining: Some(server.floor() as u64),
            reset: Some((1000.5 + now + next_token).ceil() as i64),
        };
        let at = t0 + Duration::from_secs_f64(now);
        g.complete(ticket, at, 1000.5 + now, Some(&seen), false);
        let rate = g.rate().unwrap_or(0.0);
        assert!(rate <= 4.0 + 1e-9, "{rate} overestimates");
    }
    assert!(g.rate().unwrap() > 3.8, "{:?}", g.rate());
    assert!(now < (200.0 - 10.0) / 4.0 * 1.01 + 0.5, "{now}");
}

/// A discrete-event run of `requests` requests through `workers` concurrent tasks sharing a
/// governor, against an exact model of Auth0's bucket (the simulator's rules, headers
/// rounded the same way). Returns (virtual seconds until the last answer, 429s).
fn simulate(
    burst: u32,
    rate: f64,
    workers: usize,
    rtt: (Duration, Duration),
    requests: u32,
) -> (f64, u32) {
    let run = simulate_with(Governor::default(), burst, rate, workers, rtt, requests);
    (run.took, run.throttled)
}

/// What [`simulate_with`] saw.
struct SimRun {
    took: f64,
    throttled: u32,
    /// The lowest `x-ratelimit-remaining` the bucket answered.
    lowest: u64,
}

fn simulate_with(
    mut g: Governor,
    burst: u32,
    rate: f64,
    workers: usize,
    (latency, jitter): (Duration, Duration),
    requests: u32,
) -> SimRun {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Try,
        Arrive,
        Done(bool, u64, i64),
    }
    let t0 = Instant::now();
    let unix0 = 1_700_000_000.25;
    let mut lowest = u64::from(burst);
    let (mut tokens, mut last) = (f64::from(burst), 0.0f64);
    let mut heap = BinaryHeap::new();
    for w in 0..workers {
        heap.push(Reverse((Duration::ZERO, w, Ev::Try)));
    }
    let (mut started, mut done, mut throttled, mut finished) = (0u32, 0u32, 0u32, 0.0);
    let mut retrying = vec![false; workers];
    let mut sent = vec![None; workers];
    // Each half of a round trip takes latency/2 plus up to `jitter` (xorshift, seeded):
    // answers overtake each other.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut half = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        latency / 2 + jitter.mul_f64((seed % 1000) as f64 / 1000.0)
    };
    while let Some(Reverse((at, w, ev))) = heap.pop() {
        let now = t0 + at;
        let secs = at.as_secs_f64();
        match ev {
            Ev::Try => {
                if !retrying[w] && started == requests {
                    continue;
                }
                match g.acquire(now) {
                    Permit::Go(ticket) => {
                        sent[w] = Some(ticket);
                        if !retrying[w] {
                            started += 1;
                        }
                        heap.push(Reverse((at + half(), w, Ev::Arrive)));
                    }
                    Permit::Wait(d) => heap.push(Reverse((at + d, w, Ev::Try))),
                }
            }
            Ev::Arrive => {
                tokens = (tokens + (secs - last) * rate).min(f64::from(burst));
                last = secs;
                let allowed = tokens >= 1.0;
                if allowed {
                    tokens -= 1.0;
                }
                let remaining = tokens.floor();
                lowest = lowest.min(remaining as u64);
                let next_token = if remaining >= 1.0 {
                    0.0
                } else {
                    (1.0 - tokens) / rate
                };
                let reset = (unix0 + secs + next_token).ceil() as i64;
                heap.push(Reverse((
                    at + half(),
                    w,
                    Ev::Done(allowed, remaining as u64, reset),
                )));
            }
            Ev::Done(allowed, remaining, reset) => {
                let state = RateState {
                    limit: Some(u64::from(burst)),
                    remaining: Some(remaining),
                    reset: Some(reset),
                };
                let ticket = sent[w].take().expect("in flight");
                g.complete(ticket, now, unix0 + secs, Some(&state), !allowed);
                assert!(
                    g.rate().is_none_or(|r| r <= rate * (1.0 + 1e-9)),
                    "rate overestimated"
                );
                retrying[w] = !allowed;
                if allowed {
                    done += 1;
                    finished = secs;
                } else {
                    throttled += 1;
                }
                heap.push(Reverse((at, w, Ev::Try)));
            }
        }
    }
    assert_eq!(done, requests);
    SimRun {
        took: finished,
        throttled,
        lowest,
    }
}

#[test]
fn governor_with_a_share_keeps_the_floor_and_the_pace() {
    let ms = Duration::from_millis;
    for (share, burst, rate, workers, latency, jitter, requests) in [
        (0.5, 50, 16.0, 5, ms(1), ms(0), 431),
        (0.5, 50, 16.0, 10, ms(2), ms(5), 431),
        (0.5, 50, 16.0, 10, ms(100), ms(80), 431),
        (0.5, 2, 2.0, 4, ms(20), ms(0), 60),
        (0.2, 10, 2.5, 4, ms(40), ms(10), 120),
        (0.9, 50, 16.0, 4, ms(2), ms(0), 300),
    ] {
        let share = Share::new(share).unwrap();
        let floor = share.floor(Some(f64::from(burst)));
        let g = Governor::with_share(share);
        let run = simulate_with(g, burst, rate, workers, (latency, jitter), requests);
        let case = format!(
            "share {share:?}, burst {burst}, {rate}/s, {workers} workers, {latency:?}±{jitter:?}"
        );
        assert_eq!(run.throttled, 0, "429s at {case}");
        assert!(
            run.lowest as f64 >= floor,
            "remaining {} below the floor {floor} at {case}",
            run.lowest
        );
        // The usable burst is what lies above the floor; one probe second may be spent
        // learning the rate. With one token above the floor, every request needs a full
        // bucket: refill beyond it is lost, unobservable, and certwatch goes at its probe pace.
        let headroom = f64::from(burst) - floor;
        let bound = if headroom <= 1.0 {
            f64::from(requests) * FLOOR_PROBE_AFTER.as_secs_f64()
        } else {
            (f64::from(requests) - headroom).max(0.0) / rate
        };
        assert!(
            run.took <= bound * 1.03 + 1.5,
            "{:.1}s vs bound {bound:.1}s at {case}",
            run.took
        );
    }
}

#[test]
fn governor_held_by_the_floor_probes_once_a_second_without_a_rate() {
    let t0 = Instant::now();
    let mut g = Governor::with_share(Share::new(0.5).unwrap());
    let first = go(&mut g, t0);
    let at_floor = RateState {
        limit: Some(10),
        remaining: Some(5),
        reset: Some(1000),
    };
    g.complete(first, t0, 1000.0, Some(&at_floor), false);
    assert_eq!(g.floor(), 5.0);
    // 5 left, 5 to leave: no rate known, so wait; the probe goes a second after the answer.
    assert_eq!(
        g.acquire(t0),
        Permit::Wait(FLOOR_PROBE_AFTER),
        "nothing in flight: one sleep"
    );
    let soon = t0 + Duration::from_millis(950);
    assert_eq!(g.acquire(soon), Permit::Wait(Duration::from_millis(50)));
    let probe = go(&mut g, t0 + Duration::from_secs(1));
    assert!(
        matches!(g.acquire(t0 + Duration::from_secs(1)), Permit::Wait(_)),
        "one probe at a time"
    );
    let refilled = RateState {
        remaining: Some(7),
        ..at_floor
    };
    g.complete(
        probe,
        t0 + Duration::from_secs(1),
        1001.0,
        Some(&refilled),
        false,
    );
    // Two above the floor, but a governor held at the floor lets a batch gather first (short
    // of a full bucket): at the estimated 2/s, 9 are there a second later, and four go at once.
    assert!(matches!(
        g.acquire(t0 + Duration::from_secs(1)),
        Permit::Wait(_)
    ));
    let later = t0 + Duration::from_millis(2100);
    for _ in 0..4 {
        go(&mut g, later);
    }
    assert!(
        matches!(g.acquire(later), Permit::Wait(_)),
        "the floor holds"
    );
}

#[test]
fn governor_keeps_to_the_bucket_without_429s() {
    let ms = Duration::from_millis;
    for (burst, rate, workers, latency, jitter, requests) in [
        (2, 2.0, 1, ms(2), ms(0), 200),
        (2, 2.0, 4, ms(2), ms(0), 200),
        (50, 16.0, 4, ms(2), ms(0), 2111),
        (50, 16.0, 4, ms(150), ms(0), 2111),
        (10, 2.5, 4, ms(40), ms(0), 300),
        (5, 50.0 / 60.0, 4, ms(40), ms(0), 100),
        // Answers overtaking each other (two listings of 4 + their pagers).
        (50, 16.0, 10, ms(2), ms(5), 2111),
        (50, 16.0, 10, ms(100), ms(80), 2111),
        (2, 2.0, 10, ms(20), ms(40), 200),
    ] {
        let (took, throttled) = simulate(burst, rate, workers, (latency, jitter), requests);
        let bound = f64::from(requests - burst) / rate;
        let case = format!("burst {burst}, {rate}/s, {workers} workers, {latency:?}±{jitter:?}");
        assert!(throttled == 0, "{throttled} 429s at {case}");
        assert!(
            took <= bound * 1.01 + 1.0,
            "{took:.1}s vs bound {bound:.1}s at {case}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    #[test]
    fn governor_stays_near_the_bound_for_any_bucket(
        burst in 2u32..60,
        // Auth0's buckets hold one to twenty seconds of refill (docs/auth0-api.md, rate limits).
        refill_secs in 1.0f64..20.0,
        workers in 1usize..10,
        latency_ms in 0u64..300,
        jitter_pct in 0u64..50,
    ) {
        let rate = f64::from(burst) / refill_secs;
        let requests = burst + (rate * 60.0) as u32 + 10;
        let jitter_ms = latency_ms * jitter_pct / 100;
        let rtt = (Duration::from_millis(latency_ms), Duration::from_millis(jitter_ms));
        let (took, throttled) = simulate(burst, rate, workers, rtt, requests);
        let bound = f64::from(requests - burst) / rate;
        // Fewer workers than rate × latency cannot keep up; that is not the governor.
        let slowest = (latency_ms + 2 * jitter_ms) as f64 / 1000.0;
        let floor = f64::from(requests) * slowest / workers as f64;
        proptest::prop_assert!(throttled == 0, "{} 429s", throttled);
        proptest::prop_assert!(
            took <= bound.max(floor) * 1.05 + 1.5,
            "{:.2}s vs bound {:.2}s", took, bound
        );
    }
}

#[test]
fn hostile_headers_neither_panic_nor_stall() {
    let now = 1_700_000_000.0;
    for retry_after in [
        "1e308",
        "inf",
        "-inf",
        "NaN",
        "-5",
        "",
        "soon",
        "18446744073709551615",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 01 Jan 0001 00:00:00 GMT",
    ] {
        for reset in [None, Some(i64::MAX), Some(i64::MIN), Some(0)] {
            let wait = wait_after_429(Some(retry_after), &state(Some(0), reset), now, u32::MAX);
            assert!(wait <= MAX_WAIT, "{retry_after} {reset:?}: {wait:?}");
            assert!(
                wait >= Duration::from_millis(50),
                "{retry_after} {reset:?}: {wait:?}"
            );
        }
    }
    for reset in [i64::MAX, i64::MIN] {
        let w = wait_before_request(&state(Some(0), Some(reset)), now);
        assert!(w.is_none_or(|w| w <= MAX_WAIT), "{reset}: {w:?}");
    }
    // The governor fed extreme headers keeps answering with bounded waits.
    let t0 = Instant::now();
    let mut g = Governor::default();
    let extreme = RateState {
        limit: Some(u64::MAX),
        remaining: Some(0),
        reset: Some(i64::MAX),
    };
    for i in 0..50u32 {
        let at = t0 + Duration::from_millis(u64::from(i) * 20);
        match g.acquire(at) {
            Permit::Go(ticket) => g.complete(ticket, at, now, Some(&extreme), i % 7 == 0),
            Permit::Wait(w) => assert!(w <= MAX_GOVERNOR_WAIT, "{w:?}"),
        }
    }
    let full = RateState {
        limit: Some(u64::MAX),
        remaining: Some(u64::MAX),
        reset: Some(i64::MIN),
    };
    if let Permit::Go(ticket) = g.acquire(t0 + Duration::from_secs(5)) {
        g.complete(ticket, t0 + Duration::from_secs(5), now, Some(&full), false);
    }
    let _ = g.acquire(t0 + Duration::from_secs(3_600 * 24 * 365));
}
