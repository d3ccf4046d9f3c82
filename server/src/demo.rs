//! The demo: a built-in collector samples this host every second (CPU per core, memory,
//! network rx/tx from `/proc`) and, in an empty data directory, the `demo` chart is
//! published, so `/charts/demo.mjpg` moves on a fresh machine with no setup.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::ingest::Sample;
use crate::state::AppState;

/// The demo chart's id.
pub const DEMO_ID: &str = "demo";

/// The demo chart.
pub const DEMO_SPEC: &str = r##"{
  "version": 1, "width": 960, "height": 540, "theme": "dark",
  "title": "plotcast demo: this host, live", "window": "5m", "fps": 10,
  "layout": {"columns": 2, "rows": 2},
  "panels": [
    {"title": "CPU per core", "cell": {"col": 0, "row": 0, "col_span": 2},
     "series": [{"metric": "host_cpu"}],
     "y_axis": {"min": 0, "max": 100, "format": "percent"},
     "legend": {"position": "right", "values": ["last"]}},
    {"title": "Memory used", "style": "area",
     "series": [{"metric": "host_memory_used", "label": "used"}],
     "y_axis": {"min": 0, "format": "bytes"}},
    {"title": "Network",
     "series": [{"metric": "host_net", "tags": {"dir": "rx"}, "label": "rx"},
                {"metric": "host_net", "tags": {"dir": "tx"}, "label": "tx"}],
     "y_axis": {"min": 0, "format": "bytes", "unit": "/s"}}
  ]
}"##;

/// Publishes the demo chart.
pub async fn publish_chart(state: &AppState) {
    let spec = match render_core::Spec::from_json(DEMO_SPEC) {
        Ok(spec) => spec,
        Err(error) => return tracing::error!(%error, "demo spec does not parse"),
    };
    let json = serde_json::to_string(&spec).unwrap_or_default();
    match state.publish(DEMO_ID, json, spec, None).await {
        Ok(_) => tracing::info!("published the demo chart"),
        Err(error) => tracing::error!(%error, "publishing the demo chart failed"),
    }
}

/// Samples the host every second, forever.
pub async fn collect(state: AppState) {
    let mut previous = Snapshot::read();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let current = Snapshot::read();
        let samples = current.samples_since(&previous, state.now_ms());
        previous = current;
        if let Err(error) = state.ingest(samples).await {
            tracing::warn!(%error, "storing host metrics failed");
        }
    }
}

/// One reading of the `/proc` counters.
struct Snapshot {
    at: std::time::Instant,
    /// Per core: (busy jiffies, total jiffies).
    cpus: Vec<(u64, u64)>,
    memory_used: Option<f64>,
    /// Total (rx, tx) bytes over all interfaces but loopback.
    net: Option<(u64, u64)>,
}

impl Snapshot {
    fn read() -> Snapshot {
        let text = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        Snapshot {
            at: std::time::Instant::now(),
            cpus: parse_stat(&text("/proc/stat")),
            memory_used: parse_meminfo(&text("/proc/meminfo")),
            net: parse_net_dev(&text("/proc/net/dev")),
        }
    }

    fn samples_since(&self, before: &Snapshot, t: i64) -> Vec<Sample> {
        let sample = |metric: &str, tags: &[(&str, String)], v: f64| Sample {
            metric: metric.to_string(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
            t,
            v,
        };
        let mut out = Vec::new();
        for (core, ((busy, total), (busy0, total0))) in
            self.cpus.iter().zip(&before.cpus).enumerate()
        {
            let total = total.saturating_sub(*total0);
            if total > 0 {
                let usage = 100.0 * busy.saturating_sub(*busy0) as f64 / total as f64;
                out.push(sample(
                    "host_cpu",
                    &[("core", core.to_string())],
                    usage.clamp(0.0, 100.0),
                ));
            }
        }
        if let Some(used) = self.memory_used {
            out.push(sample("host_memory_used", &[], used));
        }
        let seconds = self.at.duration_since(before.at).as_secs_f64();
        if let (Some((rx, tx)), Some((rx0, tx0)), true) = (self.net, before.net, seconds > 0.0) {
            out.push(sample(
                "host_net",
                &[("dir", "rx".into())],
                rx.saturating_sub(rx0) as f64 / seconds,
            ));
            out.push(sample(
                "host_net",
                &[("dir", "tx".into())],
                tx.saturating_sub(tx0) as f64 / seconds,
            ));
        }
        out
    }
}

/// Per-core (busy, total) jiffies from `/proc/stat`.
fn parse_stat(text: &str) -> Vec<(u64, u64)> {
    text.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|line| {
            let values: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            let total: u64 = values.iter().take(8).sum();
            let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
            (total.saturating_sub(idle), total)
        })
        .collect()
}

/// Used memory in bytes (MemTotal - MemAvailable) from `/proc/meminfo`.
fn parse_meminfo(text: &str) -> Option<f64> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some((field("MemTotal")? - field("MemAvailable")?) * 1024.0)
}

/// Total (rx, tx) bytes of every interface but `lo` from `/proc/net/dev`.
fn parse_net_dev(text: &str) -> Option<(u64, u64)> {
    let mut total = None;
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let values: Vec<u64> = counters
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if let (Some(rx), Some(tx)) = (values.first(), values.get(8)) {
            let (r, t) = total.unwrap_or((0, 0));
            total = Some((r + rx, t + tx));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_spec_is_valid() {
        let spec = render_core::Spec::from_json(DEMO_SPEC).map_err(|e| e.to_string());
        let valid = spec.and_then(|s| render_core::validate(s).map_err(|e| e.to_string()));
        assert!(valid.is_ok(), "{valid:?}");
    }

    #[test]
    fn proc_files_parse() {
        let stat = "cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu1 5 0 5 40 0 0 0 0 0 0\nintr 1";
        assert_eq!(parse_stat(stat), [(10, 50), (10, 50)]);
        assert_eq!(
            parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable: 60 kB\n"),
            Some(40.0 * 1024.0)
        );
        let net = "h1\nh2\n    lo: 5 0 0 0 0 0 0 0 5 0 0 0 0 0 0 0\n  eth0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n";
        assert_eq!(parse_net_dev(net), Some((100, 200)));
    }
}
