//! Bad input: malformed JSON, wrong types, unknown and missing fields, out-of-range values,
//! oversized bodies, wrong content types, bad query parameters and path ids each get a clear 4xx
//! problem (never a 500) and change nothing; hostile-looking and non-ASCII text is stored verbatim.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Response, TestApp, for_each_backend};

/// Sends `body` as is, with `content_type` when given.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    app.execute(request.body(body)).await
}

/// The items of a list endpoint.
async fn items(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    app.get(path, token).await.expect(200).body["items"]
        .as_array()
        .expect("items")
        .clone()
}

#[tokio::test]
async fn malformed_json_bodies_are_bad_requests_and_create_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bodies = [
            r#"{"name": "#,          // truncated
            r#"{"name": "Bar",}"#,   // trailing comma
            r#"{name: "Bar"}"#,      // unquoted key
            r#"{"name": "Bar"} {}"#, // trailing garbage
            r#"{"name": "Bar"}xyz"#, // trailing garbage
            "not json at all",
            "",
            "   \n",
        ];
        for body in bodies {
            let refused = send_raw(
                &app,
                Method::POST,
                "/v1/teams",
                &owner,
                Some("application/json"),
                body,
            )
            .await;
            assert_eq!(
                refused.status, 400,
                "body {body:?} answered {}",
                refused.text
            );
            refused.expect_problem(400);
        }
        let patch = send_raw(
            &app,
            Method::PATCH,
            "/v1/organization",
            &owner,
            Some("application/json"),
            "{",
        )
        .await;
        patch.expect_problem(400);
        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
        assert_eq!(
            app.get("/v1/organization", &owner).await.expect(200).body["version"],
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_truncated_body_is_malformed_even_when_its_first_value_is_bad() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        // Cut off mid-document: the client must learn the JSON is broken, not that a field is.
        for body in [r#"{"name": 42"#, r#"{"extra": 1"#, r#"[1,"#] {
            let refused = send_raw(
                &app,
                Method::POST,
                "/v1/teams",
                &owner,
                Some("application/json"),
                body,
            )
            .await;
            assert_eq!(
                refused.status, 400,
                "body {body:?} answered {}",
                refused.text
            );
            refused.expect_problem(400);
        }
        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
    })
    .await;
}

#[tokio::test]
async fn values_of_the_wrong_type_are_unprocessable_and_name_the_field() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org_before = app.get("/v1/organization", &owner).await.expect(200).body;

        let refused = app.post("/v1/teams", &owner, json!({"name": 42})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["name"]);
        assert!(refused.body["errors"][0]["message"].is_string(), "{}", refused.text);

        let refused = app
            .post("/v1/teams", &owner, json!({"name": "Bar", "lead_member_id": "not-a-uuid"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["lead_member_id"]);

        let refused = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "staff", "strengths": "smiling"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["strengths"]);

        let refused = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "staff", "active": "yes"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["active"]);

        let refused = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "chef"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["role"]);

        let refused = app
            .patch("/v1/organization", &owner, json!({"anonymity_threshold": "7"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["anonymity_threshold"]);

        let refused = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": "six", "ces_at_least": 5}}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["low_score_thresholds.nps_at_most"]);

        // A well-formed document that is not an object is a bad value, not a syntax error.
        for body in [json!([]), json!("Bar"), json!(null), json!(7)] {
            let refused = app.post("/v1/teams", &owner, body.clone()).await;
            assert_eq!(refused.status, 422, "body {body} answered {}", refused.text);
            refused.expect_problem(422);
        }

        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
        assert_eq!(items(&app, "/v1/members", &owner).await, Vec::<Value>::new());
        assert_eq!(app.get("/v1/organization", &owner).await.expect(200).body, org_before);
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_are_unprocessable_and_name_themselves() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org_before = app.get("/v1/organization", &owner).await.expect(200).body;

        let refused = app.post("/v1/teams", &owner, json!({"name": "Bar", "extra": 1})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["extra"]);

        let refused = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "staff", "is_admin": true}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["is_admin"]);

        let refused = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": 6, "ces_at_least": 5, "extra": 1}}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["low_score_thresholds.extra"]);

        // A field the server sets itself is not something a client may send.
        let refused = app.patch("/v1/organization", &owner, json!({"version": 9})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["version"]);

        let team = app.post("/v1/teams", &owner, json!({"name": "Bar"})).await.expect(201);
        let path = format!("/v1/teams/{}", team.body["id"].as_str().unwrap());
        let refused = app.patch(&path, &owner, json!({"name": "Terrace", "colour": "red"})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["colour"]);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["name"], "Bar");
        assert_eq!(unchanged.body["version"], 1);

        assert_eq!(items(&app, "/v1/teams", &owner).await.len(), 1);
        assert_eq!(items(&app, "/v1/members", &owner).await, Vec::<Value>::new());
        assert_eq!(app.get("/v1/organization", &owner).await.expect(200).body, org_before);
    })
    .await;
}

#[tokio::test]
async fn missing_required_fields_are_unprocessable_and_name_the_field() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org_before = app.get("/v1/organization", &owner).await.expect(200).body;

        let refused = app
            .post("/v1/teams", &owner, json!({}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["name"]);

        let refused = app
            .post("/v1/members", &owner, json!({"role": "staff"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["display_name"]);

        let refused = app
            .post("/v1/members", &owner, json!({"display_name": "Ana"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["role"]);

        let refused = app
            .patch(
                "/v1/organization",
                &owner,
                json!({"low_score_thresholds": {"csat_at_most": 2, "nps_at_most": 6}}),
            )
            .await
            .expect_problem(422);
        assert_eq!(
            refused.error_fields(),
            ["low_score_thresholds.ces_at_least"]
        );

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

        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
        assert_eq!(
            items(&app, "/v1/members", &owner).await,
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

        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
        assert_eq!(
            items(&app, "/v1/members", &owner).await,
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
        let path = format!("/v1/members/{}", member.body["id"].as_str().unwrap());
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

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413_and_creates_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let oversized = json!({"name": "x".repeat(1024 * 1024 + 16)}).to_string();
        assert!(oversized.len() > 1024 * 1024);
        let refused = send_raw(
            &app,
            Method::POST,
            "/v1/teams",
            &owner,
            Some("application/json"),
            oversized,
        )
        .await;
        let refused = refused.expect_problem(413);
        assert_eq!(refused.body["title"], "Payload Too Large");

        // Just under the limit the body is read, and the name is refused for its length instead.
        let large = json!({"name": "x".repeat(1000 * 1024)}).to_string();
        assert!(large.len() < 1024 * 1024);
        let refused = send_raw(
            &app,
            Method::POST,
            "/v1/teams",
            &owner,
            Some("application/json"),
            large,
        )
        .await;
        assert_eq!(refused.expect_problem(422).error_fields(), ["name"]);

        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
    })
    .await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_refused_with_415() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let body = r#"{"name": "Bar"}"#;
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/xml"),
        ] {
            let refused =
                send_raw(&app, Method::POST, "/v1/teams", &owner, content_type, body).await;
            assert_eq!(
                refused.status, 415,
                "content type {content_type:?} answered {}",
                refused.text
            );
            refused.expect_problem(415);
        }
        send_raw(
            &app,
            Method::PATCH,
            "/v1/organization",
            &owner,
            Some("text/plain"),
            r#"{"anonymity_threshold": 7}"#,
        )
        .await
        .expect_problem(415);
        assert_eq!(items(&app, "/v1/teams", &owner).await, Vec::<Value>::new());
        assert_eq!(
            app.get("/v1/organization", &owner).await.expect(200).body["anonymity_threshold"],
            5
        );

        // JSON with parameters is JSON.
        send_raw(
            &app,
            Method::POST,
            "/v1/teams",
            &owner,
            Some("application/json; charset=utf-8"),
            body,
        )
        .await
        .expect(201);
        assert_eq!(items(&app, "/v1/teams", &owner).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn unknown_or_malformed_query_parameters_are_refused() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        app.post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        for path in [
            "/v1/teams?bogus=1",
            "/v1/teams?limit=abc",
            "/v1/teams?limit=-1",
            "/v1/teams?limit=1.5",
            "/v1/members?active=maybe",
            "/v1/members?team_id=not-a-uuid",
            "/v1/members?sort=name",
        ] {
            let refused = app.get(path, &owner).await;
            assert_eq!(refused.status, 400, "{path} answered {}", refused.text);
            refused.expect_problem(400);
        }
        for (path, field) in [
            ("/v1/teams?limit=0", "limit"),
            ("/v1/teams?limit=201", "limit"),
            ("/v1/members?limit=0", "limit"),
            ("/v1/teams?cursor=not-a-cursor", "cursor"),
            ("/v1/teams?cursor=", "cursor"),
            (
                "/v1/members?cursor=%27%3B%20DROP%20TABLE%20teams%3B--",
                "cursor",
            ),
        ] {
            let refused = app.get(path, &owner).await;
            assert_eq!(refused.status, 422, "{path} answered {}", refused.text);
            assert_eq!(
                refused.expect_problem(422).error_fields(),
                [field],
                "{path}"
            );
        }
        assert_eq!(items(&app, "/v1/teams", &owner).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        app.post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        for path in [
            "/v1/teams/not-a-uuid",
            "/v1/teams/123",
            "/v1/members/not-a-uuid",
            "/v1/members/%27%20OR%201%3D1",
        ] {
            app.get(path, &owner).await.expect_problem(404);
            app.patch(path, &owner, json!({"name": "Mine"}))
                .await
                .expect_problem(404);
        }
        app.delete("/v1/teams/not-a-uuid", &owner)
            .await
            .expect_problem(404);
        let teams = items(&app, "/v1/teams", &owner).await;
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0]["name"], "Bar");
        assert_eq!(teams[0]["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn sql_looking_and_non_ascii_text_is_stored_and_returned_verbatim() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let names = [
            "Robert'); DROP TABLE members;--",
            "Zoë 東京 🎉",
            "فريق الاستقبال",
            "\"quoted\" \\ back\\slash % _ wildcard",
        ];
        let mut team_ids = Vec::new();
        for name in names {
            let created = app
                .post("/v1/teams", &owner, json!({"name": name}))
                .await
                .expect(201);
            assert_eq!(created.body["name"], name);
            let id = created.body["id"].as_str().unwrap().to_owned();
            let fetched = app
                .get(&format!("/v1/teams/{id}"), &owner)
                .await
                .expect(200);
            assert_eq!(fetched.body["name"], name);
            team_ids.push(id);
        }
        let listed: Vec<Value> = items(&app, "/v1/teams", &owner)
            .await
            .iter()
            .map(|t| t["name"].clone())
            .collect();
        assert_eq!(listed, names.map(Value::from));

        let strengths = [
            "Robert'); DROP TABLE teams;--",
            "Zoë 東京 🎉",
            "خدمة العملاء",
        ];
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Robert'); DROP TABLE members;--", "role": "staff",
                       "strengths": strengths, "team_id": team_ids[1]}),
            )
            .await
            .expect(201);
        let path = format!("/v1/members/{}", member.body["id"].as_str().unwrap());
        let fetched = app.get(&path, &owner).await.expect(200);
        assert_eq!(
            fetched.body["display_name"],
            "Robert'); DROP TABLE members;--"
        );
        assert_eq!(fetched.body["strengths"], json!(strengths));

        let renamed = app
            .patch(&path, &owner, json!({"display_name": "محمد Zoë 🎉"}))
            .await
            .expect(200);
        assert_eq!(renamed.body["display_name"], "محمد Zoë 🎉");
        assert_eq!(
            app.get(&path, &owner).await.expect(200).body["display_name"],
            "محمد Zoë 🎉"
        );

        // The tables the strings name are still there and still filter correctly.
        let in_team = items(
            &app,
            &format!("/v1/members?team_id={}", team_ids[1]),
            &owner,
        )
        .await;
        assert_eq!(in_team.len(), 1);
        assert_eq!(in_team[0]["strengths"], json!(strengths));
        assert_eq!(items(&app, "/v1/teams", &owner).await.len(), names.len());
    })
    .await;
}
