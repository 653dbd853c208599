//! What every store shares: reading ids back, snapshots for the audit log, the one way a
//! versioned row changes, and the one way a list is paged.

use std::str::FromStr;

use chrono::NaiveDateTime;
use serde::Serialize;
use uuid::Uuid;

use circulo_domain::OrgId;
use circulo_domain::page::{Keyset, Page, PageRequest};
use circulo_domain::version::{Precondition, Revision};

use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::time::from_db;
use crate::tx::WriteTx;

pub(crate) fn parse_id<T: FromStr>(what: &str, raw: &str) -> StoreResult<T> {
    raw.parse().map_err(|_| corrupt(what, raw))
}

pub(crate) fn parse_opt_id<T: FromStr>(what: &str, raw: Option<&str>) -> StoreResult<Option<T>> {
    raw.map(|r| parse_id(what, r)).transpose()
}

/// The row as JSON text, for the audit log's record of the state after a change.
pub(crate) fn snapshot<T: Serialize>(row: &T) -> StoreResult<String> {
    serde_json::to_string(row).map_err(|e| StoreError::Corrupt(format!("snapshot: {e}")))
}

/// A row's revision columns as the domain's [`Revision`].
pub(crate) fn revision(
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
) -> Revision {
    Revision {
        version,
        created_at: from_db(created_at),
        updated_at: from_db(updated_at),
    }
}

/// A table whose rows carry a version: it says how to lock, read and write one row, and
/// [`load_versioned`] and [`update_versioned`] do the rest the same way for every resource.
pub(crate) trait Versioned {
    /// The entity a row holds.
    type Entity;
    /// Its id.
    type Id: Copy;

    /// Locks the row until the transaction ends, so the version read stays the current one
    /// (PostgreSQL; SQLite's write transaction already holds the database).
    fn lock(conn: &mut DbConn, org: OrgId, id: Self::Id) -> StoreResult<()>;
    /// Reads the entity (`NotFound` when there is none in `org`).
    fn find(conn: &mut DbConn, org: OrgId, id: Self::Id) -> StoreResult<Self::Entity>;
    /// The entity's version.
    fn version(entity: &Self::Entity) -> i64;
    /// Writes `next` where the row is still at `version`; how many rows it wrote.
    fn write(
        conn: &mut DbConn,
        org: OrgId,
        next: &Self::Entity,
        version: i64,
    ) -> StoreResult<usize>;
}

/// Locks and reads a versioned row and checks the caller's precondition against it.
pub(crate) fn load_versioned<T: Versioned>(
    tx: &mut WriteTx<'_>,
    org: OrgId,
    id: T::Id,
    expected: &Precondition,
) -> StoreResult<T::Entity> {
    T::lock(tx.conn()?, org, id)?;
    let current = T::find(tx.conn()?, org, id)?;
    check_version(expected, T::version(&current))?;
    Ok(current)
}

/// The one way a versioned row changes: lock and read it, check the precondition, let `change`
/// make the next state (checking what needs stored data), write it where the version is still
/// the one read, or report the lost update. Returns the state before and after.
pub(crate) fn update_versioned<T: Versioned>(
    tx: &mut WriteTx<'_>,
    org: OrgId,
    id: T::Id,
    expected: &Precondition,
    change: impl FnOnce(&mut WriteTx<'_>, &T::Entity) -> StoreResult<T::Entity>,
) -> StoreResult<(T::Entity, T::Entity)> {
    let current = load_versioned::<T>(tx, org, id, expected)?;
    let next = change(tx, &current)?;
    let version = T::version(&current);
    if T::write(tx.conn()?, org, &next, version)? == 0 {
        return Err(lost_update(expected, version));
    }
    Ok((current, next))
}

/// Outcome of a version-checked update that matched no row although the row exists: someone
/// else changed it between our read and our write.
fn lost_update(expected: &Precondition, current: i64) -> StoreError {
    if expected.is_some() {
        StoreError::PreconditionFailed(format!(
            "the resource changed from version {current} while this request applied; fetch it \
             again and send its ETag"
        ))
    } else {
        StoreError::Conflict(format!(
            "the resource changed while this request was updating version {current}; retry"
        ))
    }
}

/// Refuses the change when the stored version is not one the caller's `If-Match` names.
fn check_version(expected: &Precondition, current: i64) -> StoreResult<()> {
    if expected.admits(current) {
        Ok(())
    } else {
        Err(StoreError::PreconditionFailed(format!(
            "the resource is at version {current}, not one If-Match names; fetch it again and \
             send its ETag"
        )))
    }
}

/// Declares a resource's two store handles and where they are reached: `$reads` from a [`Db`]
/// (`db.teams()`), for reads on a connection of the pool; `$writes` from a [`WriteTx`]
/// (`tx.teams()`), for changes inside the caller's transaction.
///
/// [`Db`]: crate::db::Db
/// [`WriteTx`]: crate::tx::WriteTx
macro_rules! store_handles {
    ($store:ident: $reads:ident, $writes:ident) => {
        #[doc = concat!("Reading ", stringify!($store), ".")]
        pub struct $reads<'a>(&'a $crate::db::Db);

        #[doc = concat!("Changing ", stringify!($store), ", inside a write transaction.")]
        pub struct $writes<'t, 'c>(&'t mut $crate::tx::WriteTx<'c>);

        impl $crate::db::Db {
            #[doc = concat!("The ", stringify!($store), " store.")]
            pub fn $store(&self) -> $reads<'_> {
                $reads(self)
            }
        }

        impl<'c> $crate::tx::WriteTx<'c> {
            #[doc = concat!("Changes to ", stringify!($store), " in this transaction.")]
            pub fn $store(&mut self) -> $writes<'_, 'c> {
                $writes(self)
            }
        }
    };
}
pub(crate) use store_handles;

/// Narrows a boxed query to one keyset page ordered by `id`: the rows after the page's cursor,
/// one more than the page holds (that one says whether another page follows).
macro_rules! after_id {
    ($query:expr, $id:expr, $page:expr) => {{
        let mut query = $query;
        if let Some(after) = $page.after() {
            query = query.filter($id.gt(after.to_string()));
        }
        query.order($id.asc()).limit($page.fetch_limit())
    }};
}
pub(crate) use after_id;

/// The page of entities that `rows`, fetched by [`after_id`], hold.
pub(crate) fn id_page<R, E>(
    rows: Vec<R>,
    page: PageRequest<Uuid>,
    into_domain: impl Fn(R) -> StoreResult<E>,
    id: impl Fn(&E) -> Uuid,
) -> StoreResult<Page<E>> {
    keyed_page(rows, page, into_domain, id)
}

/// Like [`id_page`], for any keyset.
pub(crate) fn keyed_page<R, E, K: Keyset>(
    rows: Vec<R>,
    page: PageRequest<K>,
    into_domain: impl Fn(R) -> StoreResult<E>,
    key: impl Fn(&E) -> K,
) -> StoreResult<Page<E, K>> {
    let items = rows
        .into_iter()
        .map(into_domain)
        .collect::<StoreResult<Vec<E>>>()?;
    Ok(Page::from_fetched(items, page, key))
}
