//! What runs around every handler: request ids and logs ([`observe`]), rate limits
//! ([`ratelimit`], over the [`crate::gcra`] bucket), idempotent replays ([`idempotency`]) and request
//! metrics ([`metrics`]).

pub mod idempotency;
pub mod metrics;
pub mod observe;
pub mod ratelimit;
