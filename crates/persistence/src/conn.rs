//! The connection type for both backends and the r2d2 manager that opens it. The backend is picked
//! from the URL scheme here, not by `MultiConnection::establish`, which tries each backend in turn
//! and would open any mistyped PostgreSQL URL as a SQLite file. Every connection is set up with
//! the deadlines that keep a request from waiting on a lock indefinitely.

use std::fmt;
use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::url::DatabaseUrl;

/// A connection to either database.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL, for production.
    Pg(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Runs `$run` (a closure-like `|conn| query…`) on the connection underneath a [`DbConn`], for
/// statements diesel's `MultiConnection` backend cannot express (`ON CONFLICT`, multi-row
/// `INSERT`): the same generic query, built once, checked against each backend.
macro_rules! underneath {
    ($conn:expr, |$c:ident| $run:expr) => {
        match $conn {
            $crate::conn::DbConn::Pg($c) => $run,
            $crate::conn::DbConn::Sqlite($c) => $run,
        }
    };
}
pub(crate) use underneath;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl DbConn {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Self::Pg(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// How long a connection's work may wait before the request is answered 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The longest a single statement may run (PostgreSQL `statement_timeout`).
    pub statement: Duration,
    /// The longest a statement may wait for a lock (PostgreSQL `lock_timeout`, SQLite
    /// `busy_timeout`, and the wait for this process's turn to write to SQLite).
    pub lock: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            statement: Duration::from_secs(15),
            lock: Duration::from_secs(3),
        }
    }
}

/// Why a connection could not be opened or set up. The message never holds the URL's secrets.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The database refused or could not be reached.
    #[error("{0}")]
    Connect(String),
    /// Per-connection setup failed.
    #[error(transparent)]
    Setup(#[from] diesel::result::Error),
}

/// A connection as the pool keeps it: marked broken when a query found it dead, so the pool
/// replaces it without testing every checkout with a round trip of its own.
pub struct PooledConn {
    pub(crate) conn: DbConn,
    pub(crate) broken: bool,
}

/// Opens connections for the pool.
#[derive(Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    deadlines: Deadlines,
}

impl fmt::Debug for ConnectionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionManager")
            .field("url", &self.url)
            .field("deadlines", &self.deadlines)
            .finish()
    }
}

impl ConnectionManager {
    pub(crate) fn new(url: DatabaseUrl, deadlines: Deadlines) -> Self {
        Self { url, deadlines }
    }

    pub(crate) fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Opens a connection for running migrations, without the request deadlines: a migration
    /// may rebuild a large table, and a second process waits for the first one's to finish.
    pub(crate) fn open_for_migrations(&self) -> Result<DbConn, ConnectError> {
        let mut conn = self.open()?;
        let unbounded = match &conn {
            DbConn::Pg(_) => {
                "SET statement_timeout = 0; SET lock_timeout = 0; \
                 SET idle_in_transaction_session_timeout = 0;"
            }
            DbConn::Sqlite(_) => "PRAGMA busy_timeout = 600000;",
        };
        conn.batch_execute(unbounded)?;
        Ok(conn)
    }

    /// Opens one connection outside the pool.
    pub(crate) fn open(&self) -> Result<DbConn, ConnectError> {
        let statement_ms = self.deadlines.statement.as_millis();
        let lock_ms = self.deadlines.lock.as_millis();
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)
                    .map_err(|e| ConnectError::Connect(self.url.redact(&e.to_string())))?;
                // A transaction left open by a bug must not hold its locks for ever either.
                conn.batch_execute(&format!(
                    "SET statement_timeout = {statement_ms}; SET lock_timeout = {lock_ms}; \
                     SET idle_in_transaction_session_timeout = {statement_ms};"
                ))?;
                Ok(DbConn::Pg(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| ConnectError::Connect(e.to_string()))?;
                // Foreign keys are off in SQLite unless asked for; the busy timeout bounds the
                // wait for another process's lock.
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {lock_ms};"
                ))?;
                use_wal(&mut conn, self.deadlines.lock)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Puts the database in WAL mode (readers run beside the one writer), once: the mode is kept in
/// the file. Switching needs the database to itself, and SQLite answers "locked" at once rather
/// than waiting when another connection is busy, so the switch is retried until `deadline`.
fn use_wal(conn: &mut SqliteConnection, deadline: Duration) -> Result<(), ConnectError> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct JournalMode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let started = std::time::Instant::now();
    loop {
        let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(conn)?;
        if mode.journal_mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match conn.batch_execute("PRAGMA journal_mode = WAL") {
            Ok(()) => return Ok(()),
            Err(e) if started.elapsed() < deadline && e.to_string().contains("locked") => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PooledConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<PooledConn, ConnectError> {
        Ok(PooledConn {
            conn: self.open()?,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PooledConn) -> Result<(), ConnectError> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(ConnectError::from)
    }

    fn has_broken(&self, conn: &mut PooledConn) -> bool {
        conn.broken
            || <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(
                &mut conn.conn,
            )
    }
}
