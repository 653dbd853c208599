//! Authentication with HS256 bearer tokens: which tokens are accepted, and that every refused one
//! (no or malformed credentials, forged, tampered, expired, premature, unsigned, other algorithms,
//! bad claims, wrong issuer or audience) is a 401 problem with `WWW-Authenticate: Bearer`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, get_current_timestamp};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::tokens::{assert_unauthorized, claims, sign, with, without};
use crate::support::{Response, TEST_SECRET, TestApp, for_each_backend, for_each_backend_with};

const ISSUER: &str = "https://idp.circulo.test/";
const AUDIENCE: &str = "circulo-api";

/// Signs `claims` with HS256 and `secret`.
fn hs256_with(secret: &str, claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(secret.as_bytes()),
        claims,
    )
}

/// Signs `claims` with HS256 and the test server's secret.
fn hs256(claims: &Value) -> String {
    hs256_with(TEST_SECRET, claims)
}

/// `GET /v1/teams` with `authorization` sent verbatim.
async fn teams_with_header(app: &TestApp, authorization: &str) -> Response {
    app.send_with_headers(
        Method::GET,
        "/v1/teams",
        None,
        &[("authorization", authorization)],
        None,
    )
    .await
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
            app.send(Method::GET, "/v1/teams", None, None).await,
            "no Authorization header",
        );
        assert_unauthorized(
            app.send(
                Method::POST,
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
        app.get("/v1/teams", &hs256(&genuine)).await.expect(200);

        let forged = hs256_with(
            "another-secret-that-is-also-long-enough-for-hs256",
            &genuine,
        );
        assert_unauthorized(
            app.get("/v1/teams", &forged).await,
            "signed with another secret",
        );

        // The right signature over other claims: the payload was swapped after signing.
        let real = hs256(&genuine);
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
        let expired = hs256(&with(claims(Some(&org), "owner"), "exp", json!(now - 3600)));
        assert_unauthorized(app.get("/v1/teams", &expired).await, "expired an hour ago");

        let just_expired = hs256(&with(claims(Some(&org), "owner"), "exp", json!(now - 5)));
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
        let started = hs256(&with(valid.clone(), "nbf", json!(now - 60)));
        app.get("/v1/teams", &started).await.expect(200);
        let skewed = hs256(&with(valid.clone(), "nbf", json!(now + 5)));
        app.get("/v1/teams", &skewed).await.expect(200);
        let future = hs256(&with(valid, "nbf", json!(now + 3600)));
        assert_unauthorized(app.get("/v1/teams", &future).await, "nbf an hour from now");
    })
    .await;
}

#[tokio::test]
async fn a_token_without_exp_or_sub_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let valid = claims(Some(&org), "owner");
        app.get("/v1/teams", &hs256(&valid)).await.expect(200);
        assert_unauthorized(
            app.get("/v1/teams", &hs256(&without(valid.clone(), "exp")))
                .await,
            "no exp",
        );
        assert_unauthorized(
            app.get(
                "/v1/teams",
                &hs256(&with(valid.clone(), "exp", json!("tomorrow"))),
            )
            .await,
            "text exp",
        );
        assert_unauthorized(
            app.get("/v1/teams", &hs256(&without(valid.clone(), "sub")))
                .await,
            "no sub",
        );
        assert_unauthorized(
            app.get("/v1/teams", &hs256(&with(valid, "sub", json!(""))))
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
            let token = sign(alg, None, &key, &claims(Some(&org), "owner"));
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
            let token = hs256(&claims(Some(&org), role));
            assert_unauthorized(
                app.get("/v1/teams", &token).await,
                &format!("role {role:?}"),
            );
        }
        assert_unauthorized(
            app.get(
                "/v1/teams",
                &hs256(&without(claims(Some(&org), "owner"), "role")),
            )
            .await,
            "no role",
        );
        for role in ["owner", "manager", "staff", "integration"] {
            let token = hs256(&with(
                claims(None, role),
                "scope",
                json!("members:read members:write"),
            ));
            assert_unauthorized(
                app.get("/v1/teams", &token).await,
                &format!("{role} without org"),
            );
        }
        let not_an_id = hs256(&claims(Some("panaderia-sol"), "owner"));
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
            app.get("/v1/teams", &hs256(&valid)).await.expect(200);
            let among_audiences = with(valid.clone(), "aud", json!(["billing", AUDIENCE]));
            app.get("/v1/teams", &hs256(&among_audiences))
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
                assert_unauthorized(app.get("/v1/teams", &hs256(&claims)).await, case);
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
        app.get("/v1/teams", &hs256(&foreign)).await.expect(200);
    })
    .await;
}
