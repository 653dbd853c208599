//! The conventions every `/v1` operation shares, checked against the running server for each
//! operation its OpenAPI document lists, with the bodies the document gives as examples. Every
//! answer must be one the document declares for the operation, and every error a problem.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::support::documented::{Operation, v1_operations};
use crate::support::{TestApp, delivering, for_each_backend, for_each_backend_with};

#[tokio::test]
async fn every_operation_refuses_a_request_without_a_usable_token() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let valid = app.token(Some(&org), "owner", "owner-1", None);
        let tampered = format!("{}x", &valid[..valid.len() - 1]);
        for op in v1_operations() {
            let path = op.path_to_nothing();
            for token in [None, Some(tampered.as_str())] {
                let refused = op.send(&app, &path, token, &[]).await;
                assert_eq!(refused.status, 401, "{}: {}", op.name(), refused.text);
                assert!(
                    refused
                        .header("www-authenticate")
                        .is_some_and(|challenge| challenge.starts_with("Bearer")),
                    "{}: no Bearer challenge",
                    op.name()
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn every_operation_is_not_found_for_a_token_whose_organization_does_not_exist() {
    for_each_backend(|app| async move {
        let ghost = Uuid::now_v7().to_string();
        for op in v1_operations() {
            let gone = op
                .send_as_permitted(&app, &op.path_to_nothing(), &ghost, &[])
                .await;
            assert_eq!(gone.status, 404, "{}: {}", op.name(), gone.text);
        }
    })
    .await;
}

/// Collections that no POST of their own creates, with the one that does, the field of its
/// answer that names the new resource, and what the example must say for it to make one (a
/// decision no grant covers escalates).
const MADE_BY: [(&str, &str, &str, (&str, i64)); 1] = [(
    "/v1/escalations",
    "/v1/decisions",
    "escalation_id",
    ("amount_minor", 900_000),
)];

/// A new resource of `collection` in `org`, made with its documented example.
async fn make(app: &TestApp, operations: &[Operation], collection: &str, org: &str) -> Value {
    if let Some((_, maker, field, (name, value))) = MADE_BY.iter().find(|(c, ..)| *c == collection)
    {
        let create = operations
            .iter()
            .find(|op| op.method == Method::POST && op.template == *maker)
            .unwrap();
        let mut body = create.example_in(app, org).await.unwrap();
        body[*name] = Value::from(*value);
        let owner = app.token(Some(org), "owner", "owner-1", None);
        let made = app.post(maker, &owner, body).await.expect(201).body;
        let id = made[*field]
            .as_str()
            .unwrap_or_else(|| panic!("{maker}: no {field}: {made}"));
        return app
            .get(&format!("{collection}/{id}"), &owner)
            .await
            .expect(200)
            .body;
    }
    let create = operations
        .iter()
        .find(|op| op.method == Method::POST && op.template == collection)
        .unwrap_or_else(|| panic!("{collection}/{{id}} but no POST {collection}"));
    let made = create.send_as_permitted(app, collection, org, &[]).await;
    assert_eq!(made.status, 201, "{}: {}", create.name(), made.text);
    made.body
}

/// A delivery to webhook `hook` (made with its documented example, which subscribes to
/// `decision.escalated`): an escalated decision's event, handed to it by the worker. The
/// example's host is a documentation name, never sent to.
async fn delivery_to(app: &TestApp, operations: &[Operation], org: &str, hook: &str) -> String {
    make(app, operations, "/v1/escalations", org).await;
    let owner = app.token(Some(org), "owner", "owner-1", None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let deliveries = app
            .list_items(&format!("/v1/webhooks/{hook}/deliveries"), &owner)
            .await;
        if let Some(delivery) = deliveries.first() {
            return delivery["id"].as_str().unwrap().to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery to {hook}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// One resource of each collection that has operations by id, created in `org` with the
/// documented example, by collection: what the operations by id are then pointed at.
async fn one_of_each(app: &TestApp, org: &str) -> HashMap<String, Value> {
    let operations = v1_operations();
    let mut created = HashMap::new();
    for collection in operations.iter().filter_map(Operation::collection) {
        if !created.contains_key(collection) {
            let made = make(app, &operations, collection, org).await;
            created.insert(collection.to_owned(), made);
        }
    }
    created
}

#[tokio::test]
async fn every_operation_by_id_is_not_found_for_another_organization_or_an_unknown_id() {
    for_each_backend(|app| async move {
        let (mine, _) = app.create_org().await;
        let (theirs, _) = app.create_org().await;
        let resources = one_of_each(&app, &theirs).await;
        let by_id: Vec<Operation> = v1_operations()
            .into_iter()
            .filter(|op| op.collection().is_some())
            .collect();
        assert!(!by_id.is_empty());
        // Each resource as a read shows it (a create's answer may carry more: a secret).
        let mut before = HashMap::new();
        for op in by_id
            .iter()
            .filter(|op| op.method == Method::GET && op.is_by_id())
        {
            let resource = &resources[op.collection().unwrap()];
            let path = op.path(|_| resource["id"].as_str().unwrap().to_owned());
            let read = op.send_as_permitted(&app, &path, &theirs, &[]).await;
            assert_eq!(read.status, 200, "{}: {}", op.name(), read.text);
            before.insert(path, read.body);
        }
        for op in &by_id {
            let resource = &resources[op.collection().unwrap()];
            let theirs_path = op.path(|_| resource["id"].as_str().unwrap().to_owned());
            for path in [theirs_path, op.path_to_nothing()] {
                let hidden = op.send_as_permitted(&app, &path, &mine, &[]).await;
                assert_eq!(hidden.status, 404, "{} {path}: {}", op.name(), hidden.text);
            }
        }
        // Their resources are all still there, unchanged.
        for op in by_id
            .iter()
            .filter(|op| op.method == Method::GET && op.is_by_id())
        {
            let resource = &resources[op.collection().unwrap()];
            let path = op.path(|_| resource["id"].as_str().unwrap().to_owned());
            let still = op.send_as_permitted(&app, &path, &theirs, &[]).await;
            assert_eq!(still.body, before[&path], "{}", op.name());
        }
    })
    .await;
}

#[tokio::test]
async fn every_post_replays_a_retry_and_refuses_its_key_with_another_body() {
    // Delivering: a webhook's delivery, to retry, is made by the worker.
    for_each_backend_with(delivering, |app| async move {
        let (org, _) = app.create_org().await;
        let operations = v1_operations();
        // Every POST that changes something (and so may conflict: 409) takes a key; one that
        // only answers a question (`/v1/authority/check`) has nothing to replay.
        let posts: Vec<&Operation> = operations
            .iter()
            .filter(|op| op.method == Method::POST && op.declares(409))
            .collect();
        assert!(!posts.is_empty());
        for op in posts {
            assert!(op.takes_header("Idempotency-Key"), "{}", op.name());
            let key = format!("retry {}", op.template);
            let key = [("idempotency-key", key.as_str())];
            // A POST under a resource (a check-in, a cancellation) acts on a fresh one.
            let path = match op.collection() {
                Some(collection) => {
                    let parent = make(&app, &operations, collection, &org).await;
                    let parent = parent["id"].as_str().unwrap().to_owned();
                    let delivery = if op.template.contains("{delivery_id}") {
                        delivery_to(&app, &operations, &org, &parent).await
                    } else {
                        String::new()
                    };
                    op.path(|name| {
                        if name == "delivery_id" {
                            delivery.clone()
                        } else {
                            parent.clone()
                        }
                    })
                }
                None => op.path_to_nothing(),
            };
            let first = op.send_as_permitted(&app, &path, &org, &key).await;
            assert!(
                [200, 201, 202].contains(&first.status),
                "{}: {}",
                op.name(),
                first.text
            );
            let retry = op.send_as_permitted(&app, &path, &org, &key).await;
            assert_eq!(retry.status, first.status, "{}: {}", op.name(), retry.text);
            assert_eq!(retry.header("idempotent-replayed"), Some("true"));
            assert_eq!(retry.body, first.body, "{}", op.name());

            // The same fields, other bytes: a different request as far as the key is concerned.
            // A POST that takes no body is sent one.
            let spaced = match op.example_in(&app, &org).await {
                Some(example) => serde_json::to_string_pretty(&example).unwrap(),
                None => "{}".to_owned(),
            };
            let mut reused = None;
            for (role, subject) in [("owner", "owner-1"), ("platform_admin", "ops")] {
                let token = app.token(Some(&org), role, subject, None);
                let answer = app
                    .execute(
                        app.client
                            .post(app.url(&path))
                            .bearer_auth(&token)
                            .header("idempotency-key", key[0].1)
                            .header("content-type", "application/json")
                            .body(spaced.clone()),
                    )
                    .await;
                if answer.status != 403 {
                    reused = Some(op.check(answer));
                    break;
                }
            }
            let reused = reused.unwrap();
            assert_eq!(reused.status, 422, "{}: {}", op.name(), reused.text);
            assert!(
                reused.body["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("Idempotency-Key")),
                "{}: {}",
                op.name(),
                reused.text
            );
        }
    })
    .await;
}

#[tokio::test]
async fn every_change_refuses_a_stale_if_match_and_a_malformed_one() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let resources = one_of_each(&app, &org).await;
        let changes: Vec<Operation> = v1_operations()
            .into_iter()
            .filter(|op| {
                [Method::PATCH, Method::PUT, Method::DELETE].contains(&op.method)
                    || op.takes_header("If-Match")
            })
            .collect();
        assert!(!changes.is_empty());
        for op in changes {
            assert!(op.takes_header("If-Match"), "{}", op.name());
            // An existing resource's current version is never 987654.
            let path = match op.collection() {
                Some(collection) => {
                    let resource = &resources[collection];
                    op.path(|name| resource[name].as_str().unwrap().to_owned())
                }
                None => op.path_to_nothing(),
            };
            let stale = op
                .send_as_permitted(&app, &path, &org, &[("if-match", "\"987654\"")])
                .await;
            assert_eq!(stale.status, 412, "{} {path}: {}", op.name(), stale.text);
            let malformed = op
                .send_as_permitted(&app, &path, &org, &[("if-match", "987654")])
                .await;
            assert_eq!(malformed.status, 400, "{}: {}", op.name(), malformed.text);
        }
    })
    .await;
}

#[tokio::test]
async fn every_body_must_be_json_within_the_size_limit_with_known_fields() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        for op in v1_operations() {
            let Some(example) = op.example() else {
                continue;
            };
            // A body is read before the caller's rights are checked: any valid token will do.
            let token = app.token(Some(&org), "owner", "owner-1", None);
            let path = op.path_to_nothing();
            let request = || {
                app.client
                    .request(op.method.clone(), app.url(&path))
                    .bearer_auth(&token)
            };

            let as_text = op.check(
                app.execute(
                    request()
                        .header("content-type", "text/plain")
                        .body(example.to_string()),
                )
                .await,
            );
            assert_eq!(as_text.status, 415, "{}: {}", op.name(), as_text.text);

            let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
            let too_large = op.check(
                app.execute(
                    request()
                        .header("content-type", "application/json")
                        .body(huge),
                )
                .await,
            );
            assert_eq!(too_large.status, 413, "{}: {}", op.name(), too_large.text);

            let mut unknown = example.clone();
            unknown
                .as_object_mut()
                .unwrap()
                .insert("colour".into(), "blue".into());
            let refused = op.check(app.execute(request().json(&unknown)).await);
            assert_eq!(refused.status, 422, "{}: {}", op.name(), refused.text);
        }
    })
    .await;
}
