//! Accepting and serving connections, with the limits `axum::serve` lacks.
//!
//! `axum::serve` gives hyper no timer, so a client that sends its request
//! head one line every few seconds, or opens a connection and says nothing,
//! holds a connection (and a file descriptor) for ever; enough of them stop
//! all service. Here every connection has a deadline for each request's head,
//! which also ends idle keep-alive connections (hyper starts it again after
//! each answer), and the number of open connections is capped: at the cap,
//! new connections wait in the listen backlog until one closes. Request bodies
//! have their own deadline in the router (`koppel_api::body`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::config::ConnectionLimits;

/// How long requests in flight may take to finish once shutdown began.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to pause accepting after an accept error such as "too many open
/// files", which would otherwise repeat at once in a busy loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (for at most [`DRAIN_TIMEOUT`]).
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers go out as soon as they are written, not held back by Nagle's
        // algorithm waiting for the client to acknowledge the previous one.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                log_connection_error(peer, &e);
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("requests still running after {DRAIN_TIMEOUT:?}; stopping anyway");
        }
    }
}

/// Logs why hyper ended a connection. Requests it refuses before the router
/// (a head over its size limit, a malformed request line) get hyper's bare
/// answer, without a problem body; this log line is how an operator sees them.
fn log_connection_error(peer: SocketAddr, error: &hyper::Error) {
    if error.is_timeout() {
        tracing::debug!(%peer, "closed a connection whose request head did not arrive in time");
    } else if error.is_parse() || error.is_parse_too_large() {
        tracing::info!(%peer, error = %error, "refused a request hyper could not parse");
    } else if error.is_incomplete_message() || error.is_closed() {
        tracing::debug!(%peer, error = %error, "the client closed the connection mid-request");
    } else {
        tracing::info!(%peer, error = %error, "connection ended with an error");
    }
}
