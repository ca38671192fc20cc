//! The in-memory view of every client, so that verifying a request needs no
//! database round trip.
//!
//! The admin API and the token endpoint update it the moment they change a
//! client, so revocation, rotation and grants take effect at once in this
//! process. Other instances learn of a change by [`ClientRegistry::reload`],
//! which `koppel serve` runs every [`RELOAD_INTERVAL`]: that is the bound on
//! how long a revoked client keeps working on another instance.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use koppel_store::{ClientRecord, Store, StoreError};
use uuid::Uuid;

use super::scopes::ClientKind;

/// How often `koppel serve` reloads the registry from the database.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// What the API needs to know of a client on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientState {
    /// The client's kind.
    pub kind: ClientKind,
    /// The secret version tokens must carry.
    pub secret_version: i32,
    /// Whether the client was revoked.
    pub revoked: bool,
    /// The companies the client may act on.
    pub companies: HashSet<Uuid>,
    /// The scopes the client holds; a token's claimed scopes count only as
    /// far as they are among these.
    pub scopes: HashSet<String>,
    /// Rate limit override (per second, burst).
    pub rate_limit: Option<(u32, u32)>,
}

impl ClientState {
    fn from_record(record: &ClientRecord) -> Option<Self> {
        Some(Self {
            kind: ClientKind::parse(&record.kind)?,
            secret_version: record.secret_version,
            revoked: record.revoked_at.is_some(),
            companies: record.company_ids.iter().copied().collect(),
            scopes: record.scopes.iter().cloned().collect(),
            rate_limit: match (record.rate_limit_per_second, record.rate_limit_burst) {
                (Some(rate), Some(burst)) => {
                    Some((u32::try_from(rate).ok()?, u32::try_from(burst).ok()?))
                }
                _ => None,
            },
        })
    }
}

/// Every client this process knows of.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: RwLock<HashMap<Uuid, Arc<ClientState>>>,
}

impl ClientRegistry {
    /// Replaces the whole registry with what the database holds.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let records = store.clients().all().await?;
        let fresh: HashMap<Uuid, Arc<ClientState>> = records
            .iter()
            .filter_map(|r| Some((r.id, Arc::new(ClientState::from_record(r)?))))
            .collect();
        *self.clients.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// Records the current state of one client.
    pub fn update(&self, record: &ClientRecord) {
        let mut clients = self.clients.write().unwrap_or_else(|p| p.into_inner());
        match ClientState::from_record(record) {
            Some(state) => clients.insert(record.id, Arc::new(state)),
            None => clients.remove(&record.id),
        };
    }

    /// The state of one client, if known. Shared, so that the hot path copies
    /// a pointer rather than the client's set of companies.
    pub fn get(&self, id: Uuid) -> Option<Arc<ClientState>> {
        self.clients
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }
}
