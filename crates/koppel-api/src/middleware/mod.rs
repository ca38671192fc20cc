//! What runs around every handler: request ids and logs ([`observe`]), rate limits
//! ([`ratelimit`], over the [`crate::gcra`] bucket), idempotent replays ([`idempotency`]) and request
//! metrics ([`metrics`]), and what a request's head alone refuses, with the body's read
//! deadline ([`body`]).

pub mod body;
pub mod client_address;
pub mod idempotency;
pub mod metrics;
pub mod observe;
pub mod ratelimit;
