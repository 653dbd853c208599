//! Webhook delivery where it is hard: URLs that would reach the server's own network, refused
//! on create and again at delivery against the address the name resolves to then; two replicas
//! sharing the database, which never deliver one event twice; and a server killed with 9 while
//! events wait, whose deliveries go out after it restarts. Traffic only ever goes to 127.0.0.1:
//! a refused delivery is aimed at a port that counts connections, and must make none.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::binary::{ServerProcess, run_cli};
use crate::support::people::Company;
use crate::support::receiver::{Receiver, Reply, Tripwire};
use crate::support::tokens::hs256_token;
use crate::support::{Backend, TestApp, TestDatabase, delivering, for_each_backend_with};

const WAIT: Duration = Duration::from_secs(15);

fn recorded(member: &str) -> Value {
    json!({"audience": "client", "instrument": "csat", "score": 4, "member_id": member,
           "touchpoint": "pos", "occurred_at": "2026-11-30T15:42:00Z", "source": "pos"})
}

fn public_only(config: &mut circulo_api::Config) {
    delivering(config);
    config.webhooks.allow_private = false;
}

/// Subscribes `url` of the owner's organization to `score.recorded`; the subscription's id.
async fn subscribe(app: &TestApp, owner: &str, url: &str) -> String {
    app.post(
        "/v1/webhooks",
        owner,
        json!({"url": url, "events": ["score.recorded"]}),
    )
    .await
    .expect(201)
    .id()
}

async fn score(app: &TestApp, c: &Company) {
    let pos = app.integration_token(&c.org, "pos", "scores:write");
    app.post("/v1/satisfaction-scores", &pos, recorded(&c.ana.id))
        .await
        .expect(201);
}

#[tokio::test]
async fn urls_that_reach_the_private_network_are_refused_on_create() {
    let tripwire = Tripwire::start();
    let port = tripwire.port;
    for backend in Backend::available() {
        let app = TestApp::spawn(backend, &public_only).await;
        let c = app.company().await;
        for url in [
            format!("https://127.0.0.1:{port}/hook"),
            format!("https://127.1:{port}/hook"),
            format!("https://2130706433:{port}/hook"),
            format!("https://0x7f.0.0.1:{port}/hook"),
            format!("https://[::1]:{port}/hook"),
            format!("https://[::ffff:127.0.0.1]:{port}/hook"),
            format!("https://[::ffff:7f00:1]:{port}/hook"),
            format!("https://[64:ff9b::7f00:1]:{port}/hook"),
            format!("https://0.0.0.0:{port}/hook"),
            format!("https://[::]:{port}/hook"),
            format!("https://localhost:{port}/hook"),
            format!("https://LOCALHOST.:{port}/hook"),
            format!("https://sub.localhost:{port}/hook"),
            // Never connected to: refused for what the address is.
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            "https://[fd00:ec2::254]/".to_owned(),
            "https://10.0.0.1/".to_owned(),
            "https://192.168.1.1/".to_owned(),
            "https://100.100.100.200/".to_owned(),
            // Plain http, to anywhere.
            format!("http://127.0.0.1:{port}/hook"),
            // Documentation names: never resolved.
            "https://crm.example.com/hooks/circulo".to_owned(),
        ] {
            let refused = app
                .post(
                    "/v1/webhooks",
                    &c.owner,
                    json!({"url": url, "events": ["score.recorded"]}),
                )
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), ["url"], "{backend:?} {url}");
        }
        assert!(app.list_items("/v1/webhooks", &c.owner).await.is_empty());
    }
    assert_eq!(tripwire.connections(), 0, "a refused URL was connected to");
}

#[tokio::test]
async fn delivery_checks_the_address_again_and_sends_nothing_to_a_private_one() {
    let tripwire = Tripwire::start();
    let port = tripwire.port;
    for backend in Backend::available() {
        // The subscriptions are made where private targets are allowed, and delivered by a
        // replica where they are not: as a name that now resolves to loopback would be.
        let allowing = TestApp::spawn(backend, &|config: &mut circulo_api::Config| {
            config.webhooks.deliver = false;
        })
        .await;
        let c = allowing.company().await;
        let mut hooks = Vec::new();
        for url in [
            format!("https://localhost:{port}/rebound"),
            format!("https://127.0.0.1:{port}/literal"),
            format!("https://[::ffff:127.0.0.1]:{port}/mapped"),
            format!("http://127.0.0.1:{port}/plain"),
        ] {
            let created = allowing
                .post(
                    "/v1/webhooks",
                    &c.owner,
                    json!({"url": url, "events": ["score.recorded"]}),
                )
                .await
                .expect(201);
            hooks.push((url, created.id()));
        }
        let delivering = TestApp::spawn_beside(&allowing, &public_only).await;
        score(&delivering, &c).await;

        for (url, hook) in &hooks {
            let deadline = Instant::now() + WAIT;
            let log = loop {
                let log = delivering
                    .list_items(&format!("/v1/webhooks/{hook}/deliveries"), &c.owner)
                    .await;
                // Attempted and its outcome recorded (a claim counts the attempt first).
                if log.first().is_some_and(|d| d["last_error"].is_string()) {
                    break log;
                }
                assert!(
                    Instant::now() < deadline,
                    "{backend:?} {url}: never attempted"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            let error = log[0]["last_error"].as_str().unwrap_or_default();
            assert!(
                error.contains("public addresses") || error.contains("https only"),
                "{backend:?} {url}: {error}"
            );
            assert_eq!(log[0]["last_response_code"], Value::Null);
            assert_eq!(
                log[0]["status"], "pending",
                "refusals are retried like failures"
            );
        }
    }
    assert_eq!(tripwire.connections(), 0, "a refused delivery connected");
}

#[tokio::test]
async fn two_replicas_never_deliver_an_event_twice() {
    for_each_backend_with(delivering, |first| async move {
        let second = TestApp::spawn_beside(&first, &delivering).await;
        let c = first.company().await;
        let receiver = Receiver::start();
        subscribe(&first, &c.owner, &receiver.url("/hook")).await;
        let events = 60;
        for i in 0..events {
            let app = if i % 2 == 0 { &first } else { &second };
            score(app, &c).await;
        }
        let got = receiver.wait_for("/hook", events, WAIT).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in receiver.received() {
            *seen.entry(r.header("webhook-id").to_owned()).or_default() += 1;
        }
        assert_eq!(seen.len(), events, "every event delivered");
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "delivered more than once: {twice:?}");
        assert_eq!(got.len(), events);
    })
    .await;
}

#[tokio::test]
async fn undelivered_events_survive_a_kill_9_and_go_out_after_the_restart() {
    for backend in Backend::available() {
        let database = TestDatabase::create(backend);
        let created = run_cli(database.url(), &["org", "create", "--name", "Shop"]);
        assert!(created.status.success(), "{created:?}");
        let org: Value = serde_json::from_slice(&created.stdout).unwrap();
        let org = org["id"].as_str().unwrap().to_owned();
        let owner = hs256_token(&org, "owner", "owner-1");
        let env = [
            ("CIRCULO_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("CIRCULO_WEBHOOK_FIRST_RETRY_MS", "200"),
        ];
        let receiver = Receiver::start();
        receiver.always(Reply::status(503));
        let client = reqwest::Client::new();
        let server = ServerProcess::start(database.url(), &env);
        let post = |base: String, path: &'static str, body: Value| {
            let client = client.clone();
            let owner = owner.clone();
            async move {
                let response = client
                    .post(format!("{base}{path}"))
                    .bearer_auth(&owner)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                response.json::<Value>().await.unwrap()
            }
        };
        post(
            server.base.clone(),
            "/v1/webhooks",
            json!({"url": receiver.url("/hook"), "events": ["score.recorded"]}),
        )
        .await;
        let member = post(
            server.base.clone(),
            "/v1/members",
            json!({"display_name": "Ana", "role": "staff"}),
        )
        .await;
        let member = member["id"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for _ in 0..5 {
            let made = post(
                server.base.clone(),
                "/v1/satisfaction-scores",
                recorded(&member),
            )
            .await;
            ids.push(made["id"].as_str().unwrap().to_owned());
        }
        // The receiver is down: attempts fail and are retried, until the server is killed.
        receiver.wait_for("/hook", 5, WAIT).await;
        let _ = server.kill();
        let before = receiver.received().len();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            receiver.received().len(),
            before,
            "the killed server still delivers"
        );

        receiver.always(Reply::status(204));
        let restarted = ServerProcess::start(database.url(), &env);
        // An attempt in flight at the kill is due again when its lease ends (15 s).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let delivered: Vec<String> = receiver
                .received()
                .iter()
                .skip(before)
                .map(|r| {
                    r.json()["data"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            if ids.iter().all(|id| delivered.contains(id)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{backend:?}: after the restart only {delivered:?} of {ids:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(restarted);
    }
}

#[tokio::test]
async fn one_subscriptions_backlog_never_holds_up_another_organizations_deliveries() {
    for_each_backend_with(delivering, |app| async move {
        let busy = app.company().await;
        let other = app.company().await;
        let failing = Receiver::start();
        failing.always(Reply::status(500));
        let fine = Receiver::start();
        let backlog = subscribe(&app, &busy.owner, &failing.url("/failing")).await;
        subscribe(&app, &other.owner, &fine.url("/fine")).await;
        // 1,200 events for the failing endpoint: more than any claim looks at in one go.
        let crm = app.integration_token(&busy.org, "crm", "scores:write");
        for batch in 0..2 {
            let items: Vec<Value> = (0..600)
                .map(|i| {
                    let mut item = recorded(&busy.ana.id);
                    item["external_id"] = json!(format!("{batch}-{i}"));
                    item
                })
                .collect();
            app.post(
                "/v1/satisfaction-scores/batch",
                &crm,
                json!({ "items": items }),
            )
            .await
            .expect(200);
        }
        failing.wait_for("/failing", 16, WAIT).await;

        // While it fails, and once it is disabled, the other organization's event goes at once.
        for round in 0..2 {
            let started = Instant::now();
            score(&app, &other).await;
            fine.wait_for("/fine", round + 1, Duration::from_secs(3))
                .await;
            assert!(started.elapsed() < Duration::from_secs(3), "round {round}");
            if round == 0 {
                let hook = &backlog;
                let current = app
                    .get(&format!("/v1/webhooks/{hook}"), &busy.owner)
                    .await
                    .expect(200);
                app.send_if_match(
                    reqwest::Method::PATCH,
                    &format!("/v1/webhooks/{hook}"),
                    &busy.owner,
                    current.header("etag").unwrap(),
                    Some(json!({"enabled": false})),
                )
                .await
                .expect(200);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn one_organizations_many_slow_endpoints_never_hold_up_another_organizations() {
    for_each_backend_with(delivering, |app| async move {
        let noisy = app.company().await;
        let other = app.company().await;
        let slow = Receiver::start();
        slow.always(Reply::status(204).after(Duration::from_secs(4)));
        let fine = Receiver::start();
        // Ten subscriptions, each with its backlog of slow attempts: more than every slot.
        for i in 0..10 {
            subscribe(&app, &noisy.owner, &slow.url(&format!("/slow-{i}"))).await;
        }
        subscribe(&app, &other.owner, &fine.url("/fine")).await;
        for _ in 0..30 {
            score(&app, &noisy).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        score(&app, &other).await;
        fine.wait_for("/fine", 1, Duration::from_secs(3)).await;
        assert!(started.elapsed() < Duration::from_secs(3));
        // One organization holds at most 15 attempts at once in a server.
        let in_flight = slow.received().len();
        assert!(in_flight <= 15, "{in_flight} slow attempts at once");
    })
    .await;
}
