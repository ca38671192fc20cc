//! What orders and receipts share: VAT information on a line or cost, the lookups a document
//! needs, totals, the VAT breakdown, and the checks of one line's figures.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::identifiers::{CountryCode, VatNumber};
use crate::money::{MAX_INPUT_SCALE, has_at_most_decimals, line_tolerance, round_cents};
use crate::problem::{Violation, codes};
use crate::vat::{self, VatCategory};

mod references;
mod totals;

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
    /// A cost, or a receipt line: no purchase price, so no margin scheme.
    NotTaken,
    /// An order line, with the purchase price per unit if it sent one.
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
fn amount_limit() -> Decimal {
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

/// The exchange rate of a document (`noun`: an order, a settlement) in another currency than
/// the company's books (`docs/bookkeeping-rules.md`, "Foreign currency"): required then, with
/// its date; a rate sent for a document in the company's own currency must be 1.
pub(crate) fn exchange_rate(
    c: &mut Checker<'_>,
    noun: &str,
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
                format!("de {noun} is in de eigen valuta {company} van de administratie, dus de wisselkoers is 1, ontvangen: {r}"),
            );
        }
        return (None, None);
    }
    if sent_rate.is_none() {
        c.push(
            "/exchange_rate",
            codes::EXCHANGE_RATE_REQUIRED,
            format!("the {noun} is in {currency} and the company's books in {company}: send exchange_rate ({company} per 1 {currency}) and exchange_rate_date"),
            format!("de {noun} is in {currency} en de administratie in {company}: stuur exchange_rate ({company} per 1 {currency}) en exchange_rate_date"),
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

    /// Checks a priced line (an order line or a receipt line): its quantity (not zero), unit
    /// price and discount, then its totals and VAT against them. Answers the figures and the
    /// prices separately, so that a caller can still check the rest of the line when one of
    /// them is missing and report every problem at once.
    pub fn priced_line(
        &mut self,
        p: &str,
        sent: SentPrices,
        totals: (Option<Decimal>, Option<Decimal>),
        vat: Option<&VatDraft>,
        purchase: Purchase,
    ) -> (Option<LineFigures>, Option<Priced>) {
        let SentPrices {
            quantity,
            unit_price,
            discount,
        } = sent;
        let quantity = self.amount(format!("{p}/quantity"), quantity, MAX_INPUT_SCALE);
        if quantity.is_some_and(|q| q.is_zero()) {
            self.push(
                format!("{p}/quantity"),
                codes::QUANTITY_ZERO,
                "quantity must not be zero".to_owned(),
                "quantity mag niet nul zijn".to_owned(),
            );
        }
        let unit_price = self.amount(format!("{p}/unit_price"), unit_price, MAX_INPUT_SCALE);
        let discount = match discount {
            Some(d) => self.bounded(format!("{p}/discount"), d, MAX_INPUT_SCALE),
            None => Some(Decimal::ZERO),
        };
        let priced = match (quantity, unit_price, discount) {
            (Some(quantity), Some(unit_price), Some(discount)) => Some(Priced {
                quantity,
                unit_price,
                discount,
            }),
            _ => None,
        };
        let figures = self.line(LineInput {
            pointer: p.to_owned(),
            excl_field: "total_excl_vat",
            incl_field: "total_incl_vat",
            quantity: quantity.unwrap_or(Decimal::ONE),
            priced: priced.clone(),
            excl: totals.0,
            incl: totals.1,
            vat,
            purchase,
        });
        (figures, priced.filter(|p| !p.quantity.is_zero()))
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

    /// Resolves and checks the VAT information of a line or cost.
    fn vat(&mut self, p: &str, vat: Option<&VatDraft>) -> Option<ValidVat> {
        let Some(vat) = vat else {
            self.push(
                format!("{p}/vat"),
                codes::VAT_MISSING,
                "vat is missing: send vat with rate_id, or percentage and category, and amount"
                    .to_owned(),
                "vat ontbreekt: stuur vat met rate_id, of percentage en category, en amount"
                    .to_owned(),
            );
            return None;
        };
        let amount = self.amount(format!("{p}/vat/amount"), vat.amount, 2);
        let before = self.out.len();
        let rate = self.resolve(
            &format!("{p}/vat/rate_external_id"),
            vat.rate_id.as_deref(),
            vat.rate_external_id.as_deref(),
            ExternalKind::VatRate,
        );
        if self.out.len() > before {
            // An unknown external id, or one that is not the `rate_id` beside it: reported, and
            // it is unknown which rate the vendor meant, so the amount is not checked.
            return None;
        }
        let resolved = match &rate.id {
            Some(id) => {
                match self.refs.vat_rate(id) {
                    None => {
                        self.push(
                            format!("{p}/vat/rate_id"),
                            codes::UNKNOWN_VAT_RATE,
                            format!("vat rate {id:?} does not exist in this company"),
                            format!("btw-tarief {id:?} bestaat niet in deze administratie"),
                        );
                        None
                    }
                    Some(rate) => {
                        let before = self.out.len();
                        if let Some(sent) = vat.percentage
                            && sent != rate.percentage
                        {
                            self.push(
                            format!("{p}/vat/percentage"),
                            codes::VAT_RATE_CONFLICT,
                            format!("percentage {sent} differs from vat rate {id:?}, which has {}", rate.percentage),
                            format!("percentage {sent} wijkt af van btw-tarief {id:?}, dat {} heeft", rate.percentage),
                        );
                        }
                        if let Some(sent) = vat.category
                            && sent != rate.category
                        {
                            self.push(
                                format!("{p}/vat/category"),
                                codes::VAT_RATE_CONFLICT,
                                format!(
                                    "category {sent} differs from vat rate {id:?}, which has {}",
                                    rate.category
                                ),
                                format!(
                                    "categorie {sent} wijkt af van btw-tarief {id:?}, dat {} heeft",
                                    rate.category
                                ),
                            );
                        }
                        let country = self.country(format!("{p}/vat/rate_id"), Some(&rate.country));
                        // After a conflict it is unknown which rate the vendor meant, so the
                        // amount is not checked against either.
                        let conflict = self.out.len() > before;
                        country
                            .filter(|_| !conflict)
                            .map(|c| (rate.percentage, rate.category, c))
                    }
                }
            }
            None => {
                let percentage = match vat.percentage {
                    Some(v) => self.bounded(format!("{p}/vat/percentage"), v, 4),
                    // A zero-rated category has only one possible percentage, so it may be
                    // left out.
                    None if vat.category.is_some_and(VatCategory::is_zero_rated) => {
                        Some(Decimal::ZERO)
                    }
                    None => {
                        self.missing(format!("{p}/vat/percentage"));
                        None
                    }
                };
                if vat.category.is_none() {
                    self.missing(format!("{p}/vat/category"));
                }
                let country = match (&vat.country, vat.category) {
                    (Some(raw), _) => self.country(format!("{p}/vat/country"), Some(raw)),
                    (None, Some(VatCategory::Oss)) => {
                        self.push(
                            format!("{p}/vat/country"),
                            codes::OSS_COUNTRY_REQUIRED,
                            "an oss line needs the destination country in vat.country".to_owned(),
                            "een oss-regel heeft het land van bestemming nodig in vat.country"
                                .to_owned(),
                        );
                        None
                    }
                    (None, _) => Some(CountryCode::NL),
                };
                match (percentage, vat.category, country) {
                    (Some(p), Some(c), Some(country)) => Some((p, c, country)),
                    _ => None,
                }
            }
        };
        let (percentage, category, country) = resolved?;
        let percentage = percentage.normalize();
        let mut ok = true;
        if category.is_zero_rated() != percentage.is_zero() {
            ok = false;
            let (en, nl) = if category.is_zero_rated() {
                ("0", "0")
            } else {
                ("above 0", "boven 0")
            };
            self.push(
                format!("{p}/vat/percentage"),
                codes::VAT_CATEGORY_PERCENTAGE_MISMATCH,
                format!("category {category} requires a percentage of {en}, got {percentage}"),
                format!(
                    "categorie {category} vereist een percentage van {nl}, ontvangen: {percentage}"
                ),
            );
        } else if !category.is_zero_rated()
            && let Some(date) = self.date
        {
            let valid = if self.credit {
                vat::percentage_valid_on_or_before(country.as_str(), category, percentage, date)
            } else {
                vat::percentage_valid(country.as_str(), category, percentage, date)
            };
            if !valid {
                ok = false;
                let then = vat::rates_on(country.as_str(), date).map(|r| match category {
                    VatCategory::Standard => r.standard.to_string(),
                    VatCategory::Reduced => join(&r.reduced),
                    _ => join(&[vec![r.standard], r.reduced.clone()].concat()),
                });
                let (then_en, then_nl) = match then {
                    Some(list) if category != VatCategory::Oss || country != CountryCode::NL => (
                        format!("valid then: {list}"),
                        format!("toen geldig: {list}"),
                    ),
                    _ => ("no rate known".to_owned(), "geen tarief bekend".to_owned()),
                };
                self.push(
                    format!("{p}/vat/percentage"),
                    codes::VAT_PERCENTAGE_NOT_VALID,
                    format!("{percentage}% is not a {category} rate in {country} on {date}; {then_en}"),
                    format!("{percentage}% is op {date} geen tarief van categorie {category} in {country}; {then_nl}"),
                );
            }
        }
        if category == VatCategory::Exempt
            && vat
                .exemption_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            self.push(
                format!("{p}/vat/exemption_reason"),
                codes::EXEMPTION_REASON_REQUIRED,
                "an exempt line needs the reason for the exemption in exemption_reason".to_owned(),
                "een vrijgestelde regel heeft de reden van de vrijstelling nodig in exemption_reason".to_owned(),
            );
        }
        if category == VatCategory::IntraEu {
            self.intra_eu(p);
        }
        let amount = amount?;
        if category.is_zero_rated() && !amount.is_zero() {
            self.push(
                format!("{p}/vat/amount"),
                codes::VAT_AMOUNT_NOT_ZERO,
                format!("category {category} carries no vat: expected 0.00, got {amount}"),
                format!("categorie {category} heeft geen btw: verwacht 0.00, ontvangen: {amount}"),
            );
            ok = false;
        }
        ok.then(|| ValidVat {
            rate_id: rate.id.clone(),
            rate_external_id: rate.external_id.clone(),
            percentage,
            category,
            country,
            amount,
            exemption_reason: vat.exemption_reason.clone(),
        })
    }

    /// An intra-EU supply needs a buyer VAT number from another member state; reported once
    /// per document, because it is one fact about the buyer.
    fn intra_eu(&mut self, p: &str) {
        if self.buyer_reported {
            return;
        }
        let pointer = self
            .buyer_vat_pointer
            .map_or_else(|| format!("{p}/vat/category"), str::to_owned);
        match &self.buyer_vat {
            None => {
                self.buyer_reported = true;
                self.push(
                    pointer,
                    codes::INTRA_EU_REQUIRES_BUYER_VAT_NUMBER,
                    "an intra-eu supply needs the buyer's valid vat number".to_owned(),
                    "een intracommunautaire levering heeft het geldige btw-nummer van de afnemer nodig".to_owned(),
                );
            }
            Some(number) if number.prefix() == "NL" => {
                self.buyer_reported = true;
                self.push(
                    pointer,
                    codes::INTRA_EU_BUYER_IS_DOMESTIC,
                    format!("an intra-eu supply needs a buyer in another member state, got {number}"),
                    format!("een intracommunautaire levering heeft een afnemer in een andere lidstaat nodig, ontvangen: {number}"),
                );
            }
            Some(_) => {}
        }
    }

    /// Checks one line's or cost's figures and returns them when they are all valid.
    pub fn line(&mut self, input: LineInput<'_>) -> Option<LineFigures> {
        let p = input.pointer.as_str();
        let vat = self.vat(p, input.vat);
        let excl = input
            .excl
            .and_then(|v| self.bounded(format!("{p}/{}", input.excl_field), v, 2));
        let incl = input
            .incl
            .and_then(|v| self.bounded(format!("{p}/{}", input.incl_field), v, 2));
        let (basis_field, basis) = if self.prices_include_vat {
            (input.incl_field, incl)
        } else {
            (input.excl_field, excl)
        };
        let basis_sent = if self.prices_include_vat {
            input.incl.is_some()
        } else {
            input.excl.is_some()
        };
        if !basis_sent {
            self.missing(format!("{p}/{basis_field}"));
        }
        let basis = basis?;
        let mut ok = true;
        if let Some(priced) = &input.priced {
            let expected = priced.quantity * priced.unit_price - priced.discount;
            let diff = (basis - expected).abs();
            let tolerance = line_tolerance(priced.quantity);
            if diff > tolerance {
                ok = false;
                self.push(
                    format!("{p}/{basis_field}"),
                    codes::LINE_TOTAL_MISMATCH,
                    format!(
                        "{basis_field} is {basis} but quantity {} × unit_price {} − discount {} is {expected}: a difference of {diff}, more than the tolerance of {tolerance}",
                        priced.quantity, priced.unit_price, priced.discount
                    ),
                    format!(
                        "{basis_field} is {basis} maar aantal {} × unit_price {} − korting {} is {expected}: een verschil van {diff}, meer dan de marge van {tolerance}",
                        priced.quantity, priced.unit_price, priced.discount
                    ),
                );
            }
        }
        let vat = vat?;
        let (excl, incl) = if self.prices_include_vat {
            (excl.unwrap_or(basis - vat.amount), basis)
        } else {
            (basis, incl.unwrap_or(basis + vat.amount))
        };
        if incl != excl + vat.amount {
            ok = false;
            let derived = if self.prices_include_vat {
                input.excl_field
            } else {
                input.incl_field
            };
            self.push(
                format!("{p}/{derived}"),
                codes::INCL_EXCL_VAT_MISMATCH,
                format!(
                    "{} {incl} is not {} {excl} plus vat {} = {}",
                    input.incl_field,
                    input.excl_field,
                    vat.amount,
                    excl + vat.amount
                ),
                format!(
                    "{} {incl} is niet {} {excl} plus btw {} = {}",
                    input.incl_field,
                    input.excl_field,
                    vat.amount,
                    excl + vat.amount
                ),
            );
        }
        let margin = self.margin(p, &input, &vat, incl);
        if vat.category == VatCategory::Margin && margin.is_none() {
            ok = false;
        }
        if !vat.category.is_zero_rated() && vat.category != VatCategory::Margin {
            let r = vat.percentage;
            let (expected, formula_en, formula_nl) = if self.prices_include_vat {
                (
                    round_cents(incl * r / (Decimal::ONE_HUNDRED + r)),
                    format!("{incl} × {r}/(100+{r})"),
                    format!("{incl} × {r}/(100+{r})"),
                )
            } else {
                (
                    round_cents(excl * r / Decimal::ONE_HUNDRED),
                    format!("{excl} × {r}%"),
                    format!("{excl} × {r}%"),
                )
            };
            let diff = (vat.amount - expected).abs();
            let tolerance = line_tolerance(input.quantity);
            if diff > tolerance {
                ok = false;
                self.push(
                    format!("{p}/vat/amount"),
                    codes::VAT_AMOUNT_MISMATCH,
                    format!(
                        "vat is {} but {formula_en} is {expected}: a difference of {diff}, more than the tolerance of {tolerance} for quantity {}",
                        vat.amount, input.quantity
                    ),
                    format!(
                        "btw is {} maar {formula_nl} is {expected}: een verschil van {diff}, meer dan de marge van {tolerance} bij aantal {}",
                        vat.amount, input.quantity
                    ),
                );
            }
        }
        ok.then_some(LineFigures {
            excl,
            incl,
            vat,
            margin,
        })
    }

    /// The margin scheme's rules for one line (`docs/bookkeeping-rules.md`, "Margin scheme"):
    /// a margin line needs its purchase price, and only a margin line takes one; the VAT is
    /// on the margin `m = incl − purchase_price × quantity`, `round(m × r / (100 + r))`,
    /// and 0 when the line made a loss (a refund line, with a negative quantity, mirrors a
    /// sale). Returns the purchase price and the taxable base when the line is a valid
    /// margin line.
    fn margin(
        &mut self,
        p: &str,
        input: &LineInput<'_>,
        vat: &ValidVat,
        incl: Decimal,
    ) -> Option<Margin> {
        let is_margin = vat.category == VatCategory::Margin;
        let price = match input.purchase {
            Purchase::NotTaken if is_margin => {
                self.push(
                    format!("{p}/vat/category"),
                    codes::MARGIN_NEEDS_PURCHASE_PRICE,
                    "the margin scheme applies to an order line of goods with its purchase_price, not here".to_owned(),
                    "de margeregeling geldt voor een orderregel met goederen en hun purchase_price, niet hier".to_owned(),
                );
                return None;
            }
            Purchase::NotTaken => return None,
            Purchase::Price(None) if is_margin => {
                self.missing(format!("{p}/purchase_price"));
                return None;
            }
            Purchase::Price(None) => return None,
            Purchase::Price(Some(_)) if !is_margin => {
                self.push(
                    format!("{p}/purchase_price"),
                    codes::PURCHASE_PRICE_WITHOUT_MARGIN,
                    format!("a purchase_price is only taken under the margin scheme; this line's vat category is {}", vat.category),
                    format!("een purchase_price hoort alleen bij de margeregeling; de btw-categorie van deze regel is {}", vat.category),
                );
                return None;
            }
            Purchase::Price(Some(price)) => price,
        };
        let price = self.bounded(format!("{p}/purchase_price"), price, MAX_INPUT_SCALE)?;
        if price.is_sign_negative() {
            self.push(
                format!("{p}/purchase_price"),
                codes::AMOUNT_OUT_OF_RANGE,
                format!("a purchase price is not negative, got {price}"),
                format!("een inkoopprijs is niet negatief, ontvangen: {price}"),
            );
            return None;
        }
        let quantity = input.quantity;
        let margin = incl - price * quantity;
        let r = vat.percentage;
        let taxed = !margin.is_zero() && margin.is_sign_negative() == quantity.is_sign_negative();
        let expected = if taxed {
            round_cents(margin * r / (Decimal::ONE_HUNDRED + r))
        } else {
            Decimal::ZERO
        };
        let diff = (vat.amount - expected).abs();
        let tolerance = line_tolerance(quantity);
        if diff > tolerance {
            self.push(
                format!("{p}/vat/amount"),
                codes::VAT_AMOUNT_MISMATCH,
                format!(
                    "vat is {} but on the margin {incl} − {price} × {quantity} = {margin} it is {expected}: a difference of {diff}, more than the tolerance of {tolerance}",
                    vat.amount
                ),
                format!(
                    "btw is {} maar op de marge {incl} − {price} × {quantity} = {margin} is hij {expected}: een verschil van {diff}, meer dan de marge van {tolerance}",
                    vat.amount
                ),
            );
            return None;
        }
        let base = if taxed {
            margin - vat.amount
        } else {
            -vat.amount
        };
        Some(Margin {
            purchase_price: price,
            base,
        })
    }

    /// Compares the totals a vendor sent with the computed ones, exactly.
    pub fn totals(&mut self, sent: Option<&TotalsDraft>, computed: &Totals) {
        let Some(sent) = sent else { return };
        for (field, sent, computed) in [
            (
                "total_excl_vat",
                sent.total_excl_vat,
                computed.total_excl_vat,
            ),
            ("total_vat", sent.total_vat, computed.total_vat),
            (
                "total_incl_vat",
                sent.total_incl_vat,
                computed.total_incl_vat,
            ),
        ] {
            if let Some(sent) = sent
                && sent != computed
            {
                self.push(
                    format!("/totals/{field}"),
                    codes::TOTAL_MISMATCH,
                    format!("{field} is {sent} but the lines and costs add up to {computed}"),
                    format!("{field} is {sent} maar de regels en kosten tellen op tot {computed}"),
                );
            }
        }
    }
}

fn join(rates: &[Decimal]) -> String {
    let texts: Vec<String> = rates.iter().map(|r| r.normalize().to_string()).collect();
    if texts.is_empty() {
        "-".to_owned()
    } else {
        texts.join(", ")
    }
}
