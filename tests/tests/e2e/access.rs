//! Access: private charts are seen only with a signed URL (or the token); signed URLs
//! come from `POST /api/charts/{id}/sign` and `plotcast sign`; expired or forged ones
//! get 403 with a clear message.

use serde_json::Value;
use tests::{cli_signed_url, now_ms, send_ok, TestServer};

use crate::temp_chart;

const TOKEN: &str = "s3cret";

async fn status_and_error(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let error = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or(text);
    (status, error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_charts_need_a_signed_url_or_the_token() {
    let server = TestServer::start_fresh(|s| s.token = Some(TOKEN.into())).await;
    let client = &server.client;
    // `PUT /api/charts/{path}` of a bar chart, with the token.
    let put = |path: &'static str| {
        client
            .put(server.url(&format!("/api/charts/{path}")))
            .bearer_auth(TOKEN)
            .body(temp_chart("bar", "1h"))
            .send()
    };
    let created = put("hidden?private=true").await.expect("PUT");
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.expect("json");
    assert_eq!(body["private"], true);
    assert_eq!(put("open").await.expect("PUT").status(), 201);

    let server_ref = &server;
    let get = |path: String| async move {
        let response = client.get(server_ref.url(&path)).send().await.expect("GET");
        status_and_error(response).await
    };
    for path in [
        "/charts/hidden.mjpg",
        "/charts/hidden.jpg",
        "/charts/hidden.png",
        "/api/charts/hidden",
    ] {
        let (status, error) = get(path.to_string()).await;
        assert_eq!(status, 403, "{path}");
        assert!(
            error.contains("private") && error.contains("signed URL"),
            "{path}: {error}"
        );
    }
    assert_eq!(get("/charts/open.jpg".into()).await.0, 200);
    // Dashboards refresh snapshots with a cache-buster; it is ignored.
    assert_eq!(get("/charts/open.jpg?t=1700000000".into()).await.0, 200);

    // Signing needs the token.
    let sign_url = server.url("/api/charts/hidden/sign?ttl=1h");
    assert_eq!(
        client.post(&sign_url).send().await.expect("POST").status(),
        401
    );
    let signed: Value = client
        .post(&sign_url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("POST sign")
        .json()
        .await
        .expect("json");
    let query = signed["query"].as_str().expect("query").to_string();
    let exp = signed["exp"].as_i64().expect("exp");
    assert!(exp > now_ms() / 1000 + 3000 && exp <= now_ms() / 1000 + 3601);
    for ext in ["jpg", "png"] {
        let response = client
            .get(server.url(&format!("/charts/hidden.{ext}?{query}")))
            .send()
            .await
            .expect("GET signed");
        assert_eq!(response.status(), 200, "{ext}");
    }
    let mut reader = server
        .stream(signed["stream"].as_str().expect("stream"))
        .await;
    let part = reader
        .next_part_within(std::time::Duration::from_secs(10))
        .await;
    assert_eq!(part.headers["content-type"], "image/jpeg");
    assert_eq!(get(format!("/api/charts/hidden?{query}")).await.0, 200);
    // The token also works for viewers.
    send_ok(
        client
            .get(server.url("/charts/hidden.jpg"))
            .bearer_auth(TOKEN),
        "GET",
    )
    .await;

    // Forged: one hex digit changed; another chart's signature; a made-up expiry.
    let sig = signed["sig"].as_str().expect("sig");
    let flipped = format!(
        "{}{}",
        if sig.starts_with('0') { '1' } else { '0' },
        &sig[1..]
    );
    let other = server::signing::sign(TOKEN, "open", exp, "");
    let wrong_key = server::signing::sign("guess", "hidden", exp, "");
    for forged in [
        format!("exp={exp}&sig={flipped}"),
        format!("exp={exp}&sig={other}"),
        format!("exp={exp}&sig={wrong_key}"),
        format!("exp={}&sig={sig}", exp + 86_400),
    ] {
        let (status, error) = get(format!("/charts/hidden.jpg?{forged}")).await;
        assert_eq!(status, 403, "{forged}");
        assert!(error.contains("signature is not valid"), "{error}");
    }
    let (status, error) = get("/charts/hidden.jpg?exp=soon&sig=zz".into()).await;
    assert_eq!(
        (status, error.contains("malformed")),
        (403, true),
        "{error}"
    );
    // Expired: correctly signed, but in the past.
    let past = now_ms() / 1000 - 10;
    let expired = server::signing::sign(TOKEN, "hidden", past, "");
    let (status, error) = get(format!("/charts/hidden.mjpg?exp={past}&sig={expired}")).await;
    assert_eq!(status, 403);
    assert!(error.contains("expired"), "{error}");

    // `plotcast sign` signs with the same secret, without a server.
    let base = server.url("");
    let url = cli_signed_url(&["hidden", "--ttl", "10m", "--base", &base], TOKEN, "jpg").await;
    assert!(
        url.starts_with(&format!("{base}/charts/hidden.jpg?exp=")),
        "{url}"
    );
    send_ok(client.get(&url), "GET signed by the CLI").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_cannot_be_private_without_a_secret() {
    let server = TestServer::start_fresh(|_| {}).await;
    let response = server
        .client
        .put(server.url("/api/charts/x?private=true"))
        .body(temp_chart("bar", "1h"))
        .send()
        .await
        .expect("PUT");
    let (status, error) = status_and_error(response).await;
    assert_eq!(status, 400);
    assert!(error.contains("--signing-key"), "{error}");
    let sign = server.post("/api/charts/x/sign").await;
    assert_eq!(sign.status(), 400);
    server.stop().await;
}
