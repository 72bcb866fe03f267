//! The pass report as a plain-text table for a terminal (`certwatch rotate`): one aligned row
//! per step, then recovered interrupted changes and issues. Every value that came from Auth0 or
//! the store is made terminal-safe (`cell`). All of the rotation table's formatting lives here.

use super::{Decision, Outcome, PassReport};
use crate::timefmt::rfc3339;

impl PassReport {
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
