//! Hand-made tokens for the authentication tests: claims to change one at a time, signing with any
//! algorithm and key, and the 401 every refused token must get.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::{Value, json};

use super::app::Response;

/// The audience of hand-made tokens: servers that trust a JWKS must require one.
pub const AUDIENCE: &str = "circulo";

/// Valid claims for `role` in `org`, expiring in ten minutes.
pub fn claims(org: Option<&str>, role: &str) -> Value {
    let mut claims = json!({
        "sub": "someone",
        "role": role,
        "aud": AUDIENCE,
        "exp": get_current_timestamp() + 600,
    });
    if let Some(org) = org {
        claims["org"] = json!(org);
    }
    claims
}

/// Sets `name` to `value` in `claims`.
pub fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// Removes `name` from `claims`.
pub fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().expect("claims object").remove(name);
    claims
}

/// A token with `claims` signed by `key` under a header naming `alg` and `kid`.
pub fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).expect("sign")
}

/// Asserts a 401 problem that tells the client to authenticate with a bearer token.
#[track_caller]
pub fn assert_unauthorized(response: Response, case: &str) {
    assert_eq!(
        response.status, 401,
        "{case}: expected 401, got body {}",
        response.text
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer"),
        "{case}: {:?}",
        response.headers
    );
    response.expect_problem(401);
}

/// An HS256 token signed with the test secret, as the CLI mints them, for a server process.
pub fn hs256_token(org: &str, role: &str, sub: &str) -> String {
    circulo_api::auth::mint_hs256(
        super::TEST_SECRET.as_bytes(),
        &circulo_api::auth::MintRequest {
            org: Some(org.to_owned()),
            role: role.to_owned(),
            sub: sub.to_owned(),
            scope: None,
            ttl_seconds: 600,
            issuer: None,
            audience: None,
        },
    )
    .expect("mint")
}
