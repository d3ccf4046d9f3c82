//! Durability: charts (with versions) and points survive a restart on the same data
//! directory, and the restarted server renders the stored points.

use serde_json::{json, Value};
use tests::{config, now_ms, red, Image, TestServer};

use crate::temp_chart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_charts_and_points() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = now_ms() - 10_000;
    {
        let server = TestServer::start(config(dir.path())).await;
        assert_eq!(
            server
                .put_chart("temp", &temp_chart("bar", "1h"))
                .await
                .status(),
            201
        );
        let points = json!({"points": [{"metric": "temp", "t": t, "v": 90}]});
        assert_eq!(server.post_points(points).await.status(), 200);
        let line = format!("other v=5 {}", t * 1_000_000);
        let response = server
            .client
            .post(server.url("/write"))
            .body(line)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 204);
        server.stop().await;
    }
    let server = TestServer::start(config(dir.path())).await;
    let chart: Value = server
        .client
        .get(server.url("/api/charts/temp"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(chart["version"], 1);
    assert_eq!(chart["spec"]["panels"][0]["kind"], "bar");
    for (metric, value) in [("temp", 90.0), ("other_v", 5.0)] {
        let query = format!(
            "/api/series/points?metric={metric}&from={}&to={}",
            t - 1,
            t + 1
        );
        let data: Value = server
            .client
            .get(server.url(&query))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        assert_eq!(data["series"][0]["points"], json!([[t, value]]), "{metric}");
    }
    // The cache was filled from the store: the frame shows the stored value.
    let jpg = server
        .client
        .get(server.url("/charts/temp.jpg"))
        .send()
        .await
        .expect("GET jpg");
    let image = Image::from_jpeg(&jpg.bytes().await.expect("bytes"));
    assert!(
        image.count(0..400, 0..120, red) > 100,
        "a tall bar from the stored point"
    );
    assert_eq!(
        server
            .put_chart("temp", &temp_chart("bar", "2h"))
            .await
            .status(),
        200
    );
    let chart: Value = server
        .client
        .get(server.url("/api/charts/temp"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(chart["version"], 2);
    server.stop().await;
}
