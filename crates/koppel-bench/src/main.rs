//! `koppel-bench`: Koppel against plain SQL on the same PostgreSQL, in one run.
//!
//! It starts a durable throwaway PostgreSQL (fsync on), creates the companies and an
//! admin client with the `koppel` CLI, starts `koppel serve` as a child on a free
//! loopback port, creates a vendor client without a practical rate limit through the
//! admin API, and then runs every scenario of issue 7 twice over: once through Koppel's
//! HTTP API and once as hand-written, prepared SQL writing or reading the same rows. It
//! prints one table and exits 0 when every row passes, 1 when one fails.
//!
//! Every phase is bounded by a request count or a duration, and the whole run by
//! [`RUN_LIMIT`], so it always stops by itself.

mod baseline;
mod data;
mod journals;
mod reads;
mod revisions;
mod server;
mod settlements;
mod stats;
mod webhooks;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeZone as _, Utc};
use clap::Parser;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::data::{Refs, order, receipt};
use crate::server::{Api, Server, cli, signing_key};
use crate::stats::Samples;

/// The whole run stops with an error past this, whatever it was doing.
const RUN_LIMIT: Duration = Duration::from_secs(14 * 60);

/// The bulk load of the period listing stops adding orders past this.
const BULK_LIMIT: Duration = Duration::from_secs(300);

/// Koppel against plain SQL on the same PostgreSQL; prints one table.
#[derive(Debug, Parser)]
struct Args {
    /// The `koppel` binary to benchmark (a release build).
    #[arg(long)]
    koppel: PathBuf,
    /// Where `koppel serve` writes its log.
    #[arg(long, default_value = "koppel-bench-serve.log")]
    log: PathBuf,
    /// Concurrent connections of the closed-loop phases (HTTP and SQL alike).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds of each measured throughput phase; each side runs two.
    #[arg(long, default_value_t = 5)]
    phase_seconds: u64,
    /// Batches of 1000 orders each side writes in P2 (after one unmeasured each). Ten, not
    /// fewer: with five, one slow fsync moved the ratio by four points from run to run.
    #[arg(long, default_value_t = 10)]
    batches: usize,
    /// Receipts on the day of P4.
    #[arg(long, default_value_t = 20_000)]
    receipts: u64,
    /// Orders in the period listing of P3.
    #[arg(long, default_value_t = 1_000_000)]
    bulk_orders: i64,
    /// Runs only W1 (webhook delivery lag) and P5, for a quick look.
    #[arg(long)]
    webhooks_only: bool,
    /// Runs only P1, P2, P3 get by id and P5 (about a minute and a half after the build):
    /// the rows of the request path, for alternating runs of two builds.
    #[arg(long, conflicts_with = "webhooks_only")]
    hot_paths_only: bool,
    /// An environment variable for `koppel serve` (`NAME=VALUE`, repeatable), to try a
    /// setting without a rebuild, e.g. `TOKIO_WORKER_THREADS=1`.
    #[arg(long, value_parser = parse_env)]
    koppel_env: Vec<(String, String)>,
    /// Loads `pg_stat_statements` (with planning times) and prints each statement's calls,
    /// planning and execution time after P1 and after P3 get by id: where the database's
    /// share of a request goes. Off by default: the statistics cost a little themselves.
    #[arg(long)]
    statement_stats: bool,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}

/// One row of the table.
struct Row {
    scenario: String,
    koppel: String,
    baseline: String,
    ratio: String,
    target: String,
    /// `None` for a row that only informs.
    pass: Option<bool>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    eprintln!("starting a durable PostgreSQL (fsync on)");
    let settings = if args.statement_stats {
        vec![
            "shared_preload_libraries=pg_stat_statements".to_owned(),
            "pg_stat_statements.track_planning=on".to_owned(),
        ]
    } else {
        Vec::new()
    };
    let cluster = match koppel_pglocal::Cluster::start(koppel_pglocal::Options {
        durable: true,
        max_connections: 200,
        settings,
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("koppel-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("koppel-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        tokio::time::timeout(RUN_LIMIT, run(&args, &cluster))
            .await
            .unwrap_or_else(|_| bail!("the run took longer than {RUN_LIMIT:?}"))
    });
    // The server child dies with `run`'s guard; the cluster is removed on drop.
    drop(runtime);
    drop(cluster);
    match result {
        Ok(rows) => {
            print_table(&rows);
            if rows.iter().all(|r| r.pass != Some(false)) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("koppel-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn log(message: &str) {
    eprintln!("[{}] {message}", Utc::now().format("%H:%M:%S"));
}

fn id(value: &Value, field: &str) -> anyhow::Result<Uuid> {
    let text = value[field]
        .as_str()
        .with_context(|| format!("no {field} in {value}"))?;
    Ok(Uuid::parse_str(text)?)
}

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    Ok(value[field]
        .as_str()
        .with_context(|| format!("no {field} in {value}"))?
        .to_owned())
}

async fn run(args: &Args, cluster: &koppel_pglocal::Cluster) -> anyhow::Result<Vec<Row>> {
    let admin_pool = PgPool::connect(&cluster.url("postgres")).await?;
    sqlx::query("create database koppel")
        .execute(&admin_pool)
        .await?;
    admin_pool.close().await;
    let url = cluster.url("koppel");
    let koppel = args.koppel.as_path();

    // The CLI applies the migrations before it creates anything, so the server below
    // starts with them already applied, as start-up is measured.
    log("creating companies and an admin client with the koppel CLI");
    let main_company = id(
        &cli(
            koppel,
            &url,
            &["company", "create", "--name", "Webwinkel B.V."],
        )?,
        "id",
    )?;
    let archive = id(
        &cli(
            koppel,
            &url,
            &["company", "create", "--name", "Archief B.V."],
        )?,
        "id",
    )?;
    let admin = cli(
        koppel,
        &url,
        &[
            "client",
            "create",
            "--kind",
            "admin",
            "--name",
            "bench-admin",
        ],
    )?;

    // Start-up is measured three times; the last server stays for the run.
    let key = signing_key();
    let mut startups = Vec::new();
    let mut server = None;
    for _ in 0..3 {
        let (s, took) = Server::start(koppel, &url, &key, &args.log, &args.koppel_env).await?;
        startups.push(took);
        server = Some(s);
    }
    let server = server.context("no server")?;
    log(&format!(
        "koppel serve ready at {} (start-ups: {startups:?})",
        server.base
    ));

    let admin_api = Api::login(
        &server.base,
        &text(&admin, "client_id")?,
        &text(&admin, "client_secret")?,
    )
    .await?;
    // A limit far above what one machine can send, so that no request is throttled.
    let vendor = admin_api
        .post_ok(
            "/v1/admin/clients",
            &json!({"name": "bench-vendor", "kind": "vendor",
                    "company_ids": [main_company, archive],
                    "rate_limit": {"per_second": 1_000_000, "burst": 1_000_000}}),
            201,
        )
        .await?;
    let api = Api::login(
        &server.base,
        &text(&vendor, "client_id")?,
        &text(&vendor, "client_secret")?,
    )
    .await?;
    let refs = settings(&api, main_company).await?;
    let archive_refs = settings(&api, archive).await?;

    // The baseline's connections are never pinged before use: the fewest round
    // trips plain SQL can take (Koppel pings only a connection idle for a second).
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(args.connections).unwrap_or(16) + 4)
        .test_before_acquire(false)
        .connect(&url)
        .await?;

    let mut rows = Vec::new();
    let mut koppel_ids = Vec::new();
    if !args.webhooks_only {
        let stats = args.statement_stats;
        if stats {
            sqlx::query("create extension pg_stat_statements")
                .execute(&pool)
                .await?;
            stats::reset_statements(&pool).await?;
        }
        rows.push(p1(args, &api, &pool, &refs).await?);
        if stats {
            stats::print_statements(&pool, "P1").await?;
        }
        let p2_row;
        (p2_row, koppel_ids) = p2(args, &api, &pool, &refs).await?;
        rows.push(p2_row);
        if stats {
            stats::reset_statements(&pool).await?;
        }
        rows.extend(reads::p3_get(args, &api, &pool, &refs, &koppel_ids).await?);
        if stats {
            stats::print_statements(&pool, "P3 get by id").await?;
        }
    }
    if !args.webhooks_only && !args.hot_paths_only {
        rows.push(p4(args, &api, &pool, &refs).await?);
        let (y, m, d) = data::RECEIPT_DAY;
        let day = NaiveDate::from_ymd_opt(y, m, d).context("bad day")?;
        rows.extend(
            journals::j1(
                &admin_api,
                &server.base,
                &pool,
                refs.company,
                day,
                args.receipts,
                &koppel_ids,
            )
            .await?,
        );
        rows.push(revisions::p4_revisions(&api, &pool, &refs, args.receipts / 4).await?);
        rows.push(p3_pages(args, &api, &pool, &archive_refs).await?);
        rows.push(settlements::s1(&api, &pool, archive_refs.company).await?);
    }
    // A company of its own, so the other scenarios' events are not in its feed.
    if !args.hot_paths_only {
        let hooked = id(
            &cli(koppel, &url, &["company", "create", "--name", "Haak B.V."])?,
            "id",
        )?;
        rows.push(
            webhooks::w1(
                &admin_api,
                &server.base,
                &pool,
                hooked,
                args.phase_seconds * 2,
            )
            .await?,
        );
    }

    let startup_ms = startups
        .iter()
        .map(Duration::as_secs_f64)
        .fold(0.0, f64::max)
        * 1000.0;
    rows.push(Row {
        scenario: "P5 start-up to ready (worst of 3)".to_owned(),
        koppel: format!("{startup_ms:.0} ms"),
        baseline: "-".to_owned(),
        ratio: "-".to_owned(),
        target: "<= 1000 ms".to_owned(),
        pass: Some(startup_ms <= 1000.0),
    });
    let rss = server.peak_rss_mb()?;
    rows.push(Row {
        scenario: "P5 peak RSS of koppel serve (VmHWM)".to_owned(),
        koppel: format!("{rss:.1} MB"),
        baseline: "-".to_owned(),
        ratio: "-".to_owned(),
        target: "<= 150 MB".to_owned(),
        pass: Some(rss <= 150.0),
    });
    drop(server);
    pool.close().await;
    Ok(rows)
}

/// Creates what the documents name (payment methods, categories, a customer, products)
/// and finds the Dutch standard VAT rate every company starts with.
async fn settings(api: &Api, company: Uuid) -> anyhow::Result<Refs> {
    let base = format!("/v1/companies/{company}");
    let created = |v: Value| id(&v, "id");
    let method = created(
        api.post_ok(
            &format!("{base}/payment-methods"),
            &json!({"external_id": "ideal", "name": "iDEAL", "kind": "ideal"}),
            201,
        )
        .await?,
    )?;
    let cash = created(
        api.post_ok(
            &format!("{base}/payment-methods"),
            &json!({"external_id": "cash", "name": "Contant", "kind": "cash"}),
            201,
        )
        .await?,
    )?;
    let category = created(
        api.post_ok(
            &format!("{base}/categories"),
            &json!({"external_id": "food", "name": "Eten"}),
            201,
        )
        .await?,
    )?;
    let drinks = created(
        api.post_ok(
            &format!("{base}/categories"),
            &json!({"external_id": "drinks", "name": "Dranken"}),
            201,
        )
        .await?,
    )?;
    let customer = created(
        api.post_ok(
            &format!("{base}/customers"),
            &json!({"external_id": "c-1", "name": "Jan Jansen", "email": "jan@example.nl"}),
            201,
        )
        .await?,
    )?;
    let mut products = Vec::new();
    for i in 0..5 {
        let sku = format!("SKU-{i}");
        let product = created(
            api.post_ok(
                &format!("{base}/products"),
                &json!({"external_id": sku, "sku": sku, "name": format!("Artikel {i}")}),
                201,
            )
            .await?,
        )?;
        products.push((product, sku));
    }
    let rates = api.get_ok(&format!("{base}/vat-rates")).await?;
    let standard = rates["data"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["external_id"] == "nl-standard"))
        .context("no nl-standard VAT rate")?;
    Ok(Refs {
        company,
        standard_rate: id(standard, "id")?,
        category,
        drinks,
        method,
        cash,
        customer,
        products,
    })
}

/// Runs `work(n)` on `connections` concurrent workers until `duration` has passed, `n`
/// counting up from `next`; answers how many finished and how long it took.
async fn closed_loop<F, Fut>(
    connections: usize,
    duration: Duration,
    next: &Arc<AtomicU64>,
    work: F,
) -> anyhow::Result<(u64, Duration, Samples)>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let work = Arc::clone(&work);
        let next = Arc::clone(next);
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::with_capacity(4096);
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                work(n).await?;
                samples.record(sent.elapsed());
            }
            anyhow::Ok(samples)
        }));
    }
    let mut all = Samples::default();
    for w in workers {
        all.merge(w.await??);
    }
    let took = started.elapsed();
    Ok((all.len() as u64, took, all))
}

/// Starts `work(n)` at `rate` a second for `duration` whether or not earlier ones have
/// answered (open loop), and records each latency from the moment it was started. The
/// dispatcher never waits for an answer, so a slow answer cannot hold back the next
/// request and hide its own delay (no coordinated omission). `n` counts up from `first`;
/// the latencies are answered in the order of `n`.
async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    first: u64,
    work: F,
) -> anyhow::Result<Vec<Duration>>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let count = (rate * duration.as_secs_f64()) as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = tokio::time::Instant::now();
    let mut running = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for n in 0..count {
        let at = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(at).await;
        let fut = work(first + n);
        running.push(tokio::spawn(async move {
            let sent = Instant::now();
            fut.await?;
            anyhow::Ok(sent.elapsed())
        }));
    }
    let mut each = Vec::with_capacity(running.len());
    for r in running {
        each.push(r.await??);
    }
    Ok(each)
}

fn order_path(refs: &Refs) -> String {
    format!("/v1/companies/{}/orders", refs.company)
}

/// P1: single orders, one request or transaction each, `connections` at a time;
/// baseline and Koppel alternate twice so that a change in the machine's load hits
/// both sides alike.
async fn p1(args: &Args, api: &Api, pool: &PgPool, refs: &Refs) -> anyhow::Result<Row> {
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
        target: ">= 75%".to_owned(),
        pass: Some(ratio >= 0.75),
    })
}

/// P2: batches of 1000 orders, one request or one transaction of multi-row inserts
/// each, alternating; answers the row and the ids Koppel gave its orders.
async fn p2(
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

/// P4: the daily revenue of a day with `receipts` receipts, sent through Koppel's batch
/// endpoint, read back through Koppel and computed by a hand-written SQL aggregate.
async fn p4(args: &Args, api: &Api, pool: &PgPool, refs: &Refs) -> anyhow::Result<Row> {
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
    let (mut k, mut b) = (Samples::default(), Samples::default());
    for i in 0..55 {
        let started = Instant::now();
        let answer = api.get(&day_path).await?;
        let kt = started.elapsed();
        if answer.status != 200 {
            bail!("daily revenue answered {}", answer.status);
        }
        let started = Instant::now();
        let count = baseline::daily_revenue(pool, refs.company, day).await?;
        let bt = started.elapsed();
        if count != i64::try_from(args.receipts)? {
            bail!("the aggregate counts {count} receipts");
        }
        // The first five of each warm up caches.
        if i >= 5 {
            k.record(kt);
            b.record(bt);
        }
    }
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

/// P3: a period listing over `bulk_orders` orders, loaded with plain SQL: the median
/// time of page 1000 against page 1 (100 orders a page).
async fn p3_pages(args: &Args, api: &Api, pool: &PgPool, refs: &Refs) -> anyhow::Result<Row> {
    log(&format!(
        "P3 loading {} orders with plain SQL",
        args.bulk_orders
    ));
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .context("bad start")?;
    let started = Instant::now();
    let chunk = 100_000;
    let mut loaded = 0;
    while loaded < args.bulk_orders && started.elapsed() < BULK_LIMIT {
        let count = chunk.min(args.bulk_orders - loaded);
        baseline::bulk_orders(
            pool,
            refs.company,
            refs.standard_rate,
            refs.method,
            start,
            loaded + 1,
            count,
        )
        .await?;
        loaded += count;
        log(&format!("  {loaded} orders"));
    }
    // Autovacuum would get there on its own after a million inserts; the benchmark
    // does not wait for it.
    sqlx::query(
        "vacuum (analyze) orders, order_versions, order_lines, order_costs, order_payments,
                order_vat_breakdown",
    )
    .execute(pool)
    .await?;
    if loaded < 100_000 {
        bail!("only {loaded} orders loaded; page 1000 needs 100,000");
    }
    let list = format!(
        "/v1/companies/{}/orders?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        refs.company
    );
    // Walk to page 1000 of 100: 99 pages of 1000, then 9 of 100.
    let mut cursor = String::new();
    for (pages, limit) in [(99, 1000), (9, 100)] {
        for _ in 0..pages {
            let page = api.get_ok(&format!("{list}&limit={limit}{cursor}")).await?;
            cursor = format!("&cursor={}", text(&page, "next_cursor")?);
        }
    }
    let first = format!("{list}&limit=100");
    let deep = format!("{list}&limit=100{cursor}");
    let (mut p1, mut p1000) = (Samples::default(), Samples::default());
    for i in 0..35 {
        for (path, samples) in [(&first, &mut p1), (&deep, &mut p1000)] {
            let started = Instant::now();
            let answer = api.get(path).await?;
            let took = started.elapsed();
            if answer.status != 200 {
                bail!("list answered {}", answer.status);
            }
            if i >= 5 {
                samples.record(took);
            }
        }
    }
    let (m1, m1000) = (p1.percentile_ms(50.0), p1000.percentile_ms(50.0));
    let ratio = m1000 / m1;
    Ok(Row {
        scenario: format!("P3 period list of {loaded}: page 1000 vs page 1, median"),
        koppel: format!("{m1000:.2} ms"),
        baseline: format!("{m1:.2} ms"),
        ratio: format!("{ratio:.2}x"),
        target: "0.8x-1.2x".to_owned(),
        pass: Some((0.8..=1.2).contains(&ratio)),
    })
}

fn print_table(rows: &[Row]) {
    let header = [
        "scenario", "Koppel", "baseline", "ratio", "target", "result",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                r.koppel.clone(),
                r.baseline.clone(),
                r.ratio.clone(),
                r.target.clone(),
                match r.pass {
                    Some(true) => "pass",
                    Some(false) => "FAIL",
                    None => "-",
                }
                .to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    println!("{}", line(&header.map(str::to_owned)));
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in &cells {
        println!("{}", line(row));
    }
}
