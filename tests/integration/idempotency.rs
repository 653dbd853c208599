//! `Idempotency-Key` on creating POSTs: replay, mismatch, in-flight, scoping to the organization
//! and the caller, authorization before any replay, and release on failure.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::locks::HeldLock;
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

async fn member_count(app: &TestApp, token: &str) -> usize {
    app.list_items("/v1/members", token).await.len()
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
            &json!({"display_name": "Bar", "role": "staff"}),
        )
        .await
        .expect_problem(422);
        assert_eq!(team_count(&app, &owner).await, 1);
        assert_eq!(member_count(&app, &owner).await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_a_conflict() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let body = json!({"name": "Bar"});
        // Another writer holds the database, so the first request stays in progress.
        let held = HeldLock::writes_in(&app, &org);
        let first = post_with_key(&app, "/v1/teams", &owner, "busy", &body);
        let retry = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let retry = post_with_key(&app, "/v1/teams", &owner, "busy", &body).await;
            drop(held);
            retry
        };
        let (first, retry) = tokio::join!(first, retry);
        retry.expect_problem(409);
        let first = first.expect(201);
        let replay = post_with_key(&app, "/v1/teams", &owner, "busy", &body)
            .await
            .expect(201);
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, first.body);
        assert_eq!(team_count(&app, &owner).await, 1);
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
async fn another_callers_key_is_never_replayed_mismatched_or_blocking() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let hr = app.hr_sync_token(&org);
        let ana = json!({"display_name": "Ana", "role": "staff", "email": "ana@example.com"});
        let owners = post_with_key(&app, "/v1/members", &owner, "hire-1", &ana)
            .await
            .expect(201);

        // The same key and body from another caller is their own request, run for them.
        let hrs = post_with_key(&app, "/v1/members", &hr, "hire-1", &ana)
            .await
            .expect(201);
        assert_eq!(hrs.header("idempotent-replayed"), None);
        assert_ne!(hrs.body["id"], owners.body["id"]);
        // Nor does another body under that key mismatch theirs.
        let bea = json!({"display_name": "Bea", "role": "staff"});
        post_with_key(&app, "/v1/members", &hr, "hire-2", &bea)
            .await
            .expect(201);
        post_with_key(&app, "/v1/members", &owner, "hire-2", &ana)
            .await
            .expect(201);
        // A subject used under another role is another caller too.
        let hr_named_owner = app.integration_token(&org, "owner-1", "members:write");
        post_with_key(&app, "/v1/members", &hr_named_owner, "hire-1", &ana)
            .await
            .expect(201);

        // While the owner's request with a key is running, another caller's request with that
        // key is not told it is in progress: it waits its turn and runs.
        let held = HeldLock::writes_in(&app, &org);
        let carl = json!({"display_name": "Carl", "role": "staff"});
        let owners_run = post_with_key(&app, "/v1/members", &owner, "hire-3", &carl);
        let hrs_run = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let run = post_with_key(&app, "/v1/members", &hr, "hire-3", &carl);
            let release = async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                drop(held);
            };
            tokio::join!(run, release).0
        };
        let (owners_run, hrs_run) = tokio::join!(owners_run, hrs_run);
        owners_run.expect(201);
        hrs_run.expect(201);
        assert_eq!(member_count(&app, &owner).await, 7);
    })
    .await;
}

#[tokio::test]
async fn a_key_is_replayed_only_to_a_caller_still_allowed_to_make_the_request() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let ana = json!({"display_name": "Ana", "role": "staff", "email": "ana@example.com"});
        post_with_key(&app, "/v1/members", &owner, "hire-1", &ana)
            .await
            .expect(201);
        // A token without members:write that presents the owner's key and body learns nothing:
        // not the member (nor their email), not even that the key exists.
        let nosy = app.integration_token(&org, "owner-1", "");
        let refused = post_with_key(&app, "/v1/members", &nosy, "hire-1", &ana)
            .await
            .expect_problem(403);
        assert!(
            !refused.text.contains("ana@example.com"),
            "{}",
            refused.text
        );
        let other_body = json!({"display_name": "Zed", "role": "staff"});
        let probe = post_with_key(&app, "/v1/members", &nosy, "hire-1", &other_body).await;
        assert_eq!(probe.status, 403, "{}", probe.text);
        assert_eq!(member_count(&app, &owner).await, 1);
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
        // A refusal that only the database can decide (the team does not exist) keeps no key
        // either: the change rolled back, and the key with it.
        post_with_key(
            &app,
            "/v1/members",
            &owner,
            "fix-me",
            &json!({"display_name": "Ana", "role": "staff", "team_id": uuid::Uuid::now_v7()}),
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
        // Another platform admin's key is theirs alone.
        let other_admin = app.token(None, "platform_admin", "ops-2", None);
        let theirs = post_with_key(&app, "/v1/organizations", &other_admin, "org-1", &body)
            .await
            .expect(201);
        assert_ne!(theirs.body["id"], first.body["id"]);
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
