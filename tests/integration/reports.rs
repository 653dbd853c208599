//! Reports over HTTP, against numbers worked out by hand: an NPS of +40 with its margin of
//! error, a CSAT of 80 % with its Wilson bounds, local days across a daylight-saving change,
//! and employee groups too small to show.

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::for_each_backend;

fn score(instrument: &str, score: i64, team: &str, at: &str, id: &str) -> Value {
    json!({"audience": "client", "instrument": instrument, "score": score, "team_id": team,
           "touchpoint": "visit", "occurred_at": at, "source": "crm", "external_id": id})
}

async fn batch(app: &TestApp, token: &str, items: Vec<Value>) {
    let answered = app
        .post(
            "/v1/satisfaction-scores/batch",
            token,
            json!({"items": items}),
        )
        .await
        .expect(200);
    assert!(
        answered.items().iter().all(|i| i["status"] == "created"),
        "{}",
        answered.body
    );
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 0.01)
}

#[tokio::test]
async fn how_are_my_two_shops_doing_this_month_with_their_uncertainty() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = app.integration_token(&c.org, "crm", "scores:write");
        let at = "2026-11-10T10:00:00Z";
        let mut items = Vec::new();
        // Front desk: NPS 9, 10, 9, 10, 9, 9 (promoters), 7, 8 (passives), 3, 6 (detractors).
        for (i, s) in [9, 10, 9, 10, 9, 9, 7, 8, 3, 6].iter().enumerate() {
            items.push(score("nps", *s, &c.front_desk, at, &format!("n-{i}")));
        }
        // Front desk: CSAT 5, 4, 5, 4, 5, 4, 5, 4 (satisfied), 2, 1.
        for (i, s) in [5, 4, 5, 4, 5, 4, 5, 4, 2, 1].iter().enumerate() {
            items.push(score("csat", *s, &c.front_desk, at, &format!("c-{i}")));
        }
        // Kitchen: one CSAT of 5 and a CES of 2 and 5, with I-CARE sub-scores on one.
        items.push(score("csat", 5, &c.kitchen, at, "k-1"));
        items.push(score("ces", 2, &c.kitchen, at, "k-2"));
        let mut with_icare = score("ces", 5, &c.kitchen, at, "k-3");
        with_icare["icare"] = json!({"empathy": 4, "response": 2});
        items.push(with_icare);
        // Outside the month: not counted.
        items.push(score(
            "csat",
            1,
            &c.front_desk,
            "2026-10-31T22:59:00Z",
            "old",
        ));
        batch(&app, &crm, items).await;

        let bi = app.integration_token(&c.org, "bi", "reports:read");
        let report = app
            .get(
                "/v1/reports/satisfaction?group_by=team&from=2026-11-01&to=2026-12-01",
                &bi,
            )
            .await
            .expect(200);
        let rows = report.items();
        assert_eq!(rows.len(), 2, "{}", report.body);
        let front = rows
            .iter()
            .find(|r| r["team_id"] == c.front_desk.as_str())
            .unwrap();
        assert_eq!(front["count"], 20);
        assert!(close(&front["nps"], 40.0), "{front}");
        // Var = 0.6 + 0.2 − 0.4² = 0.64; 1.959964 · √(0.64 / 10) · 100
        assert!(close(&front["nps_margin_of_error"], 49.58), "{front}");
        assert_eq!(
            (
                front["promoters"].clone(),
                front["passives"].clone(),
                front["detractors"].clone()
            ),
            (json!(6), json!(2), json!(2))
        );
        assert!(close(&front["csat_pct"], 80.0), "{front}");
        // Wilson, n = 10, p = 0.8, z = 1.959964: (0.8 + z²/20 ± z·√(0.016 + z²/400)) / (1 + z²/10)
        assert!(close(&front["csat_ci"]["low"], 49.02), "{front}");
        assert!(close(&front["csat_ci"]["high"], 94.33), "{front}");
        assert_eq!(front["ces_avg"], Value::Null);
        let kitchen = rows
            .iter()
            .find(|r| r["team_id"] == c.kitchen.as_str())
            .unwrap();
        assert!(close(&kitchen["csat_pct"], 100.0));
        assert!(close(&kitchen["ces_avg"], 3.5));
        assert!(
            close(&kitchen["icare"]["empathy"], 4.0) && close(&kitchen["icare"]["response"], 2.0)
        );
        assert_eq!(kitchen["icare"]["ideal"], Value::Null);
        assert_eq!(kitchen["nps"], Value::Null);

        // The whole organization, NPS only.
        let all = app
            .get(
                "/v1/reports/satisfaction?instrument=nps&from=2026-11-01&to=2026-12-01",
                &bi,
            )
            .await
            .expect(200);
        assert_eq!(all.items().len(), 1);
        assert_eq!(all.items()[0]["count"], 10);
        assert!(close(&all.items()[0]["nps"], 40.0));

        // Reports need the right.
        app.get("/v1/reports/satisfaction", &c.ana.token)
            .await
            .expect_problem(403);
        app.get("/v1/reports/satisfaction", &crm)
            .await
            .expect_problem(403);
        app.get("/v1/reports/satisfaction?interval=day", &bi)
            .await
            .expect_problem(422);
        app.get(
            "/v1/reports/satisfaction?interval=day&from=2000-01-01&to=2026-01-01",
            &bi,
        )
        .await
        .expect_problem(422);
        app.get("/v1/reports/satisfaction?group_by=shoe", &bi)
            .await
            .expect_problem(400);
    })
    .await;
}

#[tokio::test]
async fn local_days_hold_across_the_autumn_change_and_small_employee_groups_are_suppressed() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let crm = app.integration_token(&c.org, "crm", "scores:write");
        // Madrid leaves summer time on 25 October 2026. 22:30 UTC on the 24th is 00:30 on the
        // 25th there; 22:30 UTC on the 25th is 23:30 on the 25th; 23:30 UTC is 00:30 on the 26th.
        batch(&app, &crm, vec![
            score("csat", 5, &c.front_desk, "2026-10-24T22:30:00Z", "d-1"),
            score("csat", 1, &c.front_desk, "2026-10-25T22:30:00Z", "d-2"),
            score("csat", 4, &c.front_desk, "2026-10-25T23:30:00Z", "d-3"),
        ])
        .await;
        let days = app
            .get("/v1/reports/satisfaction?interval=day&from=2026-10-25&to=2026-10-27", &c.owner)
            .await
            .expect(200);
        let rows: Vec<(String, i64)> = days
            .items()
            .iter()
            .map(|r| (r["period_start"].as_str().unwrap().to_owned(), r["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(rows, [("2026-10-24T22:00:00Z".to_owned(), 2), ("2026-10-25T23:00:00Z".to_owned(), 1)]);
        assert!(close(&days.items()[0]["csat_pct"], 50.0));

        // Employee answers: four are too few to show (the default threshold is 5), five show.
        let enps = |s: i64, id: &str| json!({"audience": "employee", "instrument": "nps", "score": s,
            "team_id": c.front_desk, "touchpoint": "other", "occurred_at": "2026-11-20T09:00:00Z",
            "source": "pulse", "external_id": id});
        let answers = [(&c.ana.token, 10, "e-1"), (&c.ben.token, 3, "e-2"), (&c.cai.token, 9, "e-3"), (&c.manager.token, 9, "e-4")];
        for (token, s, id) in answers {
            app.post("/v1/satisfaction-scores", token, enps(s, id)).await.expect(201);
        }
        let path = "/v1/reports/satisfaction?audience=employee&group_by=team&from=2026-11-01&to=2026-12-01";
        let few = app.get(path, &c.owner).await.expect(200);
        assert_eq!(few.items().len(), 1);
        assert_eq!(few.items()[0]["suppressed"], true);
        assert_eq!(few.items()[0]["count"], Value::Null);
        assert_eq!(few.items()[0]["nps"], Value::Null);
        app.post("/v1/satisfaction-scores", &c.owner, enps(6, "e-5")).await.expect(201);
        let enough = app.get(path, &c.owner).await.expect(200);
        assert_eq!(enough.items()[0]["suppressed"], false);
        assert_eq!(enough.items()[0]["count"], 5);
        // 3 promoters (10, 9, 9) and 2 detractors (3, 6) of 5: +20
        assert!(close(&enough.items()[0]["nps"], 20.0), "{}", enough.body);
        // Two CSAT answers beside them: the group shows, those two do not.
        for (token, id) in [(&c.ana.token, "c-1"), (&c.ben.token, "c-2")] {
            let mut answer = enps(4, id);
            answer["instrument"] = json!("csat");
            app.post("/v1/satisfaction-scores", token, answer).await.expect(201);
        }
        let mixed = app.get(path, &c.owner).await.expect(200);
        let row = &mixed.items()[0];
        assert_eq!(row["suppressed"], false);
        assert_eq!(row["count"], 7);
        assert!(close(&row["nps"], 20.0));
        assert_eq!((row["csat_pct"].clone(), row["csat_count"].clone(), row["csat_ci"].clone()), (Value::Null, Value::Null, Value::Null), "{row}");
    })
    .await;
}

#[tokio::test]
async fn the_mirror_sets_how_each_team_is_treated_beside_how_it_treats_clients() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let bar = app.create_team(&c.owner, "Bar").await;
        let terrace = app.create_team(&c.owner, "Terrace").await;
        let cellar = app.create_team(&c.owner, "Cellar").await;
        let at = "2026-11-12T10:00:00Z";
        let employee = |team: &str, s: i64, id: String| json!({"audience": "employee", "instrument": "nps",
            "score": s, "team_id": team, "touchpoint": "other", "occurred_at": at, "source": "pulse", "external_id": id});
        // eNPS +100, +40, −20, −100 (five answers each, the threshold), and two in the cellar.
        let answers: [(&str, [i64; 5]); 4] = [
            (&c.front_desk, [10, 10, 10, 10, 10]),
            (&c.kitchen, [10, 10, 10, 8, 3]),
            (&bar, [9, 8, 7, 3, 2]),
            (&terrace, [5, 4, 3, 2, 1]),
        ];
        let mut items = Vec::new();
        for (team, scores) in &answers {
            for (i, s) in scores.iter().enumerate() {
                items.push(employee(team, *s, format!("{team}-{i}")));
            }
        }
        items.push(employee(&cellar, 10, "cellar-1".into()));
        items.push(employee(&cellar, 0, "cellar-2".into()));
        batch(&app, &c.owner, items).await;
        // Client CSAT 100 %, 75 %, 50 %, 50 %.
        let crm = app.integration_token(&c.org, "crm", "scores:write");
        let csat: [(&str, [i64; 4]); 4] = [
            (&c.front_desk, [5, 5, 4, 4]),
            (&c.kitchen, [5, 4, 4, 2]),
            (&bar, [5, 4, 2, 1]),
            (&terrace, [4, 4, 3, 3]),
        ];
        let mut items = Vec::new();
        for (team, scores) in &csat {
            for (i, s) in scores.iter().enumerate() {
                items.push(score("csat", *s, team, at, &format!("csat-{team}-{i}")));
            }
        }
        batch(&app, &crm, items).await;
        // One upward rating of the front desk's lead: too few to show.
        app.post("/v1/feedback", &c.ana.token, json!({"kind": "upward", "subject_member_id": c.manager.id,
                 "rating": 4, "body": "Listens"}))
            .await
            .expect(201);

        // Open-ended: the upward rating is dated now, whatever the day the test runs.
        let mirror = app.get("/v1/reports/mirror?from=2026-11-01", &c.owner).await.expect(200);
        let team = |id: &str| mirror.items().iter().find(|r| r["team_id"] == id).unwrap().clone();
        let front = team(&c.front_desk);
        assert!(close(&front["employees"]["enps"], 100.0), "{front}");
        assert!(close(&front["clients"]["csat_pct"], 100.0));
        assert_eq!(front["lead_member_id"], c.manager.id.as_str());
        assert_eq!(front["employees"]["upward_suppressed"], true);
        assert_eq!(front["employees"]["upward_average_rating"], Value::Null);
        assert!(close(&team(&c.kitchen)["employees"]["enps"], 40.0));
        assert!(close(&team(&bar)["employees"]["enps"], -20.0));
        assert!(close(&team(&terrace)["employees"]["enps"], -100.0));
        let cellar_row = team(&cellar);
        assert_eq!(cellar_row["employees"]["enps_suppressed"], true);
        assert_eq!(cellar_row["employees"]["enps"], Value::Null);
        assert_eq!(cellar_row["employees"]["enps_count"], Value::Null);
        // x = (100, 40, −20, −100), y = (100, 75, 50, 50): Σdxdy 5625, Σdx² 21900, Σdy² 1718.75.
        assert_eq!(mirror.body["correlation"]["n"], 4);
        assert!(close(&mirror.body["correlation"]["r"], 0.9168), "{}", mirror.body["correlation"]);
    })
    .await;
}

#[tokio::test]
async fn empowerment_counts_what_was_decided_on_the_spot_and_how_clients_felt_after() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        app.post("/v1/delegations", &c.manager.token, json!({"delegate_member_id": c.ana.id, "action": "refund",
                 "currency": "EUR", "per_decision_limit_minor": 2000, "budget_minor": 5000, "budget_period": "day",
                 "rationale": "Refund defective items on the spot"}))
            .await
            .expect(201);
        let pos = app.integration_token(&c.org, "pos", "decisions:write");
        let mut decided = Vec::new();
        for _ in 0..5 {
            let d = app
                .post("/v1/decisions", &pos, json!({"member_id": c.ana.id, "action": "refund", "amount_minor": 1500,
                       "currency": "EUR", "client_ref": "POS-1", "touchpoint": "pos"}))
                .await
                .expect(201);
            decided.push(d.body.clone());
        }
        let outcomes: Vec<&str> = decided.iter().map(|d| d["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["approved", "approved", "approved", "escalated", "escalated"]);
        let escalation = decided[3]["escalation_id"].as_str().unwrap();
        app.post(&format!("/v1/escalations/{escalation}/resolve"), &c.manager.token,
                 json!({"resolution": "approved", "note": "Go ahead"}))
            .await
            .expect(200);
        // The last escalation is left open past its due time.
        crate::support::locks::RawConn::open(&app)
            .execute("UPDATE escalations SET response_due_at = '2020-01-01 00:00:00' WHERE responded_at IS NULL");
        // Clients rate two contacts decided on the spot 5 and 4, the escalated one 2.
        let crm = app.integration_token(&c.org, "crm", "scores:write");
        for (decision, s) in [(&decided[0], 5), (&decided[1], 4), (&decided[3], 2)] {
            let mut body = score("csat", s, &c.front_desk, "2026-11-30T10:00:00Z", decision["id"].as_str().unwrap());
            body["decision_id"] = decision["id"].clone();
            body["member_id"] = json!(c.ana.id);
            app.post("/v1/satisfaction-scores", &crm, body).await.expect(201);
        }

        let report = app.get("/v1/reports/empowerment?group_by=member", &c.owner).await.expect(200);
        assert_eq!(report.items().len(), 1, "{}", report.body);
        let ana = &report.items()[0];
        assert_eq!(ana["member_id"], c.ana.id.as_str());
        assert_eq!((ana["decisions"].clone(), ana["approved"].clone(), ana["escalated"].clone()), (json!(5), json!(3), json!(2)));
        assert!(close(&ana["empowerment_rate"], 0.6));
        assert_eq!(ana["approved_minor"], 4500);
        assert!(close(&ana["budget_utilisation"], 0.9), "{ana}");
        assert_eq!(ana["overdue"], 1);
        let p50 = ana["response_p50_seconds"].as_f64().unwrap();
        assert!((0.0..60.0).contains(&p50), "{ana}");
        assert_eq!(ana["response_p90_seconds"], ana["response_p50_seconds"]);
        assert_eq!(ana["csat_after_on_the_spot"], json!({"count": 2, "csat_pct": 100.0}));
        assert_eq!(ana["csat_after_escalated"], json!({"count": 1, "csat_pct": 0.0}));
        let teams = app.get("/v1/reports/empowerment?group_by=team", &c.owner).await.expect(200);
        assert_eq!(teams.items()[0]["team_id"], c.front_desk.as_str());
        assert_eq!(teams.items()[0]["decisions"], 5);
    })
    .await;
}

#[tokio::test]
async fn the_goals_report_sets_goals_built_on_strengths_beside_the_others() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let goal = |strengths: Value, start: &str, due: &str, status: &str| {
            let mut body = crate::support::people::member_goal(&c.ana.id);
            body["strengths"] = strengths;
            body["start_date"] = json!(start);
            body["due_date"] = json!(due);
            body["status"] = json!(status);
            let (app, owner) = (&app, c.owner.clone());
            async move { app.post("/v1/goals", &owner, body).await.expect(201).id() }
        };
        let check_in = |id: String, value: f64| {
            let (app, token) = (&app, c.ana.token.clone());
            async move {
                app.post(
                    &format!("/v1/goals/{id}/check-ins"),
                    &token,
                    json!({"value": value}),
                )
                .await
                .expect(201);
            }
        };
        // Built on her strength (networking): one achieved, one missed.
        let achieved = goal(json!([" Networking"]), "2026-11-01", "2099-12-31", "active").await;
        check_in(achieved, 10.0).await;
        goal(json!(["networking"]), "2020-01-01", "2020-12-31", "active").await;
        // Not built on it: one at 40 %, one draft.
        let baking = goal(json!(["baking"]), "2026-11-01", "2099-12-31", "active").await;
        check_in(baking, 4.0).await;
        goal(json!([]), "2026-11-01", "2099-12-31", "draft").await;

        let report = app
            .get("/v1/reports/goals?group_by=member", &c.owner)
            .await
            .expect(200);
        assert_eq!(report.items().len(), 1, "{}", report.body);
        let ana = &report.items()[0];
        assert_eq!(ana["member_id"], c.ana.id.as_str());
        assert_eq!(ana["goals"], 4);
        assert_eq!(
            ana["by_status"],
            json!({"draft": 1, "active": 1, "missed": 1, "achieved": 1, "cancelled": 0})
        );
        assert!(close(&ana["attainment_rate"], 0.5));
        // (1 + 0 + 0.4) / 3, drafts left out
        assert!(close(&ana["average_progress"], 1.4 / 3.0), "{ana}");
        assert!(close(&ana["share_using_strengths"], 0.5));
        assert_eq!(ana["using_strengths"]["goals"], 2);
        assert!(close(&ana["using_strengths"]["attainment_rate"], 0.5));
        assert_eq!(ana["not_using_strengths"]["goals"], 2);
        assert_eq!(ana["not_using_strengths"]["attainment_rate"], Value::Null);

        let team_goal = app
            .post(
                "/v1/goals",
                &c.owner,
                crate::support::people::team_goal(&c.front_desk),
            )
            .await
            .expect(201)
            .id();
        app.post(
            &format!("/v1/goals/{team_goal}/check-ins"),
            &c.owner,
            json!({"value": 5}),
        )
        .await
        .expect(201);
        let teams = app
            .get("/v1/reports/goals?group_by=team", &c.owner)
            .await
            .expect(200);
        assert_eq!(teams.items().len(), 1);
        assert_eq!(teams.items()[0]["team_id"], c.front_desk.as_str());
        assert!(
            close(&teams.items()[0]["average_progress"], 0.5),
            "{}",
            teams.body
        );
        assert_eq!(teams.items()[0]["share_using_strengths"], Value::Null);
    })
    .await;
}
