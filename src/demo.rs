//! `certwatch demo`: the simulator with the built-in demo tenant, and a daemon configured by
//! `config/demo.toml` pointed at it. The first thing a new user runs.

use crate::clock::{Clock, SystemClock};
use crate::config;
use crate::sim::{Sim, demo};
use std::net::SocketAddr;

/// The demo configuration (its `base_url` is replaced by the simulator's at start).
pub const DEMO_TOML: &str = include_str!("../config/demo.toml");

/// Build the demo config for `sim`, listening on `listen`: every tenant points at the
/// simulator, and its self-managed custom domains are probed at the simulator's TLS listener.
pub fn config(
    sim: &Sim,
    listen: SocketAddr,
    state_dir: &std::path::Path,
) -> Result<config::Config, config::Error> {
    let mut c = config::from_toml(DEMO_TOML)?;
    c.listen = listen;
    c.state_dir = state_dir.to_path_buf();
    let self_managed: Vec<String> = sim.update(|t| {
        let served = t.custom_domains.iter().filter(|d| d.served.is_some());
        let aliases = t
            .custom_domains
            .iter()
            .filter(|d| d.mtls_served.is_some())
            .map(|d| format!("mtls.{}", d.domain));
        served
            .map(|d| d.domain.clone())
            .chain(aliases)
            .map(|d| d.to_ascii_lowercase())
            .collect()
    });
    for t in &mut c.tenants {
        t.base_url = sim.url();
        t.client_id = demo::DEMO_CLIENT_ID.to_string();
        t.client_secret = crate::secret::Secret::new(demo::DEMO_CLIENT_SECRET);
        if let Some(tls) = sim.tls_addr() {
            for d in &self_managed {
                t.probe_addresses.insert(d.clone(), tls.to_string());
            }
        }
    }
    Ok(c)
}

/// Run the demo until SIGINT/SIGTERM.
pub async fn run(listen: SocketAddr) -> u8 {
    let sim = match Sim::spawn(demo::tenant(SystemClock.now())).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("certwatch: cannot start the Auth0 simulator: {e}");
            return 1;
        }
    };
    // Behave like an Enterprise tenant (burst 50, 16 requests/s) so the rate-limit headers, the
    // headroom metric and its dashboard panel have data.
    sim.set_rate_limit(Some(crate::sim::RateLimit {
        burst: 50,
        per_second: 16.0,
    }));
    let state_dir = std::env::temp_dir().join(format!("certwatch-demo-{}", std::process::id()));
    let c = match config(&sim, listen, &state_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("certwatch: demo configuration: {e}");
            return 3;
        }
    };
    eprintln!(
        "certwatch demo: simulated Auth0 tenant {} at {}",
        demo::DEMO_DOMAIN,
        sim.url()
    );
    eprintln!("  metrics:       http://{listen}/metrics");
    eprintln!("  certificates:  http://{listen}/api/v1/certificates");
    eprintln!("  status page:   http://{listen}/");
    eprintln!("  press Ctrl-C to stop");
    let code = crate::daemon::run(c, None).await;
    sim.shutdown().await;
    code
}
