//! Process signals: SIGINT / SIGTERM stop the daemon (Kubernetes and systemd send SIGTERM);
//! SIGHUP asks it to reload its configuration.

/// Wait for SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}

/// What the process is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// SIGINT or SIGTERM: stop.
    Stop,
    /// SIGHUP: reload the configuration.
    Reload,
}

/// Send process signals to `events` until a stop signal or until its receiver is gone:
/// SIGINT/SIGTERM as [`Event::Stop`], and with `reload` SIGHUP as [`Event::Reload`] (without,
/// SIGHUP keeps its default action).
pub async fn forward(events: tokio::sync::mpsc::Sender<Event>, reload: bool) {
    let mut hup = if reload { hangups() } else { None };
    // Registered once, so a stop signal that arrives while a reload is handed over is not lost.
    let stop = signal();
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            _ = &mut stop => Event::Stop,
            // `recv` is cancel-safe: a SIGHUP is not lost when another branch wins.
            Some(()) = next_hangup(&mut hup) => {
                tracing::info!("SIGHUP received, reloading the configuration");
                Event::Reload
            }
            _ = events.closed() => return,
        };
        if events.send(event).await.is_err() || event == Event::Stop {
            return;
        }
    }
}

#[cfg(unix)]
type Hangups = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Option<Hangups> {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; reload disabled");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangups() -> Option<Hangups> {
    None
}

async fn next_hangup(hup: &mut Option<Hangups>) -> Option<()> {
    #[cfg(unix)]
    if let Some(h) = hup.as_mut() {
        return h.recv().await;
    }
    let _ = hup;
    std::future::pending().await
}
