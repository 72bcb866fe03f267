//! `[[tenants]]`: each Auth0 tenant certwatch polls: its name (unique), domain, base URL and
//! audience, M2M credentials (the secret resolved through `secrets`), request and listing
//! bounds, the sources to poll, and per-connection metadata URLs and per-domain probe addresses. See
//! docs/configuration.md.

use super::Error;
use super::context::Ctx;
use super::masked::MetadataUrl;
use super::metadata::Metadata;
use super::raw::RawTenant;
use crate::auth0::budget::{self, Share};
use crate::inventory::Source;
use crate::secret::Secret;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use url::Url;

/// One tenant, validated.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Label.
    pub name: String,
    /// Domain.
    pub domain: String,
    /// Base URL ending in `/`.
    pub base_url: Url,
    /// M2M client id.
    pub client_id: String,
    /// M2M client secret.
    pub client_secret: Secret,
    /// Token audience.
    pub audience: String,
    /// Request timeout.
    pub timeout: Duration,
    /// Client-side pacing.
    pub max_requests_per_second: Option<f64>,
    /// Enabled sources.
    pub sources: BTreeSet<Source>,
    /// Concurrent per-object requests.
    pub concurrency: usize,
    /// Objects one listing may return before it is stopped as untrustworthy.
    pub max_items_per_listing: usize,
    /// Metadata URL overrides by connection name or id.
    pub metadata_urls: BTreeMap<String, MetadataUrl>,
    /// TLS probe addresses by custom domain.
    pub probe_addresses: BTreeMap<String, String>,
    /// The part of the rate-limit bucket certwatch may use (docs/polling.md).
    pub budget_share: Share,
    /// How often an unchanged object's credentials or connection keys are re-read.
    pub full_refresh: Duration,
}

/// Every `[[tenants]]` entry (at least one), names unique.
pub(super) fn validate(
    cx: &Ctx<'_>,
    raw: &[RawTenant],
    metadata: &Metadata,
) -> Result<Vec<Tenant>, Error> {
    if raw.is_empty() {
        // Nothing to watch is a mistake (a wrong path, an emptied file), never a valid daemon.
        return Err(cx.err(
            "tenants",
            "no tenant configured: add at least one [[tenants]] entry",
        ));
    }
    let mut tenants = Vec::new();
    let mut names = BTreeSet::new();
    for (i, t) in raw.iter().enumerate() {
        let key = format!("tenants[{i}]");
        if t.name.trim().is_empty() {
            return Err(cx.err(format!("{key}.name"), "is required"));
        }
        if !names.insert(t.name.clone()) {
            return Err(cx.err(
                format!("{key}.name"),
                format!("duplicate tenant name {:?}", t.name),
            ));
        }
        tenants.push(tenant(cx, &key, t, metadata)?);
    }
    Ok(tenants)
}

/// `tenants[i]` (its name already checked).
fn tenant(cx: &Ctx<'_>, key: &str, t: &RawTenant, metadata: &Metadata) -> Result<Tenant, Error> {
    if t.domain.trim().is_empty() {
        return Err(cx.err(format!("{key}.domain"), "is required"));
    }
    if t.client_id.trim().is_empty() {
        return Err(cx.err(format!("{key}.client_id"), "is required"));
    }
    let base_url = base_url(cx, key, t)?;
    let client_secret = cx
        .secret(
            &format!("{key}.client_secret"),
            &t.client_secret,
            &t.client_secret_env,
            &t.client_secret_file,
        )?
        .ok_or_else(|| {
            cx.err(
                format!("{key}.client_secret"),
                "one of client_secret_env, client_secret_file or client_secret is required",
            )
        })?;
    let sources = sources(cx, key, t)?;
    if let Some(r) = t.max_requests_per_second
        && !(r > 0.0 && r.is_finite())
    {
        return Err(cx.err(
            format!("{key}.max_requests_per_second"),
            "must be a positive number",
        ));
    }
    let budget_share = match t.budget_share {
        None => Share::new(budget::DEFAULT_SHARE).unwrap_or(Share::WHOLE),
        Some(s) => Share::new(s).ok_or_else(|| {
            cx.err(
                format!("{key}.budget_share"),
                format!("{s} is not a share of the rate limit: it must be above 0 and at most 1"),
            )
        })?,
    };
    let max_items_per_listing = t
        .max_items_per_listing
        .unwrap_or(crate::auth0::pagination::DEFAULT_MAX_ITEMS);
    if max_items_per_listing == 0 {
        return Err(cx.err(format!("{key}.max_items_per_listing"), "must be at least 1"));
    }
    Ok(Tenant {
        name: t.name.clone(),
        domain: t.domain.clone(),
        audience: t
            .audience
            .clone()
            .unwrap_or_else(|| format!("https://{}/api/v2/", t.domain)),
        base_url,
        client_id: t.client_id.clone(),
        client_secret,
        timeout: cx.duration(
            &format!("{key}.timeout"),
            t.timeout.as_deref(),
            Duration::from_secs(10),
        )?,
        max_requests_per_second: t.max_requests_per_second,
        sources,
        concurrency: t.concurrency.unwrap_or(4).clamp(1, 64),
        max_items_per_listing,
        metadata_urls: metadata_urls(cx, key, t, metadata)?,
        probe_addresses: probe_addresses(cx, key, t)?,
        budget_share,
        full_refresh: cx.duration(
            &format!("{key}.full_refresh"),
            t.full_refresh.as_deref(),
            crate::inventory::refresh::DEFAULT_FULL_REFRESH,
        )?,
    })
}

/// `tenants[i].base_url`, `https://{domain}/` by default; http(s), ending in `/`.
fn base_url(cx: &Ctx<'_>, key: &str, t: &RawTenant) -> Result<Url, Error> {
    // Without a base_url the domain becomes the URL's host: it must be a bare host name
    // (no port, path, user info or spaces), and a bad one is reported as the domain.
    if t.base_url.is_none()
        && !t
            .domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(cx.err(
            format!("{key}.domain"),
            format!(
                "{:?} is not a host name like acme.eu.auth0.com (set base_url for anything else)",
                t.domain
            ),
        ));
    }
    let base = t
        .base_url
        .clone()
        .unwrap_or_else(|| format!("https://{}", t.domain));
    let mut base_url = Url::parse(&base)
        .map_err(|e| cx.err(format!("{key}.base_url"), format!("{base:?}: {e}")))?;
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err(cx.err(format!("{key}.base_url"), "must be http(s)"));
    }
    if !base_url.path().ends_with('/') {
        base_url.set_path(&format!("{}/", base_url.path()));
    }
    Ok(base_url)
}

/// `tenants[i].sources`: every polled source by default.
fn sources(cx: &Ctx<'_>, key: &str, t: &RawTenant) -> Result<BTreeSet<Source>, Error> {
    match &t.sources {
        None => Ok(Source::POLLED.into_iter().collect()),
        Some(list) => list
            .iter()
            .map(|s| {
                Source::parse(s).ok_or_else(|| {
                    let all: Vec<_> = Source::POLLED.iter().map(|s| s.as_str()).collect();
                    cx.err(
                        format!("{key}.sources"),
                        format!("unknown source {s:?} (one of {})", all.join(", ")),
                    )
                })
            })
            .collect(),
    }
}

/// `tenants[i].metadata_urls`: absolute URLs, https unless `metadata.allow_http`.
fn metadata_urls(
    cx: &Ctx<'_>,
    key: &str,
    t: &RawTenant,
    metadata: &Metadata,
) -> Result<BTreeMap<String, MetadataUrl>, Error> {
    let mut out = BTreeMap::new();
    for (connection, url) in &t.metadata_urls {
        let at = format!("{key}.metadata_urls.{connection}");
        let parsed =
            Url::parse(url.0.trim()).map_err(|e| cx.err(&at, format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if metadata.allow_http => {}
            "http" => {
                return Err(cx.err(
                    &at,
                    "http:// is refused unless metadata.allow_http = true (metadata decides which certificates are trusted)",
                ));
            }
            other => return Err(cx.err(&at, format!("scheme {other:?} is not http(s)"))),
        }
        out.insert(connection.clone(), MetadataUrl(parsed));
    }
    Ok(out)
}

/// `tenants[i].probe_addresses`: `host:port` per custom domain.
fn probe_addresses(
    cx: &Ctx<'_>,
    key: &str,
    t: &RawTenant,
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (domain, addr) in &t.probe_addresses {
        let at = format!("{key}.probe_addresses.{domain}");
        let addr = addr.trim();
        let port_ok = addr.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(cx.err(&at, format!("{addr:?} is not host:port")));
        }
        out.insert(domain.to_ascii_lowercase(), addr.to_string());
    }
    Ok(out)
}
