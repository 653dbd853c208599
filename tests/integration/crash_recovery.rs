//! A process that dies after a change commits and before its answer leaves: the client's retry
//! with the same `Idempotency-Key` is answered with the committed change, never made twice. The
//! real binary is aborted at that moment (debug builds honour `CIRCULO_FAULT_INJECTION`) and
//! restarted on the same database.

use std::os::unix::process::ExitStatusExt;

use serde_json::{Value, json};

use circulo_api::auth::{MintRequest, mint_hs256};

use crate::support::binary::{ServerProcess, run_cli};
use crate::support::{Backend, TEST_SECRET, TestDatabase};

fn owner_token(org: &str) -> String {
    mint_hs256(
        TEST_SECRET.as_bytes(),
        &MintRequest {
            org: Some(org.to_owned()),
            role: "owner".to_owned(),
            sub: "owner-1".to_owned(),
            scope: None,
            ttl_seconds: 600,
            issuer: None,
            audience: None,
        },
    )
    .expect("mint")
}

async fn hire(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    client
        .post(format!("{base}/v1/members"))
        .bearer_auth(token)
        .header("idempotency-key", "hire-ana-2026-12-01")
        .json(&json!({"display_name": "Ana García", "role": "staff"}))
        .send()
        .await
}

#[tokio::test]
async fn a_retry_after_a_crash_between_commit_and_answer_replays_the_committed_change() {
    for backend in Backend::available() {
        let database = TestDatabase::create(backend);
        let url = database.url();
        let created = run_cli(url, &["org", "create", "--name", "Crash Café"]);
        assert!(created.status.success(), "{created:?}");
        let org: Value = serde_json::from_slice(&created.stdout).expect("the org as JSON");
        let token = owner_token(org["id"].as_str().expect("org id"));
        let client = reqwest::Client::new();

        let doomed =
            ServerProcess::start(url, &[("CIRCULO_FAULT_INJECTION", "abort-after-commit")]);
        let lost = hire(&client, &doomed.base, &token).await;
        assert!(
            lost.is_err(),
            "{backend:?}: the answer should have been lost: {lost:?}"
        );
        let (status, log) = doomed.wait_for_exit();
        assert_eq!(
            status.signal(),
            Some(6),
            "{backend:?}: not aborted: {status:?}\n{log}"
        );

        let server = ServerProcess::start(url, &[]);
        let retry = hire(&client, &server.base, &token).await.expect("answered");
        assert_eq!(retry.status(), 201, "{backend:?}");
        assert_eq!(
            retry
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true"),
            "{backend:?}: the retry must be answered from the committed change"
        );
        let member: Value = retry.json().await.expect("the member");
        assert_eq!(member["display_name"], "Ana García");

        let list: Value = client
            .get(format!("{}/v1/members", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("listed")
            .json()
            .await
            .expect("a list");
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{backend:?}: made twice: {list}");
        assert_eq!(items[0]["id"], member["id"]);
        server.kill();
    }
}
