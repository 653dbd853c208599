//! The write path's way of leaving no trace of a change's author (for anonymous feedback and
//! employee scores, which come later): its audit entry names only the role, carries no request
//! id, is dated to the day with an id that embeds only the date, and joins the audit feed only
//! after its day (its place would otherwise tell when it was made); its idempotency record names no
//! caller and no hour either. No route uses it yet, so this drives the store directly, then reads
//! the audit log through the API.

use circulo_domain::OrgId;
use circulo_domain::team::{RawTeamFields, TeamFields};
use circulo_persistence::{
    ChangeContext, DatabaseUrl, Db, KeyClaim, PoolOptions, StoredResponse, Written, today,
};

use crate::support::locks::RawConn;
use crate::support::{Backend, for_each_backend};

fn answer() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![],
        body: "{}".to_owned(),
    }
}

#[tokio::test]
async fn an_untraced_change_leaves_no_author_request_or_hour_behind() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let db = Db::open(
            &DatabaseUrl::parse(app.database_url()).expect("url"),
            PoolOptions::default(),
        )
        .expect("open");
        let org_id: OrgId = org.parse().expect("org id");
        let ctx = ChangeContext::untraced();
        let claim = KeyClaim::untraced(Some(org.clone()), "derived-key".into(), "print".into());
        let fields = TeamFields::parse(RawTeamFields {
            name: "Quiet team",
            lead_member_id: None,
        })
        .expect("valid");
        let written = db
            .write_once(&ctx, &claim, |tx| {
                tx.teams().create(org_id, fields)?;
                Ok(answer())
            })
            .expect("written");
        assert_eq!(written, Written::Fresh(answer()));
        let retried = db
            .write_once(&ctx, &claim, |_| {
                panic!("a committed change never runs twice")
            })
            .expect("replayed");
        assert_eq!(retried, Written::Replayed(answer()));

        // Not in the feed during its day: its place would tell when it was made.
        let before = app
            .get("/v1/audit-events?action=team.created", &owner)
            .await
            .expect(200);
        assert!(before.items().is_empty(), "{}", before.text);

        // The stored row: no subject, no request id, midnight, an id that embeds only the date.
        // As if the day had passed, it joins the feed at the next read.
        let mut raw = RawConn::open(&app);
        let midnight = today().naive_utc();
        let yesterday = midnight - chrono::TimeDelta::days(1);
        raw.execute(&format!(
            "UPDATE audit_events SET occurred_at = '{0}', feed_after = '{0}' WHERE action = 'team.created'",
            yesterday.format("%Y-%m-%d %H:%M:%S")
        ));
        let after = app
            .get("/v1/audit-events?action=team.created", &owner)
            .await
            .expect(200);
        let entry = &after.items()[0];
        assert_eq!(entry["actor"]["role"], "anonymous");
        assert!(entry["actor"]["subject"].is_null(), "{entry}");
        assert!(entry["request_id"].is_null(), "{entry}");
        let id = uuid::Uuid::parse_str(entry["id"].as_str().expect("id")).expect("uuid");
        let (seconds, nanos) = id.get_timestamp().expect("v7").to_unix();
        assert_eq!(
            (seconds % 86_400, nanos),
            (0, 0),
            "the id embeds the date only: {id}"
        );
        assert_eq!(
            entry["occurred_at"],
            format!("{}.000000Z", yesterday.format("%Y-%m-%dT%H:%M:%S")),
            "{entry}"
        );
        // What the change created says no more: its id and timestamps carry only the date.
        let team = uuid::Uuid::parse_str(entry["entity_id"].as_str().expect("id")).expect("uuid");
        let (seconds, nanos) = team.get_timestamp().expect("v7").to_unix();
        assert_eq!((seconds % 86_400, nanos), (0, 0), "{entry}");
        let created = entry["changes"]["created_at"].as_str().expect("created_at");
        assert!(created.ends_with("T00:00:00.000000Z"), "{entry}");
        // Later traced changes come after it.
        app.create_team(&owner, "Loud team").await;
        let created = app
            .get("/v1/audit-events?action=team.created", &owner)
            .await
            .expect(200);
        assert_eq!(created.item_strings("id")[0], id.to_string());
        assert_eq!(created.items().len(), 2);

        // The idempotency record names no caller.
        let (caller, key) = idempotency_record(&app.backend, &mut raw);
        assert_eq!(caller, "");
        assert_eq!(key, "derived-key");
    })
    .await;
}

/// The one idempotency record's caller and key.
fn idempotency_record(backend: &Backend, raw: &mut RawConn) -> (String, String) {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Record {
        #[diesel(sql_type = Text)]
        caller: String,
        #[diesel(sql_type = Text)]
        idempotency_key: String,
    }
    let sql = "SELECT caller, idempotency_key FROM idempotency_keys";
    let rows: Vec<Record> = match raw {
        RawConn::Sqlite(c) => diesel::sql_query(sql).load(c),
        RawConn::Postgres(c) => diesel::sql_query(sql).load(c),
    }
    .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
    assert_eq!(rows.len(), 1);
    let row = rows.into_iter().next().expect("one row");
    (row.caller, row.idempotency_key)
}
