//! The audit of an organization: its creation and every change, with actor, request id (the
//! caller's own when it sent one) and changes that show the settings exactly as the API does.

use reqwest::Method;
use serde_json::json;

use crate::support::{Response, TestApp, for_each_backend, is_utc_timestamp};

/// Narrows [`organization_events`] to the updates.
const UPDATED: &str = "&action=organization.updated";

/// The audit events of organization `org`, oldest first, with `filter` appended to the query.
async fn organization_events(app: &TestApp, owner: &str, org: &str, filter: &str) -> Response {
    app.get(
        &format!("/v1/audit-events?entity_type=organization&entity_id={org}{filter}"),
        owner,
    )
    .await
    .expect(200)
}

#[tokio::test]
async fn organization_creation_and_changes_are_audited() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let patched = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"anonymity_threshold": 4, "low_score_thresholds": {"csat_at_most": 1, "nps_at_most": 5, "ces_at_least": 6}}),
            )
            .await
            .expect(200);
        let request_id = patched.header("x-request-id").expect("X-Request-Id on every response").to_owned();

        let events = organization_events(&app, &owner, &org, "").await;
        let items = events.items();
        let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions, ["organization.created", "organization.updated"], "{}", events.text);

        let created = &items[0];
        assert_eq!(created["entity_type"], "organization");
        assert_eq!(created["entity_id"], org.as_str());
        assert_eq!(created["actor"]["role"], "platform_admin");
        assert_eq!(created["actor"]["subject"], "ops");

        let updated = &items[1];
        assert_eq!(updated["entity_type"], "organization");
        assert_eq!(updated["entity_id"], org.as_str());
        assert_eq!(updated["actor"], json!({"role": "owner", "subject": "owner-1"}));
        assert_eq!(updated["request_id"], request_id.as_str());
        assert!(is_utc_timestamp(&updated["occurred_at"]), "{updated}");
        assert_eq!(updated["changes"]["anonymity_threshold"], 4, "changes hold the state after the change: {updated}");
        assert_eq!(updated["changes"]["name"], "Panadería Sol");

        // A refused change leaves no trace.
        app.patch("/v1/organization", &owner, json!({"anonymity_threshold": 1})).await.expect_problem(422);
        let after = organization_events(&app, &owner, &org, "").await;
        assert_eq!(after.items().len(), 2, "{}", after.text);
    })
    .await;
}

#[tokio::test]
async fn the_audited_request_id_is_the_servers_own_whatever_the_caller_sends() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        // Two requests claiming one id, as a client pointing forensics at someone else would.
        for name in ["Sol Norte", "Sol Sur"] {
            let patched = app
                .send_with_headers(
                    Method::PATCH,
                    "/v1/organization",
                    Some(&owner),
                    &[("x-request-id", "hr-tool-run-42")],
                    Some(json!({"name": name})),
                )
                .await
                .expect(200);
            // The client's id is echoed for its own correlation…
            assert_eq!(patched.header("x-request-id"), Some("hr-tool-run-42"));
        }

        // …but the audit log records ids the server generated, one per request.
        let events = organization_events(&app, &owner, &org, UPDATED).await;
        let ids: Vec<String> = events.item_strings("request_id");
        assert_eq!(ids.len(), 2, "{}", events.text);
        assert_ne!(ids[0], ids[1]);
        for id in &ids {
            let uuid = uuid::Uuid::parse_str(id).expect("a server-generated UUID");
            assert_eq!(uuid.get_version_num(), 7, "{id}");
        }
        assert_eq!(events.items()[1]["changes"]["name"], "Sol Sur");
    })
    .await;
}

#[tokio::test]
async fn organization_audit_changes_show_the_settings_as_the_api_does() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let patched = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"escalation_response_target_minutes": 30,
                    "low_score_thresholds": {"csat_at_most": 3, "nps_at_most": 6, "ces_at_least": 5}}),
            )
            .await
            .expect(200);
        let events = organization_events(&app, &owner, &org, UPDATED).await;
        let changes = &events.body["items"][0]["changes"];
        let differing = patched.fields_differing_from(changes);
        assert!(
            differing.is_empty(),
            "changes should hold the organization as the API returns it, but {differing:?} differ\n\
             changes:      {changes}\norganization: {}",
            patched.text
        );
    })
    .await;
}
