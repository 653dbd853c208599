//! Conventions every endpoint shares: request ids, operational endpoints, 404 and 405, cursor
//! pagination, and ETags with `If-Match`.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Response, TestApp, for_each_backend};

/// Sends a request with an optional token and `X-Request-Id`.
async fn with_request_id(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    id: Option<&str>,
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    app.execute(request).await
}

/// Sends a JSON body with an `If-Match` header.
async fn send_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: &str,
    body: Option<Value>,
) -> Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("if-match", if_match);
    if let Some(body) = body {
        request = request.json(&body);
    }
    app.execute(request).await
}

/// The ids of a list page's items.
fn ids(page: &Response) -> Vec<String> {
    page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn create_teams(
    app: &TestApp,
    token: &str,
    names: impl IntoIterator<Item = String>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        let team = app
            .post("/v1/teams", token, json!({"name": name}))
            .await
            .expect(201);
        ids.push(team.body["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Follows `next_cursor` from the first page of `path` with `limit`, returning each page's ids.
async fn all_pages(app: &TestApp, path: &str, token: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{path}?limit={limit}&cursor={cursor}"),
            None => format!("{path}?limit={limit}"),
        };
        let page = app.get(&url, token).await.expect(200);
        pages.push(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert_eq!(page.body["next_cursor"], Value::Null, "{}", page.text);
                return pages;
            }
        }
        assert!(pages.len() <= 100, "pagination does not end");
    }
}

// ---------------------------------------------------------------------------------------------
// Request ids

#[tokio::test]
async fn a_clients_request_id_is_echoed_on_successes_and_problems() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let ok = with_request_id(
            &app,
            Method::GET,
            "/v1/teams",
            Some(&owner),
            Some("req-123_abc"),
        )
        .await
        .expect(200);
        assert_eq!(ok.header("x-request-id"), Some("req-123_abc"));

        let health = with_request_id(&app, Method::GET, "/healthz", None, Some("trace:42/a.b"))
            .await
            .expect(200);
        assert_eq!(health.header("x-request-id"), Some("trace:42/a.b"));

        let missing = with_request_id(
            &app,
            Method::GET,
            "/v1/teams/not-a-uuid",
            Some(&owner),
            Some("lookup-1"),
        )
        .await
        .expect_problem(404);
        assert_eq!(missing.header("x-request-id"), Some("lookup-1"));
        assert_eq!(missing.body["request_id"], "lookup-1");

        let unauthenticated =
            with_request_id(&app, Method::GET, "/v1/teams", None, Some("no-token-1"))
                .await
                .expect_problem(401);
        assert_eq!(unauthenticated.header("x-request-id"), Some("no-token-1"));
        assert_eq!(unauthenticated.body["request_id"], "no-token-1");

        let longest = "r".repeat(200);
        let kept = with_request_id(&app, Method::GET, "/healthz", None, Some(&longest))
            .await
            .expect(200);
        assert_eq!(kept.header("x-request-id"), Some(longest.as_str()));
    })
    .await;
}

#[tokio::test]
async fn a_request_id_is_generated_when_the_client_sends_none() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let first = with_request_id(&app, Method::GET, "/healthz", None, None)
            .await
            .expect(200);
        let second = with_request_id(&app, Method::GET, "/healthz", None, None)
            .await
            .expect(200);
        let first_id = first
            .header("x-request-id")
            .expect("a generated request id")
            .to_owned();
        let second_id = second
            .header("x-request-id")
            .expect("a generated request id")
            .to_owned();
        assert!(!first_id.is_empty());
        assert_ne!(first_id, second_id, "every request gets its own id");

        let created = app
            .post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        assert!(
            created
                .header("x-request-id")
                .is_some_and(|id| !id.is_empty())
        );

        let problem = app.get("/v1/nowhere", &owner).await.expect_problem(404);
        let id = problem
            .header("x-request-id")
            .expect("a generated request id");
        assert_eq!(problem.body["request_id"], id);
    })
    .await;
}

#[tokio::test]
async fn an_unacceptable_request_id_is_replaced_by_a_generated_one() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let too_long = "r".repeat(201);
        for refused in ["with space", "tab\there", too_long.as_str()] {
            let ok = with_request_id(&app, Method::GET, "/healthz", None, Some(refused))
                .await
                .expect(200);
            let id = ok.header("x-request-id").expect("a generated request id");
            assert!(!id.is_empty());
            assert_ne!(id, refused);
            assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id:?}");

            let problem = with_request_id(
                &app,
                Method::GET,
                "/v1/teams/not-a-uuid",
                Some(&owner),
                Some(refused),
            )
            .await
            .expect_problem(404);
            let id = problem
                .header("x-request-id")
                .expect("a generated request id");
            assert_ne!(id, refused);
            assert_eq!(problem.body["request_id"], id);
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Operational endpoints

#[tokio::test]
async fn health_and_readiness_answer_without_a_token() {
    for_each_backend(|app| async move {
        let health = app
            .send(Method::GET, "/healthz", None, None)
            .await
            .expect(200);
        assert_eq!(health.body, json!({"status": "ok"}));
        assert!(
            health
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
        );
        let ready = app
            .send(Method::GET, "/readyz", None, None)
            .await
            .expect(200);
        assert_eq!(ready.body, json!({"status": "ready"}));
    })
    .await;
}

#[tokio::test]
async fn metrics_count_requests_by_method_route_pattern_and_status() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let team = app.post("/v1/teams", &owner, json!({"name": "Bar"})).await.expect(201);
        let id = team.body["id"].as_str().unwrap().to_owned();
        app.get(&format!("/v1/teams/{id}"), &owner).await.expect(200);
        app.get(&format!("/v1/teams/{id}"), &owner).await.expect(200);
        app.get(&format!("/v1/teams/{}", uuid::Uuid::now_v7()), &owner).await.expect_problem(404);

        let metrics = app.send(Method::GET, "/metrics", None, None).await.expect(200);
        assert!(metrics.header("content-type").is_some_and(|t| t.starts_with("text/plain")), "{:?}", metrics.headers);
        let text = &metrics.text;
        assert!(text.contains("# TYPE http_requests_total counter"), "{text}");
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"), "{text}");
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="/v1/teams/{id}",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="/v1/teams/{id}",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"http_requests_total{method="POST",route="/v1/teams",status="201"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"http_request_duration_seconds_count{method="GET",route="/v1/teams/{id}",status="200"} 2"#),
            "{text}"
        );
        assert!(!text.contains(&id), "raw ids must not become label values: {text}");
    })
    .await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_served_api() {
    for_each_backend(|app| async move {
        let document = app
            .send(Method::GET, "/openapi.json", None, None)
            .await
            .expect(200);
        assert!(
            document
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
        );
        assert_eq!(document.body["openapi"], "3.1.0");
        let paths = document.body["paths"].as_object().expect("paths");
        for path in [
            "/v1/teams",
            "/v1/teams/{id}",
            "/v1/members",
            "/v1/members/{id}",
            "/v1/organization",
            "/healthz",
        ] {
            assert!(
                paths.contains_key(path),
                "{path} missing from {:?}",
                paths.keys().collect::<Vec<_>>()
            );
        }
        assert!(paths["/v1/teams"]["get"].is_object());
        assert!(paths["/v1/teams"]["post"].is_object());
        assert!(paths["/v1/teams/{id}"]["patch"].is_object());
    })
    .await;
}

#[tokio::test]
async fn interactive_docs_are_served_from_the_binary() {
    for_each_backend(|app| async move {
        let redirect = app.send(Method::GET, "/docs", None, None).await.expect(308);
        assert_eq!(redirect.header("location"), Some("/docs/"));

        let docs = app
            .send(Method::GET, "/docs/", None, None)
            .await
            .expect(200);
        assert!(
            docs.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{:?}",
            docs.headers
        );
        assert!(
            docs.text.to_ascii_lowercase().contains("swagger"),
            "{}",
            docs.text
        );
        for cdn in ["unpkg.com", "cdn.jsdelivr", "cdnjs.cloudflare"] {
            assert!(
                !docs.text.contains(cdn),
                "docs load assets from {cdn}: {}",
                docs.text
            );
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Routing

#[tokio::test]
async fn unknown_routes_are_not_found_problems() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        for path in [
            "/v1/nowhere",
            "/nowhere",
            "/v2/teams",
            "/v1/teams/extra/segments/here",
        ] {
            let missing = app.get(path, &owner).await;
            assert_eq!(missing.status, 404, "{path} answered {}", missing.text);
            missing.expect_problem(404);
        }
        app.send(Method::GET, "/v1/nowhere", None, None)
            .await
            .expect_problem(404);
        app.send(Method::POST, "/v1/nowhere", Some(&owner), Some(json!({})))
            .await
            .expect_problem(404);
    })
    .await;
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_405_with_allow() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let team = app
            .post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        let team_path = format!("/v1/teams/{}", team.body["id"].as_str().unwrap());
        let cases = [
            (Method::DELETE, "/v1/members".to_owned(), "GET, POST"),
            (Method::PUT, "/v1/teams".to_owned(), "GET, POST"),
            (Method::PATCH, "/v1/teams".to_owned(), "GET, POST"),
            (Method::POST, team_path.clone(), "GET, PATCH, DELETE"),
            (Method::PUT, team_path.clone(), "GET, PATCH, DELETE"),
            (Method::DELETE, "/v1/organization".to_owned(), "GET, PATCH"),
            (Method::POST, "/healthz".to_owned(), "GET"),
        ];
        for (method, path, allow) in cases {
            let refused = app.send(method.clone(), &path, Some(&owner), None).await;
            assert_eq!(
                refused.status, 405,
                "{method} {path} answered {}",
                refused.text
            );
            let refused = refused.expect_problem(405);
            assert_eq!(refused.header("allow"), Some(allow), "{method} {path}");
        }
        // The refused requests changed nothing.
        let fetched = app.get(&team_path, &owner).await.expect(200);
        assert_eq!(fetched.body["version"], 1);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Pagination

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
        assert_eq!(ids(&whole), created);
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
        assert_eq!(ids(&first), created[..2]);
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
        assert_eq!(ids(&second), created[2..4]);
        let cursor = second.body["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned();

        created.extend(create_teams(&app, &owner, ["Later".to_owned()]).await);

        let mut seen: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
        let mut cursor = Some(cursor);
        while let Some(current) = cursor {
            let page = app
                .get(&format!("/v1/teams?limit=2&cursor={current}"), &owner)
                .await
                .expect(200);
            seen.extend(ids(&page));
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
            let member = app
                .post(
                    "/v1/members",
                    &owner,
                    json!({"display_name": format!("Member {i}"), "role": "staff"}),
                )
                .await
                .expect(201);
            created.push(member.body["id"].as_str().unwrap().to_owned());
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
        assert_eq!(ids(&first), created[..50]);
        let cursor = first.body["next_cursor"].as_str().expect("a second page");
        let rest = app
            .get(&format!("/v1/teams?cursor={cursor}"), &owner)
            .await
            .expect(200);
        assert_eq!(ids(&rest), created[50..]);
        assert_eq!(rest.body["next_cursor"], Value::Null);

        let largest = app.get("/v1/teams?limit=200", &owner).await.expect(200);
        assert_eq!(ids(&largest), created);
        let smallest = app.get("/v1/teams?limit=1", &owner).await.expect(200);
        assert_eq!(ids(&smallest), created[..1]);

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

// ---------------------------------------------------------------------------------------------
// ETags and If-Match

#[tokio::test]
async fn a_team_patch_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let team = app
            .post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        let path = format!("/v1/teams/{}", team.body["id"].as_str().unwrap());
        let fetched = app.get(&path, &owner).await.expect(200);
        assert_eq!(fetched.header("etag"), Some("\"1\""));

        let renamed = send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "\"1\"",
            Some(json!({"name": "Terrace"})),
        )
        .await
        .expect(200);
        assert_eq!(renamed.header("etag"), Some("\"2\""));
        assert_eq!(renamed.body["version"], 2);

        let stale = send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "\"1\"",
            Some(json!({"name": "Patio"})),
        )
        .await
        .expect_problem(412);
        assert!(stale.body["detail"].is_string(), "{}", stale.text);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["name"], "Terrace");
        assert_eq!(unchanged.body["version"], 2);
        assert_eq!(unchanged.header("etag"), Some("\"2\""));

        let any = send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "*",
            Some(json!({"name": "Patio"})),
        )
        .await
        .expect(200);
        assert_eq!(any.body["name"], "Patio");
        assert_eq!(any.header("etag"), Some("\"3\""));

        for weak_or_foreign in ["W/\"3\"", "3", "\"abc\""] {
            send_if_match(
                &app,
                Method::PATCH,
                &path,
                &owner,
                weak_or_foreign,
                Some(json!({"name": "Garden"})),
            )
            .await
            .expect_problem(412);
        }
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["name"], "Patio");
        assert_eq!(unchanged.body["version"], 3);
    })
    .await;
}

#[tokio::test]
async fn a_team_delete_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let team = app
            .post("/v1/teams", &owner, json!({"name": "Bar"}))
            .await
            .expect(201);
        let path = format!("/v1/teams/{}", team.body["id"].as_str().unwrap());
        app.patch(&path, &owner, json!({"name": "Terrace"}))
            .await
            .expect(200);

        send_if_match(&app, Method::DELETE, &path, &owner, "\"1\"", None)
            .await
            .expect_problem(412);
        send_if_match(&app, Method::DELETE, &path, &owner, "W/\"2\"", None)
            .await
            .expect_problem(412);
        assert_eq!(app.get(&path, &owner).await.expect(200).body["version"], 2);

        send_if_match(&app, Method::DELETE, &path, &owner, "\"2\"", None)
            .await
            .expect(204);
        app.get(&path, &owner).await.expect_problem(404);

        let other = app
            .post("/v1/teams", &owner, json!({"name": "Kitchen"}))
            .await
            .expect(201);
        let other_path = format!("/v1/teams/{}", other.body["id"].as_str().unwrap());
        send_if_match(&app, Method::DELETE, &other_path, &owner, "*", None)
            .await
            .expect(204);
        app.get(&other_path, &owner).await.expect_problem(404);
    })
    .await;
}

#[tokio::test]
async fn a_member_patch_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let member = app
            .post(
                "/v1/members",
                &owner,
                json!({"display_name": "Ana", "role": "staff"}),
            )
            .await
            .expect(201);
        assert_eq!(member.header("etag"), Some("\"1\""));
        let path = format!("/v1/members/{}", member.body["id"].as_str().unwrap());
        assert_eq!(
            app.get(&path, &owner).await.expect(200).header("etag"),
            Some("\"1\"")
        );

        let renamed = send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "\"1\"",
            Some(json!({"display_name": "Ana B."})),
        )
        .await
        .expect(200);
        assert_eq!(renamed.header("etag"), Some("\"2\""));

        send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "\"1\"",
            Some(json!({"active": false})),
        )
        .await
        .expect_problem(412);
        send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "W/\"2\"",
            Some(json!({"active": false})),
        )
        .await
        .expect_problem(412);
        let unchanged = app.get(&path, &owner).await.expect(200);
        assert_eq!(unchanged.body["display_name"], "Ana B.");
        assert_eq!(unchanged.body["active"], true);
        assert_eq!(unchanged.body["version"], 2);

        let any = send_if_match(
            &app,
            Method::PATCH,
            &path,
            &owner,
            "*",
            Some(json!({"active": false})),
        )
        .await
        .expect(200);
        assert_eq!(any.body["active"], false);
        assert_eq!(any.header("etag"), Some("\"3\""));
    })
    .await;
}

#[tokio::test]
async fn an_organization_patch_honours_if_match() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let org = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(org.header("etag"), Some("\"1\""));
        assert_eq!(org.body["version"], 1);

        let tuned = send_if_match(
            &app,
            Method::PATCH,
            "/v1/organization",
            &owner,
            "\"1\"",
            Some(json!({"anonymity_threshold": 7})),
        )
        .await
        .expect(200);
        assert_eq!(tuned.header("etag"), Some("\"2\""));
        assert_eq!(tuned.body["anonymity_threshold"], 7);

        send_if_match(
            &app,
            Method::PATCH,
            "/v1/organization",
            &owner,
            "\"1\"",
            Some(json!({"anonymity_threshold": 9})),
        )
        .await
        .expect_problem(412);
        send_if_match(
            &app,
            Method::PATCH,
            "/v1/organization",
            &owner,
            "W/\"2\"",
            Some(json!({"anonymity_threshold": 9})),
        )
        .await
        .expect_problem(412);
        let unchanged = app.get("/v1/organization", &owner).await.expect(200);
        assert_eq!(unchanged.body, tuned.body);
        assert_eq!(unchanged.header("etag"), Some("\"2\""));

        let any = send_if_match(
            &app,
            Method::PATCH,
            "/v1/organization",
            &owner,
            "*",
            Some(json!({"anonymity_threshold": 9})),
        )
        .await
        .expect(200);
        assert_eq!(any.body["anonymity_threshold"], 9);
        assert_eq!(any.header("etag"), Some("\"3\""));
    })
    .await;
}
