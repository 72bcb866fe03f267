//! What Auth0 does with a samlp `PATCH /api/v2/connections/{id}` whose `options` carry
//! `metadataUrl` (docs/simulator.md): it downloads the document again and derives the
//! certificate from it — `signingCert` stored as base64 of the PEM text (`\n` line ends, a
//! trailing newline, as in the recorded metadataUrl PATCH), then `cert`, `expires`, `subject`,
//! `thumbprints` computed from it as for any `signingCert`.
//!
//! The simulator downloads only from itself: a `metadataUrl` naming one of its own IdP metadata
//! documents (`{base}idp/{connection id}/samlp/metadata.xml`, `base` being its address or the
//! `SIM_BASE_URL` placeholder) is rendered as `GET` would serve it and its signing certificates
//! are read from the XML. Any other URL is not fetched (the options are kept as sent). An IdP
//! that answers with an error status makes the PATCH fail with 400; the `KeepCertificate`
//! fault skips the download, so the connection keeps the certificate it had. Pure.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::ApiError;
use crate::sim::certs::pem_encode;
use crate::sim::options::CertFacts;
use crate::sim::public::idp_document;
use crate::sim::routes::{Endpoint, IdpDocument, match_route};
use crate::sim::tenant::{SIM_BASE_URL, SimTenant};

/// How the metadata of a PATCH is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh<'a> {
    /// Download from the simulator at this base URL (`http://127.0.0.1:PORT/`).
    From(&'a str),
    /// Do not download (the `KeepCertificate` fault): keep the certificate the connection had.
    Keep,
}

/// Apply what Auth0 derives from `options.metadataUrl` to the `options` of a samlp PATCH
/// (`previous` = the options being replaced), before the computed members are filled.
pub fn apply(
    tenant: &SimTenant,
    strategy: &str,
    options: &mut Map<String, Value>,
    previous: &Map<String, Value>,
    refresh: Refresh<'_>,
) -> Result<(), ApiError> {
    if strategy != "samlp" {
        return Ok(());
    }
    let Some(url) = options.get("metadataUrl").and_then(Value::as_str) else {
        return Ok(());
    };
    let base = match refresh {
        Refresh::Keep => {
            keep_certificate(options, previous);
            return Ok(());
        }
        Refresh::From(base) => base,
    };
    let Some(xml) = download(tenant, url, base)? else {
        return Ok(());
    };
    if let Some(der) = choose(&signing_certs(&xml), tenant.now) {
        let pem = pem_encode("CERTIFICATE", &der, "\n", true);
        options.insert("signingCert".into(), Value::String(STANDARD.encode(pem)));
    }
    Ok(())
}

/// The certificate stays what it was: the `signingCert` sent, else the previous one (or, for
/// a connection that only has `cert`, that).
fn keep_certificate(options: &mut Map<String, Value>, previous: &Map<String, Value>) {
    if options.contains_key("signingCert") {
        return;
    }
    for key in ["signingCert", "cert"] {
        if let Some(v) = previous.get(key) {
            options.insert(key.into(), v.clone());
            return;
        }
    }
}

/// The document at `url` when it is one of the simulator's own IdP metadata documents;
/// `None` for any other URL (not fetched).
fn download(tenant: &SimTenant, url: &str, base: &str) -> Result<Option<String>, ApiError> {
    let Some(path) = url
        .strip_prefix(base)
        .or_else(|| url.strip_prefix(SIM_BASE_URL))
    else {
        return Ok(None);
    };
    let path = format!("/{}", path.split(['?', '#']).next().unwrap_or_default());
    let Some(Endpoint::Idp(id, IdpDocument::SamlMetadata)) =
        match_route("GET", &path).and_then(|m| m.endpoint)
    else {
        return Ok(None);
    };
    let document = tenant
        .get_connection(&id)
        .map(|c| idp_document(c, IdpDocument::SamlMetadata, base));
    match document {
        Some(d) if d.status == 200 => Ok(Some(String::from_utf8_lossy(&d.body).into_owned())),
        Some(d) => Err(unreachable_metadata(d.status)),
        None => Err(unreachable_metadata(404)),
    }
}

fn unreachable_metadata(status: u16) -> ApiError {
    ApiError::invalid_body(&format!(
        "Unable to download the metadata at options.metadataUrl (HTTP {status})"
    ))
}

/// DER of the signing certificates of SAML metadata (`KeyDescriptor` with `use="signing"` or
/// no `use`), in document order; a document that does not parse has none.
fn signing_certs(xml: &str) -> Vec<Vec<u8>> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("KeyDescriptor"))
        .filter(|n| n.attribute("use").is_none_or(|u| u == "signing"))
        .flat_map(|n| {
            n.descendants()
                .filter(|c| c.has_tag_name("X509Certificate"))
        })
        .filter_map(|c| {
            let text: String = c.text()?.split_whitespace().collect();
            STANDARD.decode(text).ok()
        })
        .collect()
}

/// The certificate Auth0 is taken to trust among several (Auth0 does not document its choice;
/// the simulator takes the one valid at the tenant's time with the latest notAfter, else the
/// first).
fn choose(certs: &[Vec<u8>], now: Option<OffsetDateTime>) -> Option<Vec<u8>> {
    let valid = certs
        .iter()
        .filter_map(|der| CertFacts::from_der(der).map(|f| (der, f)))
        .filter(|(_, f)| now.is_none_or(|n| f.not_before <= n && n < f.not_after))
        .max_by_key(|(_, f)| f.not_after)
        .map(|(der, _)| der.clone());
    valid.or_else(|| certs.first().cloned())
}
