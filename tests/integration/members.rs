//! Members: creation, references, external ids, filters, patch semantics, deactivation instead of
//! deletion, reporting cycles, the HR upsert by external id, tenant isolation, roles and scopes,
//! and the audit trail of a member's life.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Response, TestApp, for_each_backend};

/// Creates a member and returns its id.
async fn member(app: &TestApp, token: &str, body: Value) -> String {
    let created = app.post("/v1/members", token, body).await.expect(201);
    created.body["id"].as_str().expect("member id").to_owned()
}

/// Creates a team and returns its id.
async fn team(app: &TestApp, token: &str, name: &str) -> String {
    let created = app
        .post("/v1/teams", token, json!({"name": name}))
        .await
        .expect(201);
    created.body["id"].as_str().expect("team id").to_owned()
}

/// The display names of a list response's items, in order.
fn names(list: &Response) -> Vec<String> {
    list.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", list.text))
        .iter()
        .map(|m| m["display_name"].as_str().expect("display_name").to_owned())
        .collect()
}

/// The display names a member list query returns (one page of up to 200).
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let list = app
        .get(&format!("/v1/members?limit=200{query}"), token)
        .await
        .expect(200);
    assert_eq!(list.body["next_cursor"], Value::Null, "{}", list.text);
    names(&list)
}

/// Sends a JSON request with an `If-Match` header.
async fn with_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    etag: &str,
    body: Value,
) -> Response {
    let request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&body);
    app.execute(request).await
}

/// The audit events of one member, oldest first.
async fn member_events(app: &TestApp, owner: &str, id: &str) -> Vec<Value> {
    let events = app
        .get(
            &format!("/v1/audit-events?entity_type=member&entity_id={id}"),
            owner,
        )
        .await
        .expect(200);
    events.body["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn an_owner_creates_a_member_with_every_field() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = team(&app, &owner, "Bar").await;
        let ana = member(
            &app,
            &owner,
            json!({"display_name": "Ana", "role": "manager"}),
        )
        .await;

        let created = app
            .post(
                "/v1/members",
                &owner,
                json!({
                    "external_id": "HR-0042",
                    "display_name": "Beatriz Ortega",
                    "email": "bea@panaderia-sol.es",
                    "role": "staff",
                    "team_id": bar,
                    "manager_id": ana,
                    "strengths": ["calm under pressure", "latte art"],
                    "active": true,
                }),
            )
            .await
            .expect(201);
        let body = &created.body;
        let id = body["id"].as_str().expect("id");
        assert_eq!(
            uuid::Uuid::parse_str(id).expect("a UUID").get_version_num(),
            7
        );
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/members/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(body["external_id"], "HR-0042");
        assert_eq!(body["display_name"], "Beatriz Ortega");
        assert_eq!(body["email"], "bea@panaderia-sol.es");
        assert_eq!(body["role"], "staff");
        assert_eq!(body["team_id"], bar.as_str());
        assert_eq!(body["manager_id"], ana.as_str());
        assert_eq!(
            body["strengths"],
            json!(["calm under pressure", "latte art"])
        );
        assert_eq!(body["active"], true);
        assert_eq!(body["version"], 1);
        for stamp in ["created_at", "updated_at"] {
            let value = body[stamp].as_str().unwrap_or_default();
            assert!(
                value.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(value).is_ok(),
                "{stamp} is RFC 3339 UTC: {}",
                created.text
            );
        }

        let fetched = app
            .get(&format!("/v1/members/{id}"), &owner)
            .await
            .expect(200);
        assert_eq!(fetched.header("etag"), Some("\"1\""));
        assert_eq!(fetched.body, created.body);
    })
    .await;
}

#[tokio::test]
async fn a_minimal_member_is_active_with_nothing_else_set() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let created = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "owner"}),
            )
            .await
            .expect(201);
        let body = &created.body;
        assert_eq!(body["role"], "owner");
        assert_eq!(body["active"], true);
        assert_eq!(body["strengths"], json!([]));
        for optional in ["external_id", "email", "team_id", "manager_id"] {
            assert_eq!(body[optional], Value::Null, "{optional}: {}", created.text);
        }

        let inactive = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Old hand", "role": "staff", "active": false}),
            )
            .await
            .expect(201);
        assert_eq!(inactive.body["active"], false);
    })
    .await;
}

#[tokio::test]
async fn invalid_member_fields_are_reported_together_and_nothing_is_created() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let refused = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "", "email": "not-an-email", "role": "staff", "strengths": ["calm", "calm"]}),
            )
            .await
            .expect_problem(422);
        let mut fields = refused.error_fields();
        fields.sort();
        assert_eq!(fields, ["display_name", "email", "strengths[1]"], "{}", refused.text);

        let bad_role = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "boss"}))
            .await
            .expect_problem(422);
        assert_eq!(bad_role.error_fields(), ["role"], "{}", bad_role.text);

        let too_many: Vec<String> = (0..21).map(|i| format!("strength {i}")).collect();
        let crowded = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "staff", "strengths": too_many}))
            .await
            .expect_problem(422);
        assert_eq!(crowded.error_fields(), ["strengths"], "{}", crowded.text);

        let long = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "strengths": ["ok", "x".repeat(61)]}),
            )
            .await
            .expect_problem(422);
        assert_eq!(long.error_fields(), ["strengths[1]"], "{}", long.text);

        let empty = app
            .post("/v1/members", &owner, json!({"display_name": "Ana", "role": "staff", "strengths": [""]}))
            .await
            .expect_problem(422);
        assert_eq!(empty.error_fields(), ["strengths[0]"], "{}", empty.text);

        assert_eq!(listed(&app, &owner, "").await, Vec::<String>::new());

        // The limits themselves are allowed.
        let twenty: Vec<String> = (0..20).map(|i| format!("strength {i}")).collect();
        let full = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "strengths": twenty.clone()}),
            )
            .await
            .expect(201);
        assert_eq!(full.body["strengths"], json!(twenty));
        let widest = app
            .post("/v1/members", &owner, json!({"display_name": "Bea", "role": "staff", "strengths": ["y".repeat(60)]}))
            .await
            .expect(201);
        assert_eq!(widest.body["strengths"][0].as_str().map(str::len), Some(60));
    })
    .await;
}

#[tokio::test]
async fn a_members_team_and_manager_must_exist_in_the_same_organization() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let foreign_team = team(&app, &other_owner, "Bar").await;
        let foreign_manager = member(&app, &other_owner, json!({"display_name": "Eve", "role": "manager"})).await;
        let nowhere = uuid::Uuid::now_v7().to_string();

        for (body, field) in [
            (json!({"display_name": "Ana", "role": "staff", "team_id": nowhere}), "team_id"),
            (json!({"display_name": "Ana", "role": "staff", "team_id": foreign_team}), "team_id"),
            (json!({"display_name": "Ana", "role": "staff", "manager_id": nowhere}), "manager_id"),
            (json!({"display_name": "Ana", "role": "staff", "manager_id": foreign_manager}), "manager_id"),
        ] {
            let refused = app.post("/v1/members", &owner, body.clone()).await.expect_problem(422);
            assert_eq!(refused.error_fields(), [field], "{body}: {}", refused.text);
        }
        assert_eq!(listed(&app, &owner, "").await, Vec::<String>::new());

        // The same rule holds when a member is changed.
        let ana = member(&app, &owner, json!({"display_name": "Ana", "role": "staff"})).await;
        let path = format!("/v1/members/{ana}");
        let refused = app
            .patch(&path, &owner, json!({"manager_id": foreign_manager}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"]);
        let refused = app.patch(&path, &owner, json!({"team_id": foreign_team})).await.expect_problem(422);
        assert_eq!(refused.error_fields(), ["team_id"]);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        assert_eq!(unchanged.body["team_id"], Value::Null);
        assert_eq!(unchanged.body["version"], 1);

        // The other organization's own member may of course use its own team.
        member(&app, &other_owner, json!({"display_name": "Eva", "role": "staff", "team_id": foreign_team, "manager_id": foreign_manager}))
            .await;
    })
    .await;
}

#[tokio::test]
async fn external_ids_are_unique_within_an_organization_only() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let ana = member(
            &app,
            &owner,
            json!({"external_id": "E-1", "display_name": "Ana", "role": "staff"}),
        )
        .await;

        app.post(
            "/v1/members",
            &owner,
            json!({"external_id": "E-1", "display_name": "Impostor", "role": "staff"}),
        )
        .await
        .expect_problem(409);
        assert_eq!(listed(&app, &owner, "").await, ["Ana"]);

        let elsewhere = app
            .post(
                "/v1/members",
                &other_owner,
                json!({"external_id": "E-1", "display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        assert_eq!(elsewhere.body["external_id"], "E-1");

        // Taking another member's external id by a patch is the same conflict.
        let bea = member(
            &app,
            &owner,
            json!({"external_id": "E-2", "display_name": "Bea", "role": "staff"}),
        )
        .await;
        app.patch(
            &format!("/v1/members/{bea}"),
            &owner,
            json!({"external_id": "E-1"}),
        )
        .await
        .expect_problem(409);
        let unchanged = app
            .get(&format!("/v1/members/{bea}"), &owner)
            .await
            .expect(200);
        assert_eq!(unchanged.body["external_id"], "E-2");

        // Once released, the external id can be given to someone else.
        app.patch(
            &format!("/v1/members/{ana}"),
            &owner,
            json!({"external_id": null}),
        )
        .await
        .expect(200);
        let moved = app
            .patch(
                &format!("/v1/members/{bea}"),
                &owner,
                json!({"external_id": "E-1"}),
            )
            .await
            .expect(200);
        assert_eq!(moved.body["external_id"], "E-1");
    })
    .await;
}

#[tokio::test]
async fn members_are_listed_oldest_first_and_filtered_by_team_manager_and_active() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = team(&app, &owner, "Bar").await;
        let kitchen = team(&app, &owner, "Kitchen").await;
        let staff = |name: &str, team: Option<&str>, manager: Option<&str>, active: bool| {
            json!({"display_name": name, "role": "staff", "team_id": team, "manager_id": manager, "active": active})
        };
        let ana = member(&app, &owner, json!({"display_name": "Ana", "role": "manager", "team_id": bar})).await;
        let luis = member(&app, &owner, json!({"display_name": "Luis", "role": "manager", "team_id": kitchen})).await;
        let bea = member(&app, &owner, staff("Bea", Some(&bar), Some(&ana), true)).await;
        member(&app, &owner, staff("Carlos", Some(&bar), Some(&ana), false)).await;
        member(&app, &owner, staff("Dani", Some(&kitchen), Some(&luis), true)).await;
        member(&app, &owner, staff("Eva", None, Some(&ana), true)).await;
        member(&app, &owner, staff("Fede", Some(&bar), Some(&bea), true)).await;
        member(&app, &owner, staff("Gala", Some(&kitchen), Some(&luis), false)).await;

        assert_eq!(
            listed(&app, &owner, "").await,
            ["Ana", "Luis", "Bea", "Carlos", "Dani", "Eva", "Fede", "Gala"]
        );
        assert_eq!(listed(&app, &owner, &format!("&team_id={bar}")).await, ["Ana", "Bea", "Carlos", "Fede"]);
        assert_eq!(listed(&app, &owner, &format!("&team_id={kitchen}")).await, ["Luis", "Dani", "Gala"]);
        // Direct reports only: Fede reports to Bea, not to Ana.
        assert_eq!(listed(&app, &owner, &format!("&manager_id={ana}")).await, ["Bea", "Carlos", "Eva"]);
        assert_eq!(listed(&app, &owner, &format!("&manager_id={bea}")).await, ["Fede"]);
        assert_eq!(listed(&app, &owner, "&active=false").await, ["Carlos", "Gala"]);
        assert_eq!(listed(&app, &owner, "&active=true").await, ["Ana", "Luis", "Bea", "Dani", "Eva", "Fede"]);

        // Filters combine.
        assert_eq!(listed(&app, &owner, &format!("&team_id={bar}&active=true")).await, ["Ana", "Bea", "Fede"]);
        assert_eq!(
            listed(&app, &owner, &format!("&manager_id={ana}&team_id={bar}&active=false")).await,
            ["Carlos"]
        );
        assert_eq!(listed(&app, &owner, &format!("&manager_id={ana}&team_id={kitchen}")).await, Vec::<String>::new());
        let empty_team = team(&app, &owner, "Terrace").await;
        assert_eq!(listed(&app, &owner, &format!("&team_id={empty_team}")).await, Vec::<String>::new());

        // Paging through a filtered list keeps the filter and the order.
        let mut seen = Vec::new();
        let mut path = "/v1/members?active=true&limit=4".to_owned();
        loop {
            let page = app.get(&path, &owner).await.expect(200);
            assert!(page.body["items"].as_array().unwrap().len() <= 4, "{}", page.text);
            seen.extend(names(&page));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/v1/members?active=true&limit=4&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, ["Ana", "Luis", "Bea", "Dani", "Eva", "Fede"]);
    })
    .await;
}

#[tokio::test]
async fn a_patch_leaves_absent_fields_alone_and_null_clears_them() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = team(&app, &owner, "Bar").await;
        let ana = member(&app, &owner, json!({"display_name": "Ana", "role": "manager"})).await;
        let bea = member(
            &app,
            &owner,
            json!({
                "external_id": "E-7", "display_name": "Bea", "email": "bea@sol.es", "role": "staff",
                "team_id": bar, "manager_id": ana, "strengths": ["patience"],
            }),
        )
        .await;
        let path = format!("/v1/members/{bea}");

        let renamed = app.patch(&path, &owner, json!({"display_name": "Beatriz"})).await.expect(200);
        assert_eq!(renamed.header("etag"), Some("\"2\""));
        let expected = json!({
            "id": bea, "external_id": "E-7", "display_name": "Beatriz", "email": "bea@sol.es", "role": "staff",
            "team_id": bar, "manager_id": ana, "strengths": ["patience"], "active": true, "version": 2,
        });
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&renamed.body[field], value, "{field}: {}", renamed.text);
        }

        let promoted = app
            .patch(&path, &owner, json!({"role": "manager", "strengths": ["patience", "training"]}))
            .await
            .expect(200);
        assert_eq!(promoted.body["role"], "manager");
        assert_eq!(promoted.body["strengths"], json!(["patience", "training"]));
        assert_eq!(promoted.body["display_name"], "Beatriz");
        assert_eq!(promoted.body["email"], "bea@sol.es");
        assert_eq!(promoted.body["version"], 3);

        let cleared = app
            .patch(&path, &owner, json!({"external_id": null, "email": null, "team_id": null, "manager_id": null}))
            .await
            .expect(200);
        for optional in ["external_id", "email", "team_id", "manager_id"] {
            assert_eq!(cleared.body[optional], Value::Null, "{optional}: {}", cleared.text);
        }
        assert_eq!(cleared.body["display_name"], "Beatriz");
        assert_eq!(cleared.body["role"], "manager");
        assert_eq!(cleared.body["strengths"], json!(["patience", "training"]));
        assert_eq!(cleared.body["active"], true);
        assert_eq!(cleared.body["version"], 4);

        let no_strengths = app.patch(&path, &owner, json!({"strengths": []})).await.expect(200);
        assert_eq!(no_strengths.body["strengths"], json!([]));

        let stored = app.get(&path, &owner).await.expect(200);
        assert_eq!(stored.body, no_strengths.body);
        assert_eq!(stored.body["created_at"], renamed.body["created_at"]);
    })
    .await;
}

#[tokio::test]
async fn a_stale_if_match_on_a_member_patch_is_a_failed_precondition() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let ana = member(
            &app,
            &owner,
            json!({"display_name": "Ana", "role": "staff"}),
        )
        .await;
        let path = format!("/v1/members/{ana}");
        app.patch(&path, &owner, json!({"display_name": "Ana María"}))
            .await
            .expect(200);
        with_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "\"1\"",
            json!({"display_name": "Anita"}),
        )
        .await
        .expect_problem(412);
        assert_eq!(
            app.get(&path, &owner).await.expect(200).body["display_name"],
            "Ana María"
        );
        let applied = with_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "\"2\"",
            json!({"display_name": "Anita"}),
        )
        .await
        .expect(200);
        assert_eq!(applied.body["version"], 3);
    })
    .await;
}

#[tokio::test]
async fn members_are_deactivated_never_deleted() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let ana = member(
            &app,
            &owner,
            json!({"display_name": "Ana", "role": "staff"}),
        )
        .await;
        member(
            &app,
            &owner,
            json!({"display_name": "Bea", "role": "staff"}),
        )
        .await;
        let path = format!("/v1/members/{ana}");

        let refused = app.delete(&path, &owner).await.expect_problem(405);
        let allow = refused.header("allow").unwrap_or_default().to_owned();
        assert!(
            allow.contains("GET") && allow.contains("PATCH"),
            "Allow: {allow:?}"
        );
        assert!(!allow.contains("DELETE"), "Allow: {allow:?}");
        assert_eq!(
            app.get(&path, &owner).await.expect(200).body["active"],
            true
        );

        let deactivated = app
            .patch(&path, &owner, json!({"active": false}))
            .await
            .expect(200);
        assert_eq!(deactivated.body["active"], false);
        assert_eq!(deactivated.body["display_name"], "Ana");
        assert_eq!(deactivated.body["version"], 2);

        let still_there = app.get(&path, &owner).await.expect(200);
        assert_eq!(still_there.body["active"], false);
        assert_eq!(still_there.body["display_name"], "Ana");
        assert_eq!(listed(&app, &owner, "&active=false").await, ["Ana"]);
        assert_eq!(listed(&app, &owner, "&active=true").await, ["Bea"]);

        let reactivated = app
            .patch(&path, &owner, json!({"active": true}))
            .await
            .expect(200);
        assert_eq!(reactivated.body["active"], true);
        assert_eq!(
            listed(&app, &owner, "&active=false").await,
            Vec::<String>::new()
        );
        assert_eq!(listed(&app, &owner, "&active=true").await, ["Ana", "Bea"]);
    })
    .await;
}

#[tokio::test]
async fn a_member_cannot_be_their_own_manager() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let ana = member(
            &app,
            &owner,
            json!({"display_name": "Ana", "role": "manager"}),
        )
        .await;
        let path = format!("/v1/members/{ana}");
        let refused = app
            .patch(&path, &owner, json!({"manager_id": ana}))
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        assert_eq!(unchanged.body["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_reporting_cycle_through_others_is_refused_and_changes_nothing() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let a = member(
            &app,
            &owner,
            json!({"external_id": "A", "display_name": "Ana", "role": "owner"}),
        )
        .await;
        let b = member(
            &app,
            &owner,
            json!({"display_name": "Bea", "role": "manager", "manager_id": a}),
        )
        .await;
        let c = member(
            &app,
            &owner,
            json!({"display_name": "Carlos", "role": "staff", "manager_id": b}),
        )
        .await;
        let a_path = format!("/v1/members/{a}");

        for manager in [&c, &b] {
            let refused = app
                .patch(
                    &a_path,
                    &owner,
                    json!({"display_name": "Ana R.", "manager_id": manager}),
                )
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);
        }
        // The HR upsert is held to the same rule.
        let refused = app
            .put(
                "/v1/members/external/A",
                &owner,
                json!({"display_name": "Ana R.", "role": "owner", "manager_id": c}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"], "{}", refused.text);

        let unchanged = app.get(&a_path, &owner).await.expect(200);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        assert_eq!(unchanged.body["display_name"], "Ana");
        assert_eq!(unchanged.body["version"], 1);
        let actions: Vec<Value> = member_events(&app, &owner, &a)
            .await
            .iter()
            .map(|e| e["action"].clone())
            .collect();
        assert_eq!(actions, [json!("member.created")]);

        // Reporting lines that are not cycles are fine: Carlos moves under Ana, then Bea under Carlos.
        app.patch(
            &format!("/v1/members/{c}"),
            &owner,
            json!({"manager_id": a}),
        )
        .await
        .expect(200);
        let b_moved = app
            .patch(
                &format!("/v1/members/{b}"),
                &owner,
                json!({"manager_id": c}),
            )
            .await
            .expect(200);
        assert_eq!(b_moved.body["manager_id"], c.as_str());
        // …and now Carlos cannot report to Bea.
        let refused = app
            .patch(
                &format!("/v1/members/{c}"),
                &owner,
                json!({"manager_id": b}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["manager_id"]);
        assert_eq!(
            app.get(&format!("/v1/members/{c}"), &owner)
                .await
                .expect(200)
                .body["manager_id"],
            a.as_str()
        );
    })
    .await;
}

#[tokio::test]
async fn put_by_external_id_creates_then_replaces_the_member() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = team(&app, &owner, "Bar").await;
        let ana = member(
            &app,
            &owner,
            json!({"display_name": "Ana", "role": "manager"}),
        )
        .await;
        let path = "/v1/members/external/HR-77";

        let full = json!({
            "display_name": "Bea", "email": "bea@sol.es", "role": "staff", "team_id": bar,
            "manager_id": ana, "strengths": ["patience"], "active": false,
        });
        let created = app.put(path, &owner, full.clone()).await.expect(201);
        let id = created.body["id"].as_str().expect("id").to_owned();
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

        // Replacing: the same member, every field from the body, the omitted ones back to defaults.
        let replaced = app
            .put(
                path,
                &owner,
                json!({"display_name": "Beatriz", "role": "manager"}),
            )
            .await
            .expect(200);
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
        assert_eq!(replaced.body["active"], true);
        assert_eq!(replaced.body["created_at"], created.body["created_at"]);

        // Repeating a PUT is harmless: still one member, still the same id.
        let repeated = app
            .put(
                path,
                &owner,
                json!({"display_name": "Beatriz", "role": "manager"}),
            )
            .await
            .expect(200);
        assert_eq!(repeated.body["id"], id.as_str());
        assert_eq!(repeated.body["display_name"], "Beatriz");
        assert_eq!(listed(&app, &owner, "").await, ["Ana", "Beatriz"]);
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

        with_if_match(&app, Method::PUT, path, &owner, "\"1\"", body("Anita"))
            .await
            .expect_problem(412);
        assert_eq!(listed(&app, &owner, "").await, ["Ana María"]);
        let applied = with_if_match(&app, Method::PUT, path, &owner, "\"2\"", body("Anita"))
            .await
            .expect(200);
        assert_eq!(applied.body["display_name"], "Anita");
        assert_eq!(applied.body["version"], 3);

        // An If-Match names a version of a member that must already exist.
        with_if_match(
            &app,
            Method::PUT,
            "/v1/members/external/HR-2",
            &owner,
            "\"1\"",
            body("Bea"),
        )
        .await
        .expect_problem(404);
        assert_eq!(listed(&app, &owner, "").await, ["Anita"]);
        app.put("/v1/members/external/HR-2", &owner, body("Bea"))
            .await
            .expect(201);
    })
    .await;
}

#[tokio::test]
async fn put_by_external_id_checks_references_like_create() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let foreign_team = team(&app, &other_owner, "Bar").await;
        let refused = app
            .put(
                "/v1/members/external/HR-5",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "team_id": foreign_team}),
            )
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["team_id"], "{}", refused.text);
        assert_eq!(listed(&app, &owner, "").await, Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn another_organizations_members_are_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, intruder) = app.create_org().await;
        let bar = team(&app, &owner, "Bar").await;
        let ana = member(
            &app,
            &owner,
            json!({"external_id": "HR-1", "display_name": "Ana", "role": "staff", "team_id": bar}),
        )
        .await;
        let path = format!("/v1/members/{ana}");

        app.get(&path, &intruder).await.expect_problem(404);
        app.patch(&path, &intruder, json!({"display_name": "Mine"}))
            .await
            .expect_problem(404);
        app.patch(&path, &intruder, json!({"active": false}))
            .await
            .expect_problem(404);
        assert_eq!(listed(&app, &intruder, "").await, Vec::<String>::new());
        assert_eq!(
            listed(&app, &intruder, &format!("&team_id={bar}")).await,
            Vec::<String>::new()
        );

        // The intruder's upsert by the same external id creates their own member, nothing else.
        let theirs = app
            .put(
                "/v1/members/external/HR-1",
                &intruder,
                json!({"display_name": "Zoe", "role": "staff"}),
            )
            .await
            .expect(201);
        assert_ne!(theirs.body["id"], ana.as_str());
        assert_eq!(listed(&app, &intruder, "").await, ["Zoe"]);

        let untouched = app.get(&path, &owner).await.expect(200);
        assert_eq!(untouched.body["display_name"], "Ana");
        assert_eq!(untouched.body["active"], true);
        assert_eq!(untouched.body["version"], 1);
        assert_eq!(listed(&app, &owner, "").await, ["Ana"]);
    })
    .await;
}

#[tokio::test]
async fn only_owners_and_integrations_with_members_write_change_members() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let ana = member(
            &app,
            &owner,
            json!({"display_name": "Ana", "role": "staff"}),
        )
        .await;
        let path = format!("/v1/members/{ana}");
        let new_member = json!({"display_name": "Bea", "role": "staff"});

        let readers = [
            app.token(Some(&org), "staff", &ana, None),
            app.token(Some(&org), "manager", "manager-1", None),
            app.token(Some(&org), "integration", "crm", Some("members:read")),
        ];
        for reader in &readers {
            assert_eq!(
                app.get(&path, reader).await.expect(200).body["display_name"],
                "Ana"
            );
            assert_eq!(listed(&app, reader, "").await, ["Ana"]);
            app.post("/v1/members", reader, new_member.clone())
                .await
                .expect_problem(403);
            app.patch(&path, reader, json!({"display_name": "Hacked"}))
                .await
                .expect_problem(403);
            app.patch(&path, reader, json!({"active": false}))
                .await
                .expect_problem(403);
            app.put("/v1/members/external/X-1", reader, new_member.clone())
                .await
                .expect_problem(403);
        }

        // Neither reading nor writing without a members scope, nor as a platform admin.
        for outsider in [
            app.token(
                Some(&org),
                "integration",
                "pos",
                Some("scores:write goals:read"),
            ),
            app.platform_admin_token(),
        ] {
            app.get(&path, &outsider).await.expect_problem(403);
            app.get("/v1/members", &outsider).await.expect_problem(403);
            app.post("/v1/members", &outsider, new_member.clone())
                .await
                .expect_problem(403);
        }
        app.send(Method::GET, "/v1/members", None, None)
            .await
            .expect_problem(401);

        let after_refusals = app.get(&path, &owner).await.expect(200);
        assert_eq!(after_refusals.body["display_name"], "Ana");
        assert_eq!(after_refusals.body["version"], 1);
        assert_eq!(listed(&app, &owner, "").await, ["Ana"]);

        let writer = app.token(Some(&org), "integration", "hr-sync", Some("members:write"));
        let bea = member(&app, &writer, new_member.clone()).await;
        app.patch(
            &format!("/v1/members/{bea}"),
            &writer,
            json!({"email": "bea@sol.es"}),
        )
        .await
        .expect(200);
        app.put(
            "/v1/members/external/X-1",
            &writer,
            json!({"display_name": "Carlos", "role": "staff"}),
        )
        .await
        .expect(201);
        assert_eq!(
            app.get(&path, &writer).await.expect(200).body["display_name"],
            "Ana"
        );
        assert_eq!(listed(&app, &writer, "").await, ["Ana", "Bea", "Carlos"]);
    })
    .await;
}

#[tokio::test]
async fn a_members_life_is_in_the_audit_log_with_actor_action_and_request_id() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let hr = app.token(Some(&org), "integration", "hr-sync", Some("members:write"));

        let created = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff", "email": "ana@sol.es"}),
            )
            .await
            .expect(201);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/members/{id}");
        let updated = app
            .patch(&path, &hr, json!({"display_name": "Ana María"}))
            .await
            .expect(200);
        let deactivated = app
            .patch(&path, &owner, json!({"active": false}))
            .await
            .expect(200);
        let reactivated = app
            .patch(
                &path,
                &hr,
                json!({"active": true, "strengths": ["patience"]}),
            )
            .await
            .expect(200);
        // Someone else's change is not part of Ana's history.
        member(
            &app,
            &owner,
            json!({"display_name": "Bea", "role": "staff"}),
        )
        .await;

        let events = member_events(&app, &owner, &id).await;
        let expected = [
            ("member.created", "owner", "owner-1", &created),
            ("member.updated", "integration", "hr-sync", &updated),
            ("member.deactivated", "owner", "owner-1", &deactivated),
            ("member.reactivated", "integration", "hr-sync", &reactivated),
        ];
        assert_eq!(events.len(), expected.len(), "{events:#?}");
        for (event, (action, role, subject, response)) in events.iter().zip(expected) {
            assert_eq!(event["action"], action, "{event}");
            assert_eq!(event["entity_type"], "member", "{event}");
            assert_eq!(event["entity_id"], id.as_str(), "{event}");
            assert_eq!(
                event["actor"],
                json!({"role": role, "subject": subject}),
                "{event}"
            );
            let request_id = response
                .header("x-request-id")
                .expect("X-Request-Id on every response");
            assert_eq!(event["request_id"], request_id, "{action}: {event}");
            let occurred_at = event["occurred_at"].as_str().unwrap_or_default();
            assert!(
                chrono::DateTime::parse_from_rfc3339(occurred_at).is_ok(),
                "{event}"
            );
            // The changes are the member's state after the change.
            let changes = &event["changes"];
            assert_eq!(
                changes["display_name"], response.body["display_name"],
                "{action}: {event}"
            );
            assert_eq!(
                changes["active"], response.body["active"],
                "{action}: {event}"
            );
            assert_eq!(changes["email"], "ana@sol.es", "{action}: {event}");
        }

        // Events can be narrowed to one action.
        let only = app
            .get(
                &format!(
                    "/v1/audit-events?entity_type=member&entity_id={id}&action=member.deactivated"
                ),
                &owner,
            )
            .await
            .expect(200);
        let only = only.body["items"].as_array().unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(
            only[0]["request_id"],
            deactivated.header("x-request-id").unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn an_hr_upsert_is_audited_as_a_creation_then_as_updates() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let hr = app.token(Some(&org), "integration", "hr-sync", Some("members:write"));
        let body = json!({"display_name": "Ana", "role": "staff"});
        let created = app
            .put("/v1/members/external/HR-9", &hr, body.clone())
            .await
            .expect(201);
        let replaced = app
            .put("/v1/members/external/HR-9", &hr, body)
            .await
            .expect(200);
        let id = created.body["id"].as_str().unwrap();

        let events = member_events(&app, &owner, id).await;
        let summary: Vec<(Value, Value, Value)> = events
            .iter()
            .map(|e| {
                (
                    e["action"].clone(),
                    e["actor"]["subject"].clone(),
                    e["request_id"].clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    json!("member.created"),
                    json!("hr-sync"),
                    json!(created.header("x-request-id"))
                ),
                (
                    json!("member.updated"),
                    json!("hr-sync"),
                    json!(replaced.header("x-request-id"))
                ),
            ]
        );
        assert_eq!(events[0]["changes"]["external_id"], "HR-9");
    })
    .await;
}

#[tokio::test]
async fn audit_changes_show_the_member_as_the_api_does() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = team(&app, &owner, "Bar").await;
        let created = app
            .post(
                "/v1/members",
                &owner,
                json!({"external_id": "HR-3", "display_name": "Ana", "role": "staff", "team_id": bar,
                    "strengths": ["patience", "latte art"]}),
            )
            .await
            .expect(201);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let updated = app
            .patch(&format!("/v1/members/{id}"), &owner, json!({"strengths": ["patience"], "email": "ana@sol.es"}))
            .await
            .expect(200);

        let events = member_events(&app, &owner, &id).await;
        assert_eq!(events.len(), 2, "{events:#?}");
        for (event, response) in events.iter().zip([&created, &updated]) {
            let changes = &event["changes"];
            let differing: Vec<&String> = response
                .body
                .as_object()
                .unwrap()
                .iter()
                .filter(|(field, value)| &changes[field.as_str()] != *value)
                .map(|(field, _)| field)
                .collect();
            assert!(
                differing.is_empty(),
                "{}: changes should hold the member as the API returns it, but {differing:?} differ\n\
                 changes: {changes}\nmember:  {}",
                event["action"],
                response.text
            );
        }
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
        assert_eq!(listed(&app, &owner, "").await.len(), 5);
    })
    .await;
}
