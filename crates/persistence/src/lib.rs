//! Circulo's storage on SQLite (embedded default) and PostgreSQL (production) through one diesel
//! `MultiConnection`. Stores are synchronous; the API runs them on its blocking pool.

mod conn;
mod error;
mod locks;
mod migrations;
mod pool;
mod rows;
mod schema;
mod time;
mod tx;

pub mod audit;
pub mod idempotency;
pub mod members;
pub mod organizations;
pub mod teams;

pub use audit::AuditFilter;
pub use conn::{Backend, DatabaseUrl, DbConn};
pub use error::{StoreError, StoreResult};
pub use idempotency::{Reservation, StoredResponse};
pub use members::{MemberFilter, Upserted};
pub use migrations::{MigrationError, migrate, revert_all};
pub use pool::{Db, OpenError, PoolOptions};
pub use time::now;
pub use tx::{ChangeContext, WriteTx};
