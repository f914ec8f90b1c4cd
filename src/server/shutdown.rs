//! Graceful shutdown: the signals that stop the server (SIGTERM, as `docker stop` and systemd
//! send, and SIGINT / Ctrl-C; standard input closing when asked) and the grace answers in
//! flight get. The caller flushes the vector index after the server stops, so that the next
//! start embeds nothing.

use std::time::Duration;

/// Resolves when the server should stop: SIGTERM, SIGINT (Ctrl-C), or `stdin_closed`
/// resolving; says which in the log.
pub async fn signal(stdin_closed: Option<tokio::sync::oneshot::Receiver<()>>) {
    let stdin = async {
        match stdin_closed {
            Some(rx) => {
                let _ = rx.await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let reason = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminate() => "SIGTERM",
        _ = stdin => "standard input closed",
    };
    tracing::info!(
        reason,
        "stopping: no new connections; answers in flight may finish"
    );
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await
}

/// The grace of `grace_s` seconds (at least 1).
pub fn grace(grace_s: u64) -> Duration {
    Duration::from_secs(grace_s.max(1))
}
