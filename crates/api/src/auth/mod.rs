//! Authentication: bearer tokens verified into a [`Principal`], offered to handlers as the
//! [`Caller`] extractor. A token is only a claim: the organization it names must exist, and a
//! token that stands for a member (every manager and staff token, and an owner token whose `sub`
//! is a member's id) is honoured only while that member is active, checked on every request so
//! a deactivation takes effect at once ([`Standing`], checked with the request's store call).
//! Authorization rules live in the domain (`Principal::authorize`).

mod jwks;
mod mint;
mod standing;
mod verified;
mod verifier;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use circulo_domain::MemberId;
use circulo_domain::audit::Actor;
use circulo_domain::principal::Principal;
use circulo_persistence::{ChangeContext, KeyClaim};

use crate::error::ApiError;
use crate::http::idempotency::IdempotencyRequest;
use crate::http::request_id::{RequestId, request_id_of};
use crate::http::trace::leave_no_trace;
use crate::state::AppState;

pub use jwks::{JwksClient, JwksTiming};
pub use mint::{MintRequest, mint_hs256};
pub use standing::Standing;
pub use verifier::{AuthConfig, TokenVerifier};

/// The authenticated caller of this request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who they are and what they may do.
    pub principal: Principal,
    /// What is still to be checked in the database before the request touches data.
    pub standing: Standing,
    request_id: Option<RequestId>,
    traced: bool,
}

impl Caller {
    /// The member a manager or staff caller is (active, once the standing is checked).
    pub fn member(&self) -> Option<MemberId> {
        self.standing.member()
    }

    /// The context a change made by this caller is recorded with.
    pub fn change_context(&self) -> ChangeContext {
        if self.traced {
            ChangeContext::new(
                Actor::of(&self.principal),
                self.request_id.as_ref().map(|id| id.server.clone()),
            )
        } else {
            ChangeContext::untraced()
        }
    }

    /// This caller, for a request that must leave no trace of them: the request is marked (the
    /// access log drops what identifies them) and their changes and idempotency keys are
    /// recorded without them.
    pub fn without_trace(mut self, req: &HttpRequest) -> Self {
        leave_no_trace(req);
        self.traced = false;
        self
    }

    /// Who this caller is to their organization: their role and token subject.
    pub fn sender(&self) -> String {
        format!(
            "{}:{}",
            self.principal.role().as_str(),
            self.principal.subject()
        )
    }

    /// This caller's claim on an idempotency key: their own keys only, in their organization.
    /// An untraced claim names neither caller nor key: it holds their HMAC under `secret`, so
    /// the same caller's retry finds its answer, and no one reading the database can tell, even
    /// knowing the key a client used, whose it was.
    pub fn key_claim(&self, key: &IdempotencyRequest, secret: &[u8]) -> KeyClaim {
        let org = self.principal.org().map(|org| org.to_string());
        let caller = self.sender();
        if self.traced {
            KeyClaim::new(org, caller, key.key.clone(), key.fingerprint.clone())
        } else {
            let derived = crate::secret::keyed_hash(
                secret,
                "circulo untraced idempotency key",
                &[&caller, &key.key],
            );
            KeyClaim::untraced(org, derived, key.fingerprint.clone())
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(caller) = req.extensions().get::<Caller>().cloned() {
            return Box::pin(async move { Ok(caller) });
        }
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = request_id_of(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Unauthorized("authentication is not configured".into()))?;
            let principal = state.verifier.verify(&token?).await?;
            let standing = Standing::of(&principal, state.known_orgs.clone())?;
            let caller = Self {
                principal,
                standing,
                request_id,
                traced: true,
            };
            // Handlers that take the caller twice (directly and through a helper) check once.
            req.extensions_mut().insert(caller.clone());
            Ok(caller)
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
