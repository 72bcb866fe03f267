//! Rendering of notifications (pure): email subject / text / HTML from templates compiled in with
//! `include_str!`, and the webhook payloads (`json`, `slack`, `teams`). Every value that comes from
//! Auth0 is escaped for its destination: HTML-escaped in HTML, control characters (CR/LF included)
//! removed in text and subjects, markup-escaped in Slack and Teams.

use super::policy::{Alert, AlertStatus, Batch, Certificate};
use crate::config::Severity;
use crate::inventory::Kind;
use crate::report::rfc3339;
use serde::Serialize;
use serde_json::{Value, json};

const EMAIL_TXT: &str = include_str!("templates/email.txt");
const ITEM_TXT: &str = include_str!("templates/item.txt");
const EMAIL_HTML: &str = include_str!("templates/email.html");
const ITEM_HTML: &str = include_str!("templates/item.html");

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

/// One line of text that is safe anywhere: control characters (CR, LF, tab, escapes, bidi
/// overrides) become spaces and the value is cut to `max` characters.
pub fn text_safe(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if clean.chars().count() > max {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        clean
    }
}

/// HTML-escape (text and attribute contexts).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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
    let name = text_safe(&c.object_name, MAX_NAME);
    match c.kind() {
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
        None => format!("{} '{name}'", text_safe(&c.kind, 40)),
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

/// The title of a batch: the summary of a single alert, or a count for a digest.
fn title(batch: &Batch) -> String {
    match batch.alerts.as_slice() {
        [one] if !batch.digest => summary(one),
        alerts => {
            let worst = alerts
                .iter()
                .filter(|a| a.status == AlertStatus::Firing)
                .map(|a| a.severity)
                .max()
                .map(severity_word)
                .unwrap_or("RESOLVED");
            let mut tenants: Vec<&str> = alerts
                .iter()
                .map(|a| a.certificate.tenant.as_str())
                .collect();
            tenants.sort_unstable();
            tenants.dedup();
            let n = alerts.len();
            let what = if n == 1 {
                "certificate alert"
            } else {
                "certificate alerts"
            };
            format!(
                "{worst} {n} {what} for {}",
                text_safe(&tenants.join(", "), 200)
            )
        }
    }
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

fn colour(a: &Alert) -> &'static str {
    match (a.status, a.severity) {
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

fn replacement_text(a: &Alert) -> Option<(String, String)> {
    a.replacement
        .as_ref()
        .map(|r| (opt(&r.sha1), time_opt(r.not_after)))
}

/// The email for a batch (one alert, or a digest).
pub fn email(batch: &Batch) -> Email {
    let title = title(batch);
    let at = batch
        .alerts
        .first()
        .map(|a| rfc3339(a.at))
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
        h.push(("colour", colour(a)));
        html_items.push_str(&fill(ITEM_HTML, &h));
    }

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
        EMAIL_TXT,
        &[
            ("heading", &text_heading),
            ("items", &text_items),
            ("at", &at),
            ("version", version),
        ],
    );
    let html = fill(
        EMAIL_HTML,
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

/// The `json` payload of one alert (field order as in SPEC §7).
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
    /// `renewed` / `removed` for resolved alerts.
    pub resolution: Option<&'static str>,
    /// The SPEC §5 record.
    pub certificate: &'a Certificate,
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
        certificate: &a.certificate,
    }
}

/// The `json` document for a batch.
pub fn json_payload(batch: &Batch) -> JsonPayload<'_> {
    match batch.alerts.as_slice() {
        [one] if !batch.digest => JsonPayload::Single(json_alert(one)),
        alerts => JsonPayload::Digest {
            version: JSON_VERSION,
            alerts: alerts.iter().map(json_alert).collect(),
        },
    }
}

/// The `json` webhook body: one alert, or `{"version": 1, "alerts": [...]}` for a digest.
pub fn json(batch: &Batch) -> String {
    serde_json::to_string(&json_payload(batch)).unwrap_or_default()
}

fn emoji(a: &Alert) -> &'static str {
    match (a.status, a.severity) {
        (AlertStatus::Resolved, _) => ":white_check_mark:",
        (_, Severity::Warning) => ":warning:",
        (_, Severity::Critical) | (_, Severity::Expired) => ":rotating_light:",
    }
}

fn plain(text: String) -> Value {
    json!({"type": "plain_text", "text": text, "emoji": false})
}

/// The Slack incoming-webhook body: `text` (notification fallback) plus blocks; Auth0 values go
/// into `plain_text` fields or are mrkdwn-escaped.
pub fn slack(batch: &Batch) -> String {
    let title = title(batch);
    let mut blocks = vec![json!({"type": "header", "text": plain(text_safe(&title, 150))})];
    for a in batch.alerts.iter().take(SLACK_MAX_ALERTS) {
        let c = &a.certificate;
        let mut fields = vec![
            plain(format!("Tenant: {}", text_safe(&c.tenant, 200))),
            plain(format!("Kind: {}", text_safe(&c.kind, 200))),
            plain(format!("Not after: {}", time_opt(c.not_after))),
            plain(format!("SHA-1: {}", opt(&c.sha1))),
            plain(format!("Object id: {}", text_safe(&c.object_id, 200))),
            plain(format!(
                "Subject: {}",
                text_safe(c.subject.as_deref().unwrap_or("-"), 500)
            )),
        ];
        if let Some((sha1, na)) = replacement_text(a) {
            fields.push(plain(format!("Replaced by: {sha1}, valid until {na}")));
        }
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("{} *{}*", emoji(a), slack_escape(&summary(a)))},
            "fields": fields,
        }));
    }
    if batch.alerts.len() > SLACK_MAX_ALERTS {
        blocks.push(json!({
            "type": "context",
            "elements": [plain(format!("… and {} more", batch.alerts.len() - SLACK_MAX_ALERTS))],
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
    for a in &batch.alerts {
        let c = &a.certificate;
        let colour = match (a.status, a.severity) {
            (AlertStatus::Resolved, _) => "Good",
            (_, Severity::Warning) => "Warning",
            _ => "Attention",
        };
        let mut facts = vec![
            ("Tenant", text_safe(&c.tenant, 200)),
            ("Kind", text_safe(&c.kind, 200)),
            (
                "Object",
                format!(
                    "{} ({})",
                    text_safe(&c.object_name, 200),
                    text_safe(&c.object_id, 200)
                ),
            ),
            ("Not after", time_opt(c.not_after)),
            ("SHA-1", opt(&c.sha1)),
            ("Subject", opt(&c.subject)),
        ];
        if let Some((sha1, na)) = replacement_text(a) {
            facts.push(("Replaced by", format!("{sha1}, valid until {na}")));
        }
        body.push(json!({
            "type": "TextBlock", "weight": "Bolder", "wrap": true, "color": colour, "separator": batch.digest,
            "size": if batch.digest { "Medium" } else { "Large" },
            "text": md_escape(&summary(a)),
        }));
        body.push(json!({
            "type": "FactSet",
            "facts": facts.into_iter().map(|(t, v)| json!({"title": t, "value": md_escape(&v)})).collect::<Vec<_>>(),
        }));
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
        Batch {
            digest: false,
            alerts: vec![a],
        }
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
        Batch { digest, alerts }
    }

    /// The crate version is volatile: redacted in snapshots.
    fn redact(s: String) -> String {
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

    fn pretty(s: &str) -> String {
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
}
