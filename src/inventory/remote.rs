//! Where remote facts meet certificate records (pure): a poll's facts folded over the last good
//! ones of sources that failed (`merge`), thumbprint-only records given the dates their IdP
//! publishes (`enrich`), and whether a connection trusts a published certificate (`trusted`).
//! The facts themselves (documents, parsers, fetchers) live in `crate::remote`, which knows
//! nothing of records.

use super::{CertRecord, Kind, Source};
use crate::expiry::Validity;
use crate::remote::{IdpDocument, TenantFacts};

/// Fold this poll's facts (`now`) over the previous ones: what a failed source (`failed`) did not
/// deliver is kept from `previous` (the JWKS, the custom domains, the custom signing keys, the IdP documents when the
/// connection listing failed); an IdP document or probe that failed keeps its last good content
/// next to the new error.
pub fn merge(
    now: TenantFacts,
    previous: &TenantFacts,
    failed: impl Fn(Source) -> bool,
) -> TenantFacts {
    let keep_domains = failed(Source::CustomDomains);
    let jwks = match (now.jwks, failed(Source::Jwks)) {
        (None, true) => previous.jwks.clone(),
        (j, _) => j,
    };
    let custom_domains = match (now.custom_domains, keep_domains) {
        (None, true) => previous.custom_domains.clone(),
        (Some(mut domains), _) => {
            for d in &mut domains {
                let Some(p) = &mut d.probe else { continue };
                if p.chain.is_none() {
                    p.chain = previous
                        .custom_domains
                        .iter()
                        .flatten()
                        .find(|o| o.domain == d.domain)
                        .and_then(|o| o.probe.as_ref())
                        .and_then(|o| o.chain.clone());
                }
            }
            Some(domains)
        }
        (None, false) => None,
    };
    let custom_signing_keys = match (now.custom_signing_keys, failed(Source::CustomSigningKeys)) {
        (None, true) => previous.custom_signing_keys.clone(),
        (k, _) => k,
    };
    if failed(Source::Connections) && now.idp.is_empty() {
        return TenantFacts {
            jwks,
            custom_domains,
            idp: previous.idp.clone(),
            custom_signing_keys,
        };
    }
    let idp = now
        .idp
        .into_iter()
        .map(|mut doc| {
            if doc.published.is_none() {
                doc.published = previous
                    .idp
                    .iter()
                    .find(|o| o.connection_id == doc.connection_id && o.kind == doc.kind)
                    .and_then(|o| o.published.clone());
            }
            doc
        })
        .collect();
    TenantFacts {
        jwks,
        custom_domains,
        idp,
        custom_signing_keys,
    }
}

/// Give thumbprint-only connection records (ADFS, and any connection Auth0 shows only
/// thumbprints for) the dates, names and SHA-256 of the matching certificate their IdP
/// publishes, so they get a real expiry and alert like any certificate.
pub fn enrich(records: &mut [CertRecord], facts: &TenantFacts) {
    for r in records
        .iter_mut()
        .filter(|r| r.kind == Kind::ConnectionThumbprint && r.validity == Validity::Unknown)
    {
        let Some(sha1) = r.sha1.as_deref() else {
            continue;
        };
        let found = facts
            .idp
            .iter()
            .filter(|d| d.connection_id == r.object_id)
            .filter_map(|d| d.published.as_ref())
            .flat_map(|p| &p.certs)
            .find(|c| c.sha1 == sha1)
            .and_then(|c| c.cert.as_ref());
        if let Some(info) = found {
            r.fill(info);
        }
    }
}

/// Whether the connection of `doc` trusts the published certificate `sha1`: `None` for OIDC
/// (Auth0 fetches those keys itself, nothing is pinned).
pub fn trusted(records: &[CertRecord], doc: &IdpDocument, sha1: &str) -> Option<bool> {
    doc.kind.pinned().then(|| {
        records
            .iter()
            .any(|r| r.object_id == doc.connection_id && r.sha1.as_deref() == Some(sha1))
    })
}
