//! `certwatch rotate [--apply]`: poll once, run one rotation pass, print its table; the exit
//! status of docs/cli.md (0 nothing due or all done / planned, 1 blocked, 2 failed or rolled
//! back, 3 invalid config or a tenant not polled).

use super::{EXIT_UNKNOWN, poll_once};
use crate::config::Config;

/// Run `certwatch rotate` on a loaded configuration; the exit status.
pub async fn run(config: Config, apply: bool) -> u8 {
    if config.rotation.targets.is_empty() {
        eprintln!("certwatch: no [[rotation.targets]] configured; nothing to rotate");
        return 0;
    }
    if let Some(root) = &config.rotation.store
        && !root.is_dir()
    {
        eprintln!(
            "certwatch: invalid configuration: rotation.store.path {} is not a directory",
            root.display()
        );
        return EXIT_UNKNOWN;
    }
    let app = match poll_once(config).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let report = crate::rotate::pass(app.rotation_context(), apply).await;
    print!("{}", report.to_table());
    report.exit_code()
}
