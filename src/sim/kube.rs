//! A fake Kubernetes API server holding `coordination.k8s.io/v1` Leases, for the leader-election
//! tests (docs/simulator.md): GET, POST (create; 409 AlreadyExists) and PUT (replace; 409 Conflict
//! when `metadata.resourceVersion` is not the stored one, as the real API server's optimistic
//! concurrency does). Written from the Kubernetes API, not from certwatch's client. Plain HTTP on
//! loopback; it checks no token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared state of the fake API server.
#[derive(Debug, Default)]
struct Store {
    /// `(namespace, name)` → the stored Lease.
    leases: Mutex<BTreeMap<(String, String), Value>>,
    /// The last resourceVersion handed out.
    version: AtomicU64,
    /// Answer the next PUT with 409 whatever its resourceVersion.
    conflict_next_put: AtomicBool,
    /// Requests served, as `METHOD name`.
    log: Mutex<Vec<String>>,
}

/// A running fake API server.
#[derive(Debug, Clone)]
pub struct KubeSim {
    addr: SocketAddr,
    store: Arc<Store>,
}

type Reply = (StatusCode, Json<Value>);

fn status(code: StatusCode, reason: &str, message: String) -> Reply {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "reason": reason, "message": message, "code": code.as_u16()});
    (code, Json(body))
}

impl KubeSim {
    /// Start on an ephemeral loopback port.
    pub async fn spawn() -> std::io::Result<KubeSim> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let store = Arc::new(Store::default());
        let base = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases";
        let router = axum::Router::new()
            .route(base, post(create))
            .route(&format!("{base}/{{name}}"), get(read).put(replace))
            .with_state(store.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(KubeSim { addr, store })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The stored Lease, if any.
    pub fn lease(&self, namespace: &str, name: &str) -> Option<Value> {
        let leases = self.store.leases.lock().unwrap_or_else(|e| e.into_inner());
        leases.get(&(namespace.into(), name.into())).cloned()
    }

    /// `spec.holderIdentity` of the stored Lease.
    pub fn holder(&self, namespace: &str, name: &str) -> Option<String> {
        self.lease(namespace, name)
            .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_string))
    }

    /// Make the next PUT fail with 409, as if another writer had just changed the Lease.
    pub fn conflict_next_put(&self) {
        self.store.conflict_next_put.store(true, Ordering::SeqCst);
    }

    /// The requests served so far (`GET name`, `POST name`, `PUT name`, `PUT name 409` …).
    pub fn requests(&self) -> Vec<String> {
        self.store
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Store {
    fn next_version(&self) -> String {
        (self.version.fetch_add(1, Ordering::SeqCst) + 1).to_string()
    }

    fn log(&self, line: String) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }
}

async fn read(State(s): State<Arc<Store>>, Path((ns, name)): Path<(String, String)>) -> Reply {
    s.log(format!("GET {name}"));
    let leases = s.leases.lock().unwrap_or_else(|e| e.into_inner());
    match leases.get(&(ns, name.clone())) {
        Some(l) => (StatusCode::OK, Json(l.clone())),
        None => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("leases \"{name}\" not found"),
        ),
    }
}

async fn create(
    State(s): State<Arc<Store>>,
    Path(ns): Path<String>,
    Json(mut lease): Json<Value>,
) -> Reply {
    let name = lease["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut leases = s.leases.lock().unwrap_or_else(|e| e.into_inner());
    let key = (ns.clone(), name.clone());
    if leases.contains_key(&key) {
        s.log(format!("POST {name} 409"));
        return status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("leases \"{name}\" already exists"),
        );
    }
    s.log(format!("POST {name}"));
    lease["metadata"]["namespace"] = json!(ns);
    lease["metadata"]["resourceVersion"] = json!(s.next_version());
    leases.insert(key, lease.clone());
    (StatusCode::CREATED, Json(lease))
}

async fn replace(
    State(s): State<Arc<Store>>,
    Path((ns, name)): Path<(String, String)>,
    Json(mut lease): Json<Value>,
) -> Reply {
    let mut leases = s.leases.lock().unwrap_or_else(|e| e.into_inner());
    let Some(stored) = leases.get(&(ns.clone(), name.clone())) else {
        s.log(format!("PUT {name} 404"));
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("leases \"{name}\" not found"),
        );
    };
    let sent = lease["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    let forced = s.conflict_next_put.swap(false, Ordering::SeqCst);
    if forced
        || sent
            != stored["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
    {
        s.log(format!("PUT {name} 409"));
        return status(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        );
    }
    s.log(format!("PUT {name}"));
    lease["metadata"]["resourceVersion"] = json!(s.next_version());
    leases.insert((ns, name), lease.clone());
    (StatusCode::OK, Json(lease))
}
