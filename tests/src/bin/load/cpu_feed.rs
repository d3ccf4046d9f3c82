//! The CPU-like data the viewer phases chart: the `cpu` series of four cores, five
//! minutes of history ([`prefill`]) and a 10 Hz collector ([`collect`]), and the chart
//! of them that renders at its 10 fps cap ([`MOVING_10`]).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::watch;

use crate::ingest::now_ms;
use crate::server::Server;

/// A time series chart whose time axis moves at least 1 px per 100 ms (30 s over
/// ~750 px), so it renders at its fps cap.
pub const MOVING_10: &str = r#"{"version":1,"width":800,"height":450,"title":"CPU usage per core (10 fps)",
"window":"30s","fps":10,"panels":[{"kind":"timeseries","series":[{"metric":"cpu_usage"}],
"y_axis":{"format":"percent","min":0,"max":100},"legend":{"position":"bottom","values":["last","max"]}}]}"#;

/// Five minutes of history for the four `cpu` series, 2 points/s.
pub async fn prefill(server: &Server) -> Result<()> {
    let now = now_ms();
    let mut body = String::new();
    for i in 0..600i64 {
        let t = now - 300_000 + i * 500;
        for core in 0..4 {
            let v = cpu_value(core, t);
            let _ = writeln!(body, "cpu,core={core} usage={v:.2} {t}");
        }
    }
    server.write_lines(body).await
}

/// A plausible CPU percentage for `core` at `t`.
fn cpu_value(core: i64, t: i64) -> f64 {
    let x = t as f64 / 4000.0 + core as f64 * 1.7;
    50.0 + 30.0 * x.sin() + 10.0 * (x * 3.1).cos()
}

/// Writes the four `cpu` series every 100 ms until `stop`.
pub async fn collect(server: Arc<Server>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let t = now_ms();
        let body: String = (0..4)
            .map(|core| format!("cpu,core={core} usage={:.2} {t}\n", cpu_value(core, t)))
            .collect();
        if let Err(error) = server.write_lines(body).await {
            eprintln!("collector: {error:#}");
        }
    }
}
