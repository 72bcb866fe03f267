//! The alert engine (docs/alerts.md): after each poll it decides notifications from a persisted
//! ledger (`policy`, pure), records them in the ledger (`ledger`, atomic JSON) before delivering,
//! delivers them through one `Notifier` per channel (`email`, `webhook`; bodies from `render`), and
//! retries failed deliveries with backoff until they are delivered or given up. After a rotation
//! pass it does the same for the pass's failed, rolled back and blocked steps (docs/rotation.md,
//! [`Engine::notify_rotation`]), given as [`RotationEvent`]s: the engine takes events, never the
//! rotator's types. After a poll it also does so for the report's findings (docs/findings.md,
//! [`Engine::notify_findings`]). Time comes in: `now` arguments and the injected `Clock`; the
//! engine never reads the wall clock.
//!
//! The Alertmanager channel (`alertmanager`) is the exception to the ledger: it is state-based,
//! posting the full current set after each poll from every replica ([`Engine::post_alertmanager`],
//! part of [`Engine::process`]), and Alertmanager deduplicates.
//!
//! Delivery is at-least-once: the ledger is written before a message is sent and again after, so a
//! crash between a successful send and the second write can repeat that one message; a restart at
//! any other point sends nothing twice.

pub mod alertmanager;
pub mod email;
pub mod ledger;
pub mod policy;
pub mod render;
pub mod webhook;

use crate::clock::Clock;
use crate::config::{Alerts, Filter};
use crate::metrics::Metrics;
use crate::report::Report;
use ledger::{Ledger, Pending};
use policy::{AlertStatus, Batch, Settings};
pub use policy::{RotationEvent, RotationOutcome};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use tracing::Instrument;

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The state directory cannot be created.
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A channel's configuration cannot be used (bad address, TLS setup, duplicate name).
    #[error("alert channel `{channel}`: {message}")]
    Channel {
        /// The channel name.
        channel: String,
        /// What is wrong (never contains a secret).
        message: String,
    },
}

/// Why a delivery failed, chosen by what the engine does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Temporary (5xx, timeout, connection refused, SMTP 4xx): retry with backoff.
    #[error("{0}")]
    Retryable(String),
    /// Permanent (HTTP 4xx, SMTP 5xx): do not retry.
    #[error("{0}")]
    Rejected(String),
}

/// One alert channel. Implementations render the batch themselves and never put secrets (URLs,
/// passwords, keys) in errors or `Debug` output.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// The channel name (ledger, logs, the `channel` label).
    fn name(&self) -> &str;
    /// Which alerts the channel wants.
    fn filter(&self) -> &Filter;
    /// Deliver one message.
    async fn send(&self, batch: &Batch) -> Result<(), DeliveryError>;
    /// Whether only the leader among replicas may send (docs/alerts.md): true for the direct
    /// channels (email, webhook); a channel whose receiver deduplicates says false.
    fn leader_only(&self) -> bool {
        true
    }
}

/// Asked right before each delivery on a leader-only channel: is this replica the leader?
pub type LeaderCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// The alert engine. Cheap to share behind an `Arc`; calls are serialised internally.
pub struct Engine {
    settings: Settings,
    digest: bool,
    give_up_after: Duration,
    notifiers: Vec<Arc<dyn Notifier>>,
    path: PathBuf,
    state: tokio::sync::Mutex<State>,
    pending: AtomicUsize,
    metrics: Arc<Metrics>,
    alertmanager: Option<alertmanager::Alertmanager>,
    /// `None`: always the leader (no `[ha]`).
    leader: Option<LeaderCheck>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.path)
            .field(
                "channels",
                &self.notifiers.iter().map(|n| n.name()).collect::<Vec<_>>(),
            )
            .field("pending", &self.pending())
            .field("alertmanager", &self.alertmanager)
            .finish_non_exhaustive()
    }
}

struct State {
    ledger: Ledger,
    /// The ledger was lost: record the next poll's non-ok certificates as already notified.
    /// (Rotation problems are not seeded: see `Engine::notify_rotation`.)
    seed: bool,
    /// The same for the next findings check's warning and critical findings (a flag of its own:
    /// `process` and `notify_findings` are separate calls, in either order).
    seed_findings: bool,
}

/// The `outcome` label of `certwatch_alerts_sent_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Accepted by the receiver.
    Delivered,
    /// Failed temporarily; stays pending.
    Retrying,
    /// Refused by the receiver; dropped.
    Rejected,
    /// Given up after `give_up_after`; dropped.
    Failed,
}

impl Delivery {
    fn as_str(self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::Retrying => "retrying",
            Delivery::Rejected => "rejected",
            Delivery::Failed => "failed",
        }
    }
}

/// What one delivery attempt (or the decision not to attempt) came to.
enum Outcome {
    Delivered,
    Rejected(String),
    Retry(String),
    /// Not attempted because the channel just failed, and past `give_up_after`.
    GiveUp,
    /// The channel is no longer configured.
    NoChannel,
    /// This replica is not the leader: the leader delivers (`[ha]`).
    NotLeader,
}

impl Engine {
    /// Loads `{state_dir}/alerts.json` (creating `state_dir` if missing) and builds one notifier
    /// per configured channel. A corrupt or unreadable ledger is renamed aside to
    /// `alerts.json.corrupt-<unix-ts>` (the time from `clock`) and logged; the engine then treats
    /// the first poll's non-ok certificates as already notified instead of re-notifying
    /// everything. `clock` also dates the webhook signatures.
    pub fn new(
        cfg: Alerts,
        state_dir: &Path,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, Error> {
        let mut notifiers: Vec<Arc<dyn Notifier>> = Vec::new();
        for c in &cfg.email {
            notifiers.push(Arc::new(email::EmailNotifier::new(c)?));
        }
        for c in &cfg.webhook {
            notifiers.push(Arc::new(webhook::WebhookNotifier::new(c, clock.clone())?));
        }
        Engine::with_notifiers(cfg, state_dir, metrics, clock, notifiers)
    }

    /// Like `new`, with the notifiers given (tests, or channels built elsewhere); the email and
    /// webhook lists in `cfg` are ignored (its Alertmanager channels are built here).
    pub fn with_notifiers(
        cfg: Alerts,
        state_dir: &Path,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        notifiers: Vec<Arc<dyn Notifier>>,
    ) -> Result<Engine, Error> {
        let mut names = BTreeSet::new();
        let am_names = cfg.alertmanager.iter().map(|c| c.name.as_str());
        for name in notifiers.iter().map(|n| n.name()).chain(am_names) {
            if !names.insert(name.to_string()) {
                return Err(Error::Channel {
                    channel: name.into(),
                    message: "two alert channels have this name; give each a unique `name`".into(),
                });
            }
        }
        std::fs::create_dir_all(state_dir).map_err(|source| Error::StateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join(ledger::FILE_NAME);
        let (ledger, seed) = match Ledger::load(&path) {
            Ok(l) => (l, false),
            Err(e) => {
                match ledger::move_aside(&path, clock.now()) {
                    Ok(to) => tracing::error!(
                        error = %e, moved_to = %to.display(),
                        "alert ledger unusable; moved aside. Starting with an empty ledger in safe mode: certificates that \
                         are not ok at the next poll are treated as already notified (no alert storm), pending deliveries are lost"
                    ),
                    Err(mv) => tracing::error!(
                        error = %e, move_error = %mv,
                        "alert ledger unusable and cannot be moved aside. Starting with an empty ledger in safe mode: \
                         certificates that are not ok at the next poll are treated as already notified"
                    ),
                }
                (Ledger::default(), true)
            }
        };
        if !ledger.pending.is_empty() {
            tracing::info!(
                pending = ledger.pending.len(),
                "resuming pending alert deliveries from the ledger"
            );
        }
        let pending = AtomicUsize::new(ledger.pending.len());
        let alertmanager =
            alertmanager::Alertmanager::new(&cfg.alertmanager, state_dir, metrics.clone())?;
        Ok(Engine {
            settings: Settings {
                repeat_interval: cfg.repeat_interval,
                send_resolved: cfg.send_resolved,
            },
            digest: cfg.digest,
            give_up_after: cfg.give_up_after,
            notifiers,
            path,
            state: tokio::sync::Mutex::new(State {
                ledger,
                seed,
                seed_findings: seed,
            }),
            pending,
            metrics,
            alertmanager,
            leader: None,
        })
    }

    /// Give the Alertmanager channels the daemon's policy (which dates `startsAt`) and poll
    /// interval (alerts fire until now + 4 × it); without this call, the default policy and
    /// 15 minutes.
    pub fn with_polls(mut self, policy: crate::policy::Policy, interval: Duration) -> Self {
        if let Some(am) = &mut self.alertmanager {
            am.set_polls(policy, interval);
        }
        self
    }

    /// The Alertmanager channels, if any (tests tune their backoff).
    pub fn alertmanager_mut(&mut self) -> Option<&mut alertmanager::Alertmanager> {
        self.alertmanager.as_mut()
    }

    /// After each poll, on every replica (leader or not: Alertmanager deduplicates): post the
    /// report's full alert state to every Alertmanager channel. Nothing without such a channel.
    pub async fn post_alertmanager(&self, report: &Report, now: OffsetDateTime) {
        if let Some(am) = &self.alertmanager {
            am.post(report, now).await;
        }
    }

    /// Deliver on leader-only channels only while `is_leader()` says so (`[ha]`); a follower
    /// keeps the ledger like the leader (so a takeover does not re-notify) but drops the
    /// deliveries instead of sending them.
    pub fn with_leader_check(mut self, is_leader: LeaderCheck) -> Engine {
        self.leader = Some(is_leader);
        self
    }

    /// After each poll: decide notifications (pure policy), persist the ledger atomically before
    /// delivering, deliver, record outcomes and persist again; meanwhile post the full state to
    /// the Alertmanager channels ([`Engine::post_alertmanager`]).
    pub async fn process(&self, report: &Report, now: OffsetDateTime) {
        futures::join!(
            self.process_ledger(report, now),
            self.post_alertmanager(report, now)
        );
    }

    async fn process_ledger(&self, report: &Report, now: OffsetDateTime) {
        let mut st = self.state.lock().await;
        if st.seed {
            let n = policy::seed(&mut st.ledger.entries, report, now);
            tracing::warn!(
                certificates = n,
                "alert ledger was lost: treating every certificate that is not ok as already notified at its current \
                 severity; reminders resume after repeat_interval"
            );
            st.seed = false;
        }
        let alerts = policy::decide(&mut st.ledger.entries, report, self.settings, now);
        for a in &alerts {
            tracing::info!(
                status = a.status.as_str(),
                severity = a.severity.as_str(),
                resolution = a.resolution.map(|r| r.as_str()),
                reminder = a.reminder,
                summary = %render::summary(a),
                "alert"
            );
        }
        let batches = policy::route(&alerts, self.channels(), self.digest);
        self.commit(&mut st, batches, true, now).await;
    }

    /// Notify about rotation problems of one pass (docs/rotation.md): give it every failed,
    /// rolled back and blocked step of the pass as an event (the rotator's
    /// `StepOutcome::alert_event`), or an empty slice when the pass found none. Deduplicated
    /// through the ledger on (tenant, kind, object_id, outcome): sent when new, again every
    /// `repeat_interval` while it persists, and forgotten (no message) when a later pass no longer
    /// reports it. Delivered, retried and counted like certificate alerts
    /// (severity critical for failed / rolled back, warning for blocked; each channel's
    /// `min_severity` and tenant / kind filters apply; `digest` makes one message per pass and
    /// channel).
    ///
    /// A tenant left out of a pass (not polled, locked by another process) reports nothing, so its
    /// problems are forgotten and notified again when a later pass reports them. After a lost
    /// ledger, problems still reported are notified again (unlike certificates, which are seeded
    /// as already notified): there are few, and each needs someone to act.
    pub async fn notify_rotation(&self, events: &[RotationEvent], now: OffsetDateTime) {
        let mut st = self.state.lock().await;
        let before = st.ledger.rotations.clone();
        let alerts = policy::decide_rotations(&mut st.ledger.rotations, events, self.settings, now);
        for a in &alerts {
            tracing::info!(
                severity = a.severity.as_str(),
                outcome = a.rotation.outcome.as_str(),
                reminder = a.reminder,
                summary = %render::rotation_summary(a),
                "rotation alert"
            );
        }
        let batches = policy::route(&alerts, self.channels(), self.digest);
        let changed = before != st.ledger.rotations;
        self.commit(&mut st, batches, changed, now).await;
    }

    /// After each poll, with the same report as `process`: notify about the report's findings
    /// (docs/findings.md). A finding is identified by (tenant, finding kind, object_id, sha1 or ""); it
    /// fires when first seen at warning or critical (`info` never alerts), again when its severity
    /// rises, as a reminder every `repeat_interval` while it is reported, and resolves once (when
    /// `send_resolved`) when it is no longer reported, or only at `info`, by a tenant whose poll is
    /// up. A tenant that is not up keeps its findings' entries untouched: no resolve, no reminder
    /// (see `policy::decide_findings`). Channels filter on severity, tenant and the object's kind;
    /// delivery, retries, `digest` and the `certwatch_alerts_sent_total` counter work as for
    /// certificates.
    ///
    /// After a lost or corrupt ledger the findings reported by the first check are recorded as
    /// already notified, as certificates are: a finding is a standing condition like an expiry
    /// status, there can be many of them (one per application, connection, domain), reminders
    /// resume after `repeat_interval`, and they still resolve when they go away.
    pub async fn notify_findings(&self, report: &Report, now: OffsetDateTime) {
        let mut st = self.state.lock().await;
        let before = st.ledger.findings.clone();
        if st.seed_findings {
            let n = policy::seed_findings(&mut st.ledger.findings, report, now);
            tracing::warn!(
                findings = n,
                "alert ledger was lost: treating every warning or critical finding as already notified; reminders \
                 resume after repeat_interval"
            );
            st.seed_findings = false;
        }
        let alerts = policy::decide_findings(&mut st.ledger.findings, report, self.settings, now);
        for a in &alerts {
            tracing::info!(
                status = a.status.as_str(),
                severity = a.severity.as_str(),
                finding = %a.finding.kind,
                reminder = a.reminder,
                summary = %render::finding_summary(a),
                "finding alert"
            );
        }
        let batches = policy::route(&alerts, self.channels(), self.digest);
        let changed = before != st.ledger.findings;
        self.commit(&mut st, batches, changed, now).await;
    }

    /// Retry pending deliveries whose backoff elapsed (the daemon calls this every ~30 s).
    pub async fn retry_pending(&self, now: OffsetDateTime) {
        let mut st = self.state.lock().await;
        self.deliver_due(&mut st, now).await;
    }

    /// Number of deliveries waiting for retry.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// The channels as `(name, filter)`, for routing.
    fn channels(&self) -> impl Iterator<Item = (&str, &Filter)> {
        self.notifiers.iter().map(|n| (n.name(), n.filter()))
    }

    /// Queue `batches`, write the ledger if the entries `changed` or anything was queued, and
    /// deliver what is due.
    async fn commit(
        &self,
        st: &mut State,
        batches: Vec<(String, Batch)>,
        changed: bool,
        now: OffsetDateTime,
    ) {
        let changed = changed || !batches.is_empty();
        for (channel, batch) in batches {
            st.ledger.enqueue(channel, batch, now);
        }
        if changed {
            self.persist(&st.ledger).await;
        }
        self.deliver_due(st, now).await;
    }

    fn notifier(&self, name: &str) -> Option<&Arc<dyn Notifier>> {
        self.notifiers.iter().find(|n| n.name() == name)
    }

    async fn persist(&self, ledger: &Ledger) {
        self.pending.store(ledger.pending.len(), Ordering::Relaxed);
        let Err(err) = ledger::write_in_background(&self.path, ledger.to_json()).await else {
            return;
        };
        // Delivering anyway: a possible repeat after a crash beats silence on a full disk.
        tracing::error!(path = %self.path.display(), error = %err, "cannot write the alert ledger");
    }

    /// Attempt every due delivery: channels in parallel, each channel's queue in order, and a
    /// channel that fails temporarily is not tried again in this round.
    async fn deliver_due(&self, st: &mut State, now: OffsetDateTime) {
        let mut by_channel: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
        for p in st.ledger.pending.iter().filter(|p| p.due(now)) {
            by_channel
                .entry(p.channel.clone())
                .or_default()
                .push(p.clone());
        }
        if by_channel.is_empty() {
            return;
        }
        let give_up_after = self.give_up_after;
        // Each outcome is folded into the ledger and persisted as soon as it is known, so a
        // crash mid-round repeats at most the message being sent, not the whole round.
        type Recorded = tokio::sync::oneshot::Sender<()>;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Outcome, Recorded)>();
        let rounds: Vec<_> = by_channel.into_iter().map(|(channel, queue)| {
            let notifier = self.notifier(&channel).cloned();
            let tx = tx.clone();
            async move {
                let mut blocked = false;
                for p in queue {
                    let outcome = match &notifier {
                        None => Outcome::NoChannel,
                        Some(n) if n.leader_only() && !self.leader.as_ref().is_none_or(|f| f()) => {
                            Outcome::NotLeader
                        }
                        Some(_) if blocked => {
                            if !p.expired(give_up_after, now) {
                                continue;
                            }
                            Outcome::GiveUp
                        }
                        Some(n) => match n
                            .send(&p.batch)
                            .instrument(tracing::info_span!("alert_delivery", channel = %channel, delivery = p.id))
                            .await
                        {
                            Ok(()) => Outcome::Delivered,
                            Err(DeliveryError::Rejected(m)) => Outcome::Rejected(m),
                            Err(DeliveryError::Retryable(m)) => {
                                blocked = true;
                                Outcome::Retry(m)
                            }
                        },
                    };
                    // Wait until the outcome is on disk before sending the next message (the
                    // receiver lives until every round is done).
                    let (done, recorded) = tokio::sync::oneshot::channel();
                    if tx.send((p.id, outcome, done)).is_ok() {
                        let _ = recorded.await;
                    }
                }
            }
        }).collect();
        drop(tx);
        let record = async {
            while let Some((id, outcome, done)) = rx.recv().await {
                self.record_outcome(st, id, outcome, now).await;
                let _ = done.send(());
            }
        };
        futures::join!(futures::future::join_all(rounds), record);
    }

    /// Fold one delivery outcome into the ledger (count, log, drop or reschedule) and persist.
    async fn record_outcome(&self, st: &mut State, id: u64, outcome: Outcome, now: OffsetDateTime) {
        let give_up_after = self.give_up_after;
        let Some(i) = st.ledger.pending.iter().position(|p| p.id == id) else {
            return;
        };
        let p = &mut st.ledger.pending[i];
        if let Outcome::NotLeader = outcome {
            tracing::info!(channel = %p.channel, delivery = p.id, "not the leader: delivery left to the lease holder");
            st.ledger.pending.remove(i);
            self.persist(&st.ledger).await;
            return;
        }
        let attempt = p.attempts + 1;
        let label = match outcome {
            Outcome::Delivered => self.attempted(p, attempt, Delivery::Delivered, None),
            Outcome::Rejected(m) => self.attempted(p, attempt, Delivery::Rejected, Some(&m)),
            Outcome::Retry(m) if p.expired(give_up_after, now) => {
                self.attempted(p, attempt, Delivery::Failed, Some(&m))
            }
            Outcome::Retry(m) => {
                p.failed(m, now);
                self.attempted(p, attempt, Delivery::Retrying, p.last_error.as_deref())
            }
            Outcome::GiveUp => {
                let m = p
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "channel unavailable".into());
                self.attempted(p, p.attempts, Delivery::Failed, Some(&m))
            }
            Outcome::NoChannel => self.attempted(
                p,
                p.attempts,
                Delivery::Failed,
                Some("the channel is no longer configured"),
            ),
            Outcome::NotLeader => return,
        };
        if label != Delivery::Retrying {
            st.ledger.pending.remove(i);
        }
        self.persist(&st.ledger).await;
    }
}

impl Engine {
    /// The one place a delivery outcome is observed: one log line and the
    /// `certwatch_alerts_sent_total{channel, severity, outcome}` counter for each alert in it.
    fn attempted(
        &self,
        p: &Pending,
        attempt: u32,
        outcome: Delivery,
        error: Option<&str>,
    ) -> Delivery {
        let what = render::describe_batch(&p.batch);
        let error = error.unwrap_or("");
        let next = crate::timefmt::rfc3339(p.next_attempt_at);
        match outcome {
            Delivery::Delivered => tracing::info!(
                channel = %p.channel, delivery = p.id, attempt, outcome = outcome.as_str(), what = %what, "alert delivered"
            ),
            Delivery::Retrying => tracing::warn!(
                channel = %p.channel, delivery = p.id, attempt, outcome = outcome.as_str(), what = %what, error,
                next_attempt_at = %next, "alert delivery failed; will retry"
            ),
            Delivery::Rejected => tracing::error!(
                channel = %p.channel, delivery = p.id, attempt, outcome = outcome.as_str(), what = %what, error,
                "alert delivery rejected by the receiver; not retrying"
            ),
            Delivery::Failed => tracing::error!(
                channel = %p.channel, delivery = p.id, attempt, outcome = outcome.as_str(), what = %what, error,
                "alert delivery failed; giving up"
            ),
        }
        let statuses = p.batch.alerts.iter().map(|a| (a.status, a.severity));
        let findings = p.batch.findings.iter().map(|a| (a.status, a.severity));
        for (status, severity) in statuses.chain(findings) {
            let severity = match status {
                AlertStatus::Firing => severity.as_str(),
                AlertStatus::Resolved => "resolved",
            };
            self.metrics
                .alert_sent(&p.channel, severity, outcome.as_str());
        }
        for r in &p.batch.rotations {
            self.metrics
                .alert_sent(&p.channel, r.severity.as_str(), outcome.as_str());
        }
        outcome
    }
}

#[cfg(test)]
mod tests;
