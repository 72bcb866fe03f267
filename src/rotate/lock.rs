//! One rotator per tenant: an exclusive advisory lock on `{state_dir}/rotation-{tenant}.lock`
//! (`File::try_lock`, i.e. `flock` on Unix, `LockFileEx` on Windows), held for a tenant's whole
//! rotation pass. A second certwatch process — or a second rotator in the same process, since
//! each acquisition opens its own file description — is refused at once with `Error::Locked`
//! instead of waiting. The lock dies with the process, so a crash never leaves it stuck; the file
//! itself stays and only records the last holder's pid for the refusal message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another rotator holds it.
    #[error("tenant {tenant}: locked by another certwatch{holder} ({}); nothing was changed", .path.display())]
    Locked {
        /// Tenant.
        tenant: String,
        /// The lock file.
        path: PathBuf,
        /// `" (pid 123)"` when known.
        holder: String,
    },
    /// The lock file cannot be created or locked.
    #[error("cannot lock {}: {source}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A held tenant lock; released on drop.
#[derive(Debug)]
pub struct TenantLock {
    file: File,
}

impl TenantLock {
    /// Take the lock of `tenant` in `state_dir`, or fail at once.
    pub fn acquire(state_dir: &Path, tenant: &str) -> Result<Self, Error> {
        let path = state_dir.join(format!("rotation-{}.lock", file_safe(tenant)));
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut who = String::new();
                let _ = file.read_to_string(&mut who);
                let holder = who
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("pid "))
                    .map(|pid| format!(" (pid {})", pid.trim()))
                    .unwrap_or_default();
                return Err(Error::Locked {
                    tenant: tenant.to_string(),
                    path,
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // Best effort: who holds it, for the refusal message.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "pid {}", std::process::id());
        let _ = file.flush();
        Ok(Self { file })
    }
}

impl Drop for TenantLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// A tenant name as a file-name part: `[A-Za-z0-9._-]` kept, anything else `_`, plus a short
/// hash when something was replaced (so `a/b` and `a_b` do not share a lock).
fn file_safe(tenant: &str) -> String {
    let clean: String = tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean == tenant && !tenant.starts_with('.') {
        clean
    } else {
        format!("{clean}-{}", &crate::x509::sha1_hex(tenant.as_bytes())[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let first = TenantLock::acquire(dir.path(), "prod").unwrap();
        let err = TenantLock::acquire(dir.path(), "prod").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Locked { .. }), "{msg}");
        assert!(msg.contains("locked by another certwatch"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        // Another tenant is independent.
        let _other = TenantLock::acquire(dir.path(), "staging").unwrap();
        drop(first);
        TenantLock::acquire(dir.path(), "prod").unwrap();
    }

    #[test]
    fn odd_tenant_names_get_distinct_safe_files() {
        assert_eq!(file_safe("prod-eu_1"), "prod-eu_1");
        let a = file_safe("a/b");
        assert!(a.starts_with("a_b-"), "{a}");
        assert_ne!(a, file_safe("a_b"));
        assert!(!file_safe("..").contains('/'));
    }
}
