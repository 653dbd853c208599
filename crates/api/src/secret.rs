//! The HS256 secret. With none configured and no JWKS URL, one is generated on first start and
//! kept beside the SQLite file (0600), so `cargo run` needs no set-up and tokens minted with
//! `circulo token` keep working across restarts.
//!
//! The file is written whole under a temporary name and then linked into place only if no file
//! is there yet, so a server and a CLI starting together never read a half-written secret and
//! never each keep a different one. A file others can read is refused, as ssh refuses a private
//! key: anyone who reads it can mint an owner's token.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

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
    let (secret, source) = file_secret(&secret_path(db, "jwt-secret"), "CIRCULO_JWT_SECRET")?;
    Ok(Some((secret, source)))
}

/// The key that hashes the caller into an untraced change's idempotency record, so that
/// whoever reads the database, even knowing a key a client used, cannot tell whose it was: the
/// HS256 secret when there is one, else a key of its own generated beside the database the same
/// way (`circulo.untraced-key`). Replicas must share it, as they share the secret.
pub fn untraced_key(auth: &AuthSettings, db: &DatabaseUrl) -> Result<Vec<u8>, ConfigError> {
    match resolve(auth, db)? {
        Some((secret, _)) => Ok(secret),
        None => {
            file_secret(&secret_path(db, "untraced-key"), "CIRCULO_JWKS_URL").map(|(key, _)| key)
        }
    }
}

/// The hex HMAC-SHA256 under `secret` of `purpose` and `parts`, joined by NULs (which no part
/// holds: keys, subjects and external ids refuse control characters), so no two lists hash
/// alike; for the idempotency key it is the input used before this helper existed: how an untraced change keeps a value it must match again (an
/// idempotency key, an employee score's external id) without keeping the value.
pub fn keyed_hash(secret: &[u8], purpose: &str, parts: &[&str]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(purpose.as_bytes());
    for part in parts {
        mac.update(b"\0");
        mac.update(part.as_bytes());
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The secret kept in `path`, generated there on first use.
fn file_secret(
    path: &Path,
    variable: &'static str,
) -> Result<(Vec<u8>, SecretSource), ConfigError> {
    let path = path.to_path_buf();
    let error = |message: String| ConfigError { variable, message };
    if let Some(secret) = read_private(&path).map_err(error)? {
        return Ok((secret.into_bytes(), SecretSource::File(path)));
    }
    let secret = generate();
    match create_private(&path, &secret) {
        Ok(()) => Ok((secret.into_bytes(), SecretSource::Generated(path))),
        // Another process generated one first: use theirs, so both agree.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            match read_private(&path).map_err(error)? {
                Some(theirs) => Ok((theirs.into_bytes(), SecretSource::File(path))),
                None => Err(error(format!(
                    "{} vanished while being read",
                    path.display()
                ))),
            }
        }
        Err(e) => Err(error(format!("cannot write {}: {e}", path.display()))),
    }
}

/// The secret in `path`, `None` when there is no such file.
fn read_private(path: &Path) -> Result<Option<String>, String> {
    let content = match fs::read_to_string(path) {
        Ok(content) => content,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is readable or writable by others (mode {:o}); anyone who reads it can mint \
                 tokens: run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    let secret = content.trim().to_owned();
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "{} holds a secret shorter than {MIN_SECRET_BYTES} bytes",
            path.display()
        ));
    }
    Ok(Some(secret))
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

/// `circulo.db` → `circulo.<extension>` in the same folder; the working directory otherwise.
fn secret_path(db: &DatabaseUrl, extension: &str) -> PathBuf {
    match db.sqlite_path().filter(|_| !db.is_in_memory()) {
        Some(file) => Path::new(file).with_extension(extension),
        None => PathBuf::from(format!("circulo.{extension}")),
    }
}

fn generate() -> String {
    let mut bytes = [0_u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Writes `secret` to `path` as a new file only its owner can read, or fails with
/// `AlreadyExists` and leaves the existing file alone.
fn create_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // Temporary files are created readable by their owner only.
    let mut file = tempfile::Builder::new()
        .prefix(".circulo.jwt-secret.")
        .tempfile_in(folder)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
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

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = DatabaseUrl::parse(dir.path().join("circulo.db").to_str().unwrap()).unwrap();
        resolve(&settings(), &db).unwrap();
        let path = dir.path().join("circulo.jwt-secret");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let refused = resolve(&settings(), &db).unwrap_err().to_string();
        assert!(refused.contains("chmod 600"), "{refused}");
    }

    #[test]
    fn processes_starting_together_agree_on_one_secret() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let db = DatabaseUrl::parse(dir.path().join("circulo.db").to_str().unwrap()).unwrap();
            let secrets: Vec<Vec<u8>> = std::thread::scope(|scope| {
                let starts: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| resolve(&settings(), &db).unwrap().unwrap().0))
                    .collect();
                starts.into_iter().map(|s| s.join().unwrap()).collect()
            });
            assert!(secrets.iter().all(|s| *s == secrets[0]));
            let leftovers = fs::read_dir(dir.path()).unwrap().count();
            assert_eq!(leftovers, 1, "only the secret file remains");
        }
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
