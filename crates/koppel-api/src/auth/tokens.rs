//! Signed, expiring access tokens (JWT, HS256).
//!
//! A token carries the client, its granted scopes and the secret version it
//! was issued under. Verifying one needs no database: the signature and the
//! in-memory client registry decide.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer: this server's public URL, as its OAuth metadata says.
    pub iss: String,
    /// Audience: the API the token is for, this server's public URL too
    /// (RFC 9068 §2.2); a token of another Koppel deployment that happens to
    /// share the key is refused.
    pub aud: String,
    /// The client id.
    pub sub: Uuid,
    /// The client id again, as RFC 9068 §2.2 names it.
    pub client_id: Uuid,
    /// Space-separated granted scopes (RFC 8693 §4.2 style).
    pub scope: String,
    /// The client's secret version at issue time.
    pub ver: i32,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// A unique id of this token.
    pub jti: Uuid,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token has expired.
    #[error("the token has expired")]
    Expired,
    /// The token is malformed or its signature is wrong.
    #[error("the token is invalid")]
    Invalid,
}

/// Issues and verifies tokens with one key.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    /// How long an issued token is valid.
    pub ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The shortest signing key accepted, in bytes (HS256 wants at least 256 bits).
pub const MIN_KEY_LEN: usize = 32;

/// The fewest distinct byte values a signing key must have (SPEC "Security
/// (v1.1)"): a key of one repeated character or a short repeated word is
/// guessable whatever its length. A hex key has at most 16 distinct
/// characters, so `openssl rand -hex 32` is refused about one time in four:
/// generate keys in base64 (`openssl rand -base64 48`), as the README says.
pub const MIN_DISTINCT_KEY_BYTES: usize = 16;

/// Words that mark a key copied from an example rather than generated.
const PLACEHOLDER_MARKERS: [&str; 6] = [
    "change-me",
    "changeme",
    "change_me",
    "placeholder",
    "example",
    "replace",
];

/// Checks that a signing key is fit to sign production tokens: long enough,
/// varied enough, and not a placeholder from a sample configuration (such as
/// the one `docker-compose.yml` once shipped). Anyone who can read a known key
/// can sign themselves any token, so `koppel serve` refuses to start on one.
pub fn check_signing_key(secret: &[u8]) -> Result<(), String> {
    if secret.len() < MIN_KEY_LEN {
        return Err(format!(
            "the signing key must be at least {MIN_KEY_LEN} bytes"
        ));
    }
    let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
    if let Some(marker) = PLACEHOLDER_MARKERS.iter().find(|m| lower.contains(*m)) {
        return Err(format!(
            "the signing key contains {marker:?}: it is a placeholder from an example, \
             which anyone can read; generate one, e.g. `openssl rand -base64 48`"
        ));
    }
    let mut seen = [false; 256];
    for &b in secret {
        seen[usize::from(b)] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count();
    if distinct < MIN_DISTINCT_KEY_BYTES {
        return Err(format!(
            "the signing key has only {distinct} distinct bytes (at least \
             {MIN_DISTINCT_KEY_BYTES} needed): it is not random; generate one, \
             e.g. `openssl rand -base64 48`"
        ));
    }
    Ok(())
}

impl TokenKeys {
    /// Keys from secret material of at least [`MIN_KEY_LEN`] bytes, for tokens
    /// issued by and for `issuer` (the server's public URL).
    pub fn new(secret: &[u8], ttl: Duration, issuer: &str) -> Result<Self, String> {
        if secret.len() < MIN_KEY_LEN {
            return Err(format!(
                "the signing key must be at least {MIN_KEY_LEN} bytes"
            ));
        }
        let encoding = EncodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        let decoding = DecodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // As the OAuth metadata writes it: without a trailing slash.
        let issuer = issuer.trim_end_matches('/');
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        Ok(Self {
            encoding,
            decoding,
            validation,
            issuer: issuer.to_owned(),
            ttl,
        })
    }

    /// Issues a token valid from `now` for the configured time.
    pub fn issue(
        &self,
        client_id: Uuid,
        scopes: &[String],
        secret_version: i32,
        now: DateTime<Utc>,
    ) -> Result<(String, Claims), String> {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            sub: client_id,
            client_id,
            scope: scopes.join(" "),
            ver: secret_version,
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti: Uuid::new_v4(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())?;
        Ok((token, claims))
    }

    /// Verifies signature, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://koppel.example";

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], Duration::from_secs(3600), ISSUER).unwrap()
    }

    #[test]
    fn placeholder_and_low_entropy_keys_are_refused_and_random_ones_pass() {
        for bad in [
            "change-me-to-at-least-32-random-bytes-of-secret",
            "CHANGEME-CHANGEME-CHANGEME-CHANGEME-1234567",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abcabcabcabcabcabcabcabcabcabcabcabcabcabc",
            "short",
        ] {
            assert!(check_signing_key(bad.as_bytes()).is_err(), "{bad} passed");
        }
        // What `openssl rand -base64 48` prints.
        let random = "q3Jc9Zr1x+8YwTnB0lPaV7mKdE2sHf5uGiO4RtLbNyWvXzA6jQe/CkUoMgSpDhIF";
        assert_eq!(check_signing_key(random.as_bytes()), Ok(()));
        // Fifteen distinct characters, however long: refused.
        let fifteen = "0123456789abcde".repeat(4);
        assert!(check_signing_key(fifteen.as_bytes()).is_err());
        // What `openssl rand -base64 48` prints passes every time.
        use base64::Engine as _;
        for _ in 0..1000 {
            let mut bytes = Vec::new();
            for _ in 0..3 {
                bytes.extend_from_slice(Uuid::new_v4().as_bytes());
            }
            let key = base64::engine::general_purpose::STANDARD.encode(&bytes);
            assert_eq!(check_signing_key(key.as_bytes()), Ok(()), "{key}");
        }
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let id = Uuid::new_v4();
        let (token, claims) = keys()
            .issue(id, &["orders:read".into()], 3, Utc::now())
            .unwrap();
        assert_eq!(keys().verify(&token).unwrap(), claims);
        assert_eq!(claims.sub, id);
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn an_expired_a_tampered_and_a_foreign_token_are_refused() {
        let old = Utc::now() - chrono::Duration::hours(2);
        let (expired, _) = keys().issue(Uuid::new_v4(), &[], 1, old).unwrap();
        assert_eq!(keys().verify(&expired), Err(TokenError::Expired));

        let (token, _) = keys().issue(Uuid::new_v4(), &[], 1, Utc::now()).unwrap();
        let mut tampered = token.clone();
        tampered.insert(tampered.len() - 3, 'x');
        assert_eq!(keys().verify(&tampered), Err(TokenError::Invalid));

        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(3600), ISSUER).unwrap();
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_of_another_deployment_with_the_same_key_is_refused() {
        let (token, claims) = keys().issue(Uuid::new_v4(), &[], 1, Utc::now()).unwrap();
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, ISSUER);
        let elsewhere = TokenKeys::new(
            &[7u8; 32],
            Duration::from_secs(3600),
            "https://other.example",
        )
        .unwrap();
        assert_eq!(elsewhere.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_short_signing_key_is_refused() {
        assert!(TokenKeys::new(b"too short", Duration::from_secs(1), ISSUER).is_err());
    }
}
