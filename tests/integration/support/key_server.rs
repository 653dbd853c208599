//! A JWKS key server for the RS256 and ES256 tests: it publishes the fixture keys (and counts how
//! often it is asked), and `with_key_server` runs a test against apps that trust only it.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

use circulo_api::auth::JwksTiming;

use super::app::TestApp;
use super::for_each_backend_with;
use super::tokens::{claims, sign};

const RSA_A: &str = include_str!("../fixtures/rsa-a.pem");
const RSA_B: &str = include_str!("../fixtures/rsa-b.pem");
const EC_A: &str = include_str!("../fixtures/ec-a.pem");

pub fn rsa_a() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_A.as_bytes()).expect("rsa-a.pem")
}

pub fn rsa_b() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_B.as_bytes()).expect("rsa-b.pem")
}

pub fn ec_a() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_A.as_bytes()).expect("ec-a.pem")
}

/// The public JWK of `key` for `alg`, published under `kid`.
pub fn public_jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Jwk {
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

/// `claims` signed with RS256 by rsa-a under `kid-a`, a published key.
pub fn kid_a_token(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("kid-a"), &rsa_a(), claims)
}

/// `claims` signed with ES256 by ec-a under `kid-ec`, a published key.
pub fn kid_ec_token(claims: &Value) -> String {
    sign(Algorithm::ES256, Some("kid-ec"), &ec_a(), claims)
}

/// Creates an organization with a platform admin token signed by rsa-a (`kid-a`) and returns its id.
pub async fn create_org(app: &TestApp) -> String {
    app.create_org_as(&kid_a_token(&claims(None, "platform_admin")))
        .await
}

/// What the key server publishes and how often it was asked.
struct Published {
    keys: Mutex<JwkSet>,
    fetches: AtomicUsize,
    failing: AtomicBool,
}

/// An HTTP server on 127.0.0.1 publishing a JWKS the test can change.
pub struct KeyServer {
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

    pub fn publish(&self, jwk: Jwk) {
        self.published.keys.lock().expect("keys").keys.push(jwk);
    }

    pub fn withdraw(&self, kid: &str) {
        let mut keys = self.published.keys.lock().expect("keys");
        keys.keys
            .retain(|k| k.common.key_id.as_deref() != Some(kid));
    }

    pub fn fail(&self) {
        self.published.failing.store(true, Ordering::SeqCst);
    }

    pub fn recover(&self) {
        self.published.failing.store(false, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> usize {
        self.published.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Configures the app for JWKS only: no HS256 secret, the hand-made tokens' audience required.
pub fn jwks_only(url: &str, timing: JwksTiming) -> impl Fn(&mut circulo_api::Config) {
    let url = url.to_owned();
    move |config| {
        config.auth.jwt_secret = None;
        config.auth.jwks_url = Some(url.clone());
        config.auth.audience = Some(super::tokens::AUDIENCE.to_owned());
        config.auth.jwks_timing = timing;
    }
}

/// The default timing with `min_refetch_interval` between fetches for unknown kids.
pub fn refetching_every(min_refetch_interval: Duration) -> JwksTiming {
    JwksTiming {
        min_refetch_interval,
        ..JwksTiming::default()
    }
}

/// Starts a key server and runs `test` once per backend against an app that trusts only its keys
/// (see [`jwks_only`]), with the server reset to its initial keys and no fetches each time.
pub async fn with_key_server(
    min_refetch_interval: Duration,
    test: impl AsyncFn(TestApp, &KeyServer),
) {
    with_key_server_timing(refetching_every(min_refetch_interval), test).await;
}

/// Like [`with_key_server`], with every JWKS timing set.
pub async fn with_key_server_timing(timing: JwksTiming, test: impl AsyncFn(TestApp, &KeyServer)) {
    let keys = KeyServer::start();
    let server = &keys;
    let test = &test;
    for_each_backend_with(jwks_only(&keys.url, timing), move |app| async move {
        server.reset();
        test(app, server).await;
    })
    .await;
}
