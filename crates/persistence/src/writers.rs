//! SQLite admits one writer at a time. Writers of this process take turns here instead of in
//! SQLite's busy handler (which sleeps in steps of up to 100 ms), and the wait has a deadline so
//! a stuck writer turns into 503s rather than a growing queue. Other processes (the CLI) still
//! meet SQLite's busy timeout. The idempotency keys of requests in progress are also tracked
//! here: on SQLite a second request with a running key would otherwise wait for the writer's
//! turn and replay, instead of being told at once that the first is still running.

use std::collections::HashSet;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};

use crate::error::{StoreError, StoreResult};

/// The writers of one SQLite database in this process.
#[derive(Default)]
pub(crate) struct SqliteWriters {
    turn: Mutex<()>,
    running_keys: Mutex<HashSet<String>>,
}

/// A running request's hold on its idempotency key; released when dropped.
pub(crate) struct RunningKey<'a> {
    writers: &'a SqliteWriters,
    key: String,
}

impl SqliteWriters {
    /// Waits up to `deadline` for this process's turn to write.
    pub(crate) fn turn(&self, deadline: Duration) -> StoreResult<MutexGuard<'_, ()>> {
        self.turn.try_lock_for(deadline).ok_or_else(|| {
            StoreError::Busy(format!(
                "no turn to write to SQLite within {} ms",
                deadline.as_millis()
            ))
        })
    }

    /// Marks `key` as running, or refuses when another request is running it.
    pub(crate) fn run_key(&self, key: String) -> StoreResult<RunningKey<'_>> {
        if self.running_keys.lock().insert(key.clone()) {
            Ok(RunningKey { writers: self, key })
        } else {
            Err(StoreError::KeyInFlight)
        }
    }
}

impl Drop for RunningKey<'_> {
    fn drop(&mut self) {
        self.writers.running_keys.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_key_refuses_a_second_run_until_released() {
        let writers = SqliteWriters::default();
        let first = writers.run_key("k".into()).unwrap();
        assert!(matches!(
            writers.run_key("k".into()),
            Err(StoreError::KeyInFlight)
        ));
        assert!(writers.run_key("other".into()).is_ok());
        drop(first);
        assert!(writers.run_key("k".into()).is_ok());
    }

    #[test]
    fn the_turn_to_write_has_a_deadline() {
        let writers = SqliteWriters::default();
        let _held = writers.turn(Duration::from_millis(10)).unwrap();
        assert!(matches!(
            writers.turn(Duration::from_millis(10)),
            Err(StoreError::Busy(_))
        ));
    }
}
