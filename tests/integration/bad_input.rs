//! Bad input: malformed JSON, oversized bodies, wrong content types, bad query parameters and path
//! ids each get a clear 4xx problem (never a 500) and change nothing; hostile-looking and non-ASCII
//! text is stored verbatim. Bad field values are in `bad_fields`.

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

/// Sends `body` as is, labelled `application/json`.
async fn raw_json(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: impl Into<reqwest::Body>,
) -> Response {
    send_raw(app, method, path, token, Some("application/json"), body).await
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
            let refused = raw_json(&app, Method::POST, "/v1/teams", &owner, body).await;
            assert_eq!(
                refused.status, 400,
                "body {body:?} answered {}",
                refused.text
            );
            refused.expect_problem(400);
        }
        let patch = raw_json(&app, Method::PATCH, "/v1/organization", &owner, "{").await;
        patch.expect_problem(400);
        assert_eq!(
            app.list_items("/v1/teams", &owner).await,
            Vec::<Value>::new()
        );
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
            let refused = raw_json(&app, Method::POST, "/v1/teams", &owner, body).await;
            assert_eq!(
                refused.status, 400,
                "body {body:?} answered {}",
                refused.text
            );
            refused.expect_problem(400);
        }
        assert_eq!(
            app.list_items("/v1/teams", &owner).await,
            Vec::<Value>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413_and_creates_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let oversized = json!({"name": "x".repeat(1024 * 1024 + 16)}).to_string();
        assert!(oversized.len() > 1024 * 1024);
        let refused = raw_json(&app, Method::POST, "/v1/teams", &owner, oversized).await;
        let refused = refused.expect_problem(413);
        assert_eq!(refused.body["title"], "Payload Too Large");

        // Just under the limit the body is read, and the name is refused for its length instead.
        let large = json!({"name": "x".repeat(1000 * 1024)}).to_string();
        assert!(large.len() < 1024 * 1024);
        let refused = raw_json(&app, Method::POST, "/v1/teams", &owner, large).await;
        assert_eq!(refused.expect_problem(422).error_fields(), ["name"]);

        assert_eq!(
            app.list_items("/v1/teams", &owner).await,
            Vec::<Value>::new()
        );
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
        assert_eq!(
            app.list_items("/v1/teams", &owner).await,
            Vec::<Value>::new()
        );
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
        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn unknown_or_malformed_query_parameters_are_refused() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        app.create_team(&owner, "Bar").await;
        // Each refusal names the parameter that does not parse or is not taken.
        for (path, parameter) in [
            ("/v1/teams?bogus=1", "bogus"),
            ("/v1/teams?limit=abc", "limit"),
            ("/v1/teams?limit=-1", "limit"),
            ("/v1/teams?limit=1.5", "limit"),
            ("/v1/teams?limit=99999999999999999999", "limit"),
            ("/v1/members?active=maybe", "active"),
            ("/v1/members?team_id=not-a-uuid", "team_id"),
            ("/v1/members?sort=name", "sort"),
            ("/v1/satisfaction-scores?instrument=stars", "instrument"),
            ("/v1/reports/satisfaction?interval=hour", "interval"),
            ("/v1/teams?limit=1&limit=2", "limit"),
        ] {
            let refused = app.get(path, &owner).await;
            assert_eq!(refused.status, 400, "{path} answered {}", refused.text);
            assert_eq!(
                refused.expect_problem(400).error_fields(),
                [parameter],
                "{path}"
            );
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
        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        app.create_team(&owner, "Bar").await;
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
        let teams = app.list_items("/v1/teams", &owner).await;
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
            let id = created.id();
            let fetched = app
                .get(&format!("/v1/teams/{id}"), &owner)
                .await
                .expect(200);
            assert_eq!(fetched.body["name"], name);
            team_ids.push(id);
        }
        let listed: Vec<Value> = app
            .list_items("/v1/teams", &owner)
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
        let path = format!("/v1/members/{}", member.id());
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
        let in_team = app
            .list_items(&format!("/v1/members?team_id={}", team_ids[1]), &owner)
            .await;
        assert_eq!(in_team.len(), 1);
        assert_eq!(in_team[0]["strengths"], json!(strengths));
        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), names.len());
    })
    .await;
}
