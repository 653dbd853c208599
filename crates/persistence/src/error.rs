//! The store's error type; diesel errors are mapped here once.

use circulo_domain::DomainError;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in the caller's organization.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a concurrent change refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller's `If-Match` version is not the current one.
    #[error("the resource has changed since version {expected}; fetch it again")]
    VersionMismatch {
        /// The version the caller expected.
        expected: i64,
    },
    /// The input is well formed but breaks a rule that needs stored data to check
    /// (a reference to a missing row, a reporting cycle).
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// No connection could be had.
    #[error("database unavailable")]
    Unavailable(#[source] r2d2::Error),
    /// A stored value could not be read back into the domain.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error(transparent)]
    Query(diesel::result::Error),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as E};
        match e {
            E::NotFound => Self::NotFound,
            // The constraint's name would tell clients about the schema; stores check the rules
            // they can name first, so this is only reached by a race.
            E::DatabaseError(Kind::UniqueViolation, _) => Self::Conflict(
                "a resource with the same unique value was created at the same time; retry"
                    .to_owned(),
            ),
            E::DatabaseError(Kind::ForeignKeyViolation, _) => Self::Conflict(
                "the change would leave a reference to a missing resource".to_owned(),
            ),
            other => Self::Query(other),
        }
    }
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}
