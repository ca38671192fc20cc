//! The OpenAPI document: metadata, the OAuth2 security scheme and shared schemas.

use utoipa::Modify;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi};

use crate::auth::scopes::SCOPES;

const DESCRIPTION: &str = "Koppel is one REST API that webshop platforms and POS (kassa) vendors \
integrate with once. Vendors push their merchants' customers, products, sales orders, receipts, \
VAT rates, payment methods and categories; Koppel checks every document against Dutch \
bookkeeping rules and stores it; bookkeeping connectors read it back.\n\n\
Authenticate with OAuth 2.0 client credentials at `/oauth/token`, then send \
`Authorization: Bearer <token>`. Every error is an RFC 9457 problem body \
(`application/problem+json`) with a stable `code` and the `request_id`; send \
`Accept-Language: nl` for Dutch texts.";

/// Fills in what the derive cannot: info, licence, the security scheme.
pub struct Document;

impl Modify for Document {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi.info = InfoBuilder::new()
            .title("Koppel API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(DESCRIPTION))
            .license(Some(
                LicenseBuilder::new()
                    .name("MIT OR Apache-2.0")
                    .identifier(Some("MIT OR Apache-2.0"))
                    .build(),
            ))
            .build();
        let scopes = Scopes::from_iter(SCOPES.iter().map(|(name, what)| (*name, *what)));
        let flow = Flow::ClientCredentials(ClientCredentials::new("/oauth/token", scopes));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "oauth2",
                SecurityScheme::OAuth2(OAuth2::with_description(
                    [flow],
                    "OAuth 2.0 client credentials (RFC 6749 §4.4)",
                )),
            );
    }
}
