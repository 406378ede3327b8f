//! The rules of webhook endpoints, free of AWS and HTTP.
//!
//! Every value here is parsed once at the edge; a value of these types is valid by construction.

pub mod api_key;
pub mod aws_destination;
pub mod caller;
mod custom_headers;
pub mod delivery;
pub mod delivery_log;
mod destination;
pub mod duration;
pub mod endpoint;
pub mod endpoint_url;
mod event_id;
pub mod event_type;
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
pub mod health;
pub mod idempotency;
pub mod label;
pub mod legacy;
pub mod network;
pub mod notice;
pub mod pace;
pub mod rate_limit;
pub mod secret;
pub mod sent_body;
pub mod settings;
pub mod status;
mod stored;
pub mod time;

pub use api_key::{ApiKeyRecord, ApiKeySecret, KeyDigest, KeyId};
pub use aws_destination::{
    AwsArnError, AwsDestination, AwsService, ExternalId, RoleArn, RoleError,
};
pub use caller::{Caller, Forbidden, OrgId, Role};
pub use custom_headers::{CustomHeaders, HeaderRefused};
pub use delivery::{
    Attempt, AttemptOutcome, DeliveryStats, FailingPolicy, FailureCategory, SweepVerdict,
    TestDelivery, may_revive, streak_counts, sweep_verdict,
};
pub use delivery_log::{
    AttemptClaim, DeliveryFilter, DeliveryPage, DeliveryRecord, DeliveryRef, DeliveryStatus,
    LOST_AFTER, LogKey, LogQuery, LoggedEvent, NotResendable, is_expired,
};
pub use destination::Destination;
pub use duration::{
    DelayError, LogRetention, RetentionError, SessionLength, parse_delay, parse_delay_within,
};
pub use endpoint::{AgentId, Endpoint, EndpointChanges, EndpointId, NewEndpoint};
pub use endpoint_url::{EndpointUrl, EndpointUrlError};
pub use event_id::EventId;
pub use event_type::{
    EventName, EventSubscription, EventType, MalformedEventName, UnknownEventType,
};
pub use health::{EndpointHealth, HOURS_KEPT, Hour, HourCount, RecentAttempts, ResentAttempts};
pub use idempotency::{
    IdempotencyKey, IdempotencyRecord, InvalidIdempotencyKey, Repeat, Replay, secret_named,
};
pub use label::{Label, LabelError};
pub use legacy::LegacyWebhook;
pub use notice::{EndpointNotice, NoticeKind};
pub use pace::{Pace, PaceChange, RateLimit, RateLimitOutOfRange, Signal};
pub use rate_limit::{Minute, PerMinute, PerMinuteError, Quota, QuotaCount};
pub use secret::{
    GraceOutOfRange, PreviousSecret, RandomnessUnavailable, Rotation, RotationGrace, SecretHint,
    SigningKeys, SigningSecret, random_bytes,
};
pub use sent_body::{ATTEMPTS_KEPT, AttemptSummary, DamagedBody, SentBody};
pub use status::{EndpointStatus, RequestedStatus, StatusError};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
