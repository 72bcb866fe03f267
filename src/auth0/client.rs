//! The real `Auth0Api`: reqwest (rustls) against `https://{domain}` or any `base_url`.
//!
//! Owns all Management API I/O: the token grant, pacing from `x-ratelimit-*`, waiting out 429s,
//! retrying transient failures, bounded body reads and turning HTTP statuses into `auth0::Error`.
//! The decisions themselves live in `rate_limit`, `pagination` and `token`; this file only acts.
//! The `Auth0Api` methods (route, path, query and decoding of each call) are in `endpoints`.

use super::Observer;
use super::pagination::{PageRequest, next_page};
use super::rate_limit::{self, Governor, Pacer, Permit, RateState, Ticket};
use super::token::{Token, TokenCache};
use super::wire::{self, ErrorBody};
use super::{Error, Page};
use crate::secret::Secret;
use bytes::Bytes;
use reqwest::StatusCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{debug, warn};
use url::Url;

mod endpoints;

/// The largest response body certwatch reads (a bigger one is a `Decode` error, not an OOM).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// 429s tolerated per request before the call fails as `RateLimited`.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 30;
/// Retries of 5xx, timeouts and transport errors per request.
pub const MAX_TRANSIENT_RETRIES: u32 = 2;

/// How to reach one tenant.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Tenant name (labels, logs).
    pub tenant: String,
    /// Base URL, ending in `/` (`https://{domain}/`).
    pub base_url: Url,
    /// M2M application client id.
    pub client_id: String,
    /// M2M application client secret.
    pub client_secret: Secret,
    /// Token audience (`https://{domain}/api/v2/`).
    pub audience: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Client-side pacing; `None` paces from response headers only.
    pub max_requests_per_second: Option<f64>,
    /// The part of the tenant's bucket certwatch may use (`budget_share`).
    pub budget_share: super::budget::Share,
}

/// The reqwest-backed Management API client of one tenant.
pub struct Client {
    http: reqwest::Client,
    settings: Settings,
    token: TokenCache,
    governor: Mutex<Governor>,
    /// Requests wait for the governor one at a time, in arrival order: only the head of the
    /// queue sleeps on a timer (no herd of waiters waking for every token).
    turn: tokio::sync::Mutex<()>,
    pacer: Option<tokio::sync::Mutex<Pacer>>,
    observer: Arc<dyn Observer>,
    /// Management API (and token) requests sent, every attempt.
    sent: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("auth0::Client")
            .field("tenant", &self.settings.tenant)
            .field("base_url", &self.settings.base_url.as_str())
            .finish_non_exhaustive()
    }
}

struct Response {
    status: StatusCode,
    body: Bytes,
}

/// The `certwatch_api_requests_total` endpoint label of the tenant's public JWKS.
pub const JWKS_ENDPOINT: &str = "/.well-known/jwks.json";

/// Which of Auth0's rate limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    /// The Management API token bucket (and `/oauth/token`): paced by the configured pacer and
    /// the governor, whose model the response headers correct.
    Management,
    /// A public Authentication API endpoint (`/.well-known/jwks.json`) with its own, separate
    /// limit: not paced, and its `x-ratelimit-*` headers describe another bucket, so they must
    /// neither correct the governor nor be reported as the Management API's headroom. 429s are
    /// still waited out from its own headers.
    Public,
}

fn lock(governor: &Mutex<Governor>) -> std::sync::MutexGuard<'_, Governor> {
    governor.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request the governor let through; its outcome goes back to the governor exactly once, also
/// when the request future is dropped midway (shutdown, timeout of a caller).
struct InFlight<'a> {
    governor: &'a Mutex<Governor>,
    ticket: Option<Ticket>,
}

impl InFlight<'_> {
    fn finish(mut self, observed: Option<&RateState>, throttled: bool) {
        if let Some(ticket) = self.ticket.take() {
            lock(self.governor).complete(
                ticket,
                tokio::time::Instant::now(),
                crate::clock::unix_now(),
                observed,
                throttled,
            );
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            lock(self.governor).complete(
                ticket,
                tokio::time::Instant::now(),
                crate::clock::unix_now(),
                None,
                false,
            );
        }
    }
}

impl Client {
    /// Build a client; no request is made yet.
    pub fn new(settings: Settings, observer: Arc<dyn Observer>) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("certwatch/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let share = settings.budget_share;
        let pacer = settings
            .max_requests_per_second
            .map(|r| tokio::sync::Mutex::new(Pacer::new(r)));
        Ok(Self {
            http,
            settings,
            token: TokenCache::default(),
            governor: Mutex::new(Governor::with_share(share)),
            turn: tokio::sync::Mutex::new(()),
            pacer,
            observer,
            sent: AtomicU64::new(0),
        })
    }

    /// The tenant this client talks to.
    pub fn tenant(&self) -> &str {
        &self.settings.tenant
    }

    /// Management API and token requests sent so far (see `Auth0Api::requests_sent`).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn url(&self, path: &str) -> Result<Url, Error> {
        self.settings
            .base_url
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Transport(format!("bad URL {path}: {e}")))
    }

    /// Wait for the configured pacer, then for the governor's model of the tenant's bucket.
    async fn pace(&self) -> InFlight<'_> {
        if let Some(pacer) = &self.pacer {
            let wait = pacer.lock().await.reserve(tokio::time::Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        let _turn = self.turn.lock().await;
        let mut waited = Duration::ZERO;
        loop {
            let permit = lock(&self.governor).acquire(tokio::time::Instant::now());
            match permit {
                Permit::Go(ticket) => {
                    if !waited.is_zero() {
                        debug!(tenant = %self.settings.tenant, ?waited, "paced by the rate-limit model");
                    }
                    return InFlight {
                        governor: &self.governor,
                        ticket: Some(ticket),
                    };
                }
                Permit::Wait(wait) => {
                    waited += wait;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Send one logical request: paces (Management API budget only), waits out 429s, retries
    /// transient failures.
    async fn send(
        &self,
        endpoint: &'static str,
        retry_transient: bool,
        budget: Budget,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, Error> {
        let tenant = self.settings.tenant.as_str();
        let mut limited = 0u32;
        let mut transient = 0u32;
        loop {
            let flight = match budget {
                Budget::Management => self.pace().await,
                // No ticket: nothing is taken from (or reported back to) the governor.
                Budget::Public => InFlight {
                    governor: &self.governor,
                    ticket: None,
                },
            };
            if budget == Budget::Management {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            let result = build().send().await;
            let resp = match result {
                Ok(resp) => resp,
                Err(e) => {
                    flight.finish(None, false);
                    let (code, err) = if e.is_timeout() {
                        ("timeout", Error::Timeout(self.settings.timeout))
                    } else {
                        ("transport", Error::Transport(transport_message(&e)))
                    };
                    self.observer.api_request(tenant, endpoint, code);
                    transient += 1;
                    if !retry_transient || transient > MAX_TRANSIENT_RETRIES {
                        return Err(err);
                    }
                    warn!(tenant, endpoint, error = %err, attempt = transient, "Auth0 request failed, retrying");
                    tokio::time::sleep(rate_limit::backoff(transient, Duration::from_millis(500)))
                        .await;
                    continue;
                }
            };
            let status = resp.status();
            self.observer.api_request(tenant, endpoint, status.as_str());
            let state = RateState::from_headers(resp.headers());
            if let (Budget::Management, Some(remaining)) = (budget, state.remaining) {
                self.observer.ratelimit_remaining(tenant, remaining);
            }
            flight.finish(Some(&state), status == StatusCode::TOO_MANY_REQUESTS);
            if status == StatusCode::TOO_MANY_REQUESTS {
                limited += 1;
                if limited > MAX_RATE_LIMIT_RETRIES {
                    return Err(Error::RateLimited { attempts: limited });
                }
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let wait = rate_limit::wait_after_429(
                    retry_after.as_deref(),
                    &state,
                    crate::clock::unix_now(),
                    limited,
                );
                debug!(
                    tenant,
                    endpoint,
                    ?wait,
                    attempt = limited,
                    "429 from Auth0, waiting"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            let body = match read_bounded(resp).await {
                Ok(body) => body,
                Err(err) => {
                    transient += 1;
                    if !retry_transient || transient > MAX_TRANSIENT_RETRIES {
                        return Err(err);
                    }
                    tokio::time::sleep(rate_limit::backoff(transient, Duration::from_millis(500)))
                        .await;
                    continue;
                }
            };
            if status.is_server_error() && retry_transient {
                transient += 1;
                if transient <= MAX_TRANSIENT_RETRIES {
                    warn!(
                        tenant,
                        endpoint,
                        status = status.as_u16(),
                        attempt = transient,
                        "Auth0 server error, retrying"
                    );
                    tokio::time::sleep(rate_limit::backoff(transient, Duration::from_millis(500)))
                        .await;
                    continue;
                }
            }
            return Ok(Response { status, body });
        }
    }

    async fn fetch_token(&self) -> Result<(Secret, Duration), Error> {
        #[derive(serde::Serialize)]
        struct Grant<'a> {
            grant_type: &'static str,
            client_id: &'a str,
            client_secret: &'a str,
            audience: &'a str,
        }
        let url = self.url("oauth/token")?;
        let resp = self
            .send("/oauth/token", true, Budget::Management, || {
                self.http.post(url.clone()).json(&Grant {
                    grant_type: "client_credentials",
                    client_id: &self.settings.client_id,
                    client_secret: self.settings.client_secret.expose(),
                    audience: &self.settings.audience,
                })
            })
            .await?;
        if !resp.status.is_success() {
            return Err(status_error(resp.status, &resp.body, true));
        }
        let token: wire::TokenResponse = serde_json::from_slice(&resp.body)
            .map_err(|e| Error::Decode(format!("token response: {e}")))?;
        let (expires_in, odd) = super::token::lifetime(token.expires_in.as_deref());
        if let Some(odd) = odd {
            warn!(tenant = %self.settings.tenant, ?expires_in, "token response: {odd}; the token is cached for expires_in");
        }
        debug!(tenant = %self.settings.tenant, ?expires_in, scope = token.scope.as_deref().unwrap_or(""), "got Management API token");
        Ok((Secret::new(token.access_token), expires_in))
    }

    async fn token(&self) -> Result<Token, Error> {
        self.token.get(|| self.fetch_token()).await
    }

    /// An authenticated GET returning the body of a 2xx; refreshes the token once on 401.
    async fn get(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Bytes, Error> {
        self.request(reqwest::Method::GET, endpoint, path, query, None)
            .await
    }

    /// An authenticated request. Reads are retried on transient failures; writes only on 429
    /// (which Auth0 answers before doing anything), never on 5xx or timeouts, because the change
    /// may have happened: the caller re-reads and verifies instead.
    async fn request(
        &self,
        method: reqwest::Method,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Bytes, Error> {
        let url = self.url(path)?;
        let idempotent = method == reqwest::Method::GET;
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let resp = self
                .send(endpoint, idempotent, Budget::Management, || {
                    let mut req = self
                        .http
                        .request(method.clone(), url.clone())
                        .query(query)
                        .bearer_auth(token.value.expose());
                    if let Some(body) = body {
                        req = req.json(body);
                    }
                    req
                })
                .await?;
            if resp.status == StatusCode::UNAUTHORIZED && !refreshed {
                debug!(tenant = %self.settings.tenant, endpoint, "401, refreshing the token once");
                self.token.invalidate(token.generation).await;
                refreshed = true;
                continue;
            }
            if !resp.status.is_success() {
                return Err(status_error(resp.status, &resp.body, false));
            }
            return Ok(resp.body);
        }
    }

    async fn write_json(
        &self,
        method: reqwest::Method,
        endpoint: &'static str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, Error> {
        let bytes = self.request(method, endpoint, path, &[], body).await?;
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode(format!("{endpoint}: {e}")))
    }

    async fn get_page<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
        mut query: Vec<(&str, String)>,
        page: &PageRequest,
        key: &str,
        id_field: &str,
    ) -> Result<Page<T>, Error> {
        query.extend(page.query());
        let body = self.get(endpoint, path, &query).await?;
        let (items, rejected, info) =
            wire::decode_list::<T>(&body, key, id_field).map_err(Error::Decode)?;
        Ok(Page {
            items,
            rejected,
            next: next_page(page, &info),
            info,
        })
    }

    async fn get_array<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
        id_field: &str,
    ) -> Result<Vec<T>, Error> {
        let body = self.get(endpoint, path, &[]).await?;
        let (items, rejected, _) =
            wire::decode_list::<T>(&body, "", id_field).map_err(Error::Decode)?;
        if let Some(first) = rejected.first() {
            warn!(tenant = %self.settings.tenant, endpoint, rejected = rejected.len(), first = %first.message, "items that do not decode were skipped");
        }
        Ok(items)
    }
}

/// A transport error's message with its causes (the URL never carries a secret: tokens go in headers).
fn transport_message(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

async fn read_bounded(mut resp: reqwest::Response) -> Result<Bytes, Error> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(Error::Decode(format!(
            "response larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let mut buf = bytes::BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(Error::Decode(format!(
                        "response larger than {MAX_BODY_BYTES} bytes"
                    )));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) if e.is_timeout() => return Err(Error::Timeout(Duration::ZERO)),
            Err(e) => {
                return Err(Error::Transport(format!(
                    "reading body: {}",
                    transport_message(&e)
                )));
            }
        }
    }
}

/// Map a non-2xx status and Auth0 error body to an `Error`.
fn status_error(status: StatusCode, body: &[u8], token_endpoint: bool) -> Error {
    let parsed = ErrorBody::parse(body);
    let (code, message) = (parsed.code(), parsed.message());
    match status.as_u16() {
        401 => Error::Unauthorized { message },
        403 if token_endpoint => Error::Unauthorized {
            message: format!("{code}: {message}"),
        },
        403 => Error::Forbidden { code, message },
        404 => Error::NotFound { message },
        429 => Error::RateLimited { attempts: 0 },
        s if s >= 500 => Error::Server { status: s, message },
        s => Error::Rejected {
            status: s,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests;
