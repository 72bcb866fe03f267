//! Rendering of notifications (pure), one file per output: `words` (what things are called, the
//! one-line summaries, titles and advice), `email` (subject / text / HTML from templates compiled
//! in with `include_str!`), `json` (the `json` webhook payload) and `chat` (the `slack` and
//! `teams` webhook bodies), for certificate alerts (docs/alerts.md) and rotation alerts
//! (docs/rotation.md); finding alerts (docs/findings.md) have their words, email item, `json`
//! alert and card in `finding`. Here: what they share — the batch seen as a list of alerts, and
//! the escaping helpers.
//!
//! Every value that comes from Auth0 (and every rotation message, which can quote Auth0) is
//! escaped for its destination: HTML-escaped in HTML, control characters (CR/LF included) removed
//! in text and subjects, markup-escaped in Slack and Teams.

mod chat;
mod email;
mod finding;
mod json;
mod words;

pub use chat::{slack, teams};
pub use email::{Email, email};
pub use finding::{finding_subject, finding_summary, json_finding_alert};
pub use json::{
    JSON_VERSION, JsonAlert, JsonPayload, json, json_alert, json_payload, json_rotation_alert,
};
pub use words::{
    describe, describe_batch, rotation_subject, rotation_summary, subject, summary, when,
};

use super::policy::{Alert, AlertStatus, Batch, FindingAlert, RotationAlert};
use crate::config::Severity;
use crate::timefmt::rfc3339;
use time::OffsetDateTime;

/// Subject prefix.
pub const PREFIX: &str = "[certwatch] ";
/// Longest object name put into a subject or headline.
const MAX_NAME: usize = 100;
/// Longest other value put into a body.
const MAX_VALUE: usize = 1000;

pub use crate::escape::html as html_escape;
/// One line of text that is safe anywhere (`escape::one_line`: controls, bidi controls and line
/// separators become spaces; cut to `max` characters).
pub use crate::escape::one_line as text_safe;

/// Substitute `{{name}}` placeholders in one pass: substituted values are never scanned again, so
/// a value containing `{{…}}` stays literal. Unknown placeholders are left as they are.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = &after[..end];
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push_str("{{");
                        out.push_str(name);
                        out.push_str("}}");
                    }
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// One alert of a batch, of whichever sort.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Certificate(&'a Alert),
    Rotation(&'a RotationAlert),
    Finding(&'a FindingAlert),
}

impl<'a> Item<'a> {
    /// The one-line summary.
    fn summary(self) -> String {
        match self {
            Item::Certificate(a) => words::summary(a),
            Item::Rotation(a) => words::rotation_summary(a),
            Item::Finding(a) => finding_summary(a),
        }
    }

    /// The tenant it is about.
    fn tenant(self) -> &'a str {
        match self {
            Item::Certificate(a) => &a.certificate.tenant,
            Item::Rotation(a) => &a.rotation.tenant,
            Item::Finding(a) => &a.finding.tenant,
        }
    }

    /// The severity, unless it is a `resolved` notification.
    fn firing(self) -> Option<Severity> {
        match self {
            Item::Certificate(a) => (a.status == AlertStatus::Firing).then_some(a.severity),
            Item::Rotation(a) => Some(a.severity),
            Item::Finding(a) => (a.status == AlertStatus::Firing).then_some(a.severity),
        }
    }

    /// When the poll or pass that produced it ran.
    fn at(self) -> OffsetDateTime {
        match self {
            Item::Certificate(a) => a.at,
            Item::Rotation(a) => a.at,
            Item::Finding(a) => a.at,
        }
    }
}

/// Every alert of a batch: certificate alerts, then rotation alerts, then finding alerts.
fn items(batch: &Batch) -> impl Iterator<Item = Item<'_>> {
    batch
        .alerts
        .iter()
        .map(Item::Certificate)
        .chain(batch.rotations.iter().map(Item::Rotation))
        .chain(batch.findings.iter().map(Item::Finding))
}

/// The alert of a batch that carries exactly one.
fn only(batch: &Batch) -> Option<Item<'_>> {
    if batch.len() == 1 {
        items(batch).next()
    } else {
        None
    }
}

/// An optional value as one safe line, `-` when absent.
fn opt(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| text_safe(s, MAX_VALUE))
        .unwrap_or_else(|| "-".into())
}

/// An optional instant in RFC 3339, `-` when absent.
fn time_opt(t: Option<OffsetDateTime>) -> String {
    t.map(rfc3339).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests;
