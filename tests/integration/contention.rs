//! Bounded waits: a request that cannot get the lock it needs within the configured deadline is
//! answered 503 with `Retry-After` and changes nothing, never a 500 and never a hang; `/readyz`
//! says when requests cannot be served; once the lock is released everything works again.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;

use crate::support::locks::HeldLock;
use crate::support::{Backend, Response, TestApp, for_each_backend_with};

const LOCK_TIMEOUT: Duration = Duration::from_millis(300);

fn short_lock_timeout(config: &mut circulo_api::Config) {
    config.pool.deadlines.lock = LOCK_TIMEOUT;
}

#[track_caller]
fn assert_busy(response: Response) {
    assert_eq!(
        response.header("retry-after"),
        Some("1"),
        "{:?}",
        response.headers
    );
    response.expect_problem(503);
}

async fn team_count(app: &TestApp, owner: &str) -> usize {
    app.list_items("/v1/teams", owner).await.len()
}

#[tokio::test]
async fn writes_blocked_past_the_lock_timeout_are_503_with_retry_after_and_change_nothing() {
    for_each_backend_with(short_lock_timeout, |app| async move {
        let (org, owner) = app.create_org().await;
        let held = HeldLock::writes_in(&app, &org);
        let started = Instant::now();
        let blocked = join_all(
            (0..4).map(|i| app.post("/v1/teams", &owner, json!({"name": format!("Team {i}")}))),
        )
        .await;
        let waited = started.elapsed();
        for response in blocked {
            assert_busy(response);
        }
        // Each request waits at most for its turn and then for the lock, never without end.
        assert!(
            waited < LOCK_TIMEOUT * 2 + Duration::from_secs(2),
            "{:?}: waited {waited:?}",
            app.backend
        );
        if app.backend == Backend::Sqlite {
            // The whole database is locked: no write could be served, and readiness says so.
            let ready = app
                .client
                .get(app.url("/readyz"))
                .send()
                .await
                .expect("sent");
            assert_eq!(ready.status(), 503);
            assert_eq!(
                ready
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()),
                Some("1")
            );
        }
        drop(held);

        assert_eq!(
            team_count(&app, &owner).await,
            0,
            "nothing was half-written"
        );
        app.post("/v1/teams", &owner, json!({"name": "After"}))
            .await
            .expect(201);
        let ready = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("sent");
        assert_eq!(ready.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn a_row_locked_past_the_lock_timeout_makes_its_update_503_not_a_hang() {
    for_each_backend_with(short_lock_timeout, |app| async move {
        if app.backend != Backend::Postgres {
            return; // SQLite locks whole databases; the test above covers it.
        }
        let (org, owner) = app.create_org().await;
        let team = app.create_team(&owner, "Bar").await;
        let path = format!("/v1/teams/{team}");
        let held = HeldLock::row(&app, "teams", &org, &team);
        let started = Instant::now();
        assert_busy(app.patch(&path, &owner, json!({"name": "Terrace"})).await);
        assert!(started.elapsed() < LOCK_TIMEOUT + Duration::from_secs(2));
        // Reads do not wait for row locks.
        app.get(&path, &owner).await.expect(200);
        drop(held);
        let renamed = app
            .patch(&path, &owner, json!({"name": "Terrace"}))
            .await
            .expect(200);
        assert_eq!(renamed.body["version"], 2);
    })
    .await;
}
