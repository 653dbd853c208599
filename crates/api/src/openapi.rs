//! The OpenAPI 3.1 document, built from the same route table the server serves, plus the
//! conventions every operation shares (bearer security, problem responses, `Idempotency-Key`,
//! `If-Match`) added in one pass so no handler can forget them.

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa_actix_web::AppExt;

use crate::handlers::routes;
use crate::http::etag::IF_MATCH_PATTERN;
use crate::http::problem::{FieldProblem, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Circulo API",
        description = "Goals, delegated authority, decisions, escalations, feedback and satisfaction \
            for businesses whose staff serve clients well without the owner in every conversation.\n\n\
            Conventions: JSON in and out; errors are RFC 9457 problem+json; lists page with \
            `limit` and `cursor`; creating POSTs accept `Idempotency-Key`; mutable resources \
            carry `version`, sent as `ETag` and checked through `If-Match`; every response \
            carries `X-Request-Id`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "organizations", description = "Tenants and their settings"),
        (name = "teams", description = "Groups of members"),
        (name = "members", description = "The people who serve clients"),
        (name = "audit", description = "Who changed what, and when"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
)]
struct ApiDoc;

/// The complete document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    add_conventions(&mut api);
    api
}

fn add_conventions(api: &mut utoipa::openapi::OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        )),
    );
    for (path, item) in api.paths.paths.iter_mut() {
        let authenticated = path.starts_with("/v1/");
        for (method, op) in [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ] {
            if let Some(op) = op.as_mut() {
                document_operation(op, &method, path, authenticated);
            }
        }
    }
}

fn document_operation(op: &mut Operation, method: &HttpMethod, path: &str, authenticated: bool) {
    if !authenticated {
        return;
    }
    op.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    let mut problems = vec![
        ("400", "Malformed request (bad JSON, query or header)"),
        ("401", "Missing, expired or invalid bearer token"),
        ("403", "The token lacks the role or scope this needs"),
        ("500", "Internal error; quote the request id"),
        ("503", "The database is unavailable"),
    ];
    if path.contains('{') || path == "/v1/organization" {
        problems.push(("404", "No such resource in the caller's organization"));
    }
    let has_body = op.request_body.is_some();
    if has_body {
        problems.extend([
            ("413", "The body is larger than 1 MiB"),
            ("415", "The body is not application/json"),
            ("422", "Invalid fields; `errors` lists each"),
        ]);
    }
    if op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query))
    {
        problems.push((
            "422",
            "Invalid filter or paging values; `errors` lists each",
        ));
    }
    match method {
        HttpMethod::Post => {
            problems.extend([
                (
                    "409",
                    "Conflict, or a request with this Idempotency-Key is still running",
                ),
                (
                    "422",
                    "Invalid fields, or an Idempotency-Key reused with another body",
                ),
            ]);
            add_header(
                op,
                "Idempotency-Key",
                "Makes a retry safe: the same key and body within 24 h replay the first response (`Idempotent-Replayed: true`).",
                "^[ -~]{1,255}$",
            );
        }
        HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete => {
            problems.extend([
                ("409", "Conflicting change"),
                ("412", "If-Match names a version that is no longer current"),
            ]);
            add_header(
                op,
                "If-Match",
                "The ETag of the version this change is based on (or a list of them, or `*` for any version of an existing resource). A tag that is not the current version's is refused with 412; weak tags never match.",
                IF_MATCH_PATTERN,
            );
        }
        _ => {}
    }
    for (status, description) in problems {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/problem+json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}

fn add_header(op: &mut Operation, name: &str, description: &str, pattern: &str) {
    let parameter = ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        ))
        .build();
    op.parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(parameter));
}
