//! No SSRF, no traversal: URLs in specs are text that is drawn, never fetched; the
//! editor's static files cannot be escaped with `..` in any encoding.

use std::time::Duration;

use serde_json::json;
use tests::{built_plotcast, spawn_plotcast, within, Image, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_in_specs_are_drawn_never_fetched() {
    use futures_util::FutureExt;
    let server = TestServer::start_fresh(|_| {}).await;
    // A "victim" service the server must never contact.
    let victim = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let target = format!(
        "http://{}/latest/meta-data/",
        victim.local_addr().expect("addr")
    );
    let spec = |title: &str| {
        json!({"version": 1, "width": 300, "height": 120, "title": title,
               "panels": [{"kind": "text", "title": "file:///etc/passwd",
                           "text": format!("<img src=\"{target}\"> {{{{env.HOME}}}} $(id) %s%n")}]})
    };
    let render = |title: &str| {
        let body = json!({"spec": spec(title)});
        let client = server.client.clone();
        let url = server.url("/api/render");
        async move {
            let response = client
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("POST /api/render");
            assert_eq!(response.status(), 200);
            Image::from_png(&response.bytes().await.expect("png"))
        }
    };
    let with_url = render(&target).await;
    let blank = render("").await;
    assert_ne!(with_url.rgb, blank.rgb, "the URL title is drawn as text");
    let put = server.put_chart("ssrf", &spec(&target).to_string()).await;
    assert_eq!(put.status(), 201);
    let jpg = server.get("/charts/ssrf.jpg").await;
    assert_eq!(jpg.status(), 200);
    // Rendering is done; a fetch would have connected by now (the kernel completes a
    // connection to a listening socket without `accept`).
    assert!(
        victim.accept().now_or_never().is_none(),
        "the server connected to a URL from a spec"
    );
    server.stop().await;
}

/// Sends a raw request line (no client-side normalisation) and returns the response.
async fn raw(addr: &str, target: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    within(
        Duration::from_secs(10),
        "a response",
        stream.read_to_end(&mut response),
    )
    .await
    .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_cannot_escape_their_root() {
    let binary = built_plotcast().await;
    let root = tempfile::tempdir().expect("temp dir");
    let editor = root.path().join("dist");
    std::fs::create_dir_all(editor.join("assets")).expect("mkdir");
    std::fs::write(editor.join("index.html"), "<title>editor</title>").expect("index");
    std::fs::write(editor.join("assets/app.js"), "// app").expect("asset");
    std::fs::write(root.path().join("secret.txt"), "TOPSECRET").expect("secret");
    let data = root.path().join("data");
    let editor_dir = editor.to_str().expect("utf-8 path");
    let (child, url) =
        spawn_plotcast(&binary, &data, &[], &[("PLOTCAST_EDITOR_DIR", editor_dir)]).await;
    let addr = url.trim_start_matches("http://").to_string();
    let ok = raw(&addr, "/assets/app.js").await;
    assert!(
        ok.starts_with("HTTP/1.1 200") && ok.contains("// app"),
        "{ok}"
    );
    for target in [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/.%2e/secret.txt",
        "//secret.txt",
        "/../Cargo.toml",
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/app.js%00.html",
        &format!("/{}", root.path().join("secret.txt").display()),
    ] {
        let response = raw(&addr, target).await;
        let status = response.get(9..12).unwrap_or("");
        assert!(
            !response.contains("TOPSECRET")
                && !response.contains("root:")
                && !response.contains("[workspace]"),
            "{target} escaped the editor root: {response}"
        );
        assert!(matches!(status, "400" | "404"), "{target}: {response}");
    }
    drop(child);
}
