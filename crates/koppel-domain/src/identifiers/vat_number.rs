//! VAT identification numbers of the EU member states: their formats and check digits.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{IdentifierError, fits, mod97_of_alnum, normalise};

/// The formats of the part after the prefix, per EU VAT prefix, with a description for the
/// error message. Sources: the EU's VIES format list and python-stdnum.
const VAT_FORMATS: &[(&str, &[&str], &str)] = &[
    ("AT", &["U########"], "u and 8 digits"),
    (
        "BE",
        &["0#########", "1#########"],
        "10 digits starting with 0 or 1",
    ),
    ("BG", &["#########", "##########"], "9 or 10 digits"),
    ("CY", &["########@"], "8 digits and a letter"),
    (
        "CZ",
        &["########", "#########", "##########"],
        "8 to 10 digits",
    ),
    ("DE", &["#########"], "9 digits"),
    ("DK", &["########"], "8 digits"),
    ("EE", &["#########"], "9 digits"),
    ("EL", &["#########"], "9 digits"),
    ("ES", &["*#######*"], "9 characters, digits in the middle"),
    ("FI", &["########"], "8 digits"),
    ("FR", &["**#########"], "2 characters and 9 digits"),
    ("HR", &["###########"], "11 digits"),
    ("HU", &["########"], "8 digits"),
    (
        "IE",
        &["#######@", "#######@@", "#?#####@"],
        "7 digits and 1 or 2 letters",
    ),
    ("IT", &["###########"], "11 digits"),
    ("LT", &["#########", "############"], "9 or 12 digits"),
    ("LU", &["########"], "8 digits"),
    ("LV", &["###########"], "11 digits"),
    ("MT", &["########"], "8 digits"),
    ("NL", &["#########B##"], "9 digits, b and 2 digits"),
    ("PL", &["##########"], "10 digits"),
    ("PT", &["#########"], "9 digits"),
    (
        "RO",
        &[
            "##",
            "###",
            "####",
            "#####",
            "######",
            "#######",
            "########",
            "#########",
            "##########",
        ],
        "2 to 10 digits",
    ),
    ("SE", &["##########01"], "10 digits and 01"),
    ("SI", &["########"], "8 digits"),
    ("SK", &["##########"], "10 digits"),
    (
        "XI",
        &["#########", "############", "GD###", "HA###"],
        "9 or 12 digits, or gd or ha and 3 digits",
    ),
];

/// A VAT identification number of an EU member state (or XI, Northern Ireland), normalised:
/// prefix and number, upper case, without spaces, dots or dashes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VatNumber(String);

impl VatNumber {
    /// Normalises and checks a VAT number: NL by its check digits (mod 11 or ISO 7064
    /// mod 97-10), BE, DE and FR by theirs, the other member states by format.
    pub fn parse(raw: &str) -> Result<VatNumber, IdentifierError> {
        let value = normalise(raw);
        if value.is_empty() {
            return Err(IdentifierError::Empty);
        }
        // Taken by characters, so a non-ASCII first letter cannot split a code point.
        let prefix: String = value.chars().take(2).collect();
        let rest = &value[prefix.len()..];
        let Some((_, formats, expected)) = VAT_FORMATS.iter().find(|(p, _, _)| *p == prefix) else {
            return Err(IdentifierError::UnknownVatPrefix(prefix));
        };
        if !formats.iter().any(|f| fits(f, rest)) {
            return Err(IdentifierError::VatFormat {
                value: value.clone(),
                country: prefix,
                expected,
            });
        }
        let checksum_ok = match prefix.as_str() {
            "NL" => nl_valid(&value),
            "BE" => be_valid(rest),
            "DE" => de_valid(rest),
            "FR" => fr_valid(rest),
            _ => true,
        };
        if checksum_ok {
            Ok(VatNumber(value))
        } else {
            Err(IdentifierError::VatChecksum(value))
        }
    }

    /// The normalised number, e.g. `NL001241643B01`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter VAT prefix (`EL` for Greece, `XI` for Northern Ireland).
    pub fn prefix(&self) -> &str {
        &self.0[..2]
    }

    /// The ISO 3166-1 country of the prefix: `GR` for `EL`, `GB` for `XI`.
    pub fn country(&self) -> &str {
        match self.prefix() {
            "EL" => "GR",
            "XI" => "GB",
            other => other,
        }
    }
}

impl fmt::Display for VatNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn digit(b: u8) -> u32 {
    u32::from(b - b'0')
}

/// `NL` + 9 digits + `B` + 2 digits, already format-checked.
fn nl_valid(value: &str) -> bool {
    let digits = &value.as_bytes()[2..11];
    // python-stdnum (the source of identifiers.json) refuses an all-zero number and the
    // suffix 00; docs/bookkeeping-rules.md's "not checked" means the suffix carries no check digit.
    if digits.iter().all(|b| *b == b'0') || &value[12..] == "00" {
        return false;
    }
    let weighted: i64 = digits[..8]
        .iter()
        .enumerate()
        .map(|(i, b)| i64::from(9 - i as u32) * i64::from(digit(*b)))
        .sum();
    let mod11 = (weighted - i64::from(digit(digits[8]))).rem_euclid(11) == 0;
    mod11
        || mod97_of_alnum(value, |c| match c {
            'N' => Some(23),
            'L' => Some(21),
            'B' => Some(11),
            _ => None,
        }) == 1
}

fn be_valid(rest: &str) -> bool {
    let (base, check) = rest.split_at(8);
    match (base.parse::<u64>(), check.parse::<u64>()) {
        (Ok(base), Ok(check)) => 97 - base % 97 == check,
        _ => false,
    }
}

/// ISO 7064 mod 11,10 over the 9 digits.
fn de_valid(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    let mut product = 10;
    for b in &bytes[..8] {
        let mut sum = (digit(*b) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    (11 - product) % 10 == digit(bytes[8])
}

/// A numeric key is `(12 + 3 × (SIREN mod 97)) mod 97`; letter keys (new style) are checked
/// by format only.
fn fr_valid(rest: &str) -> bool {
    let (key, siren) = rest.split_at(2);
    match (key.parse::<u64>(), siren.parse::<u64>()) {
        (Ok(key), Ok(siren)) => (12 + 3 * (siren % 97)) % 97 == key,
        _ => true,
    }
}

impl Serialize for VatNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for VatNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        VatNumber::parse(&raw).map_err(serde::de::Error::custom)
    }
}
