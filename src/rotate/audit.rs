//! The rotation audit log (docs/rotation.md): JSON lines at `rotation.audit_log`
//! (default `{state_dir}/rotation-audit.jsonl`).
//!
//! Every change is bracketed: an `intent` record is appended and fsynced before the first write
//! request, and a result record with the same `id` (`applied`, `failed`, `rolled_back`) after it.
//! Dry runs, deferred and blocked steps get a single record. An intent without a result means the process
//! died mid-change; `unresolved` finds those so the rotator can re-verify them against Auth0 at the
//! next start and append the resolution. Lines that do not parse (a torn last line after a crash)
//! are skipped, never fatal. Records never hold key material or request bodies.

use super::plan::Overlap;
use crate::inventory::Kind;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;
use time::OffsetDateTime;

/// The audit `outcome` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// About to change Auth0 (written before the first write request).
    Intent,
    /// The change was made and verified.
    Applied,
    /// The change was not made (or its state could not be established).
    Failed,
    /// The change did not verify and was undone.
    RolledBack,
    /// Dry run: what would have been done.
    DryRun,
    /// Due but not possible.
    Blocked,
    /// An apply outside every rotation window: nothing written, done in the next window.
    Deferred,
}

impl Outcome {
    /// The JSON / label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Intent => "intent",
            Outcome::Applied => "applied",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::DryRun => "dry_run",
            Outcome::Blocked => "blocked",
            Outcome::Deferred => "deferred",
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Pairs an intent with its result.
    pub id: String,
    /// Tenant.
    pub tenant: String,
    /// Kind.
    pub kind: Kind,
    /// Connection id, client id or kid.
    pub object_id: String,
    /// Connection name, client name or domain.
    pub object_name: String,
    /// `replace_connection_cert`, `replace_from_metadata`, `add_credential`,
    /// `retire_credential`, `rotate_signing_key`, or `none` for blocked steps.
    pub action: String,
    /// The replaced certificate's id (kid, credential id or SHA-1).
    #[serde(default)]
    pub old_cert_id: Option<String>,
    /// Its SHA-1.
    #[serde(default)]
    pub old_sha1: Option<String>,
    /// Its expiry.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub old_not_after: Option<OffsetDateTime>,
    /// The new certificate's id (kid or credential id), once known.
    #[serde(default)]
    pub new_cert_id: Option<String>,
    /// Its SHA-1.
    #[serde(default)]
    pub new_sha1: Option<String>,
    /// Its expiry.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub new_not_after: Option<OffsetDateTime>,
    /// What happened.
    pub outcome: Outcome,
    /// Written by a dry run.
    pub dry_run: bool,
    /// Why it failed, was rolled back or blocked.
    #[serde(default)]
    pub error: Option<String>,
    /// Anything else worth knowing (e.g. "recovered after restart").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The audit log could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("rotation audit log {}: {source}", .path.display())]
pub struct Error {
    /// The file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// The append-only audit file. Appends are serialised within the process; each record is one
/// `write` of one line in append mode, so several processes can share the file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    lock: std::sync::Mutex<()>,
}

impl AuditLog {
    /// The log at `path` (created on first append, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: std::sync::Mutex::new(()),
        }
    }

    /// Append one record and fsync it.
    pub fn append(&self, record: &Record) -> Result<(), Error> {
        let err = |source| Error {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(record).map_err(|e| err(std::io::Error::other(e)))?;
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let created = !self.path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        // A torn last line (power loss, full disk) must not swallow this record: start a new line.
        if ends_torn(&self.path).map_err(err)? {
            line.insert(0, b'\n');
        }
        file.write_all(&line).map_err(err)?;
        file.sync_data().map_err(err)?;
        if created {
            // Make the new directory entry durable too (best effort: not possible everywhere).
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
        }
        Ok(())
    }

    /// Every record that parses, in order (a missing file is an empty log).
    pub fn read(&self) -> Result<Vec<Record>, Error> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        Ok(parse(&text))
    }
}

/// Parse JSON lines, skipping those that do not parse (logged).
pub fn parse(text: &str) -> Vec<Record> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter_map(|(i, l)| match serde_json::from_str(l) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(line = i + 1, error = %e, "skipping an unreadable rotation audit line");
                None
            }
        })
        .collect()
}

/// Intents of `tenant` without a result record (pure).
pub fn unresolved(records: &[Record], tenant: &str) -> Vec<Record> {
    let resolved: HashSet<&str> = records
        .iter()
        .filter(|r| r.outcome != Outcome::Intent)
        .map(|r| r.id.as_str())
        .collect();
    records
        .iter()
        .filter(|r| {
            r.tenant == tenant && r.outcome == Outcome::Intent && !resolved.contains(r.id.as_str())
        })
        .cloned()
        .collect()
}

/// Credentials certwatch added in `tenant` whose predecessor has not been retired (pure).
pub fn overlaps(records: &[Record], tenant: &str) -> Vec<Overlap> {
    let ours = |r: &&Record| r.tenant == tenant && r.kind == Kind::ClientCredential && !r.dry_run;
    let retired: HashSet<(&str, &str)> = records
        .iter()
        .filter(ours)
        .filter(|r| r.action == "retire_credential" && r.outcome == Outcome::Applied)
        .filter_map(|r| Some((r.object_id.as_str(), r.old_cert_id.as_deref()?)))
        .collect();
    records
        .iter()
        .filter(ours)
        .filter(|r| r.action == "add_credential" && r.outcome == Outcome::Applied)
        .filter_map(|r| {
            let old = r.old_cert_id.as_deref()?;
            let new = r.new_cert_id.as_deref()?;
            (!retired.contains(&(r.object_id.as_str(), old))).then(|| Overlap {
                tenant: r.tenant.clone(),
                client_id: r.object_id.clone(),
                old_credential_id: old.to_string(),
                new_credential_id: new.to_string(),
                added_at: r.time,
            })
        })
        .collect()
}

/// A fresh record id.
pub fn new_id(now: OffsetDateTime) -> String {
    format!(
        "{}-{:08x}",
        now.unix_timestamp_nanos() / 1_000_000,
        rand::random::<u32>()
    )
}

/// Whether the file exists, is not empty and does not end with a newline (a torn last line).
fn ends_torn(path: &std::path::Path) -> std::io::Result<bool> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if f.metadata()?.len() == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    pub(crate) fn record(id: &str, action: &str, outcome: Outcome) -> Record {
        Record {
            time: datetime!(2026-01-01 0:00 UTC),
            id: id.into(),
            tenant: "prod".into(),
            kind: Kind::ClientCredential,
            object_id: "cl_1".into(),
            object_name: "app".into(),
            action: action.into(),
            old_cert_id: Some("cred_old".into()),
            old_sha1: None,
            old_not_after: None,
            new_cert_id: Some("cred_new".into()),
            new_sha1: Some("ab".into()),
            new_not_after: Some(datetime!(2027-01-01 0:00 UTC)),
            outcome,
            dry_run: false,
            error: None,
            detail: None,
        }
    }

    #[test]
    fn append_read_round_trip_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.jsonl");
        let log = AuditLog::new(&path);
        assert!(log.read().unwrap().is_empty());
        let a = record("1", "add_credential", Outcome::Intent);
        log.append(&a).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"time\":\"2026-01-").unwrap();
        drop(f);
        // A torn line followed by a good one: the good one still counts (append starts a new
        // line itself).
        let b = record("1", "add_credential", Outcome::Applied);
        log.append(&b).unwrap();
        assert_eq!(log.read().unwrap(), vec![a, b]);
        let line = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        assert_eq!(first["outcome"], "intent");
        assert_eq!(first["time"], "2026-01-01T00:00:00Z");
        assert_eq!(first["kind"], "client_credential");
        assert_eq!(first["error"], serde_json::Value::Null);
    }

    #[test]
    fn intents_without_results_are_unresolved() {
        let records = vec![
            record("1", "add_credential", Outcome::Intent),
            record("1", "add_credential", Outcome::Applied),
            record("2", "replace_connection_cert", Outcome::Intent),
        ];
        let open = unresolved(&records, "prod");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, "2");
        assert!(unresolved(&records, "staging").is_empty());
    }

    #[test]
    fn overlaps_end_when_the_old_credential_is_retired() {
        let mut records = vec![
            record("1", "add_credential", Outcome::Intent),
            record("1", "add_credential", Outcome::Applied),
        ];
        let o = overlaps(&records, "prod");
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].old_credential_id, "cred_old");
        assert_eq!(o[0].new_credential_id, "cred_new");
        let mut dry = record("3", "add_credential", Outcome::Applied);
        dry.dry_run = true;
        records.push(dry);
        assert_eq!(overlaps(&records, "prod").len(), 1, "dry runs add nothing");
        records.push(record("2", "retire_credential", Outcome::Applied));
        assert!(overlaps(&records, "prod").is_empty());
    }
}
