//! The AWS SDK configuration every function loads once at start.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

/// The roots AWS service endpoints chain to (Amazon Trust Services and the Starfield roots that
/// cross-sign them).
const AMAZON_ROOTS: &[u8] = include_bytes!("amazon-roots.pem");

/// Which root certificates a function's AWS clients trust (`TLS_ROOTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRoots {
    /// The six roots of `amazon-roots.pem`, compiled in: the default.
    Amazon,
    /// The system's store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else the usual places), for an
    /// endpoint whose certificate chains elsewhere.
    System,
}

impl TlsRoots {
    pub fn from_env() -> Result<Self, String> {
        Self::parse(std::env::var("TLS_ROOTS").ok().as_deref())
    }

    fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("" | "amazon") => Ok(Self::Amazon),
            Some("system") => Ok(Self::System),
            Some(other) => Err(format!(
                "TLS_ROOTS: {other:?} is neither \"amazon\" nor \"system\""
            )),
        }
    }

    fn trust_store(self) -> TrustStore {
        match self {
            Self::Amazon => TrustStore::empty().with_pem_certificate(AMAZON_ROOTS),
            Self::System => TrustStore::default(),
        }
    }
}

/// The SDK's default configuration (region, endpoints and retries from the environment), with
/// the credentials Lambda puts in every function's environment and the roots `TLS_ROOTS` names.
///
/// Both choices are about start-up. The SDK sets up TLS for each client when the client is
/// made, not at its first request, and the system's roots are PEM files it parses at that
/// moment: 86% of a function's start-up instructions here, which took 4.5–5.3 ms against a
/// hello-world `lambda_http` binary's 1.9 ms, and 2.1–2.6 ms with six compiled-in roots
/// (`scripts/cold-start`). The default credentials chain would also build an STS client for
/// web identity tokens, and set up TLS for it, that a function never uses. Without credentials
/// in the environment (a developer's machine) the default chain applies.
pub async fn load_sdk_config() -> Result<SdkConfig, String> {
    let tls = TlsContext::builder()
        .with_trust_store(TlsRoots::from_env()?.trust_store())
        .build()
        .map_err(|e| format!("TLS configuration: {e}"))?;
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(tls)
        .build_https();
    let loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client);
    let loader = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader.credentials_provider(EnvironmentVariableCredentialsProvider::new())
    } else {
        loader
    };
    Ok(loader.load().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_can_be_made_on_the_compiled_in_roots() {
        // The SDK parses the roots (with `expect`) when a client is made, so a damaged file
        // would stop every function at start; this makes one the way a function does.
        let config = load_sdk_config().await.unwrap();
        let _client = aws_sdk_dynamodb::Client::new(&config);
        let pem = String::from_utf8_lossy(AMAZON_ROOTS);
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 6);
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
