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
    fn debug_output_hides_every_password() {
        for (url, kept) in [
            (
                "postgres://app:s3cret@db:5432/circulo",
                "postgres://app:***@db:5432/circulo",
            ),
            (
                "postgres://app:s3c@ret@db/circulo",
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
