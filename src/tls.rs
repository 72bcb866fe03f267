//! Optional TLS for the HTTP server (`[server] cert_file`, `key_file`; docs/http.md): PEM files
//! → a rustls `ServerConfig` (aws-lc-rs, TLS 1.2 and 1.3, ALPN `http/1.1`). The daemon serves it
//! through `http::serve`, where a handshake is one of the bounded connections and must finish
//! within the header-read deadline. [`TlsListener`] is a plain `axum::serve` listener on the same
//! configuration, for fakes that need HTTPS (tests of the Auth0 client and the metadata fetcher).
//!
//! Rules: key material never appears in errors, logs or `Debug` output (errors name the file,
//! never its contents). With [`TlsListener`], a client that connects and never finishes its
//! handshake costs one task for at most [`HANDSHAKE_TIMEOUT`] and never blocks other clients, and
//! at most [`MAX_HANDSHAKES`] handshakes run at once (beyond that, connections wait in the
//! kernel's backlog). Certificates are read once per start or reload (SIGHUP), so a renewed
//! certificate is picked up by sending SIGHUP.
//!
//! This module is only about serving. Certificates of Auth0 itself are always verified by the
//! reqwest client (platform verifier); there is no option to turn that off.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once.
pub const MAX_HANDSHAKES: usize = 256;
/// Largest certificate or key file read (a PEM chain is a few kB).
pub const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// Why the server's TLS configuration cannot be built. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The `[server]` key naming the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate file holds no usable certificate.
    #[error("{}: {message}", .path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The key file holds no usable private key.
    #[error("{}: {message}", .path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The certificate and key do not go together, or rustls refused them.
    #[error("the certificate and key cannot be used together: {0}")]
    Mismatch(String),
}

impl Error {
    /// The `[server]` key the error is about (`cert_file` or `key_file`).
    pub fn config_key(&self) -> &'static str {
        match self {
            Error::Read { key, .. } => key,
            Error::Key { .. } => KEY_FILE,
            Error::Certificate { .. } | Error::Mismatch(_) => CERT_FILE,
        }
    }
}

const CERT_FILE: &str = "server.cert_file";
const KEY_FILE: &str = "server.key_file";

fn read_bounded(key: &'static str, path: &Path) -> Result<Vec<u8>, Error> {
    let read = || -> std::io::Result<Vec<u8>> {
        let file = std::fs::File::open(path)?;
        let mut bytes = Vec::new();
        file.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_PEM_BYTES {
            return Err(std::io::Error::other(format!(
                "larger than {MAX_PEM_BYTES} bytes"
            )));
        }
        Ok(bytes)
    };
    read().map_err(|source| Error::Read {
        key,
        path: path.to_path_buf(),
        source,
    })
}

/// Build the server configuration from a PEM certificate chain (leaf first) and a PEM private
/// key (PKCS#8, PKCS#1 or SEC1).
pub fn server_config(
    cert_file: &Path,
    key_file: &Path,
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let cert_pem = read_bounded(CERT_FILE, cert_file)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Certificate {
            path: cert_file.to_path_buf(),
            message: format!("not a PEM certificate chain: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::Certificate {
            path: cert_file.to_path_buf(),
            message: "no CERTIFICATE block found".into(),
        });
    }
    let key_pem = read_bounded(KEY_FILE, key_file)?;
    // The pki-types error names only the PEM section kind, never the key bytes.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| Error::Key {
        path: key_file.to_path_buf(),
        message: format!("no PKCS#8, PKCS#1 or SEC1 private key found: {e}"),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Mismatch(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Mismatch(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener for `axum::serve` that hands out connections whose TLS handshake is complete
/// (fakes in tests; the daemon uses `http::serve`).
/// A background task accepts TCP connections and runs each handshake in its own task; the task
/// stops (closing the port) when the listener is dropped.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    /// Serve TLS on `listener` with `config`.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
        Ok(Self { ready, local_addr })
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let permit = tokio::select! {
            _ = tx.closed() => break,
            p = handshakes.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = tx.closed() => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Like axum's own loop: out of file descriptors and similar are transient.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, peer)).await;
                }
                // Scanners and plain-HTTP clients end up here: debug, not warn.
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    tracing::debug!("TLS accept loop stopped");
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends once this listener is gone; never reached.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path) -> (PathBuf, PathBuf, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k, key.serialize_pem())
    }

    #[test]
    fn loads_a_pem_pair() {
        let dir = tempfile::tempdir().unwrap();
        let (c, k, _) = write_pair(dir.path());
        let cfg = server_config(&c, &k).unwrap();
        assert_eq!(cfg.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn errors_name_the_file_and_never_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let (c, k, key_pem) = write_pair(dir.path());
        let body: String = key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();

        // Certificate and key swapped.
        let e = server_config(&k, &c).unwrap_err();
        assert_eq!(e.config_key(), "server.cert_file", "{e}");
        let msg = e.to_string();
        assert!(msg.contains("key.pem"), "{msg}");
        assert!(!msg.contains(&body[..20]), "key material in {msg}");

        // A key that belongs to another certificate.
        let other = tempfile::tempdir().unwrap();
        let (_, other_key, _) = write_pair(other.path());
        let e = server_config(&c, &other_key).unwrap_err();
        assert!(matches!(e, Error::Mismatch(_)), "{e}");

        // Garbage key, missing file, oversized file.
        std::fs::write(dir.path().join("junk.pem"), "not a key").unwrap();
        let e = server_config(&c, &dir.path().join("junk.pem")).unwrap_err();
        assert_eq!(e.config_key(), "server.key_file", "{e}");
        let e = server_config(&dir.path().join("missing.pem"), &k).unwrap_err();
        assert!(e.to_string().contains("missing.pem"), "{e}");
        assert_eq!(e.config_key(), "server.cert_file");
        let e = server_config(&c, &dir.path().join("missing.pem")).unwrap_err();
        assert_eq!(e.config_key(), "server.key_file");
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; MAX_PEM_BYTES as usize + 1]).unwrap();
        let e = server_config(&big, &k).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }
}
