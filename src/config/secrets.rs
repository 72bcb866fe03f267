//! Secrets resolution: a secret key `X` may be written literally, or as `X_env` (an environment
//! variable, looked up through the [`EnvSource`] seam) or `X_file` (a file, bounded in size);
//! exactly one of them. The resolved value is a [`Secret`], which never prints itself.

use super::Error;
use super::context::Ctx;
use crate::secret::Secret;
use std::path::{Path, PathBuf};

/// The largest secret file read (a token, password or key is far smaller; `/dev/zero` is not).
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Where env lookups go (a seam for tests).
pub trait EnvSource {
    /// The value of `name`.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Read a secret file, refusing anything larger than [`MAX_SECRET_FILE_BYTES`].
fn read_secret_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_SECRET_FILE_BYTES} bytes"
        )));
    }
    Ok(text)
}

impl Ctx<'_> {
    /// Resolve `X` / `X_env` / `X_file` (exactly one may be set).
    pub(super) fn secret(
        &self,
        key: &str,
        direct: &Option<Secret>,
        env: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Result<Option<Secret>, Error> {
        let set = [direct.is_some(), env.is_some(), file.is_some()];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(self.err(
                key,
                format!("set only one of `{key}`, `{key}_env`, `{key}_file`"),
            ));
        }
        if let Some(s) = direct {
            return Ok(Some(s.clone()));
        }
        if let Some(var) = env {
            return match self.env.var(var) {
                Some(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(self.err(
                    format!("{key}_env"),
                    format!("environment variable {var} is not set or empty"),
                )),
            };
        }
        if let Some(path) = file {
            return match read_secret_file(path) {
                Ok(v) => Ok(Some(Secret::new(v.trim_end_matches(['\n', '\r'])))),
                Err(e) => Err(self.err(
                    format!("{key}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )),
            };
        }
        Ok(None)
    }
}
