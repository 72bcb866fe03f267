//! The daemon's own health (docs/metrics.md): configuration reloads and the HTTP server's
//! connections. These live as long as the process: the daemon keeps one `Metrics` across
//! reloads, so a reload does not reset them.

use prometheus::{Gauge, IntCounterVec, IntGauge, Opts, Registry};

/// Reload and HTTP-connection metrics.
pub struct ServerMetrics {
    /// `certwatch_config_reloads_total{outcome}`: SIGHUP reloads, `success` or `failed`.
    reloads: IntCounterVec,
    /// `certwatch_config_last_reload_success_timestamp_seconds`: the start or the last
    /// successful reload, Unix seconds.
    last_reload_success: Gauge,
    /// `certwatch_config_last_reload_successful`: 1 if the last reload (or the start) succeeded.
    last_reload_successful: IntGauge,
    /// `certwatch_http_connections`: connections open now.
    connections: IntGauge,
    /// `certwatch_http_connections_rejected_total{reason}`: connections closed because the
    /// server was at `server.max_connections` (`evicted`: the longest-quiet idle connection made
    /// room for a new one; `refused`: no connection was idle, the new one was closed).
    rejected: IntCounterVec,
    /// `certwatch_http_connections_timed_out_total{timeout}`: connections closed by
    /// `header_read` (no complete request head in time) or `idle` (no traffic in time).
    timed_out: IntCounterVec,
}

/// Why a connection was turned away at `server.max_connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// An idle connection was closed to admit a new one.
    Evicted,
    /// Every connection was busy: the new one was closed.
    Refused,
}

impl Rejected {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejected::Evicted => "evicted",
            Rejected::Refused => "refused",
        }
    }
}

/// Which timeout closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedOut {
    /// `server.header_read_timeout`.
    HeaderRead,
    /// `server.idle_timeout`.
    Idle,
}

impl ServerMetrics {
    /// Create the families and register them in `registry`.
    pub(super) fn register(registry: &Registry) -> Self {
        let counter = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label])
                .expect("static metric definition");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric name");
            c
        };
        let reloads = counter(
            "certwatch_config_reloads_total",
            "Configuration reloads (SIGHUP) by outcome: success, or failed (the running configuration was kept).",
            "outcome",
        );
        let rejected = counter(
            "certwatch_http_connections_rejected_total",
            "HTTP connections closed at server.max_connections: evicted (an idle connection made room for a new one) or refused (none was idle; the new one was closed).",
            "reason",
        );
        let timed_out = counter(
            "certwatch_http_connections_timed_out_total",
            "HTTP connections closed by server.header_read_timeout (header_read) or server.idle_timeout (idle).",
            "timeout",
        );
        let last_reload_success = Gauge::new(
            "certwatch_config_last_reload_success_timestamp_seconds",
            "Unix time of the start or of the last successful configuration reload.",
        )
        .expect("static metric definition");
        let last_reload_successful = IntGauge::new(
            "certwatch_config_last_reload_successful",
            "1 if the last configuration reload (or the start) succeeded, 0 if it was rejected.",
        )
        .expect("static metric definition");
        let connections = IntGauge::new(
            "certwatch_http_connections",
            "HTTP connections open now (TLS handshakes included).",
        )
        .expect("static metric definition");
        for g in [&last_reload_successful, &connections] {
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric name");
        }
        registry
            .register(Box::new(last_reload_success.clone()))
            .expect("unique metric name");
        // Both outcomes exist from the start, so `increase()` sees the first failure.
        for outcome in ["success", "failed"] {
            reloads.with_label_values(&[outcome]);
        }
        for reason in ["evicted", "refused"] {
            rejected.with_label_values(&[reason]);
        }
        for timeout in ["header_read", "idle"] {
            timed_out.with_label_values(&[timeout]);
        }
        Self {
            reloads,
            last_reload_success,
            last_reload_successful,
            connections,
            rejected,
            timed_out,
        }
    }

    /// The configuration was loaded at start (`reload: false`) or reloaded; `at` in Unix seconds.
    pub fn config_loaded(&self, reload: bool, at: i64) {
        if reload {
            self.reloads.with_label_values(&["success"]).inc();
        }
        self.last_reload_success.set(at as f64);
        self.last_reload_successful.set(1);
    }

    /// A reload was rejected; the running configuration stays.
    pub fn reload_failed(&self) {
        self.reloads.with_label_values(&["failed"]).inc();
        self.last_reload_successful.set(0);
    }

    /// A connection was accepted (`+1`) or closed (`-1`).
    pub fn connections_changed(&self, by: i64) {
        self.connections.add(by);
    }

    /// A connection was turned away at the connection limit.
    pub fn connection_rejected(&self, why: Rejected) {
        self.rejected.with_label_values(&[why.as_str()]).inc();
    }

    /// A connection was closed by a timeout.
    pub fn connection_timed_out(&self, which: TimedOut) {
        let timeout = match which {
            TimedOut::HeaderRead => "header_read",
            TimedOut::Idle => "idle",
        };
        self.timed_out.with_label_values(&[timeout]).inc();
    }
}
