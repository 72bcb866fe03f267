//! `[rotation]`: whether the daemon runs a rotation pass (dry by default), its horizon and
//! overlap, the audit log, the store of replacement certificates (`filesystem` only) and the
//! targets that say which certificate comes from where. See docs/rotation.md.

use super::Error;
use super::context::Ctx;
use super::raw::{RawRotation, RawTarget};
use crate::inventory::Kind;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[[rotation.targets]]`, validated.
#[derive(Debug, Clone)]
pub struct Target {
    /// Tenant.
    pub tenant: Option<String>,
    /// Kind.
    pub kind: Option<Kind>,
    /// Object name.
    pub object_name: Option<String>,
    /// Object id.
    pub object_id: Option<String>,
    /// Source under the store.
    pub source: PathBuf,
}

/// `[rotation]`, validated.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// Daemon pass enabled.
    pub enabled: bool,
    /// The daemon pass applies changes (otherwise it is a dry run).
    pub apply: bool,
    /// Horizon.
    pub rotate_before: Duration,
    /// Audit log path.
    pub audit_log: PathBuf,
    /// Credential overlap.
    pub overlap: Duration,
    /// Store root (filesystem).
    pub store: Option<PathBuf>,
    /// Targets.
    pub targets: Vec<Target>,
}

/// `[rotation]`: targets need a store; the audit log defaults to `{state_dir}/rotation-audit.jsonl`.
pub(super) fn validate(cx: &Ctx<'_>, r: &RawRotation, state_dir: &Path) -> Result<Rotation, Error> {
    let store = match &r.store {
        None => None,
        Some(s) if s.kind == "filesystem" => Some(s.path.clone()),
        Some(s) => {
            return Err(cx.err(
                "rotation.store.kind",
                format!("{:?} is not supported (filesystem)", s.kind),
            ));
        }
    };
    let targets = r
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| target(cx, i, t))
        .collect::<Result<Vec<_>, _>>()?;
    if !targets.is_empty() && store.is_none() {
        return Err(cx.err("rotation.store", "targets need a [rotation.store]"));
    }
    Ok(Rotation {
        enabled: r.enabled.unwrap_or(false),
        apply: r.apply.unwrap_or(false),
        rotate_before: cx.duration(
            "rotation.rotate_before",
            r.rotate_before.as_deref(),
            Duration::from_secs(30 * 86_400),
        )?,
        audit_log: r
            .audit_log
            .clone()
            .unwrap_or_else(|| state_dir.join("rotation-audit.jsonl")),
        overlap: cx.duration(
            "rotation.overlap",
            r.overlap.as_deref(),
            Duration::from_secs(86_400),
        )?,
        store,
        targets,
    })
}

/// `rotation.targets[i]`: a source is required.
fn target(cx: &Ctx<'_>, i: usize, t: &RawTarget) -> Result<Target, Error> {
    let key = format!("rotation.targets[{i}]");
    if t.source.is_empty() {
        return Err(cx.err(format!("{key}.source"), "is required"));
    }
    Ok(Target {
        tenant: t.tenant.clone(),
        kind: t
            .kind
            .as_deref()
            .map(|k| cx.kind(&format!("{key}.kind"), k))
            .transpose()?,
        object_name: t.object_name.clone(),
        object_id: t.object_id.clone(),
        source: PathBuf::from(&t.source),
    })
}
