//! How amounts are answered: decimal strings with at least two decimals, as SPEC writes
//! them (`"12.10"`), and more only where a unit price carries more (`"1.2345"`).
//!
//! Answer types put every amount through [`serialize`], whatever its origin: the database
//! keeps the cents of a `numeric(…, 2)`, but a zero read back through sqlx has lost them
//! (`0`, not `0.00`), and a sum starts from a bare zero.

use rust_decimal::Decimal;
use serde::Serializer;

/// The amount with its trailing zeros beyond the cents removed and at least two decimals.
pub fn answered(value: Decimal) -> Decimal {
    let mut value = value.normalize();
    if value.scale() < 2 {
        value.rescale(2);
    }
    value
}

/// Serialises an amount as a decimal string of [`answered`] form.
pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&answered(*value))
}

/// Serialises an optional exchange rate as the decimal string it was sent as, without
/// trailing zeros (`"1.1702"`), or null.
pub fn serialize_rate<S: Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(&value.normalize()),
        None => serializer.serialize_none(),
    }
}

/// Serialises an optional amount: [`serialize`], or null.
pub fn serialize_option<S: Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serialize(value, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_two_decimals_or_the_ones_they_need() {
        let shown = |v: Decimal| answered(v).to_string();
        assert_eq!(shown(Decimal::ZERO), "0.00");
        assert_eq!(shown(Decimal::new(-5, 0)), "-5.00");
        assert_eq!(shown(Decimal::new(121, 1)), "12.10");
        assert_eq!(shown(Decimal::new(1210, 2)), "12.10");
        assert_eq!(shown(Decimal::new(17500, 4)), "1.75");
        assert_eq!(shown(Decimal::new(12345, 4)), "1.2345");
    }

    #[test]
    fn an_amount_is_a_json_string() {
        #[derive(serde::Serialize)]
        struct Answer {
            #[serde(serialize_with = "serialize")]
            amount: Decimal,
            #[serde(serialize_with = "serialize_option")]
            price: Option<Decimal>,
            #[serde(serialize_with = "serialize_option")]
            none: Option<Decimal>,
        }
        let json = serde_json::to_string(&Answer {
            amount: Decimal::ZERO,
            price: Some(Decimal::new(12345, 4)),
            none: None,
        })
        .unwrap();
        assert_eq!(json, r#"{"amount":"0.00","price":"1.2345","none":null}"#);
    }
}
