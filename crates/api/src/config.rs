//! Configuration, from flags or the environment variables API.md §4 names. Read once in `main`
//! and passed down; nothing reads the environment later.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use circulo_persistence::{DatabaseUrl, Deadlines, PoolOptions};

use circulo_domain::webhook::RetryPolicy;

use crate::auth::JwksTiming;
use crate::webhooks::WebhookSettings;

/// The `circulo` command line.
#[derive(Debug, Parser)]
#[command(
    name = "circulo",
    version,
    about = "Circulo: goals, delegated authority, feedback and satisfaction for client-facing teams"
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Database and token settings shared by every command.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Mint an HS256 token with the configured secret.
    Token(TokenArgs),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
}

/// Organization commands.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and print it as JSON.
    Create(OrgCreateArgs),
}

/// Settings every command reads.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// `postgres://…` for PostgreSQL, else a SQLite file (created when missing).
    #[arg(
        long,
        env = "CIRCULO_DATABASE_URL",
        default_value = "circulo.db",
        global = true
    )]
    pub database_url: String,
    /// HS256 secret (at least 32 bytes). Without it and without a JWKS URL, one is generated and
    /// kept beside the database file.
    #[arg(
        long,
        env = "CIRCULO_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,
    /// URL of a JSON Web Key Set whose RS256/ES256 keys sign accepted tokens.
    #[arg(long, env = "CIRCULO_JWKS_URL", global = true)]
    pub jwks_url: Option<String>,
    /// Required `iss` claim.
    #[arg(long, env = "CIRCULO_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim.
    #[arg(long, env = "CIRCULO_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CIRCULO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CIRCULO_WORKERS")]
    pub workers: Option<usize>,
    /// Database connections at most (default: four per core).
    #[arg(long, env = "CIRCULO_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,
    /// The longest a database statement may run, in milliseconds (PostgreSQL).
    #[arg(
        long,
        env = "CIRCULO_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 15_000
    )]
    pub db_statement_timeout_ms: u64,
    /// The longest a request waits for a database lock or a free connection, in milliseconds,
    /// before it is answered 503 (PostgreSQL's lock_timeout; SQLite's busy timeout and turn to
    /// write).
    #[arg(long, env = "CIRCULO_DB_LOCK_TIMEOUT_MS", default_value_t = 3_000)]
    pub db_lock_timeout_ms: u64,
    /// Let webhooks reach private, loopback and link-local addresses, over plain http too: for
    /// development and tests only.
    #[arg(long, env = "CIRCULO_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// The wait before a failed delivery's first retry, in milliseconds (at most 30,000); each
    /// later wait doubles, up to an hour.
    #[arg(long, env = "CIRCULO_WEBHOOK_FIRST_RETRY_MS", default_value_t = 10_000)]
    pub webhook_first_retry_ms: u64,
    /// How long a failed delivery is retried, and how long an endpoint may fail every delivery
    /// before it is disabled, in seconds.
    #[arg(
        long,
        env = "CIRCULO_WEBHOOK_GIVE_UP_AFTER_SECONDS",
        default_value_t = 86_400
    )]
    pub webhook_give_up_after_seconds: u64,
    /// Whether this process delivers webhooks; `false` leaves delivery to other replicas.
    #[arg(long, env = "CIRCULO_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_worker: bool,
}

/// Settings of `token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Organization id (omit for platform_admin).
    #[arg(long)]
    pub org: Option<String>,
    /// owner, manager, staff, integration or platform_admin.
    #[arg(long)]
    pub role: String,
    /// Subject: a member id, or an integration's name (default: the role's name).
    #[arg(long)]
    pub sub: Option<String>,
    /// Space-separated scopes, for integrations.
    #[arg(long)]
    pub scope: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: u64,
}

/// Settings of `org create`.
#[derive(Debug, Clone, Args)]
pub struct OrgCreateArgs {
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// ISO 4217 currency code.
    #[arg(long, default_value = "EUR")]
    pub currency: String,
    /// IANA time zone.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
}

/// How tokens are accepted.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// HS256 secret.
    pub jwt_secret: Option<String>,
    /// JWKS URL for RS256/ES256.
    pub jwks_url: Option<String>,
    /// Required issuer.
    pub issuer: Option<String>,
    /// Required audience.
    pub audience: Option<String>,
    /// How often JWKS keys are fetched and how long they are trusted.
    pub jwks_timing: JwksTiming,
}

/// The longest statement or lock timeout accepted: an hour.
const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database.
    pub database_url: DatabaseUrl,
    /// Listen address (`127.0.0.1:0` picks a free port).
    pub bind: String,
    /// HTTP workers.
    pub workers: Option<usize>,
    /// Pool sizing.
    pub pool: PoolOptions,
    /// Token settings.
    pub auth: AuthSettings,
    /// How long a request head may take to arrive, from its first byte.
    pub request_head_timeout: Duration,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
}

/// A setting that cannot be used, named by its environment variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable at fault.
    pub variable: &'static str,
    /// What is wrong.
    pub message: String,
}

impl CommonArgs {
    /// The database URL, parsed.
    pub fn database_url(&self) -> Result<DatabaseUrl, ConfigError> {
        DatabaseUrl::parse(&self.database_url).map_err(|message| ConfigError {
            variable: "CIRCULO_DATABASE_URL",
            message,
        })
    }

    /// The token settings.
    pub fn auth(&self) -> Result<AuthSettings, ConfigError> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let settings = AuthSettings {
            jwt_secret: nonempty(&self.jwt_secret),
            jwks_url: nonempty(&self.jwks_url),
            issuer: nonempty(&self.jwt_issuer),
            audience: nonempty(&self.jwt_audience),
            jwks_timing: JwksTiming::default(),
        };
        settings.check()?;
        Ok(settings)
    }
}

impl AuthSettings {
    /// Refuses settings that would accept tokens nobody can trust: keys fetched over plain
    /// http from another host, or third-party tokens without an audience (any token the identity
    /// provider issued for another application would otherwise be accepted here).
    pub fn check(&self) -> Result<(), ConfigError> {
        let Some(url) = &self.jwks_url else {
            return Ok(());
        };
        let invalid = |message: String| ConfigError {
            variable: "CIRCULO_JWKS_URL",
            message,
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if is_loopback(&parsed) => {}
            _ => {
                return Err(invalid(
                    "must be an https URL (http is accepted only to a loopback address)".into(),
                ));
            }
        }
        if self.audience.is_none() {
            return Err(ConfigError {
                variable: "CIRCULO_JWT_AUDIENCE",
                message: "required with CIRCULO_JWKS_URL: name the audience Circulo's tokens \
                          are issued for"
                    .into(),
            });
        }
        Ok(())
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// The server configuration from the command line and environment.
    pub fn from_args(common: &CommonArgs, serve: &ServeArgs) -> Result<Self, ConfigError> {
        let within = |variable: &'static str, value: u64, max: u64| {
            if (1..=max).contains(&value) {
                Ok(value)
            } else {
                Err(ConfigError {
                    variable,
                    message: format!("must be between 1 and {max}"),
                })
            }
        };
        let pool_size = serve.db_pool_size.unwrap_or_else(default_pool_size);
        within("CIRCULO_DB_POOL_SIZE", pool_size.into(), 1000)?;
        let statement = within(
            "CIRCULO_DB_STATEMENT_TIMEOUT_MS",
            serve.db_statement_timeout_ms,
            MAX_TIMEOUT_MS,
        )?;
        let lock = within(
            "CIRCULO_DB_LOCK_TIMEOUT_MS",
            serve.db_lock_timeout_ms,
            MAX_TIMEOUT_MS,
        )?;
        Ok(Self {
            database_url: common.database_url()?,
            bind: serve.bind.clone(),
            workers: serve.workers.filter(|w| *w > 0),
            pool: PoolOptions {
                max_size: pool_size,
                // Waiting for a free connection is waiting for a lock too.
                connection_timeout: Duration::from_millis(lock),
                deadlines: Deadlines {
                    statement: Duration::from_millis(statement),
                    lock: Duration::from_millis(lock),
                },
            },
            auth: common.auth()?,
            request_head_timeout: Duration::from_secs(10),
            webhooks: WebhookSettings {
                allow_private: serve.webhook_allow_private,
                retry: RetryPolicy {
                    first_wait: Duration::from_millis(within(
                        "CIRCULO_WEBHOOK_FIRST_RETRY_MS",
                        serve.webhook_first_retry_ms,
                        30_000,
                    )?),
                    give_up_after: Duration::from_secs(within(
                        "CIRCULO_WEBHOOK_GIVE_UP_AFTER_SECONDS",
                        serve.webhook_give_up_after_seconds,
                        30 * 86_400,
                    )?),
                    ..RetryPolicy::default()
                },
                deliver: serve.webhook_worker,
                ..WebhookSettings::default()
            },
        })
    }
}

/// Four connections per core: enough to keep the database busy while some requests are in
/// HTTP or JSON, few enough that they do not contend for the cores. On two cores, 8 connections
/// served about 30 % more decisions than 16, with half the p99 (`bench/decisions.sh`).
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores * 4).unwrap_or(u32::MAX).clamp(4, 64)
}

impl ServeArgs {
    /// `serve`'s settings when no subcommand is given: from the environment and defaults.
    pub fn parse_default() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            args: ServeArgs,
        }
        Defaults::parse_from(["circulo"]).args
    }
}
