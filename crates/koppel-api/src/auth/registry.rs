//! The in-memory view of every client, so that verifying a request needs no
//! database round trip.
//!
//! The admin API and the token endpoint update it the moment they change a
//! client, so revocation, rotation and grants take effect at once in this
//! process. Other instances learn of a change from the database: a trigger
//! announces every client change (`LISTEN koppel_clients`), which
//! [`follow_changes`] applies within moments; a client this process has never
//! seen is looked up on first use ([`ClientRegistry::find`]); and a full
//! [`ClientRegistry::reload`] every [`RELOAD_INTERVAL`], and after the
//! listening connection was lost, is the safety net.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use koppel_store::{ClientChange, ClientRecord, Store, StoreError};
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

    /// The state of one client; one this process does not know yet (created
    /// through another instance a moment ago) is looked up in the database.
    pub async fn find(
        &self,
        id: Uuid,
        store: &Store,
    ) -> Result<Option<Arc<ClientState>>, StoreError> {
        if let Some(state) = self.get(id) {
            return Ok(Some(state));
        }
        self.refresh(id, store).await?;
        Ok(self.get(id))
    }

    /// Reads one client from the database again.
    pub async fn refresh(&self, id: Uuid, store: &Store) -> Result<(), StoreError> {
        match store.clients().find(id).await? {
            Some(record) => self.update(&record),
            None => {
                self.clients
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
            }
        }
        Ok(())
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

/// How long to wait before listening again after the database refused.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// Applies every client change announced by any instance, for ever; `koppel
/// serve` spawns it. Each (re)start of listening reloads every client, since
/// announcements made while nobody listened are gone.
pub async fn follow_changes(auth: Arc<super::Auth>, store: Store) {
    let registry = &auth.registry;
    loop {
        match store.client_changes().await {
            Ok(mut changes) => {
                if let Err(e) = registry.reload(&store).await {
                    tracing::warn!(error = %e, "could not reload the clients");
                }
                loop {
                    let applied = match changes.next().await {
                        Ok(ClientChange::Changed(id)) => registry.refresh(id, &store).await,
                        Ok(ClientChange::Missed) => registry.reload(&store).await,
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the client change announcements");
                            break;
                        }
                    };
                    if let Err(e) = applied {
                        tracing::warn!(error = %e, "could not apply a client change");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not listen for client changes"),
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}
