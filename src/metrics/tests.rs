//! Metrics tests: series follow the snapshot, labels are bounded, counters count.

use super::*;
use crate::expiry::Validity;
use crate::inventory::{CertRecord, Kind, Reason, Role, Source, TenantSnapshot};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 0:00 UTC);

fn rec(cert_id: &str, days: i64, error: Option<&str>) -> CertRecord {
    CertRecord {
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        role: Role::Active,
        object_id: "con_1".into(),
        object_name: "acme \"idp\"\n".repeat(40),
        cert_id: cert_id.into(),
        subject: Some("CN=idp".into()),
        issuer: Some("CN=idp".into()),
        serial: Some("01".into()),
        sha1: Some(cert_id.into()),
        sha256: None,
        validity: if error.is_some() {
            Validity::Unknown
        } else {
            Validity::Window {
                not_before: Some(NOW - time::Duration::days(10)),
                not_after: NOW + time::Duration::days(days),
            }
        },
        error: error.map(str::to_string),
        source: Source::Connections,
        owner: None,
        key_use: None,
    }
}

fn snapshot(records: Vec<CertRecord>) -> Snapshot {
    let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
    t.up = true;
    t.last_success = Some(NOW);
    t.poll_duration = Some(std::time::Duration::from_millis(1500));
    t.records = records;
    Snapshot { tenants: vec![t] }
}

#[test]
fn series_follow_the_snapshot() {
    let m = Metrics::new(true);
    m.apply(
        &snapshot(vec![
            rec("aaa", 3, None),
            rec("bbb", 100, None),
            rec("ccc", 0, Some("bad")),
        ]),
        &Policy::default(),
        NOW,
    );
    let text = m.render();
    assert!(text.contains("certwatch_certificate_not_after_timestamp_seconds{cert_id=\"aaa\""));
    assert!(text.contains("status=\"critical\""));
    assert!(text.contains("status=\"unknown\""));
    assert!(text.contains("certwatch_certificate_parse_error{cert_id=\"ccc\""));
    assert!(text.contains("certwatch_tenant_up{tenant=\"prod\"} 1"));
    assert!(text.contains("certwatch_poll_duration_seconds{tenant=\"prod\"} 1.5"));
    assert!(text.contains(&format!(
        "certwatch_poll_last_success_timestamp_seconds{{tenant=\"prod\"}} {}",
        NOW.unix_timestamp()
    )));
    assert!(text.contains("certwatch_certificate_expires_in_seconds{cert_id=\"aaa\""));
    assert!(text.contains("certwatch_build_info{"));
    assert!(
        text.contains("# HELP certwatch_certificate_not_after_timestamp_seconds")
            && text.contains("last poll")
    );

    m.apply(
        &snapshot(vec![rec("bbb", 100, None)]),
        &Policy::default(),
        NOW,
    );
    let text = m.render();
    assert!(
        !text.contains("cert_id=\"aaa\""),
        "removed certificate disappears"
    );
    assert!(!text.contains("certwatch_certificate_parse_error{"));
    assert!(text.contains("cert_id=\"bbb\""));
}

#[test]
fn labels_are_bounded_and_escaped() {
    let m = Metrics::new(false);
    m.apply(
        &snapshot(vec![rec("aaa", 3, None)]),
        &Policy::default(),
        NOW,
    );
    let text = m.render();
    let line = text
        .lines()
        .find(|l| l.starts_with("certwatch_certificate_info{"))
        .unwrap();
    assert!(line.contains("object_name=\"acme \\\"idp\\\"\\n"), "{line}");
    assert!(line.len() < 2_000, "label cut to 256 characters");
    assert!(
        !text.contains("certwatch_certificate_expires_in_seconds"),
        "opt-in only"
    );
    assert_eq!(bound(&"é".repeat(300)).chars().count(), MAX_LABEL_LEN);
}

#[test]
fn counters_count() {
    let m = Metrics::new(false);
    let err = PollError {
        source: Source::Connections,
        reason: Reason::ServerError,
        message: "x".into(),
        object_id: None,
    };
    m.count_poll_errors("prod", &[err.clone(), err]);
    m.api_request("prod", "/api/v2/clients", "429");
    m.ratelimit_remaining("prod", 7);
    m.alert_sent("ops-mail", "critical", "delivered");
    m.rotation("prod", "connection_signing_cert", "dry_run");
    let text = m.render();
    assert!(text.contains("certwatch_poll_errors_total{reason=\"server_error\",source=\"connections\",tenant=\"prod\"} 2"));
    assert!(text.contains(
        "certwatch_api_requests_total{code=\"429\",endpoint=\"/api/v2/clients\",tenant=\"prod\"} 1"
    ));
    assert!(text.contains("certwatch_api_ratelimit_remaining{tenant=\"prod\"} 7"));
    assert!(text.contains("certwatch_alerts_sent_total{channel=\"ops-mail\",outcome=\"delivered\",severity=\"critical\"} 1"));
    assert!(text.contains("certwatch_rotations_total{kind=\"connection_signing_cert\",outcome=\"dry_run\",tenant=\"prod\"} 1"));
}

#[test]
fn a_poll_counts_its_copies_panics_and_cost() {
    let m = Metrics::new(false);
    let outcome = crate::inventory::PollOutcome {
        duplicates: vec![crate::inventory::walk::Duplicates {
            endpoint: "/api/v2/connections",
            count: 3,
            first_id: "con_1".into(),
        }],
        panicked: true,
        api_calls: 431,
        ..Default::default()
    };
    m.count_poll("prod", &outcome);
    m.count_poll(
        "prod",
        &crate::inventory::PollOutcome {
            api_calls: 26,
            ..outcome
        },
    );
    let text = m.render();
    assert!(
        text.contains(
            "certwatch_duplicate_objects_total{endpoint=\"/api/v2/connections\",tenant=\"prod\"} 6"
        ),
        "{text}"
    );
    assert!(text.contains("certwatch_poll_panics_total{tenant=\"prod\"} 2"));
    assert!(
        text.contains("certwatch_poll_api_calls{tenant=\"prod\"} 26"),
        "a gauge of the last poll: {text}"
    );
}

#[test]
fn families_come_once_each_in_name_order() {
    let m = Metrics::new(true);
    m.count_poll_errors(
        "prod",
        &[PollError {
            source: Source::Connections,
            reason: Reason::Decode,
            message: "x".into(),
            object_id: None,
        }],
    );
    m.apply(
        &snapshot(vec![rec("aaa", 3, None), rec("ccc", 0, Some("bad"))]),
        &Policy::default(),
        NOW,
    );
    let text = m.render();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
    for family in [
        "certwatch_certificate_info",
        "certwatch_certificate_parse_error",
        "certwatch_poll_errors_total",
        "certwatch_tenant_up",
        "certwatch_build_info",
    ] {
        assert!(names.contains(&family), "{family} in {names:?}");
    }
}
