//! The Prometheus registry of the service (`GET /metrics`). Counters are incremented
//! where the thing happens (the processor for events and detections, the committer for
//! commit latency, sources for their drops); the API only renders. Tests compare these
//! counters with their own counts, so every increment sits next to what it counts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelLabel {
    pub level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub source: String,
    pub reason: String,
}

/// Every metric the service exports.
pub struct Metrics {
    pub registry: Registry,
    /// `vigie_events_in_total{source}`: events accepted (durable), by input.
    pub events_in: Family<SourceLabel, Counter>,
    /// `vigie_events_duplicate_total{source}`.
    pub events_duplicate: Family<SourceLabel, Counter>,
    /// `vigie_events_rejected_total{source,reason}` (unreadable, queue full on UDP...).
    pub events_rejected: Family<ReasonLabel, Counter>,
    /// `vigie_detections_total{level}`: detections stored.
    pub detections: Family<LevelLabel, Counter>,
    /// `vigie_correlation_late_total`: correlation inputs behind the watermark.
    pub correlation_late: Counter,
    /// `vigie_queue_depth`: events waiting in the ingest queue.
    pub queue_depth: Gauge,
    /// `vigie_commit_seconds`: latency of one store transaction.
    pub commit_seconds: Histogram,
    /// `vigie_incidents_open`.
    pub incidents_open: Gauge,
    /// `vigie_webhook_failures_total`.
    pub webhook_failures: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            events_in: Family::default(),
            events_duplicate: Family::default(),
            events_rejected: Family::default(),
            detections: Family::default(),
            correlation_late: Counter::default(),
            queue_depth: Gauge::default(),
            commit_seconds: Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            incidents_open: Gauge::default(),
            webhook_failures: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "vigie_events_in",
            "Events accepted (durable), by input",
            m.events_in.clone(),
        );
        registry.register(
            "vigie_events_duplicate",
            "Events already stored, by input",
            m.events_duplicate.clone(),
        );
        registry.register(
            "vigie_events_rejected",
            "Events not processed, by input and reason",
            m.events_rejected.clone(),
        );
        registry.register(
            "vigie_detections",
            "Detections stored, by level",
            m.detections.clone(),
        );
        registry.register(
            "vigie_correlation_late",
            "Correlation inputs behind the watermark",
            m.correlation_late.clone(),
        );
        registry.register(
            "vigie_queue_depth",
            "Events waiting in the ingest queue",
            m.queue_depth.clone(),
        );
        registry.register(
            "vigie_commit_seconds",
            "Latency of one store transaction",
            m.commit_seconds.clone(),
        );
        registry.register(
            "vigie_incidents_open",
            "Incidents open or acknowledged",
            m.incidents_open.clone(),
        );
        registry.register(
            "vigie_webhook_failures",
            "Webhook deliveries that failed after retries",
            m.webhook_failures.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
