//! The words of a notification (pure): what a certificate or a rotated object is called, when it
//! expires, the one-line summary of each alert (and so the email subject, the chat headline and
//! the `summary` of the `json` payload), the title of a batch and what to do about it. Finding
//! alerts have theirs in `finding`.

use super::{Item, MAX_NAME, PREFIX, items, only, opt, text_safe, time_opt};
use crate::alert::policy::{Alert, AlertStatus, Batch, Resolution, RotationAlert, RotationOutcome};
use crate::config::Severity;
use crate::inventory::Kind;
use crate::report::CertificateReport;

/// Where the rotation audit log is, for the advice of rotation alerts.
const AUDIT_LOG_HINT: &str =
    "rotation-audit.jsonl in the state directory, unless [rotation] audit_log names another file";

/// The human words for what a certificate is, e.g. `SAML connection 'acme-idp' signing certificate`.
pub fn describe(c: &CertificateReport) -> String {
    describe_object(Kind::parse(&c.kind), &c.kind, &c.object_name)
}

/// `describe` from the parts: the kind (when known), its label and the object name.
pub(super) fn describe_object(kind: Option<Kind>, label: &str, object_name: &str) -> String {
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
        Some(Kind::ClientSamlSpCert) => {
            format!("SAML2 Web App '{name}' request-signing certificate")
        }
        Some(Kind::TenantSamlCert) => "tenant SAML SP certificate".into(),
        Some(Kind::CustomSigningKey) => format!("custom signing key '{name}'"),
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
pub fn when(c: &CertificateReport) -> String {
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

/// The severity as a summary starts with it.
pub(super) fn severity_word(s: Severity) -> &'static str {
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
    let line = match a.status {
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
    };
    line + &owned_by(c.owner.as_deref())
}

/// ` [owner team-a]` after a summary whose object names its owner (docs/alerts.md#owners), so
/// the subject line already says whose it is; nothing otherwise.
pub fn owned_by(owner: Option<&str>) -> String {
    owner.map_or_else(String::new, |o| {
        format!(" [owner {}]", text_safe(o, MAX_NAME))
    })
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

/// What a batch is about, for logs: the summary of a single alert, or `digest of N alerts`.
pub fn describe_batch(batch: &Batch) -> String {
    match only(batch) {
        Some(one) => one.summary(),
        None => format!("digest of {} alerts", batch.len()),
    }
}

/// The title of a batch: the summary of a single alert, or a count for a digest.
pub(super) fn title(batch: &Batch) -> String {
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

/// What to do about a certificate alert, by its kind.
pub(super) fn advice(a: &Alert) -> &'static str {
    if a.status == AlertStatus::Resolved {
        return match a.resolution {
            Some(Resolution::Removed) => {
                "Nothing, unless the removal was unexpected: the certificate is no longer in the tenant."
            }
            _ => "Nothing: this closes the earlier alert.",
        };
    }
    match Kind::parse(&a.certificate.kind) {
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
        Some(Kind::ClientSamlSpCert) => {
            "Get the service provider's new request-signing certificate and update the application's SAML2 Web App add-on (addons.samlp.signingCert)."
        }
        Some(Kind::TenantSamlCert) => {
            "Tell the identity providers of connections without their own signing key or decryption key to trust the tenant's next SAML certificate (https://{domain}/pem?cert=connection) before this one expires, or give those connections their own keys."
        }
        Some(Kind::CustomSigningKey) => {
            "Upload a new custom signing key (PUT /api/v2/keys/custom-signing) with a certificate that outlives this one, keeping the old key published until relying parties have the new one."
        }
        None => "Renew the certificate before it expires.",
    }
}

/// What to do about a rotation problem, by its outcome.
pub(super) fn rotation_advice(o: RotationOutcome) -> String {
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

/// The replacement of a `renewed` alert, as (SHA-1, valid until).
pub(super) fn replacement_text(a: &Alert) -> Option<(String, String)> {
    a.replacement
        .as_ref()
        .map(|r| (opt(&r.sha1), time_opt(r.not_after)))
}
