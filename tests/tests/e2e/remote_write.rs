//! Prometheus remote_write into plotcast (`POST /api/v1/write`): a real Prometheus
//! scrapes a fixture target and remote_writes to a plotcast server, whose points then
//! equal what Prometheus' own query API returns; and the statuses of every refusal,
//! with bodies built by hand (a protobuf encoder independent of the server's).

use std::time::Duration;

use serde_json::{json, Value};
use tests::prometheus::{points_of, samples_of, Exporter, Prometheus};
use tests::{error_message, poll, status_and_json, TestServer};

/// Polls `path` (a `/api/series/points` query) until its first series' last point has
/// value `want` (`None`: a gap); returns that series' tags.
async fn wait_for_last(server: &TestServer, path: &str, want: Option<f64>) -> Value {
    let what = format!("the last point of {path} to be {want:?}");
    poll(Duration::from_secs(60), &what, || async {
        let data = server.try_get_json(path).await?;
        let series = &data["series"][0];
        let last = series["points"].as_array()?.last()?;
        (last[1].as_f64() == want).then(|| series["tags"].clone())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_remote_writes_its_scrapes_into_the_store() {
    let server = TestServer::start_fresh(|_| {}).await;
    let exporter = Exporter::start("fixture_value{host=\"a\"} 42\n").await;
    let config = format!(
        r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ["{target}"]
remote_write:
  - url: "{url}"
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
"#,
        target = exporter.addr,
        url = server.url("/api/v1/write"),
    );
    let prometheus = Prometheus::start(&config).await;
    let instance = exporter.addr.to_string();

    let fixture = "/api/series/points?metric=fixture_value&tag.host=a";
    let tags = wait_for_last(&server, fixture, Some(42.0)).await;
    assert_eq!(
        tags,
        json!({"host": "a", "instance": instance, "job": "fixture"})
    );
    exporter.set("fixture_value{host=\"a\"} 43\n");
    wait_for_last(&server, fixture, Some(43.0)).await;
    let up = "/api/series/points?metric=up&tag.job=fixture";
    let tags = wait_for_last(&server, up, Some(1.0)).await;
    assert_eq!(tags, json!({"instance": instance, "job": "fixture"}));

    // From plotcast's first point up to now, plotcast holds exactly the samples
    // Prometheus answers for that range (none lost, none doubled, same times and values).
    let stored = points_of(&server.get_json(fixture).await);
    let first = stored.first().map(|p| p.0).expect("stored points");
    let now = tests::now_ms();
    let range = format!("{}ms", now - first + 1);
    let query = format!(
        "http://{}/api/v1/query?query=fixture_value{{host=\"a\"}}[{range}]&time={}.{:03}",
        prometheus.addr,
        now / 1000,
        now % 1000
    );
    let from_prometheus = samples_of(&tests::get_json(&server.client, &query).await);
    assert!(from_prometheus.len() >= 2, "{from_prometheus:?}");
    let ours = format!("{fixture}&from={first}&to={now}");
    poll(
        Duration::from_secs(30),
        "plotcast to hold the samples Prometheus answers",
        || async { (points_of(&server.get_json(&ours).await) == from_prometheus).then_some(()) },
    )
    .await;

    // The target goes away: Prometheus writes `up` 0 and a stale marker for the
    // fixture's series, which plotcast stores as a gap.
    drop(exporter);
    wait_for_last(&server, up, Some(0.0)).await;
    wait_for_last(&server, fixture, None).await;

    prometheus.stop().await;
    server.stop().await;
}

/// Appends `value` as a protobuf varint.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A length-delimited protobuf field (wire type 2).
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![number << 3 | 2];
    varint(&mut out, bytes.len() as u64);
    out.extend_from_slice(bytes);
    out
}

/// A series' labels, `(name, value)`.
type Labels<'a> = &'a [(&'a str, &'a str)];

/// A series' samples, `(t_ms, value)`.
type Samples<'a> = &'a [(i64, f64)];

/// A remote_write body: a `WriteRequest` (timeseries = 1; labels = 1 with name = 1 and
/// value = 2; samples = 2 with value = 1 (double) and timestamp = 2 (int64)), snappy
/// block format.
fn write_request(series: &[(Labels<'_>, Samples<'_>)]) -> Vec<u8> {
    let mut request = Vec::new();
    for (labels, samples) in series {
        let mut timeseries = Vec::new();
        for (name, value) in labels.iter() {
            let label = [field(1, name.as_bytes()), field(2, value.as_bytes())].concat();
            timeseries.extend(field(1, &label));
        }
        for (t, v) in samples.iter() {
            let mut sample = vec![1 << 3 | 1];
            sample.extend_from_slice(&v.to_le_bytes());
            sample.push(2 << 3);
            varint(&mut sample, *t as u64);
            timeseries.extend(field(2, &sample));
        }
        request.extend(field(1, &timeseries));
    }
    snap::raw::Encoder::new()
        .compress_vec(&request)
        .expect("snappy compresses")
}

/// The headers Prometheus sends (and the token), less those named in `without`, plus
/// `extra`.
async fn post_write(
    server: &TestServer,
    body: Vec<u8>,
    without: &[&str],
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let sent = [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ("Authorization", "Bearer secret"),
    ];
    let mut request = server.client.post(server.url("/api/v1/write")).body(body);
    for (name, value) in sent.iter().filter(|(name, _)| !without.contains(name)) {
        request = request.header(*name, *value);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    status_and_json(request.send().await.expect("POST /api/v1/write")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_refusals_name_the_problem_with_the_status_senders_expect() {
    let server = TestServer::start_fresh(|c| {
        c.token = Some("secret".into());
        c.max_series = 2;
        c.max_body = 4096;
    })
    .await;
    let t = tests::now_ms() - 5000;
    let one: Labels<'_> = &[("__name__", "rw_temp"), ("room", "a")];
    let stored = post_write(&server, write_request(&[(one, &[(t, 21.5)])]), &[], &[]).await;
    assert_eq!(
        stored,
        (
            200,
            json!({"stored": 1, "skipped": {"histograms": 0, "exemplars": 0}})
        )
    );
    let data = server
        .get_json("/api/series/points?metric=rw_temp&tag.room=a")
        .await;
    assert_eq!(points_of(&data), [(t, 21.5)]);

    let body = || write_request(&[(one, &[(t + 1, 1.0)])]);
    let (status, _) = post_write(&server, body(), &["Authorization"], &[]).await;
    assert_eq!(status, 401, "no token");
    let (status, error) = post_write(&server, body(), &["Content-Encoding"], &[]).await;
    assert_eq!(status, 415, "not snappy: {error}");
    let v2 = (
        "Content-Type",
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    );
    let (status, error) = post_write(&server, body(), &["Content-Type"], &[v2]).await;
    assert_eq!(status, 415, "remote_write 2.0: {error}");
    assert!(error_message(&error).contains("1.0"), "{error}");

    // Bad payloads are 400s (not retried: the same bytes would fail again).
    let (status, error) = post_write(&server, b"\xff\xff\xff\xff\xff\xff".to_vec(), &[], &[]).await;
    assert_eq!(status, 400);
    assert!(error_message(&error).starts_with("snappy: "), "{error}");
    let nameless: Labels<'_> = &[("job", "j")];
    let body = write_request(&[(one, &[(t, 1.0)]), (nameless, &[(t, 1.0)])]);
    let (status, error) = post_write(&server, body, &[], &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        error["error"],
        "invalid remote_write: timeseries[1]: no __name__ label"
    );
    assert_eq!(error["details"][0]["path"], "timeseries[1]");

    // A header announcing 64 KiB decoded, over max_body: refused before decoding.
    let (status, error) = post_write(&server, vec![0x80, 0x80, 0x04], &[], &[]).await;
    assert_eq!(
        (status, &error["limit"]),
        (413, &json!("max_body")),
        "{error}"
    );

    // Over max_series: 422 (retrying cannot help until the operator raises it).
    let (b, c): (Labels<'_>, Labels<'_>) = (&[("__name__", "rw_b")], &[("__name__", "rw_c")]);
    let body = write_request(&[(b, &[(t, 1.0)]), (c, &[(t, 1.0)])]);
    let (status, error) = post_write(&server, body, &[], &[]).await;
    assert_eq!(
        (status, &error["limit"]),
        (422, &json!("max_series")),
        "{error}"
    );

    // Nothing of a refused write was stored.
    assert_eq!(server.series_metrics().await, [json!("rw_temp")]);
    let data = server
        .get_json("/api/series/points?metric=rw_temp&tag.room=a")
        .await;
    assert_eq!(points_of(&data), [(t, 21.5)]);
    server.stop().await;
}
