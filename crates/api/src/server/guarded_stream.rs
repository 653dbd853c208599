//! A client connection as actix sees it: bytes pass through the [`RequestGuard`] on their way in,
//! and a request the guard refuses ends the stream there (actix sees the client stop sending);
//! once actix has answered everything before it and closes the connection, the refusal's own
//! problem+json answer is written last. A request head must arrive whole within a deadline of
//! its first byte, on every request of a connection (actix times only the first), so a client
//! trickling a head in a byte at a time cannot hold a connection for ever.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use std::future::Future;
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Sleep, sleep};

use super::request_guard::{Refusal, RequestGuard, Verdict};

use crate::http::problem::{PROBLEM_JSON, Problem};

/// A stream whose requests are checked before actix reads them.
pub struct GuardedStream<T> {
    io: T,
    peer: Option<SocketAddr>,
    guard: RequestGuard,
    /// Checked bytes actix has not read yet, from `offset` on.
    ready: Vec<u8>,
    offset: usize,
    /// The answer to a refused request, and how much of it is written.
    refusal: Option<(Vec<u8>, usize)>,
    /// Set once nothing more may reach actix: the client closed, or a request was refused or
    /// broke its body.
    ended: bool,
    /// How long a head may take to arrive, and when the one arriving must be complete.
    head_timeout: Duration,
    head_deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> GuardedStream<T> {
    /// Guards `io`, a connection from `peer` whose request heads must arrive within
    /// `head_timeout`.
    pub fn new(io: T, peer: Option<SocketAddr>, head_timeout: Duration) -> Self {
        Self {
            io,
            peer,
            guard: RequestGuard::default(),
            ready: Vec::new(),
            offset: 0,
            refusal: None,
            ended: false,
            head_timeout,
            head_deadline: None,
        }
    }

    fn refuse(&mut self, refusal: &Refusal) {
        let (status, detail) = match refusal {
            Refusal::Malformed(detail) => (StatusCode::BAD_REQUEST, (*detail).to_owned()),
            Refusal::HeadTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "the request has too many headers or they are too large".to_owned(),
            ),
            Refusal::HeadTooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request head did not arrive within {} ms",
                    self.head_timeout.as_millis()
                ),
            ),
        };
        self.ended = true;
        let request_id = uuid::Uuid::now_v7().to_string();
        log::info!(
            target: "circulo::access",
            "{} \"-\" {} - request_id={request_id} refused before routing: {detail}",
            self.peer.map_or_else(|| "-".to_owned(), |p| p.ip().to_string()),
            status.as_u16(),
        );
        let mut problem = Problem::new(status, Some(detail));
        problem.request_id = Some(request_id.clone());
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
             x-request-id: {request_id}\r\nconnection: close\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error"),
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        self.refusal = Some((response, 0));
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.offset < this.ready.len() {
                let n = out.remaining().min(this.ready.len() - this.offset);
                out.put_slice(&this.ready[this.offset..this.offset + n]);
                this.offset += n;
                if this.offset == this.ready.len() {
                    this.ready.clear();
                    this.offset = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.ended {
                // End of stream: actix finishes what it has and closes the connection.
                return Poll::Ready(Ok(()));
            }
            if let Some(deadline) = &mut this.head_deadline
                && deadline.as_mut().poll(cx).is_ready()
            {
                this.refuse(&Refusal::HeadTooSlow);
                continue;
            }
            let mut scratch = [0_u8; 8192];
            let mut read = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            let got = read.filled();
            if got.is_empty() {
                this.ended = true;
                continue;
            }
            match this.guard.feed(got, &mut this.ready) {
                Verdict::Pass => {}
                Verdict::Refuse(refusal) => this.refuse(&refusal),
                Verdict::Stop => this.ended = true,
            }
            match (this.guard.awaits_head(), this.head_deadline.is_some()) {
                (true, false) => this.head_deadline = Some(Box::pin(sleep(this.head_timeout))),
                (false, true) => this.head_deadline = None,
                _ => {}
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some((response, written)) = &mut this.refusal {
            while *written < response.len() {
                let n = ready!(Pin::new(&mut this.io).poll_write(cx, &response[*written..]))?;
                if n == 0 {
                    break;
                }
                *written += n;
            }
            ready!(Pin::new(&mut this.io).poll_flush(cx))?;
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}
