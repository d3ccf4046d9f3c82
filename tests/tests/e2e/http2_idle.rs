//! The header read timeout over HTTP/2 (h2c on the plain port, with the `h2` crate as a
//! raw client that answers every PING): a connection that opens no stream, or none
//! after its last one ended, is closed gracefully after `header_read_timeout`; one with
//! a live MJPEG stream stays and keeps getting frames.

use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use h2::RecvStream;
use tests::{within, MjpegReader, TestServer};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::strict_clients::set_temp;
use crate::temp_chart;

const DEADLINE: Duration = Duration::from_secs(30);

const TIMEOUT: Duration = Duration::from_secs(1);

/// A server with a 1 s header read timeout, repeating a stream's frame every 200 ms.
async fn server() -> TestServer {
    TestServer::start_fresh(|config| {
        config.header_read_timeout = TIMEOUT;
        config.keepalive = Duration::from_millis(200);
    })
    .await
}

/// An h2c connection to `server` (preface and SETTINGS sent): its request handle and
/// the task driving it, which ends when the server closes the connection.
async fn connect(server: &TestServer) -> (SendRequest<Bytes>, JoinHandle<Result<(), h2::Error>>) {
    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let (send, connection) = h2::client::handshake(tcp)
        .await
        .expect("an HTTP/2 handshake");
    (send, tokio::spawn(connection))
}

/// Waits until the server has closed `connection`, asserting it did so cleanly
/// (GOAWAY with NO_ERROR, not a reset or a protocol error).
async fn closed(connection: JoinHandle<Result<(), h2::Error>>) {
    let ended = within(DEADLINE, "the server closes the connection", connection).await;
    ended
        .expect("the connection task")
        .expect("a graceful close");
}

/// `GET path` on a new stream of `send`'s connection: the response's status and body.
async fn get(server: &TestServer, send: &SendRequest<Bytes>, path: &str) -> (u16, RecvStream) {
    let request = http::Request::get(server.url(path))
        .body(())
        .expect("a request");
    let mut ready = send.clone().ready().await.expect("a stream to open");
    let (response, _) = ready.send_request(request, true).expect("sent");
    let response = response.await.expect("a response");
    (response.status().as_u16(), response.into_body())
}

/// `body`'s chunks as they come, each given back to the flow-control window.
fn chunks(body: RecvStream) -> impl futures_util::Stream<Item = Result<Bytes, String>> {
    futures_util::stream::unfold(body, |mut body| async move {
        let chunk = body.data().await?.map_err(|e| e.to_string());
        if let Ok(chunk) = &chunk {
            // The window only shrinks when this fails: the stream then stalls, visibly.
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        Some((chunk, body))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_that_sends_no_request_is_closed_after_the_header_read_timeout() {
    let server = server().await;
    let (_send, connection) = connect(&server).await;
    closed(connection).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed_after_its_last_request() {
    let server = server().await;
    let (send, connection) = connect(&server).await;
    let (status, body) = get(&server, &send, "/healthz").await;
    assert_eq!(status, 200);
    let mut body = std::pin::pin!(chunks(body));
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        chunk.expect("the body");
    }
    closed(connection).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_with_a_live_stream_stays_past_the_header_read_timeout() {
    let server = server().await;
    server.create_chart("bar", &temp_chart("bar", "1m")).await;
    set_temp(&server, 10.0).await;
    let (send, connection) = connect(&server).await;
    let (status, body) = get(&server, &send, "/charts/bar.mjpg").await;
    assert_eq!(status, 200);
    let mut reader = MjpegReader::from_stream(chunks(body));
    // Frames keep coming (the keepalive repeats them) for three timeouts.
    let opened = Instant::now();
    while opened.elapsed() < TIMEOUT * 3 {
        reader.next_part_within(DEADLINE).await;
    }
    // No GOAWAY either (which would let the stream finish but refuse new ones): the
    // connection still takes a request.
    let (status, _) = get(&server, &send, "/healthz").await;
    assert_eq!(status, 200);
    assert!(!connection.is_finished(), "the connection stays open");
    // Once the stream is gone (RST_STREAM), the connection is idle and closed.
    drop(reader);
    closed(connection).await;
    server.stop().await;
}
