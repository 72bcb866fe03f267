//! The pass report as a plain-text table for a terminal (`certwatch rotate`): one aligned row
//! per step, then recovered interrupted changes and issues. Every value that came from Auth0 or
//! the store is made terminal-safe and aligned by `escape::{one_line, Table}`, the same as the
//! `scan` table. After the table: where the pass stood against the rotation windows, and for
//! each rotation from metadata what changes in trust (today's trusted certificates, the IdP's
//! published ones, what the connection trusts afterwards, with dates). All of the rotation
//! table's formatting lives here.

use super::{Action, Decision, Outcome, PassReport, StepOutcome, TrustChange};
use crate::escape::{Table, one_line};
use crate::timefmt::rfc3339;

impl PassReport {
    /// The plan / result as a plain-text table (values from Auth0 made terminal-safe).
    pub fn to_table(&self) -> String {
        let mut table = Table::new(
            ["TENANT", "KIND", "OBJECT", "EXPIRES", "OUTCOME", "DETAIL"],
            [24, usize::MAX, 40, usize::MAX, usize::MAX, 400],
        );
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
            table.push([
                s.step.tenant.clone(),
                s.step.kind.to_string(),
                s.step.object_name.clone(),
                expires,
                s.outcome.to_string(),
                detail,
            ]);
        }
        let mut out = String::new();
        if self.dry_run {
            out.push_str("DRY RUN: nothing was changed (run with --apply to rotate)\n");
        }
        if table.is_empty() {
            out.push_str("no rotation target matched a certificate\n");
        } else {
            for line in table.lines() {
                out.push_str(&line);
                out.push('\n');
            }
        }
        if let Some(gate) = self.window {
            out.push_str(&format!("rotation window: {gate}\n"));
        }
        for s in &self.steps {
            if let (Decision::Due(Action::FromMetadata { change }), true) =
                (&s.step.decision, s.outcome != Outcome::NotDue)
            {
                out.push_str(&trust_block(s, change));
            }
        }
        for r in &self.recovered {
            out.push_str(&one_line(
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
            out.push_str(&one_line(&format!("{who}{}", i.message), 600));
            out.push('\n');
        }
        out
    }
}

/// What a rotation from metadata changes in trust, one certificate a line.
fn trust_block(s: &StepOutcome, change: &TrustChange) -> String {
    let mut lines = vec![
        format!(
            "trust of {} {} ({}), IdP metadata {}:",
            s.step.tenant, s.step.object_name, s.step.object_id, change.url
        ),
        format!("  {:<15} {}", "due because:", change.reasons.join("; ")),
    ];
    let mut section = |label: &str, certs: Vec<String>| {
        if certs.is_empty() {
            lines.push(format!("  {label:<15} (none)"));
        }
        for (i, c) in certs.into_iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            lines.push(format!("  {label:<15} {c}"));
        }
    };
    section(
        "trusted now:",
        change.trusted.iter().map(|c| c.line()).collect(),
    );
    section(
        "IdP publishes:",
        change.published.iter().map(|c| c.line()).collect(),
    );
    let after = match (s.outcome, &s.new.sha1) {
        (Outcome::Applied, Some(sha1)) if *sha1 != change.after.sha1 => {
            format!("{sha1} (Auth0's choice from the metadata)")
        }
        (Outcome::RolledBack | Outcome::Failed, _) => {
            format!("{} (not installed: {})", change.after.line(), s.outcome)
        }
        _ => change.after.line(),
    };
    section("trusted after:", vec![after]);
    let mut out = String::new();
    for l in lines {
        out.push_str(&one_line(&l, 600));
        out.push('\n');
    }
    out
}
