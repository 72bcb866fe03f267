//! The certificate store (docs/rotation.md): where replacement certificates wait to be rotated in.
//!
//! `CertStore` lists the candidates of one target's `source` (a file, or a directory of PEM
//! files, under the store root). A candidate is a certificate, optionally with its private key in
//! the same file or in a sibling key file (`idp.pem` + `idp.key`). A file that cannot be read or
//! does not hold a certificate is reported in `Listing::rejected`, never fatal. Key material is
//! kept only as a `Secret` and never appears in `Debug`, errors or logs; the rotation flows never
//! send it anywhere (Auth0 needs only the certificate).
//!
//! This is one of the few I/O modules; choosing among candidates is pure (`plan::choose`).

use crate::secret::Secret;
use crate::x509::{self, CertInfo};
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Files larger than this are not certificates.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a target's source could not be listed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The source escapes the store root (`..`, or an absolute path elsewhere).
    #[error("source {} is not under the store root {}", .configured.display(), .root.display())]
    OutsideStore {
        /// The configured source.
        configured: PathBuf,
        /// The store root.
        root: PathBuf,
    },
    /// The source does not exist or cannot be read.
    #[error("cannot read {}: {message}", .path.display())]
    Unreadable {
        /// The resolved path.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
}

/// One replacement certificate found in the store.
#[derive(Clone)]
pub struct Candidate {
    /// The file it came from.
    pub path: PathBuf,
    /// The certificate's DER.
    pub der: Vec<u8>,
    /// Decoded facts (dates, thumbprints, names).
    pub info: CertInfo,
    key: Option<Secret>,
}

impl Candidate {
    /// A candidate from DER (tests and callers that already hold a certificate).
    pub fn from_der(path: impl Into<PathBuf>, der: Vec<u8>) -> Result<Self, x509::Error> {
        let info = x509::decode_der(&der)?;
        Ok(Self {
            path: path.into(),
            der,
            info,
            key: None,
        })
    }

    /// Lowercase hex SHA-1 (Auth0's connection thumbprint).
    pub fn sha1(&self) -> &str {
        &self.info.sha1
    }

    /// The certificate as PEM with `\n` line ends and a trailing newline.
    pub fn pem(&self) -> String {
        let mut pem = x509::der_to_pem(&self.der, "\n");
        pem.push('\n');
        pem
    }

    /// Whether the store also holds the private key (informational; it is never sent).
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("path", &self.path)
            .field("sha1", &self.info.sha1)
            .field("subject", &self.info.subject)
            .field("not_before", &self.info.not_before)
            .field("not_after", &self.info.not_after)
            .field("has_key", &self.key.is_some())
            .finish()
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.der == other.der
    }
}

/// A file in the source that is not a usable certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file.
    pub path: PathBuf,
    /// Why (never contains key material).
    pub reason: String,
}

/// What a source holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Certificates that decoded.
    pub candidates: Vec<Candidate>,
    /// Files that did not.
    pub rejected: Vec<Rejected>,
}

/// Where replacement certificates come from.
pub trait CertStore: Send + Sync + fmt::Debug {
    /// List the candidates of a target's `source` (relative to the store root).
    fn list(&self, source: &Path) -> Result<Listing, Error>;
}

/// A store on the local filesystem (`[rotation.store] kind = "filesystem"`).
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// A store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `source` resolved under the root; `..` and absolute paths elsewhere are refused.
    pub fn resolve(&self, source: &Path) -> Result<PathBuf, Error> {
        let outside = || Error::OutsideStore {
            configured: source.to_path_buf(),
            root: self.root.clone(),
        };
        let relative = if source.is_absolute() {
            source.strip_prefix(&self.root).map_err(|_| outside())?
        } else {
            source
        };
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(outside());
        }
        Ok(self.root.join(relative))
    }
}

impl CertStore for FsStore {
    fn list(&self, source: &Path) -> Result<Listing, Error> {
        let path = self.resolve(source)?;
        let unreadable = |e: std::io::Error| Error::Unreadable {
            path: path.clone(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(&path).map_err(unreadable)?;
        let files = if meta.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(unreadable)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let hidden = p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_none_or(|n| n.starts_with('.'));
                    !hidden && p.is_file()
                })
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        Ok(read_files(&files, !meta.is_dir()))
    }
}

/// What one file holds.
enum FileContent {
    Cert(Candidate),
    KeyOnly(Secret),
}

/// Read every file, then pair key-only files with the certificate of the same stem.
fn read_files(files: &[PathBuf], single: bool) -> Listing {
    let mut listing = Listing::default();
    let mut keys: Vec<(PathBuf, Secret)> = Vec::new();
    for path in files {
        match read_file(path) {
            Ok(FileContent::Cert(c)) => listing.candidates.push(c),
            Ok(FileContent::KeyOnly(k)) if !single => keys.push((path.clone(), k)),
            Ok(FileContent::KeyOnly(_)) => listing.rejected.push(Rejected {
                path: path.clone(),
                reason: "holds a private key but no certificate".into(),
            }),
            Err(reason) => listing.rejected.push(Rejected {
                path: path.clone(),
                reason,
            }),
        }
    }
    for (key_path, key) in keys {
        let stem = key_stem(&key_path);
        if let Some(c) = listing
            .candidates
            .iter_mut()
            .find(|c| c.key.is_none() && cert_stem(&c.path) == stem)
        {
            c.key = Some(key);
        }
    }
    listing
}

fn cert_stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// `idp.key`, `idp-key.pem`, `idp_key.pem`, `idp.key.pem` → `idp`.
fn key_stem(path: &Path) -> String {
    let stem = cert_stem(path);
    for suffix in [".key", "-key", "_key"] {
        if let Some(s) = stem.strip_suffix(suffix) {
            return s.to_string();
        }
    }
    stem
}

fn read_file(path: &Path) -> Result<FileContent, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let der = match std::str::from_utf8(&bytes) {
        Ok(text) => {
            let key = private_key_block(text);
            match x509::leaf_der(text) {
                Ok(der) => {
                    let mut c = candidate(path, der)?;
                    c.key = key;
                    return Ok(FileContent::Cert(c));
                }
                Err(x509::Error::NotACertificate(_)) | Err(x509::Error::Pem(_))
                    if key.is_some() =>
                {
                    return Ok(FileContent::KeyOnly(key.unwrap_or_default()));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        // Binary: DER.
        Err(_) => bytes,
    };
    candidate(path, der).map(FileContent::Cert)
}

fn candidate(path: &Path, der: Vec<u8>) -> Result<Candidate, String> {
    Candidate::from_der(path, der).map_err(|e| e.to_string())
}

/// The first `… PRIVATE KEY` PEM block, as a secret.
fn private_key_block(text: &str) -> Option<Secret> {
    let start = text.find("-----BEGIN ")?;
    let mut rest = &text[start..];
    loop {
        let label_end = rest["-----BEGIN ".len()..].find("-----")? + "-----BEGIN ".len();
        let label = &rest["-----BEGIN ".len()..label_end];
        let footer = format!("-----END {label}-----");
        let end = rest.find(&footer)? + footer.len();
        if label.ends_with("PRIVATE KEY") {
            return Some(Secret::new(&rest[..end]));
        }
        let next = rest[end..].find("-----BEGIN ")?;
        rest = &rest[end + next..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate_cert;
    use time::macros::datetime;

    fn cert(cn: &str) -> crate::sim::GeneratedCert {
        generate_cert(
            cn,
            datetime!(2025-01-01 0:00 UTC),
            datetime!(2027-01-01 0:00 UTC),
        )
    }

    #[test]
    fn lists_a_directory_pairs_keys_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = cert("a.example");
        let b = cert("b.example");
        std::fs::create_dir(dir.path().join("idp")).unwrap();
        std::fs::write(dir.path().join("idp/a.pem"), &a.pem).unwrap();
        std::fs::write(dir.path().join("idp/a.key"), &a.key_pem).unwrap();
        std::fs::write(
            dir.path().join("idp/b.pem"),
            format!("{}{}", b.key_pem, b.pem),
        )
        .unwrap();
        std::fs::write(dir.path().join("idp/garbage.pem"), "not a certificate").unwrap();
        std::fs::write(dir.path().join("idp/.hidden"), "ignored").unwrap();
        let store = FsStore::new(dir.path());
        let listing = store.list(Path::new("idp")).unwrap();
        let names: Vec<_> = listing
            .candidates
            .iter()
            .map(|c| (c.info.sha1.clone(), c.has_key()))
            .collect();
        assert_eq!(
            names,
            vec![(a.sha1_hex.clone(), true), (b.sha1_hex.clone(), true)]
        );
        assert_eq!(listing.rejected.len(), 1);
        assert!(listing.rejected[0].path.ends_with("garbage.pem"));
    }

    #[test]
    fn a_single_file_source_and_der_files_work() {
        let dir = tempfile::tempdir().unwrap();
        let a = cert("a.example");
        std::fs::write(dir.path().join("a.der"), &a.der).unwrap();
        std::fs::write(dir.path().join("only.key"), &a.key_pem).unwrap();
        let store = FsStore::new(dir.path());
        let listing = store.list(Path::new("a.der")).unwrap();
        assert_eq!(listing.candidates[0].sha1(), a.sha1_hex);
        let listing = store.list(Path::new("only.key")).unwrap();
        assert!(listing.candidates.is_empty());
        assert_eq!(
            listing.rejected[0].reason,
            "holds a private key but no certificate"
        );
    }

    #[test]
    fn sources_outside_the_store_or_missing_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::new(dir.path());
        assert!(matches!(
            store.list(Path::new("../etc")),
            Err(Error::OutsideStore { .. })
        ));
        assert!(matches!(
            store.list(Path::new("/etc/passwd")),
            Err(Error::OutsideStore { .. })
        ));
        assert!(matches!(
            store.list(Path::new("missing")),
            Err(Error::Unreadable { .. })
        ));
        let inside = dir.path().join("x.pem");
        assert_eq!(store.resolve(&inside).unwrap(), inside);
    }

    #[test]
    fn key_material_never_appears_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let a = cert("a.example");
        std::fs::write(dir.path().join("a.pem"), format!("{}{}", a.pem, a.key_pem)).unwrap();
        let listing = FsStore::new(dir.path()).list(Path::new("a.pem")).unwrap();
        let c = &listing.candidates[0];
        assert!(c.has_key());
        let debug = format!("{listing:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
        let body: String = a.key_pem.lines().nth(1).unwrap().to_string();
        assert!(!debug.contains(&body));
    }
}
