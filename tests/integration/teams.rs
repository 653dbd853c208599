//! Teams: create, read, list, rename, lead changes, deletion rules and tenant isolation.

use serde_json::json;

use crate::support::for_each_backend;

#[tokio::test]
async fn an_owner_creates_reads_and_lists_teams() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let created = app
            .post("/v1/teams", &owner, json!({"name": "Front desk"}))
            .await
            .expect(201);
        let id = created.id();
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/teams/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.body["version"], 1);

        let fetched = app
            .get(&format!("/v1/teams/{id}"), &owner)
            .await
            .expect(200);
        assert_eq!(fetched.body["name"], "Front desk");
        assert_eq!(fetched.body["lead_member_id"], serde_json::Value::Null);

        let list = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(list.body["next_cursor"], serde_json::Value::Null);
    })
    .await;
}

#[tokio::test]
async fn team_names_are_unique_within_an_organization_only() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        app.post("/v1/teams", &owner, json!({"name": "Kitchen"}))
            .await
            .expect(201);
        app.post("/v1/teams", &owner, json!({"name": "Kitchen"}))
            .await
            .expect_problem(409);
        app.post("/v1/teams", &other_owner, json!({"name": "Kitchen"}))
            .await
            .expect(201);
    })
    .await;
}

#[tokio::test]
async fn a_team_lead_must_be_a_member_of_the_organization() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let foreign = app
            .create_named_member(&other_owner, "Eve", "manager")
            .await;
        let refused = app
            .post(
                "/v1/teams",
                &owner,
                json!({"name": "Bar", "lead_member_id": foreign}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["lead_member_id"]);

        let lead = app.create_named_member(&owner, "Ana", "manager").await;
        let team = app
            .post(
                "/v1/teams",
                &owner,
                json!({"name": "Bar", "lead_member_id": lead}),
            )
            .await
            .expect(201);
        assert_eq!(team.body["lead_member_id"], lead.as_str());
    })
    .await;
}

#[tokio::test]
async fn patching_a_team_renames_it_clears_its_lead_and_bumps_its_version() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let lead = app.create_named_member(&owner, "Ana", "manager").await;
        let team = app
            .post(
                "/v1/teams",
                &owner,
                json!({"name": "Bar", "lead_member_id": lead}),
            )
            .await
            .expect(201);
        let path = format!("/v1/teams/{}", team.id());
        let renamed = app
            .patch(&path, &owner, json!({"name": "Terrace"}))
            .await
            .expect(200);
        assert_eq!(renamed.body["name"], "Terrace");
        assert_eq!(renamed.body["lead_member_id"], lead.as_str());
        assert_eq!(renamed.body["version"], 2);
        assert_eq!(renamed.header("etag"), Some("\"2\""));
        let cleared = app
            .patch(&path, &owner, json!({"lead_member_id": null}))
            .await
            .expect(200);
        assert_eq!(cleared.body["lead_member_id"], serde_json::Value::Null);
        assert_eq!(cleared.body["name"], "Terrace");
    })
    .await;
}

#[tokio::test]
async fn a_team_with_members_cannot_be_deleted_but_an_empty_one_can() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let team_id = app.create_team(&owner, "Bar").await;
        let member = app
            .create_member(
                &owner,
                json!({"display_name": "Ana", "role": "staff", "team_id": team_id}),
            )
            .await;
        let path = format!("/v1/teams/{team_id}");
        app.delete(&path, &owner).await.expect_problem(409);
        app.get(&path, &owner).await.expect(200);

        let member_path = format!("/v1/members/{member}");
        app.patch(&member_path, &owner, json!({"team_id": null}))
            .await
            .expect(200);
        app.delete(&path, &owner).await.expect(204);
        app.get(&path, &owner).await.expect_problem(404);
    })
    .await;
}

#[tokio::test]
async fn another_organizations_team_is_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, intruder) = app.create_org().await;
        let path = format!("/v1/teams/{}", app.create_team(&owner, "Bar").await);
        app.get(&path, &intruder).await.expect_problem(404);
        app.patch(&path, &intruder, json!({"name": "Mine"}))
            .await
            .expect_problem(404);
        app.delete(&path, &intruder).await.expect_problem(404);
        let list = app.get("/v1/teams", &intruder).await.expect(200);
        assert_eq!(list.body["items"], json!([]));
        assert_eq!(app.get(&path, &owner).await.expect(200).body["name"], "Bar");
    })
    .await;
}

#[tokio::test]
async fn staff_read_teams_but_cannot_change_them() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let (_, staff) = app.member_token(&org, &owner, "staff").await;
        app.create_team(&owner, "Bar").await;
        app.get("/v1/teams", &staff).await.expect(200);
        app.post("/v1/teams", &staff, json!({"name": "Mine"}))
            .await
            .expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn a_token_for_an_organization_that_does_not_exist_finds_nothing_and_changes_nothing() {
    for_each_backend(|app| async move {
        let ghost_org = uuid::Uuid::now_v7().to_string();
        let ghost_owner = app.token(Some(&ghost_org), "owner", "owner-1", None);
        app.post("/v1/teams", &ghost_owner, json!({"name": "Bar"}))
            .await
            .expect_problem(404);
        app.get("/v1/teams", &ghost_owner).await.expect_problem(404);
    })
    .await;
}
