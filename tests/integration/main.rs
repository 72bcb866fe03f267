//! The integration test binary: the daemon against the Auth0 simulator on port 0.
//!
//! - `helpers`: `TestApp` (simulator + app + HTTP on port 0) and tenant fixtures.
//! - `poll`: inventory, faults, rate limits, tokens, scopes, deletions.
//! - `incremental`: steady-state polls read list pages only; changes show at once or within
//!   `full_refresh`; the budget floor of the tenant's rate limit holds.
//! - `misbehaving_auth0`: a stuck tenant never stalls a healthy one; endless paging is bounded.
//! - `http`: `/metrics` (promtool), `/api/v1/certificates`, `/readyz`, the status page.
//! - `cli`: the `certwatch` binary: `scan` exit codes, `check-config`, secrets never logged.
//! - `findings`: docs/findings.md remote checks (IdP metadata, JWKS, custom domains, TLS probe).
//! - generated and hostile input (proptest, fixed budget; the twins of the `fuzz/` targets):
//!   `cert_decoding`, `auth0_bodies`, `config_input`, `remote_documents` (SAML/ADFS metadata,
//!   JWKS, OIDC discovery), sharing `generators`.
//! - the daemon as a process, with `daemon` and `loopback` as its harness: `tls` (HTTPS, Auth0's
//!   certificate verified), `secrets` (never in any output), `crash_safety` (`kill -9`),
//!   `auth0_outage` (Auth0 unreachable for hours), `reload` (SIGHUP with a configuration that
//!   cannot be served, check-config, no leak across reloads).
//! - `leader`: leader election between replicas against a fake Kubernetes API (`sim::kube`).
//! - `rotate`, `rotate_metadata`: rotation from the store, and from IdP metadata inside windows.
//! - `idp_corpus`: real IdP documents and the system CA store against what openssl reads in them.
//! - `prometheus_e2e`: a real Prometheus scraping `certwatch demo` with the shipped rules and
//!   dashboard (needs the `prometheus` server: ignored unless asked for).

mod alertmanager;
mod alerts;
mod auth0_bodies;
mod auth0_outage;
mod cert_decoding;
mod cli;
mod config_input;
mod crash_safety;
mod daemon;
mod findings;
mod generators;
mod helpers;
mod http;
mod idp_corpus;
mod incremental;
mod leader;
mod loopback;
mod misbehaving_auth0;
mod owners;
mod poll;
mod prometheus_e2e;
mod reload;
mod remote_documents;
mod rotate;
mod rotate_metadata;
mod secrets;
mod surfaces;
mod tls;
