//! The Auth0 Management API seam: the `Auth0Api` trait, its typed errors and page types.
//!
//! `client` is the real implementation (reqwest); the simulator in `crate::sim` plays Auth0 behind
//! it in tests and `demo`. `wire` holds the DTOs shaped like Auth0's JSON, `pagination` and
//! `rate_limit` the pure decisions the client makes (with `budget`: the share of the tenant's
//! rate limit certwatch may use), `token` the cached client-credentials token.
//! `Error::reason` sorts every failure into the `Reason` labels the poll and the metrics report.

pub mod budget;
pub mod client;
mod observer;
pub mod pagination;
pub mod rate_limit;
pub mod token;
pub mod wire;

pub use client::Client;
pub use observer::{NoObserver, Observer};
pub use pagination::{PageInfo, PageRequest};

use std::time::Duration;

/// Route templates of the paginated listings: the `endpoint` label of the request and
/// duplicate counters, and the name a listing's errors give.
pub mod route {
    /// `GET /api/v2/clients` (offset pagination).
    pub const CLIENTS: &str = "/api/v2/clients";
    /// `GET /api/v2/connections` (checkpoint pagination).
    pub const CONNECTIONS: &str = "/api/v2/connections";
    /// `GET /api/v2/custom-domains` (checkpoint pagination).
    pub const CUSTOM_DOMAINS: &str = "/api/v2/custom-domains";
}

/// One page of a list endpoint.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Items that decoded.
    pub items: Vec<T>,
    /// Items that did not decode (one bad object never hides the others).
    pub rejected: Vec<wire::Rejected>,
    /// The next page to ask for, judging by this page alone, if any. A whole listing is walked
    /// with [`pagination::Listing`], which also bounds it (cycles, repeats, caps).
    pub next: Option<PageRequest>,
    /// What the response said about paging (`total`, `next`).
    pub info: PageInfo,
}

/// What went wrong talking to Auth0, by what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 401 after a token refresh, or the token request was refused.
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// Auth0's message.
        message: String,
    },
    /// 403.
    #[error("forbidden ({code}): {message}")]
    Forbidden {
        /// Auth0's `errorCode` (e.g. `insufficient_scope`).
        code: String,
        /// Auth0's message.
        message: String,
    },
    /// 404.
    #[error("not found: {message}")]
    NotFound {
        /// Auth0's message.
        message: String,
    },
    /// Still 429 after the retry budget.
    #[error("rate limited: gave up after {attempts} attempts")]
    RateLimited {
        /// Requests sent.
        attempts: u32,
    },
    /// 5xx after retries.
    #[error("server error {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Auth0's message.
        message: String,
    },
    /// Another 4xx.
    #[error("request rejected {status} ({code}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Auth0's `errorCode`.
        code: String,
        /// Auth0's message.
        message: String,
    },
    /// The request timed out.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Connection-level failure.
    #[error("transport error: {0}")]
    Transport(String),
    /// The body was not what Auth0 returns.
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl Error {
    /// The `reason` label (docs/metrics.md).
    pub fn reason(&self) -> Reason {
        match self {
            Error::Unauthorized { .. } => Reason::Unauthorized,
            Error::Forbidden { code, .. } if code == "insufficient_scope" => Reason::MissingScope,
            Error::Forbidden { .. } => Reason::Forbidden,
            Error::RateLimited { .. } => Reason::RateLimited,
            Error::Server { .. } => Reason::ServerError,
            Error::Timeout(_) => Reason::Timeout,
            Error::Transport(_) => Reason::Transport,
            Error::NotFound { .. } | Error::Rejected { .. } | Error::Decode(_) => Reason::Decode,
        }
    }
}

/// Why a call to Auth0 (or a poll source built on it) failed, by class: the `reason` label
/// (docs/metrics.md). `Error::reason` classifies the client's errors; a poll also uses `Decode`
/// and `MissingScope` for 2xx answers that lack what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 401 that a token refresh did not cure, or bad client credentials.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 429s that outlasted the retry budget.
    RateLimited,
    /// 5xx.
    ServerError,
    /// The request timed out.
    Timeout,
    /// Connection refused, DNS, TLS.
    Transport,
    /// The body was not what Auth0 returns.
    Decode,
    /// The token lacks a scope (e.g. `options` missing without `read:connections_options`).
    MissingScope,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 8] = [
        Reason::Unauthorized,
        Reason::Forbidden,
        Reason::RateLimited,
        Reason::ServerError,
        Reason::Timeout,
        Reason::Transport,
        Reason::Decode,
        Reason::MissingScope,
    ];

    /// The label / JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unauthorized => "unauthorized",
            Reason::Forbidden => "forbidden",
            Reason::RateLimited => "rate_limited",
            Reason::ServerError => "server_error",
            Reason::Timeout => "timeout",
            Reason::Transport => "transport",
            Reason::Decode => "decode",
            Reason::MissingScope => "missing_scope",
        }
    }
}

/// The Management API calls certwatch makes. One implementation talks HTTP (`Client`); tests may
/// provide in-memory ones. Implementations retry 429s and transient failures themselves.
#[async_trait::async_trait]
pub trait Auth0Api: Send + Sync {
    /// `GET /api/v2/keys/signing`.
    async fn signing_keys(&self) -> Result<Vec<wire::SigningKey>, Error>;
    /// One page of `GET /api/v2/clients` (non-global clients, certificate fields only).
    async fn clients(&self, page: &PageRequest) -> Result<Page<wire::Client>, Error>;
    /// `GET /api/v2/clients/{id}/credentials`.
    async fn client_credentials(&self, client_id: &str) -> Result<Vec<wire::Credential>, Error>;
    /// One page of `GET /api/v2/connections`, restricted to `strategies`.
    async fn connections(
        &self,
        page: &PageRequest,
        strategies: &[&str],
    ) -> Result<Page<wire::Connection>, Error>;
    /// `GET /api/v2/connections/{id}/keys`.
    async fn connection_keys(&self, connection_id: &str)
    -> Result<Vec<wire::ConnectionKey>, Error>;
    /// One page of `GET /api/v2/custom-domains` (checkpoint pagination; `read:custom_domains`).
    async fn custom_domains(&self, page: &PageRequest) -> Result<Page<wire::CustomDomain>, Error>;
    /// The tenant's public `GET /.well-known/jwks.json`, verbatim (no token; Auth0 rate-limits
    /// it apart from the Management API, so it does not draw on the Management API budget).
    async fn tenant_jwks(&self) -> Result<bytes::Bytes, Error>;
    /// `GET /api/v2/keys/custom-signing` (`read:custom_signing_keys`); Auth0's 404 ("No custom
    /// signing keys found for this tenant") is an empty list.
    async fn custom_signing_keys(&self) -> Result<Vec<wire::CustomSigningKey>, Error>;
    /// The tenant's public SAML SP certificate, `GET /pem?cert=connection` (no token, outside
    /// the Management API budget like the JWKS); `None` on 404 (the tenant publishes none).
    async fn tenant_saml_cert(&self) -> Result<Option<bytes::Bytes>, Error>;
    /// `mtls.enable_endpoint_aliases` of `GET /api/v2/tenants/settings?fields=mtls`
    /// (`read:tenant_settings`): whether custom domains also serve `mtls.{domain}`.
    async fn mtls_endpoint_aliases(&self) -> Result<bool, Error>;

    // --- writes and full reads, used only by rotation (never retried on 5xx/timeouts) ---

    /// `GET /api/v2/connections/{id}`: the whole connection, verbatim.
    async fn get_connection(&self, id: &str) -> Result<serde_json::Value, Error>;
    /// `PATCH /api/v2/connections/{id}` (replaces the whole `options` object!); returns the result.
    async fn patch_connection(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error>;
    /// `GET /api/v2/clients/{id}`: the whole client, verbatim.
    async fn get_client(&self, id: &str) -> Result<serde_json::Value, Error>;
    /// `PATCH /api/v2/clients/{id}`.
    async fn patch_client(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error>;
    /// `POST /api/v2/clients/{id}/credentials`.
    async fn create_credential(
        &self,
        client_id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error>;
    /// `DELETE /api/v2/clients/{id}/credentials/{credential_id}`.
    async fn delete_credential(&self, client_id: &str, credential_id: &str) -> Result<(), Error>;
    /// `POST /api/v2/keys/signing/rotate` (5 per day on every plan).
    async fn rotate_signing_key(&self) -> Result<serde_json::Value, Error>;

    /// Management API requests (and token requests) sent so far, every attempt counted: the
    /// difference over a poll is its cost (`certwatch_poll_api_calls`). A fake may count none.
    fn requests_sent(&self) -> u64 {
        0
    }
}
