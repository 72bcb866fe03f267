//! Routing (docs/alerts.md): which channel gets which notification — each channel's filter on
//! severity, tenant and kind — and how notifications are grouped into [`Batch`]es, the messages
//! the ledger queues and the notifiers send (one per alert, or with `digest` one per channel).

use super::{Alert, FindingAlert, RotationAlert};
use crate::config::Filter;
use serde::{Deserialize, Serialize};

/// Whether a channel's filter lets `alert` through. `resolved` is routed by the worst severity of
/// the episode, so a channel that saw the alert fire also sees it resolve.
pub fn accepts(filter: &Filter, alert: &Alert) -> bool {
    let c = &alert.certificate;
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&c.tenant))
        && (filter.kinds.is_empty() || filter.kinds.iter().any(|k| k.as_str() == c.kind))
}

/// Whether a channel's filter lets a rotation alert through (severity, tenant, kind).
pub fn accepts_rotation(filter: &Filter, alert: &RotationAlert) -> bool {
    let r = &alert.rotation;
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&r.tenant))
        && (filter.kinds.is_empty() || filter.kinds.contains(&r.kind))
}

/// Whether a channel's filter lets a finding alert through (severity, tenant, and the kind of
/// the object the finding is about).
pub fn accepts_finding(filter: &Filter, alert: &FindingAlert) -> bool {
    alert.severity >= filter.min_severity
        && (filter.tenants.is_empty() || filter.tenants.contains(&alert.finding.tenant))
        && (filter.kinds.is_empty() || filter.kinds.iter().any(|k| k.as_str() == alert.object_kind))
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

/// Route alerts to channels `(name, filter)`: one batch per alert and channel, or with `digest`
/// one batch per channel. Channels that accept nothing get nothing.
pub fn route<'a>(
    alerts: &[Alert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    route_with(alerts, channels, digest, accepts, Batch::of_alerts)
}

/// `route` for rotation alerts.
pub fn route_rotations<'a>(
    alerts: &[RotationAlert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    route_with(
        alerts,
        channels,
        digest,
        accepts_rotation,
        Batch::of_rotations,
    )
}

/// `route` for finding alerts.
pub fn route_findings<'a>(
    alerts: &[FindingAlert],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
) -> Vec<(String, Batch)> {
    route_with(
        alerts,
        channels,
        digest,
        accepts_finding,
        Batch::of_findings,
    )
}

fn route_with<'a, T: Clone>(
    items: &[T],
    channels: impl IntoIterator<Item = (&'a str, &'a Filter)>,
    digest: bool,
    accepts: impl Fn(&Filter, &T) -> bool,
    batch: impl Fn(bool, Vec<T>) -> Batch,
) -> Vec<(String, Batch)> {
    let mut out = Vec::new();
    for (name, filter) in channels {
        let accepted: Vec<T> = items
            .iter()
            .filter(|a| accepts(filter, a))
            .cloned()
            .collect();
        if accepted.is_empty() {
            continue;
        }
        if digest {
            out.push((name.to_string(), batch(true, accepted)));
        } else {
            out.extend(
                accepted
                    .into_iter()
                    .map(|a| (name.to_string(), batch(false, vec![a]))),
            );
        }
    }
    out
}
