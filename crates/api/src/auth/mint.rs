//! Minting HS256 tokens with the configured secret (`circulo token`).

use jsonwebtoken::{EncodingKey, Header, encode};
use serde::Serialize;

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// The organization, absent for a platform admin.
    pub org: Option<String>,
    /// The role.
    pub role: String,
    /// The subject: a member id or an integration's name.
    pub sub: String,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Lifetime in seconds.
    pub ttl_seconds: u64,
    /// The `iss` to put in, when one is configured.
    pub issuer: Option<String>,
    /// The `aud` to put in, when one is configured.
    pub audience: Option<String>,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<&'a str>,
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// Signs a token for `request` with `secret`.
pub fn mint_hs256(
    secret: &[u8],
    request: &MintRequest,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: &request.sub,
        org: request.org.as_deref(),
        role: &request.role,
        scope: request.scope.as_deref(),
        iat: now,
        exp: now + request.ttl_seconds,
        iss: request.issuer.as_deref(),
        aud: request.audience.as_deref(),
    };
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}
