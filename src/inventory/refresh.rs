//! Incremental polls (docs/polling.md, incremental polls): what a tenant's poller remembers
//! between polls, and the pure decision of which per-object reads (a client's credentials, a
//! connection's keys) a poll makes and which it answers from memory.
//!
//! Each object is remembered with a fingerprint of its *references* — what the listing says the
//! per-object read depends on (a client's credential ids; a connection's strategy and options) —
//! when it was last read, and the records that read produced. A poll re-reads an object when
//! its fingerprint changed (at once), when nothing is remembered (a new object, a restart, a
//! failed read), or when its refresh slot came round: every object has a fixed phase inside the
//! `full_refresh` period, taken from a stable hash of its id, so the re-reads of a steady tenant
//! are spread evenly over the polls of the period instead of all falling due together. Between
//! two reads of an unchanged object there is at most one period (a poll at or after
//! `read_at + full_refresh` always re-reads it).
//!
//! `Recall` is a listing walk's handle on this memory: it answers an object from memory into
//! the poll's outcome, or stores what a read found. No I/O and no clock: the poller passes
//! `now` (from the injected clock) in.

use super::{CertRecord, PollOutcome};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use time::OffsetDateTime;

/// The default `full_refresh` of a tenant.
pub const DEFAULT_FULL_REFRESH: Duration = Duration::from_secs(6 * 3600);

/// What one tenant's poller remembers between polls (empty at start: the first poll is full).
#[derive(Debug, Default)]
pub struct Memory {
    /// Clients, by `client_id`: their credential lists.
    pub clients: Objects,
    /// Connections, by id: their connection keys.
    pub connections: Objects,
}

impl Memory {
    /// Forget everything (the next poll is a full one), e.g. after a poll panicked midway.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

/// One object's last read.
#[derive(Debug, Clone)]
struct Entry {
    fingerprint: u64,
    read_at: OffsetDateTime,
    records: Vec<CertRecord>,
}

/// The remembered per-object reads of one listing (clients or connections).
#[derive(Debug, Default)]
pub struct Objects {
    entries: HashMap<String, Entry>,
    /// Ids the current listing named (entries of the others are dropped when it completes).
    listed: HashSet<String>,
}

/// When and how often remembered reads are refreshed.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// This poll's time (the injected clock).
    pub now: OffsetDateTime,
    /// `full_refresh`; zero re-reads every object at every poll.
    pub period: Duration,
}

impl Objects {
    /// Start of a listing: nothing is marked as listed yet.
    pub fn begin(&mut self) {
        self.listed.clear();
    }

    /// The listing named object `id` with references `fingerprint`: its remembered records when
    /// they may stand for this poll, `None` when the object is to be read (changed, never read,
    /// or due for its refresh).
    pub fn reuse(&mut self, id: &str, fingerprint: u64, at: Schedule) -> Option<&[CertRecord]> {
        self.listed.insert(id.to_string());
        let entry = self.entries.get(id)?;
        let fresh = entry.fingerprint == fingerprint && !due(id, entry.read_at, at.now, at.period);
        fresh.then_some(entry.records.as_slice())
    }

    /// Object `id` was read at `at.now`: remember what it produced.
    pub fn store(&mut self, id: &str, fingerprint: u64, at: Schedule, records: Vec<CertRecord>) {
        self.listed.insert(id.to_string());
        self.entries.insert(
            id.to_string(),
            Entry {
                fingerprint,
                read_at: at.now,
                records,
            },
        );
    }

    /// The read of `id` failed (or was never made): the next poll reads it.
    pub fn forget(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// End of a listing. A complete one drops every object it no longer names (deleted, or no
    /// longer referencing anything); an incomplete one keeps them for the next poll.
    pub fn finish(&mut self, complete: bool) {
        if complete {
            let listed = std::mem::take(&mut self.listed);
            self.entries.retain(|id, _| listed.contains(id));
        } else {
            self.listed.clear();
        }
    }

    /// Objects remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether an unchanged object last read at `read_at` is to be re-read at `now`: when `now` is
/// a whole period or more after the read, when the object's refresh slot (its phase, from a
/// stable hash of `id`, plus whole periods) lies in `(read_at, now]`, or when the clock went
/// backwards.
pub fn due(id: &str, read_at: OffsetDateTime, now: OffsetDateTime, period: Duration) -> bool {
    let period_ns = period.as_nanos();
    if period_ns == 0 || now < read_at || (now - read_at) >= period {
        return true;
    }
    // Slot k of the object starts at phase + k·period (Unix time, nanoseconds): the read is
    // due when `now` is in a later slot than `read_at`.
    let phase = u128::from(stable_hash(id.as_bytes())) % period_ns;
    let slot = |t: OffsetDateTime| {
        let ns = t.unix_timestamp_nanos() - phase as i128;
        ns.div_euclid(period_ns as i128)
    };
    slot(now) > slot(read_at)
}

/// FNV-1a (64 bit): stable across runs, builds and platforms (unlike `std`'s `DefaultHasher`).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h = Fingerprint::new();
    h.add(bytes);
    h.value()
}

/// An order-sensitive fingerprint of an object's references, built from byte strings.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprint {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// An empty fingerprint.
    pub fn new() -> Self {
        Self(Self::OFFSET)
    }

    /// Add one part (parts are separated, so `["ab", "c"]` and `["a", "bc"]` differ).
    pub fn add(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
        self
    }

    /// The value.
    pub fn value(&self) -> u64 {
        self.0
    }
}

/// The references of a client's credential list: the credential ids it names, in any order.
pub fn credential_fingerprint(refs: &HashSet<String>) -> u64 {
    let mut ids: Vec<&String> = refs.iter().collect();
    ids.sort();
    let mut f = Fingerprint::new();
    for id in ids {
        f.add(id.as_bytes());
    }
    f.value()
}

/// The references of a connection's keys: its strategy and its options (which hold every
/// key-bearing setting, e.g. `token_endpoint_auth_method`).
pub fn connection_fingerprint(strategy: &str, options: Option<&serde_json::Value>) -> u64 {
    let mut f = Fingerprint::new();
    f.add(strategy.as_bytes());
    if let Some(o) = options {
        f.add(o.to_string().as_bytes());
    }
    f.value()
}

/// A listing's per-object reads as remembered between polls (`refresh`).
pub(crate) struct Recall<'m> {
    /// The listing's memory.
    pub(crate) memory: &'m mut Objects,
    at: Schedule,
}

impl<'m> Recall<'m> {
    /// Start of a listing at `at`.
    pub(crate) fn begin(memory: &'m mut Objects, at: Schedule) -> Self {
        memory.begin();
        Self { memory, at }
    }

    /// Adds the remembered records of object `id` (renamed to `name`) to `out` when they stand
    /// for this poll; `false` when the object is to be read.
    pub(crate) fn reuse(
        &mut self,
        out: &mut PollOutcome,
        id: &str,
        name: &str,
        fingerprint: u64,
    ) -> bool {
        let Some(recs) = self.memory.reuse(id, fingerprint, self.at) else {
            return false;
        };
        out.records.extend(recs.iter().map(|r| CertRecord {
            object_name: name.to_string(),
            ..r.clone()
        }));
        true
    }

    /// The read of object `id` came back: its records are found, and remembered.
    pub(crate) fn read(
        &mut self,
        out: &mut PollOutcome,
        id: &str,
        fingerprint: u64,
        recs: Vec<CertRecord>,
    ) {
        self.memory.store(id, fingerprint, self.at, recs.clone());
        out.records.extend(recs);
    }
}

#[cfg(test)]
mod tests;
