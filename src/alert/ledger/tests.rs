//! Ledger tests: backoff, the file round trip, corrupt files, and compatibility with the files
//! earlier builds wrote.

use super::*;
use crate::alert::policy::{
    Alert, AlertStatus, FindingAlert, FindingRecord, Resolution, RotationAlert, RotationEvent,
    RotationOutcome,
};
use crate::config::Severity;
use crate::expiry::Status;
use crate::inventory::Kind;
use crate::report::CertificateReport;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn alert() -> Alert {
    Alert {
        status: AlertStatus::Firing,
        severity: Severity::Critical,
        resolution: None,
        reminder: false,
        certificate: CertificateReport {
            tenant: "prod".into(),
            kind: "connection_signing_cert".into(),
            role: "active".into(),
            object_id: "con_1".into(),
            object_name: "acme".into(),
            cert_id: "ab".into(),
            subject: None,
            issuer: None,
            serial: None,
            sha1: Some("ab".into()),
            sha256: None,
            not_before: None,
            not_after: Some(T0 + time::Duration::days(5)),
            expires_in_seconds: Some(5 * 86_400),
            status: Status::Critical,
            error: None,
            alerting: false,
            owner: None,
            key_use: None,
        },
        replacement: None,
        at: T0,
    }
}

#[test]
fn backoff_doubles_and_caps() {
    assert_eq!(backoff(1), Duration::from_secs(30));
    assert_eq!(backoff(2), Duration::from_secs(60));
    assert_eq!(backoff(3), Duration::from_secs(120));
    assert_eq!(backoff(7), Duration::from_secs(1920));
    assert_eq!(backoff(8), Duration::from_secs(3600));
    assert_eq!(backoff(1000), Duration::from_secs(3600));
}

#[test]
fn round_trips_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut l = Ledger::default();
    let a = alert();
    l.entries.insert(
        Key::of(&a.certificate),
        Entry {
            severity: Severity::Critical,
            max_severity: Severity::Critical,
            first_notified: T0,
            last_notified: T0,
            certificate: a.certificate.clone(),
        },
    );
    l.enqueue("ops".into(), Batch::of_alerts(false, vec![a]), T0);
    l.pending[0].failed("connection refused".into(), T0);
    write_atomic(&path, &l.to_json()).unwrap();
    assert_eq!(Ledger::load(&path).unwrap(), l);
    assert!(!dir.path().join("alerts.json.tmp").exists());
    assert_eq!(
        l.pending[0].next_attempt_at,
        T0 + time::Duration::seconds(30)
    );
}

#[test]
fn missing_is_empty_and_garbage_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    assert_eq!(Ledger::load(&path).unwrap(), Ledger::default());
    for bad in [
        &b"{not json"[..],
        b"{}",
        b"{\"version\": 99}",
        b"{\"version\":1,\"entries\":{}}",
    ] {
        std::fs::write(&path, bad).unwrap();
        assert!(
            matches!(Ledger::load(&path), Err(LoadError::Corrupt { .. })),
            "{bad:?}"
        );
    }
    let aside = move_aside(&path, T0).unwrap();
    assert!(aside.ends_with(format!("alerts.json.corrupt-{}", T0.unix_timestamp())));
    assert!(!path.exists());
}

fn rotation_entry() -> RotationEntry {
    RotationEntry {
        first_notified: T0,
        last_notified: T0 + time::Duration::hours(1),
        event: RotationEvent {
            tenant: "prod".into(),
            kind: Kind::ConnectionSigningCert,
            object_id: "con_1".into(),
            object_name: "acme".into(),
            outcome: RotationOutcome::RolledBack,
            message: "thumbprints did not match".into(),
        },
    }
}

#[test]
fn rotation_entries_and_alerts_round_trip() {
    let mut l = Ledger::default();
    let e = rotation_entry();
    l.rotations.insert(e.event.key(), e.clone());
    l.enqueue(
        "ops".into(),
        Batch::of_rotations(
            true,
            vec![RotationAlert {
                severity: Severity::Critical,
                reminder: true,
                rotation: e.event.clone(),
                first_notified: T0,
                at: T0 + time::Duration::days(1),
            }],
        ),
        T0,
    );
    let json = l.to_json();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["rotations"][0]["event"]["outcome"], "rolled_back");
    assert_eq!(
        v["rotations"][0]["event"]["kind"],
        "connection_signing_cert"
    );
    assert_eq!(Ledger::from_json(&json).unwrap(), l);
}

#[test]
fn a_ledger_without_rotations_still_loads_and_is_written_the_same() {
    // As written before rotation alerts existed (a pending certificate alert included).
    let old = br#"{
  "version": 1,
  "next_id": 4,
  "entries": [],
  "pending": [
{
  "id": 3,
  "channel": "ops",
  "batch": {
    "digest": false,
    "alerts": [
      {
        "status": "firing",
        "severity": "critical",
        "resolution": null,
        "reminder": false,
        "certificate": {
          "tenant": "prod", "kind": "connection_signing_cert", "role": "active",
          "object_id": "con_1", "object_name": "acme", "cert_id": "ab", "status": "critical"
        },
        "replacement": null,
        "at": "2026-11-23T12:00:00Z"
      }
    ]
  },
  "created_at": "2026-11-23T12:00:00Z",
  "attempts": 0,
  "next_attempt_at": "2026-11-23T12:00:00Z"
}
  ]
}"#;
    let l = Ledger::from_json(old).unwrap();
    assert!(l.rotations.is_empty());
    assert_eq!(l.pending.len(), 1);
    assert!(l.pending[0].batch.rotations.is_empty());
    assert_eq!(l.next_id, 4);
    let v: serde_json::Value = serde_json::from_slice(&l.to_json()).unwrap();
    assert!(
        v.get("rotations").is_none() && v["pending"][0]["batch"].get("rotations").is_none(),
        "no rotation keys while there are none, so older builds still read the file"
    );
    assert!(l.findings.is_empty());
    assert!(
        v.get("findings").is_none() && v["pending"][0]["batch"].get("findings").is_none(),
        "no finding keys while there are none, so older builds still read the file"
    );
}

#[test]
fn finding_entries_and_alerts_round_trip() {
    let record = FindingRecord {
        tenant: "prod".into(),
        kind: "idp_certificate_withdrawn".into(),
        object_id: "con_1".into(),
        object_name: "acme".into(),
        severity: "critical".into(),
        message: "the IdP no longer publishes 3f1c".into(),
        sha1: Some("3f1c".into()),
        not_after: Some(T0 + time::Duration::days(20)),
        owner: None,
    };
    let entry = FindingEntry {
        severity: Severity::Critical,
        max_severity: Severity::Critical,
        first_notified: T0,
        last_notified: T0,
        object_kind: "connection_signing_cert".into(),
        finding: record.clone(),
    };
    let mut l = Ledger::default();
    l.findings.insert(record.key(), entry);
    l.enqueue(
        "ops".into(),
        Batch::of_findings(
            false,
            vec![FindingAlert {
                status: AlertStatus::Resolved,
                severity: Severity::Critical,
                reminder: false,
                object_kind: "connection_signing_cert".into(),
                finding: record,
                first_notified: T0,
                at: T0 + time::Duration::days(1),
            }],
        ),
        T0,
    );
    let json = l.to_json();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        v["findings"][0]["finding"]["kind"],
        "idp_certificate_withdrawn"
    );
    assert_eq!(
        v["findings"][0]["finding"]["not_after"],
        "2026-12-13T12:00:00Z"
    );
    assert_eq!(
        v["pending"][0]["batch"]["findings"][0]["status"],
        "resolved"
    );
    assert_eq!(Ledger::from_json(&json).unwrap(), l);
}

/// An `alerts.json` written by the build before the ledger, the alerts and the JSON document
/// shared one certificate record type (main at d7771c9): every ledger kind, certificate records
/// with and without their optional fields, and pending batches of each sort (a digest with a
/// `renewed` replacement, one with a failed attempt). It loads, and is written back byte for byte.
#[test]
fn a_ledger_written_by_an_earlier_build_loads_and_is_written_back_the_same() {
    let old: &[u8] = include_bytes!("alerts-v1.json");
    let l = Ledger::from_json(old).unwrap();
    assert_eq!(
        (l.entries.len(), l.rotations.len(), l.findings.len()),
        (2, 1, 1)
    );
    assert_eq!(l.pending.len(), 4);
    assert_eq!(l.next_id, 4);
    let full = &l.pending[0].batch.alerts[0].certificate;
    assert_eq!(full.cert_id, "3f1c0ffee");
    assert_eq!(full.not_before, Some(datetime!(2025-11-28 12:00 UTC)));
    assert_eq!(full.not_after, Some(datetime!(2026-11-28 12:00 UTC)));
    assert_eq!(full.expires_in_seconds, Some(5 * 86_400));
    assert_eq!(full.status, Status::Critical);
    let resolved = &l.pending[0].batch.alerts[1];
    assert_eq!(resolved.resolution, Some(Resolution::Renewed));
    assert_eq!(
        resolved.certificate.error.as_deref(),
        Some("not a certificate")
    );
    assert_eq!(resolved.certificate.not_after, None);
    assert_eq!(resolved.replacement.as_ref(), Some(full));
    assert_eq!(l.pending[1].attempts, 1);
    assert_eq!(l.pending[2].batch.rotations.len(), 1);
    assert_eq!(l.pending[3].batch.findings.len(), 1);
    // Written back as the earlier build wrote it, but for the fields added since (`owner`,
    // `key_use`: null when unknown).
    fn without_added_nulls(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for added in ["owner", "key_use"] {
                    if m.get(added).is_some_and(serde_json::Value::is_null) {
                        m.remove(added);
                    }
                }
                m.values_mut().for_each(without_added_nulls);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(without_added_nulls),
            _ => {}
        }
    }
    let mut written: serde_json::Value = serde_json::from_slice(&l.to_json()).unwrap();
    without_added_nulls(&mut written);
    assert_eq!(
        written,
        serde_json::from_slice::<serde_json::Value>(old).unwrap(),
        "written back as the earlier build wrote it"
    );
    assert_eq!(Ledger::from_json(&l.to_json()).unwrap(), l);
}

#[test]
fn a_file_over_the_limit_is_never_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    std::fs::write(&path, Ledger::default().to_json()).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(Ledger::load_capped(&path, size).is_ok());
    let e = Ledger::load_capped(&path, size - 1).unwrap_err();
    assert!(matches!(e, LoadError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("larger than {} bytes", size - 1)),
        "{e}"
    );
    assert_eq!(read_capped(&path, 10).unwrap(), None);
    std::fs::write(&path, b"0123456789").unwrap();
    assert_eq!(read_capped(&path, 10).unwrap().unwrap().len(), 10);
    assert_eq!(read_capped(&path, 9).unwrap(), None);
}
