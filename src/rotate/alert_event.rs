//! The rotator's side of the alert boundary (docs/rotation.md, docs/alerts.md): a pass step that
//! operators must hear about (failed, rolled back, blocked) becomes an `alert::RotationEvent`, the
//! alert side's own event type. The conversion lives here so that the alert engine never knows
//! the rotator's types.

use super::{Outcome, StepOutcome};
use crate::alert::{RotationEvent, RotationOutcome};

impl Outcome {
    /// The alert outcome of this one, when it alerts (failed, rolled back, blocked).
    pub fn alert_outcome(self) -> Option<RotationOutcome> {
        match self {
            Outcome::Failed => Some(RotationOutcome::Failed),
            Outcome::RolledBack => Some(RotationOutcome::RolledBack),
            Outcome::Blocked => Some(RotationOutcome::Blocked),
            Outcome::NotDue | Outcome::Applied | Outcome::DryRun | Outcome::Deferred => None,
        }
    }
}

impl StepOutcome {
    /// The alert event for this step of a rotation pass, if its outcome alerts:
    /// `PassReport::alerting().filter_map(StepOutcome::alert_event)`. The message is the step's
    /// detail and error, or the plan's explanation when it has neither.
    pub fn alert_event(&self) -> Option<RotationEvent> {
        let outcome = self.outcome.alert_outcome()?;
        let message = match (&self.error, self.detail.is_empty()) {
            (Some(e), false) => format!("{}: {e}", self.detail),
            (Some(e), true) => e.clone(),
            (None, false) => self.detail.clone(),
            (None, true) => self.step.explain(),
        };
        Some(RotationEvent {
            tenant: self.step.tenant.clone(),
            kind: self.step.kind,
            object_id: self.step.object_id.clone(),
            object_name: self.step.object_name.clone(),
            outcome,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::RotationOutcome::{Blocked, Failed, RolledBack};
    use crate::inventory::Kind;
    use crate::rotate::{Blocker, Decision, Step};

    #[test]
    fn rotation_event_from_a_pass_step() {
        let b = Blocker::Store("signing/: permission denied".into());
        let step = |outcome, detail: &str, error: Option<&str>| StepOutcome {
            step: Step {
                tenant: "prod".into(),
                kind: Kind::ConnectionSigningCert,
                object_id: "con_1".into(),
                object_name: "acme-idp".into(),
                target: 0,
                current: None,
                decision: Decision::Blocked(b.clone()),
            },
            outcome,
            detail: detail.into(),
            error: error.map(Into::into),
            blocker: None,
            new: Default::default(),
            requests: vec![],
        };
        let ev = |s: StepOutcome| s.alert_event().map(|e| (e.outcome, e.message));
        assert_eq!(
            ev(step(
                Outcome::RolledBack,
                "undone",
                Some("thumbprints differ")
            )),
            Some((RolledBack, "undone: thumbprints differ".into()))
        );
        assert_eq!(
            ev(step(Outcome::Failed, "", Some("HTTP 503"))),
            Some((Failed, "HTTP 503".into()))
        );
        assert_eq!(
            ev(step(Outcome::Blocked, "", None)),
            Some((Blocked, b.to_string())),
            "no detail nor error: the plan's explanation"
        );
        for quiet in [Outcome::NotDue, Outcome::Applied, Outcome::DryRun] {
            assert_eq!(ev(step(quiet, "done", None)), None);
        }
        let e = step(Outcome::Failed, "x", None).alert_event().unwrap();
        assert_eq!(
            (
                e.tenant.as_str(),
                e.kind,
                e.object_id.as_str(),
                e.object_name.as_str()
            ),
            ("prod", Kind::ConnectionSigningCert, "con_1", "acme-idp")
        );
    }
}
