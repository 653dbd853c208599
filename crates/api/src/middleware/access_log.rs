//! The access log: one line per request, naming the server's request id (the one in the audit
//! log) and the client's. A request marked as leaving no trace writes no line; should one be
//! rendered anyway, it holds nothing that could identify its caller.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, Version, header};
use actix_web::middleware::Next;

use crate::http::request_id::{RequestId, request_id_of};
use crate::http::trace::leaves_no_trace;

/// What one line says.
#[derive(Debug)]
pub struct AccessLine<'a> {
    /// The peer's address.
    pub peer: Option<SocketAddr>,
    /// The request method.
    pub method: &'a Method,
    /// The path and query.
    pub target: &'a str,
    /// The path alone, for requests that leave no trace.
    pub path: &'a str,
    /// The HTTP version.
    pub version: Version,
    /// The response status.
    pub status: StatusCode,
    /// The response body's size, when known.
    pub bytes: Option<u64>,
    /// How long the answer took.
    pub elapsed: Duration,
    /// The request's ids.
    pub ids: Option<&'a RequestId>,
    /// The client's `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// Whether the request leaves no trace of its caller.
    pub untraced: bool,
}

impl AccessLine<'_> {
    /// The line as logged.
    pub fn render(&self) -> String {
        let (peer, target, client_id, agent) = if self.untraced {
            ("-".to_owned(), self.path, "-", "-")
        } else {
            (
                self.peer
                    .map_or_else(|| "-".to_owned(), |p| p.ip().to_string()),
                self.target,
                self.ids.and_then(|i| i.client.as_deref()).unwrap_or("-"),
                self.user_agent.unwrap_or("-"),
            )
        };
        format!(
            "{peer} \"{} {target} {:?}\" {} {} {:.1}ms request_id={} client_request_id={client_id} \"{}\"",
            self.method,
            self.version,
            self.status.as_u16(),
            self.bytes.map_or_else(|| "-".to_owned(), |b| b.to_string()),
            self.elapsed.as_secs_f64() * 1000.0,
            self.ids.map_or("-", |i| i.server.as_str()),
            agent.escape_debug(),
        )
    }
}

/// The middleware function (`middleware::from_fn(access_log)`).
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let response = next.call(req).await?;
    // A request that leaves no trace is not logged at all: even a line without address, agent
    // or ids would tell, by its time and its place among the others, when its author acted.
    if leaves_no_trace(response.request()) {
        return Ok(response);
    }
    if log::log_enabled!(target: "circulo::access", log::Level::Info) {
        let request = response.request();
        let ids = request_id_of(request);
        let target = request.uri().path_and_query().map_or("", |p| p.as_str());
        let user_agent = request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        let line = AccessLine {
            peer: request.peer_addr(),
            method: request.method(),
            target,
            path: request.path(),
            version: request.version(),
            status: response.status(),
            bytes: match response.response().body().size() {
                BodySize::Sized(n) => Some(n),
                BodySize::None => Some(0),
                BodySize::Stream => None,
            },
            elapsed: started.elapsed(),
            ids: ids.as_ref(),
            user_agent,
            untraced: leaves_no_trace(request),
        };
        log::info!(target: "circulo::access", "{}", line.render());
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(untraced: bool, ids: &RequestId) -> String {
        AccessLine {
            peer: Some("203.0.113.7:52100".parse().unwrap()),
            method: &Method::POST,
            target: "/v1/feedback?from=phone",
            path: "/v1/feedback",
            version: Version::HTTP_11,
            status: StatusCode::CREATED,
            bytes: Some(321),
            elapsed: Duration::from_millis(3),
            ids: Some(ids),
            user_agent: Some("Circulo-POS/2.1 (till 4)"),
            untraced,
        }
        .render()
    }

    fn ids() -> RequestId {
        RequestId {
            server: "0193a0b4-0000-7000-8000-000000000001".to_owned(),
            client: Some("ana-phone-42".to_owned()),
        }
    }

    #[test]
    fn a_line_names_the_peer_both_request_ids_and_the_agent() {
        let line = line(false, &ids());
        assert!(line.starts_with("203.0.113.7 \"POST /v1/feedback?from=phone HTTP/1.1\" 201 321"));
        assert!(line.contains("request_id=0193a0b4-0000-7000-8000-000000000001"));
        assert!(line.contains("client_request_id=ana-phone-42"));
        assert!(line.ends_with("\"Circulo-POS/2.1 (till 4)\""), "{line}");
    }

    #[test]
    fn an_untraced_line_keeps_nothing_that_identifies_the_caller() {
        let line = line(true, &ids());
        for identifying in ["203.0.113.7", "ana-phone-42", "Circulo-POS", "from=phone"] {
            assert!(!line.contains(identifying), "{identifying} in {line}");
        }
        assert!(
            line.starts_with("- \"POST /v1/feedback HTTP/1.1\" 201"),
            "{line}"
        );
    }

    #[test]
    fn a_user_agent_cannot_forge_a_line() {
        let mut ids = ids();
        ids.client = None;
        let forged = AccessLine {
            user_agent: Some("x\"\n127.0.0.1 \"GET /admin"),
            ..AccessLine {
                peer: None,
                method: &Method::GET,
                target: "/",
                path: "/",
                version: Version::HTTP_11,
                status: StatusCode::OK,
                bytes: None,
                elapsed: Duration::ZERO,
                ids: Some(&ids),
                user_agent: None,
                untraced: false,
            }
        }
        .render();
        assert!(!forged.contains('\n'), "{forged}");
    }
}
