//! Request ids: a client's acceptable `X-Request-Id` is echoed on successes and problems alike,
//! and one is generated when the client sends none or one that is unacceptable.

use reqwest::Method;
use serde_json::json;

use crate::support::{Response, TestApp, for_each_backend};

/// `GET path` with an optional token and `X-Request-Id`.
async fn get_with_request_id(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    id: Option<&str>,
) -> Response {
    let headers: Vec<(&str, &str)> = id.map(|id| ("x-request-id", id)).into_iter().collect();
    app.send_with_headers(Method::GET, path, token, &headers, None)
        .await
}

#[tokio::test]
async fn a_clients_request_id_is_echoed_on_successes_and_problems() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let ok = get_with_request_id(&app, "/v1/teams", Some(&owner), Some("req-123_abc"))
            .await
            .expect(200);
        assert_eq!(ok.header("x-request-id"), Some("req-123_abc"));

        let health = get_with_request_id(&app, "/healthz", None, Some("trace:42/a.b"))
            .await
            .expect(200);
        assert_eq!(health.header("x-request-id"), Some("trace:42/a.b"));

        let missing =
            get_with_request_id(&app, "/v1/teams/not-a-uuid", Some(&owner), Some("lookup-1"))
                .await
                .expect_problem(404);
        assert_eq!(missing.header("x-request-id"), Some("lookup-1"));
        assert_eq!(missing.body["request_id"], "lookup-1");

        let unauthenticated = get_with_request_id(&app, "/v1/teams", None, Some("no-token-1"))
            .await
            .expect_problem(401);
        assert_eq!(unauthenticated.header("x-request-id"), Some("no-token-1"));
        assert_eq!(unauthenticated.body["request_id"], "no-token-1");

        let longest = "r".repeat(200);
        let kept = get_with_request_id(&app, "/healthz", None, Some(&longest))
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
        let first = get_with_request_id(&app, "/healthz", None, None)
            .await
            .expect(200);
        let second = get_with_request_id(&app, "/healthz", None, None)
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
            let ok = get_with_request_id(&app, "/healthz", None, Some(refused))
                .await
                .expect(200);
            let id = ok.header("x-request-id").expect("a generated request id");
            assert!(!id.is_empty());
            assert_ne!(id, refused);
            assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id:?}");

            let problem =
                get_with_request_id(&app, "/v1/teams/not-a-uuid", Some(&owner), Some(refused))
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
