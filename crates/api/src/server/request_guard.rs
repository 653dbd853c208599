//! Reads every request head before actix does, so that a request which breaks HTTP itself (a
//! garbled request line, too many or too large headers, an unusable `Content-Length`) is answered
//! like any other bad request: problem+json with a request id. actix's own HTTP/1 dispatcher
//! answers those with an empty 400 or 431 and offers no hook to change it.
//!
//! The guard applies the same parser (`httparse`) with the same limits and the same header rules
//! as actix, and refuses only what actix would refuse: whatever it lets through, actix handles
//! as before. It follows each request's body (`Content-Length`, or chunked with actix's own
//! chunk grammar) so it knows where the next head begins. A body whose chunks break that grammar
//! is actix's to answer (its payload fails and the handler says so), so the guard lets nothing
//! after it reach actix: the connection ends with that answer.

use actix_web::http::{Method, Uri, header};

/// actix's limits: the most headers a request may have, and the most bytes of an unfinished head
/// it buffers.
const MAX_HEADERS: usize = 96;
const MAX_HEAD_BYTES: usize = 131_072;

/// Why a request is refused before it reaches the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: the request is not well-formed HTTP/1.
    Malformed(&'static str),
    /// 431: the head is larger, or has more headers, than accepted.
    HeadTooLarge,
    /// 408: a request head was begun and not finished in time.
    HeadTooSlow,
}

/// What the guard makes of the bytes it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything so far may reach actix.
    Pass,
    /// A request head is refused: answer it, after actix has answered what came before.
    Refuse(Refusal),
    /// A body broke its framing: actix answers the request it belongs to, and nothing after it
    /// may reach actix.
    Stop,
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
    /// After an upgrade: another protocol follows, which actix reads as one body to the end.
    Through,
    /// After a broken body: nothing more is read.
    Stopped,
}

/// actix's chunked-body grammar (`actix_http::h1::chunked`), one byte at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    SizeFirst,
    SizeRest(u64),
    SizeLws(u64),
    Extension(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    EndCr,
    EndLf,
    Trailer,
    TrailerLf,
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
    /// After a refusal or a stop nothing more may be passed on.
    pub fn feed(&mut self, input: &[u8], pass: &mut Vec<u8>) -> Verdict {
        let mut owned: Vec<u8>;
        let mut rest = input;
        while !rest.is_empty() {
            let used = match &mut self.state {
                State::Stopped => return Verdict::Stop,
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
                        return Verdict::Pass;
                    }
                    let head = std::mem::take(head);
                    match inspect_head(&head) {
                        Err(refusal) => {
                            self.state = State::Stopped;
                            return Verdict::Refuse(refusal);
                        }
                        Ok(None) => {
                            self.state = State::Head(head);
                            return Verdict::Pass;
                        }
                        Ok(Some((length, next))) => {
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
                State::Chunked(chunk) => match follow_chunk(chunk, rest) {
                    Some((used, done)) => {
                        if done {
                            self.state = State::Head(Vec::new());
                        }
                        used
                    }
                    None => {
                        self.state = State::Stopped;
                        return Verdict::Stop;
                    }
                },
            };
            pass.extend_from_slice(&rest[..used]);
            rest = &rest[used..];
        }
        Verdict::Pass
    }

    /// Whether a request head has begun and is not complete yet.
    pub fn awaits_head(&self) -> bool {
        matches!(&self.state, State::Head(head) if !head.is_empty())
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
        State::Chunked(Chunk::SizeFirst)
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

/// Follows a chunked body over `input`: how many of its bytes belong to the body and whether
/// the body ended there, or `None` when the bytes break actix's chunk grammar.
fn follow_chunk(chunk: &mut Chunk, input: &[u8]) -> Option<(usize, bool)> {
    let mut used = 0;
    while used < input.len() {
        if let Chunk::Data(left) = chunk {
            let take =
                usize::try_from(*left).map_or(input.len() - used, |l| l.min(input.len() - used));
            *left -= take as u64;
            used += take;
            if *left == 0 {
                *chunk = Chunk::DataCr;
            }
            continue;
        }
        let byte = input[used];
        used += 1;
        *chunk = match (*chunk, byte) {
            (Chunk::SizeFirst, b) => Chunk::SizeRest(u64::from(hex(b)?)),
            (Chunk::SizeRest(size), b'\t' | b' ') => Chunk::SizeLws(size),
            (Chunk::SizeRest(size), b';') => Chunk::Extension(size),
            (Chunk::SizeRest(size), b'\r') => Chunk::SizeLf(size),
            (Chunk::SizeRest(size), b) => {
                Chunk::SizeRest(size.checked_mul(16)? + u64::from(hex(b)?))
            }
            (Chunk::SizeLws(size), b'\t' | b' ') => Chunk::SizeLws(size),
            (Chunk::SizeLws(size), b';') => Chunk::Extension(size),
            (Chunk::SizeLws(size), b'\r') => Chunk::SizeLf(size),
            (Chunk::Extension(size), b'\r') => Chunk::SizeLf(size),
            (Chunk::Extension(_), 0x00..=0x08 | 0x0a..=0x1f | 0x7f) => return None,
            (Chunk::Extension(size), _) => Chunk::Extension(size),
            (Chunk::SizeLf(0), b'\n') => Chunk::EndCr,
            (Chunk::SizeLf(size), b'\n') => Chunk::Data(size),
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => Chunk::SizeFirst,
            (Chunk::EndCr, b'\r') => Chunk::EndLf,
            (Chunk::EndCr, _) | (Chunk::Trailer, _) if byte != b'\r' => Chunk::Trailer,
            (Chunk::Trailer, _) => Chunk::TrailerLf,
            (Chunk::TrailerLf, b'\n') => Chunk::EndCr,
            (Chunk::EndLf, b'\n') => return Some((used, true)),
            _ => return None,
        };
    }
    Some((used, false))
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; what passed, and the refusal if any.
    fn run(input: &[u8], step: usize) -> (Vec<u8>, Option<Refusal>) {
        let (pass, verdict) = verdict_of(input, step);
        match verdict {
            Verdict::Pass => (pass, None),
            Verdict::Refuse(refusal) => (pass, Some(refusal)),
            Verdict::Stop => panic!("stopped: {}", String::from_utf8_lossy(&pass)),
        }
    }

    fn verdict_of(input: &[u8], step: usize) -> (Vec<u8>, Verdict) {
        let mut guard = RequestGuard::default();
        let mut pass = Vec::new();
        for piece in input.chunks(step) {
            match guard.feed(piece, &mut pass) {
                Verdict::Pass => {}
                other => return (pass, other),
            }
        }
        (pass, Verdict::Pass)
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
    fn chunked_bodies_follow_actix_grammar_however_long_their_sizes_or_trailers() {
        let mut input =
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\na\r\n0\r\n"
                .to_vec();
        for i in 0..2000 {
            input.extend_from_slice(format!("X-Trailer-{i}: value\r\n").as_bytes());
        }
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(GET);
        assert_eq!(run(&input, 7), (input.clone(), None));
        // And what follows them is still judged.
        input.extend_from_slice(b"GARBAGE\r\n\r\n");
        assert!(matches!(run(&input, 7).1, Some(Refusal::Malformed(_))));
    }

    #[test]
    fn a_chunked_body_breaking_the_grammar_stops_the_connection_after_it() {
        for broken in [
            &b"zz\r\nGARBAGE\r\n\r\n"[..],
            b"5\r\nhelloXX",
            b"ffffffffffffffffff\r\n",
            b"1;a\x01b\r\nx\r\n",
        ] {
            let mut input =
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            input.extend_from_slice(broken);
            input.extend_from_slice(b"GET / HTTP/1.1\r\n\x01\r\n\r\n");
            let (passed, verdict) = verdict_of(&input, 3);
            assert_eq!(
                verdict,
                Verdict::Stop,
                "{:?}",
                String::from_utf8_lossy(broken)
            );
            assert!(
                !passed.windows(5).any(|w| w == b"GET /"),
                "nothing after it passed"
            );
        }
    }

    #[test]
    fn an_upgrade_hands_the_rest_of_the_connection_to_actix() {
        let mut input =
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
                .to_vec();
        input.extend_from_slice(b"\x01\x02 frames, not HTTP");
        assert_eq!(run(&input, 5), (input.clone(), None));
    }
}
