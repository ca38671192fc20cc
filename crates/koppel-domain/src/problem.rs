//! Rule violations with a JSON pointer, a stable code and messages in English and Dutch, and
//! the one table of all codes, so the API can document them and a code never drifts.

use serde::Serialize;

/// One broken rule in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// RFC 6901 JSON pointer into the request body, e.g. `/lines/2/vat/amount`; empty for the
    /// document as a whole.
    pub pointer: String,
    /// A stable snake_case code from [`codes::ALL`].
    pub code: &'static str,
    /// English message: lowercase, no trailing period, with the expected and actual figures.
    pub message_en: String,
    /// The same message in Dutch.
    pub message_nl: String,
}

impl Violation {
    /// Builds a violation; `code` should be one of the constants in [`codes`].
    pub fn new(
        pointer: impl Into<String>,
        code: &'static str,
        message_en: impl Into<String>,
        message_nl: impl Into<String>,
    ) -> Violation {
        Violation {
            pointer: pointer.into(),
            code,
            message_en: message_en.into(),
            message_nl: message_nl.into(),
        }
    }

    /// The message in the language an `Accept-Language` asked for: Dutch for `nl`, English
    /// otherwise.
    pub fn message(&self, dutch: bool) -> &str {
        if dutch {
            &self.message_nl
        } else {
            &self.message_en
        }
    }
}

/// Escapes one reference token for a JSON pointer (RFC 6901: `~` as `~0`, `/` as `~1`), for
/// pointers that contain a key taken from the document.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A code with its description in English and Dutch, for the API documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeDoc {
    /// The stable code.
    pub code: &'static str,
    /// What it means, in English.
    pub en: &'static str,
    /// What it means, in Dutch.
    pub nl: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $en:literal, $nl:literal;)*) => {
        $(
            #[doc = $en]
            pub const $name: &str = $code;
        )*
        /// Every code with its English and Dutch description, in a stable order.
        pub const ALL: &[CodeDoc] = &[$(CodeDoc { code: $code, en: $en, nl: $nl }),*];
    };
}

/// The stable violation codes. Add a code here, never inline at a call site.
pub mod codes {
    use super::CodeDoc;

    codes! {
        REQUIRED = "required",
            "a required text is missing or blank",
            "een verplichte tekst ontbreekt of is leeg";
        INVALID_EXTERNAL_ID = "invalid_external_id",
            "an external_id is 1 to 255 characters",
            "een external_id is 1 tot 255 tekens lang";
        INVALID_TIMEZONE = "invalid_timezone",
            "not an IANA timezone such as Europe/Amsterdam",
            "geen IANA-tijdzone zoals Europe/Amsterdam";
        INVALID_TIME = "invalid_time",
            "not a time of day as HH:MM",
            "geen tijdstip als HH:MM";
        INVALID_LANGUAGE = "invalid_language",
            "not an ISO 639-1 language code such as nl",
            "geen ISO 639-1-taalcode zoals nl";
        INVALID_EAN = "invalid_ean",
            "not an EAN/GTIN of 8, 12, 13 or 14 digits with a valid check digit",
            "geen EAN/GTIN van 8, 12, 13 of 14 cijfers met een geldig controlecijfer";
        INVALID_VALUE = "invalid_value",
            "a value of the wrong type or out of range for its field",
            "een waarde van het verkeerde type of buiten het bereik van het veld";
        INVALID_CHARACTER = "invalid_character",
            "a text holds a character Koppel cannot store (NUL)",
            "een tekst bevat een teken dat Koppel niet kan bewaren (NUL)";
        UNKNOWN_FIELD = "unknown_field",
            "a field the document does not have: refused, never dropped",
            "een veld dat het document niet heeft: geweigerd, nooit weggelaten";
        UNKNOWN_SCOPE = "unknown_scope",
            "a scope Koppel does not have",
            "een scope die Koppel niet kent";
        SCOPE_NOT_ALLOWED = "scope_not_allowed",
            "a scope a client of this kind cannot hold",
            "een scope die een client van deze soort niet kan hebben";
        INVALID_RATE_LIMIT = "invalid_rate_limit",
            "a rate limit needs per_second and burst of at least 1",
            "een rate limit vraagt per_second en burst van minstens 1";
        UNKNOWN_COMPANY = "unknown_company",
            "the company does not exist",
            "de administratie bestaat niet";
        UNKNOWN_VERSION = "unknown_version",
            "the document has no such version or revision",
            "het document heeft zo'n versie of revisie niet";
        DAY_NOT_STARTED = "day_not_started",
            "the business day has not started yet",
            "de bedrijfsdag is nog niet begonnen";
        DAY_NOT_FINAL = "day_not_final",
            "a business day is booked once it is final",
            "een bedrijfsdag wordt geboekt als hij definitief is";
        RECEIPT_IMMUTABLE = "receipt_immutable",
            "a stored receipt does not change: other content under its external_id is refused",
            "een opgeslagen kassabon verandert niet: andere inhoud onder zijn external_id wordt geweigerd";
        MISSING_FIELD = "missing_field",
            "a required field is missing or empty",
            "een verplicht veld ontbreekt of is leeg";
        TOO_MANY_DECIMALS = "too_many_decimals",
            "an amount has more decimals than allowed (2 for totals and vat, 6 for prices and quantities)",
            "een bedrag heeft meer decimalen dan toegestaan (2 voor totalen en btw, 6 voor prijzen en aantallen)";
        AMOUNT_OUT_OF_RANGE = "amount_out_of_range",
            "an amount or quantity is a trillion or more, which no sale is",
            "een bedrag of aantal is een biljoen of meer, wat geen verkoop is";
        INVALID_CURRENCY = "invalid_currency",
            "the currency is not an active iso 4217 code",
            "de valuta is geen geldige iso 4217-code";
        INVALID_COUNTRY = "invalid_country",
            "the country is not an iso 3166-1 alpha-2 code",
            "het land is geen iso 3166-1 alpha-2-code";
        INVALID_EMAIL = "invalid_email",
            "the e-mail address is not valid",
            "het e-mailadres is niet geldig";
        INVALID_VAT_NUMBER = "invalid_vat_number",
            "the vat number has a wrong format or check digits",
            "het btw-nummer heeft een verkeerd formaat of verkeerde controlecijfers";
        INVALID_KVK_NUMBER = "invalid_kvk_number",
            "the kvk number is not 8 digits",
            "het kvk-nummer bestaat niet uit 8 cijfers";
        INVALID_TIMESTAMP = "invalid_timestamp",
            "the timestamp is not an rfc 3339 date and time",
            "het tijdstip is geen rfc 3339-datum en -tijd";
        TIMESTAMP_WITHOUT_OFFSET = "timestamp_without_offset",
            "the timestamp has no utc offset, which is ambiguous when the clocks go back",
            "het tijdstip heeft geen utc-offset, wat dubbelzinnig is als de klok teruggaat";
        QUANTITY_ZERO = "quantity_zero",
            "a line's quantity is zero",
            "het aantal van een regel is nul";
        VAT_MISSING = "vat_missing",
            "a line or cost has no vat information",
            "een regel of kostenpost heeft geen btw-gegevens";
        UNKNOWN_VAT_RATE = "unknown_vat_rate",
            "the vat rate id does not exist in the company",
            "het btw-tarief bestaat niet in de administratie";
        VAT_RATE_CONFLICT = "vat_rate_conflict",
            "the percentage or category sent differs from the referenced vat rate",
            "het meegestuurde percentage of de categorie wijkt af van het btw-tarief";
        VAT_CATEGORY_PERCENTAGE_MISMATCH = "vat_category_percentage_mismatch",
            "the vat category does not fit the percentage",
            "de btw-categorie past niet bij het percentage";
        VAT_PERCENTAGE_NOT_VALID = "vat_percentage_not_valid",
            "the percentage was not a valid rate of this category in the country on the document's date",
            "het percentage was op de documentdatum geen geldig tarief van deze categorie in het land";
        INVALID_PERCENTAGE = "invalid_percentage",
            "a vat rate's percentage is between 0 and 100 with at most 4 decimals",
            "het percentage van een btw-tarief ligt tussen 0 en 100, met hoogstens 4 decimalen";
        EXCHANGE_RATE_REQUIRED = "exchange_rate_required",
            "a document in another currency than the company's books needs exchange_rate and exchange_rate_date",
            "een document in een andere valuta dan die van de administratie heeft exchange_rate en exchange_rate_date nodig";
        EXCHANGE_RATE_NOT_ONE = "exchange_rate_not_one",
            "a document in the company's own currency has an exchange rate of 1 or none",
            "een document in de eigen valuta van de administratie heeft een wisselkoers van 1 of geen";
        MARGIN_NEEDS_PURCHASE_PRICE = "margin_needs_purchase_price",
            "the margin scheme applies to a line of goods with its purchase_price; a cost cannot be under it",
            "de margeregeling geldt voor een regel met goederen en hun purchase_price; een kostenpost kan er niet onder vallen";
        PURCHASE_PRICE_WITHOUT_MARGIN = "purchase_price_without_margin",
            "a purchase_price is only taken on a line under the margin scheme (vat category margin)",
            "een purchase_price hoort alleen bij een regel onder de margeregeling (btw-categorie margin)";
        OSS_COUNTRY_REQUIRED = "oss_country_required",
            "an oss line needs the destination country",
            "een oss-regel heeft het land van bestemming nodig";
        VAT_AMOUNT_NOT_ZERO = "vat_amount_not_zero",
            "a zero-rated category carries vat",
            "een categorie zonder btw heeft toch een btw-bedrag";
        VAT_AMOUNT_MISMATCH = "vat_amount_mismatch",
            "the vat amount differs from the base times the rate by more than the rounding tolerance",
            "het btw-bedrag wijkt meer dan de afrondingsmarge af van grondslag maal tarief";
        VAT_GROUP_MISMATCH = "vat_group_mismatch",
            "the vat of a group (category, rate, country) differs from its base times the rate by more than the group tolerance",
            "de btw van een groep (categorie, tarief, land) wijkt meer dan de groepsmarge af van grondslag maal tarief";
        INTRA_EU_REQUIRES_BUYER_VAT_NUMBER = "intra_eu_requires_buyer_vat_number",
            "an intra-eu supply needs the buyer's vat number",
            "een intracommunautaire levering heeft het btw-nummer van de afnemer nodig";
        INTRA_EU_BUYER_IS_DOMESTIC = "intra_eu_buyer_is_domestic",
            "an intra-eu supply needs a buyer in another member state",
            "een intracommunautaire levering heeft een afnemer in een andere lidstaat nodig";
        EXEMPTION_REASON_REQUIRED = "exemption_reason_required",
            "an exempt line or cost needs a reason text",
            "een vrijgestelde regel of kostenpost heeft een reden nodig";
        INCL_EXCL_VAT_MISMATCH = "incl_excl_vat_mismatch",
            "the amount including vat is not exactly the amount excluding vat plus the vat",
            "het bedrag inclusief btw is niet precies het bedrag exclusief btw plus de btw";
        LINE_TOTAL_MISMATCH = "line_total_mismatch",
            "the line total differs from quantity times unit price minus discount by more than the rounding tolerance",
            "het regeltotaal wijkt meer dan de afrondingsmarge af van aantal maal stukprijs min korting";
        TOTAL_MISMATCH = "total_mismatch",
            "a total sent differs from the sum of the lines and costs",
            "een meegestuurd totaal wijkt af van de som van de regels en kosten";
        CREDIT_NOT_NEGATIVE = "credit_not_negative",
            "a credit order or refund must have a total of zero or less",
            "een creditorder of terugbetaling moet een totaal van nul of minder hebben";
        NEGATIVE_TOTAL_WITHOUT_CREDIT_OF = "negative_total_without_credit_of",
            "an order with a negative total must name the order it corrects in credit_of",
            "een order met een negatief totaal moet in credit_of de order noemen die ze corrigeert";
        DISCOUNT_COST_WRONG_SIGN = "discount_cost_wrong_sign",
            "a discount cost must lower the total (negative on an order, positive on a credit)",
            "een kortingspost moet het totaal verlagen (negatief op een order, positief op een creditorder)";
        ROUNDING_NOT_OUTSIDE_SCOPE = "rounding_not_outside_scope",
            "a rounding amount carries no vat and must be in the outside_scope category",
            "een afrondingsbedrag heeft geen btw en hoort in de categorie outside_scope";
        ROUNDING_TOO_LARGE = "rounding_too_large",
            "a rounding amount is larger than allowed",
            "een afrondingsbedrag is groter dan toegestaan";
        PAYMENTS_EXCEED_TOTAL = "payments_exceed_total",
            "the payments add up to more than the order total",
            "de betalingen zijn samen meer dan het ordertotaal";
        PAYMENTS_DO_NOT_MATCH_TOTAL = "payments_do_not_match_total",
            "the payments minus change plus cash rounding are not exactly the receipt total",
            "de betalingen min wisselgeld plus contante afronding zijn niet precies het bontotaal";
        INVALID_CHANGE = "invalid_change",
            "cash change must be between zero and the amount handed over",
            "wisselgeld moet tussen nul en het betaalde bedrag liggen";
        LINE_KIND_NOT_OUTSIDE_SCOPE = "line_kind_not_outside_scope",
            "tips, multi-purpose gift cards and deposits carry no vat and must be in the outside_scope category",
            "fooi, meervoudige cadeaubonnen en statiegeld hebben geen btw en horen in de categorie outside_scope";
        UNKNOWN_RECEIPT = "unknown_receipt",
            "the receipt does not exist in this company",
            "de kassabon bestaat niet in deze administratie";
        PARENT_LINE_INVALID = "parent_line_invalid",
            "parent_line is the index of another line of the same order",
            "parent_line is de index van een andere regel van dezelfde order";
        LINE_PRODUCT_MISSING = "line_product_missing",
            "a line needs a product_id or a sku",
            "een regel heeft een product_id of een sku nodig";
        DUE_BEFORE_INVOICE = "due_before_invoice",
            "the due date is before the invoice date",
            "de vervaldatum ligt voor de factuurdatum";
        REFERENCE_MISMATCH = "reference_mismatch",
            "an id and an external_id name different resources",
            "een id en een external_id noemen verschillende resources";
        TOO_MANY_ITEMS = "too_many_items",
            "a list has more items than allowed",
            "een lijst heeft meer items dan toegestaan";
        URL_NOT_ALLOWED = "url_not_allowed",
            "a webhook URL must be https on a public address, or a host the server allows",
            "een webhook-URL moet https op een publiek adres zijn, of een host die de server toestaat";
        UNKNOWN_EVENT_TYPE = "unknown_event_type",
            "not an event type of the change feed",
            "geen soort gebeurtenis van de wijzigingenfeed";
        TEXT_TOO_LONG = "text_too_long",
            "a text is longer than allowed",
            "een tekst is langer dan toegestaan";
        NO_LINES = "no_lines",
            "a document needs at least one line",
            "een document heeft minstens een regel nodig";
        UNKNOWN_PRODUCT = "unknown_product",
            "the product does not exist in the company",
            "het product bestaat niet in de administratie";
        UNKNOWN_CATEGORY = "unknown_category",
            "the category does not exist in the company",
            "de categorie bestaat niet in de administratie";
        VOUCHER_EXCEEDS_REVENUE = "voucher_exceeds_revenue",
            "single-purpose vouchers pay for more than the goods on the receipt",
            "enkelvoudige waardebonnen betalen meer dan de goederen op de bon";
        DUPLICATE_PAYMENT_METHOD = "duplicate_payment_method",
            "a payment method is counted twice in one Z-report",
            "een betaalmethode is twee keer geteld in één Z-rapport";
        DAY_ALREADY_CLOSED = "day_already_closed",
            "the day was closed with another Z-report: a close is sent once",
            "de dag is met een ander Z-rapport afgesloten: een afsluiting wordt één keer gestuurd";
        UNKNOWN_LEDGER_ROLE = "unknown_ledger_role",
            "not a ledger role of the journals",
            "geen grootboekrol van de journaalposten";
        LEDGER_QUALIFIER_NOT_FOR_ROLE = "ledger_qualifier_not_for_role",
            "this ledger role is not split by VAT rate, payment method or category as asked",
            "deze grootboekrol wordt niet naar btw-tarief, betaalmethode of categorie gesplitst zoals gevraagd";
        DUPLICATE_LEDGER_ENTRY = "duplicate_ledger_entry",
            "the mapping names the same role, rate, method and category twice",
            "de koppeling noemt dezelfde rol, hetzelfde tarief, dezelfde betaalmethode en categorie twee keer";
        SETTLEMENT_NET_MISMATCH = "settlement_net_mismatch",
            "a settlement transaction's net is not its gross less its fee",
            "het netto bedrag van een transactie is niet bruto min de kosten";
        SETTLEMENT_AMOUNT_MISMATCH = "settlement_amount_mismatch",
            "a settlement's transactions do not add up to its amount",
            "de transacties van een uitbetaling tellen niet op tot het bedrag";
        LOCATION_MISMATCH = "location_mismatch",
            "the body names another location than the query",
            "de body noemt een andere locatie dan de query";
        UNKNOWN_PAYMENT_METHOD = "unknown_payment_method",
            "the payment method does not exist in the company",
            "de betaalmethode bestaat niet in de administratie";
        UNKNOWN_CUSTOMER = "unknown_customer",
            "the customer does not exist in the company",
            "de klant bestaat niet in de administratie";
        UNKNOWN_ORDER = "unknown_order",
            "the order named in credit_of does not exist in the company",
            "de order in credit_of bestaat niet in de administratie";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_with_both_descriptions() {
        let mut seen = std::collections::BTreeSet::new();
        for doc in codes::ALL {
            assert!(seen.insert(doc.code), "duplicate {}", doc.code);
            assert!(
                doc.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                doc.code
            );
            for text in [doc.en, doc.nl] {
                assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
                assert!(!text.starts_with(char::is_uppercase), "{text}");
            }
            assert_ne!(doc.en, doc.nl);
        }
    }

    #[test]
    fn pointer_tokens_are_escaped_as_rfc_6901_says() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }
}
