//! A deadline on reading a request body.
//!
//! hyper times out a request's head (see `koppel serve`), but a body sent one
//! byte every few seconds would hold its connection for ever. [`DeadlineBody`]
//! fails the body once its whole read took longer than the deadline; the
//! extractors turn that failure into a 408 ([`timed_out`]).

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

/// The error a body yields once its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A body that fails with [`BodyTimedOut`] when it is not complete within the
/// deadline, counted from when it was wrapped (the request's head arrived).
pub struct DeadlineBody {
    inner: Body,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    /// Wraps `inner`, which must be complete within `limit` from now.
    pub fn new(inner: Body, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(this.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error`, or any error it was caused by, is a [`BodyTimedOut`].
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use axum::extract::FromRequest as _;
    use axum::http::Request;

    use super::*;

    /// A body that sends one byte and then nothing, as a slow client would.
    struct Trickle {
        sent: bool,
    }

    impl HttpBody for Trickle {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            if self.sent {
                return Poll::Pending;
            }
            self.sent = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{")))))
        }
    }

    fn trickle() -> Body {
        Body::new(Trickle { sent: false })
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_fails_after_the_deadline_and_is_recognised() {
        let body = Body::new(DeadlineBody::new(trickle(), Duration::from_secs(30)));
        let request = Request::post("/").body(body).unwrap();
        let started = tokio::time::Instant::now();
        let rejection = Bytes::from_request(request, &()).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        assert!(timed_out(&rejection), "{rejection:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_within_its_deadline_is_read_whole() {
        let body = Body::new(DeadlineBody::new(
            Body::from("{\"a\":1}"),
            Duration::from_secs(30),
        ));
        let request = Request::post("/").body(body).unwrap();
        let bytes = Bytes::from_request(request, &()).await.unwrap();
        assert_eq!(&bytes[..], b"{\"a\":1}");
        let other: std::io::Error = std::io::Error::other("broken pipe");
        assert!(!timed_out(&other));
    }
}
