//! The problem responses each kind of operation can answer, declared by name in every route's
//! `#[utoipa::path(responses(...))]`: `ReadProblems` on a read by id, `CreateProblems` on a
//! creating POST, and so on. A route lists its own success responses (and any problem whose
//! meaning is its own, such as the 409 of deleting a team that still has members) after the
//! group, and those replace the group's generic wording for the same status.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use crate::http::json::MAX_BODY_BYTES;

/// One problem status an operation can answer, and what it means there.
#[derive(Clone, Copy)]
struct Status(&'static str, &'static str);

const MALFORMED: Status = Status(
    "400",
    "The request could not be read: malformed JSON or a body that is not a JSON object, a query \
     or header value that does not parse (a control character, a malformed `If-Match` or \
     `Idempotency-Key`), a query parameter the operation does not take or whose value is not of \
     its type (`errors` names the parameter).",
);
const UNAUTHENTICATED: Status = Status(
    "401",
    "No bearer token, or one that is expired, not yet valid, wrongly signed, for another \
     audience or missing a required claim; `WWW-Authenticate: Bearer` says so.",
);
const FORBIDDEN: Status = Status(
    "403",
    "The token's role or scopes do not allow this, or the member it stands for is unknown or \
     deactivated.",
);
const NO_ORGANIZATION: Status = Status("404", "The token's organization does not exist.");
const NOT_FOUND: Status = Status(
    "404",
    "Nothing with this id in the caller's organization (another organization's resources are \
     not found, never forbidden), or the token's organization does not exist.",
);
const CREATE_CONFLICT: Status = Status(
    "409",
    "A unique field is taken (`detail` says which), or a request with the same \
     `Idempotency-Key` is still running: retry it once that one has answered.",
);
const CHANGE_CONFLICT: Status = Status(
    "409",
    "A unique field is taken or the resource's state forbids the change (`detail` says which), \
     or another change landed while this one, sent without `If-Match`, applied: read the \
     resource again and retry.",
);
const ACTION_CONFLICT: Status = Status(
    "409",
    "The resource's state forbids this (`detail` says why: a cancelled goal, say), or a request \
     with the same `Idempotency-Key` is still running: retry it once that one has answered.",
);
const STALE: Status = Status(
    "412",
    "`If-Match` names no current version of the resource: read it again, then decide whether \
     the change still applies.",
);
const UNSUPPORTED_BODY: Status = Status("415", "The body is not `application/json`.");
const INVALID_CREATE: Status = Status(
    "422",
    "A field is missing, unknown or out of range (`errors` names each), or the \
     `Idempotency-Key` was first used with another request.",
);
const INVALID_FIELDS: Status = Status(
    "422",
    "A field is missing, unknown or out of range; `errors` names each.",
);
const INVALID_QUERY: Status = Status(
    "422",
    "A filter, `limit` or `cursor` is invalid; `errors` names each.",
);
const INTERNAL: Status = Status(
    "500",
    "The server failed. Nothing was changed unless a later read shows it was; the problem's \
     `request_id` finds the failure in the server's logs.",
);
const UNAVAILABLE: Status = Status(
    "503",
    "The database is unreachable, or too busy to answer in time. Nothing was changed; retry \
     after `Retry-After` seconds.",
);

/// What every operation with a bearer token can answer besides its own outcomes.
const EVERY_AUTHENTICATED: [Status; 6] = [
    MALFORMED,
    UNAUTHENTICATED,
    FORBIDDEN,
    NO_ORGANIZATION,
    INTERNAL,
    UNAVAILABLE,
];

/// A read by id (or of the caller's organization).
pub struct ReadProblems;

/// A list with filters and paging.
pub struct ListProblems;

/// A creating POST, which takes a JSON body and an `Idempotency-Key`.
pub struct CreateProblems;

/// A change by id (PATCH, PUT) with a JSON body and an optional `If-Match`.
pub struct ChangeProblems;

/// A POST that creates something under a resource by id (a goal's check-ins), with a JSON body
/// and an `Idempotency-Key`.
pub struct CreateUnderProblems;

/// A POST that acts on a resource by id (cancel, revoke, void), with a JSON body, an
/// `Idempotency-Key` and an optional `If-Match`.
pub struct ActionProblems;

/// A list or summary of what belongs to one resource by id, with filters.
pub struct ListUnderProblems;

/// A POST that asks a question with a JSON body and changes nothing (`/v1/authority/check`).
pub struct AskProblems;

/// A PUT that creates or replaces by a natural key, with a JSON body and an optional `If-Match`.
pub struct UpsertProblems;

/// A DELETE by id with an optional `If-Match`.
pub struct DeleteProblems;

impl IntoResponses for ReadProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[NOT_FOUND], false)
    }
}

impl IntoResponses for ListProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[INVALID_QUERY], false)
    }
}

impl IntoResponses for CreateProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[CREATE_CONFLICT, UNSUPPORTED_BODY, INVALID_CREATE], true)
    }
}

impl IntoResponses for ChangeProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(
            &[
                NOT_FOUND,
                CHANGE_CONFLICT,
                STALE,
                UNSUPPORTED_BODY,
                INVALID_FIELDS,
            ],
            true,
        )
    }
}

impl IntoResponses for CreateUnderProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(
            &[NOT_FOUND, ACTION_CONFLICT, UNSUPPORTED_BODY, INVALID_CREATE],
            true,
        )
    }
}

impl IntoResponses for ActionProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(
            &[
                NOT_FOUND,
                ACTION_CONFLICT,
                STALE,
                UNSUPPORTED_BODY,
                INVALID_CREATE,
            ],
            true,
        )
    }
}

impl IntoResponses for ListUnderProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[NOT_FOUND, INVALID_QUERY], false)
    }
}

impl IntoResponses for AskProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[NOT_FOUND, UNSUPPORTED_BODY, INVALID_FIELDS], true)
    }
}

impl IntoResponses for UpsertProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(
            &[CHANGE_CONFLICT, STALE, UNSUPPORTED_BODY, INVALID_FIELDS],
            true,
        )
    }
}

impl IntoResponses for DeleteProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[NOT_FOUND, CHANGE_CONFLICT, STALE], false)
    }
}

/// Every authenticated operation's problems, then `own` (replacing any with the same status),
/// then the 413 of an operation that reads a body.
fn problems(own: &[Status], takes_body: bool) -> BTreeMap<String, RefOr<Response>> {
    let too_large = format!("The body is larger than {MAX_BODY_BYTES} bytes.");
    let mut responses: BTreeMap<String, RefOr<Response>> = EVERY_AUTHENTICATED
        .iter()
        .chain(own)
        .map(|&Status(code, description)| (code.to_owned(), problem(code, description)))
        .collect();
    if takes_body {
        responses.insert("413".to_owned(), problem("413", &too_large));
    }
    responses
}

/// A problem+json response; a 503 also names its `Retry-After`.
fn problem(code: &str, description: &str) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if code == UNAVAILABLE.0 {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                ))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    RefOr::T(response.build())
}
