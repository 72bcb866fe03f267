//! The client's one outward hook: an event per HTTP exchange with Auth0. Whoever builds a
//! client hands it an `Observer` (the app adapts the metrics to it), so the client never knows
//! who counts and the metrics never import the client.

/// Receives one event per HTTP exchange with Auth0.
pub trait Observer: Send + Sync {
    /// A response (or failure) for `endpoint` (a route template) with `code` (status or
    /// `timeout` / `transport`).
    fn api_request(&self, tenant: &str, endpoint: &str, code: &str);
    /// The last `x-ratelimit-remaining` seen.
    fn ratelimit_remaining(&self, tenant: &str, remaining: u64);
}

/// An `Observer` that ignores everything.
#[derive(Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn api_request(&self, _: &str, _: &str, _: &str) {}
    fn ratelimit_remaining(&self, _: &str, _: u64) {}
}
