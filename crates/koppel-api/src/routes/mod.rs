//! The handlers, one module per resource. Each owns its handlers and its request and answer
//! types; none imports another resource's module (shared path and query types are in
//! [`crate::params`]).

pub mod admin;
pub mod companies;
pub mod connectors;
pub mod customers;
pub mod daily_revenue;
pub mod health;
pub mod ledger;
pub mod locations;
pub mod oauth;
pub mod orders;
pub mod products;
pub mod receipts;
pub mod settings;
pub mod settlements;
pub mod webhooks;
