//! The closed sets of values that several resources share, as the OpenAPI
//! document names them, so that a generated client types them as enums.
//! Answers mostly keep the values as the store gives them (strings); these
//! types then only describe them, as the `…Input` types describe requests.
//! The tests below hold each set to the domain's or the store's own.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A VAT category (`docs/bookkeeping-rules.md`).
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum VatCategory {
    /// Standard rate (NL 21%).
    Standard,
    /// Reduced rate (NL 9%).
    Reduced,
    /// Zero rate.
    Zero,
    /// Exempt; with an `exemption_reason`.
    Exempt,
    /// Domestic reverse charge: the buyer pays the VAT.
    ReverseCharge,
    /// Intra-EU supply (ICP) to a business with a VAT number.
    IntraEu,
    /// Export outside the EU.
    Export,
    /// EU distance sale under OSS, taxed at the destination's rate.
    Oss,
    /// Outside the scope of VAT (tips, multi-purpose gift cards, rounding).
    OutsideScope,
    /// The margin scheme for second-hand goods: VAT on the margin over the purchase price.
    Margin,
}

/// A ledger role of the journals (SPEC "Journals"): what an account is for, whatever the
/// company's package calls it.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LedgerRole {
    /// Revenue of goods and services, per VAT rate (optionally per category).
    Revenue,
    /// Shipping charged to the buyer, per VAT rate.
    ShippingRevenue,
    /// Payment costs charged to the buyer, per VAT rate.
    PaymentRevenue,
    /// Surcharges, per VAT rate.
    SurchargeRevenue,
    /// Order-level discounts, per VAT rate.
    Discounts,
    /// Output VAT per rate: credit on a sale, debit on a refund.
    VatPayable,
    /// Input VAT on payment-provider fees.
    VatReceivable,
    /// What buyers owe.
    Receivable,
    /// Money on its way from a payment method or provider, per method.
    PaymentClearing,
    /// The till's cash.
    Cash,
    /// The bank account.
    Bank,
    /// Payment-provider fees excluding their VAT.
    PspFees,
    /// Multi-purpose gift cards and vouchers sold, not yet redeemed.
    GiftCardLiability,
    /// Tips owed to staff.
    TipsPayable,
    /// Deposits on returnable packaging.
    Deposits,
    /// Cash rounding, and at most 0.01 per VAT group of rounding of sums.
    Rounding,
    /// Cash counted against expected, and any larger gap between sold and paid.
    CashDifference,
    /// The other side of a Z-report's pay-ins and pay-outs: a suspense account (kruisposten)
    /// the bookkeeper clears.
    CashTransfers,
}

/// What happened to a document, as the change feed and webhooks name it.
#[derive(Debug, Clone, Copy, ToSchema)]
pub enum EventType {
    /// A customer was created.
    #[schema(rename = "customer.created")]
    CustomerCreated,
    /// A customer changed.
    #[schema(rename = "customer.updated")]
    CustomerUpdated,
    /// A product was created.
    #[schema(rename = "product.created")]
    ProductCreated,
    /// A product changed.
    #[schema(rename = "product.updated")]
    ProductUpdated,
    /// A VAT rate was created.
    #[schema(rename = "vat_rate.created")]
    VatRateCreated,
    /// A VAT rate changed.
    #[schema(rename = "vat_rate.updated")]
    VatRateUpdated,
    /// A payment method was created.
    #[schema(rename = "payment_method.created")]
    PaymentMethodCreated,
    /// A payment method changed.
    #[schema(rename = "payment_method.updated")]
    PaymentMethodUpdated,
    /// A category was created.
    #[schema(rename = "category.created")]
    CategoryCreated,
    /// A category changed.
    #[schema(rename = "category.updated")]
    CategoryUpdated,
    /// An order was created.
    #[schema(rename = "order.created")]
    OrderCreated,
    /// An order got a new version.
    #[schema(rename = "order.updated")]
    OrderUpdated,
    /// A receipt was stored (receipts do not change).
    #[schema(rename = "receipt.created")]
    ReceiptCreated,
    /// A business day became final (its final moment passed, or it was closed).
    #[schema(rename = "daily_revenue.final")]
    DailyRevenueFinal,
    /// A final business day changed through a late receipt: a new revision.
    #[schema(rename = "daily_revenue.revised")]
    DailyRevenueRevised,
    /// A connector recorded a booking of the document.
    #[schema(rename = "booking.created")]
    BookingCreated,
    /// A location was created.
    #[schema(rename = "location.created")]
    LocationCreated,
    /// A location changed.
    #[schema(rename = "location.updated")]
    LocationUpdated,
    /// A register was created.
    #[schema(rename = "register.created")]
    RegisterCreated,
    /// A register changed.
    #[schema(rename = "register.updated")]
    RegisterUpdated,
    /// A webhook endpoint failed for five days and was disabled.
    #[schema(rename = "webhook_endpoint.disabled")]
    WebhookEndpointDisabled,
    /// A payout of a payment provider was pushed.
    #[schema(rename = "settlement.created")]
    SettlementCreated,
    /// A payout changed: its transactions were replaced and matched again.
    #[schema(rename = "settlement.updated")]
    SettlementUpdated,
    /// A document pushed after a payout was matched to one of its transactions.
    #[schema(rename = "settlement.matched")]
    SettlementMatched,
}

impl EventType {
    /// Every event type's name, as the feed writes it.
    pub fn names() -> &'static [String] {
        static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        NAMES.get_or_init(enum_values::<EventType>)
    }
}

/// The values of a string enum, as its OpenAPI schema lists them.
pub(crate) fn enum_values<T: utoipa::PartialSchema>() -> Vec<String> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let RefOr::T(Schema::Object(object)) = T::schema() else {
        return Vec::new();
    };
    object
        .enum_values
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The collection of a document, as in its path.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum EventResource {
    /// `…/customers`.
    Customers,
    /// `…/products`.
    Products,
    /// `…/vat-rates`.
    VatRates,
    /// `…/payment-methods`.
    PaymentMethods,
    /// `…/categories`.
    Categories,
    /// `…/orders`.
    Orders,
    /// `…/receipts`.
    Receipts,
    /// `…/daily-revenue`.
    DailyRevenue,
    /// `…/locations`.
    Locations,
    /// `…/locations/{id}/registers`.
    Registers,
    /// `…/webhook-endpoints`.
    WebhookEndpoints,
    /// `…/settlements`.
    Settlements,
}

/// The kinds of payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethodKind {
    /// Cash.
    Cash,
    /// Debit card (pin).
    DebitCard,
    /// Credit card.
    CreditCard,
    /// iDEAL.
    Ideal,
    /// Bank transfer.
    BankTransfer,
    /// PayPal.
    Paypal,
    /// A gift card redeemed as payment.
    GiftCard,
    /// A voucher.
    Voucher,
    /// A single-purpose voucher (enkelvoudige waardebon) redeemed: its VAT was due when it
    /// was sold, so what it pays is taken out of the day's revenue and VAT.
    SinglePurposeVoucher,
    /// On account (op rekening): paid later by invoice.
    OnAccount,
    /// Anything else.
    Other,
}

impl PaymentMethodKind {
    /// The snake_case name stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethodKind::Cash => "cash",
            PaymentMethodKind::DebitCard => "debit_card",
            PaymentMethodKind::CreditCard => "credit_card",
            PaymentMethodKind::Ideal => "ideal",
            PaymentMethodKind::BankTransfer => "bank_transfer",
            PaymentMethodKind::Paypal => "paypal",
            PaymentMethodKind::GiftCard => "gift_card",
            PaymentMethodKind::Voucher => "voucher",
            PaymentMethodKind::SinglePurposeVoucher => "single_purpose_voucher",
            PaymentMethodKind::OnAccount => "on_account",
            PaymentMethodKind::Other => "other",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::Value;
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    use super::*;

    /// The values a documented enum lists, in order.
    pub(crate) fn values<T: PartialSchema>() -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = T::schema() else {
            panic!("not an inline enum");
        };
        assert!(
            object
                .enum_values
                .as_ref()
                .expect("an enum")
                .iter()
                .all(Value::is_string)
        );
        enum_values::<T>()
    }

    #[test]
    fn vat_categories_are_the_domains() {
        let domain: Vec<&str> = koppel_domain::vat::VatCategory::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(values::<VatCategory>(), domain);
    }

    #[test]
    fn ledger_roles_are_the_domains() {
        let domain: Vec<&str> = koppel_domain::journal::Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        assert_eq!(values::<LedgerRole>(), domain);
    }

    #[test]
    fn event_types_and_resources_are_what_the_store_writes() {
        // Every event the store appends is written as a literal in its SQL or code; each
        // must be documented, and each documented one must be written somewhere.
        let sources = [
            include_str!("../../koppel-store/src/bookings.rs"),
            include_str!("../../koppel-store/src/companies.rs"),
            include_str!("../../koppel-store/src/customers.rs"),
            include_str!("../../koppel-store/src/daily_revenue.rs"),
            include_str!("../../koppel-store/src/orders/mod.rs"),
            include_str!("../../koppel-store/src/orders/versions.rs"),
            include_str!("../../koppel-store/src/products.rs"),
            include_str!("../../koppel-store/src/receipts/mod.rs"),
            include_str!("../../koppel-store/src/receipts/write.rs"),
            include_str!("../../koppel-store/src/receipts/days.rs"),
            include_str!("../../koppel-store/src/settings.rs"),
            include_str!("../../koppel-store/src/webhooks/outbox.rs"),
            include_str!("../../koppel-store/src/locations.rs"),
            include_str!("../../koppel-store/src/settlements.rs"),
        ]
        .concat();
        for value in values::<EventType>() {
            assert!(
                sources.contains(&format!("'{value}'"))
                    || sources.contains(&format!("\"{value}\"")),
                "{value} is documented but never written"
            );
        }
        let written = regex_lite_events(&sources);
        let documented = values::<EventType>();
        for value in written {
            assert!(
                documented.contains(&value),
                "{value} is written but not documented"
            );
        }
        for value in values::<EventResource>() {
            assert!(
                sources.contains(&format!("'{value}'"))
                    || sources.contains(&format!("\"{value}\"")),
                "{value} is documented but never written"
            );
        }
    }

    /// Every `'name.verb'` or `"name.verb"` literal with a verb of the feed.
    fn regex_lite_events(sources: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for verb in [".created", ".updated", ".final", ".revised", ".disabled"] {
            for (at, _) in sources.match_indices(verb) {
                let before = &sources[..at];
                let name_len = before
                    .chars()
                    .rev()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .count();
                let open = before[..at - name_len].chars().next_back();
                let close = sources[at + verb.len()..].chars().next();
                if name_len > 0 && matches!(open, Some('\'' | '"')) && open == close {
                    let event = &sources[at - name_len..at + verb.len()];
                    if !found.iter().any(|f| f == event) {
                        found.push(event.to_owned());
                    }
                }
            }
        }
        found
    }
}
