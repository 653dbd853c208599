//! The one way a handler makes a change: [`write`] runs the store calls in one transaction on the
//! blocking pool and renders the answer inside it, so that with an `Idempotency-Key` the answer is
//! kept in the same transaction as the change. A change that committed is then always answered
//! again, even when the process died before the first answer left it; one that did not commit
//! leaves no key behind.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use serde::Serialize;

use circulo_persistence::{StoreError, StoreResult, StoredResponse, WriteTx, Written};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::etag::etag;
use crate::http::idempotency::IdempotencyKey;
use crate::middleware::idempotency::IDEMPOTENT_REPLAYED;
use crate::state::{AppState, blocking};

/// A change's answer, rendered inside its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: Option<String>,
}

impl Answer {
    /// `status` with `body` as JSON and the resource's ETag.
    pub fn with_etag(status: StatusCode, version: i64, body: &impl Serialize) -> StoreResult<Self> {
        Ok(Self {
            status,
            headers: vec![(header::ETAG, etag(version))],
            body: Some(json(body)?),
        })
    }

    /// 201 with the new resource's location and ETag.
    pub fn created(location: String, version: i64, body: &impl Serialize) -> StoreResult<Self> {
        let mut answer = Self::with_etag(StatusCode::CREATED, version, body)?;
        answer.headers.push((header::LOCATION, location));
        Ok(answer)
    }

    /// `status` with `body` as JSON, for a resource that carries no version.
    pub fn with_status(status: StatusCode, body: &impl Serialize) -> StoreResult<Self> {
        Ok(Self {
            status,
            headers: Vec::new(),
            body: Some(json(body)?),
        })
    }

    /// 201 with a record that never changes (so has no version) and where it can be read.
    pub fn recorded(location: String, body: &impl Serialize) -> StoreResult<Self> {
        Ok(Self {
            status: StatusCode::CREATED,
            headers: vec![(header::LOCATION, location)],
            body: Some(json(body)?),
        })
    }

    /// 204 without a body.
    pub fn no_content() -> StoreResult<Self> {
        Ok(Self {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        })
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            response.insert_header((name, value));
        }
        if replayed {
            response.insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")));
        }
        match self.body {
            Some(body) => response.content_type("application/json").body(body),
            None => response.finish(),
        }
    }

    fn into_stored(self) -> StoredResponse {
        StoredResponse {
            status: self.status.as_u16(),
            headers: self
                .headers
                .into_iter()
                .map(|(name, value)| (name.as_str().to_owned(), value))
                .collect(),
            body: self.body.unwrap_or_default(),
        }
    }

    fn from_stored(stored: StoredResponse) -> Result<Self, ApiError> {
        let corrupt = |what: &str| ApiError::Store(StoreError::Corrupt(what.to_owned()));
        let status =
            StatusCode::from_u16(stored.status).map_err(|_| corrupt("a kept response status"))?;
        let headers = stored
            .headers
            .into_iter()
            .map(|(name, value)| {
                HeaderName::try_from(name)
                    .map(|name| (name, value))
                    .map_err(|_| corrupt("a kept response header"))
            })
            .collect::<Result<_, _>>()?;
        let body = (status != StatusCode::NO_CONTENT).then_some(stored.body);
        Ok(Self {
            status,
            headers,
            body,
        })
    }
}

fn json(body: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(body).map_err(|e| StoreError::Corrupt(format!("response body: {e}")))
}

/// Runs `change` as `caller` in one write transaction and answers with `answer` of its result.
/// With a key, a retry of a change that committed gets the same answer (`Idempotent-Replayed`).
pub async fn write<T, C, A>(
    state: &AppState,
    caller: &Caller,
    key: IdempotencyKey,
    change: C,
    answer: A,
) -> Result<HttpResponse, ApiError>
where
    T: 'static,
    C: FnOnce(&mut WriteTx<'_>) -> StoreResult<T> + Send + 'static,
    A: FnOnce(T) -> StoreResult<Answer> + Send + 'static,
{
    let ctx = caller.change_context();
    let standing = caller.standing.clone();
    match key.0.map(|key| caller.key_claim(&key, &state.untraced_key)) {
        None => {
            let answer = blocking(state, move |db| {
                standing.check(db)?;
                db.write(&ctx, |tx| answer(change(tx)?))
                    .map_err(ApiError::from)
            })
            .await?;
            Ok(answer.into_response(false))
        }
        Some(claim) => {
            let written = blocking(state, move |db| {
                standing.check(db)?;
                db.write_once(&ctx, &claim, |tx| Ok(answer(change(tx)?)?.into_stored()))
                    .map_err(ApiError::from)
            })
            .await?;
            Ok(match written {
                Written::Fresh(stored) => {
                    crate::faults::after_commit();
                    Answer::from_stored(stored)?.into_response(false)
                }
                Written::Replayed(stored) => Answer::from_stored(stored)?.into_response(true),
            })
        }
    }
}
