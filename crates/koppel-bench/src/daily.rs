//! P4: the daily revenue of a day of receipts, through Koppel and as a plain SQL aggregate.

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::data::{self, Refs, receipt};
use crate::server::Api;
use crate::stats;
use crate::{Args, Row, baseline, log};

/// P4: the daily revenue of a day with `receipts` receipts, sent through Koppel's batch
/// endpoint, read back through Koppel and computed by a hand-written SQL aggregate.
pub async fn p4(args: &Args, api: &Api, pool: &PgPool, refs: &Refs) -> anyhow::Result<Row> {
    log(&format!("P4 loading {} receipts", args.receipts));
    let path = format!("/v1/companies/{}/receipts/batch", refs.company);
    let mut n = 0;
    while n < args.receipts {
        let end = (n + 1000).min(args.receipts);
        let receipts: Vec<Value> = (n..end).map(|i| receipt(refs, i)).collect();
        let answer = api
            .post(&path, serde_json::to_vec(&json!({ "receipts": receipts }))?)
            .await?;
        if answer.status != 200 {
            bail!(
                "receipt batch answered {}: {}",
                answer.status,
                answer.text()
            );
        }
        if let Some(failed) = answer.json()?["data"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["success"] != true))
        {
            bail!("a receipt failed: {failed}");
        }
        n = end;
    }
    let (y, m, d) = data::RECEIPT_DAY;
    let day = NaiveDate::from_ymd_opt(y, m, d).context("bad day")?;
    let day_path = format!("/v1/companies/{}/daily-revenue/{day}", refs.company);
    let first = api.get_ok(&day_path).await?;
    if first["receipt_count"] != json!(args.receipts) {
        bail!("the day counts {} receipts", first["receipt_count"]);
    }
    log("P4 daily revenue");
    let expected = i64::try_from(args.receipts)?;
    let (day_path, company) = (&day_path, refs.company);
    let (mut k, mut b) = stats::paired(
        50,
        move || api.expect_ok(day_path),
        move || baseline::daily_revenue_of(pool, company, day, expected),
    )
    .await?;
    let (k99, b99) = (k.percentile_ms(99.0), b.percentile_ms(99.0));
    let ratio = k99 / b99;
    Ok(Row {
        scenario: format!("P4 daily revenue of {} receipts, p99 of 50", args.receipts),
        koppel: format!("{k99:.2} ms"),
        baseline: format!("{b99:.2} ms"),
        ratio: format!("{ratio:.2}x"),
        target: "<= 20 ms, <= 1.5x".to_owned(),
        pass: Some(k99 <= 20.0 && ratio <= 1.5),
    })
}
