//! What rotation needs from whoever runs it, and nothing more: the `[rotation]` settings, the
//! directory of the tenant locks, each tenant's Management API client, the poll results to plan
//! from, the clock, and the metrics that count rotations. The daemon and `certwatch rotate`
//! build one from their wiring; rotation never sees that wiring itself.

use crate::auth0::Auth0Api;
use crate::clock::Clock;
use crate::config;
use crate::inventory::Snapshot;
use crate::metrics::Metrics;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything one rotation pass uses.
#[derive(Clone)]
pub struct Context {
    /// `[rotation]`: targets, store, audit log, horizon and overlap.
    pub settings: config::Rotation,
    /// Where the per-tenant locks live (`state_dir`).
    pub state_dir: PathBuf,
    /// Each tenant's Management API client, by tenant name (the poller's: same token and pacing).
    pub apis: BTreeMap<String, Arc<dyn Auth0Api>>,
    /// The latest poll results; steps are planned from these.
    pub snapshot: Arc<Snapshot>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Counts `certwatch_rotations_total`.
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("targets", &self.settings.targets.len())
            .field("tenants", &self.apis.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
