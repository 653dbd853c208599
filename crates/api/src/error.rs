//! The API's error type and its mapping to status codes and problem+json bodies. Handlers return
//! `ApiError`; nothing else picks an error status.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use circulo_domain::DomainError;
use circulo_persistence::StoreError;

use crate::http::problem::{FieldProblem, PROBLEM_JSON, Problem};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The domain refused the input or the caller lacks a right.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The route exists but not for this method.
    #[error("this resource does not support {method}")]
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// The methods the resource supports.
        allowed: Vec<Method>,
    },
    /// Part of the request does not parse (a query parameter's value, an unknown parameter):
    /// 400, naming each part at fault.
    #[error("the request could not be read: {0}")]
    Unreadable(DomainError),
    /// Any other client or server error that needs no special header.
    #[error("{1}")]
    Status(StatusCode, String),
    /// The blocking pool failed (a panic in a store call).
    #[error("worker pool failure")]
    Blocking(#[from] actix_web::error::BlockingError),
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::Status(StatusCode::BAD_REQUEST, detail.into())
    }

    /// A 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::Status(StatusCode::NOT_FOUND, detail.into())
    }

    fn field_problems(&self) -> Vec<FieldProblem> {
        let errors = match self {
            Self::Domain(e) | Self::Store(StoreError::Rule(e)) | Self::Unreadable(e) => {
                e.field_errors()
            }
            _ => &[],
        };
        errors
            .iter()
            .map(|e| FieldProblem {
                field: e.field.clone(),
                message: e.message.clone(),
            })
            .collect()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        use {DomainError as D, StoreError as S};
        match self {
            Self::Domain(D::Invalid(_)) | Self::Store(S::Rule(D::Invalid(_))) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Domain(D::Forbidden(_)) | Self::Store(S::Rule(D::Forbidden(_))) => {
                StatusCode::FORBIDDEN
            }
            Self::Store(S::NotFound) => StatusCode::NOT_FOUND,
            Self::Store(S::Conflict(_) | S::KeyInFlight) => StatusCode::CONFLICT,
            Self::Store(S::KeyMismatch) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(S::PreconditionFailed(_)) => StatusCode::PRECONDITION_FAILED,
            Self::Store(S::Busy(_) | S::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(S::Corrupt(_) | S::Query(_)) | Self::Blocking(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Unreadable(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Status(status, _) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = if status.is_server_error() {
            // The cause goes to the log (middleware::problems, with the request id), never to the
            // client: it may name tables, queries or hosts.
            match self {
                Self::Store(StoreError::Busy(_)) => {
                    "the database is busy; retry shortly".to_owned()
                }
                Self::Store(StoreError::Unavailable(_)) => {
                    "the database is unavailable; retry shortly".to_owned()
                }
                Self::Status(StatusCode::SERVICE_UNAVAILABLE, detail) => detail.clone(),
                _ => {
                    "an internal error occurred; quote the request id when reporting it".to_owned()
                }
            }
        } else {
            match self {
                Self::Store(StoreError::NotFound) => {
                    "no such resource in this organization".to_owned()
                }
                other => other.to_string(),
            }
        };
        let mut response = HttpResponse::build(status);
        response.content_type(PROBLEM_JSON);
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::MethodNotAllowed { allowed, .. } => {
                let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Every 503 here is a wait that ran out; a short pause usually clears it.
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        response.json(Problem::new(status, detail).with_errors(self.field_problems()))
    }
}
