//! The identifiers' rules, each with the examples that decide it.

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
