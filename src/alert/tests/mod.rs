//! Alert engine tests: scenarios with an in-memory notifier (`engine`), and the real channels
//! against a real SMTP server (`smtp`, Python's aiosmtpd) and a real HTTP listener (`webhook`).

mod engine;
mod findings;
mod smtp;
mod smtpd;
mod webhook;

use super::policy::Batch;
use super::{DeliveryError, Notifier};
use crate::clock::{Clock, ManualClock};
use crate::config::{Alerts, Filter, Severity};
use crate::expiry::{self, Thresholds, Validity};
use crate::metrics::Metrics;
use crate::report::{CertificateReport, Report, TenantReport};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;

pub(super) const T0: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
pub(super) const HOUR: Duration = Duration::from_secs(3600);
pub(super) const DAY: Duration = Duration::from_secs(86_400);

/// The engine's clock in scenarios: frozen at `T0` (it only names a corrupt ledger moved aside;
/// the scenarios give `now` to each call).
pub(super) fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(T0))
}

/// `[alerts]` with defaults and no channels (notifiers are given separately).
pub(super) fn alerts_cfg(digest: bool) -> Alerts {
    Alerts {
        repeat_interval: DAY,
        digest,
        send_resolved: true,
        give_up_after: DAY,
        email: vec![],
        webhook: vec![],
        alertmanager: vec![],
        owner_key: "certwatch_owner".into(),
    }
}

pub(super) fn filter(min_severity: Severity) -> Filter {
    Filter {
        min_severity,
        tenants: vec![],
        kinds: vec![],
        owners: vec![],
    }
}

/// One certificate in a test report.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub cert_id: String,
    pub kind: &'static str,
    pub role: &'static str,
    pub object_id: String,
    pub object_name: String,
    pub not_after: OffsetDateTime,
    pub alerting: bool,
    pub owner: Option<String>,
}

/// A SAML connection signing certificate `cert_id` on `acme-idp` expiring at `not_after`.
pub(super) fn saml(cert_id: &str, not_after: OffsetDateTime) -> Spec {
    Spec {
        cert_id: cert_id.into(),
        kind: "connection_signing_cert",
        role: "active",
        object_id: "con_acme".into(),
        object_name: "acme-idp".into(),
        not_after,
        alerting: true,
        owner: None,
    }
}

/// The report the daemon would build at `now` (default thresholds 30d / 7d), tenant `prod` up.
pub(super) fn report(now: OffsetDateTime, specs: &[Spec]) -> Report {
    report_up(now, specs, true)
}

pub(super) fn report_up(now: OffsetDateTime, specs: &[Spec], up: bool) -> Report {
    let certificates = specs
        .iter()
        .map(|s| {
            let validity = Validity::Window {
                not_before: Some(s.not_after - time::Duration::days(400)),
                not_after: s.not_after,
            };
            CertificateReport {
                tenant: "prod".into(),
                kind: s.kind.into(),
                role: s.role.into(),
                object_id: s.object_id.clone(),
                object_name: s.object_name.clone(),
                cert_id: s.cert_id.clone(),
                subject: Some(format!("CN={}", s.object_name)),
                issuer: Some("CN=Acme CA".into()),
                serial: Some("0a1b".into()),
                sha1: Some(s.cert_id.clone()),
                sha256: None,
                not_before: Some(s.not_after - time::Duration::days(400)),
                not_after: Some(s.not_after),
                expires_in_seconds: Some((s.not_after - now).whole_seconds()),
                status: expiry::evaluate(validity, Thresholds::default(), now),
                error: None,
                alerting: s.alerting,
                owner: s.owner.clone(),
                key_use: None,
            }
        })
        .collect();
    Report {
        generated_at: now,
        tenants: vec![TenantReport {
            name: "prod".into(),
            domain: "acme.eu.auth0.com".into(),
            up,
            last_success: up.then_some(now),
            errors: vec![],
        }],
        certificates,
        findings: vec![],
        idp_documents: vec![],
        custom_domains: vec![],
    }
}

/// How the in-memory notifier answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Deliver,
    Retry,
    Reject,
}

/// An in-memory channel that records what it was asked to send.
#[derive(Debug)]
pub(super) struct Recorder {
    name: String,
    filter: Filter,
    pub sent: Mutex<Vec<Batch>>,
    pub attempts: AtomicUsize,
    pub mode: Mutex<Mode>,
}

impl Recorder {
    pub fn new(name: &str, min: Severity) -> Arc<Recorder> {
        Recorder::filtered(name, filter(min))
    }

    pub fn filtered(name: &str, filter: Filter) -> Arc<Recorder> {
        Arc::new(Recorder {
            name: name.into(),
            filter,
            sent: Mutex::new(vec![]),
            attempts: AtomicUsize::new(0),
            mode: Mutex::new(Mode::Deliver),
        })
    }

    pub fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    pub fn batches(&self) -> Vec<Batch> {
        self.sent.lock().unwrap().clone()
    }

    /// `(status, severity, resolution)` of every alert delivered, in order.
    pub fn log(&self) -> Vec<String> {
        self.batches()
            .iter()
            .flat_map(|b| b.alerts.iter())
            .map(|a| {
                let mut s = format!(
                    "{} {} {}",
                    a.certificate.cert_id,
                    a.status.as_str(),
                    a.severity.as_str()
                );
                if let Some(r) = a.resolution {
                    s.push(' ');
                    s.push_str(r.as_str());
                }
                s
            })
            .collect()
    }

    /// `object_id outcome severity [reminder]` of every rotation alert delivered, in order.
    pub fn rotation_log(&self) -> Vec<String> {
        self.batches()
            .iter()
            .flat_map(|b| b.rotations.iter())
            .map(|a| {
                let mut s = format!(
                    "{} {} {}",
                    a.rotation.object_id,
                    a.rotation.outcome.as_str(),
                    a.severity.as_str()
                );
                if a.reminder {
                    s.push_str(" reminder");
                }
                s
            })
            .collect()
    }

    /// `object_id status severity [reminder]` of every finding alert delivered, in order.
    pub fn finding_log(&self) -> Vec<String> {
        self.batches()
            .iter()
            .flat_map(|b| b.findings.iter())
            .map(|a| {
                let mut s = format!(
                    "{} {} {}",
                    a.finding.object_id,
                    a.status.as_str(),
                    a.severity.as_str()
                );
                if a.reminder {
                    s.push_str(" reminder");
                }
                s
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Notifier for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    fn filter(&self) -> &Filter {
        &self.filter
    }

    async fn send(&self, batch: &Batch) -> Result<(), DeliveryError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        match *self.mode.lock().unwrap() {
            Mode::Deliver => {
                self.sent.lock().unwrap().push(batch.clone());
                Ok(())
            }
            Mode::Retry => Err(DeliveryError::Retryable("connection refused".into())),
            Mode::Reject => Err(DeliveryError::Rejected("HTTP 400 Bad Request".into())),
        }
    }
}

pub(super) fn notifiers(rs: &[&Arc<Recorder>]) -> Vec<Arc<dyn Notifier>> {
    rs.iter()
        .map(|r| Arc::clone(r) as Arc<dyn Notifier>)
        .collect()
}

/// The value of `certwatch_alerts_sent_total{channel, severity, outcome}`.
pub(super) fn sent_total(m: &Metrics, channel: &str, severity: &str, outcome: &str) -> u64 {
    let text = m.render();
    let want = [
        format!("channel=\"{channel}\""),
        format!("severity=\"{severity}\""),
        format!("outcome=\"{outcome}\""),
    ];
    text.lines()
        .filter(|l| l.starts_with("certwatch_alerts_sent_total{"))
        .filter(|l| want.iter().all(|w| l.contains(w.as_str())))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Captures everything logged on this thread while the guard lives.
pub(super) struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl LogCapture {
    pub fn start() -> LogCapture {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buf = buf.clone();
            move || BufWriter(buf.clone())
        };
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(writer)
            .finish();
        let guard = tracing::subscriber::set_default(sub);
        // A callsite first hit on another test's thread (no subscriber there) may have cached
        // "never interested"; ask every callsite again now that this thread has a subscriber.
        tracing::callsite::rebuild_interest_cache();
        LogCapture { buf, _guard: guard }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }
}

struct BufWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for BufWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
