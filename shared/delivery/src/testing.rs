//! The one webhook receiver every delivery test uses (feature `testing`): a loopback HTTP
//! server that answers as scripted and keeps what it got. Tests wait on its arrivals, never on
//! a fixed sleep. Also the pipeline the tests start from.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use webhook_domain::{LogRetention, PerMinute, SystemClock};

use crate::metrics::AttemptMetrics;
use crate::pipeline::Pipeline;
use crate::schedule::RetrySchedule;
use crate::sender::Sender;

/// A pipeline over `store` and `queue` as tests want it by default: this `sender`, the system
/// clock, the default schedule and log retention, no metrics, notices only logged. A test
/// changes what it needs with `Pipeline { clock, ..testing::pipeline(...) }`.
pub fn pipeline<S, Q>(store: S, queue: Q, sender: Sender) -> Pipeline<S, Q> {
    Pipeline {
        store,
        queue,
        sender,
        clock: Arc::new(SystemClock),
        schedule: RetrySchedule::default(),
        log_retention: LogRetention::DEFAULT,
        metrics: AttemptMetrics::Off,
        notices: webhook_notices::NoticeBoard::Log,
        resent_in_flight: PerMinute::RESENT_IN_FLIGHT,
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    StatusWithHeader(u16, &'static str, &'static str),
    /// 200, after this long.
    Slow(Duration),
    /// Reads the request and never answers (for a minute).
    Hang,
    /// Closes the connection without answering.
    Drop,
    /// This status and body, after this long.
    Answer {
        status: u16,
        body: Vec<u8>,
        after: Duration,
    },
}

impl Reply {
    /// A plain answer of each status, in order.
    pub fn statuses<const N: usize>(statuses: [u16; N]) -> Vec<Self> {
        statuses.map(Self::Status).to_vec()
    }

    /// 200 with this JSON at once.
    pub fn json(value: &serde_json::Value) -> Self {
        Self::json_after(value, Duration::ZERO)
    }

    /// 200 with this JSON, after `after`.
    pub fn json_after(value: &serde_json::Value, after: Duration) -> Self {
        Self::Answer {
            status: 200,
            body: value.to_string().into_bytes(),
            after,
        }
    }
}

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The path and query.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What a receiver answers once its script is done: 200, or what a rule says.
type Rule = Box<dyn Fn() -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    rule: Option<Rule>,
    received: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// A receiver on a loopback port; clones share it.
#[derive(Clone)]
pub struct Receiver {
    state: Arc<State>,
    pub addr: SocketAddr,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock has failed already; keep serving the rest.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Receiver {
    /// Starts a receiver answering `script` in order, then 200 forever.
    pub async fn start(script: Vec<Reply>) -> std::io::Result<Self> {
        Self::serve(State {
            script: Mutex::new(script.into()),
            ..State::default()
        })
        .await
    }

    /// Starts a receiver answering each request as `rule` says at the time it arrives.
    pub async fn answering(
        rule: impl Fn() -> Reply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        Self::serve(State {
            rule: Some(Box::new(rule)),
            ..State::default()
        })
        .await
    }

    async fn serve(state: State) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let receiver = Self {
            state: Arc::new(state),
            addr: listener.local_addr()?,
        };
        let state = receiver.state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(state.clone(), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(receiver)
    }

    /// `http://127.0.0.1:<port>/hook`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn count(&self) -> usize {
        lock(&self.state.received).len()
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state.received).clone()
    }

    /// The latest request; `None` before the first.
    pub fn last(&self) -> Option<Received> {
        lock(&self.state.received).last().cloned()
    }

    /// Waits until `count` requests have arrived; `false` if they did not within `limit`.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let arrived = self.state.arrived.notified();
            if self.count() >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.count() >= count;
            }
        }
    }
}

async fn answer(
    state: Arc<State>,
    request: hyper::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, &'static str> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let scripted = lock(&state.script).pop_front();
    let reply = scripted
        .or_else(|| state.rule.as_ref().map(|rule| rule()))
        .unwrap_or(Reply::Status(200));
    lock(&state.received).push(Received {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string),
        headers: parts.headers,
        body,
    });
    state.arrived.notify_waiters();
    let ok = || b"{\"ok\":true}".to_vec();
    let (status, body, header, after) = match reply {
        Reply::Status(code) => (code, ok(), None, Duration::ZERO),
        Reply::StatusWithHeader(code, name, value) => {
            (code, ok(), Some((name, value)), Duration::ZERO)
        }
        Reply::Slow(wait) => (200, ok(), None, wait),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return Err("hung up");
        }
        // An error from the service makes hyper close the connection.
        Reply::Drop => return Err("drop"),
        Reply::Answer {
            status,
            body,
            after,
        } => (status, body, None, after),
    };
    if !after.is_zero() {
        tokio::time::sleep(after).await;
    }
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some((name, value)) = header
        && let (Ok(name), Ok(value)) = (
            name.parse::<hyper::header::HeaderName>(),
            value.parse::<hyper::header::HeaderValue>(),
        )
    {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}
