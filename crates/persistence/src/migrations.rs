//! Embedded migrations, one folder per backend with the same versions in both.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use diesel::connection::SimpleConnection;

use crate::conn::DbConn;
use crate::url::DatabaseUrl;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// A migration failed; the message names the migration and the database's complaint.
#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

impl MigrationError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

/// Applies every pending migration, one process at a time: replicas (or a server and a CLI)
/// starting together on a new database would otherwise both apply the first migration, and all
/// but one fail. PostgreSQL serialises them with a session advisory lock; SQLite with a lock on a
/// file beside the database (not on the database file: closing another descriptor of it would
/// drop SQLite's own locks).
pub(crate) fn migrate_exclusively(
    conn: &mut DbConn,
    url: &DatabaseUrl,
) -> Result<(), MigrationError> {
    let failed =
        |e: &dyn std::fmt::Display| MigrationError(format!("cannot take the migration lock: {e}"));
    match conn {
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
                .map_err(|e| failed(&e))?;
            let result = migrate(conn);
            if let DbConn::Pg(c) = conn
                && let Err(e) =
                    c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))
            {
                log::warn!("cannot release the migration lock (it ends with the connection): {e}");
            }
            result
        }
        DbConn::Sqlite(_) => {
            let _held = match url.sqlite_path().filter(|_| !url.is_in_memory()) {
                Some(path) => {
                    let lock = std::fs::File::options()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(format!("{path}.migrate-lock"))
                        .map_err(|e| failed(&e))?;
                    lock.lock().map_err(|e| failed(&e))?;
                    Some(lock)
                }
                None => None,
            };
            migrate(conn)
        }
    }
}

/// The advisory lock key migrations hold on PostgreSQL (`'circulo'` in ASCII).
const PG_MIGRATION_LOCK: i64 = 0x0063_6972_6375_6c6f;

/// Applies every pending migration.
pub fn migrate(conn: &mut DbConn) -> Result<(), MigrationError> {
    match conn {
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES).map(drop),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE).map(drop),
    }
    .map_err(|e| MigrationError(e.to_string()))
}

/// Reverts every applied migration (for tests of the down scripts).
pub fn revert_all(conn: &mut DbConn) -> Result<(), MigrationError> {
    match conn {
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES).map(drop),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(drop),
    }
    .map_err(|e| MigrationError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::{ConnectionManager, Deadlines};
    use crate::url::DatabaseUrl;
    use diesel::connection::SimpleConnection;

    fn versions(dir: &str) -> Vec<String> {
        let path = format!("{}/../../migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let pg = versions("postgres");
        assert!(!pg.is_empty());
        assert_eq!(pg, versions("sqlite"));
    }

    #[test]
    fn sqlite_migrations_run_up_down_and_up_again() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(dir.path().join("m.db").to_str().unwrap()).unwrap();
        let mut conn = ConnectionManager::new(url, Deadlines::default())
            .open()
            .unwrap();
        migrate(&mut conn).unwrap();
        conn.batch_execute("INSERT INTO organizations VALUES ('o', 'n', 'EUR', 'UTC', 5, 60, 2, 6, 5, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
            .unwrap();
        revert_all(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        conn.batch_execute("SELECT org_id FROM organizations")
            .unwrap();
    }
}
