//! Latency samples and their percentiles.
//!
//! Every request count in the benchmark is bounded (tens of thousands at most), so
//! keeping every sample and sorting once is exact and costs less than a megabyte; an
//! HDR histogram would only add a dependency and a rounding error.

use std::time::Duration;

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
