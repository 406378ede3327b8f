//! How a function starts on AWS, in one place: its logging, the SDK configuration it loads once
//! (region from `AWS_REGION`, the TLS roots of `TLS_ROOTS`), and clients made at first use.

use std::sync::{Arc, LazyLock};

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::OnceCell;

pub mod xray;

/// Libraries whose verbose levels write what must never reach a log: the SDK and its HTTP stack
/// log requests and responses (item values, secrets among them), the Lambda runtime the events
/// it hands over (bearer tokens, bodies). They log at `info` at most, whatever level is asked.
const CLAMPED: [&str; 12] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_sdk_dynamodb",
    "aws_sdk_sqs",
    "aws_sdk_eventbridge",
    "aws_config",
    "hyper",
    "hyper_util",
    "lambda_runtime",
    "lambda_http",
];

/// Logging as Lambda's controls ask (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`;
/// `AWS_LAMBDA_LOG_FORMAT=JSON`), with [`CLAMPED`] held at `info`; and, where Lambda runs an
/// X-Ray daemon, this service's spans sent to it ([`xray`]).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::prelude::*;
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|raw| raw.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = CLAMPED
        .iter()
        .filter_map(|target| format!("{target}=info").parse().ok())
        .fold(
            EnvFilter::default().add_directive(level.into()),
            |filter, directive| filter.add_directive(directive),
        );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time();
    let logs = if json {
        logs.json().with_filter(filter).boxed()
    } else {
        logs.with_filter(filter).boxed()
    };
    // A second call (a test that starts twice) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(xray::XRay::from_env())
        .try_init();
}

/// An SDK failure as a log line or error may carry it: the service's error code and message, or
/// what kind of transport trouble it was. Never the raw response, which the SDK's own
/// `DisplayErrorContext` appends and which may hold item values.
pub fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(service) => {
            let error = service.err();
            format!(
                "{}: {}",
                error.code().unwrap_or("unknown error"),
                error.message().unwrap_or("no message")
            )
        }
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) if connector.is_timeout() => "could not connect: timed out".to_owned(),
            Some(connector) if connector.is_io() => "could not connect: I/O error".to_owned(),
            _ => "could not send the request".to_owned(),
        },
        SdkError::ResponseError(_) => "the response could not be read".to_owned(),
        SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
        _ => "unknown SDK failure".to_owned(),
    }
}

/// The roots AWS service endpoints chain to (Amazon Trust Services and the Starfield roots that
/// cross-sign them).
const AMAZON_ROOTS: &[u8] = include_bytes!("amazon-roots.pem");

/// Which root certificates a function's AWS clients trust (`TLS_ROOTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsRoots {
    /// The six roots of `amazon-roots.pem`, compiled in: the default.
    Amazon,
    /// The system's store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else the usual places), for an
    /// endpoint whose certificate chains elsewhere.
    System,
}

impl TlsRoots {
    fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("" | "amazon") => Ok(Self::Amazon),
            Some("system") => Ok(Self::System),
            Some(other) => Err(format!(
                "TLS_ROOTS: {other:?} is neither \"amazon\" nor \"system\""
            )),
        }
    }

    /// The SDK's HTTPS client (rustls on aws-lc, as its default) trusting these roots.
    fn http_client(self) -> Result<SharedHttpClient, String> {
        let trust_store = match self {
            Self::Amazon => TrustStore::empty().with_pem_certificate(AMAZON_ROOTS),
            Self::System => TrustStore::default(),
        };
        let tls = TlsContext::builder()
            .with_trust_store(trust_store)
            .build()
            .map_err(|e| format!("TLS configuration: {e}"))?;
        let client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(tls)
            .build_https();
        Ok(SharedHttpClient::new(Traced {
            client,
            // The SDK loads the system's roots once, when the first client is made.
            connects_when_made: self == Self::System,
        }))
    }
}

/// The SDK's default configuration (endpoints and retries from the environment), with the
/// region and credentials Lambda puts in every function's environment and the roots `TLS_ROOTS`
/// names.
///
/// These choices are about start-up. The SDK sets up TLS for each client when the client is
/// made, and the system's roots are PEM files it parses at that moment: 86% of a function's
/// start-up instructions here, which took 4.5–5.3 ms against a hello-world `lambda_http`
/// binary's 1.9 ms, and 2.1–2.7 ms with six compiled-in roots (`scripts/cold-start`). The
/// default credentials chain would also build an STS client for web identity tokens, and set up
/// TLS for it, that a function never uses, and the default region chain an instance metadata
/// client. Without credentials or a region in the environment (a developer's machine) the
/// default chains apply.
///
/// Loaded once per process: a function whose crates each build a client (the table, the
/// delivery queue) shares one configuration, and so one HTTP client, whose connector is built
/// at its first request and kept.
pub async fn load_sdk_config() -> Result<SdkConfig, String> {
    static LOADED: OnceCell<SdkConfig> = OnceCell::const_new();
    LOADED.get_or_try_init(load).await.cloned()
}

async fn load() -> Result<SdkConfig, String> {
    #[cfg(test)]
    tests::LOADS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let roots = TlsRoots::parse(webhook_domain::settings::TLS_ROOTS.raw().as_deref())?;
    let loader = aws_config::defaults(BehaviorVersion::latest()).http_client(roots.http_client()?);
    let loader = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader.credentials_provider(EnvironmentVariableCredentialsProvider::new())
    } else {
        loader
    };
    // Lambda sets AWS_REGION; the default region chain would also build an instance metadata
    // client that a function never asks.
    let loader = match std::env::var("AWS_REGION") {
        Ok(region) if !region.is_empty() => loader.region(Region::new(region)),
        _ => loader,
    };
    Ok(loader.load().await)
}

/// The SDK's HTTP client, each of its calls traced ([`xray::Traced`]).
///
/// On compiled-in roots, it also skips the TLS connector the SDK builds and throws away when
/// each client is made. The SDK does that so that the system's roots are loaded (and kept)
/// before the first request; compiled-in roots are parsed again for every connector, so that
/// early one is pure cost. The connector each request uses is built at the first one, and kept.
#[derive(Debug)]
struct Traced {
    client: SharedHttpClient,
    connects_when_made: bool,
}

impl HttpClient for Traced {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(xray::Traced(
            self.client.http_connector(settings, components),
        ))
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        config: &ConfigBag,
    ) -> Result<(), BoxError> {
        if self.connects_when_made {
            self.client.validate_base_client_config(components, config)
        } else {
            Ok(())
        }
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.client.connector_metadata()
    }
}

/// An AWS client made at its first use. Making one parses its service's endpoint rules (about
/// 0.75 M instructions, a quarter of a function's start), which a cold start should not pay for
/// a client that most invocations never use: the queue a delivery uses only to retry, the bus
/// a notice goes to. Clones share the one client.
#[derive(Debug)]
pub struct LazyClient<C>(Arc<LazyLock<C, Box<dyn FnOnce() -> C + Send>>>);

impl<C: 'static> LazyClient<C> {
    /// `make` (a client's `new`) runs at the first [`Self::get`], on `config`.
    pub fn new(config: &SdkConfig, make: fn(&SdkConfig) -> C) -> Self {
        let config = config.clone();
        Self(Arc::new(LazyLock::new(Box::new(move || make(&config)))))
    }

    pub fn get(&self) -> &C {
        LazyLock::force(&self.0)
    }
}

/// A client already made (a test's, on a local server).
impl<C: Send + 'static> From<C> for LazyClient<C> {
    fn from(client: C) -> Self {
        Self(Arc::new(LazyLock::new(Box::new(move || client))))
    }
}

impl<C> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// How many times this process loaded the configuration.
    pub(super) static LOADS: AtomicUsize = AtomicUsize::new(0);

    #[tokio::test]
    async fn the_configuration_is_loaded_once_whoever_asks() {
        let (first, second) = tokio::join!(load_sdk_config(), load_sdk_config());
        let third = load_sdk_config().await;
        assert!(first.is_ok() && second.is_ok() && third.is_ok());
        assert_eq!(LOADS.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_request_on_the_compiled_in_roots_builds_its_connector_and_goes_out() {
        // The SDK parses the roots (with `expect`) when it builds the connector, at the first
        // request: a damaged file would panic there. Nothing listens on port 9, so the request
        // ends in a connection error once the connector is built.
        use aws_sdk_dynamodb::config::{Credentials, Region};
        let config = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .http_client(TlsRoots::Amazon.http_client().unwrap())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("id", "secret", None, None, "test"))
            .endpoint_url("https://127.0.0.1:9")
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let error = aws_sdk_dynamodb::Client::from_conf(config)
            .list_tables()
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(error, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
            "{error:?}"
        );
        let pem = String::from_utf8_lossy(AMAZON_ROOTS);
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 6);
    }

    #[test]
    fn a_lazy_client_is_made_at_its_first_use_once_for_all_its_clones() {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        fn make(_: &SdkConfig) -> usize {
            MADE.fetch_add(1, Ordering::SeqCst) + 100
        }
        let lazy = LazyClient::new(&SdkConfig::builder().build(), make);
        let clone = lazy.clone();
        assert_eq!(MADE.load(Ordering::SeqCst), 0, "nothing made yet");
        assert_eq!((*lazy.get(), *clone.get(), *lazy.get()), (100, 100, 100));
        assert_eq!(MADE.load(Ordering::SeqCst), 1);
        assert_eq!(*LazyClient::from(7).get(), 7);
    }

    #[test]
    fn tls_roots_are_amazon_unless_system_is_asked_for() {
        assert_eq!(TlsRoots::parse(None), Ok(TlsRoots::Amazon));
        assert_eq!(TlsRoots::parse(Some("")), Ok(TlsRoots::Amazon));
        assert_eq!(TlsRoots::parse(Some("amazon")), Ok(TlsRoots::Amazon));
        assert_eq!(TlsRoots::parse(Some("system")), Ok(TlsRoots::System));
        assert!(TlsRoots::parse(Some("System")).is_err());
    }
}

#[cfg(test)]
mod described {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    #[test]
    fn a_service_error_is_its_code_and_message_never_the_raw_response() {
        let error = PutItemError::generic(
            ErrorMetadata::builder()
                .code("ValidationException")
                .message("One or more parameter values were invalid")
                .build(),
        );
        let raw = Response::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"secret":"whsec_do_not_log"}"#),
        );
        let described = describe(&SdkError::service_error(error, raw));
        assert_eq!(
            described,
            "ValidationException: One or more parameter values were invalid"
        );
        let timeout: SdkError<PutItemError, Response> = SdkError::timeout_error("whsec_do_not_log");
        assert_eq!(describe(&timeout), "timed out");
    }
}
