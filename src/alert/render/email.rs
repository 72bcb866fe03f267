//! The email of a batch (pure): subject, text/plain and text/html from the templates compiled in
//! with `include_str!`. Values are made one safe line (`text_safe`) and HTML-escaped in the HTML
//! part; substituted values are never scanned for placeholders again (`fill`).

use super::words::{advice, replacement_text, rotation_advice, rotation_summary, summary, title};
use super::{MAX_VALUE, PREFIX, fill, finding, html_escape, items, opt, text_safe, time_opt};
use crate::alert::policy::{Alert, AlertStatus, Batch, RotationAlert};
use crate::config::Severity;
use crate::timefmt::rfc3339;

const EMAIL_TXT: &str = include_str!("../templates/email.txt");
const ITEM_TXT: &str = include_str!("../templates/item.txt");
const EMAIL_HTML: &str = include_str!("../templates/email.html");
const ITEM_HTML: &str = include_str!("../templates/item.html");
const ROTATION_EMAIL_TXT: &str = include_str!("../templates/rotation_email.txt");
const ROTATION_ITEM_TXT: &str = include_str!("../templates/rotation_item.txt");
const ROTATION_EMAIL_HTML: &str = include_str!("../templates/rotation_email.html");
const ROTATION_ITEM_HTML: &str = include_str!("../templates/rotation_item.html");

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Subject line (no CR/LF).
    pub subject: String,
    /// text/plain part.
    pub text: String,
    /// text/html part.
    pub html: String,
}

/// The accent colour of an alert in HTML.
fn colour(status: AlertStatus, severity: Severity) -> &'static str {
    match (status, severity) {
        (AlertStatus::Resolved, _) => "#1a7f37",
        (_, Severity::Warning) => "#bf8700",
        (_, Severity::Critical) => "#d1242f",
        (_, Severity::Expired) => "#82071e",
    }
}

/// The fields of one alert as safe single-line text, in template order.
fn fields(a: &Alert) -> Vec<(&'static str, String)> {
    let c = &a.certificate;
    vec![
        ("headline", summary(a)),
        ("tenant", text_safe(&c.tenant, MAX_VALUE)),
        ("kind", text_safe(&c.kind, MAX_VALUE)),
        ("object_name", text_safe(&c.object_name, MAX_VALUE)),
        ("object_id", text_safe(&c.object_id, MAX_VALUE)),
        ("owner", opt(&c.owner)),
        ("role", text_safe(&c.role, MAX_VALUE)),
        ("cert_id", text_safe(&c.cert_id, MAX_VALUE)),
        ("subject", opt(&c.subject)),
        ("issuer", opt(&c.issuer)),
        ("not_after", time_opt(c.not_after)),
        ("sha1", opt(&c.sha1)),
        ("status", c.status.as_str().to_string()),
        ("advice", advice(a).to_string()),
    ]
}

/// The fields of one rotation alert as safe single-line text, in template order.
fn rotation_fields(a: &RotationAlert) -> Vec<(&'static str, String)> {
    let r = &a.rotation;
    vec![
        ("headline", rotation_summary(a)),
        ("tenant", text_safe(&r.tenant, MAX_VALUE)),
        ("kind", r.kind.as_str().to_string()),
        ("object_name", text_safe(&r.object_name, MAX_VALUE)),
        ("object_id", text_safe(&r.object_id, MAX_VALUE)),
        ("outcome", r.outcome.as_str().to_string()),
        ("message", text_safe(&r.message, MAX_VALUE)),
        ("first_notified", rfc3339(a.first_notified)),
        ("advice", rotation_advice(r.outcome)),
    ]
}

/// The email for a batch (one alert, or a digest).
pub fn email(batch: &Batch) -> Email {
    let title = title(batch);
    let at = items(batch)
        .next()
        .map(|i| rfc3339(i.at()))
        .unwrap_or_default();
    let version = env!("CARGO_PKG_VERSION");
    let (text_items, html_items) = item_parts(batch);
    let (email_txt, email_html) = frame(batch);

    // A digest gets a heading; a single alert's headline is its heading.
    let (text_heading, html_heading) = if batch.digest {
        (
            format!("{title}\n\n"),
            format!(
                "<h2 style=\"font-size: 18px;\">{}</h2>\n",
                html_escape(&title)
            ),
        )
    } else {
        (String::new(), String::new())
    };
    let text = fill(
        email_txt,
        &[
            ("heading", &text_heading),
            ("items", &text_items),
            ("at", &at),
            ("version", version),
        ],
    );
    let html = fill(
        email_html,
        &[
            ("title", &html_escape(&title)),
            ("heading", &html_heading),
            ("items", &html_items),
            ("at", &html_escape(&at)),
            ("version", version),
        ],
    );
    Email {
        subject: text_safe(&format!("{PREFIX}{title}"), 250),
        text,
        html,
    }
}

/// The text and HTML items of every alert of a batch, from each sort's item templates.
fn item_parts(batch: &Batch) -> (String, String) {
    let mut text_items = String::new();
    let mut html_items = String::new();
    for a in &batch.alerts {
        let f = fields(a);
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (repl_txt, repl_html) = match replacement_text(a) {
            Some((sha1, na)) => (
                format!("  Replaced by:  {sha1}, valid until {na}\n"),
                format!(
                    "<tr><th align=\"left\" style=\"padding-right: 12px;\">Replaced by</th><td><code>{}</code>, valid until {}</td></tr>\n",
                    html_escape(&sha1),
                    html_escape(&na)
                ),
            ),
            None => (String::new(), String::new()),
        };
        let mut t = refs.clone();
        t.push(("replacement", &repl_txt));
        text_items.push_str(&fill(ITEM_TXT, &t));

        let escaped: Vec<(&str, String)> = f.iter().map(|(k, v)| (*k, html_escape(v))).collect();
        let mut h: Vec<(&str, &str)> = escaped.iter().map(|(k, v)| (*k, v.as_str())).collect();
        h.push(("replacement", &repl_html));
        h.push(("colour", colour(a.status, a.severity)));
        html_items.push_str(&fill(ITEM_HTML, &h));
    }
    let mut push_item = |(txt, html): (&str, &str), f: Vec<(&str, String)>, colour: &str| {
        let t: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        text_items.push_str(&fill(txt, &t));
        let escaped: Vec<(&str, String)> = f.iter().map(|(k, v)| (*k, html_escape(v))).collect();
        let mut h: Vec<(&str, &str)> = escaped.iter().map(|(k, v)| (*k, v.as_str())).collect();
        h.push(("colour", colour));
        html_items.push_str(&fill(html, &h));
    };
    for r in &batch.rotations {
        let colour = colour(AlertStatus::Firing, r.severity);
        push_item(
            (ROTATION_ITEM_TXT, ROTATION_ITEM_HTML),
            rotation_fields(r),
            colour,
        );
    }
    for a in &batch.findings {
        let colour = colour(a.status, a.severity);
        push_item(finding::ITEM_TEMPLATES, finding::fields(a), colour);
    }
    (text_items, html_items)
}

/// The text and HTML email around the items. A batch of rotation alerts only (or finding alerts
/// only) gets its own footer; certificate or mixed batches the certificate one.
fn frame(batch: &Batch) -> (&'static str, &'static str) {
    match (
        batch.alerts.is_empty(),
        batch.rotations.is_empty(),
        batch.findings.is_empty(),
    ) {
        (true, false, true) => (ROTATION_EMAIL_TXT, ROTATION_EMAIL_HTML),
        (true, true, false) => finding::EMAIL_TEMPLATES,
        _ => (EMAIL_TXT, EMAIL_HTML),
    }
}
