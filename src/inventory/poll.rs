//! One tenant's poll: walks every enabled source through `&dyn Auth0Api`, converts pages as they
//! arrive (no tenant-wide JSON is held) and records failures per source instead of aborting.
//!
//! Shape of a poll, chosen so the rate limit — not round trips — bounds its duration: the
//! signing keys first (clients need their thumbprints, and a refused token stops everything
//! there), then the client and the connection listings side by side. Each listing is a
//! [`walk`](super::walk::walk): its per-object calls (credentials, connection keys) start as soon
//! as the page naming the object arrives, up to `concurrency` at a time, while the next page
//! loads. Pacing is the client's business (`auth0::rate_limit::Governor`), so extra concurrency
//! never means 429s.
//!
//! A poll is bounded (docs/polling.md): every listing by `max_items_per_listing` and its own
//! paging (see `walk`), the whole poll by `timeout` — a source still running at the deadline is
//! stopped and reported as `timeout`, what the others found is kept — and a panic inside it is
//! caught and reported instead of taking the process (or the other tenants) down.
//!
//! A poll is incremental (docs/polling.md): the listings are read every time, while a client's
//! credentials and a connection's keys are re-read only when `refresh` says so (its references
//! changed, it was never read, or its refresh slot in `full_refresh` came round); otherwise the
//! records of its last read stand.

use super::refresh::{self, Memory, Recall, Schedule};
use super::walk::{self, Plan, walk};
use super::{CertRecord, PollError, PollOutcome, Reason, Source, sources};
use crate::auth0::pagination::DEFAULT_MAX_ITEMS;
use crate::auth0::{self, Auth0Api, PageRequest, wire};
use crate::remote::collect::{self, Remote, Target};
use futures::FutureExt as _;
use futures::StreamExt as _;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{debug, error, warn};

/// The poll timeout of [`PollSettings::default`] (a daemon's is `[schedule] poll_timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

mod surfaces;

/// What to poll and how hard.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Enabled sources (default: all).
    pub sources: BTreeSet<Source>,
    /// Concurrent per-object requests of each listing (credentials; connection keys), and
    /// concurrent IdP fetches and probes.
    pub concurrency: usize,
    /// The opt-in remote fetches (`[metadata] enabled`).
    pub remote: Option<Remote>,
    /// Objects one listing may return (`max_items_per_listing`).
    pub max_items: usize,
    /// How long the whole poll may take (`poll_timeout`).
    pub timeout: Duration,
    /// The metadata key naming an object's owner (`[alerts] owner_key`).
    pub owner_key: String,
    /// How often an unchanged object's credentials or keys are re-read (`full_refresh`).
    pub full_refresh: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            sources: Source::POLLED.into_iter().collect(),
            concurrency: 4,
            remote: None,
            max_items: DEFAULT_MAX_ITEMS,
            timeout: DEFAULT_TIMEOUT,
            owner_key: crate::config::DEFAULT_OWNER_KEY.to_string(),
            full_refresh: refresh::DEFAULT_FULL_REFRESH,
        }
    }
}

/// One strand of a poll (the signing keys, the clients, the connections) and what it found.
struct Poll<'a> {
    api: &'a dyn Auth0Api,
    tenant: &'a str,
    settings: &'a PollSettings,
    out: PollOutcome,
}

impl<'a> Poll<'a> {
    fn strand(&self) -> Poll<'a> {
        Poll {
            api: self.api,
            tenant: self.tenant,
            settings: self.settings,
            out: PollOutcome::default(),
        }
    }

    /// Note the owner `metadata` names for object `id`, if it names one.
    fn note_owner(&mut self, id: &str, metadata: Option<&serde_json::Value>) {
        if let Some(owner) = wire::metadata_value(metadata, &self.settings.owner_key) {
            self.out.owners.insert(id.to_string(), owner);
        }
    }

    /// Give every record of a listed object its object's owner.
    fn name_owners(&mut self) {
        for r in &mut self.out.records {
            if let Some(o) = self.out.owners.get(&r.object_id) {
                r.owner = Some(o.clone());
            }
        }
    }

    fn merge(&mut self, other: Poll<'_>) {
        self.out.records.extend(other.out.records);
        self.out.errors.extend(other.out.errors);
        self.out.duplicates.extend(other.out.duplicates);
        self.out.owners.extend(other.out.owners);
        let f = other.out.facts;
        self.out.facts.jwks = self.out.facts.jwks.take().or(f.jwks);
        self.out.facts.custom_domains = self.out.facts.custom_domains.take().or(f.custom_domains);
        self.out.facts.idp.extend(f.idp);
        self.out.facts.custom_signing_keys = self
            .out
            .facts
            .custom_signing_keys
            .take()
            .or(f.custom_signing_keys);
    }

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

    /// The poll's deadline passed while `sources` were still being read: what they found so
    /// far is kept, the rest carries over from the last poll.
    fn timed_out(&mut self, sources: &[Source]) {
        let limit = humantime::format_duration(self.settings.timeout);
        for &source in sources.iter().filter(|s| self.settings.sources.contains(s)) {
            warn!(tenant = self.tenant, source = %source, %limit, "poll source stopped at the poll deadline");
            self.out.errors.push(PollError {
                source,
                reason: Reason::Timeout,
                message: format!("not finished within the poll timeout ({limit}); stopped"),
                object_id: None,
            });
        }
    }

    /// The end of a listing walk: copies it dropped are logged and counted, a failure recorded.
    fn walked(&mut self, source: Source, walked: walk::Walked) -> Result<(), auth0::Error> {
        if let Some(d) = walked.duplicates {
            warn!(tenant = self.tenant, endpoint = d.endpoint, copies = d.count, first = %d.first_id, "the listing returned objects more than once; kept one of each");
            self.out.duplicates.push(d);
        }
        walked.result.inspect_err(|e| self.fail(source, None, e))
    }

    fn plan(&self, endpoint: &'static str, first: PageRequest) -> Plan {
        Plan {
            endpoint,
            first,
            max_items: self.settings.max_items,
            concurrency: self.settings.concurrency,
        }
    }

    /// True when the error means no later call can succeed either (bad credentials, no network).
    fn is_fatal(err: &auth0::Error) -> bool {
        matches!(
            err,
            auth0::Error::Unauthorized { .. } | auth0::Error::Transport(_)
        )
    }
}

/// What the tenant's signing keys tell the client listing.
#[derive(Default)]
pub(super) struct TenantKeys {
    /// SHA-1s of every tenant key (client `signing_keys` showing one of them are not records).
    thumbprints: HashSet<String>,
    /// The exact `cert` texts of the tenant keys that decode: a client `signing_keys` entry with
    /// the same text is the same certificate, known to be a tenant key without decoding it
    /// again (every client shows the tenant's current key: one x509 decode per client saved).
    certs: HashSet<String>,
}

/// Poll one tenant once in full (nothing remembered from an earlier poll); see
/// [`poll_tenant_incremental`].
pub async fn poll_tenant(
    api: &dyn Auth0Api,
    tenant: &str,
    domain: &str,
    settings: &PollSettings,
) -> PollOutcome {
    let mut memory = Memory::default();
    let epoch = time::OffsetDateTime::UNIX_EPOCH;
    poll_tenant_incremental(api, tenant, domain, settings, &mut memory, epoch).await
}

/// Poll one tenant once, within `settings.timeout`, re-reading per-object lists only where
/// `memory` (the tenant's earlier polls, updated here) says so at `now`. Never fails as a whole
/// (failures are in `PollOutcome::errors`) and never panics: a panic inside the poll is caught,
/// logged and reported as a failure of every enabled source (`PollOutcome::panicked`), and
/// `memory` is cleared (the next poll is a full one).
pub async fn poll_tenant_incremental(
    api: &dyn Auth0Api,
    tenant: &str,
    domain: &str,
    settings: &PollSettings,
    memory: &mut Memory,
    now: time::OffsetDateTime,
) -> PollOutcome {
    let at = Schedule {
        now,
        period: settings.full_refresh,
    };
    let sent_before = api.requests_sent();
    let polled =
        std::panic::AssertUnwindSafe(poll_until(api, tenant, domain, settings, memory, at))
            .catch_unwind()
            .await;
    let mut out = polled.unwrap_or_else(|panic| {
        memory.clear();
        panicked(tenant, settings, panic.as_ref())
    });
    out.api_calls = api.requests_sent().saturating_sub(sent_before);
    out
}

/// The outcome of a poll that panicked: every enabled source failed, nothing was found (the last
/// poll's records carry over).
fn panicked(
    tenant: &str,
    settings: &PollSettings,
    panic: &(dyn std::any::Any + Send),
) -> PollOutcome {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    let what = crate::escape::one_line(what, 300);
    error!(tenant, panic = %what, "the poll panicked; its sources are reported as failed");
    PollOutcome {
        errors: Source::POLLED
            .into_iter()
            .filter(|s| settings.sources.contains(s))
            .map(|source| PollError {
                source,
                reason: Reason::Decode,
                message: format!("the poll panicked (a certwatch bug, please report it): {what}"),
                object_id: None,
            })
            .collect(),
        panicked: true,
        ..PollOutcome::default()
    }
}

/// Resolves at `deadline` (never without one).
pub(super) async fn expired(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Run `part` to its end (`true`) or until `deadline` (`false`; `part` is dropped there).
async fn bounded(deadline: Option<Instant>, part: impl Future<Output = ()>) -> bool {
    tokio::select! {
        () = part => true,
        () = expired(deadline) => false,
    }
}

/// The poll itself; each part stops at the deadline `settings.timeout` from now.
async fn poll_until(
    api: &dyn Auth0Api,
    tenant: &str,
    domain: &str,
    settings: &PollSettings,
    memory: &mut Memory,
    at: Schedule,
) -> PollOutcome {
    // A timeout too large to add is no timeout (a century is the config's limit anyway).
    let deadline = Instant::now().checked_add(settings.timeout);
    let mut p = Poll {
        api,
        tenant,
        settings,
        out: PollOutcome::default(),
    };

    let Some(keys) = surfaces::signing_keys_first(&mut p, domain, deadline).await else {
        return p.out;
    };

    let mut clients = p.strand();
    let mut connections = p.strand();
    let mut domains = p.strand();
    let mut jwks = p.strand();
    let mut custom_signing = p.strand();
    let mut tenant_saml = p.strand();
    futures::join!(
        async {
            if custom_signing.enabled(Source::CustomSigningKeys)
                && !bounded(
                    deadline,
                    surfaces::custom_signing_keys(&mut custom_signing, domain),
                )
                .await
            {
                custom_signing.timed_out(&[Source::CustomSigningKeys]);
            }
        },
        async {
            if tenant_saml.enabled(Source::TenantSaml)
                && !bounded(deadline, surfaces::tenant_saml(&mut tenant_saml, domain)).await
            {
                tenant_saml.timed_out(&[Source::TenantSaml]);
            }
        },
        async {
            if domains.enabled(Source::CustomDomains)
                && !bounded(deadline, poll_custom_domains(&mut domains)).await
            {
                domains.timed_out(&[Source::CustomDomains]);
            }
        },
        async {
            if jwks.enabled(Source::Jwks) && !bounded(deadline, poll_jwks(&mut jwks)).await {
                jwks.timed_out(&[Source::Jwks]);
            }
        },
        async {
            if (clients.enabled(Source::Clients) || clients.enabled(Source::ClientCredentials))
                && !bounded(
                    deadline,
                    poll_clients(&mut clients, &keys, &mut memory.clients, at),
                )
                .await
            {
                clients.timed_out(&[Source::Clients, Source::ClientCredentials]);
            }
        },
        async {
            if (connections.enabled(Source::Connections)
                || connections.enabled(Source::ConnectionKeys))
                && !bounded(
                    deadline,
                    poll_connections(&mut connections, &mut memory.connections, at),
                )
                .await
            {
                connections.timed_out(&[Source::Connections, Source::ConnectionKeys]);
            }
        },
    );
    p.merge(clients);
    p.merge(connections);
    p.merge(domains);
    p.merge(jwks);
    p.merge(custom_signing);
    p.merge(tenant_saml);
    p.name_owners();
    debug!(
        tenant,
        records = p.out.records.len(),
        errors = p.out.errors.len(),
        "tenant polled"
    );
    p.out
}

/// A client whose credentials are to be read: id, name, the credential ids it references and
/// their fingerprint.
struct CredentialJob {
    id: String,
    name: String,
    refs: HashSet<String>,
    fingerprint: u64,
}

async fn poll_clients(
    p: &mut Poll<'_>,
    keys: &TenantKeys,
    memory: &mut refresh::Objects,
    at: Schedule,
) {
    let api = p.api;
    let plan = p.plan(auth0::route::CLIENTS, PageRequest::first_offset());
    let mut w = (p, Recall::begin(memory, at));
    let walked = walk(
        &mut w,
        plan,
        |req| Box::pin(async move { api.clients(&req).await }),
        |w, page| {
            w.0.reject(Source::Clients, page.rejected);
            let mut jobs: Vec<CredentialJob> = Vec::new();
            for mut c in page.items {
                w.0.note_owner(&c.client_id, c.client_metadata.as_ref());
                if let Some(signing) = &mut c.signing_keys {
                    signing.retain(|k| k.cert.as_ref().is_none_or(|t| !keys.certs.contains(t)));
                }
                let (recs, refs) = sources::client(w.0.tenant, &c, &keys.thumbprints);
                if w.0.enabled(Source::Clients) {
                    w.0.out.records.extend(recs);
                }
                if !refs.is_empty() && w.0.enabled(Source::ClientCredentials) {
                    let name = c.name.unwrap_or_else(|| c.client_id.clone());
                    let fingerprint = refresh::credential_fingerprint(&refs);
                    if !w.1.reuse(&mut w.0.out, &c.client_id, &name, fingerprint) {
                        jobs.push(CredentialJob {
                            id: c.client_id,
                            name,
                            refs,
                            fingerprint,
                        });
                    }
                }
            }
            jobs
        },
        |job: CredentialJob| {
            Box::pin(async move {
                let res = api.client_credentials(&job.id).await;
                (job, res)
            })
        },
        |w, job, res| match res {
            Ok(creds) => {
                let recs = sources::credentials(w.0.tenant, &job.id, &job.name, &job.refs, &creds);
                w.1.read(&mut w.0.out, &job.id, job.fingerprint, recs);
            }
            Err(e) => {
                w.1.memory.forget(&job.id);
                w.0.fail(Source::ClientCredentials, Some(&job.id), &e);
            }
        },
    )
    .await;
    let (p, recall) = w;
    recall.memory.finish(walked.result.is_ok());
    if let Err(e) = p.walked(Source::Clients, walked) {
        p.skip(
            Source::ClientCredentials,
            e.reason(),
            "the client list failed",
        );
    }
}

/// What the connection listing keeps between pages.
struct ConnectionWalk<'p, 'a, 'm> {
    p: &'p mut Poll<'a>,
    recall: Recall<'m>,
    missing_options: usize,
    /// IdP documents to fetch once the listing is done.
    targets: Vec<Target>,
}

async fn poll_connections(p: &mut Poll<'_>, memory: &mut refresh::Objects, at: Schedule) {
    let api = p.api;
    let plan = p.plan(auth0::route::CONNECTIONS, PageRequest::first_checkpoint());
    let mut w = ConnectionWalk {
        p,
        recall: Recall::begin(memory, at),
        missing_options: 0,
        targets: Vec::new(),
    };
    let walked = walk(
        &mut w,
        plan,
        |req| Box::pin(async move { api.connections(&req, &wire::CERT_STRATEGIES).await }),
        |w, page| {
            w.p.reject(Source::Connections, page.rejected);
            let mut jobs = Vec::new();
            for c in page.items {
                w.p.note_owner(&c.id, c.metadata.as_ref());
                let Some(options) = &c.options else {
                    w.missing_options += 1;
                    continue;
                };
                if w.p.enabled(Source::Connections) {
                    w.p.out
                        .records
                        .extend(sources::connection(w.p.tenant, &c, options));
                    if let Some(remote) = &w.p.settings.remote {
                        w.targets
                            .extend(collect::target(&c, options, &remote.metadata_urls));
                    }
                }
                if sources::has_connection_keys(&c) && w.p.enabled(Source::ConnectionKeys) {
                    let fingerprint =
                        refresh::connection_fingerprint(&c.strategy, c.options.as_ref());
                    if !w.recall.reuse(&mut w.p.out, &c.id, &c.name, fingerprint) {
                        jobs.push((wire::Connection { options: None, ..c }, fingerprint));
                    }
                }
            }
            jobs
        },
        |job: (wire::Connection, u64)| {
            Box::pin(async move {
                let res = api.connection_keys(&job.0.id).await;
                (job, res)
            })
        },
        |w, (c, fingerprint), res| match res {
            Ok(keys) => {
                let recs = sources::connection_keys(w.p.tenant, &c, &keys);
                w.recall.read(&mut w.p.out, &c.id, fingerprint, recs);
            }
            Err(e) => {
                w.recall.memory.forget(&c.id);
                w.p.fail(Source::ConnectionKeys, Some(&c.id), &e);
            }
        },
    )
    .await;
    let ConnectionWalk {
        p,
        recall,
        missing_options,
        targets,
    } = w;
    recall.memory.finish(walked.result.is_ok());
    if let Some(remote) = &p.settings.remote {
        p.out.facts.idp =
            collect::fetch_all(remote.fetcher.as_ref(), targets, remote.concurrency).await;
    }
    if let Err(e) = p.walked(Source::Connections, walked) {
        p.skip(
            Source::ConnectionKeys,
            e.reason(),
            "the connection list failed",
        );
        return;
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
    }
}

/// The custom domains (one checkpoint-paginated listing), then, with `[metadata]` enabled, a
/// TLS probe of each ready self-managed one.
async fn poll_custom_domains(p: &mut Poll<'_>) {
    let api = p.api;
    let plan = p.plan(
        auth0::route::CUSTOM_DOMAINS,
        PageRequest::first_checkpoint(),
    );
    let mut found: Vec<crate::remote::CustomDomain> = Vec::new();
    let walked = walk(
        &mut (&mut *p, &mut found),
        plan,
        |req| Box::pin(async move { api.custom_domains(&req).await }),
        |(p, found), page| {
            p.reject(Source::CustomDomains, page.rejected);
            found.extend(page.items.into_iter().map(collect::custom_domain));
            Vec::<()>::new()
        },
        |()| Box::pin(async { ((), Ok(())) }),
        |_, (), _: Result<(), auth0::Error>| {},
    )
    .await;
    if let Err(e) = p.walked(Source::CustomDomains, walked) {
        if let auth0::Error::Forbidden { .. } = e {
            // Say how to fix it: an older token lacks the scope, a plan may lack the feature.
            if let Some(last) = p.out.errors.last_mut() {
                last.message.push_str(
                    " (grant read:custom_domains to certwatch's application, or remove \"custom_domains\" from the tenant's sources)",
                );
            }
        }
        return;
    }
    if let Some(remote) = &p.settings.remote
        && remote.probe_custom_domains
    {
        if p.enabled(Source::TenantSettings) {
            surfaces::mtls_aliases(p, &mut found).await;
        }
        let prober = remote.prober.as_ref();
        futures::stream::iter(
            found
                .iter_mut()
                .filter(|d| d.self_managed() && d.status.as_deref().is_none_or(|s| s == "ready")),
        )
        .for_each_concurrent(p.settings.concurrency.max(1), |d| {
            collect::probe(prober, remote, d)
        })
        .await;
    }
    p.out.facts.custom_domains = Some(found);
}

/// The tenant's public JWKS.
async fn poll_jwks(p: &mut Poll<'_>) {
    match p.api.tenant_jwks().await {
        Ok(body) => match collect::tenant_jwks(&body) {
            Ok(keys) => p.out.facts.jwks = Some(keys),
            Err(e) => {
                warn!(tenant = p.tenant, error = %e, "tenant JWKS does not decode");
                p.out.errors.push(PollError {
                    source: Source::Jwks,
                    reason: Reason::Decode,
                    message: format!("the tenant JWKS does not decode: {e}"),
                    object_id: None,
                });
            }
        },
        Err(e) => p.fail(Source::Jwks, None, &e),
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

#[cfg(test)]
mod tests;
