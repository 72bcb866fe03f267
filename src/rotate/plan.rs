//! Pure rotation planning (docs/rotation.md): (snapshot, store listings, targets, pending overlaps,
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
//! - `source = "metadata"` (connection certificates only): the replacement is what the IdP
//!   publishes, judged against what the connection trusts (`metadata`).
//! - A target with `policy = "disabled"` owns the objects it matches, and never rotates them.

mod decide;
mod metadata;
mod step;

pub use decide::choose;
pub use metadata::{CertView, TrustChange};
pub use step::{Action, Blocker, Current, Decision, Step};

use super::store::{self, Listing};
use crate::config::{Source, Target};
use crate::inventory::{CertRecord, Kind, Role, Snapshot, TenantSnapshot};
use decide::Cx;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

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

/// The store listing of each target's store `source`.
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
                        _ if target.disabled => cx.disabled(&group),
                        Kind::ConnectionSigningCert if target.source == Source::Metadata => {
                            cx.metadata(&group, &tenant.facts.idp)
                        }
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

#[cfg(test)]
mod tests;
