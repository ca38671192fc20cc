use thiserror::Error;

/// What can go wrong when talking to the database, sorted by what the caller
/// should answer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The record does not exist (or is not visible to this company).
    #[error("not found")]
    NotFound,
    /// The database cannot be reached or is shutting down; the request may be
    /// retried later.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The transaction collided with a concurrent one (a deadlock or a
    /// serialization failure) and was rolled back; the same request succeeds
    /// when sent again.
    #[error("transaction rolled back by a concurrent one")]
    Contention(#[source] sqlx::Error),
    /// A named unique constraint was violated.
    #[error("unique constraint {constraint} violated")]
    UniqueViolation {
        /// The constraint's name, as in the migrations.
        constraint: String,
    },
    /// A named foreign key constraint was violated: a reference to something
    /// that does not exist.
    #[error("foreign key constraint {constraint} violated")]
    ForeignKeyViolation {
        /// The constraint's name, as in the migrations.
        constraint: String,
    },
    /// A value the database cannot hold (SQLSTATE class 22, "data exception"):
    /// a NUL character in text, a number out of range for its column. The
    /// request is wrong, not the server.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// The database URL could not be parsed.
    #[error("invalid database url")]
    Config(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Anything else: a bug or an unexpected database state.
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// Whether the error means the database is (temporarily) out of reach.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error),
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                let constraint = db.constraint().unwrap_or_default().to_owned();
                match code.as_ref() {
                    "23505" => StoreError::UniqueViolation { constraint },
                    "23503" => StoreError::ForeignKeyViolation { constraint },
                    "40001" | "40P01" => StoreError::Contention(error),
                    c if c.starts_with("22") => StoreError::InvalidValue(db.message().to_owned()),
                    // Class 08 is "connection exception"; 57P01-57P03 are the
                    // server shutting down or not yet accepting connections.
                    c if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03") => {
                        StoreError::Unavailable(error)
                    }
                    _ => StoreError::Database(error),
                }
            }
            _ => StoreError::Database(error),
        }
    }
}
