//! `[ha]`: running more than one replica (docs/configuration.md, docs/alerts.md). With
//! `leader_election = "kubernetes"` only the holder of a `coordination.k8s.io/v1` Lease sends
//! email/webhook notifications and runs the rotation pass; without it every replica does both,
//! so more than one replica with direct channels is unsupported. Pure: the namespace and identity
//! defaults that need the pod's environment are resolved by the daemon (`daemon::lease`).

use super::Error;
use super::context::Ctx;
use super::raw::RawHa;
use std::time::Duration;

/// Default Lease name.
pub const DEFAULT_LEASE_NAME: &str = "certwatch";
/// Default `lease_duration`: how long a Lease nobody renews stays held.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// Default `renew_every`: how often the holder renews (and a candidate retries).
pub const DEFAULT_RENEW_EVERY: Duration = Duration::from_secs(5);

/// The validated `[ha]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ha {
    /// `leader_election = "kubernetes"`; `None`: every replica sends and rotates.
    pub leader_election: Option<LeaderElection>,
}

/// Leader election through a Kubernetes Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElection {
    /// `metadata.name` of the Lease.
    pub lease_name: String,
    /// Its namespace; `None`: the service account's namespace (read at start).
    pub namespace: Option<String>,
    /// `spec.leaseDurationSeconds`: a Lease not renewed for this long may be taken over.
    pub lease_duration: Duration,
    /// How often the holder renews and a candidate tries to acquire.
    pub renew_every: Duration,
    /// `spec.holderIdentity`; `None`: the pod name (`POD_NAME`, else the hostname).
    pub identity: Option<String>,
}

/// Validate `[ha]`.
pub(super) fn validate(cx: &Ctx<'_>, raw: &RawHa) -> Result<Ha, Error> {
    match raw.leader_election.as_deref().map(str::trim) {
        None | Some("none") => return Ok(Ha::default()),
        Some("kubernetes") => {}
        Some(other) => {
            return Err(cx.err(
                "ha.leader_election",
                format!("{other:?} is not \"kubernetes\" or \"none\""),
            ));
        }
    }
    let lease_name = raw
        .lease_name
        .clone()
        .unwrap_or_else(|| DEFAULT_LEASE_NAME.into());
    dns_label(cx, "ha.lease_name", &lease_name, 253)?;
    if let Some(ns) = &raw.namespace {
        dns_label(cx, "ha.namespace", ns, 63)?;
    }
    let lease_duration = cx.duration(
        "ha.lease_duration",
        raw.lease_duration.as_deref(),
        DEFAULT_LEASE_DURATION,
    )?;
    let renew_every = cx.duration(
        "ha.renew_every",
        raw.renew_every.as_deref(),
        DEFAULT_RENEW_EVERY,
    )?;
    if lease_duration < Duration::from_secs(1) {
        return Err(cx.err("ha.lease_duration", "must be at least 1s"));
    }
    if renew_every.is_zero() || renew_every >= lease_duration {
        return Err(cx.err(
            "ha.renew_every",
            "must be more than 0 and less than ha.lease_duration (the holder renews before its lease expires)",
        ));
    }
    if let Some(id) = &raw.identity
        && id.trim().is_empty()
    {
        return Err(cx.err("ha.identity", "must not be empty"));
    }
    Ok(Ha {
        leader_election: Some(LeaderElection {
            lease_name,
            namespace: raw.namespace.clone(),
            lease_duration,
            renew_every,
            identity: raw.identity.clone(),
        }),
    })
}

/// A Kubernetes object or namespace name: lowercase alphanumerics, `-` and `.`, at most `max`.
fn dns_label(cx: &Ctx<'_>, key: &str, v: &str, max: usize) -> Result<(), Error> {
    let ok = !v.is_empty()
        && v.len() <= max
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(cx.err(
            key,
            format!("{v:?} is not a Kubernetes name (lowercase letters, digits, '-', '.'; at most {max})"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Error};
    use std::time::Duration;

    /// `text` after one tenant (a configuration needs one).
    fn from_toml(text: &str) -> Result<Config, Error> {
        crate::config::from_toml(&format!(
            "[[tenants]]\nname = \"prod\"\ndomain = \"acme.eu.auth0.com\"\nclient_id = \"abc\"\n\
             client_secret = \"s3cr3t-value\"\n{text}"
        ))
    }

    #[test]
    fn off_by_default_and_with_none() {
        assert!(from_toml("").unwrap().ha.leader_election.is_none());
        let c = from_toml("[ha]\nleader_election = \"none\"").unwrap();
        assert!(c.ha.leader_election.is_none());
    }

    #[test]
    fn kubernetes_with_defaults_and_overrides() {
        let c = from_toml("[ha]\nleader_election = \"kubernetes\"").unwrap();
        let le = c.ha.leader_election.unwrap();
        assert_eq!(le.lease_name, "certwatch");
        assert_eq!(le.namespace, None);
        assert_eq!(le.lease_duration, Duration::from_secs(15));
        assert_eq!(le.renew_every, Duration::from_secs(5));
        let c = from_toml(
            "[ha]\nleader_election = \"kubernetes\"\nlease_name = \"cw-lease\"\nnamespace = \"monitoring\"\n\
             lease_duration = \"30s\"\nrenew_every = \"10s\"\nidentity = \"pod-a\"",
        )
        .unwrap();
        let le = c.ha.leader_election.unwrap();
        assert_eq!(le.lease_name, "cw-lease");
        assert_eq!(le.namespace.as_deref(), Some("monitoring"));
        assert_eq!(le.lease_duration, Duration::from_secs(30));
        assert_eq!(le.identity.as_deref(), Some("pod-a"));
    }

    #[test]
    fn rejects_bad_values_naming_the_key() {
        for (toml, key) in [
            ("leader_election = \"zookeeper\"", "ha.leader_election"),
            (
                "leader_election = \"kubernetes\"\nlease_name = \"Bad_Name\"",
                "ha.lease_name",
            ),
            (
                "leader_election = \"kubernetes\"\nnamespace = \"-x\"",
                "ha.namespace",
            ),
            (
                "leader_election = \"kubernetes\"\nrenew_every = \"20s\"",
                "ha.renew_every",
            ),
            (
                "leader_election = \"kubernetes\"\nlease_duration = \"500ms\"\nrenew_every = \"100ms\"",
                "ha.lease_duration",
            ),
            (
                "leader_election = \"kubernetes\"\nidentity = \" \"",
                "ha.identity",
            ),
        ] {
            let e = from_toml(&format!("[ha]\n{toml}")).unwrap_err().to_string();
            assert!(e.contains(key), "{toml}: {e}");
        }
        let e = from_toml("[ha]\nleader = true").unwrap_err().to_string();
        assert!(e.contains("leader"), "{e}");
    }
}
