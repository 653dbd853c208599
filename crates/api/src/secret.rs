//! The HS256 secret. With none configured and no JWKS URL, one is generated on first start and
//! kept beside the SQLite file (0600), so `cargo run` needs no set-up and tokens minted with
//! `circulo token` keep working across restarts.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use circulo_persistence::DatabaseUrl;

use crate::config::{AuthSettings, ConfigError};

/// The shortest secret accepted: HS256 keys shorter than the hash output weaken it (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the secret in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `CIRCULO_JWT_SECRET`.
    Configured,
    /// A file generated earlier.
    File(PathBuf),
    /// A file generated just now.
    Generated(PathBuf),
}

/// The HS256 secret to use, if HS256 tokens are accepted at all.
pub fn resolve(
    auth: &AuthSettings,
    db: &DatabaseUrl,
) -> Result<Option<(Vec<u8>, SecretSource)>, ConfigError> {
    if let Some(secret) = &auth.jwt_secret {
        check_length(secret, "CIRCULO_JWT_SECRET")?;
        return Ok(Some((secret.as_bytes().to_vec(), SecretSource::Configured)));
    }
    if auth.jwks_url.is_some() {
        return Ok(None);
    }
    let path = secret_path(db);
    let error = |message: String| ConfigError {
        variable: "CIRCULO_JWT_SECRET",
        message,
    };
    match fs::read_to_string(&path) {
        Ok(content) => {
            let secret = content.trim().to_owned();
            check_length(&secret, "CIRCULO_JWT_SECRET").map_err(|_| {
                error(format!(
                    "{} holds a secret shorter than {MIN_SECRET_BYTES} bytes",
                    path.display()
                ))
            })?;
            Ok(Some((secret.into_bytes(), SecretSource::File(path))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = generate();
            write_private(&path, &secret)
                .map_err(|e| error(format!("cannot write {}: {e}", path.display())))?;
            Ok(Some((secret.into_bytes(), SecretSource::Generated(path))))
        }
        Err(e) => Err(error(format!("cannot read {}: {e}", path.display()))),
    }
}

fn check_length(secret: &str, variable: &'static str) -> Result<(), ConfigError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(ConfigError {
            variable,
            message: format!("must be at least {MIN_SECRET_BYTES} bytes"),
        });
    }
    Ok(())
}

/// `circulo.db` → `circulo.jwt-secret` in the same folder; the working directory otherwise.
fn secret_path(db: &DatabaseUrl) -> PathBuf {
    match db.sqlite_path().filter(|_| !db.is_in_memory()) {
        Some(file) => Path::new(file).with_extension("jwt-secret"),
        None => PathBuf::from("circulo.jwt-secret"),
    }
}

fn generate() -> String {
    let mut bytes = [0_u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings::default()
    }

    #[test]
    fn a_secret_is_generated_once_beside_the_database_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let db = DatabaseUrl::parse(dir.path().join("circulo.db").to_str().unwrap()).unwrap();
        let (first, source) = resolve(&settings(), &db).unwrap().unwrap();
        let path = dir.path().join("circulo.jwt-secret");
        assert_eq!(source, SecretSource::Generated(path.clone()));
        assert!(first.len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = resolve(&settings(), &db).unwrap().unwrap();
        assert_eq!(again, first);
        assert_eq!(source, SecretSource::File(path));
    }

    #[test]
    fn a_configured_secret_wins_and_must_be_long_enough() {
        let db = DatabaseUrl::parse("postgres://x@y/z").unwrap();
        let mut auth = settings();
        auth.jwt_secret = Some("short".into());
        assert!(resolve(&auth, &db).is_err());
        auth.jwt_secret = Some("x".repeat(32));
        assert_eq!(
            resolve(&auth, &db).unwrap().unwrap().1,
            SecretSource::Configured
        );
    }

    #[test]
    fn with_only_a_jwks_url_no_hs256_secret_is_used() {
        let db = DatabaseUrl::parse("postgres://x@y/z").unwrap();
        let mut auth = settings();
        auth.jwks_url = Some("https://idp.example/jwks".into());
        assert!(resolve(&auth, &db).unwrap().is_none());
    }
}
