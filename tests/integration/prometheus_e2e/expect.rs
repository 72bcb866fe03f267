//! What every shipped alert rule should do against the demo, derived from the report the daemon
//! computes (certificates, statuses, findings), never from a list of demo objects: for each rule,
//! the set of alerts it must fire (or hold pending, for a rule with a long `for:`), identified by
//! the labels that name their object plus `severity`. And the comparison of that prediction with
//! Prometheus' `/api/v1/rules` and `/api/v1/alerts`.

use super::server::{Alert, Labels, Rule};
use certwatch::expiry::Status;
use certwatch::findings::{Finding, FindingKind, FindingSeverity};
use certwatch::report::{CertificateReport, Report};
use std::collections::{BTreeMap, BTreeSet};

/// The labels that identify an alert of a rule, `severity` last.
pub type Schema = &'static [&'static str];

/// An inventory certificate (`certwatch.certificates`).
pub const CERT: Schema = &[
    "tenant",
    "kind",
    "object_id",
    "object_name",
    "cert_id",
    "severity",
];
/// A `certwatch_finding` series.
pub const FINDING: Schema = &[
    "tenant",
    "kind",
    "object_id",
    "object_name",
    "finding",
    "severity",
];
/// A connection's IdP metadata.
pub const METADATA: Schema = &["tenant", "object_id", "object_name", "severity"];
/// A certificate a connection's IdP publishes.
pub const IDP_CERT: Schema = &["tenant", "object_id", "object_name", "cert_id", "severity"];
/// A custom domain.
pub const DOMAIN: Schema = &["tenant", "object_id", "domain", "severity"];
/// A tenant (polling health).
pub const TENANT: Schema = &["tenant", "severity"];
/// A scrape target.
pub const TARGET: Schema = &["job", "instance", "severity"];

/// Auth0PollStale's threshold (the rule file's POLL_STALE_AFTER, 1800 s).
const POLL_STALE_AFTER: time::Duration = time::Duration::minutes(30);

/// The values of `schema`'s labels, in order ("" for a label the alert does not carry).
pub type Ident = Vec<String>;

/// The values of `schema`'s labels of `labels`.
pub fn project(labels: &Labels, schema: Schema) -> Ident {
    schema
        .iter()
        .map(|k| labels.get(*k).cloned().unwrap_or_default())
        .collect()
}

/// `k=v` pairs of an identity, for messages.
pub fn show(schema: Schema, ident: &Ident) -> String {
    schema
        .iter()
        .zip(ident)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one rule must do: the alerts it fires (or holds pending) and how they are identified.
#[derive(Debug)]
pub struct Expectation {
    pub schema: Schema,
    pub alerts: BTreeSet<Ident>,
}

/// The expectation of every rule of the shipped rule file, by alert name.
#[derive(Debug, Default)]
pub struct Expected(pub BTreeMap<&'static str, Expectation>);

impl Expected {
    fn add(&mut self, rule: &'static str, schema: Schema, alerts: impl IntoIterator<Item = Ident>) {
        let e = self.0.entry(rule).or_insert_with(|| Expectation {
            schema,
            alerts: BTreeSet::new(),
        });
        e.alerts.extend(alerts);
    }

    /// The alerts `rule` must produce.
    pub fn of(&self, rule: &str) -> Option<&Expectation> {
        self.0.get(rule)
    }
}

/// Predict every rule's alerts from `report` (the daemon's own judgement).
pub fn from_report(report: &Report) -> Expected {
    let mut e = Expected::default();
    certificate_rules(&mut e, report);
    polling_rules(&mut e, report);
    finding_rules(&mut e, report);
    e
}

fn cert_ident(c: &CertificateReport, severity: &str) -> Ident {
    [
        &c.tenant,
        &c.kind,
        &c.object_id,
        &c.object_name,
        &c.cert_id,
        severity,
    ]
    .map(str::to_string)
    .to_vec()
}

/// `certwatch.certificates`: certificates whose role alerts, by the status certwatch gives them.
fn certificate_rules(e: &mut Expected, r: &Report) {
    let mut rule = |name, severity: &str, pick: fn(&CertificateReport) -> bool| {
        let certs = r.certificates.iter().filter(|c| c.alerting && pick(c));
        e.add(name, CERT, certs.map(|c| cert_ident(c, severity)));
    };
    rule("CertificateExpired", "critical", |c| {
        c.status == Status::Expired
    });
    rule("CertificateExpiringCritical", "critical", |c| {
        c.status == Status::Critical
    });
    rule("CertificateExpiringSoon", "warning", |c| {
        c.status == Status::Warning
    });
    rule("CertificateNotYetValid", "warning", |c| {
        c.status == Status::NotYetValid
    });
    rule("CertificateParseErrors", "warning", |c| c.error.is_some());
    rule("CredentialWithoutExpiry", "info", |c| {
        c.status == Status::NeverExpires
    });
}

/// `certwatch.polling` and `certwatch.rotation`: the tenants certwatch reports down or stale.
/// Prometheus scrapes a running certwatch (never down or absent); the demo rotates nothing and
/// runs no Kubernetes Job.
fn polling_rules(e: &mut Expected, r: &Report) {
    let warn = |name: &str| vec![name.to_string(), "warning".to_string()];
    let down = r.tenants.iter().filter(|t| !t.up);
    e.add("Auth0TenantDown", TENANT, down.map(|t| warn(&t.name)));
    let stale = r.tenants.iter().filter(|t| {
        t.last_success
            .is_some_and(|at| r.generated_at - at > POLL_STALE_AFTER)
    });
    e.add("Auth0PollStale", TENANT, stale.map(|t| warn(&t.name)));
    for rule in [
        "CertwatchDown",
        "CertwatchAbsent",
        "RotationFailed",
        "RotationBlocked",
        "RotationJobFailed",
    ] {
        e.add(rule, TARGET, []);
    }
}

fn finding_ident(f: &Finding, severity: &str) -> Ident {
    [
        &f.tenant,
        f.object_kind,
        &f.object_id,
        &f.object_name,
        f.finding.as_str(),
        severity,
    ]
    .map(str::to_string)
    .to_vec()
}

/// `certwatch.findings`: each rule alerts on the findings certwatch reports, mostly with the
/// finding's own severity.
fn finding_rules(e: &mut Expected, r: &Report) {
    let of = |kind: FindingKind| r.findings.iter().filter(move |f| f.finding == kind);
    let own = |f: &Finding| finding_ident(f, f.severity.as_str());
    for (rule, kind) in [
        (
            "IdPCertificateRotationPending",
            FindingKind::IdpNewCertificate,
        ),
        ("TenantNextSigningKeyMissing", FindingKind::NoNextSigningKey),
        (
            "TenantNextSigningKeyExpiresFirst",
            FindingKind::NextKeyExpiresFirst,
        ),
        (
            "CustomDomainCertificateFailed",
            FindingKind::CustomDomainCertificateFailed,
        ),
        ("IdPMetadataUnavailable", FindingKind::MetadataUnavailable),
        (
            "CustomDomainProbeFailed",
            FindingKind::CustomDomainProbeFailed,
        ),
    ] {
        e.add(rule, FINDING, of(kind).map(own));
    }
    // A step below the finding's warning: nothing fails until one of its credentials is due.
    let limit = of(FindingKind::CredentialLimitReached).map(|f| finding_ident(f, "info"));
    e.add("ClientCredentialLimitReached", FINDING, limit);
    // Info (no alert) while the connection still trusts another certificate the IdP publishes.
    let withdrawn = of(FindingKind::IdpCertificateWithdrawn)
        .filter(|f| f.severity != FindingSeverity::Info)
        .map(own);
    e.add("IdPTrustedCertificateWithdrawn", FINDING, withdrawn);
    // Critical when the current key is missing, a warning for every other mismatch.
    let critical = |f: &&Finding| f.severity == FindingSeverity::Critical;
    let jwks = of(FindingKind::JwksMismatch);
    e.add(
        "TenantJWKSMissingCurrentKey",
        FINDING,
        jwks.clone().filter(critical).map(own),
    );
    e.add(
        "TenantJWKSMismatch",
        FINDING,
        jwks.filter(|f| !critical(f)).map(own),
    );

    let metadata = |f: &Finding| vec![f.tenant.clone(), f.object_id.clone(), f.object_name.clone()];
    let rules = ("IdPMetadataExpiringCritical", "IdPMetadataExpiringSoon");
    by_severity(
        e,
        rules,
        METADATA,
        of(FindingKind::MetadataExpiring),
        metadata,
    );
    let published = |f: &Finding| {
        let mut id = metadata(f);
        id.push(f.sha1.clone().unwrap_or_default());
        id
    };
    let rules = (
        "IdPCertificateExpiringCritical",
        "IdPCertificateExpiringSoon",
    );
    by_severity(
        e,
        rules,
        IDP_CERT,
        of(FindingKind::IdpCertificateExpiring),
        published,
    );
    // custom_domain_certificate_expiring: Auth0's overdue renewal of a managed domain, or the
    // certificate a self-managed domain serves.
    let managed = |f: &&Finding| {
        r.custom_domains.iter().any(|d| {
            d.tenant == f.tenant
                && d.custom_domain_id == f.object_id
                && d.domain_type == "auth0_managed_certs"
        })
    };
    // A domain's object_name is its host name (the `domain` label).
    let domain = metadata;
    let expiring = of(FindingKind::CustomDomainCertificateExpiring);
    let overdue = expiring.clone().filter(managed).map(|f| {
        let mut id = domain(f);
        id.push(f.severity.as_str().to_string());
        id
    });
    e.add("CustomDomainRenewalOverdue", DOMAIN, overdue);
    let served = expiring.filter(|f| !managed(f));
    let rules = (
        "CustomDomainCertificateExpiringCritical",
        "CustomDomainCertificateExpiringSoon",
    );
    by_severity(e, rules, DOMAIN, served, domain);
}

/// A pair of expiry rules: critical findings go to the first, warnings to the second.
fn by_severity<'a>(
    e: &mut Expected,
    (critical, soon): (&'static str, &'static str),
    schema: Schema,
    findings: impl Iterator<Item = &'a Finding>,
    ident: impl Fn(&Finding) -> Vec<String>,
) {
    e.add(critical, schema, []);
    e.add(soon, schema, []);
    for f in findings {
        let mut id = ident(f);
        id.push(f.severity.as_str().to_string());
        let rule = match f.severity {
            FindingSeverity::Critical => critical,
            FindingSeverity::Warning => soon,
            // An upstream key beside one that stays valid: no rule fires (docs/findings.md).
            FindingSeverity::Info => continue,
        };
        e.add(rule, schema, [id]);
    }
}

/// The alerts of `rule` in `state`, identified by `schema`.
pub fn alerts_of(alerts: &[Alert], rule: &str, state: &str, schema: Schema) -> BTreeSet<Ident> {
    alerts
        .iter()
        .filter(|a| a.name == rule && a.state == state)
        .map(|a| project(&a.labels, schema))
        .collect()
}

fn difference(schema: Schema, want: &BTreeSet<Ident>, got: &BTreeSet<Ident>) -> String {
    let list = |s: Vec<&Ident>| {
        s.into_iter()
            .map(|i| format!("[{}]", show(schema, i)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "missing {}; unexpected {}",
        list(want.difference(got).collect()),
        list(got.difference(want).collect())
    )
}

/// One rule against its expectation: `Ok` says what it does, `Err` what is wrong.
fn judge(rule: &Rule, e: &Expectation, alerts: &[Alert]) -> Result<String, String> {
    let name = &rule.name;
    let firing = alerts_of(alerts, name, "firing", e.schema);
    let pending = alerts_of(alerts, name, "pending", e.schema);
    let n = e.alerts.len();
    if rule.duration == 0.0 {
        return if firing == e.alerts && pending.is_empty() {
            Ok(format!(
                "{name} fires for exactly the {n} object(s) the report predicts"
            ))
        } else {
            Err(format!(
                "{name}: {}",
                difference(e.schema, &e.alerts, &firing)
            ))
        };
    }
    let held = format!("{name} (for: {}s)", rule.duration);
    if !firing.is_empty() {
        Err(format!("{held} fires before its for: {firing:?}"))
    } else if pending != e.alerts {
        Err(format!(
            "{held} pending: {}",
            difference(e.schema, &e.alerts, &pending)
        ))
    } else if n > 0 {
        Ok(format!(
            "{held} is pending for exactly the {n} object(s) the report predicts"
        ))
    } else if rule.state == "inactive" {
        Ok(format!(
            "{held} is inactive: the report predicts nothing for it"
        ))
    } else {
        Err(format!("{held}: state {}, expected inactive", rule.state))
    }
}

/// Every alerting rule against the prediction, and every prediction against the loaded rules.
pub fn compare(
    rules: &[Rule],
    alerts: &[Alert],
    expected: &Expected,
) -> Vec<Result<String, String>> {
    let mut out: Vec<_> = rules
        .iter()
        .filter(|r| r.alerting)
        .map(|r| match expected.of(&r.name) {
            Some(e) => judge(r, e, alerts),
            None => Err(format!(
                "rule {} has no prediction in tests/integration/prometheus_e2e/expect.rs: add one",
                r.name
            )),
        })
        .collect();
    for name in expected.0.keys() {
        if !rules.iter().any(|r| r.alerting && r.name == *name) {
            out.push(Err(format!(
                "{name} is predicted but the shipped rule file has no such alerting rule"
            )));
        }
    }
    out
}
