//! Config parsing: `certwatch::config::from_toml` on arbitrary text. When a config is accepted,
//! what `check-config` prints (`render_masked`) must itself be accepted and render the same
//! (a printed config can be pasted back), and must not contain a literal secret.
//!
//! Invariants: never panics, never hangs; accepted configs round-trip through `check-config`
//! (except a literal webhook URL, whose mask is rejected by name).
#![no_main]

use certwatch::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::from_toml(text) {
        Ok(cfg) => {
            let printed = cfg.render_masked();
            let again = match config::from_toml(&printed) {
                Ok(again) => again,
                // A literal webhook URL is printed masked, and the mask is deliberately not a
                // URL: pasting the output back must fail loudly, not alert a wrong address.
                Err(e) if cfg.raw.alerts.webhook.iter().any(|w| w.url.is_some()) => {
                    let msg = e.to_string();
                    assert!(msg.contains(".url") && msg.contains("mask"), "{msg}");
                    return;
                }
                Err(e) => panic!("check-config output rejected: {e}\n{printed}"),
            };
            assert_eq!(again.render_masked(), printed);
            for (raw, t) in cfg.raw.tenants.iter().zip(&again.tenants) {
                if raw.client_secret.is_some() {
                    assert_eq!(t.client_secret.expose(), certwatch::secret::MASK);
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
