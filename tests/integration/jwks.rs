//! RS256 and ES256 tokens verified with keys from a JWKS URL (the key server in
//! `support::key_server`, no HS256 secret): accepted and cached keys, unknown keys, key rotation and
//! withdrawal, bounded refetching, and a key server that is down or failing.

use std::net::TcpListener;
use std::time::Duration;

use jsonwebtoken::{Algorithm, get_current_timestamp};
use serde_json::json;

use crate::support::for_each_backend_with;
use crate::support::key_server::{
    create_org, ec_a, jwks_only, kid_a_token, kid_ec_token, public_jwk, refetching_every, rsa_a,
    rsa_b, with_key_server, with_key_server_timing,
};
use crate::support::tokens::{assert_unauthorized, claims, sign, with};

#[tokio::test]
async fn an_rs256_token_signed_by_a_published_key_is_accepted_and_the_keys_are_cached() {
    with_key_server(Duration::ZERO, async |app, server| {
        let org = create_org(&app).await;
        assert_eq!(server.fetches(), 1, "the first token fetched the keys");

        let owner = kid_a_token(&claims(Some(&org), "owner"));
        app.post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        let teams = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(teams.body["items"][0]["name"], "Bar");
        assert_eq!(server.fetches(), 1, "known keys are served from the cache");
    })
    .await;
}

#[tokio::test]
async fn an_es256_token_signed_by_a_published_key_is_accepted() {
    with_key_server(Duration::ZERO, async |app, _| {
        let org = create_org(&app).await;
        let owner = kid_ec_token(&claims(Some(&org), "owner"));
        app.post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        app.get("/v1/teams", &owner).await.expect(200);
        let admin = kid_ec_token(&claims(None, "platform_admin"));
        app.post(
            "/v1/organizations",
            &admin,
            json!({"name": "Café Luna", "currency": "EUR", "timezone": "UTC"}),
        )
        .await
        .expect(201);
    })
    .await;
}

#[tokio::test]
async fn a_token_naming_an_unknown_or_no_key_is_unauthorized() {
    with_key_server(Duration::ZERO, async |app, server| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        let before = server.fetches();

        let unknown = sign(Algorithm::RS256, Some("kid-zzz"), &rsa_a(), &owner);
        assert_unauthorized(app.get("/v1/teams", &unknown).await, "unknown kid");
        assert_eq!(
            server.fetches(),
            before + 1,
            "an unknown kid makes the server look for new keys once"
        );

        let unpublished = sign(Algorithm::RS256, Some("kid-b"), &rsa_b(), &owner);
        assert_unauthorized(
            app.get("/v1/teams", &unpublished).await,
            "unpublished kid-b",
        );

        let no_kid = sign(Algorithm::RS256, None, &rsa_a(), &owner);
        assert_unauthorized(app.get("/v1/teams", &no_kid).await, "no kid");
        let no_kid = sign(Algorithm::ES256, None, &ec_a(), &owner);
        assert_unauthorized(app.get("/v1/teams", &no_kid).await, "ES256 without kid");
    })
    .await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_a_published_kid_is_unauthorized() {
    with_key_server(Duration::ZERO, async |app, _| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        let forged = sign(Algorithm::RS256, Some("kid-a"), &rsa_b(), &owner);
        assert_unauthorized(app.get("/v1/teams", &forged).await, "rsa-b key under kid-a");
        let expired = kid_a_token(&with(owner, "exp", json!(get_current_timestamp() - 3600)));
        assert_unauthorized(app.get("/v1/teams", &expired).await, "expired RS256 token");
    })
    .await;
}

#[tokio::test]
async fn a_rotated_in_key_is_fetched_and_accepted() {
    with_key_server(Duration::ZERO, async |app, server| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        app.get("/v1/teams", &kid_a_token(&owner)).await.expect(200);
        assert_eq!(server.fetches(), 1);

        server.publish(public_jwk(&rsa_b(), Algorithm::RS256, "kid-b"));
        let rotated = sign(Algorithm::RS256, Some("kid-b"), &rsa_b(), &owner);
        app.get("/v1/teams", &rotated).await.expect(200);
        assert_eq!(
            server.fetches(),
            2,
            "the new kid made the server refetch the keys"
        );

        app.get("/v1/teams", &rotated).await.expect(200);
        app.get("/v1/teams", &kid_a_token(&owner)).await.expect(200);
        assert_eq!(server.fetches(), 2, "both keys are cached now");
    })
    .await;
}

#[tokio::test]
async fn a_key_withdrawn_from_the_set_is_refused_once_the_keys_are_refetched() {
    with_key_server(Duration::ZERO, async |app, server| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        let old = kid_a_token(&owner);
        app.get("/v1/teams", &old).await.expect(200);

        server.withdraw("kid-a");
        server.publish(public_jwk(&rsa_b(), Algorithm::RS256, "kid-b"));
        let new = sign(Algorithm::RS256, Some("kid-b"), &rsa_b(), &owner);
        app.get("/v1/teams", &new).await.expect(200);
        assert_unauthorized(app.get("/v1/teams", &old).await, "withdrawn kid-a");
    })
    .await;
}

#[tokio::test]
async fn unknown_kids_refetch_the_keys_at_most_once_per_minimum_interval() {
    with_key_server(Duration::from_secs(3600), async |app, server| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        assert_eq!(server.fetches(), 1);
        for i in 0..5 {
            let forged = sign(
                Algorithm::RS256,
                Some(&format!("kid-forged-{i}")),
                &rsa_b(),
                &owner,
            );
            assert_unauthorized(app.get("/v1/teams", &forged).await, "forged kid");
        }
        assert_eq!(
            server.fetches(),
            1,
            "a flood of unknown kids does not turn into a flood of fetches"
        );
        app.get("/v1/teams", &kid_a_token(&owner)).await.expect(200);
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_key_server_makes_tokens_unauthorized_not_a_server_error() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks.json", closed.local_addr().expect("address"));
    drop(closed);
    for_each_backend_with(
        jwks_only(&url, refetching_every(Duration::ZERO)),
        |app| async move {
            let admin = kid_a_token(&claims(None, "platform_admin"));
            let refused = app
                .post(
                    "/v1/organizations",
                    &admin,
                    json!({"name": "Café Luna", "currency": "EUR", "timezone": "UTC"}),
                )
                .await;
            assert_unauthorized(refused, "key server down");
            let owner = kid_ec_token(&claims(Some(&uuid::Uuid::now_v7().to_string()), "owner"));
            assert_unauthorized(app.get("/v1/teams", &owner).await, "key server down, ES256");
            app.send(reqwest::Method::GET, "/healthz", None, None)
                .await
                .expect(200);
        },
    )
    .await;
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_key_server_fails() {
    with_key_server(Duration::ZERO, async |app, server| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");

        server.fail();
        let unknown = sign(Algorithm::RS256, Some("kid-new"), &rsa_b(), &owner);
        assert_unauthorized(
            app.get("/v1/teams", &unknown).await,
            "unknown kid while the key server fails",
        );
        assert_eq!(server.fetches(), 2, "the unknown kid was looked up");

        app.get("/v1/teams", &kid_a_token(&owner)).await.expect(200);
        app.get("/v1/teams", &kid_ec_token(&owner))
            .await
            .expect(200);
    })
    .await;
}

#[tokio::test]
async fn cached_keys_stop_being_trusted_when_the_key_server_fails_for_too_long() {
    let timing = circulo_api::auth::JwksTiming {
        min_refetch_interval: Duration::ZERO,
        max_key_age: Duration::ZERO,
        max_stale_age: Duration::from_millis(600),
    };
    with_key_server_timing(timing, async |app, server| {
        let org = create_org(&app).await;
        let owner = kid_a_token(&claims(Some(&org), "owner"));
        app.get("/v1/teams", &owner).await.expect(200);

        // Every use now tries to refresh the keys and fails: the cached key still works, for a
        // while, however many refetches fail…
        server.fail();
        for _ in 0..3 {
            app.get("/v1/teams", &owner).await.expect(200);
        }
        assert!(
            server.fetches() >= 4,
            "each use tried to refresh: {}",
            server.fetches()
        );
        // …but failed refetches do not make it fresh again: past the stale age it is refused.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_unauthorized(
            app.get("/v1/teams", &owner).await,
            "a key too stale to trust",
        );

        server.recover();
        app.get("/v1/teams", &owner).await.expect(200);
    })
    .await;
}
