//! What every section validator shares: the file being validated (named in errors), where
//! secret env vars are looked up, and the parsers of values that appear in many sections
//! (durations, certificate kinds). Errors always name the dotted key.

use super::{EnvSource, Error};
use crate::inventory::Kind;
use std::path::PathBuf;
use std::time::Duration;

/// The longest duration any key accepts (100 years).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// One validation run: the config file (if any) and the env lookups for `X_env` secrets.
pub(super) struct Ctx<'a> {
    pub(super) file: Option<PathBuf>,
    pub(super) env: &'a dyn EnvSource,
}

impl Ctx<'_> {
    /// An [`Error::Invalid`] for `key`, naming the file.
    pub(super) fn err(&self, key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            key: key.into(),
            message: message.into(),
            file: self.file.clone(),
        }
    }

    /// A duration like `"30d"` or `"15m"` (`default` when absent), at most [`MAX_DURATION`].
    pub(super) fn duration(
        &self,
        key: &str,
        v: Option<&str>,
        default: Duration,
    ) -> Result<Duration, Error> {
        match v {
            None => Ok(default),
            Some(s) => {
                let d = humantime::parse_duration(s.trim()).map_err(|e| {
                    self.err(
                        key,
                        format!("{s:?} is not a duration like \"30d\" or \"15m\": {e}"),
                    )
                })?;
                // Past this, `now + d` and `2 × interval` could overflow date and time types.
                if d > MAX_DURATION {
                    return Err(self.err(
                        key,
                        format!(
                            "{s:?} is longer than {}",
                            humantime::format_duration(MAX_DURATION)
                        ),
                    ));
                }
                Ok(d)
            }
        }
    }

    /// A certificate kind by its label value.
    pub(super) fn kind(&self, key: &str, k: &str) -> Result<Kind, Error> {
        Kind::parse(k).ok_or_else(|| {
            let all: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            self.err(
                key,
                format!("unknown kind {k:?} (one of {})", all.join(", ")),
            )
        })
    }
}
