//! Runs the example client against the real router, served on a loopback port.

use std::net::SocketAddr;
use std::time::Duration;

use koppel_api::auth::scopes::ClientKind;
use koppel_api::auth::tokens::TokenKeys;
use koppel_api::onboarding::{self, CreateClient, CreateCompany};
use koppel_api::{App, Config};
use koppel_example_client::{Settings, list_companies};
use koppel_store::Store;
use sqlx::PgPool;

/// Serves the whole application on `127.0.0.1:0` and answers its base URL.
async fn serve(app: App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = koppel_api::router(app);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{address}")
}

/// A company and a vendor client granted it, made the way `koppel client create` makes them.
async fn vendor_of_a_company(app: &App) -> (String, Settings) {
    let company = onboarding::create_company(
        &app.store,
        CreateCompany {
            name: "Bakkerij De Korrel B.V.".to_owned(),
            timezone: None,
            currency: None,
            business_day_cutoff: None,
        },
    )
    .await
    .unwrap();
    let (client, client_secret) = onboarding::create_client(
        &app.store,
        CreateClient {
            name: "Kassa B.V.".to_owned(),
            kind: ClientKind::Vendor,
            scopes: None,
            company_ids: vec![company.id],
            rate_limit: None,
        },
    )
    .await
    .unwrap();
    let settings = Settings {
        base_url: String::new(),
        client_id: client.id.to_string(),
        client_secret,
    };
    (company.id.to_string(), settings)
}

fn app(pool: PgPool) -> App {
    let config = Config::default();
    let keys = TokenKeys::new(
        b"a signing key for the example client test, long enough",
        Duration::from_secs(3600),
        &config.public_url,
    )
    .unwrap();
    App::new(Store::from_pool(pool), keys, config)
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_oauth2_crate_gets_a_token_and_lists_the_granted_company(pool: PgPool) {
    let app = app(pool);
    let (company_id, mut settings) = vendor_of_a_company(&app).await;
    settings.base_url = serve(app).await;

    let companies = list_companies(&settings).await.unwrap();

    assert_eq!(companies["data"][0]["id"], company_id);
    assert_eq!(companies["data"].as_array().unwrap().len(), 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_wrong_secret_is_reported_with_the_servers_oauth_error(pool: PgPool) {
    let app = app(pool);
    let (_, mut settings) = vendor_of_a_company(&app).await;
    settings.base_url = serve(app).await;
    settings.client_secret = "not the secret".to_owned();

    let error = list_companies(&settings).await.unwrap_err().to_string();

    assert!(error.contains("invalid_client"), "{error}");
}
