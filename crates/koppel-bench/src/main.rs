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
mod daily;
mod data;
mod ingest;
mod journals;
mod layout;
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
use chrono::{NaiveDate, Utc};
use clap::Parser;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::data::Refs;
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
    /// planning and execution time after P1, P2 and P3 get by id: where the database's
    /// share of a request goes. Off by default: the statistics cost a little themselves.
    #[arg(long)]
    statement_stats: bool,
    /// Runs PostgreSQL on a core of its own (core 0) and Koppel and the load generator on the
    /// others, with `taskset`: the layout of production, where the database has its own
    /// machine. Without it all three share every core.
    #[arg(long)]
    database_apart: bool,
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
    if args.database_apart {
        // Before the runtime starts a thread: every thread and child inherits the cores.
        match layout::database_apart(cluster.data_dir()) {
            Ok(layout) => eprintln!("{layout}"),
            Err(e) => {
                eprintln!("koppel-bench: {e:#}");
                return ExitCode::from(2);
            }
        }
    }
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
        rows.push(ingest::p1(args, &api, &pool, &refs).await?);
        if stats {
            stats::print_statements(&pool, "P1").await?;
            stats::reset_statements(&pool).await?;
        }
        let p2_row;
        (p2_row, koppel_ids) = ingest::p2(args, &api, &pool, &refs).await?;
        rows.push(p2_row);
        if stats {
            stats::print_statements(&pool, "P2").await?;
            stats::reset_statements(&pool).await?;
        }
        rows.extend(reads::p3_get(args, &api, &pool, &refs, &koppel_ids).await?);
        if stats {
            stats::print_statements(&pool, "P3 get by id").await?;
        }
    }
    if !args.webhooks_only && !args.hot_paths_only {
        rows.push(daily::p4(args, &api, &pool, &refs).await?);
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
        rows.push(reads::p3_pages(args, &api, &pool, &archive_refs).await?);
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
