//! The command line: every command exits cleanly every time, on both databases. (A command that
//! left a connection pool opening connections on a background thread while it exited used to
//! crash with SIGSEGV inside libpq's TLS set-up about one run in five.)

use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use crate::support::binary::run_cli;
use crate::support::{Backend, TestDatabase};

#[track_caller]
fn assert_clean_exit(output: &Output, what: &str) {
    assert!(
        output.status.success() && output.status.signal().is_none(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_command_exits_cleanly_every_time() {
    for backend in Backend::available() {
        let database = TestDatabase::create(backend);
        let url = database.url();
        let runs = match backend {
            Backend::Postgres => 25,
            Backend::Sqlite => 5,
        };
        let mut org = String::new();
        for run in 0..runs {
            assert_clean_exit(
                &run_cli(url, &["migrate"]),
                &format!("{backend:?} migrate #{run}"),
            );
            let created = run_cli(url, &["org", "create", "--name", &format!("Café {run}")]);
            assert_clean_exit(&created, &format!("{backend:?} org create #{run}"));
            let json: serde_json::Value =
                serde_json::from_slice(&created.stdout).expect("the organization as JSON");
            org = json["id"].as_str().expect("an id").to_owned();
        }
        for run in 0..3 {
            let token = run_cli(url, &["token", "--org", &org, "--role", "owner"]);
            assert_clean_exit(&token, &format!("{backend:?} token #{run}"));
            assert_eq!(
                String::from_utf8_lossy(&token.stdout).matches('.').count(),
                2
            );
            assert_clean_exit(
                &run_cli(url, &["openapi"]),
                &format!("{backend:?} openapi #{run}"),
            );
        }
        let refused = run_cli(url, &["org", "create", "--name", ""]);
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        assert!(refused.status.signal().is_none());
    }
}

#[test]
fn processes_starting_together_on_a_new_database_migrate_it_once() {
    for backend in Backend::available() {
        for round in 0..3 {
            let database = TestDatabase::create(backend);
            let url = database.url();
            let outputs: Vec<Output> = std::thread::scope(|scope| {
                let runs: Vec<_> = (0..6)
                    .map(|i| {
                        scope.spawn(move || {
                            if i % 2 == 0 {
                                run_cli(url, &["migrate"])
                            } else {
                                run_cli(url, &["org", "create", "--name", "Together"])
                            }
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().expect("ran")).collect()
            });
            for (i, output) in outputs.iter().enumerate() {
                assert_clean_exit(output, &format!("{backend:?} round {round}, process {i}"));
            }
        }
    }
}
