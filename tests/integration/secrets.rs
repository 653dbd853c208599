//! Secrets and credentials: the generated token secret is created atomically and refused when
//! others can read it; a database password never reaches a log line; a JWKS must be fetched over
//! https (http only to a loopback address) and come with a required audience.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use crate::support::binary::{ServerProcess, command};
use crate::support::{Backend, TestDatabase};

fn without_secret(database_url: &str, args: &[&str]) -> Output {
    command(database_url)
        .env_remove("CIRCULO_JWT_SECRET")
        .args(args)
        .output()
        .expect("run circulo")
}

#[test]
fn commands_starting_together_share_one_generated_secret() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().expect("a folder");
        let db = format!("sqlite://{}", dir.path().join("circulo.db").display());
        let org = uuid::Uuid::now_v7().to_string();
        let args = ["token", "--org", org.as_str(), "--role", "owner"];
        let outputs: Vec<Output> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| without_secret(&db, &args)))
                .collect();
            runs.into_iter().map(|r| r.join().expect("ran")).collect()
        });
        let secret_file = dir.path().join("circulo.jwt-secret");
        let secret = std::fs::read_to_string(&secret_file).expect("the secret file");
        let mode = std::fs::metadata(&secret_file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        for output in outputs {
            assert!(output.status.success(), "{output:?}");
            let token = String::from_utf8(output.stdout).expect("text");
            let key = jsonwebtoken::DecodingKey::from_secret(secret.trim().as_bytes());
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
            validation.validate_aud = false;
            jsonwebtoken::decode::<serde_json::Value>(token.trim(), &key, &validation)
                .expect("every token is signed with the one secret on disk");
        }
    }
}

#[test]
fn a_secret_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = format!("sqlite://{}", dir.path().join("circulo.db").display());
    let org = uuid::Uuid::now_v7().to_string();
    let args = ["token", "--org", org.as_str(), "--role", "owner"];
    assert!(without_secret(&db, &args).status.success());
    let secret_file = dir.path().join("circulo.jwt-secret");
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let refused = without_secret(&db, &args);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("chmod 600"), "{said}");
    assert!(refused.stdout.is_empty(), "no token was minted");
}

#[tokio::test]
async fn a_database_password_never_reaches_the_log() {
    if !Backend::available().contains(&Backend::Postgres) {
        return;
    }
    let database = TestDatabase::create(Backend::Postgres);
    let url = database.url();
    let (scheme_end, rest) = url.split_once("://").expect("a URL");
    let (authority, tail) = rest
        .split_once('@')
        .map_or(("postgres", rest), |(a, t)| (a, t));
    let user = authority.split(':').next().unwrap_or("postgres");
    // The test server trusts local connections, so any password opens it.
    let with_userinfo = format!("{scheme_end}://{user}:Pw-in-userinfo-7@{tail}");
    let separator = if tail.contains('?') { '&' } else { '?' };
    let with_parameter = format!("{scheme_end}://{user}@{tail}{separator}password=Pw-in-query-7");
    for url in [&with_userinfo, &with_parameter] {
        let server = ServerProcess::start(url, &[("RUST_LOG", "debug")]);
        let client = reqwest::Client::new();
        client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .expect("ready");
        client
            .get(format!("{}/v1/teams", server.base))
            .send()
            .await
            .expect("answered");
        let log = server.kill();
        assert!(
            log.contains("database"),
            "the URL is logged, redacted: {log}"
        );
        assert!(
            !log.contains("Pw-in-"),
            "a password reached the log:\n{log}"
        );
    }
    // Nor when the URL cannot be used as written: libpq would quote the offending part back.
    for unusable in [
        format!("{scheme_end}://{user}:Pw-in-bad%zz@{tail}"),
        format!("{scheme_end}://{user}@{tail}{separator}password=Pw-in-bad%G"),
        format!("{scheme_end}://{user}:Pw-in@unencoded@{tail}"),
    ] {
        for args in [
            &["migrate"][..],
            &["org", "create", "--name", "X"],
            &["serve", "--bind", "127.0.0.1:0"],
        ] {
            let refused = command(&unusable).args(args).output().expect("run");
            assert_eq!(refused.status.code(), Some(1), "{args:?}: {refused:?}");
            let said = String::from_utf8_lossy(&refused.stderr);
            assert!(!said.contains("Pw-in"), "{args:?}: {said}");
        }
    }
    // Nor when the database cannot be opened.
    let missing = with_userinfo.replace(&format!("/{}", database_name(tail)), "/no_such_database");
    let failed = command(&missing).arg("migrate").output().expect("run");
    assert!(!failed.status.success());
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(!said.contains("Pw-in-"), "{said}");
}

fn database_name(tail: &str) -> &str {
    let path = tail.split_once('/').map_or("", |(_, p)| p);
    path.split('?').next().unwrap_or(path)
}

#[test]
fn a_jwks_url_must_be_https_unless_loopback_and_needs_an_audience() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = format!("sqlite://{}", dir.path().join("circulo.db").display());
    for (url, audience, complaint) in [
        (
            "http://idp.example.com/jwks.json",
            Some("circulo"),
            "CIRCULO_JWKS_URL",
        ),
        (
            "ftp://idp.example.com/jwks.json",
            Some("circulo"),
            "CIRCULO_JWKS_URL",
        ),
        (
            "https://idp.example.com/jwks.json",
            None,
            "CIRCULO_JWT_AUDIENCE",
        ),
    ] {
        let mut serve = command(&db);
        serve
            .env_remove("CIRCULO_JWT_SECRET")
            .env("CIRCULO_JWKS_URL", url)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        if let Some(audience) = audience {
            serve.env("CIRCULO_JWT_AUDIENCE", audience);
        }
        let refused = serve.output().expect("run");
        assert_eq!(refused.status.code(), Some(1), "{url}: {refused:?}");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains(complaint), "{url}: {said}");
    }
}
