use thiserror::Error;

/// What can go wrong when talking to the database, sorted by what the caller
/// should answer.
/// The company resources a stored record may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// A VAT rate.
    VatRate,
    /// A revenue category.
    Category,
}

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
    /// A document named a company resource that does not exist, found by the foreign key
    /// that refused it; which resource it was is the store's to say, from the constraint.
    #[error("unknown {0:?}")]
    UnknownReference(Reference),
    /// A value the database cannot hold (SQLSTATE class 22, "data exception"):
    /// a NUL character in text, a number out of range for its column. The
    /// request is wrong, not the server.
    #[error("invalid value: {}", .0.describe())]
    InvalidValue(InvalidValue),
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
                    c if c.starts_with("22") => {
                        // PostgreSQL's own words name its internals ("invalid byte
                        // sequence for encoding UTF8: 0x00"); clients get ours.
                        tracing::info!(
                            sqlstate = c,
                            error = db.message(),
                            "a value the database refused"
                        );
                        StoreError::InvalidValue(InvalidValue::from_sqlstate(c))
                    }
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

/// What kind of value PostgreSQL refused (SQLSTATE class 22, "data exception").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidValue {
    /// Text with a character the database cannot store, such as NUL (22021, 22P05).
    Character,
    /// A number too large or too precise for its column (22003).
    NumberOutOfRange,
    /// Text longer than its column allows (22001).
    TextTooLong,
    /// A date or time out of range or malformed (22007, 22008).
    DateTime,
    /// Any other data exception.
    Other,
}

impl InvalidValue {
    /// The kind of a class-22 SQLSTATE.
    pub fn from_sqlstate(code: &str) -> Self {
        match code {
            "22021" | "22P05" => InvalidValue::Character,
            "22003" => InvalidValue::NumberOutOfRange,
            "22001" => InvalidValue::TextTooLong,
            "22007" | "22008" => InvalidValue::DateTime,
            _ => InvalidValue::Other,
        }
    }

    /// What was wrong, in Koppel's words.
    pub fn describe(self) -> &'static str {
        match self {
            InvalidValue::Character => {
                "a text contains a character that cannot be stored, such as NUL (\\u0000)"
            }
            InvalidValue::NumberOutOfRange => "a number is too large or has too many decimals",
            InvalidValue::TextTooLong => "a text is too long",
            InvalidValue::DateTime => "a date or time is out of range",
            InvalidValue::Other => "a value cannot be stored",
        }
    }
}
