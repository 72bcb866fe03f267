//! The chat cards (pure): the Slack incoming-webhook body (blocks with mrkdwn-escaped text and
//! `plain_text` fields) and the Microsoft Teams message (one Adaptive Card, markdown-escaped).
//! Each alert becomes a `Card` first — headline, facts, advice — and each chat lays it out.

use super::words::{replacement_text, rotation_advice, rotation_summary, summary, title};
use super::{Item, MAX_VALUE, PREFIX, finding, items, opt, text_safe, time_opt};
use crate::alert::policy::{Alert, AlertStatus, Batch, RotationAlert};
use crate::config::Severity;
use crate::timefmt::rfc3339;
use serde_json::{Value, json};

/// Slack allows 50 blocks per message; keep room for the header and the overflow note.
const SLACK_MAX_ALERTS: usize = 45;

/// Slack mrkdwn escaping (`&`, `<`, `>`: no links, mentions or `<!channel>` from Auth0 values).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Markdown escaping for Teams TextBlocks and facts: no links, autolinks or emphasis from Auth0
/// values (`[`, `]`, `<`, `>`, `*`, `_`, `~`, backquote and backslash are backslash-escaped).
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '[' | ']' | '`' | '~' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The Slack emoji of an alert.
fn emoji(status: AlertStatus, severity: Severity) -> &'static str {
    match (status, severity) {
        (AlertStatus::Resolved, _) => ":white_check_mark:",
        (_, Severity::Warning) => ":warning:",
        (_, Severity::Critical) | (_, Severity::Expired) => ":rotating_light:",
    }
}

fn plain(text: String) -> Value {
    json!({"type": "plain_text", "text": text, "emoji": false})
}

/// Which chat format a `Card` is for (their certificate and rotation facts differ slightly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chat {
    Slack,
    Teams,
}

/// What one alert becomes in Slack and Teams: a headline, facts (name, value) and advice.
pub(super) struct Card {
    pub(super) status: AlertStatus,
    pub(super) severity: Severity,
    pub(super) summary: String,
    pub(super) facts: Vec<(&'static str, String)>,
    pub(super) advice: Option<String>,
}

impl Card {
    fn of(item: Item<'_>, chat: Chat) -> Card {
        match item {
            Item::Certificate(a) => certificate_card(a, chat),
            Item::Rotation(a) => rotation_card(a, chat),
            Item::Finding(a) => finding::card(a),
        }
    }

    /// A Slack section: `emoji *summary*` (plus the advice) over `plain_text` fields.
    fn slack(&self) -> Value {
        let mut text = format!(
            "{} *{}*",
            emoji(self.status, self.severity),
            slack_escape(&self.summary)
        );
        if let Some(advice) = &self.advice {
            text.push_str("\nWhat to do: ");
            text.push_str(&slack_escape(advice));
        }
        let fields: Vec<Value> = self
            .facts
            .iter()
            .map(|(name, value)| plain(format!("{name}: {value}")))
            .collect();
        json!({"type": "section", "text": {"type": "mrkdwn", "text": text}, "fields": fields})
    }

    /// Teams blocks: the headline, a FactSet and the advice, all markdown-escaped.
    fn teams(&self, digest: bool) -> Vec<Value> {
        let colour = match (self.status, self.severity) {
            (AlertStatus::Resolved, _) => "Good",
            (_, Severity::Warning) => "Warning",
            _ => "Attention",
        };
        let facts: Vec<Value> = self
            .facts
            .iter()
            .map(|(t, v)| json!({"title": t, "value": md_escape(v)}))
            .collect();
        let mut blocks = vec![
            json!({
                "type": "TextBlock", "weight": "Bolder", "wrap": true, "color": colour, "separator": digest,
                "size": if digest { "Medium" } else { "Large" },
                "text": md_escape(&self.summary),
            }),
            json!({"type": "FactSet", "facts": facts}),
        ];
        if let Some(advice) = &self.advice {
            blocks.push(json!({
                "type": "TextBlock", "wrap": true,
                "text": md_escape(&format!("What to do: {advice}")),
            }));
        }
        blocks
    }
}

/// `name (id)` of the object an alert is about.
pub(super) fn object_fact(object_name: &str, object_id: &str) -> String {
    format!(
        "{} ({})",
        text_safe(object_name, 200),
        text_safe(object_id, 200)
    )
}

fn certificate_card(a: &Alert, chat: Chat) -> Card {
    let c = &a.certificate;
    let mut facts = vec![
        ("Tenant", text_safe(&c.tenant, 200)),
        ("Kind", text_safe(&c.kind, 200)),
    ];
    match chat {
        Chat::Slack => facts.extend([
            ("Not after", time_opt(c.not_after)),
            ("SHA-1", opt(&c.sha1)),
            ("Object id", text_safe(&c.object_id, 200)),
            (
                "Subject",
                text_safe(c.subject.as_deref().unwrap_or("-"), 500),
            ),
        ]),
        Chat::Teams => facts.extend([
            ("Object", object_fact(&c.object_name, &c.object_id)),
            ("Not after", time_opt(c.not_after)),
            ("SHA-1", opt(&c.sha1)),
            ("Subject", opt(&c.subject)),
        ]),
    }
    if let Some(owner) = &c.owner {
        facts.push(("Owner", text_safe(owner, 200)));
    }
    if let Some((sha1, na)) = replacement_text(a) {
        facts.push(("Replaced by", format!("{sha1}, valid until {na}")));
    }
    Card {
        status: a.status,
        severity: a.severity,
        summary: summary(a),
        facts,
        advice: None,
    }
}

fn rotation_card(a: &RotationAlert, chat: Chat) -> Card {
    let r = &a.rotation;
    let mut facts = vec![
        ("Tenant", text_safe(&r.tenant, 200)),
        ("Kind", r.kind.as_str().to_string()),
    ];
    let message_max = match chat {
        Chat::Slack => {
            facts.push(("Object", text_safe(&r.object_name, 200)));
            facts.push(("Object id", text_safe(&r.object_id, 200)));
            900
        }
        Chat::Teams => {
            facts.push(("Object", object_fact(&r.object_name, &r.object_id)));
            MAX_VALUE
        }
    };
    facts.extend([
        ("Outcome", r.outcome.as_str().to_string()),
        ("First reported", rfc3339(a.first_notified)),
        ("Message", text_safe(&r.message, message_max)),
    ]);
    Card {
        status: AlertStatus::Firing,
        severity: a.severity,
        summary: rotation_summary(a),
        facts,
        advice: Some(rotation_advice(r.outcome)),
    }
}

/// The Slack incoming-webhook body: `text` (notification fallback) plus blocks; Auth0 values go
/// into `plain_text` fields or are mrkdwn-escaped.
pub fn slack(batch: &Batch) -> String {
    let title = title(batch);
    let mut blocks = vec![json!({"type": "header", "text": plain(text_safe(&title, 150))})];
    blocks.extend(
        items(batch)
            .take(SLACK_MAX_ALERTS)
            .map(|i| Card::of(i, Chat::Slack).slack()),
    );
    if batch.len() > SLACK_MAX_ALERTS {
        blocks.push(json!({
            "type": "context",
            "elements": [plain(format!("… and {} more", batch.len() - SLACK_MAX_ALERTS))],
        }));
    }
    json!({"text": slack_escape(&format!("{PREFIX}{title}")), "blocks": blocks}).to_string()
}

/// The Microsoft Teams body: a message with one Adaptive Card (what Teams workflows accept).
pub fn teams(batch: &Batch) -> String {
    let title = title(batch);
    let mut body = Vec::new();
    if batch.digest {
        body.push(json!({
            "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
            "text": md_escape(&format!("{PREFIX}{title}")),
        }));
    }
    for i in items(batch) {
        body.extend(Card::of(i, Chat::Teams).teams(batch.digest));
    }
    json!({
        "type": "message",
        "summary": text_safe(&format!("{PREFIX}{title}"), 250),
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
            },
        }],
    })
    .to_string()
}
