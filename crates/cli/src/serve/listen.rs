//! The accept loop of `antiphon serve`: every TCP connection, through TLS when configured, is an
//! HTTP/1.1 connection of hyper's serving axum's router, under limits that keep one client (or
//! a thousand) from taking the server down:
//!
//! - a cap on open connections (`--max-connections`): beyond it a connection is answered
//!   `503 Service Unavailable` and closed (while a few such answers are under way; beyond those,
//!   it is closed at once);
//! - a header timeout (`--header-timeout`): a request whose head has not arrived in time, a TLS
//!   handshake not done in time, and a kept-alive connection idle that long are closed;
//! - a bounded request head (hyper's read buffer);
//! - accept errors (`EMFILE` at the descriptor limit, say) are logged and survived: the loop
//!   waits a moment and accepts again.
//!
//! A WebSocket upgrade leaves this loop's accounting once upgraded: sessions have their own cap.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use super::tls::ServerTls;
use super::{say, until_shutdown};

/// How long the loop waits after an accept error before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(250);
/// Connections over the cap that are answered 503 at once; beyond them, closed unanswered.
const REFUSALS_AT_ONCE: usize = 32;
/// How long a refused connection has to send its request head before it is closed.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);
/// hyper's read buffer per connection, which bounds a request head (8 KiB is hyper's least).
const READ_BUFFER: usize = 16 * 1024;

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most HTTP connections open at once.
    pub(crate) max_connections: usize,
    /// How long a request head, a TLS handshake or an idle kept-alive connection may take.
    pub(crate) header_timeout: Duration,
}

/// Accepts and serves connections until `stop` turns `true`; open connections are then asked to
/// finish (hyper's graceful shutdown: the request under way completes, then the connection
/// closes).
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: Router,
    tls: Option<ServerTls>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = until_shutdown(&mut stop) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // The connection was reset before it was accepted: nothing to do.
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                say(&format!("accept failed: {error} (retrying)"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if let Ok(permit) = Arc::clone(&connections).try_acquire_owned() {
            let (app, tls, stop) = (app.clone(), tls.clone(), stop.clone());
            tokio::spawn(async move {
                match tls {
                    None => serve_connection(stream, app, limits, stop).await,
                    Some(tls) => {
                        let handshake = tls.acceptor.accept(stream);
                        match tokio::time::timeout(limits.header_timeout, handshake).await {
                            Ok(Ok(stream)) => serve_connection(stream, app, limits, stop).await,
                            Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake timed out"),
                        }
                    }
                }
                drop(permit);
            });
        } else if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
            say("connection refused: too many connections (--max-connections)");
            // Over TLS the refusal would need a handshake first: close at once instead.
            if tls.is_none() {
                tokio::spawn(async move {
                    refuse_connection(stream).await;
                    drop(permit);
                });
            }
        }
    }
}

/// One HTTP/1.1 connection (WebSocket upgrades included) until it closes or the server stops.
async fn serve_connection<I>(io: I, app: Router, limits: Limits, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(READ_BUFFER);
    let connection = builder
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(app))
        .with_upgrades();
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "HTTP connection ended");
                }
                return;
            }
            () = until_shutdown(&mut stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A connection over the cap: its request is answered 503 and the connection closed.
async fn refuse_connection(stream: tokio::net::TcpStream) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(REFUSAL_TIMEOUT)
        .max_buf_size(READ_BUFFER)
        .keep_alive(false);
    let refusal = hyper::service::service_fn(|_request| async {
        Ok::<_, Infallible>(
            (StatusCode::SERVICE_UNAVAILABLE, "too many connections\n").into_response(),
        )
    });
    let _ = builder
        .serve_connection(TokioIo::new(stream), refusal)
        .await;
}

/// An accept error that concerns only the connection being accepted.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}
