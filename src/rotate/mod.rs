//! Certificate rotation (SPEC §8): plan from the last poll and the certificate store, then — dry
//! run unless told to apply — carry each due step out against Auth0, verify it, audit it.
//!
//! # Layout
//! - [`store`]: `CertStore` + `FsStore`, the replacement certificates (I/O; keys never logged).
//! - [`plan`]: pure `plan()` → `Step`s, each due / not due / blocked with a reason.
//! - [`flow`]: pure request bodies and response checks (SAML options, credential references).
//! - [`audit`]: JSON-lines audit log; intent fsynced before every change, result after.
//! - [`lock`]: one rotator per tenant across processes.
//! - here: [`Rotator`] (executes steps, recovers interrupted ones), [`pass`] (one pass over every
//!   tenant, for the daemon), [`run_cli`] (`certwatch rotate`) and [`PassReport`].
//!
//! Rules this module keeps: nothing is written to Auth0 in a dry run (reads only, and the exact
//! bodies that would be sent are logged with secrets masked); every write is preceded by an
//! fsynced `intent` audit record; Auth0 writes are never retried blindly — after a 5xx or a
//! timeout the object is re-read to learn what happened; a change that does not verify is undone.
//! Steps of one tenant run one at a time, under that tenant's lock.

pub mod audit;
pub mod flow;
pub mod lock;
pub mod plan;
pub mod store;

pub use plan::{Action, Blocker, Decision, Step};

use crate::app::App;
use crate::auth0::{self, Auth0Api};
use crate::clock::Clock;
use crate::config::Config;
use crate::inventory::Snapshot;
use crate::metrics::Metrics;
use crate::report::rfc3339;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use store::{Candidate, CertStore as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::{Instrument as _, error, info, info_span, warn};

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
        }
    }

    /// The audit outcome (none for `NotDue`).
    fn audit(self) -> Option<audit::Outcome> {
        match self {
            Outcome::NotDue => None,
            Outcome::Applied => Some(audit::Outcome::Applied),
            Outcome::DryRun => Some(audit::Outcome::DryRun),
            Outcome::Failed => Some(audit::Outcome::Failed),
            Outcome::RolledBack => Some(audit::Outcome::RolledBack),
            Outcome::Blocked => Some(audit::Outcome::Blocked),
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
    fn of(c: &Candidate) -> Self {
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
    /// One entry per planned step, in order.
    pub steps: Vec<StepOutcome>,
    /// Interrupted changes found at start and resolved (their result audit records).
    pub recovered: Vec<audit::Record>,
    /// Problems that kept tenants from being planned.
    pub issues: Vec<Issue>,
}

impl PassReport {
    /// `certwatch rotate` exit status (SPEC §1): 3 config invalid or a tenant not polled,
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

    /// The plan / result as a plain-text table (values from Auth0 made terminal-safe).
    pub fn to_table(&self) -> String {
        let mut rows: Vec<[String; 6]> = vec![[
            "TENANT".into(),
            "KIND".into(),
            "OBJECT".into(),
            "EXPIRES".into(),
            "OUTCOME".into(),
            "DETAIL".into(),
        ]];
        for s in &self.steps {
            let expires = s
                .step
                .current
                .as_ref()
                .and_then(|c| c.not_after)
                .map_or_else(|| "-".into(), rfc3339);
            let mut detail = match &s.error {
                Some(e) if !s.detail.is_empty() => format!("{}: {e}", s.detail),
                Some(e) => e.clone(),
                None => s.detail.clone(),
            };
            if matches!(s.step.decision, Decision::Due(_)) && s.outcome != Outcome::NotDue {
                detail = format!("{} — {detail}", s.step.explain());
            }
            rows.push([
                cell(&s.step.tenant, 24),
                s.step.kind.to_string(),
                cell(&s.step.object_name, 40),
                expires,
                s.outcome.to_string(),
                cell(&detail, 400),
            ]);
        }
        let mut widths = [0usize; 5];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        if self.dry_run {
            out.push_str("DRY RUN: nothing was changed (run with --apply to rotate)\n");
        }
        if rows.len() == 1 {
            out.push_str("no rotation target matched a certificate\n");
        } else {
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    out.push_str(c);
                    if i < 5 {
                        let pad = widths[i] - c.chars().count() + 2;
                        out.extend(std::iter::repeat_n(' ', pad));
                    }
                }
                out.push('\n');
            }
        }
        for r in &self.recovered {
            out.push_str(&cell(
                &format!(
                    "recovered interrupted {} on {} {} ({}): {}{}",
                    r.action,
                    r.tenant,
                    r.object_name,
                    r.object_id,
                    r.outcome.as_str(),
                    r.error
                        .as_deref()
                        .map(|e| format!(" — {e}"))
                        .unwrap_or_default()
                ),
                600,
            ));
            out.push('\n');
        }
        for i in &self.issues {
            let who = i
                .tenant
                .as_deref()
                .map(|t| format!("tenant {t}: "))
                .unwrap_or_default();
            out.push_str(&cell(&format!("{who}{}", i.message), 600));
            out.push('\n');
        }
        out
    }
}

/// A value made safe for one terminal cell: no control characters, bounded length.
fn cell(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > max {
        let mut t: String = clean.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        clean
    }
}

/// Whether a failed write may nevertheless have taken effect (so the object must be re-read).
fn maybe_applied(e: &auth0::Error) -> bool {
    matches!(
        e,
        auth0::Error::Server { .. }
            | auth0::Error::Timeout(_)
            | auth0::Error::Transport(_)
            | auth0::Error::Decode(_)
    )
}

/// How a flow ended (before auditing and counting).
struct End {
    outcome: Outcome,
    detail: String,
    error: Option<String>,
    blocker: Option<Blocker>,
    new: NewCert,
}

impl End {
    fn new(
        outcome: Outcome,
        detail: impl Into<String>,
        error: Option<String>,
        new: NewCert,
    ) -> Self {
        Self {
            outcome,
            detail: detail.into(),
            error,
            blocker: None,
            new,
        }
    }
    fn applied(detail: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::Applied, detail, None, new)
    }
    fn dry_run(detail: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::DryRun, detail, None, new)
    }
    fn not_due(detail: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::NotDue, detail, None, new)
    }
    fn failed(error: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::Failed, "", Some(error.into()), new)
    }
    fn rolled_back(error: impl Into<String>, new: NewCert) -> Self {
        Self::new(
            Outcome::RolledBack,
            "the change did not verify and was undone",
            Some(error.into()),
            new,
        )
    }
    fn blocked(b: Blocker, new: NewCert) -> Self {
        let mut e = Self::new(Outcome::Blocked, "", Some(b.to_string()), new);
        e.blocker = Some(b);
        e
    }
}

/// One step's execution state: its audit id and the requests so far.
struct Run<'s> {
    step: &'s Step,
    action: &'static str,
    id: String,
    requests: Vec<Request>,
}

impl Run<'_> {
    fn request(&mut self, method: &'static str, path: String, body: Option<&Value>) {
        let body = body.map(flow::mask_secrets);
        info!(
            method,
            path = %path,
            body = %body.as_ref().map(|b| b.to_string()).unwrap_or_default(),
            "rotation request"
        );
        self.requests.push(Request { method, path, body });
    }
}

/// Carries out the steps of one tenant. It owns the tenant's lock, so it exists only while no
/// other rotator can touch that tenant.
pub struct Rotator {
    tenant: String,
    api: Arc<dyn Auth0Api>,
    audit: audit::AuditLog,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    apply: bool,
    _lock: lock::TenantLock,
}

impl std::fmt::Debug for Rotator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotator")
            .field("tenant", &self.tenant)
            .field("apply", &self.apply)
            .finish_non_exhaustive()
    }
}

impl Rotator {
    /// A rotator for `tenant` of `app`: takes the tenant's lock (refused at once when another
    /// certwatch holds it) and uses the tenant's API client, the audit log and the metrics.
    pub fn for_tenant(app: &App, tenant: &str, apply: bool) -> Result<Self, Issue> {
        let issue = |kind, message: String| Issue {
            tenant: Some(tenant.to_string()),
            kind,
            message,
        };
        let api = app.api(tenant).ok_or_else(|| {
            issue(
                IssueKind::Config,
                "no such tenant in the configuration".into(),
            )
        })?;
        let lock =
            lock::TenantLock::acquire(&app.config().state_dir, tenant).map_err(|e| match e {
                lock::Error::Locked { .. } => issue(IssueKind::Locked, e.to_string()),
                lock::Error::Io { .. } => issue(IssueKind::Config, e.to_string()),
            })?;
        Ok(Self {
            tenant: tenant.to_string(),
            api,
            audit: audit::AuditLog::new(&app.config().rotation.audit_log),
            metrics: app.metrics().clone(),
            clock: app.clock().clone(),
            apply,
            _lock: lock,
        })
    }

    /// The audit log.
    pub fn audit(&self) -> &audit::AuditLog {
        &self.audit
    }

    fn record(
        &self,
        step: &Step,
        run: &Run<'_>,
        outcome: audit::Outcome,
        end: Option<&End>,
        new: &NewCert,
    ) -> audit::Record {
        audit::Record {
            time: self.clock.now(),
            id: run.id.clone(),
            tenant: step.tenant.clone(),
            kind: step.kind,
            object_id: step.object_id.clone(),
            object_name: step.object_name.clone(),
            action: run.action.to_string(),
            old_cert_id: step.current.as_ref().map(|c| c.cert_id.clone()),
            old_sha1: step.current.as_ref().and_then(|c| c.sha1.clone()),
            old_not_after: step.current.as_ref().and_then(|c| c.not_after),
            new_cert_id: new.cert_id.clone(),
            new_sha1: new.sha1.clone(),
            new_not_after: new.not_after,
            outcome,
            dry_run: !self.apply,
            error: end.and_then(|e| e.error.clone()),
            detail: end.map(|e| e.detail.clone()).filter(|d| !d.is_empty()),
        }
    }

    /// Write the intent record (fsynced) before the first write request of a step; `Some` is
    /// the end of the step when that is impossible (nothing is sent without an intent).
    fn intent(&self, run: &Run<'_>, new: &NewCert) -> Option<End> {
        let record = self.record(run.step, run, audit::Outcome::Intent, None, new);
        match self.audit.append(&record) {
            Ok(()) => None,
            Err(e) => Some(End::failed(
                format!(
                    "{e}; refusing to change Auth0 without an audit record, nothing was changed"
                ),
                new.clone(),
            )),
        }
    }

    /// Execute one planned step: dry run or apply, verify, audit, count.
    pub async fn execute(&self, step: &Step) -> StepOutcome {
        let span = info_span!("rotate", tenant = %step.tenant, kind = %step.kind, object = %step.object_name);
        self.execute_inner(step).instrument(span).await
    }

    async fn execute_inner(&self, step: &Step) -> StepOutcome {
        let action = match &step.decision {
            Decision::Due(a) => a.name(),
            _ => "none",
        };
        let mut run = Run {
            step,
            action,
            id: audit::new_id(self.clock.now()),
            requests: Vec::new(),
        };
        let end = match &step.decision {
            Decision::NotDue(why) => End::not_due(why.clone(), NewCert::default()),
            Decision::Blocked(b) => End::blocked(b.clone(), NewCert::default()),
            Decision::Due(Action::ReplaceConnectionCert { candidate }) => {
                self.replace_connection_cert(&mut run, candidate).await
            }
            Decision::Due(Action::AddCredential {
                old_credential_id,
                candidate,
            }) => {
                self.add_credential(&mut run, old_credential_id, candidate)
                    .await
            }
            Decision::Due(Action::RetireCredential {
                old_credential_id,
                new_credential_id,
            }) => {
                self.retire_credential(&mut run, old_credential_id, new_credential_id)
                    .await
            }
            Decision::Due(Action::RotateSigningKey {
                next_kid,
                next_not_after,
            }) => {
                self.rotate_signing_key(&mut run, next_kid, *next_not_after)
                    .await
            }
        };
        self.finish(step, run, end)
    }

    fn finish(&self, step: &Step, run: Run<'_>, mut end: End) -> StepOutcome {
        let outcome = end.outcome;
        if let Some(audit_outcome) = outcome.audit() {
            let record = self.record(step, &run, audit_outcome, Some(&end), &end.new);
            if let Err(e) = self.audit.append(&record) {
                error!(error = %e, "cannot write the rotation result to the audit log");
                end.error = Some(match end.error.take() {
                    Some(prev) => format!("{prev}; {e}"),
                    None => e.to_string(),
                });
                if outcome == Outcome::Applied {
                    // Applied but unrecorded: the next start sees the intent and re-verifies.
                    end.detail = format!("{} (result not audited)", end.detail);
                }
            }
            self.metrics
                .rotation(&step.tenant, step.kind.as_str(), outcome.as_str());
        }
        match outcome {
            Outcome::Applied => info!(detail = %end.detail, "rotation applied"),
            Outcome::DryRun => info!(detail = %end.detail, "rotation planned (dry run)"),
            Outcome::NotDue => tracing::debug!(detail = %end.detail, "not due"),
            Outcome::Blocked => warn!(
                reason = end.error.as_deref().unwrap_or_default(),
                "rotation blocked"
            ),
            Outcome::Failed | Outcome::RolledBack => {
                error!(
                    outcome = outcome.as_str(),
                    error = end.error.as_deref().unwrap_or_default(),
                    "rotation did not complete"
                )
            }
        }
        StepOutcome {
            step: step.clone(),
            outcome,
            detail: end.detail,
            error: end.error,
            blocker: end.blocker,
            new: end.new,
            requests: run.requests,
        }
    }

    // === SAML / PingFederate connection certificate ===

    async fn replace_connection_cert(&self, run: &mut Run<'_>, candidate: &Candidate) -> End {
        let step = run.step;
        let new = NewCert::of(candidate);
        let id = step.object_id.as_str();
        let path = format!("/api/v2/connections/{id}");
        let original = match self.api.get_connection(id).await {
            Ok(c) => c,
            Err(e) => return End::failed(format!("cannot read the connection: {e}"), new),
        };
        let strategy = original
            .get("strategy")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(strategy, "samlp" | "pingfederate") {
            return End::blocked(Blocker::UnsupportedStrategy(strategy.to_string()), new);
        }
        let before = flow::thumbprints(&original);
        if before.iter().any(|t| t == candidate.sha1()) {
            return End::not_due("the new certificate is already in place", new);
        }
        if let Some(old) = step.current.as_ref().and_then(|c| c.sha1.as_deref())
            && !before.iter().any(|t| t == old)
        {
            return End::blocked(
                Blocker::Changed(format!(
                    "the connection's thumbprints are {before:?}, not [{old:?}]"
                )),
                new,
            );
        }
        let body = match flow::saml_patch_body(&original, &flow::signing_cert_value(&candidate.der))
        {
            Ok(b) => b,
            Err(e) => return End::failed(e.to_string(), new),
        };
        run.request("PATCH", path.clone(), Some(&body));
        if !self.apply {
            return End::dry_run(format!("would PATCH {path}"), new);
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        match self.api.patch_connection(id, &body).await {
            Ok(response) => match flow::verify_saml(&body, &response, candidate.sha1()) {
                Ok(()) => End::applied(format!("thumbprint is now {}", candidate.sha1()), new),
                Err(m) => {
                    self.rollback_connection(
                        run,
                        &original,
                        format!("the PATCH response did not verify: {m}"),
                        new,
                    )
                    .await
                }
            },
            Err(e) if maybe_applied(&e) => match self.api.get_connection(id).await {
                Err(e2) => End::failed(
                    format!(
                        "PATCH failed ({e}) and the connection could not be re-read ({e2}); its state is unknown: check it"
                    ),
                    new,
                ),
                Ok(now) if now.get("options") == original.get("options") => End::failed(
                    format!("PATCH failed ({e}); re-read: the connection is untouched"),
                    new,
                ),
                Ok(now) => match flow::verify_saml(&body, &now, candidate.sha1()) {
                    Ok(()) => End::applied(
                        format!(
                            "PATCH answered {e}, but the re-read connection has the new certificate"
                        ),
                        new,
                    ),
                    Err(m) => {
                        self.rollback_connection(
                            run,
                            &original,
                            format!("PATCH failed ({e}) and the connection changed: {m}"),
                            new,
                        )
                        .await
                    }
                },
            },
            Err(e) => End::failed(
                format!("PATCH rejected ({e}); the connection is untouched"),
                new,
            ),
        }
    }

    async fn rollback_connection(
        &self,
        run: &mut Run<'_>,
        original: &Value,
        why: String,
        new: NewCert,
    ) -> End {
        let id = run.step.object_id.clone();
        let path = format!("/api/v2/connections/{id}");
        let body = match flow::saml_rollback_body(original) {
            Ok(b) => b,
            Err(e) => {
                return End::failed(
                    format!("{why}; cannot build the rollback ({e}): CHECK THE CONNECTION"),
                    new,
                );
            }
        };
        run.request("PATCH", path, Some(&body));
        let want = flow::thumbprints(original);
        match self.api.patch_connection(&id, &body).await {
            Ok(resp) if flow::thumbprints(&resp) == want => End::rolled_back(why, new),
            Ok(resp) => End::failed(
                format!(
                    "{why}; the rollback answered thumbprints {:?}, expected {want:?}: CHECK THE CONNECTION",
                    flow::thumbprints(&resp)
                ),
                new,
            ),
            Err(e) => End::failed(
                format!("{why}; ROLLBACK FAILED ({e}): CHECK THE CONNECTION"),
                new,
            ),
        }
    }

    // === client credential ===

    async fn add_credential(&self, run: &mut Run<'_>, old_id: &str, candidate: &Candidate) -> End {
        let client_id = run.step.object_id.clone();
        let mut new = NewCert::of(candidate);
        let client = match self.api.get_client(&client_id).await {
            Ok(c) => c,
            Err(e) => return End::failed(format!("cannot read the client: {e}"), new),
        };
        let creds = match self.api.client_credentials(&client_id).await {
            Ok(c) => c,
            Err(e) => {
                return End::failed(format!("cannot read the client's credentials: {e}"), new);
            }
        };
        let ours = flow::credential_name(candidate.sha1());
        let existing = creds
            .iter()
            .find(|c| c.name.as_deref() == Some(ours.as_str()));
        let Some(old) = creds.iter().find(|c| c.id == old_id) else {
            return End::blocked(
                Blocker::Changed(format!("credential {old_id} no longer exists")),
                new,
            );
        };
        let old_places = flow::places(&client, old_id);
        if old_places.is_empty() {
            return End::blocked(
                Blocker::Changed(format!(
                    "credential {old_id} is no longer referenced by the client"
                )),
                new,
            );
        }
        if let Some(e) = existing
            && !flow::places(&client, &e.id).is_empty()
        {
            new.cert_id = Some(e.id.clone());
            return End::not_due(
                format!("the new credential {} is already in use", e.id),
                new,
            );
        }
        if existing.is_none() && creds.len() >= 2 {
            let unused = creds
                .iter()
                .filter(|c| flow::places(&client, &c.id).is_empty())
                .map(|c| c.id.clone())
                .collect();
            return End::blocked(
                Blocker::CredentialLimit {
                    count: creds.len(),
                    unused,
                },
                new,
            );
        }
        let credential_type = old
            .credential_type
            .clone()
            .unwrap_or_else(|| "public_key".into());
        let post = flow::credential_body(&credential_type, candidate);
        let creds_path = format!("/api/v2/clients/{client_id}/credentials");
        let client_path = format!("/api/v2/clients/{client_id}");
        if !self.apply {
            if existing.is_none() {
                run.request("POST", creds_path, Some(&post));
            }
            let preview_id = existing.map_or("<new credential id>", |e| e.id.as_str());
            run.request(
                "PATCH",
                client_path,
                Some(&flow::add_reference(&client, old_id, preview_id)),
            );
            return End::dry_run(
                format!(
                    "would add a {credential_type} credential for {} next to {old_id}",
                    candidate.sha1()
                ),
                new,
            );
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }

        let new_id = if let Some(e) = existing {
            e.id.clone()
        } else {
            run.request("POST", creds_path, Some(&post));
            let created = self.api.create_credential(&client_id, &post).await;
            match created {
                Ok(created) => {
                    let id = created
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let id = match id {
                        Some(id) => id,
                        None => match self.find_credential(&client_id, &ours).await {
                            Some(id) => id,
                            None => {
                                return End::failed("the POST answer has no credential id", new);
                            }
                        },
                    };
                    if let Some(at) = created.get("expires_at").and_then(Value::as_str)
                        && let Ok(at) = OffsetDateTime::parse(at, &Rfc3339)
                        && at.unix_timestamp() != candidate.info.not_after.unix_timestamp()
                    {
                        new.cert_id = Some(id.clone());
                        let why = format!(
                            "Auth0 reports expires_at {} for the new credential, the certificate says {}",
                            rfc3339(at),
                            rfc3339(candidate.info.not_after)
                        );
                        return match self.delete_credential(run, &client_id, &id).await {
                            Ok(()) => End::rolled_back(why, new),
                            Err(e) => End::failed(format!("{why}; deleting it failed: {e}"), new),
                        };
                    }
                    id
                }
                Err(e) if maybe_applied(&e) => {
                    match self.find_credential(&client_id, &ours).await {
                        Some(id) => id,
                        None => {
                            return End::failed(
                                format!("POST failed ({e}); no credential was created"),
                                new,
                            );
                        }
                    }
                }
                Err(e) => {
                    return End::failed(
                        format!("POST rejected ({e}); the client is untouched"),
                        new,
                    );
                }
            }
        };
        new.cert_id = Some(new_id.clone());

        let patch = flow::add_reference(&client, old_id, &new_id);
        let added = |view: &Value| {
            flow::places(view, &new_id).is_superset(&old_places)
                && flow::places(view, old_id) == old_places
        };
        run.request("PATCH", client_path, Some(&patch));
        let (view, error) = match self.api.patch_client(&client_id, &patch).await {
            Ok(resp) if resp.get("client_authentication_methods").is_some() => (Some(resp), None),
            Ok(_) => (self.api.get_client(&client_id).await.ok(), None),
            Err(e) if maybe_applied(&e) => (self.api.get_client(&client_id).await.ok(), Some(e)),
            Err(e) => {
                return match self.delete_credential(run, &client_id, &new_id).await {
                    Ok(()) => End::failed(
                        format!(
                            "PATCH rejected ({e}); the client is untouched and the new credential was deleted"
                        ),
                        new,
                    ),
                    Err(d) => End::failed(
                        format!(
                            "PATCH rejected ({e}); deleting the unreferenced credential {new_id} failed: {d}"
                        ),
                        new,
                    ),
                };
            }
        };
        match (view, error) {
            (Some(v), e) if added(&v) => {
                let note = e
                    .map(|e| format!(" (PATCH answered {e}, re-read confirms)"))
                    .unwrap_or_default();
                End::applied(
                    format!(
                        "credential {new_id} referenced next to {old_id}{note}; {old_id} is removed after the overlap"
                    ),
                    new,
                )
            }
            (Some(v), e) => {
                let untouched =
                    flow::places(&v, &new_id).is_empty() && flow::places(&v, old_id) == old_places;
                let why = match &e {
                    Some(e) => format!("PATCH failed ({e})"),
                    None => "the client's references did not verify".to_string(),
                };
                if untouched {
                    match self.delete_credential(run, &client_id, &new_id).await {
                        Ok(()) => End::failed(
                            format!(
                                "{why}; the client is untouched and the new credential was deleted"
                            ),
                            new,
                        ),
                        Err(d) => End::failed(
                            format!(
                                "{why}; deleting the unreferenced credential {new_id} failed: {d}"
                            ),
                            new,
                        ),
                    }
                } else {
                    self.undo_credential(run, &client_id, &client, &patch, &new_id, why, new)
                        .await
                }
            }
            (None, e) => End::failed(
                format!(
                    "{}; the client could not be re-read: its state is unknown, check it",
                    e.map_or_else(
                        || "the PATCH answer has no references".to_string(),
                        |e| format!("PATCH failed ({e})")
                    )
                ),
                new,
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn undo_credential(
        &self,
        run: &mut Run<'_>,
        client_id: &str,
        original: &Value,
        patch: &Value,
        new_id: &str,
        why: String,
        new: NewCert,
    ) -> End {
        let restore = flow::restore_references(original, patch);
        run.request(
            "PATCH",
            format!("/api/v2/clients/{client_id}"),
            Some(&restore),
        );
        if let Err(e) = self.api.patch_client(client_id, &restore).await {
            return End::failed(
                format!("{why}; restoring the references FAILED ({e}): CHECK THE CLIENT"),
                new,
            );
        }
        match self.delete_credential(run, client_id, new_id).await {
            Ok(()) => End::rolled_back(why, new),
            Err(e) => End::failed(
                format!("{why}; references restored, deleting {new_id} failed: {e}"),
                new,
            ),
        }
    }

    async fn delete_credential(
        &self,
        run: &mut Run<'_>,
        client_id: &str,
        id: &str,
    ) -> Result<(), auth0::Error> {
        run.request(
            "DELETE",
            format!("/api/v2/clients/{client_id}/credentials/{id}"),
            None,
        );
        match self.api.delete_credential(client_id, id).await {
            Ok(()) | Err(auth0::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn find_credential(&self, client_id: &str, name: &str) -> Option<String> {
        let creds = self.api.client_credentials(client_id).await.ok()?;
        creds
            .into_iter()
            .find(|c| c.name.as_deref() == Some(name))
            .map(|c| c.id)
    }

    async fn retire_credential(&self, run: &mut Run<'_>, old_id: &str, new_id: &str) -> End {
        let client_id = run.step.object_id.clone();
        let new = NewCert {
            cert_id: Some(new_id.to_string()),
            ..NewCert::default()
        };
        let client = match self.api.get_client(&client_id).await {
            Ok(c) => c,
            Err(e) => return End::failed(format!("cannot read the client: {e}"), new),
        };
        let creds = match self.api.client_credentials(&client_id).await {
            Ok(c) => c,
            Err(e) => {
                return End::failed(format!("cannot read the client's credentials: {e}"), new);
            }
        };
        if !creds.iter().any(|c| c.id == old_id) {
            return End::not_due(format!("{old_id} is already removed"), new);
        }
        if !creds.iter().any(|c| c.id == new_id) {
            return End::blocked(
                Blocker::Changed(format!(
                    "the replacement {new_id} is gone; {old_id} is kept"
                )),
                new,
            );
        }
        let old_places = flow::places(&client, old_id);
        if !old_places.is_subset(&flow::places(&client, new_id)) {
            return End::blocked(
                Blocker::Changed(format!(
                    "{new_id} is not referenced everywhere {old_id} is; {old_id} is kept"
                )),
                new,
            );
        }
        let patch = (!old_places.is_empty()).then(|| flow::remove_reference(&client, old_id));
        let client_path = format!("/api/v2/clients/{client_id}");
        if !self.apply {
            if let Some(p) = &patch {
                run.request("PATCH", client_path, Some(p));
            }
            run.request(
                "DELETE",
                format!("/api/v2/clients/{client_id}/credentials/{old_id}"),
                None,
            );
            return End::dry_run(
                format!("would unreference and delete {old_id}, keeping {new_id}"),
                new,
            );
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        if let Some(p) = &patch {
            run.request("PATCH", client_path, Some(p));
            let removed = |v: &Value| {
                flow::places(v, old_id).is_empty()
                    && flow::places(v, new_id).is_superset(&old_places)
            };
            let view = match self.api.patch_client(&client_id, p).await {
                Ok(resp) if resp.get("client_authentication_methods").is_some() => Ok(resp),
                Ok(_) => self.api.get_client(&client_id).await,
                Err(e) if maybe_applied(&e) => self.api.get_client(&client_id).await.map_err(|_| e),
                Err(e) => Err(e),
            };
            match view {
                Ok(v) if removed(&v) => {}
                Ok(_) => {
                    return End::failed(
                        format!(
                            "removing {old_id} from the client did not verify; both credentials stay"
                        ),
                        new,
                    );
                }
                Err(e) => return End::failed(format!("PATCH failed ({e}); {old_id} stays"), new),
            }
        }
        match self.delete_credential(run, &client_id, old_id).await {
            Ok(()) => End::applied(
                format!("{old_id} unreferenced and deleted; {new_id} stays"),
                new,
            ),
            Err(e) => End::failed(
                format!(
                    "{old_id} is no longer referenced, but DELETE failed ({e}); retried on the next pass"
                ),
                new,
            ),
        }
    }

    // === tenant signing key ===

    async fn rotate_signing_key(
        &self,
        run: &mut Run<'_>,
        next_kid: &str,
        next_not_after: Option<OffsetDateTime>,
    ) -> End {
        let old_kid = run.step.object_id.clone();
        let mut new = NewCert {
            cert_id: Some(next_kid.to_string()),
            sha1: None,
            not_after: next_not_after,
        };
        let keys = match self.api.signing_keys().await {
            Ok(k) => k,
            Err(e) => return End::failed(format!("cannot read the signing keys: {e}"), new),
        };
        let current = keys
            .iter()
            .find(|k| k.current == Some(true) && k.revoked != Some(true));
        if let Some(c) = current
            && c.kid != old_kid
        {
            return End::not_due(
                format!("already rotated: the current key is {}", c.kid),
                new,
            );
        }
        let Some(next) = keys
            .iter()
            .find(|k| k.kid == next_kid && k.next == Some(true))
        else {
            return End::blocked(
                Blocker::Changed(format!("next key {next_kid} is gone")),
                new,
            );
        };
        new.sha1 = next
            .cert
            .as_deref()
            .and_then(|c| crate::x509::decode(c).ok())
            .map(|i| i.sha1);
        run.request("POST", "/api/v2/keys/signing/rotate".into(), None);
        if !self.apply {
            return End::dry_run(
                format!("would promote {next_kid} (rotate signing key; 5 per day)"),
                new,
            );
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        let sent = self.api.rotate_signing_key().await;
        if let Err(e) = &sent
            && !maybe_applied(e)
        {
            return End::failed(format!("rotate rejected ({e}); keys unchanged"), new);
        }
        match self.api.signing_keys().await {
            Ok(keys) => match keys
                .iter()
                .find(|k| k.current == Some(true) && k.revoked != Some(true))
            {
                Some(c) if c.kid != old_kid => {
                    new.cert_id = Some(c.kid.clone());
                    if c.kid != next_kid {
                        new.sha1 = c
                            .cert
                            .as_deref()
                            .and_then(|x| crate::x509::decode(x).ok())
                            .map(|i| i.sha1);
                    }
                    End::applied(format!("current signing key is now {}", c.kid), new)
                }
                _ => End::failed(
                    match sent {
                        Err(e) => format!("rotate failed ({e}); the current key is unchanged"),
                        Ok(_) => "rotate answered, but the current key is unchanged".to_string(),
                    },
                    new,
                ),
            },
            Err(e) => End::failed(
                format!("cannot re-read the signing keys after rotating ({e}): check them"),
                new,
            ),
        }
    }

    // === recovery ===

    /// Re-verify this tenant's interrupted changes (intents without a result) against Auth0 and
    /// append their resolution. Intents that cannot be checked now (Auth0 unreachable) stay open
    /// for the next pass. Only call when applying: resolving may delete an orphaned credential.
    pub async fn recover(&self) -> Result<Vec<audit::Record>, audit::Error> {
        let records = self.audit.read()?;
        let mut out = Vec::new();
        for intent in audit::unresolved(&records, &self.tenant) {
            let span = info_span!("recover", tenant = %intent.tenant, object = %intent.object_name, id = %intent.id);
            let resolution = self.reverify(&intent).instrument(span).await;
            let (outcome, error, new_cert_id) = match resolution {
                Ok(r) => r,
                Err(e) => {
                    warn!(id = %intent.id, error = %e, "cannot re-verify an interrupted rotation yet");
                    continue;
                }
            };
            let mut record = intent.clone();
            record.time = self.clock.now();
            record.outcome = outcome;
            record.error = error;
            record.dry_run = false;
            record.new_cert_id = new_cert_id.or(record.new_cert_id);
            record.detail = Some("interrupted run re-verified at start".into());
            self.audit.append(&record)?;
            self.metrics
                .rotation(&record.tenant, record.kind.as_str(), outcome.as_str());
            warn!(
                action = %record.action,
                object = %record.object_name,
                outcome = outcome.as_str(),
                error = record.error.as_deref().unwrap_or_default(),
                "resolved an interrupted rotation"
            );
            out.push(record);
        }
        Ok(out)
    }

    async fn reverify(
        &self,
        intent: &audit::Record,
    ) -> Result<(audit::Outcome, Option<String>, Option<String>), auth0::Error> {
        use audit::Outcome::{Applied, Failed};
        let object = intent.object_id.as_str();
        Ok(match intent.action.as_str() {
            "replace_connection_cert" => {
                let conn = self.api.get_connection(object).await?;
                let t = flow::thumbprints(&conn);
                let has =
                    |s: &Option<String>| s.as_deref().is_some_and(|s| t.iter().any(|x| x == s));
                if has(&intent.new_sha1) {
                    (Applied, None, None)
                } else if has(&intent.old_sha1) {
                    (
                        Failed,
                        Some("interrupted before the change took effect; the connection is untouched".into()),
                        None,
                    )
                } else {
                    (
                        Failed,
                        Some(format!(
                            "interrupted; the connection now has thumbprints {t:?}: check it"
                        )),
                        None,
                    )
                }
            }
            "add_credential" => {
                let name = flow::credential_name(intent.new_sha1.as_deref().unwrap_or_default());
                let creds = self.api.client_credentials(object).await?;
                match creds
                    .iter()
                    .find(|c| c.name.as_deref() == Some(name.as_str()))
                {
                    None => (
                        Failed,
                        Some("interrupted before the credential was created".into()),
                        None,
                    ),
                    Some(c) => {
                        let client = self.api.get_client(object).await?;
                        let old_places: BTreeSet<String> = flow::places(
                            &client,
                            intent.old_cert_id.as_deref().unwrap_or_default(),
                        );
                        if !flow::places(&client, &c.id).is_empty()
                            && old_places.is_subset(&flow::places(&client, &c.id))
                        {
                            (Applied, None, Some(c.id.clone()))
                        } else if flow::places(&client, &c.id).is_empty() {
                            match self.api.delete_credential(object, &c.id).await {
                                Ok(()) | Err(auth0::Error::NotFound { .. }) => (
                                    Failed,
                                    Some(format!(
                                        "interrupted; the unreferenced credential {} it created was deleted",
                                        c.id
                                    )),
                                    Some(c.id.clone()),
                                ),
                                Err(e) => (
                                    Failed,
                                    Some(format!(
                                        "interrupted; the unreferenced credential {} it created could not be deleted ({e})",
                                        c.id
                                    )),
                                    Some(c.id.clone()),
                                ),
                            }
                        } else {
                            (
                                Failed,
                                Some(format!(
                                    "interrupted; credential {} is referenced only partly: check the client",
                                    c.id
                                )),
                                Some(c.id.clone()),
                            )
                        }
                    }
                }
            }
            "retire_credential" => {
                let old = intent.old_cert_id.as_deref().unwrap_or_default();
                let creds = self.api.client_credentials(object).await?;
                if creds.iter().any(|c| c.id == old) {
                    (
                        Failed,
                        Some(format!(
                            "interrupted; {old} is still there and is retried on the next pass"
                        )),
                        None,
                    )
                } else {
                    (Applied, None, None)
                }
            }
            "rotate_signing_key" => {
                let keys = self.api.signing_keys().await?;
                let current = keys
                    .iter()
                    .find(|k| k.current == Some(true) && k.revoked != Some(true));
                match current {
                    Some(c) if Some(c.kid.as_str()) != intent.old_cert_id.as_deref() => {
                        (Applied, None, Some(c.kid.clone()))
                    }
                    _ => (
                        Failed,
                        Some("interrupted; the current signing key is unchanged".into()),
                        None,
                    ),
                }
            }
            other => (
                Failed,
                Some(format!(
                    "interrupted {other:?}: unknown action, check by hand"
                )),
                None,
            ),
        })
    }
}

/// One rotation pass over every tenant with targets, on the app's latest snapshot (the daemon
/// calls it after a poll when `rotation.enabled`; `apply = false` is a dry run). Tenants whose
/// last poll failed are skipped (never rotate from stale data), as are tenants another certwatch
/// is rotating. Counts `certwatch_rotations_total` and writes the audit log.
pub async fn pass(app: &App, apply: bool) -> PassReport {
    let cfg = &app.config().rotation;
    let mut report = PassReport {
        dry_run: !apply,
        ..PassReport::default()
    };
    if cfg.targets.is_empty() {
        return report;
    }
    let Some(root) = &cfg.store else {
        report.issues.push(Issue {
            tenant: None,
            kind: IssueKind::Config,
            message: "[[rotation.targets]] need a [rotation.store]".into(),
        });
        return report;
    };
    let store = store::FsStore::new(root);
    if !root.is_dir() {
        report.issues.push(Issue {
            tenant: None,
            kind: IssueKind::Config,
            message: format!("certificate store {} is not a directory", root.display()),
        });
        return report;
    }
    let listings: plan::Listings = cfg
        .targets
        .iter()
        .map(|t| (t.source.clone(), store.list(&t.source)))
        .collect();
    for listing in listings.values().filter_map(|l| l.as_ref().ok()) {
        for r in &listing.rejected {
            warn!(file = %r.path.display(), reason = %r.reason, "unusable file in the certificate store");
            report.issues.push(Issue {
                tenant: None,
                kind: IssueKind::Notice,
                message: format!("store file {} skipped: {}", r.path.display(), r.reason),
            });
        }
    }
    let settings = plan::Settings {
        rotate_before: cfg.rotate_before,
        overlap: cfg.overlap,
    };
    let snapshot = app.snapshot();
    let mut all_steps = Vec::new();
    let mut skipped_tenant = false;
    for tenant in &snapshot.tenants {
        if !cfg
            .targets
            .iter()
            .any(|t| t.tenant.as_ref().is_none_or(|n| *n == tenant.name))
        {
            continue;
        }
        if tenant.last_poll.is_none() || !tenant.up {
            skipped_tenant = true;
            let why = tenant
                .errors
                .first()
                .map(|e| format!(": {} {} ({})", e.source, e.reason.as_str(), e.message))
                .unwrap_or_default();
            report.issues.push(Issue {
                tenant: Some(tenant.name.clone()),
                kind: IssueKind::NotPolled,
                message: format!("not rotated: the last poll did not succeed{why}"),
            });
            continue;
        }
        let span = info_span!("rotation_pass", tenant = %tenant.name, apply);
        let tenant_report = rotate_tenant(app, tenant, apply, &listings, &settings)
            .instrument(span)
            .await;
        skipped_tenant |= tenant_report.skipped;
        all_steps.extend(tenant_report.steps.iter().map(|s| s.step.clone()));
        report.steps.extend(tenant_report.steps);
        report.recovered.extend(tenant_report.recovered);
        report.issues.extend(tenant_report.issues);
    }
    if !skipped_tenant {
        for i in plan::unmatched(&cfg.targets, &all_steps) {
            let t = &cfg.targets[i];
            report.issues.push(Issue {
                tenant: t.tenant.clone(),
                kind: IssueKind::Notice,
                message: format!(
                    "rotation.targets[{i}] ({}{}) matches no certificate",
                    t.kind
                        .map_or_else(|| "any kind".to_string(), |k| k.to_string()),
                    t.object_name
                        .as_ref()
                        .or(t.object_id.as_ref())
                        .map(|n| format!(" {n}"))
                        .unwrap_or_default()
                ),
            });
        }
    }
    report
}

struct TenantReport {
    steps: Vec<StepOutcome>,
    recovered: Vec<audit::Record>,
    issues: Vec<Issue>,
    skipped: bool,
}

async fn rotate_tenant(
    app: &App,
    tenant: &crate::inventory::TenantSnapshot,
    apply: bool,
    listings: &plan::Listings,
    settings: &plan::Settings,
) -> TenantReport {
    let mut out = TenantReport {
        steps: Vec::new(),
        recovered: Vec::new(),
        issues: Vec::new(),
        skipped: false,
    };
    let rotator = match Rotator::for_tenant(app, &tenant.name, apply) {
        Ok(r) => r,
        Err(issue) => {
            warn!(message = %issue.message, "tenant not rotated");
            out.issues.push(issue);
            out.skipped = true;
            return out;
        }
    };
    let audit_issue = |e: audit::Error| Issue {
        tenant: Some(tenant.name.clone()),
        kind: IssueKind::Audit,
        message: e.to_string(),
    };
    if apply {
        match rotator.recover().await {
            Ok(r) => out.recovered = r,
            Err(e) => {
                out.issues.push(audit_issue(e));
                out.skipped = true;
                return out;
            }
        }
    }
    let records = match rotator.audit().read() {
        Ok(r) => r,
        Err(e) => {
            out.issues.push(audit_issue(e));
            out.skipped = true;
            return out;
        }
    };
    for open in audit::unresolved(&records, &tenant.name) {
        out.issues.push(Issue {
            tenant: Some(tenant.name.clone()),
            kind: IssueKind::Notice,
            message: format!(
                "interrupted {} of {} ({}) at {} not resolved yet; re-verified by the next --apply run",
                open.action,
                open.object_name,
                open.id,
                rfc3339(open.time)
            ),
        });
    }
    let overlaps = audit::overlaps(&records, &tenant.name);
    let one = Snapshot {
        tenants: vec![tenant.clone()],
    };
    let steps = plan::plan(
        &one,
        &app.config().rotation.targets,
        listings,
        &overlaps,
        settings,
        app.clock().now(),
    );
    for step in &steps {
        out.steps.push(rotator.execute(step).await);
    }
    out
}

/// `certwatch rotate [--apply]`: poll once, plan, print the table, apply when asked; the exit
/// status of SPEC §1 (0 nothing due or all done / planned, 1 blocked, 2 failed or rolled back,
/// 3 invalid config or a tenant not polled).
pub async fn run_cli(config: Config, apply: bool) -> u8 {
    if config.rotation.targets.is_empty() {
        eprintln!("certwatch: no [[rotation.targets]] configured; nothing to rotate");
        return 0;
    }
    if let Some(root) = &config.rotation.store
        && !root.is_dir()
    {
        eprintln!(
            "certwatch: invalid configuration: rotation.store.path {} is not a directory",
            root.display()
        );
        return 3;
    }
    let app = match App::build(config, Arc::new(crate::clock::SystemClock)) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("certwatch: {e:#}");
            return 3;
        }
    };
    app.poll_now().await;
    let report = pass(&app, apply).await;
    print!("{}", report.to_table());
    report.exit_code()
}

#[cfg(test)]
mod tests;
