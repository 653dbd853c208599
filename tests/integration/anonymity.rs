//! Anonymity that holds up: anonymous feedback is shown only once its subject has at least the
//! organization's threshold of it in the window read, every aggregate over fewer is suppressed,
//! and nothing — the API, the database rows, the audit log, the outbox, the idempotency record,
//! the server's whole log at `RUST_LOG=debug` — names its author or tells its time finer than
//! the date.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::binary::{ServerProcess, run_cli};
use crate::support::locks::RawConn;
use crate::support::tokens::hs256_token;
use crate::support::{Backend, TestDatabase, for_each_backend};

fn upward(subject: &str, body: &str) -> Value {
    json!({"kind": "upward", "subject_member_id": subject, "anonymous": true, "rating": 2,
           "icare": ["culture"], "body": body})
}

/// The UUIDv7 timestamp of `id`, as (seconds into its day, nanoseconds).
fn time_of_day(id: &str) -> (u64, u32) {
    let uuid = uuid::Uuid::parse_str(id).expect("a uuid");
    let (seconds, nanos) = uuid.get_timestamp().expect("a v7 id").to_unix();
    (seconds % 86_400, nanos)
}

/// As if the day had passed for every anonymous item so far: an item counts and shows only once
/// its day is over, so that polling cannot tell when it arrived.
fn the_day_passes(app: &crate::support::TestApp) {
    let yesterday = (chrono::Utc::now() - chrono::TimeDelta::days(1)).date_naive();
    RawConn::open(app).execute(&format!(
        "UPDATE feedback SET created_at = '{yesterday} 00:00:00' WHERE anonymous"
    ));
}

#[tokio::test]
async fn anonymous_feedback_shows_only_at_the_threshold_per_kind_and_after_its_day() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        app.patch(
            "/v1/organization",
            &c.owner,
            json!({"anonymity_threshold": 3}),
        )
        .await
        .expect(200);
        let about_manager = format!("/v1/feedback?subject_member_id={}", c.manager.id);
        let summary = format!("/v1/feedback/summary?subject_member_id={}", c.manager.id);
        let give = |author: &crate::support::people::Person, body: Value| {
            let app = &app;
            let token = author.token.clone();
            async move { app.post("/v1/feedback", &token, body).await.expect(201) }
        };
        let withheld = |first: String| {
            let app = &app;
            let (list, summary, readers) = (
                about_manager.clone(),
                summary.clone(),
                [c.manager.token.clone(), c.owner.clone()],
            );
            async move {
                for reader in &readers {
                    assert!(app.list_items(&list, reader).await.is_empty());
                    app.get(&format!("/v1/feedback/{first}"), reader)
                        .await
                        .expect_problem(404);
                    let figures = app.get(&summary, reader).await.expect(200);
                    for group in figures.items() {
                        if group["anonymous"] == true {
                            assert_eq!(group["suppressed"], true, "{}", figures.text);
                            assert_eq!(group["count"], Value::Null);
                            assert_eq!(group["average_rating"], Value::Null);
                        }
                    }
                }
            }
        };

        let first = give(&c.ana, upward(&c.manager.id, "Meetings run late.")).await;
        // What the author gets back names no one and no hour.
        assert_eq!(first.body["author"], Value::Null);
        assert_eq!(first.body["created_at"], Value::Null);
        assert_eq!(time_of_day(&first.id()), (0, 0));
        give(&c.ben, upward(&c.manager.id, "Rotas arrive late.")).await;
        the_day_passes(&app);
        withheld(first.id()).await;
        // The third arrives: not shown while its day lasts, or polling would date it.
        give(&c.cai, upward(&c.manager.id, "Praise is rare.")).await;
        withheld(first.id()).await;
        the_day_passes(&app);

        // Shown: body, rating, tags and date only.
        let shown = app.list_items(&about_manager, &c.manager.token).await;
        assert_eq!(shown.len(), 3);
        for item in &shown {
            assert_eq!(item["anonymous"], true);
            assert_eq!(item["author"], Value::Null);
            assert_eq!(item["created_at"], Value::Null);
            assert_eq!(item["rating"], 2);
            assert_eq!(item["icare"], json!(["culture"]));
            assert!(item["created_on"].is_string() && item["body"].is_string());
        }
        app.get(&format!("/v1/feedback/{}", first.id()), &c.manager.token)
            .await
            .expect(200);
        let figures = app.get(&summary, &c.owner).await.expect(200);
        let upward_group = figures
            .items()
            .iter()
            .find(|g| g["kind"] == "upward" && g["anonymous"] == true)
            .expect("the anonymous upward group")
            .clone();
        assert_eq!(upward_group["count"], 3, "{}", figures.text);
        assert_eq!(upward_group["average_rating"], 2.0);
        assert_eq!(upward_group["suppressed"], false);

        // The threshold holds per kind: one anonymous peer item beside three upward ones stays
        // withheld, even filtered by its kind.
        let mut peer = upward(&c.manager.id, "Never says thank you.");
        peer["kind"] = json!("peer");
        give(&c.cook, peer).await;
        the_day_passes(&app);
        let peers = format!("{about_manager}&kind=peer");
        assert!(app.list_items(&peers, &c.manager.token).await.is_empty());
        assert_eq!(app.list_items(&about_manager, &c.owner).await.len(), 3);
        let figures = app.get(&summary, &c.owner).await.expect(200);
        let peer_group = figures
            .items()
            .iter()
            .find(|g| g["kind"] == "peer")
            .expect("the peer group")
            .clone();
        assert_eq!(peer_group["suppressed"], true, "{}", figures.text);

        // A window holding fewer than the threshold withholds them again.
        let later = (chrono::Utc::now() + chrono::TimeDelta::days(2)).date_naive();
        assert!(
            app.list_items(&format!("{about_manager}&from={later}"), &c.manager.token)
                .await
                .is_empty()
        );
        // Those outside the subject's line never see it, however many there are.
        app.get(&about_manager, &c.ana.token)
            .await
            .expect_problem(403);
        app.get(&summary, &c.ana.token).await.expect_problem(403);
    })
    .await;
}

#[tokio::test]
async fn no_one_can_pad_a_subjects_anonymous_feedback_or_store_what_would_tell_its_author() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        // The manager reads Ana's feedback: as a "peer" she could add anonymous items until a
        // lone genuine one shows.
        let mut padding = upward(&c.ana.id, "padding");
        padding["kind"] = json!("peer");
        let refused = app
            .post("/v1/feedback", &c.manager.token, padding)
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["subject_member_id"]);
        // Where or in what mood it was given could tell who gave it.
        for (field, value) in [("touchpoint", "pos"), ("sentiment", "concern")] {
            let mut telling = upward(&c.manager.id, "Too strict.");
            telling[field] = json!(value);
            let refused = app
                .post("/v1/feedback", &c.ana.token, telling)
                .await
                .expect_problem(422);
            assert_eq!(refused.error_fields(), [field]);
        }
        assert!(app.list_items("/v1/feedback", &c.owner).await.is_empty());
        let mut raw = RawConn::open(&app);
        assert!(raw.rows("feedback", "1 = 1").is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_anonymous_item_leaves_no_author_and_no_hour_in_any_row() {
    for_each_backend(|app| async move {
        let c = app.company().await;
        let key = "ana-anonymous-key-0001";
        let client_request_id = "ana-phone-request-42";
        let headers = [
            ("idempotency-key", key),
            ("x-request-id", client_request_id),
            ("user-agent", "Anas-Phone/1.0"),
        ];
        let send = || {
            app.send_with_headers(
                Method::POST,
                "/v1/feedback",
                Some(&c.ana.token),
                &headers,
                Some(upward(&c.manager.id, "Stop shouting at the till.")),
            )
        };
        let given = send().await.expect(201);
        let id = given.id();
        let retried = send().await.expect(201);
        assert_eq!(retried.header("idempotent-replayed"), Some("true"));
        assert_eq!(retried.body, given.body);

        // Not in the audit feed during its day; when it joins, it names no one.
        assert!(
            app.list_items("/v1/audit-events?entity_type=feedback", &c.owner)
                .await
                .is_empty()
        );

        let mut raw = RawConn::open(&app);
        let traces = [
            c.ana.id.as_str(),
            "Ana",
            key,
            client_request_id,
            "Anas-Phone",
            "127.0.0.1",
            given.header("x-request-id").expect("a request id"),
        ];
        let rows = [
            ("feedback", format!("id = '{id}'")),
            ("audit_events", format!("entity_id = '{id}'")),
            (
                "outbox_events",
                "event_type = 'feedback.received'".to_owned(),
            ),
            (
                "idempotency_keys",
                "response_body LIKE '%upward%'".to_owned(),
            ),
        ];
        let midnight = chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        for (table, condition) in rows {
            let found = raw.rows(table, &condition);
            assert_eq!(found.len(), 1, "{table}: {found:?}");
            let row = &found[0];
            for trace in traces {
                assert!(!row.contains(trace), "{table} holds {trace:?}: {row}");
            }
            // Every time in the row is a midnight; none is a finer instant.
            let times = timestamps(row);
            assert!(!times.is_empty(), "{table}: {row}");
            for time in times {
                assert!(
                    time.ends_with("00:00:00") || time.ends_with("00:00:00.000000"),
                    "{table}: {time} in {row}"
                );
            }
            assert!(
                row.contains(&midnight) || table == "idempotency_keys",
                "{table}: {row}"
            );
        }
        // Nor can someone who reads the database and knows the key try each member's id: the
        // record holds a keyed hash, not a plain one.
        let plain = {
            use sha2::{Digest, Sha256};
            let mut hash = Sha256::new();
            hash.update(b"circulo untraced idempotency key\0");
            hash.update(format!("staff:{}", c.ana.id).as_bytes());
            hash.update(b"\0");
            hash.update(key.as_bytes());
            hash.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let record = &raw.rows("idempotency_keys", "response_body LIKE '%upward%'")[0];
        assert!(!record.contains(&plain), "{record}");
        let outbox = &raw.rows("outbox_events", "event_type = 'feedback.received'")[0];
        assert!(
            !outbox.contains("Stop shouting"),
            "the event tells no content: {outbox}"
        );
        let audit = &raw.rows("audit_events", &format!("entity_id = '{id}'"))[0];
        assert!(audit.contains("anonymous"), "{audit}");
        assert!(
            !audit.contains("Stop shouting"),
            "the audit entry tells no content: {audit}"
        );
    })
    .await;
}

/// The `YYYY-MM-DD HH:MM:SS` / `YYYY-MM-DDTHH:MM:SS` instants in `text`, up to their seconds
/// (and fraction).
fn timestamps(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let digits = |range: std::ops::Range<usize>| {
        range
            .clone()
            .all(|i| bytes.get(i).is_some_and(u8::is_ascii_digit))
    };
    for start in 0..bytes.len() {
        let is_time = digits(start..start + 4)
            && bytes.get(start + 4) == Some(&b'-')
            && digits(start + 5..start + 7)
            && bytes.get(start + 7) == Some(&b'-')
            && digits(start + 8..start + 10)
            && matches!(bytes.get(start + 10), Some(b' ' | b'T'))
            && digits(start + 11..start + 13)
            && bytes.get(start + 13) == Some(&b':');
        if is_time {
            let mut end = start + 19;
            while bytes
                .get(end)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
            {
                end += 1;
            }
            found.push(text[start..end.min(text.len())].to_owned());
        }
    }
    found
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> Value {
    let mut request = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("answered");
    assert_eq!(response.status(), 201, "{path}");
    response.json().await.expect("json")
}

#[tokio::test]
async fn the_servers_whole_debug_log_holds_nothing_of_an_anonymous_post() {
    for backend in Backend::available() {
        let database = TestDatabase::create(backend);
        let url = database.url();
        let created = run_cli(url, &["org", "create", "--name", "Quiet Café"]);
        assert!(created.status.success(), "{created:?}");
        let org: Value = serde_json::from_slice(&created.stdout).expect("the org as JSON");
        let org = org["id"].as_str().expect("org id").to_owned();
        let owner = hs256_token(&org, "owner", "owner-1");
        let server = ServerProcess::start(url, &[("RUST_LOG", "debug")]);
        let client = reqwest::Client::new();
        let base = server.base.clone();
        let manager = post(
            &client,
            &base,
            &owner,
            "/v1/members",
            json!({"display_name": "Marta", "role": "manager"}),
            &[],
        )
        .await;
        let manager = manager["id"].as_str().expect("id").to_owned();
        let ana = post(
            &client,
            &base,
            &owner,
            "/v1/members",
            json!({"display_name": "Ana", "role": "staff", "manager_id": manager}),
            &[],
        )
        .await;
        let ana = ana["id"].as_str().expect("id").to_owned();
        let ana_token = hs256_token(&org, "staff", &ana);

        let response = client
            .post(format!("{base}/v1/feedback"))
            .bearer_auth(&ana_token)
            .header("x-request-id", "ana-phone-request-42")
            .header("user-agent", "Anas-Phone/1.0")
            .header("idempotency-key", "ana-key-0001")
            .json(&upward(&manager, "Stop shouting at the till."))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 201);
        let server_request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("a request id")
            .to_owned();
        // A named request after it is logged as usual, so the log is being written.
        post(&client, &base, &ana_token, "/v1/feedback", json!({"kind": "upward", "subject_member_id": manager, "body": "Thanks for the cover."}), &[]).await;
        // Nor is it counted: a counter would date it to the scrape interval.
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let counted = metrics
            .lines()
            .find(|l| {
                l.starts_with("http_requests_total")
                    && l.contains("route=\"/v1/feedback\"")
                    && l.contains("method=\"POST\"")
            })
            .unwrap_or_else(|| panic!("{backend:?}: no count for the named post:\n{metrics}"));
        assert!(counted.ends_with(" 1"), "{backend:?}: {counted}");
        let log = server.kill();

        assert!(
            log.contains("\"POST /v1/members"),
            "{backend:?}: nothing logged?\n{log}"
        );
        assert_eq!(
            log.matches("\"POST /v1/feedback").count(),
            1,
            "{backend:?}: only the named post is logged:\n{log}"
        );
        for trace in [
            ana.as_str(),
            "ana-phone-request-42",
            "Anas-Phone",
            "ana-key-0001",
            server_request_id.as_str(),
            "Stop shouting",
        ] {
            assert!(
                !log.contains(trace),
                "{backend:?}: the log holds {trace:?}:\n{log}"
            );
        }
    }
}
