//! plotcast end-to-end tests: one binary, one module per area. Each test starts the
//! real server on `127.0.0.1:0` with its own data directory and talks to it with real
//! clients (reqwest, raw sockets, ffmpeg, GStreamer, headless Chromium).

mod access;
mod api;
mod browser;
mod clients;
mod data;
mod editor;
mod faults;
mod ffmpeg;
mod hostile;
mod http2;
mod http2_idle;
mod ingest;
mod limits;
mod promql;
mod remote_write;
mod restart;
mod scale_out;
mod stream;
mod strict_clients;
mod variables;

/// A light-theme chart of metric `temp` in red, fixed 0..100 axis, no legend.
pub fn temp_chart(kind: &str, window: &str) -> String {
    format!(
        r##"{{"version":1,"width":400,"height":300,"window":"{window}","fps":30,
        "panels":[{{"kind":"{kind}","series":[{{"metric":"temp","color":"#ff0000"}}],
        "y_axis":{{"min":0,"max":100}},"legend":{{"position":"none"}}}}]}}"##
    )
}
