//! Variables and overrides in the URL: each distinct set of picture parameters is its
//! own live stream (`?var-host=db2`), capped per chart (503 beyond it); overrides
//! (`width`, `height`, `theme`, `window`, `title`) change the picture and bad or
//! unknown parameters are 400 naming the parameter; signed URLs cover their
//! parameters.

use std::time::Duration;

use serde_json::{json, Value};
use tests::{
    assert_over_limit, cli_signed_url, error_message, metric_value, now_ms, poll, red, send_ok,
    status_and_json, Image, MjpegReader, TestServer,
};

const DEADLINE: Duration = Duration::from_secs(10);
const TOKEN: &str = "s3cret";

/// A red bar of metric `temp` of host `$host` (0..100), variable `host` allowing
/// `allowed` (JSON), default `db1`.
fn host_chart(allowed: &str) -> String {
    format!(
        r##"{{"version":1,"width":400,"height":300,"window":"1h","fps":30,"title":"temp on $host",
        "variables":{{"host":{{"default":"db1","allowed":{allowed}}}}},
        "panels":[{{"kind":"bar","series":[{{"metric":"temp","tags":{{"host":"$host"}},"color":"#ff0000"}}],
        "y_axis":{{"min":0,"max":100}},"legend":{{"position":"none"}}}}]}}"##
    )
}

/// A server with chart `vars` (hosts db1..db9) and db1 = 90, db2 = 10.
async fn hosts_server(configure: impl FnOnce(&mut server::Config)) -> TestServer {
    let server = TestServer::start_fresh(configure).await;
    server
        .create_chart("vars", &host_chart(r#""db[0-9]""#))
        .await;
    write_hosts(&server).await;
    server
}

async fn write_hosts(server: &TestServer) {
    let point = |host: &str, v: f64| json!({"metric": "temp", "tags": {"host": host}, "t": now_ms(), "v": v});
    let body = json!({"points": [point("db1", 90.0), point("db2", 10.0)]});
    assert_eq!(server.post_points(body).await.status(), 200);
}

fn tall(image: &Image) -> bool {
    image.count(0..400, 40..120, red) > 100
}

fn short(image: &Image) -> bool {
    image.count(0..400, 40..120, red) == 0 && image.count(0..400, 120..300, red) > 100
}

async fn first_image(reader: &mut MjpegReader) -> Image {
    reader.next_part_within(DEADLINE).await.jpeg()
}

async fn variants(server: &TestServer) -> Option<usize> {
    metric_value(
        &server.metrics().await,
        "plotcast_chart_variants{chart=\"vars\"}",
    )
}

async fn png(server: &TestServer, query: &str) -> Image {
    let response = server.get(&format!("/charts/vars.png?{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    Image::from_png(&response.bytes().await.expect("PNG body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_with_different_variables_see_different_pictures() {
    let server = hosts_server(|_| {}).await;
    let mut db1 = server.stream("/charts/vars.mjpg?var-host=db1").await;
    let mut db2 = server.stream("/charts/vars.mjpg?var-host=db2").await;
    assert!(tall(&first_image(&mut db1).await), "db1 = 90: a tall bar");
    assert!(short(&first_image(&mut db2).await), "db2 = 10: a short bar");
    // The same parameters (in another order, with a cache-buster) join a live variant;
    // no parameters is the default variant (db1).
    let mut same = server.stream("/charts/vars.mjpg?_=1&var-host=db2").await;
    assert!(short(&first_image(&mut same).await));
    let mut default = server.stream("/charts/vars.mjpg").await;
    assert!(tall(&first_image(&mut default).await), "the default is db1");
    assert_eq!(variants(&server).await, Some(3));
    // Snapshots take the same parameters.
    assert!(short(&png(&server, "var-host=db2").await));
    assert!(tall(&png(&server, "var-host=db1").await));
    let jpeg = server.get_bytes("/charts/vars.jpg?var-host=db2").await;
    assert!(short(&Image::from_jpeg(&jpeg)));

    // A variant is dropped with its last viewer.
    drop(default);
    poll(DEADLINE, "the default variant dropped", || async {
        (variants(&server).await == Some(2)).then_some(())
    })
    .await;

    // A republish re-derives every live variant: db2 is no longer allowed, so its
    // streams end; db1's goes on.
    let republished = server.put_chart("vars", &host_chart(r#"["db1"]"#)).await;
    assert_eq!(republished.status(), 200);
    for reader in [&mut db2, &mut same] {
        // Whatever frames were on their way, then the end of the body.
        let ended = async { while reader.next_part().await.is_ok() {} };
        tokio::time::timeout(DEADLINE, ended)
            .await
            .expect("the db2 stream ends in time");
    }
    write_hosts(&server).await;
    assert!(tall(&first_image(&mut db1).await), "db1 still streams");
    let (status, body) = status_and_json(server.get("/charts/vars.png?var-host=db2").await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["parameter"], "var-host", "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_variant_cap_answers_503_with_retry_after() {
    let server = hosts_server(|s| s.max_variants_per_chart = 2).await;
    let _db1 = server.stream("/charts/vars.mjpg?var-host=db1").await;
    let db2 = server.stream("/charts/vars.mjpg?var-host=db2").await;
    let refused = server.get("/charts/vars.mjpg?var-host=db3").await;
    assert_over_limit(refused, "max_variants_per_chart").await;
    // Live variants take more viewers; snapshots are not capped.
    let _db1_again = server.stream("/charts/vars.mjpg?var-host=db1").await;
    png(&server, "var-host=db3").await;
    drop(db2);
    poll(DEADLINE, "a variant's place is free again", || async {
        (server.get("/charts/vars.mjpg?var-host=db3").await.status() == 200).then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_change_the_picture_and_bad_parameters_are_400_naming_them() {
    let server = hosts_server(|_| {}).await;
    let small = png(&server, "width=200&height=100").await;
    assert_eq!((small.width, small.height), (200, 100));
    let mut stream = server
        .stream("/charts/vars.mjpg?width=200&height=120&fps=5")
        .await;
    let frame = first_image(&mut stream).await;
    assert_eq!((frame.width, frame.height), (200, 120));
    let dark = |p: [u8; 3]| p.iter().all(|c| *c < 60);
    let light = png(&server, "").await;
    let themed = png(&server, "theme=dark").await;
    assert_eq!(light.count(0..400, 0..4, dark), 0);
    assert!(themed.count(0..400, 0..4, dark) > 1200, "a dark background");
    assert!(png(&server, "title=Other").await != light, "another title");
    // A bar shows the latest value in any window; render-core's tests check the window.
    png(&server, "window=10s").await;
    assert!(
        png(&server, "_=123&t=1700000000").await == light,
        "cache-busters"
    );

    for (query, parameter) in [
        ("widht=200", "widht"),
        ("width=5000", "width"),
        ("width=wide", "width"),
        ("theme=blue", "theme"),
        ("window=forever", "window"),
        ("var-host=web1", "var-host"),
        ("var-nope=1", "var-nope"),
        ("width=100&width=200", "width"),
    ] {
        for ext in ["png", "jpg", "mjpg"] {
            let (status, body) =
                status_and_json(server.get(&format!("/charts/vars.{ext}?{query}")).await).await;
            assert_eq!(status, 400, "{ext}?{query}: {body}");
            assert_eq!(body["details"][0]["parameter"], parameter, "{ext}?{query}");
            let error = error_message(&body);
            assert!(error.contains(parameter), "{ext}?{query}: {error}");
        }
    }
    let (status, body) = status_and_json(server.get("/charts/vars.mjpg?fps=0").await).await;
    assert_eq!(
        (status, body["details"][0]["parameter"].as_str()),
        (400, Some("fps"))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_urls_cover_their_parameters() {
    let owned = TestServer::start_fresh(|s| s.token = Some(TOKEN.into())).await;
    let server = &owned;
    let client = &server.client;
    let created = client
        .put(server.url("/api/charts/vars?private=true"))
        .bearer_auth(TOKEN)
        .body(host_chart(r#""db[0-9]""#))
        .send()
        .await
        .expect("PUT");
    assert_eq!(created.status(), 201);
    let point = |host: &str, v: f64| json!({"metric": "temp", "tags": {"host": host}, "t": now_ms(), "v": v});
    let points = json!({"points": [point("db1", 90.0), point("db2", 10.0)]});
    send_ok(
        client
            .post(server.url("/api/points"))
            .bearer_auth(TOKEN)
            .json(&points),
        "POST points",
    )
    .await;
    let sign = |query: &'static str| async move {
        let response = client
            .post(server.url(&format!("/api/charts/vars/sign?{query}")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("POST sign");
        status_and_json(response).await
    };
    let (status, signed) = sign("ttl=1h&var-host=db2").await;
    assert_eq!(status, 200, "{signed}");
    let query = signed["query"].as_str().expect("query").to_string();
    assert!(query.starts_with("var-host=db2&exp="), "{query}");
    let status_of = |query: String| async move {
        server
            .get(&format!("/charts/vars.png?{query}"))
            .await
            .status()
            .as_u16()
    };
    assert!(short(&png(server, &query).await), "the signed variant: db2");
    assert_eq!(
        status_of(format!("{query}&_=1")).await,
        200,
        "cache-busters stay free"
    );
    let mut stream = server
        .stream(signed["stream"].as_str().expect("stream URL"))
        .await;
    assert!(short(&first_image(&mut stream).await));
    // The viewer cannot change, drop or add parameters.
    let exp_sig = query.trim_start_matches("var-host=db2&");
    for changed in [
        format!("var-host=db1&{exp_sig}"),
        exp_sig.to_string(),
        format!("{query}&width=200"),
    ] {
        assert_eq!(status_of(changed.clone()).await, 403, "{changed}");
    }
    // Signing checks the parameters against the chart.
    let (status, body) = sign("var-host=web1").await;
    assert_eq!(
        (status, body["details"][0]["parameter"].as_str()),
        (400, Some("var-host"))
    );
    let (status, body) = sign("colour=red").await;
    assert_eq!(
        (status, body["details"][0]["parameter"].as_str()),
        (400, Some("colour"))
    );

    // `plotcast sign --var` signs the same way, without a server.
    let base = server.url("");
    let args = [
        "vars",
        "--var",
        "host=db2",
        "--param",
        "width=200",
        "--base",
        &base,
    ];
    let url = cli_signed_url(&args, TOKEN, "png").await;
    assert!(url.contains("?var-host=db2&width=200&exp="), "{url}");
    let response = send_ok(client.get(&url), "GET signed by the CLI").await;
    let image = Image::from_png(&response.bytes().await.expect("PNG"));
    assert_eq!(image.width, 200);
    let body: Value = client
        .get(url.replace("host=db2", "host=db1"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert!(error_message(&body).contains("signature"), "{body}");
    owned.stop().await;
}
