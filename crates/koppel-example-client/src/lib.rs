//! A third-party client of Koppel, written as a vendor would write it: the
//! `oauth2` crate gets an access token with the client-credentials grant
//! (RFC 6749 §4.4, client authentication by HTTP Basic), and the same HTTP
//! client calls `GET /v1/companies` with it.
//!
//! It depends on no Koppel crate, so it doubles as a check that a standard
//! OAuth 2.0 library works against our token endpoint unchanged.

use anyhow::{Context, bail};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, ClientSecret, RequestTokenError, TokenResponse, TokenUrl, reqwest,
};

/// Where Koppel is and who is asking.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Koppel's base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
}

/// Gets an access token and answers the body of `GET /v1/companies`.
pub async fn list_companies(settings: &Settings) -> anyhow::Result<serde_json::Value> {
    let base = settings.base_url.trim_end_matches('/');
    // oauth2's advice: never follow redirects from a token endpoint, so a
    // misconfigured URL cannot send the credentials somewhere else.
    let http = reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the HTTP client")?;

    let oauth = BasicClient::new(ClientId::new(settings.client_id.clone()))
        .set_client_secret(ClientSecret::new(settings.client_secret.clone()))
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token")).context("the token URL")?)
        .set_auth_type(AuthType::BasicAuth);
    let token = oauth
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .map_err(|error| match error {
            // The server's RFC 6749 §5.2 answer says what is wrong; show it.
            RequestTokenError::ServerResponse(body) => anyhow::anyhow!(
                "the token request was refused: {}",
                serde_json::to_string(&body).unwrap_or_default()
            ),
            other => anyhow::Error::new(other).context("requesting a token"),
        })?;

    let response = http
        .get(format!("{base}/v1/companies"))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .context("calling GET /v1/companies")?;
    let status = response.status();
    let body = response.text().await.context("reading the answer")?;
    if !status.is_success() {
        // Every error is an RFC 9457 problem body; it is the useful part.
        bail!("GET /v1/companies answered {status}: {body}");
    }
    serde_json::from_str(&body).context("the answer is not JSON")
}
