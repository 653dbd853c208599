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
    /// The resource is not at a version the caller's `If-Match` names (or does not exist).
    #[error("{0}")]
    PreconditionFailed(String),
    /// The input is well formed but breaks a rule that needs stored data to check
    /// (a reference to a missing row, a reporting cycle).
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// A request with the same idempotency key is still running.
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    KeyInFlight,
    /// The idempotency key was first used for a different request.
    #[error("this Idempotency-Key was already used with a different request; use a new key")]
    KeyMismatch,
    /// The database could not take the work within its deadline: a lock held too long, a
    /// statement past its timeout, no free connection. Retrying later may succeed.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The database cannot be reached or dropped the connection.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back into the domain.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error(transparent)]
    Query(diesel::result::Error),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether the connection that produced this error can no longer be trusted.
    pub(crate) fn breaks_connection(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

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
            E::DatabaseError(Kind::SerializationFailure, _) => {
                Self::Busy("a concurrent transaction conflicted".to_owned())
            }
            E::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            E::DatabaseError(Kind::Unknown, info) if is_busy(info.message()) => {
                Self::Busy(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

/// Recognises the databases' "try again later" answers, which diesel reports as unknown errors.
/// SQLite's messages are fixed; PostgreSQL's are its (default) English ones: a server with
/// translated `lc_messages` reports these as internal errors instead.
fn is_busy(message: &str) -> bool {
    const BUSY: &[&str] = &[
        // SQLite: another connection holds the write lock past the busy timeout.
        "database is locked",
        "database table is locked",
        "database schema is locked",
        // PostgreSQL: lock_timeout, statement_timeout, a cancel, a deadlock victim.
        "canceling statement due to",
        "deadlock detected",
        "could not obtain lock",
    ];
    BUSY.iter().any(|busy| message.starts_with(busy))
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_and_timeout_messages_are_busy() {
        for message in [
            "database is locked",
            "canceling statement due to lock timeout",
            "canceling statement due to statement timeout",
            "deadlock detected",
        ] {
            assert!(is_busy(message), "{message}");
        }
        assert!(!is_busy("syntax error at or near \"SELEC\""));
    }
}
