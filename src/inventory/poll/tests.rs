//! Tests of one tenant's poll against in-memory Auth0s.

use super::*;
use crate::auth0::{Error, Page};
use serde_json::Value;

#[tokio::test]
async fn a_refused_token_reports_every_polled_source() {
    let mut api = Scripted::new();
    api.refuse_token = true;
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    let failed: Vec<Source> = out.errors.iter().map(|e| e.source).collect();
    // From the enum itself (serde's list of variants), not from `Source::POLLED`: a source
    // added to the enum but skipped here fails this test.
    let every: Vec<&str> = super::super::tests::source_variants()
        .iter()
        .copied()
        .filter(|name| *name != Source::Token.as_str())
        .collect();
    let failed_names: Vec<&str> = failed.iter().map(|s| s.as_str()).collect();
    assert_eq!(failed_names, every);
    assert!(out.errors.iter().all(|e| e.reason == Reason::Unauthorized));
    assert!(
        out.errors[1..]
            .iter()
            .all(|e| e.message.starts_with("not polled: "))
    );
    assert!(out.records.is_empty());
    assert!(
        api.calls.lock().unwrap().is_empty(),
        "nothing else was asked"
    );
}

// === a misbehaving Auth0 (in memory): paging that never ends, hangs, panics ===

type Lister<T> = Box<dyn Fn(&PageRequest) -> Result<Page<T>, Error> + Send + Sync>;

/// An Auth0 whose client and connection listings are scripted; everything else is empty. It
/// counts the listing calls, can refuse the token (at the signing keys, the first call) and can
/// hang or panic on the connection listing.
struct Scripted {
    refuse_token: bool,
    clients: Lister<wire::Client>,
    connections: Lister<wire::Connection>,
    connections_hang: bool,
    connections_panic: bool,
    calls: std::sync::Mutex<std::collections::BTreeMap<&'static str, u32>>,
}

impl Scripted {
    fn new() -> Self {
        Self {
            refuse_token: false,
            clients: Box::new(|_| Ok(page(Vec::new(), Some(0), None))),
            connections: Box::new(|_| Ok(page(Vec::new(), None, None))),
            connections_hang: false,
            connections_panic: false,
            calls: Default::default(),
        }
    }

    fn count(&self, endpoint: &'static str) {
        *self.calls.lock().unwrap().entry(endpoint).or_default() += 1;
    }

    fn calls(&self, endpoint: &str) -> u32 {
        self.calls
            .lock()
            .unwrap()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }
}

fn page<T>(items: Vec<T>, total: Option<u64>, next: Option<&str>) -> Page<T> {
    Page {
        info: crate::auth0::PageInfo {
            got: items.len(),
            total,
            next: next.map(str::to_string),
        },
        items,
        rejected: Vec::new(),
        next: None,
    }
}

/// A thumbprint-only ADFS connection: one record, no x509 decoding.
fn adfs(i: u32) -> wire::Connection {
    serde_json::from_value(serde_json::json!({
        "id": format!("con_{i}"), "name": format!("adfs-{i}"), "strategy": "adfs",
        "options": {"thumbprints": [format!("{i:040x}")]}
    }))
    .unwrap()
}

fn client(i: u64) -> wire::Client {
    serde_json::from_value(serde_json::json!({"client_id": format!("c{i}"), "name": "app"}))
        .unwrap()
}

/// The `from` cursor of a checkpoint request.
fn from(req: &PageRequest) -> Option<&str> {
    match req {
        PageRequest::Checkpoint { from, .. } => from.as_deref(),
        PageRequest::Offset { .. } => None,
    }
}

#[async_trait::async_trait]
impl Auth0Api for Scripted {
    async fn signing_keys(&self) -> Result<Vec<wire::SigningKey>, Error> {
        if self.refuse_token {
            return Err(Error::Unauthorized {
                message: "access_denied".into(),
            });
        }
        Ok(Vec::new())
    }
    async fn clients(&self, req: &PageRequest) -> Result<Page<wire::Client>, Error> {
        self.count("clients");
        (self.clients)(req)
    }
    async fn client_credentials(&self, _: &str) -> Result<Vec<wire::Credential>, Error> {
        self.count("client_credentials");
        Ok(Vec::new())
    }
    async fn connections(
        &self,
        req: &PageRequest,
        _: &[&str],
    ) -> Result<Page<wire::Connection>, Error> {
        self.count("connections");
        if self.connections_hang {
            std::future::pending::<()>().await;
        }
        assert!(
            !self.connections_panic,
            "scripted panic in the connection listing"
        );
        (self.connections)(req)
    }
    async fn connection_keys(&self, _: &str) -> Result<Vec<wire::ConnectionKey>, Error> {
        self.count("connection_keys");
        Ok(Vec::new())
    }
    async fn custom_domains(&self, _: &PageRequest) -> Result<Page<wire::CustomDomain>, Error> {
        self.count("custom_domains");
        Ok(page(Vec::new(), None, None))
    }
    async fn tenant_jwks(&self) -> Result<bytes::Bytes, Error> {
        self.count("jwks");
        Ok(bytes::Bytes::from_static(br#"{"keys":[]}"#))
    }
    async fn custom_signing_keys(&self) -> Result<Vec<wire::CustomSigningKey>, Error> {
        self.count("custom_signing_keys");
        Ok(Vec::new())
    }
    async fn tenant_saml_cert(&self) -> Result<Option<bytes::Bytes>, Error> {
        self.count("tenant_saml");
        Ok(None)
    }
    async fn mtls_endpoint_aliases(&self) -> Result<bool, Error> {
        self.count("tenant_settings");
        Ok(false)
    }
    async fn get_connection(&self, _: &str) -> Result<Value, Error> {
        unreachable!("a poll never reads whole objects")
    }
    async fn patch_connection(&self, _: &str, _: &Value) -> Result<Value, Error> {
        unreachable!("a poll never writes")
    }
    async fn get_client(&self, _: &str) -> Result<Value, Error> {
        unreachable!("a poll never reads whole objects")
    }
    async fn patch_client(&self, _: &str, _: &Value) -> Result<Value, Error> {
        unreachable!("a poll never writes")
    }
    async fn create_credential(&self, _: &str, _: &Value) -> Result<Value, Error> {
        unreachable!("a poll never writes")
    }
    async fn delete_credential(&self, _: &str, _: &str) -> Result<(), Error> {
        unreachable!("a poll never writes")
    }
    async fn rotate_signing_key(&self) -> Result<Value, Error> {
        unreachable!("a poll never writes")
    }
}

fn errors_of(out: &PollOutcome, source: Source) -> Vec<&PollError> {
    out.errors.iter().filter(|e| e.source == source).collect()
}

/// The one error of `source`: a `decode` error naming the endpoint.
fn listing_error(out: &PollOutcome, source: Source, endpoint: &str) -> String {
    let errors = errors_of(out, source);
    assert_eq!(errors.len(), 1, "{:?}", out.errors);
    assert_eq!(errors[0].reason, Reason::Decode);
    assert!(
        errors[0].message.contains(endpoint),
        "{}",
        errors[0].message
    );
    errors[0].message.clone()
}

#[tokio::test]
async fn a_cyclic_cursor_stops_the_listing_after_three_pages() {
    let mut api = Scripted::new();
    // A → B → A → …, each page with new objects.
    api.connections = Box::new(|req| {
        Ok(match from(req) {
            None => page((0..100).map(adfs).collect(), None, Some("A")),
            Some("A") => page((100..200).map(adfs).collect(), None, Some("B")),
            _ => page((200..300).map(adfs).collect(), None, Some("A")),
        })
    });
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    let msg = listing_error(&out, Source::Connections, "/api/v2/connections");
    assert!(msg.contains("already followed"), "{msg}");
    assert_eq!(api.calls("connections"), 3);
    assert_eq!(
        out.records.len(),
        300,
        "every page read is kept, also the one whose next cycles"
    );
    assert!(errors_of(&out, Source::Clients).is_empty());
}

#[tokio::test]
async fn a_cursor_that_repeats_itself_is_an_error_not_a_silent_end() {
    let mut api = Scripted::new();
    // `next` = the cursor asked with, and the same page again.
    api.connections = Box::new(|req| {
        Ok(match from(req) {
            None => page((0..100).map(adfs).collect(), None, Some("A")),
            Some(_) => page((0..100).map(adfs).collect(), None, Some("A")),
        })
    });
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    listing_error(&out, Source::Connections, "/api/v2/connections");
    assert_eq!(api.calls("connections"), 2);
    assert_eq!(out.records.len(), 100, "no duplicated records");
}

#[tokio::test]
async fn a_total_that_is_never_reached_is_bounded() {
    // Full pages of the same clients whatever the page, claiming more than the cap.
    let mut api = Scripted::new();
    api.clients = Box::new(|_| Ok(page((0..100).map(client).collect(), Some(1 << 40), None)));
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    let msg = listing_error(&out, Source::Clients, "/api/v2/clients");
    assert!(msg.contains("max_items_per_listing"), "{msg}");
    assert_eq!(
        api.calls("clients"),
        1,
        "the announced total is over the cap"
    );

    // The same, with a total under the cap: the second page repeats the first.
    let mut api = Scripted::new();
    api.clients = Box::new(|_| Ok(page((0..100).map(client).collect(), Some(50_000), None)));
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    let msg = listing_error(&out, Source::Clients, "/api/v2/clients");
    assert!(msg.contains("repeats"), "{msg}");
    assert_eq!(api.calls("clients"), 2);

    // New clients on every full page and no total at all: the cap ends it.
    let mut api = Scripted::new();
    api.clients = Box::new(|req| {
        let PageRequest::Offset { page: n, .. } = req else {
            unreachable!("clients are offset-paginated")
        };
        let base = u64::from(*n) * 100;
        Ok(page((base..base + 100).map(client).collect(), None, None))
    });
    let settings = PollSettings {
        max_items: 1_000,
        ..PollSettings::default()
    };
    let out = poll_tenant(&api, "t", "t.auth0.com", &settings).await;
    listing_error(&out, Source::Clients, "/api/v2/clients");
    assert_eq!(api.calls("clients"), 11);
}

#[tokio::test]
async fn objects_listed_twice_are_kept_once_and_counted() {
    let mut api = Scripted::new();
    api.connections = Box::new(|req| {
        Ok(match from(req) {
            None => page((0..100).map(adfs).collect(), None, Some("A")),
            // Three objects of the first page again, then new ones.
            Some(_) => page((97..150).map(adfs).collect(), None, None),
        })
    });
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.records.len(), 150);
    assert_eq!(
        out.duplicates,
        vec![super::walk::Duplicates {
            endpoint: "/api/v2/connections",
            count: 3,
            first_id: "con_97".into()
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_listing_stops_at_the_poll_timeout_and_the_rest_is_kept() {
    let mut api = Scripted::new();
    api.connections_hang = true;
    api.clients = Box::new(|_| Ok(page((0..3).map(client).collect(), Some(3), None)));
    let settings = PollSettings {
        timeout: Duration::from_secs(30),
        ..PollSettings::default()
    };
    let started = Instant::now();
    let out = poll_tenant(&api, "t", "t.auth0.com", &settings).await;
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    let timed_out: Vec<Source> = out
        .errors
        .iter()
        .filter(|e| e.reason == Reason::Timeout)
        .map(|e| e.source)
        .collect();
    assert_eq!(timed_out, vec![Source::Connections, Source::ConnectionKeys]);
    assert_eq!(out.errors.len(), 2, "{:?}", out.errors);
    assert_eq!(api.calls("clients"), 1, "the client listing finished");
}

#[tokio::test]
async fn a_panic_inside_the_poll_is_caught_and_reported() {
    let mut api = Scripted::new();
    api.connections_panic = true;
    let out = poll_tenant(&api, "t", "t.auth0.com", &PollSettings::default()).await;
    assert!(out.panicked);
    let failed: Vec<Source> = out.errors.iter().map(|e| e.source).collect();
    assert_eq!(failed, Source::POLLED.to_vec(), "every source failed");
    assert!(out.errors[0].message.contains("scripted panic"));
    assert!(out.records.is_empty());
}
