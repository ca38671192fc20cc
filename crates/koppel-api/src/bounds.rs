//! How long a request's texts may be (SPEC "Bounds"), by field name, in one place: the body
//! parser refuses a longer text at its pointer, and the OpenAPI document states the same
//! bound as each request property's `maxLength`. Amounts and quantities are no texts of
//! their own: they are decimals, and say so with [`DECIMAL_PATTERN`].

/// The longest note (an exemption or refund reason), and the bound of any text, in
/// characters.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// The bound of names and descriptions.
pub const MAX_NAME_CHARS: usize = 500;

/// The bound of ids, numbers, codes and references: everything not named otherwise.
pub const MAX_CODE_CHARS: usize = 255;

/// The bound of an e-mail address (RFC 5321's path limit less its brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The bound of a URL (a webhook endpoint's).
pub const MAX_URL_CHARS: usize = 2_048;

/// The smallest bound of any field: a body with no text longer than this needs no closer
/// look.
pub const SHORTEST_BOUND: usize = MAX_EMAIL_CHARS;

/// What an amount, price, percentage, rate or quantity sent as a string looks like: a
/// decimal, optionally signed, without exponent (JSON numbers are taken as well).
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]+(\.[0-9]+)?$";

/// Fields holding a name or a description.
const NAMES: &[&str] = &[
    "name",
    "company_name",
    "description",
    "discount_name",
    "street",
    "city",
];

/// Fields of a ledger mapping: a package's account and VAT codes.
const LEDGER_CODES: &[&str] = &["account", "vat_code"];

/// Fields holding a free-text note.
const NOTES: &[&str] = &["exemption_reason", "refund_reason"];

/// Fields holding a decimal number.
const DECIMALS: &[&str] = &[
    "amount",
    "amount_excl_vat",
    "amount_incl_vat",
    "cash_rounding",
    "change",
    "discount",
    "exchange_rate",
    "percentage",
    "purchase_price",
    "quantity",
    "total_excl_vat",
    "total_incl_vat",
    "total_vat",
    "unit_price",
];

/// The most characters the text of `field` may have. A string in an array counts under the
/// array's field name.
pub fn max_chars(field: &str) -> usize {
    if field == "email" {
        MAX_EMAIL_CHARS
    } else if LEDGER_CODES.contains(&field) {
        koppel_domain::ledger::MAX_ACCOUNT_CHARS
    } else if field == "url" {
        MAX_URL_CHARS
    } else if NAMES.contains(&field) {
        MAX_NAME_CHARS
    } else if NOTES.contains(&field) {
        MAX_TEXT_CHARS
    } else {
        MAX_CODE_CHARS
    }
}

/// Whether `field` holds a decimal number (sent as a string or a JSON number).
pub fn is_decimal(field: &str) -> bool {
    DECIMALS.contains(&field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_bound_no_larger_than_a_note() {
        assert_eq!(max_chars("email"), 254);
        assert_eq!(max_chars("description"), 500);
        assert_eq!(max_chars("refund_reason"), 4_000);
        assert_eq!(max_chars("external_id"), 255);
        assert_eq!(max_chars("url"), 2_048);
        assert!(
            [
                MAX_NAME_CHARS,
                MAX_CODE_CHARS,
                MAX_EMAIL_CHARS,
                MAX_URL_CHARS
            ]
            .iter()
            .all(|b| (SHORTEST_BOUND..=MAX_TEXT_CHARS).contains(b))
        );
        assert!(is_decimal("unit_price") && !is_decimal("sku"));
    }
}
