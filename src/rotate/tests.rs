//! Unit tests of the pass report: exit codes (docs/cli.md) and the terminal table.

use super::*;
use crate::inventory::Kind;

fn step(name: &str) -> Step {
    Step {
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        object_id: "con_1".into(),
        object_name: name.into(),
        target: 0,
        current: None,
        decision: Decision::NotDue("fine".into()),
    }
}

fn outcome(o: Outcome) -> StepOutcome {
    StepOutcome {
        step: step("idp"),
        outcome: o,
        detail: String::new(),
        error: None,
        blocker: None,
        new: NewCert::default(),
        requests: Vec::new(),
    }
}

fn report(steps: &[Outcome], issues: &[IssueKind]) -> PassReport {
    PassReport {
        dry_run: false,
        window: None,
        steps: steps.iter().map(|o| outcome(*o)).collect(),
        recovered: Vec::new(),
        issues: issues
            .iter()
            .map(|k| Issue {
                tenant: Some("prod".into()),
                kind: *k,
                message: "m".into(),
            })
            .collect(),
    }
}

#[test]
fn exit_codes_follow_the_spec() {
    assert_eq!(report(&[], &[]).exit_code(), 0);
    assert_eq!(
        report(
            &[Outcome::NotDue, Outcome::Applied, Outcome::DryRun],
            &[IssueKind::Notice]
        )
        .exit_code(),
        0
    );
    assert_eq!(
        report(&[Outcome::Applied, Outcome::Blocked], &[]).exit_code(),
        1
    );
    assert_eq!(report(&[], &[IssueKind::Locked]).exit_code(), 1);
    assert_eq!(
        report(&[Outcome::Blocked, Outcome::Failed], &[]).exit_code(),
        2
    );
    assert_eq!(report(&[Outcome::RolledBack], &[]).exit_code(), 2);
    assert_eq!(
        report(&[Outcome::Failed], &[IssueKind::NotPolled]).exit_code(),
        3
    );
    assert_eq!(report(&[], &[IssueKind::Config]).exit_code(), 3);
}

#[test]
fn alerting_steps_are_failed_rolled_back_and_blocked() {
    let r = report(
        &[
            Outcome::NotDue,
            Outcome::Applied,
            Outcome::DryRun,
            Outcome::Failed,
            Outcome::RolledBack,
            Outcome::Blocked,
        ],
        &[],
    );
    let got: Vec<_> = r.alerting().map(|s| s.outcome).collect();
    assert_eq!(
        got,
        vec![Outcome::Failed, Outcome::RolledBack, Outcome::Blocked]
    );
}

#[test]
fn table_neutralises_bidi_controls() {
    let mut r = report(&[Outcome::Blocked], &[]);
    r.steps[0].step.object_name = "invoice\u{202e}fdp.exe\u{2067}".into();
    let t = r.to_table();
    assert!(!t.contains(['\u{202e}', '\u{2067}']), "{t:?}");
    assert!(t.contains("invoice fdp.exe"), "{t:?}");
}

#[test]
fn table_is_terminal_safe() {
    let mut r = report(&[Outcome::Blocked], &[]);
    r.dry_run = true;
    r.steps[0].step.object_name = "evil\u{1b}[31mname\nnext".into();
    r.steps[0].error = Some("no candidate".into());
    let t = r.to_table();
    assert!(t.starts_with("DRY RUN"));
    assert!(!t.contains('\u{1b}'));
    assert!(t.contains("evil [31mname next"));
    assert!(t.contains("blocked"));
    assert_eq!(t.lines().count(), 3, "{t}");
}
