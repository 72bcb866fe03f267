//! Peers on 127.0.0.1 for the process-level tests: a port nobody listens on, a GET that reports
//! a failed connection as status 0, a webhook receiver that keeps what it is sent, and
//! self-signed server certificates with a client that trusts them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A loopback port nobody listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn get(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut req = client.get(url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

/// A webhook receiver: answers `status` after `delay`, keeping every JSON body.
pub async fn webhook_receiver(status: u16, delay: Duration) -> (u16, Arc<Mutex<Vec<Value>>>) {
    let inbox: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = inbox.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let sink = sink.clone();
        async move {
            tokio::time::sleep(delay).await;
            let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
            sink.lock().unwrap().push(v);
            axum::http::StatusCode::from_u16(status).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, inbox)
}

/// A self-signed certificate for 127.0.0.1 / localhost, written as PEM files.
pub struct TlsFiles {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Where the certificate is written.
    pub cert: PathBuf,
    /// Where its private key is written.
    pub key: PathBuf,
}

pub fn tls_files(dir: &Path, tag: &str) -> TlsFiles {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("certwatch test {tag}"));
    let cert = params.self_signed(&key).unwrap();
    let files = TlsFiles {
        cert_pem: cert.pem(),
        cert: dir.join(format!("{tag}.crt")),
        key: dir.join(format!("{tag}.key")),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    files
}

pub fn https_client(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}
