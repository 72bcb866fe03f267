//! Pure request bodies and checks of the rotation flows (docs/rotation.md): what is sent to
//! Auth0 and how a response is judged. No I/O; `rotate::Rotator` sends these and acts on the
//! verdicts.
//!
//! SAML connection certificate (Auth0's own safe flow, see `docs/rotation.md`): the PATCH
//! body is the connection's whole `options` object kept verbatim — unknown keys included —
//! minus the members Auth0 computes (`cert`, `expires`, `subject`, `thumbprints`), with
//! `signingCert` set to base64 of the PEM with CRLF line ends, plus `display_name` when the
//! connection has one (PATCH resets it otherwise). The response must show exactly the new
//! SHA-1 in `thumbprints` and every other sent option unchanged. The rollback body is the same
//! construction from the original options with the original certificate (for `pingfederate`,
//! whose `signingCert` is write-only, rebuilt from the original `cert`).
//!
//! SAML connection from its IdP's metadata: a connection with `options.metadataUrl` gets the
//! same construction with `metadataUrl` kept and `signingCert` left out (Auth0 derives it from
//! the document it downloads again; sending the old one could pin the old certificate); the
//! answer must trust a certificate the IdP publishes, and every sent option other than the ones
//! Auth0 derives from the metadata must survive. A connection watched through certwatch's own
//! `metadata_urls` gets the `signingCert` construction above with the published certificate.
//!
//! Client credentials: the new credential is referenced next to the old one wherever the old one
//! is referenced (`client_authentication_methods.*` and `signed_request_object`); retiring removes
//! the old reference only where the new one is present.

use super::store::Candidate;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Options Auth0 computes from `signingCert`; never sent.
pub const COMPUTED: [&str; 4] = ["cert", "expires", "subject", "thumbprints"];

/// Options Auth0 (re)derives from the document at `metadataUrl` on a PATCH (the recorded
/// metadataUrl PATCH in docs/auth0-api.md): not compared when verifying a metadata refresh.
pub const FROM_METADATA: [&str; 4] = [
    "signingCert",
    "signInEndpoint",
    "signOutEndpoint",
    "bindingMethod",
];

/// What dry-run logs show instead of a secret.
pub const MASK: &str = "********";

/// Keys whose values are secrets wherever they appear in a body.
const SECRET_KEYS: [&str; 7] = [
    "key",
    "private_key",
    "privatekey",
    "client_secret",
    "clientsecret",
    "password",
    "secret",
];

/// A connection body that cannot be worked with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No `options` object: the token lacks `read:connections_options`.
    #[error("the connection has no options object (does the token have read:connections_options?)")]
    MissingOptions,
    /// The original certificate cannot be rebuilt for a rollback.
    #[error("the original certificate is unknown ({0})")]
    NoOriginalCert(String),
}

/// `signingCert` for a certificate: base64 of its PEM with `\r\n` line ends.
pub fn signing_cert_value(der: &[u8]) -> String {
    let mut pem = crate::x509::der_to_pem(der, "\r\n");
    pem.push_str("\r\n");
    base64::engine::general_purpose::STANDARD.encode(pem)
}

fn options(connection: &Value) -> Result<&Map<String, Value>, Error> {
    connection
        .get("options")
        .and_then(Value::as_object)
        .ok_or(Error::MissingOptions)
}

fn body_from(
    connection: &Value,
    mut options: Map<String, Value>,
    signing_cert: Option<String>,
) -> Value {
    for k in COMPUTED {
        options.remove(k);
    }
    if let Some(sc) = signing_cert {
        options.insert("signingCert".into(), Value::String(sc));
    }
    let mut body = Map::new();
    body.insert("options".into(), Value::Object(options));
    if let Some(d) = connection.get("display_name").filter(|d| d.is_string()) {
        body.insert("display_name".into(), d.clone());
    }
    Value::Object(body)
}

/// The PATCH body that installs `signing_cert` (see [`signing_cert_value`]) on `connection`
/// (the verbatim `GET /api/v2/connections/{id}` response).
pub fn saml_patch_body(connection: &Value, signing_cert: &str) -> Result<Value, Error> {
    let opts = options(connection)?.clone();
    Ok(body_from(connection, opts, Some(signing_cert.to_string())))
}

/// The connection's `options.metadataUrl`, when it has a non-empty one.
pub fn metadata_url(connection: &Value) -> Option<&str> {
    connection
        .get("options")
        .and_then(|o| o.get("metadataUrl"))
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty())
}

/// The PATCH body that makes Auth0 download `options.metadataUrl` again: the whole `options`
/// verbatim (`metadataUrl` kept) minus the computed members and `signingCert`, plus
/// `display_name` when the connection has one.
pub fn metadata_refresh_body(connection: &Value) -> Result<Value, Error> {
    let mut opts = options(connection)?.clone();
    opts.remove("signingCert");
    Ok(body_from(connection, opts, None))
}

/// The PATCH body of a rotation from metadata and what its answer must trust: with
/// `metadataUrl`, the refresh body and any certificate the IdP publishes; without, `signingCert`
/// set to the chosen published certificate, exactly that one.
pub fn metadata_body(
    connection: &Value,
    change: &super::plan::TrustChange,
) -> Result<(Value, Expect), Error> {
    match metadata_url(connection) {
        Some(_) => {
            let published = change.published.iter().map(|c| c.sha1.clone()).collect();
            Ok((
                metadata_refresh_body(connection)?,
                Expect::Published(published),
            ))
        }
        None => Ok((
            saml_patch_body(connection, &signing_cert_value(&change.der))?,
            Expect::Exactly(change.after.sha1.clone()),
        )),
    }
}

/// What a connection's answer must trust after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this SHA-1 (a `signingCert` that certwatch chose).
    Exactly(String),
    /// At least one of these SHA-1s (what the IdP publishes; Auth0 picks from the metadata).
    Published(Vec<String>),
}

impl Expect {
    /// The options not compared: what Auth0 derives from what was sent.
    fn derived(&self) -> &'static [&'static str] {
        match self {
            Expect::Exactly(_) => &["signingCert"],
            Expect::Published(_) => &FROM_METADATA,
        }
    }
}

/// Check a PATCH answer (or a re-read connection) against the body sent and what it must trust.
pub fn verify_connection(sent: &Value, response: &Value, expect: &Expect) -> Result<(), String> {
    match expect {
        Expect::Exactly(sha1) => verify_saml(sent, response, sha1),
        Expect::Published(published) => {
            let mut problems = Vec::new();
            let got = thumbprints(response);
            if !got.iter().any(|t| published.contains(t)) {
                problems.push(format!(
                    "thumbprints are {got:?}, none of them a certificate the IdP publishes ({published:?})"
                ));
            }
            survived(sent, response, expect.derived(), &mut problems);
            verdict(problems)
        }
    }
}

/// The PATCH body that puts `connection` (as it was before the change) back.
pub fn saml_rollback_body(connection: &Value) -> Result<Value, Error> {
    let opts = options(connection)?;
    let original = match opts.get("signingCert").and_then(Value::as_str) {
        Some(sc) => Some(sc.to_string()),
        // pingfederate: signingCert is write-only; the computed `cert` is the same certificate.
        None => match opts.get("cert").and_then(Value::as_str) {
            Some(cert) => Some(signing_cert_value(
                &crate::x509::leaf_der(cert).map_err(|e| Error::NoOriginalCert(e.to_string()))?,
            )),
            None => None,
        },
    };
    Ok(body_from(connection, opts.clone(), original))
}

/// The connection's `options.thumbprints`, normalised (lowercase hex), sorted.
pub fn thumbprints(connection: &Value) -> Vec<String> {
    let mut t: Vec<String> = connection
        .get("options")
        .and_then(|o| o.get("thumbprints"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(crate::x509::normalize_thumbprint)
        .collect();
    t.sort();
    t.dedup();
    t
}

/// Check a PATCH response (or a re-read connection) against the body sent: `thumbprints` is
/// exactly `[expected_sha1]`, every sent option other than `signingCert` survived unchanged, and
/// `display_name` too. The error lists what differs.
pub fn verify_saml(sent: &Value, response: &Value, expected_sha1: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    let got = thumbprints(response);
    if got != [crate::x509::normalize_thumbprint(expected_sha1)] {
        problems.push(format!(
            "thumbprints are {got:?}, expected [{expected_sha1:?}]"
        ));
    }
    survived(sent, response, &["signingCert"], &mut problems);
    verdict(problems)
}

/// Every option sent (but `skip` and the computed ones) came back unchanged, and so did
/// `display_name`; what differs is added to `problems`.
fn survived(sent: &Value, response: &Value, skip: &[&str], problems: &mut Vec<String>) {
    let sent_opts = sent.get("options").and_then(Value::as_object);
    match (
        sent_opts,
        response.get("options").and_then(Value::as_object),
    ) {
        (Some(sent_opts), Some(got_opts)) => {
            for (k, v) in sent_opts {
                if skip.contains(&k.as_str()) || COMPUTED.contains(&k.as_str()) {
                    continue;
                }
                match got_opts.get(k) {
                    None => problems.push(format!("option {k:?} is gone")),
                    Some(g) if g != v => problems.push(format!("option {k:?} changed")),
                    Some(_) => {}
                }
            }
        }
        (Some(_), None) => problems.push("the response has no options".into()),
        (None, _) => {}
    }
    if let Some(d) = sent.get("display_name")
        && response.get("display_name") != Some(d)
    {
        problems.push("display_name changed".into());
    }
}

fn verdict(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// A URL for logs: scheme, host, port and path; user info and query string (which may carry a
/// token) masked.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => {
            let query = if u.query().is_some() { "?" } else { "" };
            let masked = if query.is_empty() { "" } else { MASK };
            format!("{}{query}{masked}", crate::remote::fetch::redact(&u))
        }
        Err(_) => MASK.to_string(),
    }
}

/// A copy of `body` with secrets masked (any `key`, `private_key`, `client_secret`, `password`,
/// `secret` member, any string holding a PEM private key, and the query string of a
/// `metadataUrl`), for dry-run logs.
pub fn mask_secrets(body: &Value) -> Value {
    match body {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let secret =
                        SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) && !v.is_null();
                    let masked = match (k.as_str(), v) {
                        _ if secret => json!(MASK),
                        ("metadataUrl", Value::String(u)) => json!(redact_url(u)),
                        _ => mask_secrets(v),
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mask_secrets).collect()),
        Value::String(s) if s.contains("PRIVATE KEY") => json!(MASK),
        other => other.clone(),
    }
}

/// The `name` certwatch gives a credential it creates (how an interrupted run finds it again).
pub fn credential_name(sha1: &str) -> String {
    format!("certwatch-{}", &sha1[..sha1.len().min(16)])
}

/// The `POST /api/v2/clients/{id}/credentials` body for `candidate`, of the old credential's type.
/// `parse_expiry_from_cert` applies to `public_key` only (Auth0 reads x509_cert expiry itself).
pub fn credential_body(credential_type: &str, candidate: &Candidate) -> Value {
    let mut body = json!({
        "credential_type": credential_type,
        "name": credential_name(candidate.sha1()),
        "pem": candidate.pem(),
    });
    if credential_type == "public_key" {
        body["parse_expiry_from_cert"] = json!(true);
    }
    body
}

/// Where a client references credential `id`: `client_authentication_methods.<method>` and/or
/// `signed_request_object`.
pub fn places(client: &Value, id: &str) -> BTreeSet<String> {
    let refs = |v: &Value| {
        v.get("credentials")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .any(|c| c.get("id").and_then(Value::as_str) == Some(id))
            })
    };
    let mut out = BTreeSet::new();
    if let Some(methods) = client
        .get("client_authentication_methods")
        .and_then(Value::as_object)
    {
        for (name, m) in methods {
            if refs(m) {
                out.insert(format!("client_authentication_methods.{name}"));
            }
        }
    }
    if client.get("signed_request_object").is_some_and(refs) {
        out.insert("signed_request_object".into());
    }
    out
}

/// Rewrite the credential lists of every place `old` is referenced; the PATCH body holds only the
/// members that changed (each replaced whole, as Auth0 does).
fn rewrite(client: &Value, old: &str, edit: impl Fn(&mut Vec<Value>)) -> Value {
    let mut body = Map::new();
    let has_old = |v: &Value| {
        v.get("credentials")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .any(|c| c.get("id").and_then(Value::as_str) == Some(old))
            })
    };
    let edit_one = |v: &Value| {
        let mut v = v.clone();
        if let Some(Value::Array(list)) = v.get_mut("credentials") {
            edit(list);
        }
        v
    };
    if let Some(methods) = client
        .get("client_authentication_methods")
        .and_then(Value::as_object)
        && methods.values().any(has_old)
    {
        let rewritten: Map<String, Value> = methods
            .iter()
            .map(|(k, m)| (k.clone(), if has_old(m) { edit_one(m) } else { m.clone() }))
            .collect();
        body.insert(
            "client_authentication_methods".into(),
            Value::Object(rewritten),
        );
    }
    if let Some(sro) = client.get("signed_request_object").filter(|s| has_old(s)) {
        body.insert("signed_request_object".into(), edit_one(sro));
    }
    Value::Object(body)
}

/// PATCH body adding `new` next to `old` everywhere `old` is referenced.
pub fn add_reference(client: &Value, old: &str, new: &str) -> Value {
    rewrite(client, old, |list| {
        if !list
            .iter()
            .any(|c| c.get("id").and_then(Value::as_str) == Some(new))
        {
            list.push(json!({ "id": new }));
        }
    })
}

/// PATCH body removing `old` everywhere it is referenced (callers check `new` is there too).
pub fn remove_reference(client: &Value, old: &str) -> Value {
    rewrite(client, old, |list| {
        list.retain(|c| c.get("id").and_then(Value::as_str) != Some(old));
    })
}

/// PATCH body restoring the members `body` changed to their values in `original`.
pub fn restore_references(original: &Value, body: &Value) -> Value {
    let mut out = Map::new();
    for k in body.as_object().into_iter().flat_map(|m| m.keys()) {
        out.insert(k.clone(), original.get(k).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

#[cfg(test)]
mod metadata_tests;
#[cfg(test)]
mod tests;
