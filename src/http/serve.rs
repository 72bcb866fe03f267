//! Serving the router on a bound listener (plain or TLS) within [`Limits`]: one accept loop
//! that admits each connection into the bounded set of `conns` (evicting the longest-quiet idle
//! one when full), then one task per connection running hyper's HTTP/1 server under the
//! deadline of its phase. The accept loop stops when `stop` is cancelled; idle connections
//! are closed at once, busy ones finish their request (the caller bounds the wait).
//!
//! Turned-away connections are counted (`certwatch_http_connections_rejected_total`) and logged
//! at most once per [`LOG_EVERY`], with how many there were.

use super::conns::{Admit, Conns, Limits, Slot, Watched};
use crate::metrics::Metrics;
use crate::metrics::server::Rejected;
use axum::Router;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

/// Shortest time between two log lines about turned-away connections or failing accepts.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Where to serve: a bound listener (shared, so a reload that keeps the address keeps the
/// socket and no connection attempt is refused in between) and, for HTTPS, the acceptor.
#[derive(Clone)]
pub struct Endpoint {
    /// The bound socket.
    pub listener: Arc<TcpListener>,
    /// TLS, when `[server] cert_file` is set.
    pub tls: Option<TlsAcceptor>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("listener", &self.listener.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Endpoint {
    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// Counts events and says when to log them: the first at once, then at most one line per
/// period with the number of events since the last line.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
    pending: u64,
}

impl Throttle {
    /// A throttle allowing one line per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            pending: 0,
        }
    }

    /// Record one event at `now`; `Some(n)` when a line is due, `n` events since the last one.
    pub fn hit(&mut self, now: Instant) -> Option<u64> {
        self.pending += 1;
        match self.last {
            Some(at) if now.saturating_duration_since(at) < self.every => None,
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.pending))
            }
        }
    }
}

/// Serve `router` on `endpoint` until `stop` is cancelled, then wait for the connections.
pub async fn serve(
    endpoint: Endpoint,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) {
    let conns = Conns::new(limits.max_connections);
    let connections = TaskTracker::new();
    let mut turned_away = Throttle::new(LOG_EVERY);
    let mut failing = Throttle::new(LOG_EVERY);
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = endpoint.listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and similar are transient: back off, keep serving.
                if let Some(n) = failing.hit(Instant::now()) {
                    warn!(error = %e, failures = n, "accepting connections fails");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (slot, rejected) = match conns.admit(Instant::now(), has_data(&tcp)) {
            Admit::Open(slot) => (Some(slot), None),
            Admit::Evicted(slot) => (Some(slot), Some(Rejected::Evicted)),
            Admit::Refused => (None, Some(Rejected::Refused)),
        };
        if let Some(why) = rejected {
            metrics.server().connection_rejected(why);
            if let Some(n) = turned_away.hit(Instant::now()) {
                warn!(
                    max_connections = limits.max_connections,
                    turned_away = n,
                    latest = why.as_str(),
                    "at the connection limit: the longest-idle connection is closed for each new \
                     one (evicted), or the new one when every connection is busy (refused)"
                );
            }
        }
        let Some(slot) = slot else { continue };
        let _ = tcp.set_nodelay(true);
        let job = Connection {
            slot,
            peer,
            limits,
            metrics: metrics.clone(),
            stop: stop.clone(),
        };
        connections.spawn(job.run(tcp, endpoint.tls.clone(), router.clone()));
    }
    connections.close();
    connections.wait().await;
    debug!(
        open = conns.len(),
        "HTTP server stopped accepting and drained"
    );
}

/// Whether bytes are already waiting on a just-accepted socket: a client's request (or TLS
/// hello) that waited in the backlog, which a hoarder's silent connection never has.
fn has_data(tcp: &TcpStream) -> bool {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    matches!(socket2::SockRef::from(tcp).peek(&mut buf), Ok(n) if n > 0)
}

/// One accepted connection.
struct Connection {
    slot: Slot,
    peer: SocketAddr,
    limits: Limits,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
}

impl Connection {
    async fn run(self, tcp: TcpStream, tls: Option<TlsAcceptor>, router: Router) {
        self.metrics.server().connections_changed(1);
        let io = Watched::new(tcp, self.slot.conn.clone());
        let io = match tls {
            None => Some(Either::Left(io)),
            Some(acceptor) => self.handshake(acceptor, io).await.map(Either::Right),
        };
        if let Some(io) = io {
            self.http(io, router).await;
        }
        self.metrics.server().connections_changed(-1);
    }

    /// The TLS handshake, within the header-read deadline of a new connection.
    async fn handshake(
        &self,
        acceptor: TlsAcceptor,
        io: Watched<TcpStream>,
    ) -> Option<tokio_rustls::server::TlsStream<Watched<TcpStream>>> {
        let conn = &self.slot.conn;
        let (deadline, timeout) = conn.deadline(&self.limits);
        let peer = self.peer;
        tokio::select! {
            done = acceptor.accept(io) => match done {
                Ok(tls) => Some(tls),
                // Scanners and plain-HTTP clients end up here: debug, not warn.
                Err(e) => {
                    debug!(%peer, error = %e, "TLS handshake failed");
                    None
                }
            },
            _ = tokio::time::sleep_until(deadline) => {
                if let Some(t) = timeout {
                    self.metrics.server().connection_timed_out(t);
                }
                debug!(%peer, "TLS handshake timed out");
                None
            }
            _ = conn.evicted() => None,
            _ = self.stop.cancelled() => None,
        }
    }

    /// HTTP/1 with keep-alive until the client leaves, a deadline passes, the connection is
    /// evicted, or the server stops (an idle connection is closed, a busy one finishes).
    async fn http<T>(&self, io: T, router: Router)
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let conn = self.slot.conn.clone();
        let tower = hyper_util::service::TowerToHyperService::new(router);
        let service = hyper::service::service_fn(move |req| {
            let busy = conn.request(Instant::now());
            let response = hyper::service::Service::call(&tower, req);
            async move {
                let response = response.await;
                drop(busy);
                response
            }
        });
        let served = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(io), service);
        tokio::pin!(served);
        let conn = &self.slot.conn;
        let mut draining = false;
        loop {
            let (deadline, _) = conn.deadline(&self.limits);
            tokio::select! {
                done = served.as_mut() => {
                    if let Err(e) = done {
                        debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = conn.evicted() => return,
                _ = tokio::time::sleep_until(deadline) => {
                    // The phase may have moved on while sleeping: only a deadline that still
                    // stands closes the connection.
                    let (due, timeout) = conn.deadline(&self.limits);
                    if let Some(t) = timeout
                        && due <= Instant::now()
                    {
                        self.metrics.server().connection_timed_out(t);
                        debug!(peer = %self.peer, timeout = ?t, "closing the connection");
                        return;
                    }
                }
                _ = self.stop.cancelled(), if !draining => {
                    // A request in flight or arriving is answered (then the connection closes);
                    // a quiet connection is closed at once.
                    if conn.quiet() {
                        return;
                    }
                    served.as_mut().graceful_shutdown();
                    draining = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_throttle_logs_the_first_event_then_one_line_per_period() {
        let mut t = Throttle::new(Duration::from_secs(10));
        assert_eq!(t.hit(Instant::now()), Some(1));
        assert_eq!(t.hit(Instant::now()), None);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(t.hit(Instant::now()), None);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(t.hit(Instant::now()), Some(3));
        assert_eq!(t.hit(Instant::now()), None);
    }
}
