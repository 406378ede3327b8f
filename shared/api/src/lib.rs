//! The webhook endpoint handlers: an API Gateway HTTP API (payload 2.0) request in, a response
//! out. The Lambda functions and `dev-server` call the very same functions.

pub mod authorizer;
mod cursor;
mod error;
pub mod fields;
pub mod handlers;
mod idempotent;
mod identity;
mod request_body;
mod request_query;
pub mod response;
pub mod routes;
mod views;

use std::sync::Arc;

use webhook_domain::{Clock, PerMinute, Quota, SystemClock, settings};
use webhook_store::DynamoStore;

pub use cursor::{CURSOR_KEY_VARIABLE, CursorKey, CursorKeyError};
pub use error::ApiError;
pub use idempotent::IdempotentRouteStore;

/// The OpenAPI 3.1 document of every route in [`routes::ROUTES`]: what dev-server serves at
/// `GET /openapi.json`. A test keeps its paths in step with the route table, another its
/// schemas with the official client's models.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// What every handler needs, built once per process (at cold start on Lambda).
pub struct App<S> {
    pub store: S,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    /// Seals delivery log cursors: only the delivery log's function (and dev-server) has one.
    pub cursors: Option<CursorKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub max_endpoints_per_org: u32,
    pub test_deliveries: PerMinute,
    pub resends: PerMinute,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_endpoints_per_org: 50,
            test_deliveries: PerMinute::TESTS,
            resends: PerMinute::RESENDS,
        }
    }
}

impl Settings {
    /// How many a minute `quota` allows an organization.
    pub fn limit(&self, quota: Quota) -> PerMinute {
        match quota {
            Quota::Tests => self.test_deliveries,
            Quota::Resends => self.resends,
            // Counted by `deliver`, never by a route.
            Quota::ResentInFlight => PerMinute::RESENT_IN_FLIGHT,
        }
    }

    /// `MAX_ENDPOINTS_PER_ORG`, `TEST_DELIVERIES_PER_MINUTE` and `RESENDS_PER_MINUTE`; a value
    /// that does not parse stops the cold start.
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        Ok(Self {
            max_endpoints_per_org: settings::MAX_ENDPOINTS_PER_ORG
                .read_with(settings::endpoint_limit)?,
            test_deliveries: settings::TEST_DELIVERIES_PER_MINUTE.read_with(PerMinute::parse)?,
            resends: settings::RESENDS_PER_MINUTE.read_with(PerMinute::parse)?,
        })
    }
}

impl<S> App<S> {
    pub fn new(store: S, settings: Settings) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            settings,
            cursors: None,
        }
    }

    /// The key that seals delivery log cursors; every instance serving the log needs the same.
    pub fn with_cursor_key(mut self, key: CursorKey) -> Self {
        self.cursors = Some(key);
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs the Lambda runtime, each request answered by `handler`: a route function's `main`.
    pub async fn serve<'a, Answering>(
        &'a self,
        handler: impl Fn(&'a Self, lambda_http::Request) -> Answering,
    ) -> Result<(), lambda_http::Error>
    where
        Answering: Future<Output = handlers::Answer> + Send + 'a,
    {
        lambda_http::run(lambda_http::service_fn(|request| handler(self, request))).await
    }
}

impl App<DynamoStore> {
    /// The Lambda configuration: `TABLE_NAME`, `MAX_ENDPOINTS_PER_ORG` and the AWS SDK's own
    /// environment (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`).
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let settings = Settings::from_env()?;
        let store = DynamoStore::from_env().await?;
        Ok(Self::new(store, settings))
    }
}
