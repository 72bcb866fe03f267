//! The simulator's HTTP side: [`Sim`] binds a loopback port and serves one [`SimTenant`] with
//! axum. Every request goes through the same pipeline — record, route, rate limit (API routes),
//! scripted fault, bearer-token check, operation (`api.rs`) — so the control knobs on [`Sim`]
//! (faults, rate limit, token expiry, tenant updates) apply uniformly. Public routes (the tenant
//! JWKS, simulated IdP documents from `public.rs`) skip the rate limit and the token check.
//! When the tenant has self-managed custom domains, a TLS listener (`tls.rs`) serves their chains.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::{self, ApiError, ApiRequest, Reply, TokenRequest};
use super::faults::{self, Fault, FaultKind, FaultSet, PagingFault};
use super::pagination::Query;
use super::public::{self, Document};
use super::rate_limit::{Decision, TokenBucket, ceil_secs};
use super::render::Scopes;
use super::routes::{self, Endpoint, Matched};
use super::tenant::{SIM_BASE_URL, SimTenant, random_id};

/// Default `expires_in` of issued tokens (24 h, as Auth0).
pub const DEFAULT_TOKEN_LIFETIME: u64 = 86_400;
/// The thumbprint the `WrongThumbprint` fault answers with (SHA-1 of no real certificate).
const WRONG_THUMBPRINT: &str = "0000000000000000000000000000000000000bad";
/// How long [`Sim::shutdown`] waits for in-flight requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A token-bucket rate limit on the Management API (not on `/oauth/token`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Bucket size (`x-ratelimit-limit`).
    pub burst: u32,
    /// Tokens added per second, continuously.
    pub per_second: f64,
}

/// One request the simulator received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/api/v2/clients/abc/credentials`.
    pub path: String,
    /// Route template, e.g. `/api/v2/clients/{id}/credentials` (empty for unknown paths).
    pub route: String,
    /// Raw query string (without `?`; empty when none).
    pub query: String,
    /// Response status; 0 while the response is still pending (e.g. a hanging fault).
    pub status: u16,
}

/// A running simulated Auth0 tenant.
pub struct Sim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
    tls: Option<(SocketAddr, JoinHandle<()>)>,
}

struct IssuedToken {
    scopes: Scopes,
    expires_at: Instant,
}

struct Limiter {
    bucket: TokenBucket,
    started: Instant,
    /// The lowest `x-ratelimit-remaining` answered since the limit was set.
    lowest: Option<u32>,
}

struct Shared {
    /// `http://127.0.0.1:PORT/`, put in place of [`SIM_BASE_URL`] in responses.
    base_url: String,
    tenant: Mutex<SimTenant>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    requests: Mutex<Vec<(u64, RecordedRequest)>>,
    next_seq: AtomicU64,
    faults: Mutex<FaultSet>,
    limiter: Mutex<Option<Limiter>>,
    retry_after: AtomicBool,
    token_lifetime: AtomicU64,
    cancel: CancellationToken,
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not wedge the simulator).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    /// Serves `tenant` on `127.0.0.1` on a free port.
    pub async fn spawn(tenant: SimTenant) -> std::io::Result<Sim> {
        Self::spawn_on(tenant, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves `tenant` on `addr` (port 0 = any free port).
    pub async fn spawn_on(tenant: SimTenant, addr: SocketAddr) -> std::io::Result<Sim> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let serves_tls = tenant.custom_domains.iter().any(|d| d.served.is_some());
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}/"),
            tenant: Mutex::new(tenant),
            tokens: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            next_seq: AtomicU64::new(0),
            faults: Mutex::new(FaultSet::default()),
            limiter: Mutex::new(None),
            retry_after: AtomicBool::new(false),
            token_lifetime: AtomicU64::new(DEFAULT_TOKEN_LIFETIME),
            cancel: CancellationToken::new(),
        });
        let app = Router::new()
            .fallback(dispatch)
            .with_state(Arc::clone(&shared));
        let cancel = shared.cancel.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "simulator server stopped with an error");
            }
        });
        tracing::debug!(%addr, "Auth0 simulator listening");
        let tls = if serves_tls {
            let lookup_from = Arc::clone(&shared);
            let lookup: super::tls::Lookup =
                Arc::new(move |name| lock(&lookup_from.tenant).served_chain(name).cloned());
            Some(super::tls::spawn(lookup, shared.cancel.clone()).await?)
        } else {
            None
        };
        Ok(Sim {
            addr,
            shared,
            task: Some(task),
            tls,
        })
    }

    /// Where self-managed custom domains are served over TLS (connect here with SNI = the
    /// domain); `None` when the tenant had no self-managed domain with a chain at spawn.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(addr, _)| *addr)
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT/` (API under `api/v2/`, token at `oauth/token`).
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).expect("valid URL")
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order (429s and faulted ones included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Installs a scripted fault (after the existing ones).
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Sets (a full bucket) or removes the Management API rate limit.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        *lock(&self.shared.limiter) = limit.map(|l| Limiter {
            bucket: TokenBucket::new(l.burst, l.per_second),
            started: Instant::now(),
            lowest: None,
        });
    }

    /// The lowest `x-ratelimit-remaining` the bucket answered since [`Sim::set_rate_limit`]
    /// (`None` without a limit or before the first request).
    pub fn lowest_remaining(&self) -> Option<u32> {
        lock(&self.shared.limiter).as_ref()?.lowest
    }

    /// Whether 429 responses carry `Retry-After` (the `x-ratelimit-*` headers always are).
    pub fn set_retry_after(&self, on: bool) {
        self.shared.retry_after.store(on, Ordering::Relaxed);
    }

    /// Invalidates every token issued so far: their next use gets 401.
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }

    /// `expires_in` (seconds) of tokens issued from now on; they stop working after it.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.shared.token_lifetime.store(secs, Ordering::Relaxed);
    }

    /// Reads or changes the tenant (e.g. between polls).
    pub fn update<R>(&self, f: impl FnOnce(&mut SimTenant) -> R) -> R {
        f(&mut lock(&self.shared.tenant))
    }

    /// Stops serving: pending hangs and latencies are released, in-flight requests get
    /// two seconds to finish.
    pub async fn shutdown(mut self) {
        self.shared.cancel.cancel();
        if let Some((_, tls)) = self.tls.take() {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, tls).await;
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some((_, tls)) = self.tls.take() {
            tls.abort();
        }
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("addr", &self.addr)
            .field("tls_addr", &self.tls_addr())
            .finish()
    }
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let matched = routes::match_route(method.as_str(), uri.path());
    let seq = shared.record(&method, &uri, matched.as_ref());
    let response = shared
        .respond(
            method.as_str(),
            matched,
            &headers,
            &body,
            uri.query().unwrap_or(""),
        )
        .await;
    shared.set_status(seq, response.status().as_u16());
    response
}

impl Shared {
    fn record(&self, method: &Method, uri: &Uri, matched: Option<&Matched>) -> u64 {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        lock(&self.requests).push((
            seq,
            RecordedRequest {
                method: method.to_string(),
                path: uri.path().to_owned(),
                route: matched.map(|m| m.template).unwrap_or_default().to_owned(),
                query: uri.query().unwrap_or_default().to_owned(),
                status: 0,
            },
        ));
        seq
    }

    fn set_status(&self, seq: u64, status: u16) {
        let mut requests = lock(&self.requests);
        if let Some((_, r)) = requests.iter_mut().rev().find(|(s, _)| *s == seq) {
            r.status = status;
        }
    }

    async fn respond(
        &self,
        method: &str,
        matched: Option<Matched>,
        headers: &HeaderMap,
        body: &[u8],
        raw_query: &str,
    ) -> Response {
        let Some(matched) = matched else {
            return error_response(&ApiError::unknown_route());
        };
        let is_token = matched.template == routes::TOKEN;
        // Only the Management API is under the token bucket (Auth0 limits the rest apart).
        let decision = if matched.template.starts_with("/api/") {
            self.take_rate_limit()
        } else {
            None
        };
        if decision.is_some_and(|d| !d.allowed) {
            return self.rate_headers(
                error_response(&ApiError::too_many_requests()),
                decision,
                true,
            );
        }

        let fault = lock(&self.faults).on_method_request(method, matched.template);
        if let Some(response) = fault
            .as_ref()
            .and_then(|kind| self.replacement(kind, is_token, decision))
        {
            return response;
        }
        match fault {
            Some(FaultKind::Latency(delay)) => {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = self.cancel.cancelled() => return shutting_down(),
                }
            }
            Some(FaultKind::Hang) => {
                self.cancel.cancelled().await;
                return shutting_down();
            }
            _ => {}
        }

        let reply = match &matched.endpoint {
            None => Err(ApiError::method_not_allowed()),
            Some(Endpoint::Token) => self.issue_token(headers, body),
            Some(endpoint) if endpoint.is_public() => {
                let response = document_response(self.public_document(endpoint, raw_query));
                return match fault {
                    Some(FaultKind::Truncated) => truncated(response).await,
                    _ => response,
                };
            }
            Some(endpoint) => {
                let paging = match &fault {
                    Some(FaultKind::Paging(p)) => Some(p),
                    _ => None,
                };
                let refresh = match &fault {
                    Some(FaultKind::KeepCertificate) => api::Refresh::Keep,
                    _ => api::Refresh::From(&self.base_url),
                };
                self.call_api(endpoint, headers, body, raw_query, (paging, refresh))
            }
        };
        let response = match (fault, reply) {
            (Some(FaultKind::StatusAfterApply(code)), _) => error_response(&ApiError::new(
                code,
                "Simulated fault after the change was applied",
                None,
            )),
            (Some(FaultKind::WrongThumbprint), Ok(mut reply)) => {
                if let Some(options) = reply
                    .body
                    .as_mut()
                    .and_then(|b| b.get_mut("options"))
                    .and_then(Value::as_object_mut)
                {
                    options.insert("thumbprints".into(), json!([WRONG_THUMBPRINT]));
                }
                reply_response(&reply)
            }
            (Some(FaultKind::Truncated), Ok(reply)) => truncated(reply_response(&reply)).await,
            (Some(FaultKind::Truncated), Err(e)) => truncated(error_response(&e)).await,
            (Some(FaultKind::TokenExpiresIn(raw)), Ok(reply)) if is_token => {
                let body = reply.body.unwrap_or_default();
                let json = "application/json; charset=utf-8";
                raw_response(200, json, faults::token_body(&body, &raw).into())
            }
            (_, Ok(reply)) => reply_response(&reply),
            (_, Err(e)) => error_response(&e),
        };
        self.rate_headers(response, decision, false)
    }

    fn take_rate_limit(&self) -> Option<Decision> {
        let mut limiter = lock(&self.limiter);
        let limiter = limiter.as_mut()?;
        let d = limiter.bucket.take(limiter.started.elapsed());
        limiter.lowest = Some(limiter.lowest.map_or(d.remaining, |l| l.min(d.remaining)));
        Some(d)
    }

    /// Adds `x-ratelimit-*` (and `Retry-After` on a 429 when enabled).
    fn rate_headers(
        &self,
        mut response: Response,
        decision: Option<Decision>,
        limited: bool,
    ) -> Response {
        let Some(d) = decision else {
            return response;
        };
        // Wall-clock, like Auth0's: the client compares it with its own wall clock.
        let now = Duration::from_secs_f64(crate::clock::unix_now());
        let reset = ceil_secs(now + d.reset_after);
        let h = response.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        if limited && self.retry_after.load(Ordering::Relaxed) {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(ceil_secs(d.reset_after).max(1)),
            );
        }
        response
    }

    /// The response a fault sends instead of the normal one (with rate-limit headers), or
    /// `None` for faults that delay, alter or follow the normal handling (latency, hang,
    /// truncation, wrong thumbprint, status after apply).
    fn replacement(
        &self,
        kind: &FaultKind,
        is_token: bool,
        decision: Option<Decision>,
    ) -> Option<Response> {
        let json = "application/json; charset=utf-8";
        let response = match *kind {
            FaultKind::Status(429) => {
                let forced = Decision {
                    allowed: false,
                    limit: decision.map_or(10, |d| d.limit),
                    remaining: 0,
                    reset_after: Duration::from_secs(1),
                };
                let err = if is_token {
                    ApiError::oauth(429, "too_many_requests", "Global limit has been reached")
                } else {
                    ApiError::too_many_requests()
                };
                return Some(self.rate_headers(error_response(&err), Some(forced), true));
            }
            FaultKind::Status(code) => error_response(&if is_token {
                ApiError::oauth(code, "server_error", api::reason(code))
            } else {
                ApiError::new(code, "Simulated fault", None)
            }),
            FaultKind::ExpireToken => {
                lock(&self.tokens).clear();
                error_response(&ApiError::expired_token())
            }
            FaultKind::MalformedJson => raw_response(
                200,
                json,
                Bytes::from_static(b"{\"statusCode\":200,\"items\":[{\"id\":\"broken\",\"name\":"),
            ),
            FaultKind::WrongContentType => raw_response(
                200,
                "text/html; charset=utf-8",
                Bytes::from_static(
                    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>\
                      <body><h1>We'll be right back</h1></body></html>",
                ),
            ),
            FaultKind::Giant(n) => raw_response(200, json, giant_body(n)),
            FaultKind::Latency(_)
            | FaultKind::Hang
            | FaultKind::Truncated
            | FaultKind::WrongThumbprint
            | FaultKind::KeepCertificate
            | FaultKind::StatusAfterApply(_)
            | FaultKind::Paging(_)
            | FaultKind::TokenExpiresIn(_) => return None,
        };
        Some(self.rate_headers(response, decision, false))
    }

    fn issue_token(&self, headers: &HeaderMap, body: &[u8]) -> Result<Reply, ApiError> {
        let json_body = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let request = TokenRequest::parse(body, json_body);
        let (client_id, scopes, domain) = {
            let tenant = lock(&self.tenant);
            let (client_id, scopes) = api::authorize_client(&tenant, &request)?;
            (client_id, scopes, tenant.domain.clone())
        };
        let lifetime = self.token_lifetime.load(Ordering::Relaxed);
        let scope = scopes.join(" ");
        let token = jwt_shaped_token(&domain, &client_id, &scope);
        lock(&self.tokens).insert(
            token.clone(),
            IssuedToken {
                scopes: Scopes::new(scopes),
                expires_at: Instant::now() + Duration::from_secs(lifetime),
            },
        );
        Ok(Reply {
            status: 200,
            body: Some(json!({
                "access_token": token,
                "expires_in": lifetime,
                "scope": scope,
                "token_type": "Bearer",
            })),
        })
    }

    fn call_api(
        &self,
        endpoint: &Endpoint,
        headers: &HeaderMap,
        body: &[u8],
        raw_query: &str,
        (paging, refresh): (Option<&PagingFault>, api::Refresh<'_>),
    ) -> Result<Reply, ApiError> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::missing_token)?;
        let scopes = {
            let tokens = lock(&self.tokens);
            match tokens.get(bearer.trim()) {
                Some(t) if Instant::now() < t.expires_at => t.scopes.clone(),
                _ => return Err(ApiError::expired_token()),
            }
        };
        let query = Query::parse(raw_query);
        let request = ApiRequest {
            query: &query,
            body,
            scopes: &scopes,
            paging,
            refresh,
        };
        let mut reply = api::handle(endpoint, &request, &mut lock(&self.tenant))?;
        if let Some(body) = &mut reply.body {
            with_base_url(body, &self.base_url);
        }
        Ok(reply)
    }

    /// The tenant JWKS or a simulated IdP's document.
    fn public_document(&self, endpoint: &Endpoint, raw_query: &str) -> Document {
        let tenant = lock(&self.tenant);
        match endpoint {
            Endpoint::TenantJwks => public::tenant_jwks(&tenant),
            Endpoint::TenantPem => public::tenant_pem(&tenant, raw_query),
            Endpoint::Idp(id, doc) => tenant
                .get_connection(id)
                .map_or_else(Document::not_found, |conn| {
                    public::idp_document(conn, *doc, &self.base_url)
                }),
            _ => Document::not_found(),
        }
    }
}

/// An unsigned token shaped like Auth0's JWTs (header.payload.random); only the simulator
/// interprets it, by lookup.
fn jwt_shaped_token(domain: &str, client_id: &str, scope: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"sim"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        json!({
            "iss": format!("https://{domain}/"),
            "sub": format!("{client_id}@clients"),
            "aud": format!("https://{domain}/api/v2/"),
            "scope": scope,
            "gty": "client-credentials",
            "jti": random_id(24),
        })
        .to_string(),
    );
    format!("{header}.{payload}.{}", random_id(43))
}

/// Replaces the [`SIM_BASE_URL`] placeholder by the simulator's address in every string.
fn with_base_url(value: &mut Value, base: &str) {
    match value {
        Value::String(s) if s.contains(SIM_BASE_URL) => *s = s.replace(SIM_BASE_URL, base),
        Value::Array(items) => items.iter_mut().for_each(|v| with_base_url(v, base)),
        Value::Object(map) => map.values_mut().for_each(|v| with_base_url(v, base)),
        _ => {}
    }
}

fn document_response(doc: Document) -> Response {
    let mut response = raw_response(doc.status, doc.content_type, Bytes::from(doc.body));
    if let Some(cache_control) = doc.cache_control {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
    }
    response
}

fn json_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON serializes"))
}

fn raw_response(status: u16, content_type: &'static str, body: Bytes) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("valid response")
}

fn reply_response(reply: &Reply) -> Response {
    match &reply.body {
        Some(body) => raw_response(
            reply.status,
            "application/json; charset=utf-8",
            json_bytes(body),
        ),
        None => Response::builder()
            .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::NO_CONTENT))
            .body(Body::empty())
            .expect("valid response"),
    }
}

fn error_response(err: &ApiError) -> Response {
    raw_response(
        err.status,
        "application/json; charset=utf-8",
        json_bytes(&err.body),
    )
}

fn shutting_down() -> Response {
    error_response(&ApiError::new(503, "The simulator is shutting down", None))
}

/// The first half of `response`'s body, with `content-length` matching what is sent.
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(half.len()));
    Response::from_parts(parts, Body::from(half))
}

/// A valid JSON document of exactly `n` bytes (a long string; `0` for n = 1).
fn giant_body(n: usize) -> Bytes {
    match n {
        0 => Bytes::new(),
        1 => Bytes::from_static(b"0"),
        _ => {
            let mut body = Vec::with_capacity(n);
            body.push(b'"');
            body.resize(n - 1, b'a');
            body.push(b'"');
            Bytes::from(body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giant_bodies_are_exact_and_valid() {
        for n in [1usize, 2, 3, 1000] {
            let body = giant_body(n);
            assert_eq!(body.len(), n);
            assert!(serde_json::from_slice::<Value>(&body).is_ok(), "{n}");
        }
    }
}
