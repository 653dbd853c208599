//! The connection pool and the two ways to use it: a plain read, or a write transaction.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::conn::{Backend, ConnectError, ConnectionManager, DatabaseUrl, DbConn};
use crate::error::{StoreError, StoreResult};
use crate::migrations::{self, MigrationError};
use crate::tx::{self, ChangeContext, WriteTx};

/// How the pool is sized.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Connections at most; keep it no larger than the blocking pool that uses them.
    pub max_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// The database: a pool of connections to one backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    manager: ConnectionManager,
    backend: Backend,
    /// SQLite admits one writer at a time; writers of this process queue here instead of in
    /// SQLite's busy handler, which sleeps in steps of up to 100 ms. Other processes (the CLI)
    /// still meet the busy timeout.
    sqlite_writer: Arc<Mutex<()>>,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The first connection failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] ConnectError),
    /// The pool could not be built.
    #[error("cannot build the connection pool: {0}")]
    Pool(#[from] r2d2::Error),
}

impl Db {
    /// Opens the pool, connecting once up front so a wrong URL fails at start-up, not on the first
    /// request. An in-memory SQLite database gets one connection: each would see its own database.
    pub fn open(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, OpenError> {
        let manager = ConnectionManager::new(url.clone());
        drop(manager.open()?);
        let max_size = if url.is_in_memory() {
            1
        } else {
            options.max_size.max(1)
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            .build(manager.clone())?;
        Ok(Self {
            pool,
            manager,
            backend: url.backend(),
            sqlite_writer: Arc::default(),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs pending migrations on a connection of its own, outside the pool.
    pub fn migrate(&self) -> Result<(), MigrationError> {
        let mut conn = self
            .manager
            .open()
            .map_err(|e| MigrationError::from_connect(&e))?;
        migrations::migrate(&mut conn)
    }

    /// Checks that the database answers.
    pub fn ping(&self) -> StoreResult<()> {
        use diesel::connection::SimpleConnection;
        self.connection()?.batch_execute("SELECT 1")?;
        Ok(())
    }

    /// Runs `f` with a pooled connection, outside any transaction.
    pub fn read<T>(&self, f: impl FnOnce(&mut DbConn) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.connection()?;
        f(&mut conn)
    }

    /// Runs `f` in one write transaction that also records the audit entries `f` makes; on SQLite
    /// it takes the write lock up front (`BEGIN IMMEDIATE`) so two writers never deadlock midway.
    pub fn write<T>(
        &self,
        ctx: &ChangeContext,
        f: impl FnOnce(&mut WriteTx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let _turn = self.writer_turn();
        let mut conn = self.connection()?;
        tx::in_write_transaction(&mut conn, |conn| f(&mut WriteTx::new(conn, ctx)))
    }

    /// Runs `f`'s writes outside the audit trail (bookkeeping such as idempotency keys), one
    /// statement at a time, in turn with the other writers on SQLite.
    pub(crate) fn write_unaudited<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let _turn = self.writer_turn();
        let mut conn = self.connection()?;
        f(&mut conn)
    }

    /// On SQLite, waits for this process's turn to write. Taken before a connection, so waiting
    /// writers do not hold connections that readers need.
    fn writer_turn(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        match self.backend {
            // A panic in another writer poisons the lock but leaves no transaction open.
            Backend::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|e| e.into_inner())),
            Backend::Postgres => None,
        }
    }

    fn connection(&self) -> StoreResult<r2d2::PooledConnection<ConnectionManager>> {
        self.pool.get().map_err(StoreError::Unavailable)
    }
}

impl MigrationError {
    fn from_connect(e: &ConnectError) -> Self {
        Self::new(format!("cannot connect: {e}"))
    }
}
