//! certwatch: watches every certificate an Auth0 tenant depends on.
//!
//! # Layout
//! - `sim`: an in-process fake Auth0 tenant (axum) used by `demo`, tests and benchmarks.
#![warn(missing_docs)]

pub mod sim;
pub mod clock;
pub mod expiry;
pub mod x509;
