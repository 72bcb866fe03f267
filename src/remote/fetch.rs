//! The seam for remote documents (IdP metadata, OIDC discovery and JWKS): the [`Fetcher`] trait,
//! its reqwest implementation [`HttpFetcher`] and the fake [`StaticFetcher`].
//!
//! Rules of `HttpFetcher`: only `https` URLs unless `allow_http` (checked on the first URL and on
//! every redirect hop; at most [`MAX_REDIRECTS`] hops); the whole exchange, body included, is
//! bounded by `timeout`; the body is read in chunks and abandoned past `max_bytes` (a larger
//! `Content-Length` is refused before reading); any non-2xx status is an error. Server
//! certificates are verified as usual (platform verifier). Proxies come from the environment
//! (`HTTPS_PROXY`, `NO_PROXY`), like every reqwest client.
//!
//! Metadata URLs can carry tokens in their query string or userinfo: error messages and `Debug`
//! output only ever contain [`redact`]ed URLs (scheme, host, port, path).

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;

/// Redirect hops followed at most.
pub const MAX_REDIRECTS: usize = 3;

/// Gets one remote document.
#[async_trait::async_trait]
pub trait Fetcher: Send + Sync {
    /// The body of a successful (2xx) `GET url`.
    async fn get(&self, url: &Url) -> Result<Bytes, FetchError>;
}

/// How [`HttpFetcher`] fetches (`[metadata]`, docs/configuration.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Allow plain `http` URLs and redirects to them.
    pub allow_http: bool,
    /// Bound on the whole exchange: connect, redirects, headers and body.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_bytes: usize,
    /// Hosts a URL (and every redirect hop) may name: each entry matches itself and its
    /// subdomains, lowercase. Empty: any host.
    pub allowed_hosts: Vec<String>,
}

impl FetchSettings {
    /// The rules every URL and redirect hop must pass: scheme, then host.
    fn check(&self, url: &Url) -> Result<(), FetchError> {
        check_scheme(url, self.allow_http)?;
        if self.allowed_hosts.is_empty() {
            return Ok(());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let allowed = self.allowed_hosts.iter().any(|a| {
            host == a
                || host
                    .strip_suffix(a.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        });
        if allowed {
            Ok(())
        } else {
            Err(FetchError::HostNotAllowed {
                url: redact(url),
                host: host.to_string(),
            })
        }
    }
}

/// Why a document could not be fetched. URLs in it are [`redact`]ed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// A URL (or redirect target) whose scheme is not allowed.
    #[error("{url}: scheme {scheme:?} is not allowed (https only unless allow_http)")]
    SchemeNotAllowed {
        /// The refused URL, redacted.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects {
        /// The URL asked for, redacted.
        url: String,
    },
    /// The exchange took longer than the configured timeout.
    #[error("{url}: no complete response within {timeout:?}")]
    Timeout {
        /// The URL asked for, redacted.
        url: String,
        /// The bound that was exceeded.
        timeout: Duration,
    },
    /// DNS, connect, TLS or protocol failure.
    #[error("{url}: {message}")]
    Transport {
        /// The URL asked for, redacted.
        url: String,
        /// What failed (never contains the URL).
        message: String,
    },
    /// A response with a non-2xx status.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL asked for, redacted.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A body larger than `max_bytes`.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge {
        /// The URL asked for, redacted.
        url: String,
        /// The configured `max_bytes`.
        limit: usize,
    },
    /// The body arrived but is not the document expected (for callers that parse it and want
    /// one error type per fetched document).
    #[error("{url}: {message}")]
    Decode {
        /// The URL asked for, redacted.
        url: String,
        /// The parser's message.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// A URL (or redirect target) whose host is not in `[metadata] allowed_hosts`.
    #[error("{url}: host {host:?} is not in [metadata] allowed_hosts")]
    HostNotAllowed {
        /// The URL, redacted.
        url: String,
        /// Its host.
        host: String,
    },
}

impl FetchError {
    /// A short stable label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            FetchError::SchemeNotAllowed { .. } => "scheme_not_allowed",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Transport { .. } => "transport",
            FetchError::Status { .. } => "status",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Decode { .. } => "decode",
            FetchError::Client(_) => "client",
            FetchError::HostNotAllowed { .. } => "host_not_allowed",
        }
    }
}

/// `scheme://host[:port]/path` of `url`: no userinfo, query or fragment (they can hold tokens).
pub fn redact(url: &Url) -> String {
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path())
}

/// The scheme rule for the first URL and every redirect hop.
fn check_scheme(url: &Url, allow_http: bool) -> Result<(), FetchError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http => Ok(()),
        scheme => Err(FetchError::SchemeNotAllowed {
            url: redact(url),
            scheme: scheme.to_owned(),
        }),
    }
}

/// The redirect rule: `previous` holds the URLs already requested (the first one included).
fn check_redirect(
    next: &Url,
    previous: &[Url],
    settings: &FetchSettings,
) -> Result<(), FetchError> {
    if previous.len() > MAX_REDIRECTS {
        return Err(FetchError::TooManyRedirects {
            url: previous.first().map(redact).unwrap_or_default(),
        });
    }
    settings.check(next)
}

/// The reqwest-backed [`Fetcher`].
pub struct HttpFetcher {
    http: reqwest::Client,
    settings: FetchSettings,
}

impl std::fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("remote::HttpFetcher")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HttpFetcher {
    /// Build the client; no request is made yet.
    pub fn new(settings: FetchSettings) -> Result<HttpFetcher, FetchError> {
        Self::build(settings, reqwest::Client::builder())
    }

    fn build(
        settings: FetchSettings,
        builder: reqwest::ClientBuilder,
    ) -> Result<HttpFetcher, FetchError> {
        let rules = settings.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            match check_redirect(attempt.url(), attempt.previous(), &rules) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let http = builder
            .user_agent(concat!("certwatch/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(policy)
            .build()
            .map_err(|e| FetchError::Client(describe(e)))?;
        Ok(HttpFetcher { http, settings })
    }

    async fn fetch(&self, url: &Url) -> Result<Bytes, FetchError> {
        let redacted = || redact(url);
        let limit = self.settings.max_bytes;
        let classify = |e: reqwest::Error| self.classify(url, e);
        let mut resp = self.http.get(url.clone()).send().await.map_err(classify)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: redacted(),
                status: status.as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            url: redacted(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    fn classify(&self, url: &Url, e: reqwest::Error) -> FetchError {
        // Our own redirect refusal travels inside reqwest's error.
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            if let Some(ours) = inner.downcast_ref::<FetchError>() {
                return ours.clone();
            }
            source = inner.source();
        }
        if e.is_timeout() {
            return FetchError::Timeout {
                url: redact(url),
                timeout: self.settings.timeout,
            };
        }
        FetchError::Transport {
            url: redact(url),
            message: describe(e),
        }
    }
}

/// A reqwest error and its causes, without any URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

#[async_trait::async_trait]
impl Fetcher for HttpFetcher {
    #[tracing::instrument(name = "remote_fetch", skip_all, fields(url = %redact(url)))]
    async fn get(&self, url: &Url) -> Result<Bytes, FetchError> {
        self.settings.check(url)?;
        // reqwest's own timeout covers the exchange too; this one also bounds our body loop.
        match tokio::time::timeout(self.settings.timeout, self.fetch(url)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: redact(url),
                timeout: self.settings.timeout,
            }),
        }
    }
}

/// A fake [`Fetcher`] for tests: canned answers per URL and a call counter. A URL without an
/// answer gets `Status { status: 404 }`.
#[derive(Debug, Default)]
pub struct StaticFetcher {
    answers: HashMap<String, Result<Bytes, FetchError>>,
    calls: Mutex<Vec<String>>,
}

impl StaticFetcher {
    /// A fetcher that knows no URL.
    pub fn new() -> StaticFetcher {
        StaticFetcher::default()
    }

    /// Answer `GET url` (compared as the full URL string) with `body`.
    pub fn with(mut self, url: &str, body: impl Into<Bytes>) -> StaticFetcher {
        self.answers.insert(url.to_owned(), Ok(body.into()));
        self
    }

    /// Answer `GET url` with `error`.
    pub fn with_error(mut self, url: &str, error: FetchError) -> StaticFetcher {
        self.answers.insert(url.to_owned(), Err(error));
        self
    }

    /// How many `get` calls were made.
    pub fn calls(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// How many `get` calls were made for `url`.
    pub fn calls_to(&self, url: &str) -> usize {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.iter().filter(|u| u.as_str() == url).count()
    }
}

#[async_trait::async_trait]
impl Fetcher for StaticFetcher {
    async fn get(&self, url: &Url) -> Result<Bytes, FetchError> {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(url.as_str().to_owned());
        self.answers.get(url.as_str()).cloned().unwrap_or_else(|| {
            Err(FetchError::Status {
                url: redact(url),
                status: 404,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::get;
    use std::net::SocketAddr;

    const LIMIT: usize = 1024;

    fn settings(allow_http: bool) -> FetchSettings {
        FetchSettings {
            allow_http,
            timeout: Duration::from_millis(300),
            max_bytes: LIMIT,
            allowed_hosts: Vec::new(),
        }
    }

    fn routes() -> Router {
        Router::new()
            .route("/ok", get(|| async { "<EntityDescriptor/>" }))
            .route(
                "/big",
                get(|| async { vec![b'x'; LIMIT + 1] }), // Content-Length: 1025
            )
            .route("/exact", get(|| async { vec![b'x'; LIMIT] }))
            .route(
                "/stream",
                get(|| async {
                    // No Content-Length: chunks of 100 bytes, 2 kB in all.
                    let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 100]));
                    Body::from_stream(futures::stream::iter(chunks))
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/slow-body",
                get(|| async {
                    let chunks = futures::stream::unfold(0u8, |i| async move {
                        if i > 0 {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                        }
                        (i < 2).then(|| (Ok::<_, std::io::Error>(vec![b'z'; 10]), i + 1))
                    });
                    (
                        [(header::CONTENT_TYPE, "text/xml")],
                        Body::from_stream(chunks),
                    )
                }),
            )
            .route(
                "/secret",
                get(|| async { (StatusCode::FORBIDDEN, "no").into_response() }),
            )
            .route("/hop1", get(|| async { Redirect::temporary("/hop2") }))
            .route("/hop2", get(|| async { Redirect::temporary("/ok") }))
            .route("/loop", get(|| async { Redirect::temporary("/loop") }))
    }

    async fn serve_http() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, routes()).await });
        addr
    }

    fn url(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).unwrap()
    }

    #[tokio::test]
    async fn fetches_a_body_and_follows_a_few_redirects() {
        let addr = serve_http().await;
        let fetcher = HttpFetcher::new(settings(true)).unwrap();
        let body = fetcher.get(&url(addr, "/ok")).await.unwrap();
        assert_eq!(&body[..], b"<EntityDescriptor/>");
        let body = fetcher.get(&url(addr, "/hop1")).await.unwrap();
        assert_eq!(&body[..], b"<EntityDescriptor/>");
        let body = fetcher.get(&url(addr, "/exact")).await.unwrap();
        assert_eq!(body.len(), LIMIT);
        let e = fetcher.get(&url(addr, "/loop")).await.unwrap_err();
        assert_eq!(e.reason(), "too_many_redirects", "{e}");
    }

    #[tokio::test]
    async fn non_2xx_is_a_status_error_without_the_query() {
        let addr = serve_http().await;
        let fetcher = HttpFetcher::new(settings(true)).unwrap();
        let u = Url::parse(&format!("http://user:pw@{addr}/missing?token=s3cret")).unwrap();
        let e = fetcher.get(&u).await.unwrap_err();
        assert_eq!(
            e,
            FetchError::Status {
                url: format!("http://{addr}/missing"),
                status: 404
            }
        );
        assert_eq!(e.reason(), "status");
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains("s3cret") && !text.contains("pw"), "{text}");
        }
        let e = fetcher.get(&url(addr, "/secret")).await.unwrap_err();
        assert!(e.to_string().contains("403"), "{e}");
    }

    #[tokio::test]
    async fn too_large_with_and_without_content_length() {
        let addr = serve_http().await;
        let fetcher = HttpFetcher::new(settings(true)).unwrap();
        for path in ["/big", "/stream"] {
            let e = fetcher.get(&url(addr, path)).await.unwrap_err();
            assert_eq!(e.reason(), "too_large", "{path}: {e}");
            assert!(e.to_string().contains("1024 bytes"), "{e}");
        }
    }

    #[tokio::test]
    async fn slow_headers_and_slow_bodies_time_out() {
        let addr = serve_http().await;
        let fetcher = HttpFetcher::new(settings(true)).unwrap();
        for path in ["/slow", "/slow-body"] {
            let started = std::time::Instant::now();
            let e = fetcher.get(&url(addr, path)).await.unwrap_err();
            assert_eq!(e.reason(), "timeout", "{path}: {e}");
            assert!(started.elapsed() < Duration::from_secs(3), "{path}");
        }
    }

    #[tokio::test]
    async fn http_is_refused_unless_allowed_and_transport_errors_are_labelled() {
        let addr = serve_http().await;
        let fetcher = HttpFetcher::new(settings(false)).unwrap();
        let e = fetcher
            .get(&Url::parse(&format!("http://{addr}/ok?sig=abc")).unwrap())
            .await
            .unwrap_err();
        assert_eq!(
            e,
            FetchError::SchemeNotAllowed {
                url: format!("http://{addr}/ok"),
                scheme: "http".into()
            }
        );
        assert_eq!(e.reason(), "scheme_not_allowed");
        let e = fetcher
            .get(&Url::parse("file:///etc/passwd").unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "scheme_not_allowed");

        // A closed port: a transport error that does not echo the query.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let fetcher = HttpFetcher::new(settings(true)).unwrap();
        let e = fetcher
            .get(&Url::parse(&format!("http://{closed}/x?token=s3cret")).unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "transport", "{e}");
        assert!(!format!("{e} {e:?}").contains("s3cret"), "{e:?}");
    }

    /// An HTTPS server for `localhost` whose (self-signed) certificate the returned fetcher trusts.
    async fn serve_https(allow_http: bool, http: SocketAddr) -> (SocketAddr, HttpFetcher) {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = crate::tls::TlsListener::new(listener, std::sync::Arc::new(config)).unwrap();
        let to_http = format!("http://{http}/ok");
        let app = routes().route(
            "/to-http",
            get(move || async move { Redirect::temporary(&to_http) }),
        );
        tokio::spawn(async move { axum::serve(tls, app).await });
        let root = reqwest::Certificate::from_der(cert.der()).unwrap();
        let builder = reqwest::Client::builder()
            .tls_certs_only([root])
            .resolve("localhost", addr);
        (
            addr,
            HttpFetcher::build(settings(allow_http), builder).unwrap(),
        )
    }

    #[tokio::test]
    async fn redirect_from_https_to_http_is_refused_unless_allowed() {
        let http = serve_http().await;
        let (addr, strict) = serve_https(false, http).await;
        let https = |path: &str| Url::parse(&format!("https://localhost:{}{path}", addr.port()));
        assert_eq!(
            &strict.get(&https("/hop1").unwrap()).await.unwrap()[..],
            b"<EntityDescriptor/>"
        );
        let e = strict.get(&https("/to-http").unwrap()).await.unwrap_err();
        assert_eq!(
            e,
            FetchError::SchemeNotAllowed {
                url: format!("http://{http}/ok"),
                scheme: "http".into()
            }
        );
        let (addr, lax) = serve_https(true, http).await;
        let u = Url::parse(&format!("https://localhost:{}/to-http", addr.port())).unwrap();
        assert_eq!(&lax.get(&u).await.unwrap()[..], b"<EntityDescriptor/>");
    }

    #[test]
    fn redact_keeps_only_scheme_host_port_and_path() {
        for (input, expected) in [
            (
                "https://user:pw@idp.example.com:8443/fed/metadata.xml?token=abc#frag",
                "https://idp.example.com:8443/fed/metadata.xml",
            ),
            (
                "https://login.example.com/.well-known/jwks.json",
                "https://login.example.com/.well-known/jwks.json",
            ),
            ("http://[::1]:8080/x?y", "http://[::1]:8080/x"),
            ("https://a.example/?sig=1", "https://a.example/"),
        ] {
            assert_eq!(redact(&Url::parse(input).unwrap()), expected);
        }
    }

    #[test]
    fn redirect_rule() {
        let first = Url::parse("https://a.example/m?t=1").unwrap();
        let https = Url::parse("https://b.example/m").unwrap();
        let http = Url::parse("http://b.example/m").unwrap();
        let hops = |n: usize| vec![first.clone(); n];
        let (strict, lax) = (settings(false), settings(true));
        assert_eq!(check_redirect(&https, &hops(1), &strict), Ok(()));
        assert_eq!(check_redirect(&https, &hops(3), &strict), Ok(()));
        assert_eq!(
            check_redirect(&https, &hops(4), &strict),
            Err(FetchError::TooManyRedirects {
                url: "https://a.example/m".into()
            })
        );
        assert_eq!(
            check_redirect(&http, &hops(1), &strict)
                .unwrap_err()
                .reason(),
            "scheme_not_allowed"
        );
        assert_eq!(check_redirect(&http, &hops(1), &lax), Ok(()));
        // allowed_hosts applies to every hop: the host itself and its subdomains only.
        let only = FetchSettings {
            allowed_hosts: vec!["a.example".into()],
            ..settings(false)
        };
        let to = |u: &str| check_redirect(&Url::parse(u).unwrap(), &hops(1), &only);
        assert_eq!(to("https://a.example/x"), Ok(()));
        assert_eq!(to("https://idp.A.example./x"), Ok(()));
        assert_eq!(
            to("https://b.example/m").unwrap_err().reason(),
            "host_not_allowed"
        );
        assert_eq!(
            to("https://evila.example/x").unwrap_err().reason(),
            "host_not_allowed"
        );
        assert_eq!(
            to("https://169.254.169.254/latest").unwrap_err().reason(),
            "host_not_allowed"
        );
    }

    #[tokio::test]
    async fn static_fetcher_answers_and_counts() {
        let fake = StaticFetcher::new()
            .with("https://idp.example.com/metadata", "<xml/>")
            .with_error(
                "https://down.example.com/jwks",
                FetchError::Timeout {
                    url: "https://down.example.com/jwks".into(),
                    timeout: Duration::from_secs(10),
                },
            );
        let u = |s: &str| Url::parse(s).unwrap();
        let fetcher: &dyn Fetcher = &fake;
        assert_eq!(
            &fetcher
                .get(&u("https://idp.example.com/metadata"))
                .await
                .unwrap()[..],
            b"<xml/>"
        );
        let e = fetcher
            .get(&u("https://down.example.com/jwks"))
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "timeout");
        let e = fetcher
            .get(&u("https://unknown.example.com/"))
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "status");
        fetcher
            .get(&u("https://idp.example.com/metadata"))
            .await
            .unwrap();
        assert_eq!(fake.calls(), 4);
        assert_eq!(fake.calls_to("https://idp.example.com/metadata"), 2);
    }
}
