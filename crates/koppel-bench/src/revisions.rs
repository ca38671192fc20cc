//! P4, revised: the revisions list of a day that late receipts revised, each revision with
//! its delta to the one before (#16), against the same kept revisions read with plain SQL.
//! The day is in the past, so every batch of receipts arrives late and adds a revision.

use anyhow::bail;
use chrono::NaiveDate;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::data::{Refs, receipt_on};
use crate::server::Api;
use crate::stats;
use crate::{Row, log};

/// The revised day: long past, so final, and every receipt for it late.
const REVISED_DAY: (i32, u32, u32) = (2025, 6, 2);

/// Receipts a batch sends; each batch is one revision.
const BATCH: u64 = 1000;

/// Loads `receipts` receipts onto the past day in batches (one revision each) and measures
/// the revisions list, p99 of 50 sequential reads.
pub async fn p4_revisions(
    api: &Api,
    pool: &PgPool,
    refs: &Refs,
    receipts: u64,
) -> anyhow::Result<Row> {
    log(&format!(
        "P4 revising a past day with {receipts} late receipts"
    ));
    let path = format!("/v1/companies/{}/receipts/batch", refs.company);
    let mut n = 0;
    while n < receipts {
        let end = (n + BATCH).min(receipts);
        let batch: Vec<Value> = (n..end)
            .map(|i| receipt_on(refs, i, REVISED_DAY, "late"))
            .collect();
        let answer = api
            .post(&path, serde_json::to_vec(&json!({ "receipts": batch }))?)
            .await?;
        if answer.status != 200 {
            bail!(
                "receipt batch answered {}: {}",
                answer.status,
                answer.text()
            );
        }
        n = end;
    }
    let day = NaiveDate::from_ymd_opt(REVISED_DAY.0, REVISED_DAY.1, REVISED_DAY.2)
        .ok_or_else(|| anyhow::anyhow!("bad day"))?;
    let uri = format!(
        "/v1/companies/{}/daily-revenue/{day}/revisions?limit=1000",
        refs.company
    );
    let revisions = receipts.div_ceil(BATCH) + 1;
    let first = api.get_ok(&uri).await?;
    let listed = first["data"].as_array().map_or(0, Vec::len) as u64;
    if listed != revisions {
        bail!("the day lists {listed} revisions, not {revisions}");
    }
    log("P4 revisions list");
    let (uri, company) = (&uri, refs.company);
    let (mut k, mut b) = stats::paired(
        50,
        move || api.expect_ok(uri),
        move || async move {
            let rows: Vec<(i32, Value)> = sqlx::query_as(
                "select revision, figures from daily_revenue_revisions
                  where company_id = $1 and location_key = '' and business_date = $2
                  order by revision",
            )
            .bind(company)
            .bind(day)
            .fetch_all(pool)
            .await?;
            if rows.len() as u64 != revisions {
                bail!("plain SQL reads {} revisions", rows.len());
            }
            Ok(())
        },
    )
    .await?;
    let (k99, b99) = (k.percentile_ms(99.0), b.percentile_ms(99.0));
    Ok(Row {
        scenario: format!(
            "P4 revisions list of a day revised {} times ({receipts} receipts), p99 of 50",
            revisions - 1
        ),
        koppel: format!("{k99:.2} ms"),
        baseline: format!("{b99:.2} ms"),
        ratio: format!("{:.2}x", k99 / b99),
        target: "<= 20 ms".to_owned(),
        pass: Some(k99 <= 20.0),
    })
}
