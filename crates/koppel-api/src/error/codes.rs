//! The table of problem codes: each code with its HTTP status and its English and Dutch
//! title beside it.

use utoipa::ToSchema;

/// One entry of the code table: a stable code, its status, and its title in
/// English and Dutch.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// Stable, language-neutral code.
    pub code: &'static str,
    /// The HTTP status that goes with it.
    pub status: u16,
    /// English title.
    pub title_en: &'static str,
    /// Dutch title.
    pub title_nl: &'static str,
}

/// Every top-level problem `code` the API answers: one closed set, each with its status and
/// titles beside it in [`ProblemCode::info`], so a code without them cannot compile, and the
/// OpenAPI document lists them as the enum of `Problem.code`. (The `code`s of a problem's
/// `errors` are the domain's table, `koppel_domain::problem::codes`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ProblemCode {
    /// The request body is not valid JSON (400).
    MalformedJson,
    /// The request contains errors (400).
    InvalidRequest,
    /// A parameter is invalid (400).
    InvalidParameter,
    /// Authentication is required (401).
    Unauthorized,
    /// The access token lacks a required scope (403).
    InsufficientScope,
    /// The idempotency key was used with another request (400).
    IdempotencyKeyReused,
    /// The resource was not found (404).
    NotFound,
    /// The method is not allowed for this resource (405).
    MethodNotAllowed,
    /// A request with this idempotency key is still running (409).
    IdempotencyKeyInUse,
    /// The request body did not arrive in time (408).
    RequestTimeout,
    /// The request body is too large (413).
    PayloadTooLarge,
    /// The content type is not supported (415).
    UnsupportedMediaType,
    /// Too many requests (429).
    RateLimited,
    /// The client holds as many idempotency keys as it may (429).
    IdempotencyQuotaExceeded,
    /// The service is temporarily unavailable (503).
    ServiceUnavailable,
    /// Internal error (500).
    InternalError,
}

impl ProblemCode {
    /// Every code, in the order of the table.
    pub const ALL: [ProblemCode; 16] = [
        ProblemCode::MalformedJson,
        ProblemCode::InvalidRequest,
        ProblemCode::InvalidParameter,
        ProblemCode::Unauthorized,
        ProblemCode::InsufficientScope,
        ProblemCode::IdempotencyKeyReused,
        ProblemCode::NotFound,
        ProblemCode::MethodNotAllowed,
        ProblemCode::IdempotencyKeyInUse,
        ProblemCode::RequestTimeout,
        ProblemCode::PayloadTooLarge,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::RateLimited,
        ProblemCode::IdempotencyQuotaExceeded,
        ProblemCode::ServiceUnavailable,
        ProblemCode::InternalError,
    ];

    /// The code's wire name, status and titles.
    pub fn info(self) -> CodeInfo {
        match self {
            ProblemCode::MalformedJson => CodeInfo {
                code: "malformed_json",
                status: 400,
                title_en: "The request body is not valid JSON",
                title_nl: "De body van het verzoek is geen geldige JSON",
            },
            ProblemCode::InvalidRequest => CodeInfo {
                code: "invalid_request",
                status: 400,
                title_en: "The request contains errors",
                title_nl: "Het verzoek bevat fouten",
            },
            ProblemCode::InvalidParameter => CodeInfo {
                code: "invalid_parameter",
                status: 400,
                title_en: "A parameter is invalid",
                title_nl: "Een parameter is ongeldig",
            },
            ProblemCode::Unauthorized => CodeInfo {
                code: "unauthorized",
                status: 401,
                title_en: "Authentication is required",
                title_nl: "Authenticatie is vereist",
            },
            ProblemCode::InsufficientScope => CodeInfo {
                code: "insufficient_scope",
                status: 403,
                title_en: "The access token lacks a required scope",
                title_nl: "Het toegangstoken mist een vereiste scope",
            },
            ProblemCode::IdempotencyKeyReused => CodeInfo {
                code: "idempotency_key_reused",
                status: 400,
                title_en: "The idempotency key was used with another request",
                title_nl: "De idempotency-sleutel is al gebruikt voor een ander verzoek",
            },
            ProblemCode::NotFound => CodeInfo {
                code: "not_found",
                status: 404,
                title_en: "The resource was not found",
                title_nl: "De resource is niet gevonden",
            },
            ProblemCode::MethodNotAllowed => CodeInfo {
                code: "method_not_allowed",
                status: 405,
                title_en: "The method is not allowed for this resource",
                title_nl: "Deze methode is niet toegestaan voor deze resource",
            },
            ProblemCode::IdempotencyKeyInUse => CodeInfo {
                code: "idempotency_key_in_use",
                status: 409,
                title_en: "A request with this idempotency key is still running",
                title_nl: "Een verzoek met deze idempotency-sleutel loopt nog",
            },
            ProblemCode::RequestTimeout => CodeInfo {
                code: "request_timeout",
                status: 408,
                title_en: "The request body did not arrive in time",
                title_nl: "De body van het verzoek kwam niet op tijd binnen",
            },
            ProblemCode::PayloadTooLarge => CodeInfo {
                code: "payload_too_large",
                status: 413,
                title_en: "The request body is too large",
                title_nl: "De body van het verzoek is te groot",
            },
            ProblemCode::UnsupportedMediaType => CodeInfo {
                code: "unsupported_media_type",
                status: 415,
                title_en: "The content type is not supported",
                title_nl: "Het content-type wordt niet ondersteund",
            },
            ProblemCode::RateLimited => CodeInfo {
                code: "rate_limited",
                status: 429,
                title_en: "Too many requests",
                title_nl: "Te veel verzoeken",
            },
            ProblemCode::IdempotencyQuotaExceeded => CodeInfo {
                code: "idempotency_quota_exceeded",
                status: 429,
                title_en: "Too many idempotency keys kept for this client",
                title_nl: "Te veel idempotency-sleutels bewaard voor deze client",
            },
            ProblemCode::ServiceUnavailable => CodeInfo {
                code: "service_unavailable",
                status: 503,
                title_en: "The service is temporarily unavailable",
                title_nl: "De dienst is tijdelijk niet beschikbaar",
            },
            ProblemCode::InternalError => CodeInfo {
                code: "internal_error",
                status: 500,
                title_en: "Internal error",
                title_nl: "Interne fout",
            },
        }
    }
}
