//! Finding alerts rendered: the subject wording, object words, escaping, the `json` shape, and
//! insta snapshots of every format.

use super::*;
use crate::alert::policy::{Batch, FindingRecord};
use crate::alert::render::tests::{
    HOSTILE_MESSAGE, HOSTILE_NAME, assert_neutralised, pretty, redact,
};
use crate::alert::render::{Email, describe_batch, email, json, json_payload, slack, teams};
use crate::config::Severity;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn alert(object_kind: &str, name: &str, kind: &str, severity: Severity) -> FindingAlert {
    FindingAlert {
        status: AlertStatus::Firing,
        severity,
        reminder: false,
        object_kind: object_kind.into(),
        finding: FindingRecord {
            tenant: "prod".into(),
            kind: kind.into(),
            object_id: "con_abc".into(),
            object_name: name.into(),
            severity: severity.as_str().into(),
            message: "the connection trusts certificate 3f1c0ffee, which the IdP no longer publishes in its metadata".into(),
            sha1: Some("3f1c0ffee".into()),
            not_after: Some(T0 + time::Duration::days(20)),
            owner: None,
        },
        first_notified: T0,
        at: T0,
    }
}

fn withdrawn() -> FindingAlert {
    alert(
        "connection_signing_cert",
        "acme-idp",
        "idp_certificate_withdrawn",
        Severity::Critical,
    )
}

fn single(a: FindingAlert) -> Batch {
    Batch::of_findings(false, vec![a])
}

fn digest() -> Batch {
    let mut limit = alert(
        "client_credential",
        "billing-api",
        "credential_limit_reached",
        Severity::Warning,
    );
    limit.finding.tenant = "staging".into();
    limit.finding.object_id = "cli_123".into();
    limit.finding.message = "the application holds 2 credentials (Auth0's limit is 2): a new one cannot be added before one is deleted".into();
    limit.finding.sha1 = None;
    limit.finding.not_after = None;
    limit.reminder = true;
    limit.first_notified = T0 - time::Duration::days(1);
    let mut resolved = alert(
        "tenant_signing_key",
        "acme.eu.auth0.com",
        "no_next_signing_key",
        Severity::Warning,
    );
    resolved.status = AlertStatus::Resolved;
    resolved.finding.object_id = "acme.eu.auth0.com".into();
    resolved.finding.message = "the tenant has no next signing key".into();
    resolved.finding.sha1 = None;
    resolved.finding.not_after = None;
    resolved.first_notified = T0 - time::Duration::days(3);
    Batch::of_findings(true, vec![withdrawn(), limit, resolved])
}

#[test]
fn subject_names_severity_tenant_object_kind_and_message() {
    let a = withdrawn();
    let want = "[certwatch] CRITICAL prod: connection 'acme-idp' idp_certificate_withdrawn — the connection trusts certificate 3f1c0ffee, which the IdP no longer publishes in its metadata";
    assert_eq!(finding_subject(&a), want);
    assert_eq!(email(&single(a.clone())).subject, want);
    assert_eq!(describe_batch(&single(a.clone())), finding_summary(&a));
    let mut r = a;
    r.status = AlertStatus::Resolved;
    assert_eq!(
        finding_subject(&r),
        "[certwatch] RESOLVED prod: connection 'acme-idp' idp_certificate_withdrawn (no longer found)"
    );
}

#[test]
fn object_words() {
    let cases = [
        ("tenant_signing_key", "tenant 'n'"),
        ("connection_signing_cert", "connection 'n'"),
        ("connection_thumbprint", "connection 'n'"),
        ("client_credential", "application 'n'"),
        ("custom_domain", "custom domain 'n'"),
        ("something_new", "something_new 'n'"),
    ];
    for (kind, words) in cases {
        let a = alert(kind, "n", "jwks_mismatch", Severity::Warning);
        assert!(
            finding_summary(&a).starts_with(&format!("WARNING prod: {words} jwks_mismatch — ")),
            "{}",
            finding_summary(&a)
        );
    }
}

#[test]
fn the_subject_is_one_bounded_line() {
    let mut a = withdrawn();
    a.finding.message = format!(
        "line one\r\nBcc: victim@example.com\r\n{}",
        "x".repeat(5000)
    );
    a.finding.object_name = "y".repeat(5000);
    a.finding.tenant = "t\u{202e}".repeat(500);
    let s = finding_subject(&a);
    assert!(!s.contains('\r') && !s.contains('\n') && !s.contains('\u{202e}'));
    // Prefix, severity and fixed words, plus tenant and name (100), kind (60), message (160).
    assert!(s.chars().count() < 480, "{}", s.chars().count());
    let e = email(&single(a));
    assert!(e.subject.chars().count() <= 250);
    assert!(!e.text.contains("\r\nBcc"));
}

#[test]
fn hostile_values_are_neutralised() {
    let mut a = alert(
        "connection_signing_cert",
        HOSTILE_NAME,
        "idp_new_certificate",
        Severity::Warning,
    );
    a.finding.tenant = "<!channel>".into();
    a.finding.message = HOSTILE_MESSAGE.into();
    a.finding.object_id = "\"><b>id</b>".into();
    let b = single(a);
    let j = assert_neutralised(&b);
    assert_eq!(
        j["finding"]["message"], HOSTILE_MESSAGE,
        "JSON carries values as they are, like certificate records"
    );
    let html = email(&b).html;
    assert!(!html.contains("<b>id") && html.contains("&quot;&gt;&lt;b&gt;id"));
}

#[test]
fn json_shape() {
    let v: Value = serde_json::from_str(&json(&single(withdrawn()))).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "finding",
            "resolution",
            "severity",
            "status",
            "summary",
            "version"
        ]
    );
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "firing");
    assert_eq!(v["severity"], "critical");
    assert_eq!(v["resolution"], Value::Null);
    let mut record: Vec<&str> = v["finding"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    record.sort_unstable();
    assert_eq!(
        record,
        [
            "kind",
            "message",
            "not_after",
            "object_id",
            "object_name",
            "owner",
            "severity",
            "sha1",
            "tenant"
        ],
        "exactly the docs/findings.md record"
    );
    assert_eq!(v["finding"]["kind"], "idp_certificate_withdrawn");
    assert_eq!(v["finding"]["not_after"], "2026-12-13T12:00:00Z");
    let d: Value = serde_json::from_str(&json(&digest())).unwrap();
    assert_eq!(d["version"], 1);
    let alerts = d["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 3);
    assert_eq!(alerts[2]["status"], "resolved");
    assert_eq!(alerts[2]["resolution"], "resolved");
    assert_eq!(alerts[1]["finding"]["sha1"], Value::Null);
}

#[test]
fn digest_titles() {
    assert_eq!(
        email(&digest()).subject,
        "[certwatch] CRITICAL 3 findings for prod, staging"
    );
    let mut resolved_only = digest();
    resolved_only
        .findings
        .retain(|a| a.status == AlertStatus::Resolved);
    assert_eq!(
        email(&resolved_only).subject,
        "[certwatch] RESOLVED 1 finding for prod"
    );
    assert_eq!(describe_batch(&digest()), "digest of 3 alerts");
}

#[test]
fn snapshot_email() {
    let e = email(&single(withdrawn()));
    let e = Email {
        text: redact(e.text),
        html: redact(e.html),
        ..e
    };
    insta::assert_snapshot!("finding_email_single_subject", e.subject);
    insta::assert_snapshot!("finding_email_single_text", e.text);
    insta::assert_snapshot!("finding_email_single_html", e.html);
    let d = email(&digest());
    insta::assert_snapshot!("finding_email_digest_subject", d.subject);
    insta::assert_snapshot!("finding_email_digest_text", redact(d.text));
}

#[test]
fn snapshot_webhooks() {
    let ordered = |b: &Batch| serde_json::to_string_pretty(&json_payload(b)).unwrap();
    insta::assert_snapshot!("finding_json_single", ordered(&single(withdrawn())));
    insta::assert_snapshot!("finding_json_digest", ordered(&digest()));
    insta::assert_snapshot!("finding_slack_digest", pretty(&slack(&digest())));
    insta::assert_snapshot!("finding_teams_single", pretty(&teams(&single(withdrawn()))));
}
