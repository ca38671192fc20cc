//! The one error type of the API and its RFC 9457 problem bodies.
//!
//! A handler returns [`ApiError`]; its `IntoResponse` sets the status and
//! parks the error in the response's extensions. The outermost middleware
//! ([`crate::middleware::observe`]) then writes the problem body, because only it knows the
//! request id and the caller's language. Every `code` is a [`ProblemCode`], so
//! the list of codes a client may see is in one place and documented.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use koppel_domain::problem::Violation;
use koppel_store::StoreError;

use crate::language::Language;

mod codes;
mod problem;

pub use codes::{CodeInfo, ProblemCode};
pub use problem::{MAX_PROBLEM_ITEMS, Problem, ProblemItem};

/// The content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error the API answers with a problem body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The body is not well-formed JSON.
    #[error("malformed json: {0}")]
    MalformedJson(String),
    /// The request's content is wrong; every problem is listed.
    #[error("invalid request")]
    InvalidRequest(Vec<Violation>),
    /// A path or query parameter is wrong.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The body is not JSON (or not form-encoded where that is expected).
    #[error("unsupported media type")]
    UnsupportedMediaType {
        /// The content type the endpoint takes.
        expected: &'static str,
    },
    /// The body exceeds the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body did not arrive within the time allowed for it.
    #[error("request body timed out")]
    RequestTimeout,
    /// No valid bearer token.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The token lacks a scope.
    #[error("insufficient scope {0}")]
    InsufficientScope(String),
    /// The resource does not exist or is not visible to this client.
    #[error("not found")]
    NotFound,
    /// The path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// An idempotency key was used before with another request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// An earlier request with the same idempotency key is still running.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse {
        /// Whole seconds after which to try again.
        retry_after: u64,
    },
    /// The client holds as many idempotency keys as its quota allows.
    #[error("idempotency quota exceeded")]
    IdempotencyQuotaExceeded {
        /// Whole seconds until its oldest key expires.
        retry_after: u64,
    },
    /// The client's rate limit is spent.
    #[error("rate limited")]
    RateLimited {
        /// Whole seconds until the next request is allowed.
        retry_after: u64,
    },
    /// The database cannot be reached.
    #[error("service unavailable")]
    Unavailable,
    /// The request's transaction collided with a concurrent one and was
    /// rolled back; sending it again succeeds.
    #[error("collided with a concurrent request")]
    Contention,
    /// A bug. The cause has been logged where the error was made.
    #[error("internal error")]
    Internal,
}

/// The `Retry-After` of an answer given while the database is unavailable:
/// a restart or fail-over usually completes within it.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl ApiError {
    /// The stable code of this error.
    pub fn code(&self) -> ProblemCode {
        match self {
            ApiError::MalformedJson(_) => ProblemCode::MalformedJson,
            ApiError::InvalidRequest(_) => ProblemCode::InvalidRequest,
            ApiError::InvalidParameter(_) => ProblemCode::InvalidParameter,
            ApiError::UnsupportedMediaType { .. } => ProblemCode::UnsupportedMediaType,
            ApiError::PayloadTooLarge => ProblemCode::PayloadTooLarge,
            ApiError::RequestTimeout => ProblemCode::RequestTimeout,
            ApiError::Unauthorized(_) => ProblemCode::Unauthorized,
            ApiError::InsufficientScope(_) => ProblemCode::InsufficientScope,
            ApiError::NotFound => ProblemCode::NotFound,
            ApiError::MethodNotAllowed => ProblemCode::MethodNotAllowed,
            ApiError::IdempotencyKeyReused => ProblemCode::IdempotencyKeyReused,
            ApiError::IdempotencyKeyInUse { .. } => ProblemCode::IdempotencyKeyInUse,
            ApiError::RateLimited { .. } => ProblemCode::RateLimited,
            ApiError::IdempotencyQuotaExceeded { .. } => ProblemCode::IdempotencyQuotaExceeded,
            ApiError::Unavailable | ApiError::Contention => ProblemCode::ServiceUnavailable,
            ApiError::Internal => ProblemCode::InternalError,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().info().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A request-content error with a single problem.
    pub fn invalid(pointer: impl Into<String>, code: &'static str, en: String, nl: String) -> Self {
        ApiError::InvalidRequest(vec![Violation {
            pointer: pointer.into(),
            code,
            message_en: en,
            message_nl: nl,
        }])
    }

    /// Logs an unexpected error with its cause, inside the request's span, and
    /// answers a bare internal error so that nothing internal leaks out.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "internal error");
        ApiError::Internal
    }

    fn detail(&self, language: Language) -> String {
        let nl = language == Language::Dutch;
        match self {
            ApiError::MalformedJson(reason) => {
                if nl {
                    format!("de body kon niet als JSON worden gelezen: {reason}")
                } else {
                    format!("the body could not be parsed as JSON: {reason}")
                }
            }
            ApiError::InvalidRequest(violations) => {
                let n = violations.len();
                match (nl, n) {
                    (true, 1) => "het verzoek bevat 1 fout; zie errors".to_owned(),
                    (true, _) => format!("het verzoek bevat {n} fouten; zie errors"),
                    (false, 1) => "the request has 1 error; see errors".to_owned(),
                    (false, _) => format!("the request has {n} errors; see errors"),
                }
            }
            ApiError::InvalidParameter(reason) => {
                if nl {
                    format!("ongeldige parameter: {reason}")
                } else {
                    format!("invalid parameter: {reason}")
                }
            }
            ApiError::UnsupportedMediaType { expected } => {
                if nl {
                    format!("stuur de body als {expected}")
                } else {
                    format!("send the body as {expected}")
                }
            }
            ApiError::PayloadTooLarge => {
                if nl {
                    "de body overschrijdt de maximale grootte; splits de batch".to_owned()
                } else {
                    "the body exceeds the size limit; split the batch".to_owned()
                }
            }
            ApiError::RequestTimeout => {
                if nl {
                    "de body van het verzoek kwam niet binnen de toegestane tijd binnen; verstuur het verzoek opnieuw".to_owned()
                } else {
                    "the request body did not arrive within the time allowed; send the request again".to_owned()
                }
            }
            ApiError::Unauthorized(reason) => {
                if nl {
                    format!("stuur een geldig Bearer-token in de Authorization-header ({reason})")
                } else {
                    format!("send a valid bearer token in the Authorization header ({reason})")
                }
            }
            ApiError::InsufficientScope(scope) => {
                if nl {
                    format!("voor dit verzoek is de scope {scope} nodig")
                } else {
                    format!("this request needs the scope {scope}")
                }
            }
            ApiError::NotFound => {
                if nl {
                    "deze resource bestaat niet of is niet zichtbaar voor deze client".to_owned()
                } else {
                    "this resource does not exist or is not visible to this client".to_owned()
                }
            }
            ApiError::MethodNotAllowed => {
                if nl {
                    "deze methode wordt op dit pad niet ondersteund".to_owned()
                } else {
                    "this method is not supported on this path".to_owned()
                }
            }
            ApiError::IdempotencyKeyReused => {
                if nl {
                    "deze Idempotency-Key hoort bij een verzoek met een andere methode, pad of body; gebruik een nieuwe sleutel voor een nieuw verzoek".to_owned()
                } else {
                    "this Idempotency-Key belongs to a request with another method, path or body; use a new key for a new request".to_owned()
                }
            }
            ApiError::IdempotencyKeyInUse { retry_after } => {
                if nl {
                    format!(
                        "een eerder verzoek met deze Idempotency-Key loopt nog; probeer het over {retry_after} seconden opnieuw"
                    )
                } else {
                    format!(
                        "an earlier request with this Idempotency-Key is still running; retry in {retry_after} seconds"
                    )
                }
            }
            ApiError::IdempotencyQuotaExceeded { retry_after } => {
                if nl {
                    format!(
                        "deze client bewaart al zoveel Idempotency-Keys als toegestaan; een nieuwe sleutel kan over {retry_after} seconden, als de oudste vervalt (een bekende sleutel wordt nog steeds herhaald)"
                    )
                } else {
                    format!(
                        "this client keeps as many Idempotency-Keys as it may; a new key is taken in {retry_after} seconds, when the oldest expires (a known key is still replayed)"
                    )
                }
            }
            ApiError::RateLimited { retry_after } => {
                if nl {
                    format!(
                        "de limiet van deze client is bereikt; probeer het over {retry_after} seconden opnieuw (zie Retry-After)"
                    )
                } else {
                    format!(
                        "this client's rate limit is spent; retry in {retry_after} seconds (see Retry-After)"
                    )
                }
            }
            ApiError::Unavailable => {
                if nl {
                    "de database is tijdelijk niet bereikbaar; probeer het later opnieuw".to_owned()
                } else {
                    "the database is temporarily unreachable; retry later".to_owned()
                }
            }
            ApiError::Contention => {
                if nl {
                    "het verzoek botste met een gelijktijdig verzoek en is teruggedraaid; er is \
                     niets opgeslagen; stuur het opnieuw"
                        .to_owned()
                } else {
                    "the request collided with a concurrent one and was rolled back; nothing \
                     was stored; send it again"
                        .to_owned()
                }
            }
            ApiError::Internal => {
                if nl {
                    "er ging iets mis aan onze kant; noem het request_id als u contact opneemt"
                        .to_owned()
                } else {
                    "something went wrong on our side; quote the request_id when you contact us"
                        .to_owned()
                }
            }
        }
    }

    /// Renders the problem body for a language and request id.
    pub fn to_problem(&self, language: Language, request_id: &str) -> Problem {
        let info = self.code().info();
        let (errors, error_count) = match self {
            ApiError::InvalidRequest(violations) => (
                Some(ProblemItem::all(violations, language)),
                Some(violations.len()),
            ),
            _ => (None, None),
        };
        Problem {
            r#type: format!("urn:koppel:problem:{}", info.code),
            title: match language {
                Language::Dutch => info.title_nl.to_owned(),
                Language::English => info.title_en.to_owned(),
            },
            status: info.status,
            detail: self.detail(language),
            code: info.code.to_owned(),
            request_id: request_id.to_owned(),
            errors,
            error_count,
        }
    }
}

/// Marks a response whose problem body the outer middleware still has to write.
#[derive(Debug, Clone)]
pub(crate) struct PendingProblem(pub ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A complete English body without a request id, in case this response
        // is ever produced outside the middleware that completes it.
        let body = serde_json::to_vec(&self.to_problem(Language::English, "")).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::Unauthorized(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"koppel\""),
            );
        }
        if let ApiError::InsufficientScope(scope) = &self
            && let Ok(value) = HeaderValue::from_str(&format!(
                "Bearer realm=\"koppel\", error=\"insufficient_scope\", scope=\"{scope}\""
            ))
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if let ApiError::RateLimited { retry_after }
        | ApiError::IdempotencyKeyInUse { retry_after }
        | ApiError::IdempotencyQuotaExceeded { retry_after } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if let ApiError::Unavailable = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        if let ApiError::Contention = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response.extensions_mut().insert(PendingProblem(self));
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::InvalidValue(kind) => {
                ApiError::InvalidParameter(kind.describe().to_owned())
            }
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %ErrorChain(&cause), "database unavailable");
                ApiError::Unavailable
            }
            StoreError::Contention(cause) => {
                tracing::warn!(error = %ErrorChain(&cause), "rolled back by a concurrent request");
                ApiError::Contention
            }
            other => ApiError::internal(&other),
        }
    }
}

/// Displays an error with all its sources, for logs.
pub(crate) struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::closed_sets::tests::values;

    #[test]
    fn the_documented_problem_codes_are_the_table_and_each_is_unique() {
        let table: Vec<&str> = ProblemCode::ALL.iter().map(|c| c.info().code).collect();
        assert_eq!(values::<ProblemCode>(), table);
        let unique: BTreeSet<&str> = table.iter().copied().collect();
        assert_eq!(unique.len(), table.len());
        for code in ProblemCode::ALL {
            let info = code.info();
            assert!(
                StatusCode::from_u16(info.status)
                    .is_ok_and(|s| s.is_client_error() || s.is_server_error()),
                "{}",
                info.code
            );
            assert!(!info.title_en.is_empty() && !info.title_nl.is_empty());
        }
    }

    #[test]
    fn an_error_answers_its_codes_status() {
        assert_eq!(ApiError::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::Contention.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let problem = ApiError::RequestTimeout.to_problem(Language::Dutch, "r1");
        assert_eq!(problem.code, "request_timeout");
        assert_eq!(problem.r#type, "urn:koppel:problem:request_timeout");
        assert_eq!(problem.status, 408);
    }
}
