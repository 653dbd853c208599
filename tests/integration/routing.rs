//! Routes every client relies on: health, readiness, metrics and the API docs answer without a
//! token; unknown routes are 404 problems and a known path with the wrong method is 405 with `Allow`.

use reqwest::Method;
use serde_json::json;

use crate::support::for_each_backend;

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
        let id = app.create_team(&owner, "Bar").await;
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
async fn invented_methods_share_one_label_so_metrics_cannot_grow_without_bound() {
    for_each_backend(|app| async move {
        let before = app
            .send(Method::GET, "/metrics", None, None)
            .await
            .expect(200);
        for i in 0..300 {
            let method = Method::from_bytes(format!("XM{i:05}").as_bytes()).expect("a method");
            let path = format!("/v1/teams/{}", uuid::Uuid::now_v7());
            let response = app.send(method, &path, None, None).await;
            assert!(
                response.status >= 400 && response.status < 500,
                "{}",
                response.text
            );
        }
        let after = app
            .send(Method::GET, "/metrics", None, None)
            .await
            .expect(200);
        let text = &after.text;
        assert!(
            !text.contains("XM0"),
            "a client-chosen method became a label: {text}"
        );
        let others: u64 = text
            .lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains(r#"method="OTHER""#))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(others, 300, "{text}");
        // 300 requests with 300 methods added a handful of series, not 300.
        assert!(
            after.text.len() < before.text.len() + 8 * 1024,
            "metrics grew from {} to {} bytes",
            before.text.len(),
            after.text.len()
        );
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
        let team_path = format!("/v1/teams/{}", app.create_team(&owner, "Bar").await);
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
