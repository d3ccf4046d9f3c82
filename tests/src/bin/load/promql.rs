//! The promql phase: charts of PromQL queries of a real Prometheus (which scrapes a
//! fixture exporter every second), one viewer each — 100 charts of 10 distinct
//! queries. Measures the queries per second plotcast sends to Prometheus, which must be
//! distinct queries ÷ refresh (charts of one query at one step share its answer), and
//! the server's CPU.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use tests::prometheus::{free_port, Exporter, Prometheus};

use crate::procfs::CpuMeter;
use crate::report::{detail, result};
use crate::server::Server;
use crate::viewers::{self, Plan};

/// How often the source is asked again (`--source ...;refresh=5s`).
const REFRESH_SECS: f64 = 5.0;

/// A chart of query `q` of source `prom`: 5 minutes over 800 px at 1 fps.
fn chart(q: usize) -> String {
    format!(
        r#"{{"version":1,"width":800,"height":450,"title":"fixture {q}","window":"5m","fps":1,
"panels":[{{"series":[{{"source":"prom","query":"sum(fixture_value{{i=\"{q}\"}})"}}]}}]}}"#
    )
}

/// Runs the phase: `charts` charts over `queries` distinct queries (100 over 10; 20
/// over 4 with `quick`).
pub async fn run(plotcast: &Path, quick: bool) -> Result<()> {
    let (charts, queries, measure) = if quick {
        (20, 4, Duration::from_secs(10))
    } else {
        (100, 10, Duration::from_secs(30))
    };
    let fixture: String = (0..queries)
        .map(|i| format!("fixture_value{{i=\"{i}\"}} {i}\n"))
        .collect();
    let exporter = Exporter::start(&fixture).await;
    let addr = free_port();
    let source = format!("prom=http://{addr};refresh={REFRESH_SECS}s");
    let server = Server::start_with(plotcast, &["--source", &source]).await?;
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fixture\n    static_configs:\n      - targets: [\"{}\"]\n",
        exporter.addr
    );
    let prometheus = Prometheus::start_at(&config, addr).await;
    for c in 0..charts {
        server
            .put_chart(&format!("prom{c}"), &chart(c % queries))
            .await?;
    }
    // One viewer per chart, open through the warm-up and the measurement.
    let warm_up = Duration::from_secs(8);
    let viewers: Vec<_> = (0..charts)
        .map(|c| {
            let plan = Plan {
                addr: server.addr,
                path: format!("/charts/prom{c}.mjpg"),
                viewers: 1,
                ramp_per_sec: 1000.0,
                pending_max: 1,
                window: warm_up + measure,
                sources: 1,
            };
            tokio::spawn(async move { viewers::run(&plan, None).await })
        })
        .collect();
    tokio::time::sleep(warm_up).await;
    let before = server.metric("plotcast_source_queries_total").await?;
    let cpu = CpuMeter::start(server.pid);
    tokio::time::sleep(measure).await;
    let cores = cpu.cores();
    let sent = server.metric("plotcast_source_queries_total").await? - before;
    let errors = server.metric("plotcast_source_query_errors_total").await?;
    let mut receiving = 0;
    for viewer in viewers {
        receiving += viewer.await.map(|r| r.receiving).unwrap_or(0);
    }
    let per_sec = sent / measure.as_secs_f64();
    let expected = queries as f64 / REFRESH_SECS;
    let name = format!("{charts} PromQL charts of {queries} queries, 1 viewer each");
    result(
        &format!("{name}: queries/s sent to Prometheus"),
        format!("{per_sec:.2}"),
        &format!("{queries} ÷ {REFRESH_SECS} s = {expected:.2} (±10%)"),
        Some((per_sec - expected).abs() <= expected * 0.1),
    );
    result(
        &format!("{name}: server CPU"),
        format!("{cores:.3} cores"),
        "-",
        None,
    );
    detail(format!(
        "promql: {sent} queries in {:.0} s, {errors} failed; {receiving} of {charts} viewers received frames",
        measure.as_secs_f64()
    ));
    prometheus.stop().await;
    Ok(())
}
