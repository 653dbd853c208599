//! Authentication and authorization: which bearer tokens are accepted, what a refused one looks
//! like (401 problem with `WWW-Authenticate: Bearer`), what each role and scope may do (403 when
//! not), and that another organization's resources are simply not found (404).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::{Value, json};

use crate::support::{Response, TEST_SECRET, TestApp, for_each_backend, for_each_backend_with};

const ISSUER: &str = "https://idp.circulo.test/";
const AUDIENCE: &str = "circulo-api";

/// Valid claims for `role` in `org`, expiring in ten minutes.
fn claims(org: Option<&str>, role: &str) -> Value {
    let mut claims = json!({"sub": "someone", "role": role, "exp": get_current_timestamp() + 600});
    if let Some(org) = org {
        claims["org"] = json!(org);
    }
    claims
}

/// Signs `claims` with HS256 and `secret`.
fn sign_with(secret: &str, claims: &Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// Signs `claims` with HS256 and the test server's secret.
fn sign(claims: &Value) -> String {
    sign_with(TEST_SECRET, claims)
}

/// Removes `name` from `claims`.
fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().expect("claims object").remove(name);
    claims
}

/// Sets `name` to `value` in `claims`.
fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// Asserts a 401 problem that tells the client to authenticate with a bearer token.
#[track_caller]
fn assert_unauthorized(response: Response, case: &str) {
    assert_eq!(
        response.status, 401,
        "{case}: expected 401, got body {}",
        response.text
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer"),
        "{case}: {:?}",
        response.headers
    );
    response.expect_problem(401);
}

/// `GET /v1/teams` with `authorization` sent verbatim.
async fn teams_with_header(app: &TestApp, authorization: &str) -> Response {
    app.execute(
        app.client
            .get(app.url("/v1/teams"))
            .header("authorization", authorization),
    )
    .await
}

fn id_of(response: &Response) -> String {
    response.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn requests_without_a_usable_bearer_credential_are_unauthorized() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        app.get("/v1/teams", &owner).await.expect(200);
        teams_with_header(&app, &format!("bearer {owner}"))
            .await
            .expect(200);

        assert_unauthorized(
            app.send(reqwest::Method::GET, "/v1/teams", None, None)
                .await,
            "no Authorization header",
        );
        assert_unauthorized(
            app.send(
                reqwest::Method::POST,
                "/v1/teams",
                None,
                Some(json!({"name": "Bar"})),
            )
            .await,
            "no Authorization header on a write",
        );
        assert_unauthorized(
            teams_with_header(&app, &format!("Basic {owner}")).await,
            "a valid token under Basic",
        );
        assert_unauthorized(
            teams_with_header(&app, &format!("Token {owner}")).await,
            "a valid token under Token",
        );
        assert_unauthorized(
            teams_with_header(&app, &owner).await,
            "a valid token without a scheme",
        );
        assert_unauthorized(
            teams_with_header(&app, "Basic b3duZXI6c2VjcmV0").await,
            "Basic credentials",
        );
        assert_unauthorized(
            teams_with_header(&app, "Bearer").await,
            "Bearer without a token",
        );
        assert_unauthorized(
            teams_with_header(&app, "Bearer ").await,
            "Bearer with an empty token",
        );
        let not_text =
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("obs-text header");
        assert_unauthorized(
            app.execute(
                app.client
                    .get(app.url("/v1/teams"))
                    .header("authorization", not_text),
            )
            .await,
            "an Authorization header that is not text",
        );
        assert_unauthorized(app.get("/v1/teams", "garbage").await, "a garbage token");
        assert_unauthorized(
            app.get("/v1/teams", "a.b.c").await,
            "three garbage segments",
        );
        assert_unauthorized(
            app.get("/v1/teams", "ey.ey.ey").await,
            "undecodable segments",
        );

        let list = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(
            list.body["items"],
            json!([]),
            "refused writes created nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let genuine = claims(Some(&org), "owner");
        app.get("/v1/teams", &sign(&genuine)).await.expect(200);

        let forged = sign_with(
            "another-secret-that-is-also-long-enough-for-hs256",
            &genuine,
        );
        assert_unauthorized(
            app.get("/v1/teams", &forged).await,
            "signed with another secret",
        );

        // The right signature over other claims: the payload was swapped after signing.
        let real = sign(&genuine);
        let escalated = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&with(genuine.clone(), "role", json!("platform_admin")))
                .expect("json"),
        );
        let parts: Vec<&str> = real.split('.').collect();
        let tampered = format!("{}.{escalated}.{}", parts[0], parts[2]);
        assert_unauthorized(
            app.get("/v1/teams", &tampered).await,
            "payload changed after signing",
        );
        assert_unauthorized(
            app.post(
                "/v1/organizations",
                &tampered,
                json!({"name": "X", "currency": "EUR", "timezone": "UTC"}),
            )
            .await,
            "tampered platform_admin claim",
        );
        let unsigned = format!("{}.{}.", parts[0], parts[1]);
        assert_unauthorized(app.get("/v1/teams", &unsigned).await, "signature stripped");
    })
    .await;
}

#[tokio::test]
async fn an_expired_token_is_unauthorized_but_small_clock_skew_is_tolerated() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let now = get_current_timestamp();
        let expired = sign(&with(claims(Some(&org), "owner"), "exp", json!(now - 3600)));
        assert_unauthorized(app.get("/v1/teams", &expired).await, "expired an hour ago");

        let just_expired = sign(&with(claims(Some(&org), "owner"), "exp", json!(now - 5)));
        app.get("/v1/teams", &just_expired).await.expect(200);
    })
    .await;
}

#[tokio::test]
async fn a_token_that_is_not_valid_yet_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let now = get_current_timestamp();
        let valid = claims(Some(&org), "owner");
        let started = sign(&with(valid.clone(), "nbf", json!(now - 60)));
        app.get("/v1/teams", &started).await.expect(200);
        let skewed = sign(&with(valid.clone(), "nbf", json!(now + 5)));
        app.get("/v1/teams", &skewed).await.expect(200);
        let future = sign(&with(valid, "nbf", json!(now + 3600)));
        assert_unauthorized(app.get("/v1/teams", &future).await, "nbf an hour from now");
    })
    .await;
}

#[tokio::test]
async fn a_token_without_exp_or_sub_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let valid = claims(Some(&org), "owner");
        app.get("/v1/teams", &sign(&valid)).await.expect(200);
        assert_unauthorized(
            app.get("/v1/teams", &sign(&without(valid.clone(), "exp")))
                .await,
            "no exp",
        );
        assert_unauthorized(
            app.get(
                "/v1/teams",
                &sign(&with(valid.clone(), "exp", json!("tomorrow"))),
            )
            .await,
            "text exp",
        );
        assert_unauthorized(
            app.get("/v1/teams", &sign(&without(valid.clone(), "sub")))
                .await,
            "no sub",
        );
        assert_unauthorized(
            app.get("/v1/teams", &sign(&with(valid, "sub", json!(""))))
                .await,
            "empty sub",
        );
    })
    .await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(Some(&org), "owner")).expect("json"));
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&json!({"alg": alg, "typ": "JWT"})).expect("json"));
            assert_unauthorized(
                app.get("/v1/teams", &format!("{header}.{payload}.")).await,
                alg,
            );
            // Some libraries accept `none` with any signature at all.
            let signature = URL_SAFE_NO_PAD.encode(b"anything");
            assert_unauthorized(
                app.get("/v1/teams", &format!("{header}.{payload}.{signature}"))
                    .await,
                alg,
            );
        }
    })
    .await;
}

#[tokio::test]
async fn tokens_signed_with_other_hmac_algorithms_are_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let key = EncodingKey::from_secret(TEST_SECRET.as_bytes());
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let token =
                encode(&Header::new(alg), &claims(Some(&org), "owner"), &key).expect("sign");
            assert_unauthorized(app.get("/v1/teams", &token).await, &format!("{alg:?}"));
        }
    })
    .await;
}

#[tokio::test]
async fn a_token_with_an_unknown_role_or_a_missing_org_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        for role in ["admin", "Owner", "superuser", ""] {
            let token = sign(&claims(Some(&org), role));
            assert_unauthorized(
                app.get("/v1/teams", &token).await,
                &format!("role {role:?}"),
            );
        }
        assert_unauthorized(
            app.get(
                "/v1/teams",
                &sign(&without(claims(Some(&org), "owner"), "role")),
            )
            .await,
            "no role",
        );
        for role in ["owner", "manager", "staff", "integration"] {
            let token = sign(&with(
                claims(None, role),
                "scope",
                json!("members:read members:write"),
            ));
            assert_unauthorized(
                app.get("/v1/teams", &token).await,
                &format!("{role} without org"),
            );
        }
        let not_an_id = sign(&claims(Some("panaderia-sol"), "owner"));
        assert_unauthorized(
            app.get("/v1/teams", &not_an_id).await,
            "org that is not an id",
        );
    })
    .await;
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    for_each_backend_with(
        |config| {
            config.auth.issuer = Some(ISSUER.to_owned());
            config.auth.audience = Some(AUDIENCE.to_owned());
        },
        |app| async move {
            // The harness's tokens carry the configured iss and aud.
            let (org, owner) = app.create_org().await;
            app.get("/v1/teams", &owner).await.expect(200);

            let valid = with(
                with(claims(Some(&org), "owner"), "iss", json!(ISSUER)),
                "aud",
                json!(AUDIENCE),
            );
            app.get("/v1/teams", &sign(&valid)).await.expect(200);
            let among_audiences = with(valid.clone(), "aud", json!(["billing", AUDIENCE]));
            app.get("/v1/teams", &sign(&among_audiences))
                .await
                .expect(200);

            let cases = [
                (
                    "wrong issuer",
                    with(valid.clone(), "iss", json!("https://evil.example/")),
                ),
                ("no issuer", without(valid.clone(), "iss")),
                (
                    "wrong audience",
                    with(valid.clone(), "aud", json!("billing")),
                ),
                (
                    "only other audiences",
                    with(valid.clone(), "aud", json!(["billing", "crm"])),
                ),
                ("no audience", without(valid.clone(), "aud")),
            ];
            for (case, claims) in cases {
                assert_unauthorized(app.get("/v1/teams", &sign(&claims)).await, case);
            }
        },
    )
    .await;
}

#[tokio::test]
async fn issuer_and_audience_are_not_required_when_not_configured() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let foreign = with(
            with(
                claims(Some(&org), "owner"),
                "iss",
                json!("https://anyone.example/"),
            ),
            "aud",
            json!("anything"),
        );
        app.get("/v1/teams", &sign(&foreign)).await.expect(200);
    })
    .await;
}

#[tokio::test]
async fn another_organizations_members_and_teams_are_not_found() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let (intruder_org, intruder) = app.create_org().await;
        let intruder_integration = app.token(
            Some(&intruder_org),
            "integration",
            "hr-sync",
            Some("members:read members:write"),
        );
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        let team = app
            .post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        let member_path = format!("/v1/members/{}", id_of(&member));
        let team_path = format!("/v1/teams/{}", id_of(&team));

        // What a caller sees for an id that exists in no organization.
        let missing_member = format!("/v1/members/{}", uuid::Uuid::now_v7());
        let nothing = app
            .get(&missing_member, &intruder)
            .await
            .expect_problem(404);

        for token in [&intruder, &intruder_integration] {
            let seen = app.get(&member_path, token).await.expect_problem(404);
            assert_eq!(
                seen.body["title"], nothing.body["title"],
                "a foreign member looks like a missing one"
            );
            assert_eq!(
                seen.body["detail"], nothing.body["detail"],
                "a foreign member looks like a missing one"
            );
            app.patch(&member_path, token, json!({"display_name": "Mallory"}))
                .await
                .expect_problem(404);
            app.get(&team_path, token).await.expect_problem(404);
            app.patch(&team_path, token, json!({"name": "Mine"}))
                .await
                .expect_problem(404);
            app.delete(&team_path, token).await.expect_problem(404);
        }
        let listed = app.get("/v1/members", &intruder).await.expect(200);
        assert_eq!(listed.body["items"], json!([]));

        let member = app.get(&member_path, &owner).await.expect(200);
        assert_eq!(member.body["display_name"], "Ana");
        assert_eq!(member.body["version"], 1);
        let team = app.get(&team_path, &owner).await.expect(200);
        assert_eq!(team.body["name"], "Bar");
        assert_eq!(team.body["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn an_integration_with_members_read_lists_the_directory_but_cannot_change_it() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        let team = app
            .post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        let member_path = format!("/v1/members/{}", id_of(&member));
        let team_path = format!("/v1/teams/{}", id_of(&team));
        let reader = app.token(Some(&org), "integration", "crm", Some("members:read"));

        assert_eq!(
            app.get("/v1/members", &reader).await.expect(200).body["items"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(
            app.get("/v1/teams", &reader).await.expect(200).body["items"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        app.get(&member_path, &reader).await.expect(200);
        app.get(&team_path, &reader).await.expect(200);

        app.post(
            "/v1/members",
            &reader,
            json!({"display_name": "Bo", "role": "staff"}),
        )
        .await
        .expect_problem(403);
        app.patch(&member_path, &reader, json!({"display_name": "Bo"}))
            .await
            .expect_problem(403);
        app.put(
            "/v1/members/external/hr-7",
            &reader,
            json!({"display_name": "Bo", "role": "staff"}),
        )
        .await
        .expect_problem(403);
        app.post("/v1/teams", &reader, json!({"name": "Kitchen"}))
            .await
            .expect_problem(403);
        app.patch(&team_path, &reader, json!({"name": "Kitchen"}))
            .await
            .expect_problem(403);
        app.delete(&team_path, &reader).await.expect_problem(403);
        app.get("/v1/audit-events", &reader)
            .await
            .expect_problem(403);

        let members = app.get("/v1/members", &owner).await.expect(200);
        assert_eq!(
            members.body["items"].as_array().map(Vec::len),
            Some(1),
            "no member was added"
        );
        assert_eq!(members.body["items"][0]["display_name"], "Ana");
        let teams = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(
            teams.body["items"].as_array().map(Vec::len),
            Some(1),
            "no team was added or deleted"
        );
        assert_eq!(teams.body["items"][0]["name"], "Bar");
    })
    .await;
}

#[tokio::test]
async fn an_integration_with_members_write_changes_the_directory() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let writer = app.token(Some(&org), "integration", "hr-sync", Some("members:write"));
        let member = app
            .post(
                "/v1/members",
                &writer,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        let team = app
            .post("/v1/teams", &writer, json!({"name": "Bar"}))
            .await
            .expect(201);
        app.patch(
            &format!("/v1/members/{}", id_of(&member)),
            &writer,
            json!({"team_id": id_of(&team)}),
        )
        .await
        .expect(200);
        app.put(
            "/v1/members/external/hr-7",
            &writer,
            json!({"display_name": "Bo", "role": "staff"}),
        )
        .await
        .expect(201);
        let listed = app.get("/v1/members", &writer).await.expect(200);
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));
        app.get("/v1/audit-events", &writer)
            .await
            .expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn an_integration_without_a_directory_scope_cannot_read_it() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        for scope in [
            None,
            Some(""),
            Some("goals:read scores:write"),
            Some("members:admin"),
        ] {
            let token = app.token(Some(&org), "integration", "pos", scope);
            app.get("/v1/members", &token).await.expect_problem(403);
            app.get("/v1/teams", &token).await.expect_problem(403);
        }
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_is_read_by_owners_and_audit_read_integrations_only() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        app.post(
            "/v1/members",
            &owner,
            json!({"display_name": "Ana", "role": "staff"}),
        )
        .await
        .expect(201);

        let auditor = app.token(Some(&org), "integration", "siem", Some("audit:read"));
        let events = app.get("/v1/audit-events", &auditor).await.expect(200);
        let actions: Vec<&str> = events.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(actions.contains(&"member.created"), "{actions:?}");
        app.get("/v1/audit-events", &owner).await.expect(200);
        app.get("/v1/members", &auditor).await.expect_problem(403);

        for role in ["staff", "manager"] {
            let token = app.token(Some(&org), role, "m-1", None);
            app.get("/v1/audit-events", &token)
                .await
                .expect_problem(403);
        }
        let everything_else =
            "members:read members:write goals:read goals:write reports:read webhooks:manage";
        let integration = app.token(Some(&org), "integration", "crm", Some(everything_else));
        app.get("/v1/audit-events", &integration)
            .await
            .expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn only_owners_read_and_change_organization_settings() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let all_scopes = "members:read members:write goals:read goals:write delegations:read delegations:write \
                          decisions:write feedback:read feedback:write scores:read scores:write reports:read \
                          webhooks:manage audit:read";
        let others = [
            ("staff", app.token(Some(&org), "staff", "s-1", None)),
            ("manager", app.token(Some(&org), "manager", "m-1", None)),
            ("integration", app.token(Some(&org), "integration", "crm", Some(all_scopes))),
            ("platform_admin", app.platform_admin_token()),
        ];
        for (role, token) in &others {
            let read = app.get("/v1/organization", token).await;
            assert_eq!(read.status, 403, "{role} read the settings: {}", read.text);
            read.expect_problem(403);
            let change = app.patch("/v1/organization", token, json!({"anonymity_threshold": 7})).await;
            assert_eq!(change.status, 403, "{role} changed the settings: {}", change.text);
            change.expect_problem(403);
        }
        let settings = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(settings.body["id"], org);
        assert_eq!(settings.body["anonymity_threshold"], 5, "no refused PATCH took effect");
        let changed = app.patch("/v1/organization", &owner, json!({"anonymity_threshold": 7})).await.expect(200);
        assert_eq!(changed.body["anonymity_threshold"], 7);
    })
    .await;
}

#[tokio::test]
async fn only_a_platform_admin_creates_organizations_and_it_sees_nothing_inside_them() {
    for_each_backend(|app| async move {
        let body = json!({"name": "Café Luna", "currency": "EUR", "timezone": "Europe/Madrid"});
        let admin = app.platform_admin_token();
        let created = app
            .post("/v1/organizations", &admin, body.clone())
            .await
            .expect(201);
        let org = id_of(&created);

        let everything = "members:read members:write audit:read webhooks:manage";
        for (role, scope) in [
            ("owner", None),
            ("manager", None),
            ("staff", None),
            ("integration", Some(everything)),
        ] {
            let token = app.token(Some(&org), role, "x-1", scope);
            let refused = app.post("/v1/organizations", &token, body.clone()).await;
            assert_eq!(
                refused.status, 403,
                "{role} created an organization: {}",
                refused.text
            );
            refused.expect_problem(403);
        }

        app.get("/v1/teams", &admin).await.expect_problem(403);
        app.get("/v1/members", &admin).await.expect_problem(403);
        app.post("/v1/teams", &admin, json!({"name": "Bar"}))
            .await
            .expect_problem(403);
        app.get("/v1/audit-events", &admin)
            .await
            .expect_problem(403);
        // An org claim does not turn a platform admin into a member of that organization.
        let admin_in_org = app.token(Some(&org), "platform_admin", "ops", None);
        app.get("/v1/teams", &admin_in_org)
            .await
            .expect_problem(403);
        app.post(
            "/v1/members",
            &admin_in_org,
            json!({"display_name": "Ana", "role": "owner"}),
        )
        .await
        .expect_problem(403);

        let owner = app.token(Some(&org), "owner", "o-1", None);
        assert_eq!(
            app.get("/v1/members", &owner).await.expect(200).body["items"],
            json!([])
        );
    })
    .await;
}

#[tokio::test]
async fn staff_and_managers_read_the_directory_but_do_not_change_it() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        let member_path = format!("/v1/members/{}", id_of(&member));
        for role in ["staff", "manager"] {
            let token = app.token(Some(&org), role, &id_of(&member), None);
            app.get("/v1/members", &token).await.expect(200);
            app.get("/v1/teams", &token).await.expect(200);
            app.get(&member_path, &token).await.expect(200);
            app.post(
                "/v1/members",
                &token,
                json!({"display_name": "Bo", "role": "staff"}),
            )
            .await
            .expect_problem(403);
            app.patch(&member_path, &token, json!({"display_name": "Ana B."}))
                .await
                .expect_problem(403);
            app.post("/v1/teams", &token, json!({"name": "Bar"}))
                .await
                .expect_problem(403);
        }
        assert_eq!(
            app.get(&member_path, &owner).await.expect(200).body["display_name"],
            "Ana"
        );
    })
    .await;
}
