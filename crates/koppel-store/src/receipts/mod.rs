//! POS receipts (see `migrations/0007_receipts.sql`): immutable, stored with their lines and
//! payments, and added to their business day's figures in the same transaction.
//!
//! A write of any number of receipts takes four round trips whatever its size: `begin`; one
//! statement that finalises the affected days that are due, inserts the receipts (`insert …
//! select from unnest(…) on conflict do nothing`) with their lines, payments and events, and
//! reports the receipts that already existed; one statement that adds the new receipts to
//! their days (an additive `insert … on conflict do update`), writes the `revised` events and
//! marks the late receipts; `commit`.
//!
//! `write.rs` holds that first statement, `days.rs` the second; `read.rs` reads receipts
//! back with their lines, payments and bookings.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use koppel_domain::receipt::ValidReceipt;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::bookings::{BookingFilter, BookingRecord};

mod days;
mod read;
mod write;

use days::{add_to_days, add_to_registers, add_voucher_redemptions};
use write::{Inserted, insert_receipts};

/// A validated receipt to store, with what the caller derived from the company's timezone.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    /// The id it gets if it is new.
    pub id: Uuid,
    /// The receipt. Its categories, payment methods and VAT rates are our ids, checked to
    /// exist.
    pub receipt: ValidReceipt,
    /// Its business date in the company's timezone and cutoff.
    pub business_date: NaiveDate,
    /// When that business day becomes final (05:00 local time the next day).
    pub final_at: DateTime<Utc>,
    /// SHA-256 of the canonical receipt; equal hashes mean an identical resend.
    pub content_hash: Vec<u8>,
}

/// What storing one receipt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now; `late` when its day was already final.
    Created {
        /// The receipt's id.
        id: Uuid,
        /// Whether it arrived after its day was final.
        late: bool,
    },
    /// Stored before with exactly this content; nothing was written.
    Unchanged {
        /// The stored receipt's id.
        id: Uuid,
    },
    /// Stored before with other content; receipts are immutable, so nothing was written.
    Conflict {
        /// The stored receipt's id.
        id: Uuid,
    },
}

/// The VAT of a stored receipt line.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LineVatRecord {
    /// The company's VAT rate, when the receipt named one.
    #[sqlx(rename = "vat_rate_id")]
    pub rate_id: Option<Uuid>,
    /// That rate's external id (the vendor's), written with the receipt.
    #[sqlx(rename = "vat_rate_external_id")]
    pub rate_external_id: Option<String>,
    /// The rate in percent.
    #[sqlx(rename = "vat_percentage")]
    pub percentage: Decimal,
    /// The VAT category, e.g. `reduced`.
    #[sqlx(rename = "vat_category")]
    pub category: String,
    /// The country whose rate applies.
    #[sqlx(rename = "vat_country")]
    pub country: String,
    /// The VAT amount.
    #[sqlx(rename = "vat_amount")]
    pub amount: Decimal,
    /// Why the line is exempt.
    pub exemption_reason: Option<String>,
}

/// A stored receipt line.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceiptLineRecord {
    /// The receipt it belongs to.
    pub receipt_id: Uuid,
    /// `sale`, `tip`, `gift_card_multi_purpose`, `gift_card_single_purpose` or `deposit`.
    pub kind: String,
    /// The till's product code.
    pub product_code: String,
    /// The company's product whose SKU is this product code, at the time of reading.
    pub product_id: Option<Uuid>,
    /// What was sold.
    pub description: Option<String>,
    /// The revenue category.
    pub category_id: Uuid,
    /// Its external id (the vendor's) now.
    pub category_external_id: String,
    /// How many, as sent.
    pub quantity: Decimal,
    /// Price per unit, as sent.
    pub unit_price: Decimal,
    /// Discount on the whole line.
    pub discount: Decimal,
    /// VAT.
    #[sqlx(flatten)]
    pub vat: LineVatRecord,
    /// Line total excluding VAT.
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    pub total_incl_vat: Decimal,
    /// For a receipt in another currency than the company's: the line's amount excluding VAT
    /// and its VAT in the company's (allocated within its VAT group, see
    /// `koppel_domain::receipt::InCompanyCurrency`).
    pub total_excl_vat_company: Option<Decimal>,
    /// See `total_excl_vat_company`.
    pub vat_amount_company: Option<Decimal>,
    /// Under the margin scheme: the purchase price per unit.
    pub purchase_price: Option<Decimal>,
    /// Under the margin scheme: the base in the VAT return, the margin less its VAT.
    pub margin_base: Option<Decimal>,
    /// That base in the company's currency, for a receipt in another currency.
    pub margin_base_company: Option<Decimal>,
}

/// A stored receipt payment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceiptPaymentRecord {
    /// The receipt it belongs to.
    pub receipt_id: Uuid,
    /// The payment method.
    pub method_id: Uuid,
    /// The method's external id (the vendor's) now.
    pub method_external_id: String,
    /// The amount handed over or charged.
    pub amount: Decimal,
    /// Cash given back from it.
    pub change: Decimal,
    /// The terminal's or provider's reference.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LinkedLocation {
    /// Our id of the location.
    pub id: Uuid,
    /// Its name now.
    pub name: String,
    /// Its cost centre now.
    pub cost_centre: Option<String>,
}

/// The register a receipt's `register_id` names within its linked location.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LinkedRegister {
    /// Our id of the register.
    pub id: Uuid,
    /// Its name now.
    pub name: String,
}

/// A stored receipt with its lines and payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The receipt number.
    pub number: Option<String>,
    /// The location.
    pub location_id: Option<String>,
    /// The till.
    pub register_id: Option<String>,
    /// The moment of sale, in the offset it was sent with.
    pub created_at: DateTime<FixedOffset>,
    /// The business date it counts for.
    pub business_date: NaiveDate,
    /// ISO 4217 currency.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// Cash rounding.
    pub cash_rounding: Decimal,
    /// Total excluding VAT, all lines.
    pub total_excl_vat: Decimal,
    /// Total VAT.
    pub total_vat: Decimal,
    /// Total including VAT.
    pub total_incl_vat: Decimal,
    /// Revenue excluding VAT: sales and single-purpose gift cards.
    pub revenue_excl_vat: Decimal,
    /// VAT on the revenue.
    pub revenue_vat: Decimal,
    /// Tips.
    pub tips: Decimal,
    /// Multi-purpose gift cards sold.
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    pub deposits: Decimal,
    /// For a receipt in another currency than the company's: company currency per unit.
    pub exchange_rate: Option<Decimal>,
    /// The date of the exchange rate.
    pub exchange_rate_date: Option<NaiveDate>,
    /// With an exchange rate: the totals in the company's currency (excluding VAT, VAT,
    /// including VAT).
    pub totals_company: Option<(Decimal, Decimal, Decimal)>,
    /// Whether it arrived after its day was final.
    pub late: bool,
    /// Always 1: receipts are immutable.
    pub version: i32,
    /// When Koppel stored it.
    pub received_at: DateTime<Utc>,
    /// When it last changed (equal to `received_at`).
    pub updated_at: DateTime<Utc>,
    /// The lines, in the order sent.
    /// For a refund: the receipt it refunds.
    pub refund_of: Option<Uuid>,
    /// That receipt's external id, as the vendor sent it or as it was when stored.
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded.
    pub refund_reason: Option<String>,
    /// The receipts that refund this one (our ids), oldest first.
    pub refunds: Vec<Uuid>,
    /// The location its `location_id` names, when pushed.
    pub location: Option<LinkedLocation>,
    /// The register its `register_id` names within that location, when pushed.
    pub register: Option<LinkedRegister>,
    /// The buyer's customer in Koppel, when the receipt named one.
    pub customer_id: Option<Uuid>,
    /// That customer's external id (the vendor's).
    pub customer_external_id: Option<String>,
    /// The buyer as on the receipt: the domain's validated customer as JSON.
    pub customer: Option<serde_json::Value>,
    pub lines: Vec<ReceiptLineRecord>,
    /// The payments, in the order sent.
    pub payments: Vec<ReceiptPaymentRecord>,
    /// What connectors booked of the receipt, oldest first.
    pub bookings: Vec<BookingRecord>,
}

/// The order of a receipt list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceiptOrder {
    /// By (updated_at, id): what a connector syncing with `updated_since` needs.
    #[default]
    Updated,
    /// By (created_at, id), the moment of sale: for period, day and location searches.
    Created,
}

/// Filters and page position of a receipt list.
#[derive(Debug, Clone, Default)]
pub struct ReceiptFilter {
    /// Only receipts with this number.
    pub number: Option<String>,
    /// Only receipts sold at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Only receipts sold before this moment.
    pub to: Option<DateTime<Utc>>,
    /// Only receipts of this business date.
    pub business_date: Option<NaiveDate>,
    /// Only receipts of this location.
    pub location_id: Option<String>,
    /// Only receipts stored or changed at or after this moment.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only receipts with this external id or payment reference.
    pub reference: Option<String>,
    /// Only receipts a package never booked (or booked in an earlier version, which for an
    /// immutable receipt is none).
    pub bookings: BookingFilter,
    /// The order.
    pub order: ReceiptOrder,
    /// The sort key (the order's timestamp, id) of the previous page's last receipt.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// Queries on receipts.
#[derive(Debug)]
pub struct Receipts<'a> {
    pool: &'a PgPool,
}

impl<'a> Receipts<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Stores receipts in one transaction: each new one with its lines, payments and event,
    /// added to its day's figures; an identical resend is [`InsertOutcome::Unchanged`], other
    /// content under a stored external id is [`InsertOutcome::Conflict`]. The outcomes are in
    /// the order of `receipts`; a repeated external id within `receipts` is judged against its
    /// first occurrence.
    pub async fn insert(
        &self,
        company_id: Uuid,
        receipts: &[NewReceipt],
        now: DateTime<Utc>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut first: HashMap<&str, usize> = HashMap::new();
        let mut unique: Vec<&NewReceipt> = Vec::new();
        for (i, new) in receipts.iter().enumerate() {
            if !first.contains_key(new.receipt.external_id.as_str()) {
                first.insert(&new.receipt.external_id, i);
                unique.push(new);
            }
        }
        let mut tx = self.pool.begin().await?;
        let rows = insert_receipts(&mut tx, company_id, &unique, now).await?;
        let mut by_external: HashMap<String, Inserted> = rows
            .into_iter()
            .map(|row| (row.external_id.clone(), row))
            .collect();
        let created: Vec<&NewReceipt> = unique
            .iter()
            .copied()
            .filter(|n| {
                by_external
                    .get(&n.receipt.external_id)
                    .is_some_and(|row| row.inserted_id.is_some())
            })
            .collect();
        let late = if created.is_empty() {
            Vec::new()
        } else {
            let late = add_to_days(&mut tx, company_id, &created, now).await?;
            add_to_registers(&mut tx, company_id, &created).await?;
            add_voucher_redemptions(&mut tx, company_id, &created).await?;
            // A payout that came first is matched now, by the payments' references.
            let references: Vec<String> = created
                .iter()
                .flat_map(|n| n.receipt.payments.iter())
                .filter_map(|p| p.reference.clone())
                .collect();
            crate::settlements::match_pending(&mut tx, company_id, &references).await?;
            late
        };
        // A receipt another transaction committed after this statement's snapshot was taken
        // was neither inserted nor seen; a fresh statement sees it.
        let unseen: Vec<String> = by_external
            .values()
            .filter(|row| row.inserted_id.is_none() && row.existing_id.is_none())
            .map(|row| row.external_id.clone())
            .collect();
        if !unseen.is_empty() {
            let found = sqlx::query_as::<_, (String, Uuid, Vec<u8>)>(
                "select external_id, id, content_hash from receipts
                  where company_id = $1 and external_id = any($2)",
            )
            .bind(company_id)
            .bind(&unseen)
            .fetch_all(&mut *tx)
            .await?;
            for (external_id, id, hash) in found {
                if let Some(row) = by_external.get_mut(&external_id) {
                    row.existing_id = Some(id);
                    row.existing_hash = Some(hash);
                }
            }
        }
        tx.commit().await?;

        receipts
            .iter()
            .enumerate()
            .map(|(i, new)| {
                let row = by_external
                    .get(&new.receipt.external_id)
                    .ok_or(StoreError::NotFound)?;
                let repeat = first.get(new.receipt.external_id.as_str()) != Some(&i);
                let (id, hash) = match (row.inserted_id, row.existing_id) {
                    (Some(id), _) if !repeat => {
                        return Ok(InsertOutcome::Created {
                            id,
                            late: late.contains(&id),
                        });
                    }
                    (Some(id), _) => (id, unique_hash(&unique, &new.receipt.external_id)),
                    (None, Some(id)) => (id, row.existing_hash.as_deref()),
                    (None, None) => return Err(StoreError::NotFound),
                };
                Ok(if hash == Some(new.content_hash.as_slice()) {
                    InsertOutcome::Unchanged { id }
                } else {
                    InsertOutcome::Conflict { id }
                })
            })
            .collect()
    }
}

fn unique_hash<'r>(unique: &[&'r NewReceipt], external_id: &str) -> Option<&'r [u8]> {
    unique
        .iter()
        .find(|n| n.receipt.external_id == external_id)
        .map(|n| n.content_hash.as_slice())
}
