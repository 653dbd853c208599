//! The `circulo` binary: serve the API, migrate, print the OpenAPI document, mint tokens and
//! create organizations.

use std::process::ExitCode;

use clap::Parser;

use circulo_api::auth::{MintRequest, mint_hs256};
use circulo_api::config::{
    Cli, Command, CommonArgs, OrgCommand, OrgCreateArgs, ServeArgs, TokenArgs,
};
use circulo_api::secret::{self, SecretSource};
use circulo_api::{Config, openapi, start};
use circulo_domain::audit::Actor;
use circulo_domain::organization::{OrganizationFields, RawOrganizationFields};
use circulo_persistence::{ChangeContext, Db, PoolOptions};

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(&cli.common, &ServeArgs::parse_default()),
        Some(Command::Serve(args)) => serve(&cli.common, &args),
        Some(Command::Migrate) => migrate(&cli.common),
        Some(Command::Openapi) => print_openapi(),
        Some(Command::Token(args)) => token(&cli.common, &args),
        Some(Command::Org(OrgCommand::Create(args))) => create_org(&cli.common, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(common: &CommonArgs, args: &ServeArgs) -> Result<(), Failure> {
    let config = Config::from_args(common, args)?;
    actix_web::rt::System::new().block_on(async move {
        let running = start(&config)?;
        log::info!("database: {:?}", config.database_url);
        match &running.secret_source {
            Some(SecretSource::Generated(path)) => log::warn!(
                "no CIRCULO_JWT_SECRET or CIRCULO_JWKS_URL set: generated an HS256 secret in {} \
                 (set CIRCULO_JWT_SECRET when running several replicas)",
                path.display()
            ),
            Some(SecretSource::File(path)) => log::info!("HS256 secret read from {}", path.display()),
            _ => {}
        }
        log::info!(
            "mint a token: circulo org create --name \"My business\", then circulo token --org <id> --role owner"
        );
        log::info!(
            "listening on http://{0} (docs: http://{0}/docs/)",
            running.address
        );
        running.run().await?;
        Ok(())
    })
}

// Commands open one connection on this thread, never a pool: a pool may still be connecting on a
// background thread when the command exits, and libpq's TLS negotiation then crashes in OpenSSL's
// exit handlers.
fn migrate(common: &CommonArgs) -> Result<(), Failure> {
    let db = Db::open_single(&common.database_url()?, PoolOptions::default())?;
    db.migrate()?;
    println!("migrations applied");
    Ok(())
}

fn print_openapi() -> Result<(), Failure> {
    println!("{}", openapi().to_pretty_json()?);
    Ok(())
}

fn token(common: &CommonArgs, args: &TokenArgs) -> Result<(), Failure> {
    let auth = common.auth()?;
    let Some((secret, _)) = secret::resolve(&auth, &common.database_url()?)? else {
        return Err("minting needs an HS256 secret: set CIRCULO_JWT_SECRET".into());
    };
    let role: circulo_domain::principal::Role = args.role.parse().map_err(|_| {
        format!(
            "--role must be owner, manager, staff, integration or platform_admin, not {:?}",
            args.role
        )
    })?;
    if args.org.is_none() && role != circulo_domain::principal::Role::PlatformAdmin {
        return Err("--org is required for every role but platform_admin".into());
    }
    let request = MintRequest {
        org: args.org.clone(),
        role: role.as_str().to_owned(),
        sub: args.sub.clone().unwrap_or_else(|| role.as_str().to_owned()),
        scope: args.scope.clone(),
        ttl_seconds: args.ttl_seconds,
        issuer: auth.issuer,
        audience: auth.audience,
    };
    println!("{}", mint_hs256(&secret, &request)?);
    Ok(())
}

fn create_org(common: &CommonArgs, args: &OrgCreateArgs) -> Result<(), Failure> {
    let fields = OrganizationFields::parse(RawOrganizationFields {
        name: &args.name,
        currency: &args.currency,
        timezone: &args.timezone,
    })?;
    let db = Db::open_single(&common.database_url()?, PoolOptions::default())?;
    db.migrate()?;
    let ctx = ChangeContext::new(Actor::cli(), None);
    let org = db.write(&ctx, |tx| tx.organizations().create(fields))?;
    let view = circulo_api::handlers::organizations::OrganizationView::from(org);
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}
