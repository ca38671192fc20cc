//! S1: a payout of 5,000 transactions pushed against the million orders of P3's listing
//! (#18): stored, every transaction matched to its order's payment and the payout answered
//! with its matches, against the plain SQL a careful engineer would write for the same rows
//! (one `unnest` insert and one matching `update … from` join on the payment references).

use std::time::Instant;

use anyhow::bail;
use rand::Rng as _;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::server::Api;
use crate::{Row, log};

/// Transactions in each payout.
const TRANSACTIONS: usize = 5_000;

/// Payouts pushed each side; the worst counts.
const ROUNDS: usize = 3;

/// Runs S1 on `company`, whose orders `bulk-1` … are P3's bulk load.
pub async fn s1(api: &Api, pool: &PgPool, company: Uuid) -> anyhow::Result<Row> {
    let orders: i64 = sqlx::query_scalar("select count(*) from orders where company_id = $1")
        .bind(company)
        .fetch_one(pool)
        .await?;
    log(&format!(
        "S1 payouts of {TRANSACTIONS} transactions against {orders} orders"
    ));
    if orders < 1 {
        bail!("no orders to match");
    }
    sqlx::query(
        "create table if not exists bench_payout_transactions (
            payout text not null, position int not null, reference text not null,
            gross numeric(20, 2) not null, net numeric(20, 2) not null,
            order_id uuid, payment_index int, primary key (payout, position))",
    )
    .execute(pool)
    .await?;
    let path = format!("/v1/companies/{company}/settlements");
    let (mut koppel_worst, mut sql_worst) = (0f64, 0f64);
    for round in 0..ROUNDS {
        let references: Vec<String> = (0..TRANSACTIONS)
            .map(|_| format!("tr_bulk_{}", rand::rng().random_range(1..=orders)))
            .collect();
        let transactions: Vec<Value> = references
            .iter()
            .map(|r| json!({"type": "payment", "provider_reference": r, "gross": "12.10", "net": "12.10"}))
            .collect();
        let amount = Decimal::new(1210, 2) * Decimal::from(TRANSACTIONS);
        let body = json!({"external_id": format!("po_bench_{round}"), "provider": "mollie",
            "paid_out_at": "2026-03-30T06:00:00+02:00", "currency": "EUR",
            "amount": amount.to_string(), "transactions": transactions});
        let bytes = serde_json::to_vec(&body)?;

        let started = Instant::now();
        let answer = api.post(&path, bytes).await?;
        let koppel = started.elapsed().as_secs_f64() * 1000.0;
        if answer.status != 201 {
            bail!("the payout answered {}: {}", answer.status, answer.text());
        }
        let answer = answer.json()?;
        let unmatched = answer["transactions"]
            .as_array()
            .map_or(0, |t| t.iter().filter(|t| t["match"].is_null()).count());
        if unmatched != 0 || answer["unmatched_total"] != "0.00" {
            bail!("{unmatched} transactions were not matched");
        }

        let started = Instant::now();
        let mut tx = pool.begin().await?;
        let payout = format!("sql_{round}");
        let positions: Vec<i32> = (0..TRANSACTIONS).map(|i| i as i32).collect();
        let gross = vec![Decimal::new(1210, 2); TRANSACTIONS];
        sqlx::query(
            "insert into bench_payout_transactions (payout, position, reference, gross, net)
             select $1, * from unnest($2::int[], $3::text[], $4::numeric[], $4::numeric[])",
        )
        .bind(&payout)
        .bind(&positions)
        .bind(&references)
        .bind(&gross)
        .execute(&mut *tx)
        .await?;
        let matched = sqlx::query(
            "update bench_payout_transactions t
                set order_id = p.order_id, payment_index = p.position
               from order_payments p
              where t.payout = $1 and p.company_id = $2 and p.reference = t.reference",
        )
        .bind(&payout)
        .bind(company)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        let sql = started.elapsed().as_secs_f64() * 1000.0;
        if matched != TRANSACTIONS as u64 {
            bail!("plain SQL matched {matched}");
        }
        log(&format!(
            "S1 round {round}: Koppel {koppel:.0} ms, SQL {sql:.0} ms"
        ));
        koppel_worst = koppel_worst.max(koppel);
        sql_worst = sql_worst.max(sql);
    }
    sqlx::query("drop table bench_payout_transactions")
        .execute(pool)
        .await?;
    Ok(Row {
        scenario: format!(
            "S1 payout of {TRANSACTIONS} transactions vs {orders} orders, stored and matched (worst of {ROUNDS})"
        ),
        koppel: format!("{koppel_worst:.0} ms"),
        baseline: format!("{sql_worst:.0} ms"),
        ratio: format!("{:.2}x", koppel_worst / sql_worst),
        target: "<= 2000 ms".to_owned(),
        pass: Some(koppel_worst <= 2000.0),
    })
}
