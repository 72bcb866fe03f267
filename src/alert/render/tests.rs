//! Rendering tests: the words, escaping of hostile values, the `json` shape, and insta snapshots
//! of every format for certificate and rotation alerts.

use super::*;
use crate::alert::policy::{Resolution, RotationEvent, RotationOutcome};
use crate::expiry::Status;
use crate::inventory::Kind;
use crate::report::CertificateReport;
use serde_json::Value;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
const DAY: i64 = 86_400;

fn cert(kind: &str, name: &str, secs: i64) -> CertificateReport {
    CertificateReport {
        tenant: "prod".into(),
        kind: kind.into(),
        role: "active".into(),
        object_id: "con_abc".into(),
        object_name: name.into(),
        cert_id: "3f1c0ffee".into(),
        subject: Some("CN=acme-idp".into()),
        issuer: Some("CN=acme-idp".into()),
        serial: Some("0a".into()),
        sha1: Some("3f1c0ffee".into()),
        sha256: Some("ab".into()),
        not_before: Some(T0 - time::Duration::days(360)),
        not_after: Some(T0 + time::Duration::seconds(secs)),
        expires_in_seconds: Some(secs),
        status: Status::Critical,
        error: None,
        alerting: true,
        owner: None,
        key_use: None,
    }
}

fn firing(c: CertificateReport, s: Severity) -> Alert {
    Alert {
        status: AlertStatus::Firing,
        severity: s,
        resolution: None,
        reminder: false,
        certificate: c,
        replacement: None,
        at: T0,
    }
}

fn single(a: Alert) -> Batch {
    Batch::of_alerts(false, vec![a])
}

#[test]
fn subject_matches_the_spec_example() {
    let a = firing(
        cert("connection_signing_cert", "acme-idp", 5 * DAY + 3600),
        Severity::Critical,
    );
    assert_eq!(
        subject(&a),
        "[certwatch] CRITICAL prod: SAML connection 'acme-idp' signing certificate expires in 5 days"
    );
    assert_eq!(
        email(&single(a)).subject,
        subject(&firing(
            cert("connection_signing_cert", "acme-idp", 5 * DAY + 3600),
            Severity::Critical
        ))
    );
}

#[test]
fn kind_words() {
    let cases = [
        ("tenant_signing_key", "tenant signing key"),
        (
            "connection_signing_cert",
            "SAML connection 'n' signing certificate",
        ),
        ("connection_sp_signing_key", "connection 'n' SP signing key"),
        (
            "connection_decryption_key",
            "connection 'n' decryption certificate",
        ),
        ("connection_key", "connection 'n' key"),
        ("client_credential", "application 'n' credential"),
        (
            "client_encryption_key",
            "application 'n' encryption certificate",
        ),
        ("client_signing_key", "application 'n' signing certificate"),
    ];
    for (kind, words) in cases {
        assert_eq!(describe(&cert(kind, "n", DAY)), words);
    }
}

#[test]
fn day_wording_boundaries() {
    let w = |secs| when(&cert("connection_key", "n", secs));
    assert_eq!(w(2 * DAY), "expires in 2 days");
    assert_eq!(w(DAY), "expires in 1 day");
    assert_eq!(w(DAY - 1), "expires today");
    assert_eq!(w(1), "expires today");
    assert_eq!(w(0), "expired today");
    assert_eq!(w(-DAY + 1), "expired today");
    assert_eq!(w(-DAY), "expired 1 day ago");
    assert_eq!(w(-3 * DAY - 5), "expired 3 days ago");
}

#[test]
fn resolved_subject() {
    let mut a = firing(
        cert("connection_signing_cert", "acme-idp", 300 * DAY),
        Severity::Critical,
    );
    a.status = AlertStatus::Resolved;
    a.resolution = Some(Resolution::Renewed);
    assert_eq!(
        subject(&a),
        "[certwatch] RESOLVED prod: SAML connection 'acme-idp' signing certificate (renewed)"
    );
    a.resolution = Some(Resolution::Removed);
    assert!(subject(&a).ends_with("(removed)"));
}

#[test]
fn hostile_values_are_neutralised() {
    let evil = "x'\r\nBcc: victim@example.com\r\n\r\n<script>alert(1)</script>{{sha1}}";
    let mut c = cert("client_credential", evil, 3 * DAY);
    c.subject = Some("CN=<img src=x onerror=alert(1)>".into());
    let e = email(&single(firing(c, Severity::Critical)));
    assert!(
        !e.subject.contains('\r') && !e.subject.contains('\n'),
        "{:?}",
        e.subject
    );
    assert!(!e.html.contains("<script>") && !e.html.contains("<img"));
    assert!(e.html.contains("&lt;script&gt;"));
    assert!(
        e.text.contains("{{sha1}}"),
        "placeholders inside values stay literal"
    );
    assert!(!e.text.contains("\r\nBcc"));
    let s = slack(&single(firing(
        cert("client_credential", "<!channel> <http://x|y>", DAY),
        Severity::Warning,
    )));
    let v: Value = serde_json::from_str(&s).unwrap();
    for mrkdwn in [&v["text"], &v["blocks"][1]["text"]["text"]] {
        let m = mrkdwn.as_str().unwrap();
        assert!(
            !m.contains("<!channel>") && m.contains("&lt;!channel&gt;"),
            "{m}"
        );
    }
    assert_eq!(
        v["blocks"][1]["fields"][0]["type"], "plain_text",
        "raw values only in plain_text"
    );
    let t = teams(&single(firing(
        cert("client_credential", "[click](http://evil)", DAY),
        Severity::Warning,
    )));
    assert!(t.contains(r"\\[click\\](http://evil)"), "{t}");
}

#[test]
fn fill_is_single_pass() {
    assert_eq!(
        fill("a {{x}} b {{y}} {{z", &[("x", "{{y}}"), ("y", "2")]),
        "a {{y}} b 2 {{z"
    );
    assert_eq!(fill("{{unknown}}", &[]), "{{unknown}}");
}

fn sample_batch(digest: bool) -> Batch {
    let mut resolved = firing(
        cert("client_credential", "billing-api", 200 * DAY),
        Severity::Warning,
    );
    resolved.status = AlertStatus::Resolved;
    resolved.resolution = Some(Resolution::Renewed);
    resolved.certificate.status = Status::Ok;
    let mut alerts = vec![firing(
        cert("connection_signing_cert", "acme-idp", 5 * DAY + 60),
        Severity::Critical,
    )];
    if digest {
        let mut expired = firing(
            cert("tenant_signing_key", "acme.eu.auth0.com", -3 * DAY),
            Severity::Expired,
        );
        expired.certificate.status = Status::Expired;
        expired.certificate.role = "current".into();
        alerts.push(expired);
        alerts.push(resolved);
    }
    Batch::of_alerts(digest, alerts)
}

/// The crate version is volatile: redacted in snapshots.
pub(super) fn redact(s: String) -> String {
    s.replace(
        concat!("certwatch ", env!("CARGO_PKG_VERSION")),
        "certwatch [version]",
    )
}

#[test]
fn snapshot_email_single() {
    let e = email(&sample_batch(false));
    let e = Email {
        text: redact(e.text),
        html: redact(e.html),
        ..e
    };
    insta::assert_snapshot!("email_single_subject", e.subject);
    insta::assert_snapshot!("email_single_text", e.text);
    insta::assert_snapshot!("email_single_html", e.html);
}

#[test]
fn snapshot_email_digest() {
    let e = email(&sample_batch(true));
    let e = Email {
        text: redact(e.text),
        ..e
    };
    insta::assert_snapshot!("email_digest_subject", e.subject);
    insta::assert_snapshot!("email_digest_text", e.text);
}

pub(super) fn pretty(s: &str) -> String {
    serde_json::to_string_pretty(&serde_json::from_str::<Value>(s).unwrap()).unwrap()
}

#[test]
fn snapshot_webhooks() {
    let ordered = |b: &Batch| serde_json::to_string_pretty(&json_payload(b)).unwrap();
    insta::assert_snapshot!("json_single", ordered(&sample_batch(false)));
    insta::assert_snapshot!("json_digest", ordered(&sample_batch(true)));
    insta::assert_snapshot!("slack_digest", pretty(&slack(&sample_batch(true))));
    insta::assert_snapshot!("teams_single", pretty(&teams(&sample_batch(false))));
}

#[test]
fn json_shape() {
    let v: Value = serde_json::from_str(&json(&sample_batch(false))).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "firing");
    assert_eq!(v["severity"], "critical");
    assert_eq!(v["resolution"], Value::Null);
    let cert = v["certificate"].as_object().unwrap();
    let keys: Vec<&str> = cert.keys().map(String::as_str).collect();
    let mut expected = vec![
        "tenant",
        "kind",
        "role",
        "object_id",
        "object_name",
        "cert_id",
        "subject",
        "issuer",
        "serial",
        "sha1",
        "sha256",
        "not_before",
        "not_after",
        "expires_in_seconds",
        "status",
        "error",
        "owner",
        "key_use",
    ];
    let mut got = keys.clone();
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected, "exactly the docs/json.md record");
    let d: Value = serde_json::from_str(&json(&sample_batch(true))).unwrap();
    assert_eq!(d["version"], 1);
    assert_eq!(d["alerts"].as_array().unwrap().len(), 3);
    assert_eq!(d["alerts"][2]["resolution"], "renewed");
}

fn rotation(object_name: &str, outcome: RotationOutcome) -> RotationAlert {
    RotationAlert {
        severity: outcome.severity(),
        reminder: false,
        rotation: RotationEvent {
            tenant: "prod".into(),
            kind: Kind::ConnectionSigningCert,
            object_id: "con_abc".into(),
            object_name: object_name.into(),
            outcome,
            message: "PATCH /api/v2/connections/con_abc: thumbprints [\"0a1b\"] do not match the new certificate 3f1c0ffee; original options restored".into(),
        },
        first_notified: T0,
        at: T0,
    }
}

fn rotation_batch(digest: bool) -> Batch {
    let mut rotations = vec![rotation("acme-idp", RotationOutcome::RolledBack)];
    if digest {
        let mut failed = rotation("billing-api", RotationOutcome::Failed);
        failed.rotation.kind = Kind::ClientCredential;
        failed.rotation.object_id = "cli_123".into();
        failed.rotation.message =
            "POST /api/v2/clients/cli_123/credentials: HTTP 503 Service Unavailable".into();
        failed.reminder = true;
        failed.first_notified = T0 - time::Duration::days(1);
        let mut blocked = rotation("acme.eu.auth0.com", RotationOutcome::Blocked);
        blocked.rotation.kind = Kind::TenantSigningKey;
        blocked.rotation.object_id = "kid-1".into();
        blocked.rotation.message =
            "the store holds no certificate in signing/ (2 files rejected)".into();
        rotations.push(failed);
        rotations.push(blocked);
    }
    Batch::of_rotations(digest, rotations)
}

#[test]
fn rotation_subjects() {
    let cases = [
        (
            RotationOutcome::Failed,
            "[certwatch] CRITICAL prod: rotation of SAML connection 'acme-idp' signing certificate failed",
        ),
        (
            RotationOutcome::RolledBack,
            "[certwatch] CRITICAL prod: rotation of SAML connection 'acme-idp' signing certificate rolled back",
        ),
        (
            RotationOutcome::Blocked,
            "[certwatch] WARNING prod: rotation of SAML connection 'acme-idp' signing certificate is blocked",
        ),
    ];
    for (outcome, want) in cases {
        let a = rotation("acme-idp", outcome);
        assert_eq!(rotation_subject(&a), want);
        assert_eq!(email(&Batch::of_rotations(false, vec![a])).subject, want);
    }
    let mut key = rotation("acme.eu.auth0.com", RotationOutcome::Failed);
    key.rotation.kind = Kind::TenantSigningKey;
    assert_eq!(
        rotation_summary(&key),
        "CRITICAL prod: rotation of tenant signing key failed"
    );
}

/// An object name that tries header injection, HTML and template placeholders.
pub(super) const HOSTILE_NAME: &str =
    "x'\r\nBcc: victim@example.com\r\n\r\n<script>alert(1)</script>{{advice}}";
/// A message that tries HTML, markdown links and Slack links.
pub(super) const HOSTILE_MESSAGE: &str =
    "<img src=x onerror=alert(1)>\r\n[click](http://evil) <http://x|y>";

/// What every format makes of one alert named `HOSTILE_NAME` in tenant `<!channel>` with
/// `HOSTILE_MESSAGE`: nothing executable, no injected header or line, placeholders literal.
/// Returns the `json` payload, which carries the values as they are.
pub(super) fn assert_neutralised(b: &Batch) -> Value {
    let e = email(b);
    assert!(
        !e.subject.contains('\r') && !e.subject.contains('\n'),
        "{:?}",
        e.subject
    );
    assert!(!e.html.contains("<script>") && !e.html.contains("<img"));
    assert!(e.html.contains("&lt;script&gt;") && e.html.contains("&lt;img src=x"));
    assert!(
        e.text.contains("{{advice}}"),
        "placeholders inside values stay literal"
    );
    assert!(!e.text.contains("\r\nBcc") && !e.text.contains("\nBcc"));
    let v: Value = serde_json::from_str(&slack(b)).unwrap();
    for mrkdwn in [&v["text"], &v["blocks"][1]["text"]["text"]] {
        let m = mrkdwn.as_str().unwrap();
        assert!(
            !m.contains("<!channel>") && m.contains("&lt;!channel&gt;"),
            "{m}"
        );
    }
    let fields = v["blocks"][1]["fields"].as_array().unwrap();
    assert!(
        fields.iter().all(|f| f["type"] == "plain_text"),
        "raw values only in plain_text"
    );
    let t = teams(b);
    assert!(t.contains(r"\\[click\\](http://evil)"), "{t}");
    assert!(!t.contains("\\r\\n"), "no line breaks from values: {t}");
    serde_json::from_str(&json(b)).unwrap()
}

#[test]
fn rotation_hostile_values_are_neutralised() {
    let mut a = rotation(HOSTILE_NAME, RotationOutcome::Failed);
    a.rotation.tenant = "<!channel>".into();
    a.rotation.message = HOSTILE_MESSAGE.into();
    let j = assert_neutralised(&Batch::of_rotations(false, vec![a]));
    assert_eq!(
        j["rotation"]["message"], HOSTILE_MESSAGE,
        "JSON carries values as they are (JSON-escaped by the encoder), like certificate records"
    );
}

#[test]
fn rotation_json_shape() {
    let v: Value = serde_json::from_str(&json(&rotation_batch(false))).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(
        got,
        [
            "resolution",
            "rotation",
            "severity",
            "status",
            "summary",
            "version"
        ],
        "no `certificate` key for rotation alerts"
    );
    assert_eq!(v["status"], "firing");
    assert_eq!(v["severity"], "critical");
    assert_eq!(v["resolution"], Value::Null);
    let r: Vec<&str> = v["rotation"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut r = r.clone();
    r.sort_unstable();
    assert_eq!(
        r,
        [
            "kind",
            "message",
            "object_id",
            "object_name",
            "outcome",
            "tenant"
        ]
    );
    assert_eq!(v["rotation"]["outcome"], "rolled_back");
    let c: Value = serde_json::from_str(&json(&sample_batch(false))).unwrap();
    assert!(
        c.get("rotation").is_none(),
        "no `rotation` key for certificate alerts"
    );
    let d: Value = serde_json::from_str(&json(&rotation_batch(true))).unwrap();
    assert_eq!(d["alerts"].as_array().unwrap().len(), 3);
    assert_eq!(d["alerts"][2]["severity"], "warning");
}

#[test]
fn mixed_digest_lists_both() {
    let mut b = sample_batch(true);
    b.rotations = rotation_batch(true).rotations;
    let e = email(&b);
    assert_eq!(e.subject, "[certwatch] EXPIRED 6 alerts for prod");
    assert!(e.text.contains("rotation of tenant signing key is blocked"));
    let d: Value = serde_json::from_str(&json(&b)).unwrap();
    assert_eq!(d["alerts"].as_array().unwrap().len(), 6);
    assert!(d["alerts"][3]["rotation"].is_object());
    assert_eq!(describe_batch(&b), "digest of 6 alerts");
}

#[test]
fn snapshot_rotation_email() {
    let e = email(&rotation_batch(false));
    let e = Email {
        text: redact(e.text),
        html: redact(e.html),
        ..e
    };
    insta::assert_snapshot!("rotation_email_single_subject", e.subject);
    insta::assert_snapshot!("rotation_email_single_text", e.text);
    insta::assert_snapshot!("rotation_email_single_html", e.html);
    let d = email(&rotation_batch(true));
    insta::assert_snapshot!("rotation_email_digest_subject", d.subject);
    insta::assert_snapshot!("rotation_email_digest_text", redact(d.text));
}

#[test]
fn snapshot_rotation_webhooks() {
    let ordered = |b: &Batch| serde_json::to_string_pretty(&json_payload(b)).unwrap();
    insta::assert_snapshot!("rotation_json_single", ordered(&rotation_batch(false)));
    insta::assert_snapshot!("rotation_json_digest", ordered(&rotation_batch(true)));
    insta::assert_snapshot!(
        "rotation_slack_digest",
        pretty(&slack(&rotation_batch(true)))
    );
    insta::assert_snapshot!(
        "rotation_teams_single",
        pretty(&teams(&rotation_batch(false)))
    );
}
