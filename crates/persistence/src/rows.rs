//! Helpers shared by the row types: reading ids back and snapshotting rows for the audit log.

use std::str::FromStr;

use serde::Serialize;

use circulo_domain::version::Precondition;

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
pub(crate) fn lost_update(expected: &Precondition, current: i64) -> StoreError {
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

/// Refuses the update when the stored version is not one the caller's `If-Match` names.
pub(crate) fn check_version(expected: &Precondition, current: i64) -> StoreResult<()> {
    if expected.admits(current) {
        Ok(())
    } else {
        Err(StoreError::PreconditionFailed(format!(
            "the resource is at version {current}, not one If-Match names; fetch it again and \
             send its ETag"
        )))
    }
}
