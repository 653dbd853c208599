//! Who may see and change members: another organization's members are not found (404), staff,
//! managers and `members:read` integrations only read, owners and `members:write` integrations
//! write, and everyone else is refused (403, or 401 without a token).

use reqwest::Method;
use serde_json::json;

use crate::support::for_each_backend;

#[tokio::test]
async fn another_organizations_members_are_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, intruder) = app.create_org().await;
        let bar = app.create_team(&owner, "Bar").await;
        let ana = app
            .create_member(
                &owner,
                json!({"external_id": "HR-1", "display_name": "Ana", "role": "staff", "team_id": bar}),
            )
            .await;
        let path = format!("/v1/members/{ana}");

        app.get(&path, &intruder).await.expect_problem(404);
        app.patch(&path, &intruder, json!({"display_name": "Mine"}))
            .await
            .expect_problem(404);
        app.patch(&path, &intruder, json!({"active": false}))
            .await
            .expect_problem(404);
        assert_eq!(
            app.member_names(&intruder, "").await,
            Vec::<String>::new()
        );
        assert_eq!(
            app.member_names(&intruder, &format!("&team_id={bar}"))
                .await,
            Vec::<String>::new()
        );

        // The intruder's upsert by the same external id creates their own member, nothing else.
        let theirs = app
            .put(
                "/v1/members/external/HR-1",
                &intruder,
                json!({"display_name": "Zoe", "role": "staff"}),
            )
            .await
            .expect(201);
        assert_ne!(theirs.body["id"], ana.as_str());
        assert_eq!(app.member_names(&intruder, "").await, ["Zoe"]);

        let untouched = app.get(&path, &owner).await.expect(200);
        assert_eq!(untouched.body["display_name"], "Ana");
        assert_eq!(untouched.body["active"], true);
        assert_eq!(untouched.body["version"], 1);
        assert_eq!(app.member_names(&owner, "").await, ["Ana"]);
    })
    .await;
}

#[tokio::test]
async fn only_owners_and_integrations_with_members_write_change_members() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        let path = format!("/v1/members/{ana}");
        let new_member = json!({"display_name": "Bea", "role": "staff"});
        let (_, manager) = app.member_token(&org, &owner, "manager").await;

        let readers = [
            app.token(Some(&org), "staff", &ana, None),
            manager,
            app.integration_token(&org, "crm", "members:read"),
        ];
        for reader in &readers {
            assert_eq!(
                app.get(&path, reader).await.expect(200).body["display_name"],
                "Ana"
            );
            assert_eq!(app.member_names(reader, "").await, ["Ana", "A manager"]);
            app.post("/v1/members", reader, new_member.clone())
                .await
                .expect_problem(403);
            app.patch(&path, reader, json!({"display_name": "Hacked"}))
                .await
                .expect_problem(403);
            app.patch(&path, reader, json!({"active": false}))
                .await
                .expect_problem(403);
            app.put("/v1/members/external/X-1", reader, new_member.clone())
                .await
                .expect_problem(403);
        }

        // Neither reading nor writing without a members scope, nor as a platform admin.
        for outsider in [
            app.integration_token(&org, "pos", "scores:write goals:read"),
            app.platform_admin_token(),
        ] {
            app.get(&path, &outsider).await.expect_problem(403);
            app.get("/v1/members", &outsider).await.expect_problem(403);
            app.post("/v1/members", &outsider, new_member.clone())
                .await
                .expect_problem(403);
        }
        app.send(Method::GET, "/v1/members", None, None)
            .await
            .expect_problem(401);

        let after_refusals = app.get(&path, &owner).await.expect(200);
        assert_eq!(after_refusals.body["display_name"], "Ana");
        assert_eq!(after_refusals.body["version"], 1);
        assert_eq!(app.member_names(&owner, "").await, ["Ana", "A manager"]);

        let writer = app.hr_sync_token(&org);
        let bea = app.create_member(&writer, new_member.clone()).await;
        app.patch(
            &format!("/v1/members/{bea}"),
            &writer,
            json!({"email": "bea@sol.es"}),
        )
        .await
        .expect(200);
        app.put(
            "/v1/members/external/X-1",
            &writer,
            json!({"display_name": "Carlos", "role": "staff"}),
        )
        .await
        .expect(201);
        assert_eq!(
            app.get(&path, &writer).await.expect(200).body["display_name"],
            "Ana"
        );
        assert_eq!(
            app.member_names(&writer, "").await,
            ["Ana", "A manager", "Bea", "Carlos"]
        );
    })
    .await;
}
