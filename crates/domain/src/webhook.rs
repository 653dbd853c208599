//! Webhooks: subscriptions other systems make to Circulo's events, and the deliveries that carry
//! each event to them. The rules here need no I/O: what a subscription may name, how a delivery
//! that failed is retried, and when an endpoint that keeps failing is given up on. Resolving a
//! URL's name and connecting are the API's.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::address;
use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::{WebhookDeliveryId, WebhookId};
use crate::text;
use crate::version::Revision;

/// The longest URL a subscription may name.
pub const MAX_URL_CHARS: usize = 2048;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// How long a rotated-out secret keeps signing beside the new one.
pub const OLD_SECRET_SIGNS_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a receiver has to answer one delivery.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the delivery log keeps a delivery that ended (succeeded or failed).
pub const DELIVERY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// How much of a receiver's answer the delivery log keeps.
pub const EXCERPT_CHARS: usize = 200;

crate::string_enum! {
    /// An event Circulo announces.
    pub enum EventType ("events") {
        /// A satisfaction score was recorded.
        ScoreRecorded = "score.recorded",
        /// A score at or below the organization's low-score threshold: someone should call back.
        ScoreDetractor = "score.detractor",
        /// A decision beyond the member's authority was escalated.
        DecisionEscalated = "decision.escalated",
        /// An escalation was resolved.
        EscalationResolved = "escalation.resolved",
        /// A goal was achieved.
        GoalAchieved = "goal.achieved",
        /// A delegation of authority was revoked.
        DelegationRevoked = "delegation.revoked",
        /// Feedback was given (anonymous feedback's event names no author).
        FeedbackReceived = "feedback.received",
    }
}

/// Whether a subscription may name private, loopback and plain-`http` URLs: for development and
/// tests only (`CIRCULO_WEBHOOK_ALLOW_PRIVATE=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reachability {
    /// Private addresses and `http` are allowed.
    pub allow_private: bool,
}

/// A subscription's fields as a client sent them.
#[derive(Debug, Clone, Copy)]
pub struct RawWebhookFields<'a> {
    /// Where deliveries go.
    pub url: &'a str,
    /// The event names subscribed to.
    pub events: &'a [String],
    /// What the subscription is for.
    pub description: Option<&'a str>,
}

/// A subscription's settable fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookFields {
    url: String,
    events: Vec<EventType>,
    description: Option<String>,
}

impl WebhookFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawWebhookFields<'_>, reach: Reachability) -> DomainResult<Self> {
        let mut v = Validator::new();
        let url = v.check(parse_url(raw.url, reach));
        let events = v.check(parse_events(raw.events));
        let description = raw.description.map(|d| v.check(description(d)));
        v.build(|| {
            Some(Self {
                url: url?,
                events: events?,
                description: description.map(|d| d.ok_or(())).transpose().ok()?,
            })
        })
    }

    /// Where deliveries go.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The events subscribed to, sorted, each once.
    pub fn events(&self) -> &[EventType] {
        &self.events
    }

    /// These fields with `patch` applied.
    pub fn patched(mut self, patch: WebhookPatch) -> Self {
        crate::apply_patch!(self, patch; url, events, description);
        self
    }
}

/// A change to a subscription as a client sent it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawWebhookPatch<'a> {
    /// A new URL.
    pub url: Option<&'a str>,
    /// New events.
    pub events: Option<&'a [String]>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<&'a str>>,
    /// Turn deliveries on or off.
    pub enabled: Option<bool>,
}

/// A validated change to a subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPatch {
    url: Option<String>,
    events: Option<Vec<EventType>>,
    description: Option<Option<String>>,
    enabled: Option<bool>,
}

impl WebhookPatch {
    /// Validates every field given, reporting all failures together.
    pub fn parse(raw: RawWebhookPatch<'_>, reach: Reachability) -> DomainResult<Self> {
        let mut v = Validator::new();
        let url = raw.url.map(|u| v.check(parse_url(u, reach)));
        let events = raw.events.map(|e| v.check(parse_events(e)));
        let description = raw.description.map(|d| d.map(|d| v.check(description(d))));
        v.build(|| {
            Some(Self {
                url: url.map(|u| u.ok_or(())).transpose().ok()?,
                events: events.map(|e| e.ok_or(())).transpose().ok()?,
                description: match description {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(d)) => Some(Some(d?)),
                },
                enabled: raw.enabled,
            })
        })
    }

    /// The new URL, when the patch changes it.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

/// A subscription as stored. The secret is not part of it: it is shown once and kept apart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    /// The subscription's id.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: String,
    /// The events subscribed to.
    pub events: Vec<EventType>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// Why Circulo disabled it, when it did.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed, while they do.
    #[serde(skip)]
    pub failing_since: Option<DateTime<Utc>>,
    /// Its version and times.
    #[serde(flatten)]
    pub revision: Revision,
}

impl Webhook {
    /// A new, enabled subscription at version 1.
    pub fn created(id: WebhookId, fields: WebhookFields, at: DateTime<Utc>) -> Self {
        Self {
            id,
            url: fields.url,
            events: fields.events,
            description: fields.description,
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            revision: Revision::first(at),
        }
    }

    /// The fields a client sets.
    pub fn fields(&self) -> WebhookFields {
        WebhookFields {
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
        }
    }

    /// The next state after `patch`. Enabling a subscription clears why it was disabled and
    /// starts its failure clock afresh.
    pub fn patched(&self, patch: WebhookPatch, at: DateTime<Utc>) -> Self {
        let enabled = patch.enabled;
        let fields = self.fields().patched(patch);
        let mut next = Self {
            url: fields.url,
            events: fields.events,
            description: fields.description,
            revision: self.revision.next(at),
            ..self.clone()
        };
        match enabled {
            Some(true) if !self.enabled => {
                next.enabled = true;
                next.disabled_reason = None;
                next.failing_since = None;
            }
            Some(false) => next.enabled = false,
            _ => {}
        }
        next
    }

    /// Whether it receives `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e.as_str() == event)
    }
}

crate::string_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus ("status") {
        /// Waiting for its next attempt (or being attempted now).
        Pending = "pending",
        /// The receiver answered 2xx.
        Succeeded = "succeeded",
        /// Retried for as long as Circulo retries, without success; `retry` tries again.
        Failed = "failed",
    }
}

/// One event on its way to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery's id.
    pub id: WebhookDeliveryId,
    /// The subscription it goes to.
    pub webhook_id: WebhookId,
    /// The event's id: the `webhook-id` header, the same on every attempt.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status the receiver last answered with.
    pub last_response_code: Option<i32>,
    /// The start of the receiver's last answer.
    pub last_response_excerpt: Option<String>,
    /// What went wrong with the last attempt, when something did.
    pub last_error: Option<String>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the delivery was created.
    pub created_at: DateTime<Utc>,
}

/// How failed deliveries are retried and when an endpoint is given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before the first retry; each later wait doubles, up to [`Self::longest_wait`].
    pub first_wait: Duration,
    /// The longest wait between two attempts.
    pub longest_wait: Duration,
    /// How long a delivery is retried, and how long an endpoint may fail every delivery before
    /// it is disabled.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    /// The first retry 10 s after the failure (within 8–12 s with jitter), then 20 s, 40 s, …,
    /// at most an hour apart, for 24 hours: about thirty attempts.
    fn default() -> Self {
        Self {
            first_wait: Duration::from_secs(10),
            longest_wait: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt. `jitter`, in `[0, 1)`, spreads the
    /// retries of many deliveries over ±20 % so a recovering endpoint is not hit all at once.
    pub fn wait_after(&self, attempts: i32, jitter: f64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let wait = self
            .first_wait
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.longest_wait);
        wait.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
    }

    /// Whether a delivery first due at `since` is past retrying at `now`.
    pub fn gives_up(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        (now - since)
            .to_std()
            .is_ok_and(|age| age >= self.give_up_after)
    }
}

/// The receiver's answer as the delivery log keeps it: the first [`EXCERPT_CHARS`] characters,
/// control characters and the invisible ones that reorder or hide text (bidirectional
/// overrides, zero-width characters, line and paragraph separators) shown as U+FFFD, so the
/// log can be read safely.
pub fn excerpt(body: &str) -> String {
    body.chars()
        .take(EXCERPT_CHARS)
        .map(|c| {
            if c.is_control() || is_invisible(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Validates a URL: absolute `https` (or `http` where private targets are allowed), with a host,
/// no credentials and no fragment; a literal IP address must be public unless private targets
/// are allowed. Names are resolved and checked by the caller, at creation and at every delivery.
fn parse_url(raw: &str, reach: Reachability) -> DomainResult<String> {
    let value = text::single_line("url", raw, MAX_URL_CHARS)?;
    let invalid = |message: &str| Err(DomainError::invalid("url", message));
    let Ok(url) = url::Url::parse(&value) else {
        return invalid("must be an absolute URL");
    };
    match url.scheme() {
        "https" => {}
        "http" if reach.allow_private => {}
        _ => return invalid("must use https"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return invalid("must not carry a user name or password");
    }
    if url.fragment().is_some() {
        return invalid("must not have a fragment");
    }
    if url.port() == Some(0) {
        return invalid("must not name port 0");
    }
    // Encoding can make a URL much longer than it was sent (each `é` becomes `%C3%A9`): the
    // limit holds for what is stored and sent.
    if url.as_str().chars().count() > MAX_URL_CHARS {
        return Err(DomainError::invalid(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters once encoded"),
        ));
    }
    let ip = match url.host() {
        None => return invalid("must name a host"),
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
    };
    if let Some(reason) = ip.and_then(address::non_public_reason)
        && !reach.allow_private
    {
        return Err(DomainError::invalid(
            "url",
            format!("must reach a public address, not {reason}"),
        ));
    }
    Ok(url.to_string())
}

fn parse_events(raw: &[String]) -> DomainResult<Vec<EventType>> {
    if raw.is_empty() {
        return Err(DomainError::invalid(
            "events",
            "must name at least one event",
        ));
    }
    let mut events = Vec::with_capacity(raw.len());
    for name in raw {
        events.push(EventType::parse(name)?);
    }
    events.sort_unstable();
    events.dedup();
    Ok(events)
}

fn description(raw: &str) -> DomainResult<String> {
    text::single_line("description", raw, MAX_DESCRIPTION_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_ONLY: Reachability = Reachability {
        allow_private: false,
    };
    const DEVELOPMENT: Reachability = Reachability {
        allow_private: true,
    };

    fn fields(url: &str, events: &[&str], reach: Reachability) -> DomainResult<WebhookFields> {
        let events: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
        WebhookFields::parse(
            RawWebhookFields {
                url,
                events: &events,
                description: None,
            },
            reach,
        )
    }

    fn refusal(result: DomainResult<WebhookFields>) -> String {
        let error = result.unwrap_err();
        let problems = error.field_errors();
        assert_eq!(problems.len(), 1, "{error}");
        format!("{}: {}", problems[0].field, problems[0].message)
    }

    #[test]
    fn a_public_https_url_and_known_events_are_accepted() {
        let parsed = fields(
            "https://hooks.example.com/circulo",
            &["score.detractor", "decision.escalated", "score.detractor"],
            PUBLIC_ONLY,
        )
        .unwrap();
        assert_eq!(parsed.url(), "https://hooks.example.com/circulo");
        assert_eq!(
            parsed.events(),
            [EventType::ScoreDetractor, EventType::DecisionEscalated]
        );
    }

    #[test]
    fn urls_that_could_reach_the_private_network_are_refused() {
        for url in [
            "http://hooks.example.com/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.1.2.3/",
            "https://[fe80::1]/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
        ] {
            let message = refusal(fields(url, &["score.recorded"], PUBLIC_ONLY));
            assert!(message.starts_with("url: "), "{url}: {message}");
        }
    }

    #[test]
    fn development_allows_loopback_and_http() {
        let parsed = fields(
            "http://127.0.0.1:9000/hook",
            &["goal.achieved"],
            DEVELOPMENT,
        );
        assert_eq!(parsed.unwrap().url(), "http://127.0.0.1:9000/hook");
    }

    #[test]
    fn malformed_urls_are_refused() {
        for url in [
            "hooks.example.com",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#part",
            "https://hooks.example.com/\u{7}",
            "https://hooks.example.com:0/",
        ] {
            refusal(fields(url, &["score.recorded"], PUBLIC_ONLY));
        }
    }

    #[test]
    fn the_length_limit_holds_once_the_url_is_encoded() {
        let url = format!("https://a.example/{}", "é".repeat(1000));
        assert!(url.chars().count() < MAX_URL_CHARS);
        let message = refusal(fields(&url, &["goal.achieved"], PUBLIC_ONLY));
        assert!(message.contains("once encoded"), "{message}");
    }

    #[test]
    fn unknown_or_missing_events_are_refused() {
        let message = refusal(fields(
            "https://a.example/",
            &["score.deleted"],
            PUBLIC_ONLY,
        ));
        assert!(message.starts_with("events: must be one of"), "{message}");
        let message = refusal(fields("https://a.example/", &[], PUBLIC_ONLY));
        assert_eq!(message, "events: must name at least one event");
    }

    #[test]
    fn retries_start_within_thirty_seconds_and_grow_to_an_hour() {
        let policy = RetryPolicy::default();
        for jitter in [0.0, 0.5, 0.999] {
            assert!(policy.wait_after(1, jitter) <= Duration::from_secs(30));
        }
        assert_eq!(policy.wait_after(1, 0.5), Duration::from_secs(10));
        assert_eq!(policy.wait_after(2, 0.5), Duration::from_secs(20));
        assert_eq!(policy.wait_after(3, 0.5), Duration::from_secs(40));
        assert_eq!(policy.wait_after(40, 0.5), Duration::from_secs(3600));
        assert_eq!(policy.wait_after(i32::MAX, 0.0), Duration::from_secs(2880));
    }

    #[test]
    fn retrying_lasts_at_least_a_day() {
        let policy = RetryPolicy::default();
        let since = Utc::now();
        assert!(!policy.gives_up(since, since + chrono::TimeDelta::hours(23)));
        assert!(policy.gives_up(since, since + chrono::TimeDelta::hours(24)));
        let mut elapsed = Duration::ZERO;
        let mut attempts = 0;
        while elapsed < policy.give_up_after {
            attempts += 1;
            elapsed += policy.wait_after(attempts, 0.0);
        }
        assert!(attempts > 20, "{attempts} attempts in a day");
    }

    #[test]
    fn enabling_a_disabled_webhook_clears_the_reason() {
        let at = Utc::now();
        let mut hook = Webhook::created(
            WebhookId::from_uuid(uuid::Uuid::now_v7()),
            fields("https://a.example/", &["goal.achieved"], PUBLIC_ONLY).unwrap(),
            at,
        );
        hook.enabled = false;
        hook.disabled_reason = Some("failing".to_owned());
        hook.failing_since = Some(at);
        let patch = WebhookPatch::parse(
            RawWebhookPatch {
                enabled: Some(true),
                ..Default::default()
            },
            PUBLIC_ONLY,
        )
        .unwrap();
        let next = hook.patched(patch, at);
        assert!(next.enabled);
        assert_eq!(next.disabled_reason, None);
        assert_eq!(next.failing_since, None);
        assert_eq!(next.revision.version, 2);
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("ok\u{0}\n"), "ok\u{fffd}\u{fffd}");
        assert_eq!(
            excerpt("a\u{202e}b\u{2028}c\u{200b}"),
            "a\u{fffd}b\u{fffd}c\u{fffd}"
        );
        assert_eq!(excerpt(&"x".repeat(1000)).chars().count(), EXCERPT_CHARS);
    }
}
