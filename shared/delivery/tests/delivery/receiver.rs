//! A webhook receiver on a loopback port that answers as scripted and keeps what it got.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    StatusWithHeader(u16, &'static str, &'static str),
    Slow(Duration),
    /// Close the connection without answering.
    Drop,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Clone, Default)]
pub struct Receiver {
    script: Arc<Mutex<VecDeque<Reply>>>,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver answering `script` in order, then 200 forever.
    pub async fn start(script: Vec<Reply>) -> (Self, SocketAddr) {
        let receiver = Self {
            script: Arc::new(Mutex::new(script.into())),
            ..Default::default()
        };
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let state = state.clone();
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes().to_vec())
                                    .unwrap_or_default();
                                state.received.lock().unwrap().push(Received {
                                    headers: parts.headers,
                                    body,
                                });
                                let reply = state
                                    .script
                                    .lock()
                                    .unwrap()
                                    .pop_front()
                                    .unwrap_or(Reply::Status(200));
                                match reply {
                                    Reply::Status(code) => Ok(respond(code, None)),
                                    Reply::StatusWithHeader(code, name, value) => {
                                        Ok(respond(code, Some((name, value))))
                                    }
                                    Reply::Slow(wait) => {
                                        tokio::time::sleep(wait).await;
                                        Ok(respond(200, None))
                                    }
                                    // An error from the service makes hyper close the connection.
                                    Reply::Drop => Err("drop"),
                                }
                            }
                        });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (receiver, addr)
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn last(&self) -> Received {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request")
    }
}

fn respond(code: u16, header: Option<(&'static str, &'static str)>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}")));
    *response.status_mut() = StatusCode::from_u16(code).unwrap();
    if let Some((name, value)) = header {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
