//! Report tests: exit codes, sorting, JSON nulls, table safety.

use super::*;
use crate::expiry::Validity;
use crate::inventory::{Kind, Role, Source, TenantSnapshot};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn rec(name: &str, role: Role, days: Option<i64>) -> CertRecord {
    CertRecord {
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        role,
        object_id: format!("con_{name}"),
        object_name: name.into(),
        cert_id: name.into(),
        subject: None,
        issuer: None,
        serial: None,
        sha1: None,
        sha256: None,
        validity: match days {
            Some(d) => Validity::Window {
                not_before: None,
                not_after: NOW + time::Duration::days(d),
            },
            None => Validity::Unknown,
        },
        error: None,
        source: Source::Connections,
        owner: None,
        key_use: None,
    }
}

fn report(records: Vec<CertRecord>, up: bool) -> Report {
    let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
    t.up = up;
    t.records = records;
    Report::new(&Snapshot { tenants: vec![t] }, &Policy::default(), NOW)
}

#[test]
fn exit_codes() {
    assert_eq!(
        report(vec![rec("a", Role::Active, Some(100))], true).exit_code(),
        0
    );
    assert_eq!(
        report(vec![rec("a", Role::Active, Some(20))], true).exit_code(),
        1
    );
    assert_eq!(
        report(vec![rec("a", Role::Active, Some(3))], true).exit_code(),
        2
    );
    assert_eq!(
        report(vec![rec("a", Role::Active, Some(-3))], true).exit_code(),
        2
    );
    assert_eq!(
        report(vec![rec("a", Role::Previous, Some(-3))], true).exit_code(),
        0,
        "non-alerting role"
    );
    assert_eq!(
        report(vec![rec("a", Role::Active, None)], true).exit_code(),
        0,
        "unknown is a finding"
    );
    assert_eq!(
        report(vec![rec("a", Role::Active, Some(100))], false).exit_code(),
        3
    );
    assert_eq!(report(vec![], true).exit_code(), 0);
}

#[test]
fn sorted_soonest_first_nulls_last_and_json_nulls() {
    let r = report(
        vec![
            rec("later", Role::Active, Some(50)),
            rec("none", Role::Active, None),
            rec("soon", Role::Active, Some(2)),
        ],
        true,
    );
    let names: Vec<_> = r
        .certificates
        .iter()
        .map(|c| c.object_name.as_str())
        .collect();
    assert_eq!(names, ["soon", "later", "none"]);
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["generated_at"], "2026-11-23T12:00:00Z");
    assert_eq!(v["certificates"][2]["not_after"], serde_json::Value::Null);
    assert_eq!(
        v["certificates"][2]["expires_in_seconds"],
        serde_json::Value::Null
    );
    assert_eq!(v["certificates"][2]["status"], "unknown");
    assert_eq!(v["certificates"][0]["expires_in_seconds"], 2 * 86_400);
    assert_eq!(v["certificates"][0]["not_after"], "2026-11-25T12:00:00Z");
    assert_eq!(v["tenants"][0]["last_success"], serde_json::Value::Null);
}

#[test]
fn table_is_safe_for_terminals() {
    let r = report(vec![rec("evil\x1b[31m\nname", Role::Active, Some(2))], true);
    let table = r.to_table(false);
    assert!(
        !table.contains('\x1b'),
        "control characters from Auth0 never reach the terminal"
    );
    assert!(table.contains("critical"));
    assert_eq!(table.lines().count(), 2);
    assert!(
        r.to_table(true).contains("\x1b[31m"),
        "our own colours are used on a terminal"
    );
}

#[test]
fn table_neutralises_bidi_controls_from_auth0() {
    let r = report(
        vec![rec(
            "pay\u{202e}lanigiro\u{2066}x\u{85}",
            Role::Active,
            Some(2),
        )],
        true,
    );
    let table = r.to_table(false);
    assert!(
        !table.contains(['\u{202e}', '\u{2066}', '\u{85}']),
        "{table:?}"
    );
    assert!(table.contains("pay lanigiro x"), "{table:?}");
}

#[test]
fn table_lists_findings_after_the_certificates() {
    let mut key = rec("evil\x1b[2Jkey", Role::Current, Some(400));
    key.kind = Kind::TenantSigningKey;
    key.source = Source::SigningKeys;
    let r = report(vec![key], true);
    assert_eq!(r.findings.len(), 1, "no next signing key");
    let table = r.to_table(false);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[2], "");
    assert_eq!(lines[3], "FINDINGS");
    assert!(
        lines[4].starts_with("WARNING   no_next_signing_key  prod  acme.auth0.com: "),
        "{table}"
    );
    assert!(!table.contains('\x1b'));
}

#[test]
fn table_dims_rows_that_do_not_alert() {
    let r = report(
        vec![
            rec("old", Role::Previous, Some(-3)),
            rec("live", Role::Active, Some(3)),
        ],
        true,
    );
    let table = r.to_table(true);
    let row = |name: &str| table.lines().find(|l| l.contains(name)).unwrap();
    assert!(row("live").starts_with("\x1b[31m"), "{table:?}");
    assert!(
        row("old").starts_with("\x1b[90m") && !row("old").contains("\x1b[31m"),
        "an expired previous key is grey, not red: {table:?}"
    );
    let plain = r.to_table(false);
    assert!(plain.contains("(previous)"), "{plain}");
    assert!(!plain.contains("(active)"), "{plain}");
}

#[test]
fn table_lists_alerting_findings_first_and_counts_info_unless_verbose() {
    let mut cred = rec("app", Role::InUse, Some(300));
    cred.kind = Kind::ClientCredential;
    cred.cert_id = "cred_1".into();
    cred.validity = Validity::Never;
    let mut key = rec("key", Role::Current, Some(400));
    key.kind = Kind::TenantSigningKey;
    key.source = Source::SigningKeys;
    // credential_without_expiry (info) comes before no_next_signing_key (warning) in the report.
    let r = report(vec![cred, key], true);
    let quiet = r.to_table(false);
    let findings: Vec<&str> = quiet.lines().skip_while(|l| *l != "FINDINGS").collect();
    assert!(
        findings[1].starts_with("WARNING   no_next_signing_key"),
        "{quiet}"
    );
    assert!(!quiet.contains("credential_without_expiry"), "{quiet}");
    assert!(
        findings[2].contains("1 more finding(s) of severity info; --verbose"),
        "{quiet}"
    );
    let verbose = r.to_table_with(false, true);
    let findings: Vec<&str> = verbose.lines().skip_while(|l| *l != "FINDINGS").collect();
    assert!(findings[1].starts_with("WARNING "), "{verbose}");
    assert!(
        findings[2].starts_with("INFO      credential_without_expiry"),
        "{verbose}"
    );
    assert!(!verbose.contains("--verbose"));
}

#[test]
fn a_certificate_with_no_well_defined_expiration_never_expires() {
    let mut forever = rec("forever", Role::Active, None);
    forever.validity = Validity::Window {
        not_before: Some(NOW - time::Duration::days(10)),
        not_after: crate::expiry::NO_WELL_DEFINED_EXPIRATION,
    };
    let r = report(vec![forever, rec("soon", Role::Active, Some(100))], true);
    let c = r
        .certificates
        .iter()
        .find(|c| c.cert_id == "forever")
        .unwrap();
    assert_eq!(c.status, Status::NeverExpires);
    assert_eq!(c.expires_in_seconds, None, "no ~2.9 million days");
    assert_eq!(c.days_left(), None);
    assert_eq!(c.not_after, Some(crate::expiry::NO_WELL_DEFINED_EXPIRATION));
    assert_eq!(r.exit_code(), 0, "not an expiry severity");
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let row = &json["certificates"][1];
    assert_eq!(row["status"], "never_expires");
    assert_eq!(row["expires_in_seconds"], serde_json::Value::Null);
    assert_eq!(row["not_after"], "9999-12-31T23:59:59Z");
}
