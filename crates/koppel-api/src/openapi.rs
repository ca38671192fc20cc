//! The OpenAPI document: metadata, the OAuth2 security scheme and shared schemas.

use utoipa::Modify;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi, Required};

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

/// Documents the `Idempotency-Key` header on every POST of the API (not the
/// token endpoint, which ignores it). The header is handled by middleware for
/// all of them at once, so it is added here rather than on each handler, and
/// a new POST route gets it without anyone remembering.
pub fn document_idempotency_key(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let Some(operation) = item.post.as_mut().filter(|_| !path.starts_with("/oauth")) else {
            continue;
        };
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the same key with the same body within 7 days replays the \
                 first answer (with `Idempotent-Replayed: true`); with another body it is a 400. \
                 1 to 255 printable ASCII characters, unique per client; see docs/limits.md.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[ -~]+$")),
            ))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(parameter.into());
    }
}
