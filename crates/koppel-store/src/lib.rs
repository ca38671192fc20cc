//! Koppel's PostgreSQL storage.
//!
//! All SQL of the project lives in this crate. Callers get typed records and a
//! [`StoreError`] that already says what went wrong in terms the API can answer
//! (not found, unavailable, a named constraint), so no other crate has to
//! inspect database errors.

pub mod bookings;
mod clients;
mod companies;
pub mod customers;
pub mod daily_revenue;
mod error;
pub mod events;
mod idempotency;
pub mod ledger;
pub mod locations;
pub mod orders;
pub mod products;
pub mod receipts;
pub mod references;
pub mod search;
pub mod settings;
pub mod settlements;
pub mod vat_return;
pub mod webhooks;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

pub use clients::{ClientChange, ClientChanges, ClientRecord, Clients, NewClient};
pub use companies::{Companies, CompanyRecord, NewCompany};
pub use error::{InvalidValue, Reference, StoreError};
pub use idempotency::{Claim, IdempotencyKeys, IdempotencyRecord, StoredResponse};

/// The migrations in the repository's top-level `migrations/` folder, embedded
/// in the binary so that `koppel serve` and `koppel migrate` need no files.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// How long a pooled connection may have sat idle and still be handed out
/// without a ping first.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// How the connection pool behaves.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered as
    /// "database unavailable", instead of hanging while the database is down.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The handle to Koppel's database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Opens a pool to the database at `url`. The pool connects lazily, so a
    /// server can start (and answer `/health/live`) while the database is still
    /// coming up; `/health/ready` tells the difference.
    pub fn connect_lazy(url: &str, config: &PoolConfig) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(StoreError::Config)?;
        // Statement logging at INFO would put personal data in the logs.
        let options = options.log_statements(tracing::log::LevelFilter::Trace);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            // sqlx pings every connection it hands out, a round trip before every
            // request's first query (and one more as each is given back). A
            // connection given back moments ago was just pinged; only one that sat
            // idle for a while (through a database restart, say) is checked again.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// Wraps an existing pool, as the tests get it from `#[sqlx::test]`.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The underlying pool, for the few callers (tests, tools) that need it.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(StoreError::Migrate)
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Companies (administraties).
    pub fn companies(&self) -> Companies<'_> {
        Companies::new(&self.pool)
    }

    /// The change feed.
    pub fn events(&self) -> events::Events<'_> {
        events::Events::new(&self.pool)
    }

    /// Customers.
    pub fn customers(&self) -> customers::Customers<'_> {
        customers::Customers::new(&self.pool)
    }

    /// POS receipts.
    pub fn receipts(&self) -> receipts::Receipts<'_> {
        receipts::Receipts::new(&self.pool)
    }

    /// The daily revenue of receipts.
    pub fn daily_revenue(&self) -> daily_revenue::DailyRevenue<'_> {
        daily_revenue::DailyRevenue::new(&self.pool)
    }

    /// Sales orders and their versions.
    pub fn orders(&self) -> orders::Orders<'_> {
        orders::Orders::new(&self.pool)
    }

    /// Locations and their registers.
    pub fn locations(&self) -> locations::Locations<'_> {
        locations::Locations::new(&self.pool)
    }

    /// Ledger mappings and what journals read beside the documents.
    pub fn ledger(&self) -> ledger::Ledger<'_> {
        ledger::Ledger::new(&self.pool)
    }

    /// Products.
    pub fn products(&self) -> products::Products<'_> {
        products::Products::new(&self.pool)
    }

    /// Loads the references a document names (see [`references::load`]).
    pub async fn references(
        &self,
        company_id: uuid::Uuid,
        wanted: &references::Wanted,
    ) -> Result<koppel_domain::document::KnownReferences, StoreError> {
        references::load(&self.pool, company_id, wanted).await
    }

    /// Payouts from payment providers.
    pub fn settlements(&self) -> settlements::Settlements<'_> {
        settlements::Settlements::new(&self.pool)
    }

    /// VAT rates, payment methods and categories.
    pub fn settings(&self) -> settings::Settings<'_> {
        settings::Settings::new(&self.pool)
    }

    /// Idempotency keys and the answers they replay.
    pub fn idempotency(&self) -> IdempotencyKeys<'_> {
        IdempotencyKeys::new(&self.pool)
    }

    /// OAuth clients and their company grants.
    pub fn clients(&self) -> Clients<'_> {
        Clients::new(&self.pool)
    }

    /// Starts listening for client changes made by any process on this database.
    pub async fn client_changes(&self) -> Result<ClientChanges, StoreError> {
        ClientChanges::listen(&self.pool).await
    }

    /// Webhook endpoints and their deliveries.
    pub fn webhooks(&self) -> webhooks::Webhooks<'_> {
        webhooks::Webhooks::new(&self.pool)
    }

    /// The webhook outbox, for the delivery job.
    pub fn webhook_outbox(&self) -> webhooks::outbox::Outbox<'_> {
        webhooks::outbox::Outbox::new(&self.pool)
    }

    /// What connectors booked.
    pub fn bookings(&self) -> bookings::Bookings<'_> {
        bookings::Bookings::new(&self.pool)
    }

    /// Finds orders, receipts, customers and booked days by any reference (see
    /// [`search::search`]).
    pub async fn search(
        &self,
        company_id: uuid::Uuid,
        reference: &str,
        within: search::SearchIn,
        after: Option<&search::SearchAfter>,
        limit: i64,
    ) -> Result<Vec<search::SearchHit>, StoreError> {
        search::search(&self.pool, company_id, reference, within, after, limit).await
    }

    /// The grouped lines of a period's VAT return (see [`vat_return::lines`]).
    pub async fn vat_return_lines(
        &self,
        company_id: uuid::Uuid,
        period: &vat_return::VatPeriod,
    ) -> Result<vat_return::ReturnLines, StoreError> {
        vat_return::lines(&self.pool, company_id, period).await
    }
}
