//! ETags and `If-Match` on teams, members and the organization: every write returns the new
//! version's strong ETag; a stale, weak or foreign one is 412 and changes nothing; `*` matches any;
//! a list matches when one of its tags does; a value that is no entity tag at all is 400, and a
//! precondition is only evaluated on an otherwise valid request.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Response, TestApp, for_each_backend};

/// `PATCH path` with `body` and `If-Match: etag`.
async fn patch_if_match(
    app: &TestApp,
    path: &str,
    token: &str,
    etag: &str,
    body: Value,
) -> Response {
    app.send_if_match(Method::PATCH, path, token, etag, Some(body))
        .await
}

/// `DELETE path` with `If-Match: etag`.
async fn delete_if_match(app: &TestApp, path: &str, token: &str, etag: &str) -> Response {
    app.send_if_match(Method::DELETE, path, token, etag, None)
        .await
}

#[tokio::test]
async fn a_team_patch_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let path = format!("/v1/teams/{}", app.create_team(&owner, "Bar").await);
        let fetched = app.get(&path, &owner).await.expect(200);
        assert_eq!(fetched.header("etag"), Some("\"1\""));

        let renamed = patch_if_match(&app, &path, &owner, "\"1\"", json!({"name": "Terrace"}))
            .await
            .expect(200);
        assert_eq!(renamed.header("etag"), Some("\"2\""));
        assert_eq!(renamed.body["version"], 2);

        let stale = patch_if_match(&app, &path, &owner, "\"1\"", json!({"name": "Patio"}))
            .await
            .expect_problem(412);
        assert!(stale.body["detail"].is_string(), "{}", stale.text);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["name"], "Terrace");
        assert_eq!(unchanged.body["version"], 2);
        assert_eq!(unchanged.header("etag"), Some("\"2\""));

        let any = patch_if_match(&app, &path, &owner, "*", json!({"name": "Patio"}))
            .await
            .expect(200);
        assert_eq!(any.body["name"], "Patio");
        assert_eq!(any.header("etag"), Some("\"3\""));

        for weak_or_foreign in ["W/\"3\"", "\"abc\"", "\"1\", \"2\""] {
            patch_if_match(
                &app,
                &path,
                &owner,
                weak_or_foreign,
                json!({"name": "Garden"}),
            )
            .await
            .expect_problem(412);
        }
        for malformed in ["3", "\"3", "W/3", "\"3\" \"4\""] {
            patch_if_match(&app, &path, &owner, malformed, json!({"name": "Garden"}))
                .await
                .expect_problem(400);
        }
        // A body that is invalid is refused as such, whatever the precondition would say.
        patch_if_match(&app, &path, &owner, "\"1\"", json!({"name": ""}))
            .await
            .expect_problem(422);
        patch_if_match(&app, &path, &owner, "\"1\"", json!({"colour": "red"}))
            .await
            .expect_problem(422);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["name"], "Patio");
        assert_eq!(unchanged.body["version"], 3);

        let listed = patch_if_match(
            &app,
            &path,
            &owner,
            "\"1\", W/\"3\", \"3\"",
            json!({"name": "Garden"}),
        )
        .await
        .expect(200);
        assert_eq!(listed.header("etag"), Some("\"4\""));
    })
    .await;
}

#[tokio::test]
async fn a_team_delete_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let path = format!("/v1/teams/{}", app.create_team(&owner, "Bar").await);
        app.patch(&path, &owner, json!({"name": "Terrace"}))
            .await
            .expect(200);

        delete_if_match(&app, &path, &owner, "\"1\"")
            .await
            .expect_problem(412);
        delete_if_match(&app, &path, &owner, "W/\"2\"")
            .await
            .expect_problem(412);
        assert_eq!(app.get(&path, &owner).await.expect(200).body["version"], 2);

        delete_if_match(&app, &path, &owner, "\"2\"")
            .await
            .expect(204);
        app.get(&path, &owner).await.expect_problem(404);

        let other_path = format!("/v1/teams/{}", app.create_team(&owner, "Kitchen").await);
        delete_if_match(&app, &other_path, &owner, "*")
            .await
            .expect(204);
        app.get(&other_path, &owner).await.expect_problem(404);
    })
    .await;
}

#[tokio::test]
async fn a_member_patch_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        assert_eq!(member.header("etag"), Some("\"1\""));
        let path = format!("/v1/members/{}", member.id());
        assert_eq!(
            app.get(&path, &owner).await.expect(200).header("etag"),
            Some("\"1\"")
        );

        let renamed = patch_if_match(
            &app,
            &path,
            &owner,
            "\"1\"",
            json!({"display_name": "Ana B."}),
        )
        .await
        .expect(200);
        assert_eq!(renamed.header("etag"), Some("\"2\""));

        patch_if_match(&app, &path, &owner, "\"1\"", json!({"active": false}))
            .await
            .expect_problem(412);
        patch_if_match(&app, &path, &owner, "W/\"2\"", json!({"active": false}))
            .await
            .expect_problem(412);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["display_name"], "Ana B.");
        assert_eq!(unchanged.body["active"], true);
        assert_eq!(unchanged.body["version"], 2);

        let any = patch_if_match(&app, &path, &owner, "*", json!({"active": false}))
            .await
            .expect(200);
        assert_eq!(any.body["active"], false);
        assert_eq!(any.header("etag"), Some("\"3\""));
    })
    .await;
}

#[tokio::test]
async fn an_organization_patch_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(org.header("etag"), Some("\"1\""));
        assert_eq!(org.body["version"], 1);

        let tuned = patch_if_match(
            &app,
            "/v1/organization",
            &owner,
            "\"1\"",
            json!({"anonymity_threshold": 7}),
        )
        .await
        .expect(200);
        assert_eq!(tuned.header("etag"), Some("\"2\""));
        assert_eq!(tuned.body["anonymity_threshold"], 7);

        patch_if_match(
            &app,
            "/v1/organization",
            &owner,
            "\"1\"",
            json!({"anonymity_threshold": 9}),
        )
        .await
        .expect_problem(412);
        patch_if_match(
            &app,
            "/v1/organization",
            &owner,
            "W/\"2\"",
            json!({"anonymity_threshold": 9}),
        )
        .await
        .expect_problem(412);
        let unchanged = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(unchanged.body, tuned.body);
        assert_eq!(unchanged.header("etag"), Some("\"2\""));

        let any = patch_if_match(
            &app,
            "/v1/organization",
            &owner,
            "*",
            json!({"anonymity_threshold": 9}),
        )
        .await
        .expect(200);
        assert_eq!(any.body["anonymity_threshold"], 9);
        assert_eq!(any.header("etag"), Some("\"3\""));
    })
    .await;
}
