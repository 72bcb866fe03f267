//! The remote facts in the report (JSON and status page): what each connection's IdP publishes
//! and each custom domain's certificate — the context behind the findings of docs/findings.md.

use crate::inventory::Snapshot;
use crate::remote::PublishedCert;
use crate::timefmt::rfc3339_opt;
use serde::Serialize;
use time::OffsetDateTime;

/// One certificate an IdP publishes or a custom domain serves.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublishedReport {
    /// Lowercase hex SHA-1 of the DER.
    pub sha1: String,
    /// Subject, when it decodes.
    pub subject: Option<String>,
    /// Start of validity.
    #[serde(with = "rfc3339_opt")]
    pub not_before: Option<OffsetDateTime>,
    /// End of validity.
    #[serde(with = "rfc3339_opt")]
    pub not_after: Option<OffsetDateTime>,
    /// Why it does not decode.
    pub error: Option<String>,
}

impl PublishedReport {
    fn new(c: &PublishedCert) -> Self {
        Self {
            sha1: c.sha1.clone(),
            subject: c.cert.as_ref().map(|i| i.subject.clone()),
            not_before: c.cert.as_ref().map(|i| i.not_before),
            not_after: c.cert.as_ref().map(|i| i.not_after),
            error: c.error.clone(),
        }
    }
}

/// A certificate an IdP publishes, and whether the connection trusts it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IdpCertReport {
    /// The certificate.
    #[serde(flatten)]
    pub cert: PublishedReport,
    /// Whether the connection trusts it (`null` for OIDC: Auth0 fetches those keys itself).
    pub trusted: Option<bool>,
}

/// One connection's IdP document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IdpDocumentReport {
    /// Tenant.
    pub tenant: String,
    /// Connection id.
    pub object_id: String,
    /// Connection name.
    pub object_name: String,
    /// `saml_metadata`, `adfs_metadata` or `oidc_jwks`.
    pub source: &'static str,
    /// Where it is fetched from (no query or user info).
    pub url: String,
    /// The metadata's `validUntil`.
    #[serde(with = "rfc3339_opt")]
    pub valid_until: Option<OffsetDateTime>,
    /// Why the last fetch failed (the certificates are then the last good copy's).
    pub error: Option<String>,
    /// The signing certificates it publishes.
    pub certificates: Vec<IdpCertReport>,
}

/// The TLS probe of a self-managed custom domain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProbeReport {
    /// Where it connected.
    pub address: String,
    /// Why the last probe failed (the chain is then the last good probe's).
    pub error: Option<String>,
    /// The served chain, leaf first.
    pub chain: Vec<PublishedReport>,
}

/// A custom domain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CustomDomainReport {
    /// Tenant.
    pub tenant: String,
    /// `cd_…`.
    pub custom_domain_id: String,
    /// Host name.
    pub domain: String,
    /// `auth0_managed_certs` or `self_managed_certs`.
    #[serde(rename = "type")]
    pub domain_type: String,
    /// Domain status.
    pub status: Option<String>,
    /// Auth0-managed certificate status.
    pub certificate_status: Option<String>,
    /// Auth0's error message for a failed certificate.
    pub error_msg: Option<String>,
    /// When Auth0 will have renewed the managed certificate.
    #[serde(with = "rfc3339_opt")]
    pub renews_before: Option<OffsetDateTime>,
    /// The TLS probe (self-managed domains, `[metadata] enabled`).
    pub probe: Option<ProbeReport>,
}

/// Every tenant's IdP documents, in poll order.
pub fn idp_documents(snapshot: &Snapshot) -> Vec<IdpDocumentReport> {
    snapshot
        .tenants
        .iter()
        .flat_map(|t| {
            t.facts.idp.iter().map(move |d| IdpDocumentReport {
                tenant: t.name.clone(),
                object_id: d.connection_id.clone(),
                object_name: d.connection_name.clone(),
                source: d.kind.as_str(),
                url: d.url.clone(),
                valid_until: d.published.as_ref().and_then(|p| p.valid_until),
                error: d.error.clone(),
                certificates: d
                    .published
                    .iter()
                    .flat_map(|p| &p.certs)
                    .map(|c| IdpCertReport {
                        cert: PublishedReport::new(c),
                        trusted: crate::inventory::remote::trusted(&t.records, d, &c.sha1),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// Every tenant's custom domains, in listing order.
pub fn custom_domains(snapshot: &Snapshot) -> Vec<CustomDomainReport> {
    snapshot
        .tenants
        .iter()
        .flat_map(|t| {
            t.facts
                .custom_domains
                .iter()
                .flatten()
                .map(move |d| CustomDomainReport {
                    tenant: t.name.clone(),
                    custom_domain_id: d.id.clone(),
                    domain: d.domain.clone(),
                    domain_type: d.domain_type.clone(),
                    status: d.status.clone(),
                    certificate_status: d.certificate_status.clone(),
                    error_msg: d.error_msg.clone(),
                    renews_before: d.renews_before,
                    probe: d.probe.as_ref().map(|p| ProbeReport {
                        address: p.address.clone(),
                        error: p.error.clone(),
                        chain: p.chain.iter().flatten().map(PublishedReport::new).collect(),
                    }),
                })
        })
        .collect()
}
