//! The buyer of a document as sent and as answered: an order's `customer`, and a
//! receipt's (v1.1: a sale on account or to a business). One shape for both, so it lives
//! here rather than in either resource. Requests are parsed by the domain's
//! `CustomerDraft`; these types describe the shape in the OpenAPI document.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An address as it was on the document.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderAddressInput {
    /// Street name.
    #[schema(example = "Damrak")]
    pub street: Option<String>,
    /// House number.
    #[schema(example = "1")]
    pub house_number: Option<String>,
    /// Addition to the house number (toevoeging).
    #[schema(example = "A")]
    pub house_number_addition: Option<String>,
    /// Postal code.
    #[schema(example = "1012 LG")]
    pub postal_code: Option<String>,
    /// City.
    #[schema(example = "Amsterdam")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "NL")]
    pub country: Option<String>,
}

/// The buyer: a reference to a customer in Koppel plus the details as they were on the
/// document (an order, or a receipt of a sale on account or to a business).
#[derive(Debug, Clone, ToSchema)]
pub struct OrderCustomerInput {
    /// The customer's id in Koppel, when the vendor pushed the customer.
    pub id: Option<String>,
    /// The same customer by the vendor's own id (the customer's `external_id`), instead of
    /// `id`; unknown, or naming another customer than `id`: 400 at this field.
    #[schema(example = "klant-1001")]
    pub external_id: Option<String>,
    /// The person's name.
    #[schema(example = "Jan Jansen")]
    pub name: Option<String>,
    /// The business's name.
    pub company_name: Option<String>,
    /// E-mail address.
    #[schema(example = "jan@example.nl")]
    pub email: Option<String>,
    /// Phone number, as typed.
    pub phone: Option<String>,
    /// The buyer's VAT number (checked; required for an intra-EU supply).
    #[schema(example = "NL000099998B57")]
    pub vat_number: Option<String>,
    /// The buyer's KvK number: 8 digits.
    #[schema(example = "12345678")]
    pub coc_number: Option<String>,
    /// Billing address.
    pub billing_address: Option<OrderAddressInput>,
    /// Shipping address.
    pub shipping_address: Option<OrderAddressInput>,
}

/// An address as it was on the document.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OrderAddress {
    /// Street name.
    pub street: Option<String>,
    /// House number.
    pub house_number: Option<String>,
    /// Addition to the house number.
    pub house_number_addition: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
}

/// The buyer as on the document, identifiers normalised.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OrderCustomer {
    /// The customer's id in Koppel, when the document named one.
    #[schema(value_type = Option<Uuid>)]
    pub id: Option<String>,
    /// That customer's external id (the vendor's own).
    #[serde(default)]
    pub external_id: Option<String>,
    /// The person's name.
    pub name: Option<String>,
    /// The business's name.
    pub company_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// The buyer's VAT number, normalised (`NL000099998B57`).
    pub vat_number: Option<String>,
    /// The buyer's KvK number.
    pub coc_number: Option<String>,
    /// Billing address.
    pub billing_address: Option<OrderAddress>,
    /// Shipping address.
    pub shipping_address: Option<OrderAddress>,
}
