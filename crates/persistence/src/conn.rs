//! The connection type for both backends and the r2d2 manager that opens it. The backend is picked
//! from the URL scheme here, not by `MultiConnection::establish`, which tries each backend in turn
//! and would open any mistyped PostgreSQL URL as a SQLite file.

use std::fmt;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::{Connection, PgConnection, SqliteConnection};

/// A connection to either database.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL, for production.
    Pg(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl DbConn {
    /// The backend behind this connection.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Pg(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// A parsed `CIRCULO_DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
    /// A SQLite file path (or `:memory:`), from `sqlite://path`, `sqlite:path` or a bare path.
    Sqlite(String),
}

impl DatabaseUrl {
    /// Reads a URL; a value without a known scheme is a SQLite file path.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the database URL is empty".to_owned());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err(format!("{raw:?} names no SQLite file"));
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(format!(
                "unsupported database scheme {scheme:?}: use postgres://… or a SQLite file path"
            ));
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The SQLite file, when this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// Whether this is an in-memory SQLite database, which every connection sees separately.
    pub fn is_in_memory(&self) -> bool {
        matches!(self, Self::Sqlite(path) if path == ":memory:")
    }
}

/// Hides the password a PostgreSQL URL may carry.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{path}"),
            Self::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(start), Some(at)) if at > start => {
                    let user_end = url[start + 3..at].find(':').map_or(at, |i| start + 3 + i);
                    write!(f, "{}:***{}", &url[..user_end], &url[at..])
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// Why a connection could not be opened or set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The database refused or could not be reached.
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    /// Per-connection setup failed.
    #[error(transparent)]
    Setup(#[from] diesel::result::Error),
}

/// Opens connections for the pool.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub(crate) fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens one connection outside the pool (migrations run on one of these).
    pub fn open(&self) -> Result<DbConn, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // Foreign keys are off in SQLite unless asked for; WAL lets readers run beside
                // the one writer; the busy timeout makes a second writer wait instead of failing.
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;",
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(ConnectError::from)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_select_postgres() {
        for url in ["postgres://u@h/db", "postgresql://u@h/db"] {
            assert_eq!(
                DatabaseUrl::parse(url).unwrap().backend(),
                Backend::Postgres
            );
        }
    }

    #[test]
    fn sqlite_urls_and_bare_paths_select_sqlite() {
        for (url, path) in [
            ("sqlite://data/circulo.db", "data/circulo.db"),
            ("sqlite:circulo.db", "circulo.db"),
            ("./circulo.db", "./circulo.db"),
            (":memory:", ":memory:"),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().sqlite_path(), Some(path));
        }
    }

    #[test]
    fn unknown_schemes_and_empty_urls_are_refused() {
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/circulo").unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("@db:5432/circulo"), "{shown}");
    }
}
