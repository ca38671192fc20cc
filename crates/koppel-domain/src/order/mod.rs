//! Sales orders (`docs/contract.md`, "Documents"): the draft as a webshop sends it, and its
//! validation into a [`ValidOrder`] with Koppel's own totals and VAT breakdown.
//!
//! Choices where the spec is silent, kept here so they can change in one place:
//! - `discount` on a line is an amount for the whole line, in the same basis (incl. or excl.
//!   VAT) as `unit_price`, with the sign of the line: the line total is
//!   `quantity × unit_price − discount`, within the line tolerance, so a vendor that rounds
//!   per unit or converts between bases per unit is accepted.
//! - Of `total_excl_vat` and `total_incl_vat` only the one in the order's price basis is
//!   required; the other is derived (`incl = excl + VAT`) and, when sent, must match exactly.
//! - A line needs a `product_id` or a `sku`; a `product_id` must exist, and a `sku` sent
//!   without a `product_id` must be a known product's SKU (that is how the line references
//!   its product).
//! - An order without `credit_of` has a total of zero or more; a credit order (refund) has
//!   a total of zero or less and may use a rate that was valid at an earlier date, because it
//!   corrects a sale made at that rate (box 1c).
//! - Payments: their sum may be less than the total (an open order may be unpaid) but lies
//!   between zero and the total, on the total's side of zero. A refund paid back on the order
//!   itself is a negative payment and lowers the sum; a credit order's payments are negative.
//! - A `rounding` cost is `outside_scope` without VAT and at most 0.99 either way (the group
//!   bound of EN 16931), so it can absorb rounding but never hide a real difference.

use rust_decimal::Decimal;

use crate::customer::{ContactIds, check_contact};
use crate::document::{
    Checker, Converted, ExternalKind, Groups, LineInput, MAX_COSTS_OR_PAYMENTS, MAX_LINES, Priced,
    Purchase, References, Resolved, SentPrices, Totals, is_leap_second, leap_second_refused,
    within_bounds,
};
use crate::money::max_group_tolerance;
use crate::problem::{Violation, codes};
use crate::vat::VatCategory;

mod draft;
mod valid;

pub use draft::*;
pub use valid::*;

fn details(c: &mut Checker<'_>, draft: &OrderDraft) -> OrderDetails {
    if let (Some(invoice), Some(due)) = (draft.invoice_date, draft.due_date)
        && due < invoice
    {
        c.push(
            "/due_date",
            codes::DUE_BEFORE_INVOICE,
            format!("the due date {due} is before the invoice date {invoice}"),
            format!("de vervaldatum {due} ligt voor de factuurdatum {invoice}"),
        );
    }
    let (exchange_rate, exchange_rate_date) = crate::document::exchange_rate(
        c,
        ("order", "order"),
        draft.currency.as_deref(),
        draft.exchange_rate,
        draft.exchange_rate_date,
    );
    OrderDetails {
        exchange_rate,
        exchange_rate_date,
        invoice_number: draft.invoice_number.clone(),
        invoice_date: draft.invoice_date,
        due_date: draft.due_date,
        delivery_date: draft.delivery_date,
        channel: draft.channel,
        marketplace: draft.marketplace.clone(),
        marketplace_order_id: draft.marketplace_order_id.clone(),
    }
}

/// The order a credit order corrects: `credit_of` (our id or, as before, the vendor's), or
/// `credit_of_external_id`, resolved as every other `…_external_id` is (unknown, or naming
/// another order than `credit_of`: refused at its pointer). A `credit_of` holding the vendor's
/// id is first put in our id, so that it compares with the external id's order.
fn credited(c: &mut Checker<'_>, draft: &OrderDraft) -> Option<String> {
    if draft.credit_of_external_id.is_none() {
        return draft.credit_of.clone();
    }
    let sent = draft.credit_of.as_deref().map(|sent| {
        c.refs
            .by_external_id(ExternalKind::Order, sent)
            .unwrap_or_else(|| sent.to_owned())
    });
    c.resolve(
        "/credit_of_external_id",
        sent.as_deref(),
        draft.credit_of_external_id.as_deref(),
        ExternalKind::Order,
    )
    .id
}

fn address(c: &mut Checker<'_>, pointer: &str, a: &AddressDraft) -> ValidAddress {
    ValidAddress {
        street: a.street.clone(),
        house_number: a.house_number.clone(),
        house_number_addition: a.house_number_addition.clone(),
        postal_code: a.postal_code.clone(),
        city: a.city.clone(),
        country: c.country(format!("{pointer}/country"), a.country.as_deref()),
    }
}

/// Checks a document's buyer: its reference, identifiers and addresses; a VAT number it
/// carries is the buyer's for the intra-EU rule. Orders and receipts share it.
pub(crate) fn customer(c: &mut Checker<'_>, draft: &CustomerDraft) -> ValidCustomer {
    c.reference(
        "/customer/id".to_owned(),
        draft.id.as_deref(),
        |r, id| r.customer_exists(id),
        codes::UNKNOWN_CUSTOMER,
        "customer",
        "klant",
    );
    let Resolved { id, external_id } = c.resolve(
        "/customer/external_id",
        draft.id.as_deref(),
        draft.external_id.as_deref(),
        ExternalKind::Customer,
    );
    let ContactIds {
        email,
        vat_number,
        coc_number,
    } = check_contact(
        "/customer",
        draft.email.as_deref(),
        draft.vat_number.as_deref(),
        draft.coc_number.as_deref(),
        &mut c.out,
    );
    c.buyer_vat = vat_number.clone();
    ValidCustomer {
        id,
        external_id,
        name: draft.name.clone(),
        company_name: draft.company_name.clone(),
        email,
        phone: draft.phone.clone(),
        vat_number,
        coc_number,
        billing_address: draft
            .billing_address
            .as_ref()
            .map(|a| address(c, "/customer/billing_address", a)),
        shipping_address: draft
            .shipping_address
            .as_ref()
            .map(|a| address(c, "/customer/shipping_address", a)),
    }
}

fn line(
    c: &mut Checker<'_>,
    groups: &mut Groups,
    (i, count): (usize, usize),
    l: &LineDraft,
) -> Option<ValidLine> {
    let p = format!("/lines/{i}");
    if let Some(parent) = l.parent_line
        && (parent >= count || parent == i)
    {
        c.push(
            format!("{p}/parent_line"),
            codes::PARENT_LINE_INVALID,
            format!("parent_line {parent} is not another line of this order (it has {count})"),
            format!(
                "parent_line {parent} is geen andere regel van deze order (die heeft er {count})"
            ),
        );
    }
    if l.product_id.is_none() && l.product_external_id.is_none() && l.sku.is_none() {
        c.push(
            p.clone(),
            codes::LINE_PRODUCT_MISSING,
            "a line needs a product_id, a product_external_id or a sku".to_owned(),
            "een regel heeft een product_id, een product_external_id of een sku nodig".to_owned(),
        );
    }
    let Resolved {
        id: product_id,
        external_id: product_external_id,
    } = c.resolve(
        &format!("{p}/product_external_id"),
        l.product_id.as_deref(),
        l.product_external_id.as_deref(),
        ExternalKind::Product,
    );
    c.reference(
        format!("{p}/product_id"),
        l.product_id.as_deref(),
        |r, id| r.product_exists(id),
        codes::UNKNOWN_PRODUCT,
        "product",
        "product",
    );
    // A SKU is the vendor's article code, not a reference: stored as sent, and
    // linked to a product of the company that has it when read (SPEC "Real
    // vendor data"). Products get deleted and marketplaces sell articles the
    // shop never listed; a bookkeeper books such a line all the same.
    c.reference(
        format!("{p}/category_id"),
        l.category_id.as_deref(),
        |r, id| r.category_exists(id),
        codes::UNKNOWN_CATEGORY,
        "category",
        "categorie",
    );
    let Resolved {
        id: category_id,
        external_id: category_external_id,
    } = c.resolve(
        &format!("{p}/category_external_id"),
        l.category_id.as_deref(),
        l.category_external_id.as_deref(),
        ExternalKind::Category,
    );
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
    let kind = l.kind.unwrap_or_default();
    if !c.kind_carries_its_vat(&p, kind.as_str(), kind.is_revenue(), figures.vat.category) {
        return None;
    }
    let Priced {
        quantity,
        unit_price,
        discount,
    } = priced?;
    groups.add(&figures, quantity, &p);
    Some(ValidLine {
        product_id,
        product_external_id,
        sku: l.sku.clone(),
        description: l.description.clone(),
        quantity,
        unit_price,
        discount,
        vat: figures.vat,
        total_excl_vat: figures.excl,
        total_incl_vat: figures.incl,
        category_id,
        category_external_id,
        purchase_price: figures.margin.map(|m| m.purchase_price),
        margin_base: figures.margin.map(|m| m.base),
        kind,
        unit: l.unit.clone(),
        parent_line: l.parent_line,
        discount_code: l.discount_code.clone(),
        discount_name: l.discount_name.clone(),
    })
}

fn cost(c: &mut Checker<'_>, groups: &mut Groups, i: usize, k: &CostDraft) -> Option<ValidCost> {
    let p = format!("/costs/{i}");
    if k.kind.is_none() {
        c.missing(format!("{p}/kind"));
    }
    let figures = c.line(LineInput {
        pointer: p.clone(),
        excl_field: "amount_excl_vat",
        incl_field: "amount_incl_vat",
        quantity: Decimal::ONE,
        priced: None,
        excl: k.amount_excl_vat,
        incl: k.amount_incl_vat,
        vat: k.vat.as_ref(),
        purchase: Purchase::NotTaken,
    })?;
    let kind = k.kind?;
    let basis_field = if c.prices_include_vat {
        "amount_incl_vat"
    } else {
        "amount_excl_vat"
    };
    let mut ok = true;
    match kind {
        CostKind::Discount
            if (c.credit && figures.incl < Decimal::ZERO)
                || (!c.credit && figures.incl > Decimal::ZERO) =>
        {
            ok = false;
            let (en, nl) = if c.credit {
                (
                    "zero or more on a credit order",
                    "nul of meer op een creditorder",
                )
            } else {
                ("zero or less", "nul of minder")
            };
            c.push(
                format!("{p}/{basis_field}"),
                codes::DISCOUNT_COST_WRONG_SIGN,
                format!(
                    "a discount must lower the total, so it is {en}, got {}",
                    figures.incl
                ),
                format!(
                    "een korting moet het totaal verlagen en is dus {nl}, ontvangen: {}",
                    figures.incl
                ),
            );
        }
        CostKind::Rounding => {
            if figures.vat.category != VatCategory::OutsideScope {
                ok = false;
                c.push(
                    format!("{p}/vat/category"),
                    codes::ROUNDING_NOT_OUTSIDE_SCOPE,
                    format!("a rounding cost carries no vat and must be outside_scope, got {}", figures.vat.category),
                    format!("een afrondingspost heeft geen btw en hoort in outside_scope, ontvangen: {}", figures.vat.category),
                );
            }
            if figures.incl.abs() > max_group_tolerance() {
                ok = false;
                c.push(
                    format!("{p}/{basis_field}"),
                    codes::ROUNDING_TOO_LARGE,
                    format!(
                        "a rounding cost is at most 0.99 either way, got {}",
                        figures.incl
                    ),
                    format!(
                        "een afrondingspost is hoogstens 0.99 in beide richtingen, ontvangen: {}",
                        figures.incl
                    ),
                );
            }
        }
        _ => {}
    }
    groups.add(&figures, Decimal::ONE, &p);
    ok.then(|| ValidCost {
        kind,
        description: k.description.clone(),
        amount_excl_vat: figures.excl,
        vat: figures.vat,
        amount_incl_vat: figures.incl,
    })
}

fn payment(c: &mut Checker<'_>, i: usize, pay: &PaymentDraft) -> Option<ValidPayment> {
    let p = format!("/payments/{i}");
    let Resolved {
        id: method_id,
        external_id: method_external_id,
    } = c.required_reference(
        &p,
        "method",
        pay.method_id.as_deref(),
        pay.method_external_id.as_deref(),
        ExternalKind::PaymentMethod,
        |r, id| r.payment_method_exists(id),
    );
    if let Some(at) = pay.paid_at.filter(is_leap_second) {
        c.out.push(leap_second_refused(&format!("{p}/paid_at"), at));
    }
    let fee = match &pay.fee {
        Some(fee) => Some(payment_fee(c, &p, fee)?),
        None => None,
    };
    let amount = c.amount(format!("{p}/amount"), pay.amount, 2)?;
    Some(ValidPayment {
        method_id: method_id?,
        method_external_id,
        amount,
        reference: pay.reference.clone(),
        paid_at: pay.paid_at,
        status: pay.status.unwrap_or_default(),
        provider: pay.provider.clone(),
        provider_reference: pay.provider_reference.clone(),
        payout_reference: pay.payout_reference.clone(),
        fee,
    })
}

/// A payment's fee (`docs/bookkeeping-rules.md`, "Orders"): its figures and VAT
/// are checked as a cost's, with the amount it was sent in as its basis, but it is a
/// purchase, so it joins neither the totals nor the VAT breakdown nor the VAT return.
pub(crate) fn payment_fee(c: &mut Checker<'_>, p: &str, fee: &FeeDraft) -> Option<ValidFee> {
    let order_basis = c.prices_include_vat;
    c.prices_include_vat = match (fee.amount_excl_vat, fee.amount_incl_vat) {
        (None, Some(_)) => true,
        (Some(_), None) => false,
        _ => order_basis,
    };
    let figures = c.line(LineInput {
        pointer: format!("{p}/fee"),
        excl_field: "amount_excl_vat",
        incl_field: "amount_incl_vat",
        quantity: Decimal::ONE,
        priced: None,
        excl: fee.amount_excl_vat,
        incl: fee.amount_incl_vat,
        vat: fee.vat.as_ref(),
        purchase: Purchase::NotTaken,
    });
    c.prices_include_vat = order_basis;
    let figures = figures?;
    Some(ValidFee {
        amount_excl_vat: figures.excl,
        vat: figures.vat,
        amount_incl_vat: figures.incl,
    })
}

/// Checks every rule of `docs/bookkeeping-rules.md` and `docs/contract.md` for an order and returns
/// the normalised order with its computed totals and VAT breakdown, or every violation found, each
/// with a pointer.
pub fn validate_order(
    draft: &OrderDraft,
    refs: &dyn References,
) -> Result<ValidOrder, Vec<Violation>> {
    within_bounds(&[
        ("/lines", draft.lines.len(), MAX_LINES),
        ("/costs", draft.costs.len(), MAX_COSTS_OR_PAYMENTS),
        ("/payments", draft.payments.len(), MAX_COSTS_OR_PAYMENTS),
    ])?;
    let mut c = Checker::new(refs);
    if draft.prices_include_vat.is_none() {
        c.missing("/prices_include_vat".to_owned());
    }
    c.prices_include_vat = draft.prices_include_vat.unwrap_or(false);
    c.date = draft.order_date.map(|d| d.date_naive());
    c.credit = draft.credit_of.is_some() || draft.credit_of_external_id.is_some();
    c.buyer_vat_pointer = Some("/customer/vat_number");

    let external_id = c
        .text("/external_id".to_owned(), draft.external_id.as_deref())
        .map(str::to_owned);
    if draft.status.is_none() {
        c.missing("/status".to_owned());
    }
    match draft.order_date {
        None => c.missing("/order_date".to_owned()),
        Some(at) if is_leap_second(&at) => c.out.push(leap_second_refused("/order_date", at)),
        Some(_) => {}
    }
    let currency = c.currency(draft.currency.as_deref());
    let customer = draft.customer.as_ref().map(|d| customer(&mut c, d));
    c.reference(
        "/credit_of".to_owned(),
        draft.credit_of.as_deref(),
        |r, id| r.order_exists(id),
        codes::UNKNOWN_ORDER,
        "order",
        "order",
    );
    let credit_of = credited(&mut c, draft);

    if draft.lines.is_empty() {
        c.push(
            "/lines",
            codes::NO_LINES,
            "an order needs at least one line".to_owned(),
            "een order heeft minstens een regel nodig".to_owned(),
        );
    }
    let mut groups = Groups::default();
    let lines: Vec<Option<ValidLine>> = draft
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| line(&mut c, &mut groups, (i, draft.lines.len()), l))
        .collect();
    let costs: Vec<Option<ValidCost>> = draft
        .costs
        .iter()
        .enumerate()
        .map(|(i, k)| cost(&mut c, &mut groups, i, k))
        .collect();
    let payments: Vec<Option<ValidPayment>> = draft
        .payments
        .iter()
        .enumerate()
        .map(|(i, pay)| payment(&mut c, i, pay))
        .collect();

    // Document-level sums only mean something when every line and cost is known; otherwise
    // they would repeat a line's problem as a confusing total problem.
    let all_lines: Option<Vec<ValidLine>> = lines.into_iter().collect();
    let all_costs: Option<Vec<ValidCost>> = costs.into_iter().collect();
    let all_payments: Option<Vec<ValidPayment>> = payments.into_iter().collect();
    let mut totals = Totals::default();
    if let (Some(lines), Some(costs)) = (&all_lines, &all_costs) {
        for l in lines {
            totals.add(l.total_excl_vat, l.vat.amount);
        }
        for k in costs {
            totals.add(k.amount_excl_vat, k.vat.amount);
        }
        groups.check(c.prices_include_vat, &mut c.out);
        c.totals(draft.totals.as_ref(), &totals);
        let total = totals.total_incl_vat;
        if c.credit && total > Decimal::ZERO {
            c.push(
                "",
                codes::CREDIT_NOT_NEGATIVE,
                format!("a credit order has a total of zero or less, got {total}"),
                format!("een creditorder heeft een totaal van nul of minder, ontvangen: {total}"),
            );
        } else if !c.credit && total < Decimal::ZERO {
            c.push(
                "/credit_of",
                codes::NEGATIVE_TOTAL_WITHOUT_CREDIT_OF,
                format!("the total is {total}: a negative order is a credit order and must name the order it corrects in credit_of"),
                format!("het totaal is {total}: een negatieve order is een creditorder en moet in credit_of de order noemen die ze corrigeert"),
            );
        }
        if let Some(payments) = &all_payments {
            let paid = amount_paid(payments.iter().map(|p| (p.status, p.amount)));
            let within = if total >= Decimal::ZERO {
                Decimal::ZERO <= paid && paid <= total
            } else {
                total <= paid && paid <= Decimal::ZERO
            };
            if !within {
                c.push(
                    "/payments",
                    codes::PAYMENTS_EXCEED_TOTAL,
                    format!("the payments received (status paid) add up to {paid}, which is not between 0 and the total of {total}"),
                    format!("de ontvangen betalingen (status paid) tellen op tot {paid}, wat niet tussen 0 en het totaal van {total} ligt"),
                );
            }
        }
    }

    let details = details(&mut c, draft);
    match (
        external_id,
        draft.status,
        draft.order_date,
        currency,
        all_lines,
        all_costs,
        all_payments,
    ) {
        (
            Some(external_id),
            Some(status),
            Some(order_date),
            Some(currency),
            Some(lines),
            Some(costs),
            Some(payments),
        ) if c.out.is_empty() => Ok(ValidOrder {
            external_id,
            number: draft.number.clone(),
            status,
            order_date,
            currency,
            prices_include_vat: c.prices_include_vat,
            customer,
            lines,
            costs,
            payments,
            credit_of,
            totals,
            company_currency: details
                .exchange_rate
                .map(|rate| Converted::at(rate, &groups.breakdown())),
            vat_breakdown: groups.breakdown(),
            details,
        }),
        _ => {
            // Every path that leaves a part unknown has reported why.
            debug_assert!(!c.out.is_empty(), "an invalid order without a violation");
            Err(c.out)
        }
    }
}
