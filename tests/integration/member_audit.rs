//! The audit trail of a member's life: every creation, change, deactivation and upsert, with its
//! actor and request id, and changes that show the member exactly as the API does.

use serde_json::{Value, json};

use crate::support::for_each_backend;

#[tokio::test]
async fn a_members_life_is_in_the_audit_log_with_actor_action_and_request_id() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let hr = app.hr_sync_token(&org);

        let created = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "email": "ana@sol.es"}),
            )
            .await
            .expect(201);
        let id = created.id();
        let path = format!("/v1/members/{id}");
        let updated = app
            .patch(&path, &hr, json!({"display_name": "Ana María"}))
            .await
            .expect(200);
        let deactivated = app
            .patch(&path, &owner, json!({"active": false}))
            .await
            .expect(200);
        let reactivated = app
            .patch(
                &path,
                &hr,
                json!({"active": true, "strengths": ["patience"]}),
            )
            .await
            .expect(200);
        // Someone else's change is not part of Ana's history.
        app.create_named_member(&owner, "Bea", "staff").await;

        let events = app.member_events(&owner, &id).await;
        let expected = [
            ("member.created", "owner", "owner-1", &created),
            ("member.updated", "integration", "hr-sync", &updated),
            ("member.deactivated", "owner", "owner-1", &deactivated),
            ("member.reactivated", "integration", "hr-sync", &reactivated),
        ];
        assert_eq!(events.len(), expected.len(), "{events:#?}");
        for (event, (action, role, subject, response)) in events.iter().zip(expected) {
            assert_eq!(event["action"], action, "{event}");
            assert_eq!(event["entity_type"], "member", "{event}");
            assert_eq!(event["entity_id"], id.as_str(), "{event}");
            assert_eq!(
                event["actor"],
                json!({"role": role, "subject": subject}),
                "{event}"
            );
            let request_id = response
                .header("x-request-id")
                .expect("X-Request-Id on every response");
            assert_eq!(event["request_id"], request_id, "{action}: {event}");
            let occurred_at = event["occurred_at"].as_str().unwrap_or_default();
            assert!(
                chrono::DateTime::parse_from_rfc3339(occurred_at).is_ok(),
                "{event}"
            );
            // The changes are the member's state after the change.
            let changes = &event["changes"];
            assert_eq!(
                changes["display_name"], response.body["display_name"],
                "{action}: {event}"
            );
            assert_eq!(
                changes["active"], response.body["active"],
                "{action}: {event}"
            );
            assert_eq!(changes["email"], "ana@sol.es", "{action}: {event}");
        }

        // Events can be narrowed to one action.
        let only = app
            .get(
                &format!(
                    "/v1/audit-events?entity_type=member&entity_id={id}&action=member.deactivated"
                ),
                &owner,
            )
            .await
            .expect(200);
        let only = only.items();
        assert_eq!(only.len(), 1);
        assert_eq!(
            only[0]["request_id"],
            deactivated.header("x-request-id").unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn an_hr_upsert_is_audited_as_a_creation_then_as_updates() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let hr = app.hr_sync_token(&org);
        let body = json!({"display_name": "Ana", "role": "staff"});
        let created = app
            .put("/v1/members/external/HR-9", &hr, body.clone())
            .await
            .expect(201);
        let replaced = app
            .put("/v1/members/external/HR-9", &hr, body)
            .await
            .expect(200);

        let events = app.member_events(&owner, &created.id()).await;
        let summary: Vec<(Value, Value, Value)> = events
            .iter()
            .map(|e| {
                (
                    e["action"].clone(),
                    e["actor"]["subject"].clone(),
                    e["request_id"].clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    json!("member.created"),
                    json!("hr-sync"),
                    json!(created.header("x-request-id"))
                ),
                (
                    json!("member.updated"),
                    json!("hr-sync"),
                    json!(replaced.header("x-request-id"))
                ),
            ]
        );
        assert_eq!(events[0]["changes"]["external_id"], "HR-9");
    })
    .await;
}

#[tokio::test]
async fn audit_changes_show_the_member_as_the_api_does() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = app.create_team(&owner, "Bar").await;
        let created = app
            .post(
                "/v1/members",
                &owner,
                json!({"external_id": "HR-3", "display_name": "Ana", "role": "staff", "team_id": bar,
                    "strengths": ["patience", "latte art"]}),
            )
            .await
            .expect(201);
        let id = created.id();
        let updated = app
            .patch(&format!("/v1/members/{id}"), &owner, json!({"strengths": ["patience"], "email": "ana@sol.es"}))
            .await
            .expect(200);

        let events = app.member_events(&owner, &id).await;
        assert_eq!(events.len(), 2, "{events:#?}");
        for (event, response) in events.iter().zip([&created, &updated]) {
            let changes = &event["changes"];
            let differing = response.fields_differing_from(changes);
            assert!(
                differing.is_empty(),
                "{}: changes should hold the member as the API returns it, but {differing:?} differ\n\
                 changes: {changes}\nmember:  {}",
                event["action"],
                response.text
            );
        }
    })
    .await;
}
