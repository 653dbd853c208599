//! Migrations run up, down and up again on every backend, leaving a working schema.

use diesel::{Connection, PgConnection, SqliteConnection};

use circulo_domain::audit::Actor;
use circulo_domain::organization::{OrganizationFields, RawOrganizationFields};
use circulo_persistence::{
    ChangeContext, DatabaseUrl, Db, DbConn, PoolOptions, migrate, revert_all,
};

use crate::support::{Backend, TestDatabase};

fn connect(backend: Backend, database: &TestDatabase) -> DbConn {
    match backend {
        Backend::Sqlite => {
            let path = database.url().trim_start_matches("sqlite://");
            DbConn::Sqlite(SqliteConnection::establish(path).expect("sqlite"))
        }
        Backend::Postgres => DbConn::Pg(PgConnection::establish(database.url()).expect("postgres")),
    }
}

#[test]
fn migrations_run_up_down_and_up_again_on_every_backend() {
    for backend in Backend::available() {
        let database = TestDatabase::create(backend);
        let mut conn = connect(backend, &database);
        migrate(&mut conn).unwrap_or_else(|e| panic!("{backend:?} up: {e}"));
        revert_all(&mut conn).unwrap_or_else(|e| panic!("{backend:?} down: {e}"));
        migrate(&mut conn).unwrap_or_else(|e| panic!("{backend:?} up again: {e}"));
        drop(conn);
        let db = Db::open(
            &DatabaseUrl::parse(database.url()).expect("url"),
            PoolOptions::default(),
        )
        .expect("open");
        let ctx = ChangeContext::new(Actor::cli(), None);
        let fields = OrganizationFields::parse(RawOrganizationFields {
            name: "After migrations",
            currency: "EUR",
            timezone: "UTC",
        })
        .expect("valid");
        let org = db
            .write(&ctx, |tx| tx.organizations().create(fields))
            .expect("the schema works after down and up");
        assert_eq!(
            db.organizations().get(org.id).expect("read back").name,
            "After migrations"
        );
    }
}
