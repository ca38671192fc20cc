//! How a Dutch company is registered and paid: its KvK number and its IBANs.

use serde::Serialize;

use super::{IdentifierError, fits, mod97_of_alnum};

/// A Dutch Chamber of Commerce (KvK) number: exactly 8 digits, no check digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KvkNumber(String);

impl KvkNumber {
    /// Accepts 8 digits, ignoring spaces and dots a person may type.
    pub fn parse(raw: &str) -> Result<KvkNumber, IdentifierError> {
        let value: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .collect();
        if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(KvkNumber(value))
        } else {
            Err(IdentifierError::KvkFormat(raw.to_owned()))
        }
    }

    /// The 8 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// IBAN lengths per country (SWIFT IBAN registry); a country not listed is checked by the
/// general shape and the check digits only.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("VA", 22),
];

/// The full shape of the IBANs a Dutch company meets most, so a letter where the bank's
/// format has a digit is refused even when the mod-97 check happens to pass.
const IBAN_FORMATS: &[(&str, &str)] = &[
    ("NL", "NL##@@@@##########"),
    ("BE", "BE##############"),
    ("DE", "DE####################"),
    ("FR", "FR############***********##"),
    ("GB", "GB##@@@@##############"),
];

/// An International Bank Account Number, normalised without spaces, upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Iban(String);

impl Iban {
    /// Checks the shape, the country's length where known and the ISO 7064 mod-97 check.
    pub fn parse(raw: &str) -> Result<Iban, IdentifierError> {
        let value: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        let bytes = value.as_bytes();
        let shape = (15..=34).contains(&bytes.len())
            && bytes[..2].iter().all(u8::is_ascii_uppercase)
            && bytes[2..4].iter().all(u8::is_ascii_digit)
            && bytes[4..].iter().all(u8::is_ascii_alphanumeric);
        let length_ok = IBAN_LENGTHS
            .iter()
            .find(|(c, _)| shape && *c == &value[..2])
            .is_none_or(|(_, len)| *len == bytes.len());
        let format_ok = IBAN_FORMATS
            .iter()
            .find(|(c, _)| shape && *c == &value[..2])
            .is_none_or(|(_, pattern)| fits(pattern, &value));
        if !shape || !length_ok || !format_ok {
            return Err(IdentifierError::IbanFormat(raw.to_owned()));
        }
        let rearranged = format!("{}{}", &value[4..], &value[..4]);
        let remainder = mod97_of_alnum(&rearranged, |c| Some(c as u32 - 'A' as u32 + 10));
        if remainder == 1 {
            Ok(Iban(value))
        } else {
            Err(IdentifierError::IbanChecksum(raw.to_owned()))
        }
    }

    /// The normalised IBAN.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
