//! Reads every request head before actix does, so that a request which breaks HTTP itself (a
//! garbled request line, too many or too large headers, an unusable `Content-Length`) is answered
//! like any other bad request: problem+json with a request id. actix's own HTTP/1 dispatcher
//! answers those with an empty 400 or 431 and offers no hook to change it.
//!
//! The guard applies the same parser (`httparse`) with the same limits and the same header rules
//! as actix, and refuses only what actix would refuse: whatever it lets through, actix handles
//! as before. It follows each request's body (`Content-Length` or chunked) so it knows where the
//! next head begins; on anything it does not understand it stops looking and lets the rest of the
//! connection through untouched.

use actix_web::http::{Method, Uri, header};

/// actix's limits: the most headers a request may have, and the most bytes of an unfinished head
/// it buffers.
const MAX_HEADERS: usize = 96;
const MAX_HEAD_BYTES: usize = 131_072;
/// The longest chunk-size or trailer section followed before giving up on following a body.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

/// Why a request is refused before it reaches the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: the request is not well-formed HTTP/1.
    Malformed(&'static str),
    /// 431: the head is larger, or has more headers, than accepted.
    HeadTooLarge,
}

/// Where in the connection's byte stream the guard is.
#[derive(Debug)]
enum State {
    /// Collecting a request head; nothing of it has been let through yet.
    Head(Vec<u8>),
    /// Inside a body of known length: this many bytes are left.
    Body(u64),
    /// Inside a chunked body.
    Chunked(Chunk),
    /// No longer inspecting: everything passes.
    Through,
}

#[derive(Debug)]
enum Chunk {
    /// Reading a chunk-size line.
    Size(Vec<u8>),
    /// Inside a chunk: this many data bytes are left.
    Data(u64),
    /// After a chunk's data: this many bytes of its CRLF are left.
    End(u8),
    /// After the last chunk: the trailer section so far.
    Trailers(Vec<u8>),
}

/// The guard of one connection.
#[derive(Debug)]
pub struct RequestGuard {
    state: State,
}

impl Default for RequestGuard {
    fn default() -> Self {
        Self {
            state: State::Head(Vec::new()),
        }
    }
}

impl RequestGuard {
    /// Takes the next bytes the client sent and appends to `pass` those actix may have now.
    /// A refusal ends the connection: nothing after it may be passed on.
    pub fn feed(&mut self, input: &[u8], pass: &mut Vec<u8>) -> Result<(), Refusal> {
        let mut owned: Vec<u8>;
        let mut rest = input;
        while !rest.is_empty() {
            let used = match &mut self.state {
                State::Through => rest.len(),
                State::Head(head) => {
                    let new_line = rest.contains(&b'\n');
                    head.extend_from_slice(rest);
                    // Empty lines before a request line are allowed (RFC 9112 §2.2): they pass on
                    // at once instead of being parsed again with every byte that follows.
                    let blank = head
                        .iter()
                        .take_while(|b| matches!(b, b'\r' | b'\n'))
                        .count();
                    pass.extend(head.drain(..blank));
                    // A head can only be complete at a line's end: parse only when one arrived,
                    // so a head trickling in byte by byte is not parsed again for every byte.
                    if !new_line && head.len() < MAX_HEAD_BYTES {
                        return Ok(());
                    }
                    let head = std::mem::take(head);
                    match inspect_head(&head)? {
                        None => {
                            self.state = State::Head(head);
                            return Ok(());
                        }
                        Some((length, next)) => {
                            pass.extend_from_slice(&head[..length]);
                            self.state = next;
                            // What was buffered past the head belongs to the body or the next.
                            owned = head;
                            rest = &owned[length..];
                            continue;
                        }
                    }
                }
                State::Body(left) => {
                    let take = usize::try_from(*left).map_or(rest.len(), |l| l.min(rest.len()));
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = State::Head(Vec::new());
                    }
                    take
                }
                State::Chunked(chunk) => {
                    let (used, next) = follow_chunk(chunk, rest);
                    if let Some(next) = next {
                        self.state = next;
                    }
                    used
                }
            };
            pass.extend_from_slice(&rest[..used]);
            rest = &rest[used..];
        }
        Ok(())
    }
}

/// Checks a head collected so far: `None` while it is incomplete, else its length and what
/// follows it.
fn inspect_head(head: &[u8]) -> Result<Option<(usize, State)>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let length = match request.parse(head) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if head.len() >= MAX_HEAD_BYTES => {
            return Err(Refusal::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::HeadTooLarge),
        Err(_) => {
            return Err(Refusal::Malformed(
                "the request line or a header is malformed",
            ));
        }
    };
    let method = request.method.unwrap_or_default();
    Method::from_bytes(method.as_bytes())
        .map_err(|_| Refusal::Malformed("the request method is malformed"))?;
    Uri::try_from(request.path.unwrap_or_default())
        .map_err(|_| Refusal::Malformed("the request target is not a valid URI"))?;
    let http11 = request.version == Some(1);
    Ok(Some((length, framing(request.headers, http11)?)))
}

/// What follows a valid head, under the rules actix applies to its headers.
fn framing(headers: &[httparse::Header<'_>], http11: bool) -> Result<State, Refusal> {
    let mut content_length = None;
    let (mut transfer_encoding, mut chunked, mut host, mut websocket) =
        (false, false, false, false);
    for h in headers {
        let name = h.name;
        let value = std::str::from_utf8(h.value).map(str::trim);
        if name.eq_ignore_ascii_case(header::CONTENT_LENGTH.as_str()) {
            if content_length.is_some() {
                return Err(Refusal::Malformed(
                    "the request has more than one Content-Length",
                ));
            }
            content_length = Some(
                value
                    .ok()
                    .filter(|v| !v.starts_with('+'))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or(Refusal::Malformed(
                        "the Content-Length is not a number of bytes",
                    ))?,
            );
        } else if name.eq_ignore_ascii_case(header::TRANSFER_ENCODING.as_str()) {
            if transfer_encoding {
                return Err(Refusal::Malformed(
                    "the request has more than one Transfer-Encoding",
                ));
            }
            transfer_encoding = true;
            match value {
                Ok(v) if v.eq_ignore_ascii_case("chunked") => chunked = true,
                Ok(v) if v.eq_ignore_ascii_case("identity") => {}
                _ => return Err(Refusal::Malformed("the Transfer-Encoding is not supported")),
            }
        } else if name.eq_ignore_ascii_case(header::HOST.as_str()) {
            if host {
                return Err(Refusal::Malformed("the request has more than one Host"));
            }
            host = true;
        } else if name.eq_ignore_ascii_case(header::UPGRADE.as_str()) {
            websocket |= value.is_ok_and(|v| v.eq_ignore_ascii_case("websocket"));
        }
    }
    if http11 && !host {
        return Err(Refusal::Malformed("an HTTP/1.1 request must name its Host"));
    }
    if transfer_encoding {
        if !http11 {
            return Err(Refusal::Malformed(
                "HTTP/1.0 requests cannot use Transfer-Encoding",
            ));
        }
        if !chunked {
            return Err(Refusal::Malformed(
                "a request's Transfer-Encoding must be chunked",
            ));
        }
        if content_length.is_some() {
            return Err(Refusal::Malformed(
                "a request cannot have both Content-Length and Transfer-Encoding",
            ));
        }
    }
    Ok(if chunked {
        State::Chunked(Chunk::Size(Vec::new()))
    } else if websocket {
        // Another protocol follows; not ours to read.
        State::Through
    } else {
        match content_length {
            Some(0) | None => State::Head(Vec::new()),
            Some(length) => State::Body(length),
        }
    })
}

/// Follows a chunked body over `input`: how many of its bytes belong to the body, and the state
/// to move to when it changes. Anything unexpected stops the inspection (actix will judge it).
fn follow_chunk(chunk: &mut Chunk, input: &[u8]) -> (usize, Option<State>) {
    match chunk {
        Chunk::Size(line) => match input.iter().position(|&b| b == b'\n') {
            None if line.len() + input.len() > MAX_CHUNK_LINE => {
                (input.len(), Some(State::Through))
            }
            None => {
                line.extend_from_slice(input);
                (input.len(), None)
            }
            Some(end) => {
                line.extend_from_slice(&input[..=end]);
                let next = match chunk_size(line) {
                    Some(0) => State::Chunked(Chunk::Trailers(Vec::new())),
                    Some(size) => State::Chunked(Chunk::Data(size)),
                    None => State::Through,
                };
                (end + 1, Some(next))
            }
        },
        Chunk::Data(left) => {
            let take = usize::try_from(*left).map_or(input.len(), |l| l.min(input.len()));
            *left -= take as u64;
            let next = (*left == 0).then_some(State::Chunked(Chunk::End(2)));
            (take, next)
        }
        Chunk::End(left) => {
            let expected: &[u8] = if *left == 2 { b"\r\n" } else { b"\n" };
            let take = usize::from(*left).min(input.len());
            if input[..take] != expected[..take] {
                return (0, Some(State::Through));
            }
            *left -= take as u8;
            let next = (*left == 0).then_some(State::Chunked(Chunk::Size(Vec::new())));
            (take, next)
        }
        Chunk::Trailers(section) => {
            // The section ends at an empty line: at once when there are no trailers, else after
            // the last one's CRLF.
            for (i, &byte) in input.iter().enumerate() {
                section.push(byte);
                if section == b"\r\n" || section.ends_with(b"\r\n\r\n") {
                    return (i + 1, Some(State::Head(Vec::new())));
                }
                if section.len() > MAX_TRAILERS {
                    return (i + 1, Some(State::Through));
                }
            }
            (input.len(), None)
        }
    }
}

/// The size in a chunk-size line (`1a;ext=x\r\n`), when it is one.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\n")?.strip_suffix(b"\r")?;
    let digits = line.split(|&b| b == b';').next()?;
    let digits = std::str::from_utf8(digits).ok()?.trim_matches([' ', '\t']);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; what passed, and the refusal if any.
    fn run(input: &[u8], step: usize) -> (Vec<u8>, Option<Refusal>) {
        let mut guard = RequestGuard::default();
        let mut pass = Vec::new();
        for piece in input.chunks(step) {
            if let Err(refusal) = guard.feed(piece, &mut pass) {
                return (pass, Some(refusal));
            }
        }
        (pass, None)
    }

    const GET: &[u8] = b"GET /v1/teams HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn valid_requests_pass_whole_however_they_are_cut() {
        let mut pipeline = Vec::new();
        pipeline.extend_from_slice(GET);
        pipeline.extend_from_slice(
            b"POST /v1/teams HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{\"name\":\"Bo\"}",
        );
        pipeline.extend_from_slice(
            b"POST /v1/teams HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\n{\"nam\r\n8;x=y\r\ne\":\"Bo\"}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        );
        pipeline.extend_from_slice(b"\r\nGET / HTTP/1.0\r\n\r\n");
        pipeline.extend_from_slice(GET);
        for step in [1, 2, 3, 7, 64, pipeline.len()] {
            assert_eq!(
                run(&pipeline, step),
                (pipeline.clone(), None),
                "step {step}"
            );
        }
    }

    #[test]
    fn a_body_that_looks_like_garbage_is_not_judged_as_a_head() {
        let request =
            b"POST /v1/teams HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n\x00\x01GARB\r\n";
        assert_eq!(run(request, 5), (request.to_vec(), None));
    }

    #[test]
    fn a_garbled_request_line_is_refused_after_the_valid_requests_before_it() {
        let mut input = GET.to_vec();
        input.extend_from_slice(b"GARBAGE\r\n\r\n");
        let (passed, refusal) = run(&input, 4);
        assert_eq!(passed, GET);
        assert!(
            matches!(refusal, Some(Refusal::Malformed(_))),
            "{refusal:?}"
        );
        for bad in [
            &b"G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            let (_, refusal) = run(bad, 3);
            assert!(
                matches!(refusal, Some(Refusal::Malformed(_))),
                "{:?}: {refusal:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn too_many_or_too_large_headers_are_431() {
        let mut many = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..100 {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(run(&many, 50).1, Some(Refusal::HeadTooLarge));
        let mut huge = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
        huge.extend(std::iter::repeat_n(b'y', MAX_HEAD_BYTES));
        assert_eq!(run(&huge, 4096).1, Some(Refusal::HeadTooLarge));
    }

    #[test]
    fn an_unfollowable_chunked_body_is_left_to_actix() {
        let input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGARBAGE\r\n\r\n";
        assert_eq!(run(input, 3), (input.to_vec(), None));
    }
}
