//! Delegated authority at the counter, over HTTP: a manager's grant, the POS asking "may I?",
//! decisions approved on the spot against an exact budget, the one over it escalated to the
//! manager and answered; concurrency, periods, voids, revocation, expiry and every refusal.

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::for_each_backend;
use crate::support::locks::RawConn;
use crate::support::people::Company;

/// 50 EUR a day of refunds, at most 20 EUR each, for `member`.
fn refunds_for(member: &str) -> Value {
    json!({"delegate_member_id": member, "action": "refund", "currency": "EUR",
           "per_decision_limit_minor": 2000, "budget_minor": 5000, "budget_period": "day",
           "rationale": "Refund defective items on the spot"})
}

fn refund(member: &str, amount: i64) -> Value {
    json!({"member_id": member, "action": "refund", "amount_minor": amount, "currency": "EUR",
           "client_ref": "POS-1", "touchpoint": "pos"})
}

async fn grant(app: &TestApp, c: &Company, body: Value) -> String {
    app.post("/v1/delegations", &c.manager.token, body)
        .await
        .expect(201)
        .id()
}

#[tokio::test]
async fn a_cashier_decides_three_refunds_on_the_spot_and_the_fourth_goes_to_her_manager() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let grant = grant(&app, &c, refunds_for(&c.ana.id)).await;
        let pos = app.integration_token(&c.org, "pos-till-4", "decisions:write");

        let asked = app
            .post("/v1/authority/check", &pos, json!({"member_id": c.ana.id, "action": "refund", "amount_minor": 1500, "currency": "EUR"}))
            .await
            .expect(200);
        assert_eq!(asked.body["allowed"], true);
        assert_eq!(asked.body["delegation_id"], grant.as_str());
        assert_eq!(asked.body["remaining_minor_after"], 3500);

        for remaining in [3500, 2000, 500] {
            let decided = app.post("/v1/decisions", &pos, refund(&c.ana.id, 1500)).await.expect(201);
            assert_eq!(decided.body["outcome"], "approved");
            assert_eq!(decided.body["delegation_id"], grant.as_str());
            assert_eq!(decided.body["remaining_minor"], remaining);
        }
        let no = app
            .post("/v1/authority/check", &pos, json!({"member_id": c.ana.id, "action": "refund", "amount_minor": 1500, "currency": "EUR"}))
            .await
            .expect(200);
        assert_eq!(no.body["allowed"], false);
        let fourth = app.post("/v1/decisions", &pos, refund(&c.ana.id, 1500)).await.expect(201);
        assert_eq!(fourth.body["outcome"], "escalated");
        let escalation = fourth.body["escalation_id"].as_str().unwrap().to_owned();

        let state = app.get(&format!("/v1/delegations/{grant}"), &c.manager.token).await.expect(200);
        assert_eq!((state.body["used_minor"].as_i64(), state.body["remaining_minor"].as_i64(), state.body["decisions_in_period"].as_i64()), (Some(4500), Some(500), Some(3)));
        let authority = app.get(&format!("/v1/members/{}/authority?action=refund", c.ana.id), &c.ana.token).await.expect(200);
        assert_eq!(authority.body["items"][0]["remaining_minor"], 500);

        // The manager has it, within the target, and approves it.
        let waiting = app.list_items("/v1/escalations?status=open", &c.manager.token).await;
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0]["assignee_member_id"], c.manager.id.as_str());
        assert_eq!(waiting[0]["overdue"], false);
        app.post(&format!("/v1/escalations/{escalation}/resolve"), &c.ana.token, json!({"resolution": "approved"}))
            .await
            .expect_problem(403);
        let resolved = app
            .post(&format!("/v1/escalations/{escalation}/resolve"), &c.manager.token, json!({"resolution": "approved", "note": "Go ahead"}))
            .await
            .expect(200);
        assert_eq!(resolved.body["decision"]["outcome"], "approved_by_manager");
        assert_eq!(resolved.body["escalation"]["status"], "resolved");
        assert_eq!(resolved.body["escalation"]["overdue"], false);
        assert!(resolved.body["escalation"]["response_seconds"].as_i64().unwrap() < 60);
        app.post(&format!("/v1/escalations/{escalation}/resolve"), &c.manager.token, json!({"resolution": "rejected"}))
            .await
            .expect_problem(409);

        // Every step is on record.
        let decisions = app.list_items(&format!("/v1/decisions?member_id={}", c.ana.id), &c.owner).await;
        assert_eq!(decisions.len(), 4);
        assert_eq!(app.list_items("/v1/decisions?outcome=approved", &c.owner).await.len(), 3);
        let audit = app.list_items("/v1/audit-events?entity_type=decision", &c.owner).await;
        assert_eq!(audit.len(), 4);
        let mut raw = RawConn::open(&app);
        assert_eq!(raw.rows("outbox_events", "event_type = 'decision.escalated'").len(), 1);
        assert_eq!(raw.rows("outbox_events", "event_type = 'escalation.resolved'").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn two_hundred_concurrent_decisions_never_overspend_by_one_cent() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let mut body = refunds_for(&c.ben.id);
        body["per_decision_limit_minor"] = json!(100);
        body["budget_minor"] = json!(5000);
        let grant = grant(&app, &c, body).await;
        let pos = app.integration_token(&c.org, "pos", "decisions:write");
        let requests = (0..200).map(|_| app.post("/v1/decisions", &pos, refund(&c.ben.id, 100)));
        let answers = futures_util::future::join_all(requests).await;
        let mut approved = 0;
        for answer in answers {
            assert_eq!(answer.status, 201, "{}", answer.text);
            if answer.body["outcome"] == "approved" {
                approved += 1;
            }
        }
        assert_eq!(approved, 50);
        let state = app
            .get(&format!("/v1/delegations/{grant}"), &c.owner)
            .await
            .expect(200);
        assert_eq!(state.body["used_minor"], 5000);
        assert_eq!(state.body["decisions_in_period"], 50);
        let mut raw = RawConn::open(&app);
        let approved_rows = raw.rows("decisions", &format!("delegation_id = '{grant}'"));
        assert_eq!(approved_rows.len(), 50);
    })
    .await;
}

#[tokio::test]
async fn a_new_period_brings_a_fresh_budget_and_voids_revocation_and_expiry_hold() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let grant = grant(&app, &c, refunds_for(&c.ana.id)).await;
        let pos = app.integration_token(&c.org, "pos", "decisions:write");
        let first = app
            .post("/v1/decisions", &pos, refund(&c.ana.id, 2000))
            .await
            .expect(201);
        // As if the day had passed: yesterday's use stays yesterday's.
        let mut raw = RawConn::open(&app);
        let yesterday =
            (chrono::Utc::now() - chrono::TimeDelta::days(2)).format("%Y-%m-%d %H:%M:%S");
        raw.execute(&format!(
            "UPDATE delegation_usage SET period_start = '{yesterday}'; \
             UPDATE decisions SET period_start = '{yesterday}' WHERE period_start IS NOT NULL"
        ));
        let state = app
            .get(&format!("/v1/delegations/{grant}"), &c.owner)
            .await
            .expect(200);
        assert_eq!(state.body["used_minor"], 0, "{}", state.text);
        let today = app
            .post("/v1/decisions", &pos, refund(&c.ana.id, 2000))
            .await
            .expect(201);
        assert_eq!(today.body["remaining_minor"], 3000);
        // Voiding yesterday's gives nothing back to today; voiding today's does.
        app.post(
            &format!("/v1/decisions/{}/void", first.id()),
            &pos,
            json!({"reason": "rung up twice"}),
        )
        .await
        .expect(200);
        let voided = app
            .post(
                &format!("/v1/decisions/{}/void", today.id()),
                &pos,
                json!({"reason": "client kept it"}),
            )
            .await
            .expect(200);
        assert_eq!(voided.body["voided"], true);
        app.post(
            &format!("/v1/decisions/{}/void", today.id()),
            &pos,
            json!({"reason": "again"}),
        )
        .await
        .expect_problem(409);
        let state = app
            .get(&format!("/v1/delegations/{grant}"), &c.owner)
            .await
            .expect(200);
        assert_eq!(
            (
                state.body["used_minor"].as_i64(),
                state.body["decisions_in_period"].as_i64()
            ),
            (Some(0), Some(0))
        );

        // Revoked: decisions escalate; announced once.
        let revoked = app
            .post(
                &format!("/v1/delegations/{grant}/revoke"),
                &c.manager.token,
                json!({"reason": "moved to the kitchen"}),
            )
            .await
            .expect(200);
        assert_eq!(revoked.body["status"], "revoked");
        app.post(
            &format!("/v1/delegations/{grant}/revoke"),
            &c.manager.token,
            json!({"reason": "again"}),
        )
        .await
        .expect_problem(409);
        let after = app
            .post("/v1/decisions", &pos, refund(&c.ana.id, 100))
            .await
            .expect(201);
        assert_eq!(after.body["outcome"], "escalated");
        assert_eq!(
            raw.rows("outbox_events", "event_type = 'delegation.revoked'")
                .len(),
            1
        );

        // Expired: not in force.
        let mut old = refunds_for(&c.ben.id);
        old["valid_from"] = json!("2020-01-01T00:00:00Z");
        old["valid_until"] = json!("2021-01-01T00:00:00Z");
        let expired = app
            .post("/v1/delegations", &c.manager.token, old)
            .await
            .expect(201);
        assert_eq!(expired.body["status"], "expired");
        let escalated = app
            .post("/v1/decisions", &pos, refund(&c.ben.id, 100))
            .await
            .expect(201);
        assert_eq!(escalated.body["outcome"], "escalated");
        // A grant may also cap how many decisions a period takes.
        let mut capped = refunds_for(&c.cai.id);
        capped["max_decisions_per_period"] = json!(2);
        app.post("/v1/delegations", &c.owner, capped)
            .await
            .expect(201);
        let outcomes: Vec<Value> = {
            let mut outcomes = Vec::new();
            for _ in 0..3 {
                let decided = app
                    .post("/v1/decisions", &pos, refund(&c.cai.id, 100))
                    .await
                    .expect(201);
                outcomes.push(decided.body["outcome"].clone());
            }
            outcomes
        };
        assert_eq!(
            outcomes,
            [json!("approved"), json!("approved"), json!("escalated")]
        );
        // A team's grant covers its members, after their own.
        let mut team = refunds_for("");
        team.as_object_mut().unwrap().remove("delegate_member_id");
        team["delegate_team_id"] = json!(c.front_desk);
        let team_grant = app
            .post("/v1/delegations", &c.owner, team)
            .await
            .expect(201)
            .id();
        let covered = app
            .post("/v1/decisions", &pos, refund(&c.ben.id, 100))
            .await
            .expect(201);
        assert_eq!(covered.body["delegation_id"], team_grant.as_str());
    })
    .await;
}

#[tokio::test]
async fn every_refusal_is_a_clear_problem_and_changes_nothing() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        app.post("/v1/delegations", &c.ana.token, refunds_for(&c.cai.id))
            .await
            .expect_problem(403);
        app.post("/v1/delegations", &c.manager.token, refunds_for(&c.cook.id))
            .await
            .expect_problem(403);
        let mut team = refunds_for("");
        team.as_object_mut().unwrap().remove("delegate_member_id");
        team["delegate_team_id"] = json!(c.kitchen);
        app.post("/v1/delegations", &c.manager.token, team)
            .await
            .expect_problem(403);
        // Her own team's grant would cover her too: granting to herself.
        let mut own_team = refunds_for("");
        own_team.as_object_mut().unwrap().remove("delegate_member_id");
        own_team["delegate_team_id"] = json!(c.front_desk);
        app.post("/v1/delegations", &c.manager.token, own_team)
            .await
            .expect_problem(403);
        for (field, value) in [
            ("currency", json!("USD")),
            ("action", json!("bribe")),
            ("budget_minor", json!(0)),
            ("per_decision_limit_minor", json!(-5)),
            ("budget_minor", json!(i64::MAX)),
            ("valid_until", json!("+10000-01-01T00:00:00Z")),
        ] {
            let mut body = refunds_for(&c.ana.id);
            body[field] = value;
            let refused = app
                .post("/v1/delegations", &c.manager.token, body)
                .await
                .expect_problem(422);
            assert!(
                refused.error_fields().iter().any(|f| f == field),
                "{field}: {}",
                refused.text
            );
        }
        // A manager grants in their own name; an owner may name a delegator, who must be above
        // the delegate.
        let mut in_her_name = refunds_for(&c.ana.id);
        in_her_name["delegator_member_id"] = json!(c.cai.id);
        app.post("/v1/delegations", &c.manager.token, in_her_name.clone()).await.expect_problem(403);
        let refused = app.post("/v1/delegations", &c.owner, in_her_name).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["delegator_member_id"]);
        assert!(app.list_items("/v1/delegations", &c.owner).await.is_empty());
        let mut named = refunds_for(&c.cai.id);
        named["delegator_member_id"] = json!(c.ana.id);
        let made = app.post("/v1/delegations", &c.owner, named).await.expect(201);
        assert_eq!(made.body["delegator_member_id"], c.ana.id.as_str());
        app.post(&format!("/v1/delegations/{}/revoke", made.id()), &c.owner, json!({"reason": "test"})).await.expect(200);

        grant(&app, &c, refunds_for(&c.ana.id)).await;
        // Deciding as someone else.
        app.post("/v1/decisions", &c.ben.token, refund(&c.ana.id, 100))
            .await
            .expect_problem(403);
        app.post("/v1/decisions", &c.manager.token, refund(&c.cook.id, 100))
            .await
            .expect_problem(403);
        let crm = app.integration_token(&c.org, "crm", "members:read");
        app.post("/v1/decisions", &crm, refund(&c.ana.id, 100))
            .await
            .expect_problem(403);
        for (field, value) in [
            ("amount_minor", json!(0)),
            ("amount_minor", json!(-100)),
            ("amount_minor", json!(i64::MAX)),
            ("action", json!("teleport")),
            ("currency", json!("USD")),
            ("member_id", json!(uuid::Uuid::now_v7())),
        ] {
            let mut body = refund(&c.ana.id, 100);
            body[field] = value;
            let refused = app
                .post("/v1/decisions", &c.owner, body)
                .await
                .expect_problem(422);
            assert!(
                refused.error_fields().iter().any(|f| f == field),
                "{field}: {}",
                refused.text
            );
        }
        // An amount too large for 64 bits is refused as unreadable.
        let huge = refund(&c.ana.id, 1).to_string().replace(
            "\"amount_minor\":1",
            "\"amount_minor\":99999999999999999999999",
        );
        let refused = app
            .execute(
                app.client
                    .post(app.url("/v1/decisions"))
                    .bearer_auth(&c.ana.token)
                    .header("content-type", "application/json")
                    .body(huge),
            )
            .await;
        assert!([400, 422].contains(&refused.status), "{}", refused.text);
        // A deactivated member decides nothing: their token is refused, and no one decides for them.
        app.patch(
            &format!("/v1/members/{}", c.ben.id),
            &c.owner,
            json!({"active": false}),
        )
        .await
        .expect(200);
        app.post("/v1/decisions", &c.ben.token, refund(&c.ben.id, 100))
            .await
            .expect_problem(403);
        let pos = app.integration_token(&c.org, "pos", "decisions:write");
        let refused = app
            .post("/v1/decisions", &pos, refund(&c.ben.id, 100))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["member_id"]);
        let asked = app
            .post("/v1/authority/check", &pos, json!({"member_id": c.ben.id, "action": "refund", "amount_minor": 100, "currency": "EUR"}))
            .await
            .expect_problem(422);
        assert_eq!(asked.error_fields(), ["member_id"]);
        assert!(app.list_items("/v1/decisions", &c.owner).await.is_empty());
    })
    .await;
}
