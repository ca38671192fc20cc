//! Configuration from the environment (README.md, "Running it for real").

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use koppel_api::auth::tokens::{MIN_KEY_LEN, check_signing_key};
use koppel_api::middleware::client_address::TrustedProxy;
use koppel_api::webhooks::address::AllowedHosts;
use koppel_store::{PoolConfig, Store};

use crate::logging::LogFormat;

/// Where the server listens unless `KOPPEL_LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";

/// Limits on connections, which `koppel serve` keeps below the router.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// `KOPPEL_HEADER_TIMEOUT_SECS`: how long a request's head may take to
    /// arrive, from its first byte.
    pub header_read_timeout: Duration,
    /// `KOPPEL_IDLE_TIMEOUT_SECS`: how long a connection may wait for its next
    /// request (SPEC "Bounds": 60 s); at least the header timeout.
    pub idle_timeout: Duration,
    /// `KOPPEL_MAX_CONNECTIONS`: open connections at most; more wait in the
    /// listen backlog. Below the usual limit of 1,024 open files, with room
    /// for the database pool and logs.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 768,
        }
    }
}

/// Everything `koppel serve` needs.
#[derive(Debug)]
pub struct Config {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `KOPPEL_LISTEN_ADDR`.
    pub listen_addr: SocketAddr,
    /// `KOPPEL_SIGNING_KEY`: secret material for access tokens.
    pub signing_key: Vec<u8>,
    /// `KOPPEL_LOG_FORMAT`: `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// `KOPPEL_PUBLIC_URL`: the base URL clients use; default `http://` + listen address.
    pub public_url: String,
    /// Header timeout and connection cap.
    pub connection_limits: ConnectionLimits,
    /// `KOPPEL_BODY_TIMEOUT_SECS`: how long a request body may take to arrive.
    pub body_read_timeout: Duration,
    /// `KOPPEL_IDEMPOTENCY_QUOTA`: how many idempotency keys a client may hold at once.
    pub idempotency_quota: u64,
    /// `KOPPEL_METRICS_TOKEN`: the bearer token `/metrics` requires; unset,
    /// only loopback peers may read it.
    pub metrics_token: Option<String>,
    /// `KOPPEL_TRUSTED_PROXIES`: comma-separated addresses or networks of reverse
    /// proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// `KOPPEL_WEBHOOK_ALLOW_HOSTS`: comma-separated hosts webhooks may reach over `http`
    /// and whatever their address (loopback for development and tests); with
    /// `KOPPEL_WEBHOOK_PUBLIC=false`, the only hosts they may reach.
    pub webhook_allowed_hosts: AllowedHosts,
    /// `KOPPEL_NODE_NAME`: this server's name among the nodes on one database, unique per
    /// node; default the host name and the listen address. A node restarted under the same
    /// name takes its webhook deliveries back at once.
    pub node_name: String,
}

/// A positive whole number from the environment, or `default` when unset.
fn positive(name: &str, default: u64) -> anyhow::Result<u64> {
    match var(name) {
        None => Ok(default),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("{name} {value:?} is not a whole number above 0"),
        },
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads the configuration; a missing signing key or database URL is an error.
    pub fn from_env() -> anyhow::Result<Self> {
        let database_url = var("DATABASE_URL").context("DATABASE_URL is not set")?;
        let Some(signing_key) = var("KOPPEL_SIGNING_KEY") else {
            bail!(
                "KOPPEL_SIGNING_KEY is not set: refusing to start without secret material for tokens \
                 (use at least {MIN_KEY_LEN} random bytes, e.g. `openssl rand -base64 48`)"
            );
        };
        if let Err(why) = check_signing_key(signing_key.as_bytes()) {
            bail!("KOPPEL_SIGNING_KEY is refused: {why}");
        }
        let listen_addr =
            var("KOPPEL_LISTEN_ADDR").unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_owned());
        let listen_addr: SocketAddr = listen_addr.parse().with_context(|| {
            format!("KOPPEL_LISTEN_ADDR {listen_addr:?} is not an address like 127.0.0.1:8080")
        })?;
        let log_format = match var("KOPPEL_LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => bail!("KOPPEL_LOG_FORMAT {other:?} is neither json nor pretty"),
        };
        let public_url =
            var("KOPPEL_PUBLIC_URL").unwrap_or_else(|| format!("http://{listen_addr}"));
        let defaults = ConnectionLimits::default();
        let connection_limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(positive(
                "KOPPEL_HEADER_TIMEOUT_SECS",
                defaults.header_read_timeout.as_secs(),
            )?),
            idle_timeout: Duration::from_secs(positive(
                "KOPPEL_IDLE_TIMEOUT_SECS",
                defaults.idle_timeout.as_secs(),
            )?),
            max_connections: usize::try_from(positive(
                "KOPPEL_MAX_CONNECTIONS",
                defaults.max_connections as u64,
            )?)?,
        };
        if connection_limits.idle_timeout < connection_limits.header_read_timeout {
            bail!(
                "KOPPEL_IDLE_TIMEOUT_SECS ({}) is shorter than KOPPEL_HEADER_TIMEOUT_SECS ({}): \
                 an idle connection may wait at least as long as a head may take",
                connection_limits.idle_timeout.as_secs(),
                connection_limits.header_read_timeout.as_secs()
            );
        }
        let body_read_timeout = Duration::from_secs(positive(
            "KOPPEL_BODY_TIMEOUT_SECS",
            koppel_api::BODY_READ_TIMEOUT.as_secs(),
        )?);
        let idempotency_quota = positive(
            "KOPPEL_IDEMPOTENCY_QUOTA",
            koppel_api::middleware::idempotency::QUOTA,
        )?;
        Ok(Self {
            database_url,
            idempotency_quota,
            listen_addr,
            signing_key: signing_key.into_bytes(),
            log_format,
            public_url,
            connection_limits,
            body_read_timeout,
            metrics_token: var("KOPPEL_METRICS_TOKEN"),
            trusted_proxies: var("KOPPEL_TRUSTED_PROXIES")
                .map(|list| {
                    list.split(',')
                        .filter(|p| !p.trim().is_empty())
                        .map(TrustedProxy::parse)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
                .map_err(|e| anyhow::anyhow!("KOPPEL_TRUSTED_PROXIES: {e}"))?
                .unwrap_or_default(),
            webhook_allowed_hosts: {
                let hosts =
                    AllowedHosts::parse(&var("KOPPEL_WEBHOOK_ALLOW_HOSTS").unwrap_or_default());
                match var("KOPPEL_WEBHOOK_PUBLIC").as_deref() {
                    None | Some("true") => hosts,
                    Some("false") => hosts.only_these(),
                    Some(other) => {
                        bail!("KOPPEL_WEBHOOK_PUBLIC {other:?} is neither true nor false")
                    }
                }
            },
            node_name: var("KOPPEL_NODE_NAME").unwrap_or_else(|| {
                let host = var("HOSTNAME")
                    .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "koppel".to_owned());
                format!("{host}:{listen_addr}")
            }),
        })
    }
}

/// A store from `DATABASE_URL`, for the commands that need only the database.
pub fn store_from_env() -> anyhow::Result<Store> {
    let url = var("DATABASE_URL").context("DATABASE_URL is not set")?;
    Ok(Store::connect_lazy(&url, &PoolConfig::default())?)
}
