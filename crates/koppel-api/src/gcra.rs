//! A keyed token bucket, as the generic cell rate algorithm (GCRA).
//!
//! Our own rather than the `governor` crate's because the API must tell a
//! client what is left *without spending any* (`GET /v1/rate-limit`) and give
//! each client its own quota; governor's keyed limiter offers neither. The
//! algorithm is the same: per key one instant, the theoretical arrival time
//! (TAT); a request at `now` is allowed when `max(TAT, now) + T − now ≤ B·T`,
//! with `T` the time to earn one token and `B` the bucket size.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The time to earn one token.
    pub interval: Duration,
    /// The most tokens that can be saved up, and so the largest burst.
    pub burst: u32,
}

impl Quota {
    /// `per_second` tokens a second, saving up to `burst`.
    pub const fn per_second(per_second: u32, burst: u32) -> Self {
        let per_second = if per_second == 0 { 1 } else { per_second };
        Quota {
            interval: Duration::from_nanos(1_000_000_000 / per_second as u64),
            burst,
        }
    }

    fn interval(&self) -> Duration {
        self.interval.max(Duration::from_nanos(1))
    }

    fn capacity(&self) -> Duration {
        self.interval() * self.burst.max(1)
    }
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// Tokens left after this request.
    pub remaining: u32,
    /// Time until the bucket is full again.
    pub reset: Duration,
    /// When refused: time until one token is available.
    pub retry_after: Duration,
}

/// Buckets by key.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    tats: Mutex<HashMap<K, Instant>>,
}

impl<K> Default for KeyedLimiter<K> {
    fn default() -> Self {
        Self {
            tats: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// Takes one token from `key`'s bucket if there is one.
    pub fn check(&self, key: &K, quota: Quota, now: Instant) -> Decision {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if tats.len() > 100_000 {
            // Full buckets carry no information; forget them so that many
            // distinct keys (e.g. peer addresses) cannot grow the map forever.
            tats.retain(|_, tat| *tat > now);
        }
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let decision = decide(tat, quota, now);
        if decision.allowed {
            tats.insert(key.clone(), tat + quota.interval());
        }
        decision
    }

    /// Gives back the token a [`check`](Self::check) took, when what it was
    /// taken for turned out not to count (a failure quota reserved before an
    /// attempt that then succeeded). Taking first and refunding after, rather
    /// than peeking first and taking after, leaves no gap in which parallel
    /// requests all pass the check.
    pub fn refund(&self, key: &K, quota: Quota, now: Instant) {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tat) = tats.get_mut(key) {
            match tat.checked_sub(quota.interval()) {
                Some(earlier) if earlier > now => *tat = earlier,
                _ => {
                    tats.remove(key);
                }
            }
        }
    }

    /// What a check would find, without taking a token.
    pub fn peek(&self, key: &K, quota: Quota, now: Instant) -> Decision {
        let tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        // The state before a request: remaining counts the tokens available now.
        let backlog = tat - now;
        let capacity = quota.capacity();
        let remaining = (capacity.saturating_sub(backlog).as_nanos()
            / quota.interval().as_nanos().max(1)) as u32;
        Decision {
            allowed: remaining > 0,
            remaining,
            reset: backlog,
            retry_after: if remaining > 0 {
                Duration::ZERO
            } else {
                backlog + quota.interval() - capacity
            },
        }
    }
}

fn decide(tat: Instant, quota: Quota, now: Instant) -> Decision {
    let interval = quota.interval();
    let capacity = quota.capacity();
    let new_tat = tat + interval;
    let backlog = new_tat - now;
    if backlog <= capacity {
        let remaining = ((capacity - backlog).as_nanos() / interval.as_nanos().max(1)) as u32;
        Decision {
            allowed: true,
            remaining,
            reset: backlog,
            retry_after: Duration::ZERO,
        }
    } else {
        let waited = tat - now;
        Decision {
            allowed: false,
            remaining: 0,
            reset: waited,
            retry_after: backlog - capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: Quota = Quota::per_second(2, 3);

    #[test]
    fn a_refunded_token_can_be_taken_again_and_refunds_never_exceed_the_burst() {
        let limiter = KeyedLimiter::default();
        let now = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(&"k", QUOTA, now).allowed);
        }
        assert!(!limiter.check(&"k", QUOTA, now).allowed);
        limiter.refund(&"k", QUOTA, now);
        assert!(limiter.check(&"k", QUOTA, now).allowed);
        for _ in 0..10 {
            limiter.refund(&"k", QUOTA, now);
        }
        assert_eq!(limiter.peek(&"k", QUOTA, now).remaining, 3);
    }

    #[test]
    fn a_full_bucket_allows_its_burst_then_refuses_until_a_token_is_earned() {
        let limiter = KeyedLimiter::default();
        let t0 = Instant::now();
        let remaining: Vec<u32> = (0..3)
            .map(|_| limiter.check(&"a", QUOTA, t0).remaining)
            .collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        let refused = limiter.check(&"a", QUOTA, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_millis(500));
        assert!(
            !limiter
                .check(&"a", QUOTA, t0 + Duration::from_millis(499))
                .allowed
        );
        assert!(
            limiter
                .check(&"a", QUOTA, t0 + Duration::from_millis(500))
                .allowed
        );
    }

    #[test]
    fn keys_have_their_own_buckets_and_peeking_spends_nothing() {
        let limiter = KeyedLimiter::default();
        let t0 = Instant::now();
        limiter.check(&"a", QUOTA, t0);
        for _ in 0..10 {
            assert_eq!(limiter.peek(&"a", QUOTA, t0).remaining, 2);
        }
        assert_eq!(limiter.peek(&"b", QUOTA, t0).remaining, 3);
        assert_eq!(limiter.check(&"a", QUOTA, t0).remaining, 1);
    }

    #[test]
    fn an_idle_bucket_refills_to_its_burst_and_no_further() {
        let limiter = KeyedLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check(&"a", QUOTA, t0);
        }
        let later = t0 + Duration::from_secs(60);
        assert_eq!(limiter.peek(&"a", QUOTA, later).remaining, 3);
        assert_eq!(limiter.check(&"a", QUOTA, later).remaining, 2);
    }
}
