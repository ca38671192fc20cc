//! Accepting and serving connections, with the limits `axum::serve` lacks.
//!
//! `axum::serve` gives hyper no timer, so a client that sends its request
//! head one line every few seconds, or opens a connection and says nothing,
//! holds a connection (and a file descriptor) for ever; enough of them stop
//! all service. Here every connection has two deadlines (SPEC "Bounds"): a
//! request's head must arrive within the header timeout from its first byte
//! ([`HeadDeadline`]), and a connection waiting for its next request is closed
//! after the idle timeout (hyper's header-read timer, which runs from the moment
//! hyper waits for a head, so it also bounds a head that starts late). The
//! number of open connections is capped: at the cap, new connections wait in
//! the listen backlog until one closes. Request bodies have their own deadline
//! in the router (`koppel_api::body`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
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
        .header_read_timeout(limits.idle_timeout);
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
        let phase = Arc::new(AtomicU8::new(IDLE));
        let io = HeadDeadline::new(stream, Arc::clone(&phase), limits.header_read_timeout);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // hyper calls this as soon as the head is read: the head is in.
            phase.store(BUSY, Ordering::Release);
            request.extensions_mut().insert(ConnectInfo(peer));
            let answered = router.clone().oneshot(request);
            let phase = Arc::clone(&phase);
            async move {
                let response = answered.await;
                phase.store(IDLE, Ordering::Release);
                response
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
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

/// Where a connection is: waiting for a request, reading one's head, or serving it.
const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// A connection's stream that fails its reads once a request head has taken longer than
/// `limit` from its first byte; hyper then closes the connection. The service marks the
/// head as read (`BUSY`) and the request as answered (`IDLE`) in the shared `phase`.
struct HeadDeadline {
    inner: TcpStream,
    phase: Arc<AtomicU8>,
    limit: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl HeadDeadline {
    fn new(inner: TcpStream, phase: Arc<AtomicU8>, limit: Duration) -> Self {
        Self {
            inner,
            phase,
            limit,
            deadline: None,
        }
    }
}

impl AsyncRead for HeadDeadline {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase.load(Ordering::Acquire) == HEAD
            && let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time",
            )));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        let got_bytes = matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before;
        // The first bytes after an idle wait start a head, and its clock.
        if got_bytes
            && this
                .phase
                .compare_exchange(IDLE, HEAD, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            let at = Instant::now() + this.limit;
            let deadline = this
                .deadline
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            deadline.as_mut().reset(at);
            // Registers this task with the timer, so that it is woken at the deadline
            // even if no more bytes come.
            let _ = deadline.as_mut().poll(cx);
        }
        read
    }
}

impl AsyncWrite for HeadDeadline {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Logs why hyper ended a connection. Requests it refuses before the router
/// (a head over its size limit, a malformed request line) get hyper's bare
/// answer, without a problem body; this log line is how an operator sees them.
fn log_connection_error(peer: SocketAddr, error: &hyper::Error) {
    let head_too_slow = std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<io::Error>())
        .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut);
    if head_too_slow {
        tracing::debug!(%peer, "closed a connection whose request head did not arrive in time");
    } else if error.is_timeout() {
        tracing::debug!(%peer, "closed a connection that waited too long for its next request");
    } else if error.is_parse() || error.is_parse_too_large() {
        tracing::info!(%peer, error = %error, "refused a request hyper could not parse");
    } else if error.is_incomplete_message() || error.is_closed() {
        tracing::debug!(%peer, error = %error, "the client closed the connection mid-request");
    } else {
        tracing::info!(%peer, error = %error, "connection ended with an error");
    }
}
