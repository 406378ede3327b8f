//! Spans sent to X-Ray, the way AWS's own SDKs send them from a Lambda function: each of this
//! service's spans, and each AWS call, becomes a subsegment of the invocation's segment, sent
//! as one UDP datagram to the daemon Lambda runs beside the function (`AWS_XRAY_DAEMON_ADDRESS`)
//! when the span closes. The invocation's trace, its segment and whether it is sampled come in
//! `_X_AMZN_TRACE_ID`, which the runtime sets for each invocation; an unsampled invocation sends
//! nothing.
//!
//! Hand-written rather than a crate: the Rust X-Ray clients (`xray-lite`, `xray-tracing`) are
//! pre-1.0, unmaintained since 2024 and bring a second `rand` and `http`, for what is a JSON
//! document per span. OpenTelemetry would need the ADOT collector layer beside every function.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Instrument, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The span each AWS call is made in; it becomes a subsegment in the `aws` namespace, which X-Ray
/// draws as the service called.
const AWS_CALL: &str = "aws_call";

/// Whose spans are sent: this workspace's crates (`webhook_delivery`, `webhook_api`, ...), never
/// the runtime's or the SDK's own.
const OURS: &str = "webhook_";

/// The part of `_X_AMZN_TRACE_ID` a subsegment needs (`Root=1-…;Parent=…;Sampled=1`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Invocation {
    trace_id: String,
    segment_id: String,
}

impl Invocation {
    /// `None` when the invocation is not sampled, or the header lacks its root or parent.
    fn sampled(header: &str) -> Option<Self> {
        let part = |name: &str| {
            header
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_owned())
        };
        (part("Sampled").as_deref() == Some("1")).then_some(())?;
        Some(Self {
            trace_id: part("Root")?,
            segment_id: part("Parent")?,
        })
    }
}

/// The layer that sends spans to the daemon.
#[derive(Debug)]
pub struct XRay {
    socket: UdpSocket,
    daemon: SocketAddr,
    /// The current invocation's trace header: the environment's on Lambda, a test's here.
    trace_header: fn() -> Option<String>,
}

impl XRay {
    /// The layer Lambda's environment asks for: `None` off Lambda, or with tracing off (no
    /// `AWS_XRAY_DAEMON_ADDRESS`). It sees only this workspace's spans, whatever level the logs
    /// are at.
    pub fn from_env<S>() -> Option<impl Layer<S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let daemon = std::env::var("AWS_XRAY_DAEMON_ADDRESS").ok()?;
        Some(Self::new(&daemon, || std::env::var("_X_AMZN_TRACE_ID").ok())?.ours())
    }

    fn ours<S>(self) -> impl Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.with_filter(filter_fn(|metadata| {
            metadata.is_span() && metadata.target().starts_with(OURS)
        }))
    }

    fn new(daemon: &str, trace_header: fn() -> Option<String>) -> Option<Self> {
        let daemon = daemon.to_socket_addrs().ok()?.next()?;
        let local: SocketAddr = if daemon.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local).ok()?;
        // A full buffer drops a subsegment rather than holding up a request.
        socket.set_nonblocking(true).ok()?;
        Some(Self {
            socket,
            daemon,
            trace_header,
        })
    }

    fn send(&self, document: &Value) {
        let datagram = format!("{{\"format\":\"json\",\"version\":1}}\n{document}");
        // Tracing never fails a request: a subsegment that cannot be sent is lost.
        let _ = self.socket.send_to(datagram.as_bytes(), self.daemon);
    }
}

/// What a span carries until it closes.
struct Open {
    id: String,
    invocation: Invocation,
    start: f64,
    fields: Map<String, Value>,
}

impl<S> Layer<S> for XRay
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let Some(span) = context.span(id) else { return };
        // A span inside one of ours belongs to its invocation, whatever the environment says now.
        let inherited = span.scope().skip(1).find_map(|ancestor| {
            let extensions = ancestor.extensions();
            extensions.get::<Open>().map(|open| open.invocation.clone())
        });
        let Some(invocation) = inherited.or_else(|| {
            (self.trace_header)()
                .as_deref()
                .and_then(Invocation::sampled)
        }) else {
            return;
        };
        let mut fields = Map::new();
        attributes.record(&mut Fields(&mut fields));
        span.extensions_mut().insert(Open {
            id: format!("{:016x}", span_id()),
            invocation,
            start: now(),
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, context: Context<'_, S>) {
        let Some(span) = context.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(open) = extensions.get_mut::<Open>() {
            values.record(&mut Fields(&mut open.fields));
        }
    }

    fn on_close(&self, id: Id, context: Context<'_, S>) {
        let Some(span) = context.span(&id) else {
            return;
        };
        let Some(open) = span.extensions_mut().remove::<Open>() else {
            return;
        };
        let parent_id = span
            .scope()
            .skip(1)
            .find_map(|ancestor| ancestor.extensions().get::<Open>().map(|o| o.id.clone()))
            .unwrap_or_else(|| open.invocation.segment_id.clone());
        self.send(&subsegment(span.name(), open, parent_id, now()));
    }
}

/// The subsegment document of a closed span.
fn subsegment(name: &str, open: Open, parent_id: String, end: f64) -> Value {
    let Open {
        id,
        invocation,
        start,
        mut fields,
    } = open;
    let mut document = json!({
        "type": "subsegment",
        "id": id,
        "trace_id": invocation.trace_id,
        "parent_id": parent_id,
        "start_time": start,
        "end_time": end,
    });
    if name == AWS_CALL {
        let service = fields.remove("service").unwrap_or_else(|| json!("AWS"));
        document["name"] = service;
        document["namespace"] = json!("aws");
        let aws = ["operation", "request_id"]
            .into_iter()
            .filter_map(|key| Some((key.to_owned(), fields.remove(key)?)))
            .collect();
        document["aws"] = Value::Object(aws);
        match fields.remove("status").and_then(|status| status.as_u64()) {
            Some(status) => {
                document["http"] = json!({ "response": { "status": status } });
                if status == 429 {
                    document["throttle"] = json!(true);
                }
                if (400..500).contains(&status) {
                    document["error"] = json!(true);
                } else if status >= 500 {
                    document["fault"] = json!(true);
                }
            }
            // No answer at all: the call failed on our side of the wire.
            None => document["fault"] = json!(true),
        }
    } else {
        document["name"] = json!(name);
        // Searchable in X-Ray, as `annotation.event_id = "…"`.
        document["annotations"] = Value::Object(fields);
    }
    document
}

/// A new span id, for a subsegment or a W3C `traceparent`: unique, not secret, never zero. The
/// clock serves if the OS has no entropy.
pub fn span_id() -> u64 {
    use rand::TryRngCore;
    rand::rngs::OsRng
        .try_next_u64()
        .unwrap_or_else(|_| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |since| since.as_nanos() as u64)
        })
        .max(1)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs_f64())
        .unwrap_or_default()
}

/// A span's fields as X-Ray annotations: strings, numbers and booleans.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), json!(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), json!(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), json!(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), json!(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), json!(value));
    }
}

/// An HTTP connector whose every call is an [`AWS_CALL`] span, named by the service and
/// operation the request is for: one subsegment per attempt, retries included.
#[derive(Debug)]
pub(crate) struct Traced(pub(crate) SharedHttpConnector);

impl HttpConnector for Traced {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (service, operation) = called(&request);
        let span = tracing::info_span!(
            AWS_CALL,
            service,
            operation,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let call = self.0.call(request);
        let recorded = span.clone();
        HttpConnectorFuture::new(
            async move {
                let answer = call.await;
                if let Ok(response) = &answer {
                    recorded.record("status", response.status().as_u16());
                    let headers = response.headers();
                    if let Some(id) = headers
                        .get("x-amzn-requestid")
                        .or_else(|| headers.get("x-amz-request-id"))
                    {
                        recorded.record("request_id", id);
                    }
                }
                answer
            }
            .instrument(span),
        )
    }
}

/// The service and operation a request is for: JSON-protocol services name both in
/// `X-Amz-Target` (`DynamoDB_20120810.GetItem`, `AmazonSQS.SendMessage`, `AWSEvents.PutEvents`);
/// STS, a query-protocol service, names its action in the form body.
fn called(request: &HttpRequest) -> (&'static str, String) {
    if let Some((prefix, operation)) = request
        .headers()
        .get("x-amz-target")
        .and_then(|target| target.split_once('.'))
    {
        let service = match prefix {
            p if p.starts_with("DynamoDB") => "DynamoDB",
            "AmazonSQS" => "SQS",
            "AWSEvents" => "EventBridge",
            _ => "AWS",
        };
        return (service, operation.to_owned());
    }
    let action = request
        .body()
        .bytes()
        .and_then(|body| std::str::from_utf8(body).ok())
        .and_then(|form| {
            form.split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
        })
        .map(str::to_owned);
    match action {
        // The one query-protocol service these functions call.
        Some(action) => ("STS", action),
        None => ("AWS", "unknown".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tracing_subscriber::prelude::*;

    const SAMPLED: &str =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    /// A daemon stand-in, and a subscriber whose X-Ray layer sends to it with `header`.
    fn daemon_and_subscriber(
        header: fn() -> Option<String>,
    ) -> (UdpSocket, impl Subscriber + Send + Sync) {
        let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
        daemon
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let address = daemon.local_addr().unwrap().to_string();
        let layer = XRay::new(&address, header).unwrap().ours();
        (daemon, tracing_subscriber::registry().with(layer))
    }

    fn received(daemon: &UdpSocket) -> Value {
        let mut buffer = [0u8; 65_536];
        let length = daemon.recv(&mut buffer).expect("a subsegment");
        let text = std::str::from_utf8(&buffer[..length]).unwrap();
        let (header, document) = text.split_once('\n').unwrap();
        assert_eq!(header, r#"{"format":"json","version":1}"#);
        serde_json::from_str(document).unwrap()
    }

    #[test]
    fn only_a_sampled_header_with_root_and_parent_is_an_invocation() {
        assert_eq!(
            Invocation::sampled(SAMPLED),
            Some(Invocation {
                trace_id: "1-5759e988-bd862e3fe1be46a994272793".into(),
                segment_id: "53995c3f42cd8ad8".into(),
            })
        );
        assert_eq!(Invocation::sampled(&SAMPLED.replace("=1", "=0")), None);
        assert_eq!(
            Invocation::sampled("Root=1-5759e988-bd862e3fe1be46a994272793"),
            None
        );
        assert_eq!(
            Invocation::sampled("Parent=53995c3f42cd8ad8;Sampled=1"),
            None
        );
    }

    #[test]
    fn spans_are_subsegments_of_the_invocation_nested_as_they_ran() {
        let (daemon, subscriber) = daemon_and_subscriber(|| Some(SAMPLED.to_owned()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("fan_out", event_id = "e_1", org_id = 42).in_scope(|| {
                // As `Traced` opens it around a request (which `tests/lambda` makes for real).
                let call = tracing::info_span!(
                    AWS_CALL,
                    service = "DynamoDB",
                    operation = "Query",
                    status = tracing::field::Empty
                );
                call.record("status", 200);
            });
        });
        let call = received(&daemon);
        let span = received(&daemon);
        assert_eq!(span["name"], "fan_out");
        assert_eq!(span["type"], "subsegment");
        assert_eq!(span["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(
            span["parent_id"], "53995c3f42cd8ad8",
            "the invocation's segment"
        );
        assert_eq!(
            span["annotations"],
            json!({"event_id": "e_1", "org_id": 42})
        );
        assert_eq!(call["name"], "DynamoDB");
        assert_eq!(call["namespace"], "aws");
        assert_eq!(call["aws"], json!({"operation": "Query"}));
        assert_eq!(call["http"], json!({"response": {"status": 200}}));
        assert_eq!(call["parent_id"], span["id"], "the call ran inside fan_out");
        assert_eq!(call["trace_id"], span["trace_id"]);
        let id = span["id"].as_str().unwrap();
        assert!(
            id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
        assert_ne!(call["id"], span["id"]);
        let (start, end) = (
            span["start_time"].as_f64().unwrap(),
            span["end_time"].as_f64().unwrap(),
        );
        assert!(start > 1.7e9 && start <= call["start_time"].as_f64().unwrap());
        assert!(call["end_time"].as_f64().unwrap() <= end);
    }

    #[test]
    fn an_answered_call_carries_its_status_and_a_throttle_is_marked() {
        let open = |fields: Value| Open {
            id: "1".into(),
            invocation: Invocation::sampled(SAMPLED).unwrap(),
            start: 1.0,
            fields: fields.as_object().unwrap().clone(),
        };
        let throttled = subsegment(
            AWS_CALL,
            open(
                json!({"service": "SQS", "operation": "SendMessage", "status": 429, "request_id": "r"}),
            ),
            "p".into(),
            2.0,
        );
        assert_eq!(throttled["http"], json!({"response": {"status": 429}}));
        assert_eq!(
            (throttled["throttle"].clone(), throttled["error"].clone()),
            (json!(true), json!(true))
        );
        assert_eq!(
            throttled["aws"],
            json!({"operation": "SendMessage", "request_id": "r"})
        );
        let fine = subsegment(
            AWS_CALL,
            open(json!({"service": "STS", "status": 200})),
            "p".into(),
            2.0,
        );
        assert!(
            fine.get("error").is_none() && fine.get("fault").is_none(),
            "{fine}"
        );
        let failed = subsegment(
            AWS_CALL,
            open(json!({"service": "STS", "status": 503})),
            "p".into(),
            2.0,
        );
        assert_eq!(failed["fault"], true);
        let unanswered = subsegment(AWS_CALL, open(json!({"service": "STS"})), "p".into(), 2.0);
        assert_eq!(unanswered["fault"], true, "no answer came");
    }

    #[test]
    fn a_request_names_its_service_and_operation() {
        let request = |target: Option<&str>, body: &str| {
            let mut request = HttpRequest::new(aws_smithy_types::body::SdkBody::from(body));
            if let Some(target) = target {
                request
                    .headers_mut()
                    .insert("x-amz-target", target.to_owned());
            }
            called(&request)
        };
        assert_eq!(
            request(Some("DynamoDB_20120810.GetItem"), "{}"),
            ("DynamoDB", "GetItem".into())
        );
        assert_eq!(
            request(Some("AmazonSQS.SendMessage"), "{}"),
            ("SQS", "SendMessage".into())
        );
        assert_eq!(
            request(Some("AWSEvents.PutEvents"), "{}"),
            ("EventBridge", "PutEvents".into())
        );
        assert_eq!(
            request(None, "Action=AssumeRole&Version=2011-06-15&RoleArn=x"),
            ("STS", "AssumeRole".into())
        );
        assert_eq!(request(None, ""), ("AWS", "unknown".into()));
    }

    #[test]
    fn an_unsampled_invocation_sends_nothing() {
        let (daemon, subscriber) = daemon_and_subscriber(|| Some(SAMPLED.replace("=1", "=0")));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("deliver").in_scope(|| {});
        });
        // The stand-in then gets a datagram of its own: had the span been sent, it came first.
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        probe
            .send_to(b"probe", daemon.local_addr().unwrap())
            .unwrap();
        let mut buffer = [0u8; 64];
        let length = daemon.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..length], b"probe");
    }
}
