//! Scale-out on NATS: a real `nats-server` and several `plotcast` processes (origins
//! and edges) on loopback. Each frame is rendered once on the origin however many edges
//! and viewers watch it, NATS carries one copy per edge, an origin with no viewers
//! anywhere renders nothing, and viewers stay connected through the loss of an edge,
//! of NATS and of the rendering origin.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tests::nats::NatsServer;
use tests::{
    built_plotcast, create_chart_at, frames_rendered, metric_value, now_ms, poll, spawn_plotcast,
    viewers, CountingViewer, MjpegReader, TestServer,
};
use tokio::process::Child;

use crate::temp_chart;

/// How long anything the tests wait for may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// A plotcast process and its base URL.
struct Node {
    child: Child,
    url: String,
    /// Its `--token`, sent with writes.
    token: Option<String>,
    _dir: tempfile::TempDir,
}

impl Node {
    async fn start(binary: &Path, args: &[&str]) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        // The same text on every machine, and a quick start.
        let args = [args, &["--system-fonts", "false"]].concat();
        let (child, url) = spawn_plotcast(binary, dir.path(), &args, &[]).await;
        let token = args.windows(2).find(|w| w[0] == "--token");
        Node {
            child,
            url,
            token: token.map(|w| w[1].to_string()),
            _dir: dir,
        }
    }

    async fn origin(binary: &Path, nats: &NatsServer) -> Node {
        Node::start(binary, &["--nats", &nats.url()]).await
    }

    async fn edge(binary: &Path, nats: &NatsServer) -> Node {
        Node::start(binary, &["--role", "edge", "--nats", &nats.url()]).await
    }

    /// The part of this node's NATS client name that tells it from the others.
    fn nats_name(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    async fn metrics(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.url)).await;
        let response = response.expect("GET /metrics");
        response.text().await.expect("metrics text")
    }

    async fn viewer(&self, chart: &str) -> CountingViewer {
        let url = format!("{}/charts/{chart}.mjpg", self.url);
        let response = reqwest::get(&url).await.expect("GET the stream");
        assert_eq!(response.status(), 200, "{url}");
        CountingViewer::start(MjpegReader::new(response))
    }

    async fn write(&self, value: f64) {
        let points = json!({"points": [{"metric": "temp", "t": now_ms(), "v": value}]});
        let client = reqwest::Client::new();
        let mut request = client
            .post(format!("{}/api/points", self.url))
            .json(&points);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /api/points");
        assert_eq!(response.status(), 200);
    }

    async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// A chart without a time axis (a bar of the latest `temp`): it renders once per
/// write and never otherwise, so frames can be counted.
fn counted_chart() -> String {
    temp_chart("bar", "1m").replace("\"fps\":30", "\"fps\":10")
}

/// Waits until every viewer has seen at least `at_least[i]` pictures.
async fn wait_for_pictures(viewers: &[CountingViewer], at_least: &[usize], what: &str) {
    poll(PATIENCE, what, || async {
        viewers
            .iter()
            .zip(at_least)
            .all(|(viewer, n)| viewer.pictures() >= *n)
            .then_some(())
    })
    .await;
}

fn pictures(viewers: &[CountingViewer]) -> Vec<usize> {
    viewers.iter().map(CountingViewer::pictures).collect()
}

fn plus(counts: &[usize], n: usize) -> Vec<usize> {
    counts.iter().map(|c| c + n).collect()
}

fn gauge(metrics: &str, name: &str) -> u64 {
    metric_value(metrics, name).unwrap_or(0)
}

/// Writes `count` values on `origin`, each after the previous one reached every viewer.
async fn write_and_deliver(origin: &Node, viewers: &[CountingViewer], count: usize, from: f64) {
    for i in 0..count {
        let before = pictures(viewers);
        origin.write(from + i as f64).await;
        wait_for_pictures(
            viewers,
            &plus(&before, 1),
            "a write's frame at every viewer",
        )
        .await;
    }
}

/// Writes a new value on `origin` each second (`from`, `from + 1`, ... : distinct bars
/// under the axis maximum) until every viewer has seen a new picture: frames flow
/// (again) from the origin to the viewers.
async fn write_until_frames_flow(origin: &Node, viewers: &[CountingViewer], from: f64, what: &str) {
    let seen = pictures(viewers);
    let mut value = from - 1.0;
    poll(PATIENCE, what, || {
        value += 1.0;
        let write = origin.write(value);
        let seen = &seen;
        async move {
            write.await;
            let wanted = plus(seen, 1);
            let delivered = wait_for_pictures(viewers, &wanted, what);
            tokio::time::timeout(Duration::from_secs(1), delivered)
                .await
                .ok()
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_edges_get_each_frame_rendered_once_one_nats_copy_per_edge_and_survive_losing_one() {
    let binary = built_plotcast().await;
    let nats = NatsServer::start().await;
    let origin = Node::origin(&binary, &nats).await;
    let mut edges = Vec::new();
    for _ in 0..3 {
        edges.push(Node::edge(&binary, &nats).await);
    }
    let client = reqwest::Client::new();
    create_chart_at(&client, &origin.url, "busy", &counted_chart()).await;
    origin.write(0.0).await;
    // Three viewers on each edge.
    let mut watching = Vec::new();
    for edge in &edges {
        for _ in 0..3 {
            watching.push(edge.viewer("busy").await);
        }
    }
    wait_for_pictures(&watching, &[1; 9], "a first picture at every viewer").await;
    let origin_before = origin.metrics().await;
    let mut delivered_before = Vec::new();
    for edge in &edges {
        delivered_before.push(nats.messages_to(&edge.nats_name()).await);
    }
    const WRITES: usize = 10;
    write_and_deliver(&origin, &watching, WRITES, 1.0).await;
    let origin_after = origin.metrics().await;
    let rendered = frames_rendered(&origin_after, "busy") - frames_rendered(&origin_before, "busy");
    let published_name = "plotcast_nats_frames_published_total";
    let published = gauge(&origin_after, published_name) - gauge(&origin_before, published_name);
    assert_eq!(
        viewers(&origin_after, "busy"),
        Some(1),
        "the origin has one viewer of the chart: the publisher for all edges"
    );
    // The same writes on one server alone, with one viewer.
    let alone = TestServer::start_fresh(|_| {}).await;
    alone.create_chart("busy", &counted_chart()).await;
    assert_eq!(
        alone
            .post_points(json!({"points": [{"metric": "temp", "t": now_ms(), "v": 0.0}]}))
            .await
            .status(),
        200
    );
    let solo = [CountingViewer::start(
        alone.stream("/charts/busy.mjpg").await,
    )];
    wait_for_pictures(&solo, &[1], "the lone server's first picture").await;
    let alone_before = frames_rendered(&alone.metrics().await, "busy");
    for i in 1..=WRITES {
        let before = pictures(&solo);
        let point = json!({"points": [{"metric": "temp", "t": now_ms(), "v": i as f64}]});
        assert_eq!(alone.post_points(point).await.status(), 200);
        wait_for_pictures(&solo, &plus(&before, 1), "the lone server's frame").await;
    }
    let alone_rendered = frames_rendered(&alone.metrics().await, "busy") - alone_before;
    assert_eq!(
        alone_rendered, WRITES as u64,
        "one frame per write on a lone server"
    );
    assert_eq!(
        rendered, alone_rendered,
        "the origin renders what a lone server renders, for 3 edges and 9 viewers"
    );
    assert_eq!(published, rendered, "each rendered frame published once");
    // NATS delivered each frame once to each edge (three viewers each): not per viewer.
    for (edge, before) in edges.iter().zip(&delivered_before) {
        let delivered = nats.messages_to(&edge.nats_name()).await - before;
        assert_eq!(delivered, published, "NATS messages to edge {}", edge.url);
    }
    // Kill one edge: the others' viewers keep getting every frame.
    edges[0].kill().await;
    let others = watching.split_off(3);
    poll(
        PATIENCE,
        "the killed edge's viewers to see their stream end",
        || async { watching.iter().all(|v| !v.connected()).then_some(()) },
    )
    .await;
    write_and_deliver(&origin, &others, 3, 100.0).await;
    assert!(others.iter().all(CountingViewer::connected));
    alone.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_viewers_anywhere_the_origin_renders_nothing() {
    let binary = built_plotcast().await;
    let nats = NatsServer::start().await;
    let origin = Node::origin(&binary, &nats).await;
    let edge = Node::edge(&binary, &nats).await;
    let client = reqwest::Client::new();
    create_chart_at(&client, &origin.url, "watched", &counted_chart()).await;
    // The same data, watched on the origin itself: proof that a write was drawn.
    create_chart_at(&client, &origin.url, "witness", &counted_chart()).await;
    origin.write(1.0).await;
    let on_edge = [edge.viewer("watched").await];
    wait_for_pictures(&on_edge, &[1], "a picture at the edge's viewer").await;
    let witness = [origin.viewer("witness").await];
    wait_for_pictures(&witness, &[1], "the witness's first picture").await;
    drop(on_edge);
    // The edge forgets the variant, its heartbeats stop naming it, and the origin lets
    // it go (INTEREST_TTL) and stops rendering it.
    poll(
        PATIENCE,
        "the origin to stop publishing for edges",
        || async {
            let metrics = origin.metrics().await;
            let idle = gauge(&metrics, "plotcast_nats_published_variants") == 0
                && viewers(&metrics, "watched") == Some(0);
            idle.then_some(())
        },
    )
    .await;
    let before = frames_rendered(&origin.metrics().await, "watched");
    for value in [2.0, 3.0, 4.0] {
        let seen = pictures(&witness);
        origin.write(value).await;
        wait_for_pictures(&witness, &plus(&seen, 1), "the witness drew the write").await;
    }
    let after = frames_rendered(&origin.metrics().await, "watched");
    assert_eq!(after, before, "no frame of a chart nobody watches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_keeps_edge_viewers_connected_with_their_last_frame_then_frames_resume() {
    let binary = built_plotcast().await;
    let mut nats = NatsServer::start().await;
    let origin = Node::origin(&binary, &nats).await;
    let edge = Node::edge(&binary, &nats).await;
    let client = reqwest::Client::new();
    create_chart_at(&client, &origin.url, "busy", &counted_chart()).await;
    origin.write(1.0).await;
    let watching = [edge.viewer("busy").await, edge.viewer("busy").await];
    wait_for_pictures(&watching, &[1, 1], "first pictures").await;
    let healthz = format!("{}/healthz", edge.url);
    assert_eq!(
        client.get(&healthz).send().await.expect("healthz").status(),
        200
    );

    nats.kill().await;
    poll(
        PATIENCE,
        "the edge's /healthz to fail without NATS",
        || async {
            let status = client.get(&healthz).send().await.ok()?.status();
            (status == 503).then_some(())
        },
    )
    .await;
    let parts: Vec<usize> = watching.iter().map(CountingViewer::parts).collect();
    // The outage the issue names: five seconds without NATS.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (viewer, before) in watching.iter().zip(&parts) {
        assert!(
            viewer.connected(),
            "a viewer was disconnected by the outage"
        );
        assert!(
            viewer.parts() > *before,
            "keepalive repeated the last frame during the outage"
        );
    }
    nats.restart().await;
    poll(PATIENCE, "the edge's /healthz to recover", || async {
        let status = client.get(&healthz).send().await.ok()?.status();
        (status == 200).then_some(())
    })
    .await;
    // Frames resume: a write reaches both viewers (after the origin sees the edge's
    // interest again and takes the lease in the new NATS).
    write_until_frames_flow(&origin, &watching, 3.0, "frames to resume after the outage").await;
    assert!(watching.iter().all(CountingViewer::connected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_origin_takes_over_when_the_rendering_origin_dies_and_no_viewer_disconnects() {
    let binary = built_plotcast().await;
    let nats = NatsServer::start().await;
    let mut origins = [
        Node::origin(&binary, &nats).await,
        Node::origin(&binary, &nats).await,
    ];
    let edge = Node::edge(&binary, &nats).await;
    let client = reqwest::Client::new();
    // Both origins have the chart and the data (the documented layout: writers send to
    // every origin, as Telegraf does with two outputs).
    for origin in &origins {
        create_chart_at(&client, &origin.url, "busy", &counted_chart()).await;
        origin.write(1.0).await;
    }
    let watching = [edge.viewer("busy").await, edge.viewer("busy").await];
    wait_for_pictures(&watching, &[1, 1], "first pictures").await;
    // Exactly one origin publishes.
    let publishing = poll(PATIENCE, "exactly one origin to publish", || async {
        let mut counts = Vec::new();
        for origin in &origins {
            counts.push(gauge(
                &origin.metrics().await,
                "plotcast_nats_published_variants",
            ));
        }
        match counts.as_slice() {
            [1, 0] => Some(0),
            [0, 1] => Some(1),
            _ => None,
        }
    })
    .await;
    let survivor = 1 - publishing;
    origins[publishing].kill().await;
    // The survivor takes the lease once it expires; every write goes to it (and its
    // frames carry the new values) until the viewers see one.
    let survivor_frames = "the second origin's frames at the viewers";
    write_until_frames_flow(&origins[survivor], &watching, 11.0, survivor_frames).await;
    let metrics = origins[survivor].metrics().await;
    assert_eq!(gauge(&metrics, "plotcast_nats_published_variants"), 1);
    assert!(
        watching.iter().all(CountingViewer::connected),
        "no viewer disconnected over the take-over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_checks_viewers_as_the_origin_does_and_sends_everything_else_to_the_origin() {
    const TOKEN: &str = "edge-test-token";
    let binary = built_plotcast().await;
    let nats = NatsServer::start().await;
    let origin = Node::start(&binary, &["--nats", &nats.url(), "--token", TOKEN]).await;
    let args = [
        "--role",
        "edge",
        "--nats",
        &nats.url(),
        "--origin-url",
        &origin.url,
    ];
    let edge = Node::start(&binary, &args).await;
    let client = reqwest::Client::new();
    for path in ["hidden?private=true", "open"] {
        let put = client.put(format!("{}/api/charts/{path}", origin.url));
        let response = put.bearer_auth(TOKEN).body(counted_chart()).send().await;
        assert_eq!(response.expect("PUT").status(), 201, "{path}");
    }
    let get = |path: String| {
        let request = client.get(format!("{}{path}", edge.url)).send();
        async move { request.await.expect("GET on the edge") }
    };
    // Writes, publishing and the editor are the origin's.
    for (method, path) in [("PUT", "/api/charts/x"), ("POST", "/write"), ("GET", "/")] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = client.request(method, format!("{}{path}", edge.url)).send();
        let (status, body) = tests::status_and_json(response.await.expect("request")).await;
        assert_eq!(status, 421, "{path}");
        assert_eq!(body["origin"], json!(origin.url), "{path}");
        let error = tests::error_message(&body);
        assert!(
            error.contains("edge") && error.contains(&origin.url),
            "{error}"
        );
    }
    // Once an origin answers admissions (a fresh one subscribes a moment after it
    // serves; until then the edge says 503, retry) ...
    poll(
        PATIENCE,
        "an origin to answer the edge's admissions",
        || async { (get("/charts/nothing.mjpg".into()).await.status() == 404).then_some(()) },
    )
    .await;
    // ... the origin's checks are passed on.
    let (status, body) = tests::status_and_json(get("/charts/hidden.mjpg".into()).await).await;
    assert_eq!(status, 403);
    assert!(tests::error_message(&body).contains("signed URL"), "{body}");
    let (status, body) =
        tests::status_and_json(get("/charts/open.mjpg?widht=9".into()).await).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("widht"), "{body}");
    // A signed URL streams from the edge, and the stills come from the origin.
    origin.write(5.0).await;
    let exp = now_ms() / 1000 + 600;
    let sig = server::signing::sign(TOKEN, "hidden", exp, "");
    let signed = get(format!("/charts/hidden.mjpg?exp={exp}&sig={sig}")).await;
    assert_eq!(signed.status(), 200);
    let mut reader = MjpegReader::new(signed);
    let part = reader.next_part_within(PATIENCE).await;
    let picture = part.jpeg();
    let jpeg = get("/charts/open.jpg".into()).await;
    assert_eq!(tests::header(&jpeg, "content-type"), Some("image/jpeg"));
    let still = tests::Image::from_jpeg(&jpeg.bytes().await.expect("jpg"));
    assert_eq!(
        still, picture,
        "the private and the public chart draw the same data"
    );
    let png = get("/charts/open.png".into()).await;
    assert_eq!(png.status(), 200);
    tests::Image::from_png(&png.bytes().await.expect("png"));
}
