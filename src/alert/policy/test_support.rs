//! What the policy tests share: the instant they start at, the settings, and one channel per
//! filter dimension.

use super::Settings;
use crate::config::Filter;
use crate::config::Severity::{Critical, Expired, Warning};
use crate::inventory::Kind;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

pub(super) const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
pub(super) const DAY: i64 = 86_400;
pub(super) const SETTINGS: Settings = Settings {
    repeat_interval: Duration::from_secs(86_400),
    send_resolved: true,
};

/// One channel per filter dimension: `all` (warning), `crit`, `expired`, `staging` (tenant)
/// and `creds` (kind client_credential).
pub(super) fn channel_filters() -> [(&'static str, Filter); 5] {
    let all = Filter {
        min_severity: Warning,
        tenants: vec![],
        kinds: vec![],
        owners: vec![],
    };
    [
        ("all", all.clone()),
        (
            "crit",
            Filter {
                min_severity: Critical,
                ..all.clone()
            },
        ),
        (
            "expired",
            Filter {
                min_severity: Expired,
                ..all.clone()
            },
        ),
        (
            "staging",
            Filter {
                tenants: vec!["staging".into()],
                ..all.clone()
            },
        ),
        (
            "creds",
            Filter {
                kinds: vec![Kind::ClientCredential],
                ..all
            },
        ),
    ]
}
