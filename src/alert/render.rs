//! Rendering of notifications (pure): email subject / text / HTML from templates compiled in with
//! `include_str!`, and the webhook payloads (`json`, `slack`, `teams`), for certificate alerts
//! (SPEC §7), rotation alerts (SPEC §8) and finding alerts (SPEC §11, in `finding`). Every value that comes from Auth0 (and every rotation
//! message, which can quote Auth0) is escaped for its destination: HTML-escaped in HTML, control
//! characters (CR/LF included) removed in text and subjects, markup-escaped in Slack and Teams.

mod finding;

pub use finding::{finding_subject, finding_summary, json_finding_alert};

use super::policy::{
    Alert, AlertStatus, Batch, Certificate, FindingAlert, FindingRecord, RotationAlert,
    RotationEvent, RotationOutcome,
};
use crate::config::Severity;
use crate::inventory::Kind;
use crate::timefmt::rfc3339;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

const EMAIL_TXT: &str = include_str!("templates/email.txt");
const ITEM_TXT: &str = include_str!("templates/item.txt");
const EMAIL_HTML: &str = include_str!("templates/email.html");
const ITEM_HTML: &str = include_str!("templates/item.html");
const ROTATION_EMAIL_TXT: &str = include_str!("templates/rotation_email.txt");
const ROTATION_ITEM_TXT: &str = include_str!("templates/rotation_item.txt");
const ROTATION_EMAIL_HTML: &str = include_str!("templates/rotation_email.html");
const ROTATION_ITEM_HTML: &str = include_str!("templates/rotation_item.html");
/// Where the rotation audit log is, for the advice of rotation alerts.
const AUDIT_LOG_HINT: &str =
    "rotation-audit.jsonl in the state directory, unless [rotation] audit_log names another file";

/// Subject prefix.
pub const PREFIX: &str = "[certwatch] ";
/// The payload version of the `json` format.
pub const JSON_VERSION: u32 = 1;
/// Longest object name put into a subject or headline.
const MAX_NAME: usize = 100;
/// Longest other value put into a body.
const MAX_VALUE: usize = 1000;
/// Slack allows 50 blocks per message; keep room for the header and the overflow note.
const SLACK_MAX_ALERTS: usize = 45;

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

pub use crate::escape::html as html_escape;
/// One line of text that is safe anywhere (`escape::one_line`: controls, bidi controls and line
/// separators become spaces; cut to `max` characters).
pub use crate::escape::one_line as text_safe;

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

/// The human words for what a certificate is, e.g. `SAML connection 'acme-idp' signing certificate`.
pub fn describe(c: &Certificate) -> String {
    describe_object(c.kind(), &c.kind, &c.object_name)
}

/// `describe` from the parts: the kind (when known), its label and the object name.
fn describe_object(kind: Option<Kind>, label: &str, object_name: &str) -> String {
    let name = text_safe(object_name, MAX_NAME);
    match kind {
        Some(Kind::TenantSigningKey) => "tenant signing key".into(),
        Some(Kind::ConnectionSigningCert) => {
            format!("SAML connection '{name}' signing certificate")
        }
        Some(Kind::ConnectionThumbprint) => format!("connection '{name}' certificate thumbprint"),
        Some(Kind::ConnectionSpSigningKey) => format!("connection '{name}' SP signing key"),
        Some(Kind::ConnectionDecryptionKey) => {
            format!("connection '{name}' decryption certificate")
        }
        Some(Kind::ConnectionKey) => format!("connection '{name}' key"),
        Some(Kind::ClientCredential) => format!("application '{name}' credential"),
        Some(Kind::ClientEncryptionKey) => format!("application '{name}' encryption certificate"),
        Some(Kind::ClientSigningKey) => format!("application '{name}' signing certificate"),
        None => format!("{} '{name}'", text_safe(label, 40)),
    }
}

fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// "expires in 5 days", "expires today", "expired today", "expired 3 days ago" (as of the poll).
pub fn when(c: &Certificate) -> String {
    match c.expires_in_seconds {
        None => "has no known expiry".into(),
        Some(s) if s > 0 => match s.div_euclid(86_400) {
            0 => "expires today".into(),
            d => format!("expires in {}", plural(d, "day")),
        },
        Some(s) => match (-s).div_euclid(86_400) {
            0 => "expired today".into(),
            d => format!("expired {} ago", plural(d, "day")),
        },
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "WARNING",
        Severity::Critical => "CRITICAL",
        Severity::Expired => "EXPIRED",
    }
}

/// `CRITICAL prod: SAML connection 'acme-idp' signing certificate expires in 5 days`, or
/// `RESOLVED prod: … (renewed)`. One line, no control characters.
pub fn summary(a: &Alert) -> String {
    let c = &a.certificate;
    let tenant = text_safe(&c.tenant, MAX_NAME);
    match a.status {
        AlertStatus::Firing => format!(
            "{} {tenant}: {} {}",
            severity_word(a.severity),
            describe(c),
            when(c)
        ),
        AlertStatus::Resolved => format!(
            "RESOLVED {tenant}: {} ({})",
            describe(c),
            a.resolution.map(|r| r.as_str()).unwrap_or("resolved")
        ),
    }
}

/// The email subject of one alert: `[certwatch] ` + `summary`.
pub fn subject(a: &Alert) -> String {
    format!("{PREFIX}{}", summary(a))
}

/// `failed`, `rolled back`, `is blocked`: what the rotation of something did.
fn rotation_verb(o: RotationOutcome) -> &'static str {
    match o {
        RotationOutcome::Failed => "failed",
        RotationOutcome::RolledBack => "rolled back",
        RotationOutcome::Blocked => "is blocked",
    }
}

/// `CRITICAL prod: rotation of SAML connection 'acme-idp' signing certificate failed` (`rolled
/// back`, `is blocked`). One line, no control characters.
pub fn rotation_summary(a: &RotationAlert) -> String {
    let r = &a.rotation;
    format!(
        "{} {}: rotation of {} {}",
        severity_word(a.severity),
        text_safe(&r.tenant, MAX_NAME),
        describe_object(Some(r.kind), r.kind.as_str(), &r.object_name),
        rotation_verb(r.outcome)
    )
}

/// The email subject of one rotation alert: `[certwatch] ` + `rotation_summary`.
pub fn rotation_subject(a: &RotationAlert) -> String {
    format!("{PREFIX}{}", rotation_summary(a))
}

/// One alert of a batch, of whichever sort.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Certificate(&'a Alert),
    Rotation(&'a RotationAlert),
    Finding(&'a FindingAlert),
}

impl<'a> Item<'a> {
    fn summary(self) -> String {
        match self {
            Item::Certificate(a) => summary(a),
            Item::Rotation(a) => rotation_summary(a),
            Item::Finding(a) => finding_summary(a),
        }
    }

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

    fn at(self) -> OffsetDateTime {
        match self {
            Item::Certificate(a) => a.at,
            Item::Rotation(a) => a.at,
            Item::Finding(a) => a.at,
        }
    }

    fn json(self) -> JsonAlert<'a> {
        match self {
            Item::Certificate(a) => json_alert(a),
            Item::Rotation(a) => json_rotation_alert(a),
            Item::Finding(a) => json_finding_alert(a),
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

/// What a batch is about, for logs: the summary of a single alert, or `digest of N alerts`.
pub fn describe_batch(batch: &Batch) -> String {
    match only(batch) {
        Some(one) => one.summary(),
        None => format!("digest of {} alerts", batch.len()),
    }
}

/// The title of a batch: the summary of a single alert, or a count for a digest.
fn title(batch: &Batch) -> String {
    if let Some(one) = only(batch).filter(|_| !batch.digest) {
        return one.summary();
    }
    let worst = items(batch)
        .filter_map(Item::firing)
        .max()
        .map(severity_word)
        .unwrap_or("RESOLVED");
    let mut tenants: Vec<&str> = items(batch).map(Item::tenant).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let n = batch.len();
    let sorts = [
        (!batch.alerts.is_empty(), "certificate alert"),
        (!batch.rotations.is_empty(), "rotation alert"),
        (!batch.findings.is_empty(), "finding"),
    ];
    let what = match sorts.iter().filter(|(any, _)| *any).collect::<Vec<_>>()[..] {
        [(_, one)] => one,
        [] => "certificate alert",
        _ => "alert",
    };
    let s = if n == 1 { "" } else { "s" };
    format!(
        "{worst} {n} {what}{s} for {}",
        text_safe(&tenants.join(", "), 200)
    )
}

fn advice(a: &Alert) -> &'static str {
    if a.status == AlertStatus::Resolved {
        return match a.resolution {
            Some(super::policy::Resolution::Removed) => {
                "Nothing, unless the removal was unexpected: the certificate is no longer in the tenant."
            }
            _ => "Nothing: this closes the earlier alert.",
        };
    }
    match a.certificate.kind() {
        Some(Kind::TenantSigningKey) => {
            "Rotate the tenant signing key (Dashboard > Settings > Signing Keys, or POST /api/v2/keys/signing/rotate) once every relying party reads the JWKS instead of a pinned certificate."
        }
        Some(Kind::ConnectionSigningCert) | Some(Kind::ConnectionThumbprint) => {
            "Get the identity provider's new signing certificate and update the connection (Dashboard > Authentication > Enterprise), or let `certwatch rotate` apply it from the certificate store."
        }
        Some(Kind::ConnectionSpSigningKey) => {
            "Give the connection a new SP signing key and send the new metadata to the identity provider before this one expires."
        }
        Some(Kind::ConnectionDecryptionKey) => {
            "Replace the connection's decryption key and give the identity provider the new encryption certificate."
        }
        Some(Kind::ConnectionKey) => {
            "Rotate the connection's private_key_jwt key (POST /api/v2/connections/{id}/keys/rotate) and register the new key with the upstream provider."
        }
        Some(Kind::ClientCredential) => {
            "Create a new credential for the application, add it next to the old one in client_authentication_methods, switch the client over, then delete the old credential."
        }
        Some(Kind::ClientEncryptionKey) => {
            "Get a new encryption certificate from the application owner and update the application's encryption key."
        }
        Some(Kind::ClientSigningKey) => {
            "Get a new signing certificate from the application owner and update the application's signing keys."
        }
        None => "Renew the certificate before it expires.",
    }
}

fn rotation_advice(o: RotationOutcome) -> String {
    match o {
        RotationOutcome::Failed => format!(
            "The replacement was not applied: Auth0 was left as it was, or its state could not be established. \
             Read this object's records in the rotation audit log ({AUDIT_LOG_HINT}), check the object in Auth0, \
             fix the cause (the Management API client's access, the replacement in the certificate store), then run \
             `certwatch rotate` or let the next rotation pass try again."
        ),
        RotationOutcome::RolledBack => format!(
            "The change was made but did not verify, so certwatch restored the previous settings. Check in the \
             rotation audit log ({AUDIT_LOG_HINT}) what Auth0 returned, confirm the object in Auth0 is as it was, \
             check the replacement in the certificate store, and rotate by hand if Auth0 keeps changing it."
        ),
        RotationOutcome::Blocked => format!(
            "The certificate is due for rotation but certwatch cannot rotate it; the message says why. Usually the \
             certificate store has no usable replacement: put one that is already valid, expires later than the \
             current certificate and differs from it where the target's `source` points in the store. The rotation \
             audit log ({AUDIT_LOG_HINT}) records each pass's decision."
        ),
    }
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

fn opt(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| text_safe(s, MAX_VALUE))
        .unwrap_or_else(|| "-".into())
}

fn time_opt(t: Option<time::OffsetDateTime>) -> String {
    t.map(rfc3339).unwrap_or_else(|| "-".into())
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

fn replacement_text(a: &Alert) -> Option<(String, String)> {
    a.replacement
        .as_ref()
        .map(|r| (opt(&r.sha1), time_opt(r.not_after)))
}

/// The email for a batch (one alert, or a digest).
pub fn email(batch: &Batch) -> Email {
    let title = title(batch);
    let at = items(batch)
        .next()
        .map(|i| rfc3339(i.at()))
        .unwrap_or_default();
    let version = env!("CARGO_PKG_VERSION");

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
    // A batch of rotation alerts only (or finding alerts only) gets its own footer; certificate or
    // mixed batches the certificate one.
    let (email_txt, email_html) = match (
        batch.alerts.is_empty(),
        batch.rotations.is_empty(),
        batch.findings.is_empty(),
    ) {
        (true, false, true) => (ROTATION_EMAIL_TXT, ROTATION_EMAIL_HTML),
        (true, true, false) => finding::EMAIL_TEMPLATES,
        _ => (EMAIL_TXT, EMAIL_HTML),
    };

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

/// The `json` payload of one alert (field order as in SPEC §7). A certificate alert carries
/// `certificate` and no `rotation` key; a rotation alert (SPEC §8) carries `rotation` and no
/// `certificate` key, is always `firing` with `resolution: null`, and its severity is `critical`
/// (failed, rolled back) or `warning` (blocked). A finding alert (SPEC §11) carries only
/// `finding`, with `resolution: "resolved"` when resolved.
#[derive(Debug, Serialize)]
pub struct JsonAlert<'a> {
    /// Always `JSON_VERSION`.
    pub version: u32,
    /// `firing` / `resolved`.
    pub status: &'static str,
    /// `warning` / `critical` / `expired`.
    pub severity: &'static str,
    /// The subject line without the `[certwatch] ` prefix.
    pub summary: String,
    /// `renewed` / `removed` for resolved certificate alerts, `resolved` for resolved findings.
    pub resolution: Option<&'static str>,
    /// The SPEC §5 record (certificate alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<&'a Certificate>,
    /// `{tenant, kind, object_id, object_name, outcome, message}` (rotation alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<&'a RotationEvent>,
    /// The SPEC §11 record (finding alerts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<&'a FindingRecord>,
}

/// The `json` webhook document: one alert, or a digest.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum JsonPayload<'a> {
    /// One alert.
    Single(JsonAlert<'a>),
    /// `{"version": 1, "alerts": [...]}`.
    Digest {
        /// Always `JSON_VERSION`.
        version: u32,
        /// The alerts.
        alerts: Vec<JsonAlert<'a>>,
    },
}

/// The `json` payload of one alert.
pub fn json_alert(a: &Alert) -> JsonAlert<'_> {
    JsonAlert {
        version: JSON_VERSION,
        status: a.status.as_str(),
        severity: a.severity.as_str(),
        summary: summary(a),
        resolution: a.resolution.map(|r| r.as_str()),
        certificate: Some(&a.certificate),
        rotation: None,
        finding: None,
    }
}

/// The `json` payload of one rotation alert.
pub fn json_rotation_alert(a: &RotationAlert) -> JsonAlert<'_> {
    JsonAlert {
        version: JSON_VERSION,
        status: AlertStatus::Firing.as_str(),
        severity: a.severity.as_str(),
        summary: rotation_summary(a),
        resolution: None,
        certificate: None,
        rotation: Some(&a.rotation),
        finding: None,
    }
}

/// The `json` document for a batch (a digest lists certificate alerts, then rotation alerts,
/// then finding alerts).
pub fn json_payload(batch: &Batch) -> JsonPayload<'_> {
    match only(batch) {
        Some(one) if !batch.digest => JsonPayload::Single(one.json()),
        _ => JsonPayload::Digest {
            version: JSON_VERSION,
            alerts: items(batch).map(Item::json).collect(),
        },
    }
}

/// The `json` webhook body: one alert, or `{"version": 1, "alerts": [...]}` for a digest.
pub fn json(batch: &Batch) -> String {
    serde_json::to_string(&json_payload(batch)).unwrap_or_default()
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
struct Card {
    status: AlertStatus,
    severity: Severity,
    summary: String,
    facts: Vec<(&'static str, String)>,
    advice: Option<String>,
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

fn object_fact(object_name: &str, object_id: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::policy::Resolution;
    use crate::expiry::Status;
    use time::OffsetDateTime;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
    const DAY: i64 = 86_400;

    fn cert(kind: &str, name: &str, secs: i64) -> Certificate {
        Certificate {
            tenant: "prod".into(),
            kind: kind.into(),
            role: "active".into(),
            object_id: "con_abc".into(),
            object_name: name.into(),
            cert_id: "3f1c0ffee".into(),
            subject: Some("CN=acme-idp".into()),
            issuer: Some("CN=acme-idp".into()),
            serial: Some("0a".into()),
            sha1: Some("3f1c0ffee".into()),
            sha256: Some("ab".into()),
            not_before: Some(T0 - time::Duration::days(360)),
            not_after: Some(T0 + time::Duration::seconds(secs)),
            expires_in_seconds: Some(secs),
            status: Status::Critical,
            error: None,
        }
    }

    fn firing(c: Certificate, s: Severity) -> Alert {
        Alert {
            status: AlertStatus::Firing,
            severity: s,
            resolution: None,
            reminder: false,
            certificate: c,
            replacement: None,
            at: T0,
        }
    }

    fn single(a: Alert) -> Batch {
        Batch::of_alerts(false, vec![a])
    }

    #[test]
    fn subject_matches_the_spec_example() {
        let a = firing(
            cert("connection_signing_cert", "acme-idp", 5 * DAY + 3600),
            Severity::Critical,
        );
        assert_eq!(
            subject(&a),
            "[certwatch] CRITICAL prod: SAML connection 'acme-idp' signing certificate expires in 5 days"
        );
        assert_eq!(
            email(&single(a)).subject,
            subject(&firing(
                cert("connection_signing_cert", "acme-idp", 5 * DAY + 3600),
                Severity::Critical
            ))
        );
    }

    #[test]
    fn kind_words() {
        let cases = [
            ("tenant_signing_key", "tenant signing key"),
            (
                "connection_signing_cert",
                "SAML connection 'n' signing certificate",
            ),
            ("connection_sp_signing_key", "connection 'n' SP signing key"),
            (
                "connection_decryption_key",
                "connection 'n' decryption certificate",
            ),
            ("connection_key", "connection 'n' key"),
            ("client_credential", "application 'n' credential"),
            (
                "client_encryption_key",
                "application 'n' encryption certificate",
            ),
            ("client_signing_key", "application 'n' signing certificate"),
        ];
        for (kind, words) in cases {
            assert_eq!(describe(&cert(kind, "n", DAY)), words);
        }
    }

    #[test]
    fn day_wording_boundaries() {
        let w = |secs| when(&cert("connection_key", "n", secs));
        assert_eq!(w(2 * DAY), "expires in 2 days");
        assert_eq!(w(DAY), "expires in 1 day");
        assert_eq!(w(DAY - 1), "expires today");
        assert_eq!(w(1), "expires today");
        assert_eq!(w(0), "expired today");
        assert_eq!(w(-DAY + 1), "expired today");
        assert_eq!(w(-DAY), "expired 1 day ago");
        assert_eq!(w(-3 * DAY - 5), "expired 3 days ago");
    }

    #[test]
    fn resolved_subject() {
        let mut a = firing(
            cert("connection_signing_cert", "acme-idp", 300 * DAY),
            Severity::Critical,
        );
        a.status = AlertStatus::Resolved;
        a.resolution = Some(Resolution::Renewed);
        assert_eq!(
            subject(&a),
            "[certwatch] RESOLVED prod: SAML connection 'acme-idp' signing certificate (renewed)"
        );
        a.resolution = Some(Resolution::Removed);
        assert!(subject(&a).ends_with("(removed)"));
    }

    #[test]
    fn hostile_values_are_neutralised() {
        let evil = "x'\r\nBcc: victim@example.com\r\n\r\n<script>alert(1)</script>{{sha1}}";
        let mut c = cert("client_credential", evil, 3 * DAY);
        c.subject = Some("CN=<img src=x onerror=alert(1)>".into());
        let e = email(&single(firing(c, Severity::Critical)));
        assert!(
            !e.subject.contains('\r') && !e.subject.contains('\n'),
            "{:?}",
            e.subject
        );
        assert!(!e.html.contains("<script>") && !e.html.contains("<img"));
        assert!(e.html.contains("&lt;script&gt;"));
        assert!(
            e.text.contains("{{sha1}}"),
            "placeholders inside values stay literal"
        );
        assert!(!e.text.contains("\r\nBcc"));
        let s = slack(&single(firing(
            cert("client_credential", "<!channel> <http://x|y>", DAY),
            Severity::Warning,
        )));
        let v: Value = serde_json::from_str(&s).unwrap();
        for mrkdwn in [&v["text"], &v["blocks"][1]["text"]["text"]] {
            let m = mrkdwn.as_str().unwrap();
            assert!(
                !m.contains("<!channel>") && m.contains("&lt;!channel&gt;"),
                "{m}"
            );
        }
        assert_eq!(
            v["blocks"][1]["fields"][0]["type"], "plain_text",
            "raw values only in plain_text"
        );
        let t = teams(&single(firing(
            cert("client_credential", "[click](http://evil)", DAY),
            Severity::Warning,
        )));
        assert!(t.contains(r"\\[click\\](http://evil)"), "{t}");
    }

    #[test]
    fn fill_is_single_pass() {
        assert_eq!(
            fill("a {{x}} b {{y}} {{z", &[("x", "{{y}}"), ("y", "2")]),
            "a {{y}} b 2 {{z"
        );
        assert_eq!(fill("{{unknown}}", &[]), "{{unknown}}");
    }

    fn sample_batch(digest: bool) -> Batch {
        let mut resolved = firing(
            cert("client_credential", "billing-api", 200 * DAY),
            Severity::Warning,
        );
        resolved.status = AlertStatus::Resolved;
        resolved.resolution = Some(Resolution::Renewed);
        resolved.certificate.status = Status::Ok;
        let mut alerts = vec![firing(
            cert("connection_signing_cert", "acme-idp", 5 * DAY + 60),
            Severity::Critical,
        )];
        if digest {
            let mut expired = firing(
                cert("tenant_signing_key", "acme.eu.auth0.com", -3 * DAY),
                Severity::Expired,
            );
            expired.certificate.status = Status::Expired;
            expired.certificate.role = "current".into();
            alerts.push(expired);
            alerts.push(resolved);
        }
        Batch::of_alerts(digest, alerts)
    }

    /// The crate version is volatile: redacted in snapshots.
    pub(super) fn redact(s: String) -> String {
        s.replace(
            concat!("certwatch ", env!("CARGO_PKG_VERSION")),
            "certwatch [version]",
        )
    }

    #[test]
    fn snapshot_email_single() {
        let e = email(&sample_batch(false));
        let e = Email {
            text: redact(e.text),
            html: redact(e.html),
            ..e
        };
        insta::assert_snapshot!("email_single_subject", e.subject);
        insta::assert_snapshot!("email_single_text", e.text);
        insta::assert_snapshot!("email_single_html", e.html);
    }

    #[test]
    fn snapshot_email_digest() {
        let e = email(&sample_batch(true));
        let e = Email {
            text: redact(e.text),
            ..e
        };
        insta::assert_snapshot!("email_digest_subject", e.subject);
        insta::assert_snapshot!("email_digest_text", e.text);
    }

    pub(super) fn pretty(s: &str) -> String {
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(s).unwrap()).unwrap()
    }

    #[test]
    fn snapshot_webhooks() {
        let ordered = |b: &Batch| serde_json::to_string_pretty(&json_payload(b)).unwrap();
        insta::assert_snapshot!("json_single", ordered(&sample_batch(false)));
        insta::assert_snapshot!("json_digest", ordered(&sample_batch(true)));
        insta::assert_snapshot!("slack_digest", pretty(&slack(&sample_batch(true))));
        insta::assert_snapshot!("teams_single", pretty(&teams(&sample_batch(false))));
    }

    #[test]
    fn json_shape() {
        let v: Value = serde_json::from_str(&json(&sample_batch(false))).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["status"], "firing");
        assert_eq!(v["severity"], "critical");
        assert_eq!(v["resolution"], Value::Null);
        let cert = v["certificate"].as_object().unwrap();
        let keys: Vec<&str> = cert.keys().map(String::as_str).collect();
        let mut expected = vec![
            "tenant",
            "kind",
            "role",
            "object_id",
            "object_name",
            "cert_id",
            "subject",
            "issuer",
            "serial",
            "sha1",
            "sha256",
            "not_before",
            "not_after",
            "expires_in_seconds",
            "status",
            "error",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected, "exactly the SPEC §5 record");
        let d: Value = serde_json::from_str(&json(&sample_batch(true))).unwrap();
        assert_eq!(d["version"], 1);
        assert_eq!(d["alerts"].as_array().unwrap().len(), 3);
        assert_eq!(d["alerts"][2]["resolution"], "renewed");
    }

    fn rotation(object_name: &str, outcome: RotationOutcome) -> RotationAlert {
        RotationAlert {
            severity: outcome.severity(),
            reminder: false,
            rotation: RotationEvent {
                tenant: "prod".into(),
                kind: Kind::ConnectionSigningCert,
                object_id: "con_abc".into(),
                object_name: object_name.into(),
                outcome,
                message: "PATCH /api/v2/connections/con_abc: thumbprints [\"0a1b\"] do not match the new certificate 3f1c0ffee; original options restored".into(),
            },
            first_notified: T0,
            at: T0,
        }
    }

    fn rotation_batch(digest: bool) -> Batch {
        let mut rotations = vec![rotation("acme-idp", RotationOutcome::RolledBack)];
        if digest {
            let mut failed = rotation("billing-api", RotationOutcome::Failed);
            failed.rotation.kind = Kind::ClientCredential;
            failed.rotation.object_id = "cli_123".into();
            failed.rotation.message =
                "POST /api/v2/clients/cli_123/credentials: HTTP 503 Service Unavailable".into();
            failed.reminder = true;
            failed.first_notified = T0 - time::Duration::days(1);
            let mut blocked = rotation("acme.eu.auth0.com", RotationOutcome::Blocked);
            blocked.rotation.kind = Kind::TenantSigningKey;
            blocked.rotation.object_id = "kid-1".into();
            blocked.rotation.message =
                "the store holds no certificate in signing/ (2 files rejected)".into();
            rotations.push(failed);
            rotations.push(blocked);
        }
        Batch::of_rotations(digest, rotations)
    }

    #[test]
    fn rotation_subjects() {
        let cases = [
            (
                RotationOutcome::Failed,
                "[certwatch] CRITICAL prod: rotation of SAML connection 'acme-idp' signing certificate failed",
            ),
            (
                RotationOutcome::RolledBack,
                "[certwatch] CRITICAL prod: rotation of SAML connection 'acme-idp' signing certificate rolled back",
            ),
            (
                RotationOutcome::Blocked,
                "[certwatch] WARNING prod: rotation of SAML connection 'acme-idp' signing certificate is blocked",
            ),
        ];
        for (outcome, want) in cases {
            let a = rotation("acme-idp", outcome);
            assert_eq!(rotation_subject(&a), want);
            assert_eq!(email(&Batch::of_rotations(false, vec![a])).subject, want);
        }
        let mut key = rotation("acme.eu.auth0.com", RotationOutcome::Failed);
        key.rotation.kind = Kind::TenantSigningKey;
        assert_eq!(
            rotation_summary(&key),
            "CRITICAL prod: rotation of tenant signing key failed"
        );
    }

    /// An object name that tries header injection, HTML and template placeholders.
    pub(super) const HOSTILE_NAME: &str =
        "x'\r\nBcc: victim@example.com\r\n\r\n<script>alert(1)</script>{{advice}}";
    /// A message that tries HTML, markdown links and Slack links.
    pub(super) const HOSTILE_MESSAGE: &str =
        "<img src=x onerror=alert(1)>\r\n[click](http://evil) <http://x|y>";

    /// What every format makes of one alert named `HOSTILE_NAME` in tenant `<!channel>` with
    /// `HOSTILE_MESSAGE`: nothing executable, no injected header or line, placeholders literal.
    /// Returns the `json` payload, which carries the values as they are.
    pub(super) fn assert_neutralised(b: &Batch) -> Value {
        let e = email(b);
        assert!(
            !e.subject.contains('\r') && !e.subject.contains('\n'),
            "{:?}",
            e.subject
        );
        assert!(!e.html.contains("<script>") && !e.html.contains("<img"));
        assert!(e.html.contains("&lt;script&gt;") && e.html.contains("&lt;img src=x"));
        assert!(
            e.text.contains("{{advice}}"),
            "placeholders inside values stay literal"
        );
        assert!(!e.text.contains("\r\nBcc") && !e.text.contains("\nBcc"));
        let v: Value = serde_json::from_str(&slack(b)).unwrap();
        for mrkdwn in [&v["text"], &v["blocks"][1]["text"]["text"]] {
            let m = mrkdwn.as_str().unwrap();
            assert!(
                !m.contains("<!channel>") && m.contains("&lt;!channel&gt;"),
                "{m}"
            );
        }
        let fields = v["blocks"][1]["fields"].as_array().unwrap();
        assert!(
            fields.iter().all(|f| f["type"] == "plain_text"),
            "raw values only in plain_text"
        );
        let t = teams(b);
        assert!(t.contains(r"\\[click\\](http://evil)"), "{t}");
        assert!(!t.contains("\\r\\n"), "no line breaks from values: {t}");
        serde_json::from_str(&json(b)).unwrap()
    }

    #[test]
    fn rotation_hostile_values_are_neutralised() {
        let mut a = rotation(HOSTILE_NAME, RotationOutcome::Failed);
        a.rotation.tenant = "<!channel>".into();
        a.rotation.message = HOSTILE_MESSAGE.into();
        let j = assert_neutralised(&Batch::of_rotations(false, vec![a]));
        assert_eq!(
            j["rotation"]["message"], HOSTILE_MESSAGE,
            "JSON carries values as they are (JSON-escaped by the encoder), like certificate records"
        );
    }

    #[test]
    fn rotation_json_shape() {
        let v: Value = serde_json::from_str(&json(&rotation_batch(false))).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "resolution",
                "rotation",
                "severity",
                "status",
                "summary",
                "version"
            ],
            "no `certificate` key for rotation alerts"
        );
        assert_eq!(v["status"], "firing");
        assert_eq!(v["severity"], "critical");
        assert_eq!(v["resolution"], Value::Null);
        let r: Vec<&str> = v["rotation"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut r = r.clone();
        r.sort_unstable();
        assert_eq!(
            r,
            [
                "kind",
                "message",
                "object_id",
                "object_name",
                "outcome",
                "tenant"
            ]
        );
        assert_eq!(v["rotation"]["outcome"], "rolled_back");
        let c: Value = serde_json::from_str(&json(&sample_batch(false))).unwrap();
        assert!(
            c.get("rotation").is_none(),
            "no `rotation` key for certificate alerts"
        );
        let d: Value = serde_json::from_str(&json(&rotation_batch(true))).unwrap();
        assert_eq!(d["alerts"].as_array().unwrap().len(), 3);
        assert_eq!(d["alerts"][2]["severity"], "warning");
    }

    #[test]
    fn mixed_digest_lists_both() {
        let mut b = sample_batch(true);
        b.rotations = rotation_batch(true).rotations;
        let e = email(&b);
        assert_eq!(e.subject, "[certwatch] EXPIRED 6 alerts for prod");
        assert!(e.text.contains("rotation of tenant signing key is blocked"));
        let d: Value = serde_json::from_str(&json(&b)).unwrap();
        assert_eq!(d["alerts"].as_array().unwrap().len(), 6);
        assert!(d["alerts"][3]["rotation"].is_object());
        assert_eq!(describe_batch(&b), "digest of 6 alerts");
    }

    #[test]
    fn snapshot_rotation_email() {
        let e = email(&rotation_batch(false));
        let e = Email {
            text: redact(e.text),
            html: redact(e.html),
            ..e
        };
        insta::assert_snapshot!("rotation_email_single_subject", e.subject);
        insta::assert_snapshot!("rotation_email_single_text", e.text);
        insta::assert_snapshot!("rotation_email_single_html", e.html);
        let d = email(&rotation_batch(true));
        insta::assert_snapshot!("rotation_email_digest_subject", d.subject);
        insta::assert_snapshot!("rotation_email_digest_text", redact(d.text));
    }

    #[test]
    fn snapshot_rotation_webhooks() {
        let ordered = |b: &Batch| serde_json::to_string_pretty(&json_payload(b)).unwrap();
        insta::assert_snapshot!("rotation_json_single", ordered(&rotation_batch(false)));
        insta::assert_snapshot!("rotation_json_digest", ordered(&rotation_batch(true)));
        insta::assert_snapshot!(
            "rotation_slack_digest",
            pretty(&slack(&rotation_batch(true)))
        );
        insta::assert_snapshot!(
            "rotation_teams_single",
            pretty(&teams(&rotation_batch(false)))
        );
    }
}
