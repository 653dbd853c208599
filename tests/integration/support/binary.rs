//! The real `circulo` binary, for what only a process can show: a crash and a restart, a command's
//! exit code, what reaches its log.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::app::TEST_SECRET;

/// The binary cargo built for these tests.
pub const CIRCULO: &str = env!("CARGO_BIN_EXE_circulo");

/// `circulo <args>` against `database_url`, with the test secret, waited for.
pub fn run_cli(database_url: &str, args: &[&str]) -> Output {
    command(database_url)
        .args(args)
        .output()
        .expect("run the circulo binary")
}

/// A `circulo` command against `database_url` with the test secret and nothing else from the
/// environment.
pub fn command(database_url: &str) -> Command {
    let mut command = Command::new(CIRCULO);
    command
        .env_clear()
        .env("CIRCULO_DATABASE_URL", database_url)
        .env("CIRCULO_JWT_SECRET", TEST_SECRET)
        .env("RUST_LOG", "info");
    command
}

/// A `circulo serve` process; killed when dropped.
pub struct ServerProcess {
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
    pub base: String,
}

impl ServerProcess {
    /// Starts the server on a free port with `env` added, and waits until it listens.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = command(database_url)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start circulo serve");
        // Drained as it comes, so a chatty log never fills the pipe and stalls the server.
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        });
        let server = Self {
            child,
            stderr: Some(stderr),
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_listening();
        server
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let address = self.base.trim_start_matches("http://").to_owned();
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&address).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("circulo serve did not listen on {address}");
    }

    /// Waits for the process to end by itself; its exit status and everything it logged.
    pub fn wait_for_exit(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().expect("wait for circulo");
        (status, self.logged())
    }

    /// Stops the process; everything it logged.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.logged()
    }

    fn logged(&mut self) -> String {
        self.stderr
            .take()
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
