//! Standard Webhooks signing (<https://www.standardwebhooks.com>): a secret is `whsec_` and the
//! base64 of its key bytes; a delivery's `webhook-signature` is `v1,` and the base64 of
//! HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`, one per active secret, separated
//! by spaces. Receivers verify with the specification's published libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of every secret.
const PREFIX: &str = "whsec_";
/// Key bytes in a new secret: 32, above the specification's minimum of 24.
const KEY_BYTES: usize = 32;

/// A new random secret, from the thread's CSPRNG (ChaCha, seeded by the operating system).
pub fn new_secret() -> String {
    let mut key = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for `body`, sent as message `id` at `timestamp` (Unix
/// seconds), signed with each of `secrets`. A secret that is not one this module made signs
/// nothing (it cannot be stored by the API).
pub fn signature(id: &str, timestamp: i64, body: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter_map(|secret| key(secret))
        .filter_map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body.as_bytes());
            Some(format!(
                "v1,{}",
                STANDARD.encode(mac.finalize().into_bytes())
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the Standard Webhooks reference libraries' tests.
    #[test]
    fn signs_as_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
        let header = signature(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
            &[secret],
        );
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn each_active_secret_adds_a_signature() {
        let secrets = [new_secret(), new_secret()];
        let header = signature("evt", 1, "{}", &secrets);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn new_secrets_carry_enough_random_bytes() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(key(&secret).map(|k| k.len()), Some(KEY_BYTES));
        assert_ne!(new_secret(), secret);
    }
}
