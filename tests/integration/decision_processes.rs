//! Decisions across processes: a POS retry after the server died between commit and answer is
//! answered with the decision it made (never a second one), and two servers sharing one
//! PostgreSQL database never overspend a grant between them.

use serde_json::{Value, json};

use crate::support::binary::{ServerProcess, run_cli};
use crate::support::tokens::hs256_token;
use crate::support::{Backend, TestDatabase};

async fn post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("answered")
}

async fn json_of(response: reqwest::Response) -> Value {
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("json")
}

/// An organization with a cashier holding a grant of `budget` (at most `limit` a decision) of
/// refunds a day; returns the database, the owner's token, the cashier's id and the grant's id.
async fn counter(
    backend: Backend,
    budget: i64,
    limit: i64,
) -> (TestDatabase, String, String, String) {
    let database = TestDatabase::create(backend);
    let created = run_cli(
        database.url(),
        &["org", "create", "--name", "Till", "--currency", "EUR"],
    );
    assert!(created.status.success(), "{created:?}");
    let org: Value = serde_json::from_slice(&created.stdout).expect("org");
    let owner = hs256_token(org["id"].as_str().expect("id"), "owner", "owner-1");
    let server = ServerProcess::start(database.url(), &[]);
    let client = reqwest::Client::new();
    let cashier = json_of(
        post(
            &client,
            &server.base,
            &owner,
            "/v1/members",
            &json!({"display_name": "Cashier", "role": "staff"}),
        )
        .await,
    )
    .await;
    let cashier = cashier["id"].as_str().expect("id").to_owned();
    let grant = json_of(
        post(
            &client,
            &server.base,
            &owner,
            "/v1/delegations",
            &json!({"delegate_member_id": cashier, "action": "refund", "currency": "EUR",
                    "per_decision_limit_minor": limit, "budget_minor": budget, "budget_period": "day",
                    "rationale": "Refunds at the till"}),
        )
        .await,
    )
    .await;
    server.kill();
    (
        database,
        owner,
        cashier,
        grant["id"].as_str().expect("id").to_owned(),
    )
}

fn refund(member: &str, amount: i64) -> Value {
    json!({"member_id": member, "action": "refund", "amount_minor": amount, "currency": "EUR",
           "client_ref": "POS-9", "touchpoint": "pos"})
}

#[tokio::test]
async fn a_retry_after_a_crash_between_commit_and_answer_never_decides_twice() {
    for backend in Backend::available() {
        let (database, owner, cashier, grant) = counter(backend, 5000, 2000).await;
        let client = reqwest::Client::new();
        let send = |base: String| {
            let client = client.clone();
            let body = refund(&cashier, 1500);
            let owner = owner.clone();
            async move {
                client
                    .post(format!("{base}/v1/decisions"))
                    .bearer_auth(&owner)
                    .header("idempotency-key", "till-9-sale-1")
                    .json(&body)
                    .send()
                    .await
            }
        };
        let doomed = ServerProcess::start(
            database.url(),
            &[("CIRCULO_FAULT_INJECTION", "abort-after-commit")],
        );
        assert!(
            send(doomed.base.clone()).await.is_err(),
            "{backend:?}: the answer should be lost"
        );
        let _ = doomed.wait_for_exit();

        let server = ServerProcess::start(database.url(), &[]);
        let retry = send(server.base.clone()).await.expect("answered");
        assert_eq!(retry.status(), 201, "{backend:?}");
        assert_eq!(
            retry
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        let decided: Value = retry.json().await.expect("json");
        assert_eq!(decided["outcome"], "approved");
        let state = json_of(
            client
                .get(format!("{}/v1/delegations/{grant}", server.base))
                .bearer_auth(&owner)
                .send()
                .await
                .expect("read"),
        )
        .await;
        assert_eq!(
            state["used_minor"], 1500,
            "{backend:?}: decided twice? {state}"
        );
        assert_eq!(state["decisions_in_period"], 1);
        server.kill();
    }
}

#[tokio::test]
async fn two_servers_on_one_postgresql_never_overspend_a_grant_between_them() {
    if !Backend::available().contains(&Backend::Postgres) {
        return;
    }
    let (database, owner, cashier, grant) = counter(Backend::Postgres, 5000, 100).await;
    let servers = [
        ServerProcess::start(database.url(), &[]),
        ServerProcess::start(database.url(), &[]),
    ];
    let client = reqwest::Client::new();
    let body = refund(&cashier, 100);
    let requests = (0..200).map(|i| {
        post(
            &client,
            &servers[i % 2].base,
            &owner,
            "/v1/decisions",
            &body,
        )
    });
    let mut approved = 0;
    for response in futures_util::future::join_all(requests).await {
        let decided = json_of(response).await;
        if decided["outcome"] == "approved" {
            approved += 1;
        }
    }
    assert_eq!(approved, 50);
    let state = json_of(
        client
            .get(format!("{}/v1/delegations/{grant}", servers[0].base))
            .bearer_auth(&owner)
            .send()
            .await
            .expect("read"),
    )
    .await;
    assert_eq!(state["used_minor"], 5000);
    assert_eq!(state["decisions_in_period"], 50);
}
