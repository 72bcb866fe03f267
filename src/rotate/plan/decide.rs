//! The decision about one object, by kind (see the rules in `plan`): due or not by
//! `rotate_before`, the replacement chosen among the store's candidates, the client credential
//! overlap and two-credential limit, the next signing key. Pure.

use super::{Action, Blocker, Current, Decision, Listings, Overlap, Settings};
use crate::config::Target;
use crate::expiry::Validity;
use crate::inventory::{CertRecord, Kind, Role, TenantSnapshot};
use crate::rotate::store::{Candidate, Listing};
use crate::timefmt::rfc3339;
use std::collections::HashSet;
use time::OffsetDateTime;

/// What deciding about one target's objects needs.
pub(super) struct Cx<'a> {
    pub(super) tenant: &'a str,
    pub(super) target: &'a Target,
    pub(super) listings: &'a Listings,
    pub(super) overlaps: &'a [Overlap],
    pub(super) settings: &'a Settings,
    pub(super) now: OffsetDateTime,
}

impl Cx<'_> {
    pub(super) fn due(&self, not_after: OffsetDateTime) -> bool {
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
        let Some(source) = self.target.source.store_path() else {
            return Err(Blocker::Store("the target has no store source".into()));
        };
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

    pub(super) fn connection(&self, group: &[&CertRecord]) -> (Option<Current>, Decision) {
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

    pub(super) fn credential(&self, group: &[&CertRecord]) -> (Option<Current>, Decision) {
        let client_id = &group[0].object_id;
        let present = |id: &str| group.iter().any(|r| r.cert_id == id);
        if let Some(o) = self
            .overlaps
            .iter()
            .filter(|o| o.tenant == self.tenant && o.client_id == *client_id)
            .find(|o| present(&o.old_credential_id))
        {
            return self.overlap(group, o);
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

    /// A client in an overlap certwatch started: retire the old credential once the overlap
    /// has passed (and its replacement is still there).
    fn overlap(&self, group: &[&CertRecord], o: &Overlap) -> (Option<Current>, Decision) {
        let old = group
            .iter()
            .find(|r| r.cert_id == o.old_credential_id)
            .map(|r| Current::of(r));
        if !group.iter().any(|r| r.cert_id == o.new_credential_id) {
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
        (old, decision)
    }

    pub(super) fn signing_key(&self, tenant: &TenantSnapshot) -> (Option<Current>, Decision) {
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

    /// A target with `policy = "disabled"`: never rotated, whatever is due.
    pub(super) fn disabled(&self, group: &[&CertRecord]) -> (Option<Current>, Decision) {
        let current = group
            .iter()
            .filter(|r| r.not_after().is_some())
            .min_by_key(|r| r.not_after())
            .or(group.first())
            .map(|r| Current::of(r));
        (
            current,
            Decision::NotDue("rotation disabled for this target (policy = \"disabled\")".into()),
        )
    }

    pub(super) fn unsupported(
        &self,
        group: &[&CertRecord],
        kind: Kind,
    ) -> (Option<Current>, Decision) {
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
