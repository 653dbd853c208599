//! Circulo's storage on SQLite (embedded default) and PostgreSQL (production) through one diesel
//! `MultiConnection`. Stores are synchronous; the API runs them on its blocking pool. Reads go
//! through [`Db`]'s stores (`db.members()`); changes through a [`WriteTx`]'s
//! (`tx.members()`), so one transaction can make several changes, their audit entries and the
//! answer to an idempotency key together.

mod announced;
mod budget;
mod conn;
mod db;
mod dialect;
mod error;
mod feed;
mod hierarchy;
mod locks;
mod migrations;
mod rows;
mod schema;
mod time;
mod tx;
mod unnest;
mod url;
mod writers;

pub mod audit;
pub mod decisions;
pub mod delegations;
pub mod feedback;
pub mod goals;
pub mod idempotency;
pub mod members;
pub mod organizations;
pub mod reports;
pub mod scores;
pub mod teams;
pub mod webhooks;

pub use audit::AuditFilter;
pub use conn::{Backend, DbConn, Deadlines};
pub use db::{Db, OpenError, PoolOptions};
pub use decisions::{Decided, DecisionFilter, EscalationFilter};
pub use delegations::{DelegationFilter, DelegationState};
pub use error::{StoreError, StoreResult};
pub use feedback::{FeedbackFilter, FeedbackReader, FeedbackSummaryRow, Giver};
pub use goals::GoalFilter;
pub use idempotency::{KeyClaim, StoredResponse, Written};
pub use members::{MemberFilter, Upserted};
pub use migrations::{MigrationError, migrate, revert_all};
pub use reports::{
    ByOwner, EmpowermentCounts, GoalCounts, MirrorCounts, MirrorReport, SatisfactionCounts,
    SatisfactionQuery, SatisfactionReport,
};
pub use scores::{Recorded, ScoreFilter, ScoreRecorder};
pub use time::{now, today};
pub use tx::{ChangeContext, WriteTx};
pub use url::DatabaseUrl;
