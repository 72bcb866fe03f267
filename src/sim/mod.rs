//! A simulated Auth0 tenant: an axum server playing one tenant's `/oauth/token` and the
//! Management API endpoints certwatch calls, with the real response shapes (checked against the
//! recorded bodies in `tests/fixtures/auth0/`), pagination, scopes, rate limiting, PATCH
//! semantics and scripted faults. Used by `certwatch demo`, the integration tests and the
//! benchmarks. It must never be pointed at by production configuration.
//!
//! # Layout
//! - [`tenant`]: the in-memory tenant and its builders/mutators ([`SimTenant`] …).
//! - [`certs`]: rcgen certificates with chosen validity, and Auth0's text encodings of them.
//! - [`faults`]: scripted faults ([`Fault`], [`FaultKind`]) and which request gets which.
//! - [`demo`]: the built-in demo tenant and generated tenants for benchmarks.
//! - [`kube`]: a fake Kubernetes API server holding Leases (leader-election tests).
//! - private, pure: `routes` (route table), `pagination`, `rate_limit` (token bucket),
//!   `options` (Auth0's computed connection options), `render` (tenant → JSON), `api`
//!   (operations on the tenant), `public` (tenant JWKS, simulated IdP metadata/discovery/JWKS).
//! - private, I/O: `server` ([`Sim`]: axum, tokens, request log, fault/limit application),
//!   `tls` (the TLS listener of self-managed custom domains, chain chosen by SNI).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use certwatch::clock::{Clock, SystemClock};
//! use certwatch::sim::{Sim, demo};
//! let sim = Sim::spawn(demo::tenant(SystemClock.now())).await?;
//! println!("Auth0 simulator at {}", sim.url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
pub mod certs;
pub mod demo;
pub mod faults;
pub mod kube;
mod options;
mod pagination;
mod public;
mod rate_limit;
mod render;
mod routes;
mod server;
pub mod tenant;
mod tls;

#[cfg(test)]
mod tests;

pub use certs::{CertFactory, GeneratedCert, generate_cert, generate_chain};
pub use faults::{Fault, FaultKind, IdpFault, PagingFault};
pub use server::{DEFAULT_TOKEN_LIFETIME, RateLimit, RecordedRequest, Sim};
pub use tenant::{
    SIM_BASE_URL, SimClient, SimClientSigningKey, SimConnection, SimConnectionKey, SimCredential,
    SimCustomDomain, SimCustomSigningKey, SimDomainCertificate, SimEncryptionKey, SimIdp, SimJwks,
    SimM2mApp, SimServedChain, SimSigningKey, SimTenant,
};
