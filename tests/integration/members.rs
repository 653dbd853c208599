//! Members: creation and validation, external ids, listing and filters, patch semantics and
//! `If-Match`, and deactivation instead of deletion. Who may see and change members is in
//! `member_access`, reporting lines in `member_hierarchy`, the HR upsert in `member_upsert`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{for_each_backend, is_utc_timestamp};

#[tokio::test]
async fn an_owner_creates_a_member_with_every_field() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = app.create_team(&owner, "Bar").await;
        let ana = app.create_named_member(&owner, "Ana", "manager").await;

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
            assert!(
                is_utc_timestamp(&body[stamp]),
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

        assert_eq!(app.member_names(&owner, "").await, Vec::<String>::new());

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
async fn external_ids_are_unique_within_an_organization_only() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (_, other_owner) = app.create_org().await;
        let ana = app
            .create_member(
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
        assert_eq!(app.member_names(&owner, "").await, ["Ana"]);

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
        let bea = app
            .create_member(
                &owner,
                json!({"external_id": "E-2", "display_name": "Bea", "role": "staff"}),
            )
            .await;
        let bea_path = format!("/v1/members/{bea}");
        app.patch(&bea_path, &owner, json!({"external_id": "E-1"}))
            .await
            .expect_problem(409);
        let unchanged = app.get(&bea_path, &owner).await.expect(200);
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
            .patch(&bea_path, &owner, json!({"external_id": "E-1"}))
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
        let bar = app.create_team(&owner, "Bar").await;
        let kitchen = app.create_team(&owner, "Kitchen").await;
        let staff = |name: &str, team: Option<&str>, manager: Option<&str>, active: bool| {
            json!({"display_name": name, "role": "staff", "team_id": team, "manager_id": manager, "active": active})
        };
        let ana = app.create_member(&owner, json!({"display_name": "Ana", "role": "manager", "team_id": bar})).await;
        let luis = app.create_member(&owner, json!({"display_name": "Luis", "role": "manager", "team_id": kitchen})).await;
        let bea = app.create_member(&owner, staff("Bea", Some(&bar), Some(&ana), true)).await;
        app.create_member(&owner, staff("Carlos", Some(&bar), Some(&ana), false)).await;
        app.create_member(&owner, staff("Dani", Some(&kitchen), Some(&luis), true)).await;
        app.create_member(&owner, staff("Eva", None, Some(&ana), true)).await;
        app.create_member(&owner, staff("Fede", Some(&bar), Some(&bea), true)).await;
        app.create_member(&owner, staff("Gala", Some(&kitchen), Some(&luis), false)).await;
        let listed = async |query: &str| app.member_names(&owner, query).await;

        assert_eq!(
            listed("").await,
            ["Ana", "Luis", "Bea", "Carlos", "Dani", "Eva", "Fede", "Gala"]
        );
        assert_eq!(listed(&format!("&team_id={bar}")).await, ["Ana", "Bea", "Carlos", "Fede"]);
        assert_eq!(listed(&format!("&team_id={kitchen}")).await, ["Luis", "Dani", "Gala"]);
        // Direct reports only: Fede reports to Bea, not to Ana.
        assert_eq!(listed(&format!("&manager_id={ana}")).await, ["Bea", "Carlos", "Eva"]);
        assert_eq!(listed(&format!("&manager_id={bea}")).await, ["Fede"]);
        assert_eq!(listed("&active=false").await, ["Carlos", "Gala"]);
        assert_eq!(listed("&active=true").await, ["Ana", "Luis", "Bea", "Dani", "Eva", "Fede"]);

        // Filters combine.
        assert_eq!(listed(&format!("&team_id={bar}&active=true")).await, ["Ana", "Bea", "Fede"]);
        assert_eq!(listed(&format!("&manager_id={ana}&team_id={bar}&active=false")).await, ["Carlos"]);
        assert_eq!(listed(&format!("&manager_id={ana}&team_id={kitchen}")).await, Vec::<String>::new());
        let empty_team = app.create_team(&owner, "Terrace").await;
        assert_eq!(listed(&format!("&team_id={empty_team}")).await, Vec::<String>::new());

        // Paging through a filtered list keeps the filter and the order.
        let mut seen = Vec::new();
        for page in app.pages("/v1/members?active=true&limit=4", &owner).await {
            assert!(page.items().len() <= 4, "{}", page.text);
            seen.extend(page.item_strings("display_name"));
        }
        assert_eq!(seen, ["Ana", "Luis", "Bea", "Dani", "Eva", "Fede"]);
    })
    .await;
}

#[tokio::test]
async fn a_patch_leaves_absent_fields_alone_and_null_clears_them() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let bar = app.create_team(&owner, "Bar").await;
        let ana = app.create_named_member(&owner, "Ana", "manager").await;
        let bea = app
            .create_member(
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
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        let path = format!("/v1/members/{ana}");
        app.patch(&path, &owner, json!({"display_name": "Ana María"}))
            .await
            .expect(200);
        let rename = || Some(json!({"display_name": "Anita"}));
        app.send_if_match(Method::PATCH, &path, &owner, "\"1\"", rename())
            .await
            .expect_problem(412);
        assert_eq!(
            app.get(&path, &owner).await.expect(200).body["display_name"],
            "Ana María"
        );
        let applied = app
            .send_if_match(Method::PATCH, &path, &owner, "\"2\"", rename())
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
        let ana = app.create_named_member(&owner, "Ana", "staff").await;
        app.create_named_member(&owner, "Bea", "staff").await;
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
        assert_eq!(app.member_names(&owner, "&active=false").await, ["Ana"]);
        assert_eq!(app.member_names(&owner, "&active=true").await, ["Bea"]);

        let reactivated = app
            .patch(&path, &owner, json!({"active": true}))
            .await
            .expect(200);
        assert_eq!(reactivated.body["active"], true);
        assert_eq!(
            app.member_names(&owner, "&active=false").await,
            Vec::<String>::new()
        );
        assert_eq!(
            app.member_names(&owner, "&active=true").await,
            ["Ana", "Bea"]
        );
    })
    .await;
}
