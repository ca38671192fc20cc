//! Latency samples and their percentiles.
//!
//! Every request count in the benchmark is bounded (tens of thousands at most), so
//! keeping every sample and sorting once is exact and costs less than a megabyte; an
//! HDR histogram would only add a dependency and a rounding error.

use std::future::Future;
use std::time::{Duration, Instant};

/// Every latency of one measurement.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    nanos: Vec<u64>,
    sorted: bool,
}

impl Samples {
    /// An empty set with room for `n` samples.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            nanos: Vec::with_capacity(n),
            sorted: true,
        }
    }

    /// Adds one latency.
    pub fn record(&mut self, latency: Duration) {
        self.nanos
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
        self.sorted = false;
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: Samples) {
        self.nanos.extend(other.nanos);
        self.sorted = false;
    }

    /// How many samples there are.
    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    /// The latency below which `p` percent of the samples lie (nearest rank), in
    /// milliseconds; zero when there are none.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.nanos.is_empty() {
            return 0.0;
        }
        if !self.sorted {
            self.nanos.sort_unstable();
            self.sorted = true;
        }
        let rank = ((p / 100.0) * self.nanos.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.nanos.len()) - 1;
        self.nanos[index] as f64 / 1e6
    }
}

/// Rounds of [`paired`] that are not measured: they warm the caches of both sides.
const PAIRED_WARM_UP: usize = 5;

/// Times one request to Koppel and its plain-SQL counterpart one after the other, `rounds`
/// times after [`PAIRED_WARM_UP`] rounds that are not kept, so that both sides meet the
/// machine's load alike; each closure checks its own answer. Answers Koppel's samples and the
/// baseline's.
pub async fn paired<K, KF, B, BF>(
    rounds: usize,
    mut koppel: K,
    mut baseline: B,
) -> anyhow::Result<(Samples, Samples)>
where
    K: FnMut() -> KF,
    KF: Future<Output = anyhow::Result<()>>,
    B: FnMut() -> BF,
    BF: Future<Output = anyhow::Result<()>>,
{
    let (mut k, mut b) = (
        Samples::with_capacity(rounds),
        Samples::with_capacity(rounds),
    );
    for round in 0..PAIRED_WARM_UP + rounds {
        let started = Instant::now();
        koppel().await?;
        let koppel_took = started.elapsed();
        let started = Instant::now();
        baseline().await?;
        let baseline_took = started.elapsed();
        if round >= PAIRED_WARM_UP {
            k.record(koppel_took);
            b.record(baseline_took);
        }
    }
    Ok((k, b))
}

/// Empties `pg_stat_statements`.
pub async fn reset_statements(pool: &sqlx::PgPool) -> sqlx::Result<()> {
    sqlx::query("select pg_stat_statements_reset()")
        .execute(pool)
        .await?;
    Ok(())
}

/// Prints the statements that took the database's time since the last reset, most first:
/// calls, how many of them were planned (a prepared statement on its generic plan is not),
/// mean planning time per plan and execution time per call, and the statement's start.
pub async fn print_statements(pool: &sqlx::PgPool, label: &str) -> sqlx::Result<()> {
    let rows: Vec<(i64, i64, f64, f64, f64, String)> = sqlx::query_as(
        "select calls, plans, mean_plan_time, mean_exec_time, total_plan_time + total_exec_time,
                regexp_replace(left(query, 400), '[[:space:]]+', ' ', 'g')
           from pg_stat_statements
          where query not like '%pg_stat_statements%'
          order by total_plan_time + total_exec_time desc
          limit 15",
    )
    .fetch_all(pool)
    .await?;
    eprintln!("statements of {label}, by total time (planning + execution):");
    eprintln!(
        "  {:>8} {:>8} {:>9} {:>9} {:>9}  statement",
        "calls", "plans", "plan ms", "exec ms", "total s"
    );
    for (calls, plans, plan, exec, total, query) in rows {
        let start: String = query.chars().take(90).collect();
        eprintln!(
            "  {calls:>8} {plans:>8} {plan:>9.3} {exec:>9.3} {:>9.2}  {start}",
            total / 1000.0
        );
    }
    Ok(())
}

impl From<&[Duration]> for Samples {
    fn from(latencies: &[Duration]) -> Self {
        let mut samples = Samples::with_capacity(latencies.len());
        for l in latencies {
            samples.record(*l);
        }
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_99th_percentile_of_a_hundred_samples_is_the_99th_smallest() {
        let mut s = Samples::with_capacity(100);
        for ms in (1..=100).rev() {
            s.record(Duration::from_millis(ms));
        }
        assert_eq!(s.percentile_ms(99.0), 99.0);
        assert_eq!(s.percentile_ms(50.0), 50.0);
        assert_eq!(s.percentile_ms(100.0), 100.0);
    }
}
