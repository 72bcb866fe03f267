//! Pure expiry policy: (validity, thresholds, now) → `Status`. No I/O, no clock.
//!
//! A certificate whose notAfter is 9999-12-31T23:59:59Z has, in RFC 5280's words (§4.1.2.5),
//! "no well-defined expiration date": it is `never_expires`, with no expiry to count down to
//! ([`Validity::expires_at`] is `None`; docs/status-policy.md).

use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

/// The notAfter RFC 5280 (§4.1.2.5) reserves for a certificate with no well-defined expiration.
pub const NO_WELL_DEFINED_EXPIRATION: OffsetDateTime =
    time::macros::datetime!(9999-12-31 23:59:59 UTC);

/// The status of one certificate at one instant (docs/status-policy.md, first match wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Valid for longer than `warning_before`.
    Ok,
    /// Expires within `warning_before`.
    Warning,
    /// Expires within `critical_before`.
    Critical,
    /// `not_after` is now or in the past.
    Expired,
    /// `not_before` is in the future.
    NotYetValid,
    /// No parseable expiry.
    Unknown,
    /// A credential without an expiry date (hygiene finding).
    NeverExpires,
}

impl Status {
    /// The label / JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Expired => "expired",
            Status::NotYetValid => "not_yet_valid",
            Status::Unknown => "unknown",
            Status::NeverExpires => "never_expires",
        }
    }

    /// Every status, for metrics that enumerate them.
    pub const ALL: [Status; 7] = [
        Status::Ok,
        Status::Warning,
        Status::Critical,
        Status::Expired,
        Status::NotYetValid,
        Status::Unknown,
        Status::NeverExpires,
    ];

    /// Severity rank used by alerting and exit codes: ok < warning < critical < expired.
    /// `None` for statuses that are findings rather than expiry severities.
    pub fn severity(self) -> Option<u8> {
        match self {
            Status::Ok => Some(0),
            Status::Warning => Some(1),
            Status::Critical => Some(2),
            Status::Expired => Some(3),
            _ => None,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Warning and critical horizons for one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Warn when the certificate expires within this.
    pub warning_before: Duration,
    /// Critical when the certificate expires within this.
    pub critical_before: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            warning_before: Duration::from_secs(30 * 86_400),
            critical_before: Duration::from_secs(7 * 86_400),
        }
    }
}

/// What is known about a certificate's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Nothing parseable.
    Unknown,
    /// A credential that never expires.
    Never,
    /// A validity window; `not_before` may be unknown (credentials only carry `expires_at`).
    Window {
        /// Start of validity, where known.
        not_before: Option<OffsetDateTime>,
        /// End of validity.
        not_after: OffsetDateTime,
    },
}

impl Validity {
    /// The instant it expires, if it ever does: `None` when unknown, for a credential without
    /// expiry and for a notAfter of [`NO_WELL_DEFINED_EXPIRATION`].
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        match *self {
            Validity::Window { not_after, .. } if not_after < NO_WELL_DEFINED_EXPIRATION => {
                Some(not_after)
            }
            _ => None,
        }
    }
}

/// Evaluate the status of a certificate at `now` (docs/status-policy.md).
pub fn evaluate(validity: Validity, thresholds: Thresholds, now: OffsetDateTime) -> Status {
    let (not_before, not_after) = match validity {
        Validity::Unknown => return Status::Unknown,
        Validity::Never => return Status::NeverExpires,
        Validity::Window { not_after, .. } if not_after >= NO_WELL_DEFINED_EXPIRATION => {
            return Status::NeverExpires;
        }
        Validity::Window {
            not_before,
            not_after,
        } => (not_before, not_after),
    };
    let expires_in = not_after - now;
    if expires_in <= time::Duration::ZERO {
        return Status::Expired;
    }
    if not_before.is_some_and(|nb| nb > now) {
        return Status::NotYetValid;
    }
    if expires_in < thresholds.critical_before {
        Status::Critical
    } else if expires_in < thresholds.warning_before {
        Status::Warning
    } else {
        Status::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
    const DAY: i64 = 86_400;

    fn at(secs_from_now: i64) -> Status {
        evaluate(
            Validity::Window {
                not_before: Some(NOW - time::Duration::days(365)),
                not_after: NOW + time::Duration::seconds(secs_from_now),
            },
            Thresholds::default(),
            NOW,
        )
    }

    #[test]
    fn boundaries() {
        assert_eq!(at(-1), Status::Expired);
        assert_eq!(at(0), Status::Expired, "expires_in == 0 is expired");
        assert_eq!(at(1), Status::Critical);
        assert_eq!(at(7 * DAY - 1), Status::Critical);
        assert_eq!(
            at(7 * DAY),
            Status::Warning,
            "exactly critical_before is warning"
        );
        assert_eq!(at(30 * DAY - 1), Status::Warning);
        assert_eq!(at(30 * DAY), Status::Ok, "exactly warning_before is ok");
        assert_eq!(at(400 * DAY), Status::Ok);
    }

    #[test]
    fn not_yet_valid_and_expired_order() {
        let future = Validity::Window {
            not_before: Some(NOW + time::Duration::days(1)),
            not_after: NOW + time::Duration::days(100),
        };
        assert_eq!(
            evaluate(future, Thresholds::default(), NOW),
            Status::NotYetValid
        );
        // An inverted window that already ended is expired first (first match wins).
        let both = Validity::Window {
            not_before: Some(NOW + time::Duration::days(1)),
            not_after: NOW - time::Duration::days(1),
        };
        assert_eq!(evaluate(both, Thresholds::default(), NOW), Status::Expired);
        // not_before exactly now is valid.
        let starts_now = Validity::Window {
            not_before: Some(NOW),
            not_after: NOW + time::Duration::days(100),
        };
        assert_eq!(evaluate(starts_now, Thresholds::default(), NOW), Status::Ok);
    }

    #[test]
    fn unknown_and_never() {
        assert_eq!(
            evaluate(Validity::Unknown, Thresholds::default(), NOW),
            Status::Unknown
        );
        assert_eq!(
            evaluate(Validity::Never, Thresholds::default(), NOW),
            Status::NeverExpires
        );
    }

    #[test]
    fn no_well_defined_expiration_never_expires() {
        let forever = Validity::Window {
            not_before: Some(NOW - time::Duration::days(1)),
            not_after: NO_WELL_DEFINED_EXPIRATION,
        };
        assert_eq!(
            evaluate(forever, Thresholds::default(), NOW),
            Status::NeverExpires
        );
        assert_eq!(forever.expires_at(), None, "no days to count");
        // Not yet valid, but without an expiry: never_expires comes first.
        let later = Validity::Window {
            not_before: Some(NOW + time::Duration::days(1)),
            not_after: NO_WELL_DEFINED_EXPIRATION,
        };
        assert_eq!(
            evaluate(later, Thresholds::default(), NOW),
            Status::NeverExpires
        );
        // A second earlier is an ordinary (far) date.
        let far = Validity::Window {
            not_before: None,
            not_after: NO_WELL_DEFINED_EXPIRATION - time::Duration::seconds(1),
        };
        assert_eq!(evaluate(far, Thresholds::default(), NOW), Status::Ok);
        assert_eq!(
            far.expires_at(),
            Some(NO_WELL_DEFINED_EXPIRATION - time::Duration::seconds(1))
        );
        assert_eq!(Validity::Never.expires_at(), None);
        assert_eq!(Validity::Unknown.expires_at(), None);
    }

    #[test]
    fn custom_thresholds() {
        let t = Thresholds {
            warning_before: Duration::from_secs(60 * DAY as u64),
            critical_before: Duration::from_secs(14 * DAY as u64),
        };
        let v = |d: i64| Validity::Window {
            not_before: None,
            not_after: NOW + time::Duration::days(d),
        };
        assert_eq!(evaluate(v(45), t, NOW), Status::Warning);
        assert_eq!(evaluate(v(10), t, NOW), Status::Critical);
        assert_eq!(evaluate(v(61), t, NOW), Status::Ok);
    }
}
