//! The rotation-problem ledger (docs/rotation.md, docs/alerts.md): the failed, rolled back and
//! blocked steps of rotation passes, as the alert side's own event type ([`RotationEvent`]), and
//! the pure decision of which of them to notify (new, or a `repeat_interval` reminder) and which
//! to forget. The rotator turns its step outcomes into these events; nothing here knows its
//! types.

use super::Settings;
use crate::config::Severity;
use crate::inventory::Kind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// What went wrong with one rotation step (the `outcome` of docs/rotation.md that alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationOutcome {
    /// Not rotated: Auth0 was left as it was, or its state could not be established.
    Failed,
    /// Rotated, did not verify, undone.
    RolledBack,
    /// Due, but cannot be rotated (no usable replacement in the store, a limit, a guard).
    Blocked,
}

impl RotationOutcome {
    /// The JSON / label value (`failed`, `rolled_back`, `blocked`, as `certwatch_rotations_total`).
    pub fn as_str(self) -> &'static str {
        match self {
            RotationOutcome::Failed => "failed",
            RotationOutcome::RolledBack => "rolled_back",
            RotationOutcome::Blocked => "blocked",
        }
    }

    /// The alert severity: critical for failed and rolled back, warning for blocked.
    pub fn severity(self) -> Severity {
        match self {
            RotationOutcome::Failed | RotationOutcome::RolledBack => Severity::Critical,
            RotationOutcome::Blocked => Severity::Warning,
        }
    }
}

/// One rotation problem to notify about. Also the `rotation` object of the `json` webhook payload
/// and what the ledger remembers (field order as serialized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationEvent {
    /// Tenant name.
    pub tenant: String,
    /// The kind of certificate being rotated.
    pub kind: Kind,
    /// Connection id, client id or (signing keys) the current kid, as in docs/json.md.
    pub object_id: String,
    /// Connection name, client name or tenant domain.
    pub object_name: String,
    /// What went wrong.
    pub outcome: RotationOutcome,
    /// What happened, in one human line (the step's detail and error).
    pub message: String,
}

impl RotationEvent {
    /// The ledger key of this problem.
    pub fn key(&self) -> RotationKey {
        RotationKey {
            tenant: self.tenant.clone(),
            kind: self.kind,
            object_id: self.object_id.clone(),
            outcome: self.outcome,
        }
    }
}

/// The identity of one rotation problem across passes: (tenant, kind, object_id, outcome). The
/// same object failing again is the same problem; failing after being blocked is a new one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RotationKey {
    /// Tenant name.
    pub tenant: String,
    /// Kind.
    pub kind: Kind,
    /// Object id.
    pub object_id: String,
    /// Outcome.
    pub outcome: RotationOutcome,
}

/// What the ledger remembers about one notified rotation problem that later passes still report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationEntry {
    /// When it was first notified.
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When it was last notified (the `repeat_interval` clock).
    #[serde(with = "time::serde::rfc3339")]
    pub last_notified: OffsetDateTime,
    /// The problem as last reported (its message may change from pass to pass).
    pub event: RotationEvent,
}

/// Rotation ledger entries by key.
pub type RotationEntries = BTreeMap<RotationKey, RotationEntry>;

/// One notification about one rotation problem. Always firing: a problem that a later pass no
/// longer reports is forgotten without a message (the certificate alerts say whether it expires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationAlert {
    /// `outcome.severity()`.
    pub severity: Severity,
    /// True for a `repeat_interval` reminder of a problem already notified.
    #[serde(default)]
    pub reminder: bool,
    /// The problem.
    pub rotation: RotationEvent,
    /// When the problem was first notified (equals `at` unless `reminder`).
    #[serde(with = "time::serde::rfc3339")]
    pub first_notified: OffsetDateTime,
    /// When the pass that reported it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Decide the notifications for the rotation problems of one pass and update `entries`.
///
/// A problem (tenant, kind, object_id, outcome) fires when it is not in `entries`, and again when
/// `repeat_interval` has elapsed since it was last notified; otherwise it is quiet. Entries that
/// `events` no longer contains are forgotten without a message. Of duplicate keys in `events` the
/// first wins.
pub fn decide_rotations(
    entries: &mut RotationEntries,
    events: &[RotationEvent],
    settings: Settings,
    now: OffsetDateTime,
) -> Vec<RotationAlert> {
    let mut alerts = Vec::new();
    let mut present: BTreeSet<RotationKey> = BTreeSet::new();
    for ev in events {
        let key = ev.key();
        if !present.insert(key.clone()) {
            continue;
        }
        let alert = |reminder, first_notified| RotationAlert {
            severity: ev.outcome.severity(),
            reminder,
            rotation: ev.clone(),
            first_notified,
            at: now,
        };
        match entries.get_mut(&key) {
            None => {
                alerts.push(alert(false, now));
                entries.insert(
                    key,
                    RotationEntry {
                        first_notified: now,
                        last_notified: now,
                        event: ev.clone(),
                    },
                );
            }
            Some(e) => {
                if now - e.last_notified >= settings.repeat_interval {
                    alerts.push(alert(true, e.first_notified));
                    e.last_notified = now;
                }
                e.event = ev.clone();
            }
        }
    }
    entries.retain(|k, _| {
        let keep = present.contains(k);
        if !keep {
            tracing::info!(
                tenant = %k.tenant, kind = %k.kind, object_id = %k.object_id, outcome = k.outcome.as_str(),
                "rotation problem no longer reported; forgetting it"
            );
        }
        keep
    });
    alerts
}

#[cfg(test)]
mod tests;
