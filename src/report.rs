//! The report of a snapshot at an instant: the docs/json.md document, the terminal table and the
//! Nagios exit status. Pure: (snapshot, policy, now) in, values out.

use crate::escape::{Table, one_line};
use crate::expiry::Status;
use crate::inventory::{CertRecord, Snapshot, TenantSnapshot, poll::sort_records};
use crate::policy::Policy;
use crate::timefmt::{self, rfc3339, rfc3339_opt};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// No bound on a table column of values certwatch makes itself.
const UNBOUNDED: usize = usize::MAX;

pub mod remote;

/// One certificate record (docs/json.md): a row of the `certificates` list, and the same record
/// as alert notifications carry it (the `certificate` object of the `json` webhook payload) and
/// as the alert ledger (`alerts.json`) remembers it. One type for all three, so the shapes cannot
/// drift apart. Reading it back accepts records without the optional fields (ledgers written by
/// earlier builds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertificateReport {
    /// Tenant name.
    pub tenant: String,
    /// Kind.
    pub kind: String,
    /// Role.
    pub role: String,
    /// Owning object id.
    pub object_id: String,
    /// Owning object name.
    pub object_name: String,
    /// kid / credential id / sha1.
    pub cert_id: String,
    /// Subject DN.
    #[serde(default)]
    pub subject: Option<String>,
    /// Issuer DN.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Serial (hex).
    #[serde(default)]
    pub serial: Option<String>,
    /// SHA-1 (lowercase hex).
    #[serde(default)]
    pub sha1: Option<String>,
    /// SHA-256 (lowercase hex).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Start of validity.
    #[serde(default, with = "rfc3339_opt")]
    pub not_before: Option<OffsetDateTime>,
    /// End of validity.
    #[serde(default, with = "rfc3339_opt")]
    pub not_after: Option<OffsetDateTime>,
    /// Seconds until `not_after` (negative when expired); `None` without an expiry (also for
    /// a notAfter of 9999-12-31T23:59:59Z).
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// Status at `generated_at`.
    pub status: Status,
    /// Parse error.
    #[serde(default)]
    pub error: Option<String>,
    /// The owning team, from the object's metadata (docs/alerts.md#owners).
    #[serde(default)]
    pub owner: Option<String>,
    /// `signing` or `encryption`, for a connection key.
    #[serde(default)]
    pub key_use: Option<String>,
    /// Whether this certificate alerts / counts towards exit codes (role and mutes): the report's
    /// judgement at the poll, not part of the record. Never serialised, so a record read back
    /// (from the alert ledger) says `false`; the alert side never consults it on such copies.
    #[serde(skip)]
    pub alerting: bool,
}

impl CertificateReport {
    /// Build the report row of `r` at `now`.
    pub fn new(r: &CertRecord, policy: &Policy, now: OffsetDateTime) -> Self {
        Self {
            tenant: r.tenant.clone(),
            kind: r.kind.as_str().into(),
            role: r.role.as_str().into(),
            object_id: r.object_id.clone(),
            object_name: r.object_name.clone(),
            cert_id: r.cert_id.clone(),
            subject: r.subject.clone(),
            issuer: r.issuer.clone(),
            serial: r.serial.clone(),
            sha1: r.sha1.clone(),
            sha256: r.sha256.clone(),
            not_before: r.not_before(),
            not_after: r.not_after(),
            expires_in_seconds: r.expires_at().map(|at| (at - now).whole_seconds()),
            status: policy.status(r, now),
            error: r.error.clone(),
            owner: r.owner.clone(),
            key_use: r.key_use.clone(),
            alerting: policy.is_alerting(r),
        }
    }

    /// Whole days left (negative when expired).
    pub fn days_left(&self) -> Option<i64> {
        self.expires_in_seconds.map(|s| s.div_euclid(86_400))
    }
}

/// A tenant error in the JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorReport {
    /// Source.
    pub source: String,
    /// Reason label.
    pub reason: String,
    /// Message.
    pub message: String,
}

/// A tenant in the JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantReport {
    /// Name.
    pub name: String,
    /// Domain.
    pub domain: String,
    /// Last poll complete.
    pub up: bool,
    /// Last complete poll.
    #[serde(with = "rfc3339_opt")]
    pub last_success: Option<OffsetDateTime>,
    /// Errors of the last poll.
    pub errors: Vec<ErrorReport>,
}

impl TenantReport {
    fn new(t: &TenantSnapshot) -> Self {
        Self {
            name: t.name.clone(),
            domain: t.domain.clone(),
            up: t.up,
            last_success: t.last_success,
            errors: t
                .errors
                .iter()
                .map(|e| ErrorReport {
                    source: e.source.as_str().into(),
                    reason: e.reason.as_str().into(),
                    message: e.message.clone(),
                })
                .collect(),
        }
    }
}

/// The docs/json.md document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// When it was generated.
    #[serde(serialize_with = "timefmt::serialize")]
    pub generated_at: OffsetDateTime,
    /// Tenants.
    pub tenants: Vec<TenantReport>,
    /// Certificates, soonest expiry first, unknown last.
    pub certificates: Vec<CertificateReport>,
    /// Findings beyond expiry dates (docs/findings.md).
    pub findings: Vec<crate::findings::Finding>,
    /// What each connection's IdP publishes (with `[metadata] enabled`), the context of the
    /// IdP findings. Not in the docs/json.md document: served by `/api/v1/findings`.
    #[serde(skip)]
    pub idp_documents: Vec<remote::IdpDocumentReport>,
    /// Custom domains and their certificates, the context of the custom domain findings (in
    /// `/api/v1/findings`).
    #[serde(skip)]
    pub custom_domains: Vec<remote::CustomDomainReport>,
}

impl Report {
    /// Build the report.
    pub fn new(snapshot: &Snapshot, policy: &Policy, now: OffsetDateTime) -> Self {
        let mut records: Vec<CertRecord> = snapshot.records().cloned().collect();
        sort_records(&mut records);
        Self {
            generated_at: now,
            tenants: snapshot.tenants.iter().map(TenantReport::new).collect(),
            certificates: records
                .iter()
                .map(|r| CertificateReport::new(r, policy, now))
                .collect(),
            findings: crate::findings::evaluate(snapshot, policy, now),
            idp_documents: remote::idp_documents(snapshot),
            custom_domains: remote::custom_domains(snapshot),
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// The findings and their context (`GET /api/v1/findings`): `generated_at`, `findings`,
    /// `idp_documents`, `custom_domains`.
    pub fn findings_json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            #[serde(serialize_with = "timefmt::serialize")]
            generated_at: OffsetDateTime,
            findings: &'a [crate::findings::Finding],
            idp_documents: &'a [remote::IdpDocumentReport],
            custom_domains: &'a [remote::CustomDomainReport],
        }
        serde_json::to_string_pretty(&Doc {
            generated_at: self.generated_at,
            findings: &self.findings,
            idp_documents: &self.idp_documents,
            custom_domains: &self.custom_domains,
        })
        .unwrap_or_else(|_| "{}".into())
    }

    /// Nagios exit status (docs/cli.md): 3 if a tenant is not up, else 2 for critical/expired, 1 for
    /// warning, 0 otherwise; only alerting certificates count.
    pub fn exit_code(&self) -> u8 {
        if self.tenants.iter().any(|t| !t.up) {
            return 3;
        }
        let worst = self
            .certificates
            .iter()
            .filter(|c| c.alerting)
            .filter_map(|c| c.status.severity())
            .max()
            .unwrap_or(0);
        match worst {
            0 => 0,
            1 => 1,
            _ => 2,
        }
    }

    /// Count of certificates per status.
    pub fn counts(&self) -> Vec<(Status, usize)> {
        Status::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    self.certificates.iter().filter(|c| c.status == *s).count(),
                )
            })
            .collect()
    }

    /// The terminal table (optionally with ANSI colours), `info` findings counted only; see
    /// `to_table_with`.
    pub fn to_table(&self, colour: bool) -> String {
        self.to_table_with(colour, false)
    }

    /// The terminal table (optionally with ANSI colours); values from Auth0 go through
    /// `escape::one_line`, so nothing they hold reaches the terminal as control. Rows that do
    /// not alert (role outside `alert_roles`, or muted) are grey and their role is in brackets;
    /// findings come most severe first, and `info` ones are listed only when `verbose`
    /// (docs/cli.md), else counted.
    pub fn to_table_with(&self, colour: bool, verbose: bool) -> String {
        let mut table = Table::new(
            [
                "STATUS",
                "DAYS",
                "NOT AFTER",
                "TENANT",
                "KIND",
                "OBJECT",
                "ROLE",
            ],
            [
                UNBOUNDED, UNBOUNDED, UNBOUNDED, 24, UNBOUNDED, 40, UNBOUNDED,
            ],
        );
        for c in &self.certificates {
            table.push([
                c.status.as_str(),
                &c.days_left().map_or_else(|| "-".into(), |d| d.to_string()),
                c.not_after
                    .map_or_else(|| "-".into(), |t| rfc3339(t)[..10].to_string())
                    .as_str(),
                &c.tenant,
                &c.kind,
                &c.object_name,
                &if c.alerting {
                    c.role.clone()
                } else {
                    format!("({})", c.role)
                },
            ]);
        }
        let mut out = String::new();
        for (n, line) in table.lines().into_iter().enumerate() {
            let row = (n > 0).then(|| &self.certificates[n - 1]);
            let code = row.and_then(|c| match c.alerting {
                true => colour_code(c.status),
                false => Some(MUTED),
            });
            match code.filter(|_| colour) {
                Some(code) => out.push_str(&format!("\x1b[{code}m{line}\x1b[0m\n")),
                None => {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        self.findings_table(verbose, &mut out);
        for t in &self.tenants {
            for e in &t.errors {
                out.push_str(&format!(
                    "tenant {}: {} {}: {}\n",
                    one_line(&t.name, 40),
                    e.source,
                    e.reason,
                    one_line(&e.message, 200)
                ));
            }
        }
        out
    }

    /// The `FINDINGS` section: most severe first; `info` listed when `verbose`, else counted.
    fn findings_table(&self, verbose: bool, out: &mut String) {
        let mut shown: Vec<&crate::findings::Finding> = self
            .findings
            .iter()
            .filter(|f| verbose || f.severity != crate::findings::FindingSeverity::Info)
            .collect();
        shown.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let hidden = self.findings.len() - shown.len();
        if !self.findings.is_empty() {
            out.push_str("\nFINDINGS\n");
        }
        for f in shown {
            out.push_str(&format!(
                "{:<8}  {}  {}  {}: {}\n",
                f.severity.as_str().to_ascii_uppercase(),
                f.finding.as_str(),
                one_line(&f.tenant, 40),
                one_line(&f.object_name, 60),
                one_line(&f.message, 300)
            ));
        }
        if hidden > 0 {
            out.push_str(&format!(
                "INFO      {hidden} more finding(s) of severity info; --verbose lists them\n"
            ));
        }
    }
}

/// The colour of a row that does not alert (grey).
const MUTED: &str = "90";

fn colour_code(s: Status) -> Option<&'static str> {
    match s {
        Status::Ok => Some("32"),
        Status::Warning => Some("33"),
        Status::Critical | Status::Expired => Some("31"),
        Status::NotYetValid | Status::NeverExpires => Some("35"),
        Status::Unknown => Some("90"),
    }
}

#[cfg(test)]
mod tests;
