//! What a rotation pass reports: the [`Outcome`] of each step, the requests it sent, the new
//! certificate, tenant-level [`Issue`]s, and the [`PassReport`] that gathers them with the
//! `certwatch rotate` exit status (docs/cli.md). Values only; the table is in `table`.

use super::audit;
use super::plan::{Blocker, Step};
use super::store::Candidate;
use serde_json::Value;
use time::OffsetDateTime;

/// What happened to one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Nothing to do (not due, or already done since the poll).
    NotDue,
    /// Rotated and verified.
    Applied,
    /// Dry run: would rotate.
    DryRun,
    /// Not rotated (Auth0 left as it was, or its state could not be established).
    Failed,
    /// Rotated, did not verify, undone.
    RolledBack,
    /// Due, but cannot be rotated.
    Blocked,
    /// Due, applying, but outside every rotation window: nothing written; done in the next
    /// window (docs/rotation.md).
    Deferred,
}

impl Outcome {
    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NotDue => "not_due",
            Outcome::Applied => "applied",
            Outcome::DryRun => "dry_run",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::Blocked => "blocked",
            Outcome::Deferred => "deferred",
        }
    }

    /// The audit outcome (none for `NotDue`).
    pub(super) fn audit(self) -> Option<audit::Outcome> {
        match self {
            Outcome::NotDue => None,
            Outcome::Applied => Some(audit::Outcome::Applied),
            Outcome::DryRun => Some(audit::Outcome::DryRun),
            Outcome::Failed => Some(audit::Outcome::Failed),
            Outcome::RolledBack => Some(audit::Outcome::RolledBack),
            Outcome::Blocked => Some(audit::Outcome::Blocked),
            Outcome::Deferred => Some(audit::Outcome::Deferred),
        }
    }

    /// Whether operators should be alerted (failed, rolled back, blocked).
    pub fn alerts(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::RolledBack | Outcome::Blocked
        )
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request a step sent or, in a dry run, would send; the body has secrets masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// HTTP method.
    pub method: &'static str,
    /// Path, e.g. `/api/v2/connections/con_1`.
    pub path: String,
    /// The body with secrets masked (`flow::mask_secrets`).
    pub body: Option<Value>,
}

/// The new certificate of a step, as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCert {
    /// kid or credential id, once known.
    pub cert_id: Option<String>,
    /// Lowercase hex SHA-1.
    pub sha1: Option<String>,
    /// Expiry.
    pub not_after: Option<OffsetDateTime>,
}

impl NewCert {
    pub(super) fn of(c: &Candidate) -> Self {
        Self {
            cert_id: None,
            sha1: Some(c.info.sha1.clone()),
            not_after: Some(c.info.not_after),
        }
    }
}

/// The result of one step.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    /// The planned step.
    pub step: Step,
    /// What happened.
    pub outcome: Outcome,
    /// What was done or found, one line.
    pub detail: String,
    /// Why it failed, was rolled back or is blocked.
    pub error: Option<String>,
    /// The blocker, when blocked.
    pub blocker: Option<Blocker>,
    /// The new certificate.
    pub new: NewCert,
    /// Requests sent (apply) or that would be sent (dry run), secrets masked.
    pub requests: Vec<Request>,
}

/// A problem that kept a tenant (or the whole pass) from being planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// The tenant has not been polled successfully (exit 3).
    NotPolled,
    /// Another certwatch is rotating the tenant (exit 1).
    Locked,
    /// Rotation configuration unusable: store missing, no API client (exit 3).
    Config,
    /// The audit log cannot be read or written (exit 3).
    Audit,
    /// Informational: a target matched nothing, a store file is unusable, an interrupted run
    /// awaits `--apply`.
    Notice,
}

/// A tenant-level or pass-level problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The tenant, if it concerns one.
    pub tenant: Option<String>,
    /// What kind of problem.
    pub kind: IssueKind,
    /// Human message.
    pub message: String,
}

/// What one rotation pass did.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    /// Nothing was written to Auth0.
    pub dry_run: bool,
    /// Where the pass stood against `[rotation] windows` (docs/rotation.md).
    pub window: Option<super::window::Gate>,
    /// One entry per planned step, in order.
    pub steps: Vec<StepOutcome>,
    /// Interrupted changes found at start and resolved (their result audit records).
    pub recovered: Vec<audit::Record>,
    /// Problems that kept tenants from being planned.
    pub issues: Vec<Issue>,
}

impl PassReport {
    /// `certwatch rotate` exit status (docs/cli.md): 3 config invalid or a tenant not polled,
    /// 2 something failed or was rolled back (including a recovered interrupted change that had
    /// not taken effect), 1 something blocked (or the tenant locked), 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        let issue = |k: IssueKind| self.issues.iter().any(|i| i.kind == k);
        if issue(IssueKind::NotPolled) || issue(IssueKind::Config) || issue(IssueKind::Audit) {
            return 3;
        }
        let bad = |o: Outcome| matches!(o, Outcome::Failed | Outcome::RolledBack);
        let recovered_bad = self.recovered.iter().any(|r| {
            matches!(
                r.outcome,
                audit::Outcome::Failed | audit::Outcome::RolledBack
            )
        });
        if self.steps.iter().any(|s| bad(s.outcome)) || recovered_bad {
            return 2;
        }
        if self.steps.iter().any(|s| s.outcome == Outcome::Blocked) || issue(IssueKind::Locked) {
            return 1;
        }
        0
    }

    /// Steps operators should hear about: failed, rolled back, blocked.
    pub fn alerting(&self) -> impl Iterator<Item = &StepOutcome> {
        self.steps.iter().filter(|s| s.outcome.alerts())
    }
}
