//! Checks shared by the handlers of several resources.

use koppel_domain::problem::Violation;
use koppel_domain::problem::codes;

/// A violation with an English and a Dutch message.
pub(crate) fn violation(
    pointer: &str,
    code: &'static str,
    en: impl Into<String>,
    nl: impl Into<String>,
) -> Violation {
    Violation {
        pointer: pointer.to_owned(),
        code,
        message_en: en.into(),
        message_nl: nl.into(),
    }
}

/// Checks the two fields every pushed resource has: the vendor's `external_id`
/// (the upsert key, 1 to 255 characters) and a non-blank `name`.
pub(crate) fn check_external_id_and_name(
    external_id: &str,
    name: &str,
    errors: &mut Vec<Violation>,
) {
    if external_id.trim().is_empty() || external_id.len() > 255 {
        errors.push(violation(
            "/external_id",
            codes::INVALID_EXTERNAL_ID,
            "external_id must be 1 to 255 characters",
            "external_id moet 1 tot 255 tekens lang zijn",
        ));
    }
    if name.trim().is_empty() {
        errors.push(violation(
            "/name",
            codes::REQUIRED,
            "the name must not be empty",
            "de naam mag niet leeg zijn",
        ));
    }
}
