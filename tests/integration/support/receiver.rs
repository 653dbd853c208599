//! A webhook receiver on 127.0.0.1: it records every request it gets and answers as the test
//! scripts it (a status, a delay, a redirect), 204 once the script runs out.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Whether one of `webhook-signature`'s signatures is the Standard Webhooks HMAC, computed
    /// here from the specification, of this request with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
            .expect("base64 key");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
        mac.update(
            format!(
                "{}.{}.{}",
                self.header("webhook-id"),
                self.header("webhook-timestamp"),
                self.body
            )
            .as_bytes(),
        );
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.header("webhook-signature")
            .split(' ')
            .any(|signature| signature == expected)
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub body: String,
    pub location: Option<String>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay: Duration::ZERO,
            body: String::new(),
            location: None,
        }
    }

    pub fn with_body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn redirect(to: &str) -> Self {
        Self {
            location: Some(to.to_owned()),
            ..Self::status(302)
        }
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    always: Mutex<Option<Reply>>,
}

/// A receiver; stopped when dropped.
pub struct Receiver {
    pub base: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(request: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    state.received.lock().expect("received").push(Received {
        path: request.path().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let scripted = state.script.lock().expect("script").pop_front();
    let reply = scripted
        .or_else(|| state.always.lock().expect("always").clone())
        .unwrap_or_else(|| Reply::status(204));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(reply.status).expect("a status"));
    if let Some(location) = &reply.location {
        response.insert_header(("location", location.as_str()));
    }
    response.body(reply.body)
}

impl Receiver {
    pub fn start() -> Self {
        let state = Arc::new(State::default());
        let data = web::Data::from(Arc::clone(&state));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let address = listener.local_addr().expect("receiver address");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base: format!("http://{address}"),
            state,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next requests are answered with `replies`, in order.
    pub fn script(&self, replies: Vec<Reply>) {
        self.state.script.lock().expect("script").extend(replies);
    }

    /// Every request the script does not cover is answered with `reply`.
    pub fn always(&self, reply: Reply) {
        *self.state.always.lock().expect("always") = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("received").clone()
    }

    /// The requests to `path`, once there are at least `n`; panics after `within`.
    pub async fn wait_for(&self, path: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.path == path)
                .collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {} of {n} requests within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A port that counts the connections made to it and answers none: what a refused delivery
/// must never reach.
pub struct Tripwire {
    pub port: u16,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl Tripwire {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the tripwire");
        let port = listener.local_addr().expect("address").port();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        Self { port, connections }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}
