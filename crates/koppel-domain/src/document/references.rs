//! What a document may name: the company's resources by our id or the vendor's external id,
//! as validation sees them ([`References`]), and the in-memory set the API preloads.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use crate::problem::codes;
use crate::vat::VatCategory;

/// A company's VAT rate as validation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatRateRef {
    /// The rate in percent.
    pub percentage: Decimal,
    /// The category.
    pub category: VatCategory,
    /// The country (ISO 3166-1).
    pub country: String,
}

/// The company data a document may reference. Synchronous on purpose: the API preloads what
/// a document names, so the rules stay plain functions.
pub trait References {
    /// The company's VAT rate with this id.
    fn vat_rate(&self, id: &str) -> Option<VatRateRef>;
    /// Whether a product with this id exists.
    fn product_exists(&self, id: &str) -> bool;
    /// Whether a payment method with this id exists.
    fn payment_method_exists(&self, id: &str) -> bool;
    /// Whether a category with this id exists.
    fn category_exists(&self, id: &str) -> bool;
    /// Whether a customer with this id exists.
    fn customer_exists(&self, id: &str) -> bool;
    /// Whether an order with this id exists.
    fn order_exists(&self, id: &str) -> bool;
    /// Whether a receipt with this id exists.
    fn receipt_exists(&self, _id: &str) -> bool {
        false
    }
    /// Whether the payment method with this id redeems single-purpose vouchers (kind
    /// `single_purpose_voucher`): what it takes was revenue when the voucher was sold.
    fn is_single_purpose_voucher(&self, _method_id: &str) -> bool {
        false
    }
    /// Our id of the company's resource of this kind with the vendor's `external_id`.
    fn by_external_id(&self, kind: ExternalKind, external_id: &str) -> Option<String>;
    /// The vendor's `external_id` of the company's resource of this kind with our `id`.
    fn external_id_of(&self, kind: ExternalKind, id: &str) -> Option<String>;
    /// The currency the company keeps its books in, when the caller knows it: a document in
    /// another currency then needs an exchange rate.
    fn company_currency(&self) -> Option<&str> {
        None
    }
}

/// A reference as resolved: our id and the vendor's external id of the same resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Our id.
    pub id: Option<String>,
    /// The vendor's external id.
    pub external_id: Option<String>,
}

/// The kinds of company resource a document may name by the vendor's own id, in an
/// `…_external_id` field beside our `…_id` (SPEC "Real vendor data").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternalKind {
    /// A customer (`customer.external_id`).
    Customer,
    /// A payment method (`method_external_id`).
    PaymentMethod,
    /// A revenue category (`category_external_id`).
    Category,
    /// A VAT rate (`vat.rate_external_id`).
    VatRate,
    /// A product (`product_external_id`).
    Product,
    /// A receipt (`refund_of_external_id`).
    Receipt,
    /// An order (`credit_of_external_id`).
    Order,
}

impl ExternalKind {
    /// The problem code of an external id no resource of this kind has, and its name.
    pub(crate) fn unknown(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ExternalKind::Customer => (codes::UNKNOWN_CUSTOMER, "customer", "klant"),
            ExternalKind::PaymentMethod => (
                codes::UNKNOWN_PAYMENT_METHOD,
                "payment method",
                "betaalmethode",
            ),
            ExternalKind::Category => (codes::UNKNOWN_CATEGORY, "category", "categorie"),
            ExternalKind::VatRate => (codes::UNKNOWN_VAT_RATE, "vat rate", "btw-tarief"),
            ExternalKind::Product => (codes::UNKNOWN_PRODUCT, "product", "product"),
            ExternalKind::Receipt => (codes::UNKNOWN_RECEIPT, "receipt", "kassabon"),
            ExternalKind::Order => (codes::UNKNOWN_ORDER, "order", "order"),
        }
    }
}

/// [`References`] held in memory: what the API preloads, and what tests use.
#[derive(Debug, Clone, Default)]
pub struct KnownReferences {
    /// VAT rates by id.
    pub vat_rates: HashMap<String, VatRateRef>,
    /// Product ids.
    pub products: HashSet<String>,
    /// Payment method ids.
    pub payment_methods: HashSet<String>,
    /// Category ids.
    pub categories: HashSet<String>,
    /// Customer ids.
    pub customers: HashSet<String>,
    /// Order ids.
    pub orders: HashSet<String>,
    /// Receipt ids.
    pub receipts: HashSet<String>,
    /// Our ids by kind and the vendor's external id.
    pub external: HashMap<(ExternalKind, String), String>,
    /// The vendor's external ids by kind and our id.
    pub external_of: HashMap<(ExternalKind, String), String>,
    /// The company's currency.
    pub company_currency: Option<String>,
    /// Ids of payment methods of kind `single_purpose_voucher`.
    pub single_purpose_vouchers: HashSet<String>,
}

/// Ids are UUIDs, stored and loaded in their lower-case form; a vendor may send
/// them in capitals, which name the same thing (RFC 9562 §4).
/// Other ids (tests and callers may use any text) are compared exactly.
pub(crate) fn id_key(id: &str) -> std::borrow::Cow<'_, str> {
    let uuid_shaped = id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    if uuid_shaped && id.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(id.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(id)
    }
}

impl References for KnownReferences {
    fn vat_rate(&self, id: &str) -> Option<VatRateRef> {
        self.vat_rates.get(id_key(id).as_ref()).cloned()
    }
    fn product_exists(&self, id: &str) -> bool {
        self.products.contains(id_key(id).as_ref())
    }
    fn payment_method_exists(&self, id: &str) -> bool {
        self.payment_methods.contains(id_key(id).as_ref())
    }
    fn category_exists(&self, id: &str) -> bool {
        self.categories.contains(id_key(id).as_ref())
    }
    fn customer_exists(&self, id: &str) -> bool {
        self.customers.contains(id_key(id).as_ref())
    }
    fn by_external_id(&self, kind: ExternalKind, external_id: &str) -> Option<String> {
        self.external.get(&(kind, external_id.to_owned())).cloned()
    }
    fn external_id_of(&self, kind: ExternalKind, id: &str) -> Option<String> {
        self.external_of
            .get(&(kind, id_key(id).into_owned()))
            .cloned()
    }
    fn order_exists(&self, id: &str) -> bool {
        self.orders.contains(id_key(id).as_ref())
    }
    fn company_currency(&self) -> Option<&str> {
        self.company_currency.as_deref()
    }
    fn receipt_exists(&self, id: &str) -> bool {
        self.receipts.contains(id_key(id).as_ref())
    }
    fn is_single_purpose_voucher(&self, method_id: &str) -> bool {
        self.single_purpose_vouchers
            .contains(id_key(method_id).as_ref())
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;

    #[test]
    fn an_id_in_capitals_names_the_same_reference_but_other_ids_are_exact() {
        let mut known = KnownReferences::default();
        known
            .categories
            .insert("0190d4a2-8c1e-7b7e-9f0a-1c2d3e4f5a6b".to_owned());
        known.orders.insert("ord_kEn1PlbGa".to_owned());
        assert!(known.category_exists("0190D4A2-8C1E-7B7E-9F0A-1C2D3E4F5A6B"));
        assert!(known.order_exists("ord_kEn1PlbGa"));
        assert!(!known.order_exists("ORD_KEN1PLBGA"));
    }
}
