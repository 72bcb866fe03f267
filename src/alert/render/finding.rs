//! Rendering of finding alerts (docs/findings.md): the one-line summary (and so the email
//! subject), the email item, the `json` alert and the Slack / Teams card. The escaping rules are
//! the parent module's (`render`): every record value comes from Auth0, an IdP or a probe and is
//! made one safe line here, then HTML-, mrkdwn- or markdown-escaped where it is placed.

use super::chat::{Card, object_fact};
use super::json::{JSON_VERSION, JsonAlert};
use super::words::severity_word;
use super::{MAX_NAME, MAX_VALUE, PREFIX, opt, text_safe, time_opt};
use crate::alert::policy::{AlertStatus, FindingAlert};
use crate::timefmt::rfc3339;

/// The text and HTML templates of one finding in an email.
pub(super) const ITEM_TEMPLATES: (&str, &str) = (
    include_str!("../templates/finding_item.txt"),
    include_str!("../templates/finding_item.html"),
);
/// The text and HTML email around finding items only.
pub(super) const EMAIL_TEMPLATES: (&str, &str) = (
    include_str!("../templates/finding_email.txt"),
    include_str!("../templates/finding_email.html"),
);
/// Longest finding message quoted in a summary (the body carries it up to `MAX_VALUE`).
const MAX_SUMMARY_MESSAGE: usize = 160;
/// Longest finding kind label in a summary (a ledger from a newer build may hold unknown ones).
const MAX_KIND: usize = 60;

/// The object a finding is about, e.g. `connection 'acme-idp'`, from its kind and name.
fn describe_object(object_kind: &str, object_name: &str) -> String {
    let name = text_safe(object_name, MAX_NAME);
    match object_kind {
        "tenant_signing_key" => format!("tenant '{name}'"),
        "custom_domain" => format!("custom domain '{name}'"),
        k if k.starts_with("connection_") => format!("connection '{name}'"),
        k if k.starts_with("client_") => format!("application '{name}'"),
        other => format!("{} '{name}'", text_safe(other, 40)),
    }
}

/// `CRITICAL prod: connection 'acme-idp' idp_certificate_withdrawn — <message>`, or
/// `RESOLVED prod: connection 'acme-idp' idp_certificate_withdrawn (no longer found)`. One line
/// without control characters; the message is cut to 160 characters.
pub fn finding_summary(a: &FindingAlert) -> String {
    let f = &a.finding;
    let head = format!(
        "{}: {} {}",
        text_safe(&f.tenant, MAX_NAME),
        describe_object(&a.object_kind, &f.object_name),
        text_safe(&f.kind, MAX_KIND)
    );
    let line = match a.status {
        AlertStatus::Firing => format!(
            "{} {head} — {}",
            severity_word(a.severity),
            text_safe(&f.message, MAX_SUMMARY_MESSAGE)
        ),
        AlertStatus::Resolved => format!("RESOLVED {head} (no longer found)"),
    };
    line + &super::words::owned_by(f.owner.as_deref())
}

/// The email subject of one finding alert: `[certwatch] ` + `finding_summary`.
pub fn finding_subject(a: &FindingAlert) -> String {
    format!("{PREFIX}{}", finding_summary(a))
}

/// What to do about a finding, by its kind.
fn advice(a: &FindingAlert) -> &'static str {
    if a.status == AlertStatus::Resolved {
        return "Nothing: the finding is no longer reported, and this closes the earlier alert.";
    }
    match a.finding.kind.as_str() {
        "no_next_signing_key" => {
            "Do not rotate the tenant signing key until a next key exists: relying parties could not have cached it. Auth0 normally keeps one ready; ask Auth0 support if it stays missing."
        }
        "next_key_expires_first" => {
            "Check the next signing key's certificate before the next rotation: after rotating, the tenant would sign with a key that expires sooner than today's."
        }
        "credential_limit_reached" => {
            "Delete a credential the application no longer uses, so that a rotation can add the new one next to the current one."
        }
        "idp_new_certificate" => {
            "Add the identity provider's new signing certificate to the connection (next to the current one) before the IdP switches to it, or let `certwatch rotate` apply it from the certificate store."
        }
        "idp_certificate_withdrawn" => {
            "The identity provider no longer publishes the certificate this connection trusts: update the connection's signing certificate from the IdP metadata now, or logins fail once the IdP signs with its new one."
        }
        "metadata_expiring" => {
            "Ask the identity provider to publish fresh metadata (its validUntil is near or past), or point the connection's metadata URL override at current metadata."
        }
        "idp_certificate_expiring" => {
            "Ask the identity provider when it rolls its signing certificate, and add the new one to the connection as soon as it is published."
        }
        "metadata_unavailable" => {
            "Check the metadata or JWKS URL (or the connection's override) and that certwatch can reach it; until it can be read, certwatch cannot tell whether the IdP changed its certificates."
        }
        "jwks_mismatch" => {
            "The tenant's public JWKS differs from its signing keys: check for a proxy or cache serving stale keys in front of the tenant, and ask Auth0 support if it persists."
        }
        "custom_domain_certificate_failed" => {
            "Check the custom domain in the Dashboard (Branding > Custom Domains): its DNS verification record must still be in place for Auth0 to issue or renew the certificate."
        }
        "custom_domain_certificate_expiring" => {
            "Check the custom domain's certificate renewal: for an Auth0-managed certificate keep the DNS verification record in place; for a self-managed one, install the new certificate on the proxy."
        }
        "credential_without_expiry" | "unused_credential" => {
            "Review the application's credentials: replace credentials that never expire and delete unused ones."
        }
        _ => "Read the message, and the finding's row on the status page.",
    }
}

/// The fields of one finding alert as safe single-line text, in template order.
pub(super) fn fields(a: &FindingAlert) -> Vec<(&'static str, String)> {
    let f = &a.finding;
    vec![
        ("headline", finding_summary(a)),
        ("tenant", text_safe(&f.tenant, MAX_VALUE)),
        ("finding", text_safe(&f.kind, MAX_VALUE)),
        ("severity", text_safe(&f.severity, MAX_VALUE)),
        ("object_kind", text_safe(&a.object_kind, MAX_VALUE)),
        ("object_name", text_safe(&f.object_name, MAX_VALUE)),
        ("object_id", text_safe(&f.object_id, MAX_VALUE)),
        ("owner", opt(&f.owner)),
        ("message", text_safe(&f.message, MAX_VALUE)),
        ("sha1", opt(&f.sha1)),
        ("not_after", time_opt(f.not_after)),
        ("first_notified", rfc3339(a.first_notified)),
        ("advice", advice(a).to_string()),
    ]
}

/// The Slack / Teams card of one finding alert.
pub(super) fn card(a: &FindingAlert) -> Card {
    let f = &a.finding;
    Card {
        status: a.status,
        severity: a.severity,
        summary: finding_summary(a),
        facts: vec![
            ("Tenant", text_safe(&f.tenant, 200)),
            ("Finding", text_safe(&f.kind, 200)),
            ("Object", object_fact(&f.object_name, &f.object_id)),
            ("Object kind", text_safe(&a.object_kind, 200)),
            ("SHA-1", opt(&f.sha1)),
            ("Not after", time_opt(f.not_after)),
            ("First reported", rfc3339(a.first_notified)),
            ("Message", text_safe(&f.message, 900)),
        ],
        advice: Some(advice(a).to_string()),
    }
}

/// The `json` payload of one finding alert: `finding` is the docs/findings.md record, `resolution` is
/// `"resolved"` for a resolved finding and null otherwise.
pub fn json_finding_alert(a: &FindingAlert) -> JsonAlert<'_> {
    JsonAlert {
        version: JSON_VERSION,
        status: a.status.as_str(),
        severity: a.severity.as_str(),
        summary: finding_summary(a),
        resolution: (a.status == AlertStatus::Resolved).then_some("resolved"),
        certificate: None,
        rotation: None,
        finding: Some(&a.finding),
    }
}

#[cfg(test)]
mod tests;
