//! `CIRCULO_DATABASE_URL`: which database to open, and how to name it in a log line without the
//! credentials it may carry (a password in the userinfo or in a `password=` query parameter).

use std::fmt;

use crate::conn::Backend;

/// A parsed `CIRCULO_DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
    /// A SQLite file path (or `:memory:`), from `sqlite://path`, `sqlite:path` or a bare path.
    Sqlite(String),
}

impl DatabaseUrl {
    /// Reads a URL; a value without a known scheme is a SQLite file path.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the database URL is empty".to_owned());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            check_postgres(raw)?;
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("the database URL names no SQLite file".to_owned());
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(format!(
                "unsupported database scheme {scheme:?}: use postgres://… or a SQLite file path"
            ));
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The SQLite file, when this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// Whether this is an in-memory SQLite database, which every connection sees separately.
    pub fn is_in_memory(&self) -> bool {
        matches!(self, Self::Sqlite(path) if path == ":memory:")
    }
}

/// The URL with every secret replaced by `***`: this is the only form that reaches logs.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{path}"),
            Self::Postgres(url) => f.write_str(&redact_postgres(url)),
        }
    }
}

/// Refuses what libpq would misread or quote back in an error message (with the password in it):
/// an `@` left unencoded in the userinfo, a `%` that starts no percent-encoding. The message names
/// neither part of the URL.
fn check_postgres(url: &str) -> Result<(), String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.matches('@').count() > 1 {
        return Err(
            "the PostgreSQL URL has more than one @ before its host: percent-encode an @ \
                    in the user name or password as %40"
                .to_owned(),
        );
    }
    let bytes = url.as_bytes();
    let well_encoded = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_encoded {
        return Err(
            "the PostgreSQL URL has a % that starts no percent-encoding: write a % in a \
                    password as %25"
                .to_owned(),
        );
    }
    Ok(())
}

impl DatabaseUrl {
    /// `text` (an error from the database driver) with every secret of this URL replaced by
    /// `***`: libpq quotes parts of the URL it cannot use.
    pub(crate) fn redact(&self, text: &str) -> String {
        let Self::Postgres(url) = self else {
            return text.to_owned();
        };
        let mut redacted = text.to_owned();
        for secret in secrets(url) {
            if !secret.is_empty() {
                redacted = redacted.replace(&secret, "***");
            }
        }
        redacted
    }
}

/// Every password in `url`, as written and as decoded.
fn secrets(url: &str) -> Vec<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut found = Vec::new();
    if let Some((_, rest)) = base.split_once("://")
        && let Some((userinfo, _)) = rest.split('/').next().unwrap_or_default().rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        found.push(password.to_owned());
    }
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded: String = form_urlencoded::parse(name.as_bytes())
            .map(|(k, _)| k.into_owned())
            .collect();
        if SECRET_PARAMETERS.contains(&decoded.to_ascii_lowercase().as_str()) {
            found.push(value.to_owned());
        }
    }
    let decoded: Vec<String> = found
        .iter()
        .map(|s| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect()
        })
        .collect();
    found.extend(decoded);
    found
}

/// Query parameters libpq reads a secret from.
const SECRET_PARAMETERS: &[&str] = &["password", "sslpassword"];

fn redact_postgres(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(query) = query {
        out.push('?');
        let parameters: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                // libpq decodes the names too, so `pass%77ord` is a password as well.
                let decoded: String = form_urlencoded::parse(name.as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .collect();
                if SECRET_PARAMETERS.contains(&decoded.to_ascii_lowercase().as_str()) {
                    format!("{name}=***")
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        out.push_str(&parameters.join("&"));
    }
    out
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_userinfo(base: &str) -> String {
    let Some(start) = base.find("://").map(|i| i + 3) else {
        return base.to_owned();
    };
    let authority_end = base[start..].find('/').map_or(base.len(), |i| start + i);
    let authority = &base[start..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let password = if userinfo.contains(':') { ":***" } else { "" };
            format!(
                "{}{user}{password}{}{}",
                &base[..start],
                &authority[at..],
                &base[authority_end..]
            )
        }
        None => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_select_postgres() {
        for url in ["postgres://u@h/db", "postgresql://u@h/db"] {
            assert_eq!(
                DatabaseUrl::parse(url).unwrap().backend(),
                Backend::Postgres
            );
        }
    }

    #[test]
    fn sqlite_urls_and_bare_paths_select_sqlite() {
        for (url, path) in [
            ("sqlite://data/circulo.db", "data/circulo.db"),
            ("sqlite:circulo.db", "circulo.db"),
            ("./circulo.db", "./circulo.db"),
            (":memory:", ":memory:"),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().sqlite_path(), Some(path));
        }
    }

    #[test]
    fn unknown_schemes_and_empty_urls_are_refused() {
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn urls_libpq_would_quote_back_are_refused_without_their_secrets() {
        for url in [
            "postgres://app:LEAK@PW@db/circulo",
            "postgres://app:LEAK3%zz@db/circulo",
            "postgres://app@db/circulo?password=LEAK4%G",
        ] {
            let refused = DatabaseUrl::parse(url).unwrap_err();
            assert!(!refused.contains("LEAK"), "{refused}");
        }
    }

    #[test]
    fn driver_errors_lose_every_secret_of_the_url() {
        let url = DatabaseUrl::parse("postgres://app:s%40cret@db/c?sslpassword=k3y%21").unwrap();
        let said = url.redact("bad password s%40cret or s@cret; key k3y%21 or k3y!");
        assert_eq!(said, "bad password *** or ***; key *** or ***");
    }

    #[test]
    fn debug_output_hides_every_password() {
        for (url, kept) in [
            (
                "postgres://app:s3cret@db:5432/circulo",
                "postgres://app:***@db:5432/circulo",
            ),
            (
                "postgres://app:s3c%40ret@db/circulo",
                "postgres://app:***@db/circulo",
            ),
            (
                "postgres://app@db/circulo?password=s3cret&sslmode=require",
                "postgres://app@db/circulo?password=***&sslmode=require",
            ),
            (
                "postgres://db/circulo?sslmode=require&PassWord=s3cret",
                "postgres://db/circulo?sslmode=require&PassWord=***",
            ),
            (
                "postgres://db/circulo?pass%77ord=s3cret&sslpassword=s3cret",
                "postgres://db/circulo?pass%77ord=***&sslpassword=***",
            ),
            ("postgres://app@db/circulo", "postgres://app@db/circulo"),
        ] {
            let shown = format!("{:?}", DatabaseUrl::parse(url).unwrap());
            assert!(!shown.contains("s3c"), "{shown}");
            assert_eq!(shown, kept);
        }
    }
}
