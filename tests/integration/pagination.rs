//! Cursor pagination: lists come oldest first in pages that neither repeat nor skip an item, even
//! while items are added; cursors stay valid; page sizes default to 50 and are bounded.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::{Response, TestApp, for_each_backend};

/// The ids of a list page's items.
fn item_ids(page: &Response) -> Vec<String> {
    page.item_strings("id")
}

async fn create_teams(
    app: &TestApp,
    token: &str,
    names: impl IntoIterator<Item = String>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        ids.push(app.create_team(token, &name).await);
    }
    ids
}

/// Follows `next_cursor` from the first page of `path` with `limit`, returning each page's ids.
async fn all_pages(app: &TestApp, path: &str, token: &str, limit: u32) -> Vec<Vec<String>> {
    let pages = app.pages(&format!("{path}?limit={limit}"), token).await;
    let last = pages.last().expect("a first page");
    assert_eq!(last.body["next_cursor"], Value::Null, "{}", last.text);
    pages.iter().map(item_ids).collect()
}

#[tokio::test]
async fn teams_page_through_with_a_cursor_without_duplicates_or_gaps() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let created = create_teams(&app, &owner, (1..=5).map(|i| format!("Team {i}"))).await;

        let pages = all_pages(&app, "/v1/teams", &owner, 2).await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(pages.concat(), created, "oldest first, each team once");

        // A page size that divides the list ends without an empty page.
        let pages = all_pages(&app, "/v1/teams", &owner, 5).await;
        assert_eq!(pages, std::slice::from_ref(&created));

        let whole = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(item_ids(&whole), created);
        assert_eq!(whole.body["next_cursor"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn a_cursor_stays_valid_when_teams_are_added_between_pages() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let mut created = create_teams(&app, &owner, (1..=5).map(|i| format!("Team {i}"))).await;

        let first = app.get("/v1/teams?limit=2", &owner).await.expect(200);
        assert_eq!(item_ids(&first), created[..2]);
        let first_cursor = first.body["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned();

        created
            .extend(create_teams(&app, &owner, ["Late 1".to_owned(), "Late 2".to_owned()]).await);

        let second = app
            .get(&format!("/v1/teams?limit=2&cursor={first_cursor}"), &owner)
            .await
            .expect(200);
        assert_eq!(item_ids(&second), created[2..4]);
        let cursor = second.body["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned();

        created.extend(create_teams(&app, &owner, ["Later".to_owned()]).await);

        let mut seen: Vec<String> = item_ids(&first)
            .into_iter()
            .chain(item_ids(&second))
            .collect();
        let mut cursor = Some(cursor);
        while let Some(current) = cursor {
            let page = app
                .get(&format!("/v1/teams?limit=2&cursor={current}"), &owner)
                .await
                .expect(200);
            seen.extend(item_ids(&page));
            cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        }
        assert_eq!(
            seen, created,
            "no duplicates, no gaps, new teams at the end"
        );
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 8);

        // A cursor can be used again later and still continues where its page ended.
        let again = app
            .get(&format!("/v1/teams?limit=2&cursor={first_cursor}"), &owner)
            .await
            .expect(200);
        assert_eq!(again.body, second.body);
    })
    .await;
}

#[tokio::test]
async fn members_page_through_with_a_cursor_too() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let mut created = Vec::new();
        for i in 1..=3 {
            created.push(
                app.create_named_member(&owner, &format!("Member {i}"), "staff")
                    .await,
            );
        }
        let pages = all_pages(&app, "/v1/members", &owner, 2).await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(pages.concat(), created);
    })
    .await;
}

#[tokio::test]
async fn the_page_size_defaults_to_fifty_and_is_bounded() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let created = create_teams(&app, &owner, (1..=51).map(|i| format!("Team {i:02}"))).await;

        let first = app.get("/v1/teams", &owner).await.expect(200);
        assert_eq!(item_ids(&first), created[..50]);
        let cursor = first.body["next_cursor"].as_str().expect("a second page");
        let rest = app
            .get(&format!("/v1/teams?cursor={cursor}"), &owner)
            .await
            .expect(200);
        assert_eq!(item_ids(&rest), created[50..]);
        assert_eq!(rest.body["next_cursor"], Value::Null);

        let largest = app.get("/v1/teams?limit=200", &owner).await.expect(200);
        assert_eq!(item_ids(&largest), created);
        let smallest = app.get("/v1/teams?limit=1", &owner).await.expect(200);
        assert_eq!(item_ids(&smallest), created[..1]);

        for limit in ["0", "201", "1000000"] {
            let refused = app.get(&format!("/v1/teams?limit={limit}"), &owner).await;
            assert_eq!(
                refused.status, 422,
                "limit {limit} answered {}",
                refused.text
            );
            assert_eq!(
                refused.expect_problem(422).error_fields(),
                ["limit"],
                "limit {limit}"
            );
        }
        let refused = app
            .get("/v1/teams?cursor=bm90LWEtY3Vyc29y", &owner)
            .await
            .expect_problem(422);
        assert_eq!(refused.error_fields(), ["cursor"]);
    })
    .await;
}
