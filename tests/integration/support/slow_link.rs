//! A database across a busy network: a TCP relay on 127.0.0.1 that passes most messages at once
//! and holds one in ten for a while, in each direction. Races that need one transaction's
//! statements to be slower than another's show up reliably through it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use circulo_persistence::DatabaseUrl;

/// Points the app's PostgreSQL URL at a relay that holds one message in ten for `delay`, each
/// way. SQLite is left as is.
pub fn through_slow_link(config: &mut circulo_api::Config, delay: Duration) {
    let DatabaseUrl::Postgres(url) = &config.database_url else {
        return;
    };
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').expect("a database name");
    let (userinfo, target) = match authority.rsplit_once('@') {
        Some((userinfo, target)) => (format!("{userinfo}@"), target.to_owned()),
        None => (String::new(), authority.to_owned()),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the relay");
    let relay = listener.local_addr().expect("relay address");
    listener.set_nonblocking(true).expect("non-blocking");
    // On a runtime of its own: the server connects synchronously while it starts, on the
    // test's thread, and the relay must answer meanwhile. It ends with the test process.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("relay runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("relay listener");
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(carry(client_read, server_write, delay));
                tokio::spawn(carry(server_read, client_write, delay));
            }
        });
    });
    config.database_url =
        DatabaseUrl::parse(&format!("{scheme}://{userinfo}{relay}/{path}")).expect("relayed URL");
}

async fn carry(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let mut buffer = vec![0_u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        if rand::random_ratio(1, 10) {
            tokio::time::sleep(delay).await;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
