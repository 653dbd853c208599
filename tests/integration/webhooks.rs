//! Webhooks over HTTP, with a receiver on 127.0.0.1: subscriptions and their secret, signed
//! deliveries the test verifies from the Standard Webhooks specification, retries that keep the
//! event id, the delivery log, rotation, disabling, and one organization's events never
//! reaching another's subscriptions.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::people::Company;
use crate::support::receiver::{Receiver, Reply};
use crate::support::{TestApp, delivering, for_each_backend_with};

const WAIT: Duration = Duration::from_secs(10);

fn detractor(member: &str) -> Value {
    json!({"audience": "client", "instrument": "csat", "score": 1, "member_id": member,
           "touchpoint": "pos", "occurred_at": "2026-11-30T15:42:00Z", "source": "pos"})
}

async fn subscribe(app: &TestApp, c: &Company, url: &str, events: &[&str]) -> (String, String) {
    let created = app
        .post(
            "/v1/webhooks",
            &c.owner,
            json!({"url": url, "events": events, "description": "CRM call-backs"}),
        )
        .await
        .expect(201);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    (created.id(), secret)
}

async fn score(app: &TestApp, c: &Company, body: Value) -> Value {
    let pos = app.integration_token(&c.org, "pos", "scores:write");
    app.post("/v1/satisfaction-scores", &pos, body)
        .await
        .expect(201)
        .body
}

async fn deliveries(app: &TestApp, c: &Company, hook: &str) -> Vec<Value> {
    app.list_items(&format!("/v1/webhooks/{hook}/deliveries"), &c.owner)
        .await
}

/// The deliveries once the first has an outcome: a receiver has a request before the server
/// records what it answered.
async fn settled(app: &TestApp, c: &Company, hook: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let log = deliveries(app, c, hook).await;
        if log.first().is_some_and(|d| d["status"] != "pending") {
            return log;
        }
        assert!(std::time::Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_owner_subscribes_and_the_secret_is_shown_once() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let created = app
            .post(
                "/v1/webhooks",
                &c.owner,
                json!({"url": "https://crm.example.com/hooks/circulo",
                       "events": ["score.detractor", "decision.escalated", "score.detractor"]}),
            )
            .await
            .expect(201);
        let id = created.id();
        assert_eq!(
            created.header("location"),
            Some(format!("/v1/webhooks/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        let secret = created.body["secret"].as_str().unwrap();
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert!(secret.len() >= "whsec_".len() + 32, "{secret}");
        assert_eq!(
            created.body["events"],
            json!(["score.detractor", "decision.escalated"])
        );
        assert_eq!(created.body["enabled"], true);

        let fetched = app
            .get(&format!("/v1/webhooks/{id}"), &c.owner)
            .await
            .expect(200);
        assert!(fetched.body.get("secret").is_none(), "{}", fetched.body);
        let listed = app.list_items("/v1/webhooks", &c.owner).await;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].get("secret").is_none());
        // Nothing the server answers or records afterwards carries the secret.
        let audit = app.get("/v1/audit-events", &c.owner).await.expect(200);
        assert!(
            !audit.text.contains(secret),
            "the audit log holds the secret"
        );

        // Patched with If-Match; a stale one is refused.
        let patched = app
            .send_if_match(
                reqwest::Method::PATCH,
                &format!("/v1/webhooks/{id}"),
                &c.owner,
                "\"1\"",
                Some(json!({"events": ["goal.achieved"], "description": "Goals"})),
            )
            .await
            .expect(200);
        assert_eq!(patched.body["events"], json!(["goal.achieved"]));
        assert_eq!(patched.body["version"], 2);
        app.send_if_match(
            reqwest::Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            &c.owner,
            "\"1\"",
            Some(json!({"enabled": false})),
        )
        .await
        .expect_problem(412);

        app.delete(&format!("/v1/webhooks/{id}"), &c.owner)
            .await
            .expect(204);
        app.get(&format!("/v1/webhooks/{id}"), &c.owner)
            .await
            .expect_problem(404);
    })
    .await;
}

#[tokio::test]
async fn only_owners_and_integrations_with_the_scope_manage_webhooks() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let body = json!({"url": "https://crm.example.com/h", "events": ["goal.achieved"]});
        for token in [&c.manager.token, &c.ana.token] {
            app.post("/v1/webhooks", token, body.clone())
                .await
                .expect_problem(403);
            app.get("/v1/webhooks", token).await.expect_problem(403);
        }
        let crm = app.integration_token(&c.org, "crm", "scores:write");
        app.post("/v1/webhooks", &crm, body.clone())
            .await
            .expect_problem(403);
        let hooks = app.integration_token(&c.org, "crm", "webhooks:manage");
        app.post("/v1/webhooks", &hooks, body).await.expect(201);
    })
    .await;
}

#[tokio::test]
async fn unknown_events_and_bad_urls_are_refused_naming_the_field() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        for (body, field) in [
            (
                json!({"url": "https://a.example.com/", "events": ["score.deleted"]}),
                "events",
            ),
            (
                json!({"url": "https://a.example.com/", "events": []}),
                "events",
            ),
            (
                json!({"url": "not a url", "events": ["goal.achieved"]}),
                "url",
            ),
            (
                json!({"url": "ftp://a.example.com/", "events": ["goal.achieved"]}),
                "url",
            ),
            (
                json!({"url": "https://u:p@a.example.com/", "events": ["goal.achieved"]}),
                "url",
            ),
            (
                json!({"url": "https://a.example.com/\u{0}", "events": ["goal.achieved"]}),
                "url",
            ),
        ] {
            let refused = app
                .post("/v1/webhooks", &c.owner, body.clone())
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), [field], "{body}");
        }
        assert!(app.list_items("/v1/webhooks", &c.owner).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_detractor_score_reaches_the_endpoint_signed_per_standard_webhooks() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let receiver = Receiver::start();
        let (hook, secret) =
            subscribe(&app, &c, &receiver.url("/detractors"), &["score.detractor"]).await;
        let started = chrono::Utc::now().timestamp();
        let recorded = score(&app, &c, detractor(&c.ana.id)).await;

        let got = receiver.wait_for("/detractors", 1, WAIT).await;
        let delivery = &got[0];
        assert!(delivery.signed_with(&secret), "{delivery:?}");
        assert!(!delivery.signed_with(&crate::webhooks::other_secret()));
        assert_eq!(delivery.header("content-type"), "application/json");
        let timestamp: i64 = delivery.header("webhook-timestamp").parse().unwrap();
        assert!(
            (started - 5..=started + 30).contains(&timestamp),
            "{timestamp}"
        );
        assert!(!delivery.header("webhook-id").is_empty());
        let body = delivery.json();
        assert_eq!(body["type"], "score.detractor");
        assert!(
            crate::support::is_utc_timestamp(&body["timestamp"]),
            "{body}"
        );
        assert_eq!(body["data"]["id"], recorded["id"]);
        assert_eq!(body["data"]["score"], 1);
        assert_eq!(body["data"]["member_id"], c.ana.id.as_str());

        // score.recorded was not subscribed to: only the detractor event came.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 1);

        let log = settled(&app, &c, &hook).await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["status"], "succeeded");
        assert_eq!(log[0]["attempts"], 1);
        assert_eq!(log[0]["last_response_code"], 204);
        assert_eq!(log[0]["event_type"], "score.detractor");
        assert_eq!(log[0]["event_id"], delivery.header("webhook-id"));
        assert_eq!(log[0]["next_attempt_at"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn failures_are_retried_with_the_same_webhook_id_and_body() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let receiver = Receiver::start();
        receiver.script(vec![
            Reply::status(500).with_body("database \u{1b}[31mdown\u{0}"),
            Reply::redirect("http://127.0.0.1:1/elsewhere"),
            Reply::status(429),
        ]);
        let (hook, secret) = subscribe(&app, &c, &receiver.url("/hook"), &["score.recorded"]).await;
        score(&app, &c, detractor(&c.ana.id)).await;

        let got = receiver.wait_for("/hook", 4, WAIT).await;
        assert_eq!(got.len(), 4, "delivered once it succeeded, never again");
        let id = got[0].header("webhook-id");
        for attempt in &got {
            assert_eq!(attempt.header("webhook-id"), id);
            assert_eq!(attempt.body, got[0].body);
            assert!(attempt.signed_with(&secret));
        }
        assert!(
            !receiver.received().iter().any(|r| r.path == "/elsewhere"),
            "the redirect was not followed"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 4);
        let log = settled(&app, &c, &hook).await;
        assert_eq!(log[0]["status"], "succeeded");
        assert_eq!(log[0]["attempts"], 4);
        assert_eq!(log[0]["last_error"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn the_delivery_log_shows_the_last_failure_readably() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let receiver = Receiver::start();
        receiver.always(
            Reply::status(503).with_body(&format!("maintenance \u{1b}[31m{}", "x".repeat(5000))),
        );
        let (hook, _) = subscribe(&app, &c, &receiver.url("/hook"), &["score.recorded"]).await;
        score(&app, &c, detractor(&c.ana.id)).await;
        receiver.wait_for("/hook", 2, WAIT).await;
        let log = deliveries(&app, &c, &hook).await;
        let last = &log[0];
        assert_eq!(last["status"], "pending");
        assert!(last["attempts"].as_i64().unwrap() >= 1);
        assert_eq!(last["last_response_code"], 503);
        let excerpt = last["last_response_excerpt"].as_str().unwrap();
        assert!(
            excerpt.starts_with("maintenance \u{fffd}[31mx"),
            "{excerpt}"
        );
        assert_eq!(excerpt.chars().count(), 200);
        assert!(last["last_error"].as_str().unwrap().contains("503"));
        assert!(crate::support::is_utc_timestamp(&last["next_attempt_at"]));
    })
    .await;
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_within_five_seconds_is_retried() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let receiver = Receiver::start();
        receiver.script(vec![Reply::status(204).after(Duration::from_secs(7))]);
        let (hook, _) = subscribe(&app, &c, &receiver.url("/slow"), &["score.recorded"]).await;
        score(&app, &c, detractor(&c.ana.id)).await;
        let got = receiver.wait_for("/slow", 2, Duration::from_secs(15)).await;
        assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
        let log = settled(&app, &c, &hook).await;
        assert_eq!(log[0]["attempts"], 2);
        assert_eq!(log[0]["status"], "succeeded");
    })
    .await;
}

#[tokio::test]
async fn a_slow_endpoint_does_not_delay_another() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let slow = Receiver::start();
        slow.always(Reply::status(204).after(Duration::from_secs(4)));
        let fast = Receiver::start();
        subscribe(&app, &c, &slow.url("/slow"), &["score.recorded"]).await;
        subscribe(&app, &c, &fast.url("/fast"), &["score.recorded"]).await;
        for _ in 0..20 {
            score(&app, &c, detractor(&c.ana.id)).await;
        }
        let started = std::time::Instant::now();
        fast.wait_for("/fast", 20, Duration::from_secs(3)).await;
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}

#[tokio::test]
async fn a_rotated_secret_keeps_signing_beside_the_new_one() {
    for_each_backend_with(delivering, |app| async move {
        let c = app.company().await;
        let receiver = Receiver::start();
        let (hook, old) = subscribe(&app, &c, &receiver.url("/hook"), &["score.recorded"]).await;
        let rotated = app
            .post(
                &format!("/v1/webhooks/{hook}/rotate-secret"),
                &c.owner,
                json!(null),
            )
            .await
            .expect(200);
        let new = rotated.body["secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert_eq!(rotated.body["version"], 2);
        let until = chrono::DateTime::parse_from_rfc3339(
            rotated.body["previous_secret_expires_at"].as_str().unwrap(),
        )
        .unwrap();
        let hours = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
        assert!((23 * 60..=24 * 60).contains(&hours), "{hours} minutes");

        score(&app, &c, detractor(&c.ana.id)).await;
        let got = receiver.wait_for("/hook", 1, WAIT).await;
        assert!(got[0].signed_with(&new), "signed with the new secret");
        assert!(got[0].signed_with(&old), "and still with the old one");
        assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_failing_for_the_whole_window_is_disabled_and_says_why() {
    let configure = |config: &mut circulo_api::Config| {
        delivering(config);
        config.webhooks.retry.give_up_after = Duration::from_secs(2);
    };
    for_each_backend_with(configure, |app| async move {
        let c = app.company().await;
        let receiver = Receiver::start();
        receiver.always(Reply::status(500));
        let (hook, _) = subscribe(&app, &c, &receiver.url("/down"), &["score.recorded"]).await;
        score(&app, &c, detractor(&c.ana.id)).await;

        let deadline = std::time::Instant::now() + WAIT;
        let disabled = loop {
            let got = app
                .get(&format!("/v1/webhooks/{hook}"), &c.owner)
                .await
                .expect(200);
            if got.body["enabled"] == false {
                break got;
            }
            assert!(std::time::Instant::now() < deadline, "never disabled");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let reason = disabled.body["disabled_reason"].as_str().unwrap();
        assert!(reason.contains("HTTP 500"), "{reason}");
        let log = deliveries(&app, &c, &hook).await;
        assert_eq!(log[0]["status"], "failed");
        assert_eq!(log[0]["next_attempt_at"], Value::Null);
        let failed = app
            .list_items(
                &format!("/v1/webhooks/{hook}/deliveries?status=failed"),
                &c.owner,
            )
            .await;
        assert_eq!(failed.len(), 1);
        let succeeded = app
            .list_items(
                &format!("/v1/webhooks/{hook}/deliveries?status=succeeded"),
                &c.owner,
            )
            .await;
        assert!(succeeded.is_empty());
        app.get(
            &format!("/v1/webhooks/{hook}/deliveries?status=lost"),
            &c.owner,
        )
        .await
        .expect_problem(400);

        // Disabled: new events are not delivered, and a retry waits for it to be enabled.
        let before = receiver.received().len();
        score(&app, &c, detractor(&c.ana.id)).await;
        let retry = format!(
            "/v1/webhooks/{hook}/deliveries/{}/retry",
            log[0]["id"].as_str().unwrap()
        );
        app.post(&retry, &c.owner, json!(null))
            .await
            .expect_problem(409);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.received().len(), before);

        // Enabled again, with the receiver back: the failed delivery goes out on request.
        receiver.always(Reply::status(200));
        let version = disabled.body["version"].as_i64().unwrap();
        let enabled = app
            .send_if_match(
                reqwest::Method::PATCH,
                &format!("/v1/webhooks/{hook}"),
                &c.owner,
                &format!("\"{version}\""),
                Some(json!({"enabled": true})),
            )
            .await
            .expect(200);
        assert_eq!(enabled.body["disabled_reason"], Value::Null);
        let retried = app.post(&retry, &c.owner, json!(null)).await.expect(202);
        assert_eq!(retried.body["status"], "pending");
        let first_id = receiver.received()[0].header("webhook-id").to_owned();
        let deadline = std::time::Instant::now() + WAIT;
        while !receiver
            .received()
            .iter()
            .skip(before)
            .any(|r| r.header("webhook-id") == first_id)
        {
            assert!(std::time::Instant::now() < deadline, "the retry never came");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn events_never_reach_another_organizations_subscriptions() {
    for_each_backend_with(delivering, |app| async move {
        let mine = app.company().await;
        let theirs = app.company().await;
        let my_receiver = Receiver::start();
        let their_receiver = Receiver::start();
        let (my_hook, _) =
            subscribe(&app, &mine, &my_receiver.url("/mine"), &["score.recorded"]).await;
        subscribe(
            &app,
            &theirs,
            &their_receiver.url("/theirs"),
            &["score.recorded"],
        )
        .await;
        score(&app, &mine, detractor(&mine.ana.id)).await;
        my_receiver.wait_for("/mine", 1, WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(their_receiver.received().is_empty());

        // Their owner cannot see, change, rotate or retry mine.
        let delivery = deliveries(&app, &mine, &my_hook).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for path in [
            format!("/v1/webhooks/{my_hook}"),
            format!("/v1/webhooks/{my_hook}/deliveries"),
        ] {
            app.get(&path, &theirs.owner).await.expect_problem(404);
        }
        app.post(
            &format!("/v1/webhooks/{my_hook}/rotate-secret"),
            &theirs.owner,
            json!(null),
        )
        .await
        .expect_problem(404);
        app.post(
            &format!("/v1/webhooks/{my_hook}/deliveries/{delivery}/retry"),
            &theirs.owner,
            json!(null),
        )
        .await
        .expect_problem(404);
    })
    .await;
}

/// A secret that signed nothing here.
pub fn other_secret() -> String {
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()
}
