//! `koppel-example-client`: prints the companies a client is granted.
//!
//! Configuration by environment, as a vendor's service would have it:
//! `KOPPEL_URL` (default `http://127.0.0.1:8080`), `KOPPEL_CLIENT_ID` and
//! `KOPPEL_CLIENT_SECRET` (as printed by `koppel dev` or `koppel client create`).

use std::process::ExitCode;

use koppel_example_client::{Settings, list_companies};

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match (
        required("KOPPEL_CLIENT_ID"),
        required("KOPPEL_CLIENT_SECRET"),
    ) {
        (Ok(client_id), Ok(client_secret)) => Settings {
            base_url: std::env::var("KOPPEL_URL")
                .unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned()),
            client_id,
            client_secret,
        },
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("koppel-example-client: {e}");
            return ExitCode::from(2);
        }
    };
    match list_companies(&settings).await {
        Ok(companies) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&companies).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("koppel-example-client: {error:#}");
            ExitCode::FAILURE
        }
    }
}
