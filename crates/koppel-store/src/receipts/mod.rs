//! POS receipts (see `migrations/0007_receipts.sql`): immutable, stored with their lines and
//! payments, and added to their business day's figures in the same transaction.
//!
//! A write of any number of receipts takes four round trips whatever its size: `begin`; one
//! statement that finalises the affected days that are due, inserts the receipts (`insert …
//! select from unnest(…) on conflict do nothing`) with their lines, payments and events, and
//! reports the receipts that already existed; one statement that adds the new receipts to
//! their days (an additive `insert … on conflict do update`), writes the `revised` events and
//! marks the late receipts; `commit`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, Utc};
use koppel_domain::receipt::{ReceiptLineKind, ValidReceipt};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::StoreError;
use crate::bookings::{self, BookedResource, BookingFilter, BookingRecord};
use crate::daily_revenue::DayKey;

mod days;

pub(crate) use days::location_key;
use days::{add_to_days, add_to_registers, add_voucher_redemptions, day_keys};

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

#[derive(Debug, Clone, sqlx::FromRow)]
struct ReceiptRow {
    location: Option<sqlx::types::Json<LinkedLocation>>,
    register: Option<sqlx::types::Json<LinkedRegister>>,
    id: Uuid,
    external_id: String,
    number: Option<String>,
    location_id: Option<String>,
    register_id: Option<String>,
    created_at: DateTime<Utc>,
    utc_offset_seconds: i32,
    business_date: NaiveDate,
    currency: String,
    prices_include_vat: bool,
    cash_rounding: Decimal,
    total_excl_vat: Decimal,
    total_vat: Decimal,
    total_incl_vat: Decimal,
    revenue_excl_vat: Decimal,
    revenue_vat: Decimal,
    tips: Decimal,
    gift_cards_multi_purpose: Decimal,
    deposits: Decimal,
    late: bool,
    version: i32,
    received_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    refund_of: Option<Uuid>,
    refund_of_external_id: Option<String>,
    refund_reason: Option<String>,
    refunds: Vec<Uuid>,
    customer_id: Option<Uuid>,
    customer_external_id: Option<String>,
    customer: Option<serde_json::Value>,
}

const RECEIPT_COLUMNS: &str = "r.id, r.external_id, r.number, r.location_id, r.register_id, \
     r.created_at, r.utc_offset_seconds, r.business_date, r.currency, r.prices_include_vat, \
     r.cash_rounding, r.total_excl_vat, r.total_vat, r.total_incl_vat, r.revenue_excl_vat, \
     r.revenue_vat, r.tips, r.gift_cards_multi_purpose, r.deposits, r.late, r.version, \
     r.received_at, r.updated_at, r.refund_of, r.refund_of_external_id, r.refund_reason, \
     r.customer_id, r.customer_external_id, r.customer, \
     (select json_build_object('id', l.id, 'name', l.name, 'cost_centre', l.cost_centre) \
        from locations l \
       where l.company_id = r.company_id and l.external_id = btrim(r.location_id)) as location, \
     (select json_build_object('id', g.id, 'name', g.name) \
        from locations l \
        join registers g on g.company_id = l.company_id and g.location_id = l.id \
       where l.company_id = r.company_id and l.external_id = btrim(r.location_id) \
         and g.external_id = btrim(r.register_id)) as register, \
     array(select x.id from receipts x \
            where x.company_id = r.company_id and x.refund_of = r.id order by x.id) as refunds";

/// The location a receipt's `location_id` names, when the vendor pushed it.
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

fn with_offset(at: DateTime<Utc>, offset_seconds: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_seconds).unwrap_or(Utc.fix());
    at.with_timezone(&offset)
}

impl ReceiptRow {
    fn into_record(
        self,
        lines: Vec<ReceiptLineRecord>,
        payments: Vec<ReceiptPaymentRecord>,
        bookings: Vec<BookingRecord>,
    ) -> ReceiptRecord {
        ReceiptRecord {
            id: self.id,
            external_id: self.external_id,
            number: self.number,
            location_id: self.location_id,
            register_id: self.register_id,
            created_at: with_offset(self.created_at, self.utc_offset_seconds),
            business_date: self.business_date,
            currency: self.currency,
            prices_include_vat: self.prices_include_vat,
            cash_rounding: self.cash_rounding,
            total_excl_vat: self.total_excl_vat,
            total_vat: self.total_vat,
            total_incl_vat: self.total_incl_vat,
            revenue_excl_vat: self.revenue_excl_vat,
            revenue_vat: self.revenue_vat,
            tips: self.tips,
            gift_cards_multi_purpose: self.gift_cards_multi_purpose,
            deposits: self.deposits,
            late: self.late,
            version: self.version,
            received_at: self.received_at,
            updated_at: self.updated_at,
            refund_of: self.refund_of,
            refund_of_external_id: self.refund_of_external_id,
            refund_reason: self.refund_reason,
            refunds: self.refunds,
            location: self.location.map(|l| l.0),
            register: self.register.map(|r| r.0),
            customer_id: self.customer_id,
            customer_external_id: self.customer_external_id,
            customer: self.customer,
            lines,
            payments,
            bookings,
        }
    }
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

fn kind_str(kind: ReceiptLineKind) -> &'static str {
    match kind {
        ReceiptLineKind::Sale => "sale",
        ReceiptLineKind::Tip => "tip",
        ReceiptLineKind::GiftCardMultiPurpose => "gift_card_multi_purpose",
        ReceiptLineKind::GiftCardSinglePurpose => "gift_card_single_purpose",
        ReceiptLineKind::Deposit => "deposit",
    }
}

/// Our ids as the domain holds them (text), parsed; validation has checked they exist, so
/// they are UUIDs.
fn uuid_of(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|_| {
        StoreError::Database(sqlx::Error::InvalidArgument(format!("not an id: {id:?}")))
    })
}

/// The columns of the receipts to insert, one array per column.
#[derive(Default)]
struct ReceiptColumns {
    id: Vec<Uuid>,
    external_id: Vec<String>,
    number: Vec<Option<String>>,
    location_id: Vec<Option<String>>,
    register_id: Vec<Option<String>>,
    created_at: Vec<DateTime<Utc>>,
    utc_offset: Vec<i32>,
    business_date: Vec<NaiveDate>,
    currency: Vec<String>,
    prices_include_vat: Vec<bool>,
    cash_rounding: Vec<Decimal>,
    total_excl_vat: Vec<Decimal>,
    total_vat: Vec<Decimal>,
    total_incl_vat: Vec<Decimal>,
    revenue_excl_vat: Vec<Decimal>,
    revenue_vat: Vec<Decimal>,
    tips: Vec<Decimal>,
    gift_cards: Vec<Decimal>,
    deposits: Vec<Decimal>,
    content_hash: Vec<Vec<u8>>,
    refund_of: Vec<Option<Uuid>>,
    refund_of_external_id: Vec<Option<String>>,
    refund_reason: Vec<Option<String>>,
    customer_id: Vec<Option<Uuid>>,
    customer_external_id: Vec<Option<String>>,
    customer: Vec<Option<String>>,
}

#[derive(Default)]
struct LineColumns {
    receipt_id: Vec<Uuid>,
    position: Vec<i32>,
    kind: Vec<&'static str>,
    product_code: Vec<String>,
    description: Vec<Option<String>>,
    category_id: Vec<Uuid>,
    quantity: Vec<Decimal>,
    unit_price: Vec<Decimal>,
    discount: Vec<Decimal>,
    vat_rate_id: Vec<Option<Uuid>>,
    vat_rate_external_id: Vec<Option<String>>,
    vat_percentage: Vec<Decimal>,
    vat_category: Vec<&'static str>,
    vat_country: Vec<&'static str>,
    vat_amount: Vec<Decimal>,
    exemption_reason: Vec<Option<String>>,
    total_excl_vat: Vec<Decimal>,
    total_incl_vat: Vec<Decimal>,
}

#[derive(Default)]
struct PaymentColumns {
    receipt_id: Vec<Uuid>,
    position: Vec<i32>,
    method_id: Vec<Uuid>,
    amount: Vec<Decimal>,
    change: Vec<Decimal>,
    reference: Vec<Option<String>>,
}

#[derive(sqlx::FromRow)]
struct Inserted {
    external_id: String,
    inserted_id: Option<Uuid>,
    existing_id: Option<Uuid>,
    existing_hash: Option<Vec<u8>>,
}

/// Inserts the receipts (first of each external id only) with their lines, payments and
/// `receipt.created` events, after finalising their days that are due; answers per external
/// id whether it was inserted or what was stored before.
async fn insert_receipts(
    conn: &mut PgConnection,
    company_id: Uuid,
    receipts: &[&NewReceipt],
    now: DateTime<Utc>,
) -> Result<Vec<Inserted>, StoreError> {
    let mut r = ReceiptColumns::default();
    let mut l = LineColumns::default();
    let mut p = PaymentColumns::default();
    let mut keys: BTreeMap<DayKey, ()> = BTreeMap::new();
    for new in receipts {
        let v = &new.receipt;
        for key in day_keys(new) {
            keys.insert(key, ());
        }
        r.id.push(new.id);
        r.external_id.push(v.external_id.clone());
        r.number.push(v.number.clone());
        r.location_id.push(location_key(v).map(str::to_owned));
        r.register_id.push(v.register_id.clone());
        r.created_at.push(v.created_at.with_timezone(&Utc));
        r.utc_offset.push(v.created_at.offset().local_minus_utc());
        r.business_date.push(new.business_date);
        r.currency.push(v.currency.clone());
        r.prices_include_vat.push(v.prices_include_vat);
        r.cash_rounding.push(v.cash_rounding);
        r.total_excl_vat.push(v.totals.total_excl_vat);
        r.total_vat.push(v.totals.total_vat);
        r.total_incl_vat.push(v.totals.total_incl_vat);
        r.revenue_excl_vat.push(v.split.revenue.total_excl_vat);
        r.revenue_vat.push(v.split.revenue.total_vat);
        r.tips.push(v.split.tips);
        r.gift_cards.push(v.split.gift_cards_multi_purpose);
        r.deposits.push(v.split.deposits);
        r.content_hash.push(new.content_hash.clone());
        r.refund_of
            .push(v.refund_of.as_deref().map(uuid_of).transpose()?);
        r.refund_of_external_id
            .push(v.refund_of_external_id.clone());
        r.refund_reason.push(v.refund_reason.clone());
        let buyer = v.customer.as_ref();
        r.customer_id.push(
            buyer
                .and_then(|c| c.id.as_deref())
                .map(uuid_of)
                .transpose()?,
        );
        r.customer_external_id
            .push(buyer.and_then(|c| c.external_id.clone()));
        r.customer
            .push(buyer.map(|c| serde_json::to_string(c).unwrap_or_default()));
        for (i, line) in v.lines.iter().enumerate() {
            l.receipt_id.push(new.id);
            l.position.push(i32::try_from(i).unwrap_or(i32::MAX));
            l.kind.push(kind_str(line.kind));
            l.product_code.push(line.product_code.clone());
            l.description.push(line.description.clone());
            l.category_id.push(uuid_of(&line.category_id)?);
            l.quantity.push(line.quantity);
            l.unit_price.push(line.unit_price);
            l.discount.push(line.discount);
            l.vat_rate_id
                .push(line.vat.rate_id.as_deref().map(uuid_of).transpose()?);
            l.vat_rate_external_id
                .push(line.vat.rate_external_id.clone());
            l.vat_percentage.push(line.vat.percentage);
            l.vat_category.push(line.vat.category.as_str());
            l.vat_country.push(line.vat.country.as_str());
            l.vat_amount.push(line.vat.amount);
            l.exemption_reason.push(line.vat.exemption_reason.clone());
            l.total_excl_vat.push(line.total_excl_vat);
            l.total_incl_vat.push(line.total_incl_vat);
        }
        for (i, payment) in v.payments.iter().enumerate() {
            p.receipt_id.push(new.id);
            p.position.push(i32::try_from(i).unwrap_or(i32::MAX));
            p.method_id.push(uuid_of(&payment.method_id)?);
            p.amount.push(payment.amount);
            p.change.push(payment.change);
            p.reference.push(payment.reference.clone());
        }
    }
    let (key_locations, key_dates): (Vec<String>, Vec<NaiveDate>) = keys
        .into_keys()
        .map(|k| (k.location_key, k.business_date))
        .unzip();
    let rows = sqlx::query_as::<_, Inserted>(
        "with fin as (
            update daily_revenue d
               set status = 'final', finalized_at = d.final_at, updated_at = $2
             where d.company_id = $1 and d.status = 'open' and d.final_at <= $2
               and (d.location_key, d.business_date) in (select * from unnest($3::text[], $4::date[]))
            returning d.company_id, d.id, d.revision
         ), fin_events as (
            insert into events (company_id, type, resource, resource_id, version)
            select company_id, 'daily_revenue.final', 'daily_revenue', id, revision from fin
         ), input as (
            select * from unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[],
                                 $10::timestamptz[], $11::int[], $12::date[], $13::text[], $14::bool[],
                                 $15::numeric[], $16::numeric[], $17::numeric[], $18::numeric[],
                                 $19::numeric[], $20::numeric[], $21::numeric[], $22::numeric[],
                                 $23::numeric[], $24::bytea[], $49::uuid[], $50::text[], $51::text[],
                                 $52::uuid[], $53::text[], $54::text[])
              as i(id, external_id, number, location_id, register_id, created_at, utc_offset_seconds,
                   business_date, currency, prices_include_vat, cash_rounding, total_excl_vat,
                   total_vat, total_incl_vat, revenue_excl_vat, revenue_vat, tips,
                   gift_cards_multi_purpose, deposits, content_hash, refund_of,
                   refund_of_external_id, refund_reason, customer_id, customer_external_id,
                   customer)
         ), ins as (
            insert into receipts (company_id, id, external_id, number, location_id, register_id,
                                  created_at, utc_offset_seconds, business_date, currency,
                                  prices_include_vat, cash_rounding, total_excl_vat, total_vat,
                                  total_incl_vat, revenue_excl_vat, revenue_vat, tips,
                                  gift_cards_multi_purpose, deposits, content_hash, received_at,
                                  updated_at, refund_of, refund_of_external_id, refund_reason,
                                  customer_id, customer_external_id, customer)
            select $1, i.id, i.external_id, i.number, i.location_id, i.register_id, i.created_at,
                   i.utc_offset_seconds, i.business_date, i.currency, i.prices_include_vat,
                   i.cash_rounding, i.total_excl_vat, i.total_vat, i.total_incl_vat,
                   i.revenue_excl_vat, i.revenue_vat, i.tips, i.gift_cards_multi_purpose,
                   i.deposits, i.content_hash, $2, $2, i.refund_of, i.refund_of_external_id,
                   i.refund_reason, i.customer_id, i.customer_external_id, i.customer::jsonb
              from input i
             -- One order for every writer, so two batches holding the same receipts wait
             -- for each other instead of deadlocking on the external id index.
             order by i.external_id
            on conflict (company_id, external_id) do nothing
            returning id, external_id
         ), lines as (
            insert into receipt_lines (company_id, receipt_id, position, kind, product_code,
                                       description, category_id, quantity, unit_price, discount,
                                       vat_rate_id, vat_percentage, vat_category, vat_country,
                                       vat_amount, exemption_reason, total_excl_vat, total_incl_vat,
                                       vat_rate_external_id)
            select $1, l.* from unnest($25::uuid[], $26::int[], $27::text[], $28::text[], $29::text[],
                                      $30::uuid[], $31::numeric[], $32::numeric[], $33::numeric[],
                                      $34::uuid[], $35::numeric[], $36::text[], $37::text[],
                                      $38::numeric[], $39::text[], $40::numeric[], $41::numeric[],
                                      $48::text[])
                           as l(receipt_id, position, kind, product_code, description, category_id,
                                quantity, unit_price, discount, vat_rate_id, vat_percentage,
                                vat_category, vat_country, vat_amount, exemption_reason,
                                total_excl_vat, total_incl_vat, vat_rate_external_id)
             where l.receipt_id in (select id from ins)
         ), payments as (
            insert into receipt_payments (company_id, receipt_id, position, method_id, amount,
                                          change, reference)
            select $1, p.* from unnest($42::uuid[], $43::int[], $44::uuid[], $45::numeric[],
                                      $46::numeric[], $47::text[])
                           as p(receipt_id, position, method_id, amount, change, reference)
             where p.receipt_id in (select id from ins)
         ), created_events as (
            insert into events (company_id, type, resource, resource_id, version)
            select $1, 'receipt.created', 'receipts', ins.id, 1
              from ins join input i on i.id = ins.id
             order by i.created_at, ins.id
         )
         select i.external_id, ins.id as inserted_id, r.id as existing_id,
                r.content_hash as existing_hash
           from input i
           left join ins on ins.id = i.id
           left join receipts r on r.company_id = $1 and r.external_id = i.external_id",
    )
    .bind(company_id)
    .bind(now)
    .bind(key_locations)
    .bind(key_dates)
    .bind(r.id)
    .bind(r.external_id)
    .bind(r.number)
    .bind(r.location_id)
    .bind(r.register_id)
    .bind(r.created_at)
    .bind(r.utc_offset)
    .bind(r.business_date)
    .bind(r.currency)
    .bind(r.prices_include_vat)
    .bind(r.cash_rounding)
    .bind(r.total_excl_vat)
    .bind(r.total_vat)
    .bind(r.total_incl_vat)
    .bind(r.revenue_excl_vat)
    .bind(r.revenue_vat)
    .bind(r.tips)
    .bind(r.gift_cards)
    .bind(r.deposits)
    .bind(r.content_hash)
    .bind(l.receipt_id)
    .bind(l.position)
    .bind(l.kind)
    .bind(l.product_code)
    .bind(l.description)
    .bind(l.category_id)
    .bind(l.quantity)
    .bind(l.unit_price)
    .bind(l.discount)
    .bind(l.vat_rate_id)
    .bind(l.vat_percentage)
    .bind(l.vat_category)
    .bind(l.vat_country)
    .bind(l.vat_amount)
    .bind(l.exemption_reason)
    .bind(l.total_excl_vat)
    .bind(l.total_incl_vat)
    .bind(p.receipt_id)
    .bind(p.position)
    .bind(p.method_id)
    .bind(p.amount)
    .bind(p.change)
    .bind(p.reference)
    .bind(l.vat_rate_external_id)
    .bind(r.refund_of)
    .bind(r.refund_of_external_id)
    .bind(r.refund_reason)
    .bind(r.customer_id)
    .bind(r.customer_external_id)
    .bind(r.customer)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
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

    /// One receipt by id, with its lines and payments.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let row = sqlx::query_as::<_, ReceiptRow>(AssertSqlSafe(format!(
            "select {RECEIPT_COLUMNS} from receipts r where r.company_id = $1 and r.id = $2"
        )))
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(self.complete(company_id, vec![row]).await?.pop()),
        }
    }

    /// The id and content hash of the receipt stored under `external_id`, if any: what a
    /// check without storing compares a receipt with.
    pub async fn stored_hash(
        &self,
        company_id: Uuid,
        external_id: &str,
    ) -> Result<Option<(Uuid, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as::<_, (Uuid, Vec<u8>)>(
            "select id, content_hash from receipts where company_id = $1 and external_id = $2",
        )
        .bind(company_id)
        .bind(external_id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Receipts by filter, in the filter's order.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &ReceiptFilter,
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "select {RECEIPT_COLUMNS} from receipts r where r.company_id = "
        ));
        q.push_bind(company_id);
        if let Some(number) = &filter.number {
            q.push(" and r.number = ").push_bind(number);
        }
        if let Some(from) = filter.from {
            q.push(" and r.created_at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" and r.created_at < ").push_bind(to);
        }
        if let Some(date) = filter.business_date {
            q.push(" and r.business_date = ").push_bind(date);
        }
        if let Some(location) = &filter.location_id {
            q.push(" and r.location_id = ").push_bind(location);
        }
        if let Some(since) = filter.updated_since {
            q.push(" and r.updated_at >= ").push_bind(since);
        }
        if let Some(reference) = &filter.reference {
            // Two index lookups (external id, payment reference) joined by a union, so neither
            // turns into a scan of the company's receipts.
            q.push(" and r.id in (select x.id from receipts x where x.company_id = ")
                .push_bind(company_id)
                .push(" and x.external_id = ")
                .push_bind(reference)
                .push(" union select p.receipt_id from receipt_payments p where p.company_id = ")
                .push_bind(company_id)
                .push(" and p.reference = ")
                .push_bind(reference)
                .push(")");
        }
        filter.bookings.push(
            &mut q,
            company_id,
            BookedResource::Receipts,
            "r.id",
            "r.version",
        );
        let column = match filter.order {
            ReceiptOrder::Updated => "r.updated_at",
            ReceiptOrder::Created => "r.created_at",
        };
        if let Some((at, id)) = filter.after {
            q.push(format!(" and ({column}, r.id) > ("))
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(format!(" order by {column}, r.id limit "))
            .push_bind(filter.limit);
        let rows = q
            .build_query_as::<ReceiptRow>()
            .fetch_all(self.pool)
            .await?;
        self.complete(company_id, rows).await
    }

    /// Adds the lines and payments to receipt rows: two queries for any number of receipts.
    async fn complete(
        &self,
        company_id: Uuid,
        rows: Vec<ReceiptRow>,
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = sqlx::query_as::<_, ReceiptLineRecord>(
            "select receipt_id, kind, product_code,
                    -- The product code is the till's article code: linked to the company's
                    -- product with that SKU when one exists now (as order lines are).
                    (select p.id from products p
                      where p.company_id = l.company_id and p.sku = l.product_code
                      order by p.id limit 1) as product_id,
                    description, category_id,
                    (select k.external_id from categories k
                      where k.company_id = l.company_id and k.id = l.category_id)
                        as category_external_id,
                    quantity, unit_price,
                    discount, vat_rate_id, vat_rate_external_id, vat_percentage, vat_category,
                    vat_country, vat_amount, exemption_reason, total_excl_vat, total_incl_vat
               from receipt_lines l where company_id = $1 and receipt_id = any($2)
              order by receipt_id, position",
        )
        .bind(company_id)
        .bind(&ids)
        .fetch_all(self.pool)
        .await?;
        let payments = sqlx::query_as::<_, ReceiptPaymentRecord>(
            "select p.receipt_id, p.method_id, m.external_id as method_external_id, p.amount,
                    p.change, p.reference
               from receipt_payments p
               join payment_methods m on m.company_id = p.company_id and m.id = p.method_id
              where p.company_id = $1 and p.receipt_id = any($2)
              order by p.receipt_id, p.position",
        )
        .bind(company_id)
        .bind(&ids)
        .fetch_all(self.pool)
        .await?;
        let mut lines_of: HashMap<Uuid, Vec<ReceiptLineRecord>> = HashMap::new();
        for line in lines {
            lines_of.entry(line.receipt_id).or_default().push(line);
        }
        let mut bookings_of =
            bookings::load(self.pool, company_id, BookedResource::Receipts, &ids).await?;
        let mut payments_of: HashMap<Uuid, Vec<ReceiptPaymentRecord>> = HashMap::new();
        for payment in payments {
            payments_of
                .entry(payment.receipt_id)
                .or_default()
                .push(payment);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let lines = lines_of.remove(&row.id).unwrap_or_default();
                let payments = payments_of.remove(&row.id).unwrap_or_default();
                let bookings = bookings_of.remove(&row.id).unwrap_or_default();
                row.into_record(lines, payments, bookings)
            })
            .collect())
    }
}

fn unique_hash<'r>(unique: &[&'r NewReceipt], external_id: &str) -> Option<&'r [u8]> {
    unique
        .iter()
        .find(|n| n.receipt.external_id == external_id)
        .map(|n| n.content_hash.as_slice())
}
