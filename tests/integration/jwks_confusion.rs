//! Algorithm confusion against a JWKS-only app (the key server in `support::key_server`): HS256
//! signed with the published RSA public key in any encoding, a token whose algorithm does not match
//! its key, and HS256 at all when no secret is configured are all unauthorized.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use crate::support::key_server::{
    create_org, ec_a, kid_a_token, public_jwk, rsa_a, with_key_server,
};
use crate::support::tokens::{assert_unauthorized, claims, sign};

/// DER: a tag, its length and its content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short length"));
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).expect("nonzero length");
        out.push(0x80 | u8::try_from(bytes.len() - first).expect("length of length"));
        out.extend_from_slice(&bytes[first..]);
    }
    out.extend_from_slice(content);
    out
}

/// DER: an unsigned big-endian INTEGER.
fn der_unsigned(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut content = Vec::new();
    if bytes[first] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[first..]);
    der(0x02, &content)
}

/// The RSA public key published for `jwk`, as an attacker would rebuild it: PKCS#1 DER,
/// SubjectPublicKeyInfo DER, and SubjectPublicKeyInfo PEM (what `openssl pkey -pubout` prints).
fn rsa_public_key_encodings(jwk: &Jwk) -> Vec<(&'static str, Vec<u8>)> {
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        panic!("not an RSA key: {jwk:?}");
    };
    let n = URL_SAFE_NO_PAD.decode(&rsa.n).expect("n");
    let e = URL_SAFE_NO_PAD.decode(&rsa.e).expect("e");
    let pkcs1 = der(0x30, &[der_unsigned(&n), der_unsigned(&e)].concat());
    let rsa_encryption = [
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let spki = der(
        0x30,
        &[
            der(0x30, &rsa_encryption),
            der(0x03, &[&[0][..], &pkcs1].concat()),
        ]
        .concat(),
    );
    let encoded = STANDARD.encode(&spki);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64"))
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    );
    vec![
        ("PKCS#1 DER", pkcs1),
        ("SPKI DER", spki),
        ("SPKI PEM", pem.clone().into_bytes()),
        (
            "SPKI PEM without final newline",
            pem.trim_end().as_bytes().to_vec(),
        ),
    ]
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_rsa_public_key_is_unauthorized() {
    with_key_server(Duration::ZERO, async |app, _| {
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        app.get("/v1/teams", &kid_a_token(&owner)).await.expect(200);

        let published = public_jwk(&rsa_a(), Algorithm::RS256, "kid-a");
        for (encoding, public_key) in rsa_public_key_encodings(&published) {
            let secret = EncodingKey::from_secret(&public_key);
            for kid in [Some("kid-a"), None] {
                let confused = sign(Algorithm::HS256, kid, &secret, &owner);
                assert_unauthorized(
                    app.get("/v1/teams", &confused).await,
                    &format!("HS256 with the {encoding}, kid {kid:?}"),
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_token_whose_algorithm_does_not_match_its_key_is_unauthorized() {
    with_key_server(Duration::ZERO, async |app, server| {
        // The same RSA key once more, published without `alg`: only its type says what it is for.
        let mut bare = public_jwk(&rsa_a(), Algorithm::RS256, "kid-a-bare");
        bare.common.key_algorithm = None;
        server.publish(bare);
        let org = create_org(&app).await;
        let owner = claims(Some(&org), "owner");
        app.get(
            "/v1/teams",
            &sign(Algorithm::RS256, Some("kid-a-bare"), &rsa_a(), &owner),
        )
        .await
        .expect(200);

        let cases = [
            (
                "ES256 claiming the RSA key kid-a",
                sign(Algorithm::ES256, Some("kid-a"), &ec_a(), &owner),
            ),
            (
                "ES256 claiming the bare RSA key",
                sign(Algorithm::ES256, Some("kid-a-bare"), &ec_a(), &owner),
            ),
            (
                "RS256 claiming the EC key",
                sign(Algorithm::RS256, Some("kid-ec"), &rsa_a(), &owner),
            ),
            (
                "PS256 with the RSA key",
                sign(Algorithm::PS256, Some("kid-a"), &rsa_a(), &owner),
            ),
            (
                "RS512 with the RSA key",
                sign(Algorithm::RS512, Some("kid-a"), &rsa_a(), &owner),
            ),
        ];
        for (case, token) in cases {
            assert_unauthorized(app.get("/v1/teams", &token).await, case);
        }
    })
    .await;
}

#[tokio::test]
async fn an_hs256_token_is_unauthorized_when_only_a_jwks_url_is_configured() {
    with_key_server(Duration::ZERO, async |app, _| {
        let org = create_org(&app).await;
        // Signed with the secret test servers usually have, which this one was not given.
        assert_unauthorized(
            app.get("/v1/teams", &app.token(Some(&org), "owner", "o-1", None))
                .await,
            "HS256 owner",
        );
        let admin = app.platform_admin_token();
        let refused = app
            .post(
                "/v1/organizations",
                &admin,
                json!({"name": "Café Luna", "currency": "EUR", "timezone": "UTC"}),
            )
            .await;
        assert_unauthorized(refused, "HS256 platform admin");
        let empty_secret = sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(b""),
            &claims(Some(&org), "owner"),
        );
        assert_unauthorized(
            app.get("/v1/teams", &empty_secret).await,
            "HS256 with an empty secret",
        );
    })
    .await;
}
