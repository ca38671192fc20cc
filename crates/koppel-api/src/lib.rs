//! Koppel's HTTP API: the router, handlers, errors, authentication, limits
//! and the OpenAPI document.
//!
//! [`router`] (in [`app`]) builds the whole application from an [`App`]; the binary only
//! binds it to a socket. Every route is registered through utoipa-axum's
//! `routes!`, so a route without an OpenAPI description cannot exist.

mod app;
pub mod auth;
pub mod body;
pub mod booking;
pub mod bounds;
pub mod buyer;
pub mod clock;
pub mod closed_sets;
pub mod error;
pub mod event;
pub mod extract;
pub mod gcra;
pub mod jobs;
pub mod journal;
pub mod language;
pub mod middleware;
pub mod money;
pub mod onboarding;
pub mod openapi;
pub mod page;
pub mod params;
pub mod replay;
pub mod routes;
mod validate;
pub mod webhooks;

pub use app::{App, BODY_READ_TIMEOUT, Config, MAX_BODY_BYTES, openapi, router};
