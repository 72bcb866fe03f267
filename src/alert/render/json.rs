//! The `json` webhook payload (pure; docs/alerts.md): one alert, or a digest of them, with the
//! records as they are (JSON-escaped by the encoder). A certificate alert carries the same
//! certificate record as the JSON document (docs/json.md).

use super::words::{rotation_summary, summary};
use super::{Item, finding, items, only};
use crate::alert::policy::{
    Alert, AlertStatus, Batch, FindingRecord, RotationAlert, RotationEvent,
};
use crate::report::CertificateReport;
use serde::Serialize;

/// The payload version of the `json` format.
pub const JSON_VERSION: u32 = 1;

/// The `json` payload of one alert (field order as in docs/alerts.md). A certificate alert
/// carries `certificate` and no `rotation` key; a rotation alert (docs/rotation.md) carries
/// `rotation` and no `certificate` key, is always `firing` with `resolution: null`, and its
/// severity is `critical` (failed, rolled back) or `warning` (blocked). A finding alert
/// (docs/findings.md) carries only `finding`, with `resolution: "resolved"` when resolved.
#[derive(Debug, Serialize)]
pub struct JsonAlert<'a> {
    /// Always `JSON_VERSION`.
    pub version: u32,
    /// `firing` / `resolved`.
    pub status: &'static str,
    /// `warning` / `critical` / `expired`.
    pub severity: &'static str,
    /// The subject line without the `[certwatch] ` prefix.
    pub summary: String,
    /// `renewed` / `removed` for resolved certificate alerts, `resolved` for resolved findings.
    pub resolution: Option<&'static str>,
    /// The certificate record of docs/json.md (certificate alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<&'a CertificateReport>,
    /// `{tenant, kind, object_id, object_name, outcome, message}` (rotation alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<&'a RotationEvent>,
    /// The finding record of docs/findings.md (finding alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<&'a FindingRecord>,
}

/// The `json` webhook document: one alert, or a digest.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum JsonPayload<'a> {
    /// One alert.
    Single(JsonAlert<'a>),
    /// `{"version": 1, "alerts": [...]}`.
    Digest {
        /// Always `JSON_VERSION`.
        version: u32,
        /// The alerts.
        alerts: Vec<JsonAlert<'a>>,
    },
}

/// The `json` payload of one alert.
pub fn json_alert(a: &Alert) -> JsonAlert<'_> {
    JsonAlert {
        version: JSON_VERSION,
        status: a.status.as_str(),
        severity: a.severity.as_str(),
        summary: summary(a),
        resolution: a.resolution.map(|r| r.as_str()),
        certificate: Some(&a.certificate),
        rotation: None,
        finding: None,
    }
}

/// The `json` payload of one rotation alert.
pub fn json_rotation_alert(a: &RotationAlert) -> JsonAlert<'_> {
    JsonAlert {
        version: JSON_VERSION,
        status: AlertStatus::Firing.as_str(),
        severity: a.severity.as_str(),
        summary: rotation_summary(a),
        resolution: None,
        certificate: None,
        rotation: Some(&a.rotation),
        finding: None,
    }
}

/// The `json` payload of one alert of a batch, of whichever sort.
fn item(i: Item<'_>) -> JsonAlert<'_> {
    match i {
        Item::Certificate(a) => json_alert(a),
        Item::Rotation(a) => json_rotation_alert(a),
        Item::Finding(a) => finding::json_finding_alert(a),
    }
}

/// The `json` document for a batch (a digest lists certificate alerts, then rotation alerts,
/// then finding alerts).
pub fn json_payload(batch: &Batch) -> JsonPayload<'_> {
    match only(batch) {
        Some(one) if !batch.digest => JsonPayload::Single(item(one)),
        _ => JsonPayload::Digest {
            version: JSON_VERSION,
            alerts: items(batch).map(item).collect(),
        },
    }
}

/// The `json` webhook body: one alert, or `{"version": 1, "alerts": [...]}` for a digest.
pub fn json(batch: &Batch) -> String {
    serde_json::to_string(&json_payload(batch)).unwrap_or_default()
}
