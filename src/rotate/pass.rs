//! One rotation pass over every tenant with targets, as the daemon runs it after a poll and
//! `certwatch rotate` runs it once: list the store, then per tenant (skipping tenants whose
//! last poll failed) take its lock, recover interrupted changes when applying inside a rotation
//! window, plan from the snapshot and execute the steps one at a time.

use super::store::{CertStore as _, FsStore};
use super::{Context, Issue, IssueKind, PassReport, Rotator, StepOutcome, audit, plan};
use crate::config::Target;
use crate::inventory::{Snapshot, TenantSnapshot};
use crate::timefmt::rfc3339;
use tracing::{Instrument as _, info_span, warn};

/// One rotation pass over every tenant with targets, on the context's snapshot (the daemon
/// calls it after a poll when `rotation.enabled`; `apply = false` is a dry run). Tenants whose
/// last poll failed are skipped (never rotate from stale data), as are tenants another certwatch
/// is rotating. Counts `certwatch_rotations_total` and writes the audit log.
///
/// `ctx` is the rotation context, or anything that builds one (the app does).
pub async fn pass(ctx: impl Into<Context>, apply: bool) -> PassReport {
    let ctx: Context = ctx.into();
    let gate = super::window::gate(&ctx.settings.windows, ctx.clock.now());
    let mut report = PassReport {
        dry_run: !apply,
        window: Some(gate),
        ..PassReport::default()
    };
    if ctx.settings.targets.is_empty() {
        return report;
    }
    let Some(listings) = list_store(&ctx, &mut report) else {
        return report;
    };
    let settings = plan::Settings {
        rotate_before: ctx.settings.rotate_before,
        overlap: ctx.settings.overlap,
    };
    let mut all_steps = Vec::new();
    let mut skipped_tenant = false;
    for tenant in &ctx.snapshot.tenants {
        if !ctx
            .settings
            .targets
            .iter()
            .any(|t| t.tenant.as_ref().is_none_or(|n| *n == tenant.name))
        {
            continue;
        }
        if tenant.last_poll.is_none() || !tenant.up {
            skipped_tenant = true;
            report.issues.push(not_polled(tenant));
            continue;
        }
        let span = info_span!("rotation_pass", tenant = %tenant.name, apply);
        let tenant_report = rotate_tenant(&ctx, tenant, apply, &listings, &settings)
            .instrument(span)
            .await;
        skipped_tenant |= tenant_report.skipped;
        all_steps.extend(tenant_report.steps.iter().map(|s| s.step.clone()));
        report.steps.extend(tenant_report.steps);
        report.recovered.extend(tenant_report.recovered);
        report.issues.extend(tenant_report.issues);
    }
    if !skipped_tenant {
        for i in plan::unmatched(&ctx.settings.targets, &all_steps) {
            report.issues.push(unmatched(i, &ctx.settings.targets[i]));
        }
    }
    report
}

/// List every target's source in the store; `None` (with a config issue) when there is no
/// usable store. Unusable files become notices.
fn list_store(ctx: &Context, report: &mut PassReport) -> Option<plan::Listings> {
    let config_issue = |message: String| Issue {
        tenant: None,
        kind: IssueKind::Config,
        message,
    };
    let sources: Vec<&std::path::Path> = ctx
        .settings
        .targets
        .iter()
        .filter_map(|t| t.source.store_path())
        .collect();
    if sources.is_empty() {
        return Some(plan::Listings::new());
    }
    let Some(root) = &ctx.settings.store else {
        report.issues.push(config_issue(
            "[[rotation.targets]] need a [rotation.store]".into(),
        ));
        return None;
    };
    let store = FsStore::new(root);
    if !root.is_dir() {
        report.issues.push(config_issue(format!(
            "certificate store {} is not a directory",
            root.display()
        )));
        return None;
    }
    let listings: plan::Listings = sources
        .into_iter()
        .map(|s| (s.to_path_buf(), store.list(s)))
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
    Some(listings)
}

/// The issue of a tenant whose last poll did not succeed.
fn not_polled(tenant: &TenantSnapshot) -> Issue {
    let why = tenant
        .errors
        .first()
        .map(|e| format!(": {} {} ({})", e.source, e.reason.as_str(), e.message))
        .unwrap_or_default();
    Issue {
        tenant: Some(tenant.name.clone()),
        kind: IssueKind::NotPolled,
        message: format!("not rotated: the last poll did not succeed{why}"),
    }
}

/// The notice of target `i`, which matched no certificate.
fn unmatched(i: usize, t: &Target) -> Issue {
    Issue {
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
    }
}

struct TenantReport {
    steps: Vec<StepOutcome>,
    recovered: Vec<audit::Record>,
    issues: Vec<Issue>,
    skipped: bool,
}

async fn rotate_tenant(
    ctx: &Context,
    tenant: &TenantSnapshot,
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
    let rotator = match Rotator::for_tenant(ctx, &tenant.name, apply) {
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
    // Recovery may write (delete an orphaned credential): only where a write may happen.
    if rotator.writes_now() {
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
        &ctx.settings.targets,
        listings,
        &overlaps,
        settings,
        ctx.clock.now(),
    );
    for step in &steps {
        out.steps.push(rotator.execute(step).await);
    }
    out
}
