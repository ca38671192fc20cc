//! What orders and receipts share: VAT information on a line or cost, the lookups a document
//! needs, totals, the VAT breakdown, and the checks of one line's figures.
//!
//! `Checker` collects a document's violations: its general checks (texts, amounts,
//! references, currency, exchange rate) are here, a line's VAT in `vat_check.rs`, a line's
//! and a cost's figures and the sent totals in `lines.rs`, the lookups in `references.rs`,
//! the breakdown and its conversion in `totals.rs`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::identifiers::{CountryCode, VatNumber};
use crate::money::{MAX_INPUT_SCALE, has_at_most_decimals};
use crate::problem::{Violation, codes};
use crate::vat::VatCategory;

mod lines;
mod references;
mod totals;
mod vat_check;

pub(crate) use references::id_key;
pub use references::*;
pub(crate) use totals::Groups;
pub use totals::*;

/// The VAT information on a line or cost, as sent: a `rate_id`, or a `percentage` and
/// `category`, plus the `amount`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VatDraft {
    /// A VAT rate of the company; its percentage, category and country then apply.
    #[serde(default)]
    pub rate_id: Option<String>,
    /// The same rate by the vendor's own id, instead of `rate_id`.
    #[serde(default)]
    pub rate_external_id: Option<String>,
    /// The rate in percent (`21`, `9`, `5.5`); needed without `rate_id`.
    #[serde(default, with = "crate::money::exact::option")]
    pub percentage: Option<Decimal>,
    /// The VAT category; needed without `rate_id`.
    #[serde(default)]
    pub category: Option<VatCategory>,
    /// The country whose rate applies (ISO 3166-1); `NL` when left out, except for `oss`,
    /// where it is the destination and must be sent.
    #[serde(default)]
    pub country: Option<String>,
    /// The VAT amount in the document's currency, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
    /// Why the line is exempt (the legal ground), required for category `exempt`.
    #[serde(default)]
    pub exemption_reason: Option<String>,
}

/// The VAT of a validated line or cost: everything resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidVat {
    /// The company's rate, when the document referenced one.
    pub rate_id: Option<String>,
    /// That rate's external id; not part of the canonical form (it follows from the id).
    #[serde(skip)]
    pub rate_external_id: Option<String>,
    /// The rate in percent, normalised (`21`, not `21.00`).
    pub percentage: Decimal,
    /// The category.
    pub category: VatCategory,
    /// The country whose rate applies.
    pub country: CountryCode,
    /// The VAT amount.
    pub amount: Decimal,
    /// The exemption reason, for `exempt`.
    pub exemption_reason: Option<String>,
}

/// The figures of one valid line or cost.
#[derive(Debug, Clone)]
pub(crate) struct LineFigures {
    pub excl: Decimal,
    pub incl: Decimal,
    pub vat: ValidVat,
    /// Under the margin scheme: the purchase price per unit, and the taxable base, the
    /// margin less its VAT (0 for a line sold at a loss).
    pub margin: Option<Margin>,
}

/// What the margin scheme adds to a line's figures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Margin {
    pub purchase_price: Decimal,
    pub base: Decimal,
}

/// A line's quantity, unit price and discount as sent, before they are checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentPrices {
    pub quantity: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    pub discount: Option<Decimal>,
}

/// Whether a line can carry a purchase price, and the one it carries: the margin scheme
/// needs it, and only order lines have the field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purchase {
    /// A cost: no purchase price, so no margin scheme.
    NotTaken,
    /// A line, with the purchase price per unit if it sent one.
    Price(Option<Decimal>),
}

/// What the line check needs to know about one line or cost.
pub(crate) struct LineInput<'a> {
    /// The pointer to the line or cost, e.g. `/lines/0`.
    pub pointer: String,
    pub excl_field: &'static str,
    pub incl_field: &'static str,
    /// The quantity for the tolerance: 1 for a cost.
    pub quantity: Decimal,
    /// For a line: quantity, unit price and discount, to check the line total against.
    pub priced: Option<Priced>,
    pub excl: Option<Decimal>,
    pub incl: Option<Decimal>,
    pub vat: Option<&'a VatDraft>,
    pub purchase: Purchase,
}

/// A line's quantity, unit price and discount (an amount for the whole line, in the same
/// basis as the unit price).
#[derive(Debug, Clone)]
pub(crate) struct Priced {
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
}

/// One trillion: no sale comes near it, and keeping every input below it means no product
/// or sum of inputs can overflow a `Decimal`, so validation can never panic.
pub(crate) fn amount_limit() -> Decimal {
    Decimal::from(1_000_000_000_000i64)
}

/// The state of validating one document: its context and the violations found so far.
pub(crate) struct Checker<'a> {
    pub refs: &'a dyn References,
    pub prices_include_vat: bool,
    /// The document's date; rates are checked on it when known.
    pub date: Option<NaiveDate>,
    /// A credit order may correct a sale at a rate valid at an earlier date.
    pub credit: bool,
    /// Where a buyer's VAT number lives in this kind of document, if anywhere.
    pub buyer_vat_pointer: Option<&'static str>,
    pub buyer_vat: Option<VatNumber>,
    buyer_reported: bool,
    pub out: Vec<Violation>,
}

/// Whether a moment is a leap second (`23:59:60`), which chrono keeps but PostgreSQL would
/// store as the next day's first second: on 31 December that moves a sale into the next
/// year's VAT period, so it is refused rather than moved.
pub fn is_leap_second<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> bool {
    use chrono::Timelike as _;
    at.nanosecond() >= 1_000_000_000
}

/// The problem of a leap second at `pointer`.
pub fn leap_second_refused(pointer: &str, raw: impl std::fmt::Display) -> Violation {
    Violation::new(
        pointer,
        codes::INVALID_TIMESTAMP,
        format!("{raw} is a leap second, which cannot be stored: send :59 or the next second"),
        format!(
            "{raw} is een schrikkelseconde, die niet bewaard kan worden: stuur :59 of de volgende seconde"
        ),
    )
}

/// The most lines a document may have (SPEC "Bounds": a marketplace invoice rarely has a
/// thousand).
pub const MAX_LINES: usize = 5_000;
/// The most costs, and the most payments, a document may have.
pub const MAX_COSTS_OR_PAYMENTS: usize = 100;

/// Refuses a document whose lists are longer than the bounds, before any of their items is
/// checked: a 100,000-line order is refused with one problem per list, not one per line.
/// `lists` are (pointer, length, bound).
pub fn within_bounds(lists: &[(&str, usize, usize)]) -> Result<(), Vec<Violation>> {
    let over: Vec<Violation> = lists
        .iter()
        .filter(|(_, len, max)| len > max)
        .map(|(pointer, len, max)| {
            Violation::new(
                *pointer,
                codes::TOO_MANY_ITEMS,
                format!("at most {max} items are allowed here, not {len}"),
                format!("hier zijn hoogstens {max} items toegestaan, geen {len}"),
            )
        })
        .collect();
    if over.is_empty() { Ok(()) } else { Err(over) }
}

/// The exchange rate of a document (`noun`, in English and Dutch: an order, a receipt, a
/// settlement) in another currency than the company's books (`docs/bookkeeping-rules.md`,
/// "Foreign currency"): required then, with its date; a rate sent for a document in the
/// company's own currency must be 1.
pub(crate) fn exchange_rate(
    c: &mut Checker<'_>,
    (noun, noun_nl): (&str, &str),
    currency: Option<&str>,
    sent_rate: Option<Decimal>,
    sent_date: Option<NaiveDate>,
) -> (Option<Decimal>, Option<NaiveDate>) {
    let rate = sent_rate.and_then(|r| c.bounded("/exchange_rate".to_owned(), r, MAX_INPUT_SCALE));
    if let Some(r) = rate
        && r <= Decimal::ZERO
    {
        c.push(
            "/exchange_rate",
            codes::AMOUNT_OUT_OF_RANGE,
            format!("an exchange rate is more than 0, got {r}"),
            format!("een wisselkoers is meer dan 0, ontvangen: {r}"),
        );
    }
    let (Some(company), Some(currency)) = (c.refs.company_currency(), currency) else {
        return (rate, sent_date);
    };
    let currency = currency.trim();
    if currency.eq_ignore_ascii_case(company) {
        if let Some(r) = rate.filter(|r| *r != Decimal::ONE) {
            c.push(
                "/exchange_rate",
                codes::EXCHANGE_RATE_NOT_ONE,
                format!("the {noun} is in the company's own currency {company}, so its exchange rate is 1, got {r}"),
                format!("de {noun_nl} is in de eigen valuta {company} van de administratie, dus de wisselkoers is 1, ontvangen: {r}"),
            );
        }
        return (None, None);
    }
    if sent_rate.is_none() {
        c.push(
            "/exchange_rate",
            codes::EXCHANGE_RATE_REQUIRED,
            format!("the {noun} is in {currency} and the company's books in {company}: send exchange_rate ({company} per 1 {currency}) and exchange_rate_date"),
            format!("de {noun_nl} is in {currency} en de administratie in {company}: stuur exchange_rate ({company} per 1 {currency}) en exchange_rate_date"),
        );
    }
    if sent_date.is_none() {
        c.missing("/exchange_rate_date".to_owned());
    }
    (rate, sent_date)
}

impl<'a> Checker<'a> {
    pub fn new(refs: &'a dyn References) -> Checker<'a> {
        Checker {
            refs,
            prices_include_vat: false,
            date: None,
            credit: false,
            buyer_vat_pointer: None,
            buyer_vat: None,
            buyer_reported: false,
            out: Vec::new(),
        }
    }

    pub fn push(&mut self, pointer: impl Into<String>, code: &'static str, en: String, nl: String) {
        self.out.push(Violation::new(pointer, code, en, nl));
    }

    pub fn missing(&mut self, pointer: String) {
        let field = pointer.rsplit('/').next().unwrap_or_default().to_owned();
        self.push(
            pointer,
            codes::MISSING_FIELD,
            format!("{field} is missing"),
            format!("{field} ontbreekt"),
        );
    }

    /// What a reference resolves to: our `id` as sent, or the one whose external id is
    /// `external_id` (at `pointer`), with the resource's external id either way (answers
    /// carry both). An unknown external id, or one naming another resource than `id`, is a
    /// problem at `pointer`. Our `id` itself is checked by [`Self::reference`].
    pub fn resolve(
        &mut self,
        pointer: &str,
        id: Option<&str>,
        external_id: Option<&str>,
        kind: ExternalKind,
    ) -> Resolved {
        let Some(external_id) = external_id else {
            return Resolved {
                external_id: id.and_then(|id| self.refs.external_id_of(kind, id)),
                id: id.map(str::to_owned),
            };
        };
        let Some(ours) = self.refs.by_external_id(kind, external_id) else {
            let (code, en, nl) = kind.unknown();
            self.push(
                pointer,
                code,
                format!("no {en} has the external_id {external_id:?}"),
                format!("geen {nl} heeft de external_id {external_id:?}"),
            );
            return Resolved {
                id: id.map(str::to_owned),
                external_id: None,
            };
        };
        if let Some(id) = id
            && id_key(id) != ours.as_str()
        {
            self.push(
                pointer,
                codes::REFERENCE_MISMATCH,
                format!(
                    "the {en} with external_id {external_id:?} is not {id}",
                    en = kind.unknown().1
                ),
                format!(
                    "de {nl} met external_id {external_id:?} is niet {id}",
                    nl = kind.unknown().2
                ),
            );
        }
        Resolved {
            id: Some(ours),
            external_id: Some(external_id.to_owned()),
        }
    }

    /// A reference that must be given, by our id (`{field}_id`) or the vendor's
    /// (`{field}_external_id`): neither is a missing `{field}_id`; an id that does not exist is
    /// a problem at `{field}_id`, an unknown or disagreeing external id one at
    /// `{field}_external_id` ([`Self::resolve`]).
    pub fn required_reference(
        &mut self,
        p: &str,
        field: &str,
        id: Option<&str>,
        external_id: Option<&str>,
        kind: ExternalKind,
        exists: impl Fn(&dyn References, &str) -> bool,
    ) -> Resolved {
        let id_pointer = format!("{p}/{field}_id");
        let id = if external_id.is_some() {
            id
        } else {
            self.text(id_pointer.clone(), id)
        };
        let (code, en, nl) = kind.unknown();
        self.reference(id_pointer, id, exists, code, en, nl);
        self.resolve(&format!("{p}/{field}_external_id"), id, external_id, kind)
    }

    /// A required text: present and not blank.
    pub fn text<'t>(&mut self, pointer: String, value: Option<&'t str>) -> Option<&'t str> {
        match value.map(str::trim) {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                self.missing(pointer);
                None
            }
        }
    }

    /// A required amount with at most `scale` decimals and within the range any sale fits.
    pub fn amount(
        &mut self,
        pointer: String,
        value: Option<Decimal>,
        scale: u32,
    ) -> Option<Decimal> {
        let Some(v) = value else {
            self.missing(pointer);
            return None;
        };
        self.bounded(pointer, v, scale)
    }

    /// An amount that was sent, checked for scale and range.
    pub fn bounded(&mut self, pointer: String, v: Decimal, scale: u32) -> Option<Decimal> {
        let field = pointer.rsplit('/').next().unwrap_or_default().to_owned();
        if v.abs() >= amount_limit() {
            self.push(
                pointer,
                codes::AMOUNT_OUT_OF_RANGE,
                format!("{field} must be below one trillion in absolute value, got {v}"),
                format!("{field} moet in absolute waarde onder een biljoen liggen, ontvangen: {v}"),
            );
            return None;
        }
        if !has_at_most_decimals(v, scale) {
            self.push(
                pointer,
                codes::TOO_MANY_DECIMALS,
                format!("{field} may have at most {scale} decimals, got {v}"),
                format!("{field} mag hoogstens {scale} decimalen hebben, ontvangen: {v}"),
            );
            return None;
        }
        Some(v)
    }

    /// An ISO 4217 currency code.
    pub fn currency(&mut self, value: Option<&str>) -> Option<String> {
        let code = self.text("/currency".to_owned(), value)?;
        if crate::identifiers::currency_is_valid(code) {
            Some(code.to_owned())
        } else {
            self.push(
                "/currency",
                codes::INVALID_CURRENCY,
                format!("currency must be an active iso 4217 code in capitals such as EUR, got {code:?}"),
                format!("currency moet een geldige iso 4217-code in hoofdletters zijn, zoals EUR, ontvangen: {code:?}"),
            );
            None
        }
    }

    /// An optional country code.
    pub fn country(&mut self, pointer: String, value: Option<&str>) -> Option<CountryCode> {
        let raw = value?;
        match CountryCode::parse(raw.trim()) {
            Ok(c) => Some(c),
            Err(_) => {
                self.push(
                    pointer,
                    codes::INVALID_COUNTRY,
                    format!("{raw:?} is not an iso 3166-1 alpha-2 country code such as NL"),
                    format!("{raw:?} is geen iso 3166-1 alpha-2-landcode zoals NL"),
                );
                None
            }
        }
    }

    /// A reference that must exist when sent.
    pub fn reference(
        &mut self,
        pointer: String,
        value: Option<&str>,
        exists: impl Fn(&dyn References, &str) -> bool,
        code: &'static str,
        what_en: &str,
        what_nl: &str,
    ) {
        if let Some(id) = value
            && !exists(self.refs, id)
        {
            self.push(
                pointer,
                code,
                format!("{what_en} {id:?} does not exist in this company"),
                format!("{what_nl} {id:?} bestaat niet in deze administratie"),
            );
        }
    }
}
