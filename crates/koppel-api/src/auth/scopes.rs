//! Client kinds and the scopes each may hold.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every scope, with what it allows. The OpenAPI security scheme lists these.
pub const SCOPES: &[(&str, &str)] = &[
    ("customers:read", "Read customers"),
    ("customers:write", "Create and update customers"),
    ("products:read", "Read products"),
    ("products:write", "Create and update products"),
    ("orders:read", "Read sales orders"),
    ("orders:write", "Create and update sales orders"),
    ("receipts:read", "Read receipts and daily revenue"),
    ("receipts:write", "Push receipts and close business days"),
    (
        "settings:read",
        "Read VAT rates, payment methods and categories",
    ),
    (
        "settings:write",
        "Create and update VAT rates, payment methods and categories",
    ),
    (
        "events:read",
        "Read the change feed, search by reference and the VAT return",
    ),
    (
        "bookings:write",
        "Record what a bookkeeping connector booked",
    ),
    (
        "webhooks:read",
        "Read webhook endpoints and their deliveries",
    ),
    (
        "webhooks:write",
        "Create, change, delete and retry webhook endpoints",
    ),
    ("settlements:read", "Read payouts and what they matched"),
    ("settlements:write", "Push payouts of payment providers"),
    (
        "ledger:read",
        "Read the ledger mapping and the journal entries of documents and days",
    ),
    ("ledger:write", "Map ledger roles to the company's accounts"),
    ("admin", "Onboard companies and clients"),
];

/// Who a client is, which decides the scopes it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// The platform operator: onboards companies and clients.
    Admin,
    /// A webshop or POS vendor: pushes a company's data and reads it back.
    Vendor,
    /// A bookkeeping connector: reads a company's data and records bookings.
    Connector,
}

impl ClientKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Admin => "admin",
            ClientKind::Vendor => "vendor",
            ClientKind::Connector => "connector",
        }
    }

    /// Parses the stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(ClientKind::Admin),
            "vendor" => Some(ClientKind::Vendor),
            "connector" => Some(ClientKind::Connector),
            _ => None,
        }
    }

    /// The scopes a client of this kind may hold; also its default scopes.
    pub fn allowed_scopes(self) -> Vec<&'static str> {
        SCOPES
            .iter()
            .map(|(scope, _)| *scope)
            .filter(|scope| match self {
                ClientKind::Admin => *scope == "admin",
                ClientKind::Vendor => {
                    !scope.starts_with("webhooks:")
                        && !scope.starts_with("ledger:")
                        && (scope.ends_with(":read") && *scope != "events:read"
                            || scope.ends_with(":write") && *scope != "bookings:write")
                }
                ClientKind::Connector => {
                    scope.ends_with(":read")
                        || *scope == "bookings:write"
                        || *scope == "webhooks:write"
                        || *scope == "ledger:write"
                }
            })
            .collect()
    }
}

/// Whether `scope` is one of [`SCOPES`].
pub fn is_known_scope(scope: &str) -> bool {
    SCOPES.iter().any(|(known, _)| *known == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_write_documents_and_connectors_read_and_book() {
        let vendor = ClientKind::Vendor.allowed_scopes();
        assert!(vendor.contains(&"orders:write") && vendor.contains(&"receipts:read"));
        assert!(!vendor.contains(&"bookings:write") && !vendor.contains(&"admin"));
        let connector = ClientKind::Connector.allowed_scopes();
        assert!(connector.contains(&"events:read") && connector.contains(&"bookings:write"));
        assert!(!connector.contains(&"orders:write"));
        assert!(connector.contains(&"webhooks:read") && connector.contains(&"webhooks:write"));
        assert!(!vendor.contains(&"webhooks:read") && !vendor.contains(&"webhooks:write"));
        assert!(connector.contains(&"ledger:read") && connector.contains(&"ledger:write"));
        assert!(vendor.contains(&"settlements:write") && vendor.contains(&"settlements:read"));
        assert!(connector.contains(&"settlements:read"));
        assert!(!connector.contains(&"settlements:write"));
        assert!(!vendor.contains(&"ledger:read") && !vendor.contains(&"ledger:write"));
        assert_eq!(ClientKind::Admin.allowed_scopes(), vec!["admin"]);
    }
}
