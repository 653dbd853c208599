//! A member's team and manager references: both must exist in the member's own organization, no
//! one manages themselves, and no change (patch or HR upsert) may close a reporting cycle.

use serde_json::{Value, json};

use crate::support::for_each_backend;
use crate::support::locks::RawConn;

#[tokio::test]
async fn a_members_team_and_manager_must_exist_in_the_same_organization() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let foreign_team = app.create_team(&other_owner, "Bar").await;
        let foreign_manager = app.create_named_member(&other_owner, "Eve", "manager").await;
        let nowhere = uuid::Uuid::now_v7().to_string();

        for (body, field) in [
            (json!({"display_name": "Ana", "role": "staff", "team_id": nowhere}), "team_id"),
            (json!({"display_name": "Ana", "role": "staff", "team_id": foreign_team}), "team_id"),
            (json!({"display_name": "Ana", "role": "staff", "manager_id": nowhere}), "manager_id"),
            (json!({"display_name": "Ana", "role": "staff", "manager_id": foreign_manager}), "manager_id"),
        ] {
            let refused = app.post("/v1/members", &owner, body.clone()).await.expect_problem(422);
            assert_eq!(refused.error_fields(), [field], "{body}: {}", refused.text);
        }
        assert_eq!(app.member_names(&owner, "").await, Vec::<String>::new());

        // The same rule holds when a member is changed.
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        let path = format!("/v1/members/{ana}");
        let refused = app
            .patch(&path, &owner, json!({"manager_id": foreign_manager}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"]);
        let refused = app.patch(&path, &owner, json!({"team_id": foreign_team})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["team_id"]);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        assert_eq!(unchanged.body["team_id"], Value::Null);
        assert_eq!(unchanged.body["version"], 1);

        // The other organization's own member may of course use its own team.
        app.create_member(&other_owner, json!({"display_name": "Eva", "role": "staff", "team_id": foreign_team, "manager_id": foreign_manager}))
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_member_cannot_be_their_own_manager() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let ana = app.create_named_member(&owner, "Ana", "manager").await;
        let path = format!("/v1/members/{ana}");
        let refused = app
            .patch(&path, &owner, json!({"manager_id": ana}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        assert_eq!(unchanged.body["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_reporting_cycle_through_others_is_refused_and_changes_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let a = app
            .create_member(
                &owner,
                json!({"external_id": "A", "display_name": "Ana", "role": "owner"}),
            )
            .await;
        let b = app
            .create_member(
                &owner,
                json!({"display_name": "Bea", "role": "manager", "manager_id": a}),
            )
            .await;
        let c = app
            .create_member(
                &owner,
                json!({"display_name": "Carlos", "role": "staff", "manager_id": b}),
            )
            .await;
        let (a_path, b_path, c_path) = (
            format!("/v1/members/{a}"),
            format!("/v1/members/{b}"),
            format!("/v1/members/{c}"),
        );

        for manager in [&c, &b] {
            let refused = app
                .patch(
                    &a_path,
                    &owner,
                    json!({"display_name": "Ana R.", "manager_id": manager}),
                )
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);
        }
        // The HR upsert is held to the same rule.
        let refused = app
            .put(
                "/v1/members/external/A",
                &owner,
                json!({"display_name": "Ana R.", "role": "owner", "manager_id": c}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);

        let unchanged = app.get(&a_path, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        assert_eq!(unchanged.body["display_name"], "Ana");
        assert_eq!(unchanged.body["version"], 1);
        let actions: Vec<Value> = app
            .member_events(&owner, &a)
            .await
            .iter()
            .map(|e| e["action"].clone())
            .collect();
        assert_eq!(actions, [json!("member.created")]);

        // Reporting lines that are not cycles are fine: Carlos moves under Ana, then Bea under Carlos.
        app.patch(&c_path, &owner, json!({"manager_id": a}))
            .await
            .expect(200);
        let b_moved = app
            .patch(&b_path, &owner, json!({"manager_id": c}))
            .await
            .expect(200);
        assert_eq!(b_moved.body["manager_id"], c.as_str());
        // …and now Carlos cannot report to Bea.
        let refused = app
            .patch(&c_path, &owner, json!({"manager_id": b}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"]);
        assert_eq!(
            app.get(&c_path, &owner).await.expect(200).body["manager_id"],
            a.as_str()
        );
    })
    .await;
}

#[tokio::test]
async fn a_cycle_is_refused_however_deep_the_reporting_chain() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        // A chain deeper than any walk with a depth bound would follow: each reports to the one
        // before. Seeded in SQL; building it through the API would take minutes.
        const DEPTH: usize = 10_050;
        let id = |i: usize| format!("00000000-0000-7000-8000-{i:012}");
        let mut db = RawConn::open(&app);
        db.execute("BEGIN");
        for chunk in (0..DEPTH).collect::<Vec<_>>().chunks(500) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|&i| {
                    let manager = if i == 0 {
                        "NULL".to_owned()
                    } else {
                        format!("'{}'", id(i - 1))
                    };
                    format!(
                        "('{org}', '{}', 'Member {i}', 'staff', {manager}, '[]', TRUE, 1, \
                         '2026-12-01 00:00:00', '2026-12-01 00:00:00')",
                        id(i)
                    )
                })
                .collect();
            db.execute(&format!(
                "INSERT INTO members (org_id, id, display_name, role, manager_id, strengths, \
                 active, version, created_at, updated_at) VALUES {}",
                rows.join(", ")
            ));
        }
        db.execute("COMMIT");

        let top = format!("/v1/members/{}", id(0));
        let refused = app
            .patch(&top, &owner, json!({"manager_id": id(DEPTH - 1)}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);
        let unchanged = app.get(&top, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        // A change that closes no cycle at that depth is still allowed.
        let outsider = app.create_named_member(&owner, "Olga", "manager").await;
        app.patch(&top, &owner, json!({"manager_id": outsider}))
            .await
            .expect(200);
    })
    .await;
}
