//! One tenant's poll: walks every enabled source through `&dyn Auth0Api`, converts pages as they
//! arrive (no tenant-wide JSON is held) and records failures per source instead of aborting.
//!
//! Shape of a poll, chosen so the rate limit — not round trips — bounds its duration: the
//! signing keys first (clients need their thumbprints, and a refused token stops everything
//! there), then the client and the connection listings side by side. Each listing is a [`walk`]:
//! its per-object calls (credentials, connection keys) start as soon as the page naming the
//! object arrives, up to `concurrency` at a time, while the next page loads. Pacing is the
//! client's business (`auth0::rate_limit::Governor`), so extra concurrency never means 429s.

use super::{CertRecord, PollError, PollOutcome, Reason, Source, sources};
use crate::auth0::{self, Auth0Api, Page, PageRequest, wire};
use crate::remote::collect::{self, Remote, Target};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use std::collections::{BTreeSet, HashSet, VecDeque};
use tracing::{debug, warn};

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
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            sources: Source::POLLED.into_iter().collect(),
            concurrency: 4,
            remote: None,
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

    fn merge(&mut self, other: Poll<'_>) {
        self.out.records.extend(other.out.records);
        self.out.errors.extend(other.out.errors);
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
struct TenantKeys {
    /// SHA-1s of every tenant key (client `signing_keys` showing one of them are not records).
    thumbprints: HashSet<String>,
    /// The exact `cert` texts of the tenant keys that decode: a client `signing_keys` entry with
    /// the same text is the same certificate, known to be a tenant key without decoding it
    /// again (every client shows the tenant's current key: one x509 decode per client saved).
    certs: HashSet<String>,
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

    let mut keys = TenantKeys::default();
    if p.enabled(Source::SigningKeys) {
        match api.signing_keys().await {
            Ok(list) => {
                let (recs, thumbs) = sources::signing_keys(tenant, domain, &list);
                keys.certs = list
                    .iter()
                    .zip(&recs)
                    .filter(|(_, r)| r.sha1.is_some())
                    .filter_map(|(k, _)| k.cert.clone())
                    .collect();
                keys.thumbprints = thumbs;
                p.out.records.extend(recs);
            }
            Err(e) => {
                p.fail(Source::SigningKeys, None, &e);
                if Poll::is_fatal(&e) {
                    let why = e.to_string();
                    for s in Source::after_signing_keys() {
                        p.skip(s, e.reason(), &why);
                    }
                    return p.out;
                }
            }
        }
    }

    let mut clients = p.strand();
    let mut connections = p.strand();
    let mut domains = p.strand();
    let mut jwks = p.strand();
    let mut custom_signing = p.strand();
    let mut tenant_saml = p.strand();
    futures::join!(
        async {
            if custom_signing.enabled(Source::CustomSigningKeys) {
                surfaces::custom_signing_keys(&mut custom_signing, domain).await;
            }
        },
        async {
            if tenant_saml.enabled(Source::TenantSaml) {
                surfaces::tenant_saml(&mut tenant_saml, domain).await;
            }
        },
        async {
            if domains.enabled(Source::CustomDomains) {
                poll_custom_domains(&mut domains).await;
            }
        },
        async {
            if jwks.enabled(Source::Jwks) {
                poll_jwks(&mut jwks).await;
            }
        },
        async {
            if clients.enabled(Source::Clients) || clients.enabled(Source::ClientCredentials) {
                poll_clients(&mut clients, &keys).await;
            }
        },
        async {
            if connections.enabled(Source::Connections)
                || connections.enabled(Source::ConnectionKeys)
            {
                poll_connections(&mut connections).await;
            }
        },
    );
    p.merge(clients);
    p.merge(connections);
    p.merge(domains);
    p.merge(jwks);
    p.merge(custom_signing);
    p.merge(tenant_saml);
    debug!(
        tenant,
        records = p.out.records.len(),
        errors = p.out.errors.len(),
        "tenant polled"
    );
    p.out
}

/// Page through a listing from `first`; `on_page` folds each page into `state` and names the
/// per-object calls it needs, which run (up to `concurrency` at once) while later pages load;
/// `on_detail` folds their results. A page that fails ends the listing (calls already started
/// finish, queued ones are dropped) and is returned.
async fn walk<'f, S, T, J, D>(
    state: &mut S,
    first: PageRequest,
    concurrency: usize,
    fetch_page: impl Fn(PageRequest) -> BoxFuture<'f, Result<Page<T>, auth0::Error>>,
    on_page: impl Fn(&mut S, Page<T>) -> Vec<J>,
    fetch_detail: impl Fn(J) -> BoxFuture<'f, (J, Result<D, auth0::Error>)>,
    on_detail: impl Fn(&mut S, J, Result<D, auth0::Error>),
) -> Result<(), auth0::Error> {
    let mut page = Some(fetch_page(first));
    let mut queued: VecDeque<J> = VecDeque::new();
    let mut running = FuturesUnordered::new();
    let mut failed = None;
    loop {
        while running.len() < concurrency.max(1) {
            let Some(job) = queued.pop_front() else { break };
            running.push(fetch_detail(job));
        }
        let listed = match (&mut page, running.is_empty()) {
            (None, true) => break,
            (Some(next), true) => Some(next.await),
            (None, false) => None,
            (Some(next), false) => tokio::select! {
                listed = next => Some(listed),
                Some((job, res)) = running.next() => {
                    on_detail(state, job, res);
                    None
                }
            },
        };
        match listed {
            Some(Ok(p)) => {
                let more = p.next.clone();
                queued.extend(on_page(state, p));
                page = more.map(&fetch_page);
            }
            Some(Err(e)) => {
                failed = Some(e);
                page = None;
                queued.clear();
            }
            None if page.is_none() => {
                if let Some((job, res)) = running.next().await {
                    on_detail(state, job, res);
                }
            }
            None => {}
        }
    }
    failed.map_or(Ok(()), Err)
}

/// A client whose credentials are to be read: id, name and the credential ids it references.
type CredentialJob = (String, String, HashSet<String>);

async fn poll_clients(p: &mut Poll<'_>, keys: &TenantKeys) {
    let api = p.api;
    let concurrency = p.settings.concurrency;
    let listed = walk(
        p,
        PageRequest::first_offset(),
        concurrency,
        |req| Box::pin(async move { api.clients(&req).await }),
        |p, page| {
            p.reject(Source::Clients, page.rejected);
            let mut jobs: Vec<CredentialJob> = Vec::new();
            for mut c in page.items {
                if let Some(signing) = &mut c.signing_keys {
                    signing.retain(|k| k.cert.as_ref().is_none_or(|t| !keys.certs.contains(t)));
                }
                let (recs, refs) = sources::client(p.tenant, &c, &keys.thumbprints);
                if p.enabled(Source::Clients) {
                    p.out.records.extend(recs);
                }
                if !refs.is_empty() && p.enabled(Source::ClientCredentials) {
                    let name = c.name.unwrap_or_else(|| c.client_id.clone());
                    jobs.push((c.client_id, name, refs));
                }
            }
            jobs
        },
        |job: CredentialJob| {
            Box::pin(async move {
                let res = api.client_credentials(&job.0).await;
                (job, res)
            })
        },
        |p, (id, name, refs), res| match res {
            Ok(creds) => p
                .out
                .records
                .extend(sources::credentials(p.tenant, &id, &name, &refs, &creds)),
            Err(e) => p.fail(Source::ClientCredentials, Some(&id), &e),
        },
    )
    .await;
    if let Err(e) = listed {
        p.fail(Source::Clients, None, &e);
        p.skip(
            Source::ClientCredentials,
            e.reason(),
            "the client list failed",
        );
    }
}

/// What the connection listing keeps between pages.
struct ConnectionWalk<'p, 'a> {
    p: &'p mut Poll<'a>,
    missing_options: usize,
    /// IdP documents to fetch once the listing is done.
    targets: Vec<Target>,
}

async fn poll_connections(p: &mut Poll<'_>) {
    let api = p.api;
    let concurrency = p.settings.concurrency;
    let mut w = ConnectionWalk {
        p,
        missing_options: 0,
        targets: Vec::new(),
    };
    let listed = walk(
        &mut w,
        PageRequest::first_checkpoint(),
        concurrency,
        |req| Box::pin(async move { api.connections(&req, &wire::CERT_STRATEGIES).await }),
        |w, page| {
            w.p.reject(Source::Connections, page.rejected);
            let mut jobs = Vec::new();
            for c in page.items {
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
                    jobs.push(wire::Connection { options: None, ..c });
                }
            }
            jobs
        },
        |c: wire::Connection| {
            Box::pin(async move {
                let res = api.connection_keys(&c.id).await;
                (c, res)
            })
        },
        |w, c, res| match res {
            Ok(keys) => {
                w.p.out
                    .records
                    .extend(sources::connection_keys(w.p.tenant, &c, &keys))
            }
            Err(e) => w.p.fail(Source::ConnectionKeys, Some(&c.id), &e),
        },
    )
    .await;
    let ConnectionWalk {
        p,
        missing_options,
        targets,
    } = w;
    if let Some(remote) = &p.settings.remote {
        p.out.facts.idp =
            collect::fetch_all(remote.fetcher.as_ref(), targets, remote.concurrency).await;
    }
    if let Err(e) = listed {
        p.fail(Source::Connections, None, &e);
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
    let mut found: Vec<crate::remote::CustomDomain> = Vec::new();
    let mut req = PageRequest::first_checkpoint();
    loop {
        match api.custom_domains(&req).await {
            Ok(page) => {
                p.reject(Source::CustomDomains, page.rejected);
                found.extend(page.items.into_iter().map(collect::custom_domain));
                match page.next {
                    Some(next) => req = next,
                    None => break,
                }
            }
            Err(e) => {
                p.fail(Source::CustomDomains, None, &e);
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
        }
    }
    if let Some(remote) = &p.settings.remote
        && remote.probe_custom_domains
    {
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
mod tests {
    use super::*;
    use crate::auth0::Error;
    use serde_json::Value;

    /// An Auth0 that refuses the token: the signing keys (the first call) fail as `Unauthorized`,
    /// and nothing else may be asked.
    struct Refused;

    #[async_trait::async_trait]
    impl Auth0Api for Refused {
        async fn signing_keys(&self) -> Result<Vec<wire::SigningKey>, Error> {
            Err(Error::Unauthorized {
                message: "access_denied".into(),
            })
        }
        async fn clients(&self, _: &PageRequest) -> Result<Page<wire::Client>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn client_credentials(&self, _: &str) -> Result<Vec<wire::Credential>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn connections(
            &self,
            _: &PageRequest,
            _: &[&str],
        ) -> Result<Page<wire::Connection>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn connection_keys(&self, _: &str) -> Result<Vec<wire::ConnectionKey>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn custom_domains(&self, _: &PageRequest) -> Result<Page<wire::CustomDomain>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn tenant_jwks(&self) -> Result<bytes::Bytes, Error> {
            unreachable!("polled after a refused token")
        }
        async fn custom_signing_keys(&self) -> Result<Vec<wire::CustomSigningKey>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn tenant_saml_cert(&self) -> Result<Option<bytes::Bytes>, Error> {
            unreachable!("polled after a refused token")
        }
        async fn get_connection(&self, _: &str) -> Result<Value, Error> {
            unreachable!("a poll never reads whole objects")
        }
        async fn patch_connection(&self, _: &str, _: &Value) -> Result<Value, Error> {
            unreachable!("a poll never writes")
        }
        async fn get_client(&self, _: &str) -> Result<Value, Error> {
            unreachable!("a poll never reads whole objects")
        }
        async fn patch_client(&self, _: &str, _: &Value) -> Result<Value, Error> {
            unreachable!("a poll never writes")
        }
        async fn create_credential(&self, _: &str, _: &Value) -> Result<Value, Error> {
            unreachable!("a poll never writes")
        }
        async fn delete_credential(&self, _: &str, _: &str) -> Result<(), Error> {
            unreachable!("a poll never writes")
        }
        async fn rotate_signing_key(&self) -> Result<Value, Error> {
            unreachable!("a poll never writes")
        }
    }

    #[tokio::test]
    async fn a_refused_token_reports_every_polled_source() {
        let out = poll_tenant(&Refused, "t", "t.auth0.com", &PollSettings::default()).await;
        let failed: Vec<Source> = out.errors.iter().map(|e| e.source).collect();
        // From the enum itself (serde's list of variants), not from `Source::POLLED`: a source
        // added to the enum but skipped here fails this test.
        let every: Vec<&str> = super::super::tests::source_variants()
            .iter()
            .copied()
            .filter(|name| *name != Source::Token.as_str())
            .collect();
        let failed_names: Vec<&str> = failed.iter().map(|s| s.as_str()).collect();
        assert_eq!(failed_names, every);
        assert!(out.errors.iter().all(|e| e.reason == Reason::Unauthorized));
        assert!(
            out.errors[1..]
                .iter()
                .all(|e| e.message.starts_with("not polled: "))
        );
        assert!(out.records.is_empty());
    }
}
