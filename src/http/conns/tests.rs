use super::*;

const LIMITS: Limits = Limits {
    max_connections: 3,
    header_read_timeout: Duration::from_secs(10),
    idle_timeout: Duration::from_secs(90),
};

fn open(a: Admit) -> Slot {
    match a {
        Admit::Open(s) => s,
        other => panic!("expected room, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_set_evicts_the_longest_quiet_idle_connection() {
    let set = Conns::new(LIMITS.max_connections);
    let a = open(set.admit(Instant::now(), false));
    tokio::time::advance(Duration::from_secs(1)).await;
    let b = open(set.admit(Instant::now(), false));
    tokio::time::advance(Duration::from_secs(1)).await;
    let c = open(set.admit(Instant::now(), false));
    // `a` is the oldest but just sent bytes: `b` has been quiet the longest.
    a.conn.read_some(Instant::now());
    let d = match set.admit(Instant::now(), false) {
        Admit::Evicted(s) => s,
        other => panic!("expected an eviction, got {other:?}"),
    };
    assert!(b.conn.evicted.is_cancelled());
    assert!(!a.conn.evicted.is_cancelled() && !c.conn.evicted.is_cancelled());
    assert_eq!(set.len(), 3);
    // The evicted connection's task drops its slot later; that does not free a second place.
    drop(b);
    assert_eq!(set.len(), 3);
    drop(d);
    assert_eq!(set.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_connection_with_a_request_arriving_is_evicted_last() {
    let set = Conns::new(2);
    // The older one already had its request waiting when it was accepted.
    let asking = open(set.admit(Instant::now(), true));
    tokio::time::advance(Duration::from_secs(1)).await;
    let silent = open(set.admit(Instant::now(), false));
    let _new = set.admit(Instant::now(), false);
    assert!(silent.conn.evicted.is_cancelled() && !asking.conn.evicted.is_cancelled());
    // Among connections with requests arriving, the quiet-longest goes first.
    let _third = set.admit(Instant::now(), true);
    assert!(
        !asking.conn.evicted.is_cancelled(),
        "the new silent one went first"
    );
    let _fourth = set.admit(Instant::now(), true);
    assert!(asking.conn.evicted.is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn busy_connections_are_never_evicted() {
    let set = Conns::new(2);
    let a = open(set.admit(Instant::now(), false));
    let b = open(set.admit(Instant::now(), false));
    let busy_a = a.conn.request(Instant::now());
    let busy_b = b.conn.request(Instant::now());
    assert!(matches!(set.admit(Instant::now(), false), Admit::Refused));
    assert_eq!(set.len(), 2);
    drop(busy_b);
    assert!(matches!(
        set.admit(Instant::now(), false),
        Admit::Evicted(_)
    ));
    assert!(b.conn.evicted.is_cancelled() && !a.conn.evicted.is_cancelled());
    drop(busy_a);
}

#[tokio::test(start_paused = true)]
async fn each_phase_has_its_deadline() {
    let set = Conns::new(4);
    let start = Instant::now();
    let s = open(set.admit(start, false));
    // A new connection owes a request head.
    assert_eq!(
        s.conn.deadline(&LIMITS),
        (
            start + LIMITS.header_read_timeout,
            Some(TimedOut::HeaderRead)
        )
    );
    // Trickling bytes does not move the head deadline.
    assert!(s.conn.quiet(), "nothing has arrived yet");
    tokio::time::advance(Duration::from_secs(5)).await;
    s.conn.read_some(Instant::now());
    assert!(!s.conn.quiet(), "a request is arriving");
    assert_eq!(
        s.conn.deadline(&LIMITS).0,
        start + LIMITS.header_read_timeout
    );
    // While a request is handled there is no deadline.
    let busy = s.conn.request(Instant::now());
    assert_eq!(s.conn.deadline(&LIMITS).1, None);
    tokio::time::advance(Duration::from_secs(1)).await;
    drop(busy);
    assert!(s.conn.quiet());
    let done = Instant::now();
    assert_eq!(
        s.conn.deadline(&LIMITS),
        (done + LIMITS.idle_timeout, Some(TimedOut::Idle))
    );
    // The response going out counts as traffic.
    tokio::time::advance(Duration::from_secs(2)).await;
    s.conn.wrote_some(Instant::now());
    assert_eq!(
        s.conn.deadline(&LIMITS).0,
        Instant::now() + LIMITS.idle_timeout
    );
    // The first byte of the next request starts a new head deadline.
    tokio::time::advance(Duration::from_secs(30)).await;
    let next = Instant::now();
    s.conn.read_some(next);
    assert_eq!(
        s.conn.deadline(&LIMITS),
        (
            next + LIMITS.header_read_timeout,
            Some(TimedOut::HeaderRead)
        )
    );
}

#[test]
fn a_zero_limit_still_admits_one() {
    let set = Conns::new(0);
    let a = open(set.admit(Instant::now(), false));
    let b = set.admit(Instant::now(), false);
    assert!(matches!(b, Admit::Evicted(_)), "{b:?}");
    assert!(a.conn.evicted.is_cancelled());
    assert_eq!(set.len(), 1);
    drop(b);
    assert!(set.is_empty());
}
