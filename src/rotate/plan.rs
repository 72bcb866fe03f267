//! Pure rotation planning (SPEC §8): (snapshot, store listings, targets, pending overlaps,
//! settings, now) → one `Step` per matched object, each saying why it is due, not due, or blocked.
//!
//! No I/O and no clock: the caller lists the store, reads the audit log for pending credential
//! overlaps and passes `now`. Whether a step is carried out, and how, is `rotate::Rotator`'s job.
//!
//! Rules:
//! - A target matches records by `tenant`, `kind`, `object_name`, `object_id` (unset = any).
//!   Without `kind` it matches only `connection_signing_cert` and `client_credential`;
//!   `tenant_signing_key` is rotated only for a target naming that kind. The first target that
//!   matches an object owns it.
//! - An object is due when its current certificate expires within `rotate_before`
//!   (`not_after - now <= rotate_before`, so an expired one is due too). Only due objects can be
//!   blocked; an object that is not due is reported `NotDue`, whatever its kind.
//! - A candidate is usable when it is valid now (`not_before <= now < not_after`), expires later
//!   than the current certificate and differs from it; the latest `not_after` wins (ties: path).
//! - Client credentials: Auth0 keeps at most two per client, so adding one to a client that
//!   already has two is blocked. A credential certwatch added starts an overlap; once `overlap`
//!   has passed, the old credential is retired (unreferenced, then deleted).

use super::store::{self, Candidate, Listing};
use crate::config::Target;
use crate::expiry::Validity;
use crate::inventory::{CertRecord, Kind, Role, Snapshot, TenantSnapshot};
use crate::report::rfc3339;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

/// Kinds certwatch can rotate.
pub const SUPPORTED: [Kind; 3] = [
    Kind::ConnectionSigningCert,
    Kind::ClientCredential,
    Kind::TenantSigningKey,
];

/// Kinds a target without `kind` matches.
const IMPLICIT: [Kind; 2] = [Kind::ConnectionSigningCert, Kind::ClientCredential];

/// Planning settings (from `[rotation]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Rotate when the current certificate expires within this.
    pub rotate_before: Duration,
    /// How long an old client credential stays next to its replacement.
    pub overlap: Duration,
}

/// The store listing of each target `source`.
pub type Listings = BTreeMap<PathBuf, Result<Listing, store::Error>>;

/// A client credential certwatch added whose predecessor is not retired yet (from the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// Tenant.
    pub tenant: String,
    /// Client id.
    pub client_id: String,
    /// The credential being replaced.
    pub old_credential_id: String,
    /// The credential certwatch added.
    pub new_credential_id: String,
    /// When it was added.
    pub added_at: OffsetDateTime,
}

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
    fn of(r: &CertRecord) -> Self {
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
                }
            }
        }
    }
}

/// Plan every target against the snapshot.
pub fn plan(
    snapshot: &Snapshot,
    targets: &[Target],
    listings: &Listings,
    overlaps: &[Overlap],
    settings: &Settings,
    now: OffsetDateTime,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut owned: HashSet<(String, Kind, String)> = HashSet::new();
    for (index, target) in targets.iter().enumerate() {
        let kinds: Vec<Kind> = target.kind.map_or_else(|| IMPLICIT.to_vec(), |k| vec![k]);
        for tenant in snapshot
            .tenants
            .iter()
            .filter(|t| target.tenant.as_ref().is_none_or(|n| *n == t.name))
        {
            for &kind in &kinds {
                for group in groups(tenant, kind, target) {
                    let first = &group[0];
                    if !owned.insert((tenant.name.clone(), kind, first.object_id.clone())) {
                        continue;
                    }
                    let cx = Cx {
                        tenant: &tenant.name,
                        target,
                        listings,
                        overlaps,
                        settings,
                        now,
                    };
                    let (current, decision) = match kind {
                        Kind::ConnectionSigningCert => cx.connection(&group),
                        Kind::ClientCredential => cx.credential(&group),
                        Kind::TenantSigningKey => cx.signing_key(tenant),
                        other => cx.unsupported(&group, other),
                    };
                    let (object_id, object_name) = match (kind, &current) {
                        (Kind::TenantSigningKey, Some(c)) => {
                            (c.cert_id.clone(), tenant.domain.clone())
                        }
                        _ => (first.object_id.clone(), first.object_name.clone()),
                    };
                    steps.push(Step {
                        tenant: tenant.name.clone(),
                        kind,
                        object_id,
                        object_name,
                        target: index,
                        current,
                        decision,
                    });
                }
            }
        }
    }
    steps
}

/// Indexes of targets that matched nothing (configuration worth a warning).
pub fn unmatched(targets: &[Target], steps: &[Step]) -> Vec<usize> {
    (0..targets.len())
        .filter(|i| !steps.iter().any(|s| s.target == *i))
        .collect()
}

/// The records of `kind` in `tenant` that `target` names, grouped by object. Tenant signing keys
/// form one group (the tenant), matched on the current key.
fn groups<'a>(tenant: &'a TenantSnapshot, kind: Kind, target: &Target) -> Vec<Vec<&'a CertRecord>> {
    let named = |r: &CertRecord| {
        target
            .object_name
            .as_ref()
            .is_none_or(|n| *n == r.object_name)
            && target.object_id.as_ref().is_none_or(|i| *i == r.object_id)
    };
    let of_kind = tenant.records.iter().filter(|r| r.kind == kind);
    if kind == Kind::TenantSigningKey {
        let current = of_kind
            .clone()
            .find(|r| r.role == Role::Current && named(r));
        return current.map(|c| vec![vec![c]]).unwrap_or_default();
    }
    let mut by_object: BTreeMap<&str, Vec<&CertRecord>> = BTreeMap::new();
    for r in of_kind {
        by_object.entry(r.object_id.as_str()).or_default().push(r);
    }
    by_object
        .into_values()
        .filter(|g| g.iter().any(|r| named(r)))
        .collect()
}

struct Cx<'a> {
    tenant: &'a str,
    target: &'a Target,
    listings: &'a Listings,
    overlaps: &'a [Overlap],
    settings: &'a Settings,
    now: OffsetDateTime,
}

impl Cx<'_> {
    fn due(&self, not_after: OffsetDateTime) -> bool {
        not_after <= self.now + self.settings.rotate_before
    }

    fn not_due(&self, not_after: OffsetDateTime) -> Decision {
        Decision::NotDue(format!(
            "expires {}, not within rotate_before ({})",
            rfc3339(not_after),
            humantime::format_duration(self.settings.rotate_before)
        ))
    }

    fn choose(
        &self,
        current: &[&CertRecord],
        current_not_after: Option<OffsetDateTime>,
    ) -> Result<Candidate, Blocker> {
        let source = &self.target.source;
        let listing = match self.listings.get(source) {
            None => {
                return Err(Blocker::Store(format!(
                    "{} was not listed",
                    source.display()
                )));
            }
            Some(Err(e)) => return Err(Blocker::Store(e.to_string())),
            Some(Ok(l)) => l,
        };
        let sha1s: HashSet<&str> = current.iter().filter_map(|r| r.sha1.as_deref()).collect();
        let sha256s: HashSet<&str> = current.iter().filter_map(|r| r.sha256.as_deref()).collect();
        choose(
            listing,
            source,
            &sha1s,
            &sha256s,
            current_not_after,
            self.now,
        )
    }

    fn connection(&self, group: &[&CertRecord]) -> (Option<Current>, Decision) {
        let parsed: Vec<&CertRecord> = group
            .iter()
            .copied()
            .filter(|r| r.not_after().is_some())
            .collect();
        let Some(current) = parsed.iter().min_by_key(|r| r.not_after()) else {
            let why = group
                .iter()
                .find_map(|r| r.error.clone())
                .unwrap_or_else(|| "no expiry".into());
            return (
                group.first().map(|r| Current::of(r)),
                Decision::NotDue(format!(
                    "current certificate cannot be parsed ({why}); rotate it by hand"
                )),
            );
        };
        let not_after = current.not_after().unwrap_or(self.now);
        let decision = if !self.due(not_after) {
            self.not_due(not_after)
        } else {
            match self.choose(group, Some(not_after)) {
                Ok(candidate) => Decision::Due(Action::ReplaceConnectionCert { candidate }),
                Err(b) => Decision::Blocked(b),
            }
        };
        (Some(Current::of(current)), decision)
    }

    fn credential(&self, group: &[&CertRecord]) -> (Option<Current>, Decision) {
        let client_id = &group[0].object_id;
        let present = |id: &str| group.iter().any(|r| r.cert_id == id);
        if let Some(o) = self
            .overlaps
            .iter()
            .filter(|o| o.tenant == self.tenant && o.client_id == *client_id)
            .find(|o| present(&o.old_credential_id))
        {
            let old = group
                .iter()
                .find(|r| r.cert_id == o.old_credential_id)
                .map(|r| Current::of(r));
            if !present(&o.new_credential_id) {
                return (
                    old,
                    Decision::Blocked(Blocker::Changed(format!(
                        "credential {} that certwatch added is gone; {} is kept",
                        o.new_credential_id, o.old_credential_id
                    ))),
                );
            }
            let until = o.added_at + self.settings.overlap;
            let decision = if self.now >= until {
                Decision::Due(Action::RetireCredential {
                    old_credential_id: o.old_credential_id.clone(),
                    new_credential_id: o.new_credential_id.clone(),
                })
            } else {
                Decision::NotDue(format!(
                    "overlap: {} is removed after {}",
                    o.old_credential_id,
                    rfc3339(until)
                ))
            };
            return (old, decision);
        }

        let in_use: Vec<&CertRecord> = group
            .iter()
            .copied()
            .filter(|r| r.role == Role::InUse)
            .collect();
        if in_use.is_empty() {
            return (None, Decision::NotDue("no credential in use".into()));
        }
        if let Some(r) = in_use.iter().find(|r| r.validity == Validity::Never) {
            return (
                Some(Current::of(r)),
                Decision::NotDue(format!("credential {} never expires", r.cert_id)),
            );
        }
        // The client is due only when every credential it uses is.
        let Some(latest) = in_use
            .iter()
            .filter(|r| r.not_after().is_some())
            .max_by_key(|r| r.not_after())
        else {
            return (
                Some(Current::of(in_use[0])),
                Decision::NotDue("credential expiry unknown; rotate it by hand".into()),
            );
        };
        let latest_not_after = latest.not_after().unwrap_or(self.now);
        if !self.due(latest_not_after) {
            return (Some(Current::of(latest)), self.not_due(latest_not_after));
        }
        let old = in_use
            .iter()
            .filter(|r| r.not_after().is_some())
            .min_by_key(|r| r.not_after())
            .copied()
            .unwrap_or(latest);
        let current = Some(Current::of(old));
        if group.len() >= 2 {
            let unused = group
                .iter()
                .filter(|r| r.role == Role::Unused)
                .map(|r| r.cert_id.clone())
                .collect();
            return (
                current,
                Decision::Blocked(Blocker::CredentialLimit {
                    count: group.len(),
                    unused,
                }),
            );
        }
        let decision = match self.choose(&in_use, old.not_after()) {
            Ok(candidate) => Decision::Due(Action::AddCredential {
                old_credential_id: old.cert_id.clone(),
                candidate,
            }),
            Err(b) => Decision::Blocked(b),
        };
        (current, decision)
    }

    fn signing_key(&self, tenant: &TenantSnapshot) -> (Option<Current>, Decision) {
        let keys: Vec<&CertRecord> = tenant
            .records
            .iter()
            .filter(|r| r.kind == Kind::TenantSigningKey)
            .collect();
        let Some(current) = keys.iter().find(|r| r.role == Role::Current) else {
            return (None, Decision::NotDue("no current signing key".into()));
        };
        let cur = Some(Current::of(current));
        let Some(not_after) = current.not_after() else {
            return (
                cur,
                Decision::NotDue("current signing key expiry unknown".into()),
            );
        };
        if !self.due(not_after) {
            return (cur, self.not_due(not_after));
        }
        let Some(next) = keys.iter().find(|r| r.role == Role::Next) else {
            return (cur, Decision::Blocked(Blocker::NoNextSigningKey));
        };
        if next.not_after().is_none_or(|n| n <= not_after) {
            return (
                cur,
                Decision::Blocked(Blocker::NextKeyExpiresFirst {
                    next_not_after: next.not_after(),
                }),
            );
        }
        (
            cur,
            Decision::Due(Action::RotateSigningKey {
                next_kid: next.cert_id.clone(),
                next_not_after: next.not_after(),
            }),
        )
    }

    fn unsupported(&self, group: &[&CertRecord], kind: Kind) -> (Option<Current>, Decision) {
        let soonest = group
            .iter()
            .filter(|r| r.not_after().is_some())
            .min_by_key(|r| r.not_after());
        let current = soonest.or(group.first()).map(|r| Current::of(r));
        let decision = match soonest.and_then(|r| r.not_after()) {
            Some(t) if self.due(t) => Decision::Blocked(Blocker::UnsupportedKind(kind)),
            Some(t) => self.not_due(t),
            None => Decision::NotDue(format!("rotation of {kind} is not supported")),
        };
        (current, decision)
    }
}

/// Choose the replacement among a source's candidates (pure; see the module rules).
pub fn choose(
    listing: &Listing,
    source: &std::path::Path,
    current_sha1: &HashSet<&str>,
    current_sha256: &HashSet<&str>,
    current_not_after: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Candidate, Blocker> {
    let different: Vec<&Candidate> = listing
        .candidates
        .iter()
        .filter(|c| {
            !current_sha1.contains(c.info.sha1.as_str())
                && !current_sha256.contains(c.info.sha256.as_str())
        })
        .collect();
    if listing.candidates.is_empty() {
        return Err(Blocker::NoCandidate {
            source: source.to_path_buf(),
            rejected: listing.rejected.len(),
        });
    }
    if different.is_empty() {
        return Err(Blocker::SameAsCurrent {
            source: source.to_path_buf(),
        });
    }
    let later = |c: &Candidate| {
        c.info.not_after > now && current_not_after.is_none_or(|cur| c.info.not_after > cur)
    };
    let best = different
        .iter()
        .copied()
        .filter(|c| c.info.not_before <= now && later(c))
        .max_by(|a, b| {
            a.info
                .not_after
                .cmp(&b.info.not_after)
                .then_with(|| b.path.cmp(&a.path))
        });
    if let Some(best) = best {
        return Ok(best.clone());
    }
    // Explain with the most promising rejection: one that only needs time, else the longest-lived.
    if let Some(pending) = different
        .iter()
        .filter(|c| later(c))
        .min_by_key(|c| c.info.not_before)
    {
        return Err(Blocker::NotYetValid {
            path: pending.path.clone(),
            not_before: pending.info.not_before,
        });
    }
    let longest = different
        .iter()
        .max_by_key(|c| c.info.not_after)
        .copied()
        .unwrap_or(different[0]);
    Err(Blocker::ExpiresSooner {
        path: longest.path.clone(),
        not_after: longest.info.not_after,
        current_not_after,
    })
}

#[cfg(test)]
mod tests;
