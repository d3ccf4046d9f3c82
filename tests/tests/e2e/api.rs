//! Chart publishing and the error contract: right status, JSON `{"error", "details"}`
//! with a clear message, nothing stored half-way.

use serde_json::Value;
use tests::{status_and_json, Image, TestServer};

use crate::temp_chart;

/// The status, `error` message and `details` of a JSON error response.
async fn error_of(response: reqwest::Response) -> (u16, String, Vec<Value>) {
    let (status, body) = status_and_json(response).await;
    let message = body["error"]
        .as_str()
        .expect("an error message")
        .to_string();
    let details = body["details"].as_array().expect("a details array").clone();
    (status, message, details)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_read_replace_list_delete() {
    let server = TestServer::start_fresh(|_| {}).await;
    let spec = temp_chart("timeseries", "1m");
    let created = server.put_chart("room-1", &spec).await;
    assert_eq!(created.status(), 201);
    let replaced = server
        .put_chart("room-1", &spec.replace("\"fps\":30", "\"fps\":5"))
        .await;
    assert_eq!(replaced.status(), 200);
    let body: Value = replaced.json().await.expect("json");
    assert_eq!(body["version"], 2);

    let chart = server.get_json("/api/charts/room-1").await;
    assert_eq!(chart["version"], 2);
    assert_eq!(chart["spec"]["fps"], 5);
    assert_eq!(chart["spec"]["panels"][0]["series"][0]["metric"], "temp");

    let list = server.get_json("/api/charts").await;
    let ids: Vec<&str> = list["charts"]
        .as_array()
        .expect("charts")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["room-1"]);

    let png = server.get("/charts/room-1.png").await;
    assert_eq!(png.headers()["content-type"], "image/png");
    let image = Image::from_png(&png.bytes().await.expect("png"));
    assert_eq!((image.width, image.height), (400, 300));
    let image = Image::from_jpeg(&server.get_bytes("/charts/room-1.jpg").await);
    assert_eq!((image.width, image.height), (400, 300));

    let deleted = server.delete("/api/charts/room-1").await;
    assert_eq!(deleted.status(), 204);
    let (status, message, _) = error_of(server.get("/api/charts/room-1").await).await;
    assert_eq!((status, message.as_str()), (404, "no chart \"room-1\""));
    let stream = server.get("/charts/room-1.mjpg").await;
    assert_eq!(stream.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_specs_get_every_problem_and_nothing_is_stored() {
    let server = TestServer::start_fresh(|_| {}).await;

    let invalid = r##"{"version":1,"width":0,"height":300,"fps":99,
        "panels":[{"series":[{"metric":"a","color":"#12"}]}]}"##;
    let (status, _, details) = error_of(server.put_chart("bad", invalid).await).await;
    assert_eq!(status, 422);
    let paths: Vec<&str> = details.iter().filter_map(|d| d["path"].as_str()).collect();
    assert_eq!(paths, ["width", "fps", "panels[0].series[0].color"]);

    let (status, message, _) = error_of(server.put_chart("bad", "{\"version\":1,").await).await;
    assert_eq!(status, 400);
    assert!(message.contains("line 1 column"), "{message}");

    let unknown = temp_chart("timeseries", "1m").replace("\"fps\":30", "\"fps\":30,\"colour\":1");
    let (status, message, _) = error_of(server.put_chart("bad", &unknown).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("unknown field `colour`"), "{message}");

    let (status, message, _) = error_of(
        server
            .put_chart("Bad.Id", &temp_chart("timeseries", "1m"))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        message.contains("chart id \"Bad.Id\" is invalid"),
        "{message}"
    );

    let (status, _, _) = error_of(server.get("/api/charts/bad").await).await;
    assert_eq!(status, 404, "no failed PUT may store a chart");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_and_schema_health_metrics_answer() {
    let server = TestServer::start_fresh(|s| s.max_body = 1000).await;
    let big = format!(
        "{{\"points\":[{}]}}",
        vec!["{\"metric\":\"m\",\"v\":1}"; 100].join(",")
    );
    let response = server.post_body("/api/points", big).await;
    let (status, message, _) = error_of(response).await;
    assert_eq!(status, 413);
    assert_eq!(
        message,
        "request body is larger than the limit of 1000 bytes (max_body)"
    );
    let series = server.get_json("/api/series").await;
    assert_eq!(series["series"].as_array().map(Vec::len), Some(0));

    let schema = server.get_json("/api/schema").await;
    assert!(schema["properties"]["panels"].is_object(), "{schema}");
    let health = server.get("/healthz").await;
    assert_eq!(health.text().await.expect("text"), "ok\n");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("plotcast_http_errors_total{status=\"413\"} 1"),
        "{metrics}"
    );
    for name in [
        "plotcast_render_seconds_count",
        "plotcast_encode_seconds_count",
        "plotcast_points_ingested_total",
    ] {
        assert!(metrics.contains(name), "{name} missing in {metrics}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_chart_is_published_into_an_empty_data_dir() {
    let server = TestServer::start_fresh(|s| s.demo = true).await;
    let chart = server.get("/api/charts/demo").await;
    assert_eq!(chart.status(), 200);
    // The collector stores a CPU sample per core every second.
    tests::poll(
        std::time::Duration::from_secs(20),
        "host_cpu samples",
        || async {
            let series = server.try_get_json("/api/series").await?;
            let cpu = series["series"]
                .as_array()?
                .iter()
                .any(|s| s["metric"] == "host_cpu" && s["last"].is_array());
            cpu.then_some(())
        },
    )
    .await;
    let image = Image::from_jpeg(&server.get_bytes("/charts/demo.jpg").await);
    assert_eq!((image.width, image.height), (960, 540));
    server.stop().await;
}
