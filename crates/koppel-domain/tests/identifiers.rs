//! Checks every example in `tests/data/identifiers.json` (its source and licence are in
//! `tests/data/SOURCE.md`), so the parsers agree with python-stdnum.

use koppel_domain::identifiers::{Iban, VatNumber};

fn vectors() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/identifiers.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn list<'a>(v: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    let items: Vec<&str> = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list"))
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(!items.is_empty(), "{key} has examples");
    items
}

#[test]
fn every_valid_vat_number_in_the_vectors_is_accepted() {
    let v = vectors();
    for number in list(&v, "vat_valid") {
        assert!(
            VatNumber::parse(number).is_ok(),
            "{number}: {:?}",
            VatNumber::parse(number)
        );
    }
}

#[test]
fn every_invalid_vat_number_in_the_vectors_is_refused() {
    let v = vectors();
    for number in list(&v, "vat_invalid") {
        assert!(VatNumber::parse(number).is_err(), "{number} was accepted");
    }
}

#[test]
fn every_valid_iban_in_the_vectors_is_accepted() {
    let v = vectors();
    for iban in list(&v, "iban_valid") {
        assert!(Iban::parse(iban).is_ok(), "{iban}: {:?}", Iban::parse(iban));
    }
}

#[test]
fn every_invalid_iban_in_the_vectors_is_refused() {
    let v = vectors();
    for iban in list(&v, "iban_invalid") {
        assert!(Iban::parse(iban).is_err(), "{iban} was accepted");
    }
}

#[test]
fn the_simplerinvoicing_sellers_vat_number_fails_its_checksum() {
    let error = VatNumber::parse("NL1111.11.111.B.01")
        .unwrap_err()
        .to_string();
    assert!(error.contains("check digits"), "{error}");
}
