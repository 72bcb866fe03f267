//! `state_dir`: where the alert ledger, the rotation audit log and the rotation locks live
//! (docs/configuration.md). It must be a directory certwatch can write to. `run` and every
//! reload create it when missing; `check-config` only checks that they could. This is the one
//! check that needs the filesystem beyond reading secret and TLS files, so it is not part of
//! `validate` (which `scan` and the tests run without a state directory).

use super::{Config, Error};
use std::path::Path;

impl Config {
    /// Check that `state_dir` is (or, with `create`, has been made) a writable directory;
    /// without `create`, a missing one passes when it could be created.
    pub fn check_state_dir(&self, create: bool) -> Result<(), Error> {
        let dir = self.state_dir.as_path();
        let err = |message: String| Error::Invalid {
            key: "state_dir".into(),
            message,
            file: self.file.clone(),
        };
        use std::io::ErrorKind::{NotADirectory, NotFound};
        match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => Err(err(format!("{} is not a directory", dir.display()))),
            Ok(_) => probe(dir).map_err(|e| err(format!("{} is not writable: {e}", dir.display()))),
            Err(e) if matches!(e.kind(), NotFound | NotADirectory) && create => {
                std::fs::create_dir_all(dir)
                    .and_then(|()| probe(dir))
                    .map_err(|e| err(format!("{} cannot be created: {e}", dir.display())))
            }
            Err(e) if matches!(e.kind(), NotFound | NotADirectory) => {
                let parent = dir
                    .ancestors()
                    .skip(1)
                    .map(|a| {
                        if a.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            a
                        }
                    })
                    .find(|a| a.exists());
                match parent {
                    Some(p) if !p.is_dir() => Err(err(format!(
                        "{} cannot be created: {} is not a directory",
                        dir.display(),
                        p.display()
                    ))),
                    Some(p) => probe(p).map_err(|e| {
                        err(format!(
                            "{} does not exist and cannot be created in {}: {e}",
                            dir.display(),
                            p.display()
                        ))
                    }),
                    None => Ok(()),
                }
            }
            Err(e) => Err(err(format!("{}: {e}", dir.display()))),
        }
    }
}

/// Create and remove a file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".certwatch-write-test-{}", std::process::id()));
    std::fs::write(&path, b"")?;
    std::fs::remove_file(&path)
}
