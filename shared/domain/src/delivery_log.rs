//! The delivery log: one record per event per destination, payload-free, updated as attempts
//! happen, shown newest first.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AgentId, EndpointId, EventType, FailureCategory, OrgId, Timestamp};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    /// Failed so far; another attempt is queued.
    Retrying,
    /// Failed, and no further attempt will be made.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of delivered, retrying, failed")]
pub struct UnknownDeliveryStatus;

impl FromStr for DeliveryStatus {
    type Err = UnknownDeliveryStatus;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        [Self::Delivered, Self::Retrying, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or(UnknownDeliveryStatus)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one event did at one destination. Never the payload, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub org_id: OrgId,
    pub event_id: Uuid,
    /// The endpoint, or `None` for the organization's legacy URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<EndpointId>,
    /// The endpoint's label and URL when the attempt was made, so the record still reads well
    /// after the endpoint is renamed or deleted. The label is empty for the legacy URL.
    pub endpoint_label: String,
    pub url: String,
    pub event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<i64>,
    /// When the event happened: what orders the log, fixed for the life of the record (and the
    /// same for a duplicate of it, so duplicates land on the same record).
    pub occurred_at: Timestamp,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_category: Option<FailureCategory>,
    pub last_attempt_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<Timestamp>,
    /// Sent by the test route, with a sample payload.
    #[serde(default)]
    pub test: bool,
}

impl DeliveryRecord {
    pub fn reference(&self) -> DeliveryRef {
        DeliveryRef {
            org_id: self.org_id,
            event_id: self.event_id,
            endpoint_id: self.endpoint_id,
            occurred_at: self.occurred_at,
        }
    }

    pub fn log_key(&self) -> LogKey {
        self.reference().log_key()
    }

    /// Whether this version of the record may replace `stored`: it has seen more attempts, or
    /// as many and none earlier. A late duplicate of an earlier attempt never wins.
    pub fn supersedes(&self, stored: &DeliveryRecord) -> bool {
        (self.attempt_count, self.last_attempt_at) >= (stored.attempt_count, stored.last_attempt_at)
    }
}

/// Whether a record kept until `expires_at` is gone by `now`. Whole seconds, as DynamoDB's TTL
/// attribute holds them.
pub fn is_expired(expires_at: Timestamp, now: Timestamp) -> bool {
    expires_at.unix_millis().div_euclid(1000) <= now.unix_millis().div_euclid(1000)
}

/// What names one record: one event, which happened at `occurred_at`, at one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRef {
    pub org_id: OrgId,
    pub event_id: Uuid,
    pub endpoint_id: Option<EndpointId>,
    pub occurred_at: Timestamp,
}

impl DeliveryRef {
    /// The record's place in its organization's log: later records have greater keys, and no two
    /// records share one (the event and destination make it unique).
    pub fn log_key(&self) -> LogKey {
        LogKey::new(self.occurred_at, self.event_id, self.endpoint_id)
    }

    /// Which of the organization's log partitions holds the record.
    pub fn shard(&self) -> u8 {
        log_shard(self.event_id, self.endpoint_id)
    }
}

/// A position in an organization's delivery log: `<occurred_at>#<event id>#<destination>`.
/// The fixed-width timestamp comes first, so text order is time order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogKey(String);

impl LogKey {
    pub fn new(occurred_at: Timestamp, event_id: Uuid, endpoint: Option<EndpointId>) -> Self {
        let destination = endpoint.map_or_else(|| "legacy".to_owned(), |id| id.to_string());
        Self(format!("{occurred_at}#{}#{destination}", event_id.simple()))
    }

    /// The smallest key of any record started at or after `at`.
    pub fn at(at: Timestamp) -> Self {
        Self(at.to_string())
    }

    /// A key read back from storage or from a verified cursor.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which records a reader wants; every field is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<EndpointId>,
    pub agent_id: Option<AgentId>,
    pub event_type: Option<EventType>,
    pub status: Option<DeliveryStatus>,
    /// Records started at or after this.
    pub since: Option<Timestamp>,
}

impl DeliveryFilter {
    pub fn matches(&self, record: &DeliveryRecord) -> bool {
        self.endpoint_id
            .is_none_or(|id| record.endpoint_id == Some(id))
            && self.agent_id.is_none_or(|id| record.agent_id == Some(id))
            && self.event_type.is_none_or(|t| record.event_type == t)
            && self.status.is_none_or(|s| record.status == s)
            && self.since.is_none_or(|since| record.occurred_at >= since)
    }

    /// Whether anything beyond the time range narrows the results (the range is a key condition).
    pub fn narrows_by_content(&self) -> bool {
        self.endpoint_id.is_some()
            || self.agent_id.is_some()
            || self.event_type.is_some()
            || self.status.is_some()
    }
}

/// One page of the log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPage {
    pub records: Vec<DeliveryRecord>,
    /// Records matching the filter exist after the last one of this page.
    pub has_more: bool,
}

/// How many partitions one organization's log is spread over, so a busy organization's writes
/// do not all land on one. Readers query every shard; changing this strands older records.
pub const LOG_SHARDS: u8 = 8;

/// The shard of one event's record at one destination: the random bits of the ids spread the
/// records of one event, and of one endpoint, over all shards.
fn log_shard(event_id: Uuid, endpoint: Option<EndpointId>) -> u8 {
    let mixed = event_id.as_u128() ^ endpoint.map_or(0, |id| id.as_uuid().as_u128());
    (mixed % u128::from(LOG_SHARDS)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_unix_millis(millis).unwrap()
    }

    #[test]
    fn keys_sort_in_time_order_and_since_bounds_them() {
        let event = Uuid::new_v4();
        let earlier = LogKey::new(at(1_000), Uuid::new_v4(), None);
        let later = LogKey::new(at(2_000), event, Some(EndpointId::random()));
        assert!(earlier < later);
        assert!(LogKey::at(at(2_000)) <= later);
        assert!(LogKey::at(at(2_001)) > later);
        assert!(later.as_str().contains(&event.simple().to_string()));
    }

    #[test]
    fn statuses_parse_their_own_names_only() {
        for status in [
            DeliveryStatus::Delivered,
            DeliveryStatus::Retrying,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("Delivered".parse::<DeliveryStatus>().is_err());
        assert!("".parse::<DeliveryStatus>().is_err());
    }

    #[test]
    fn shards_spread_and_stay_in_range() {
        let mut seen = [0u32; LOG_SHARDS as usize];
        for _ in 0..800 {
            let shard = log_shard(Uuid::new_v4(), Some(EndpointId::random()));
            seen[usize::from(shard)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 40), "{seen:?}");
    }
}
