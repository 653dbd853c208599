//! The document's `webhooks` section (OpenAPI 3.1): one entry per event Circulo delivers, with
//! the Standard Webhooks headers and the body `{type, timestamp, data}`, `data` being the
//! resource as the API shows it (and, for what must stay untraced, the notice that replaces it).

use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{
    Content, HttpMethod, PathItem, PathsBuilder, Ref, RefOr, Required, Response,
};
use utoipa::{PartialSchema, ToSchema};

use circulo_domain::webhook::EventType;

/// An employee score as its events tell it: no member, no source, no time finer than the day.
#[derive(ToSchema)]
#[allow(dead_code, reason = "describes an event body for the document only")]
pub struct EmployeeScoreNotice {
    /// The score's id.
    pub id: uuid::Uuid,
    /// Always `employee`.
    pub audience: String,
    /// `csat`, `nps` or `ces`.
    pub instrument: String,
    /// The score.
    pub score: i32,
    /// The team it was given about.
    pub team_id: Option<uuid::Uuid>,
    /// The touchpoint.
    pub touchpoint: String,
    /// The day of the answer.
    #[schema(format = Date)]
    pub occurred_on: String,
}

/// Anonymous feedback as its event tells it: no author, no content, only the date. The event is
/// held back until the day is over.
#[derive(ToSchema)]
#[allow(dead_code, reason = "describes an event body for the document only")]
pub struct AnonymousFeedbackNotice {
    /// The feedback's id.
    pub id: uuid::Uuid,
    /// `upward` or `peer`.
    pub kind: String,
    /// Whom it is about.
    pub subject_member_id: uuid::Uuid,
    /// Always `true`.
    pub anonymous: bool,
    /// The day it was given.
    #[schema(format = Date)]
    pub created_on: String,
}

/// The schemas the section names, for the document's components.
pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
    vec![
        (
            EmployeeScoreNotice::name().into_owned(),
            EmployeeScoreNotice::schema(),
        ),
        (
            AnonymousFeedbackNotice::name().into_owned(),
            AnonymousFeedbackNotice::schema(),
        ),
    ]
}

/// What the receiver finds in `data` for `event`, and what the event means.
fn described(event: EventType) -> (RefOr<Schema>, &'static str) {
    let view = |name: &str| RefOr::Ref(Ref::from_schema_name(name));
    let either = |a: &str, b: &str| {
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new().item(view(a)).item(view(b)).build(),
        ))
    };
    let pair = |first: (&str, &str), second: (&str, &str)| {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .property(first.0, view(first.1))
                .required(first.0)
                .property(second.0, view(second.1))
                .required(second.0)
                .build(),
        ))
    };
    match event {
        EventType::ScoreRecorded => (
            either("ScoreView", "EmployeeScoreNotice"),
            "A satisfaction score was recorded. An employee score's event carries only its \
             notice, and its id and time say no more than its day.",
        ),
        EventType::ScoreDetractor => (
            either("ScoreView", "EmployeeScoreNotice"),
            "A score at or below the organization's low-score threshold for its instrument: \
             someone should call the client back. Sent beside `score.recorded`.",
        ),
        EventType::DecisionEscalated => (
            pair(
                ("decision", "DecisionView"),
                ("escalation", "EscalationView"),
            ),
            "A decision beyond the member's authority was escalated and waits for someone \
             who may make it.",
        ),
        EventType::EscalationResolved => (
            pair(
                ("escalation", "EscalationView"),
                ("decision", "DecisionView"),
            ),
            "An escalation was approved or declined; the decision carries the outcome.",
        ),
        EventType::GoalAchieved => (view("GoalView"), "A goal reached its target."),
        EventType::DelegationRevoked => (
            view("DelegationView"),
            "A grant of authority was revoked before it ended.",
        ),
        EventType::FeedbackReceived => (
            either("FeedbackView", "AnonymousFeedbackNotice"),
            "Feedback was given. Anonymous feedback's event names no author, carries no \
             content and is delivered after its day is over.",
        ),
    }
}

/// The `webhooks` section.
pub fn section() -> utoipa::openapi::Paths {
    let mut paths = PathsBuilder::new();
    for event in EventType::ALL {
        let (data, meaning) = described(event);
        let body = ObjectBuilder::new()
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([event.as_str()])),
            )
            .required("type")
            .property(
                "timestamp",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    .description(Some(
                        "When the change happened (an untraced one's: its day)",
                    )),
            )
            .required("timestamp")
            .property("data", data)
            .required("data")
            .build();
        let header = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(String::schema()))
                .build()
        };
        let operation = OperationBuilder::new()
            .summary(Some(event.as_str()))
            .description(Some(format!(
                "{meaning}\n\nPOSTed to each enabled subscription to `{}` and signed per Standard \
                 Webhooks. Any 2xx delivers; anything else, a redirect or no answer within 5 s \
                 is retried with the same `webhook-id` and body, with growing waits, for 24 \
                 hours.",
                event.as_str()
            )))
            .operation_id(Some(format!(
                "webhook_{}",
                event.as_str().replace('.', "_")
            )))
            .tag("webhooks")
            .parameter(header(
                "webhook-id",
                "The event's id: the same on every retry, for the receiver to drop repeats",
            ))
            .parameter(header(
                "webhook-timestamp",
                "Unix seconds when this attempt was signed",
            ))
            .parameter(header(
                "webhook-signature",
                "`v1,<base64 HMAC-SHA256 of \"<webhook-id>.<webhook-timestamp>.<body>\">` with the \
                 subscription's secret; during a rotation, one per secret, separated by spaces",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("application/json", Content::new(Some(body)))
                    .build(),
            ))
            .response("2XX", Response::new("Delivered"))
            .response(
                "default",
                Response::new(
                    "Not delivered: retried, and the endpoint disabled after 24 hours of failures",
                ),
            );
        paths = paths.path(event.as_str(), PathItem::new(HttpMethod::Post, operation));
    }
    paths.build()
}
