//! dev-server's own edges, over raw connections: what it answers to requests hyper cannot
//! parse, to a client that never finishes its head, and to a good request after all that.

use std::time::Duration;

use system_tests::ORG_A_ADMIN;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn server() -> String {
    let app = webhook_api::App::new(webhook_store::MemoryStore::new(), Default::default());
    let server = dev_server::Server::new(app, system_tests::keys())
        .with_head_timeout(Duration::from_millis(300));
    dev_server::spawn(server).await.unwrap().to_string()
}

/// Sends `raw` and reads the answer until the server closes the connection.
async fn exchange(address: &str, raw: &[u8], close_after: bool) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(raw).await.unwrap();
    if close_after {
        stream.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1;
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text:?}")),
    )
}

#[tokio::test]
async fn malformed_or_unfinished_requests_get_a_json_detail() {
    let address = server().await;
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /v1/webhook HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /v1/web hook HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /v1/webhook HTTP/1.1\r\nhost: x\r\n",
        b"GET /v1/webhook HTTP/1.1\r\nhost: x\r\nx-nul: a\0b\r\n\r\n",
        b"POST /v1/webhook/rotate-secret HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{}",
        b"POST /v1/webhook/rotate-secret HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
        b"POST /v1/webhook/rotate-secret HTTP/1.1\r\nhost: x\r\ncontent-length: +2\r\n\r\n{}",
        b"POST /v1/webhook/rotate-secret HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n{}",
    ] {
        let (status, body) = exchange(&address, raw, true).await;
        assert_eq!(status, 400, "{raw:?}");
        assert!(!body["detail"].as_str().unwrap().is_empty(), "{raw:?}");
    }
    // A client that stops halfway through its head is timed out.
    let (status, body) = exchange(&address, b"GET /v1/webhook HTTP/1.1\r\nhost:", false).await;
    assert_eq!(status, 408);
    assert!(body["detail"].as_str().unwrap().contains("time"));
    // A body that stops short of its Content-Length is timed out too.
    let short = format!(
        "POST /v1/developer/webhook-endpoints HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ORG_A_ADMIN}\r\ncontent-length: 100\r\n\r\n{{\"label\""
    );
    let (status, body) = exchange(&address, short.as_bytes(), false).await;
    assert_eq!(status, 408);
    assert!(body["detail"].as_str().unwrap().contains("body"));
    // A length beyond what API Gateway takes is refused from the header, before any body.
    let huge = b"POST /v1/developer/webhook-endpoints HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999\r\n\r\n";
    let (status, body) = exchange(&address, huge, false).await;
    assert_eq!(status, 413);
    assert!(!body["detail"].as_str().unwrap().is_empty());
    // Every request passes the same checks: a second one on the connection is not served by
    // hyper alone (the connection closes after each answer).
    let two = format!(
        "GET /v1/developer/webhook-endpoints HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ORG_A_ADMIN}\r\n\r\nGET /v1/webhook HTTP/1.1\r\nx-nul: \0\r\n\r\n"
    );
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream.write_all(two.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // The server still answers well-formed requests, read in pieces.
    let request = format!(
        "GET /v1/developer/webhook-endpoints HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ORG_A_ADMIN}\r\nconnection: close\r\n\r\n"
    );
    let (status, body) = exchange(&address, request.as_bytes(), false).await;
    assert_eq!((status, body), (200, serde_json::json!([])));
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_key() {
    let address = server().await;
    let request = b"GET /openapi.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let (status, document) = exchange(&address, request, false).await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document,
        serde_json::from_str::<serde_json::Value>(webhook_api::OPENAPI).unwrap()
    );
    let other =
        b"POST /openapi.json HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    assert_eq!(exchange(&address, other, false).await.0, 404);
}
