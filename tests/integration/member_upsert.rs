//! The HR upsert, `PUT /v1/members/external/{id}`: it creates, then replaces, the member with that
//! external id; honours `If-Match`; checks references like a creation; and concurrent identical
//! PUTs all succeed on one member.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::for_each_backend;

#[tokio::test]
async fn put_by_external_id_creates_then_replaces_the_member() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = app.create_team(&owner, "Bar").await;
        let ana = app.create_named_member(&owner, "Ana", "manager").await;
        let path = "/v1/members/external/HR-77";

        let full = json!({
            "display_name": "Bea", "email": "bea@sol.es", "role": "staff", "team_id": bar,
            "manager_id": ana, "strengths": ["patience"], "active": false,
        });
        let created = app.put(path, &owner, full.clone()).await.expect(201);
        let id = created.id();
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/members/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.body["external_id"], "HR-77");
        assert_eq!(created.body["email"], "bea@sol.es");
        assert_eq!(created.body["team_id"], bar.as_str());
        assert_eq!(created.body["manager_id"], ana.as_str());
        assert_eq!(created.body["strengths"], json!(["patience"]));
        assert_eq!(created.body["active"], false);
        assert_eq!(created.body["version"], 1);
        assert_eq!(
            app.get(&format!("/v1/members/{id}"), &owner)
                .await
                .expect(200)
                .body,
            created.body
        );

        // Replacing: the same member, every field from the body, the omitted ones back to defaults
        // but `active`: an HR sync that does not mention it never brings a deactivated member back.
        let beatriz = json!({"display_name": "Beatriz", "role": "manager"});
        let replaced = app.put(path, &owner, beatriz.clone()).await.expect(200);
        assert_eq!(replaced.body["id"], id.as_str());
        assert_eq!(replaced.header("etag"), Some("\"2\""));
        assert_eq!(replaced.body["version"], 2);
        assert_eq!(replaced.body["external_id"], "HR-77");
        assert_eq!(replaced.body["display_name"], "Beatriz");
        assert_eq!(replaced.body["role"], "manager");
        assert_eq!(replaced.body["email"], Value::Null);
        assert_eq!(replaced.body["team_id"], Value::Null);
        assert_eq!(replaced.body["manager_id"], Value::Null);
        assert_eq!(replaced.body["strengths"], json!([]));
        assert_eq!(replaced.body["active"], false);
        assert_eq!(replaced.body["created_at"], created.body["created_at"]);

        // Repeating a PUT is harmless: still one member, still the same id, still deactivated.
        let repeated = app.put(path, &owner, beatriz.clone()).await.expect(200);
        assert_eq!(repeated.body["id"], id.as_str());
        assert_eq!(repeated.body["display_name"], "Beatriz");
        assert_eq!(repeated.body["active"], false);
        let events = app.member_events(&owner, &id).await;
        assert!(
            events.iter().all(|e| e["action"] != "member.reactivated"),
            "{events:?}"
        );
        // Only a PUT that says so reactivates.
        let mut rehired = beatriz;
        rehired["active"] = json!(true);
        let back = app.put(path, &owner, rehired).await.expect(200);
        assert_eq!(back.body["active"], true);
        assert_eq!(app.member_names(&owner, "").await, ["Ana", "Beatriz"]);
    })
    .await;
}

#[tokio::test]
async fn put_by_external_id_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let path = "/v1/members/external/HR-1";
        let body = |name: &str| json!({"display_name": name, "role": "staff"});
        app.put(path, &owner, body("Ana")).await.expect(201);
        app.put(path, &owner, body("Ana María")).await.expect(200);

        app.send_if_match(Method::PUT, path, &owner, "\"1\"", Some(body("Anita")))
            .await
            .expect_problem(412);
        assert_eq!(app.member_names(&owner, "").await, ["Ana María"]);
        let applied = app
            .send_if_match(Method::PUT, path, &owner, "\"2\"", Some(body("Anita")))
            .await
            .expect(200);
        assert_eq!(applied.body["display_name"], "Anita");
        assert_eq!(applied.body["version"], 3);

        // An If-Match names a version of a member that must already exist.
        let other = "/v1/members/external/HR-2";
        app.send_if_match(Method::PUT, other, &owner, "\"1\"", Some(body("Bea")))
            .await
            .expect_problem(404);
        assert_eq!(app.member_names(&owner, "").await, ["Anita"]);
        app.put(other, &owner, body("Bea")).await.expect(201);
    })
    .await;
}

#[tokio::test]
async fn put_by_external_id_checks_references_like_create() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let foreign_team = app.create_team(&other_owner, "Bar").await;
        let refused = app
            .put(
                "/v1/members/external/HR-5",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "team_id": foreign_team}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["team_id"], "{}", refused.text);
        assert_eq!(app.member_names(&owner, "").await, Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn concurrent_identical_puts_by_external_id_all_succeed_on_one_member() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let body = json!({"display_name": "Ana", "role": "staff"});
        // An HR sync that retries a timed-out request sends the same PUT again while the first runs.
        for round in 0..5 {
            let path = format!("/v1/members/external/HR-{round}");
            let (first, second, third) = tokio::join!(
                app.put(&path, &owner, body.clone()),
                app.put(&path, &owner, body.clone()),
                app.put(&path, &owner, body.clone()),
            );
            let mut statuses = vec![first.status, second.status, third.status];
            statuses.sort_unstable();
            assert_eq!(
                statuses,
                [200, 200, 201],
                "{:?} round {round}: {} | {} | {}",
                app.backend,
                first.text,
                second.text,
                third.text
            );
            assert_eq!(first.body["id"], second.body["id"]);
            assert_eq!(second.body["id"], third.body["id"]);
        }
        assert_eq!(app.member_names(&owner, "").await.len(), 5);
    })
    .await;
}

#[tokio::test]
async fn a_put_racing_a_patch_of_the_same_member_waits_for_it_instead_of_conflicting() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let path = "/v1/members/external/HR-9";
        let id = app
            .put(
                path,
                &owner,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201)
            .id();
        let member = format!("/v1/members/{id}");
        for round in 0..30 {
            let (patched, put) = tokio::join!(
                app.patch(
                    &member,
                    &owner,
                    json!({"strengths": [format!("round {round}")]})
                ),
                app.put(
                    path,
                    &owner,
                    json!({"display_name": format!("Ana {round}"), "role": "staff"})
                ),
            );
            assert_eq!(
                patched.status, 200,
                "{:?} round {round}: {}",
                app.backend, patched.text
            );
            assert_eq!(
                put.status, 200,
                "{:?} round {round}: {}",
                app.backend, put.text
            );
        }
        let last = app.get(&member, &owner).await.expect(200);
        assert_eq!(
            last.body["version"], 61,
            "every change applied once: {}",
            last.text
        );
    })
    .await;
}

#[tokio::test]
async fn a_put_racing_a_post_or_patch_that_claims_its_new_external_id_never_conflicts() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        for round in 0..10 {
            let (claimed, other) = (format!("R-{round}"), format!("P-{round}"));
            let put_path = format!("/v1/members/external/{claimed}");
            let id = app.create_named_member(&owner, "Paz", "staff").await;
            let member_path = format!("/v1/members/{id}");
            let (patched, put) = tokio::join!(
                app.patch(&member_path, &owner, json!({"external_id": claimed})),
                app.put(
                    &put_path,
                    &owner,
                    json!({"display_name": "Rosa", "role": "staff"})
                ),
            );
            // The PUT waits for the PATCH and replaces its member, or goes first and creates one,
            // and then the PATCH is the one refused: the id is taken.
            assert!(
                put.status == 200 || put.status == 201,
                "round {round}: {}",
                put.text
            );
            assert!(
                patched.status == 200 || patched.status == 409,
                "round {round}: {}",
                patched.text
            );
            assert_eq!(patched.status == 200, put.status == 200, "round {round}");
            let other_path = format!("/v1/members/external/{other}");
            let (posted, put) = tokio::join!(
                app.post(
                    "/v1/members",
                    &owner,
                    json!({"display_name": "Sol", "role": "staff", "external_id": other})
                ),
                app.put(
                    &other_path,
                    &owner,
                    json!({"display_name": "Sol", "role": "staff"})
                ),
            );
            assert!(
                put.status == 200 || put.status == 201,
                "round {round}: {}",
                put.text
            );
            assert!(
                posted.status == 201 || posted.status == 409,
                "round {round}: {}",
                posted.text
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_put_that_does_not_mention_active_never_reactivates_a_deactivated_member() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let path = "/v1/members/external/HR-3";
        let body = json!({"display_name": "Ana", "role": "staff", "email": "ana@sol.es"});
        let id = app.put(path, &owner, body.clone()).await.expect(201).id();
        app.patch(
            &format!("/v1/members/{id}"),
            &owner,
            json!({"active": false}),
        )
        .await
        .expect(200);
        // The nightly HR sync sends everyone again, fired staff included.
        for _ in 0..2 {
            let synced = app.put(path, &owner, body.clone()).await.expect(200);
            assert_eq!(synced.body["active"], false, "{}", synced.text);
        }
        let fired = app.token(Some(&org), "staff", &id, None);
        app.get("/v1/teams", &fired).await.expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn a_put_body_may_repeat_the_paths_external_id_but_not_contradict_it() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let same = json!({"external_id": "HR-1", "display_name": "Ana", "role": "staff"});
        let created = app
            .put("/v1/members/external/HR-1", &owner, same)
            .await
            .expect(201);
        assert_eq!(created.body["external_id"], "HR-1");

        let other = json!({"external_id": "HR-2", "display_name": "Bea", "role": "staff"});
        let refused = app
            .put("/v1/members/external/HR-3", &owner, other)
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["external_id"]);
        let members = app.get("/v1/members", &owner).await.expect(200);
        assert_eq!(members.body["items"].as_array().unwrap().len(), 1);
    })
    .await;
}
