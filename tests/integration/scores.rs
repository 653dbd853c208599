//! Satisfaction scores over HTTP: a CRM's ratings recorded once whatever the retries, batches
//! that report each item, attribution that stays with the team a member was in, and employee
//! answers that keep no trace of who gave them.

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::for_each_backend;
use crate::support::locks::RawConn;
use crate::support::people::Company;

fn csat(member: &str, score: i64, external_id: &str) -> Value {
    json!({"audience": "client", "instrument": "csat", "score": score, "member_id": member,
           "touchpoint": "pos", "occurred_at": "2026-11-30T15:42:00Z", "source": "crm",
           "external_id": external_id, "client_ref": "C-1"})
}

fn crm(app: &TestApp, c: &Company) -> String {
    app.integration_token(&c.org, "crm", "scores:write scores:read")
}

#[tokio::test]
async fn a_crm_rating_is_recorded_once_and_stays_with_the_team_the_member_was_in() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = crm(&app, &c);
        let first = app
            .post("/v1/satisfaction-scores", &crm, csat(&c.ana.id, 5, "r-1"))
            .await
            .expect(201);
        let id = first.id();
        assert_eq!(
            first.body["team_id"],
            c.front_desk.as_str(),
            "the member's team"
        );
        assert_eq!(
            first.header("location"),
            Some(format!("/v1/satisfaction-scores/{id}").as_str())
        );
        // The same (source, external_id) again: the first record, 200, nothing new.
        let again = app
            .post("/v1/satisfaction-scores", &crm, csat(&c.ana.id, 1, "r-1"))
            .await
            .expect(200);
        assert_eq!(again.id(), id);
        assert_eq!(again.body["score"], 5);
        // Another source may use the same external id.
        let mut other = csat(&c.ana.id, 4, "r-1");
        other["source"] = json!("pos");
        assert_ne!(
            app.post("/v1/satisfaction-scores", &crm, other)
                .await
                .expect(201)
                .id(),
            id
        );

        // Twenty concurrent sends of one rating: one record.
        let sends =
            (0..20).map(|_| app.post("/v1/satisfaction-scores", &crm, csat(&c.ben.id, 4, "r-2")));
        let answers = futures_util::future::join_all(sends).await;
        let created = answers.iter().filter(|a| a.status == 201).count();
        assert_eq!(
            created,
            1,
            "{:?}",
            answers.iter().map(|a| a.status).collect::<Vec<_>>()
        );
        assert!(answers.iter().all(|a| a.status == 201 || a.status == 200));
        let ids: std::collections::BTreeSet<String> = answers.iter().map(|a| a.id()).collect();
        assert_eq!(ids.len(), 1);

        // Ana moves to the kitchen: her earlier score stays with the front desk.
        app.patch(
            &format!("/v1/members/{}", c.ana.id),
            &c.owner,
            json!({"team_id": c.kitchen}),
        )
        .await
        .expect(200);
        let read = app
            .get(&format!("/v1/satisfaction-scores/{id}"), &crm)
            .await
            .expect(200);
        assert_eq!(read.body["team_id"], c.front_desk.as_str());
        let later = app
            .post("/v1/satisfaction-scores", &crm, csat(&c.ana.id, 3, "r-3"))
            .await
            .expect(201);
        assert_eq!(later.body["team_id"], c.kitchen.as_str());
        let front_desk = app
            .list_items(
                &format!("/v1/satisfaction-scores?team_id={}", c.front_desk),
                &crm,
            )
            .await;
        assert_eq!(front_desk.len(), 3, "Ana's two before she moved, and Ben's");

        // A detractor is announced for someone to call back; every score is announced.
        let low = app
            .post("/v1/satisfaction-scores", &crm, csat(&c.ben.id, 2, "r-4"))
            .await
            .expect(201)
            .id();
        let mut raw = RawConn::open(&app);
        let events = raw.rows("outbox_events", &format!("payload LIKE '%{low}%'"));
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(events.iter().any(|e| e.contains("score.detractor")));
        assert!(events.iter().any(|e| e.contains("score.recorded")));
        let fine = app
            .get(&format!("/v1/satisfaction-scores/{id}"), &crm)
            .await
            .expect(200)
            .id();
        assert_eq!(
            raw.rows("outbox_events", &format!("payload LIKE '%{fine}%'"))
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_score_is_low_by_the_organizations_own_thresholds_and_announced_with_its_team() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = crm(&app, &c);
        let thresholds = json!({"csat_at_most": 3, "nps_at_most": 4, "ces_at_least": 6});
        app.patch(
            "/v1/organization",
            &c.owner,
            json!({"low_score_thresholds": thresholds}),
        )
        .await
        .expect(200);
        let mut raw = RawConn::open(&app);
        // Each instrument at its threshold (low) and one step on the good side of it.
        let cases = [
            ("csat", 3, true),
            ("csat", 4, false),
            ("nps", 4, true),
            ("nps", 5, false),
            ("ces", 6, true),
            ("ces", 5, false),
        ];
        for (instrument, score, low) in cases {
            // The cook, named without a team: the score is the kitchen's.
            let body = json!({"audience": "client", "instrument": instrument, "score": score,
                              "member_id": c.cook.id, "touchpoint": "phone",
                              "occurred_at": "2026-11-30T15:42:00Z", "source": "crm",
                              "external_id": format!("{instrument}-{score}"),
                              "comment": "said \"team_id\":null twice: \"team_id\":null"});
            let created = app
                .post("/v1/satisfaction-scores", &crm, body)
                .await
                .expect(201);
            assert_eq!(created.body["team_id"], c.kitchen.as_str());
            let id = created.id();
            let shown = app
                .get(&format!("/v1/satisfaction-scores/{id}"), &crm)
                .await
                .expect(200)
                .body;
            let mut events: Vec<Value> = raw
                .column(
                    "outbox_events",
                    "payload",
                    &format!("payload LIKE '%{id}%'"),
                )
                .iter()
                .map(|text| serde_json::from_str(text).expect("an event's body is JSON"))
                .collect();
            events.sort_by_key(|e| e["type"].as_str().map(str::to_owned));
            let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
            let expected = if low {
                vec!["score.detractor", "score.recorded"]
            } else {
                vec!["score.recorded"]
            };
            assert_eq!(types, expected, "{instrument} {score} against {thresholds}");
            for event in &events {
                assert_eq!(
                    event["data"], shown,
                    "an event shows the score as the API does"
                );
            }
            let audit = raw.column("audit_events", "changes", &format!("entity_id = '{id}'"));
            assert_eq!(audit.len(), 1);
            let changes: Value = serde_json::from_str(&audit[0]).expect("JSON");
            assert_eq!(
                changes, shown,
                "the audit entry records the score as recorded"
            );
        }

        // A team named without a member is the score's team; no one named, no team.
        let mut named = csat(&c.ana.id, 5, "named-team");
        named
            .as_object_mut()
            .expect("an object")
            .remove("member_id");
        named["team_id"] = json!(c.kitchen);
        let created = app
            .post("/v1/satisfaction-scores", &crm, named)
            .await
            .expect(201);
        let mut nobody = csat(&c.ana.id, 5, "nobody");
        nobody
            .as_object_mut()
            .expect("an object")
            .remove("member_id");
        let unattributed = app
            .post("/v1/satisfaction-scores", &crm, nobody)
            .await
            .expect(201);
        for (score, team) in [(&created, json!(c.kitchen)), (&unattributed, Value::Null)] {
            assert_eq!(score.body["team_id"], team);
            let id = score.id();
            let events = raw.column(
                "outbox_events",
                "payload",
                &format!("payload LIKE '%{id}%'"),
            );
            let event: Value = serde_json::from_str(&events[0]).expect("JSON");
            assert_eq!(event["data"]["team_id"], team);
        }
    })
    .await;
}

#[tokio::test]
async fn every_bad_score_is_refused_naming_its_field_and_changes_nothing() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = crm(&app, &c);
        let cases: Vec<(Value, &str)> = vec![
            (json!({"instrument": "csat", "score": 6}), "score"),
            (json!({"instrument": "csat", "score": 0}), "score"),
            (json!({"instrument": "nps", "score": 11}), "score"),
            (json!({"instrument": "nps", "score": -1}), "score"),
            (json!({"instrument": "ces", "score": 8}), "score"),
            (json!({"score": 9_223_372_036_854_775_807_i64}), "score"),
            (json!({"instrument": "stars"}), "instrument"),
            (json!({"audience": "supplier"}), "audience"),
            (json!({"touchpoint": "fax"}), "touchpoint"),
            (
                json!({"occurred_at": "2999-01-01T00:00:00Z"}),
                "occurred_at",
            ),
            (json!({"occurred_at": "yesterday"}), "occurred_at"),
            (json!({"source": ""}), "source"),
            (json!({"source": "crm\u{0}"}), "source"),
            (
                json!({"member_id": "0193a0b4-7c2e-7000-8000-00000000a001"}),
                "member_id",
            ),
            (
                json!({"team_id": "0193a0b4-7c2e-7000-8000-00000000a001"}),
                "team_id",
            ),
            (
                json!({"decision_id": "0193a0b4-7c2e-7000-8000-00000000a001"}),
                "decision_id",
            ),
            (json!({"icare": {"empathy": 6}}), "icare.empathy"),
            (json!({"icare": {"kindness": 3}}), "icare"),
            (json!({"stars": 3}), ""),
        ];
        for (change, field) in cases {
            let mut body = csat(&c.ana.id, 4, "bad");
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let refused = app
                .post("/v1/satisfaction-scores", &crm, body.clone())
                .await
                .expect_problem(422);
            assert!(
                refused.error_fields().iter().any(|f| f.starts_with(field)),
                "{body}: {:?}",
                refused.body
            );
        }
        // Another organization's decision is not one of ours.
        let other = app.company().await;
        let pos = app.integration_token(&other.org, "pos", "decisions:write");
        let decision = app
            .post(
                "/v1/decisions",
                &pos,
                json!({"member_id": other.ana.id, "action": "refund", "amount_minor": 100,
                   "currency": "EUR", "client_ref": "X", "touchpoint": "pos"}),
            )
            .await
            .expect(201)
            .id();
        let mut theirs = csat(&c.ana.id, 4, "theirs");
        theirs["decision_id"] = json!(decision);
        let refused = app
            .post("/v1/satisfaction-scores", &crm, theirs)
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["decision_id"]);
        // Nor are its members and teams, named alone or beside one of ours.
        let foreign: [(&str, &str, &str); 3] = [
            ("member_id", &other.ana.id, "member_id"),
            ("team_id", &other.front_desk, "team_id"),
            ("member_id", &other.cook.id, "member_id"),
        ];
        for (field, id, named) in foreign {
            let mut theirs = csat(&c.ana.id, 4, "theirs");
            theirs[field] = json!(id);
            if field == "member_id" && id == other.cook.id {
                theirs["team_id"] = json!(c.kitchen);
            }
            let refused = app
                .post("/v1/satisfaction-scores", &crm, theirs)
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), [named]);
        }
        let mut raw = RawConn::open(&app);
        assert!(
            raw.rows("outbox_events", &format!("org_id = '{}'", c.org))
                .iter()
                .all(|e| !e.contains("score.")),
            "a refused score announces nothing"
        );
        assert!(
            raw.rows(
                "audit_events",
                &format!("org_id = '{}' AND action LIKE 'score.%'", c.org)
            )
            .is_empty(),
            "a refused score is not audited"
        );
        // Staff do not rate clients' service; integrations need the scope.
        app.post(
            "/v1/satisfaction-scores",
            &c.ana.token,
            csat(&c.ana.id, 5, "self"),
        )
        .await
        .expect_problem(403);
        let reader = app.integration_token(&c.org, "bi", "scores:read");
        app.post("/v1/satisfaction-scores", &reader, csat(&c.ana.id, 5, "ro"))
            .await
            .expect_problem(403);
        assert!(
            app.list_items("/v1/satisfaction-scores", &crm)
                .await
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_batch_answers_each_item_in_order_and_a_retry_creates_nothing_twice() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = crm(&app, &c);
        let items = json!([
            csat(&c.ana.id, 5, "b-1"),
            csat(&c.ana.id, 9, "b-2"),
            {"audience": "client"},
            csat(&c.ben.id, 4, "b-1"),
            csat(&c.ben.id, 3, "b-3"),
            csat("0193a0b4-7c2e-7000-8000-00000000a001", 3, "b-4"),
        ]);
        let answered = app
            .post(
                "/v1/satisfaction-scores/batch",
                &crm,
                json!({"items": items}),
            )
            .await
            .expect(200);
        let statuses: Vec<&str> = answered
            .items()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                "created",
                "invalid",
                "invalid",
                "duplicate",
                "created",
                "invalid"
            ]
        );
        let indexes: Vec<i64> = answered
            .items()
            .iter()
            .map(|i| i["index"].as_i64().unwrap())
            .collect();
        assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            answered.items()[1]["problem"]["errors"][0]["field"],
            "score"
        );
        assert_eq!(answered.items()[1]["problem"]["status"], 422);
        assert_eq!(
            answered.items()[5]["problem"]["errors"][0]["field"],
            "member_id"
        );
        assert_eq!(answered.items()[3]["id"], answered.items()[0]["id"]);
        assert_eq!(
            app.list_items("/v1/satisfaction-scores", &crm).await.len(),
            2
        );

        // The CRM sends the batch again (no key): every valid item is a duplicate now.
        let again = app
            .post(
                "/v1/satisfaction-scores/batch",
                &crm,
                json!({"items": items}),
            )
            .await
            .expect(200);
        let statuses: Vec<&str> = again
            .items()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                "duplicate",
                "invalid",
                "invalid",
                "duplicate",
                "duplicate",
                "invalid"
            ]
        );
        assert_eq!(
            app.list_items("/v1/satisfaction-scores", &crm).await.len(),
            2
        );

        // A thousand items fit; one more is refused whole.
        let many: Vec<Value> = (0..1000)
            .map(|i| csat(&c.cai.id, 4, &format!("m-{i}")))
            .collect();
        let big = app
            .post(
                "/v1/satisfaction-scores/batch",
                &crm,
                json!({"items": many}),
            )
            .await
            .expect(200);
        assert!(big.items().iter().all(|i| i["status"] == "created"));
        let too_many: Vec<Value> = (0..1001)
            .map(|i| csat(&c.cai.id, 4, &format!("x-{i}")))
            .collect();
        let refused = app
            .post(
                "/v1/satisfaction-scores/batch",
                &crm,
                json!({"items": too_many}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["items"]);
        // The batch path is not an id.
        let wrong_method = app
            .get("/v1/satisfaction-scores/batch", &crm)
            .await
            .expect_problem(405);
        assert_eq!(wrong_method.header("allow"), Some("POST"));
        let mut raw = RawConn::open(&app);
        assert!(
            raw.rows("satisfaction_scores", "external_id LIKE 'x-%'")
                .is_empty()
        );
        assert_eq!(
            raw.rows("satisfaction_scores", "external_id LIKE 'm-%'")
                .len(),
            1000
        );
    })
    .await;
}

#[tokio::test]
async fn an_employee_answer_keeps_no_trace_of_who_gave_it() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let enps = json!({"audience": "employee", "instrument": "nps", "score": 3, "team_id": c.front_desk,
                          "touchpoint": "other", "occurred_at": "2026-11-30T15:42:07Z", "source": "pulse",
                          "external_id": format!("pulse-{}", c.ana.id), "comment": "Too many late shifts"});
        let given = app.post("/v1/satisfaction-scores", &c.ana.token, enps.clone()).await.expect(201);
        let midnight = |field: &str| given.body[field].as_str().unwrap().ends_with("T00:00:00.000000Z");
        assert!(given.body["occurred_at"].as_str().unwrap().starts_with("2026-11-30T"));
        assert!(midnight("occurred_at") && midnight("created_at"), "{}", given.body);
        assert_eq!(given.body["external_id"], Value::Null);
        assert!(given.header("location").is_none());
        // A retry of the same answer is the same answer.
        let again = app.post("/v1/satisfaction-scores", &c.ana.token, enps.clone()).await.expect(200);
        assert_eq!(again.id(), given.id());
        // Anyone else sending the same external id learns nothing of Ana's answer.
        let mut probe = enps.clone();
        probe["score"] = json!(0);
        probe["comment"] = Value::Null;
        for other in [&c.manager.token, &c.ben.token] {
            let answered = app.post("/v1/satisfaction-scores", other, probe.clone()).await;
            assert_eq!(answered.status, 201, "{}", answered.body);
            assert_ne!(answered.id(), given.id());
            assert!(!answered.text.contains("late shifts"), "{}", answered.text);
        }
        // Only for one's own team, naming no one.
        let mut other_team = enps.clone();
        other_team["team_id"] = json!(c.kitchen);
        app.post("/v1/satisfaction-scores", &c.ana.token, other_team).await.expect_problem(422);
        let mut naming = enps.clone();
        naming["member_id"] = json!(c.ana.id);
        app.post("/v1/satisfaction-scores", &c.ana.token, naming).await.expect_problem(422);
        // Read only in aggregate.
        let owner = &c.owner;
        app.get(&format!("/v1/satisfaction-scores/{}", given.id()), owner).await.expect_problem(404);
        app.get("/v1/satisfaction-scores?audience=employee", owner).await.expect_problem(422);
        assert!(app.list_items("/v1/satisfaction-scores", owner).await.is_empty());

        let mut raw = RawConn::open(&app);
        let rows: Vec<String> = [
            ("satisfaction_scores", "1 = 1"),
            ("audit_events", "entity_type = 'satisfaction_score'"),
            ("outbox_events", "event_type LIKE 'score.%'"),
            ("idempotency_keys", "1 = 1"),
        ]
        .iter()
        .flat_map(|(table, rows)| raw.rows(table, rows))
        .collect();
        assert_eq!(rows.len(), 12, "three scores, their audit entries, two events each: {rows:?}");
        for row in &rows {
            assert!(!row.contains(&c.ana.id), "{row}");
            assert!(!row.contains("15:42"), "{row}");
        }
        let stored = raw.rows("satisfaction_scores", "1 = 1");
        assert_eq!(stored.len(), 3, "Ana's answer and the two others'");
        assert!(stored.iter().any(|row| row.contains("Too many late shifts")));
        assert!(stored.iter().all(|row| !row.contains("pulse-")), "external ids are kept only hashed: {stored:?}");
        let audit = raw.rows("audit_events", "action = 'score.recorded'");
        assert_eq!(audit.len(), 3);
        assert!(audit[0].contains("anonymous"), "{}", audit[0]);
    })
    .await;
}
