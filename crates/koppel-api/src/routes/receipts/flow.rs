//! From a request to a stored receipt: loading what a draft names, checking it against the
//! company, the canonical form and content hash that make a resend a no-op.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use koppel_domain::business_day;
use koppel_domain::document::KnownReferences;
use koppel_domain::problem::{Violation, codes};
use koppel_domain::receipt::{ReceiptDraft, ValidReceipt, validate_receipt};
use koppel_store::receipts::NewReceipt;
use koppel_store::references::{self, Wanted};
use uuid::Uuid;

use crate::App;
use crate::clock::Clock;
use crate::error::ApiError;

/// Everything a set of drafts names, loaded in one query.
pub(super) async fn load_references(
    app: &App,
    company_id: Uuid,
    drafts: &[&ReceiptDraft],
) -> Result<KnownReferences, ApiError> {
    let mut wanted = Wanted::default();
    for draft in drafts {
        for line in &draft.lines {
            wanted.categories.extend(line.category_id.clone());
            wanted
                .category_external_ids
                .extend(line.category_external_id.clone());
            if let Some(vat) = &line.vat {
                wanted.vat_rates.extend(vat.rate_id.clone());
                wanted
                    .vat_rate_external_ids
                    .extend(vat.rate_external_id.clone());
            }
        }
        for payment in &draft.payments {
            wanted.payment_methods.extend(payment.method_id.clone());
            wanted
                .payment_method_external_ids
                .extend(payment.method_external_id.clone());
        }
        wanted.receipts.extend(draft.refund_of.clone());
        if let Some(customer) = &draft.customer {
            wanted.customers.extend(customer.id.clone());
            wanted
                .customer_external_ids
                .extend(customer.external_id.clone());
        }
        wanted
            .receipt_external_ids
            .extend(draft.refund_of_external_id.clone());
    }
    for list in [
        &mut wanted.categories,
        &mut wanted.vat_rates,
        &mut wanted.vat_rate_external_ids,
        &mut wanted.payment_methods,
    ] {
        list.sort();
        list.dedup();
    }
    Ok(references::load(app.store.pool(), company_id, &wanted).await?)
}

/// SHA-256 of the receipt's canonical form (`koppel_domain::canonical`).
pub(super) fn content_hash(receipt: &ValidReceipt) -> Vec<u8> {
    koppel_domain::canonical::content_hash(receipt)
}

/// Validates one draft against every rule of the domain (the company's currency among them,
/// which the references carry) and puts it in its canonical form.
pub(super) fn check(
    draft: &ReceiptDraft,
    known: &KnownReferences,
) -> Result<ValidReceipt, Vec<Violation>> {
    validate_receipt(draft, known).map(ValidReceipt::canonical)
}

/// A valid receipt ready for the store: its id, business date, final_at and hash.
pub(super) fn prepare(receipt: ValidReceipt, clock: Clock) -> NewReceipt {
    let business_date = receipt.business_date(clock.tz, clock.cutoff);
    let final_at = business_day::final_at(business_date, clock.tz, clock.cutoff);
    let content_hash = content_hash(&receipt);
    NewReceipt {
        id: Uuid::now_v7(),
        receipt,
        business_date,
        final_at,
        content_hash,
    }
}

pub(super) fn immutable(id: Uuid) -> Violation {
    Violation::new(
        "/external_id",
        codes::RECEIPT_IMMUTABLE,
        format!(
            "receipt {id} was stored with this external_id and other content; a stored receipt never changes, so send a correction as a new (refund) receipt with its own external_id"
        ),
        format!(
            "bon {id} is met deze external_id en andere inhoud opgeslagen; een opgeslagen bon verandert nooit, dus stuur een correctie als nieuwe (retour)bon met een eigen external_id"
        ),
    )
}

/// Turns `from`/`to`: an instant with offset, or a date meaning its start in `tz`.
pub(super) fn moment(name: &str, raw: &str, tz: Tz) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(date) => Ok(business_day::first_instant_at_or_after(
            tz,
            date.and_time(NaiveTime::MIN),
        )),
        Err(_) => Err(ApiError::InvalidParameter(format!(
            "{name} must be an RFC 3339 time with offset or a date (YYYY-MM-DD)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_does_not_depend_on_how_an_amount_was_written() {
        let mut known = KnownReferences::default();
        known.categories.insert("c".to_owned());
        known.payment_methods.insert("p".to_owned());
        let body = |price: &str, paid: &str| {
            serde_json::from_str::<ReceiptDraft>(&format!(
                r#"{{"external_id": "x", "created_at": "2026-06-10T12:00:00+02:00",
                    "currency": "EUR", "prices_include_vat": true,
                    "lines": [{{"product_code": "1", "category_id": "c", "quantity": 1,
                               "unit_price": {price}, "total_incl_vat": {price},
                               "vat": {{"percentage": 9, "category": "reduced", "amount": "0.29"}}}}],
                    "payments": [{{"method_id": "p", "amount": {paid}}}]}}"#
            ))
            .unwrap()
        };
        let a = check(&body("3.5", "3.5"), &known).unwrap();
        let b = check(&body("\"3.50\"", "\"3.50\""), &known).unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        let c = check(&body("4.00", "4.00"), &known);
        assert!(c.is_err(), "the vat no longer fits");
        // Pinned: a change to the canonical form would turn every stored receipt's identical
        // resend into a refused "other content" (receipts are immutable).
        let hex: String = content_hash(&a)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "2c85694eb8e9182387eb4f3f2241b6973113f1492aba240546dd3a1a44c904b4"
        );
    }
}
