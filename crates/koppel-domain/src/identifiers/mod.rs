//! Identifiers a bookkeeping document carries: VAT numbers, KvK numbers, IBANs, country and
//! currency codes, e-mail addresses. Each parses once into a type that cannot hold a bad value.
//!
//! By kind: VAT numbers ([`vat_number`]), how a company is registered and paid (KvK numbers
//! and IBANs, [`company`]), and the codes and formats of ISO and GS1 ([`codes`]).

mod codes;
mod company;
#[cfg(test)]
mod tests;
mod vat_number;

pub use codes::{
    COUNTRY_CODES, CURRENCY_CODES, CountryCode, EU_MEMBER_STATES, currency_is_valid,
    email_is_valid, gtin_is_valid,
};
pub use company::{Iban, KvkNumber};
pub use vat_number::VatNumber;

/// Why an identifier was refused. Messages are lowercase and name what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Nothing left after normalising.
    #[error("the identifier is empty")]
    Empty,
    /// The first two letters are no EU VAT prefix.
    #[error("{0:?} is not an eu vat number prefix (use el for greece and xi for northern ireland)")]
    UnknownVatPrefix(String),
    /// The shape does not match the country's format.
    #[error("{value:?} does not have the format of a vat number of {country}: expected {expected}")]
    VatFormat {
        /// The normalised number.
        value: String,
        /// The two-letter prefix.
        country: String,
        /// A human description of the format.
        expected: &'static str,
    },
    /// The format is right but the check digits are not.
    #[error("{0:?} has the right format but its check digits are wrong")]
    VatChecksum(String),
    /// Not exactly 8 digits.
    #[error("a kvk number has exactly 8 digits, got {0:?}")]
    KvkFormat(String),
    /// Wrong characters or length for an IBAN.
    #[error("{0:?} does not have the format of an iban")]
    IbanFormat(String),
    /// The right shape but the mod-97 check fails.
    #[error("{0:?} has the format of an iban but its check digits are wrong")]
    IbanChecksum(String),
    /// Not an assigned ISO 3166-1 alpha-2 code.
    #[error("{0:?} is not an iso 3166-1 alpha-2 country code")]
    Country(String),
}

/// Removes spaces, dots and dashes and upper-cases, as `docs/bookkeeping-rules.md` prescribes for
/// VAT numbers.
pub(crate) fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Matches `value` against a hand-written pattern: `#` a digit, `@` a letter, `*` a letter or
/// digit, `?` a letter, `+` or `*` (old Irish numbers), anything else itself. Hand-written
/// patterns keep the crate free of a regex engine.
pub(crate) fn fits(pattern: &str, value: &str) -> bool {
    pattern.len() == value.len()
        && pattern.bytes().zip(value.bytes()).all(|(p, v)| match p {
            b'#' => v.is_ascii_digit(),
            b'@' => v.is_ascii_uppercase(),
            b'*' => v.is_ascii_uppercase() || v.is_ascii_digit(),
            b'?' => v.is_ascii_uppercase() || v == b'+' || v == b'*',
            literal => literal == v,
        })
}

/// The remainder modulo 97 of the number formed by writing each character as digits:
/// decimal digits as themselves, letters through `letter`.
pub(crate) fn mod97_of_alnum(value: &str, letter: impl Fn(char) -> Option<u32>) -> u32 {
    value.chars().fold(0u32, |acc, c| {
        let n = c.to_digit(10).or_else(|| letter(c)).unwrap_or(0);
        let width = if n >= 10 { 100 } else { 10 };
        (acc * width + n) % 97
    })
}
