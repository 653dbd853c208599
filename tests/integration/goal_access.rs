//! Who may do what with goals: managers for the people under them (transitively) and those
//! people's teams; staff read their own and their team's goals and check in on their own;
//! integrations by scope; a deactivated member's token is refused. Each refusal is a 403
//! problem that changes nothing.

use serde_json::json;

use crate::support::for_each_backend;
use crate::support::people::{member_goal, team_goal};

#[tokio::test]
async fn managers_set_and_change_goals_only_for_the_people_under_them_and_their_teams() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let m = &c.manager.token;
        for owner in [&c.ana.id, &c.cai.id] {
            app.post("/v1/goals", m, member_goal(owner))
                .await
                .expect(201);
        }
        app.post("/v1/goals", m, team_goal(&c.front_desk))
            .await
            .expect(201);
        for refused in [
            member_goal(&c.cook.id),
            member_goal(&c.manager.id),
            team_goal(&c.kitchen),
        ] {
            app.post("/v1/goals", m, refused).await.expect_problem(403);
        }

        let cooks = app
            .post("/v1/goals", &c.owner, member_goal(&c.cook.id))
            .await
            .expect(201)
            .id();
        let path = format!("/v1/goals/{cooks}");
        app.get(&path, m).await.expect_problem(403);
        app.patch(&path, m, json!({"title": "mine now"}))
            .await
            .expect_problem(403);
        app.post(&format!("{path}/cancel"), m, json!({"reason": "no"}))
            .await
            .expect_problem(403);
        app.post(&format!("{path}/check-ins"), m, json!({"value": 1}))
            .await
            .expect_problem(403);
        app.get(&format!("{path}/check-ins"), m)
            .await
            .expect_problem(403);
        // Nor may a manager move a goal they manage to someone they do not.
        let anas = app
            .list_items(&format!("/v1/goals?owner_member_id={}", c.ana.id), m)
            .await;
        app.patch(
            &format!("/v1/goals/{}", anas[0]["id"].as_str().unwrap()),
            m,
            json!({"owner_member_id": c.cook.id}),
        )
        .await
        .expect_problem(403);

        // A goal she may not read cannot be the parent of one she sets: it is as if missing.
        let mut aligned = member_goal(&c.ana.id);
        aligned["parent_goal_id"] = json!(cooks);
        let refused = app.post("/v1/goals", m, aligned).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["parent_goal_id"]);
        let seen = app.list_items("/v1/goals", m).await;
        assert_eq!(seen.len(), 3, "Ana's, Cai's, the front desk's");
        assert!(seen.iter().all(|g| g["id"] != cooks.as_str()));
        let untouched = app.get(&path, &c.owner).await.expect(200);
        assert_eq!(untouched.body["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn staff_read_their_own_and_their_teams_goals_and_check_in_only_on_their_own() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let make = |body| {
            let app = &app;
            let owner = c.owner.clone();
            async move { app.post("/v1/goals", &owner, body).await.expect(201).id() }
        };
        let anas = make(member_goal(&c.ana.id)).await;
        let team = make(team_goal(&c.front_desk)).await;
        let bens = make(member_goal(&c.ben.id)).await;
        let kitchen = make(team_goal(&c.kitchen)).await;
        let ana = &c.ana.token;

        app.get(&format!("/v1/goals/{anas}"), ana).await.expect(200);
        app.get(&format!("/v1/goals/{team}"), ana).await.expect(200);
        for hidden in [&bens, &kitchen] {
            app.get(&format!("/v1/goals/{hidden}"), ana)
                .await
                .expect_problem(403);
        }
        let mut seen: Vec<String> = app
            .list_items("/v1/goals", ana)
            .await
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect();
        seen.sort();
        let mut expected = vec![anas.clone(), team.clone()];
        expected.sort();
        assert_eq!(seen, expected);

        app.post("/v1/goals", ana, member_goal(&c.ana.id))
            .await
            .expect_problem(403);
        app.patch(
            &format!("/v1/goals/{anas}"),
            ana,
            json!({"title": "easier"}),
        )
        .await
        .expect_problem(403);
        app.post(
            &format!("/v1/goals/{anas}/cancel"),
            ana,
            json!({"reason": "no"}),
        )
        .await
        .expect_problem(403);
        app.post(
            &format!("/v1/goals/{anas}/check-ins"),
            ana,
            json!({"value": 3}),
        )
        .await
        .expect(201);
        for not_hers in [&team, &bens] {
            app.post(
                &format!("/v1/goals/{not_hers}/check-ins"),
                ana,
                json!({"value": 3}),
            )
            .await
            .expect_problem(403);
        }
        // Cai reports to Ana, but her role is staff: she acts for herself only.
        let cais = make(member_goal(&c.cai.id)).await;
        app.get(&format!("/v1/goals/{cais}"), ana)
            .await
            .expect_problem(403);
        app.post(
            &format!("/v1/goals/{cais}/check-ins"),
            ana,
            json!({"value": 3}),
        )
        .await
        .expect_problem(403);
        let untouched = app
            .get(&format!("/v1/goals/{bens}"), &c.owner)
            .await
            .expect(200);
        assert_eq!(untouched.body["current_value"], serde_json::Value::Null);
    })
    .await;
}

#[tokio::test]
async fn integrations_need_goal_scopes_and_a_deactivated_members_token_is_refused_at_once() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let reader = app.integration_token(&c.org, "hr", "goals:read");
        let writer = app.integration_token(&c.org, "hr", "goals:write");
        let neither = app.integration_token(&c.org, "hr", "members:read");
        let id = app
            .post("/v1/goals", &writer, member_goal(&c.ana.id))
            .await
            .expect(201)
            .id();
        app.get(&format!("/v1/goals/{id}"), &reader)
            .await
            .expect(200);
        app.post("/v1/goals", &reader, member_goal(&c.ana.id))
            .await
            .expect_problem(403);
        app.get("/v1/goals", &neither).await.expect_problem(403);

        app.get(&format!("/v1/goals/{id}"), &c.ana.token)
            .await
            .expect(200);
        app.patch(
            &format!("/v1/members/{}", c.ana.id),
            &c.owner,
            json!({"active": false}),
        )
        .await
        .expect(200);
        app.get(&format!("/v1/goals/{id}"), &c.ana.token)
            .await
            .expect_problem(403);
        app.post(
            &format!("/v1/goals/{id}/check-ins"),
            &c.ana.token,
            json!({"value": 10}),
        )
        .await
        .expect_problem(403);
        let unchanged = app
            .get(&format!("/v1/goals/{id}"), &c.owner)
            .await
            .expect(200);
        assert_eq!(unchanged.body["status"], "active");
    })
    .await;
}
