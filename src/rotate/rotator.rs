//! The [`Rotator`]: carries out the planned steps of one tenant under its lock. It dispatches
//! each step to its flow (`connection`, `metadata`, `credential`, `signing_key`), then audits,
//! counts and logs how it ended. Flows stop before their first write unless
//! [`Rotator::writes_now`] (applying, inside a rotation window); an apply stopped by a closed
//! window ends `deferred` instead of `dry_run`. The pieces every flow shares live here: [`End`] (how a flow ended),
//! [`Run`] (the step's audit id and the requests sent so far), the intent record written before
//! any change, and `maybe_applied` (which failures must be re-read).

use super::outcome::{NewCert, Request, StepOutcome};
use super::window::{self, Gate};
use super::{
    Action, Blocker, Context, Decision, Issue, IssueKind, Outcome, Step, audit, flow, lock,
};
use crate::auth0::{self, Auth0Api};
use crate::clock::Clock;
use crate::metrics::Metrics;
use serde_json::Value;
use std::sync::Arc;
use tracing::{Instrument as _, error, info, info_span, warn};

/// Whether a failed write may nevertheless have taken effect (so the object must be re-read).
pub(super) fn maybe_applied(e: &auth0::Error) -> bool {
    matches!(
        e,
        auth0::Error::Server { .. }
            | auth0::Error::Timeout(_)
            | auth0::Error::Transport(_)
            | auth0::Error::Decode(_)
    )
}

/// How a flow ended (before auditing and counting).
pub(super) struct End {
    outcome: Outcome,
    detail: String,
    error: Option<String>,
    blocker: Option<Blocker>,
    new: NewCert,
}

impl End {
    pub(super) fn new(
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
    pub(super) fn applied(detail: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::Applied, detail, None, new)
    }
    pub(super) fn dry_run(detail: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::DryRun, detail, None, new)
    }
    pub(super) fn not_due(detail: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::NotDue, detail, None, new)
    }
    pub(super) fn failed(error: impl Into<String>, new: NewCert) -> Self {
        Self::new(Outcome::Failed, "", Some(error.into()), new)
    }
    pub(super) fn rolled_back(error: impl Into<String>, new: NewCert) -> Self {
        Self::new(
            Outcome::RolledBack,
            "the change did not verify and was undone",
            Some(error.into()),
            new,
        )
    }
    pub(super) fn blocked(b: Blocker, new: NewCert) -> Self {
        let mut e = Self::new(Outcome::Blocked, "", Some(b.to_string()), new);
        e.blocker = Some(b);
        e
    }
}

/// One step's execution state: its audit id and the requests so far.
pub(super) struct Run<'s> {
    pub(super) step: &'s Step,
    action: &'static str,
    id: String,
    requests: Vec<Request>,
}

impl Run<'_> {
    pub(super) fn request(&mut self, method: &'static str, path: String, body: Option<&Value>) {
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
    pub(super) tenant: String,
    pub(super) api: Arc<dyn Auth0Api>,
    pub(super) audit: audit::AuditLog,
    pub(super) metrics: Arc<Metrics>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) apply: bool,
    /// Where the pass stands against `[rotation] windows`, fixed when the rotator is made.
    pub(super) gate: Gate,
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
    /// A rotator for `tenant`: takes the tenant's lock (refused at once when another certwatch
    /// holds it) and uses the tenant's API client, the audit log and the metrics of `ctx`.
    pub fn for_tenant(ctx: &Context, tenant: &str, apply: bool) -> Result<Self, Issue> {
        let issue = |kind, message: String| Issue {
            tenant: Some(tenant.to_string()),
            kind,
            message,
        };
        let api = ctx.apis.get(tenant).cloned().ok_or_else(|| {
            issue(
                IssueKind::Config,
                "no such tenant in the configuration".into(),
            )
        })?;
        let lock = lock::TenantLock::acquire(&ctx.state_dir, tenant).map_err(|e| match e {
            lock::Error::Locked { .. } => issue(IssueKind::Locked, e.to_string()),
            lock::Error::Io { .. } => issue(IssueKind::Config, e.to_string()),
        })?;
        Ok(Self {
            tenant: tenant.to_string(),
            api,
            audit: audit::AuditLog::new(&ctx.settings.audit_log),
            metrics: ctx.metrics.clone(),
            clock: ctx.clock.clone(),
            apply,
            gate: window::gate(&ctx.settings.windows, ctx.clock.now()),
            _lock: lock,
        })
    }

    /// Whether a flow may write now: applying, and inside a rotation window (or none set).
    pub(super) fn writes_now(&self) -> bool {
        self.apply && self.gate.is_open()
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
    pub(super) fn intent(&self, run: &Run<'_>, new: &NewCert) -> Option<End> {
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
            Decision::Due(Action::FromMetadata { change }) => {
                self.replace_from_metadata(&mut run, change).await
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
        if end.outcome == Outcome::DryRun
            && self.apply
            && let Gate::ClosedUntil(next) = self.gate
        {
            end.outcome = Outcome::Deferred;
            end.detail = format!(
                "{}; deferred: outside every rotation window, next opens {}",
                end.detail,
                next.map_or_else(|| "never".into(), crate::timefmt::rfc3339)
            );
        }
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
            Outcome::Deferred => info!(detail = %end.detail, "rotation deferred to a window"),
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
}
