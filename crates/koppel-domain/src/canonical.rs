//! The canonical form of a validated document and its content hash: what decides whether a
//! resend is the same document (no new version, a harmless repeat) or another one. Amounts
//! take the scale they are stored with, so `12.1` and `"12.10"` are the same order; the hash
//! is SHA-256 of the canonical form's JSON (fields in declaration order, amounts as
//! strings). A new optional field is left out of the form when absent, so documents sent
//! before it existed keep their hash.

use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::order::ValidOrder;
use crate::receipt::ValidReceipt;

/// An amount with exactly two decimals, as a bookkeeping total is written.
pub fn cents(value: Decimal) -> Decimal {
    let mut v = value;
    v.rescale(2);
    v
}

/// An amount kept as sent but without trailing zeros beyond the cents.
pub fn price(value: Decimal) -> Decimal {
    let v = value.normalize();
    if v.scale() < 2 { cents(v) } else { v }
}

/// SHA-256 of a canonical document's JSON.
pub fn content_hash<T: Serialize>(document: &T) -> Vec<u8> {
    let bytes = serde_json::to_vec(document).unwrap_or_default();
    Sha256::digest(bytes).to_vec()
}

impl ValidOrder {
    /// The order with every amount at its stored scale. References are the caller's to put
    /// in our ids first (`credit_of` may have been sent as the vendor's id).
    pub fn canonical(mut self) -> ValidOrder {
        for l in &mut self.lines {
            l.quantity = l.quantity.normalize();
            l.unit_price = price(l.unit_price);
            l.discount = price(l.discount);
            l.total_excl_vat = cents(l.total_excl_vat);
            l.total_incl_vat = cents(l.total_incl_vat);
            l.vat.amount = cents(l.vat.amount);
        }
        for k in &mut self.costs {
            k.amount_excl_vat = cents(k.amount_excl_vat);
            k.amount_incl_vat = cents(k.amount_incl_vat);
            k.vat.amount = cents(k.vat.amount);
        }
        for p in &mut self.payments {
            p.amount = cents(p.amount);
        }
        for g in &mut self.vat_breakdown {
            g.base = cents(g.base);
            g.vat = cents(g.vat);
        }
        self.totals.total_excl_vat = cents(self.totals.total_excl_vat);
        self.totals.total_vat = cents(self.totals.total_vat);
        self.totals.total_incl_vat = cents(self.totals.total_incl_vat);
        self
    }
}

impl ValidReceipt {
    /// The receipt with every amount at its stored scale.
    pub fn canonical(mut self) -> ValidReceipt {
        for l in &mut self.lines {
            l.quantity = l.quantity.normalize();
            l.unit_price = cents(l.unit_price);
            l.discount = cents(l.discount);
            l.total_excl_vat = cents(l.total_excl_vat);
            l.total_incl_vat = cents(l.total_incl_vat);
            l.vat.amount = cents(l.vat.amount);
            l.vat.percentage = l.vat.percentage.normalize();
            l.purchase_price = l.purchase_price.map(|p| p.normalize());
        }
        for p in &mut self.payments {
            p.amount = cents(p.amount);
            p.change = cents(p.change);
        }
        self.cash_rounding = cents(self.cash_rounding);
        self.totals.total_excl_vat = cents(self.totals.total_excl_vat);
        self.totals.total_vat = cents(self.totals.total_vat);
        self.totals.total_incl_vat = cents(self.totals.total_incl_vat);
        for g in &mut self.vat_breakdown {
            g.base = cents(g.base);
            g.vat = cents(g.vat);
        }
        self.exchange_rate = self.exchange_rate.map(|r| r.normalize());
        self
    }
}
