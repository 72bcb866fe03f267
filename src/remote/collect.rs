//! The remote part of one tenant's poll: which IdP document each connection points at (pure),
//! fetching and parsing those documents, reading the tenant JWKS and custom domains into facts,
//! and probing self-managed custom domains — all I/O through the `Fetcher` / `Prober` seams.

use super::fetch::{Fetcher, redact};
use super::probe::Prober;
use super::{CustomDomain, DocumentKind, IdpDocument, Probe, Published, TenantJwk, jwks, saml};
use crate::auth0::wire;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

/// What a poll needs for the opt-in remote fetches (`[metadata] enabled`).
#[derive(Clone)]
pub struct Remote {
    /// Fetches IdP documents.
    pub fetcher: Arc<dyn Fetcher>,
    /// Probes custom domains.
    pub prober: Arc<dyn Prober>,
    /// Metadata URL overrides by connection name or id.
    pub metadata_urls: BTreeMap<String, Url>,
    /// Probe addresses by custom domain (lowercase).
    pub probe_addresses: BTreeMap<String, String>,
    /// Probe self-managed custom domains.
    pub probe_custom_domains: bool,
    /// Concurrent fetches / probes.
    pub concurrency: usize,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("metadata_urls", &self.metadata_urls.len())
            .field("probe_addresses", &self.probe_addresses)
            .field("probe_custom_domains", &self.probe_custom_domains)
            .finish_non_exhaustive()
    }
}

/// One IdP document to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `con_…`.
    pub connection_id: String,
    /// Connection name.
    pub connection_name: String,
    /// Strategy.
    pub strategy: String,
    /// What the document is.
    pub kind: DocumentKind,
    /// Where it is; an error when the configured value is not a URL.
    pub url: Result<Url, String>,
}

/// The IdP document a connection points at, if any (pure): the config override (by connection
/// name, then id), else samlp `metadataUrl`, adfs `adfs_server`, oidc/okta `jwks_uri` or
/// `discovery_url` (okta: `https://{domain}/.well-known/openid-configuration`).
pub fn target(
    c: &wire::Connection,
    options: &Value,
    overrides: &BTreeMap<String, Url>,
) -> Option<Target> {
    let kind = match c.strategy.as_str() {
        "adfs" => DocumentKind::AdfsMetadata,
        "oidc" | "okta" => DocumentKind::OidcJwks,
        _ => DocumentKind::SamlMetadata,
    };
    let make = |url| Target {
        connection_id: c.id.clone(),
        connection_name: c.name.clone(),
        strategy: c.strategy.clone(),
        kind,
        url,
    };
    if let Some(u) = overrides.get(&c.name).or_else(|| overrides.get(&c.id)) {
        return Some(make(Ok(u.clone())));
    }
    let opt = |k: &str| {
        options
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let raw = match c.strategy.as_str() {
        "samlp" => opt("metadataUrl").map(str::to_string),
        "adfs" => opt("adfs_server").map(str::to_string),
        "oidc" => opt("jwks_uri")
            .or_else(|| opt("discovery_url"))
            .map(str::to_string),
        "okta" => opt("jwks_uri")
            .or_else(|| opt("discovery_url"))
            .map(str::to_string)
            .or_else(|| {
                opt("domain").map(|d| format!("https://{d}/.well-known/openid-configuration"))
            }),
        _ => None,
    }?;
    Some(make(Url::parse(&raw).map_err(|e| {
        format!("the connection's metadata URL is not a URL: {e}")
    })))
}

/// Fetch the documents of many connections, `concurrency` at a time, each distinct (kind, URL)
/// once: connections sharing an IdP (one Okta org, one ADFS farm) cost one request per poll.
/// Documents come back in `targets` order. Never fails: a failure is a document's `error`.
pub async fn fetch_all(
    fetcher: &dyn Fetcher,
    targets: Vec<Target>,
    concurrency: usize,
) -> Vec<IdpDocument> {
    use futures::StreamExt as _;
    let mut unique: Vec<(DocumentKind, Url)> = Vec::new();
    for t in &targets {
        if let Ok(u) = &t.url
            && !unique.iter().any(|(k, v)| *k == t.kind && v == u)
        {
            unique.push((t.kind, u.clone()));
        }
    }
    let fetched: Vec<((DocumentKind, Url), Result<Published, String>)> =
        futures::stream::iter(unique)
            .map(|(kind, url)| async move {
                let r = fetch_published(fetcher, kind, &url).await;
                ((kind, url), r)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    targets
        .into_iter()
        .map(|t| {
            let result = match &t.url {
                Ok(u) => fetched
                    .iter()
                    .find(|((k, v), _)| *k == t.kind && v == u)
                    .map_or_else(|| Err("not fetched".to_string()), |(_, r)| r.clone()),
                Err(e) => Err(e.clone()),
            };
            document(t, result)
        })
        .collect()
}

fn document(t: Target, result: Result<Published, String>) -> IdpDocument {
    let url = t.url.as_ref().map(redact).unwrap_or_default();
    if let Err(e) = &result {
        tracing::warn!(connection = %t.connection_name, url = %url, error = %e, "IdP document unavailable");
    }
    let (published, error) = match result {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e)),
    };
    IdpDocument {
        connection_id: t.connection_id,
        connection_name: t.connection_name,
        strategy: t.strategy,
        kind: t.kind,
        url,
        published,
        error,
    }
}

async fn fetch_published(
    fetcher: &dyn Fetcher,
    kind: DocumentKind,
    url: &Url,
) -> Result<Published, String> {
    let body = fetcher.get(url).await.map_err(|e| e.to_string())?;
    match kind {
        DocumentKind::SamlMetadata | DocumentKind::AdfsMetadata => {
            let m = saml::parse(&body).map_err(|e| format!("not IdP metadata: {e}"))?;
            Ok(Published {
                valid_until: m.valid_until,
                certs: m.signing,
            })
        }
        DocumentKind::OidcJwks => {
            // A JWKS, or a discovery document naming one (followed once).
            let body = match jwks::discovery_jwks_uri(&body) {
                Ok(uri) => {
                    let uri = url
                        .join(&uri)
                        .map_err(|e| format!("discovery jwks_uri is not a URL: {e}"))?;
                    fetcher.get(&uri).await.map_err(|e| e.to_string())?
                }
                Err(_) => body,
            };
            let keys = jwks::parse(&body).map_err(|e| format!("not a JWKS: {e}"))?;
            Ok(Published {
                valid_until: None,
                certs: jwks::signing_certs(keys),
            })
        }
    }
}

/// The tenant JWKS as facts: each key's `kid` and SHA-1 (of `x5c[0]`, else from `x5t`).
pub fn tenant_jwks(body: &[u8]) -> Result<Vec<TenantJwk>, String> {
    let keys = jwks::parse(body).map_err(|e| e.to_string())?;
    Ok(keys
        .keys
        .into_iter()
        .map(|k| TenantJwk {
            sha1: k
                .cert
                .as_ref()
                .map(|c| c.sha1.clone())
                .filter(|s| !s.is_empty())
                .or_else(|| k.x5t.as_deref().and_then(jwks::x5t_sha1_hex)),
            kid: k.kid,
        })
        .collect())
}

/// A custom domain as facts (pure; the probe is added by [`probe`]).
pub fn custom_domain(d: wire::CustomDomain) -> CustomDomain {
    let cert = d.certificate.unwrap_or_default();
    CustomDomain {
        id: d.custom_domain_id,
        domain: d.domain,
        domain_type: d.r#type.unwrap_or_default(),
        status: d.status,
        certificate_status: cert.status,
        error_msg: cert.error_msg,
        renews_before: cert.renews_before.as_deref().and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        }),
        probe: None,
    }
}

/// Probe a self-managed custom domain's served chain. Never fails: a failure is the probe's
/// `error`.
pub async fn probe(prober: &dyn Prober, remote: &Remote, d: &mut CustomDomain) {
    let host = d.domain.to_ascii_lowercase();
    let connect_to = remote.probe_addresses.get(&host).map(String::as_str);
    let address = connect_to.map_or_else(|| format!("{host}:443"), str::to_string);
    let probe = match prober.probe(&host, connect_to).await {
        Ok(chain) => Probe {
            address,
            chain: Some(chain),
            error: None,
        },
        Err(e) => {
            tracing::warn!(domain = %host, address = %address, error = %e, "custom domain TLS probe failed");
            Probe {
                address,
                chain: None,
                error: Some(e.to_string()),
            }
        }
    };
    d.probe = Some(probe);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fetch::{FetchError, StaticFetcher};
    use crate::remote::probe::StaticProber;
    use crate::sim::certs::{GeneratedCert, generate_cert};
    use serde_json::json;
    use time::macros::datetime;

    fn cert(cn: &str) -> GeneratedCert {
        generate_cert(
            cn,
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2027-01-01 0:00 UTC),
        )
    }

    fn connection(strategy: &str, options: Value) -> (wire::Connection, Value) {
        (
            wire::Connection {
                id: "con_1".into(),
                name: "acme-idp".into(),
                strategy: strategy.into(),
                options: None,
                metadata: None,
            },
            options,
        )
    }

    fn url_of(t: Option<Target>) -> Option<String> {
        t.map(|t| t.url.map_or_else(|e| format!("error: {e}"), String::from))
    }

    #[test]
    fn targets_follow_the_strategy_and_the_overrides_win() {
        let none = BTreeMap::new();
        let (c, o) = connection("samlp", json!({"metadataUrl": "https://idp/m.xml"}));
        let t = target(&c, &o, &none).unwrap();
        assert_eq!(t.kind, DocumentKind::SamlMetadata);
        assert_eq!(url_of(Some(t)).unwrap(), "https://idp/m.xml");
        let (c, o) = connection(
            "adfs",
            json!({"adfs_server": "https://adfs/FederationMetadata/2007-06/FederationMetadata.xml"}),
        );
        assert_eq!(
            target(&c, &o, &none).unwrap().kind,
            DocumentKind::AdfsMetadata
        );
        let (c, o) = connection(
            "oidc",
            json!({"discovery_url": "https://op/.well-known/openid-configuration", "jwks_uri": "https://op/jwks"}),
        );
        assert_eq!(url_of(target(&c, &o, &none)).unwrap(), "https://op/jwks");
        let (c, o) = connection("okta", json!({"domain": "acme.okta.com"}));
        assert_eq!(
            url_of(target(&c, &o, &none)).unwrap(),
            "https://acme.okta.com/.well-known/openid-configuration"
        );
        let (c, o) = connection("samlp", json!({"signingCert": "x"}));
        assert_eq!(
            target(&c, &o, &none),
            None,
            "no metadata URL: nothing to fetch"
        );
        let (c, o) = connection("samlp", json!({"metadataUrl": "not a url"}));
        assert!(url_of(target(&c, &o, &none)).unwrap().starts_with("error:"));
        let overrides: BTreeMap<String, Url> = [(
            "acme-idp".to_string(),
            Url::parse("https://override/m.xml").unwrap(),
        )]
        .into();
        let (c, o) = connection("pingfederate", json!({}));
        let t = target(&c, &o, &overrides).unwrap();
        assert_eq!(
            (t.kind, t.url.unwrap().as_str()),
            (DocumentKind::SamlMetadata, "https://override/m.xml")
        );
        let by_id: BTreeMap<String, Url> =
            [("con_1".to_string(), Url::parse("https://by-id/").unwrap())].into();
        assert_eq!(url_of(target(&c, &o, &by_id)).unwrap(), "https://by-id/");
    }

    fn saml(certs: &[&GeneratedCert]) -> String {
        use base64::Engine as _;
        let keys: String = certs
            .iter()
            .map(|c| {
                format!(
                    r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
                    base64::engine::general_purpose::STANDARD.encode(&c.der)
                )
            })
            .collect();
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="urn:idp" validUntil="2026-12-01T00:00:00Z"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}</md:IDPSSODescriptor></md:EntityDescriptor>"#
        )
    }

    fn jwks_of(certs: &[&GeneratedCert]) -> String {
        use base64::Engine as _;
        let keys: Vec<Value> = certs
            .iter()
            .map(|c| {
                json!({"kty": "EC", "kid": c.common_name, "x5c": [base64::engine::general_purpose::STANDARD.encode(&c.der)]})
            })
            .collect();
        json!({ "keys": keys }).to_string()
    }

    async fn fetch_one(f: &StaticFetcher, t: Target) -> IdpDocument {
        fetch_all(f, vec![t], 1).await.remove(0)
    }

    fn target_of(kind: DocumentKind, url: &str) -> Target {
        Target {
            connection_id: "con_1".into(),
            connection_name: "acme-idp".into(),
            strategy: "samlp".into(),
            kind,
            url: Ok(Url::parse(url).unwrap()),
        }
    }

    #[tokio::test]
    async fn saml_metadata_becomes_published_certificates() {
        let (a, b) = (cert("a"), cert("b"));
        let f = StaticFetcher::new().with("https://idp/m.xml", saml(&[&a, &b]));
        let doc = fetch_one(
            &f,
            target_of(DocumentKind::SamlMetadata, "https://idp/m.xml"),
        )
        .await;
        let p = doc.published.unwrap();
        assert_eq!(p.valid_until, Some(datetime!(2026-12-01 0:00 UTC)));
        let sha1s: Vec<_> = p.certs.iter().map(|c| c.sha1.as_str()).collect();
        assert_eq!(sha1s, vec![a.sha1_hex.as_str(), b.sha1_hex.as_str()]);
        assert_eq!(p.certs[0].cert.as_ref().unwrap().not_after, a.not_after);
        assert_eq!(doc.error, None);
    }

    #[tokio::test]
    async fn oidc_discovery_is_followed_once_to_its_jwks() {
        let (a, b) = (cert("a"), cert("b"));
        let f = StaticFetcher::new()
            .with(
                "https://op/.well-known/openid-configuration",
                json!({"issuer": "https://op/", "jwks_uri": "https://op/keys"}).to_string(),
            )
            .with("https://op/keys", jwks_of(&[&a, &b, &a]));
        let doc = fetch_one(
            &f,
            target_of(
                DocumentKind::OidcJwks,
                "https://op/.well-known/openid-configuration",
            ),
        )
        .await;
        let p = doc.published.expect("published");
        assert_eq!(p.certs.len(), 2, "deduplicated by thumbprint");
        assert_eq!(f.calls(), 2);
        // A JWKS URL directly.
        let doc = fetch_one(&f, target_of(DocumentKind::OidcJwks, "https://op/keys")).await;
        assert_eq!(doc.published.unwrap().certs.len(), 2);
    }

    #[tokio::test]
    async fn connections_sharing_an_idp_cost_one_fetch() {
        let a = cert("a");
        let f = StaticFetcher::new().with("https://idp/m.xml", saml(&[&a]));
        let mut targets = Vec::new();
        for i in 0..5 {
            let mut t = target_of(DocumentKind::SamlMetadata, "https://idp/m.xml");
            t.connection_id = format!("con_{i}");
            targets.push(t);
        }
        targets.push(target_of(
            DocumentKind::SamlMetadata,
            "https://idp/other.xml",
        ));
        let mut bad = target_of(DocumentKind::SamlMetadata, "https://x/");
        bad.url = Err("not a URL".into());
        targets.push(bad);
        let docs = fetch_all(&f, targets, 4).await;
        assert_eq!(f.calls_to("https://idp/m.xml"), 1);
        assert_eq!(f.calls(), 2);
        let ids: Vec<_> = docs.iter().map(|d| d.connection_id.as_str()).collect();
        assert_eq!(ids[..5], ["con_0", "con_1", "con_2", "con_3", "con_4"]);
        assert!(
            docs[..5]
                .iter()
                .all(|d| d.published.as_ref().unwrap().certs.len() == 1)
        );
        assert!(
            docs[5].error.as_deref().unwrap().contains("404"),
            "{:?}",
            docs[5]
        );
        assert_eq!(docs[6].error.as_deref(), Some("not a URL"));
    }

    #[tokio::test]
    async fn failures_are_kept_as_errors_with_redacted_urls() {
        let f = StaticFetcher::new()
            .with("https://idp/garbage?token=s3cret", "<html>login</html>")
            .with_error(
                "https://idp/down",
                FetchError::Status {
                    url: "https://idp/down".into(),
                    status: 503,
                },
            );
        let doc = fetch_one(
            &f,
            target_of(
                DocumentKind::SamlMetadata,
                "https://idp/garbage?token=s3cret",
            ),
        )
        .await;
        assert!(doc.published.is_none());
        assert!(
            doc.error
                .as_deref()
                .unwrap()
                .starts_with("not IdP metadata"),
            "{doc:?}"
        );
        assert!(!format!("{doc:?}").contains("s3cret"), "{doc:?}");
        let doc = fetch_one(
            &f,
            target_of(DocumentKind::SamlMetadata, "https://idp/down"),
        )
        .await;
        assert!(doc.error.as_deref().unwrap().contains("503"), "{doc:?}");
    }

    #[test]
    fn tenant_jwks_of_the_recorded_body_has_kids_and_thumbprints() {
        let body = std::fs::read(format!(
            "{}/tests/fixtures/auth0/tenant-jwks.common-auth0-com.dockyard.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let keys = tenant_jwks(&body).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1].kid.as_deref(), Some("Lk-5NnjByFf99cg0nxMdi"));
        assert!(
            keys.iter()
                .all(|k| k.sha1.as_ref().is_some_and(|s| s.len() == 40))
        );
        assert!(tenant_jwks(b"{}").is_err());
    }

    #[tokio::test]
    async fn custom_domains_and_probes() {
        let d: wire::CustomDomain = serde_json::from_value(json!({
            "custom_domain_id": "cd_1", "domain": "Login.Acme.com", "status": "ready",
            "type": "self_managed_certs"
        }))
        .unwrap();
        let mut d = custom_domain(d);
        assert!(d.self_managed());
        let leaf = cert("login.acme.com");
        let prober = StaticProber::new().with(
            "login.acme.com",
            vec![crate::remote::PublishedCert::from_der(&leaf.der)],
        );
        let remote = Remote {
            fetcher: Arc::new(StaticFetcher::new()),
            prober: Arc::new(StaticProber::new()),
            metadata_urls: BTreeMap::new(),
            probe_addresses: [("login.acme.com".to_string(), "127.0.0.1:8443".to_string())].into(),
            probe_custom_domains: true,
            concurrency: 2,
        };
        probe(&prober, &remote, &mut d).await;
        let p = d.probe.as_ref().unwrap();
        assert_eq!(p.address, "127.0.0.1:8443");
        assert_eq!(p.chain.as_ref().unwrap()[0].sha1, leaf.sha1_hex);
        assert_eq!(
            prober.calls(),
            vec![(
                "login.acme.com".to_string(),
                Some("127.0.0.1:8443".to_string())
            )]
        );
        let managed: wire::CustomDomain = serde_json::from_value(json!({
            "custom_domain_id": "cd_2", "domain": "id.acme.com", "type": "auth0_managed_certs",
            "certificate": {"status": "renewing_failed", "error_msg": "CAA", "renews_before": "2026-02-04T23:31:22Z"}
        }))
        .unwrap();
        let m = custom_domain(managed);
        assert_eq!(m.certificate_status.as_deref(), Some("renewing_failed"));
        assert_eq!(m.renews_before, Some(datetime!(2026-02-04 23:31:22 UTC)));
        assert!(!m.self_managed());
    }
}
