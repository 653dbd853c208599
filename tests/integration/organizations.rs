//! Organizations: creation by a platform admin, default settings, the owner reading and tuning
//! them, validation, `If-Match`, tokens for organizations that do not exist, and tenant isolation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{EVERY_SCOPE, Response, TestApp, for_each_backend, is_utc_timestamp};

/// The organization as its owner reads it.
async fn organization(app: &TestApp, owner: &str) -> Value {
    app.get("/v1/organization", owner).await.expect(200).body
}

/// `PATCH /v1/organization` as `owner`.
async fn patch_org(app: &TestApp, owner: &str, body: Value) -> Response {
    app.patch("/v1/organization", owner, body).await
}

#[tokio::test]
async fn a_platform_admin_creates_an_organization_with_default_settings() {
    for_each_backend(|app| async move {
        let created = app
            .post(
                "/v1/organizations",
                &app.platform_admin_token(),
                json!({"name": "Café Luna", "currency": "USD", "timezone": "America/New_York"}),
            )
            .await
            .expect(201);
        let body = &created.body;
        let id = body["id"].as_str().expect("id is a string");
        let uuid = uuid::Uuid::parse_str(id).expect("id is a UUID");
        assert_eq!(uuid.get_version_num(), 7, "ids are UUIDv7: {id}");
        assert_eq!(body["name"], "Café Luna");
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["timezone"], "America/New_York");
        assert_eq!(body["anonymity_threshold"], 5);
        assert_eq!(body["escalation_response_target_minutes"], 60);
        assert_eq!(
            body["low_score_thresholds"],
            json!({"csat_at_most": 2, "nps_at_most": 6, "ces_at_least": 5})
        );
        assert_eq!(body["version"], 1);
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert!(is_utc_timestamp(&body["created_at"]), "{}", created.text);
        assert!(is_utc_timestamp(&body["updated_at"]), "{}", created.text);

        // The new organization's owner reads exactly what was created.
        let owner = app.token(Some(id), "owner", "owner-1", None);
        let read = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(read.header("etag"), Some("\"1\""));
        assert_eq!(read.body, created.body);
    })
    .await;
}

#[tokio::test]
async fn invalid_organizations_are_refused_naming_every_bad_field() {
    for_each_backend(|app| async move {
        let admin = app.platform_admin_token();
        let refused = app
            .post(
                "/v1/organizations",
                &admin,
                json!({"name": "", "currency": "EURO", "timezone": "Mars/Olympus"}),
            )
            .await
            .expect_problem(422);
        let mut fields = refused.error_fields();
        fields.sort();
        assert_eq!(fields, ["currency", "name", "timezone"], "{}", refused.text);

        let lower_case = app
            .post(
                "/v1/organizations",
                &admin,
                json!({"name": "Sol", "currency": "eur", "timezone": "Europe/Madrid"}),
            )
            .await
            .expect_problem(422);
        assert_eq!(lower_case.error_fields(), ["currency"]);
    })
    .await;
}

#[tokio::test]
async fn an_organization_without_a_timezone_is_refused_naming_the_missing_field() {
    for_each_backend(|app| async move {
        let missing = app
            .post(
                "/v1/organizations",
                &app.platform_admin_token(),
                json!({"name": "Sol", "currency": "EUR"}),
            )
            .await
            .expect_problem(422);
        assert_eq!(missing.error_fields(), ["timezone"], "{}", missing.text);
    })
    .await;
}

#[tokio::test]
async fn only_a_platform_admin_creates_organizations() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let body = json!({"name": "Rival", "currency": "EUR", "timezone": "Europe/Madrid"});
        let (_, manager) = app.member_token(&org, &owner, "manager").await;
        let (_, staff) = app.member_token(&org, &owner, "staff").await;
        for token in [
            owner,
            manager,
            staff,
            app.integration_token(&org, "hr-sync", EVERY_SCOPE),
        ] {
            app.post("/v1/organizations", &token, body.clone())
                .await
                .expect_problem(403);
        }

        let anonymous = app
            .send(Method::POST, "/v1/organizations", None, Some(body))
            .await
            .expect_problem(401);
        let challenge = anonymous.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("Bearer"),
            "WWW-Authenticate: {challenge:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn only_the_owner_reads_and_changes_the_organization() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let (_, manager) = app.member_token(&org, &owner, "manager").await;
        let (_, staff) = app.member_token(&org, &owner, "staff").await;
        for token in [
            manager,
            staff,
            app.integration_token(&org, "hr-sync", "members:write audit:read"),
            app.platform_admin_token(),
        ] {
            app.get("/v1/organization", &token)
                .await
                .expect_problem(403);
            app.patch("/v1/organization", &token, json!({"name": "Taken over"}))
                .await
                .expect_problem(403);
        }
        let unchanged = organization(&app, &owner).await;
        assert_eq!(unchanged["name"], "Panadería Sol");
        assert_eq!(unchanged["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn the_owner_tunes_each_setting_and_every_change_bumps_the_version() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let original = organization(&app, &owner).await;

        let renamed = patch_org(&app, &owner, json!({"name": "Panadería Sol y Luna"}))
            .await
            .expect(200);
        assert_eq!(renamed.body["name"], "Panadería Sol y Luna");
        assert_eq!(renamed.body["version"], 2);
        assert_eq!(renamed.header("etag"), Some("\"2\""));
        assert_eq!(renamed.body["timezone"], "Europe/Madrid");
        assert_eq!(renamed.body["anonymity_threshold"], 5);

        let moved = patch_org(&app, &owner, json!({"timezone": "Atlantic/Canary"}))
            .await
            .expect(200);
        assert_eq!(moved.body["timezone"], "Atlantic/Canary");
        assert_eq!(moved.body["name"], "Panadería Sol y Luna");
        assert_eq!(moved.body["version"], 3);

        let threshold = patch_org(&app, &owner, json!({"anonymity_threshold": 3}))
            .await
            .expect(200);
        assert_eq!(threshold.body["anonymity_threshold"], 3);
        assert_eq!(threshold.body["version"], 4);

        let slowest = patch_org(
            &app,
            &owner,
            json!({"escalation_response_target_minutes": 10080}),
        )
        .await
        .expect(200);
        assert_eq!(slowest.body["escalation_response_target_minutes"], 10080);
        let fastest = patch_org(
            &app,
            &owner,
            json!({"escalation_response_target_minutes": 1}),
        )
        .await
        .expect(200);
        assert_eq!(fastest.body["escalation_response_target_minutes"], 1);
        assert_eq!(fastest.body["version"], 6);

        let thresholds = json!({"csat_at_most": 3, "nps_at_most": 8, "ces_at_least": 6});
        let tuned = patch_org(&app, &owner, json!({"low_score_thresholds": thresholds}))
            .await
            .expect(200);
        assert_eq!(tuned.body["low_score_thresholds"], thresholds);
        assert_eq!(tuned.body["version"], 7);
        assert_eq!(tuned.header("etag"), Some("\"7\""));

        // Every earlier change survived the later ones, and what was never patchable is intact.
        let read = organization(&app, &owner).await;
        assert_eq!(read, tuned.body);
        assert_eq!(read["name"], "Panadería Sol y Luna");
        assert_eq!(read["timezone"], "Atlantic/Canary");
        assert_eq!(read["anonymity_threshold"], 3);
        assert_eq!(read["escalation_response_target_minutes"], 1);
        assert_eq!(read["id"], original["id"]);
        assert_eq!(read["currency"], "EUR");
        assert_eq!(read["created_at"], original["created_at"]);
        assert!(is_utc_timestamp(&read["updated_at"]), "{read}");
    })
    .await;
}

#[tokio::test]
async fn settings_accept_the_edges_of_their_ranges() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let lowest = json!({"csat_at_most": 1, "nps_at_most": 0, "ces_at_least": 2});
        let low = patch_org(&app, &owner, json!({"low_score_thresholds": lowest}))
            .await
            .expect(200);
        assert_eq!(low.body["low_score_thresholds"], lowest);
        let highest = json!({"csat_at_most": 4, "nps_at_most": 9, "ces_at_least": 7});
        let high = patch_org(&app, &owner, json!({"low_score_thresholds": highest}))
            .await
            .expect(200);
        assert_eq!(high.body["low_score_thresholds"], highest);
    })
    .await;
}

#[tokio::test]
async fn several_invalid_settings_are_reported_together_and_nothing_changes() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let before = organization(&app, &owner).await;

        let refused = patch_org(
            &app,
            &owner,
            json!({
                "name": "",
                "timezone": "Europe/Atlantis",
                "anonymity_threshold": 2,
                "escalation_response_target_minutes": 0,
                "low_score_thresholds": {"csat_at_most": 5, "nps_at_most": 10, "ces_at_least": 1},
            }),
        )
        .await
        .expect_problem(422);
        let mut fields = refused.error_fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "anonymity_threshold",
                "escalation_response_target_minutes",
                "low_score_thresholds.ces_at_least",
                "low_score_thresholds.csat_at_most",
                "low_score_thresholds.nps_at_most",
                "name",
                "timezone",
            ],
            "{}",
            refused.text
        );
        assert!(
            refused.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
            "every error explains itself: {}",
            refused.text
        );

        // A valid setting next to an invalid one is not applied either.
        let mixed = patch_org(
            &app,
            &owner,
            json!({"anonymity_threshold": 10, "escalation_response_target_minutes": 10081}),
        )
        .await
        .expect_problem(422);
        assert_eq!(mixed.error_fields(), ["escalation_response_target_minutes"]);

        assert_eq!(organization(&app, &owner).await, before);
    })
    .await;
}

#[tokio::test]
async fn the_currency_cannot_be_changed_after_creation() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let refused = patch_org(&app, &owner, json!({"currency": "USD"}))
            .await
            .expect_problem(422);
        let read = organization(&app, &owner).await;
        assert_eq!(read["currency"], "EUR");
        assert_eq!(read["version"], 1);

        // Not even alongside a legitimate change.
        patch_org(&app, &owner, json!({"name": "Sol", "currency": "USD"}))
            .await
            .expect_problem(422);
        assert_eq!(organization(&app, &owner).await["name"], "Panadería Sol");

        // The problem names the field the client must drop.
        assert_eq!(refused.error_fields(), ["currency"], "{}", refused.text);
    })
    .await;
}

#[tokio::test]
async fn a_stale_if_match_on_the_organization_is_a_failed_precondition() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        patch_org(&app, &owner, json!({"anonymity_threshold": 7}))
            .await
            .expect(200);

        let nine = || Some(json!({"anonymity_threshold": 9}));
        app.send_if_match(Method::PATCH, "/v1/organization", &owner, "\"1\"", nine())
            .await
            .expect_problem(412);
        assert_eq!(organization(&app, &owner).await["anonymity_threshold"], 7);

        let applied = app
            .send_if_match(Method::PATCH, "/v1/organization", &owner, "\"2\"", nine())
            .await
            .expect(200);
        assert_eq!(applied.body["anonymity_threshold"], 9);
        assert_eq!(applied.header("etag"), Some("\"3\""));
    })
    .await;
}

#[tokio::test]
async fn a_token_for_an_organization_that_does_not_exist_finds_nothing() {
    for_each_backend(|app| async move {
        // Another organization exists, so the 404 is about this token's organization only.
        app.create_org().await;
        let missing = uuid::Uuid::now_v7().to_string();
        let owner = app.token(Some(&missing), "owner", "owner-1", None);
        app.get("/v1/organization", &owner)
            .await
            .expect_problem(404);
        patch_org(&app, &owner, json!({"name": "Ghost"}))
            .await
            .expect_problem(404);
    })
    .await;
}

#[tokio::test]
async fn each_organization_keeps_its_own_settings() {
    for_each_backend(|app| async move {
        let (first, first_owner) = app.create_org().await;
        let (second, second_owner) = app.create_org().await;
        assert_ne!(first, second);
        patch_org(
            &app,
            &first_owner,
            json!({"anonymity_threshold": 12, "name": "Sol Centro"}),
        )
        .await
        .expect(200);
        let untouched = organization(&app, &second_owner).await;
        assert_eq!(untouched["id"], second.as_str());
        assert_eq!(untouched["anonymity_threshold"], 5);
        assert_eq!(untouched["name"], "Panadería Sol");
        assert_eq!(untouched["version"], 1);
        assert_eq!(organization(&app, &first_owner).await["id"], first.as_str());
    })
    .await;
}
