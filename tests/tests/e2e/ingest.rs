//! Data in: InfluxDB line protocol as Telegraf's `influxdb` (v1) and `influxdb_v2`
//! outputs send it, simple JSON points, series queries, and all-or-nothing batches.

use std::io::Write;

use serde_json::{json, Value};
use tests::{error_message, Image, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegraf_v1_and_v2_requests_store_points() {
    let server = TestServer::start_fresh(|_| {}).await;
    let t = tests::now_ms() / 1000 * 1000 - 5000;

    // Telegraf `outputs.influxdb` starts with a ping and CREATE DATABASE; both succeed.
    let ping = server.get("/ping").await;
    assert_eq!(ping.status(), 204);
    assert!(ping.headers().contains_key("x-influxdb-version"));
    let create = server
        .post("/query?q=CREATE%20DATABASE%20%22telegraf%22")
        .await;
    assert_eq!(create.status(), 200);
    let select = server.get("/query?q=SELECT%20*%20FROM%20cpu").await;
    assert_eq!(select.status(), 400);
    let message: Value = select.json().await.expect("json error");
    assert!(
        error_message(&message).contains("only CREATE DATABASE"),
        "{message}"
    );

    // Telegraf `outputs.influxdb`: POST /write?db=telegraf&precision=s (here: seconds).
    let v1 = format!(
        "cpu,cpu=cpu0,host=h usage_idle=90.5,usage_user=2i,state=\"ok\" {}\ncpu,cpu=cpu1,host=h usage_idle=80 {}\n",
        t / 1000,
        t / 1000
    );
    let response = server.post_body("/write?db=telegraf&precision=s", v1).await;
    assert_eq!(response.status(), 204);

    // Telegraf `outputs.influxdb_v2`: gzip body, Token auth, org/bucket, ns precision.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("mem,host=h used=1234 {}\n", (t + 1000) * 1_000_000).as_bytes())
        .expect("gzip");
    let body = gz.finish().expect("gzip");
    let response = server
        .client
        .post(server.url("/api/v2/write?org=o&bucket=b&precision=ns"))
        .header("Authorization", "Token anything")
        .header("Content-Encoding", "gzip")
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("POST /api/v2/write");
    assert_eq!(response.status(), 204);

    let all = server.series().await;
    let summary: Vec<(String, Value, Value)> = all
        .iter()
        .map(|s| {
            (
                s["metric"].as_str().unwrap_or("").to_string(),
                s["tags"].clone(),
                s["last"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "cpu_usage_idle".to_string(),
                json!({"cpu": "cpu0", "host": "h"}),
                json!([t, 90.5])
            ),
            (
                "cpu_usage_idle".to_string(),
                json!({"cpu": "cpu1", "host": "h"}),
                json!([t, 80.0])
            ),
            (
                "cpu_usage_user".to_string(),
                json!({"cpu": "cpu0", "host": "h"}),
                json!([t, 2.0])
            ),
            (
                "mem_used".to_string(),
                json!({"host": "h"}),
                json!([t + 1000, 1234.0])
            ),
        ]
    );

    let query = format!(
        "/api/series/points?metric=cpu_usage_idle&tag.cpu=cpu1&from={}&to={}",
        t - 1,
        t + 1
    );
    let data = server.get_json(&query).await;
    assert_eq!(
        data,
        json!({"series": [{"metric": "cpu_usage_idle", "tags": {"cpu": "cpu1", "host": "h"}, "points": [[t, 80.0]]}]})
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_rejects_the_whole_batch_naming_the_line() {
    let server = TestServer::start_fresh(|_| {}).await;
    let body = "good v=1\ngood v=2\nbad v=oops\n";
    let response = server.post_body("/write", body).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(
        error["error"],
        "invalid line protocol: line 3: field \"v\": \"oops\" is not a number"
    );
    assert_eq!(
        error["details"],
        json!([{"line": 3, "message": "field \"v\": \"oops\" is not a number"}])
    );
    let response = server
        .post_body("/write?precision=fortnights", "m v=1")
        .await;
    assert_eq!(response.status(), 400);
    assert!(
        server.series().await.is_empty(),
        "nothing of a rejected batch may be stored"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_points_store_and_bad_json_stores_nothing() {
    let server = TestServer::start_fresh(|_| {}).await;
    // Recent times: points older than the retention (7 d) are pruned.
    let t = tests::now_ms() - 10_000;
    let response = server
        .post_points(json!({"points": [
            {"metric": "temp", "tags": {"room": "a"}, "t": t, "v": 21.5},
            {"metric": "temp", "tags": {"room": "a"}, "t": t + 1000, "v": null},
        ]}))
        .await;
    assert_eq!(response.status(), 200);
    let data = server
        .get_json(&format!(
            "/api/series/points?metric=temp&from={t}&to={}",
            t + 5000
        ))
        .await;
    assert_eq!(
        data["series"][0]["points"],
        json!([[t, 21.5], [t + 1000, null]])
    );

    let unknown = server
        .post_points(json!({"points": [{"metric": "x", "v": 1, "value": 2}]}))
        .await;
    assert_eq!(unknown.status(), 400);
    let error: Value = unknown.json().await.expect("json");
    let message = error_message(&error);
    assert!(
        message.starts_with("invalid points JSON: unknown field `value`"),
        "{message}"
    );
    let half = server
        .post_points(json!({"points": [{"metric": "y", "v": 1}, {"metric": "", "v": 2}]}))
        .await;
    assert_eq!(half.status(), 400);
    assert_eq!(server.series_metrics().await, [json!("temp")]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_writes_need_it_in_any_client_form() {
    let server = TestServer::start_fresh(|s| s.token = Some("s3cret".into())).await;
    let write = |auth: Option<&'static str>, query: &'static str| {
        let mut request = server
            .client
            .post(server.url(&format!("/write{query}")))
            .body("m v=1");
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        async move { request.send().await.expect("POST").status().as_u16() }
    };
    assert_eq!(write(None, "").await, 401);
    assert_eq!(write(Some("Token wrong"), "").await, 401);
    assert_eq!(write(Some("Token s3cret"), "").await, 204);
    assert_eq!(write(Some("Bearer s3cret"), "").await, 204);
    // Basic auth "telegraf:s3cret", as the influxdb v1 output sends it.
    assert_eq!(write(Some("Basic dGVsZWdyYWY6czNjcmV0"), "").await, 204);
    assert_eq!(write(None, "?u=telegraf&p=s3cret").await, 204);
    let put = server
        .put_chart("c", &crate::temp_chart("timeseries", "1m"))
        .await;
    assert_eq!(put.status(), 401);
    // Reading needs no token.
    assert_eq!(server.get("/api/series").await.status(), 200);
    server.stop().await;
}

/// Fonts given with `--font` join the fallback chain of every render, and the editor can
/// fetch them (`/api/fonts`) so its preview draws the same glyphs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_fonts_render_and_are_served_to_the_editor() {
    const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    let font = std::fs::read(CJK_FONT).expect("CJK font (apt-get install fonts-wqy-microhei)");
    let spec = json!({"version": 1, "width": 200, "height": 80,
        "panels": [{"kind": "text", "text": "中文", "font_size": 28}]});
    let render = |server: &TestServer| {
        let request = server
            .client
            .post(server.url("/api/render"))
            .json(&json!({"spec": spec, "now": 0}));
        async move {
            request
                .send()
                .await
                .expect("POST /api/render")
                .bytes()
                .await
                .expect("png")
                .to_vec()
        }
    };

    let plain = TestServer::start_fresh(|_| {}).await;
    let listed = plain.get_json("/api/fonts").await;
    assert_eq!(listed, json!({"fonts": []}));
    let boxes = render(&plain).await;

    let server = TestServer::start_fresh(|s| s.fonts = vec![CJK_FONT.into()]).await;
    let listed = server.get_json("/api/fonts").await;
    assert_eq!(listed, json!({"fonts": ["/api/fonts/0"]}));
    let served = server.get("/api/fonts/0").await;
    assert_eq!(served.status(), 200);
    assert!(
        served.bytes().await.expect("bytes").as_ref() == font.as_slice(),
        "the font file as given"
    );
    let missing = server.get("/api/fonts/1").await;
    assert_eq!(missing.status(), 404);
    let glyphs = render(&server).await;
    assert!(
        glyphs != boxes,
        "with the CJK font the text is drawn as glyphs, not boxes"
    );
}

/// Without `--font`, the server finds the installed CJK font itself (`--system-fonts`,
/// on by default): a chart titled in Chinese gets the same glyphs as with the font given
/// explicitly, not the boxes of a server without it, and the editor can fetch the font.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_fonts_render_any_language_without_configuration() {
    const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    let font = std::fs::read(CJK_FONT).expect("CJK font (apt-get install fonts-wqy-microhei)");
    let chart = json!({"version": 1, "width": 300, "height": 120, "title": "城市温度",
        "panels": [{"kind": "text", "text": "温度 23 °C"}]})
    .to_string();
    let system = TestServer::start_fresh(|s| s.system_fonts = true).await;
    let explicit = TestServer::start_fresh(|s| s.fonts = vec![CJK_FONT.into()]).await;
    let none = TestServer::start_fresh(|_| {}).await;
    let found = city_picture(&system, &chart).await;
    assert_eq!(
        found,
        city_picture(&explicit, &chart).await,
        "the same glyphs as with --font"
    );
    assert_ne!(
        found,
        city_picture(&none, &chart).await,
        "glyphs, not boxes"
    );

    let listed = system.get_json("/api/fonts").await;
    let mut served = Vec::new();
    for url in listed["fonts"].as_array().expect("a font list") {
        let url = url.as_str().expect("a font URL");
        served.push(system.get_bytes(url).await);
    }
    assert!(
        served.iter().any(|bytes| bytes.as_ref() == font.as_slice()),
        "the editor can fetch the CJK font ({} fonts listed)",
        served.len()
    );
    for server in [system, explicit, none] {
        server.stop().await;
    }
}

/// `chart` published as `city` on `server`, and its `.png`.
async fn city_picture(server: &TestServer, chart: &str) -> Image {
    server.create_chart("city", chart).await;
    Image::from_png(&server.get_bytes("/charts/city.png").await)
}
