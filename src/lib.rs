//! certwatch: watches every certificate an Auth0 tenant depends on.
//!
//! # Layout
//! - `sim`: an in-process fake Auth0 tenant (axum) used by `demo`, tests and benchmarks.
#![warn(missing_docs)]

pub mod alert;
pub mod auth0;
pub mod clock;
pub mod expiry;
pub mod inventory;
pub mod secret;
pub mod sim;
pub mod x509;
pub mod config;
pub mod policy;
pub mod metrics;
pub mod report;
pub mod app;
pub mod cli;
pub mod demo;
pub mod http;
pub mod scheduler;
pub mod shutdown;
pub mod telemetry;
