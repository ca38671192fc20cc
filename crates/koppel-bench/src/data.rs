//! The documents both sides write: one generated order (or receipt) becomes the JSON a
//! vendor posts to Koppel and the rows the plain-SQL baseline inserts, so that the two
//! sides store the same rows.

use chrono::{DateTime, Duration, FixedOffset, TimeZone as _};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The ids of one company's settings that the generated documents name.
#[derive(Debug, Clone)]
pub struct Refs {
    /// The company.
    pub company: Uuid,
    /// Its Dutch standard VAT rate (21%).
    pub standard_rate: Uuid,
    /// A revenue category.
    pub category: Uuid,
    /// A second revenue category, for receipts.
    pub drinks: Uuid,
    /// The orders' payment method (iDEAL).
    pub method: Uuid,
    /// The receipts' payment method (cash, so that change is allowed).
    pub cash: Uuid,
    /// A customer.
    pub customer: Uuid,
    /// Five products: id and SKU.
    pub products: Vec<(Uuid, String)>,
}

/// One order line, with the figures Koppel computes and stores.
#[derive(Debug, Clone)]
pub struct Line {
    /// The product.
    pub product_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// Free text.
    pub description: String,
    /// How many.
    pub quantity: Decimal,
    /// Price per unit, excluding VAT.
    pub unit_price: Decimal,
    /// Total excluding VAT.
    pub excl: Decimal,
    /// VAT at 21%.
    pub vat: Decimal,
    /// Total including VAT.
    pub incl: Decimal,
}

/// One cost (shipping or payment fee) at 21%.
#[derive(Debug, Clone)]
pub struct Cost {
    /// `shipping` or `payment`.
    pub kind: &'static str,
    /// Free text.
    pub description: &'static str,
    /// Amount excluding VAT.
    pub excl: Decimal,
    /// VAT.
    pub vat: Decimal,
    /// Amount including VAT.
    pub incl: Decimal,
}

/// A sales order of 5 lines, 2 costs and 1 payment, all at the Dutch standard rate.
#[derive(Debug, Clone)]
pub struct Order {
    /// The vendor's id.
    pub external_id: String,
    /// The order number.
    pub number: String,
    /// When it was placed.
    pub order_date: DateTime<FixedOffset>,
    /// The lines.
    pub lines: Vec<Line>,
    /// The costs.
    pub costs: Vec<Cost>,
    /// The payment's reference.
    pub payment_reference: String,
    /// When it was paid.
    pub paid_at: DateTime<FixedOffset>,
    /// Sum excluding VAT.
    pub total_excl: Decimal,
    /// Sum of VAT.
    pub total_vat: Decimal,
    /// Sum including VAT; also the payment's amount.
    pub total_incl: Decimal,
}

/// The payment provider every benchmark order is paid through.
pub const PROVIDER: &str = "mollie";

fn cents(units: i64) -> Decimal {
    Decimal::new(units, 2)
}

/// Order number `n`, under an external id of `prefix` and `n`. Unit prices are whole
/// euros, so every line's 21% VAT is exact and Koppel's rounding check always passes.
pub fn order(refs: &Refs, prefix: &str, n: u64) -> Order {
    let lines: Vec<Line> = refs
        .products
        .iter()
        .enumerate()
        .map(|(i, (id, sku))| {
            let quantity = Decimal::from(1 + (n + i as u64) % 3);
            let unit_price = cents(300 + 100 * i as i64);
            let excl = (quantity * unit_price).round_dp(2);
            let vat = (excl * cents(21)).round_dp(2);
            Line {
                product_id: *id,
                sku: sku.clone(),
                description: format!("Artikel {sku}"),
                quantity,
                unit_price,
                excl,
                vat,
                incl: excl + vat,
            }
        })
        .collect();
    let costs = vec![
        Cost {
            kind: "shipping",
            description: "Verzendkosten",
            excl: cents(413),
            vat: cents(87),
            incl: cents(500),
        },
        Cost {
            kind: "payment",
            description: "Transactiekosten",
            excl: cents(100),
            vat: cents(21),
            incl: cents(121),
        },
    ];
    let total_excl = lines.iter().map(|l| l.excl).sum::<Decimal>()
        + costs.iter().map(|c| c.excl).sum::<Decimal>();
    let total_vat =
        lines.iter().map(|l| l.vat).sum::<Decimal>() + costs.iter().map(|c| c.vat).sum::<Decimal>();
    let offset = FixedOffset::east_opt(3600).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
    let base = offset
        .with_ymd_and_hms(2026, 2, 1, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let order_date = base + Duration::seconds(i64::try_from(n % 2_000_000).unwrap_or(0));
    Order {
        external_id: format!("{prefix}-{n}"),
        number: format!("{}{n}", prefix.to_uppercase()),
        order_date,
        lines,
        costs,
        payment_reference: format!("tr_{prefix}_{n}"),
        paid_at: order_date + Duration::minutes(5),
        total_excl,
        total_vat,
        total_incl: total_excl + total_vat,
    }
}

impl Order {
    /// The customer as the order names it; Koppel keeps this snapshot as JSON.
    pub fn customer(refs: &Refs) -> Value {
        json!({
            "id": refs.customer.to_string(),
            "name": "Jan Jansen",
            "email": "jan@example.nl",
            "billing_address": {"street": "Damrak", "house_number": "1",
                                "postal_code": "1012 LG", "city": "Amsterdam", "country": "NL"}
        })
    }

    /// The request body a vendor posts.
    pub fn json(&self, refs: &Refs) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({
                    "sku": l.sku, "description": l.description,
                    "quantity": l.quantity.to_string(), "unit_price": l.unit_price.to_string(),
                    "vat": {"rate_id": refs.standard_rate, "amount": l.vat.to_string()},
                    "total_excl_vat": l.excl.to_string(), "category_id": refs.category,
                    "unit": "piece"
                })
            })
            .collect();
        let costs: Vec<Value> = self
            .costs
            .iter()
            .map(|c| {
                json!({
                    "kind": c.kind, "description": c.description,
                    "amount_excl_vat": c.excl.to_string(),
                    "vat": {"percentage": "21", "category": "standard", "amount": c.vat.to_string()}
                })
            })
            .collect();
        json!({
            "external_id": self.external_id,
            "number": self.number,
            "status": "paid",
            "order_date": self.order_date.to_rfc3339(),
            "currency": "EUR",
            "prices_include_vat": false,
            "customer": Self::customer(refs),
            "lines": lines,
            "costs": costs,
            "payments": [{"method_id": refs.method, "amount": self.total_incl.to_string(),
                          "reference": self.payment_reference,
                          "paid_at": self.paid_at.to_rfc3339(),
                          "provider": PROVIDER, "provider_reference": self.payment_reference,
                          "fee": Self::fee()}],
            "totals": {"total_incl_vat": self.total_incl.to_string()},
            "invoice_number": self.number,
            "invoice_date": self.order_date.date_naive().to_string()
        })
    }

    /// The payment provider's fee on every order's payment, as Koppel receives it.
    pub fn fee() -> Value {
        json!({"amount_excl_vat": "0.29",
               "vat": {"percentage": "21", "category": "standard", "amount": "0.06"}})
    }

    /// The fee as Koppel stores it with the payment (the baseline writes the same JSON).
    pub fn stored_fee() -> Value {
        json!({"amount_excl_vat": "0.29",
               "vat": {"rate_id": null, "rate_external_id": null, "percentage": "21",
                       "category": "standard", "country": "NL", "amount": "0.06",
                       "exemption_reason": null},
               "amount_incl_vat": "0.35"})
    }

    /// The invoice details as Koppel stores them with the version.
    pub fn details(&self) -> Value {
        json!({"invoice_number": self.number,
               "invoice_date": self.order_date.date_naive().to_string()})
    }

    /// A content hash as Koppel keeps one: SHA-256 of the document.
    pub fn content_hash(&self) -> Vec<u8> {
        Sha256::digest(format!("{self:?}").as_bytes()).to_vec()
    }
}

/// Receipt number `n` of the benchmark's day: two croissants at 9% and a coffee at 21%,
/// paid in cash with change, sold at 00:00:01 plus `n` times 4 seconds, so that 20,000
/// receipts all fall on [`RECEIPT_DAY`].
pub fn receipt(refs: &Refs, n: u64) -> Value {
    receipt_on(refs, n, RECEIPT_DAY, "r")
}

/// Receipt number `n` as [`receipt`] makes it, sold on `day`, its external id prefixed.
pub fn receipt_on(refs: &Refs, n: u64, day: (i32, u32, u32), prefix: &str) -> Value {
    let offset = FixedOffset::east_opt(3600).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
    let start = offset
        .with_ymd_and_hms(day.0, day.1, day.2, 0, 0, 1)
        .single()
        .unwrap_or_default();
    // 20,000 receipts 4 seconds apart span 22 hours and 13 minutes of one day.
    let at = start + Duration::seconds(i64::try_from(n * 4 % 86_000).unwrap_or(0));
    json!({
        "external_id": format!("{prefix}-{n}"),
        "number": format!("R{n}"),
        "location_id": "centrum",
        "register_id": format!("kassa-{}", n % 4),
        "created_at": at.to_rfc3339(),
        "currency": "EUR",
        "prices_include_vat": true,
        "lines": [
            {"product_code": "1001", "description": "Croissant", "category_id": refs.category,
             "quantity": 2, "unit_price": "1.75", "total_incl_vat": "3.50",
             "vat": {"percentage": "9", "category": "reduced", "amount": "0.29"}},
            {"product_code": "2001", "description": "Koffie", "category_id": refs.drinks,
             "quantity": 1, "unit_price": "2.80", "total_incl_vat": "2.80",
             "vat": {"percentage": "21", "category": "standard", "amount": "0.49"}}
        ],
        "payments": [
            {"method_id": refs.cash, "amount": "10.00", "change": "3.70",
             "reference": format!("kas-{n}")}
        ]
    })
}

/// The business day the receipts are sold on: in the future, so that the day stays open
/// and no receipt arrives late.
pub const RECEIPT_DAY: (i32, u32, u32) = (2030, 1, 15);

/// A fresh random id, for the rows the baseline writes.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
