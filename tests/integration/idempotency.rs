//! `Idempotency-Key` on creating POSTs: replay, mismatch, in-flight, scoping and release on failure.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use circulo_api::middleware::idempotency::fingerprint;
use circulo_persistence::{Db, PoolOptions, Reservation};

use crate::support::{Response, TestApp, for_each_backend};

/// `POST path` with `body` and `Idempotency-Key: key`.
async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Response {
    app.send_with_headers(
        Method::POST,
        path,
        Some(token),
        &[("idempotency-key", key)],
        Some(body.clone()),
    )
    .await
}

async fn team_count(app: &TestApp, token: &str) -> usize {
    app.list_items("/v1/teams", token).await.len()
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_replays_the_first_response() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let body = json!({"name": "Front desk"});
        let first = post_with_key(&app, "/v1/teams", &owner, "key-1", &body)
            .await
            .expect(201);
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = post_with_key(&app, "/v1/teams", &owner, "key-1", &body)
            .await
            .expect(201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("etag"), first.header("etag"));
        assert_eq!(again.header("content-type"), Some("application/json"));
        assert_eq!(team_count(&app, &owner).await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_unprocessable_and_creates_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        post_with_key(&app, "/v1/teams", &owner, "key-1", &json!({"name": "Bar"}))
            .await
            .expect(201);
        post_with_key(
            &app,
            "/v1/teams",
            &owner,
            "key-1",
            &json!({"name": "Kitchen"}),
        )
        .await
        .expect_problem(422);
        post_with_key(
            &app,
            "/v1/members",
            &owner,
            "key-1",
            &json!({"name": "Bar"}),
        )
        .await
        .expect_problem(422);
        assert_eq!(team_count(&app, &owner).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_a_conflict() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let body = json!({"name": "Bar"});
        // Reserve the key exactly as a first request that is still running would have.
        let db = Db::open(&app.config.database_url, PoolOptions::default()).unwrap();
        let print = fingerprint("POST", "/v1/teams", body.to_string().as_bytes());
        assert_eq!(
            db.idempotency_keys().reserve(&org, "busy", &print).unwrap(),
            Reservation::Acquired
        );

        post_with_key(&app, "/v1/teams", &owner, "busy", &body)
            .await
            .expect_problem(409);
        assert_eq!(team_count(&app, &owner).await, 0);
    })
    .await;
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_resource() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let body = json!({"name": "Bar"});
        let responses =
            join_all((0..8).map(|_| post_with_key(&app, "/v1/teams", &owner, "race", &body))).await;
        let created: Vec<&Response> = responses.iter().filter(|r| r.status == 201).collect();
        assert!(!created.is_empty());
        assert!(
            responses.iter().all(|r| r.status == 201 || r.status == 409),
            "{responses:?}"
        );
        assert!(created.iter().all(|r| r.body == created[0].body));
        assert_eq!(team_count(&app, &owner).await, 1);
    })
    .await;
}

#[tokio::test]
async fn keys_are_scoped_to_the_organization() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other) = app.create_org().await;
        let body = json!({"name": "Bar"});
        let mine = post_with_key(&app, "/v1/teams", &owner, "shared", &body)
            .await
            .expect(201);
        let theirs = post_with_key(&app, "/v1/teams", &other, "shared", &body)
            .await
            .expect(201);
        assert_eq!(theirs.header("idempotent-replayed"), None);
        assert_ne!(mine.body["id"], theirs.body["id"]);
    })
    .await;
}

#[tokio::test]
async fn a_refused_request_releases_its_key_for_the_corrected_retry() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        post_with_key(
            &app,
            "/v1/members",
            &owner,
            "fix-me",
            &json!({"display_name": "", "role": "staff"}),
        )
        .await
        .expect_problem(422);
        let fixed = post_with_key(
            &app,
            "/v1/members",
            &owner,
            "fix-me",
            &json!({"display_name": "Ana", "role": "staff"}),
        )
        .await
        .expect(201);
        assert_eq!(fixed.header("idempotent-replayed"), None);
    })
    .await;
}

#[tokio::test]
async fn platform_admins_can_retry_organization_creation_safely() {
    for_each_backend(|app| async move {
        let admin = app.platform_admin_token();
        let body = json!({"name": "Café Luna", "currency": "EUR", "timezone": "Europe/Lisbon"});
        let first = post_with_key(&app, "/v1/organizations", &admin, "org-1", &body)
            .await
            .expect(201);
        let again = post_with_key(&app, "/v1/organizations", &admin, "org-1", &body)
            .await
            .expect(201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body["id"], first.body["id"]);
    })
    .await;
}

#[tokio::test]
async fn an_overlong_or_unprintable_key_is_a_bad_request() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let body = json!({"name": "Bar"});
        post_with_key(&app, "/v1/teams", &owner, &"k".repeat(256), &body)
            .await
            .expect_problem(400);
        post_with_key(&app, "/v1/teams", &owner, &"k".repeat(255), &body)
            .await
            .expect(201);
        assert_eq!(team_count(&app, &owner).await, 1);
    })
    .await;
}
