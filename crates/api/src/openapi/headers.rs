//! The request headers the conventions define, documented by the extractors that read them: a
//! route that takes `IfMatch` or `IdempotencyKey` names the same type in `params(...)`.

use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Required};

use crate::http::etag::{IF_MATCH_PATTERN, IfMatch};
use crate::http::idempotency::{IdempotencyKey, MAX_KEY_CHARS};

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header(
            "Idempotency-Key",
            "Makes a retry safe. The same key with the same request within 24 hours replays the \
             first response (with `Idempotent-Replayed: true`); with another request it is a \
             422; while the first is still running, a 409. Keys belong to the caller: another \
             token subject's keys never replay, block or mismatch yours.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_CHARS))
                .pattern(Some("^[ -~]+$")),
        )]
    }
}

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header(
            "If-Match",
            "The `ETag` of the version this change is based on, a list of them, or `*` for any \
             version of an existing resource. A change based on a version that is no longer \
             current is refused with 412; weak tags never match. Without it, the change applies \
             to whatever version is current.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(IF_MATCH_PATTERN)),
        )]
    }
}

fn header(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(RefOr::T(schema.build().into())))
        .build()
}
