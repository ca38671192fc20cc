//! POS receipts (`docs/contract.md`, "Documents"; `docs/bookkeeping-rules.md` "POS days"): the
//! draft as a till sends it, and its validation into a [`ValidReceipt`] whose revenue is kept apart
//! from tips, gift cards and deposits.
//!
//! Choices where the spec is silent:
//! - Cash change is a `change` amount on the payment it was given back from (usually cash):
//!   the customer hands over `amount`, gets `change` back, so the payment counts
//!   `amount − change`. Change lies between 0 and the amount; a refund payment (negative) has
//!   no change. Then `Σ (amount − change) + cash_rounding = total` exactly.
//! - `cash_rounding` is what is added to the payments to reach the total: paying 10.05 cash
//!   for 10.03 is a cash rounding of −0.02. At most 0.02 either way, no VAT.
//! - A line's `kind`: `sale` (default) and `gift_card_single_purpose` are revenue with VAT as
//!   usual; `tip`, `gift_card_multi_purpose` and `deposit` carry no VAT (`outside_scope`)
//!   and are reported apart. That a returnable deposit (statiegeld) is outside the VAT scope
//!   is our reading; verify with an accountant.
//! - Every line, tips included, needs a product code and a category, as `docs/contract.md` says.
//! - An `intra_eu` line needs a buyer with a VAT number of another member state: a receipt
//!   of a sale to a business names its `customer`, as an order does.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document::{
    Checker, ExternalKind, Groups, MAX_COSTS_OR_PAYMENTS, MAX_LINES, Priced, Purchase, References,
    SentPrices, Totals, TotalsDraft, ValidVat, VatDraft, VatGroup, is_leap_second,
    leap_second_refused, within_bounds,
};
use crate::order::{CustomerDraft, ValidCustomer, customer};
use crate::problem::{Violation, codes};
use crate::vat::VatCategory;

/// The most a cash rounding may be, either way.
pub fn max_cash_rounding() -> Decimal {
    Decimal::new(2, 2)
}

/// What a receipt line is, for keeping revenue apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptLineKind {
    /// A sale: revenue.
    #[default]
    Sale,
    /// A tip (fooi) passed on to staff: not revenue, no VAT.
    Tip,
    /// A multi-purpose gift card sold: not revenue until redeemed, no VAT.
    GiftCardMultiPurpose,
    /// A single-purpose gift card sold: revenue when sold, with VAT.
    GiftCardSinglePurpose,
    /// A deposit on returnable packaging (statiegeld): no VAT, kept apart.
    Deposit,
}

impl ReceiptLineKind {
    /// The snake_case name used on the wire and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptLineKind::Sale => "sale",
            ReceiptLineKind::Tip => "tip",
            ReceiptLineKind::GiftCardMultiPurpose => "gift_card_multi_purpose",
            ReceiptLineKind::GiftCardSinglePurpose => "gift_card_single_purpose",
            ReceiptLineKind::Deposit => "deposit",
        }
    }

    /// Whether this kind is revenue (and so carries VAT as a sale does).
    pub fn is_revenue(self) -> bool {
        matches!(
            self,
            ReceiptLineKind::Sale | ReceiptLineKind::GiftCardSinglePurpose
        )
    }
}

/// One receipt line as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineDraft {
    /// What the line is; `sale` when left out.
    #[serde(default)]
    pub kind: Option<ReceiptLineKind>,
    /// The till's product code.
    #[serde(default)]
    pub product_code: Option<String>,
    /// What was sold.
    #[serde(default)]
    pub description: Option<String>,
    /// The revenue category in Koppel.
    #[serde(default)]
    pub category_id: Option<String>,
    /// The same category by the vendor's own id, instead of (or agreeing with) `category_id`.
    #[serde(default)]
    pub category_external_id: Option<String>,
    /// How many; negative on a refund. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub quantity: Option<Decimal>,
    /// Price per unit in the receipt's basis. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub unit_price: Option<Decimal>,
    /// Discount on the whole line in the same basis; 0 when left out.
    #[serde(default, with = "crate::money::exact::option")]
    pub discount: Option<Decimal>,
    /// VAT information.
    #[serde(default)]
    pub vat: Option<VatDraft>,
    /// Line total excluding VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_excl_vat: Option<Decimal>,
    /// Line total including VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_incl_vat: Option<Decimal>,
}

/// A payment on a receipt as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptPaymentDraft {
    /// The payment method in Koppel.
    #[serde(default)]
    pub method_id: Option<String>,
    /// The same method by the vendor's own id, instead of (or agreeing with) `method_id`.
    #[serde(default)]
    pub method_external_id: Option<String>,
    /// The amount handed over (cash) or charged; negative for money paid back.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
    /// The terminal's or provider's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Cash given back from this payment; 0 when left out.
    #[serde(default, with = "crate::money::exact::option")]
    pub change: Option<Decimal>,
}

/// A receipt as a till sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptDraft {
    /// The vendor's own id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The receipt number.
    #[serde(default)]
    pub number: Option<String>,
    /// The shop or location.
    #[serde(default)]
    pub location_id: Option<String>,
    /// The till.
    #[serde(default)]
    pub register_id: Option<String>,
    /// The moment of sale as sent: RFC 3339 with an offset, kept as text so a missing offset
    /// can be named instead of failing the whole body.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 4217 currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Whether unit prices include VAT (usual for a till).
    #[serde(default)]
    pub prices_include_vat: Option<bool>,
    /// The lines; at least one.
    #[serde(default)]
    pub lines: Vec<ReceiptLineDraft>,
    /// The payments.
    #[serde(default)]
    pub payments: Vec<ReceiptPaymentDraft>,
    /// Cash rounding added to the payments to reach the total; at most 0.02 either way.
    #[serde(default, with = "crate::money::exact::option")]
    pub cash_rounding: Option<Decimal>,
    /// Totals, when the till sends them; they must match exactly.
    #[serde(default)]
    pub totals: Option<TotalsDraft>,
    /// For a refund: the receipt it refunds, by our id.
    #[serde(default)]
    pub refund_of: Option<String>,
    /// The same receipt by the vendor's own id, instead of `refund_of`.
    #[serde(default)]
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded, as the till recorded it.
    #[serde(default)]
    pub refund_reason: Option<String>,
    /// The buyer, for a sale on account or to a business; an `intra_eu` line needs its VAT
    /// number.
    #[serde(default)]
    pub customer: Option<CustomerDraft>,
}

/// A validated receipt line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidReceiptLine {
    /// What the line is.
    pub kind: ReceiptLineKind,
    /// The till's product code.
    pub product_code: String,
    /// What was sold.
    pub description: Option<String>,
    /// The revenue category.
    pub category_id: String,
    /// How many.
    pub quantity: Decimal,
    /// Price per unit.
    pub unit_price: Decimal,
    /// Discount on the whole line.
    pub discount: Decimal,
    /// Resolved VAT.
    pub vat: ValidVat,
    /// Line total excluding VAT.
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    pub total_incl_vat: Decimal,
}

/// A validated receipt payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidReceiptPayment {
    /// The payment method.
    pub method_id: String,
    /// The amount handed over or charged.
    pub amount: Decimal,
    /// Cash given back.
    pub change: Decimal,
    /// The reference.
    pub reference: Option<String>,
}

impl ValidReceiptPayment {
    /// What the payment counts for: the amount minus the change.
    pub fn net(&self) -> Decimal {
        self.amount - self.change
    }
}

/// A receipt's figures split the way the day's bookkeeping needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReceiptSplit {
    /// Revenue: sales and single-purpose gift cards.
    pub revenue: Totals,
    /// Tips, including VAT (which is none).
    pub tips: Decimal,
    /// Multi-purpose gift cards sold.
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    pub deposits: Decimal,
}

/// A receipt that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidReceipt {
    /// The vendor's own id.
    pub external_id: String,
    /// The receipt number.
    pub number: Option<String>,
    /// The location.
    pub location_id: Option<String>,
    /// The till.
    pub register_id: Option<String>,
    /// The moment of sale with its offset.
    pub created_at: DateTime<FixedOffset>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// The lines.
    pub lines: Vec<ValidReceiptLine>,
    /// The payments.
    pub payments: Vec<ValidReceiptPayment>,
    /// Cash rounding.
    pub cash_rounding: Decimal,
    /// Totals of all lines.
    pub totals: Totals,
    /// Base and VAT per category, rate and country, of all lines.
    pub vat_breakdown: Vec<VatGroup>,
    /// Revenue apart from tips, gift cards and deposits.
    pub split: ReceiptSplit,
    /// What single-purpose vouchers paid, per revenue rate: taken out of the day's revenue
    /// and VAT (VAT.md). Derived from the payments, so not part of the canonical form.
    #[serde(skip)]
    pub voucher_redemptions: Vec<(crate::daily::RateKey, crate::daily::RateFigures)>,
    /// For a refund: the receipt it refunds (our id). Left out of the canonical form when
    /// absent, with the two below, so a receipt sent before they existed hashes as it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<String>,
    /// That receipt's external id; follows from the id, so not in the canonical form.
    #[serde(skip)]
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
    /// The buyer, when the receipt named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<ValidCustomer>,
}

impl ValidReceipt {
    /// The business date of the sale in the company's timezone and cutoff.
    pub fn business_date(&self, tz: chrono_tz::Tz, cutoff: NaiveTime) -> NaiveDate {
        crate::business_day::business_date(self.created_at, tz, cutoff)
    }
}

/// Parses a moment of sale, naming a missing offset rather than calling it malformed.
pub fn parse_moment(raw: &str) -> Result<DateTime<FixedOffset>, Violation> {
    parse_moment_at(raw, "/created_at")
}

/// Parses a moment at `pointer` (RFC 3339 with an offset), naming a missing offset rather
/// than calling it malformed.
pub fn parse_moment_at(raw: &str, pointer: &str) -> Result<DateTime<FixedOffset>, Violation> {
    let field = pointer.rsplit('/').next().unwrap_or_default();
    if let Ok(moment) = DateTime::parse_from_rfc3339(raw.trim()) {
        if is_leap_second(&moment) {
            return Err(leap_second_refused(pointer, raw));
        }
        return Ok(moment);
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .any(|f| NaiveDateTime::parse_from_str(raw.trim(), f).is_ok());
    Err(if local {
        Violation::new(
            pointer,
            codes::TIMESTAMP_WITHOUT_OFFSET,
            format!(
                "{field} {raw:?} has no utc offset; in the october night a local time happens twice, so send it with its offset, e.g. {raw}+01:00"
            ),
            format!(
                "{field} {raw:?} heeft geen utc-offset; in de oktobernacht komt een lokale tijd twee keer voor, dus stuur hem met offset, bijvoorbeeld {raw}+01:00"
            ),
        )
    } else {
        Violation::new(
            pointer,
            codes::INVALID_TIMESTAMP,
            format!(
                "{field} {raw:?} is not an rfc 3339 timestamp such as 2026-03-29T14:05:00+02:00"
            ),
            format!("{field} {raw:?} is geen rfc 3339-tijdstip zoals 2026-03-29T14:05:00+02:00"),
        )
    })
}

fn line(
    c: &mut Checker<'_>,
    groups: &mut Groups,
    i: usize,
    l: &ReceiptLineDraft,
) -> Option<ValidReceiptLine> {
    let p = format!("/lines/{i}");
    let kind = l.kind.unwrap_or_default();
    let product_code = c.text(format!("{p}/product_code"), l.product_code.as_deref());
    let category = c.required_reference(
        &p,
        "category",
        l.category_id.as_deref(),
        l.category_external_id.as_deref(),
        ExternalKind::Category,
        |r, id| r.category_exists(id),
    );
    let category_id = category.id.as_deref();
    let (figures, priced) = c.priced_line(
        &p,
        SentPrices {
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: l.discount,
        },
        (l.total_excl_vat, l.total_incl_vat),
        l.vat.as_ref(),
        Purchase::NotTaken,
    );
    let figures = figures?;
    if !kind.is_revenue() && figures.vat.category != VatCategory::OutsideScope {
        c.push(
            format!("{p}/vat/category"),
            codes::LINE_KIND_NOT_OUTSIDE_SCOPE,
            format!(
                "a {} line carries no vat and must be outside_scope, got {}",
                kind_name(kind),
                figures.vat.category
            ),
            format!(
                "een regel van soort {} heeft geen btw en hoort in outside_scope, ontvangen: {}",
                kind_name(kind),
                figures.vat.category
            ),
        );
        return None;
    }
    let Priced {
        quantity,
        unit_price,
        discount,
    } = priced?;
    groups.add(&figures, quantity, &p);
    Some(ValidReceiptLine {
        kind,
        product_code: product_code?.to_owned(),
        description: l.description.clone(),
        category_id: category_id?.to_owned(),
        quantity,
        unit_price,
        discount,
        vat: figures.vat,
        total_excl_vat: figures.excl,
        total_incl_vat: figures.incl,
    })
}

fn kind_name(kind: ReceiptLineKind) -> &'static str {
    match kind {
        ReceiptLineKind::Sale => "sale",
        ReceiptLineKind::Tip => "tip",
        ReceiptLineKind::GiftCardMultiPurpose => "gift_card_multi_purpose",
        ReceiptLineKind::GiftCardSinglePurpose => "gift_card_single_purpose",
        ReceiptLineKind::Deposit => "deposit",
    }
}

fn payment(
    c: &mut Checker<'_>,
    i: usize,
    pay: &ReceiptPaymentDraft,
) -> Option<ValidReceiptPayment> {
    let p = format!("/payments/{i}");
    let method = c.required_reference(
        &p,
        "method",
        pay.method_id.as_deref(),
        pay.method_external_id.as_deref(),
        ExternalKind::PaymentMethod,
        |r, id| r.payment_method_exists(id),
    );
    let method_id = method.id.as_deref();
    let amount = c.amount(format!("{p}/amount"), pay.amount, 2)?;
    let change = match pay.change {
        Some(v) => c.bounded(format!("{p}/change"), v, 2)?,
        None => Decimal::ZERO,
    };
    let allowed = if amount > Decimal::ZERO {
        Decimal::ZERO <= change && change <= amount
    } else {
        change.is_zero()
    };
    if !allowed {
        c.push(
            format!("{p}/change"),
            codes::INVALID_CHANGE,
            format!("change must be between 0 and the amount of {amount} handed over, got {change}"),
            format!("wisselgeld moet tussen 0 en het betaalde bedrag van {amount} liggen, ontvangen: {change}"),
        );
        return None;
    }
    Some(ValidReceiptPayment {
        method_id: method_id?.to_owned(),
        amount,
        change,
        reference: pay.reference.clone(),
    })
}

/// Checks every receipt rule and returns the receipt with its totals, VAT breakdown and the
/// revenue split, or every violation found.
pub fn validate_receipt(
    draft: &ReceiptDraft,
    refs: &dyn References,
) -> Result<ValidReceipt, Vec<Violation>> {
    within_bounds(&[
        ("/lines", draft.lines.len(), MAX_LINES),
        ("/payments", draft.payments.len(), MAX_COSTS_OR_PAYMENTS),
    ])?;
    let mut c = Checker::new(refs);
    if draft.prices_include_vat.is_none() {
        c.missing("/prices_include_vat".to_owned());
    }
    c.prices_include_vat = draft.prices_include_vat.unwrap_or(true);
    let external_id = c
        .text("/external_id".to_owned(), draft.external_id.as_deref())
        .map(str::to_owned);
    let created_at = match draft.created_at.as_deref() {
        None => {
            c.missing("/created_at".to_owned());
            None
        }
        Some(raw) => match parse_moment(raw) {
            Ok(m) => Some(m),
            Err(v) => {
                c.out.push(v);
                None
            }
        },
    };
    c.date = created_at.map(|m| m.date_naive());
    let currency = c.currency(draft.currency.as_deref());
    if let (Some(sent), Some(company)) = (&currency, refs.company_currency())
        && sent != company
    {
        c.push(
            "/currency",
            codes::CURRENCY_NOT_COMPANY_CURRENCY,
            format!("the books of this company are kept in {company}, so its receipts are too; got {sent:?}"),
            format!("de administratie van dit bedrijf is in {company}, dus de bonnen ook; ontvangen: {sent:?}"),
        );
    }
    c.reference(
        "/refund_of".to_owned(),
        draft.refund_of.as_deref(),
        |r, id| r.receipt_exists(id),
        codes::UNKNOWN_RECEIPT,
        "receipt",
        "kassabon",
    );
    // Before the lines: an intra-EU line asks for the buyer's VAT number.
    let customer = draft.customer.as_ref().map(|d| customer(&mut c, d));
    let refund = c.resolve(
        "/refund_of_external_id",
        draft.refund_of.as_deref(),
        draft.refund_of_external_id.as_deref(),
        ExternalKind::Receipt,
    );
    let cash_rounding = match draft.cash_rounding {
        None => Some(Decimal::ZERO),
        Some(v) => c.bounded("/cash_rounding".to_owned(), v, 2).and_then(|v| {
            if v.abs() > max_cash_rounding() {
                c.push(
                    "/cash_rounding",
                    codes::ROUNDING_TOO_LARGE,
                    format!("cash_rounding is at most 0.02 either way, got {v}"),
                    format!("cash_rounding is hoogstens 0.02 in beide richtingen, ontvangen: {v}"),
                );
                None
            } else {
                Some(v)
            }
        }),
    };
    if draft.lines.is_empty() {
        c.push(
            "/lines",
            codes::NO_LINES,
            "a receipt needs at least one line".to_owned(),
            "een bon heeft minstens een regel nodig".to_owned(),
        );
    }
    let mut groups = Groups::default();
    let lines: Option<Vec<ValidReceiptLine>> = draft
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| line(&mut c, &mut groups, i, l))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let payments: Option<Vec<ValidReceiptPayment>> = draft
        .payments
        .iter()
        .enumerate()
        .map(|(i, p)| payment(&mut c, i, p))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();

    let mut totals = Totals::default();
    let mut split = ReceiptSplit::default();
    let mut voucher_redemptions = Vec::new();
    if let Some(lines) = &lines {
        for l in lines {
            totals.add(l.total_excl_vat, l.vat.amount);
            match l.kind {
                ReceiptLineKind::Sale | ReceiptLineKind::GiftCardSinglePurpose => {
                    split.revenue.add(l.total_excl_vat, l.vat.amount)
                }
                ReceiptLineKind::Tip => split.tips += l.total_incl_vat,
                ReceiptLineKind::GiftCardMultiPurpose => {
                    split.gift_cards_multi_purpose += l.total_incl_vat
                }
                ReceiptLineKind::Deposit => split.deposits += l.total_incl_vat,
            }
        }
        groups.check(c.prices_include_vat, &mut c.out);
        c.totals(draft.totals.as_ref(), &totals);
        if let Some(payments) = &payments {
            let redeemed: Decimal = payments
                .iter()
                .filter(|p| refs.is_single_purpose_voucher(&p.method_id))
                .map(ValidReceiptPayment::net)
                .sum();
            let mut revenue: std::collections::BTreeMap<crate::daily::RateKey, (Decimal, Decimal)> =
                std::collections::BTreeMap::new();
            for l in lines.iter().filter(|l| l.kind.is_revenue()) {
                let group = revenue
                    .entry((l.vat.category, l.vat.percentage, l.vat.country))
                    .or_default();
                group.0 += l.total_excl_vat;
                group.1 += l.vat.amount;
            }
            let groups: Vec<_> = revenue.into_iter().map(|(k, (b, v))| (k, b, v)).collect();
            match crate::daily::voucher_shares(redeemed, &groups) {
                Some(shares) => voucher_redemptions = shares,
                None => c.push(
                    "/payments",
                    codes::VOUCHER_EXCEEDS_REVENUE,
                    format!(
                        "single-purpose vouchers pay {redeemed}, more than the goods they can pay for ({})",
                        split.revenue.total_incl_vat
                    ),
                    format!(
                        "enkelvoudige waardebonnen betalen {redeemed}, meer dan de goederen die ze kunnen betalen ({})",
                        split.revenue.total_incl_vat
                    ),
                ),
            }
        }
        if let (Some(payments), Some(rounding)) = (&payments, cash_rounding) {
            let net: Decimal = payments.iter().map(ValidReceiptPayment::net).sum();
            if net + rounding != totals.total_incl_vat {
                c.push(
                    "/payments",
                    codes::PAYMENTS_DO_NOT_MATCH_TOTAL,
                    format!(
                        "the payments minus change ({net}) plus cash rounding ({rounding}) make {} but the total is {}",
                        net + rounding,
                        totals.total_incl_vat
                    ),
                    format!(
                        "de betalingen min wisselgeld ({net}) plus contante afronding ({rounding}) maken {} maar het totaal is {}",
                        net + rounding,
                        totals.total_incl_vat
                    ),
                );
            }
        }
    }
    match (
        external_id,
        created_at,
        currency,
        lines,
        payments,
        cash_rounding,
    ) {
        (
            Some(external_id),
            Some(created_at),
            Some(currency),
            Some(lines),
            Some(payments),
            Some(cash_rounding),
        ) if c.out.is_empty() => Ok(ValidReceipt {
            external_id,
            number: draft.number.clone(),
            location_id: draft.location_id.clone(),
            register_id: draft.register_id.clone(),
            created_at,
            currency,
            prices_include_vat: c.prices_include_vat,
            lines,
            payments,
            cash_rounding,
            totals,
            vat_breakdown: groups.breakdown(),
            split,
            voucher_redemptions,
            refund_of: refund.id,
            refund_of_external_id: refund.external_id,
            refund_reason: draft.refund_reason.clone(),
            customer,
        }),
        _ => {
            debug_assert!(!c.out.is_empty(), "an invalid receipt without a violation");
            Err(c.out)
        }
    }
}
