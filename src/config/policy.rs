//! `[policy]`: the warning and critical horizons, the roles that alert, and the per-certificate
//! overrides, validated into a [`Policy`] (the judging itself lives in `crate::policy`). See
//! docs/status-policy.md.

use super::Error;
use super::context::Ctx;
use super::raw::{RawOverride, RawPolicy};
use crate::inventory::Role;
use crate::policy::{Override, Policy};
use std::time::Duration;

/// `[policy]`: defaults from [`Policy::default`]; critical never longer than warning.
pub(super) fn validate(cx: &Ctx<'_>, raw: &RawPolicy) -> Result<Policy, Error> {
    let mut policy = Policy::default();
    policy.thresholds.warning_before = cx.duration(
        "policy.warning_before",
        raw.warning_before.as_deref(),
        policy.thresholds.warning_before,
    )?;
    policy.thresholds.critical_before = cx.duration(
        "policy.critical_before",
        raw.critical_before.as_deref(),
        policy.thresholds.critical_before,
    )?;
    if policy.thresholds.critical_before > policy.thresholds.warning_before {
        return Err(cx.err(
            "policy.critical_before",
            "must not be longer than warning_before",
        ));
    }
    if let Some(roles) = &raw.alert_roles {
        policy.alert_roles = roles
            .iter()
            .map(|r| {
                Role::parse(r).ok_or_else(|| {
                    let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                    cx.err(
                        "policy.alert_roles",
                        format!("unknown role {r:?} (one of {})", all.join(", ")),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
    }
    for (i, o) in raw.overrides.iter().enumerate() {
        policy.overrides.push(override_entry(cx, i, o)?);
    }
    Ok(policy)
}

/// `policy.overrides[i]`.
fn override_entry(cx: &Ctx<'_>, i: usize, o: &RawOverride) -> Result<Override, Error> {
    let key = format!("policy.overrides[{i}]");
    let horizon = |name: &str, v: &Option<String>| {
        v.as_deref()
            .map(|d| cx.duration(&format!("{key}.{name}"), Some(d), Duration::ZERO))
            .transpose()
    };
    Ok(Override {
        kind: o
            .kind
            .as_deref()
            .map(|k| cx.kind(&format!("{key}.kind"), k))
            .transpose()?,
        tenant: o.tenant.clone(),
        object_name: o.object_name.clone(),
        object_id: o.object_id.clone(),
        warning_before: horizon("warning_before", &o.warning_before)?,
        critical_before: horizon("critical_before", &o.critical_before)?,
        mute: o.mute.unwrap_or(false),
    })
}
