//! Process-wide counters and histograms, rendered as Prometheus text on `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds in seconds.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// A fixed-bucket latency histogram.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, duration: Duration) {
        let secs = duration.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Everything `/metrics` reports except per-chart values (those come from the hub).
#[derive(Default)]
pub struct Metrics {
    /// Time to render one frame.
    pub render_time: Histogram,
    /// Time to JPEG-encode one frame.
    pub encode_time: Histogram,
    /// Bytes handed to viewers' connections.
    pub bytes_sent: AtomicU64,
    /// Frames a slow viewer never got because a newer one replaced them.
    pub frames_skipped: AtomicU64,
    /// Viewers dropped or disconnected.
    pub viewers_disconnected: AtomicU64,
    /// Points stored.
    pub points_ingested: AtomicU64,
    /// Renders that panicked (an error frame was streamed instead).
    pub render_panics: AtomicU64,
    /// Connections refused by `max_connections_per_ip`.
    pub connections_refused: AtomicU64,
    /// Connections that spoke HTTP/2 (over TLS or as h2c).
    pub http2_connections: AtomicU64,
    /// Queries sent to configured sources (Prometheus).
    pub source_queries: AtomicU64,
    /// Queries to configured sources that failed (unreachable or refused).
    pub source_query_errors: AtomicU64,
    /// Time a source took to answer a query.
    pub source_query_time: Histogram,
    /// Frames an origin published on NATS for edges.
    pub nats_frames_published: AtomicU64,
    /// Variants an origin publishes on NATS now.
    pub nats_published_variants: AtomicU64,
    /// Frames an edge received from NATS.
    pub nats_frames_received: AtomicU64,
    /// Whether the NATS connection is up (1) or not (0); absent without `--nats`.
    pub nats_connected: Mutex<Option<Box<dyn Fn() -> bool + Send + Sync>>>,
    /// Error responses by status code.
    errors: Mutex<BTreeMap<u16, u64>>,
}

/// Per-chart values for the report.
pub struct ChartStats {
    /// Chart id.
    pub id: String,
    /// Current viewers.
    pub viewers: usize,
    /// Live variants (distinct URL parameters being streamed).
    pub variants: usize,
    /// Frames rendered since start.
    pub frames: u64,
}

impl Metrics {
    /// Counts one error response.
    pub fn count_error(&self, status: u16) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(status).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, charts: &[ChartStats]) -> String {
        let mut out = String::new();
        let one = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            one(out, name, "counter", help, value);
        };
        let per_chart = |out: &mut String,
                         name: &str,
                         kind: &str,
                         help: &str,
                         value: fn(&ChartStats) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for chart in charts {
                let _ = writeln!(out, "{name}{{chart=\"{}\"}} {}", chart.id, value(chart));
            }
        };
        per_chart(
            &mut out,
            "plotcast_viewers",
            "gauge",
            "Current stream viewers per chart.",
            |c| c.viewers as u64,
        );
        per_chart(
            &mut out,
            "plotcast_chart_variants",
            "gauge",
            "Live stream variants (distinct URL parameters) per chart.",
            |c| c.variants as u64,
        );
        per_chart(
            &mut out,
            "plotcast_frames_rendered_total",
            "counter",
            "Frames rendered per chart.",
            |c| c.frames,
        );
        self.render_time.write(
            &mut out,
            "plotcast_render_seconds",
            "Time to render one frame.",
        );
        self.encode_time.write(
            &mut out,
            "plotcast_encode_seconds",
            "Time to JPEG-encode one frame.",
        );
        self.source_query_time.write(
            &mut out,
            "plotcast_source_query_seconds",
            "Time a configured source (Prometheus) took to answer a query.",
        );
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut out,
            "plotcast_source_queries_total",
            "Queries sent to configured sources (Prometheus).",
            load(&self.source_queries),
        );
        counter(
            &mut out,
            "plotcast_source_query_errors_total",
            "Queries to configured sources that failed (unreachable or refused).",
            load(&self.source_query_errors),
        );
        counter(
            &mut out,
            "plotcast_stream_bytes_sent_total",
            "Stream bytes handed to viewers.",
            load(&self.bytes_sent),
        );
        counter(
            &mut out,
            "plotcast_frames_skipped_total",
            "Frames slow viewers skipped (they got a newer one).",
            load(&self.frames_skipped),
        );
        counter(
            &mut out,
            "plotcast_viewers_disconnected_total",
            "Viewers that left or were dropped.",
            load(&self.viewers_disconnected),
        );
        counter(
            &mut out,
            "plotcast_points_ingested_total",
            "Points stored.",
            load(&self.points_ingested),
        );
        counter(
            &mut out,
            "plotcast_render_panics_total",
            "Renders that panicked (the chart streamed an error frame).",
            load(&self.render_panics),
        );
        counter(
            &mut out,
            "plotcast_connections_refused_total",
            "Connections refused by max_connections_per_ip.",
            load(&self.connections_refused),
        );
        counter(
            &mut out,
            "plotcast_http2_connections_total",
            "Connections that spoke HTTP/2 (TLS with ALPN h2, or h2c).",
            load(&self.http2_connections),
        );
        counter(
            &mut out,
            "plotcast_nats_frames_published_total",
            "Frames published on NATS for edges (origin).",
            load(&self.nats_frames_published),
        );
        counter(
            &mut out,
            "plotcast_nats_frames_received_total",
            "Frames received from NATS (edge).",
            load(&self.nats_frames_received),
        );
        one(
            &mut out,
            "plotcast_nats_published_variants",
            "gauge",
            "Variants published on NATS for edges now (origin).",
            load(&self.nats_published_variants),
        );
        let connected = self.nats_connected.lock().ok();
        if let Some(connected) = connected.as_deref().and_then(Option::as_ref) {
            let help = "Whether the NATS connection is up.";
            one(
                &mut out,
                "plotcast_nats_connected",
                "gauge",
                help,
                u64::from(connected()),
            );
        }
        let _ = writeln!(
            out,
            "# HELP plotcast_http_errors_total Error responses by status.\n# TYPE plotcast_http_errors_total counter"
        );
        if let Ok(errors) = self.errors.lock() {
            for (status, count) in errors.iter() {
                let _ = writeln!(
                    out,
                    "plotcast_http_errors_total{{status=\"{status}\"}} {count}"
                );
            }
        }
        out
    }
}
