//! Pure alert policy (docs/alerts.md): from the ledger's entries, what was observed and `now`, the
//! notifications to send, and which channel gets each. No I/O and no clock: `now` is an argument.
//!
//! One file per ledger kind, each with its key, its entry, its notification and its decision:
//! - `certificates`: the report's certificates ([`decide`], [`seed`] after a lost ledger);
//! - `rotations`: the problems of a rotation pass, given as [`RotationEvent`]s, the alert side's
//!   own event type (docs/rotation.md: failed, rolled back, blocked; [`decide_rotations`]);
//! - `findings`: the report's findings (docs/findings.md; [`decide_findings`], [`seed_findings`]);
//!
//! and `routing`: the channels' filters and the [`Batch`]es they are sent ([`route`], for any
//! [`Routed`] sort of alert). Everything is re-exported here: callers name it `policy::X`.

mod certificates;
mod findings;
mod rotations;
mod routing;

pub use certificates::{Alert, Entries, Entry, Key, Resolution, decide, seed};
pub use findings::{
    FindingAlert, FindingEntries, FindingEntry, FindingKey, FindingRecord, decide_findings,
    finding_severity, seed_findings,
};
pub use rotations::{
    RotationAlert, RotationEntries, RotationEntry, RotationEvent, RotationKey, RotationOutcome,
    decide_rotations,
};
pub use routing::{Batch, Routed, admits, route};

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `firing` or `resolved` (certificate and finding notifications; rotation ones always fire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The certificate is (still) expiring or expired.
    Firing,
    /// The certificate was renewed or removed.
    Resolved,
}

impl AlertStatus {
    /// The JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// The engine settings the policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Re-notify while not ok.
    pub repeat_interval: Duration,
    /// Send `resolved` notifications.
    pub send_resolved: bool,
}

#[cfg(test)]
mod test_support;
