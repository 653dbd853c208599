//! The audit log as a feed an integration follows: a client that pages to the end and later
//! continues from the last cursor it was given never misses an entry that committed in between,
//! however writers' commits interleave, on either database. PostgreSQL sits behind a link that
//! holds one message in ten for 20 ms, so that a transaction which took its place in line often
//! commits after one that took a later place: ordering the feed by anything but commit order
//! loses rows.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::support::slow_link::through_slow_link;
use crate::support::{TestApp, for_each_backend_with};

const WRITERS: usize = 6;
const WRITES_EACH: usize = 50;

/// Reads one page after `cursor`; the page's entry ids and the cursor to continue from (the
/// last one given, when this page is the last).
async fn follow(app: &TestApp, token: &str, cursor: Option<&str>) -> (Vec<String>, Option<String>) {
    let path = match cursor {
        Some(cursor) => format!("/v1/audit-events?limit=2&cursor={cursor}"),
        None => "/v1/audit-events?limit=2".to_owned(),
    };
    let page = app.get(&path, token).await.expect(200);
    let next = page.body["next_cursor"].as_str().map(str::to_owned);
    (
        page.item_strings("id"),
        next.or_else(|| cursor.map(str::to_owned)),
    )
}

#[tokio::test]
async fn a_follower_continuing_from_its_cursor_misses_no_entry_committed_meanwhile() {
    let distant = |config: &mut circulo_api::Config| {
        config.pool.max_size = 8;
        through_slow_link(config, Duration::from_millis(20));
    };
    for_each_backend_with(distant, |app| async move {
        let (org, owner) = app.create_org().await;
        let auditor = app.integration_token(&org, "siem", "audit:read");
        let done = AtomicBool::new(false);

        let writers = async {
            join_all((0..WRITERS).map(|w| {
                let owner = owner.clone();
                let app = &app;
                async move {
                    for i in 0..WRITES_EACH {
                        app.post(
                            "/v1/teams",
                            &owner,
                            json!({"name": format!("Team {w}-{i}")}),
                        )
                        .await
                        .expect(201);
                        // Writers pause as people do, so the follower keeps up with the tail,
                        // where rows committing out of order would slip behind its cursor.
                        tokio::time::sleep(Duration::from_millis(2 + ((w + i) % 5) as u64)).await;
                    }
                }
            }))
            .await;
            done.store(true, Ordering::SeqCst);
        };
        // Two followers, so that placing waiting rows races too.
        let follower = || async {
            let mut seen = HashSet::new();
            let mut cursor: Option<String> = None;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (ids, next) = follow(&app, &auditor, cursor.as_deref()).await;
                let at_end = next == cursor;
                seen.extend(ids);
                cursor = next;
                if finished && at_end {
                    return seen;
                }
            }
        };
        let ((), seen, seen_too) = tokio::join!(writers, follower(), follower());

        let everything: HashSet<String> = app
            .pages("/v1/audit-events?limit=200", &auditor)
            .await
            .iter()
            .flat_map(|page| page.item_strings("id"))
            .collect();
        assert_eq!(
            everything.len(),
            WRITERS * WRITES_EACH + 1,
            "one entry per team and the org"
        );
        for seen in [seen, seen_too] {
            let missed: Vec<&String> = everything.difference(&seen).collect();
            assert!(
                missed.is_empty(),
                "{:?}: a follower never saw {} entries: {missed:?}",
                app.backend,
                missed.len()
            );
        }
    })
    .await;
}
