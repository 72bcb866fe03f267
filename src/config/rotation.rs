//! `[rotation]`: whether the daemon runs a rotation pass (dry by default), its horizon and
//! overlap, the audit log, the store of replacement certificates (`filesystem` only), the
//! windows in which an applying pass may write, and the targets that say which certificate
//! comes from where (a store source, or `metadata`: what the IdP publishes). See
//! docs/rotation.md.

use super::Error;
use super::context::Ctx;
use super::raw::{RawRotation, RawTarget, RawWindow};
use crate::inventory::Kind;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `source` value that means "what the IdP publishes" rather than a path under the store.
pub const METADATA_SOURCE: &str = "metadata";

/// Where a target's replacement certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file or directory under the certificate store.
    Store(PathBuf),
    /// The connection's IdP metadata (`source = "metadata"`).
    Metadata,
}

impl Source {
    /// The store path, for store sources.
    pub fn store_path(&self) -> Option<&Path> {
        match self {
            Source::Store(p) => Some(p),
            Source::Metadata => None,
        }
    }
}

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
    /// Where the replacement comes from.
    pub source: Source,
    /// `policy = "disabled"`: the objects it matches are never rotated.
    pub disabled: bool,
}

/// One `rotation.windows` entry: opens at every firing of `cron` (UTC) for `duration`.
#[derive(Debug, Clone)]
pub struct Window {
    /// The expression as written.
    pub cron: String,
    /// The parsed expression.
    pub schedule: croner::Cron,
    /// How long the window stays open.
    pub duration: Duration,
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
    /// When an applying pass may write; empty = always.
    pub windows: Vec<Window>,
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
    if store.is_none() && targets.iter().any(|t| t.source.store_path().is_some()) {
        return Err(cx.err(
            "rotation.store",
            "targets with a store source need a [rotation.store]",
        ));
    }
    let windows = r
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| window(cx, i, w))
        .collect::<Result<Vec<_>, _>>()?;
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
        windows,
    })
}

/// `rotation.windows[i]`: a 6-field cron expression and a duration longer than zero.
fn window(cx: &Ctx<'_>, i: usize, w: &RawWindow) -> Result<Window, Error> {
    let key = format!("rotation.windows[{i}]");
    let schedule =
        super::schedule::parse_cron(&w.cron).map_err(|e| cx.err(format!("{key}.cron"), e))?;
    if w.duration.trim().is_empty() {
        return Err(cx.err(format!("{key}.duration"), "is required"));
    }
    let duration = cx.duration(
        &format!("{key}.duration"),
        Some(&w.duration),
        Duration::ZERO,
    )?;
    if duration.is_zero() {
        return Err(cx.err(format!("{key}.duration"), "must be longer than zero"));
    }
    Ok(Window {
        cron: w.cron.trim().to_string(),
        schedule,
        duration,
    })
}

/// `rotation.targets[i]`: a source is required; `source = "metadata"` only for an explicit
/// `kind = "connection_signing_cert"`; `policy` is `enabled` or `disabled`.
fn target(cx: &Ctx<'_>, i: usize, t: &RawTarget) -> Result<Target, Error> {
    let key = format!("rotation.targets[{i}]");
    if t.source.is_empty() {
        return Err(cx.err(format!("{key}.source"), "is required"));
    }
    let kind = t
        .kind
        .as_deref()
        .map(|k| cx.kind(&format!("{key}.kind"), k))
        .transpose()?;
    let source = if t.source == METADATA_SOURCE {
        if kind != Some(Kind::ConnectionSigningCert) {
            return Err(cx.err(
                format!("{key}.source"),
                "\"metadata\" needs kind = \"connection_signing_cert\" (write \"./metadata\" for a store directory of that name)",
            ));
        }
        Source::Metadata
    } else {
        Source::Store(PathBuf::from(&t.source))
    };
    let disabled = match t.policy.as_deref() {
        None | Some("enabled") => false,
        Some("disabled") => true,
        Some(other) => {
            return Err(cx.err(
                format!("{key}.policy"),
                format!("{other:?} is not a policy (enabled, disabled)"),
            ));
        }
    };
    Ok(Target {
        tenant: t.tenant.clone(),
        kind,
        object_name: t.object_name.clone(),
        object_id: t.object_id.clone(),
        source,
        disabled,
    })
}
