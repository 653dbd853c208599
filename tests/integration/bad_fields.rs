//! Bad field values: wrong types, unknown and missing fields, out-of-range settings, names and
//! strengths, unknown currencies and time zones are each a 422 problem naming every bad field, and
//! change nothing; the limits themselves are accepted.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::for_each_backend;

const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;

#[tokio::test]
async fn values_of_the_wrong_type_are_unprocessable_and_name_the_field() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org_before = app.get("/v1/organization", &owner).await.expect(200).body;

        let refused = app.post("/v1/teams", &owner, json!({"name": 42})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["name"]);
        assert!(refused.body["errors"][0]["message"].is_string(), "{}", refused.text);

        let cases = [
            (POST, "/v1/teams", json!({"name": "Bar", "lead_member_id": "not-a-uuid"}), "lead_member_id"),
            (POST, "/v1/members", json!({"display_name": "Ana", "role": "staff", "strengths": "smiling"}), "strengths"),
            (POST, "/v1/members", json!({"display_name": "Ana", "role": "staff", "active": "yes"}), "active"),
            (POST, "/v1/members", json!({"display_name": "Ana", "role": "chef"}), "role"),
            (PATCH, "/v1/organization", json!({"anonymity_threshold": "7"}), "anonymity_threshold"),
            (
                PATCH,
                "/v1/organization",
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": "six", "ces_at_least": 5}}),
                "low_score_thresholds.nps_at_most",
            ),
        ];
        for (method, path, body, field) in cases {
            let refused = app.send(method, path, Some(&owner), Some(body)).await.expect_problem(422);
            assert_eq!(refused.error_fields(), [field], "{path}: {}", refused.text);
        }

        // A well-formed document that is not an object is a bad value, not a syntax error.
        for body in [json!([]), json!("Bar"), json!(null), json!(7)] {
            let refused = app.post("/v1/teams", &owner, body.clone()).await;
            assert_eq!(refused.status, 422, "body {body} answered {}", refused.text);
            refused.expect_problem(422);
        }

        assert_eq!(app.list_items("/v1/teams", &owner).await, Vec::<Value>::new());
        assert_eq!(app.list_items("/v1/members", &owner).await, Vec::<Value>::new());
        assert_eq!(app.get("/v1/organization", &owner).await.expect(200).body, org_before);
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_are_unprocessable_and_name_themselves() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org_before = app.get("/v1/organization", &owner).await.expect(200).body;

        let cases = [
            (POST, "/v1/teams", json!({"name": "Bar", "extra": 1}), "extra"),
            (POST, "/v1/members", json!({"display_name": "Ana", "role": "staff", "is_admin": true}), "is_admin"),
            (
                PATCH,
                "/v1/organization",
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": 6, "ces_at_least": 5, "extra": 1}}),
                "low_score_thresholds.extra",
            ),
            // A field the server sets itself is not something a client may send.
            (PATCH, "/v1/organization", json!({"version": 9}), "version"),
        ];
        for (method, path, body, field) in cases {
            let refused = app.send(method, path, Some(&owner), Some(body)).await.expect_problem(422);
            assert_eq!(refused.error_fields(), [field], "{path}: {}", refused.text);
        }

        let path = format!("/v1/teams/{}", app.create_team(&owner, "Bar").await);
        let refused = app.patch(&path, &owner, json!({"name": "Terrace", "colour": "red"})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["colour"]);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["name"], "Bar");
        assert_eq!(unchanged.body["version"], 1);

        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), 1);
        assert_eq!(app.list_items("/v1/members", &owner).await, Vec::<Value>::new());
        assert_eq!(app.get("/v1/organization", &owner).await.expect(200).body, org_before);
    })
    .await;
}

#[tokio::test]
async fn missing_required_fields_are_unprocessable_and_name_the_field() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org_before = app.get("/v1/organization", &owner).await.expect(200).body;

        let cases = [
            (POST, "/v1/teams", json!({}), "name"),
            (
                POST,
                "/v1/members",
                json!({"role": "staff"}),
                "display_name",
            ),
            (POST, "/v1/members", json!({"display_name": "Ana"}), "role"),
            (
                PATCH,
                "/v1/organization",
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": 6}}),
                "low_score_thresholds.ces_at_least",
            ),
        ];
        for (method, path, body, field) in cases {
            let refused = app
                .send(method, path, Some(&owner), Some(body))
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), [field], "{path}: {}", refused.text);
        }

        let admin = app.platform_admin_token();
        let refused = app
            .post(
                "/v1/organizations",
                &admin,
                json!({"name": "Café Luna", "currency": "EUR"}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["timezone"]);

        assert_eq!(
            app.list_items("/v1/teams", &owner).await,
            Vec::<Value>::new()
        );
        assert_eq!(
            app.list_items("/v1/members", &owner).await,
            Vec::<Value>::new()
        );
        assert_eq!(
            app.get("/v1/organization", &owner).await.expect(200).body,
            org_before
        );
    })
    .await;
}

#[tokio::test]
async fn out_of_range_organization_settings_are_refused_and_change_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let before = app.get("/v1/organization", &owner).await.expect(200).body;
        let cases = [
            (json!({"anonymity_threshold": 2}), vec!["anonymity_threshold"]),
            (json!({"anonymity_threshold": -1}), vec!["anonymity_threshold"]),
            (json!({"anonymity_threshold": 9_999_999_999_i64}), vec!["anonymity_threshold"]),
            (json!({"escalation_response_target_minutes": 0}), vec!["escalation_response_target_minutes"]),
            (
                json!({"low_score_thresholds": {"csat_at_most": 5, "nps_at_most": 6, "ces_at_least": 5}}),
                vec!["low_score_thresholds.csat_at_most"],
            ),
            (
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": 10, "ces_at_least": 1}}),
                vec!["low_score_thresholds.nps_at_most", "low_score_thresholds.ces_at_least"],
            ),
            (json!({"timezone": "Mars/Base"}), vec!["timezone"]),
            (json!({"name": ""}), vec!["name"]),
            // One bad field sinks the whole change, even beside a good one.
            (json!({"name": "Renamed", "anonymity_threshold": 2}), vec!["anonymity_threshold"]),
        ];
        for (body, fields) in cases {
            let refused = app.patch("/v1/organization", &owner, body.clone()).await;
            assert_eq!(refused.status, 422, "body {body} answered {}", refused.text);
            let refused = refused.expect_problem(422);
            assert_eq!(refused.error_fields(), fields, "body {body}");
        }
        assert_eq!(app.get("/v1/organization", &owner).await.expect(200).body, before);

        // The boundaries themselves are accepted.
        let accepted = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"anonymity_threshold": 3, "escalation_response_target_minutes": 1,
                       "low_score_thresholds": {"csat_at_most": 4, "nps_at_most": 0, "ces_at_least": 7}}),
            )
            .await
            .expect(200);
        assert_eq!(accepted.body["anonymity_threshold"], 3);
        assert_eq!(accepted.body["escalation_response_target_minutes"], 1);
        assert_eq!(accepted.body["low_score_thresholds"], json!({"csat_at_most": 4, "nps_at_most": 0, "ces_at_least": 7}));
    })
    .await;
}

#[tokio::test]
async fn out_of_range_team_and_member_values_are_refused_and_create_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        for name in [
            "x".repeat(101),
            String::new(),
            "   ".to_owned(),
            "Bar\u{0}".to_owned(),
            "Bar\nTerrace".to_owned(),
        ] {
            let refused = app.post("/v1/teams", &owner, json!({"name": name})).await;
            assert_eq!(
                refused.status, 422,
                "name {name:?} answered {}",
                refused.text
            );
            assert_eq!(
                refused.expect_problem(422).error_fields(),
                ["name"],
                "name {name:?}"
            );
        }
        let too_many: Vec<String> = (0..21).map(|i| format!("strength {i}")).collect();
        let cases = [
            (json!({"display_name": "", "role": "staff"}), "display_name"),
            (
                json!({"display_name": "Ana\u{0}", "role": "staff"}),
                "display_name",
            ),
            (
                json!({"display_name": "Ana\nBel", "role": "staff"}),
                "display_name",
            ),
            (
                json!({"display_name": "x".repeat(201), "role": "staff"}),
                "display_name",
            ),
            (
                json!({"display_name": "Ana", "role": "staff", "email": "nope"}),
                "email",
            ),
            (
                json!({"display_name": "Ana", "role": "staff", "strengths": too_many}),
                "strengths",
            ),
        ];
        for (body, field) in cases {
            let refused = app.post("/v1/members", &owner, body.clone()).await;
            assert_eq!(refused.status, 422, "body {body} answered {}", refused.text);
            assert_eq!(
                refused.expect_problem(422).error_fields(),
                [field],
                "body {body}"
            );
        }
        // Every bad field is named at once.
        let refused = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "", "role": "staff", "email": "nope"}),
            )
            .await
            .expect_problem(422);
        let mut fields = refused.error_fields();
        fields.sort();
        assert_eq!(fields, ["display_name", "email"]);

        assert_eq!(
            app.list_items("/v1/teams", &owner).await,
            Vec::<Value>::new()
        );
        assert_eq!(
            app.list_items("/v1/members", &owner).await,
            Vec::<Value>::new()
        );

        // The limits themselves are accepted: a 100-character team name, 20 strengths.
        let long_name = "é".repeat(100);
        let team = app
            .post("/v1/teams", &owner, json!({"name": long_name}))
            .await
            .expect(201);
        assert_eq!(team.body["name"], long_name);
        let twenty: Vec<String> = (0..20).map(|i| format!("strength {i}")).collect();
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "strengths": twenty}),
            )
            .await
            .expect(201);
        assert_eq!(member.body["strengths"], json!(twenty));

        // A refused change leaves the member as it was.
        let path = format!("/v1/members/{}", member.id());
        let refused = app
            .patch(&path, &owner, json!({"email": "nope"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["email"]);
        assert_eq!(app.get(&path, &owner).await.expect(200).body, member.body);
    })
    .await;
}

#[tokio::test]
async fn organizations_need_a_known_currency_and_time_zone() {
    for_each_backend(|app| async move {
        let admin = app.platform_admin_token();
        let cases = [
            (
                json!({"name": "Café Luna", "currency": "EURO", "timezone": "Europe/Madrid"}),
                "currency",
            ),
            (
                json!({"name": "Café Luna", "currency": "XYZ", "timezone": "Europe/Madrid"}),
                "currency",
            ),
            (
                json!({"name": "Café Luna", "currency": "EUR", "timezone": "Mars/Base"}),
                "timezone",
            ),
            (
                json!({"name": "", "currency": "EUR", "timezone": "Europe/Madrid"}),
                "name",
            ),
        ];
        for (body, field) in cases {
            let refused = app.post("/v1/organizations", &admin, body.clone()).await;
            assert_eq!(refused.status, 422, "body {body} answered {}", refused.text);
            assert_eq!(
                refused.expect_problem(422).error_fields(),
                [field],
                "body {body}"
            );
        }
        app.post(
            "/v1/organizations",
            &admin,
            json!({"name": "Café Luna", "currency": "EUR", "timezone": "Europe/Madrid"}),
        )
        .await
        .expect(201);
    })
    .await;
}
