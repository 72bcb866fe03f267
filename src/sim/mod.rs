//! A simulated Auth0 tenant (being written).
pub mod certs;
