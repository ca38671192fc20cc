//! J1: journals (#17). The journal of P4's day (20,000 receipts), which must read the day's
//! figures and never its receipts, against the plain SQL aggregate over those receipts; and
//! an order's journal against reading the same order through Koppel, interleaved request by
//! request on the same random orders so that both see the same machine.

use std::time::Instant;

use anyhow::bail;
use chrono::NaiveDate;
use rand::Rng as _;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::server::Api;
use crate::stats::{self, Samples};
use crate::{Row, baseline, log, text};

/// Requests of each kind that are measured, after `WARM_UP` that are not.
const DAY_ROUNDS: usize = 50;
const ORDER_ROUNDS: usize = 400;
const WARM_UP: usize = 20;

/// Runs J1 as a connector of `company` (made through `admin`).
pub async fn j1(
    admin: &Api,
    base: &str,
    pool: &PgPool,
    company: Uuid,
    day: NaiveDate,
    receipts: u64,
    orders: &[Uuid],
) -> anyhow::Result<Vec<Row>> {
    log("J1 journals");
    if orders.is_empty() {
        bail!("no orders to journal");
    }
    let connector = admin
        .post_ok(
            "/v1/admin/clients",
            &json!({"name": "bench-journals", "kind": "connector", "company_ids": [company],
                    "rate_limit": {"per_second": 1_000_000, "burst": 1_000_000}}),
            201,
        )
        .await?;
    let api = Api::login(
        base,
        &text(&connector, "client_id")?,
        &text(&connector, "client_secret")?,
    )
    .await?;

    let day_path = format!("/v1/companies/{company}/daily-revenue/{day}/journal");
    let first = api.get_ok(&day_path).await?;
    if first["total_debit"] != first["total_credit"] || first["lines"].as_array().is_none() {
        bail!("the day's journal does not balance: {first}");
    }
    let expected = i64::try_from(receipts)?;
    let (day_path, api) = (&day_path, &api);
    let (mut k, mut b) = stats::paired(
        DAY_ROUNDS,
        move || api.expect_ok(day_path),
        move || baseline::daily_revenue_of(pool, company, day, expected),
    )
    .await?;
    let (k99, b99) = (k.percentile_ms(99.0), b.percentile_ms(99.0));
    let day_row = Row {
        scenario: format!("J1 journal of a day of {receipts} receipts, p99 of {DAY_ROUNDS}"),
        koppel: format!("{k99:.2} ms"),
        baseline: format!("{b99:.2} ms"),
        ratio: format!("{:.2}x", k99 / b99),
        target: "<= 20 ms".to_owned(),
        pass: Some(k99 <= 20.0),
    };

    let (mut journal, mut read) = (Samples::default(), Samples::default());
    for i in 0..ORDER_ROUNDS + WARM_UP {
        let id = orders[rand::rng().random_range(0..orders.len())];
        let order = format!("/v1/companies/{company}/orders/{id}");
        let journal_path = format!("{order}/journal");
        // Alternate which goes first, so neither always meets a warmer cache.
        let (first, second) = if i % 2 == 0 {
            (&order, &journal_path)
        } else {
            (&journal_path, &order)
        };
        for path in [first, second] {
            let started = Instant::now();
            let answer = api.get(path).await?;
            let took = started.elapsed();
            if answer.status != 200 {
                bail!("{path} answered {}: {}", answer.status, answer.text());
            }
            if i >= WARM_UP {
                if path.ends_with("/journal") {
                    journal.record(took);
                } else {
                    read.record(took);
                }
            }
        }
    }
    let (j50, r50) = (journal.percentile_ms(50.0), read.percentile_ms(50.0));
    let (j99, r99) = (journal.percentile_ms(99.0), read.percentile_ms(99.0));
    let order_row = Row {
        scenario: format!(
            "J1 journal of an order vs reading it, median of {ORDER_ROUNDS} (p99 {j99:.2} vs {r99:.2} ms)"
        ),
        koppel: format!("{j50:.2} ms"),
        baseline: format!("{r50:.2} ms"),
        ratio: format!("{:.2}x", j50 / r50),
        target: "<= 1.5x".to_owned(),
        pass: Some(j50 / r50 <= 1.5),
    };
    Ok(vec![day_row, order_row])
}
