//! Embedded migrations, one folder per backend with the same versions in both.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::conn::DbConn;

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
