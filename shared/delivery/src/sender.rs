//! One HTTP attempt: POST the signed body, classify what happened. It never follows a
//! redirect and never connects to a private address (unless told to, for local development):
//! names are resolved once, checked, and the checked address is the one connected to.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use webhook_domain::network::{forbidden_reason, host_ip};
use webhook_domain::{AttemptOutcome, CustomHeaders, FailureCategory};

use crate::aws_sender::AwsSender;
use crate::sent::Sent;

/// The most of a response body read; the rest is dropped unread.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

pub const USER_AGENT: &str = concat!("ThunderPhone-Webhooks/", env!("CARGO_PKG_VERSION"));

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    /// For endpoints that are an SQS queue or EventBridge bus.
    pub aws: Arc<AwsSender>,
}

/// Cold start could not make the HTTP client; its Debug form, which `main` prints, keeps
/// reqwest's cause.
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client")]
pub struct ClientError(#[from] reqwest::Error);

/// Why a name gave no address to connect to.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("DNS lookup failed: {0}")]
    Lookup(String),
    #[error("refused: the host resolves only to {0}")]
    Refused(&'static str),
}

struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| ResolveError::Lookup(e.to_string()))?
                .collect();
            let first_reason = found.first().and_then(|a| forbidden_reason(a.ip()));
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || forbidden_reason(addr.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                return Err(match first_reason {
                    Some(reason) => ResolveError::Refused(reason).into(),
                    None => ResolveError::Lookup("no addresses".into()).into(),
                });
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

impl Sender {
    /// `allow_private`: deliver to loopback and private addresses too. Only for a local server.
    pub fn new(allow_private: bool) -> Result<Self, ClientError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            allow_private,
            aws: Arc::default(),
        })
    }

    pub async fn send(
        &self,
        url: &str,
        body: Vec<u8>,
        custom: &CustomHeaders,
        headers: &[(&'static str, String)],
        timeout: Duration,
    ) -> Sent {
        let started = Instant::now();
        let failed = |category, error: String| Sent {
            duration: started.elapsed(),
            ..Sent::failed(category, error)
        };
        let parsed = match reqwest::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(error) => return failed(FailureCategory::Other, format!("invalid URL: {error}")),
        };
        // An IP literal is connected to directly, without the resolver: check it here.
        if !self.allow_private
            && let Some(reason) = parsed
                .host()
                .as_ref()
                .and_then(host_ip)
                .and_then(forbidden_reason)
        {
            return failed(
                FailureCategory::Other,
                format!("refused: the URL points to {reason}"),
            );
        }
        let mut header_map = HeaderMap::new();
        // The endpoint's own headers first: none of them can name what follows (their names
        // are refused when set).
        for (name, value) in custom.iter() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                header_map.insert(name, value);
            }
        }
        header_map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                header_map.insert(HeaderName::from_static(name), value);
            }
        }
        let request = self
            .client
            .post(parsed)
            .headers(header_map)
            .body(body)
            .timeout(timeout);
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let (category, message) = classify(&error);
                return failed(category, message);
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, SystemTime::now()));
        let mut body = Vec::new();
        let mut body_truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        body_truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => {
                    let (category, message) = classify(&error);
                    let mut sent = failed(category, message);
                    sent.outcome = AttemptOutcome::Failed {
                        status: Some(status),
                        category,
                    };
                    return sent;
                }
            }
        }
        let outcome = AttemptOutcome::from_status(status);
        Sent {
            outcome,
            duration: started.elapsed(),
            retry_after,
            error: (!outcome.is_success()).then(|| format!("the receiver answered {status}")),
            body,
            body_truncated,
        }
    }
}

/// A `Retry-After` value as a wait from `now`: delay seconds, or an HTTP date (one already past
/// asks for no wait). Anything else is ignored.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => httpdate::parse_http_date(value)
            .ok()
            .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO)),
    }
}

/// Sorts a transport error into the product's failure categories, in words that name the
/// receiver by its origin only: receivers put tokens in paths and queries, and these words are
/// logged and shown.
fn classify(error: &reqwest::Error) -> (FailureCategory, String) {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut chain = Vec::new();
    while let Some(current) = source {
        if let Some(resolve) = current.downcast_ref::<ResolveError>() {
            let category = match resolve {
                ResolveError::Lookup(_) => FailureCategory::Dns,
                ResolveError::Refused(_) => FailureCategory::Other,
            };
            return (category, resolve.to_string());
        }
        chain.push(current.to_string());
        source = current.source();
    }
    let mut text = chain.join(": ");
    let lower = text.to_ascii_lowercase();
    let category = if error.is_timeout() {
        FailureCategory::Timeout
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        FailureCategory::Tls
    } else if error.is_connect() || error.is_request() || error.is_body() {
        FailureCategory::Connection
    } else {
        FailureCategory::Other
    };
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), &url.origin().ascii_serialization());
    }
    (category, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn transport_errors_name_the_receiver_by_its_origin_only() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = format!("http://127.0.0.1:{port}/hooks/tok_SECRET1?key=SECRET2");
        let sent = Sender::new(true)
            .unwrap()
            .send(
                &url,
                b"{}".to_vec(),
                &CustomHeaders::default(),
                &[],
                Duration::from_secs(2),
            )
            .await;
        let error = sent.error.unwrap();
        assert!(
            error.contains(&format!("http://127.0.0.1:{port}")),
            "{error}"
        );
        assert!(!error.contains("SECRET"), "{error}");
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        // 2026-12-01T08:00:00Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_112_000);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Tue, 01 Dec 2026 08:10:00 GMT", now),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            retry_after("Tue, 01 Dec 2026 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date already past"
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }
}
