//! What sending an attempt came to, over HTTP or to an AWS destination.

use std::time::Duration;

use webhook_domain::{AttemptOutcome, FailureCategory};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub outcome: AttemptOutcome,
    pub duration: Duration,
    /// From a 429 or 503, in seconds.
    pub retry_after: Option<Duration>,
    /// Why it failed, for logs; never a secret.
    pub error: Option<String>,
    /// The response body, at most `sender::MAX_RESPONSE_BYTES` of it.
    pub body: Vec<u8>,
    /// The body went on past `sender::MAX_RESPONSE_BYTES`; the rest was not read.
    pub body_truncated: bool,
}

impl Sent {
    /// An attempt that got no answer, for `error`.
    pub fn failed(category: FailureCategory, error: String) -> Self {
        Self {
            outcome: AttemptOutcome::Failed {
                status: None,
                category,
            },
            duration: Duration::ZERO,
            retry_after: None,
            error: Some(error),
            body: Vec::new(),
            body_truncated: false,
        }
    }
}
