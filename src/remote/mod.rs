//! Facts from outside the Management API listings (SPEC §11): the tenant's public JWKS, custom
//! domains, SAML/ADFS IdP metadata, upstream OIDC JWKS and TLS probes — the pure parsers, the
//! fetch and probe seams, and the per-tenant facts a poll stores for `findings` to judge.

pub mod fetch;
pub mod jwks;
pub mod probe;
pub mod saml;

use crate::x509::CertInfo;
use serde::Serialize;

/// One certificate a remote party publishes (a metadata `KeyDescriptor`, a JWKS `x5c[0]`, a
/// certificate of a served TLS chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedCert {
    /// Lowercase hex SHA-1 of the DER (empty when the value is not even base64).
    pub sha1: String,
    /// The decoded certificate; `None` when it does not decode (then `error` says why).
    #[serde(skip)]
    pub cert: Option<CertInfo>,
    /// Why it does not decode.
    pub error: Option<String>,
}

impl PublishedCert {
    /// Decode one base64 DER value (metadata `X509Certificate`, JWKS `x5c` entry); whitespace
    /// inside the value is ignored. Never fails: a bad value is a `PublishedCert` with `error`.
    pub fn from_base64_der(value: &str) -> PublishedCert {
        use base64::Engine as _;
        let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
            Ok(der) => PublishedCert::from_der(&der),
            Err(e) => PublishedCert {
                sha1: String::new(),
                cert: None,
                error: Some(format!("not base64: {e}")),
            },
        }
    }

    /// Decode one DER certificate.
    pub fn from_der(der: &[u8]) -> PublishedCert {
        match crate::x509::decode_der(der) {
            Ok(info) => PublishedCert {
                sha1: info.sha1.clone(),
                cert: Some(info),
                error: None,
            },
            Err(e) => PublishedCert {
                sha1: crate::x509::sha1_hex(der),
                cert: None,
                error: Some(e.to_string()),
            },
        }
    }
}
