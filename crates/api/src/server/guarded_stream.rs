//! A client connection as actix sees it: bytes pass through the [`RequestGuard`] on their way in,
//! and a request the guard refuses ends the stream there (actix sees the client stop sending);
//! once actix has answered everything before it and closes the connection, the refusal's own
//! problem+json answer is written last.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::request_guard::{Refusal, RequestGuard};
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
    client_closed: bool,
}

impl<T> GuardedStream<T> {
    /// Guards `io`, a connection from `peer`.
    pub fn new(io: T, peer: Option<SocketAddr>) -> Self {
        Self {
            io,
            peer,
            guard: RequestGuard::default(),
            ready: Vec::new(),
            offset: 0,
            refusal: None,
            client_closed: false,
        }
    }

    fn refuse(&mut self, refusal: &Refusal) {
        let (status, detail) = match refusal {
            Refusal::Malformed(detail) => (StatusCode::BAD_REQUEST, (*detail).to_owned()),
            Refusal::HeadTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "the request has too many headers or they are too large".to_owned(),
            ),
        };
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
            if this.refusal.is_some() || this.client_closed {
                // End of stream: actix finishes what it has and closes the connection.
                return Poll::Ready(Ok(()));
            }
            let mut scratch = [0_u8; 8192];
            let mut read = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            let got = read.filled();
            if got.is_empty() {
                this.client_closed = true;
                continue;
            }
            if let Err(refusal) = this.guard.feed(got, &mut this.ready) {
                this.refuse(&refusal);
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
