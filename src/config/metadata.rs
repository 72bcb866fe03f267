//! `[metadata]`: the opt-in fetches outside Auth0 (IdP metadata, upstream JWKS, TLS probes of
//! custom domains) and their bounds: https only unless allowed, a timeout, a size limit, a
//! concurrency cap and an optional host allow-list. See docs/findings.md.

use super::Error;
use super::context::Ctx;
use super::raw::RawMetadata;
use std::time::Duration;

/// `[metadata]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Remote fetches on.
    pub enabled: bool,
    /// `http://` allowed.
    pub allow_http: bool,
    /// Per fetch / probe.
    pub timeout: Duration,
    /// Largest document.
    pub max_bytes: usize,
    /// Probe self-managed custom domains.
    pub probe_custom_domains: bool,
    /// Concurrent fetches and probes per tenant.
    pub concurrency: usize,
    /// Hosts metadata URLs may name (lowercase, and their subdomains); empty: any.
    pub allowed_hosts: Vec<String>,
}

/// `[metadata]`: off by default; 10s, 1 MiB, concurrency 8 (clamped to 1..=64).
pub(super) fn validate(cx: &Ctx<'_>, raw: &RawMetadata) -> Result<Metadata, Error> {
    let metadata = Metadata {
        enabled: raw.enabled.unwrap_or(false),
        allow_http: raw.allow_http.unwrap_or(false),
        timeout: cx.duration(
            "metadata.timeout",
            raw.timeout.as_deref(),
            Duration::from_secs(10),
        )?,
        max_bytes: match raw.max_bytes {
            None => 1 << 20,
            Some(0) => return Err(cx.err("metadata.max_bytes", "must be at least 1")),
            Some(n) => n,
        },
        probe_custom_domains: raw.probe_custom_domains.unwrap_or(true),
        concurrency: raw.concurrency.unwrap_or(8).clamp(1, 64),
        allowed_hosts: raw
            .allowed_hosts
            .iter()
            .flatten()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect(),
    };
    if let Some(bad) = metadata
        .allowed_hosts
        .iter()
        .find(|h| h.is_empty() || h.contains(['/', ':', ' ', '@']))
    {
        return Err(cx.err(
            "metadata.allowed_hosts",
            format!("{bad:?} is not a host name (write idp.example.com, no scheme or port)"),
        ));
    }
    if metadata.timeout.is_zero() {
        return Err(cx.err("metadata.timeout", "must be longer than zero"));
    }
    Ok(metadata)
}
