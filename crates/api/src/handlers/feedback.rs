//! Feedback in every direction, and anonymity that holds: an anonymous item is written through
//! an untraced change (`Caller::without_trace`), and read only once its subject has at least
//! the organization's `anonymity_threshold` of them in the window asked for.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::feedback::{
    self, Author, Feedback, FeedbackFields, FeedbackKind, Icare, RawFeedback, Sentiment, Touchpoint,
};
use circulo_domain::principal::{Permission, Role};
use circulo_domain::timestamp::rfc3339_opt;
use circulo_domain::{FeedbackId, MemberId, OrgId};
use circulo_persistence::{
    Db, FeedbackFilter, FeedbackReader, FeedbackSummaryRow, Giver, StoreResult,
};

use super::reach::Acting;
use super::window::Window;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::pagination::{list_view, page_request};
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{CreateProblems, ListProblems, ListUnderProblems, ReadProblems};
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(give_feedback)
        .service(list_feedback)
        .service(feedback_summary)
        .service(get_feedback);
}

/// Feedback about a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "kind": "manager",
    "subject_member_id": "0193a0b4-7c2e-7000-8000-00000000a001",
    "rating": 5,
    "icare": ["attention", "empathy"],
    "sentiment": "praise",
    "body": "Stayed calm with a difficult client and found a fix on the spot."
})))]
pub struct GiveFeedback {
    /// `client` (a client about the member who served them: from owners, integrations and the
    /// member's managers), `manager` (from someone the member reports to), `upward` (from a
    /// member about someone they report to or their team's lead), `peer` (about a colleague).
    pub kind: FeedbackKind,
    /// The member the feedback is about: an active member of the organization.
    pub subject_member_id: Uuid,
    /// A rating from 1 to 5.
    pub rating: Option<i64>,
    /// The I-CARE dimensions it speaks to, each at most once.
    #[serde(default)]
    pub icare: Vec<Icare>,
    /// Whether it praises or raises a concern.
    pub sentiment: Option<Sentiment>,
    /// What was said; may span lines.
    pub body: String,
    /// The client's reference in the CRM; `client` feedback only.
    pub client_ref: Option<String>,
    /// Where the contact happened.
    pub touchpoint: Option<Touchpoint>,
    /// `upward` and `peer` feedback only: keep no trace of the author anywhere (not in the
    /// record, the audit log, the events or the logs; id and times carry only the date). It is
    /// shown once its subject has at least the organization's `anonymity_threshold` of it.
    #[serde(default)]
    pub anonymous: bool,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        GiveFeedback {
            rating: Limit::Integer(feedback::RATING),
            body: Limit::Chars(feedback::MAX_BODY_CHARS),
            client_ref: Limit::Chars(feedback::MAX_CLIENT_REF_CHARS),
        },
    }
}

/// Who gave named feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorView {
    /// The member, when the author is one.
    pub member_id: Option<Uuid>,
    /// The role they gave it in.
    pub role: String,
    /// Their token's subject (a member's id, an integration's name).
    pub subject: String,
}

/// A piece of feedback. Of anonymous feedback only the body, rating, tags and date are shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    /// Its id (for anonymous feedback, one that carries only the date).
    pub id: Uuid,
    /// Who gave it to whom.
    pub kind: FeedbackKind,
    /// The member it is about.
    pub subject_member_id: Uuid,
    /// Whether it keeps no trace of its author.
    pub anonymous: bool,
    /// Who gave it; `null` when anonymous.
    pub author: Option<AuthorView>,
    /// From 1 to 5.
    pub rating: Option<i32>,
    /// The I-CARE dimensions it speaks to.
    pub icare: Vec<Icare>,
    /// Praise or concern; `null` when anonymous.
    pub sentiment: Option<Sentiment>,
    /// What was said.
    pub body: String,
    /// The client's reference; `null` when anonymous.
    pub client_ref: Option<String>,
    /// Where the contact happened; `null` when anonymous.
    pub touchpoint: Option<Touchpoint>,
    /// The day it was given (UTC).
    pub created_on: NaiveDate,
    /// When it was given; `null` when anonymous.
    #[serde(serialize_with = "rfc3339_opt")]
    pub created_at: Option<DateTime<Utc>>,
}

impl From<Feedback> for FeedbackView {
    fn from(f: Feedback) -> Self {
        let named = !f.anonymous;
        Self {
            id: f.id.as_uuid(),
            kind: f.kind,
            subject_member_id: f.subject_member_id.as_uuid(),
            anonymous: f.anonymous,
            author: f.author.filter(|_| named).map(|a| AuthorView {
                member_id: a.member_id.map(|id| id.as_uuid()),
                role: a.role,
                subject: a.subject,
            }),
            rating: f.rating,
            icare: f.icare,
            sentiment: f.sentiment.filter(|_| named),
            body: f.body,
            client_ref: f.client_ref.filter(|_| named),
            touchpoint: f.touchpoint.filter(|_| named),
            created_on: f.created_at.date_naive(),
            created_at: named.then_some(f.created_at),
        }
    }
}

list_view!(
    /// A page of feedback.
    FeedbackList of FeedbackView
);

/// One group of a member's feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackGroupView {
    /// The kind of feedback in the group.
    pub kind: FeedbackKind,
    /// Whether the group is the anonymous feedback of that kind.
    pub anonymous: bool,
    /// How many items; `null` when suppressed.
    pub count: Option<i64>,
    /// Their average rating (of those rated); `null` when suppressed or none is rated.
    pub average_rating: Option<f64>,
    /// Whether the figures are withheld: anonymous feedback under the organization's
    /// `anonymity_threshold`.
    pub suppressed: bool,
}

/// A member's feedback, counted and averaged by kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackSummary {
    /// The member.
    pub subject_member_id: Uuid,
    /// One group per kind, named and anonymous feedback apart.
    pub items: Vec<FeedbackGroupView>,
}

impl From<FeedbackSummaryRow> for FeedbackGroupView {
    fn from(row: FeedbackSummaryRow) -> Self {
        Self {
            kind: row.kind,
            anonymous: row.anonymous,
            count: row.count,
            average_rating: row.average_rating,
            suppressed: row.suppressed,
        }
    }
}

/// Filtering and paging through feedback.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFeedback {
    /// Only feedback about the member with this id.
    pub subject_member_id: Option<Uuid>,
    /// Only feedback of this kind.
    pub kind: Option<FeedbackKind>,
    /// Given at or after this instant or date (a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Given before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
    /// How many items to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Which member's feedback to summarise, and over which window.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummariseFeedback {
    /// The member the feedback is about.
    pub subject_member_id: Uuid,
    /// Only feedback of this kind.
    pub kind: Option<FeedbackKind>,
    /// Given at or after this instant or date (a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Given before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
}

/// Give feedback about a member.
///
/// Anonymous (upward and peer only) feedback leaves no trace of its author: its id and times
/// carry only the date, its audit entry names the actor `anonymous`, its `feedback.received`
/// event carries no content and is delivered after its day, and the request is not logged.
#[utoipa::path(
    tag = "feedback",
    params(IdempotencyKey),
    request_body = GiveFeedback,
    responses(
        CreateProblems,
        (status = 201, description = "The feedback as recorded", body = FeedbackView,
            headers(("Location" = String, description = "The feedback's URL"))),
    ),
)]
#[post("/feedback")]
pub async fn give_feedback(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<GiveFeedback>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::GiveFeedback)?;
    let fields = FeedbackFields::parse(RawFeedback {
        kind: body.kind,
        subject_member_id: MemberId::from_uuid(body.subject_member_id),
        rating: body.rating,
        icare: &body.icare,
        sentiment: body.sentiment,
        body: &body.body,
        client_ref: body.client_ref.as_deref(),
        touchpoint: body.touchpoint,
        anonymous: body.anonymous,
    })?;
    let caller = if fields.anonymous() {
        caller.without_trace(&req)
    } else {
        caller
    };
    let giver = Giver {
        role: caller.principal.role(),
        author: Author {
            member_id: caller.member(),
            role: caller.principal.role().as_str().to_owned(),
            subject: caller.principal.subject().to_owned(),
        },
    };
    write(
        &state,
        &caller,
        key,
        move |tx| tx.feedback().give(org, fields, giver),
        |feedback| {
            Answer::recorded(
                format!("/v1/feedback/{}", feedback.id),
                &FeedbackView::from(feedback),
            )
        },
    )
    .await
}

/// The reader a caller is: owners read everything, integrations client feedback, managers and
/// staff feedback about themselves and the people under them.
fn reader(db: &Db, org: OrgId, role: Role, acting: Option<Acting>) -> StoreResult<FeedbackReader> {
    Ok(match (role, acting) {
        (Role::Integration, _) => FeedbackReader::ClientFeedback,
        (_, Some(acting)) => FeedbackReader::Within(acting.read(db, org)?),
        (_, None) => FeedbackReader::Everyone,
    })
}

/// List the feedback the caller may read, oldest first.
///
/// Anonymous feedback about a member appears only when that member has at least the
/// organization's `anonymity_threshold` of it in the window asked for (`from`, `to`).
#[utoipa::path(
    tag = "feedback",
    params(ListFeedback),
    responses(ListProblems, (status = 200, description = "A page of feedback", body = FeedbackList)),
)]
#[get("/feedback")]
pub async fn list_feedback(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListFeedback>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadFeedback)?;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let mut filter = FeedbackFilter {
        subject_member_id: query.subject_member_id.map(MemberId::from_uuid),
        kind: query.kind,
        from: None,
        to: None,
    };
    let (role, acting) = (caller.principal.role(), Acting::of(&caller));
    let items = read(&state, &caller, move |db| {
        (filter.from, filter.to) = window.resolve(db, org)?;
        let reader = reader(db, org, role, acting)?;
        db.feedback().list(org, filter, &reader, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FeedbackList::from_page(items)))
}

/// Count and average a member's feedback by kind, named and anonymous apart.
///
/// Anonymous groups of fewer than the organization's `anonymity_threshold` items are
/// `suppressed`: no count, no average.
#[utoipa::path(
    tag = "feedback",
    params(SummariseFeedback),
    responses(ListUnderProblems, (status = 200, description = "The member's feedback by kind", body = FeedbackSummary)),
)]
#[get("/feedback/summary")]
pub async fn feedback_summary(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<SummariseFeedback>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadFeedback)?;
    let query = query.into_inner();
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let subject = MemberId::from_uuid(query.subject_member_id);
    let mut filter = FeedbackFilter {
        subject_member_id: Some(subject),
        kind: query.kind,
        from: None,
        to: None,
    };
    let (role, acting) = (caller.principal.role(), Acting::of(&caller));
    let rows = read(&state, &caller, move |db| {
        (filter.from, filter.to) = window.resolve(db, org)?;
        let reader = reader(db, org, role, acting)?;
        db.feedback().summary(org, subject, filter, &reader)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FeedbackSummary {
        subject_member_id: subject.as_uuid(),
        items: rows.into_iter().map(FeedbackGroupView::from).collect(),
    }))
}

/// Get a piece of feedback the caller may read.
///
/// Anonymous feedback is not found until its subject has at least the organization's
/// `anonymity_threshold` of it.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path, description = "The feedback's id")),
    responses(ReadProblems, (status = 200, description = "The feedback", body = FeedbackView)),
)]
#[get("/feedback/{id}")]
pub async fn get_feedback(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadFeedback)?;
    let id = FeedbackId::from_uuid(id.into_inner());
    let (role, acting) = (caller.principal.role(), Acting::of(&caller));
    let item = read(&state, &caller, move |db| {
        let reader = reader(db, org, role, acting)?;
        db.feedback().get(org, id, &reader)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FeedbackView::from(item)))
}
