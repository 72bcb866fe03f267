//! The simulator's TLS listener: it plays the web servers of self-managed custom domains. For a
//! ClientHello whose SNI names a custom domain with a served chain, it presents that chain
//! ([`SimServedChain`], looked up at each handshake, so tenant updates apply at once), completes
//! the handshake and closes the connection. A hello without SNI, or for another name, fails the
//! handshake (as a server without a certificate for the name would).
//!
//! Rules, as in `crate::tls`: a client that never finishes its handshake costs one task for at
//! most [`HANDSHAKE_TIMEOUT`]; everything stops when the simulator's cancellation token fires.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_util::sync::CancellationToken;

use super::tenant::SimServedChain;

/// How long a client may take to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Finds the chain served for an SNI hostname.
pub type Lookup = Arc<dyn Fn(&str) -> Option<SimServedChain> + Send + Sync>;

struct BySni {
    lookup: Lookup,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for BySni {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BySni").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?;
        let served = (self.lookup)(name)?;
        match certified_key(&served, &self.provider) {
            Ok(key) => Some(Arc::new(key)),
            Err(e) => {
                tracing::warn!(sni = name, error = %e, "simulated custom domain has an unusable chain");
                None
            }
        }
    }
}

fn certified_key(
    served: &SimServedChain,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let key = PrivateKeyDer::from_pem_slice(served.key_pem.as_bytes())
        .map_err(|e| format!("key: {e}"))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("key: {e}"))?;
    let chain = served
        .chain
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    Ok(CertifiedKey::new(chain, signing))
}

/// Listens on `127.0.0.1` (any free port) until `cancel` fires; returns the address and the
/// accept loop's task.
pub async fn spawn(
    lookup: Lookup,
    cancel: CancellationToken,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(BySni { lookup, provider }));
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "simulator TLS accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = cancel.cancelled() => break,
            };
            let acceptor = acceptor.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                tokio::select! {
                    done = handshake => {
                        if let Ok(Ok(mut tls)) = done {
                            let _ = tls.shutdown().await;
                        }
                    }
                    () = cancel.cancelled() => {}
                }
            });
        }
    });
    tracing::debug!(%addr, "simulated custom-domain TLS listening");
    Ok((addr, task))
}
