//! OAuth 2.0 client credentials: secrets, tokens, the client registry and
//! the extractors that enforce authentication, scopes and tenant isolation.

pub mod extract;
pub mod registry;
pub mod scopes;
pub mod secrets;
pub mod tokens;

use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

use crate::gcra::{KeyedLimiter, Quota};

/// Failed token requests allowed per client id and peer address: a burst of
/// 10, then one every 6 seconds. Enough for a person who mistyped, far too
/// few to guess a 256-bit secret (which is hopeless anyway) or to hammer the
/// database.
pub const FAILED_TOKEN_QUOTA: Quota = Quota {
    interval: Duration::from_secs(6),
    burst: 10,
};

/// Failed token requests allowed per peer address, whatever client ids it
/// tries: ten times the quota of one client id, so that a vendor whose
/// servers share one address can mistype for several clients at once.
pub const FAILED_TOKEN_QUOTA_PER_PEER: Quota = Quota {
    interval: Duration::from_millis(600),
    burst: 100,
};

/// Tokens issued per peer address: a burst of 100, then 10 a second. Far
/// more than a vendor needs (a token lasts an hour), few enough that the
/// token endpoint, a database read each, cannot be used to load the server.
pub const TOKEN_ISSUE_QUOTA_PER_PEER: Quota = Quota::per_second(10, 100);

/// Who a token request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailureKey {
    /// A client id tried from one peer address. Failures are counted per
    /// pair, so that someone who knows a client id (it is not secret) and
    /// fails from elsewhere cannot lock its real owner out.
    ClientPeer(Uuid, Option<IpAddr>),
    /// Every failure from one peer address.
    Peer(IpAddr),
    /// Every token request from one peer address, failed or not.
    Issued(IpAddr),
    /// Bearer tokens from one peer address that did not verify.
    BadBearer(IpAddr),
}

/// Bearer tokens that do not verify, per peer address: a burst of 100, then 10 a second.
/// A client whose token expired gets its 401 and fetches a new one; only someone trying
/// many tokens meets this.
pub const BAD_BEARER_QUOTA_PER_PEER: Quota = Quota::per_second(10, 100);

/// Everything authentication needs, shared by the whole router.
#[derive(Debug)]
pub struct Auth {
    /// Token signing and verification.
    pub keys: tokens::TokenKeys,
    /// Every known client.
    pub registry: registry::ClientRegistry,
    /// Failed token requests.
    pub failures: KeyedLimiter<FailureKey>,
    /// How fast failures are forgiven.
    pub failure_quota: Quota,
}

impl Auth {
    /// Authentication with the given signing key and token lifetime.
    pub fn new(keys: tokens::TokenKeys) -> Self {
        Self {
            keys,
            registry: registry::ClientRegistry::default(),
            failures: KeyedLimiter::default(),
            failure_quota: FAILED_TOKEN_QUOTA,
        }
    }
}

/// The default lifetime of an access token.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
