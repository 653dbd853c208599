//! Start-up: open and migrate the database, set up token checks, and assemble the actix app with
//! every convention's middleware around the one route table.

use std::net::{SocketAddr, TcpListener};

use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use circulo_persistence::{Db, MigrationError, OpenError};

use crate::auth::{AuthConfig, JwksClient, TokenVerifier};
use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::handlers::{RouteTable, not_found_or_method_not_allowed, routes};
use crate::http::json::MAX_BODY_BYTES;
use crate::http::request_id::{RequestId, RequestIds};
use crate::middleware::idempotency::idempotency;
use crate::middleware::metrics::{Metrics, record_metrics};
use crate::middleware::problems::problem_bodies;
use crate::openapi::openapi;
use crate::secret::{self, SecretSource};
use crate::state::{AppState, KnownOrgs};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened.
    #[error(transparent)]
    Database(#[from] OpenError),
    /// A migration failed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// Something else failed while setting up.
    #[error("{0}")]
    Setup(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A server ready to run.
pub struct Running {
    /// The server future; await it (or spawn it) to serve.
    pub server: actix_web::dev::Server,
    /// Where it listens.
    pub address: SocketAddr,
    /// Where the generated HS256 secret lives, when one was generated or read from a file.
    pub secret_source: Option<SecretSource>,
    /// The database the server uses, for background upkeep.
    pub db: Db,
}

/// Deletes expired idempotency keys every hour, for as long as the server runs. Every replica may
/// run it: the delete is idempotent.
pub async fn purge_idempotency_keys(db: Db) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let db = db.clone();
        match actix_web::web::block(move || db.idempotency_keys().purge_expired()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(purged)) => log::info!("purged {purged} expired idempotency keys"),
            Ok(Err(e)) => log::warn!("cannot purge idempotency keys: {e}"),
            Err(e) => log::warn!("cannot purge idempotency keys: {e}"),
        }
    }
}

/// Opens and migrates the database, then binds the listener.
pub fn start(config: &Config) -> Result<Running, StartError> {
    let db = Db::open(&config.database_url, config.pool)?;
    db.migrate()?;
    let (verifier, secret_source) = verifier(config)?;
    let metrics = Metrics::new().map_err(|e| StartError::Setup(format!("metrics: {e}")))?;
    let state = AppState {
        db: db.clone(),
        verifier,
        metrics,
        known_orgs: KnownOrgs::default(),
    };
    let listener = TcpListener::bind(&config.bind).map_err(|source| StartError::Bind {
        address: config.bind.clone(),
        source,
    })?;
    let address = listener
        .local_addr()
        .map_err(|e| StartError::Setup(e.to_string()))?;
    let server =
        http_server(state, listener, config.workers).map_err(|source| StartError::Bind {
            address: config.bind.clone(),
            source,
        })?;
    Ok(Running {
        server,
        address,
        secret_source,
        db,
    })
}

fn verifier(config: &Config) -> Result<(TokenVerifier, Option<SecretSource>), StartError> {
    let secret = secret::resolve(&config.auth, &config.database_url)?;
    let jwks = config
        .auth
        .jwks_url
        .clone()
        .map(|url| JwksClient::new(url, config.auth.jwks_min_refetch_interval))
        .transpose()
        .map_err(|e| StartError::Setup(format!("JWKS client: {e}")))?;
    let (hs256_secret, source) = match secret {
        Some((bytes, source)) => (Some(bytes), Some(source)),
        None => (None, None),
    };
    let verifier = TokenVerifier::new(AuthConfig {
        hs256_secret,
        jwks,
        issuer: config.auth.issuer.clone(),
        audience: config.auth.audience.clone(),
    });
    Ok((verifier, source))
}

/// Swagger UI lives under `/docs/`; its relative asset links need the trailing slash.
async fn redirect_to_docs() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

fn http_server(
    state: AppState,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    let api = openapi();
    let table = web::Data::new(RouteTable::from_openapi(&api));
    let state = web::Data::new(state);
    let mut server =
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(table.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::bad_request(format!("invalid query string: {e}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    ApiError::not_found(format!("no such resource: {e}")).into()
                }))
                .into_utoipa_app()
                .configure(routes)
                .into_app()
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api.clone()))
                .route("/docs", web::get().to(redirect_to_docs))
                .default_service(web::to(not_found_or_method_not_allowed))
                .wrap(from_fn(idempotency))
                .wrap(from_fn(record_metrics))
                .wrap(from_fn(problem_bodies))
                .wrap(
                    Logger::new(r#"%a "%r" %s %b %Dms request_id=%{request_id}xi"#)
                        .custom_request_replace("request_id", |req| {
                            req.extensions()
                                .get::<RequestId>()
                                .map_or_else(|| "-".to_owned(), |id| id.0.clone())
                        }),
                )
                .wrap(RequestIds)
        })
        .listen(listener)?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
