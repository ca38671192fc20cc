//! P1 and P2: single orders and batches of 1000, through Koppel and as plain SQL.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::data::{Refs, order};
use crate::server::Api;
use crate::{Args, Row, baseline, closed_loop, id, log, order_path};

/// #20's target for P1: Koppel's rate as a share of plain SQL's.
const P1_TARGET: f64 = 0.75;

/// P1: single orders, one request or transaction each, `connections` at a time;
/// baseline and Koppel alternate twice so that a change in the machine's load hits
/// both sides alike.
pub async fn p1(args: &Args, api: &Api, pool: &PgPool, refs: &Refs) -> anyhow::Result<Row> {
    log("P1 single-order ingest");
    let phase = Duration::from_secs(args.phase_seconds);
    let warm_up = Duration::from_secs(1);
    let koppel_next = Arc::new(AtomicU64::new(0));
    let sql_next = Arc::new(AtomicU64::new(0));
    let koppel = |duration: Duration| {
        let api = api.clone();
        let refs = refs.clone();
        let path = order_path(&refs);
        closed_loop(args.connections, duration, &koppel_next, move |n| {
            let api = api.clone();
            let body = serde_json::to_vec(&order(&refs, "p1k", n).json(&refs));
            let path = path.clone();
            async move {
                let answer = api.post(&path, body?).await?;
                if answer.status != 201 {
                    bail!("order answered {}: {}", answer.status, answer.text());
                }
                Ok(())
            }
        })
    };
    let sql = |duration: Duration| {
        let pool = pool.clone();
        let refs = refs.clone();
        closed_loop(args.connections, duration, &sql_next, move |n| {
            let pool = pool.clone();
            let refs = refs.clone();
            async move {
                let o = order(&refs, "p1b", n);
                baseline::insert_orders(&pool, &refs, &[o]).await?;
                Ok(())
            }
        })
    };
    sql(warm_up).await?;
    koppel(warm_up).await?;
    let (mut k_count, mut k_time, mut b_count, mut b_time) = (0, Duration::ZERO, 0, Duration::ZERO);
    for _ in 0..2 {
        let (n, t, _) = sql(phase).await?;
        b_count += n;
        b_time += t;
        let (n, t, _) = koppel(phase).await?;
        k_count += n;
        k_time += t;
    }
    let k_rate = k_count as f64 / k_time.as_secs_f64();
    let b_rate = b_count as f64 / b_time.as_secs_f64();
    let ratio = k_rate / b_rate;
    Ok(Row {
        scenario: format!(
            "P1 single-order ingest, orders/s ({} conn)",
            args.connections
        ),
        koppel: format!("{k_rate:.0}"),
        baseline: format!("{b_rate:.0}"),
        ratio: format!("{:.0}%", ratio * 100.0),
        target: format!(">= {:.0}%", P1_TARGET * 100.0),
        pass: Some(ratio >= P1_TARGET),
    })
}

/// P2: batches of 1000 orders, one request or one transaction of multi-row inserts
/// each, alternating; answers the row and the ids Koppel gave its orders.
pub async fn p2(
    args: &Args,
    api: &Api,
    pool: &PgPool,
    refs: &Refs,
) -> anyhow::Result<(Row, Vec<Uuid>)> {
    log("P2 batch ingest");
    let path = format!("{}/batch", order_path(refs));
    let mut ids = Vec::new();
    let (mut k_time, mut b_time) = (Duration::ZERO, Duration::ZERO);
    let mut measured = 0u64;
    for batch in 0..=args.batches as u64 {
        let numbers = batch * 1000..(batch + 1) * 1000;
        let rows: Vec<_> = numbers.clone().map(|n| order(refs, "p2b", n)).collect();
        let started = Instant::now();
        baseline::insert_orders(pool, refs, &rows).await?;
        let b = started.elapsed();

        let orders: Vec<Value> = numbers.map(|n| order(refs, "p2k", n).json(refs)).collect();
        let body = serde_json::to_vec(&json!({ "orders": orders }))?;
        let started = Instant::now();
        let answer = api.post(&path, body).await?;
        let k = started.elapsed();
        if answer.status != 200 {
            bail!("batch answered {}: {}", answer.status, answer.text());
        }
        let items = answer.json()?;
        for item in items["data"].as_array().context("no data")? {
            if item["success"] != true {
                bail!("a batch item failed: {item}");
            }
            ids.push(id(item, "id")?);
        }
        // The first batch of each side warms caches and connections; it is not counted.
        if batch > 0 {
            k_time += k;
            b_time += b;
            measured += 1000;
        }
    }
    let k_rate = measured as f64 / k_time.as_secs_f64();
    let b_rate = measured as f64 / b_time.as_secs_f64();
    let ratio = k_rate / b_rate;
    Ok((
        Row {
            scenario: "P2 batch ingest (1000 a request), orders/s".to_owned(),
            koppel: format!("{k_rate:.0}"),
            baseline: format!("{b_rate:.0}"),
            ratio: format!("{:.0}%", ratio * 100.0),
            target: ">= 80%".to_owned(),
            pass: Some(ratio >= 0.8),
        },
        ids,
    ))
}
