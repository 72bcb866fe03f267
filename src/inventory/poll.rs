//! One tenant's poll: walks every enabled source through `&dyn Auth0Api`, converts pages as they
//! arrive (no tenant-wide JSON is held) and records failures per source instead of aborting.

use super::{CertRecord, PollError, PollOutcome, Reason, Source, sources};
use crate::auth0::{self, Auth0Api, PageRequest, wire};
use futures::StreamExt as _;
use std::collections::{BTreeSet, HashSet};
use tracing::{debug, warn};

/// What to poll and how hard.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Enabled sources (default: all).
    pub sources: BTreeSet<Source>,
    /// Concurrent per-object requests (credentials, connection keys).
    pub concurrency: usize,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            sources: Source::POLLED.into_iter().collect(),
            concurrency: 4,
        }
    }
}

struct Poll<'a> {
    api: &'a dyn Auth0Api,
    tenant: &'a str,
    settings: &'a PollSettings,
    out: PollOutcome,
}

impl Poll<'_> {
    fn fail(&mut self, source: Source, object_id: Option<&str>, err: &auth0::Error) {
        warn!(tenant = self.tenant, source = %source, object_id, reason = err.reason().as_str(), error = %err, "poll source failed");
        self.out.errors.push(PollError {
            source,
            reason: err.reason(),
            message: match object_id {
                Some(id) => format!("{id}: {err}"),
                None => err.to_string(),
            },
            object_id: object_id.map(str::to_string),
        });
    }

    fn reject(&mut self, source: Source, rejected: Vec<wire::Rejected>) {
        for r in rejected {
            warn!(tenant = self.tenant, source = %source, object_id = %r.id, error = %r.message, "object skipped: does not decode");
            self.out.errors.push(PollError {
                source,
                reason: Reason::Decode,
                message: r.message,
                object_id: Some(r.id),
            });
        }
    }

    /// A source not polled because an earlier failure makes it pointless; its records carry over.
    fn skip(&mut self, source: Source, reason: Reason, why: &str) {
        if self.settings.sources.contains(&source) {
            self.out.errors.push(PollError {
                source,
                reason,
                message: format!("not polled: {why}"),
                object_id: None,
            });
        }
    }

    fn enabled(&self, s: Source) -> bool {
        self.settings.sources.contains(&s)
    }

    /// True when the error means no later call can succeed either (bad credentials, no network).
    fn is_fatal(err: &auth0::Error) -> bool {
        matches!(
            err,
            auth0::Error::Unauthorized { .. } | auth0::Error::Transport(_)
        )
    }
}

/// Poll one tenant once. Never fails as a whole: failures are in `PollOutcome::errors`.
pub async fn poll_tenant(
    api: &dyn Auth0Api,
    tenant: &str,
    domain: &str,
    settings: &PollSettings,
) -> PollOutcome {
    let mut p = Poll {
        api,
        tenant,
        settings,
        out: PollOutcome::default(),
    };

    let mut tenant_thumbprints = HashSet::new();
    if p.enabled(Source::SigningKeys) {
        match api.signing_keys().await {
            Ok(keys) => {
                let (recs, thumbs) = sources::signing_keys(tenant, domain, &keys);
                p.out.records.extend(recs);
                tenant_thumbprints = thumbs;
            }
            Err(e) => {
                p.fail(Source::SigningKeys, None, &e);
                if Poll::is_fatal(&e) {
                    let why = e.to_string();
                    for s in [
                        Source::Clients,
                        Source::ClientCredentials,
                        Source::Connections,
                        Source::ConnectionKeys,
                    ] {
                        p.skip(s, e.reason(), &why);
                    }
                    return p.out;
                }
            }
        }
    }

    if p.enabled(Source::Clients) || p.enabled(Source::ClientCredentials) {
        poll_clients(&mut p, &tenant_thumbprints).await;
    }
    if p.enabled(Source::Connections) || p.enabled(Source::ConnectionKeys) {
        poll_connections(&mut p).await;
    }
    debug!(
        tenant,
        records = p.out.records.len(),
        errors = p.out.errors.len(),
        "tenant polled"
    );
    p.out
}

async fn poll_clients(p: &mut Poll<'_>, tenant_thumbprints: &HashSet<String>) {
    let mut with_creds: Vec<(String, String, HashSet<String>)> = Vec::new();
    let mut page = Some(PageRequest::first_offset());
    while let Some(req) = page.take() {
        match p.api.clients(&req).await {
            Ok(resp) => {
                p.reject(Source::Clients, resp.rejected);
                for c in &resp.items {
                    let (recs, refs) = sources::client(p.tenant, c, tenant_thumbprints);
                    if p.enabled(Source::Clients) {
                        p.out.records.extend(recs);
                    }
                    if !refs.is_empty() {
                        let name = c.name.clone().unwrap_or_else(|| c.client_id.clone());
                        with_creds.push((c.client_id.clone(), name, refs));
                    }
                }
                page = resp.next;
            }
            Err(e) => {
                p.fail(Source::Clients, None, &e);
                p.skip(
                    Source::ClientCredentials,
                    e.reason(),
                    "the client list failed",
                );
                return;
            }
        }
    }
    if !p.enabled(Source::ClientCredentials) {
        return;
    }
    let api = p.api;
    let tenant = p.tenant;
    let mut results = futures::stream::iter(with_creds)
        .map(|(id, name, refs)| async move {
            let res = api.client_credentials(&id).await;
            (id, name, refs, res)
        })
        .buffer_unordered(p.settings.concurrency.max(1));
    while let Some((id, name, refs, res)) = results.next().await {
        match res {
            Ok(creds) => p
                .out
                .records
                .extend(sources::credentials(tenant, &id, &name, &refs, &creds)),
            Err(e) => p.fail(Source::ClientCredentials, Some(&id), &e),
        }
    }
}

async fn poll_connections(p: &mut Poll<'_>) {
    let mut with_keys: Vec<wire::Connection> = Vec::new();
    let mut missing_options = 0usize;
    let mut page = Some(PageRequest::first_checkpoint());
    while let Some(req) = page.take() {
        match p.api.connections(&req, &wire::CERT_STRATEGIES).await {
            Ok(resp) => {
                p.reject(Source::Connections, resp.rejected);
                for c in resp.items {
                    let Some(options) = &c.options else {
                        missing_options += 1;
                        continue;
                    };
                    if p.enabled(Source::Connections) {
                        p.out
                            .records
                            .extend(sources::connection(p.tenant, &c, options));
                    }
                    if sources::has_connection_keys(&c) {
                        with_keys.push(wire::Connection { options: None, ..c });
                    }
                }
                page = resp.next;
            }
            Err(e) => {
                p.fail(Source::Connections, None, &e);
                p.skip(
                    Source::ConnectionKeys,
                    e.reason(),
                    "the connection list failed",
                );
                return;
            }
        }
    }
    if missing_options > 0 {
        let why = format!(
            "{missing_options} connection(s) returned without `options`: the token lacks the read:connections_options scope"
        );
        warn!(tenant = p.tenant, "{why}");
        p.out.errors.push(PollError {
            source: Source::Connections,
            reason: Reason::MissingScope,
            message: why.clone(),
            object_id: None,
        });
        p.skip(Source::ConnectionKeys, Reason::MissingScope, &why);
        return;
    }
    if !p.enabled(Source::ConnectionKeys) {
        return;
    }
    let api = p.api;
    let tenant = p.tenant;
    let mut results = futures::stream::iter(with_keys)
        .map(|c| async move {
            let res = api.connection_keys(&c.id).await;
            (c, res)
        })
        .buffer_unordered(p.settings.concurrency.max(1));
    while let Some((c, res)) = results.next().await {
        match res {
            Ok(keys) => p
                .out
                .records
                .extend(sources::connection_keys(tenant, &c, &keys)),
            Err(e) => p.fail(Source::ConnectionKeys, Some(&c.id), &e),
        }
    }
}

/// Records sorted for output: soonest `not_after` first, unknown last, then by identity.
pub fn sort_records(records: &mut [CertRecord]) {
    records.sort_by(|a, b| {
        (
            a.not_after().is_none(),
            a.not_after(),
            &a.tenant,
            a.kind,
            &a.object_id,
            &a.cert_id,
        )
            .cmp(&(
                b.not_after().is_none(),
                b.not_after(),
                &b.tenant,
                b.kind,
                &b.object_id,
                &b.cert_id,
            ))
    });
}
