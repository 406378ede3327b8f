//! Where endpoint health notices go. In AWS, an EventBridge bus (the stack's `NoticeBus`
//! parameter), from which a platform's rules can email its customers; locally, the log.
//!
//! Posting is best effort: the change it reports has already been written, and a delivery or a
//! sweep must not fail, or be retried, because a bus did not answer. A notice that could not
//! be posted is logged as an error, with the notice, for an alarm on the function's log.

#[cfg(feature = "testing")]
use std::sync::{Arc, Mutex};

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use webhook_aws::LazyClient;
use webhook_domain::EndpointNotice;
use webhook_domain::settings;

/// The `source` of every notice on the bus.
pub const SOURCE: &str = "webhooks.endpoints";

#[derive(Debug, Clone)]
pub enum NoticeBoard {
    /// PutEvents to this bus (a name or an ARN). Notices are rare: the client is made at the
    /// first.
    EventBridge {
        client: LazyClient<aws_sdk_eventbridge::Client>,
        bus: String,
    },
    /// One log line per notice: dev-server and tests that do not look.
    Log,
    /// Kept in memory, for tests to read.
    #[cfg(feature = "testing")]
    Recorded(Arc<Mutex<Vec<EndpointNotice>>>),
}

impl NoticeBoard {
    /// `NOTICE_BUS` (a bus name or ARN) and the AWS SDK's own environment.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, String> {
        let bus = settings::NOTICE_BUS.read::<String>()?;
        Ok(Self::EventBridge {
            client: LazyClient::new(config, aws_sdk_eventbridge::Client::new),
            bus,
        })
    }

    /// A board that keeps its notices, and a handle to read them.
    #[cfg(feature = "testing")]
    pub fn recorded() -> (Self, Arc<Mutex<Vec<EndpointNotice>>>) {
        let notices = Arc::new(Mutex::new(Vec::new()));
        (Self::Recorded(notices.clone()), notices)
    }

    /// Posts the notice; a failure is logged, never returned (see the module's comment).
    pub async fn post(&self, notice: EndpointNotice) {
        if let Err(error) = self.try_post(&notice).await {
            tracing::error!(
                %error,
                notice = notice.kind.as_str(),
                org_id = %notice.org_id,
                endpoint_id = %notice.endpoint_id,
                "an endpoint notice was not posted"
            );
        }
    }

    async fn try_post(&self, notice: &EndpointNotice) -> Result<(), String> {
        let refused = |why: &str| format!("EventBridge refused the notice: {why}");
        match self {
            Self::EventBridge { client, bus } => {
                let detail =
                    serde_json::to_string(notice).map_err(|error| refused(&error.to_string()))?;
                let entry = PutEventsRequestEntry::builder()
                    .event_bus_name(bus)
                    .source(SOURCE)
                    .detail_type(notice.kind.as_str())
                    .detail(detail)
                    .build();
                let output = client
                    .get()
                    .put_events()
                    .entries(entry)
                    .send()
                    .await
                    .map_err(|error| {
                        let error = webhook_aws::describe(&error);
                        format!("EventBridge could not be reached: {error}")
                    })?;
                match output
                    .entries()
                    .first()
                    .and_then(|entry| entry.error_code())
                {
                    Some(code) => Err(refused(code)),
                    None => Ok(()),
                }
            }
            Self::Log => {
                tracing::info!(
                    notice = notice.kind.as_str(),
                    org_id = %notice.org_id,
                    endpoint_id = %notice.endpoint_id,
                    url_host = %notice.url_host,
                    "endpoint notice"
                );
                Ok(())
            }
            #[cfg(feature = "testing")]
            Self::Recorded(notices) => {
                notices
                    .lock()
                    .map_err(|_| refused("poisoned"))?
                    .push(notice.clone());
                Ok(())
            }
        }
    }
}
