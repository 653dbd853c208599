//! RS256 and ES256 tokens verified with keys from a JWKS URL: a key server in the test publishes
//! the keys (and counts how often it is asked), the app is configured with its URL and no HS256
//! secret. Covers key rotation, unknown keys, algorithm confusion and an unreachable key server.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::{Value, json};

use crate::support::{Response, TestApp, for_each_backend_with};

const RSA_A: &str = include_str!("fixtures/rsa-a.pem");
const RSA_B: &str = include_str!("fixtures/rsa-b.pem");
const EC_A: &str = include_str!("fixtures/ec-a.pem");

fn rsa_a() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_A.as_bytes()).expect("rsa-a.pem")
}

fn rsa_b() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_B.as_bytes()).expect("rsa-b.pem")
}

fn ec_a() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_A.as_bytes()).expect("ec-a.pem")
}

/// The public JWK of `key` for `alg`, published under `kid`.
fn public_jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, alg).expect("public jwk");
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

/// What the key server publishes at first: rsa-a as `kid-a` and ec-a as `kid-ec`.
fn initial_keys() -> JwkSet {
    JwkSet {
        keys: vec![
            public_jwk(&rsa_a(), Algorithm::RS256, "kid-a"),
            public_jwk(&ec_a(), Algorithm::ES256, "kid-ec"),
        ],
    }
}

/// A token with `claims` signed by `key` under a header naming `alg` and `kid`.
fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).expect("sign")
}

/// Valid claims for `role` in `org`, expiring in ten minutes.
fn claims(org: Option<&str>, role: &str) -> Value {
    let mut claims = json!({"sub": "someone", "role": role, "exp": get_current_timestamp() + 600});
    if let Some(org) = org {
        claims["org"] = json!(org);
    }
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

/// Creates an organization with a platform admin token signed by rsa-a (`kid-a`) and returns its id.
async fn create_org(app: &TestApp) -> String {
    let admin = sign(
        Algorithm::RS256,
        Some("kid-a"),
        &rsa_a(),
        &claims(None, "platform_admin"),
    );
    let created = app
        .post(
            "/v1/organizations",
            &admin,
            json!({"name": "Panadería Sol", "currency": "EUR", "timezone": "Europe/Madrid"}),
        )
        .await
        .expect(201);
    created.body["id"].as_str().expect("org id").to_owned()
}

/// What the key server publishes and how often it was asked.
struct Published {
    keys: Mutex<JwkSet>,
    fetches: AtomicUsize,
    failing: AtomicBool,
}

/// An HTTP server on 127.0.0.1 publishing a JWKS the test can change.
struct KeyServer {
    url: String,
    published: Arc<Published>,
    handle: actix_web::dev::ServerHandle,
}

async fn serve_keys(published: web::Data<Published>) -> HttpResponse {
    published.fetches.fetch_add(1, Ordering::SeqCst);
    if published.failing.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().body("identity provider down for maintenance");
    }
    let keys = published.keys.lock().expect("keys").clone();
    HttpResponse::Ok().json(keys)
}

impl KeyServer {
    fn start() -> Self {
        let published = Arc::new(Published {
            keys: Mutex::new(initial_keys()),
            fetches: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        });
        let data = web::Data::from(Arc::clone(&published));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the key server");
        let address = listener.local_addr().expect("key server address");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/jwks.json", web::get().to(serve_keys))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://{address}/jwks.json"),
            published,
            handle,
        }
    }

    /// Back to the initial keys and no fetches: each backend's app starts with an empty cache.
    fn reset(&self) {
        *self.published.keys.lock().expect("keys") = initial_keys();
        self.published.fetches.store(0, Ordering::SeqCst);
        self.published.failing.store(false, Ordering::SeqCst);
    }

    fn publish(&self, jwk: Jwk) {
        self.published.keys.lock().expect("keys").keys.push(jwk);
    }

    fn withdraw(&self, kid: &str) {
        let mut keys = self.published.keys.lock().expect("keys");
        keys.keys
            .retain(|k| k.common.key_id.as_deref() != Some(kid));
    }

    fn fail(&self) {
        self.published.failing.store(true, Ordering::SeqCst);
    }

    fn fetches(&self) -> usize {
        self.published.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Configures the app for JWKS only: no HS256 secret.
fn jwks_only(url: &str, min_refetch_interval: Duration) -> impl Fn(&mut circulo_api::Config) {
    let url = url.to_owned();
    move |config| {
        config.auth.jwt_secret = None;
        config.auth.jwks_url = Some(url.clone());
        config.auth.jwks_min_refetch_interval = min_refetch_interval;
    }
}

/// DER: a tag, its length and its content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short length"));
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).expect("nonzero length");
        out.push(0x80 | u8::try_from(bytes.len() - first).expect("length of length"));
        out.extend_from_slice(&bytes[first..]);
    }
    out.extend_from_slice(content);
    out
}

/// DER: an unsigned big-endian INTEGER.
fn der_unsigned(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut content = Vec::new();
    if bytes[first] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[first..]);
    der(0x02, &content)
}

/// The RSA public key published for `jwk`, as an attacker would rebuild it: PKCS#1 DER,
/// SubjectPublicKeyInfo DER, and SubjectPublicKeyInfo PEM (what `openssl pkey -pubout` prints).
fn rsa_public_key_encodings(jwk: &Jwk) -> Vec<(&'static str, Vec<u8>)> {
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        panic!("not an RSA key: {jwk:?}");
    };
    let n = URL_SAFE_NO_PAD.decode(&rsa.n).expect("n");
    let e = URL_SAFE_NO_PAD.decode(&rsa.e).expect("e");
    let pkcs1 = der(0x30, &[der_unsigned(&n), der_unsigned(&e)].concat());
    let rsa_encryption = [
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let spki = der(
        0x30,
        &[
            der(0x30, &rsa_encryption),
            der(0x03, &[&[0][..], &pkcs1].concat()),
        ]
        .concat(),
    );
    let encoded = STANDARD.encode(&spki);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64"))
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    );
    vec![
        ("PKCS#1 DER", pkcs1),
        ("SPKI DER", spki),
        ("SPKI PEM", pem.clone().into_bytes()),
        (
            "SPKI PEM without final newline",
            pem.trim_end().as_bytes().to_vec(),
        ),
    ]
}

#[tokio::test]
async fn an_rs256_token_signed_by_a_published_key_is_accepted_and_the_keys_are_cached() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            assert_eq!(server.fetches(), 1, "the first token fetched the keys");

            let owner = sign(
                Algorithm::RS256,
                Some("kid-a"),
                &rsa_a(),
                &claims(Some(&org), "owner"),
            );
            app.post("/v1/teams", &owner, json!({"name": "Bar"}))
                .await
                .expect(201);
            let teams = app.get("/v1/teams", &owner).await.expect(200);
            assert_eq!(teams.body["items"][0]["name"], "Bar");
            assert_eq!(server.fetches(), 1, "known keys are served from the cache");
        },
    )
    .await;
}

#[tokio::test]
async fn an_es256_token_signed_by_a_published_key_is_accepted() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            let owner = sign(
                Algorithm::ES256,
                Some("kid-ec"),
                &ec_a(),
                &claims(Some(&org), "owner"),
            );
            app.post("/v1/teams", &owner, json!({"name": "Bar"}))
                .await
                .expect(201);
            app.get("/v1/teams", &owner).await.expect(200);
            let admin = sign(
                Algorithm::ES256,
                Some("kid-ec"),
                &ec_a(),
                &claims(None, "platform_admin"),
            );
            app.post(
                "/v1/organizations",
                &admin,
                json!({"name": "Café Luna", "currency": "EUR", "timezone": "UTC"}),
            )
            .await
            .expect(201);
        },
    )
    .await;
}

#[tokio::test]
async fn a_token_naming_an_unknown_or_no_key_is_unauthorized() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
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
        },
    )
    .await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_a_published_kid_is_unauthorized() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            let owner = claims(Some(&org), "owner");
            let forged = sign(Algorithm::RS256, Some("kid-a"), &rsa_b(), &owner);
            assert_unauthorized(app.get("/v1/teams", &forged).await, "rsa-b key under kid-a");
            let expired = sign(
                Algorithm::RS256,
                Some("kid-a"),
                &rsa_a(),
                &with_exp(&owner, get_current_timestamp() - 3600),
            );
            assert_unauthorized(app.get("/v1/teams", &expired).await, "expired RS256 token");
        },
    )
    .await;
}

fn with_exp(claims: &Value, exp: u64) -> Value {
    let mut claims = claims.clone();
    claims["exp"] = json!(exp);
    claims
}

#[tokio::test]
async fn a_rotated_in_key_is_fetched_and_accepted() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            let owner = claims(Some(&org), "owner");
            app.get(
                "/v1/teams",
                &sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), &owner),
            )
            .await
            .expect(200);
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
            app.get(
                "/v1/teams",
                &sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), &owner),
            )
            .await
            .expect(200);
            assert_eq!(server.fetches(), 2, "both keys are cached now");
        },
    )
    .await;
}

#[tokio::test]
async fn a_key_withdrawn_from_the_set_is_refused_once_the_keys_are_refetched() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            let owner = claims(Some(&org), "owner");
            let old = sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), &owner);
            app.get("/v1/teams", &old).await.expect(200);

            server.withdraw("kid-a");
            server.publish(public_jwk(&rsa_b(), Algorithm::RS256, "kid-b"));
            let new = sign(Algorithm::RS256, Some("kid-b"), &rsa_b(), &owner);
            app.get("/v1/teams", &new).await.expect(200);
            assert_unauthorized(app.get("/v1/teams", &old).await, "withdrawn kid-a");
        },
    )
    .await;
}

#[tokio::test]
async fn unknown_kids_refetch_the_keys_at_most_once_per_minimum_interval() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::from_secs(3600)),
        move |app| async move {
            server.reset();
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
            app.get(
                "/v1/teams",
                &sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), &owner),
            )
            .await
            .expect(200);
        },
    )
    .await;
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_rsa_public_key_is_unauthorized() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            let owner = claims(Some(&org), "owner");
            app.get(
                "/v1/teams",
                &sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), &owner),
            )
            .await
            .expect(200);

            let published = public_jwk(&rsa_a(), Algorithm::RS256, "kid-a");
            for (encoding, public_key) in rsa_public_key_encodings(&published) {
                let secret = EncodingKey::from_secret(&public_key);
                for kid in [Some("kid-a"), None] {
                    let confused = sign(Algorithm::HS256, kid, &secret, &owner);
                    assert_unauthorized(
                        app.get("/v1/teams", &confused).await,
                        &format!("HS256 with the {encoding}, kid {kid:?}"),
                    );
                }
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_token_whose_algorithm_does_not_match_its_key_is_unauthorized() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            // The same RSA key once more, published without `alg`: only its type says what it is for.
            let mut bare = public_jwk(&rsa_a(), Algorithm::RS256, "kid-a-bare");
            bare.common.key_algorithm = None;
            server.publish(bare);
            let org = create_org(&app).await;
            let owner = claims(Some(&org), "owner");
            app.get(
                "/v1/teams",
                &sign(Algorithm::RS256, Some("kid-a-bare"), &rsa_a(), &owner),
            )
            .await
            .expect(200);

            let cases = [
                (
                    "ES256 claiming the RSA key kid-a",
                    sign(Algorithm::ES256, Some("kid-a"), &ec_a(), &owner),
                ),
                (
                    "ES256 claiming the bare RSA key",
                    sign(Algorithm::ES256, Some("kid-a-bare"), &ec_a(), &owner),
                ),
                (
                    "RS256 claiming the EC key",
                    sign(Algorithm::RS256, Some("kid-ec"), &rsa_a(), &owner),
                ),
                (
                    "PS256 with the RSA key",
                    sign(Algorithm::PS256, Some("kid-a"), &rsa_a(), &owner),
                ),
                (
                    "RS512 with the RSA key",
                    sign(Algorithm::RS512, Some("kid-a"), &rsa_a(), &owner),
                ),
            ];
            for (case, token) in cases {
                assert_unauthorized(app.get("/v1/teams", &token).await, case);
            }
        },
    )
    .await;
}

#[tokio::test]
async fn an_hs256_token_is_unauthorized_when_only_a_jwks_url_is_configured() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            // Signed with the secret test servers usually have, which this one was not given.
            assert_unauthorized(
                app.get("/v1/teams", &app.token(Some(&org), "owner", "o-1", None))
                    .await,
                "HS256 owner",
            );
            let admin = app.platform_admin_token();
            let refused = app
                .post(
                    "/v1/organizations",
                    &admin,
                    json!({"name": "Café Luna", "currency": "EUR", "timezone": "UTC"}),
                )
                .await;
            assert_unauthorized(refused, "HS256 platform admin");
            let empty_secret = sign(
                Algorithm::HS256,
                None,
                &EncodingKey::from_secret(b""),
                &claims(Some(&org), "owner"),
            );
            assert_unauthorized(
                app.get("/v1/teams", &empty_secret).await,
                "HS256 with an empty secret",
            );
        },
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_key_server_makes_tokens_unauthorized_not_a_server_error() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks.json", closed.local_addr().expect("address"));
    drop(closed);
    for_each_backend_with(jwks_only(&url, Duration::ZERO), |app| async move {
        let admin = sign(
            Algorithm::RS256,
            Some("kid-a"),
            &rsa_a(),
            &claims(None, "platform_admin"),
        );
        let refused = app
            .post(
                "/v1/organizations",
                &admin,
                json!({"name": "Café Luna", "currency": "EUR", "timezone": "UTC"}),
            )
            .await;
        assert_unauthorized(refused, "key server down");
        let owner = sign(
            Algorithm::ES256,
            Some("kid-ec"),
            &ec_a(),
            &claims(Some(&uuid::Uuid::now_v7().to_string()), "owner"),
        );
        assert_unauthorized(app.get("/v1/teams", &owner).await, "key server down, ES256");
        app.send(reqwest::Method::GET, "/healthz", None, None)
            .await
            .expect(200);
    })
    .await;
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_key_server_fails() {
    let keys = KeyServer::start();
    let server = &keys;
    for_each_backend_with(
        jwks_only(&keys.url, Duration::ZERO),
        move |app| async move {
            server.reset();
            let org = create_org(&app).await;
            let owner = claims(Some(&org), "owner");

            server.fail();
            let unknown = sign(Algorithm::RS256, Some("kid-new"), &rsa_b(), &owner);
            assert_unauthorized(
                app.get("/v1/teams", &unknown).await,
                "unknown kid while the key server fails",
            );
            assert_eq!(server.fetches(), 2, "the unknown kid was looked up");

            app.get(
                "/v1/teams",
                &sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), &owner),
            )
            .await
            .expect(200);
            app.get(
                "/v1/teams",
                &sign(Algorithm::ES256, Some("kid-ec"), &ec_a(), &owner),
            )
            .await
            .expect(200);
        },
    )
    .await;
}
