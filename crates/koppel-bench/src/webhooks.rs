//! W1: how long an event takes from its commit to a webhook receiver on loopback, at a steady
//! 200 events a second, against the same events read by a plain SQL poller of the feed (a
//! query every 5 ms below the snapshot horizon, as `GET …/events` reads): the earliest any
//! push built on the feed could send them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use uuid::Uuid;

use crate::server::Api;
use crate::stats::Samples;
use crate::{Row, log, text};

/// Events a second the writer commits.
const RATE: u64 = 200;

/// When each event (by resource id) was seen.
type Seen = Arc<Mutex<HashMap<Uuid, Instant>>>;

/// Runs W1 for `seconds`: events written straight into the feed of `company` (each its own
/// transaction), a webhook endpoint of a connector subscribed to them.
pub async fn w1(
    admin: &Api,
    base: &str,
    pool: &PgPool,
    company: Uuid,
    seconds: u64,
) -> anyhow::Result<Row> {
    log(&format!("W1 webhook delivery lag at {RATE} events/s"));
    let delivered: Seen = Arc::default();
    let port = receive(Arc::clone(&delivered)).await?;
    let connector = admin
        .post_ok(
            "/v1/admin/clients",
            &json!({"name": "bench-connector", "kind": "connector", "company_ids": [company]}),
            201,
        )
        .await?;
    let connector = Api::login(
        base,
        &text(&connector, "client_id")?,
        &text(&connector, "client_secret")?,
    )
    .await?;
    connector
        .post_ok(
            &format!("/v1/companies/{company}/webhook-endpoints"),
            &json!({"url": format!("http://127.0.0.1:{port}/hook")}),
            201,
        )
        .await?;

    let polled: Seen = Arc::default();
    let poller = tokio::spawn(poll_feed(pool.clone(), company, Arc::clone(&polled)));

    let count = usize::try_from(RATE * seconds)?;
    let committed: Seen = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let mut writes = Vec::with_capacity(count);
    for _ in 0..count {
        tick.tick().await;
        let (pool, committed) = (pool.clone(), Arc::clone(&committed));
        writes.push(tokio::spawn(async move {
            let id = Uuid::new_v4();
            sqlx::query(
                "insert into events (company_id, type, resource, resource_id, version)
                 values ($1, 'customer.created', 'customers', $2, 1)",
            )
            .bind(company)
            .bind(id)
            .execute(&pool)
            .await?;
            committed.lock().unwrap().insert(id, Instant::now());
            anyhow::Ok(())
        }));
    }
    for write in writes {
        write.await??;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while delivered.lock().unwrap().len() < count || polled.lock().unwrap().len() < count {
        anyhow::ensure!(
            Instant::now() < deadline,
            "W1: {} of {count} delivered, {} polled after 60 s",
            delivered.lock().unwrap().len(),
            polled.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    poller.abort();

    let lags = |seen: &Seen| {
        let seen = seen.lock().unwrap();
        let mut samples = Samples::with_capacity(count);
        for (id, at) in committed.lock().unwrap().iter() {
            // An arrival before the writer saw its commit answered counts as no lag.
            samples.record(seen[id].saturating_duration_since(*at));
        }
        samples
    };
    let (mut koppel, mut baseline) = (lags(&delivered), lags(&polled));
    let (koppel_p99, baseline_p99) = (koppel.percentile_ms(99.0), baseline.percentile_ms(99.0));
    log(&format!(
        "W1 p50 {:.1} ms, p99 {koppel_p99:.1} ms, max {:.1} ms; feed poll p99 {baseline_p99:.1} ms",
        koppel.percentile_ms(50.0),
        koppel.percentile_ms(100.0)
    ));
    Ok(Row {
        scenario: format!("W1 webhook delivery lag, p99 at {RATE} events/s ({count})"),
        koppel: format!("{koppel_p99:.1} ms"),
        baseline: format!("{baseline_p99:.1} ms"),
        ratio: format!("{:.1}x", koppel_p99 / baseline_p99.max(0.001)),
        target: "<= 1000 ms".to_owned(),
        pass: Some(koppel_p99 <= 1000.0),
    })
}

/// A webhook receiver on a free loopback port: answers 204 and notes when each event's
/// resource arrived (first arrival only).
async fn receive(seen: Seen) -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let arrived = Instant::now();
                    if let Some(id) = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|e| e["resource_id"].as_str()?.parse::<Uuid>().ok())
                    {
                        seen.lock().unwrap().entry(id).or_insert(arrived);
                    }
                    if write
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// The baseline: the company's feed read every 5 ms below the snapshot horizon, noting when
/// each event first became readable.
async fn poll_feed(pool: PgPool, company: Uuid, seen: Seen) -> anyhow::Result<()> {
    let mut after: (String, i64) = ("0".to_owned(), 0);
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    loop {
        tick.tick().await;
        let rows: Vec<(String, i64, Uuid)> = sqlx::query_as(
            "select txid::text, seq, resource_id from events
             where company_id = $1 and (txid, seq) > ($2::xid8, $3)
               and txid < pg_snapshot_xmin(pg_current_snapshot())
             order by txid, seq limit 1000",
        )
        .bind(company)
        .bind(&after.0)
        .bind(after.1)
        .fetch_all(&pool)
        .await?;
        let now = Instant::now();
        if let Some((txid, seq, _)) = rows.last() {
            after = (txid.clone(), *seq);
        }
        let mut seen = seen.lock().unwrap();
        for (_, _, id) in rows {
            seen.entry(id).or_insert(now);
        }
    }
}
