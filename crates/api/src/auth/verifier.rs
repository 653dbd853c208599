//! Token verification: HS256 with the configured secret, RS256/ES256 with keys from the JWKS URL.
//! The algorithm decides the key source and the key must be of that algorithm's family, so a
//! public key can never be used as an HMAC secret (algorithm confusion), and `alg: none` is not a
//! value this verifier knows. A token naming critical header extensions (`crit`) is refused: this
//! verifier understands none (RFC 7515 §4.1.11). Claims are refused when they hold control
//! characters: they reach SQL, the audit log and log lines.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, errors::ErrorKind};
use serde::Deserialize;

use circulo_domain::OrgId;
use circulo_domain::principal::{Principal, Role, parse_scopes};

use std::sync::Arc;

use super::jwks::JwksClient;
use super::verified::VerifiedTokens;
use crate::error::ApiError;

/// How tokens are checked.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// The HS256 secret, when HS256 tokens are accepted.
    pub hs256_secret: Option<Vec<u8>>,
    /// Where RS256/ES256 keys come from, when such tokens are accepted.
    pub jwks: Option<JwksClient>,
    /// The required `iss`, when configured.
    pub issuer: Option<String>,
    /// The required `aud`, when configured.
    pub audience: Option<String>,
}

/// Checks bearer tokens.
#[derive(Clone)]
pub struct TokenVerifier {
    config: AuthConfig,
    hs256: Option<DecodingKey>,
    validations: Arc<Validations>,
    verified: Arc<VerifiedTokens>,
}

/// The checks of each accepted algorithm, built once.
struct Validations {
    hs256: Validation,
    rs256: Validation,
    es256: Validation,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    org: Option<String>,
    role: String,
    #[serde(default)]
    scope: Option<String>,
    exp: u64,
}

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

impl TokenVerifier {
    /// A verifier for `config`.
    pub fn new(config: AuthConfig) -> Self {
        let hs256 = config.hs256_secret.as_deref().map(DecodingKey::from_secret);
        let validations = Validations {
            hs256: validation(&config, Algorithm::HS256),
            rs256: validation(&config, Algorithm::RS256),
            es256: validation(&config, Algorithm::ES256),
        };
        Self {
            config,
            hs256,
            validations: Arc::new(validations),
            verified: Arc::default(),
        }
    }

    /// Verifies `token` and reads its claims into a principal.
    pub async fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let generation = self.config.jwks.as_ref().map_or(0, JwksClient::generation);
        if let Some(principal) = self.verified.get(token, generation) {
            return Ok(principal);
        }
        let header = decode_header(token)
            .map_err(|_| unauthorized("the token is malformed or uses an unsupported algorithm"))?;
        if header.crit.is_some() {
            return Err(unauthorized(
                "the token names critical header extensions, which are not supported",
            ));
        }
        let key = match header.alg {
            Algorithm::HS256 => self
                .hs256
                .clone()
                .ok_or_else(|| unauthorized("HS256 tokens are not accepted here"))?,
            Algorithm::RS256 | Algorithm::ES256 => {
                let jwks =
                    self.config.jwks.as_ref().ok_or_else(|| {
                        unauthorized("RS256 and ES256 tokens are not accepted here")
                    })?;
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| unauthorized("the token names no key (`kid`)"))?;
                jwks.key(kid, header.alg).await?
            }
            other => {
                return Err(unauthorized(&format!(
                    "tokens signed with {other:?} are not accepted"
                )));
            }
        };
        let validation = match header.alg {
            Algorithm::RS256 => &self.validations.rs256,
            Algorithm::ES256 => &self.validations.es256,
            _ => &self.validations.hs256,
        };
        let claims = decode::<Claims>(token, &key, validation)
            .map_err(|e| unauthorized(describe(e.kind())))?
            .claims;
        let exp = claims.exp;
        let principal = principal_from(claims)?;
        let trust_for = match (header.alg, &self.config.jwks) {
            (Algorithm::RS256 | Algorithm::ES256, Some(jwks)) => jwks.trust_for(),
            _ => super::verified::MAX_AGE,
        };
        self.verified
            .insert(token, &principal, exp, generation, trust_for);
        Ok(principal)
    }
}

/// The checks a token signed with `alg` must pass.
fn validation(config: &AuthConfig, alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.algorithms = vec![alg];
    v.leeway = LEEWAY_SECONDS;
    v.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    match &config.issuer {
        Some(issuer) => {
            v.set_issuer(&[issuer]);
            required.push("iss");
        }
        None => v.iss = None,
    }
    match &config.audience {
        Some(audience) => {
            v.set_audience(&[audience]);
            required.push("aud");
        }
        // Without a configured audience any `aud` is acceptable.
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&required);
    v
}

fn principal_from(claims: Claims) -> Result<Principal, ApiError> {
    let texts = [
        Some(&claims.sub),
        claims.org.as_ref(),
        Some(&claims.role),
        claims.scope.as_ref(),
    ];
    if texts
        .into_iter()
        .flatten()
        .any(|text| text.chars().any(char::is_control))
    {
        return Err(unauthorized("the token's claims hold control characters"));
    }
    let role: Role = claims
        .role
        .parse()
        .map_err(|_| unauthorized("the token's role is not one Circulo knows"))?;
    let org = claims
        .org
        .as_deref()
        .map(str::parse::<OrgId>)
        .transpose()
        .map_err(|_| unauthorized("the token's org is not an organization id"))?;
    let scopes = parse_scopes(claims.scope.as_deref().unwrap_or_default());
    Principal::new(org, role, claims.sub, scopes).map_err(|_| {
        unauthorized(
            "the token lacks an org (required for every role but platform_admin), or its sub is \
             empty or longer than 255 characters",
        )
    })
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidSignature => "the token's signature is invalid",
        ErrorKind::InvalidIssuer => "the token was issued by someone else",
        ErrorKind::InvalidAudience => "the token is meant for another audience",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key",
        _ => "the token is invalid",
    }
}

pub(super) fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized(detail.to_owned())
}
