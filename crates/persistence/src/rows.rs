//! Helpers shared by the row types: reading ids back and snapshotting rows for the audit log.

use std::str::FromStr;

use serde::Serialize;

use crate::error::{StoreError, StoreResult, corrupt};

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

/// Outcome of a version-checked update that matched no row although the row exists: someone
/// else changed it between our read and our write.
pub(crate) fn lost_update(expected: Option<i64>, current: i64) -> StoreError {
    match expected {
        Some(expected) => StoreError::VersionMismatch { expected },
        None => StoreError::Conflict(format!(
            "the resource changed while this request was updating version {current}; retry"
        )),
    }
}

/// Refuses the update when the caller's `If-Match` version is not the stored one.
pub(crate) fn check_version(expected: Option<i64>, current: i64) -> StoreResult<()> {
    match expected {
        Some(expected) if expected != current => Err(StoreError::VersionMismatch { expected }),
        _ => Ok(()),
    }
}
