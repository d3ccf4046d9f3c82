//! Chart publishing and the error contract: right status, JSON `{"error", "details"}`
//! with a clear message, nothing stored half-way.

use serde_json::Value;
use tests::{config, TestServer};

use crate::temp_chart;

async fn error_of(response: reqwest::Response) -> (u16, String, Vec<Value>) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    let message = body["error"]
        .as_str()
        .expect("an error message")
        .to_string();
    let details = body["details"].as_array().expect("a details array").clone();
    (status, message, details)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_read_replace_list_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(config(dir.path())).await;
    let spec = temp_chart("timeseries", "1m");
    let created = server.put_chart("room-1", &spec).await;
    assert_eq!(created.status(), 201);
    let replaced = server
        .put_chart("room-1", &spec.replace("\"fps\":30", "\"fps\":5"))
        .await;
    assert_eq!(replaced.status(), 200);
    let body: Value = replaced.json().await.expect("json");
    assert_eq!(body["version"], 2);

    let chart: Value = server
        .client
        .get(server.url("/api/charts/room-1"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(chart["version"], 2);
    assert_eq!(chart["spec"]["fps"], 5);
    assert_eq!(chart["spec"]["panels"][0]["series"][0]["metric"], "temp");

    let list: Value = server
        .client
        .get(server.url("/api/charts"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = list["charts"]
        .as_array()
        .expect("charts")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["room-1"]);

    let png = server
        .client
        .get(server.url("/charts/room-1.png"))
        .send()
        .await
        .expect("GET png");
    assert_eq!(png.headers()["content-type"], "image/png");
    let image = tests::Image::from_png(&png.bytes().await.expect("png"));
    assert_eq!((image.width, image.height), (400, 300));
    let jpg = server
        .client
        .get(server.url("/charts/room-1.jpg"))
        .send()
        .await
        .expect("GET jpg");
    let image = tests::Image::from_jpeg(&jpg.bytes().await.expect("jpg"));
    assert_eq!((image.width, image.height), (400, 300));

    let deleted = server
        .client
        .delete(server.url("/api/charts/room-1"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), 204);
    let (status, message, _) = error_of(
        server
            .client
            .get(server.url("/api/charts/room-1"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!((status, message.as_str()), (404, "no chart \"room-1\""));
    let stream = server
        .client
        .get(server.url("/charts/room-1.mjpg"))
        .send()
        .await
        .expect("GET stream");
    assert_eq!(stream.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_specs_get_every_problem_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(config(dir.path())).await;

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

    let (status, _, _) = error_of(
        server
            .client
            .get(server.url("/api/charts/bad"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(status, 404, "no failed PUT may store a chart");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_and_schema_health_metrics_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.max_body = 1000;
    let server = TestServer::start(settings).await;
    let big = format!(
        "{{\"points\":[{}]}}",
        vec!["{\"metric\":\"m\",\"v\":1}"; 100].join(",")
    );
    let response = server
        .client
        .post(server.url("/api/points"))
        .body(big)
        .send()
        .await
        .expect("POST");
    let (status, message, _) = error_of(response).await;
    assert_eq!(status, 413);
    assert_eq!(
        message,
        "request body is larger than the limit of 1000 bytes (max_body)"
    );
    let series: Value = server
        .client
        .get(server.url("/api/series"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(series["series"].as_array().map(Vec::len), Some(0));

    let schema: Value = server
        .client
        .get(server.url("/api/schema"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert!(schema["properties"]["panels"].is_object(), "{schema}");
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("GET");
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
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.demo = true;
    let server = TestServer::start(settings).await;
    let chart = server
        .client
        .get(server.url("/api/charts/demo"))
        .send()
        .await
        .expect("GET demo");
    assert_eq!(chart.status(), 200);
    // The collector stores a CPU sample per core every second.
    tests::poll(
        std::time::Duration::from_secs(20),
        "host_cpu samples",
        || async {
            let series: Value = server
                .client
                .get(server.url("/api/series"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let cpu = series["series"]
                .as_array()?
                .iter()
                .any(|s| s["metric"] == "host_cpu" && s["last"].is_array());
            cpu.then_some(())
        },
    )
    .await;
    let jpg = server
        .client
        .get(server.url("/charts/demo.jpg"))
        .send()
        .await
        .expect("GET jpg");
    let image = tests::Image::from_jpeg(&jpg.bytes().await.expect("bytes"));
    assert_eq!((image.width, image.height), (960, 540));
    server.stop().await;
}
