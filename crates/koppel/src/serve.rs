//! `koppel serve`: migrate, load the clients, serve until told to stop.

use std::sync::Arc;

use anyhow::Context;
use koppel_api::auth::DEFAULT_TOKEN_TTL;
use koppel_api::auth::registry::{RELOAD_INTERVAL, follow_changes};
use koppel_api::auth::tokens::TokenKeys;
use koppel_api::webhooks::WebhookConfig;
use koppel_api::{App, Config as ApiConfig};
use koppel_store::{PoolConfig, Store};

use crate::config::{Config, ConnectionLimits};
use crate::connections::serve_connections;

/// Runs the server until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = Store::connect_lazy(&config.database_url, &PoolConfig::default())?;
    store.migrate().await.context("applying migrations")?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
    serve_on(
        listener,
        store,
        &config.signing_key,
        ApiConfig {
            public_url: config.public_url,
            body_read_timeout: config.body_read_timeout,
            idempotency_quota: config.idempotency_quota,
            metrics_token: config.metrics_token,
            trusted_proxies: config.trusted_proxies,
            webhooks: WebhookConfig {
                allowed_hosts: std::sync::Arc::new(config.webhook_allowed_hosts),
                node: config.node_name,
                ..WebhookConfig::default()
            },
            ..ApiConfig::default()
        },
        config.connection_limits,
        shutdown_signal(),
    )
    .await
}

/// Serves on an already bound listener until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    store: Store,
    signing_key: &[u8],
    api_config: ApiConfig,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let keys = TokenKeys::new(signing_key, DEFAULT_TOKEN_TTL, &api_config.public_url)
        .map_err(anyhow::Error::msg)?;
    let app = App::new(store.clone(), keys, api_config);
    app.auth
        .registry
        .reload(&store)
        .await
        .context("loading the clients")?;

    // Other instances create, revoke and rotate clients: their changes are
    // announced through the database and applied within moments; the periodic
    // reload is the safety net (see the registry's docs).
    let follower = tokio::spawn(follow_changes(Arc::clone(&app.auth), store.clone()));
    let reloader = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_INTERVAL);
            loop {
                tick.tick().await;
                if let Err(e) = app.auth.registry.reload(&app.store).await {
                    tracing::warn!(error = %e, "could not reload the clients");
                }
            }
        })
    };

    // Keys are kept a week; without this the table would only grow.
    let key_cleaner = tokio::spawn(koppel_api::middleware::idempotency::clean_up_expired_keys(
        store.clone(),
    ));

    // A business day turns final at 05:00 whether or not anyone asks, so the change feed
    // reports it; the first run catches up on days that passed while no server ran.
    let finaliser = tokio::spawn(koppel_api::jobs::finalise_days(store.clone()));

    // The feed, pushed: fills the webhook outbox and delivers it (see koppel_api::webhooks).
    let webhooks = tokio::spawn(koppel_api::webhooks::deliver::run(
        store.clone(),
        app.config.webhooks.clone(),
    ));

    let address = listener.local_addr()?;
    tracing::info!(%address, "listening");
    let router = koppel_api::router(app);
    serve_connections(listener, router, limits, shutdown).await;
    follower.abort();
    reloader.abort();
    key_cleaner.abort();
    finaliser.abort();
    webhooks.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
