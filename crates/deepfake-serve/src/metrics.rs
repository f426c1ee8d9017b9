//! The Prometheus metrics of `GET /metrics`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a finished request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The matched route (`/v1/predict`), or `unmatched`.
    route: String,
    /// HTTP status code.
    status: u16,
}

/// Labels of a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// Latency buckets: 1 ms to ~65 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every metric the server exports (names prefixed `deepfake_`).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    batch_size: Histogram,
    forward_seconds: Histogram,
    queue_depth: Gauge,
    images_scored: Counter,
}

impl Metrics {
    /// Registers all metrics; `max_batch` sets the batch-size buckets (powers of two up to it).
    pub fn new(max_batch: usize) -> Self {
        let mut registry = Registry::with_prefix("deepfake");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route",
            latency.clone(),
        );
        let doublings = (max_batch.max(1) as f64).log2().ceil() as u16 + 1;
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, doublings));
        registry.register(
            "batch_size",
            "Images per forward pass of the model",
            batch_size.clone(),
        );
        let forward_seconds = latency_histogram();
        registry.register(
            "model_forward_seconds",
            "Time of one forward pass of the model (one batch)",
            forward_seconds.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Images accepted and not yet scored (being decoded or waiting for the model)",
            queue_depth.clone(),
        );
        let images_scored = Counter::default();
        registry.register(
            "images_scored",
            "Images the model has scored",
            images_scored.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            batch_size,
            forward_seconds,
            queue_depth,
            images_scored,
        }
    }

    /// Counts an answered request and its latency.
    pub fn record_request(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one forward pass over `images` images (`scored` of them scored) that took
    /// `elapsed`.
    pub fn record_batch(&self, images: usize, scored: usize, elapsed: Duration) {
        self.batch_size.observe(images as f64);
        self.forward_seconds.observe(elapsed.as_secs_f64());
        self.images_scored.inc_by(scored as u64);
    }

    /// Sets the number of images accepted and not yet scored.
    pub fn set_queue_depth(&self, depth: usize) {
        self.queue_depth.set(depth as i64);
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_depth_is_what_was_set_last() {
        let metrics = Metrics::new(8);
        metrics.set_queue_depth(3);
        assert!(
            metrics.encode().contains("\ndeepfake_queue_depth 3\n"),
            "{}",
            metrics.encode()
        );
        metrics.set_queue_depth(0);
        assert!(metrics.encode().contains("\ndeepfake_queue_depth 0\n"));
    }
}
