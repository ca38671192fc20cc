//! Identifiers a bookkeeping document carries: VAT numbers, KvK numbers, IBANs, country and
//! currency codes, e-mail addresses. Each parses once into a type that cannot hold a bad value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Matches `value` against a hand-written pattern: `#` a digit, `@` a letter, `*` a letter or
/// digit, `?` a letter, `+` or `*` (old Irish numbers), anything else itself. Hand-written
/// patterns keep the crate free of a regex engine.
fn fits(pattern: &str, value: &str) -> bool {
    pattern.len() == value.len()
        && pattern.bytes().zip(value.bytes()).all(|(p, v)| match p {
            b'#' => v.is_ascii_digit(),
            b'@' => v.is_ascii_uppercase(),
            b'*' => v.is_ascii_uppercase() || v.is_ascii_digit(),
            b'?' => v.is_ascii_uppercase() || v == b'+' || v == b'*',
            literal => literal == v,
        })
}

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

/// The remainder modulo 97 of the number formed by writing each character as digits:
/// decimal digits as themselves, letters through `letter`.
fn mod97_of_alnum(value: &str, letter: impl Fn(char) -> Option<u32>) -> u32 {
    value.chars().fold(0u32, |acc, c| {
        let n = c.to_digit(10).or_else(|| letter(c)).unwrap_or(0);
        let width = if n >= 10 { 100 } else { 10 };
        (acc * width + n) % 97
    })
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

/// Every assigned ISO 3166-1 alpha-2 code (249), sorted, for binary search.
pub const COUNTRY_CODES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The EU member states by ISO 3166-1 code (so `GR`, not the VAT prefix `EL`).
pub const EU_MEMBER_STATES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// An assigned ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode(&'static str);

impl CountryCode {
    /// The Netherlands, every company's default country.
    pub const NL: CountryCode = CountryCode("NL");

    /// Accepts an assigned code in any case (Mollie sends `nl`).
    pub fn parse(raw: &str) -> Result<CountryCode, IdentifierError> {
        let upper = raw.to_ascii_uppercase();
        COUNTRY_CODES
            .binary_search(&upper.as_str())
            .map(|i| CountryCode(COUNTRY_CODES[i]))
            .map_err(|_| IdentifierError::Country(raw.to_owned()))
    }

    /// The two upper-case letters.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// Whether the country is an EU member state.
    pub fn is_eu(self) -> bool {
        EU_MEMBER_STATES.contains(&self.0)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        CountryCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Active ISO 4217 currency codes (funds and precious metals left out). `ANG` and `BGN` stay
/// while documents dated before their replacement (XCG in 2025, EUR in 2026) still arrive.
pub const CURRENCY_CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    "ZWG",
];

/// Whether `code` is an active ISO 4217 currency code, written as 3 upper-case letters.
pub fn currency_is_valid(code: &str) -> bool {
    CURRENCY_CODES.binary_search(&code).is_ok()
}

/// A pragmatic e-mail syntax check: one `@`, a local part of 1–64 printable characters
/// without spaces, and a domain of at least two dot-separated labels of letters, digits and
/// inner hyphens, the last one at least two letters. Deliverability is not our business.
pub fn email_is_valid(email: &str) -> bool {
    if email.len() > 254 {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| (c.is_ascii_graphic() && !"@()<>[]:;,\\\"".contains(c)) || !c.is_ascii());
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic));
    local_ok && domain_ok
}

/// Whether `code` is a GTIN (EAN-8, UPC-A, EAN-13 or GTIN-14): 8, 12, 13 or 14 digits whose
/// last digit is the GS1 check digit (weights 3 and 1 alternating from the right).
pub fn gtin_is_valid(code: &str) -> bool {
    if !matches!(code.len(), 8 | 12 | 13 | 14) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

#[cfg(test)]
mod gtin_tests {
    use super::gtin_is_valid;

    #[test]
    fn gtins_pass_only_with_their_check_digit() {
        assert!(gtin_is_valid("8710398500014"));
        assert!(gtin_is_valid("96385074"));
        assert!(gtin_is_valid("036000291452"));
        assert!(!gtin_is_valid("8710398500015"));
        assert!(!gtin_is_valid("871039850001"));
        assert!(!gtin_is_valid("87103985000a4"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_so_binary_search_works() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(CURRENCY_CODES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(COUNTRY_CODES.len(), 249);
    }

    #[test]
    fn vat_numbers_are_normalised() {
        let v = VatNumber::parse("nl 8225.69.759 b01").unwrap();
        assert_eq!(v.as_str(), "NL822569759B01");
        assert_eq!(v.prefix(), "NL");
        assert_eq!(VatNumber::parse("EL094259216").unwrap().country(), "GR");
        assert_eq!(VatNumber::parse("XI123456789").unwrap().country(), "GB");
    }

    #[test]
    fn greece_is_el_not_gr_and_unknown_prefixes_are_refused() {
        let error = VatNumber::parse("GR094259216").unwrap_err().to_string();
        assert!(error.contains("el for greece"), "{error}");
        assert!(VatNumber::parse("US123456789").is_err());
        assert_eq!(VatNumber::parse(" - ").unwrap_err(), IdentifierError::Empty);
    }

    #[test]
    fn other_member_states_are_checked_by_format() {
        for valid in [
            "ATU12345678",
            "CY12345678X",
            "ESX1234567X",
            "IE1234567WA",
            "IE1+23456A",
            "SE123456789001",
            "XIGD123",
            "RO12",
            "FRAB123456789",
        ] {
            assert!(VatNumber::parse(valid).is_ok(), "{valid}");
        }
        for invalid in [
            "AT12345678",
            "SE123456789002",
            "DK1234567",
            "RO1",
            "IT1234567890",
        ] {
            assert!(
                matches!(
                    VatNumber::parse(invalid),
                    Err(IdentifierError::VatFormat { .. })
                ),
                "{invalid}"
            );
        }
    }

    #[test]
    fn kvk_numbers_are_eight_digits() {
        assert_eq!(KvkNumber::parse("1234 5678").unwrap().as_str(), "12345678");
        assert!(KvkNumber::parse("1234567").is_err());
        assert!(KvkNumber::parse("123456789").is_err());
        assert!(KvkNumber::parse("1234567a").is_err());
    }

    #[test]
    fn ibans_of_the_wrong_length_are_refused() {
        assert!(Iban::parse("NL91ABNA041716430").is_err());
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
    }

    #[test]
    fn country_codes_are_assigned_alpha_2_codes_in_any_case() {
        assert_eq!(CountryCode::parse("nl").unwrap(), CountryCode::NL);
        assert!(CountryCode::parse("GR").unwrap().is_eu());
        assert!(!CountryCode::parse("GB").unwrap().is_eu());
        assert!(CountryCode::parse("EL").is_err());
        assert!(CountryCode::parse("XK").is_err());
        assert!(CountryCode::parse("NLD").is_err());
    }

    #[test]
    fn currencies_are_three_upper_case_letters_from_iso_4217() {
        assert!(currency_is_valid("EUR"));
        assert!(currency_is_valid("USD"));
        assert!(!currency_is_valid("eur"));
        assert!(!currency_is_valid("NLG"));
        assert!(!currency_is_valid("XAU"));
    }

    #[test]
    fn email_addresses_get_a_pragmatic_syntax_check() {
        for valid in ["luke@skywalker.com", "a.b+c@sub.example.nl", "x@bücher.de"] {
            assert!(email_is_valid(valid), "{valid}");
        }
        for invalid in [
            "",
            "luke",
            "luke@",
            "@skywalker.com",
            "luke@skywalker",
            "luke@@skywalker.com",
            "luke skywalker@x.com",
            "luke@-x.com",
            "luke@x..com",
            ".luke@x.com",
            "luke@x.c",
        ] {
            assert!(!email_is_valid(invalid), "{invalid}");
        }
    }
}
