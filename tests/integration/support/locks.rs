//! Locks a test takes on the app's database from a connection of its own, as another process or
//! a long transaction would: to keep a request waiting, or to make it wait past its deadline.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

use super::app::TestApp;
use super::database::Backend;

/// A raw connection to the app's database.
pub enum RawConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl RawConn {
    pub fn open(app: &TestApp) -> Self {
        let url = app.database_url();
        match app.backend {
            Backend::Sqlite => Self::Sqlite(
                SqliteConnection::establish(url.trim_start_matches("sqlite://"))
                    .expect("open the SQLite database"),
            ),
            Backend::Postgres => {
                Self::Postgres(PgConnection::establish(url).expect("open the PostgreSQL database"))
            }
        }
    }

    pub fn execute(&mut self, sql: &str) {
        match self {
            Self::Sqlite(c) => c.batch_execute(sql),
            Self::Postgres(c) => c.batch_execute(sql),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Every row of `table` matching `condition`, each as one JSON text of all its columns:
    /// what someone reading the database directly would see.
    pub fn rows(&mut self, table: &str, condition: &str) -> Vec<String> {
        use diesel::RunQueryDsl;
        let load = |rows: diesel::QueryResult<Vec<TextRow>>, sql: &str| {
            rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(|row| row.text)
                .collect()
        };
        match self {
            Self::Postgres(c) => {
                let sql =
                    format!("SELECT row_to_json(t)::text AS text FROM {table} t WHERE {condition}");
                load(diesel::sql_query(&sql).load(c), &sql)
            }
            Self::Sqlite(c) => {
                let names = format!("SELECT name AS text FROM pragma_table_info('{table}')");
                let columns: Vec<String> = load(diesel::sql_query(&names).load(c), &names);
                let sql = format!(
                    "SELECT json_array({}) AS text FROM {table} WHERE {condition}",
                    columns.join(", ")
                );
                load(diesel::sql_query(&sql).load(c), &sql)
            }
        }
    }

    /// One text column of the rows of `table` matching `condition`.
    pub fn column(&mut self, table: &str, column: &str, condition: &str) -> Vec<String> {
        use diesel::RunQueryDsl;
        let sql = format!("SELECT {column} AS text FROM {table} WHERE {condition}");
        let rows: diesel::QueryResult<Vec<TextRow>> = match self {
            Self::Postgres(c) => diesel::sql_query(&sql).load(c),
            Self::Sqlite(c) => diesel::sql_query(&sql).load(c),
        };
        rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|row| row.text)
            .collect()
    }
}

/// A row of one text column named `text`.
#[derive(diesel::QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// A transaction holding a lock until dropped.
pub struct HeldLock(RawConn);

impl HeldLock {
    /// Blocks every change in `org`: on SQLite the database's write lock (as another process
    /// writing would), on PostgreSQL the organization's row, which every audit entry references.
    pub fn writes_in(app: &TestApp, org: &str) -> Self {
        let mut conn = RawConn::open(app);
        match conn {
            RawConn::Sqlite(_) => conn.execute("BEGIN IMMEDIATE"),
            RawConn::Postgres(_) => conn.execute(&format!(
                "BEGIN; SELECT 1 FROM organizations WHERE org_id = '{org}' FOR UPDATE"
            )),
        }
        Self(conn)
    }

    /// Locks one row of `table` (PostgreSQL only: SQLite locks the whole database).
    pub fn row(app: &TestApp, table: &str, org: &str, id: &str) -> Self {
        let mut conn = RawConn::open(app);
        conn.execute(&format!(
            "BEGIN; SELECT 1 FROM {table} WHERE org_id = '{org}' AND id = '{id}' FOR UPDATE"
        ));
        Self(conn)
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.0.execute("ROLLBACK");
    }
}
