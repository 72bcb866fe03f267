//! certwatch: watches every certificate an Auth0 tenant depends on.
//!
//! The product's reference (commands, configuration, metrics, JSON, alerts, rotation) is in
//! `docs/`; comments cite it as `docs/<page>.md`.
//!
//! # Layout, top to bottom (a module only uses the ones below it; `sim` stands apart)
//! - **Entry**: `cli` (clap; the binary's only entry, one function per subcommand, exit codes),
//!   `daemon` (the run / SIGHUP-reload loop behind `run` and `demo`), `demo` (the simulated
//!   tenant plus a daemon), `app` (`App::build` wires clients, metrics, alerts and the HTTP
//!   server; `poll_now`, `run`), `scheduler` (cron / interval ticks calling a job it is given),
//!   `shutdown` (signals), `telemetry` (log setup).
//! - **Configuration**: `config` (figment → raw serde types → one validator per section →
//!   `Config`; secrets resolved and masked).
//! - **Serving**: `http` (router: `/metrics`, `/healthz`, `/readyz`, `/api/v1/*`, status page),
//!   `tls` (optional HTTPS listener).
//! - **Actions**: `alert` (the notification engine: decisions per certificate, finding and
//!   rotation, the persisted ledger, rendering, email and webhook channels) and `rotate`
//!   (plan, flows per kind, audit, lock, recovery, the daemon pass; its own `Context`).
//! - **Metrics**: `metrics` (one owned registry; the snapshot families are rebuilt after each
//!   poll, the counters are fed by `app`).
//! - **Judgement** (pure): `report` (the JSON document, the `scan` table, the exit status),
//!   `findings` (what is wrong beyond expiry), `policy` (thresholds, alerting roles, overrides).
//! - **Inventory**: `inventory` (certificate records and snapshots; `sources` turns Auth0
//!   objects into records purely, `poll` runs one tenant's sources, `remote` merges the facts).
//! - **Facts**: `remote` (documents outside the Management API listings: IdP metadata, JWKS,
//!   custom domains, TLS probes — pure parsers plus the `Fetcher` / `Prober` seams).
//! - **Auth0**: `auth0` (the `Auth0Api` trait and its reqwest client; `pagination`,
//!   `rate_limit`, `budget` and `token` hold the pure decisions; `Observer` is its only outward
//!   hook).
//! - **Core** (pure, used by all): `x509` (decoding, openssl-style names), `expiry` (status of
//!   one certificate), `clock` (the only wall-clock reader), `timefmt` (RFC 3339),
//!   `escape` (HTML escaping, the one terminal sanitiser and table aligner), `secret` (values
//!   that never print).
//! - `sim`: the fake Auth0 tenant used by `demo`, the tests and the benchmarks; written from
//!   Auth0's API, never from certwatch's client.
//!
//! Data flow of one cycle: `inventory::poll` per tenant → `watch` snapshot → `metrics.apply` →
//! `report` + `findings` → `alert::Engine::process` (→ rotation pass when enabled).
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
