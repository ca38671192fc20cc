//! The RFC 9457 problem body and the items of a content error.

use koppel_domain::problem::Violation;
use serde::Serialize;
use utoipa::ToSchema;

use super::ProblemCode;
use crate::language::Language;

/// An RFC 9457 problem body.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:koppel:problem:` followed by `code`.
    #[schema(example = "urn:koppel:problem:invalid_request")]
    pub r#type: String,
    /// A short summary of the kind of problem, in the caller's language (`Accept-Language`).
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong in this request, in the caller's language.
    pub detail: String,
    /// Stable, language-neutral code of the kind of problem.
    #[schema(value_type = ProblemCode, example = "invalid_request")]
    pub code: String,
    /// The id of this request, also in the `X-Request-Id` header; quote it to support.
    pub request_id: String,
    /// For content errors: the problems found in the request, not just the first; at most
    /// [`MAX_PROBLEM_ITEMS`] (100), in the order of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100)]
    pub errors: Option<Vec<ProblemItem>>,
    /// For content errors: how many problems were found, also those beyond the first 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 1)]
    pub error_count: Option<usize>,
}

/// The most problems a problem body or a refused batch item lists (SPEC "Bounds"): a
/// document with 100,000 wrong lines must not make a 100 MB answer.
pub const MAX_PROBLEM_ITEMS: usize = 100;

/// One problem in a request's content.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ProblemItem {
    /// JSON pointer (RFC 6901) to the offending value in the request body, or
    /// the parameter's name prefixed by `#` for a query parameter.
    #[schema(example = "/lines/2/vat/amount")]
    pub pointer: String,
    /// Stable, language-neutral code of the problem.
    #[schema(example = "vat_amount_mismatch")]
    pub code: String,
    /// What is wrong, in the caller's language.
    pub message: String,
}

impl ProblemItem {
    /// The first [`MAX_PROBLEM_ITEMS`] items of `violations`, in the caller's language: a
    /// 400's `errors`, or a refused batch item's.
    pub fn all(violations: &[Violation], language: Language) -> Vec<Self> {
        violations
            .iter()
            .take(MAX_PROBLEM_ITEMS)
            .map(|v| ProblemItem {
                pointer: v.pointer.clone(),
                code: v.code.to_owned(),
                message: v.message(language == Language::Dutch).to_owned(),
            })
            .collect()
    }
}
