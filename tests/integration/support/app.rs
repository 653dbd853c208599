//! A running server and a client for it.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use circulo_api::auth::JwksTiming;
use circulo_api::auth::{MintRequest, mint_hs256};
use circulo_api::webhooks::WebhookSettings;
use circulo_api::{AuthSettings, Config};
use circulo_domain::webhook::RetryPolicy;
use circulo_persistence::{DatabaseUrl, Deadlines, PoolOptions};

use super::database::{Backend, TestDatabase};

/// The HS256 secret test servers use.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// A server on a fresh database.
pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    pub client: reqwest::Client,
    pub config: Config,
    handle: actix_web::dev::ServerHandle,
    database_url: String,
    /// The database this app created, dropped with it; `None` for a replica of another app.
    _database: Option<TestDatabase>,
}

/// A response read in full.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Self {
        let this = self.expect(status);
        assert_eq!(
            this.header("content-type"),
            Some("application/problem+json"),
            "{}",
            this.text
        );
        assert_eq!(this.body["status"], status, "{}", this.text);
        assert!(this.body["title"].is_string(), "{}", this.text);
        assert!(this.body["type"].is_string(), "{}", this.text);
        assert!(
            this.body["request_id"].is_string(),
            "problem without request_id: {}",
            this.text
        );
        this
    }

    /// The `id` of the resource in the body, as a created or fetched resource has it.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id: {}", self.text))
            .to_owned()
    }

    /// The `items` of a list response.
    #[track_caller]
    pub fn items(&self) -> &[Value] {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {}", self.text))
    }

    /// The string `field` of each item of a list response, in order.
    #[track_caller]
    pub fn item_strings(&self, field: &str) -> Vec<String> {
        self.items()
            .iter()
            .map(|item| {
                item[field]
                    .as_str()
                    .unwrap_or_else(|| panic!("an item without {field}: {item}"))
                    .to_owned()
            })
            .collect()
    }

    /// The top-level fields of the body whose values differ in `other` (an audit event's `changes`).
    pub fn fields_differing_from(&self, other: &Value) -> Vec<String> {
        self.body
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {}", self.text))
            .iter()
            .filter(|(field, value)| &other[field.as_str()] != *value)
            .map(|(field, _)| field.clone())
            .collect()
    }

    /// The fields named in a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether `value` is an RFC 3339 UTC timestamp such as `2026-11-22T10:00:00Z`.
pub fn is_utc_timestamp(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

impl TestApp {
    pub async fn spawn(backend: Backend, configure: &impl Fn(&mut Config)) -> Self {
        let database = TestDatabase::create(backend);
        let url = database.url().to_owned();
        Self::start(backend, &url, Some(database), configure)
    }

    /// Another server on `other`'s database, as a second replica is.
    pub async fn spawn_beside(other: &TestApp, configure: &impl Fn(&mut Config)) -> Self {
        Self::start(other.backend, &other.database_url, None, configure)
    }

    fn start(
        backend: Backend,
        database_url: &str,
        database: Option<TestDatabase>,
        configure: &impl Fn(&mut Config),
    ) -> Self {
        let mut config = Config {
            database_url: DatabaseUrl::parse(database_url).expect("test database url"),
            bind: "127.0.0.1:0".to_owned(),
            workers: Some(1),
            pool: PoolOptions {
                max_size: 4,
                connection_timeout: Duration::from_secs(5),
                deadlines: Deadlines::default(),
            },
            auth: AuthSettings {
                jwt_secret: Some(TEST_SECRET.to_owned()),
                jwks_timing: JwksTiming {
                    min_refetch_interval: Duration::ZERO,
                    ..JwksTiming::default()
                },
                ..AuthSettings::default()
            },
            request_head_timeout: Duration::from_secs(10),
            // Webhook tests deliver to receivers on 127.0.0.1 and retry quickly. Other tests
            // read the outbox as their changes wrote it, so the worker, which empties it, runs
            // only where a test asks for it (`delivering`).
            webhooks: WebhookSettings {
                allow_private: true,
                retry: RetryPolicy {
                    first_wait: Duration::from_millis(200),
                    longest_wait: Duration::from_secs(1),
                    ..RetryPolicy::default()
                },
                poll_interval: Duration::from_millis(50),
                deliver: false,
            },
        };
        configure(&mut config);
        let running =
            circulo_api::start(&config).unwrap_or_else(|e| panic!("server did not start: {e}"));
        let handle = running.handle();
        let address = running.address;
        tokio::spawn(running.run());
        Self {
            backend,
            address: format!("http://{address}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // Below the server's keep-alive (5 s): a connection it is closing is never reused.
                .pool_idle_timeout(Duration::from_secs(2))
                .build()
                .expect("client"),
            config,
            handle,
            database_url: database_url.to_owned(),
            _database: database,
        }
    }

    /// The URL of the app's database.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// An HS256 token signed with the test secret.
    pub fn token(&self, org: Option<&str>, role: &str, sub: &str, scope: Option<&str>) -> String {
        mint_hs256(
            TEST_SECRET.as_bytes(),
            &MintRequest {
                org: org.map(str::to_owned),
                role: role.to_owned(),
                sub: sub.to_owned(),
                scope: scope.map(str::to_owned),
                ttl_seconds: 600,
                issuer: self.config.auth.issuer.clone(),
                audience: self.config.auth.audience.clone(),
            },
        )
        .expect("mint")
    }

    pub fn platform_admin_token(&self) -> String {
        self.token(None, "platform_admin", "ops", None)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        self.send_with_headers(method, path, token, &[], body).await
    }

    /// Like [`TestApp::send`], with extra headers such as `X-Request-Id` or `Idempotency-Key`.
    pub async fn send_with_headers(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.execute(request).await
    }

    /// Sends a request with a bearer token, an `If-Match` header and an optional JSON body.
    pub async fn send_if_match(
        &self,
        method: Method,
        path: &str,
        token: &str,
        etag: &str,
        body: Option<Value>,
    ) -> Response {
        self.send_with_headers(method, path, Some(token), &[("if-match", etag)], body)
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// Sends a prepared request.
    pub async fn execute(&self, request: reqwest::RequestBuilder) -> Response {
        read(request.send().await.expect("request sent")).await
    }
}

pub async fn read(response: reqwest::Response) -> Response {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response {
        status,
        headers,
        body,
        text,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}
