//! The audit log: every change recorded in its own transaction, readable by owners and
//! `audit:read` integrations, filtered, paged, and never across tenants.

use serde_json::json;

use crate::support::{Response, for_each_backend};

/// The actions of a page of audit events, in order.
fn actions(events: &Response) -> Vec<String> {
    events.item_strings("action")
}

#[tokio::test]
async fn every_change_is_recorded_with_actor_entity_and_request_id() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let team_id = app.create_team(&owner, "Bar").await;
        let renamed = app
            .patch(
                &format!("/v1/teams/{team_id}"),
                &owner,
                json!({"name": "Terrace"}),
            )
            .await
            .expect(200);

        let log = app.get("/v1/audit-events", &owner).await.expect(200);
        assert_eq!(
            actions(&log),
            ["organization.created", "team.created", "team.updated"]
        );
        let created = &log.body["items"][0];
        assert_eq!(created["entity_type"], "organization");
        assert_eq!(created["entity_id"], org);
        assert_eq!(
            created["actor"],
            json!({"role": "platform_admin", "subject": "ops"})
        );

        let update = &log.body["items"][2];
        assert_eq!(update["entity_type"], "team");
        assert_eq!(update["entity_id"], team_id);
        assert_eq!(
            update["actor"],
            json!({"role": "owner", "subject": "owner-1"})
        );
        assert_eq!(
            update["request_id"].as_str(),
            renamed.header("x-request-id")
        );
        assert_eq!(update["changes"]["name"], "Terrace");
        assert!(update["occurred_at"].as_str().unwrap().ends_with('Z'));
    })
    .await;
}

#[tokio::test]
async fn a_refused_change_leaves_no_audit_entry() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        app.create_team(&owner, "Bar").await;
        app.post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect_problem(409);
        app.post(
            "/v1/members",
            &owner,
            json!({"display_name": "Ana", "role": "chef"}),
        )
        .await
        .expect_problem(422);
        let log = app.get("/v1/audit-events", &owner).await.expect(200);
        assert_eq!(actions(&log), ["organization.created", "team.created"]);
    })
    .await;
}

#[tokio::test]
async fn the_log_filters_by_entity_action_actor_and_time() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let hr = app.integration_token(&org, "hr-sync", "members:write audit:read");
        let member_id = app.create_named_member(&hr, "Ana", "staff").await;
        app.create_team(&owner, "Bar").await;
        app.patch(
            &format!("/v1/members/{member_id}"),
            &owner,
            json!({"active": false}),
        )
        .await
        .expect(200);

        let by_entity = app
            .get(
                &format!("/v1/audit-events?entity_type=member&entity_id={member_id}"),
                &hr,
            )
            .await
            .expect(200);
        assert_eq!(
            actions(&by_entity),
            ["member.created", "member.deactivated"]
        );
        let by_action = app
            .get("/v1/audit-events?action=team.created", &owner)
            .await
            .expect(200);
        assert_eq!(actions(&by_action), ["team.created"]);
        let by_actor = app
            .get("/v1/audit-events?actor=hr-sync", &owner)
            .await
            .expect(200);
        assert_eq!(actions(&by_actor), ["member.created"]);

        let future = app
            .get("/v1/audit-events?from=2999-01-01", &owner)
            .await
            .expect(200);
        assert_eq!(future.body["items"], json!([]));
        let past = app
            .get("/v1/audit-events?to=2000-01-01T00:00:00Z", &owner)
            .await
            .expect(200);
        assert_eq!(past.body["items"], json!([]));
        let all = app
            .get(
                "/v1/audit-events?from=2000-01-01&to=2999-01-01T00:00:00Z",
                &owner,
            )
            .await
            .expect(200);
        assert_eq!(all.items().len(), 4);
    })
    .await;
}

#[tokio::test]
async fn bad_time_filters_are_refused() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let garbage = app
            .get("/v1/audit-events?from=yesterday", &owner)
            .await
            .expect_problem(422);
        assert_eq!(garbage.error_fields(), ["from"]);
        let inverted = app
            .get("/v1/audit-events?from=2026-02-01&to=2026-01-01", &owner)
            .await
            .expect_problem(422);
        assert_eq!(inverted.error_fields(), ["to"]);
    })
    .await;
}

#[tokio::test]
async fn the_log_pages_with_cursors() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        for name in ["A", "B", "C", "D"] {
            app.create_team(&owner, name).await;
        }
        let mut seen = Vec::new();
        for page in app.pages("/v1/audit-events?limit=2", &owner).await {
            assert!(page.items().len() <= 2);
            seen.extend(actions(&page));
        }
        assert_eq!(
            seen,
            [
                "organization.created",
                "team.created",
                "team.created",
                "team.created",
                "team.created"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn only_owners_and_audit_readers_see_the_log_and_only_their_own() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        app.create_team(&owner, "Bar").await;
        for (role, scope) in [
            ("staff", None),
            ("manager", None),
            ("integration", Some("members:read")),
        ] {
            let token = app.token(Some(&org), role, "x", scope);
            app.get("/v1/audit-events", &token)
                .await
                .expect_problem(403);
        }
        let other = app.get("/v1/audit-events", &other_owner).await.expect(200);
        assert_eq!(actions(&other), ["organization.created"]);
        assert_ne!(other.body["items"][0]["entity_id"], org);
    })
    .await;
}
