//! Goals over HTTP: clear and measurable, checked in on until achieved (with `goal.achieved` in
//! the outbox in the same transaction), read as missed once past due in the organization's
//! zone, aligned without cycles.

use serde_json::{Value, json};

use crate::support::for_each_backend;
use crate::support::locks::RawConn;
use crate::support::people::{member_goal, team_goal};

#[tokio::test]
async fn a_manager_sets_a_goal_and_the_report_checks_in_until_it_is_achieved_once() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let mut body = member_goal(&c.ana.id);
        body["strengths"] = json!([" networking "]);
        let created = app
            .post("/v1/goals", &c.manager.token, body)
            .await
            .expect(201);
        let id = created.id();
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/goals/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.body["status"], "active");
        assert_eq!(created.body["progress"], 0.0);
        assert_eq!(created.body["current_value"], Value::Null);
        assert_eq!(
            created.body["uses_owner_strengths"], true,
            "{}",
            created.text
        );

        let check_in = |value: f64| {
            let app = &app;
            let token = c.ana.token.clone();
            let path = format!("/v1/goals/{id}/check-ins");
            async move {
                app.post(&path, &token, json!({"value": value}))
                    .await
                    .expect(201)
            }
        };
        let first = check_in(4.0).await;
        assert_eq!(first.body["check_in"]["value"], 4.0);
        assert_eq!(
            first.body["check_in"]["recorded_by"]["subject"],
            c.ana.id.as_str()
        );
        assert_eq!(first.body["goal"]["progress"], 0.4);
        assert_eq!(first.body["goal"]["status"], "active");
        let reached = check_in(10.0).await;
        assert_eq!(reached.body["goal"]["status"], "achieved");
        assert_eq!(reached.body["goal"]["progress"], 1.0);
        let beyond = check_in(12.0).await;
        assert_eq!(beyond.body["goal"]["status"], "achieved");

        let history = app
            .list_items(&format!("/v1/goals/{id}/check-ins"), &c.manager.token)
            .await;
        let values: Vec<f64> = history
            .iter()
            .map(|i| i["value"].as_f64().unwrap())
            .collect();
        assert_eq!(values, [4.0, 10.0, 12.0]);

        // Announced once, by the check-in that reached the target, in its transaction.
        let mut raw = RawConn::open(&app);
        let events = raw.rows("outbox_events", "event_type = 'goal.achieved'");
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(
            events[0].contains(&id) && events[0].contains("achieved"),
            "{events:?}"
        );
        let audit = app
            .list_items("/v1/audit-events?action=goal.achieved", &c.owner)
            .await;
        assert_eq!(audit.len(), 1);
    })
    .await;
}

/// A change to a valid goal body.
type Change = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn what_cannot_be_measured_is_refused_naming_the_field_and_nothing_is_created() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let (_, other_owner) = app.create_org().await;
        let other_member = app
            .create_named_member(&other_owner, "Elsewhere", "staff")
            .await;
        let elsewhere = app
            .post("/v1/goals", &other_owner, member_goal(&other_member))
            .await
            .expect(201)
            .id();
        let cases: Vec<(&str, Change)> = vec![
            (
                "metric.target",
                Box::new(|g| g["metric"]["target"] = json!(0)),
            ),
            (
                "metric.target",
                Box::new(|g| g["metric"]["target"] = json!("ten")),
            ),
            (
                "metric.baseline",
                Box::new(|g| g["metric"]["baseline"] = json!(1e16)),
            ),
            (
                "metric.direction",
                Box::new(|g| g["metric"]["direction"] = json!("decrease")),
            ),
            (
                "due_date",
                Box::new(|g| g["due_date"] = json!("2026-10-01")),
            ),
            (
                "owner_member_id",
                Box::new(|g| g["owner_team_id"] = json!(uuid::Uuid::now_v7())),
            ),
            (
                "owner_member_id",
                Box::new(|g| {
                    g.as_object_mut().unwrap().remove("owner_member_id");
                }),
            ),
            (
                "owner_member_id",
                Box::new(|g| g["owner_member_id"] = json!(uuid::Uuid::now_v7())),
            ),
            ("kind", Box::new(|g| g["kind"] = json!("world_domination"))),
            ("status", Box::new(|g| g["status"] = json!("achieved"))),
        ];
        for (field, change) in cases {
            let mut body = member_goal(&c.ana.id);
            change(&mut body);
            let refused = app
                .post("/v1/goals", &c.owner, body)
                .await
                .expect_problem(422);
            assert!(
                refused.error_fields().iter().any(|f| f == field),
                "{field}: {}",
                refused.text
            );
        }
        // A number too large for a double is refused by the parser, as unreadable input.
        let raw_huge = member_goal(&c.ana.id)
            .to_string()
            .replace("\"target\":10", "\"target\":1e400");
        let refused = app
            .execute(
                app.client
                    .post(app.url("/v1/goals"))
                    .bearer_auth(&c.owner)
                    .header("content-type", "application/json")
                    .body(raw_huge),
            )
            .await;
        assert!([400, 422].contains(&refused.status), "{}", refused.text);

        let mut foreign_parent = member_goal(&c.ana.id);
        foreign_parent["parent_goal_id"] = json!(elsewhere);
        let refused = app
            .post("/v1/goals", &c.owner, foreign_parent)
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["parent_goal_id"]);

        // Goals are for people at work.
        app.patch(
            &format!("/v1/members/{}", c.ben.id),
            &c.owner,
            json!({"active": false}),
        )
        .await
        .expect(200);
        let refused = app
            .post("/v1/goals", &c.owner, member_goal(&c.ben.id))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["owner_member_id"]);
        assert!(app.list_items("/v1/goals", &c.owner).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn goals_align_to_higher_ones_without_cycles() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let top = app
            .post("/v1/goals", &c.owner, team_goal(&c.front_desk))
            .await
            .expect(201)
            .id();
        let mut middle = member_goal(&c.manager.id);
        middle["parent_goal_id"] = json!(top);
        let middle = app
            .post("/v1/goals", &c.owner, middle)
            .await
            .expect(201)
            .id();
        let mut bottom = member_goal(&c.ana.id);
        bottom["parent_goal_id"] = json!(middle);
        let bottom = app
            .post("/v1/goals", &c.owner, bottom)
            .await
            .expect(201)
            .id();

        for parent in [&bottom, &top] {
            let refused = app
                .patch(
                    &format!("/v1/goals/{top}"),
                    &c.owner,
                    json!({"parent_goal_id": parent}),
                )
                .await
                .expect_problem(422);
            assert_eq!(
                refused.error_fields(),
                ["parent_goal_id"],
                "{}",
                refused.text
            );
        }
        let aligned = app
            .list_items(&format!("/v1/goals?parent_goal_id={middle}"), &c.owner)
            .await;
        assert_eq!(aligned.len(), 1);
        assert_eq!(aligned[0]["id"], bottom.as_str());
        // Clearing the parent is allowed.
        let freed = app
            .patch(
                &format!("/v1/goals/{bottom}"),
                &c.owner,
                json!({"parent_goal_id": null}),
            )
            .await
            .expect(200);
        assert_eq!(freed.body["parent_goal_id"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn an_active_goal_past_due_in_the_organizations_zone_reads_as_missed_and_filters_agree() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let make = |start: &str, due: &str, status: &str| {
            let mut body = member_goal(&c.ana.id);
            body["start_date"] = json!(start);
            body["due_date"] = json!(due);
            body["status"] = json!(status);
            let app = &app;
            let owner = c.owner.clone();
            async move { app.post("/v1/goals", &owner, body).await.expect(201) }
        };
        let past = make("2020-01-01", "2020-12-31", "active").await;
        assert_eq!(past.body["status"], "missed");
        // Reaching the target after the due date does not undo the miss.
        let late = app
            .post(
                &format!("/v1/goals/{}/check-ins", past.id()),
                &c.ana.token,
                json!({"value": 10}),
            )
            .await
            .expect(201);
        assert_eq!(late.body["goal"]["status"], "missed", "{}", late.text);
        let future = make("2026-01-01", "2099-12-31", "active").await.id();
        let draft = make("2026-01-01", "2099-12-31", "draft").await.id();
        let ids = |items: Vec<Value>| -> Vec<String> {
            items
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let list = |query: &'static str| {
            let app = &app;
            let owner = c.owner.clone();
            async move { app.list_items(&format!("/v1/goals?{query}"), &owner).await }
        };
        assert_eq!(ids(list("status=missed").await), [past.id()]);
        assert_eq!(
            ids(list("status=active").await),
            std::slice::from_ref(&future)
        );
        assert_eq!(
            ids(list("status=draft").await),
            std::slice::from_ref(&draft)
        );
        assert_eq!(ids(list("due_to=2021-01-01").await), [past.id()]);
        assert_eq!(
            ids(list("due_from=2021-01-01").await),
            [future.clone(), draft]
        );

        // Due today where the organization is 12 hours behind UTC: still active. Move the
        // organization to 14 hours ahead, where that day is always over: missed.
        app.patch(
            "/v1/organization",
            &c.owner,
            json!({"timezone": "Etc/GMT+12"}),
        )
        .await
        .expect(200);
        let behind = (chrono::Utc::now() - chrono::TimeDelta::hours(12)).date_naive();
        let due_today = make("2026-01-01", &behind.to_string(), "active").await;
        assert_eq!(due_today.body["status"], "active", "{}", due_today.text);
        app.patch(
            "/v1/organization",
            &c.owner,
            json!({"timezone": "Etc/GMT-14"}),
        )
        .await
        .expect(200);
        let read = app
            .get(&format!("/v1/goals/{}", due_today.id()), &c.owner)
            .await
            .expect(200);
        assert_eq!(read.body["status"], "missed");
        assert!(ids(list("status=missed").await).contains(&due_today.id()));
        assert!(!ids(list("status=active").await).contains(&due_today.id()));
    })
    .await;
}

#[tokio::test]
async fn progress_honours_a_decrease_is_clamped_and_a_late_report_is_history_only() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let mut body = member_goal(&c.ana.id);
        body["kind"] = json!("satisfaction");
        body["metric"] = json!({"name": "wait", "unit": "minutes", "baseline": 120, "target": 60, "direction": "decrease"});
        let id = app.post("/v1/goals", &c.owner, body).await.expect(201).id();
        let path = format!("/v1/goals/{id}/check-ins");
        let report = |body: Value| {
            let app = &app;
            let (path, token) = (path.clone(), c.ana.token.clone());
            async move { app.post(&path, &token, body).await }
        };
        let half = report(json!({"value": 90})).await.expect(201);
        assert_eq!(half.body["goal"]["progress"], 0.5);
        let worse = report(json!({"value": 150, "note": "A bad week.\nTwo off sick."}))
            .await
            .expect(201);
        assert_eq!(worse.body["goal"]["progress"], 0.0);
        let earlier = (chrono::Utc::now() - chrono::TimeDelta::days(3)).to_rfc3339();
        let late = report(json!({"value": 30, "recorded_at": earlier})).await.expect(201);
        assert_eq!(late.body["goal"]["current_value"], 150.0, "history only");
        assert_eq!(late.body["goal"]["status"], "active");
        let ahead = (chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc3339();
        let refused = report(json!({"value": 1, "recorded_at": ahead})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["recorded_at"]);
        let refused = report(json!({"value": "fast"})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["value"], "{}", refused.text);
        let done = report(json!({"value": 45})).await.expect(201);
        assert_eq!(done.body["goal"]["status"], "achieved");
        assert_eq!(done.body["goal"]["progress"], 1.0);
    })
    .await;
}

#[tokio::test]
async fn changes_honour_if_match_and_a_cancelled_goal_stays_on_record_unchanged() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let id = app
            .post("/v1/goals", &c.owner, member_goal(&c.ana.id))
            .await
            .expect(201)
            .id();
        let path = format!("/v1/goals/{id}");
        app.send_if_match(reqwest::Method::PATCH, &path, &c.owner, "\"7\"", Some(json!({"title": "x"})))
            .await
            .expect_problem(412);
        let changed = app
            .send_if_match(reqwest::Method::PATCH, &path, &c.owner, "\"1\"", Some(json!({"title": "Win twelve"})))
            .await
            .expect(200);
        assert_eq!((changed.body["title"].as_str(), changed.body["version"].as_i64()), (Some("Win twelve"), Some(2)));
        let refused = app
            .patch(&path, &c.owner, json!({"status": "cancelled"}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["status"]);

        // Lowering the target below the value already reached achieves the goal.
        app.post(&format!("{path}/check-ins"), &c.ana.token, json!({"value": 6}))
            .await
            .expect(201);
        let lowered = app
            .patch(&path, &c.owner, json!({"metric": {"name": "new clients", "unit": "clients", "baseline": 0, "target": 5, "direction": "increase"}}))
            .await
            .expect(200);
        assert_eq!(lowered.body["status"], "achieved");
        let mut raw = RawConn::open(&app);
        assert_eq!(raw.rows("outbox_events", "event_type = 'goal.achieved'").len(), 1);
        let refused = app
            .post(&format!("{path}/cancel"), &c.owner, json!({"reason": "done anyway"}))
            .await
            .expect_problem(409);
        assert!(refused.body["detail"].as_str().unwrap().contains("achieved"));
        // What an achieved goal was measured by stays as it was.
        app.patch(&path, &c.owner, json!({"metric": {"name": "new clients", "unit": "clients", "baseline": 0, "target": 100, "direction": "increase"}}))
            .await
            .expect_problem(409);
        app.patch(&path, &c.owner, json!({"title": "Won five new clients"}))
            .await
            .expect(200);

        let other = app
            .post("/v1/goals", &c.owner, member_goal(&c.ben.id))
            .await
            .expect(201)
            .id();
        let other_path = format!("/v1/goals/{other}");
        let cancelled = app
            .post(&format!("{other_path}/cancel"), &c.manager.token, json!({"reason": "Programme closed"}))
            .await
            .expect(200);
        assert_eq!(cancelled.body["status"], "cancelled");
        for refused in [
            app.post(&format!("{other_path}/cancel"), &c.owner, json!({"reason": "again"})).await,
            app.patch(&other_path, &c.owner, json!({"title": "revived"})).await,
            app.post(&format!("{other_path}/check-ins"), &c.ben.token, json!({"value": 1})).await,
        ] {
            refused.expect_problem(409);
        }
        let kept = app.get(&other_path, &c.owner).await.expect(200);
        assert_eq!(kept.body["status"], "cancelled");
        assert_eq!(kept.body["title"], "Win ten new clients");
        let audit = app
            .list_items(&format!("/v1/audit-events?action=goal.cancelled&entity_id={other}"), &c.owner)
            .await;
        assert_eq!(audit[0]["changes"]["reason"], "Programme closed");

        // A draft takes no check-ins until it is made active.
        let mut draft = member_goal(&c.ben.id);
        draft["status"] = json!("draft");
        let draft = app.post("/v1/goals", &c.owner, draft).await.expect(201).id();
        app.post(&format!("/v1/goals/{draft}/check-ins"), &c.ben.token, json!({"value": 1}))
            .await
            .expect_problem(409);
        app.patch(&format!("/v1/goals/{draft}"), &c.owner, json!({"status": "active"}))
            .await
            .expect(200);
        app.post(&format!("/v1/goals/{draft}/check-ins"), &c.ben.token, json!({"value": 1}))
            .await
            .expect(201);
    })
    .await;
}
