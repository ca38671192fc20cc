//! The `koppel` binary: the server and its command line.

mod config;
mod connections;
mod dev;
mod json_log;
mod logging;
mod serve;

use anyhow::Context;
use clap::{Parser, Subcommand};
use koppel_api::auth::scopes::ClientKind;
use koppel_api::onboarding::{
    self, Client, ClientWithSecret, Company, CreateClient, CreateCompany,
};
use uuid::Uuid;

/// Koppel: one API for webshop and POS data, checked against Dutch bookkeeping rules.
#[derive(Debug, Parser)]
#[command(name = "koppel", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Run a throwaway local PostgreSQL, a demo company and clients, and the server.
    Dev,
    /// Manage companies without a running server.
    Company {
        #[command(subcommand)]
        command: CompanyCommand,
    },
    /// Manage OAuth clients without a running server.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CompanyCommand {
    /// Create a company; prints it as one JSON object.
    Create {
        /// The merchant's name.
        #[arg(long)]
        name: String,
        /// IANA timezone (default Europe/Amsterdam).
        #[arg(long)]
        timezone: Option<String>,
        /// ISO 4217 currency (default EUR).
        #[arg(long)]
        currency: Option<String>,
        /// Local time HH:MM at which a business day starts (default 00:00).
        #[arg(long)]
        business_day_cutoff: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Create a client; prints it with its secret (shown this once) as one JSON object.
    Create {
        /// admin, vendor or connector.
        #[arg(long, value_parser = parse_kind)]
        kind: ClientKind,
        /// A human name.
        #[arg(long)]
        name: String,
        /// A company the client may act on; repeat for several.
        #[arg(long = "company")]
        companies: Vec<Uuid>,
        /// A scope to grant instead of all of the kind's; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

fn parse_kind(value: &str) -> Result<ClientKind, String> {
    ClientKind::parse(value).ok_or_else(|| "expected admin, vendor or connector".to_owned())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("koppel: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            println!("{}", koppel_api::openapi().to_pretty_json()?);
            Ok(())
        }
        // `dev` starts PostgreSQL (blocking) before the runtime exists.
        Command::Dev => dev::run(),
        command => runtime()?.block_on(run_async(command)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

async fn run_async(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let config = config::Config::from_env()?;
            logging::init(config.log_format);
            serve::serve(config).await
        }
        Command::Migrate => {
            let store = config::store_from_env()?;
            store.migrate().await.context("applying migrations")?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Company {
            command:
                CompanyCommand::Create {
                    name,
                    timezone,
                    currency,
                    business_day_cutoff,
                },
        } => {
            let store = config::store_from_env()?;
            store.migrate().await.context("applying migrations")?;
            let input = CreateCompany {
                name,
                timezone,
                currency,
                business_day_cutoff,
            };
            let record = onboarding::create_company(&store, input)
                .await
                .map_err(describe)?;
            println!("{}", serde_json::to_string(&Company::from(record))?);
            Ok(())
        }
        Command::Client {
            command:
                ClientCommand::Create {
                    kind,
                    name,
                    companies,
                    scopes,
                },
        } => {
            let store = config::store_from_env()?;
            store.migrate().await.context("applying migrations")?;
            let input = CreateClient {
                name,
                kind,
                scopes: (!scopes.is_empty()).then_some(scopes),
                company_ids: companies,
                rate_limit: None,
            };
            let (record, client_secret) = onboarding::create_client(&store, input)
                .await
                .map_err(describe)?;
            let output = ClientWithSecret {
                client: Client::from(record),
                client_secret,
            };
            println!("{}", serde_json::to_string(&output)?);
            Ok(())
        }
        Command::Openapi | Command::Dev => unreachable!("handled before the runtime starts"),
    }
}

/// Turns an API error into a message for the terminal, listing every problem.
fn describe(error: koppel_api::error::ApiError) -> anyhow::Error {
    let problem = error.to_problem(koppel_api::language::Language::English, "cli");
    let mut message = problem.detail;
    for item in problem.errors.unwrap_or_default() {
        message.push_str(&format!("\n  {}: {}", item.pointer, item.message));
    }
    anyhow::anyhow!(message)
}
