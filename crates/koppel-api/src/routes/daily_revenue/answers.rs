//! The figures of a business day as answered: totals, per VAT rate, category and payment
//! method, gift cards, the payments check and the bookings.

use chrono::{DateTime, NaiveDate, Utc};
use koppel_domain::daily::{PaymentsCheck, number_gaps};
use koppel_domain::z_report::ZReport;

use super::cash::DayCash;
use koppel_store::daily_revenue::{COMPANY_WIDE, DayKey, DayRecord};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Amounts excluding VAT, VAT and including VAT.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayTotals {
    /// Excluding VAT.
    #[schema(value_type = String, example = "1834.86")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_excl_vat: Decimal,
    /// VAT.
    #[schema(value_type = String, example = "165.14")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_vat: Decimal,
    /// Including VAT.
    #[schema(value_type = String, example = "2000.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_incl_vat: Decimal,
}

impl DayTotals {
    pub(super) fn new(excl: Decimal, vat: Decimal) -> Self {
        Self {
            total_excl_vat: excl,
            total_vat: vat,
            total_incl_vat: excl + vat,
        }
    }
}

/// Revenue and VAT of one rate on the day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayVatRateFigures {
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory, example = "reduced")]
    pub category: String,
    /// The rate in percent.
    #[schema(value_type = String, example = "9")]
    pub percentage: Decimal,
    /// ISO 3166-1 country whose rate applies.
    #[schema(example = "NL")]
    pub country: String,
    /// Revenue excluding VAT.
    #[schema(value_type = String, example = "1834.86")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// VAT.
    #[schema(value_type = String, example = "165.14")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat: Decimal,
}

/// Revenue of one category on the day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayCategoryFigures {
    /// The category.
    pub category_id: Uuid,
    /// The category's name.
    pub name: String,
    /// Revenue excluding VAT.
    #[schema(value_type = String, example = "917.43")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_excl_vat: Decimal,
    /// VAT on it.
    #[schema(value_type = String, example = "82.57")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_vat: Decimal,
    /// Revenue including VAT.
    #[schema(value_type = String, example = "1000.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_incl_vat: Decimal,
}

/// What one payment method took on the day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayPaymentFigures {
    /// The payment method.
    pub method_id: Uuid,
    /// The method's name.
    pub name: String,
    /// The method's kind (`gift_card`: a gift card redeemed).
    #[schema(value_type = crate::closed_sets::PaymentMethodKind)]
    pub kind: String,
    /// The amount, net of cash change.
    #[schema(value_type = String, example = "640.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
}

/// Gift cards on the day, apart from revenue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayGiftCards {
    /// Multi-purpose gift cards sold: not revenue until redeemed, no VAT.
    #[schema(value_type = String, example = "50.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub sold_multi_purpose: Decimal,
    /// Gift cards taken as payment (payment methods of kind `gift_card`).
    #[schema(value_type = String, example = "25.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub redeemed: Decimal,
}

/// The check that the payments equal what was sold.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayPaymentsCheck {
    /// The payments of every method, net of change.
    #[schema(value_type = String, example = "2070.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub payments_total: Decimal,
    /// Cash rounding added to the payments.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub cash_rounding: Decimal,
    /// What the payments must make: revenue including VAT plus tips, multi-purpose gift cards
    /// sold, deposits and single-purpose vouchers redeemed.
    #[schema(value_type = String, example = "2070.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub expected: Decimal,
    /// `payments_total + cash_rounding − expected`: 0.00 on a sound day.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub difference: Decimal,
    /// Whether the difference is zero.
    pub balanced: bool,
}

/// Missing receipt numbers of one register: numbers between its lowest and highest that no
/// receipt of the day has, where the register numbers its receipts with digits only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayNumberGaps {
    /// The register; null for receipts without one.
    pub register_id: Option<String>,
    /// The lowest number of the day.
    #[schema(example = "1001")]
    pub first: String,
    /// The highest number of the day.
    #[schema(example = "1005")]
    pub last: String,
    /// How many numbers are missing.
    pub missing_count: i64,
    /// The missing numbers as ranges, lowest first (the first 100 ranges).
    pub missing: Vec<DayNumberRange>,
}

/// Missing numbers, `from` to `to` inclusive.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayNumberRange {
    /// The first missing number.
    #[schema(example = "1003")]
    pub from: String,
    /// The last missing number (the same as `from` for one).
    #[schema(example = "1003")]
    pub to: String,
}

/// How many gap ranges a register lists.
const MAX_GAP_RANGES: usize = 100;

/// The location of a location's day, as pushed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayLocation {
    /// Koppel's id of the location.
    pub id: Uuid,
    /// Its name now.
    pub name: String,
    /// Its cost centre now.
    pub cost_centre: Option<String>,
}

/// Where a business day stands.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum DayStatus {
    /// Receipts may still arrive; the figures are not final.
    Open,
    /// Final: at `final_at`, or when closed (the Z-report).
    Final,
    /// Changed by a late receipt after it was final: a new revision to book.
    Revised,
}

/// One business day's revenue (dagomzet).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DailyRevenue {
    /// The day's id, as the event feed names it; null while no receipt counted in the day
    /// and it was never closed.
    pub id: Option<Uuid>,
    /// The business date: from that date at the company's cutoff to the next date at the
    /// cutoff, local time.
    #[schema(value_type = String, example = "2026-03-29")]
    pub date: NaiveDate,
    /// The location these figures are of; null for the whole company.
    pub location_id: Option<String>,
    /// That location as the vendor pushed it (`…/locations`), with the cost centre to book
    /// its revenue to; null for the whole company or before it was pushed.
    pub location: Option<DayLocation>,
    /// Whether the day's figures can still change without a revision.
    #[schema(value_type = DayStatus, example = "final")]
    pub status: String,
    /// 1, plus one for every revision after the day was final.
    pub revision: i32,
    /// When the day becomes or became final: 05:00 local time the next day, or the moment
    /// the vendor closed it if that was earlier.
    pub final_at: DateTime<Utc>,
    /// When the vendor closed the day, if it did before 05:00.
    pub closed_at: Option<DateTime<Utc>>,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// How many receipts count in the day, refunds included.
    pub receipt_count: i64,
    /// How many of them arrived after the day was final.
    pub late_receipt_count: i64,
    /// Totals of every line, revenue or not.
    pub totals: DayTotals,
    /// Revenue: sales and single-purpose gift cards.
    pub revenue: DayTotals,
    /// Revenue and VAT per category, rate and country, net of single-purpose vouchers
    /// redeemed (their VAT was due when they were sold).
    pub by_vat_rate: Vec<DayVatRateFigures>,
    /// What single-purpose vouchers paid, per rate: not revenue again. The payments check
    /// counts it with what was collected beside revenue.
    pub voucher_redemptions: Vec<DayVatRateFigures>,
    /// Revenue per category.
    pub by_category: Vec<DayCategoryFigures>,
    /// Payments per method, net of change.
    pub by_payment_method: Vec<DayPaymentFigures>,
    /// Tips (fooi): not revenue, no VAT.
    #[schema(value_type = String, example = "20.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub tips: Decimal,
    /// Gift cards sold and redeemed.
    pub gift_cards: DayGiftCards,
    /// Deposits (statiegeld): kept apart from revenue.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub deposits: Decimal,
    /// Cash rounding.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub cash_rounding: Decimal,
    /// The check that the payments equal what was sold.
    pub payments_check: DayPaymentsCheck,
    /// The drawer, once the day was closed with a Z-report; null before.
    pub cash: Option<DayCash>,
    /// Registers with missing receipt numbers (numbers of digits only count); empty when
    /// none is missing.
    pub number_gaps: Vec<DayNumberGaps>,
    /// Registers whose range is wider than their count: their gaps are still to be named.
    #[serde(skip)]
    #[schema(ignore)]
    pending_gaps: Vec<String>,
    /// What bookkeeping connectors booked of these figures (this day, of the company or of
    /// this location), oldest first; a booking's `version` is the `revision` booked.
    pub bookings: Vec<crate::booking::Booking>,
    /// Whether the day was revised after it was booked: some package's latest booking is of
    /// an older revision. Post a correction, then book the new revision.
    pub needs_correction: bool,
}

pub(super) fn location_id(key: &str) -> Option<String> {
    (key != COMPANY_WIDE).then(|| key.to_owned())
}

impl DailyRevenue {
    pub(super) fn from_record(d: DayRecord, currency: &str) -> Self {
        let final_at = match d.closed_at {
            Some(closed) if closed < d.final_at => closed,
            _ => d.final_at,
        };
        let redeemed = d
            .by_payment_method
            .0
            .iter()
            .filter(|p| p.kind == "gift_card")
            .map(|p| p.amount)
            .sum();
        let (bookings, needs_correction) = crate::booking::bookings_of(d.revision, d.bookings.0);
        let z_report = d
            .z_report
            .and_then(|z| serde_json::from_value::<ZReport>(z.0).ok());
        let pending_gaps = d
            .registers
            .0
            .iter()
            .filter(|r| r.max_number - r.min_number + 1 != r.numbered)
            .map(|r| r.register_id.clone())
            .collect();
        let payments_total: Decimal = d.by_payment_method.0.iter().map(|p| p.amount).sum();
        let voucher_redemptions: Vec<DayVatRateFigures> = d
            .by_vat_rate
            .0
            .iter()
            .filter(|r| !r.voucher_base.is_zero() || !r.voucher_vat.is_zero())
            .map(|r| DayVatRateFigures {
                category: r.category.clone(),
                percentage: r.percentage.normalize(),
                country: r.country.clone(),
                base: r.voucher_base,
                vat: r.voucher_vat,
            })
            .collect();
        let vouchers_redeemed: Decimal = voucher_redemptions.iter().map(|r| r.base + r.vat).sum();
        let PaymentsCheck {
            expected,
            difference,
        } = PaymentsCheck::of(
            payments_total,
            d.cash_rounding,
            d.revenue_excl_vat + d.revenue_vat,
            d.tips + d.gift_cards_multi_purpose + d.deposits + vouchers_redeemed,
        );
        Self {
            id: Some(d.id),
            date: d.business_date,
            location_id: location_id(&d.location_key),
            location: d.location.map(|l| DayLocation {
                id: l.0.id,
                name: l.0.name,
                cost_centre: l.0.cost_centre,
            }),
            status: d.status,
            revision: d.revision,
            final_at,
            closed_at: d.closed_at,
            currency: currency.to_owned(),
            receipt_count: d.receipt_count,
            late_receipt_count: d.late_receipt_count,
            totals: DayTotals::new(d.total_excl_vat, d.total_vat),
            revenue: DayTotals::new(d.revenue_excl_vat, d.revenue_vat),
            by_vat_rate: d
                .by_vat_rate
                .0
                .into_iter()
                .map(|r| DayVatRateFigures {
                    category: r.category,
                    percentage: r.percentage.normalize(),
                    country: r.country,
                    base: r.base,
                    vat: r.vat,
                })
                .collect(),
            voucher_redemptions,
            by_category: d
                .by_category
                .0
                .into_iter()
                .map(|c| DayCategoryFigures {
                    category_id: c.category_id,
                    name: c.name,
                    total_excl_vat: c.total_excl_vat,
                    total_vat: c.total_vat,
                    total_incl_vat: c.total_excl_vat + c.total_vat,
                })
                .collect(),
            by_payment_method: d
                .by_payment_method
                .0
                .into_iter()
                .map(|p| DayPaymentFigures {
                    method_id: p.method_id,
                    name: p.name,
                    kind: p.kind,
                    amount: p.amount,
                })
                .collect(),
            tips: d.tips,
            gift_cards: DayGiftCards {
                sold_multi_purpose: d.gift_cards_multi_purpose,
                redeemed,
            },
            deposits: d.deposits,
            cash_rounding: d.cash_rounding,
            payments_check: DayPaymentsCheck {
                payments_total,
                cash_rounding: d.cash_rounding,
                expected,
                difference,
                balanced: difference.is_zero(),
            },
            cash: None,
            number_gaps: Vec::new(),
            pending_gaps,
            bookings,
            needs_correction,
        }
        .with_cash(z_report.as_ref())
    }

    /// Names the missing numbers of the registers whose range is wider than their count,
    /// reading only those registers' receipts.
    pub(super) async fn with_number_gaps(
        mut self,
        app: &crate::App,
        company_id: Uuid,
    ) -> Result<Self, crate::error::ApiError> {
        let key = DayKey {
            location_key: self.location_id.clone().unwrap_or_default(),
            business_date: self.date,
        };
        for register in std::mem::take(&mut self.pending_gaps) {
            let numbers = app
                .store
                .daily_revenue()
                .register_numbers(company_id, &key, &register)
                .await?;
            let (gaps, missing_count) = number_gaps(&numbers);
            if gaps.is_empty() {
                continue;
            }
            self.number_gaps.push(DayNumberGaps {
                register_id: (!register.is_empty()).then_some(register),
                first: numbers
                    .iter()
                    .min()
                    .copied()
                    .unwrap_or_default()
                    .to_string(),
                last: numbers
                    .iter()
                    .max()
                    .copied()
                    .unwrap_or_default()
                    .to_string(),
                missing_count,
                missing: gaps
                    .into_iter()
                    .take(MAX_GAP_RANGES)
                    .map(|(from, to)| DayNumberRange {
                        from: from.to_string(),
                        to: to.to_string(),
                    })
                    .collect(),
            });
        }
        Ok(self)
    }

    fn with_cash(mut self, report: Option<&ZReport>) -> Self {
        self.cash = report.map(|r| DayCash::of(r, &self.by_payment_method));
        self
    }

    /// A day no receipt counted in yet: all zero, final once its final_at has passed.
    pub(super) fn empty(
        key: DayKey,
        final_at: DateTime<Utc>,
        now: DateTime<Utc>,
        currency: &str,
    ) -> Self {
        let zero = Decimal::new(0, 2);
        Self {
            id: None,
            date: key.business_date,
            location_id: location_id(&key.location_key),
            location: None,
            status: if now >= final_at { "final" } else { "open" }.to_owned(),
            revision: 1,
            final_at,
            closed_at: None,
            currency: currency.to_owned(),
            receipt_count: 0,
            late_receipt_count: 0,
            totals: DayTotals::new(zero, zero),
            revenue: DayTotals::new(zero, zero),
            by_vat_rate: Vec::new(),
            voucher_redemptions: Vec::new(),
            by_category: Vec::new(),
            by_payment_method: Vec::new(),
            tips: zero,
            gift_cards: DayGiftCards {
                sold_multi_purpose: zero,
                redeemed: zero,
            },
            deposits: zero,
            cash_rounding: zero,
            payments_check: DayPaymentsCheck {
                payments_total: zero,
                cash_rounding: zero,
                expected: zero,
                difference: zero,
                balanced: true,
            },
            cash: None,
            number_gaps: Vec::new(),
            pending_gaps: Vec::new(),
            bookings: Vec::new(),
            needs_correction: false,
        }
    }
}

/// The daily revenue list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum DailyRevenueListing {}

impl crate::page::Listing for DailyRevenueListing {
    type Item = DailyRevenue;
    const NAME: &'static str = "DailyRevenueList";
    const DESCRIPTION: &'static str = "A page of days.";
    const DATA: &'static str = "The days on this page, oldest first.";
}

/// A page of days.
pub type DailyRevenueList = crate::page::Page<DailyRevenueListing>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::closed_sets::tests::values;

    #[test]
    fn every_documented_day_status_is_one_the_store_writes() {
        let store = [
            include_str!("../../../../koppel-store/src/daily_revenue.rs"),
            include_str!("../../../../koppel-store/src/receipts/mod.rs"),
            include_str!("../../../../koppel-store/src/receipts/days.rs"),
        ]
        .concat();
        for status in values::<DayStatus>() {
            assert!(store.contains(&format!("'{status}'")), "{status}");
        }
    }
}
