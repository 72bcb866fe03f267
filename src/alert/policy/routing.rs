//! Routing (docs/alerts.md): which channel gets which notification — each channel's filter on
//! severity, tenant and kind — and how notifications are grouped into [`Batch`]es, the messages
//! the ledger queues and the notifiers send (one per alert, or with `digest` one per channel).
//! The Alertmanager channel, which posts state rather than notifications, filters with [`admits`].

use super::{Alert, FindingAlert, RotationAlert};
use crate::config::{Filter, Severity};
use serde::{Deserialize, Serialize};

/// Whether `filter` lets through something of `severity` in `tenant` about an object of `kind`
/// (its `Kind::as_str`, or `custom_domain`) owned by `owner`.
pub fn admits(
    filter: &Filter,
    severity: Severity,
    tenant: &str,
    kind: &str,
    owner: Option<&str>,
) -> bool {
    severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.iter().any(|t| t == tenant))
        && (filter.kinds.is_empty() || filter.kinds.iter().any(|k| k.as_str() == kind))
        && filter.owner_accepted(owner)
}

/// A notification that channels filter and batches carry: a certificate, rotation or finding
/// alert.
pub trait Routed: Clone {
    /// Whether a channel's filter lets it through (severity, tenant, kind).
    fn accepted_by(&self, filter: &Filter) -> bool;
    /// The batch carrying `alerts` of this sort.
    fn batch(digest: bool, alerts: Vec<Self>) -> Batch;
}

impl Routed for Alert {
    /// `resolved` is routed by the worst severity of the episode, so a channel that saw the alert
    /// fire also sees it resolve.
    fn accepted_by(&self, filter: &Filter) -> bool {
        let c = &self.certificate;
        admits(
            filter,
            self.severity,
            &c.tenant,
            &c.kind,
            c.owner.as_deref(),
        )
    }

    fn batch(digest: bool, alerts: Vec<Self>) -> Batch {
        Batch::of_alerts(digest, alerts)
    }
}

impl Routed for RotationAlert {
    /// A rotation names no owner: channels that filter on owners do not get rotation alerts.
    fn accepted_by(&self, filter: &Filter) -> bool {
        let r = &self.rotation;
        admits(filter, self.severity, &r.tenant, r.kind.as_str(), None)
    }

    fn batch(digest: bool, alerts: Vec<Self>) -> Batch {
        Batch::of_rotations(digest, alerts)
    }
}

impl Routed for FindingAlert {
    /// The kind is that of the object the finding is about.
    fn accepted_by(&self, filter: &Filter) -> bool {
        admits(
            filter,
            self.severity,
            &self.finding.tenant,
            &self.object_kind,
            self.finding.owner.as_deref(),
        )
    }

    fn batch(digest: bool, alerts: Vec<Self>) -> Batch {
        Batch::of_findings(digest, alerts)
    }
}

/// One message for one channel: a single alert, or (digest mode) all the alerts of one poll, one
/// rotation pass or one findings check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Render as a digest (even with one alert), so receivers see one shape per configuration.
    pub digest: bool,
    /// The certificate alerts, in decision order.
    pub alerts: Vec<Alert>,
    /// The rotation alerts, in decision order (absent from ledgers written before they existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<RotationAlert>,
    /// The finding alerts, in decision order (absent from ledgers written before they existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingAlert>,
}

impl Batch {
    /// A batch of certificate alerts.
    pub fn of_alerts(digest: bool, alerts: Vec<Alert>) -> Batch {
        Batch {
            digest,
            alerts,
            rotations: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// A batch of rotation alerts.
    pub fn of_rotations(digest: bool, rotations: Vec<RotationAlert>) -> Batch {
        Batch {
            digest,
            alerts: Vec::new(),
            rotations,
            findings: Vec::new(),
        }
    }

    /// A batch of finding alerts.
    pub fn of_findings(digest: bool, findings: Vec<FindingAlert>) -> Batch {
        Batch {
            digest,
            alerts: Vec::new(),
            rotations: Vec::new(),
            findings,
        }
    }

    /// How many alerts of either sort it carries.
    pub fn len(&self) -> usize {
        self.alerts.len() + self.rotations.len() + self.findings.len()
    }

    /// Whether it carries no alert.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Route alerts of one sort to channels `(name, filter)`: one batch per alert and channel, or
/// with `digest` one batch per channel. Channels that accept nothing get nothing.
pub fn route<'a, T: Routed>(
    alerts: &[T],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    let mut out = Vec::new();
    for (name, filter) in channels {
        let accepted: Vec<T> = alerts
            .iter()
            .filter(|a| a.accepted_by(filter))
            .cloned()
            .collect();
        if accepted.is_empty() {
            continue;
        }
        if digest {
            out.push((name.to_string(), T::batch(true, accepted)));
        } else {
            out.extend(
                accepted
                    .into_iter()
                    .map(|a| (name.to_string(), T::batch(false, vec![a]))),
            );
        }
    }
    out
}
