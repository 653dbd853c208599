//! The database handle and the ways to use it: a plain read, a write transaction, and a write
//! transaction that answers an idempotency key exactly once. Every wait has a deadline.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use parking_lot::{Mutex, MutexGuard};

use crate::conn::{Backend, ConnectError, ConnectionManager, DbConn, Deadlines, PooledConn};
use crate::error::{StoreError, StoreResult};
use crate::idempotency::{self, KeyClaim, StoredResponse, Written};
use crate::migrations::{self, MigrationError};
use crate::tx::{ChangeContext, WriteTx};
use crate::url::DatabaseUrl;
use crate::writers::SqliteWriters;

/// How the pool is sized and how long work may wait.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Connections at most; keep it no larger than the blocking pool that uses them.
    pub max_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub connection_timeout: Duration,
    /// Statement and lock deadlines.
    pub deadlines: Deadlines,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connection_timeout: Duration::from_secs(5),
            deadlines: Deadlines::default(),
        }
    }
}

/// The database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    connections: Connections,
    manager: ConnectionManager,
    backend: Backend,
    options: PoolOptions,
    sqlite: SqliteWriters,
}

enum Connections {
    /// The server's pool.
    Pool(r2d2::Pool<ConnectionManager>),
    /// One connection opened on the caller's thread, for commands that must not exit while a
    /// pool thread is still connecting (libpq and OpenSSL crash in their exit handlers then).
    Single(Mutex<PooledConn>),
}

/// A connection in use.
enum Checkout<'a> {
    Pooled(r2d2::PooledConnection<ConnectionManager>),
    Single(MutexGuard<'a, PooledConn>),
}

impl Deref for Checkout<'_> {
    type Target = PooledConn;

    fn deref(&self) -> &PooledConn {
        match self {
            Self::Pooled(c) => c,
            Self::Single(c) => c,
        }
    }
}

impl DerefMut for Checkout<'_> {
    fn deref_mut(&mut self) -> &mut PooledConn {
        match self {
            Self::Pooled(c) => c,
            Self::Single(c) => c,
        }
    }
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
    /// Opens the server's pool, connecting once up front so a wrong URL fails at start-up, not on
    /// the first request. An in-memory SQLite database gets one connection: each would see its
    /// own database.
    pub fn open(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, OpenError> {
        let manager = ConnectionManager::new(url.clone(), options.deadlines);
        drop(manager.open()?);
        let max_size = if url.is_in_memory() {
            1
        } else {
            options.max_size.max(1)
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            // A checkout test is a round trip before every query; a dead connection is found by
            // the query that meets it instead, and discarded (`has_broken`).
            .test_on_check_out(false)
            .connection_timeout(options.connection_timeout)
            .build(manager.clone())?;
        Ok(Self::with(Connections::Pool(pool), manager, url, options))
    }

    /// Opens a single connection on this thread, without a pool: for short-lived commands.
    pub fn open_single(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, OpenError> {
        let manager = ConnectionManager::new(url.clone(), options.deadlines);
        let conn = PooledConn {
            conn: manager.open()?,
            broken: false,
        };
        Ok(Self::with(
            Connections::Single(Mutex::new(conn)),
            manager,
            url,
            options,
        ))
    }

    fn with(
        connections: Connections,
        manager: ConnectionManager,
        url: &DatabaseUrl,
        options: PoolOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                connections,
                manager,
                backend: url.backend(),
                options,
                sqlite: SqliteWriters::default(),
            }),
        }
    }

    /// Runs pending migrations on a connection of its own.
    pub fn migrate(&self) -> Result<(), MigrationError> {
        let mut conn = self
            .inner
            .manager
            .open_for_migrations()
            .map_err(|e| MigrationError::new(format!("cannot connect: {e}")))?;
        migrations::migrate_exclusively(&mut conn, self.inner.manager.url())
    }

    /// Checks that a request could be served now, within `deadline`: a connection is free and
    /// the database answers; on SQLite, this process could also take the write lock.
    pub fn check_ready(&self, deadline: Duration) -> StoreResult<()> {
        let _turn = match self.inner.backend {
            Backend::Sqlite => Some(self.inner.sqlite.turn(deadline)?),
            Backend::Postgres => None,
        };
        let mut conn = self.checkout_within(deadline)?;
        let probe = match self.inner.backend {
            Backend::Postgres => "SELECT 1".to_owned(),
            // BEGIN IMMEDIATE takes the write lock; the shorter busy timeout keeps the probe
            // from waiting as long as a request may.
            Backend::Sqlite => format!(
                "PRAGMA busy_timeout = {}; BEGIN IMMEDIATE; ROLLBACK; PRAGMA busy_timeout = {};",
                deadline.as_millis(),
                self.inner.options.deadlines.lock.as_millis()
            ),
        };
        let result = conn.conn.batch_execute(&probe).map_err(StoreError::from);
        if result.is_err() && self.inner.backend == Backend::Sqlite {
            // The probe may have stopped before restoring the timeout or ending the transaction.
            let restore = format!(
                "PRAGMA busy_timeout = {};",
                self.inner.options.deadlines.lock.as_millis()
            );
            if conn.conn.batch_execute(&restore).is_err() {
                conn.broken = true;
            }
            let _ = conn.conn.batch_execute("ROLLBACK");
        }
        Self::settle(&mut conn, result)
    }

    /// Runs `f` with a connection, outside any transaction.
    pub fn read<T>(&self, f: impl FnOnce(&mut DbConn) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.checkout()?;
        let result = f(&mut conn.conn);
        Self::settle(&mut conn, result)
    }

    /// Runs `f` in one write transaction that also records the audit entries `f` makes; on SQLite
    /// it takes the write lock up front (`BEGIN IMMEDIATE`) so two writers never deadlock midway.
    pub fn write<T>(
        &self,
        ctx: &ChangeContext,
        f: impl FnOnce(&mut WriteTx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let _turn = self.writer_turn()?;
        let mut conn = self.checkout()?;
        let result = WriteTx::run(&mut conn.conn, ctx, f);
        Self::settle(&mut conn, result)
    }

    /// Like [`Db::write`] for a request carrying an idempotency key: the key and the response
    /// `f` answers with are kept in the same transaction as the change, so a change that
    /// committed is always answered again and one that did not commit runs again. A key already
    /// answered replays that answer without running `f`.
    pub fn write_once(
        &self,
        ctx: &ChangeContext,
        claim: &KeyClaim,
        f: impl FnOnce(&mut WriteTx<'_>) -> StoreResult<StoredResponse>,
    ) -> StoreResult<Written> {
        let _running = match self.inner.backend {
            Backend::Sqlite => Some(self.inner.sqlite.run_key(claim.identity())?),
            Backend::Postgres => None,
        };
        let _turn = self.writer_turn()?;
        let mut conn = self.checkout()?;
        let result = WriteTx::run(&mut conn.conn, ctx, |tx| {
            if let Some(stored) = idempotency::claim(tx.conn()?, claim)? {
                return Ok(Written::Replayed(stored));
            }
            let response = f(tx)?;
            idempotency::keep(tx.conn()?, claim, &response)?;
            Ok(Written::Fresh(response))
        });
        Self::settle(&mut conn, result)
    }

    /// Runs bookkeeping writes outside the audit trail (purges), in turn with other writers.
    pub(crate) fn write_unaudited<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let _turn = self.writer_turn()?;
        let mut conn = self.checkout()?;
        let result = f(&mut conn.conn);
        Self::settle(&mut conn, result)
    }

    /// On SQLite, waits for this process's turn to write. Taken before a connection, so waiting
    /// writers do not hold connections that readers need.
    fn writer_turn(&self) -> StoreResult<Option<MutexGuard<'_, ()>>> {
        match self.inner.backend {
            Backend::Sqlite => Ok(Some(
                self.inner.sqlite.turn(self.inner.options.deadlines.lock)?,
            )),
            Backend::Postgres => Ok(None),
        }
    }

    fn checkout(&self) -> StoreResult<Checkout<'_>> {
        self.checkout_within(self.inner.options.connection_timeout)
    }

    fn checkout_within(&self, deadline: Duration) -> StoreResult<Checkout<'_>> {
        match &self.inner.connections {
            Connections::Pool(pool) => pool
                .get_timeout(deadline)
                .map(Checkout::Pooled)
                .map_err(|e| StoreError::Unavailable(e.to_string())),
            Connections::Single(conn) => conn
                .try_lock_for(deadline)
                .map(Checkout::Single)
                .ok_or_else(|| StoreError::Busy("the connection is in use".to_owned())),
        }
    }

    /// Marks the connection for replacement when `result` shows it is dead.
    fn settle<T>(conn: &mut Checkout<'_>, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(e) = &result
            && e.breaks_connection()
        {
            conn.broken = true;
        }
        result
    }
}
