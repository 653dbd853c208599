//! Authorization: what each role and scope may read and change (403 when not), that a platform
//! admin sees nothing inside an organization, and that another organization's members and teams
//! are simply not found (404).

use serde_json::json;

use crate::support::{EVERY_SCOPE, TestApp, for_each_backend};

/// Creates a member (Ana, staff) and a team (Bar) as `owner` and returns their paths.
async fn member_and_team_paths(app: &TestApp, owner: &str) -> (String, String) {
    let member = app.create_named_member(owner, "Ana", "staff").await;
    let team = app.create_team(owner, "Bar").await;
    (format!("/v1/members/{member}"), format!("/v1/teams/{team}"))
}

#[tokio::test]
async fn another_organizations_members_and_teams_are_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (intruder_org, intruder) = app.create_org().await;
        let intruder_integration =
            app.integration_token(&intruder_org, "hr-sync", "members:read members:write");
        let (member_path, team_path) = member_and_team_paths(&app, &owner).await;

        // What a caller sees for an id that exists in no organization.
        let missing_member = format!("/v1/members/{}", uuid::Uuid::now_v7());
        let nothing = app
            .get(&missing_member, &intruder)
            .await
            .expect_problem(404);

        for token in [&intruder, &intruder_integration] {
            let seen = app.get(&member_path, token).await.expect_problem(404);
            assert_eq!(
                seen.body["title"], nothing.body["title"],
                "a foreign member looks like a missing one"
            );
            assert_eq!(
                seen.body["detail"], nothing.body["detail"],
                "a foreign member looks like a missing one"
            );
            app.patch(&member_path, token, json!({"display_name": "Mallory"}))
                .await
                .expect_problem(404);
            app.get(&team_path, token).await.expect_problem(404);
            app.patch(&team_path, token, json!({"name": "Mine"}))
                .await
                .expect_problem(404);
            app.delete(&team_path, token).await.expect_problem(404);
        }
        let listed = app.get("/v1/members", &intruder).await.expect(200);
        assert_eq!(listed.body["items"], json!([]));

        let member = app.get(&member_path, &owner).await.expect(200);
        assert_eq!(member.body["display_name"], "Ana");
        assert_eq!(member.body["version"], 1);
        let team = app.get(&team_path, &owner).await.expect(200);
        assert_eq!(team.body["name"], "Bar");
        assert_eq!(team.body["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn an_integration_with_members_read_lists_the_directory_but_cannot_change_it() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let (member_path, team_path) = member_and_team_paths(&app, &owner).await;
        let reader = app.integration_token(&org, "crm", "members:read");

        assert_eq!(
            app.get("/v1/members", &reader).await.expect(200).body["items"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(
            app.get("/v1/teams", &reader).await.expect(200).body["items"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        app.get(&member_path, &reader).await.expect(200);
        app.get(&team_path, &reader).await.expect(200);

        app.post(
            "/v1/members",
            &reader,
            json!({"display_name": "Bo", "role": "staff"}),
        )
        .await
        .expect_problem(403);
        app.patch(&member_path, &reader, json!({"display_name": "Bo"}))
            .await
            .expect_problem(403);
        app.put(
            "/v1/members/external/hr-7",
            &reader,
            json!({"display_name": "Bo", "role": "staff"}),
        )
        .await
        .expect_problem(403);
        app.post("/v1/teams", &reader, json!({"name": "Kitchen"}))
            .await
            .expect_problem(403);
        app.patch(&team_path, &reader, json!({"name": "Kitchen"}))
            .await
            .expect_problem(403);
        app.delete(&team_path, &reader).await.expect_problem(403);
        app.get("/v1/audit-events", &reader)
            .await
            .expect_problem(403);

        let members = app.get("/v1/members", &owner).await.expect(200);
        assert_eq!(
            members.body["items"].as_array().map(Vec::len),
            Some(1),
            "no member was added"
        );
        assert_eq!(members.body["items"][0]["display_name"], "Ana");
        let teams = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(
            teams.body["items"].as_array().map(Vec::len),
            Some(1),
            "no team was added or deleted"
        );
        assert_eq!(teams.body["items"][0]["name"], "Bar");
    })
    .await;
}

#[tokio::test]
async fn an_integration_with_members_write_changes_the_directory() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let writer = app.hr_sync_token(&org);
        let member = app.create_named_member(&writer, "Ana", "staff").await;
        let team = app.create_team(&writer, "Bar").await;
        app.patch(
            &format!("/v1/members/{member}"),
            &writer,
            json!({"team_id": team}),
        )
        .await
        .expect(200);
        app.put(
            "/v1/members/external/hr-7",
            &writer,
            json!({"display_name": "Bo", "role": "staff"}),
        )
        .await
        .expect(201);
        let listed = app.get("/v1/members", &writer).await.expect(200);
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));
        app.get("/v1/audit-events", &writer)
            .await
            .expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn an_integration_without_a_directory_scope_cannot_read_it() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        for scope in [
            None,
            Some(""),
            Some("goals:read scores:write"),
            Some("members:admin"),
        ] {
            let token = app.token(Some(&org), "integration", "pos", scope);
            app.get("/v1/members", &token).await.expect_problem(403);
            app.get("/v1/teams", &token).await.expect_problem(403);
        }
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_is_read_by_owners_and_audit_read_integrations_only() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        app.create_named_member(&owner, "Ana", "staff").await;

        let auditor = app.integration_token(&org, "siem", "audit:read");
        let events = app.get("/v1/audit-events", &auditor).await.expect(200);
        let actions: Vec<&str> = events.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(actions.contains(&"member.created"), "{actions:?}");
        app.get("/v1/audit-events", &owner).await.expect(200);
        app.get("/v1/members", &auditor).await.expect_problem(403);

        for role in ["staff", "manager"] {
            let (_, token) = app.member_token(&org, &owner, role).await;
            app.get("/v1/audit-events", &token)
                .await
                .expect_problem(403);
        }
        let everything_else =
            "members:read members:write goals:read goals:write reports:read webhooks:manage";
        let integration = app.integration_token(&org, "crm", everything_else);
        app.get("/v1/audit-events", &integration)
            .await
            .expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn only_owners_read_and_change_organization_settings() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let others = [
            ("staff", app.member_token(&org, &owner, "staff").await.1),
            ("manager", app.member_token(&org, &owner, "manager").await.1),
            (
                "integration",
                app.integration_token(&org, "crm", EVERY_SCOPE),
            ),
            ("platform_admin", app.platform_admin_token()),
        ];
        for (role, token) in &others {
            let read = app.get("/v1/organization", token).await;
            assert_eq!(read.status, 403, "{role} read the settings: {}", read.text);
            read.expect_problem(403);
            let change = app
                .patch("/v1/organization", token, json!({"anonymity_threshold": 7}))
                .await;
            assert_eq!(
                change.status, 403,
                "{role} changed the settings: {}",
                change.text
            );
            change.expect_problem(403);
        }
        let settings = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(settings.body["id"], org);
        assert_eq!(
            settings.body["anonymity_threshold"], 5,
            "no refused PATCH took effect"
        );
        let changed = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"anonymity_threshold": 7}),
            )
            .await
            .expect(200);
        assert_eq!(changed.body["anonymity_threshold"], 7);
    })
    .await;
}

#[tokio::test]
async fn only_a_platform_admin_creates_organizations_and_it_sees_nothing_inside_them() {
    for_each_backend(|app| async move {
        let body = json!({"name": "Café Luna", "currency": "EUR", "timezone": "Europe/Madrid"});
        let admin = app.platform_admin_token();
        let created = app
            .post("/v1/organizations", &admin, body.clone())
            .await
            .expect(201);
        let org = created.id();

        let everything = "members:read members:write audit:read webhooks:manage";
        let owner = app.token(Some(&org), "owner", "o-1", None);
        for (role, scope) in [
            ("owner", None),
            ("manager", None),
            ("staff", None),
            ("integration", Some(everything)),
        ] {
            let sub = match role {
                "manager" | "staff" => app.member_token(&org, &owner, role).await.0,
                _ => "x-1".to_owned(),
            };
            let token = app.token(Some(&org), role, &sub, scope);
            let refused = app.post("/v1/organizations", &token, body.clone()).await;
            assert_eq!(
                refused.status, 403,
                "{role} created an organization: {}",
                refused.text
            );
            refused.expect_problem(403);
        }

        app.get("/v1/teams", &admin).await.expect_problem(403);
        app.get("/v1/members", &admin).await.expect_problem(403);
        app.post("/v1/teams", &admin, json!({"name": "Bar"}))
            .await
            .expect_problem(403);
        app.get("/v1/audit-events", &admin)
            .await
            .expect_problem(403);
        // An org claim does not turn a platform admin into a member of that organization.
        let admin_in_org = app.token(Some(&org), "platform_admin", "ops", None);
        app.get("/v1/teams", &admin_in_org)
            .await
            .expect_problem(403);
        app.post(
            "/v1/members",
            &admin_in_org,
            json!({"display_name": "Ana", "role": "owner"}),
        )
        .await
        .expect_problem(403);

        assert_eq!(
            app.list_items("/v1/members", &owner).await.len(),
            2,
            "only the manager and the staff member the test created"
        );
    })
    .await;
}

#[tokio::test]
async fn staff_and_managers_read_the_directory_but_do_not_change_it() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        let member_path = format!("/v1/members/{ana}");
        for role in ["staff", "manager"] {
            let token = app.token(Some(&org), role, &ana, None);
            app.get("/v1/members", &token).await.expect(200);
            app.get("/v1/teams", &token).await.expect(200);
            app.get(&member_path, &token).await.expect(200);
            app.post(
                "/v1/members",
                &token,
                json!({"display_name": "Bo", "role": "staff"}),
            )
            .await
            .expect_problem(403);
            app.patch(&member_path, &token, json!({"display_name": "Ana B."}))
                .await
                .expect_problem(403);
            app.post("/v1/teams", &token, json!({"name": "Bar"}))
                .await
                .expect_problem(403);
        }
        assert_eq!(
            app.get(&member_path, &owner).await.expect(200).body["display_name"],
            "Ana"
        );
    })
    .await;
}
