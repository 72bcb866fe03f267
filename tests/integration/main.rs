//! The integration test binary: the daemon against the Auth0 simulator on port 0.
//!
//! - `helpers`: `TestApp` (simulator + app + HTTP on port 0) and tenant fixtures.
//! - `poll`: inventory, faults, rate limits, tokens, scopes, deletions.
//! - `http`: `/metrics` (promtool), `/api/v1/certificates`, `/readyz`, the status page.
//! - `cli`: the `certwatch` binary: `scan` exit codes, `check-config`, secrets never logged.
//! - `findings`: SPEC §11 remote checks (IdP metadata, JWKS, custom domains, TLS probe).
//! - `hardening`: generators for every parser, HTTPS, secrets grep, kill -9, Auth0 unreachable.
//! - `prometheus_e2e`: a real Prometheus scraping `certwatch demo` with the shipped rules and
//!   dashboard (needs the `prometheus` server: ignored unless asked for).

mod alerts;
mod cli;
mod findings;
mod hardening;
mod helpers;
mod http;
mod poll;
mod prometheus_e2e;
mod rotate;
