//! End-to-end tests of the simulator over real HTTP (reqwest against `Sim::spawn` on port 0),
//! including shape tests against the real Auth0 bodies in `tests/fixtures/auth0/`. This file
//! holds what the subject files share: constants, the recorded bodies, the [`Api`] client, tenant
//! fixtures and a few fetchers.
//!
//! Subjects: `tokens` (grant, lifetime, scopes), `listing` (pagination envelopes, fields,
//! filters), `rate_limiting`, `scripted_faults`, `writes` (PATCH semantics, credentials, key
//! rotation), `metadata_refresh` (a PATCH that re-reads `metadataUrl`), `shapes` (against the recordings), `public_jwks`, `custom_domains`,
//! `tls_listener` (the custom-domain TLS listener), `upstream_idps` and `demo_tenant` (the demo
//! tenant and its remote checks).

mod custom_domains;
mod demo_tenant;
mod listing;
mod metadata_refresh;
mod public_jwks;
mod rate_limiting;
mod scripted_faults;
mod shapes;
mod tls_listener;
mod tokens;
mod upstream_idps;
mod writes;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const DOMAIN: &str = "acme.eu.auth0.com";
const M2M: &str = "certwatch-m2m";
const SECRET: &str = "m2m-secret";
const READ_ALL: &[&str] = demo::DEMO_SCOPES;
const WRITE_ALL: &[&str] = &[
    "read:connections",
    "read:connections_options",
    "update:connections",
    "update:connections_options",
    "read:clients",
    "read:client_keys",
    "read:client_credentials",
    "update:clients",
    "update:client_credentials",
    "create:client_credentials",
    "delete:client_credentials",
    "read:signing_keys",
    "create:signing_keys",
    "update:signing_keys",
];

fn recorded(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/auth0/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The type skeleton of a JSON value: same keys, same JSON types, arrays element by element.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
    }
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn cert(cn: &str, left_days: i64) -> GeneratedCert {
    generate_cert(
        cn,
        NOW - time::Duration::days(30),
        NOW + time::Duration::days(left_days),
    )
}

/// A running simulator plus an HTTP client holding a token.
struct Api {
    sim: Sim,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn start(tenant: SimTenant, scopes: &[&str]) -> Api {
        let sim = Sim::spawn(tenant.m2m(M2M, SECRET, scopes)).await.unwrap();
        let http = reqwest::Client::new();
        let token = fetch_token(&http, &sim, M2M, SECRET).await;
        Api { sim, http, token }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.sim.url(),
            path_and_query.trim_start_matches('/')
        )
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let resp = req.bearer_auth(&self.token).send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, headers, body)
    }

    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.send(self.http.get(self.url(path_and_query))).await;
        (status, body)
    }

    async fn ok(&self, path_and_query: &str) -> Value {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(status, StatusCode::OK, "{path_and_query}: {body}");
        body
    }

    async fn patch(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(self.http.patch(self.url(path)).json(body)).await;
        (status, body)
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(self.http.post(self.url(path)).json(body)).await;
        (status, body)
    }
}

async fn fetch_token(http: &reqwest::Client, sim: &Sim, id: &str, secret: &str) -> String {
    fetch_token_on(http, sim, DOMAIN, id, secret).await
}

/// A token for a simulated tenant on `domain`.
async fn fetch_token_on(
    http: &reqwest::Client,
    sim: &Sim,
    domain: &str,
    id: &str,
    secret: &str,
) -> String {
    let resp = http
        .post(sim.url().join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", &format!("https://{domain}/api/v2/")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn tenant() -> SimTenant {
    SimTenant::new(DOMAIN).at(NOW)
}

fn tenant_with_clients(n: usize) -> SimTenant {
    let mut t = tenant().global_client("global000000000000000000000000000");
    for i in 0..n {
        t = t.client(SimClient::new(
            &format!("client{i:02}"),
            &format!("app-{i}"),
        ));
    }
    t
}

fn tenant_with_connections() -> SimTenant {
    tenant()
        .connection(SimConnection::samlp("con_a", "saml-a", &cert("a", 100).pem))
        .connection(SimConnection::adfs("con_b", "adfs-b", &["00"]))
        .connection(SimConnection::samlp(
            "con_c",
            "saml-c",
            &cert("c", 100).base64_der(),
        ))
        .connection(SimConnection::waad("con_d", "waad-d", &[]))
        .connection(SimConnection::new("con_e", "db", "auth0"))
}

/// `GET path` answers Auth0's 403 naming `scope`.
async fn assert_insufficient_scope(api: &Api, path: &str, scope: &str) {
    let (status, body) = api.get(path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    assert_eq!(
        body,
        json!({
            "statusCode": 403,
            "error": "Forbidden",
            "message": format!("Insufficient scope, expected any of: {scope}"),
            "errorCode": "insufficient_scope"
        })
    );
}

async fn get_public(sim: &Sim, path: &str) -> reqwest::Response {
    reqwest::get(sim.url().join(path.trim_start_matches('/')).unwrap())
        .await
        .unwrap()
}

async fn tls_chain(
    addr: std::net::SocketAddr,
    sni: &str,
    root_der: &[u8],
) -> std::io::Result<Vec<Vec<u8>>> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(root_der.to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
    let tls = connector.connect(name, tcp).await?;
    let (_, conn) = tls.get_ref();
    Ok(conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_vec())
        .collect())
}

fn xml_certs(doc: &roxmltree::Document<'_>, parent: &str, use_: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == "KeyDescriptor" && n.attribute("use") == Some(use_))
        .filter(|n| n.parent().is_some_and(|p| p.tag_name().name() == parent))
        .flat_map(|n| {
            n.descendants()
                .filter(|c| c.tag_name().name() == "X509Certificate")
        })
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect()
}

/// GETs a URL an option points at (no token), as a remote fetcher would.
async fn fetch_option(body: &Value, option: &str) -> reqwest::Response {
    let url = body["options"][option].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{option} = {url}");
    reqwest::get(url).await.unwrap()
}
