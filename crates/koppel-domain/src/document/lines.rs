//! A priced line's and a cost's figures checked: quantity, prices, totals, the VAT against
//! them (on the margin for the margin scheme), and the totals a vendor sent.

use rust_decimal::Decimal;

use super::{
    Checker, LineFigures, LineInput, Margin, Priced, Purchase, SentPrices, Totals, TotalsDraft,
    ValidVat, VatDraft,
};
use crate::money::{MAX_INPUT_SCALE, line_tolerance, round_cents};
use crate::problem::codes;
use crate::vat::VatCategory;

impl Checker<'_> {
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

    /// A line that is not revenue (a tip, a multi-purpose gift card, a deposit: `kind` by its
    /// name) carries no VAT and must be `outside_scope`; false, with the violation, when it is
    /// not.
    pub(crate) fn kind_carries_its_vat(
        &mut self,
        p: &str,
        kind: &str,
        is_revenue: bool,
        category: VatCategory,
    ) -> bool {
        if is_revenue || category == VatCategory::OutsideScope {
            return true;
        }
        self.push(
            format!("{p}/vat/category"),
            codes::LINE_KIND_NOT_OUTSIDE_SCOPE,
            format!("a {kind} line carries no vat and must be outside_scope, got {category}"),
            format!(
                "een regel van soort {kind} heeft geen btw en hoort in outside_scope, ontvangen: {category}"
            ),
        );
        false
    }

    /// The margin scheme's rules for one line (`docs/bookkeeping-rules.md`, "Margin scheme"):
    /// a margin line needs its purchase price, and only a margin line takes one; the VAT is
    /// on the margin `m = incl − purchase_price × quantity`, `round(m × r / (100 + r))`,
    /// and 0 when the line made a loss (a refund line, with a negative quantity, mirrors a
    /// sale). Returns the purchase price and the taxable base when the line is a valid
    /// margin line.
    pub(crate) fn margin(
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
                    "the margin scheme applies to a line of goods with its purchase_price, not to a cost".to_owned(),
                    "de margeregeling geldt voor een regel met goederen en hun purchase_price, niet voor een kostenpost".to_owned(),
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
