//! One TCP connection. Its first request head is read here, within a time limit, so that a
//! malformed, oversized or stalled head gets the API's JSON `detail` (hyper itself would answer
//! a bare 400, or wait); then hyper serves the connection, starting with what was read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How long a client has to send a request head, on the first request and (through hyper) on
/// every later one.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Larger heads are refused: API Gateway allows about 10 KiB of headers.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

enum HeadRead {
    Complete,
    /// The client left before sending anything: nothing to answer.
    Closed,
    Refused(u16, &'static str, String),
}

/// The connection ready for hyper, or `None` when its first head was refused (and answered)
/// or never came.
pub(crate) async fn first_head(mut stream: TcpStream, timeout: Duration) -> Option<Prefixed> {
    let mut head = Vec::with_capacity(1024);
    let refusal = match tokio::time::timeout(timeout, read_head(&mut stream, &mut head)).await {
        Ok(Ok(HeadRead::Complete)) => None,
        Ok(Ok(HeadRead::Closed)) | Ok(Err(_)) => return None,
        Ok(Ok(HeadRead::Refused(status, reason, detail))) => Some((status, reason, detail)),
        Err(_) => Some((
            408,
            "Request Timeout",
            "The request head did not arrive in time.".to_owned(),
        )),
    };
    if let Some((status, reason, detail)) = refusal {
        let body = serde_json::json!({ "detail": detail }).to_string();
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        // The client may be gone already; there is no one else to tell.
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        tracing::info!(status, %detail, "request head refused");
        return None;
    }
    Some(Prefixed {
        head,
        read: 0,
        stream,
    })
}

async fn read_head(stream: &mut TcpStream, head: &mut Vec<u8>) -> io::Result<HeadRead> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::Request::new(&mut headers).parse(head) {
            Ok(httparse::Status::Complete(_)) => return Ok(HeadRead::Complete),
            Ok(httparse::Status::Partial) => {}
            Err(error) => {
                return Ok(HeadRead::Refused(
                    400,
                    "Bad Request",
                    format!("Malformed request: {error}."),
                ));
            }
        }
        if head.len() >= MAX_HEAD {
            return Ok(HeadRead::Refused(
                431,
                "Request Header Fields Too Large",
                "The request head is larger than 64 KiB.".to_owned(),
            ));
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(if head.is_empty() {
                HeadRead::Closed
            } else {
                HeadRead::Refused(
                    400,
                    "Bad Request",
                    "The connection closed inside the request head.".to_owned(),
                )
            });
        }
        head.extend_from_slice(&chunk[..read]);
    }
}

/// The stream with the bytes already read from it put back in front.
pub(crate) struct Prefixed {
    head: Vec<u8>,
    read: usize,
    stream: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.read < this.head.len() {
            let rest = &this.head[this.read..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.read += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
