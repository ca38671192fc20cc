//! HTTP tests of the whole router, one binary (STYLE.md). Each `#[sqlx::test]`
//! gets a fresh, migrated database from the cluster that `scripts/test`
//! started (`DATABASE_URL`).

mod auth;
mod connectors;
mod customers_products;
mod daily_revenue;
mod errors;
mod events;
mod foreign_currency;
mod harness;
mod idempotency;
mod journals;
mod limits;
mod locations;
mod nodes;
mod operations;
mod orders;
mod outage;
mod providers;
mod receipts;
mod settings;
mod settlements;
mod spec;
mod webhooks;
