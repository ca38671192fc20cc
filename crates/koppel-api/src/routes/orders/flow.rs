//! From a request to a stored order: loading what a draft names, checking it, the canonical
//! form and content hash that make a resend a no-op.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use koppel_domain::business_day::first_instant_at_or_after;
use koppel_domain::document::{ExternalKind, KnownReferences};
use koppel_domain::order::{OrderDraft, ValidOrder, validate_order};
use koppel_domain::problem::Violation;
use koppel_store::orders::Outcome;
use koppel_store::references::Wanted;
use uuid::Uuid;

use crate::App;
use crate::error::ApiError;

pub(super) fn outcome_str(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Unchanged => "unchanged",
    }
}

pub(super) use koppel_domain::canonical::cents;

/// Adds what a draft names to the references to load.
pub(super) fn want(draft: &OrderDraft, wanted: &mut Wanted) {
    let vats = draft
        .lines
        .iter()
        .filter_map(|l| l.vat.as_ref())
        .chain(draft.costs.iter().filter_map(|k| k.vat.as_ref()))
        .chain(
            draft
                .payments
                .iter()
                .filter_map(|p| p.fee.as_ref().and_then(|f| f.vat.as_ref())),
        );
    for vat in vats {
        wanted.vat_rates.extend(vat.rate_id.clone());
        wanted
            .vat_rate_external_ids
            .extend(vat.rate_external_id.clone());
    }
    for l in &draft.lines {
        wanted.products.extend(l.product_id.clone());
        wanted
            .product_external_ids
            .extend(l.product_external_id.clone());
        wanted.categories.extend(l.category_id.clone());
        wanted
            .category_external_ids
            .extend(l.category_external_id.clone());
    }
    for p in &draft.payments {
        wanted.payment_methods.extend(p.method_id.clone());
        wanted
            .payment_method_external_ids
            .extend(p.method_external_id.clone());
    }
    if let Some(customer) = &draft.customer {
        wanted.customers.extend(customer.id.clone());
        wanted
            .customer_external_ids
            .extend(customer.external_id.clone());
    }
    wanted.orders.extend(draft.credit_of.clone());
    wanted.orders.extend(draft.credit_of_external_id.clone());
}

/// Everything the drafts of one request reference, loaded in one query,
/// plus the orders `credit_of` names (by our id or the vendor's external id).
pub(super) async fn references(
    app: &App,
    company_id: Uuid,
    drafts: &[&OrderDraft],
) -> Result<(KnownReferences, HashMap<String, Uuid>), ApiError> {
    let mut wanted = Wanted::default();
    for draft in drafts {
        want(draft, &mut wanted);
    }
    for list in [
        &mut wanted.vat_rates,
        &mut wanted.products,
        &mut wanted.payment_methods,
        &mut wanted.categories,
        &mut wanted.customers,
        &mut wanted.orders,
        &mut wanted.customer_external_ids,
        &mut wanted.payment_method_external_ids,
        &mut wanted.category_external_ids,
        &mut wanted.vat_rate_external_ids,
        &mut wanted.product_external_ids,
    ] {
        let unique: BTreeSet<String> = list.drain(..).collect();
        list.extend(unique);
    }
    let mut known = app.store.references(company_id, &wanted).await?;
    let orders = app
        .store
        .orders()
        .resolve(company_id, &wanted.orders)
        .await?;
    known.orders.extend(orders.keys().cloned());
    // A key that is not our id is the vendor's: `credit_of_external_id` resolves through it,
    // and the canonical form then finds our id by itself.
    let mut orders = orders;
    for (key, id) in orders.clone() {
        let ours = id.to_string();
        if !key.eq_ignore_ascii_case(&ours) {
            known
                .external
                .insert((ExternalKind::Order, key), ours.clone());
        }
        known.orders.insert(ours.clone());
        orders.insert(ours, id);
    }
    Ok((known, orders))
}

/// Puts a valid order in its canonical form (`koppel_domain::canonical`), its `credit_of`
/// first turned into our id: the content hash is taken of this form, so `12.1` and `"12.10"`,
/// or an order named by either id, are the same order.
pub(super) fn canonical(mut order: ValidOrder, orders: &HashMap<String, Uuid>) -> ValidOrder {
    order.credit_of = order
        .credit_of
        .and_then(|c| orders.get(&c).map(Uuid::to_string));
    order.canonical()
}

/// SHA-256 of the canonical order's JSON.
pub(super) fn content_hash(order: &ValidOrder) -> Vec<u8> {
    koppel_domain::canonical::content_hash(order)
}

/// A valid order in canonical form with its content hash, or every violation.
pub(super) type Checked = Result<(ValidOrder, Vec<u8>), Vec<Violation>>;

/// Validates one draft against the loaded references.
pub(super) fn check(
    draft: &OrderDraft,
    known: &KnownReferences,
    orders: &HashMap<String, Uuid>,
) -> Checked {
    let valid = canonical(validate_order(draft, known)?, orders);
    let hash = content_hash(&valid);
    Ok((valid, hash))
}

/// Turns `from`/`to`: an instant with offset, or a date meaning its start in `tz`.
pub(super) fn moment(
    name: &str,
    raw: &str,
    tz: Option<chrono_tz::Tz>,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    match (NaiveDate::parse_from_str(raw, "%Y-%m-%d"), tz) {
        (Ok(date), Some(tz)) => Ok(first_instant_at_or_after(tz, date.and_time(NaiveTime::MIN))),
        _ => Err(ApiError::InvalidParameter(format!(
            "{name} must be an RFC 3339 time with offset or a date (YYYY-MM-DD)"
        ))),
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    /// The content hash of a stored order decides whether a resend is a new version; a
    /// change to the canonical form would make every stored order's next identical resend
    /// a new version. This digest was taken before the form moved to the domain.
    #[test]
    fn the_content_hash_of_an_order_is_what_it_was() {
        let draft: OrderDraft = serde_json::from_str(
            r#"{"external_id": "web-1", "number": "1", "status": "paid",
                "order_date": "2026-03-02T10:00:00+01:00", "currency": "EUR",
                "prices_include_vat": false,
                "lines": [{"sku": "A", "quantity": 2, "unit_price": "5.0", "total_excl_vat": 10,
                           "vat": {"percentage": 21, "category": "standard", "amount": "2.1"}}],
                "costs": [{"kind": "shipping", "amount_excl_vat": "4.13",
                           "vat": {"percentage": "21", "category": "standard", "amount": "0.87"}}],
                "payments": [{"method_id": "m", "amount": "17.10"}]}"#,
        )
        .unwrap();
        let mut known = KnownReferences::default();
        known.payment_methods.insert("m".to_owned());
        let (valid, hash) = check(&draft, &known, &HashMap::new()).unwrap();
        assert_eq!(valid.totals.total_incl_vat.to_string(), "17.10");
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5859253ca5fd4d28aeacc1835036d09bfedf6f9d773a1078a0bf8d83cc4aa66f"
        );
    }
}
