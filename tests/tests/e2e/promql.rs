//! Prometheus as a data source: a real Prometheus scrapes a fixture exporter and
//! plotcast's own `/metrics`; charts of PromQL queries of it (`"source": "prom"`)
//! stream what `query_range` answers, say so when Prometheus is down and recover when
//! it is back; publishing a query Prometheus refuses, or of an unknown source, is a 422
//! naming the series. In the editor, a series becomes a query of the source and its
//! preview (data through the server) equals the server's render.

use std::net::SocketAddr;
use std::time::Duration;

use tests::prometheus::{free_port, points_of, samples_of, Exporter, Prometheus};
use tests::webdriver::{PageLoad, WebDriver};
use tests::{poll, red, status_and_json, Image, MjpegReader, TestServer};

use crate::editor::{assert_server_draws, preview_where, shown};

/// A plotcast server with source `prom` at `prometheus` (not started yet), asked again
/// every second.
async fn server_with_source(prometheus: SocketAddr) -> TestServer {
    let flag = format!("prom=http://{prometheus};refresh=1s;timeout=2s");
    let source = server::config::SourceConfig::parse_flag(&flag).expect("a source flag");
    TestServer::start_fresh(|config| config.sources = vec![source]).await
}

/// Prometheus on `addr` scraping `exporter` and `server`'s `/metrics` every second.
async fn prometheus_scraping(
    addr: SocketAddr,
    exporter: &Exporter,
    server: &TestServer,
) -> Prometheus {
    let config = format!(
        r#"global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ["{fixture}"]
  - job_name: plotcast
    static_configs:
      - targets: ["{plotcast}"]
"#,
        fixture = exporter.addr,
        plotcast = server.addr,
    );
    Prometheus::start_at(&config, addr).await
}

/// A server whose source `prom` is a real Prometheus, which scrapes it and an exporter
/// serving `exposition`; the exporter (kept by the caller) can change what it serves.
async fn server_over_prometheus(exposition: &str) -> (TestServer, Exporter, Prometheus) {
    let addr = free_port();
    let server = server_with_source(addr).await;
    let exporter = Exporter::start(exposition).await;
    let prometheus = prometheus_scraping(addr, &exporter, &server).await;
    (server, exporter, prometheus)
}

/// A chart of `fixture_value` from `prom` in red on a fixed 0..100 axis.
const CHART: &str = r##"{"version":1,"width":400,"height":300,"window":"1m","fps":10,
    "panels":[{"series":[{"source":"prom","query":"fixture_value","color":"#ff0000","refresh":"1s"}],
    "y_axis":{"min":0,"max":100},"legend":{"position":"none"}}]}"##;

/// Reads frames until one satisfies `check` (panics with `what` after a minute).
async fn frame_where(
    stream: &mut MjpegReader,
    what: &str,
    check: impl Fn(&Image) -> bool,
) -> Image {
    tests::within(Duration::from_secs(60), what, async {
        loop {
            let image = stream.next_part().await.expect("a well-formed part").jpeg();
            if check(&image) {
                return image;
            }
        }
    })
    .await
}

/// Red (series) pixels in the top third of the plot, where 90 of 0..100 is drawn.
fn red_high(image: &Image) -> usize {
    image.count(0..image.width, 0..image.height / 3, red)
}

/// Vermillion pixels of the "unreachable since" note, bottom right.
fn note_pixels(image: &Image) -> usize {
    let note = |p: [u8; 3]| p[0] > 170 && (60..140).contains(&p[1]) && p[2] < 60;
    image.count(
        image.width / 2..image.width,
        image.height - 24..image.height,
        note,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promql_chart_streams_what_query_range_answers() {
    let (server, exporter, prometheus) = server_over_prometheus("fixture_value 10\n").await;
    let addr = prometheus.addr;
    let sources = server.get_json("/api/sources").await;
    assert_eq!(sources["sources"][0]["name"], "prom");
    assert!(
        !sources.to_string().contains(&addr.to_string()),
        "no URL shown: {sources}"
    );

    // Published once Prometheus has the series (an unknown metric is no error).
    let response = server.put_chart("prom", CHART).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let mut stream = server.stream("/charts/prom.mjpg").await;
    frame_where(&mut stream, "a frame with the line at 10", |image| {
        image.count(0..image.width, 0..image.height, red) > 20 && red_high(image) == 0
    })
    .await;
    exporter.set("fixture_value 90\n");
    frame_where(&mut stream, "a frame with the line at 90", |image| {
        red_high(image) > 20
    })
    .await;

    // What plotcast draws is what query_range answers at that step (the preview's
    // endpoint reads the stream's shared answer).
    let step = 1_000;
    poll(
        Duration::from_secs(30),
        "plotcast's points to equal query_range's",
        || async {
            let now = tests::now_ms();
            let ours = server
                .try_get_json(&format!(
                "/api/series/points?source=prom&query=fixture_value&from={}&to={now}&step={step}",
                now - 80_000
            ))
                .await?;
            let ours = points_of(&ours);
            let (first, last) = (ours.first()?.0, ours.last()?.0);
            // The last seconds may still get a sample a later answer sees.
            let settled = last - 5_000;
            let url = format!(
                "http://{addr}/api/v1/query_range?query=fixture_value&start={}&end={}&step=1",
                first as f64 / 1000.0,
                settled as f64 / 1000.0
            );
            let theirs = samples_of(&tests::try_get_json(&server.client, &url).await?);
            let ours: Vec<_> = ours.into_iter().filter(|p| p.0 <= settled).collect();
            (ours.len() > 10 && ours == theirs).then_some(())
        },
    )
    .await;

    // Prometheus scrapes plotcast's /metrics, which counts the queries it was sent.
    let counted = "/api/series/points?source=prom&query=plotcast_source_queries_total&step=1000";
    poll(
        Duration::from_secs(30),
        "Prometheus to have plotcast's query count",
        || async {
            let data = server.try_get_json(counted).await?;
            (points_of(&data).last()?.1 > 0.0).then_some(())
        },
    )
    .await;

    drop(stream);
    prometheus.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_down_mid_stream_is_noted_and_the_stream_recovers() {
    let (server, _exporter, mut prometheus) = server_over_prometheus("fixture_value 90\n").await;
    server.create_chart("prom", CHART).await;
    let mut stream = server.stream("/charts/prom.mjpg").await;
    frame_where(&mut stream, "a frame with the line", |image| {
        red_high(image) > 20 && note_pixels(image) == 0
    })
    .await;

    prometheus.kill().await;
    // The stream goes on with the last answer and a note.
    let noted = frame_where(&mut stream, "a frame with the note", |image| {
        note_pixels(image) > 50
    })
    .await;
    assert!(red_high(&noted) > 20, "the last answer is still drawn");
    let errors = tests::metric_value::<u64>(
        &server.metrics().await,
        "plotcast_source_query_errors_total",
    );
    assert!(errors.is_some_and(|n| n > 0), "errors counted: {errors:?}");

    prometheus.restart().await;
    frame_where(&mut stream, "a frame without the note", |image| {
        note_pixels(image) == 0 && red_high(image) > 20
    })
    .await;

    drop(stream);
    prometheus.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_prometheus_refuses_or_an_unknown_source_is_a_422_naming_the_series() {
    let (server, _exporter, prometheus) = server_over_prometheus("fixture_value 1\n").await;
    let spec = |series: &str| {
        format!(
            r#"{{"version":1,"width":300,"height":200,"panels":[{{"kind":"stat","series":[{{"metric":"temp"}}]}},
            {{"series":[{{"source":"prom","query":"up"}},{series}]}}]}}"#
        )
    };
    let (status, body) = status_and_json(
        server
            .put_chart("bad", &spec(r#"{"source":"prom","query":"sum by ("}"#))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let detail = &body["details"][0];
    assert_eq!(detail["path"], "panels[1].series[1].query", "{body}");
    let message = detail["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("bad_data") && message.contains("parse error"),
        "{body}"
    );
    assert_eq!(body["details"].as_array().map(Vec::len), Some(1), "{body}");

    let (status, body) = status_and_json(
        server
            .put_chart("bad", &spec(r#"{"source":"thanos","query":"up"}"#))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["details"][0]["path"], "panels[1].series[1].source",
        "{body}"
    );
    let absent = server.get("/api/charts/bad").await.status();
    assert_eq!(absent, 404, "nothing was published");

    let (status, body) = status_and_json(
        server
            .get("/api/series/points?source=thanos&query=up")
            .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    prometheus.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_charts_a_promql_query_through_the_server() {
    crate::editor::build_editor().await;
    let (server, _exporter, _prometheus) = server_over_prometheus("fixture_value 42\n").await;
    // A built-in series, so the blank chart starts with one to turn into a query.
    let point = serde_json::json!({"points": [{"metric": "temp", "t": tests::now_ms(), "v": 1.0}]});
    assert_eq!(server.post_points(point).await.status(), 200);

    let driver = WebDriver::start(1280, 800, PageLoad::Normal).await;
    driver.open(&server.url("/#/new/blank")).await;
    poll(Duration::from_secs(30), "the blank chart with its series and the source list", || async {
        let shown = shown(&driver).await?;
        let sources = driver
            .eval("return [...document.querySelectorAll('#source-names option')].map(o => o.value);")
            .await;
        (shown.spec["panels"][0]["series"][0]["metric"] == "temp" && sources == serde_json::json!(["prom"]))
            .then_some(())
    })
    .await;
    driver
        .set("[data-field='panels[0].series[0].source']", "prom")
        .await;
    driver
        .set("[data-field='panels[0].series[0].query']", "fixture_value")
        .await;
    let charted = preview_where(&driver, "a preview of the query's answer", |shown| {
        let series = &shown.spec["panels"][0]["series"][0];
        let from_prom = shown.data["series"][0]["source"] == "prom";
        series["query"] == "fixture_value"
            && series.get("metric").is_none()
            && from_prom
            && shown.points() > 0
    })
    .await;
    assert!(
        points_of(&charted.data).iter().all(|(_, v)| *v == 42.0),
        "the fixture's value: {}",
        charted.data
    );
    assert_server_draws(&server, &charted, "the query's preview").await;
    drop(driver);
    server.stop().await;
}
