//! Fresh databases for tests: a SQLite file in a temporary folder, or a new PostgreSQL database on
//! the server `CIRCULO_TEST_POSTGRES_URL` names, dropped when the test ends.

use std::sync::Once;

use diesel::{Connection, PgConnection, RunQueryDsl};

/// The databases tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const POSTGRES_VARIABLE: &str = "CIRCULO_TEST_POSTGRES_URL";

impl Backend {
    /// SQLite always; PostgreSQL when configured. Under CI an unconfigured PostgreSQL fails the run.
    pub fn available() -> Vec<Backend> {
        match std::env::var(POSTGRES_VARIABLE)
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(_) => vec![Backend::Sqlite, Backend::Postgres],
            None => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but {POSTGRES_VARIABLE} is not set: the PostgreSQL half of the suite would be skipped"
                );
                static NOTE: Once = Once::new();
                NOTE.call_once(|| {
                    eprintln!(
                        "{POSTGRES_VARIABLE} is not set: running the API tests on SQLite only"
                    )
                });
                vec![Backend::Sqlite]
            }
        }
    }
}

/// A database that exists for one test.
pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("circulo.db").display());
                Self::Sqlite { _dir: dir, url }
            }
            Backend::Postgres => {
                let admin_url = without_tls(
                    &std::env::var(POSTGRES_VARIABLE).expect("checked by Backend::available"),
                );
                let name = format!("circulo_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("{POSTGRES_VARIABLE} is unreachable: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create the test database");
                let url = with_database(&admin_url, &name);
                Self::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let dropped = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
            if let Err(e) = dropped {
                eprintln!("could not drop test database {name}: {e}");
            }
        }
    }
}

/// `url` asking libpq for no TLS, unless it names an `sslmode`. The test process exits with
/// servers still running on other threads, and libpq's TLS crashed at exit (SIGSEGV after every
/// test had passed) in about one full run in four here; tests talk to PostgreSQL on loopback.
fn without_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// `postgres://u@h:5432/postgres?x` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[test]
fn database_names_are_swapped_in_postgres_urls() {
    assert_eq!(
        with_database("postgres://p@h:5432/postgres", "t"),
        "postgres://p@h:5432/t"
    );
    assert_eq!(with_database("postgres://p@h", "t"), "postgres://p@h/t");
    assert_eq!(
        with_database("postgres://p@h/db?sslmode=disable", "t"),
        "postgres://p@h/t?sslmode=disable"
    );
}
