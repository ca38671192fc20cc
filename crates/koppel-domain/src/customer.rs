//! The identifiers of a customer, checked once for both places a customer is sent: the
//! customers resource, and the buyer of an order or receipt (`docs/bookkeeping-rules.md`,
//! "Identifiers").

use crate::identifiers::{KvkNumber, VatNumber, email_is_valid};
use crate::problem::{Violation, codes};

/// A customer's e-mail address, VAT number and KvK number, each normalised when valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactIds {
    /// The e-mail address, trimmed.
    pub email: Option<String>,
    /// The VAT number, normalised (`NL000099998B57`).
    pub vat_number: Option<VatNumber>,
    /// The KvK number.
    pub coc_number: Option<KvkNumber>,
}

/// A value that was sent and is not blank, trimmed.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Checks the identifiers sent under `prefix` (`""` for a customer, `"/customer"` for a
/// document's buyer): an e-mail address must be one, a VAT number must pass its format and
/// check digits, a KvK number must have 8 digits. Blank values count as absent. Each problem
/// is pushed onto `out` at its pointer; the valid ones are returned normalised.
pub fn check_contact(
    prefix: &str,
    email: Option<&str>,
    vat_number: Option<&str>,
    coc_number: Option<&str>,
    out: &mut Vec<Violation>,
) -> ContactIds {
    let email = present(email).map(str::to_owned);
    if let Some(email) = &email
        && !email_is_valid(email)
    {
        out.push(Violation::new(
            format!("{prefix}/email"),
            codes::INVALID_EMAIL,
            format!("{email:?} is not a valid e-mail address"),
            format!("{email:?} is geen geldig e-mailadres"),
        ));
    }
    let vat_number = present(vat_number).and_then(|raw| match VatNumber::parse(raw) {
        Ok(number) => Some(number),
        Err(e) => {
            out.push(Violation::new(
                format!("{prefix}/vat_number"),
                codes::INVALID_VAT_NUMBER,
                e.to_string(),
                format!("{raw:?} is geen geldig btw-nummer (formaat of controlecijfers)"),
            ));
            None
        }
    });
    let coc_number = present(coc_number).and_then(|raw| match KvkNumber::parse(raw) {
        Ok(number) => Some(number),
        Err(e) => {
            out.push(Violation::new(
                format!("{prefix}/coc_number"),
                codes::INVALID_KVK_NUMBER,
                e.to_string(),
                format!("een kvk-nummer heeft precies 8 cijfers, ontvangen: {raw:?}"),
            ));
            None
        }
    });
    ContactIds {
        email,
        vat_number,
        coc_number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_normalised_or_refused_at_their_pointer() {
        let mut out = Vec::new();
        let ids = check_contact(
            "/customer",
            Some(" jan@example.nl "),
            Some("nl 0000.99998.B57"),
            Some("12345678"),
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(ids.email.as_deref(), Some("jan@example.nl"));
        assert_eq!(
            ids.vat_number.map(|v| v.as_str().to_owned()).as_deref(),
            Some("NL000099998B57")
        );
        let ids = check_contact("", Some("no"), Some("NL123"), Some("1234"), &mut out);
        assert_eq!(
            ids,
            ContactIds {
                email: Some("no".to_owned()),
                ..ContactIds::default()
            }
        );
        let pointers: Vec<(&str, &str)> =
            out.iter().map(|v| (v.pointer.as_str(), v.code)).collect();
        assert_eq!(
            pointers,
            [
                ("/email", "invalid_email"),
                ("/vat_number", "invalid_vat_number"),
                ("/coc_number", "invalid_kvk_number")
            ]
        );
        assert!(
            check_contact("", Some(" "), None, Some(""), &mut Vec::new()) == ContactIds::default()
        );
    }
}
