//! The alert ledger (`{state_dir}/alerts.json`): what has been notified and which deliveries are
//! still pending, as versioned JSON written atomically (temp file, fsync, rename, fsync dir).

use super::policy::{
    Batch, Entries, Entry, FindingEntries, FindingEntry, Key, RotationEntries, RotationEntry,
};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;

/// The file name inside `state_dir`.
pub const FILE_NAME: &str = "alerts.json";
/// The ledger format version this build reads and writes.
pub const VERSION: u32 = 1;
/// First retry delay; doubles per failed attempt.
pub const BACKOFF_START: Duration = Duration::from_secs(30);
/// Longest retry delay.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3600);

/// One message waiting to be delivered to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Unique within the ledger (logs).
    pub id: u64,
    /// The channel name.
    pub channel: String,
    /// What to send.
    pub batch: Batch,
    /// When it was queued (the `give_up_after` clock).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Attempts so far.
    pub attempts: u32,
    /// Not before this instant.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// The last failure (no secrets: notifiers never put URLs or passwords in errors).
    #[serde(default)]
    pub last_error: Option<String>,
}

impl Pending {
    /// Whether it may be attempted at `now`.
    pub fn due(&self, now: OffsetDateTime) -> bool {
        self.next_attempt_at <= now
    }

    /// Whether `give_up_after` has elapsed since it was queued.
    pub fn expired(&self, give_up_after: Duration, now: OffsetDateTime) -> bool {
        now - self.created_at >= give_up_after
    }

    /// Schedule the next attempt after a retryable failure.
    pub fn failed(&mut self, error: String, now: OffsetDateTime) {
        self.attempts += 1;
        self.next_attempt_at = now + backoff(self.attempts);
        self.last_error = Some(error);
    }
}

/// The delay after `attempts` failed attempts: 30 s, 60 s, 120 s, … capped at 1 h.
pub fn backoff(attempts: u32) -> Duration {
    let shift = attempts.saturating_sub(1).min(16);
    BACKOFF_START.saturating_mul(1 << shift).min(BACKOFF_CAP)
}

/// The whole ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Notified certificates that are not ok.
    pub entries: Entries,
    /// Notified rotation problems that the last pass still reported.
    pub rotations: RotationEntries,
    /// Notified findings (warning or critical) that have not resolved yet.
    pub findings: FindingEntries,
    /// Deliveries not yet done, oldest first.
    pub pending: Vec<Pending>,
    /// The next pending id.
    pub next_id: u64,
}

/// The file format.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    next_id: u64,
    #[serde(default)]
    entries: Vec<Entry>,
    /// Absent from ledgers written before rotation alerts existed, and omitted when empty so
    /// that such builds can still read the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rotations: Vec<RotationEntry>,
    /// Likewise for finding alerts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<FindingEntry>,
    #[serde(default)]
    pending: Vec<Pending>,
}

/// Why a ledger could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The ledger path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a ledger this build understands.
    #[error("{path} is not a valid alert ledger: {message}")]
    Corrupt {
        /// The ledger path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Ledger {
    /// Queue a batch for a channel, due at once.
    pub fn enqueue(&mut self, channel: String, batch: Batch, now: OffsetDateTime) {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.push(Pending {
            id,
            channel,
            batch,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
        });
    }

    /// Serialize (pretty, stable order).
    pub fn to_json(&self) -> Vec<u8> {
        let file = File {
            version: VERSION,
            next_id: self.next_id,
            entries: self.entries.values().cloned().collect(),
            rotations: self.rotations.values().cloned().collect(),
            findings: self.findings.values().cloned().collect(),
            pending: self.pending.clone(),
        };
        let mut out = serde_json::to_vec_pretty(&file).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parse a ledger file's contents.
    pub fn from_json(bytes: &[u8]) -> Result<Ledger, String> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == u64::from(VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "unsupported version {n} (this build reads {VERSION})"
                ));
            }
            None => return Err("no version".into()),
        }
        let file: File = serde_json::from_value(v).map_err(|e| e.to_string())?;
        let max_id = file.pending.iter().map(|p| p.id + 1).max().unwrap_or(0);
        Ok(Ledger {
            entries: file
                .entries
                .into_iter()
                .map(|e| (Key::of(&e.certificate), e))
                .collect(),
            rotations: file
                .rotations
                .into_iter()
                .map(|e| (e.event.key(), e))
                .collect(),
            findings: file
                .findings
                .into_iter()
                .map(|e| (e.finding.key(), e))
                .collect(),
            pending: file.pending,
            next_id: file.next_id.max(max_id),
        })
    }

    /// Load `path`; a missing file is an empty ledger. A file over [`MAX_BYTES`] is not read:
    /// it is `Corrupt` (and so moved aside), never a reason to exhaust memory.
    pub fn load(path: &Path) -> Result<Ledger, LoadError> {
        Ledger::load_capped(path, MAX_BYTES)
    }

    /// [`Ledger::load`] with a size limit of `limit` bytes.
    fn load_capped(path: &Path, limit: u64) -> Result<Ledger, LoadError> {
        let bytes = match read_capped(path, limit) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(LoadError::Corrupt {
                    path: path.to_path_buf(),
                    message: format!("larger than {limit} bytes"),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ledger::default()),
            Err(source) => {
                return Err(LoadError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ledger::from_json(&bytes).map_err(|message| LoadError::Corrupt {
            path: path.to_path_buf(),
            message,
        })
    }
}

/// The largest ledger read (docs/alerts.md): far above what 100,000 certificates write.
pub const MAX_BYTES: u64 = 256 << 20;

/// The bytes of `path`, or `None` when it holds more than `limit` bytes (only `limit` + 1 are
/// ever read).
pub fn read_capped(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Move an unreadable ledger aside to `alerts.json.corrupt-<unix-ts>`; returns the new path.
pub fn move_aside(path: &Path, now: OffsetDateTime) -> std::io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".corrupt-{}", now.unix_timestamp()));
    let to = path.with_file_name(name);
    std::fs::rename(path, &to)?;
    Ok(to)
}

/// [`write_atomic`] on the blocking pool; the error as text.
pub async fn write_in_background(path: &Path, bytes: Vec<u8>) -> Result<(), String> {
    let path = path.to_path_buf();
    match tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Write `bytes` to `path` atomically: a temp file next to it, fsync, rename over, fsync the dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // Make the rename itself durable.
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests;
