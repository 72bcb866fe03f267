//! The values a plan is made of: the [`Step`] for one object, its [`Decision`] (not due, due
//! with an [`Action`], or blocked by a [`Blocker`]) and the [`Current`] certificate it replaces,
//! with the one-line explanations shown to operators.

use super::metadata::TrustChange;
use crate::inventory::{CertRecord, Kind};
use crate::rotate::store::Candidate;
use crate::timefmt::rfc3339;
use std::fmt;
use std::path::PathBuf;
use time::OffsetDateTime;

/// The certificate a step replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// kid, credential id or SHA-1.
    pub cert_id: String,
    /// Lowercase hex SHA-1, where known.
    pub sha1: Option<String>,
    /// Lowercase hex SHA-256, where known.
    pub sha256: Option<String>,
    /// Expiry, where known.
    pub not_after: Option<OffsetDateTime>,
}

impl Current {
    pub(super) fn of(r: &CertRecord) -> Self {
        Self {
            cert_id: r.cert_id.clone(),
            sha1: r.sha1.clone(),
            sha256: r.sha256.clone(),
            not_after: r.not_after(),
        }
    }
}

/// What a due step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// SAML/PingFederate connection: PATCH `options.signingCert` (GET → keep options → verify).
    ReplaceConnectionCert {
        /// The new certificate.
        candidate: Candidate,
    },
    /// Client credential: POST the new credential and reference it next to the old one.
    AddCredential {
        /// The credential being replaced.
        old_credential_id: String,
        /// The new certificate.
        candidate: Candidate,
    },
    /// Client credential, after the overlap: unreference and delete the old credential.
    RetireCredential {
        /// The credential to remove.
        old_credential_id: String,
        /// Its replacement (must stay referenced).
        new_credential_id: String,
    },
    /// SAML connection from its IdP's metadata: PATCH the options again with `metadataUrl`
    /// kept (Auth0 downloads it again), or set `signingCert` to the certificate chosen.
    FromMetadata {
        /// What the connection trusts now, what the IdP publishes, and what it will trust.
        change: Box<TrustChange>,
    },
    /// Tenant signing key: `POST /api/v2/keys/signing/rotate` (the next key becomes current).
    RotateSigningKey {
        /// The key that becomes current.
        next_kid: String,
        /// Its expiry.
        next_not_after: Option<OffsetDateTime>,
    },
}

impl Action {
    /// The audit `action` value.
    pub fn name(&self) -> &'static str {
        match self {
            Action::ReplaceConnectionCert { .. } => "replace_connection_cert",
            Action::AddCredential { .. } => "add_credential",
            Action::RetireCredential { .. } => "retire_credential",
            Action::RotateSigningKey { .. } => "rotate_signing_key",
            Action::FromMetadata { .. } => "replace_from_metadata",
        }
    }

    /// The new certificate, for actions that install one from the store.
    pub fn candidate(&self) -> Option<&Candidate> {
        match self {
            Action::ReplaceConnectionCert { candidate }
            | Action::AddCredential { candidate, .. } => Some(candidate),
            _ => None,
        }
    }
}

/// Why a due object cannot be rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// The source holds no certificate.
    NoCandidate {
        /// The target's source.
        source: PathBuf,
        /// Files that were not certificates.
        rejected: usize,
    },
    /// The source holds only the certificate already in place.
    SameAsCurrent {
        /// The target's source.
        source: PathBuf,
    },
    /// The best candidate is not valid yet.
    NotYetValid {
        /// The file.
        path: PathBuf,
        /// When it becomes valid.
        not_before: OffsetDateTime,
    },
    /// Every candidate expires no later than the current certificate (or has expired).
    ExpiresSooner {
        /// The latest-expiring candidate.
        path: PathBuf,
        /// Its expiry.
        not_after: OffsetDateTime,
        /// The current certificate's expiry.
        current_not_after: Option<OffsetDateTime>,
    },
    /// The source could not be listed.
    Store(String),
    /// Auth0 allows two credentials per client; the client has that many.
    CredentialLimit {
        /// Credentials the client has.
        count: usize,
        /// Those it does not reference (safe to delete by hand).
        unused: Vec<String>,
    },
    /// certwatch does not rotate this kind.
    UnsupportedKind(Kind),
    /// certwatch rotates only samlp and pingfederate connection certificates.
    UnsupportedStrategy(String),
    /// The tenant has no next signing key to promote.
    NoNextSigningKey,
    /// The next signing key expires no later than the current one.
    NextKeyExpiresFirst {
        /// The next key's expiry.
        next_not_after: Option<OffsetDateTime>,
    },
    /// Auth0 no longer looks like the last poll (found when the step was about to run).
    Changed(String),
    /// `source = "metadata"`, but the IdP's metadata gives nothing to rotate to (not fetched,
    /// unusable, or nothing valid that lasts longer).
    Metadata(String),
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = |t: &Option<OffsetDateTime>| t.map_or_else(|| "unknown".to_string(), rfc3339);
        match self {
            Blocker::NoCandidate { source, rejected } => {
                write!(f, "no candidate certificate in {}", source.display())?;
                if *rejected > 0 {
                    write!(f, " ({rejected} file(s) unusable)")?;
                }
                Ok(())
            }
            Blocker::SameAsCurrent { source } => write!(
                f,
                "{} holds only the certificate already in place",
                source.display()
            ),
            Blocker::NotYetValid { path, not_before } => write!(
                f,
                "candidate {} is not valid yet (from {})",
                path.display(),
                rfc3339(*not_before)
            ),
            Blocker::ExpiresSooner {
                path,
                not_after,
                current_not_after,
            } => write!(
                f,
                "candidate {} expires {} (current expires {}): not an improvement",
                path.display(),
                rfc3339(*not_after),
                date(current_not_after)
            ),
            Blocker::Store(e) => write!(f, "certificate store: {e}"),
            Blocker::CredentialLimit { count, unused } => {
                write!(f, "client has {count} credentials, Auth0's limit is 2")?;
                if !unused.is_empty() {
                    write!(f, "; unreferenced: {}", unused.join(", "))?;
                }
                Ok(())
            }
            Blocker::UnsupportedKind(k) => write!(f, "rotation of {k} is not supported"),
            Blocker::UnsupportedStrategy(s) => write!(
                f,
                "strategy {s:?} is not supported (only samlp and pingfederate)"
            ),
            Blocker::NoNextSigningKey => f.write_str("the tenant has no next signing key"),
            Blocker::NextKeyExpiresFirst { next_not_after } => write!(
                f,
                "the next signing key expires {} , no later than the current one",
                date(next_not_after)
            ),
            Blocker::Changed(why) => write!(f, "changed since the last poll: {why}"),
            Blocker::Metadata(why) => write!(f, "IdP metadata: {why}"),
        }
    }
}

/// What to do about one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing to do now, and why.
    NotDue(String),
    /// Rotate.
    Due(Action),
    /// Due, but cannot be rotated.
    Blocked(Blocker),
}

/// One object a target matched, and the decision about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Tenant.
    pub tenant: String,
    /// Kind.
    pub kind: Kind,
    /// Connection id, client id or (signing keys) the current kid.
    pub object_id: String,
    /// Connection name, client name or tenant domain.
    pub object_name: String,
    /// Index of the target in `[[rotation.targets]]`.
    pub target: usize,
    /// The certificate in place (the one being replaced).
    pub current: Option<Current>,
    /// The decision.
    pub decision: Decision,
}

impl Step {
    /// One line on why the step is what it is.
    pub fn explain(&self) -> String {
        match &self.decision {
            Decision::NotDue(why) => why.clone(),
            Decision::Blocked(b) => b.to_string(),
            Decision::Due(a) => {
                let expires = self
                    .current
                    .as_ref()
                    .and_then(|c| c.not_after)
                    .map_or_else(|| "unknown".into(), rfc3339);
                match a {
                    Action::ReplaceConnectionCert { candidate }
                    | Action::AddCredential { candidate, .. } => {
                        format!(
                            "current expires {expires}; replace with {} (sha1 {}, valid to {})",
                            candidate.path.display(),
                            candidate.sha1(),
                            rfc3339(candidate.info.not_after)
                        )
                    }
                    Action::RetireCredential {
                        old_credential_id,
                        new_credential_id,
                    } => format!(
                        "overlap over: remove {old_credential_id}, keep {new_credential_id}"
                    ),
                    Action::RotateSigningKey { next_kid, .. } => {
                        format!("current expires {expires}; promote next key {next_kid}")
                    }
                    Action::FromMetadata { change } => format!(
                        "current expires {expires}; trust {} from the IdP metadata (valid to {})",
                        change.after.sha1,
                        change
                            .after
                            .not_after
                            .map_or_else(|| "unknown".into(), rfc3339)
                    ),
                }
            }
        }
    }
}
