//! Koppel's bookkeeping rules as plain functions: money and VAT arithmetic, identifiers,
//! validation of orders and receipts, business days, daily figures and the VAT return.
//!
//! Architecture invariant: this crate does no I/O and never depends on axum, sqlx, utoipa or
//! tokio, so every rule can be tested as a plain function and reused by any edge.

#![warn(missing_docs)]

pub mod booking;
pub mod business_day;
pub mod canonical;
pub mod customer;
pub mod daily;
pub mod document;
pub mod identifiers;
pub mod journal;
pub mod ledger;
pub mod money;
pub mod order;
pub mod problem;
pub mod receipt;
pub mod settlement;
pub mod vat;
pub mod vat_return;
pub mod z_report;
