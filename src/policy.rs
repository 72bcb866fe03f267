//! Pure alerting policy: which thresholds apply to a record, whether it alerts, and its status.

use crate::expiry::{self, Status, Thresholds};
use crate::inventory::{CertRecord, Kind, Role};
use time::OffsetDateTime;

/// One `[[policy.overrides]]` entry: the first that matches a record wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Override {
    /// Match this kind.
    pub kind: Option<Kind>,
    /// Match this tenant.
    pub tenant: Option<String>,
    /// Match this object name.
    pub object_name: Option<String>,
    /// Match this object id.
    pub object_id: Option<String>,
    /// Replacement warning horizon.
    pub warning_before: Option<std::time::Duration>,
    /// Replacement critical horizon.
    pub critical_before: Option<std::time::Duration>,
    /// Never alert for matching records (still exported).
    pub mute: bool,
}

impl Override {
    fn matches(&self, r: &CertRecord) -> bool {
        self.matches_object(Some(r.kind), &r.tenant, &r.object_id, &r.object_name)
    }

    fn matches_object(
        &self,
        kind: Option<Kind>,
        tenant: &str,
        object_id: &str,
        object_name: &str,
    ) -> bool {
        self.kind.is_none_or(|k| Some(k) == kind)
            && self.tenant.as_deref().is_none_or(|t| t == tenant)
            && self.object_name.as_deref().is_none_or(|n| n == object_name)
            && self.object_id.as_deref().is_none_or(|n| n == object_id)
    }
}

/// The `[policy]` section, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Default horizons.
    pub thresholds: Thresholds,
    /// Roles that alert and count towards exit codes.
    pub alert_roles: Vec<Role>,
    /// Per-object overrides.
    pub overrides: Vec<Override>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            thresholds: Thresholds::default(),
            alert_roles: vec![Role::Current, Role::Next, Role::InUse, Role::Active],
            overrides: Vec::new(),
        }
    }
}

impl Policy {
    fn matching(&self, r: &CertRecord) -> Option<&Override> {
        self.overrides.iter().find(|o| o.matches(r))
    }

    /// The horizons that apply to `r`.
    pub fn thresholds_for(&self, r: &CertRecord) -> Thresholds {
        let mut t = self.thresholds;
        if let Some(o) = self.matching(r) {
            t.warning_before = o.warning_before.unwrap_or(t.warning_before);
            t.critical_before = o.critical_before.unwrap_or(t.critical_before);
        }
        t
    }

    /// The horizons for a certificate that is not an inventory record (one an IdP publishes, a
    /// custom domain's): overrides match on kind (`None` matches only kind-less overrides),
    /// tenant, object id and name. Also says whether a matching override mutes it.
    pub fn thresholds_for_object(
        &self,
        kind: Option<Kind>,
        tenant: &str,
        object_id: &str,
        object_name: &str,
    ) -> (Thresholds, bool) {
        let mut t = self.thresholds;
        let o = self
            .overrides
            .iter()
            .find(|o| o.matches_object(kind, tenant, object_id, object_name));
        if let Some(o) = o {
            t.warning_before = o.warning_before.unwrap_or(t.warning_before);
            t.critical_before = o.critical_before.unwrap_or(t.critical_before);
        }
        (t, o.is_some_and(|o| o.mute))
    }

    /// Whether `r` alerts and counts towards exit codes: its role is alerting and it is not muted.
    pub fn is_alerting(&self, r: &CertRecord) -> bool {
        self.alert_roles.contains(&r.role) && !self.matching(r).is_some_and(|o| o.mute)
    }

    /// The status of `r` at `now`.
    pub fn status(&self, r: &CertRecord, now: OffsetDateTime) -> Status {
        expiry::evaluate(r.validity, self.thresholds_for(r), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiry::Validity;
    use crate::inventory::Source;
    use std::time::Duration;
    use time::macros::datetime;

    fn rec(kind: Kind, role: Role, name: &str, days: i64) -> CertRecord {
        let now = datetime!(2026-11-23 0:00 UTC);
        CertRecord {
            tenant: "prod".into(),
            kind,
            role,
            object_id: format!("id-{name}"),
            object_name: name.into(),
            cert_id: "x".into(),
            subject: None,
            issuer: None,
            serial: None,
            sha1: None,
            sha256: None,
            validity: Validity::Window {
                not_before: None,
                not_after: now + time::Duration::days(days),
            },
            error: None,
            source: Source::Connections,
            owner: None,
            key_use: None,
        }
    }

    #[test]
    fn roles_decide_alerting() {
        let p = Policy::default();
        assert!(p.is_alerting(&rec(Kind::TenantSigningKey, Role::Current, "a", 1)));
        assert!(!p.is_alerting(&rec(Kind::TenantSigningKey, Role::Previous, "a", 1)));
        assert!(!p.is_alerting(&rec(Kind::TenantSigningKey, Role::Revoked, "a", 1)));
        assert!(!p.is_alerting(&rec(Kind::ClientCredential, Role::Unused, "a", 1)));
        assert!(p.is_alerting(&rec(Kind::ClientCredential, Role::InUse, "a", 1)));
    }

    #[test]
    fn first_matching_override_wins() {
        let now = datetime!(2026-11-23 0:00 UTC);
        let p = Policy {
            overrides: vec![
                Override {
                    object_name: Some("legacy".into()),
                    mute: true,
                    ..Default::default()
                },
                Override {
                    kind: Some(Kind::ConnectionSigningCert),
                    warning_before: Some(Duration::from_secs(60 * 86_400)),
                    ..Default::default()
                },
            ],
            ..Policy::default()
        };
        let legacy = rec(Kind::ConnectionSigningCert, Role::Active, "legacy", 3);
        assert!(!p.is_alerting(&legacy));
        assert_eq!(
            p.status(&legacy, now),
            Status::Critical,
            "muted still has a status"
        );
        let saml = rec(Kind::ConnectionSigningCert, Role::Active, "acme", 45);
        assert_eq!(p.status(&saml, now), Status::Warning);
        let other = rec(Kind::ClientEncryptionKey, Role::Active, "acme", 45);
        assert_eq!(p.status(&other, now), Status::Ok);
    }
}
