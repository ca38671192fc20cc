//! Request counts and latency histograms in the Prometheus text format.
//!
//! A few dozen lines of our own instead of a metrics framework: the API needs
//! one counter and one histogram, labelled by method, route and status.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The metrics of one process.
///
/// Every label comes from a closed set, so the number of series is bounded
/// whatever clients send: the method is one of [`METHODS`] or `other`, the
/// route is a template of the router or `unmatched`, the status one hyper
/// can write.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(&'static str, String, u16), Series>>,
}

/// The methods counted by name; any other is counted as `other`.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The label of a request method: its name when it is one of [`METHODS`].
fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let seconds = elapsed.as_secs_f64();
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = series
            .entry((method, route.to_owned(), status))
            .or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// Renders every series in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let series = self
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        out.push_str("# HELP koppel_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE koppel_http_requests_total counter\n");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "koppel_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str(
            "# HELP koppel_http_request_duration_seconds Time to answer an HTTP request.\n",
        );
        out.push_str("# TYPE koppel_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in series.iter() {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (bound, count) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "koppel_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "koppel_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "koppel_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "koppel_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_and_falls_in_every_bucket_at_or_above_its_latency() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/health/live", 200, Duration::from_millis(3));
        metrics.observe("GET", "/health/live", 200, Duration::from_millis(30));
        let text = metrics.render();
        assert!(text.contains(
            "koppel_http_requests_total{method=\"GET\",route=\"/health/live\",status=\"200\"} 2"
        ));
        assert!(text.contains("route=\"/health/live\",status=\"200\",le=\"0.0025\"} 0"));
        assert!(text.contains("route=\"/health/live\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/health/live\",status=\"200\",le=\"0.05\"} 2"));
        assert!(text.contains("route=\"/health/live\",status=\"200\",le=\"+Inf\"} 2"));
    }

    #[test]
    fn made_up_methods_share_one_series() {
        let metrics = Metrics::default();
        for i in 0..1000 {
            metrics.observe(
                &format!("FOO{i}"),
                "unmatched",
                405,
                Duration::from_millis(1),
            );
        }
        let text = metrics.render();
        assert!(text.contains(
            "koppel_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 1000"
        ));
        assert!(!text.contains("FOO"));
        assert_eq!(metrics.series.lock().unwrap().len(), 1);
    }
}
