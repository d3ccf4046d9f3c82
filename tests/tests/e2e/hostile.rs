//! No SSRF, no traversal: URLs in specs are text that is drawn; the
//! editor's static files cannot be escaped with `..` in any encoding.

use std::time::Duration;

use serde_json::json;
use tests::{built_plotcast, send_ok, spawn_plotcast, within, Image, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// URLs in a spec are text: drawn by `POST /api/render` and in a published chart's
/// frames. (Nothing could fetch them: the server has no HTTP client.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_in_specs_are_drawn_as_text() {
    let server = TestServer::start_fresh(|_| {}).await;
    // Where a server-side fetch would hurt: the cloud metadata service.
    let target = "http://169.254.169.254/latest/meta-data/";
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
            let response = send_ok(client.post(url).json(&body), "POST /api/render").await;
            Image::from_png(&response.bytes().await.expect("png"))
        }
    };
    let with_url = render(target).await;
    let blank = render("").await;
    assert_ne!(with_url.rgb, blank.rgb, "the URL title is drawn as text");
    for (id, title) in [("ssrf", target), ("blank", "")] {
        let put = server.put_chart(id, &spec(title).to_string()).await;
        assert_eq!(put.status(), 201);
    }
    assert_ne!(
        chart_png(&server, "ssrf").await.rgb,
        chart_png(&server, "blank").await.rgb,
        "the published chart draws the URL title as text"
    );
    server.stop().await;
}

/// The latest frame of chart `id`, decoded.
async fn chart_png(server: &TestServer, id: &str) -> Image {
    let path = format!("/charts/{id}.png");
    let response = server.get(&path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    Image::from_png(&response.bytes().await.expect("png"))
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
