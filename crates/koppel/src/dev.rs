//! `koppel dev`: everything needed to try Koppel, on a machine with only the
//! PostgreSQL binaries installed.

use anyhow::Context;
use koppel_api::auth::scopes::ClientKind;
use koppel_api::auth::secrets::generate_secret;
use koppel_api::onboarding::{self, CreateClient, CreateCompany};
use koppel_store::{PoolConfig, Store};

use crate::config::{ConnectionLimits, DEFAULT_LISTEN_ADDR};
use crate::logging::{self, LogFormat};

/// Starts a throwaway cluster, migrates, creates the demo data, prints the
/// credentials and serves until Ctrl-C. The cluster is removed on the way out.
pub fn run() -> anyhow::Result<()> {
    eprintln!("starting a throwaway PostgreSQL…");
    let cluster = koppel_pglocal::Cluster::start(koppel_pglocal::Options::default())
        .context("starting a local PostgreSQL")?;
    let result = crate::runtime()?.block_on(serve(&cluster.url("postgres")));
    drop(cluster);
    eprintln!("the throwaway PostgreSQL is removed");
    result
}

async fn serve(database_url: &str) -> anyhow::Result<()> {
    logging::init(match std::env::var("KOPPEL_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Pretty,
    });
    let store = Store::connect_lazy(database_url, &PoolConfig::default())?;
    store.migrate().await.context("applying migrations")?;

    let company = onboarding::create_company(
        &store,
        CreateCompany {
            name: "Demo Webwinkel B.V.".to_owned(),
            timezone: None,
            currency: None,
            business_day_cutoff: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the demo company: {e}"))?;
    let mut credentials = Vec::new();
    for (kind, name) in [
        (ClientKind::Admin, "Demo operator"),
        (ClientKind::Vendor, "Demo kassa and webshop vendor"),
        (ClientKind::Connector, "Demo bookkeeping connector"),
    ] {
        let company_ids = if kind == ClientKind::Admin {
            vec![]
        } else {
            vec![company.id]
        };
        let input = CreateClient {
            name: name.to_owned(),
            kind,
            scopes: None,
            company_ids,
            rate_limit: None,
        };
        let (record, secret) = onboarding::create_client(&store, input)
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo clients: {e}"))?;
        credentials.push((kind, record.id, secret));
    }

    let listen =
        std::env::var("KOPPEL_LISTEN_ADDR").unwrap_or_else(|_| DEFAULT_LISTEN_ADDR.to_owned());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| {
            format!("cannot listen on {listen}; set KOPPEL_LISTEN_ADDR to a free address")
        })?;
    let base = format!("http://{}", listener.local_addr()?);

    println!();
    println!("Koppel is running at {base}");
    println!("  Swagger UI:   {base}/docs");
    println!("  OpenAPI:      {base}/openapi.json");
    println!("  Demo company: {} ({})", company.name, company.id);
    println!();
    for (kind, id, secret) in &credentials {
        println!("  {:<9} client_id={id}", kind.as_str());
        println!("            client_secret={secret}");
    }
    let (_, vendor_id, vendor_secret) = &credentials[1];
    println!();
    println!("Try it:");
    println!(
        "  TOKEN=$(curl -s -u {vendor_id}:{vendor_secret} -d grant_type=client_credentials {base}/oauth/token | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')"
    );
    println!("  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/v1/rate-limit");
    println!();
    println!("Press Ctrl-C to stop; the database is thrown away.");

    let signing_key = generate_secret();
    crate::serve::serve_on(
        listener,
        store,
        signing_key.as_bytes(),
        koppel_api::Config {
            public_url: base,
            ..koppel_api::Config::default()
        },
        ConnectionLimits::default(),
        crate::serve::shutdown_signal(),
    )
    .await
}
