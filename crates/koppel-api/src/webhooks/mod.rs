//! Webhooks: the change feed pushed to connectors' endpoints, signed as the Standard Webhooks
//! specification says, from the durable outbox in the store (`koppel_store::webhooks`).
//!
//! [`deliver::run`] is the job every `koppel serve` runs; [`address`] decides where a webhook
//! may go; this module holds the settings, the secrets, the signature and the retry schedule.

pub mod address;
pub mod deliver;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};

use self::address::AllowedHosts;

/// How the delivery job behaves.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// `KOPPEL_WEBHOOK_ALLOW_HOSTS`: hosts reached over `http` or `https` whatever their
    /// address (loopback for development and tests).
    pub allowed_hosts: Arc<AllowedHosts>,
    /// This node's name for its leases; a node restarted under the same name takes its
    /// endpoints back at once instead of waiting for its old leases to run out.
    pub node: String,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
    /// The wait after the first failed attempt; it doubles with every further one.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_cap: Duration,
    /// How long a delivery is retried before it is given up.
    pub give_up_after: Duration,
    /// How long an endpoint may fail before it is disabled.
    pub disable_after: Duration,
    /// How often the outbox is filled and claimed.
    pub tick: Duration,
    /// How long a claim lasts unless renewed (before every attempt).
    pub lease: Duration,
    /// How many endpoints one node delivers to at once (each one delivery at a time).
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: Arc::default(),
            node: format!("koppel-{}", uuid::Uuid::new_v4()),
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(4 * 3600),
            give_up_after: Duration::from_secs(3 * 24 * 3600),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            tick: Duration::from_millis(100),
            lease: Duration::from_secs(30),
            concurrency: 16,
        }
    }
}

/// How many bytes of a receiver's answer are read; the rest is dropped.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// How long a rotated-out secret keeps signing.
pub const PREVIOUS_SECRET_SIGNS_FOR: Duration = Duration::from_secs(24 * 3600);

/// A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks
/// libraries take it.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the
/// current secret, and a second one with the previous secret while it still signs. `None`
/// only when a stored secret is not base64 (never, for secrets Koppel made).
pub fn signature(
    secret: &str,
    previous: Option<&str>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Option<String> {
    let sign = |secret: &str| {
        standardwebhooks::Webhook::new(secret)
            .and_then(|hook| hook.sign(id, timestamp, body))
            .ok()
    };
    let mut header = sign(secret)?;
    if let Some(previous) = previous.and_then(sign) {
        header.push(' ');
        header.push_str(&previous);
    }
    Some(header)
}

/// When to try a delivery again after its `attempts`-th failure at `now`: the wait starts at
/// `retry_base`, doubles each time up to `retry_cap`, and is spread by ±20 % so that many
/// deliveries failing together do not return together. `None` once the delivery has been
/// tried for `give_up_after` since its first attempt.
pub fn next_attempt(
    config: &WebhookConfig,
    attempts: i32,
    first_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let tried_for = (now - first_attempt_at).to_std().unwrap_or_default();
    if tried_for >= config.give_up_after {
        return None;
    }
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let wait = config
        .retry_base
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(config.retry_cap)
        .mul_f64(rand::rng().random_range(0.8..1.2));
    Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    #[test]
    fn a_signature_verifies_with_the_reference_library_and_both_secrets_sign_after_rotation() {
        let old = generate_secret();
        let new = generate_secret();
        assert!(new.starts_with("whsec_") && new != old);
        let body = br#"{"id":"1-2","type":"order.created"}"#;
        let now = Utc::now().timestamp();
        let header = signature(&new, Some(&old), "1-2", now, body).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("webhook-id", "1-2".parse().unwrap());
        headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
        headers.insert("webhook-signature", header.parse().unwrap());
        for secret in [&new, &old] {
            standardwebhooks::Webhook::new(secret)
                .unwrap()
                .verify(body, &headers)
                .unwrap();
        }
        let stranger = standardwebhooks::Webhook::new(&generate_secret()).unwrap();
        assert!(stranger.verify(body, &headers).is_err());
        let mut tampered = headers.clone();
        tampered.insert("webhook-id", "1-3".parse().unwrap());
        assert!(
            standardwebhooks::Webhook::new(&new)
                .unwrap()
                .verify(body, &tampered)
                .is_err()
        );
        // Without a previous secret there is one signature.
        assert_eq!(
            signature(&new, None, "1-2", now, body)
                .unwrap()
                .split(' ')
                .count(),
            1
        );
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_for_three_days_then_give_up() {
        let config = WebhookConfig::default();
        let queued = Utc::now();
        let mut now = queued;
        let mut waits = Vec::new();
        let mut attempts = 1;
        while let Some(next) = next_attempt(&config, attempts, queued, now) {
            waits.push((next - now).num_milliseconds());
            now = next;
            attempts += 1;
        }
        // 5 s ± 20 %, then about double each time, never above 4 h + 20 %.
        assert!((4_000..=6_000).contains(&waits[0]), "{waits:?}");
        assert!((8_000..=12_000).contains(&waits[1]), "{waits:?}");
        assert!(waits.iter().all(|w| *w <= 4 * 3600 * 1200), "{waits:?}");
        // Given up only after three days of trying, and not much later.
        let tried = now - queued;
        assert!(tried >= chrono::Duration::days(3), "{tried}");
        assert!(tried < chrono::Duration::days(3) + chrono::Duration::hours(5));
        assert!((20..60).contains(&attempts), "{attempts} attempts");
    }
}
