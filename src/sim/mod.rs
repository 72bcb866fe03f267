//! A simulated Auth0 tenant (placeholder, being written).
