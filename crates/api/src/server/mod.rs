//! Start-up: open and migrate the database, set up token checks, and assemble the actix app with
//! every convention's middleware around the one route table, served over connections whose
//! requests are checked as HTTP first (`request_guard`).

mod guarded_stream;
mod request_guard;

use std::net::{SocketAddr, TcpListener};

use std::time::Duration;

use actix_http::HttpService;
use actix_http::error::DispatchError;
use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::middleware::from_fn;
use actix_web::rt::net::TcpStream;
use actix_web::{App, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use circulo_persistence::{Db, MigrationError, OpenError};

use crate::auth::{AuthConfig, JwksClient, TokenVerifier};
use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::handlers::{RouteTable, not_found_or_method_not_allowed, routes};
use crate::http::json::MAX_BODY_BYTES;
use crate::http::request_id::RequestIds;
use crate::jobs::Jobs;
use crate::middleware::access_log::access_log;
use crate::middleware::idempotency::idempotency;
use crate::middleware::metrics::{Metrics, record_metrics};
use crate::middleware::problems::problem_bodies;
use crate::middleware::query_guard::refuse_control_characters;
use crate::openapi::openapi;
use crate::secret::{self, SecretSource};
use crate::state::{AppState, KnownOrgs};
use guarded_stream::GuardedStream;

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

/// A server ready to run, with its background jobs running.
pub struct Running {
    server: actix_web::dev::Server,
    jobs: Jobs,
    /// Where it listens.
    pub address: SocketAddr,
    /// Where the generated HS256 secret lives, when one was generated or read from a file.
    pub secret_source: Option<SecretSource>,
}

impl Running {
    /// Stops the server from another task.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (a signal or [`Running::handle`]), then stops the jobs.
    pub async fn run(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.jobs.stop().await;
        served
    }
}

/// Opens and migrates the database, binds the listener and starts the background jobs. Call it
/// inside the async runtime that will run the server.
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
        untraced_key: secret::untraced_key(&config.auth, &config.database_url)?.into(),
        webhooks: config.webhooks,
    };
    let listener = TcpListener::bind(&config.bind).map_err(|source| StartError::Bind {
        address: config.bind.clone(),
        source,
    })?;
    let address = listener
        .local_addr()
        .map_err(|e| StartError::Setup(e.to_string()))?;
    let server = http_server(state, listener, config).map_err(|source| StartError::Bind {
        address: config.bind.clone(),
        source,
    })?;
    Ok(Running {
        server,
        jobs: Jobs::start(&db, config.webhooks),
        address,
        secret_source,
    })
}

fn verifier(config: &Config) -> Result<(TokenVerifier, Option<SecretSource>), StartError> {
    config.auth.check()?;
    let secret = secret::resolve(&config.auth, &config.database_url)?;
    let jwks = config
        .auth
        .jwks_url
        .clone()
        .map(|url| JwksClient::new(url, config.auth.jwks_timing))
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
    config: &Config,
) -> std::io::Result<actix_web::dev::Server> {
    let head_timeout = config.request_head_timeout;
    let api = openapi();
    let table = web::Data::new(RouteTable::from_openapi(&api));
    let state = web::Data::new(state);
    let mut server = actix_web::dev::Server::build().listen("circulo", listener, move || {
        let app =
            App::new()
                .app_data(state.clone())
                .app_data(table.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
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
                .wrap(from_fn(refuse_control_characters))
                .wrap(from_fn(record_metrics))
                .wrap(from_fn(problem_bodies))
                .wrap(from_fn(access_log))
                .wrap(RequestIds);
        // What actix-web's HttpServer would build, over guarded connections.
        let http = HttpService::build()
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1(map_config(
                app.into_factory()
                    .map_err(|e: actix_web::Error| e.as_response_error().error_response()),
                |()| AppConfig::default(),
            ));
        fn_service(move |io: TcpStream| async move {
            let peer = io.peer_addr().ok();
            // Answers are written whole; waiting to fill a packet only adds latency.
            let _ = io.set_nodelay(true);
            Ok::<_, DispatchError>((GuardedStream::new(io, peer, head_timeout), peer))
        })
        .and_then(http)
    })?;
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    // Blocking threads beyond the connections they could use only wait for one, and every idle
    // one makes the hop to the pool more expensive: as many as the pool has connections.
    let workers = config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let connections = usize::try_from(config.pool.max_size).unwrap_or(usize::MAX);
    server = server.worker_max_blocking_threads(connections.div_ceil(workers).max(2));
    Ok(server.run())
}
