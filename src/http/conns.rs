//! The connections the HTTP server holds (docs/http.md, "Connection limits"): at most
//! `max_connections` of them, each in one phase — reading a request head (a new connection, TLS
//! handshake included, or bytes of the next request on a kept-alive one), handling a request, or
//! idle between requests — with the deadline that phase allows. When the set is full, an idle
//! connection is closed to make room: one from which nothing has arrived before one with a
//! request arriving, and among those the one quiet the longest; with none idle, the new
//! connection is refused. So a client hoarding connections can never starve
//! `/healthz` or `/metrics`, and the process never runs out of file descriptors because of it.
//!
//! [`Watched`] wraps a connection's socket and reports its traffic; the rest is bookkeeping
//! under one mutex, which nothing holds across an `.await`.

use crate::metrics::server::TimedOut;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What a client may hold (`[server]` in docs/configuration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once (TLS handshakes included).
    pub max_connections: usize,
    /// From accepting a connection, or from the first byte of a request on a kept-alive one,
    /// until its request head is complete.
    pub header_read_timeout: Duration,
    /// How long a connection may stay without traffic between requests.
    pub idle_timeout: Duration,
}

impl Limits {
    /// Default `max_connections`: well below the systemd unit's `LimitNOFILE=8192`.
    pub const MAX_CONNECTIONS: usize = 1024;
    /// Default `header_read_timeout`.
    pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default `idle_timeout`: longer than a one-minute scrape interval, so Prometheus keeps
    /// its connection.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: Self::MAX_CONNECTIONS,
            header_read_timeout: Self::HEADER_READ_TIMEOUT,
            idle_timeout: Self::IDLE_TIMEOUT,
        }
    }
}

/// `head_since` when no request head is being read.
const NOT_READING: u64 = u64::MAX;

/// One connection's phase, as timestamps in milliseconds since the set was created.
#[derive(Debug)]
pub struct Conn {
    base: Instant,
    /// Requests being handled.
    in_flight: AtomicU32,
    /// When reading the current request head began, or [`NOT_READING`].
    head_since: AtomicU64,
    /// The last byte read or written, or the end of the last request.
    last_io: AtomicU64,
    /// Bytes of a request not yet being handled have arrived (or were waiting when the
    /// connection was accepted).
    partial: AtomicBool,
    /// Cancelled when the connection is evicted.
    evicted: CancellationToken,
}

impl Conn {
    fn new(base: Instant, now: Instant, arriving: bool) -> Self {
        let at = millis(base, now);
        Self {
            base,
            in_flight: AtomicU32::new(0),
            // A new connection owes us a request head (after its TLS handshake, if any).
            head_since: AtomicU64::new(at),
            last_io: AtomicU64::new(at),
            partial: AtomicBool::new(arriving),
            evicted: CancellationToken::new(),
        }
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Bytes arrived: on an idle connection, that is the start of the next request head.
    fn read_some(&self, now: Instant) {
        let at = millis(self.base, now);
        self.last_io.store(at, Ordering::Release);
        if self.is_idle() {
            self.partial.store(true, Ordering::Release);
            let _ = self.head_since.compare_exchange(
                NOT_READING,
                at,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    fn wrote_some(&self, now: Instant) {
        self.last_io
            .store(millis(self.base, now), Ordering::Release);
    }

    /// A request head is complete and its handler runs until the guard is dropped.
    pub fn request(self: &Arc<Self>, now: Instant) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.partial.store(false, Ordering::Release);
        self.head_since.store(NOT_READING, Ordering::Release);
        self.wrote_some(now);
        Busy(self.clone())
    }

    /// The deadline of the current phase and the timeout it enforces; `None` while a request
    /// is being handled (check again after `idle_timeout`).
    pub fn deadline(&self, limits: &Limits) -> (Instant, Option<TimedOut>) {
        let at = |ms: u64| self.base + Duration::from_millis(ms);
        if !self.is_idle() {
            return (Instant::now() + limits.idle_timeout, None);
        }
        match self.head_since.load(Ordering::Acquire) {
            NOT_READING => (
                at(self.last_io.load(Ordering::Acquire)) + limits.idle_timeout,
                Some(TimedOut::Idle),
            ),
            since => (
                at(since) + limits.header_read_timeout,
                Some(TimedOut::HeaderRead),
            ),
        }
    }

    /// Resolves when the set closed this connection to admit another.
    pub async fn evicted(&self) {
        self.evicted.cancelled().await
    }

    /// Whether nothing is being handled on this connection and no byte of a next request has
    /// arrived: closing it now cuts nothing short.
    pub fn quiet(&self) -> bool {
        self.is_idle() && !self.partial.load(Ordering::Acquire)
    }
}

/// Marks a connection busy while a request is handled.
#[derive(Debug)]
pub struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.wrote_some(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn millis(base: Instant, now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(base).as_millis()).unwrap_or(NOT_READING - 1)
}

/// The bounded set of open connections.
#[derive(Debug)]
pub struct Conns {
    max: usize,
    base: Instant,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    next: u64,
    conns: HashMap<u64, Arc<Conn>>,
}

/// The outcome of [`Conns::admit`].
#[derive(Debug)]
pub enum Admit {
    /// There was room.
    Open(Slot),
    /// The set was full: the longest-quiet idle connection was closed to make room.
    Evicted(Slot),
    /// The set was full of busy connections: the new one must be closed.
    Refused,
}

/// A connection's place in the set; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    set: Arc<Conns>,
    id: u64,
    /// The connection's phase.
    pub conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.set.lock().conns.remove(&self.id);
    }
}

impl Conns {
    /// An empty set holding at most `max` connections (at least one).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            base: Instant::now(),
            open: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Make room for a connection accepted `now`; `arriving`: its request is already waiting
    /// (a client that connects to ask something, not to hold a place).
    pub fn admit(self: &Arc<Self>, now: Instant, arriving: bool) -> Admit {
        let mut open = self.lock();
        let mut evicted = false;
        if open.conns.len() >= self.max {
            let victim = open
                .conns
                .iter()
                .filter(|(_, c)| c.is_idle())
                .min_by_key(|(id, c)| {
                    (
                        c.partial.load(Ordering::Acquire),
                        c.last_io.load(Ordering::Acquire),
                        **id,
                    )
                })
                .map(|(id, _)| *id);
            match victim.and_then(|id| open.conns.remove(&id)) {
                Some(c) => {
                    c.evicted.cancel();
                    evicted = true;
                }
                None => return Admit::Refused,
            }
        }
        let id = open.next;
        open.next += 1;
        let conn = Arc::new(Conn::new(self.base, now, arriving));
        open.conns.insert(id, conn.clone());
        let slot = Slot {
            set: self.clone(),
            id,
            conn,
        };
        if evicted {
            Admit::Evicted(slot)
        } else {
            Admit::Open(slot)
        }
    }

    /// Connections in the set now.
    pub fn len(&self) -> usize {
        self.lock().conns.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A socket whose traffic moves its connection's phase (see [`Conn`]).
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    conn: Arc<Conn>,
}

impl<T> Watched<T> {
    /// Watch `inner` on behalf of `conn`.
    pub fn new(inner: T, conn: Arc<Conn>) -> Self {
        Self { inner, conn }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.read_some(Instant::now());
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.wrote_some(Instant::now());
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.wrote_some(Instant::now());
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
