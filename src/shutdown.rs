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

/// Resolve on SIGINT/SIGTERM (leaving `next` empty), or on a SIGHUP whose new configuration is
/// valid (storing it in `next`). An invalid configuration is logged and ignored: the running
/// one stays. `reload` is the config path and `--listen` override; `None` disables reloading.
pub async fn stop_or_reload(
    reload: Option<(Option<std::path::PathBuf>, Option<std::net::SocketAddr>)>,
    next: std::sync::Arc<std::sync::Mutex<Option<crate::config::Config>>>,
) {
    #[cfg(unix)]
    if let Some((path, listen)) = reload {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; reload disabled");
                return signal().await;
            }
        };
        let stop = signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = hup.recv() => {
                    tracing::info!("SIGHUP received, reloading the configuration");
                    match crate::config::load(path.as_deref()) {
                        Ok(mut c) => {
                            if let Some(l) = listen {
                                c.listen = l;
                            }
                            *next.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
                            return;
                        }
                        Err(e) => tracing::error!(error = %e, "new configuration rejected; keeping the running one"),
                    }
                }
            }
        }
    }
    let _ = (reload, next);
    signal().await
}
