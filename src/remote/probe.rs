//! The seam for TLS probes of custom domains: the [`Prober`] trait, the real [`TlsProber`]
//! (tokio-rustls, aws-lc-rs) and the fake [`StaticProber`].
//!
//! A probe connects to `connect_to` (`host:port`) or `host:443`, performs a TLS handshake with
//! SNI = `host` and returns the chain the server presents, leaf first. Trust is deliberately
//! not judged: the verifier accepts any chain (self-signed, expired, wrong name, unknown CA)
//! because certwatch reports what is served and when it expires, and an expired certificate is
//! exactly what must be seen. The handshake itself is still authenticated: the server's
//! signatures are verified with the provider's algorithms, so a server that does not hold the
//! key of the certificate it presents fails the probe. Nothing is sent after the handshake.
//! The whole probe (DNS, connect, handshake) is bounded by the timeout.

use super::PublishedCert;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{WebPkiSupportedAlgorithms, aws_lc_rs};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

/// Port probed when no `connect_to` is given.
pub const HTTPS_PORT: u16 = 443;

/// Fetches the certificate chain a TLS server presents.
#[async_trait::async_trait]
pub trait Prober: Send + Sync {
    /// The chain served for SNI `host`, leaf first; `connect_to` (`host:port`) overrides the
    /// address dialled (default `host:443`).
    async fn probe(
        &self,
        host: &str,
        connect_to: Option<&str>,
    ) -> Result<Vec<PublishedCert>, ProbeError>;
}

/// Why a probe failed. `host` is the SNI name, `addr` the address dialled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The host is not a valid DNS name or IP address for SNI.
    #[error("{host}: not a valid TLS server name: {message}")]
    InvalidTarget {
        /// The host given.
        host: String,
        /// What is wrong with it.
        message: String,
    },
    /// DNS resolution or TCP connect failed.
    #[error("{host} ({addr}): cannot connect: {message}")]
    Connect {
        /// SNI name.
        host: String,
        /// Address dialled.
        addr: String,
        /// The OS error.
        message: String,
    },
    /// The TLS handshake failed (no common parameters, a bad signature, not TLS at all).
    #[error("{host} ({addr}): TLS handshake failed: {message}")]
    Tls {
        /// SNI name.
        host: String,
        /// Address dialled.
        addr: String,
        /// rustls's reason.
        message: String,
    },
    /// The handshake completed but no certificate was presented.
    #[error("{host} ({addr}): no certificate presented")]
    NoCertificate {
        /// SNI name.
        host: String,
        /// Address dialled.
        addr: String,
    },
    /// The probe did not finish in time.
    #[error("{host} ({addr}): no TLS handshake within {timeout:?}")]
    Timeout {
        /// SNI name.
        host: String,
        /// Address dialled.
        addr: String,
        /// The bound that was exceeded.
        timeout: Duration,
    },
}

impl ProbeError {
    /// A short stable label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            ProbeError::InvalidTarget { .. } => "invalid_target",
            ProbeError::Connect { .. } => "connect",
            ProbeError::Tls { .. } => "tls",
            ProbeError::NoCertificate { .. } => "no_certificate",
            ProbeError::Timeout { .. } => "timeout",
        }
    }
}

/// The real [`Prober`]: a TLS handshake over TCP.
#[derive(Debug, Clone)]
pub struct TlsProber {
    timeout: Duration,
}

impl TlsProber {
    /// A prober whose every probe is bounded by `timeout`.
    pub fn new(timeout: Duration) -> TlsProber {
        TlsProber { timeout }
    }

    async fn handshake(
        &self,
        name: ServerName<'static>,
        host: &str,
        addr: &str,
    ) -> Result<Vec<PublishedCert>, ProbeError> {
        let tls_error = |message: String| ProbeError::Tls {
            host: host.to_owned(),
            addr: addr.to_owned(),
            message,
        };
        let provider = Arc::new(aws_lc_rs::default_provider());
        let verifier = Arc::new(AcceptAnyChain {
            algorithms: provider.signature_verification_algorithms,
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| ProbeError::Connect {
                host: host.to_owned(),
                addr: addr.to_owned(),
                message: e.to_string(),
            })?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| tls_error(e.to_string()))?;
        let chain = tls.get_ref().1.peer_certificates().unwrap_or_default();
        if chain.is_empty() {
            return Err(ProbeError::NoCertificate {
                host: host.to_owned(),
                addr: addr.to_owned(),
            });
        }
        Ok(chain
            .iter()
            .map(|der| PublishedCert::from_der(der))
            .collect())
    }
}

#[async_trait::async_trait]
impl Prober for TlsProber {
    #[tracing::instrument(name = "remote_probe", skip(self))]
    async fn probe(
        &self,
        host: &str,
        connect_to: Option<&str>,
    ) -> Result<Vec<PublishedCert>, ProbeError> {
        let name =
            ServerName::try_from(host.to_owned()).map_err(|e| ProbeError::InvalidTarget {
                host: host.chars().take(256).collect(),
                message: e.to_string(),
            })?;
        let addr = match connect_to {
            Some(addr) => addr.to_owned(),
            None if host.contains(':') => format!("[{host}]:{HTTPS_PORT}"),
            None => format!("{host}:{HTTPS_PORT}"),
        };
        match tokio::time::timeout(self.timeout, self.handshake(name, host, &addr)).await {
            Ok(result) => result,
            Err(_) => Err(ProbeError::Timeout {
                host: host.to_owned(),
                addr,
                timeout: self.timeout,
            }),
        }
    }
}

/// Accepts any certificate chain (see the module docs) but verifies handshake signatures.
#[derive(Debug)]
struct AcceptAnyChain {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyChain {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A fake [`Prober`] for tests: canned answers per host; a host without one is refused
/// (`Connect`). Records the `(host, connect_to)` of every call.
#[derive(Debug, Default)]
pub struct StaticProber {
    answers: HashMap<String, Result<Vec<PublishedCert>, ProbeError>>,
    calls: Mutex<Vec<(String, Option<String>)>>,
}

impl StaticProber {
    /// A prober that knows no host.
    pub fn new() -> StaticProber {
        StaticProber::default()
    }

    /// Answer probes of `host` with `chain` (leaf first).
    pub fn with(mut self, host: &str, chain: Vec<PublishedCert>) -> StaticProber {
        self.answers.insert(host.to_owned(), Ok(chain));
        self
    }

    /// Answer probes of `host` with `error`.
    pub fn with_error(mut self, host: &str, error: ProbeError) -> StaticProber {
        self.answers.insert(host.to_owned(), Err(error));
        self
    }

    /// Every probe made so far: `(host, connect_to)`.
    pub fn calls(&self) -> Vec<(String, Option<String>)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl Prober for StaticProber {
    async fn probe(
        &self,
        host: &str,
        connect_to: Option<&str>,
    ) -> Result<Vec<PublishedCert>, ProbeError> {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((host.to_owned(), connect_to.map(str::to_owned)));
        self.answers.get(host).cloned().unwrap_or_else(|| {
            Err(ProbeError::Connect {
                host: host.to_owned(),
                addr: connect_to.map_or_else(|| format!("{host}:{HTTPS_PORT}"), str::to_owned),
                message: "no canned answer".into(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::certs::{GeneratedCert, generate_cert};
    use std::net::SocketAddr;
    use time::macros::datetime;
    use tokio_rustls::rustls::pki_types::PrivateKeyDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
    use tokio_rustls::rustls::sign::CertifiedKey;

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// Serves `chain` with the private key `key_pem`, without checking that they match.
    #[derive(Debug)]
    struct Fixed(Arc<CertifiedKey>);

    impl ResolvesServerCert for Fixed {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    async fn serve_tls(chain: &[&GeneratedCert], key_pem: &str) -> SocketAddr {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let key = provider.key_provider.load_private_key(key).unwrap();
        let certs = chain
            .iter()
            .map(|c| CertificateDer::from(c.der.clone()))
            .collect();
        let resolver = Fixed(Arc::new(CertifiedKey::new(certs, key)));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        drop(tls);
                    }
                });
            }
        });
        addr
    }

    fn leaf(cn: &str) -> GeneratedCert {
        generate_cert(
            cn,
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2026-02-03 04:05:06 UTC),
        )
    }

    #[tokio::test]
    async fn probe_returns_the_served_chain_leaf_first() {
        let leaf = leaf("login.example.com");
        let issuer = generate_cert(
            "Example CA",
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2035-01-01 00:00 UTC),
        );
        let addr = serve_tls(&[&leaf, &issuer], &leaf.key_pem).await;
        let chain = TlsProber::new(TIMEOUT)
            .probe("login.example.com", Some(&addr.to_string()))
            .await
            .unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].sha1, leaf.sha1_hex);
        let info = chain[0].cert.as_ref().unwrap();
        assert_eq!(info.not_after, datetime!(2026-02-03 04:05:06 UTC));
        assert_eq!(info.subject, "CN=login.example.com");
        assert_eq!(chain[1].sha1, issuer.sha1_hex);
    }

    #[tokio::test]
    async fn a_server_without_the_certificates_key_fails_the_handshake() {
        let shown = leaf("login.example.com");
        let other = leaf("impostor");
        let addr = serve_tls(&[&shown], &other.key_pem).await;
        let e = TlsProber::new(TIMEOUT)
            .probe("login.example.com", Some(&addr.to_string()))
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "tls", "{e}");
        assert!(e.to_string().to_lowercase().contains("signature"), "{e}");
    }

    #[tokio::test]
    async fn connection_refused_is_a_connect_error() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let e = TlsProber::new(TIMEOUT)
            .probe("login.example.com", Some(&closed.to_string()))
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "connect", "{e}");
        assert!(e.to_string().contains(&closed.to_string()), "{e}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let held = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(held);
        });
        let started = std::time::Instant::now();
        let e = TlsProber::new(Duration::from_millis(200))
            .probe("login.example.com", Some(&addr.to_string()))
            .await
            .unwrap_err();
        assert_eq!(
            e,
            ProbeError::Timeout {
                host: "login.example.com".into(),
                addr: addr.to_string(),
                timeout: Duration::from_millis(200)
            }
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn not_tls_and_bad_names_are_errors() {
        // An HTTP server answering garbage to the ClientHello.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            if let Ok((mut tcp, _)) = listener.accept().await {
                let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        let prober = TlsProber::new(TIMEOUT);
        let e = prober
            .probe("login.example.com", Some(&addr.to_string()))
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "tls", "{e}");
        for bad in ["", "bad host name", "login.example.com:8443"] {
            let e = prober.probe(bad, None).await.unwrap_err();
            assert_eq!(e.reason(), "invalid_target", "{bad:?}: {e}");
        }
    }

    #[tokio::test]
    async fn static_prober_answers_and_records_calls() {
        let cert = leaf("a.example.com");
        let served = vec![PublishedCert::from_der(&cert.der)];
        let fake = StaticProber::new()
            .with("a.example.com", served.clone())
            .with_error(
                "b.example.com",
                ProbeError::NoCertificate {
                    host: "b.example.com".into(),
                    addr: "b.example.com:443".into(),
                },
            );
        let prober: &dyn Prober = &fake;
        assert_eq!(prober.probe("a.example.com", None).await.unwrap(), served);
        let e = prober.probe("b.example.com", None).await.unwrap_err();
        assert_eq!(e.reason(), "no_certificate");
        let e = prober
            .probe("c.example.com", Some("127.0.0.1:8443"))
            .await
            .unwrap_err();
        assert_eq!(e.reason(), "connect");
        assert_eq!(fake.calls().len(), 3);
        assert_eq!(
            fake.calls()[2],
            (
                "c.example.com".to_owned(),
                Some("127.0.0.1:8443".to_owned())
            )
        );
    }
}
