//! Input built to break the server: control characters in every query parameter the API
//! documents and in a signed token's claims, critical header extensions, and requests that break
//! HTTP itself. Each is refused as the client's error (4xx problem+json), never a 500.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::ParameterIn;

use crate::support::tokens::{assert_unauthorized, claims, with};
use crate::support::{TEST_SECRET, for_each_backend};

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .expect("sign")
}

/// Every GET operation's path (ids filled in) and the names of its query parameters.
fn documented_query_parameters() -> Vec<(String, Vec<String>)> {
    let api = circulo_api::openapi();
    api.paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let op = item.get.as_ref()?;
            let names: Vec<String> = op
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                    _ => None,
                })
                .collect();
            let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
            (!names.is_empty()).then_some((path, names))
        })
        .collect()
}

#[tokio::test]
async fn a_control_character_in_any_query_parameter_is_a_bad_request() {
    let operations = documented_query_parameters();
    assert!(
        operations
            .iter()
            .any(|(path, _)| path == "/v1/audit-events"),
        "{operations:?}"
    );
    for_each_backend(|app| {
        let operations = operations.clone();
        async move {
            let (_, owner) = app.create_org().await;
            for (path, names) in &operations {
                for name in names {
                    for control in ["%00", "a%0Ab", "%1B%5B31m", "%7F", "%C2%85"] {
                        let target = format!("{path}?{name}={control}");
                        let refused = app.get(&target, &owner).await;
                        assert_eq!(refused.status, 400, "GET {target}: {}", refused.text);
                        assert_eq!(
                            refused.expect_problem(400).error_fields(),
                            [name.as_str()],
                            "GET {target}"
                        );
                    }
                }
            }
            // The refusal comes before anything else reads the parameter.
            app.get("/v1/audit-events?action=%00", &owner)
                .await
                .expect_problem(400);
            app.get("/v1/audit-events?action=member.created", &owner)
                .await
                .expect(200);
        }
    })
    .await;
}

#[tokio::test]
async fn control_characters_or_an_oversized_subject_in_a_signed_token_are_unauthorized() {
    for_each_backend(|app| async move {
        let (org, owner) = app.create_org().await;
        app.get("/v1/teams", &owner).await.expect(200);
        let valid = claims(Some(&org), "owner");
        for (case, claims) in [
            (
                "NUL in sub",
                with(valid.clone(), "sub", json!("owner\u{0}1")),
            ),
            (
                "newline in sub",
                with(valid.clone(), "sub", json!("owner\n1")),
            ),
            (
                "escape in scope",
                with(valid.clone(), "scope", json!("members:read\u{1b}")),
            ),
            (
                "NUL in org",
                with(valid.clone(), "org", json!(format!("{org}\u{0}"))),
            ),
            (
                "NUL in role",
                with(valid.clone(), "role", json!("owner\u{0}")),
            ),
            (
                "a 256-character sub",
                with(valid.clone(), "sub", json!("s".repeat(256))),
            ),
        ] {
            assert_unauthorized(app.get("/v1/teams", &hs256(&claims)).await, case);
            assert_unauthorized(
                app.post("/v1/teams", &hs256(&claims), json!({"name": "Bar"}))
                    .await,
                case,
            );
        }
        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_token_naming_critical_header_extensions_is_unauthorized() {
    for_each_backend(|app| async move {
        let (org, _) = app.create_org().await;
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["exp".to_owned()]);
        let token = encode(
            &header,
            &claims(Some(&org), "owner"),
            &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .expect("sign");
        assert_unauthorized(app.get("/v1/teams", &token).await, "crit header");
    })
    .await;
}

/// Sends `raw` bytes on a fresh connection and reads until the server closes it.
async fn raw_exchange(app: &crate::support::TestApp, raw: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(raw).await.expect("send");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server did not close the connection");
    String::from_utf8_lossy(&answer).into_owned()
}

/// The problem body of the last response in `answer`, checked for its status and request id.
#[track_caller]
fn last_problem(answer: &str, status: u16) -> Value {
    let (head, body) = answer.rsplit_once("\r\n\r\n").expect("a response");
    let head = head
        .rsplit("HTTP/1.1 ")
        .next()
        .expect("a status line")
        .to_ascii_lowercase();
    assert!(head.starts_with(&status.to_string()), "{answer}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{answer}"
    );
    let problem: Value = serde_json::from_str(body).expect("a JSON problem");
    assert_eq!(problem["status"], status, "{answer}");
    let id = problem["request_id"].as_str().expect("a request id");
    assert!(head.contains(&format!("x-request-id: {id}")), "{answer}");
    problem
}

#[tokio::test]
async fn requests_that_break_http_are_answered_with_problems() {
    for_each_backend(|app| async move {
        let garbled = raw_exchange(&app, b"GARBAGE\r\n\r\n").await;
        last_problem(&garbled, 400);
        let bad_line = raw_exchange(&app, b"GET /v1/teams HTTP/1.1 extra\r\nHost: x\r\n\r\n").await;
        last_problem(&bad_line, 400);

        let mut crowded = b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..120 {
            crowded.extend_from_slice(format!("X-Header-{i}: v\r\n").as_bytes());
        }
        crowded.extend_from_slice(b"\r\n");
        last_problem(&raw_exchange(&app, &crowded).await, 431);

        let smuggle = b"POST /v1/teams HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello";
        last_problem(&raw_exchange(&app, smuggle).await, 400);

        // Good requests before a bad one on the same connection are answered first.
        let mut pipelined = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        pipelined.extend_from_slice(b"\x01\x02 nonsense\r\n\r\n");
        let both = raw_exchange(&app, &pipelined).await;
        assert!(both.starts_with("HTTP/1.1 200"), "{both}");
        assert_eq!(both.matches("HTTP/1.1 ").count(), 2, "{both}");
        last_problem(&both, 400);
    })
    .await;
}

#[tokio::test]
async fn chunked_and_pipelined_requests_still_work_through_the_guard() {
    for_each_backend(|app| async move {
        let (_, owner) = app.create_org().await;
        let request = format!(
            "POST /v1/teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {owner}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
             6\r\n{{\"name\r\n8\r\n\": \"Bar\"\r\n1\r\n}}\r\n0\r\n\r\n\
             GET /v1/teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {owner}\r\nConnection: close\r\n\r\n"
        );
        let answers = raw_exchange(&app, request.as_bytes()).await;
        assert!(answers.starts_with("HTTP/1.1 201"), "{answers}");
        assert_eq!(answers.matches("HTTP/1.1 200").count(), 1, "{answers}");
        assert_eq!(app.list_items("/v1/teams", &owner).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn no_body_framing_lets_a_later_request_past_the_guard() {
    for_each_backend(|app| async move {
        // A chunk size with many leading zeros and a long trailer section are valid: what follows
        // them is still judged, and a malformed request there is still a problem.
        let mut long_trailers = String::new();
        for i in 0..1500 {
            long_trailers.push_str(&format!("X-Trailer-{i}: v\r\n"));
        }
        for body in [
            "00000000000000001\r\na\r\n0\r\n\r\n".to_owned(),
            format!("1\r\na\r\n0\r\n{long_trailers}\r\n"),
        ] {
            let raw = format!(
                "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{body}GARBAGE\r\n\r\n"
            );
            let answers = raw_exchange(&app, raw.as_bytes()).await;
            assert_eq!(answers.matches("HTTP/1.1 ").count(), 2, "{answers}");
            last_problem(&answers, 400);
        }
        // A body that breaks its chunk framing is answered as that request's problem, and nothing
        // after it is read.
        let raw = "POST /v1/teams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                   Transfer-Encoding: chunked\r\n\r\nzz\r\nGARBAGE\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        let answers = raw_exchange(&app, raw.as_bytes()).await;
        assert_eq!(answers.matches("HTTP/1.1 ").count(), 1, "{answers}");
        last_problem(&answers, 401);
    })
    .await;
}

#[tokio::test]
async fn a_request_head_trickled_in_too_slowly_is_answered_408_on_any_request_of_a_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let slow_heads = |config: &mut circulo_api::Config| {
        config.request_head_timeout = std::time::Duration::from_millis(400);
    };
    crate::support::for_each_backend_with(slow_heads, |app| async move {
        let address = app.address.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("send");
        let started = std::time::Instant::now();
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x" {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut answer),
        )
        .await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        last_problem(&answer, 408);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
}
