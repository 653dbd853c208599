//! Input built to break the server: control characters in every query parameter the API
//! documents and in a signed token's claims, critical header extensions, and requests that break
//! HTTP itself. Each is refused as the client's error (4xx problem+json), never a 500.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::ParameterIn;

use crate::support::tokens::{assert_unauthorized, claims, with};
use crate::support::{TEST_SECRET, for_each_backend};

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .expect("sign")
}

/// Every GET operation's path (ids filled in) and the names of its query parameters.
fn documented_query_parameters() -> Vec<(String, Vec<String>)> {
    let api = circulo_api::openapi();
    api.paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let op = item.get.as_ref()?;
            let names: Vec<String> = op
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                    _ => None,
                })
                .collect();
            let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
            (!names.is_empty()).then_some((path, names))
        })
        .collect()
}

#[tokio::test]
async fn a_control_character_in_any_query_parameter_is_a_bad_request() {
    let operations = documented_query_parameters();
    assert!(
        operations
            .iter()
            .any(|(path, _)| path == "/v1/audit-events"),
        "{operations:?}"
    );
    for_each_backend(|app| {
        let operations = operations.clone();
        async move {
            let (_, owner) = app.create_org().await;
            for (path, names) in &operations {
                for name in names {
                    for control in ["%00", "a%0Ab", "%1B%5B31m", "%7F", "%C2%85"] {
                        let target = format!("{path}?{name}={control}");
                        let refused = app.get(&target, &owner).await;
                        assert_eq!(refused.status, 400, "GET {target}: {}", refused.text);
                        refused.expect_problem(400);
                    }
                }
            }
            // The refusal comes before anything else reads the parameter.
            app.get("/v1/audit-events?action=%00", &owner)
                .await
                .expect_problem(400);
            app.get("/v1/audit-events?action=member.created", &owner)
                .await
                .expect(200);
        }
    })
    .await;
}

#[tokio::test]
async fn control_characters_or_an_oversized_subject_in_a_signed_token_are_unauthorized() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        app.get("/v1/teams", &owner).await.expect(200);
        let valid = claims(Some(&org), "owner");
        for (case, claims) in [
            (
                "NUL in sub",
                with(valid.clone(), "sub", json!("owner\u{0}1")),
            ),
            (
                "newline in sub",
                with(valid.clone(), "sub", json!("owner\n1")),
            ),
            (
                "escape in scope",
                with(valid.clone(), "scope", json!("members:read\u{1b}")),
            ),
            (
                "NUL in org",
                with(valid.clone(), "org", json!(format!("{org}\u{0}"))),
            ),
            (
                "NUL in role",
                with(valid.clone(), "role", json!("owner\u{0}")),
            ),
            (
                "a 256-character sub",
                with(valid.clone(), "sub", json!("s".repeat(256))),
            ),
        ] {
            assert_unauthorized(app.get("/v1/teams", &hs256(&claims)).await, case);
            assert_unauthorized(
                app.post("/v1/teams", &hs256(&claims), json!({"name": "Bar"}))
                    .await,
                case,
            );
        }
        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_token_naming_critical_header_extensions_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["exp".to_owned()]);
        let token = encode(
            &header,
            &claims(Some(&org), "owner"),
            &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .expect("sign");
        assert_unauthorized(app.get("/v1/teams", &token).await, "crit header");
    })
    .await;
}
