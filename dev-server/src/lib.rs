//! The API's Lambda handlers and the delivery pipeline on one machine: each HTTP request is
//! matched against the API's route table, shaped into the API Gateway HTTP API (payload 2.0)
//! event the real gateway would send, authorizer context included, and handed to the very
//! handler function the Lambda runs.

mod api_keys;
mod connection;
mod dev_events;
mod gateway;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::Method;
use hyper::body::{Bytes, Incoming};
use hyper::header::AUTHORIZATION;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use webhook_api::authorizer;
use webhook_api::{App, CursorKey, Settings, handlers};
use webhook_delivery::local::{self, LocalQueue};
use webhook_delivery::pipeline::Pipeline;
use webhook_delivery::resend;
use webhook_delivery::schedule::RetrySchedule;
use webhook_delivery::sender::Sender;
use webhook_domain::{
    Clock, DelayError, FailingPolicy, LogRetention, OrgId, PerMinute, SessionLength,
    parse_delay_within, settings,
};
use webhook_notices::NoticeBoard;
use webhook_store::dynamodb::{local_client, table};
use webhook_store::{DeliveryStatsStore, DynamoStore, MemoryStore};
use webhook_sweeper::sweep;

pub use api_keys::{ApiKey, ApiKeys};
use lambda_http::RequestExt;
use webhook_api::routes::{self, Operation};
use webhook_portal::FrameAncestors;

#[derive(Debug, clap::Parser)]
#[command(
    about = "Serves the webhook endpoints API on this machine, as API Gateway and the Lambdas would."
)]
pub struct Options {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// A bearer key standing in for the authorizer; repeatable. Without one, an admin key for
    /// org 1 is made up and printed.
    #[arg(long = "api-key", value_name = "KEY=ORG_ID:ROLE")]
    pub api_keys: Vec<ApiKey>,
    /// A DynamoDB-compatible server to use instead of the embedded in-memory store.
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB", value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,
    /// Table to use (created if missing) with --dynamodb-endpoint.
    #[arg(long, env = settings::TABLE_NAME.variable, default_value = "webhooks")]
    pub table: String,
    /// How many endpoints one organization may hold.
    #[arg(long, env = settings::MAX_ENDPOINTS_PER_ORG.variable, value_parser = settings::endpoint_limit, default_value = settings::MAX_ENDPOINTS_PER_ORG.default_text())]
    pub max_endpoints_per_org: u32,
    /// How many test deliveries one organization may send per minute.
    #[arg(long, env = settings::TEST_DELIVERIES_PER_MINUTE.variable, value_parser = PerMinute::parse, default_value = settings::TEST_DELIVERIES_PER_MINUTE.default_text())]
    pub test_deliveries_per_minute: PerMinute,
    /// How many deliveries one organization may resend or recover per minute.
    #[arg(long, env = settings::RESENDS_PER_MINUTE.variable, value_parser = PerMinute::parse, default_value = settings::RESENDS_PER_MINUTE.default_text())]
    pub resends_per_minute: PerMinute,
    /// How often the failing sweep runs.
    #[arg(long, value_parser = sweep_interval, default_value = "60s")]
    pub sweep_every: Duration,
    /// Delays between delivery attempts, e.g. `1s,2s,4s` for a demo (default: 5s, 1m, 5m, 30m,
    /// 2h, 5h, 10h, and a last attempt 24 h after the first).
    #[arg(long, value_name = "DELAYS")]
    pub retry_schedule: Option<RetrySchedule>,
    /// Deliver to loopback and private addresses (local receivers). `--allow-private-targets=false`
    /// applies the production rule.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_private_targets: bool,
    /// How long a failure streak lasts before an endpoint is marked failing (e.g. 5s for a demo).
    #[arg(long, env = settings::FAILING_AFTER.variable, value_parser = FailingPolicy::parse, default_value = settings::FAILING_AFTER.default_text())]
    pub failing_after: FailingPolicy,
    /// Print the routes it serves (and the function binary behind each) as JSON, and exit.
    #[arg(long)]
    pub print_routes: bool,
    /// Print every setting the functions read from their environment (variable, default,
    /// bounds, stack parameter) and the timings the template must agree with, as JSON, and exit.
    #[arg(long)]
    pub print_settings: bool,
    /// How long delivery log records are kept after their last attempt.
    #[arg(long, env = settings::DELIVERY_LOG_RETENTION.variable, default_value = settings::DELIVERY_LOG_RETENTION.default_text())]
    pub delivery_log_retention: LogRetention,
}

pub async fn run(options: Options) -> Result<(), lambda_http::Error> {
    if options.print_routes {
        println!("{}", route_table());
        return Ok(());
    }
    if options.print_settings {
        println!("{}", settings_table());
        return Ok(());
    }
    match &options.dynamodb_endpoint {
        Some(endpoint) => {
            let client = local_client(endpoint);
            table::create_if_missing(&client, &options.table).await?;
            println!("using table {} at {endpoint}", options.table);
            let store = DynamoStore::new(client, options.table.clone());
            run_on(store, options).await
        }
        None => {
            println!("using the embedded in-memory store (nothing is kept after exit)");
            run_on(MemoryStore::new(), options).await
        }
    }
}

async fn run_on<S>(store: S, options: Options) -> Result<(), lambda_http::Error>
where
    S: webhook_store::Store,
{
    let made_up_key = options.api_keys.is_empty();
    let keys = ApiKeys::or_default_admin(options.api_keys);
    let settings = Settings {
        max_endpoints_per_org: options.max_endpoints_per_org,
        test_deliveries: options.test_deliveries_per_minute,
        resends: options.resends_per_minute,
    };
    let app = App::new(store.clone(), settings).with_cursor_key(CursorKey::random()?);
    let (queue, jobs) = LocalQueue::new(Duration::from_secs(15 * 60));
    let pipeline = Arc::new(Pipeline {
        store: store.clone(),
        queue,
        sender: Sender::new(options.allow_private_targets)?,
        clock: app.clock.clone(),
        schedule: options.retry_schedule.unwrap_or_default(),
        log_retention: options.delivery_log_retention,
        metrics: webhook_delivery::metrics::AttemptMetrics::Off,
        notices: NoticeBoard::Log,
        resent_in_flight: PerMinute::RESENT_IN_FLIGHT,
    });
    let (stop_worker, worker_stops) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(local::run_worker(pipeline.clone(), jobs, async {
        let _ = worker_stops.await;
    }));
    tokio::spawn(sweep_periodically(
        store,
        app.clock.clone(),
        options.sweep_every,
        options.failing_after,
    ));
    let listener = TcpListener::bind(options.listen).await?;
    let address = listener.local_addr()?;
    println!("listening on http://{address}");
    if made_up_key {
        let (org, length) = (OrgId::new(1), SessionLength::LONGEST);
        let origin = format!("http://{address}");
        let now = app.clock.now();
        let link = app
            .store
            .admin_portal_link(org, length, &origin, now)
            .await?;
        println!("portal for org 1 (a day): {link}");
    }
    let server = Server::new(app, keys).with_delivery(pipeline);
    server.seed_keys().await?;
    tokio::select! {
        served = serve(listener, Arc::new(server)) => served,
        () = stop_signal() => {
            // Requests in progress are cut off (their callers retry); deliveries are not, as a
            // receiver may already have one whose record is not written yet.
            println!("stopping: letting the deliveries in flight finish");
            let _ = stop_worker.send(());
            let left = worker.await?;
            if left > 0 {
                println!("{left} deliveries were ready and not attempted; the queue is in memory");
            }
            Ok(())
        }
    }
}

/// Ctrl-C, or the SIGTERM a process manager sends. A signal that cannot be listened for
/// never comes, rather than stopping the server at once.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => drop(terminate.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The settings the functions read, and the delivery timings `template.yaml`'s function timeouts
/// and queue visibility must agree with (in seconds).
fn settings_table() -> serde_json::Value {
    use webhook_delivery::attempt::{CLAIM_LEASE, timeout_for};
    let longest_attempt = timeout_for(&webhook_domain::EventName::WEBHOOK_TEST);
    serde_json::json!({
        "settings": settings::ALL.map(|setting| serde_json::json!({
            "variable": setting.variable,
            "default": setting.default,
            "bounds": setting.bounds,
            "parameter": setting.parameter(),
        })),
        "timings": {
            "longest_attempt": longest_attempt.as_secs(),
            "claim": CLAIM_LEASE.as_secs(),
            "blocking_budget": webhook_delivery::dispatch::BUDGET.as_secs(),
        },
        "limits": {"max_endpoints_per_org": settings::ENDPOINT_LIMIT_MAX},
    })
}

/// The API's route table as `[{"route": "GET /path", "function": "binary"}]`.
fn route_table() -> serde_json::Value {
    routes::ROUTES
        .iter()
        .map(|route| serde_json::json!({"route": route.key(), "function": route.function}))
        .collect()
}

/// `--sweep-every`: from 100 ms to a day (a zero interval would spin).
fn sweep_interval(raw: &str) -> Result<Duration, DelayError> {
    parse_delay_within(
        raw,
        Duration::from_millis(100)..=Duration::from_secs(24 * 3600),
    )
}

/// The scheduled sweeper's stand-in: the same sweep, on a timer.
async fn sweep_periodically<S: DeliveryStatsStore>(
    store: S,
    clock: Arc<dyn Clock>,
    every: Duration,
    policy: FailingPolicy,
) {
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        timer.tick().await;
        if let Err(error) = sweep(&store, clock.as_ref(), policy, &NoticeBoard::Log, || true).await
        {
            tracing::error!(%error, "failing sweep failed");
        }
    }
}

/// What dev-server serves: the API's handlers, the keys it seeds for the bundled authorizer and,
/// when it delivers, the pipeline behind `POST /_dev/events`.
pub struct Server<S> {
    app: App<S>,
    keys: ApiKeys,
    delivery: Option<Arc<Pipeline<S, LocalQueue>>>,
    published: dev_events::Published,
    /// How long a client has to send a request head.
    head_timeout: std::time::Duration,
}

impl<S> Server<S> {
    pub fn new(app: App<S>, keys: ApiKeys) -> Self {
        Self {
            app,
            keys,
            delivery: None,
            published: dev_events::Published::default(),
            head_timeout: connection::HEAD_TIMEOUT,
        }
    }

    /// Another time limit for request heads than the default 10 s (tests use a short one).
    pub fn with_head_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.head_timeout = timeout;
        self
    }

    /// Delivers: `POST /_dev/events` and the test route use this pipeline's sender and rules.
    pub fn with_delivery(mut self, pipeline: Arc<Pipeline<S, LocalQueue>>) -> Self {
        self.delivery = Some(pipeline);
        self
    }
}

impl<S: webhook_store::ApiKeyStore> Server<S> {
    /// Puts the `--api-key`s into the store, where every request's key is then looked up by
    /// the bundled authorizer's own code.
    async fn seed_keys(&self) -> Result<(), webhook_store::StoreError> {
        for record in self.keys.records(self.app.clock.now()) {
            self.app.store.put_api_key(&record).await?;
        }
        Ok(())
    }
}

/// Serves on a loopback port of its own in the background, for tests; returns its address once
/// its keys are seeded.
pub async fn spawn<S>(server: Server<S>) -> std::io::Result<SocketAddr>
where
    S: webhook_store::Store,
{
    server.seed_keys().await.map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener, Arc::new(server)));
    Ok(addr)
}

async fn serve<S>(listener: TcpListener, server: Arc<Server<S>>) -> Result<(), lambda_http::Error>
where
    S: webhook_store::Store,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, a connection reset before it was taken, ...: the
                // listener itself is fine, so keep serving after a breath.
                tracing::error!(%error, "could not accept a connection; still listening");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move {
            let timeout = server.head_timeout;
            let Some(stream) = connection::first_head(stream, timeout).await else {
                return;
            };
            let service = service_fn(move |request| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(handle(&server, peer, request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
}

async fn handle<S>(
    server: &Server<S>,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>>
where
    S: webhook_store::Store,
{
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let route = match routes::find(&parts.method, path) {
        Some(matched) => Some(Served::Api(matched)),
        None if parts.method == Method::POST && path == dev_events::PATH => Some(Served::Publish),
        None => None,
    };
    let response = match route {
        None if parts.method == Method::GET && path == "/openapi.json" => gateway::openapi(),
        None => gateway::detail(hyper::StatusCode::NOT_FOUND, "Not found."),
        // A body that stops arriving holds the connection no longer than a head may.
        Some(route) => match tokio::time::timeout(
            server.head_timeout,
            Limited::new(body, connection::MAX_BODY as usize).collect(),
        )
        .await
        {
            Err(_) => gateway::detail(
                hyper::StatusCode::REQUEST_TIMEOUT,
                "The request body did not arrive in time.",
            ),
            Ok(Err(_)) => gateway::too_large(),
            Ok(Ok(body)) => answer(server, &parts, body.to_bytes(), &route, peer).await,
        },
    };
    tracing::info!(
        "{} {} {} {:.1} ms",
        parts.method,
        parts.uri.path(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// What a request reached: one of the API's routes, or dev-server's own publish route.
enum Served {
    Api(routes::Matched),
    Publish,
}

/// A matched request: authorized by the bundled authorizer's code, shaped into the event API
/// Gateway would send, and handed to its handler.
async fn answer<S: webhook_store::Store>(
    server: &Server<S>,
    parts: &hyper::http::request::Parts,
    body: Bytes,
    route: &Served,
    peer: SocketAddr,
) -> hyper::Response<Full<Bytes>> {
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let now = server.app.clock.now();
    let authorized = match authorizer::identify(&server.app.store, authorization, now).await {
        Ok(authorized) => authorized,
        Err(error) => {
            tracing::error!(%error, "could not read the API key");
            return gateway::internal_error();
        }
    };
    // API Gateway's name for the route, `METHOD /path`, and its path parameter.
    let (key, parameter) = match route {
        Served::Api(matched) => (matched.route.key(), matched.parameter.as_ref()),
        Served::Publish => (format!("POST {}", dev_events::PATH), None),
    };
    match gateway::lambda_request(parts, body, &key, parameter, &authorized, peer) {
        Ok(event) => gateway::into_http(match route {
            Served::Api(matched) => dispatch(server, matched.route.operation, event).await,
            Served::Publish => match &server.delivery {
                Some(pipeline) => dev_events::publish(pipeline, &server.published, event).await,
                None => Ok(gateway::not_served()),
            },
        }),
        Err(error) => {
            tracing::error!(%error, "could not shape the request as an API Gateway event");
            gateway::internal_error()
        }
    }
}

async fn dispatch<S: webhook_store::Store>(
    server: &Server<S>,
    operation: Operation,
    request: lambda_http::Request,
) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
    let app = &server.app;
    match operation {
        Operation::ListEndpoints => handlers::list_endpoints(app, request).await,
        Operation::CreateEndpoint => handlers::create_endpoint(app, request).await,
        Operation::UpdateEndpoint => handlers::update_endpoint(app, request).await,
        Operation::DeleteEndpoint => handlers::delete_endpoint(app, request).await,
        Operation::GetLegacyWebhook => handlers::get_legacy_webhook(app, request).await,
        Operation::SetLegacyWebhook => handlers::set_legacy_webhook(app, request).await,
        Operation::ListDeliveries => handlers::list_deliveries(app, request).await,
        Operation::ListEventTypes => handlers::list_event_types(request).await,
        Operation::EndpointStats => handlers::endpoint_stats(app, request).await,
        Operation::RotateSecret => handlers::rotate_secret(app, request).await,
        Operation::GetDelivery => handlers::get_delivery(app, request).await,
        Operation::CreatePortalSession => handlers::create_portal_session(app, request).await,
        Operation::GetAwsIdentity => handlers::aws_identity(app, request).await,
        Operation::Portal => {
            let asset = request
                .path_parameters_ref()
                .and_then(|params| params.first(routes::ASSET));
            Ok(webhook_portal::serve(asset, &FrameAncestors::default()))
        }
        Operation::ResendDelivery | Operation::RecoverEndpoint | Operation::SendTestDelivery => {
            // Without delivery there is nothing to send with; the route is not served.
            let Some(pipeline) = &server.delivery else {
                return Ok(gateway::not_served());
            };
            let resend = |records, attempts| resend::resend(&pipeline.queue, records, attempts);
            match operation {
                Operation::ResendDelivery => handlers::resend_delivery(app, request, resend).await,
                Operation::RecoverEndpoint => {
                    handlers::recover_endpoint(app, request, resend).await
                }
                _ => {
                    handlers::send_test_delivery(app, request, |endpoint, keys, event_type| {
                        pipeline.send_test(endpoint, keys, event_type)
                    })
                    .await
                }
            }
        }
    }
}
