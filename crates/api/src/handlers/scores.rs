//! Satisfaction scores from CRM and POS systems (clients) and pulse surveys (employees), one at a
//! time or in batches of up to 1,000. `(source, external_id)` is a natural idempotency key. An
//! employee score is written through an untraced change and keeps no respondent; it is read only
//! in aggregate (the reports), never one by one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::feedback::Touchpoint;
use circulo_domain::principal::{Permission, Role};
use circulo_domain::score::{
    self, Audience, IcareScores, Instrument, RawIcare, RawScore, Score, ScoreFields,
};
use circulo_domain::timestamp::rfc3339;
use circulo_domain::{DecisionId, DomainError, MemberId, ScoreId, TeamId};
use circulo_persistence::{Recorded, ScoreFilter, ScoreRecorder, now};

use super::reach::Acting;
use super::window::Window;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::{Json, parse_value};
use crate::http::pagination::{list_view, page_request};
use crate::http::problem::{FieldProblem, Problem};
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{CreateProblems, ListProblems, ReadProblems};
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(record_score)
        .service(record_batch)
        .service(list_scores)
        .service(get_score);
}

/// I-CARE sub-scores, each from 1 to 5.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IcareBody {
    /// The ideal the business stands for.
    pub ideal: Option<i64>,
    /// How people work together.
    pub culture: Option<i64>,
    /// Attention to the client.
    pub attention: Option<i64>,
    /// Immediate response.
    pub response: Option<i64>,
    /// Empathy.
    pub empathy: Option<i64>,
}

/// A satisfaction score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "audience": "client",
    "instrument": "csat",
    "score": 5,
    "member_id": "0193a0b4-7c2e-7000-8000-00000000a001",
    "touchpoint": "pos",
    "occurred_at": "2026-11-30T15:42:00Z",
    "source": "pos-shop-1",
    "external_id": "receipt-88412"
})))]
pub struct RecordScore {
    /// `client` (about the service a client got) or `employee` (about the workplace; keeps no
    /// trace of who answered, and is read only in aggregate).
    pub audience: Audience,
    /// `csat` (1–5), `nps` (0–10) or `ces` (1–7).
    pub instrument: Instrument,
    /// The score, within the instrument's range.
    pub score: i64,
    /// The member who served the client (client scores only).
    pub member_id: Option<Uuid>,
    /// The team it is about; defaults to the member's team at the time it is recorded.
    /// Required for employee scores (members: their own team).
    pub team_id: Option<Uuid>,
    /// The client's reference in the CRM (client scores only).
    pub client_ref: Option<String>,
    /// Where the contact happened.
    pub touchpoint: Touchpoint,
    /// When the contact happened (an employee score keeps only its day). Not in the future.
    pub occurred_at: DateTime<Utc>,
    /// The system that sends it.
    pub source: String,
    /// The sending system's id for it: a repeat of `(source, external_id)` returns the first
    /// record with 200.
    pub external_id: Option<String>,
    /// What the client or employee said; may span lines.
    pub comment: Option<String>,
    /// I-CARE sub-scores.
    pub icare: Option<IcareBody>,
    /// The decision made in that contact (client scores only): a decision of the organization.
    pub decision_id: Option<Uuid>,
}

/// Up to 1,000 scores, each recorded on its own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"items": [
    {"audience": "client", "instrument": "nps", "score": 9, "touchpoint": "web",
     "occurred_at": "2026-11-30T10:00:00Z", "source": "crm", "external_id": "survey-1"},
    {"audience": "client", "instrument": "csat", "score": 2, "touchpoint": "phone",
     "occurred_at": "2026-11-30T11:30:00Z", "source": "crm", "external_id": "survey-2",
     "comment": "Waited twenty minutes"}
]})))]
pub struct RecordBatch {
    /// The scores. An item that is not a valid score is reported `invalid` and sinks nothing.
    #[schema(value_type = Vec<RecordScore>, max_items = 1000)]
    pub items: Vec<serde_json::Value>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        RecordScore {
            client_ref: Limit::Chars(score::MAX_REF_CHARS),
            source: Limit::Chars(score::MAX_REF_CHARS),
            external_id: Limit::Chars(score::MAX_REF_CHARS),
            comment: Limit::Chars(score::MAX_COMMENT_CHARS),
        },
        IcareBody {
            ideal: Limit::Integer(score::ICARE_SCORE),
            culture: Limit::Integer(score::ICARE_SCORE),
            attention: Limit::Integer(score::ICARE_SCORE),
            response: Limit::Integer(score::ICARE_SCORE),
            empathy: Limit::Integer(score::ICARE_SCORE),
        },
    }
}

/// A recorded score. An employee score shows no member, client, external id or decision, and
/// only the day of its times.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreView {
    /// Its id (for an employee score, one that carries only the date).
    pub id: Uuid,
    /// Who gave it.
    pub audience: Audience,
    /// What it measures.
    pub instrument: Instrument,
    /// The score.
    pub score: i32,
    /// The member who served the client.
    pub member_id: Option<Uuid>,
    /// The team, as it stood when the score was recorded.
    pub team_id: Option<Uuid>,
    /// The client's reference.
    pub client_ref: Option<String>,
    /// Where the contact happened.
    pub touchpoint: Touchpoint,
    /// When the contact happened.
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The sending system.
    pub source: String,
    /// The sending system's id for it; `null` for employee scores.
    pub external_id: Option<String>,
    /// What was said.
    pub comment: Option<String>,
    /// I-CARE sub-scores given.
    pub icare: Option<IcareView>,
    /// The decision made in that contact.
    pub decision_id: Option<Uuid>,
    /// When it was recorded.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// I-CARE sub-scores of a recorded score.
#[derive(Debug, Serialize, ToSchema)]
pub struct IcareView {
    /// Ideal.
    pub ideal: Option<i32>,
    /// Culture.
    pub culture: Option<i32>,
    /// Attention.
    pub attention: Option<i32>,
    /// Response.
    pub response: Option<i32>,
    /// Empathy.
    pub empathy: Option<i32>,
}

impl From<Score> for ScoreView {
    fn from(score: Score) -> Self {
        let f = score.fields;
        let client = f.audience == Audience::Client;
        Self {
            id: score.id.as_uuid(),
            audience: f.audience,
            instrument: f.instrument,
            score: f.score,
            member_id: f.member_id.map(|id| id.as_uuid()),
            team_id: f.team_id.map(|id| id.as_uuid()),
            client_ref: f.client_ref,
            touchpoint: f.touchpoint,
            occurred_at: f.occurred_at,
            source: f.source,
            external_id: f.external_id.filter(|_| client),
            comment: f.comment,
            icare: icare_view(f.icare),
            decision_id: f.decision_id.map(|id| id.as_uuid()),
            created_at: score.created_at,
        }
    }
}

fn icare_view(icare: IcareScores) -> Option<IcareView> {
    (!icare.is_empty()).then_some(IcareView {
        ideal: icare.ideal,
        culture: icare.culture,
        attention: icare.attention,
        response: icare.response,
        empathy: icare.empathy,
    })
}

list_view!(
    /// A page of client scores.
    ScoreList of ScoreView
);

/// What became of one item of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's position in the request, from 0.
    pub index: usize,
    /// `created`, `duplicate` (of an earlier record or item with its `(source, external_id)`)
    /// or `invalid` (see `problem`).
    pub status: BatchItemStatus,
    /// The score's id, created or first.
    pub id: Option<Uuid>,
    /// Why the item was refused.
    pub problem: Option<Problem>,
}

/// The outcome of one batch item.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchItemStatus {
    /// Recorded now.
    Created,
    /// Recorded before.
    Duplicate,
    /// Refused.
    Invalid,
}

/// The outcome of each item, in input order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// One result per item.
    pub items: Vec<BatchItemResult>,
}

/// Filtering and paging through client scores.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListScores {
    /// Only `client` (the default; employee scores are read only in aggregate, in the reports).
    pub audience: Option<Audience>,
    /// Only of this instrument.
    pub instrument: Option<Instrument>,
    /// Only about this member.
    pub member_id: Option<Uuid>,
    /// Only about this team.
    pub team_id: Option<Uuid>,
    /// Only at this touchpoint.
    pub touchpoint: Option<Touchpoint>,
    /// Contacts at or after this instant or date (a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Contacts before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
    /// How many items to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Validates a score as sent. An employee score's external id is kept only as a keyed hash of
/// it and its sender (the sender may build it from who answered): only the same sender's
/// repeat finds the first answer, so no one else can learn from a 200 who answered, or what.
fn fields_of(
    body: &RecordScore,
    state: &AppState,
    sender: &str,
) -> Result<ScoreFields, DomainError> {
    let icare = body.icare.unwrap_or_default();
    let mut fields = ScoreFields::parse(RawScore {
        audience: body.audience,
        instrument: body.instrument,
        score: body.score,
        member_id: body.member_id.map(MemberId::from_uuid),
        team_id: body.team_id.map(TeamId::from_uuid),
        client_ref: body.client_ref.as_deref(),
        touchpoint: body.touchpoint,
        occurred_at: body.occurred_at,
        source: &body.source,
        external_id: body.external_id.as_deref(),
        comment: body.comment.as_deref(),
        icare: body.icare.map(|_| RawIcare {
            ideal: icare.ideal,
            culture: icare.culture,
            attention: icare.attention,
            response: icare.response,
            empathy: icare.empathy,
        }),
        decision_id: body.decision_id.map(DecisionId::from_uuid),
        received_at: now(),
    })?;
    if fields.audience == Audience::Employee {
        fields.external_id = fields.external_id.map(|id| {
            crate::secret::keyed_hash(
                &state.untraced_key,
                "circulo employee score external id",
                &[sender, &fields.source, &id],
            )
        });
    }
    Ok(fields)
}

/// Whom the caller may record scores about, loaded inside the write.
fn recorder_of(caller: &Caller) -> (Option<Acting>, bool, score::Recorder) {
    let recorder = score::Recorder {
        role: caller.principal.role().as_str().to_owned(),
        subject: caller.principal.subject().to_owned(),
    };
    let records_clients = caller.principal.role() == Role::Manager;
    (Acting::of(caller), records_clients, recorder)
}

fn load_recorder(
    tx: &mut circulo_persistence::WriteTx<'_>,
    org: circulo_domain::OrgId,
    (acting, records_clients, recorder): (Option<Acting>, bool, score::Recorder),
) -> circulo_persistence::StoreResult<ScoreRecorder> {
    Ok(match acting {
        None => ScoreRecorder::Anyone(recorder),
        Some(acting) => ScoreRecorder::Member {
            recorder,
            reach: acting.load(tx, org)?,
            records_clients,
        },
    })
}

/// Record a satisfaction score.
///
/// A repeat of `(source, external_id)` returns the first record with 200. Announces
/// `score.recorded`, and `score.detractor` for a low score (by the organization's
/// `low_score_thresholds`). An employee score is written with no trace of who answered (its id
/// and times carry only the date, its audit entry names the actor `anonymous`, the request is
/// not logged) and is read back only in aggregate.
#[utoipa::path(
    tag = "satisfaction-scores",
    params(IdempotencyKey),
    request_body = RecordScore,
    responses(
        CreateProblems,
        (status = 201, description = "The score as recorded", body = ScoreView,
            headers(("Location" = String, description = "The score's URL"))),
        (status = 200, description = "A repeat of `(source, external_id)`: the first record", body = ScoreView),
    ),
)]
#[post("/satisfaction-scores")]
pub async fn record_score(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<RecordScore>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::RecordScores)?;
    let fields = fields_of(&body, &state, &caller.sender())?;
    let caller = if fields.audience == Audience::Employee {
        caller.without_trace(&req)
    } else {
        caller
    };
    let who = recorder_of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let by = load_recorder(tx, org, who)?;
            tx.scores().record(org, fields, &by)
        },
        |recorded| {
            let (status, score) = match recorded {
                Recorded::Created(score) => (StatusCode::CREATED, score),
                Recorded::Duplicate(score) => (StatusCode::OK, score),
            };
            let location = format!("/v1/satisfaction-scores/{}", score.id);
            let view = ScoreView::from(score);
            if status == StatusCode::CREATED && view.audience == Audience::Client {
                Answer::recorded(location, &view)
            } else {
                Answer::with_status(status, &view)
            }
        },
    )
    .await
}

/// Record up to 1,000 scores in one transaction.
///
/// Each item is recorded on its own and answered in input order: `created`, `duplicate` (of an
/// earlier record, or of an earlier item in the batch, with the same `(source, external_id)`),
/// or `invalid` with its problem; a bad item never sinks the others. A batch holding any
/// employee score is written with no trace of who sent it, as a single employee score is.
#[utoipa::path(
    tag = "satisfaction-scores",
    params(IdempotencyKey),
    request_body = RecordBatch,
    responses(
        CreateProblems,
        (status = 200, description = "What became of each item", body = BatchResult),
    ),
)]
#[post("/satisfaction-scores/batch")]
pub async fn record_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<RecordBatch>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::RecordScores)?;
    let items = body.into_inner().items;
    if items.len() > score::MAX_BATCH_ITEMS {
        return Err(DomainError::invalid(
            "items",
            format!("a batch takes at most {} items", score::MAX_BATCH_ITEMS),
        )
        .into());
    }
    if items.is_empty() {
        return Err(DomainError::invalid("items", "a batch takes at least one item").into());
    }
    let sender = caller.sender();
    let fields: Vec<Result<ScoreFields, DomainError>> = items
        .into_iter()
        .map(|item| {
            parse_value::<RecordScore>(item).and_then(|body| fields_of(&body, &state, &sender))
        })
        .collect();
    let untraced = fields
        .iter()
        .any(|f| matches!(f, Ok(f) if f.audience == Audience::Employee));
    let caller = if untraced {
        caller.without_trace(&req)
    } else {
        caller
    };
    let who = recorder_of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let by = load_recorder(tx, org, who)?;
            tx.scores().record_batch(org, fields, &by)
        },
        |outcomes| {
            let items = outcomes
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| match outcome {
                    Ok(Recorded::Created(score)) => BatchItemResult {
                        index,
                        status: BatchItemStatus::Created,
                        id: Some(score.id.as_uuid()),
                        problem: None,
                    },
                    Ok(Recorded::Duplicate(score)) => BatchItemResult {
                        index,
                        status: BatchItemStatus::Duplicate,
                        id: Some(score.id.as_uuid()),
                        problem: None,
                    },
                    Err(refused) => BatchItemResult {
                        index,
                        status: BatchItemStatus::Invalid,
                        id: None,
                        problem: Some(item_problem(&refused)),
                    },
                })
                .collect();
            Answer::with_status(StatusCode::OK, &BatchResult { items })
        },
    )
    .await
}

/// The problem a refused item would have had as a request of its own.
fn item_problem(refused: &DomainError) -> Problem {
    let status = match refused {
        DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Problem::new(status, refused.to_string()).with_errors(
        refused
            .field_errors()
            .iter()
            .map(|e| FieldProblem {
                field: e.field.clone(),
                message: e.message.clone(),
            })
            .collect(),
    )
}

/// List client scores, oldest recorded first.
///
/// Managers see the scores about themselves, the people under them and those people's teams.
/// Employee scores are read only in aggregate (`GET /v1/reports/satisfaction?audience=employee`,
/// `GET /v1/reports/mirror`): asking for them here is refused.
#[utoipa::path(
    tag = "satisfaction-scores",
    params(ListScores),
    responses(ListProblems, (status = 200, description = "A page of client scores", body = ScoreList)),
)]
#[get("/satisfaction-scores")]
pub async fn list_scores(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListScores>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadScores)?;
    let query = query.into_inner();
    if query.audience == Some(Audience::Employee) {
        return Err(DomainError::invalid(
            "audience",
            "employee scores are read only in aggregate, in the reports",
        )
        .into());
    }
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let mut filter = ScoreFilter {
        instrument: query.instrument,
        member_id: query.member_id.map(MemberId::from_uuid),
        team_id: query.team_id.map(TeamId::from_uuid),
        touchpoint: query.touchpoint,
        from: None,
        to: None,
    };
    let acting = Acting::of(&caller);
    let page = read(&state, &caller, move |db| {
        (filter.from, filter.to) = window.resolve(db, org)?;
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.scores().list(org, filter, reach.as_ref(), page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ScoreList::from_page(page)))
}

/// Get a client score.
#[utoipa::path(
    tag = "satisfaction-scores",
    params(("id" = Uuid, Path, description = "The score's id")),
    responses(ReadProblems, (status = 200, description = "The score", body = ScoreView)),
)]
#[get("/satisfaction-scores/{id}")]
pub async fn get_score(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // `/satisfaction-scores/batch` takes POST only; its path would otherwise read as an id here.
    if id.as_str() == "batch" {
        return Err(ApiError::MethodNotAllowed {
            method: actix_web::http::Method::GET,
            allowed: vec![actix_web::http::Method::POST],
        });
    }
    let org = caller.principal.authorize(Permission::ReadScores)?;
    let id = id
        .parse::<Uuid>()
        .map(ScoreId::from_uuid)
        .map_err(|_| ApiError::not_found("no such resource: the id is not a UUID"))?;
    let acting = Acting::of(&caller);
    let score = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.scores().get(org, id, reach.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(ScoreView::from(score)))
}
