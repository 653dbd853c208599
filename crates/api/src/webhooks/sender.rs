//! One delivery attempt over HTTP: the event's body, signed per Standard Webhooks, POSTed with
//! a 5 s limit, no redirects followed and no proxy, to public addresses only (see [`target`]).
//! Only a 2xx answer delivers.
//!
//! [`target`]: super::target

use std::time::Duration;

use circulo_domain::webhook::{DELIVERY_TIMEOUT, excerpt};
use circulo_persistence::webhooks::delivery::{AttemptOutcome, ClaimedDelivery};

use super::signing::signature;
use super::target::{PublicResolver, refusal_before_sending};

/// How much of a receiver's answer is read: enough for the log's excerpt.
const READ_AT_MOST: usize = 1024;

/// Sends deliveries.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// A sender; `allow_private` lets deliveries reach private and loopback addresses over
    /// plain `http` (development and tests).
    pub fn new(allow_private: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(PublicResolver { allow_private })
            .user_agent(concat!("Circulo-Webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// Makes `claim`'s attempt and says what came of it.
    pub async fn send(&self, claim: &ClaimedDelivery) -> AttemptOutcome {
        let failed = |error: String| AttemptOutcome {
            succeeded: false,
            response_code: None,
            response_excerpt: None,
            error: Some(error),
        };
        let url = match reqwest::Url::parse(&claim.url) {
            Ok(url) => url,
            Err(e) => return failed(format!("the URL cannot be parsed: {e}")),
        };
        if let Some(refusal) = refusal_before_sending(&url, self.allow_private) {
            return failed(refusal);
        }
        let timestamp = chrono::Utc::now().timestamp();
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &claim.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature(&claim.event_id, timestamp, &claim.payload, &claim.secrets),
            )
            .body(claim.payload.clone());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(describe(&e)),
        };
        let status = response.status();
        let body = read_start(&mut response).await;
        AttemptOutcome {
            succeeded: status.is_success(),
            response_code: Some(i32::from(status.as_u16())),
            response_excerpt: Some(excerpt(&body)).filter(|e| !e.is_empty()),
            error: if status.is_success() {
                None
            } else if status.is_redirection() {
                Some(format!("HTTP {status}: redirects are not followed"))
            } else {
                Some(format!("HTTP {status}"))
            },
        }
    }
}

/// The first [`READ_AT_MOST`] bytes of the answer, as text; whatever arrives within the
/// request's time limit.
async fn read_start(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < READ_AT_MOST {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(READ_AT_MOST);
    String::from_utf8_lossy(&body).into_owned()
}

/// What went wrong, in words, with the causes reqwest wraps (the resolver's refusal among them).
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "no answer within 5 s"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes.dedup();
    match causes.last() {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_owned(),
    }
}
