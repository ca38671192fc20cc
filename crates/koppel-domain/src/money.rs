//! Money arithmetic on exact decimals, and exact parsing of amounts from JSON.
//!
//! Everything here is `rust_decimal::Decimal`; a binary float never touches an amount, because
//! 0.1 + 0.2 is not 0.3 in binary and a bookkeeping identity must hold to the cent.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most decimals an input amount may carry (Lightspeed sends 4 to 6,
/// `docs/bookkeeping-rules.md`).
pub const MAX_INPUT_SCALE: u32 = 6;

/// The most decimals a 2-decimal amount (a line or document total, a VAT amount) may carry.
pub const CENTS_SCALE: u32 = 2;

/// The largest group tolerance: EN 16931's own bound on a VAT breakdown group (BR-CO-17).
pub fn max_group_tolerance() -> Decimal {
    Decimal::new(99, 2)
}

/// Rounds to whole cents, half away from zero, the Belastingdienst's rounding.
pub fn round_cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(CENTS_SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds up (towards positive infinity) to whole cents; tolerances use it so that a
/// tolerance is never smaller than the rounding error it has to absorb.
pub fn ceil_to_cent(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(CENTS_SCALE, RoundingStrategy::ToPositiveInfinity)
}

/// The largest accepted difference between a line's VAT and the VAT computed on its total:
/// `ceil_to_cent(0.005 × (|q| + 1))`, half a cent per item (rounding per item is allowed)
/// plus half a cent for rounding the line itself.
pub fn line_tolerance(quantity: Decimal) -> Decimal {
    ceil_to_cent(Decimal::new(5, 3) * (quantity.abs() + Decimal::ONE))
}

/// The largest accepted difference for a VAT breakdown group of `units` units (line
/// quantities plus one per cost): like [`line_tolerance`] but never more than 0.99.
pub fn group_tolerance(units: Decimal) -> Decimal {
    ceil_to_cent(Decimal::new(5, 3) * (units.abs() + Decimal::ONE)).min(max_group_tolerance())
}

/// Whether `value` has at most `scale` significant decimals; trailing zeros do not count,
/// because "12.100" is the same amount as "12.10".
pub fn has_at_most_decimals(value: Decimal, scale: u32) -> bool {
    value.normalize().scale() <= scale
}

/// Why a text is not an exact decimal amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing was sent.
    #[error("an amount must not be empty")]
    Empty,
    /// Leading or trailing whitespace, which a vendor's platform should never send.
    #[error("an amount must not contain spaces: {0:?}")]
    Whitespace(String),
    /// Exponent notation such as `1e5`: it hides the scale and is easy to get wrong.
    #[error("an amount must be written without an exponent: {0:?}")]
    Exponent(String),
    /// Anything else that is not `-?digits(.digits)?`.
    #[error("an amount must be a plain decimal number such as \"12.10\": {0:?}")]
    Syntax(String),
    /// More decimals than [`MAX_INPUT_SCALE`].
    #[error("an amount may have at most {max} decimals, {value:?} has {actual}")]
    TooManyDecimals {
        /// The text as sent.
        value: String,
        /// Its number of decimals.
        actual: usize,
        /// The allowed number.
        max: u32,
    },
    /// Larger than a `Decimal` holds (28 digits).
    #[error("an amount is too large: {0:?}")]
    TooLarge(String),
}

/// Parses a decimal amount exactly, refusing anything but `-?digits(.digits)?` with at most
/// [`MAX_INPUT_SCALE`] decimals. `Decimal::from_str` alone would accept underscores and
/// silently round long fractions, which a bookkeeping input must never do.
pub fn parse_exact(text: &str) -> Result<Decimal, AmountError> {
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(AmountError::Whitespace(text.to_owned()));
    }
    if text.contains(['e', 'E']) {
        return Err(AmountError::Exponent(text.to_owned()));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(AmountError::Syntax(text.to_owned()));
    }
    let decimals = fraction.map_or(0, str::len);
    if decimals > MAX_INPUT_SCALE as usize {
        return Err(AmountError::TooManyDecimals {
            value: text.to_owned(),
            actual: decimals,
            max: MAX_INPUT_SCALE,
        });
    }
    Decimal::from_str_exact(text).map_err(|_| AmountError::TooLarge(text.to_owned()))
}

/// The key under which serde_json's `arbitrary_precision` feature hands a number to a
/// `deserialize_any` visitor, as a one-entry map whose value is the number's text.
const SERDE_JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

struct ExactVisitor;

impl<'de> Visitor<'de> for ExactVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal amount as a string (\"12.10\") or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_exact(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Decimal, E> {
        Decimal::try_from_i128_with_scale(v, 0)
            .map_err(|_| E::custom(format!("an amount is too large: {v}")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Decimal, E> {
        i128::try_from(v)
            .ok()
            .and_then(|v| Decimal::try_from_i128_with_scale(v, 0).ok())
            .ok_or_else(|| E::custom(format!("an amount is too large: {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // Without `arbitrary_precision` the number already went through a binary float, so its
        // exact value is lost; refusing is the only honest answer.
        Err(E::custom(format!(
            "the amount {v} arrived as a binary floating-point number and cannot be read exactly; send it as a string such as \"12.10\""
        )))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        let key: Option<String> = map.next_key()?;
        match key.as_deref() {
            Some(SERDE_JSON_NUMBER_TOKEN) => {
                let text: String = map.next_value()?;
                parse_exact(&text).map_err(de::Error::custom)
            }
            _ => Err(de::Error::custom(
                "expected a decimal amount as a string or a number, found an object",
            )),
        }
    }
}

/// Deserializes a `Decimal` exactly from a JSON string or number, for
/// `#[serde(deserialize_with = "koppel_domain::money::exact::deserialize")]`.
pub mod exact {
    use super::*;

    /// Reads one exact amount; see [`super::parse_exact`] for what is accepted.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Decimal, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_any(ExactVisitor)
    }

    /// Serializes as a string, so a reader never meets a float.
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    /// The same for an optional amount: `null` or a missing field is `None`.
    pub mod option {
        use super::*;

        /// Reads an optional exact amount.
        pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<Decimal>, D::Error>
        where
            D: Deserializer<'de>,
        {
            Ok(Option::<Amount>::deserialize(deserializer)?.map(|a| a.0))
        }

        /// Writes `null` or the amount as a string.
        pub fn serialize<S: Serializer>(
            value: &Option<Decimal>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => serializer.collect_str(v),
                None => serializer.serialize_none(),
            }
        }
    }
}

/// An amount read exactly from a JSON string or number and written back as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        exact::deserialize(deserializer).map(Amount)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_exact(s).map(Amount)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn rounding_goes_half_away_from_zero() {
        assert_eq!(round_cents(d("0.005")), d("0.01"));
        assert_eq!(round_cents(d("-0.005")), d("-0.01"));
        assert_eq!(round_cents(d("2.675")), d("2.68"));
        assert_eq!(round_cents(d("2.6749")), d("2.67"));
    }

    #[test]
    fn ceil_to_cent_rounds_up_towards_positive_infinity() {
        assert_eq!(ceil_to_cent(d("0.001")), d("0.01"));
        assert_eq!(ceil_to_cent(d("0.38")), d("0.38"));
        assert_eq!(ceil_to_cent(d("-0.019")), d("-0.01"));
    }

    #[test]
    fn line_tolerance_is_half_a_cent_per_item_plus_one() {
        assert_eq!(line_tolerance(Decimal::ONE), d("0.01"));
        assert_eq!(line_tolerance(d("75")), d("0.38"));
        assert_eq!(line_tolerance(d("-75")), d("0.38"));
        assert_eq!(line_tolerance(d("0.5")), d("0.01"));
    }

    #[test]
    fn group_tolerance_never_exceeds_ninety_nine_cents() {
        assert_eq!(group_tolerance(d("76")), d("0.39"));
        assert_eq!(group_tolerance(d("197")), d("0.99"));
        assert_eq!(group_tolerance(d("100000")), d("0.99"));
    }

    #[test]
    fn plain_decimal_strings_parse_exactly() {
        assert_eq!(parse_exact("12.10").unwrap(), d("12.10"));
        assert_eq!(parse_exact("12.10").unwrap().scale(), 2);
        assert_eq!(parse_exact("-0.000001").unwrap(), d("-0.000001"));
        assert_eq!(parse_exact("7").unwrap(), d("7"));
    }

    #[test]
    fn malformed_amounts_are_refused_with_a_reason() {
        for (text, fragment) in [
            ("", "empty"),
            (" 1", "spaces"),
            ("1 ", "spaces"),
            ("1e5", "exponent"),
            ("1E-2", "exponent"),
            ("NaN", "plain decimal"),
            ("inf", "plain decimal"),
            ("+1", "plain decimal"),
            (".5", "plain decimal"),
            ("5.", "plain decimal"),
            ("1_000", "plain decimal"),
            ("1.0000001", "at most 6 decimals"),
            ("99999999999999999999999999999999", "too large"),
        ] {
            let error = parse_exact(text).unwrap_err().to_string();
            assert!(error.contains(fragment), "{text:?}: {error}");
            assert!(error.starts_with(char::is_lowercase), "{error}");
            assert!(!error.ends_with('.'));
        }
    }

    #[derive(Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "exact::deserialize")]
        amount: Decimal,
        #[serde(default, deserialize_with = "exact::option::deserialize")]
        maybe: Option<Decimal>,
    }

    #[test]
    fn json_numbers_are_read_exactly_under_arbitrary_precision() {
        let h: Holder = serde_json::from_str(r#"{"amount": 0.1, "maybe": 0.2}"#).unwrap();
        assert_eq!(h.amount + h.maybe.unwrap(), d("0.3"));
        let h: Holder = serde_json::from_str(r#"{"amount": 1027.99}"#).unwrap();
        assert_eq!(h.amount, d("1027.99"));
        assert_eq!(h.amount.scale(), 2);
        assert_eq!(h.maybe, None);
        let h: Holder = serde_json::from_str(r#"{"amount": 12.100000, "maybe": null}"#).unwrap();
        assert_eq!(h.amount.to_string(), "12.100000");
        assert_eq!(h.maybe, None);
    }

    #[test]
    fn json_strings_and_integers_are_read_exactly() {
        let h: Holder = serde_json::from_str(r#"{"amount": "0.1", "maybe": "0.2"}"#).unwrap();
        assert_eq!(h.amount + h.maybe.unwrap(), d("0.3"));
        let h: Holder = serde_json::from_str(r#"{"amount": -42}"#).unwrap();
        assert_eq!(h.amount, d("-42"));
        let a: Amount = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(a.0, Decimal::from(u64::MAX));
    }

    #[test]
    fn json_numbers_in_exponent_form_or_too_precise_are_refused() {
        let error = serde_json::from_str::<Amount>("1e5")
            .unwrap_err()
            .to_string();
        assert!(error.contains("exponent"), "{error}");
        let error = serde_json::from_str::<Amount>("0.1234567")
            .unwrap_err()
            .to_string();
        assert!(error.contains("at most 6 decimals"), "{error}");
        let error = serde_json::from_str::<Amount>(r#"" 1""#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("spaces"), "{error}");
        let error = serde_json::from_str::<Amount>(r#"{"value": "1"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("object"), "{error}");
        assert!(serde_json::from_str::<Amount>("true").is_err());
    }

    #[test]
    fn a_binary_float_is_refused_because_it_cannot_be_exact() {
        let error = ExactVisitor
            .visit_f64::<serde::de::value::Error>(0.1)
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot be read exactly"), "{error}");
    }

    #[test]
    fn amounts_serialize_as_strings_keeping_their_scale() {
        let a: Amount = "12.10".parse().unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), r#""12.10""#);
    }

    fn cents() -> impl Strategy<Value = Decimal> {
        (-10_000_000i64..10_000_000).prop_map(|c| Decimal::new(c, 2))
    }

    fn six_decimals() -> impl Strategy<Value = Decimal> {
        (-10_000_000_000i64..10_000_000_000).prop_map(|c| Decimal::new(c, 6))
    }

    proptest! {
        #[test]
        fn rounding_moves_an_amount_by_at_most_half_a_cent(x in six_decimals()) {
            let r = round_cents(x);
            prop_assert!((r - x).abs() <= Decimal::new(5, 3));
            prop_assert!(has_at_most_decimals(r, 2));
            // Symmetric: half away from zero treats a refund like a sale.
            prop_assert_eq!(round_cents(-x), -r);
        }

        #[test]
        fn rounding_whole_cents_changes_nothing(x in cents()) {
            prop_assert_eq!(round_cents(x), x);
            prop_assert_eq!(ceil_to_cent(x), x);
        }

        #[test]
        fn ceil_to_cent_is_never_below_the_value(x in six_decimals()) {
            let c = ceil_to_cent(x);
            prop_assert!(c >= x);
            prop_assert!(c - x < Decimal::new(1, 2));
        }

        #[test]
        fn exact_strings_round_trip(x in six_decimals()) {
            let text = x.to_string();
            prop_assert_eq!(parse_exact(&text).unwrap(), x);
            let json = format!("{{\"amount\": {text}, \"maybe\": \"{text}\"}}");
            let h: Holder = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(h.amount, x);
            prop_assert_eq!(h.maybe, Some(x));
        }

        #[test]
        fn sums_of_parsed_cents_are_exact(a in cents(), b in cents()) {
            let pa = parse_exact(&a.to_string()).unwrap();
            let pb = parse_exact(&b.to_string()).unwrap();
            prop_assert_eq!(pa + pb - pb, pa);
            prop_assert!(has_at_most_decimals(pa + pb, 2));
        }

        #[test]
        fn per_item_rounding_stays_within_the_line_tolerance(
            unit_cents in 1i64..100_000,
            quantity in 1i64..500,
            rate in prop::sample::select(vec![6i64, 9, 19, 21]),
            inclusive in any::<bool>(),
        ) {
            // A vendor that rounds the VAT per item and multiplies must be accepted: that is
            // exactly what the tolerance exists for.
            let unit = Decimal::new(unit_cents, 2);
            let q = Decimal::from(quantity);
            let r = Decimal::new(rate, 2);
            let per_item = if inclusive { round_cents(unit * r / (Decimal::ONE + r)) } else { round_cents(unit * r) };
            let vat_per_item_sum = per_item * q;
            let on_total = if inclusive { round_cents(unit * q * r / (Decimal::ONE + r)) } else { round_cents(unit * q * r) };
            prop_assert!((vat_per_item_sum - on_total).abs() <= line_tolerance(q));
        }

        #[test]
        fn the_tolerance_grows_with_quantity_and_the_group_one_is_capped(a in 0i64..10_000, b in 0i64..10_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(line_tolerance(Decimal::from(lo)) <= line_tolerance(Decimal::from(hi)));
            prop_assert!(group_tolerance(Decimal::from(hi)) <= max_group_tolerance());
            prop_assert!(group_tolerance(Decimal::from(lo)) <= line_tolerance(Decimal::from(lo)));
        }
    }
}
