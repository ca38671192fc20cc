//! A posting's description in Dutch. Postings are described in English, which also keys a
//! correction between two revisions (so a description never depends on who asks); the words
//! a journal's reader sees are translated at the end: the leading phrase of a description,
//! from the one table below, and the rest kept (a rate such as `21% standard NL`, or the
//! till's own text after a colon).

/// Every phrase a journal's description starts with, and its Dutch.
const PHRASES: &[(&str, &str)] = &[
    (
        "multi-purpose gift cards sold",
        "meervoudige cadeaubonnen verkocht",
    ),
    (
        "multi-purpose gift card sold",
        "meervoudige cadeaubon verkocht",
    ),
    (
        "single-purpose voucher redeemed",
        "enkelvoudige waardebon ingewisseld",
    ),
    (
        "difference between sold and paid",
        "verschil tussen verkocht en betaald",
    ),
    ("payment-provider fee", "kosten betaalprovider"),
    ("rounding difference", "afrondingsverschil"),
    ("owed by the buyer", "te ontvangen van de koper"),
    ("payment paid out", "betaling uitbetaald"),
    ("cash to the bank", "kas naar de bank"),
    ("cash paid out", "kasopname"),
    ("cash paid in", "kasstorting"),
    ("cash rounding", "contante afronding"),
    ("cash counted", "kas geteld"),
    ("payment costs", "betaalkosten"),
    ("fee withheld", "kosten ingehouden"),
    ("chargeback", "terugboeking"),
    ("adjustment", "correctie"),
    ("surcharge", "toeslag"),
    ("discount", "korting"),
    ("shipping", "verzendkosten"),
    ("deposits", "statiegeld"),
    ("payments", "betalingen"),
    ("payment", "betaling"),
    ("rounding", "afronding"),
    ("revenue", "omzet"),
    ("payout", "uitbetaling"),
    ("refund", "terugbetaling"),
    ("tips", "fooien"),
    ("paid", "betaald"),
    ("VAT", "btw"),
    ("fee", "kosten"),
];

/// The Dutch of a posting's description: its leading phrase translated (the longest that
/// matches a whole word), the rest as it is; `None` for a description no phrase starts.
pub fn dutch(description: &str) -> Option<String> {
    PHRASES
        .iter()
        .filter(|(en, _)| {
            description
                .strip_prefix(en)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ':']))
        })
        .max_by_key(|(en, _)| en.len())
        .map(|(en, nl)| format!("{nl}{}", &description[en.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leading_phrase_is_translated_and_the_rest_kept() {
        assert_eq!(
            dutch("revenue 21% standard NL").as_deref(),
            Some("omzet 21% standard NL")
        );
        assert_eq!(
            dutch("payment-provider fee 21% standard IE").as_deref(),
            Some("kosten betaalprovider 21% standard IE")
        );
        assert_eq!(dutch("payments").as_deref(), Some("betalingen"));
        assert_eq!(
            dutch("cash paid out: Bloemen").as_deref(),
            Some("kasopname: Bloemen")
        );
        // A word that only begins like a phrase is not that phrase.
        assert_eq!(dutch("paidx"), None);
        assert_eq!(dutch("something else"), None);
    }
}
