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
    })
    .await;
}
