//! Authentication: bearer tokens verified into a [`Principal`], offered to handlers as the
//! [`Caller`] extractor. Authorization rules live in the domain (`Principal::authorize`).

mod jwks;
mod mint;
mod verifier;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use circulo_domain::audit::Actor;
use circulo_domain::principal::Principal;
use circulo_persistence::ChangeContext;

use crate::error::ApiError;
use crate::http::request_id::request_id_of;
use crate::state::AppState;

pub use jwks::JwksClient;
pub use mint::{MintRequest, mint_hs256};
pub use verifier::{AuthConfig, TokenVerifier};

/// The authenticated caller of this request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who they are and what they may do.
    pub principal: Principal,
    /// The request's id, for the audit log.
    pub request_id: Option<String>,
}

impl Caller {
    /// The context a change made by this caller is recorded with.
    pub fn change_context(&self) -> ChangeContext {
        ChangeContext {
            actor: Actor::of(&self.principal),
            request_id: self.request_id.clone(),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The idempotency middleware may have verified this request's token already.
        if let Some(caller) = req.extensions().get::<Caller>().cloned() {
            return Box::pin(async move { Ok(caller) });
        }
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = request_id_of(req);
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Unauthorized("authentication is not configured".into()))?;
            let principal = state.verifier.verify(&token?).await?;
            if let Some(org) = principal.org
                && !state.known_orgs.exists(&state, org).await?
            {
                // A validly signed token for a tenant that does not exist: nothing to act on.
                return Err(ApiError::not_found(
                    "the token's organization does not exist",
                ));
            }
            Ok(Self {
                principal,
                request_id,
            })
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("send a bearer token in the Authorization header".into())
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not valid text".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".into(),
        )),
    }
}
