//! Test harness: a simulator with a chosen tenant and a certwatch `App` pointed at it.

use certwatch::app::App;
use certwatch::clock::ManualClock;
use certwatch::config;
use certwatch::inventory::{CertRecord, Kind};
use certwatch::sim::{
    GeneratedCert, Sim, SimClient, SimClientSigningKey, SimConnection, SimConnectionKey,
    SimCredential, SimSigningKey, SimTenant, generate_cert,
};
use std::net::SocketAddr;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub const DOMAIN: &str = "acme.sim.auth0.local";
pub const CLIENT_ID: &str = "certwatch-m2m";
pub const SECRET: &str = "sup3r-s3cret-client-value";
pub const ALL_SCOPES: [&str; 10] = [
    "read:signing_keys",
    "read:clients",
    "read:client_keys",
    "read:client_credentials",
    "read:connections",
    "read:connections_options",
    "read:connections_keys",
    "read:custom_domains",
    "read:custom_signing_keys",
    "read:tenant_settings",
];

pub fn now() -> OffsetDateTime {
    certwatch::clock::Clock::now(&certwatch::clock::SystemClock)
        .replace_nanosecond(0)
        .unwrap()
}

pub fn cert(cn: &str, days: i64) -> GeneratedCert {
    let n = now();
    generate_cert(cn, n - Duration::days(30), n + Duration::days(days))
}

/// The config TOML for one tenant at `url`.
pub fn config_toml(url: &url::Url, secret: &str, state_dir: &std::path::Path) -> String {
    format!(
        r#"
state_dir = "{state}"
[server]
listen = "127.0.0.1:0"
[schedule]
interval = "1h"
run_on_start = false
[[tenants]]
name = "prod"
domain = "{DOMAIN}"
base_url = "{url}"
client_id = "{CLIENT_ID}"
client_secret = "{secret}"
timeout = "5s"
"#,
        state = state_dir.display()
    )
}

pub struct TestApp {
    pub sim: Sim,
    pub app: Arc<App>,
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub _state: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(tenant: SimTenant) -> TestApp {
        Self::spawn_with(tenant, "").await
    }

    /// Like `spawn`, with extra keys appended to the `[server]` section.
    pub async fn spawn_with(tenant: SimTenant, server_extra: &str) -> TestApp {
        let extra = format!("listen = \"127.0.0.1:0\"\n{server_extra}");
        Self::spawn_toml(tenant, move |t| {
            t.replace("listen = \"127.0.0.1:0\"", &extra)
        })
        .await
    }

    /// Like `spawn`, with the config TOML transformed by `edit` (alerting is enabled).
    pub async fn spawn_toml(tenant: SimTenant, edit: impl FnOnce(String) -> String) -> TestApp {
        Self::spawn_toml_sim(tenant, |t, _| edit(t)).await
    }

    /// Like `spawn_toml`, and `edit` also sees the running simulator (its TLS address).
    pub async fn spawn_toml_sim(
        tenant: SimTenant,
        edit: impl FnOnce(String, &Sim) -> String,
    ) -> TestApp {
        let sim = Sim::spawn(tenant).await.unwrap();
        let state = tempfile::tempdir().unwrap();
        let toml = edit(config_toml(&sim.url(), SECRET, state.path()), &sim);
        let cfg = config::from_toml(&toml).unwrap();
        let clock = Arc::new(ManualClock::new(now()));
        let app = Arc::new(
            App::build(cfg, clock.clone())
                .unwrap()
                .with_alerts()
                .unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let runner = app.clone();
        let task = tokio::spawn(async move {
            runner
                .run(listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestApp {
            sim,
            app,
            addr,
            clock,
            _state: state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = reqwest::get(format!("http://{}{path}", self.addr))
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> (u16, String) {
        let resp = reqwest::Client::new()
            .get(format!("http://{}{path}", self.addr))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    pub fn records(&self) -> Vec<CertRecord> {
        self.app.snapshot().records().cloned().collect()
    }

    pub fn find(&self, kind: Kind, object_name: &str) -> Vec<CertRecord> {
        self.records()
            .into_iter()
            .filter(|r| r.kind == kind && r.object_name == object_name)
            .collect()
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

/// One certificate of every kind, with known expiries.
pub struct Full {
    pub tenant: SimTenant,
    pub current: GeneratedCert,
    pub next: GeneratedCert,
    pub previous: GeneratedCert,
    pub revoked: GeneratedCert,
    pub saml: GeneratedCert,
    pub ping: GeneratedCert,
    pub sp_key: GeneratedCert,
    pub decryption: GeneratedCert,
    pub ad: GeneratedCert,
    pub oidc_current: GeneratedCert,
    pub oidc_next: GeneratedCert,
    pub cred: GeneratedCert,
    pub x509: GeneratedCert,
    pub enc: GeneratedCert,
    pub own_signing: GeneratedCert,
}

pub fn base_tenant() -> SimTenant {
    SimTenant::new(DOMAIN)
        .at(now())
        .m2m(CLIENT_ID, SECRET, &ALL_SCOPES)
}

pub fn full_tenant() -> Full {
    let n = now();
    let current = cert(DOMAIN, 400);
    let next = cert(DOMAIN, 800);
    let previous = cert(DOMAIN, 5);
    let revoked = cert(DOMAIN, -10);
    let saml = cert("idp.acme.example", 20);
    let ping = cert("ping.acme.example", 3);
    let sp_key = cert("sp.acme.example", 200);
    let decryption = cert("dec.acme.example", 300);
    let ad = cert("ad.acme.example", 60);
    let oidc_current = cert("oidc-conn", 90);
    let oidc_next = cert("oidc-conn", 455);
    let cred = cert("billing-cred", 100);
    let x509 = cert("mtls-cred", 2);
    let enc = cert("wsfed-enc", 150);
    let own_signing = cert("own-sign", 250);
    let current_key =
        SimSigningKey::from_cert("kid-current", &current).current(n - Duration::days(10));
    let tenant = base_tenant()
        .signing_key(current_key.clone())
        .signing_key(SimSigningKey::from_cert("kid-next", &next).next())
        .signing_key(
            SimSigningKey::from_cert("kid-prev", &previous)
                .previous(n - Duration::days(100), n - Duration::days(10)),
        )
        .signing_key(
            SimSigningKey::from_cert("kid-revoked", &revoked).revoked(n - Duration::days(50)),
        )
        .connection(SimConnection::samlp(
            "con_saml",
            "acme-saml",
            &saml.base64_pem_crlf(),
        ))
        .connection(SimConnection::pingfederate(
            "con_ping",
            "acme-ping",
            &ping.pem,
        ))
        .connection(SimConnection::adfs(
            "con_adfs",
            "acme-adfs",
            &["aabbccddeeff00112233445566778899aabbccdd"],
        ))
        .connection(
            SimConnection::samlp("con_sp", "acme-sp", &cert("sp-idp.acme.example", 120).pem)
                .sp_signing_key(&sp_key.key_pem, &sp_key.pem)
                .decryption_key(&decryption.key_pem, &decryption.pem),
        )
        .connection(SimConnection::ad("con_ad", "corp-ad", &[&ad.pem]))
        .connection(
            SimConnection::oidc("con_oidc", "partner-oidc")
                .key(
                    SimConnectionKey::from_cert("ck-current", &oidc_current, "partner-oidc")
                        .current(n - Duration::days(1)),
                )
                .key(SimConnectionKey::from_cert("ck-next", &oidc_next, "partner-oidc").next()),
        )
        .client(
            SimClient::new("cl_billing", "billing-api")
                .credential(SimCredential::public_key_from_cert(
                    "cred_billing",
                    "billing key",
                    &cred,
                    n,
                ))
                .credential(SimCredential::public_key(
                    "cred_unused",
                    "old key",
                    n,
                    Some(n - Duration::days(3)),
                ))
                .private_key_jwt(&["cred_billing"])
                .signing_keys(vec![
                    SimClientSigningKey::from_signing_key(&current_key, DOMAIN),
                    SimClientSigningKey {
                        cert: own_signing.pem.clone(),
                        pkcs7: String::new(),
                        subject: "/CN=own".into(),
                    },
                ]),
        )
        .client(
            SimClient::new("cl_mtls", "mtls-gateway")
                .credential(SimCredential::x509_cert(
                    "cred_mtls",
                    "gateway cert",
                    &x509,
                    n,
                ))
                .credential(SimCredential::public_key("cred_never", "jar key", n, None))
                .tls_client_auth(&["cred_mtls"])
                .signed_request_object(true, &["cred_never"]),
        )
        .client(SimClient::new("cl_wsfed", "wsfed-app").encryption_key(&enc))
        .client(SimClient::new("cl_plain", "plain-spa"))
        .global_client("cl_global");
    Full {
        tenant,
        current,
        next,
        previous,
        revoked,
        saml,
        ping,
        sp_key,
        decryption,
        ad,
        oidc_current,
        oidc_next,
        cred,
        x509,
        enc,
        own_signing,
    }
}

pub fn one(app: &TestApp, kind: Kind, name: &str) -> CertRecord {
    let found = app.find(kind, name);
    assert_eq!(found.len(), 1, "{kind} {name}: {found:#?}");
    found.into_iter().next().unwrap()
}

/// What a [`webhook_listener`] received, in order.
pub type Inbox = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// A real HTTP listener collecting webhook bodies.
pub async fn webhook_listener() -> (String, Inbox) {
    let inbox: Inbox = std::sync::Arc::default();
    let sink = inbox.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.0);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}
