//! certwatch: watches every certificate an Auth0 tenant depends on.
//!
//! # Layout
//! - `cli` (the binary's only entry) → `config` (figment → validated `Config`) → `daemon` (the
//!   run / reload loop, also behind `demo`) → `app` (`App::build`, `poll_now`, `run`) with
//!   `scheduler`, `http` (+ optional `tls`), `shutdown`, `telemetry`.
//! - `auth0`: the `Auth0Api` trait (the seam) and its reqwest client; `pagination`,
//!   `rate_limit` and `token` hold the pure decisions it makes.
//! - `inventory`: records and snapshots; `sources` (pure: Auth0 objects → records) and `poll`.
//! - `remote`: facts outside the Management API listings (IdP metadata, upstream and tenant
//!   JWKS, custom domains, TLS probes): pure parsers, the `Fetcher` / `Prober` seams, `collect`;
//!   `findings` judges them (and the inventory) purely.
//! - Pure core: `x509` (decoding), `expiry` (status), `policy` (thresholds, roles, overrides),
//!   `report` (SPEC §5 JSON, table, exit code), `metrics` (rebuilt from each snapshot).
//! - `alert`: notifications (policy, ledger, email, webhooks); `rotate`: certificate rotation.
//! - `sim`: the fake Auth0 tenant used by `demo`, the tests and the benchmarks.
//!
//! Data flow of one cycle: `inventory::poll` per tenant → `watch` snapshot → `metrics.apply` →
//! `report` → `alert::Engine::process` (→ rotation pass when enabled).
#![warn(missing_docs)]

pub mod alert;
pub mod app;
pub mod auth0;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod escape;
pub mod expiry;
pub mod findings;
pub mod http;
pub mod inventory;
pub mod metrics;
pub mod policy;
pub mod remote;
pub mod report;
pub mod rotate;
pub mod scheduler;
pub mod secret;
pub mod shutdown;
pub mod sim;
pub mod telemetry;
pub mod timefmt;
pub mod tls;
pub mod x509;
