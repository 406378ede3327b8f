//! The delivery log: one record per event per destination, updated as attempts happen, shown
//! newest first. A record keeps the body it sent and its attempts, shown one delivery at a
//! time, never in a list.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::sent_body::{AttemptSummary, SentBody, with_attempt};
use crate::{
    AgentId, Attempt, Destination, Endpoint, EndpointId, EventId, EventName, FailureCategory,
    OrgId, Timestamp,
};

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

/// What one event did at one destination. Never a secret.
// Absent options are left out of items and messages rather than written as nulls.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub org_id: OrgId,
    pub event_id: EventId,
    /// Stored as `endpoint_id`, absent for the legacy URL.
    #[serde(
        rename = "endpoint_id",
        default,
        skip_serializing_if = "Destination::is_legacy"
    )]
    pub destination: Destination,
    /// The endpoint's label and URL when the attempt was made, so the record still reads well
    /// after the endpoint is renamed or deleted. The label is empty for the legacy URL.
    pub endpoint_label: String,
    pub url: String,
    pub event_type: EventName,
    pub agent_id: Option<AgentId>,
    pub call_id: Option<i64>,
    /// When the event happened: what orders the log, fixed for the life of the record (and the
    /// same for a duplicate of it, so duplicates land on the same record).
    pub occurred_at: Timestamp,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    pub http_status: Option<u16>,
    pub failure_category: Option<FailureCategory>,
    pub last_attempt_at: Timestamp,
    pub next_retry_at: Option<Timestamp>,
    /// Sent by the test route, with a sample payload.
    #[serde(default)]
    pub test: bool,
    /// The attempt a worker is making right now, if any. Internal: never shown.
    pub claim: Option<AttemptClaim>,
    /// Every attempt, oldest first (the latest `ATTEMPTS_KEPT`). Stored as `tries`, in the
    /// short form earlier releases cannot read: under its old name they would fail on the
    /// whole record, while this way (after a rollback, say) they show it without attempts.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename(serialize = "tries", deserialize = "tries"),
        alias = "attempts"
    )]
    pub attempts: Vec<AttemptSummary>,
    /// The exact body sent.
    pub body: Option<SentBody>,
}

/// What the log keeps of an event once, whatever the number of its destinations: when it
/// happened (which places its records) and the body its endpoints are sent. A record written
/// without a body shows this one; the legacy URL's records keep their own, which differs.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedEvent {
    pub org_id: OrgId,
    pub event_id: EventId,
    pub occurred_at: Timestamp,
    /// `None` when the body is too large to keep (`SentBody::keep`).
    pub body: Option<SentBody>,
}

/// A worker's hold on one attempt of a delivery, taken before it sends: SQS delivers jobs at
/// least once, and only the holder of the claim may make the attempt. The hold ends at `until`,
/// so a job whose worker died mid-attempt is made by its redelivery, not lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptClaim {
    /// Which attempt, counting from 1.
    pub attempt: u32,
    pub until: Timestamp,
}

impl DeliveryRecord {
    pub fn reference(&self) -> DeliveryRef {
        DeliveryRef {
            org_id: self.org_id,
            event_id: self.event_id,
            destination: self.destination,
            occurred_at: self.occurred_at,
        }
    }

    pub fn log_key(&self) -> LogKey {
        self.reference().log_key()
    }

    /// Claiming an attempt: attempt `claim.attempt` may be made only if no run made it yet (the
    /// record has seen fewer attempts) and no other worker's claim on it still holds. A
    /// duplicate job, a re-run batch, a retried fan-out or a re-published event is refused.
    pub fn may_claim(&self, claim: &AttemptClaim, now: Timestamp) -> bool {
        self.attempt_count < claim.attempt
            && self
                .claim
                .is_none_or(|held| held.attempt < claim.attempt || held.until <= now)
    }

    /// The record after one more attempt: counted, with its outcome: delivered on a 2xx, else
    /// retrying when the next attempt is queued for `next_retry_at`, else failed.
    pub fn after(mut self, attempt: &Attempt, next_retry_at: Option<Timestamp>) -> Self {
        let attempts = with_attempt(std::mem::take(&mut self.attempts), attempt);
        let status = if attempt.outcome.is_success() {
            DeliveryStatus::Delivered
        } else if next_retry_at.is_some() {
            DeliveryStatus::Retrying
        } else {
            DeliveryStatus::Failed
        };
        Self {
            attempts,
            status,
            next_retry_at: next_retry_at.filter(|_| status == DeliveryStatus::Retrying),
            attempt_count: self.attempt_count.saturating_add(1),
            http_status: attempt.outcome.status(),
            failure_category: attempt.outcome.failure(),
            last_attempt_at: attempt.at,
            claim: None,
            ..self
        }
    }

    /// The record as shown: an endpoint's record with its event's body when it keeps none of
    /// its own (the legacy URL is sent other bytes: its record shows only its own).
    pub fn with_event_body(mut self, event: Option<&LoggedEvent>) -> Self {
        if self.body.is_none() && !self.destination.is_legacy() {
            self.body = event
                .filter(|event| (event.org_id, event.event_id) == (self.org_id, self.event_id))
                .and_then(|event| event.body.clone());
        }
        self
    }

    /// The record as a page of the log lists it: no body, no attempts.
    pub fn listed(self) -> Self {
        Self {
            body: None,
            attempts: Vec::new(),
            ..self
        }
    }

    /// A record enters the log when its first attempt is made; before that it only holds a
    /// claim.
    pub fn is_shown(&self) -> bool {
        self.attempt_count > 0
    }

    /// Whether this version of the record may replace `stored`: it has seen more attempts, or
    /// as many and none earlier. A late duplicate of an earlier attempt never wins.
    pub fn supersedes(&self, stored: &DeliveryRecord) -> bool {
        (self.attempt_count, self.last_attempt_at) >= (stored.attempt_count, stored.last_attempt_at)
    }

    /// Ends a record whose delivery was dropped after `attempts` attempts (its endpoint was
    /// deleted or disabled): `failed`, no next retry. Unless the record has moved past
    /// `attempts` (a later attempt wrote it) or is delivered (a duplicate job got through): a
    /// record is never un-delivered. Returns whether it changed.
    pub fn end(&mut self, attempts: u32) -> bool {
        let ends = self.attempt_count <= attempts && self.status != DeliveryStatus::Delivered;
        if ends {
            self.status = DeliveryStatus::Failed;
            self.next_retry_at = None;
        }
        ends
    }

    /// Why this delivery cannot be sent again, if it cannot. `to` is its endpoint as read now
    /// (`None` for the legacy URL, which receives every event).
    pub fn resend_refusal(&self, to: Option<&Endpoint>) -> Option<NotResendable> {
        if self.event_type.is_blocking() {
            return Some(NotResendable::Blocking);
        }
        if self.body.as_ref().is_none_or(|body| body.bytes().is_err()) {
            return Some(NotResendable::NoBody);
        }
        match to {
            Some(endpoint) if !self.test && !endpoint.receives(&self.event_type, self.agent_id) => {
                Some(NotResendable::NotSubscribed)
            }
            _ => None,
        }
    }

    /// Whether another attempt is on its way: retrying, and its next attempt not more than
    /// [`LOST_AFTER`] overdue (past that, its job is taken for lost).
    pub fn awaits_attempt(&self, now: Timestamp) -> bool {
        self.status == DeliveryStatus::Retrying
            && self.next_retry_at.is_some_and(|due| {
                due.checked_add(LOST_AFTER)
                    .is_none_or(|lost| lost.unix_millis() > now.unix_millis())
            })
    }

    /// Opens the record for another chain of attempts (a resend), unless another attempt is
    /// on its way (`awaits_attempt`), and if it has seen exactly `attempts`, the count the
    /// caller read: then `retrying`, its next attempt due `now`. Two resends at once open it
    /// once. Returns whether it changed.
    pub fn reopen(&mut self, attempts: u32, now: Timestamp) -> bool {
        let opens = self.is_shown() && !self.awaits_attempt(now) && self.attempt_count == attempts;
        if opens {
            self.status = DeliveryStatus::Retrying;
            self.next_retry_at = Some(now);
        }
        opens
    }
}

/// Why a logged delivery cannot be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotResendable {
    Blocking,
    NoBody,
    NotSubscribed,
}

impl NotResendable {
    pub fn detail(self) -> &'static str {
        match self {
            Self::Blocking => {
                "A blocking event's answer configured a call that has ended: it is not resent."
            }
            Self::NoBody => {
                "This delivery keeps no body to resend (it was logged before bodies were kept)."
            }
            Self::NotSubscribed => {
                "The endpoint no longer receives this event (its types or agent changed)."
            }
        }
    }
}

/// How overdue a retrying record's next attempt must be before its job is taken for lost and
/// a resend may open it again (the attempt claim still sends each attempt once).
pub const LOST_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Whether a record kept until `expires_at` is gone by `now`. Whole seconds, as DynamoDB's TTL
/// attribute holds them.
pub fn is_expired(expires_at: Timestamp, now: Timestamp) -> bool {
    expires_at.unix_millis().div_euclid(1000) <= now.unix_millis().div_euclid(1000)
}

/// What names one record: one event, which happened at `occurred_at`, at one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRef {
    pub org_id: OrgId,
    pub event_id: EventId,
    pub destination: Destination,
    pub occurred_at: Timestamp,
}

impl DeliveryRef {
    /// The record's place in its organization's log: later records have greater keys, and no two
    /// records share one (the event and destination make it unique).
    pub fn log_key(&self) -> LogKey {
        LogKey::new(self.occurred_at, self.event_id, self.destination)
    }
}

/// A position in an organization's delivery log: `<occurred_at>#<event id>#<destination>`.
/// The fixed-width timestamp comes first, so text order is time order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogKey(String);

impl LogKey {
    pub fn new(occurred_at: Timestamp, event_id: EventId, destination: Destination) -> Self {
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
    pub event_type: Option<EventName>,
    pub status: Option<DeliveryStatus>,
    /// Records started at or after this.
    pub since: Option<Timestamp>,
}

impl DeliveryFilter {
    pub fn matches(&self, record: &DeliveryRecord) -> bool {
        self.endpoint_id
            .is_none_or(|id| record.destination == Destination::Endpoint(id))
            && self.agent_id.is_none_or(|id| record.agent_id == Some(id))
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| record.event_type == *t)
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

/// One read of an organization's log: the newest `limit` records matching `filter` that come
/// after `after` (the last key of the previous page), as of `now` (expired records are gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub filter: DeliveryFilter,
    pub after: Option<LogKey>,
    pub limit: usize,
    pub now: Timestamp,
    /// Whether records come with their bodies and attempts (a recover needs them; a page of
    /// the log shows neither, and reads less without them).
    pub bodies: bool,
}

impl LogQuery {
    /// The first page.
    pub fn newest(filter: DeliveryFilter, limit: usize, now: Timestamp) -> Self {
        Self {
            filter,
            after: None,
            limit,
            now,
            bodies: false,
        }
    }

    /// The same read, records with their bodies and attempts.
    pub fn with_bodies(mut self) -> Self {
        self.bodies = true;
        self
    }

    /// The page that follows the record at `key`, if any.
    pub fn after(mut self, key: Option<LogKey>) -> Self {
        self.after = key;
        self
    }
}

/// One page of the log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryPage {
    pub records: Vec<DeliveryRecord>,
    /// Records matching the filter may exist after this page.
    pub has_more: bool,
    /// Where the next page starts (after this position) when there is more: the page's last
    /// record, or where a read budget stopped a short page.
    pub resume_after: Option<LogKey>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventType;
    use crate::fixtures::at;

    #[test]
    fn keys_sort_in_time_order_and_since_bounds_them() {
        let event = EventId::generate();
        let earlier = LogKey::new(at(1_000), EventId::generate(), Destination::Legacy);
        let later = LogKey::new(at(2_000), event, EndpointId::generate().into());
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
        assert_eq!(DeliveryStatus::Retrying.to_string(), "retrying");
        assert!("Delivered".parse::<DeliveryStatus>().is_err());
        assert!("".parse::<DeliveryStatus>().is_err());
    }

    #[test]
    fn ending_fails_a_dropped_record_but_never_undelivers_or_rewinds_one() {
        let mut retrying = crate::fixtures::delivery_record(OrgId::new(1), None, at(1_000));
        retrying.status = DeliveryStatus::Retrying;
        retrying.attempt_count = 2;
        retrying.next_retry_at = Some(at(9_000));

        let mut later = retrying.clone();
        assert!(!later.end(1), "a later attempt wrote it");
        assert_eq!(later, retrying);

        let mut delivered = retrying.clone();
        delivered.status = DeliveryStatus::Delivered;
        assert!(!delivered.clone().end(2));

        for attempts in [2, 3] {
            let mut ended = retrying.clone();
            assert!(ended.end(attempts));
            assert_eq!(ended.status, DeliveryStatus::Failed);
            assert_eq!(ended.next_retry_at, None);
        }
    }

    #[test]
    fn an_attempt_is_claimed_once_unless_its_worker_died() {
        let mut stored = crate::fixtures::delivery_record(OrgId::new(1), None, at(1_000));
        stored.attempt_count = 1;
        let second = AttemptClaim {
            attempt: 2,
            until: at(60_000),
        };
        assert!(stored.may_claim(&second, at(5_000)), "the next attempt");
        let first_again = AttemptClaim {
            attempt: 1,
            until: at(60_000),
        };
        assert!(!stored.may_claim(&first_again, at(5_000)), "already made");

        stored.claim = Some(second);
        assert!(
            !stored.may_claim(&second, at(5_000)),
            "a duplicate while it runs"
        );
        assert!(!stored.may_claim(&second, at(59_999)));
        assert!(stored.may_claim(&second, at(60_000)), "its worker died");
        let third = AttemptClaim {
            attempt: 3,
            until: at(90_000),
        };
        assert!(stored.may_claim(&third, at(5_000)), "a later attempt");
        stored.attempt_count = 2;
        assert!(
            !stored.may_claim(&second, at(70_000)),
            "made, whatever the claim"
        );
    }

    #[test]
    fn a_record_is_shown_once_its_first_attempt_is_made() {
        let mut record = crate::fixtures::delivery_record(OrgId::new(1), None, at(1_000));
        assert!(record.is_shown());
        record.attempt_count = 0;
        assert!(!record.is_shown());
    }

    #[test]
    fn a_later_attempt_supersedes_and_a_late_duplicate_does_not() {
        let first = crate::fixtures::delivery_record(OrgId::new(1), None, at(1_000));
        let mut second = first.clone();
        second.attempt_count = 2;
        second.last_attempt_at = at(6_000);
        assert!(second.supersedes(&first));
        assert!(!first.supersedes(&second));
        assert!(first.supersedes(&first), "the same attempt again");
        let mut same_attempt_later = first.clone();
        same_attempt_later.last_attempt_at = at(1_500);
        assert!(same_attempt_later.supersedes(&first));
        assert!(!first.supersedes(&same_attempt_later));
    }

    #[test]
    fn expiry_is_judged_in_whole_seconds() {
        assert!(is_expired(at(5_000), at(5_000)));
        assert!(is_expired(at(5_999), at(5_000)), "the same second");
        assert!(!is_expired(at(6_000), at(5_999)));
        assert!(is_expired(at(5_000), at(9_000)));
    }

    #[test]
    fn a_filter_matches_on_every_field_it_sets() {
        let endpoint = EndpointId::generate();
        let mut record = crate::fixtures::delivery_record(OrgId::new(1), Some(endpoint), at(5_000));
        record.agent_id = AgentId::new(7);
        assert!(DeliveryFilter::default().matches(&record));
        assert!(!DeliveryFilter::default().narrows_by_content());
        // One filter per field, each setting only that field.
        let one_field_each = |endpoint, agent, event_type: EventName, status, since| {
            let base = DeliveryFilter::default;
            [
                DeliveryFilter {
                    endpoint_id: Some(endpoint),
                    ..base()
                },
                DeliveryFilter {
                    agent_id: AgentId::new(agent),
                    ..base()
                },
                DeliveryFilter {
                    event_type: Some(event_type),
                    ..base()
                },
                DeliveryFilter {
                    status: Some(status),
                    ..base()
                },
                DeliveryFilter {
                    since: Some(since),
                    ..base()
                },
            ]
        };
        let hits = one_field_each(
            endpoint,
            7,
            EventType::CallGraded.into(),
            DeliveryStatus::Delivered,
            at(5_000),
        );
        let misses = one_field_each(
            EndpointId::generate(),
            8,
            EventType::WebTool.into(),
            DeliveryStatus::Failed,
            at(5_001),
        );
        for filter in &hits {
            assert!(filter.matches(&record), "{filter:?}");
        }
        for filter in &misses {
            assert!(!filter.matches(&record), "{filter:?}");
        }
        for filter in hits.iter().take(4).chain(misses.iter().take(4)) {
            assert!(filter.narrows_by_content(), "{filter:?}");
        }
        assert!(!hits[4].narrows_by_content());
        let mut legacy = record.clone();
        legacy.destination = Destination::Legacy;
        legacy.agent_id = None;
        assert!(!hits[0].matches(&legacy));
        assert!(!hits[1].matches(&legacy));
    }
}

#[cfg(test)]
mod resending {
    use super::*;
    use crate::{EventSubscription, EventType, SentBody, fixtures};

    fn failed_record() -> DeliveryRecord {
        let at = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
        DeliveryRecord {
            status: DeliveryStatus::Failed,
            ..fixtures::delivery_record(OrgId::new(3), None, at)
        }
    }

    #[test]
    fn what_cannot_be_resent_says_why() {
        let record = failed_record();
        let mut endpoint = fixtures::endpoint(OrgId::new(3));
        assert_eq!(record.resend_refusal(Some(&endpoint)), None);
        assert_eq!(
            record.resend_refusal(None),
            None,
            "the legacy URL takes every type"
        );

        endpoint.events = EventSubscription::from(vec![EventType::SmsSent]);
        assert_eq!(
            record.resend_refusal(Some(&endpoint)),
            Some(NotResendable::NotSubscribed)
        );
        let test = DeliveryRecord {
            test: true,
            ..record.clone()
        };
        assert_eq!(
            test.resend_refusal(Some(&endpoint)),
            None,
            "a test goes where asked"
        );

        let bodiless = DeliveryRecord {
            body: None,
            ..record.clone()
        };
        assert_eq!(bodiless.resend_refusal(None), Some(NotResendable::NoBody));
        let oversized = DeliveryRecord {
            body: Some(SentBody::compress(&vec![b' '; SentBody::MAX_LEN + 1])),
            ..record.clone()
        };
        assert_eq!(oversized.resend_refusal(None), Some(NotResendable::NoBody));
        let blocking = DeliveryRecord {
            event_type: EventType::WebIncoming.into(),
            ..record
        };
        assert_eq!(blocking.resend_refusal(None), Some(NotResendable::Blocking));
    }

    #[test]
    fn a_retry_is_awaited_until_an_hour_past_its_time() {
        let due = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
        let later = |ms: u64| {
            due.checked_add(std::time::Duration::from_millis(ms))
                .unwrap()
        };
        let retrying = DeliveryRecord {
            status: DeliveryStatus::Retrying,
            next_retry_at: Some(due),
            ..failed_record()
        };
        assert!(retrying.awaits_attempt(due));
        assert!(retrying.awaits_attempt(later(3_599_999)));
        assert!(
            !retrying.awaits_attempt(later(3_600_000)),
            "its job is lost"
        );
        assert!(!failed_record().awaits_attempt(due));
    }
}

#[cfg(test)]
mod record_changes {
    use std::time::Duration;

    use super::*;
    use crate::fixtures::at;
    use crate::{AttemptOutcome, fixtures};

    fn retrying(due: Option<i64>) -> DeliveryRecord {
        DeliveryRecord {
            status: DeliveryStatus::Retrying,
            attempt_count: 2,
            http_status: Some(503),
            failure_category: Some(FailureCategory::HttpError),
            next_retry_at: due.map(at),
            claim: Some(AttemptClaim {
                attempt: 3,
                until: at(9_000_000),
            }),
            ..fixtures::delivery_record(OrgId::new(4), None, at(1_000_000))
        }
    }

    #[test]
    fn an_attempt_moves_every_field_it_names() {
        let attempt = Attempt {
            at: at(2_000_000),
            outcome: AttemptOutcome::from_status(204),
            duration: Duration::from_millis(31),
        };
        let before = retrying(Some(2_000_000));
        let after = before.clone().after(&attempt, Some(at(3_000_000)));
        assert_eq!(
            after.status,
            DeliveryStatus::Delivered,
            "a 2xx is never retried"
        );
        assert_eq!(after.next_retry_at, None);
        assert_eq!(after.attempt_count, 3);
        assert_eq!(
            (after.http_status, after.failure_category),
            (Some(204), None)
        );
        assert_eq!(after.last_attempt_at, at(2_000_000));
        assert_eq!(after.claim, None, "the claim ends with its attempt");
        assert_eq!(after.attempts.len(), before.attempts.len() + 1);
        assert_eq!(after.attempts.last().unwrap().duration_ms, 31);
        let failure = Attempt {
            outcome: AttemptOutcome::from_status(500),
            ..attempt
        };
        let failed = before.clone().after(&failure, None);
        assert_eq!(
            (failed.status, failed.failure_category, failed.next_retry_at),
            (
                DeliveryStatus::Failed,
                Some(FailureCategory::HttpError),
                None
            )
        );
        let retrying = before.after(&failure, Some(at(3_000_000)));
        assert_eq!(
            (retrying.status, retrying.next_retry_at),
            (DeliveryStatus::Retrying, Some(at(3_000_000)))
        );
    }

    /// Attempts are written as `tries`, short tuples; records from before hold `attempts` with
    /// named fields, and read the same.
    #[test]
    fn attempts_are_kept_as_tries_and_read_under_either_name() {
        let record = retrying(None);
        let mut stored = serde_json::to_value(&record).unwrap();
        let tries = stored["tries"].clone();
        assert!(tries[0].is_array(), "{tries}");
        assert!(stored.get("attempts").is_none());
        let back: DeliveryRecord = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(back, record);
        let fields = stored.as_object_mut().unwrap();
        fields.remove("tries");
        let named: Vec<serde_json::Value> = record
            .attempts
            .iter()
            .map(|a| {
                serde_json::json!({"at": a.at, "http_status": a.http_status,
                                   "failure_category": a.failure_category,
                                   "duration_ms": a.duration_ms})
            })
            .collect();
        fields.insert("attempts".into(), serde_json::Value::Array(named));
        let before: DeliveryRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(before, record);
    }

    #[test]
    fn a_listed_record_carries_no_body_or_attempts() {
        let record = retrying(None);
        assert!(record.body.is_some() && !record.attempts.is_empty());
        let listed = record.clone().listed();
        assert_eq!((listed.body, listed.attempts.len()), (None, 0));
        assert_eq!(listed.attempt_count, record.attempt_count);
    }

    #[test]
    fn reopening_opens_finished_or_lost_records_seen_as_read() {
        let now = at(10_000_000);
        let hour = 3_600_000;
        let cases = [
            (
                "failed",
                DeliveryRecord {
                    status: DeliveryStatus::Failed,
                    ..retrying(None)
                },
                2,
                true,
            ),
            (
                "read at another count",
                DeliveryRecord {
                    status: DeliveryStatus::Failed,
                    ..retrying(None)
                },
                1,
                false,
            ),
            ("due", retrying(Some(10_000_000)), 2, false),
            ("lost", retrying(Some(10_000_000 - hour)), 2, true),
            (
                "not shown",
                DeliveryRecord {
                    status: DeliveryStatus::Failed,
                    attempt_count: 0,
                    ..retrying(None)
                },
                0,
                false,
            ),
        ];
        for (case, mut record, read, opens) in cases {
            let before = record.clone();
            assert_eq!(record.reopen(read, now), opens, "{case}");
            if opens {
                assert_eq!(record.status, DeliveryStatus::Retrying, "{case}");
                assert_eq!(record.next_retry_at, Some(now), "{case}");
            } else {
                assert_eq!(record, before, "{case}: untouched");
            }
        }
    }

    #[test]
    fn each_refusal_says_its_own_reason() {
        let details = [
            NotResendable::Blocking.detail(),
            NotResendable::NoBody.detail(),
            NotResendable::NotSubscribed.detail(),
        ];
        assert!(details[0].contains("blocking"));
        assert!(details[1].contains("no body"));
        assert!(details[2].contains("no longer receives"));
    }
}
