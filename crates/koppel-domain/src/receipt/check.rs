//! The checks that turn a till's draft into a [`ValidReceipt`], every broken rule named.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use rust_decimal::Decimal;

use crate::daily::{RateFigures, RateKey, voucher_shares};
use crate::document::{
    Checker, ExternalKind, Groups, MAX_COSTS_OR_PAYMENTS, MAX_LINES, Priced, Purchase, References,
    SentPrices, Totals, VatGroup, is_leap_second, leap_second_refused, within_bounds,
};
use crate::order::customer;
use crate::problem::{Violation, codes};

use super::convert::InCompanyCurrency;
use super::{
    ReceiptDraft, ReceiptLineDraft, ReceiptPaymentDraft, ReceiptSplit, ValidReceipt,
    ValidReceiptLine, ValidReceiptPayment, max_cash_rounding,
};

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
        Purchase::Price(l.purchase_price),
    );
    let figures = figures?;
    if !c.kind_carries_its_vat(&p, kind.as_str(), kind.is_revenue(), figures.vat.category) {
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
        purchase_price: figures.margin.map(|m| m.purchase_price),
        margin_base: figures.margin.map(|m| m.base),
    })
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

/// The cash rounding sent, 0 when left out: at most 0.02 either way.
fn cash_rounding(c: &mut Checker<'_>, sent: Option<Decimal>) -> Option<Decimal> {
    let Some(v) = sent else {
        return Some(Decimal::ZERO);
    };
    let v = c.bounded("/cash_rounding".to_owned(), v, 2)?;
    if v.abs() > max_cash_rounding() {
        c.push(
            "/cash_rounding",
            codes::ROUNDING_TOO_LARGE,
            format!("cash_rounding is at most 0.02 either way, got {v}"),
            format!("cash_rounding is hoogstens 0.02 in beide richtingen, ontvangen: {v}"),
        );
        return None;
    }
    Some(v)
}

/// What single-purpose vouchers, paying `redeemed`, take out of the receipt's revenue rates
/// (VAT.md); refused when that is more than the goods they can pay for.
fn redeemed_by_vouchers(
    c: &mut Checker<'_>,
    redeemed: Decimal,
    lines: &[ValidReceiptLine],
    split: &ReceiptSplit,
) -> Vec<(RateKey, RateFigures)> {
    let mut revenue: BTreeMap<RateKey, (Decimal, Decimal)> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.kind.is_revenue()) {
        let group = revenue
            .entry((l.vat.category, l.vat.percentage, l.vat.country))
            .or_default();
        group.0 += l.total_excl_vat;
        group.1 += l.vat.amount;
    }
    let groups: Vec<_> = revenue.into_iter().map(|(k, (b, v))| (k, b, v)).collect();
    if let Some(shares) = voucher_shares(redeemed, &groups) {
        return shares;
    }
    c.push(
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
    );
    Vec::new()
}

/// The payments minus change, plus the cash rounding, make the total exactly.
fn payments_make_the_total(
    c: &mut Checker<'_>,
    payments: &[ValidReceiptPayment],
    rounding: Decimal,
    totals: &Totals,
) {
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

/// The moment of sale, required.
fn created_at(c: &mut Checker<'_>, raw: Option<&str>) -> Option<DateTime<FixedOffset>> {
    let Some(raw) = raw else {
        c.missing("/created_at".to_owned());
        return None;
    };
    parse_moment(raw).map_err(|v| c.out.push(v)).ok()
}

/// A valid receipt in another currency, restated in the company's at `rate` (each VAT group
/// converted on its own, VAT.md), refused at `/exchange_rate` when an amount would pass the
/// bound of amounts.
fn in_company_currency(
    refs: &dyn References,
    rate: Decimal,
    lines: &[ValidReceiptLine],
    payments: &[ValidReceiptPayment],
    cash_rounding: Decimal,
    vat_breakdown: &[VatGroup],
) -> Result<InCompanyCurrency, Violation> {
    let is_voucher: Vec<bool> = payments
        .iter()
        .map(|p| refs.is_single_purpose_voucher(&p.method_id))
        .collect();
    let converted = super::convert::convert(
        rate,
        lines,
        payments,
        cash_rounding,
        vat_breakdown,
        &is_voucher,
    );
    converted.within_bounds()?;
    Ok(converted)
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
    let created_at = created_at(&mut c, draft.created_at.as_deref());
    c.date = created_at.map(|m| m.date_naive());
    let currency = c.currency(draft.currency.as_deref());
    let (exchange_rate, exchange_rate_date) = crate::document::exchange_rate(
        &mut c,
        ("receipt", "kassabon"),
        draft.currency.as_deref(),
        draft.exchange_rate,
        draft.exchange_rate_date,
    );
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
    let cash_rounding = cash_rounding(&mut c, draft.cash_rounding);
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
        (totals, split) = ReceiptSplit::of(
            lines
                .iter()
                .map(|l| (l.kind, l.total_excl_vat, l.vat.amount)),
        );
        groups.check(c.prices_include_vat, &mut c.out);
        c.totals(draft.totals.as_ref(), &totals);
        if let Some(payments) = &payments {
            let is_voucher = |p: &ValidReceiptPayment| refs.is_single_purpose_voucher(&p.method_id);
            let redeemed = payments
                .iter()
                .filter(|p| is_voucher(p))
                .map(ValidReceiptPayment::net)
                .sum();
            voucher_redemptions = redeemed_by_vouchers(&mut c, redeemed, lines, &split);
        }
        if let (Some(payments), Some(rounding)) = (&payments, cash_rounding) {
            payments_make_the_total(&mut c, payments, rounding, &totals);
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
        ) if c.out.is_empty() => {
            let vat_breakdown = groups.breakdown();
            let company_currency = match exchange_rate {
                None => None,
                Some(rate) => Some(
                    in_company_currency(
                        refs,
                        rate,
                        &lines,
                        &payments,
                        cash_rounding,
                        &vat_breakdown,
                    )
                    .map_err(|v| vec![v])?,
                ),
            };
            Ok(ValidReceipt {
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
                vat_breakdown,
                split,
                voucher_redemptions,
                refund_of: refund.id,
                refund_of_external_id: refund.external_id,
                refund_reason: draft.refund_reason.clone(),
                customer,
                exchange_rate,
                exchange_rate_date,
                company_currency,
            })
        }
        _ => {
            debug_assert!(!c.out.is_empty(), "an invalid receipt without a violation");
            Err(c.out)
        }
    }
}
