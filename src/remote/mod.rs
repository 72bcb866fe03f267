//! Facts from outside the Management API listings (docs/findings.md): the tenant's public JWKS,
//! custom domains, SAML/ADFS IdP metadata, upstream OIDC JWKS and TLS probes — the pure parsers,
//! the fetch and probe seams, and the per-tenant facts a poll stores for `findings` to judge.
//! Documents only: how facts meet certificate records (carried over, enriching thumbprints,
//! trust) is the inventory's business (`inventory::remote`).

pub mod collect;
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
    /// The DER as published (empty when the value is not even base64); what a rotation from
    /// metadata installs (docs/rotation.md).
    #[serde(skip)]
    pub der: Vec<u8>,
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
                der: Vec::new(),
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
                der: der.to_vec(),
            },
            Err(e) => PublishedCert {
                sha1: crate::x509::sha1_hex(der),
                cert: None,
                error: Some(e.to_string()),
                der: der.to_vec(),
            },
        }
    }
}

/// Append `cert` unless a certificate with the same SHA-1 is already in `certs` (values that are
/// not even base64 have no SHA-1 and are all kept): how every published list is deduplicated.
pub fn push_unique(certs: &mut Vec<PublishedCert>, cert: PublishedCert) {
    if cert.sha1.is_empty() || !certs.iter().any(|c| c.sha1 == cert.sha1) {
        certs.push(cert);
    }
}

/// What kind of document an IdP publishes its certificates in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// SAML 2.0 metadata (samlp `metadataUrl`, pingfederate via an override).
    SamlMetadata,
    /// ADFS `FederationMetadata.xml` (`adfs_server`).
    AdfsMetadata,
    /// An OIDC provider's JWKS (`jwks_uri`, or found through `discovery_url`).
    OidcJwks,
}

impl DocumentKind {
    /// The `source` label of `certwatch_idp_certificate_not_after_timestamp_seconds`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::SamlMetadata => "saml_metadata",
            DocumentKind::AdfsMetadata => "adfs_metadata",
            DocumentKind::OidcJwks => "oidc_jwks",
        }
    }

    /// Whether Auth0 pins the published certificates (SAML, ADFS: the connection trusts a
    /// fixed set, so drift matters) or fetches them itself (OIDC: only expiry matters).
    pub fn pinned(self) -> bool {
        !matches!(self, DocumentKind::OidcJwks)
    }
}

/// What an IdP published at the last successful fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// SAML metadata `validUntil` (earliest of the document's).
    pub valid_until: Option<time::OffsetDateTime>,
    /// Signing certificates, deduplicated by SHA-1.
    pub certs: Vec<PublishedCert>,
}

impl Published {
    /// Why this document gives a connection no signing certificate to trust, in words that
    /// follow "the IdP metadata at URL" (docs/findings.md: `metadata_unavailable`): it publishes
    /// none (SAML/ADFS; an OIDC JWKS may publish bare keys without `x5c`), or every one it
    /// publishes fails to parse. `None` when at least one certificate parses.
    pub fn unusable(&self, kind: DocumentKind) -> Option<String> {
        if self.certs.iter().any(|c| c.cert.is_some()) {
            return None;
        }
        let Some(first) = self.certs.first() else {
            return kind
                .pinned()
                .then(|| "publishes no signing certificate".to_owned());
        };
        let which = if first.sha1.is_empty() {
            "the first".to_owned()
        } else {
            format!("SHA-1 {}", first.sha1)
        };
        Some(format!(
            "publishes {} signing certificate(s), none of which can be parsed ({which}: {}); ask the IdP to fix the document",
            self.certs.len(),
            first.error.as_deref().unwrap_or("not a certificate"),
        ))
    }
}

/// One connection's IdP document: the last good content and this poll's failure, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpDocument {
    /// `con_…`.
    pub connection_id: String,
    /// Connection name.
    pub connection_name: String,
    /// Strategy.
    pub strategy: String,
    /// Document kind.
    pub kind: DocumentKind,
    /// Where it was fetched from, without query string or user info.
    pub url: String,
    /// The last good content (kept across failed fetches).
    pub published: Option<Published>,
    /// Why this poll's fetch failed.
    pub error: Option<String>,
}

/// A custom domain (`/api/v2/custom-domains`) and, when probed, the chain it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDomain {
    /// `cd_…`.
    pub id: String,
    /// Host name.
    pub domain: String,
    /// `auth0_managed_certs` or `self_managed_certs`.
    pub domain_type: String,
    /// Domain status (`ready`, `pending_verification`, …).
    pub status: Option<String>,
    /// Auth0-managed certificate status (`provisioned`, `renewing_failed`, …).
    pub certificate_status: Option<String>,
    /// Auth0's error message for a failed certificate.
    pub error_msg: Option<String>,
    /// Auth0-managed: when the certificate will have been renewed.
    pub renews_before: Option<time::OffsetDateTime>,
    /// The TLS probe of this poll (self-managed domains, when `[metadata]` is enabled).
    pub probe: Option<Probe>,
}

impl CustomDomain {
    /// Self-managed certificates are the customer's to renew.
    pub fn self_managed(&self) -> bool {
        self.domain_type == "self_managed_certs"
    }
}

/// A TLS probe: the served chain (leaf first) of the last good probe, and this poll's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Where it connected.
    pub address: String,
    /// The chain served at the last good probe.
    pub chain: Option<Vec<PublishedCert>>,
    /// Why this poll's probe failed.
    pub error: Option<String>,
}

/// A key of the tenant's public JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantJwk {
    /// `kid`.
    pub kid: Option<String>,
    /// SHA-1 (hex) of `x5c[0]`, or decoded from `x5t`.
    pub sha1: Option<String>,
}

/// What the remote checks know about one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantFacts {
    /// The public JWKS; `None` when not read (disabled, or failed with nothing to carry over).
    pub jwks: Option<Vec<TenantJwk>>,
    /// Custom domains; `None` when not read.
    pub custom_domains: Option<Vec<CustomDomain>>,
    /// IdP documents by connection (only with `[metadata] enabled`).
    pub idp: Vec<IdpDocument>,
    /// The custom signing keys (with or without a certificate), which the public JWKS may
    /// publish beside the tenant's own; `None` when not read.
    pub custom_signing_keys: Option<Vec<TenantJwk>>,
}
