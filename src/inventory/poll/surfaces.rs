//! The tenant-wide sources read with one request each besides the listings (docs/inventory.md):
//! the signing keys (first: a refused token stops the poll there), the custom signing keys, the
//! tenant settings (mTLS aliases) and the tenant's public SAML SP certificate. The others fail
//! alone, with a message that says how to fix a missing scope.

use super::{Poll, PollError, Reason, Source, TenantKeys, expired, sources};
use crate::auth0;
use tokio::time::Instant;
use tracing::warn;

/// `GET /api/v2/keys/custom-signing`; Auth0's 404 (none configured) is an empty list.
pub(super) async fn custom_signing_keys(p: &mut Poll<'_>, domain: &str) {
    match p.api.custom_signing_keys().await {
        Ok(keys) => {
            p.out
                .records
                .extend(sources::custom_signing_keys(p.tenant, domain, &keys));
            p.out.facts.custom_signing_keys = Some(sources::custom_signing_jwks(&keys));
        }
        Err(e) => {
            p.fail(Source::CustomSigningKeys, None, &e);
            if let auth0::Error::Forbidden { .. } = e
                && let Some(last) = p.out.errors.last_mut()
            {
                last.message.push_str(
                    " (grant read:custom_signing_keys to certwatch's application, or remove \"custom_signing_keys\" from the tenant's sources)",
                );
            }
        }
    }
}

/// With the tenant's mTLS endpoint aliases on (`tenants/settings` `mtls.enable_endpoint_aliases`),
/// each self-managed domain also serves `mtls.{domain}` with a certificate of its own: add it
/// to the domains to probe, as a domain of its own with id `{id}:mtls` so that its findings
/// and alerts never merge with the parent's (docs/inventory.md#custom-domains). A refused
/// settings read fails the `tenant_settings` source alone, saying how to fix it.
pub(super) async fn mtls_aliases(p: &mut Poll<'_>, found: &mut Vec<crate::remote::CustomDomain>) {
    match p.api.mtls_endpoint_aliases().await {
        Ok(true) => {
            let aliases: Vec<_> = found
                .iter()
                .filter(|d| d.self_managed())
                .map(|d| crate::remote::CustomDomain {
                    id: format!("{}:mtls", d.id),
                    domain: format!("mtls.{}", d.domain),
                    probe: None,
                    ..d.clone()
                })
                .collect();
            found.extend(aliases);
        }
        Ok(false) => {}
        Err(e) => {
            p.fail(Source::TenantSettings, None, &e);
            if let auth0::Error::Forbidden { .. } = e
                && let Some(last) = p.out.errors.last_mut()
            {
                last.message.push_str(
                    " (grant read:tenant_settings to certwatch's application, or remove \"tenant_settings\" from the tenant's sources)",
                );
            }
        }
    }
}

/// The public `GET /pem?cert=connection`; a 404 means the tenant publishes none (no record).
pub(super) async fn tenant_saml(p: &mut Poll<'_>, domain: &str) {
    match p.api.tenant_saml_cert().await {
        Ok(Some(pem)) => {
            let r = sources::tenant_saml_cert(p.tenant, domain, &pem);
            if let Some(e) = &r.error {
                warn!(tenant = p.tenant, error = %e, "the tenant SAML certificate does not decode");
                p.out.errors.push(PollError {
                    source: Source::TenantSaml,
                    reason: Reason::Decode,
                    message: format!("the tenant SAML certificate does not decode: {e}"),
                    object_id: None,
                });
            }
            p.out.records.push(r);
        }
        Ok(None) => {}
        Err(e) => p.fail(Source::TenantSaml, None, &e),
    }
}

/// The tenant signing keys, read before anything else: their certificates are what client
/// `signing_keys` copies are checked against. `None` when the token was refused (or Auth0 is
/// unreachable): every later source is then skipped with that reason.
pub(super) async fn signing_keys_first(
    p: &mut Poll<'_>,
    domain: &str,
    deadline: Option<Instant>,
) -> Option<TenantKeys> {
    let mut keys = TenantKeys::default();
    if !p.enabled(Source::SigningKeys) {
        return Some(keys);
    }
    let listed = tokio::select! {
        listed = p.api.signing_keys() => Some(listed),
        () = expired(deadline) => None,
    };
    match listed {
        None => p.timed_out(&[Source::SigningKeys]),
        Some(Ok(list)) => {
            let (recs, thumbs) = sources::signing_keys(p.tenant, domain, &list);
            keys.certs = list
                .iter()
                .zip(&recs)
                .filter(|(_, r)| r.sha1.is_some())
                .filter_map(|(k, _)| k.cert.clone())
                .collect();
            keys.thumbprints = thumbs;
            p.out.records.extend(recs);
        }
        Some(Err(e)) => {
            p.fail(Source::SigningKeys, None, &e);
            if Poll::is_fatal(&e) {
                let why = e.to_string();
                for s in Source::after_signing_keys() {
                    p.skip(s, e.reason(), &why);
                }
                return None;
            }
        }
    }
    Some(keys)
}
