//! One TCP connection, one request. Its head is read here, within a time limit, so that a
//! malformed, oversized or stalled head, or a body whose framing is ambiguous or too large, gets
//! the API's JSON `detail` (hyper itself would answer a bare 400, or wait); then hyper serves
//! the request, starting with what was read, and closes the connection (no keep-alive, so that
//! every request passes here).

use std::io::{self, Cursor};
use std::time::Duration;

use hyper::StatusCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a client has to send a request head, on the first request and (through hyper) on
/// every later one.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Larger heads are refused: API Gateway allows about 10 KiB of headers.
const MAX_HEAD: usize = 64 * 1024;
/// API Gateway's own payload limit for HTTP APIs; the handlers apply their much smaller one.
pub(crate) const MAX_BODY: u64 = 10 * 1024 * 1024;
const MAX_HEADERS: usize = 100;

enum HeadRead {
    Complete,
    /// The client left before sending anything: nothing to answer.
    Closed,
    Refused(StatusCode, String),
}

fn bad_request(detail: impl Into<String>) -> HeadRead {
    HeadRead::Refused(StatusCode::BAD_REQUEST, detail.into())
}

/// The connection ready for hyper (the bytes already read put back in front), or `None` when
/// its first head was refused (and answered) or never came.
pub(crate) async fn first_head(
    mut stream: TcpStream,
    timeout: Duration,
) -> Option<impl AsyncRead + AsyncWrite + Unpin> {
    let mut head = Vec::with_capacity(1024);
    let refusal = match tokio::time::timeout(timeout, read_head(&mut stream, &mut head)).await {
        Ok(Ok(HeadRead::Complete)) => None,
        Ok(Ok(HeadRead::Closed)) | Ok(Err(_)) => return None,
        Ok(Ok(HeadRead::Refused(status, detail))) => Some((status, detail)),
        Err(_) => Some((
            StatusCode::REQUEST_TIMEOUT,
            "The request head did not arrive in time.".to_owned(),
        )),
    };
    if let Some((status, detail)) = refusal {
        let body = serde_json::json!({ "detail": detail }).to_string();
        // `status` shows as its code and reason phrase, `400 Bad Request`.
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        // The client may be gone already; there is no one else to tell.
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        tracing::info!(status = status.as_u16(), %detail, "request head refused");
        return None;
    }
    let (read, write) = stream.into_split();
    Some(tokio::io::join(Cursor::new(head).chain(read), write))
}

async fn read_head(stream: &mut TcpStream, head: &mut Vec<u8>) -> io::Result<HeadRead> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(head) {
            Ok(httparse::Status::Complete(_)) => return Ok(framing(request.headers)),
            Ok(httparse::Status::Partial) => {}
            Err(error) => return Ok(bad_request(format!("Malformed request: {error}."))),
        }
        if head.len() >= MAX_HEAD {
            return Ok(HeadRead::Refused(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "The request head is larger than 64 KiB.".to_owned(),
            ));
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(if head.is_empty() {
                HeadRead::Closed
            } else {
                bad_request("The connection closed inside the request head.")
            });
        }
        head.extend_from_slice(&chunk[..read]);
    }
}

/// How the body is framed, refused where hyper would answer a bare 400 (a length said twice,
/// not a number, or beside chunked framing) and where the length alone is more than API
/// Gateway takes (before any of the body is read).
fn framing(headers: &[httparse::Header<'_>]) -> HeadRead {
    let named = |name: &'static str| {
        headers
            .iter()
            .filter(move |header| header.name.eq_ignore_ascii_case(name))
    };
    let lengths: Vec<&[u8]> = named("content-length").map(|h| h.value).collect();
    let chunked = named("transfer-encoding").next().is_some();
    match lengths.as_slice() {
        [] => HeadRead::Complete,
        [_, _, ..] => bad_request("Content-Length is given more than once."),
        [_] if chunked => bad_request("Content-Length and Transfer-Encoding are given together."),
        [value] => match std::str::from_utf8(value)
            .ok()
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<u64>().ok())
        {
            None => bad_request("Content-Length is not a whole number."),
            Some(length) if length > MAX_BODY => HeadRead::Refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body is too large.".to_owned(),
            ),
            Some(_) => HeadRead::Complete,
        },
    }
}
