//! What a delivery keeps of what it sent, for people reading the log and for resending: the
//! exact body, compressed, and every attempt's outcome.

use serde::{Deserialize, Serialize};

use crate::{Attempt, FailureCategory, Timestamp};

/// The exact bytes a delivery signed and sent, deflate-compressed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentBody(#[serde(with = "serde_bytes")] Vec<u8>);

/// A stored body that does not inflate back to at most [`SentBody::MAX_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored body is damaged")]
pub struct DamagedBody;

impl SentBody {
    /// Events are at most 256 KiB on the platform's queue; their bodies no larger.
    pub const MAX_LEN: usize = 256 * 1024;

    /// The most compressed bytes kept: with the rest of a record, well inside DynamoDB's
    /// 400 KB item.
    pub const MAX_STORED: usize = 300 * 1024;

    /// The body as a record keeps it, or `None` when it is too large to keep (the delivery goes
    /// on; the record then shows no payload and cannot be resent).
    pub fn keep(body: &[u8]) -> Option<Self> {
        let stored = Self::compress(body);
        (body.len() <= Self::MAX_LEN && stored.0.len() <= Self::MAX_STORED).then_some(stored)
    }

    pub fn compress(body: &[u8]) -> Self {
        Self(miniz_oxide::deflate::compress_to_vec(body, 6))
    }

    /// The bytes as sent.
    pub fn bytes(&self) -> Result<Vec<u8>, DamagedBody> {
        miniz_oxide::inflate::decompress_to_vec_with_limit(&self.0, Self::MAX_LEN)
            .map_err(|_| DamagedBody)
    }
}

impl std::fmt::Debug for SentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SentBody({} bytes compressed)", self.0.len())
    }
}

/// One attempt as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredAttempt", into = "StoredAttempt")]
pub struct AttemptSummary {
    pub at: Timestamp,
    pub http_status: Option<u16>,
    pub failure_category: Option<FailureCategory>,
    pub duration_ms: u64,
}

/// An attempt as records and jobs hold it: a tuple `[at in epoch milliseconds, status,
/// category, duration in milliseconds]` of about 30 bytes, so a record with a whole schedule's
/// nine attempts stays within the 1 KB a write unit covers. Records and jobs written before
/// hold named fields, which still read.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StoredAttempt {
    Compact(i64, Option<u16>, Option<FailureCategory>, u64),
    Named(#[serde(with = "NamedAttempt")] AttemptSummary),
}

#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize)]
#[serde(remote = "AttemptSummary")]
struct NamedAttempt {
    at: Timestamp,
    http_status: Option<u16>,
    failure_category: Option<FailureCategory>,
    duration_ms: u64,
}

/// Writes attempts with named fields, as releases before the short tuples read them: what a
/// queued job carries, so that a job queued by this release and taken by an earlier one (while
/// an update rolls out, or after a rollback) still reads. Records keep the tuples.
pub fn serialize_named<S: serde::Serializer>(
    attempts: &[AttemptSummary],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(attempts.iter().cloned().map(StoredAttempt::Named))
}

impl From<AttemptSummary> for StoredAttempt {
    fn from(attempt: AttemptSummary) -> Self {
        Self::Compact(
            attempt.at.unix_millis(),
            attempt.http_status,
            attempt.failure_category,
            attempt.duration_ms,
        )
    }
}

impl TryFrom<StoredAttempt> for AttemptSummary {
    type Error = &'static str;

    fn try_from(stored: StoredAttempt) -> Result<Self, Self::Error> {
        Ok(match stored {
            StoredAttempt::Compact(at, http_status, failure_category, duration_ms) => Self {
                at: Timestamp::from_unix_millis(at).ok_or("an attempt's time is out of range")?,
                http_status,
                failure_category,
                duration_ms,
            },
            StoredAttempt::Named(attempt) => attempt,
        })
    }
}

impl From<&Attempt> for AttemptSummary {
    fn from(attempt: &Attempt) -> Self {
        Self {
            at: attempt.at,
            http_status: attempt.outcome.status(),
            failure_category: attempt.outcome.failure(),
            duration_ms: u64::try_from(attempt.duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// The most attempts a record lists: the first schedule makes 9, each resend up to 9 more.
pub const ATTEMPTS_KEPT: usize = 50;

/// `history` with `attempt` added, the oldest dropped past [`ATTEMPTS_KEPT`].
pub fn with_attempt(mut history: Vec<AttemptSummary>, attempt: &Attempt) -> Vec<AttemptSummary> {
    history.push(AttemptSummary::from(attempt));
    let excess = history.len().saturating_sub(ATTEMPTS_KEPT);
    history.drain(..excess);
    history
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::AttemptOutcome;

    #[test]
    fn an_attempt_is_kept_as_a_short_tuple_and_the_named_form_still_reads() {
        let attempt = AttemptSummary {
            at: Timestamp::from_unix_millis(1_776_709_450_113).unwrap(),
            http_status: Some(503),
            failure_category: Some(FailureCategory::HttpError),
            duration_ms: 1_234,
        };
        let stored = serde_json::to_string(&attempt).unwrap();
        assert_eq!(stored, r#"[1776709450113,503,"http_error",1234]"#);
        assert_eq!(
            serde_json::from_str::<AttemptSummary>(&stored).unwrap(),
            attempt
        );
        let named = r#"{"at":"2026-04-20T18:24:10.113Z","http_status":503,"failure_category":"http_error","duration_ms":1234}"#;
        assert_eq!(
            serde_json::from_str::<AttemptSummary>(named).unwrap(),
            attempt
        );
        let timeout =
            r#"{"at":"2026-04-20T18:24:10.113Z","failure_category":"timeout","duration_ms":30000}"#;
        assert_eq!(
            serde_json::from_str::<AttemptSummary>(timeout)
                .unwrap()
                .http_status,
            None
        );
        assert!(serde_json::from_str::<AttemptSummary>("[9999999999999999,null,null,0]").is_err());
    }

    #[test]
    fn a_body_comes_back_byte_for_byte_and_smaller() {
        let body = format!(
            r#"{{"data":{{"transcript":"{}"}},"type":"call.graded"}}"#,
            "hello ".repeat(500)
        );
        let stored = SentBody::compress(body.as_bytes());
        assert!(
            stored.compressed_len() < body.len() / 10,
            "{}",
            stored.compressed_len()
        );
        assert_eq!(stored.bytes().unwrap(), body.as_bytes());
        assert_eq!(SentBody::compress(b"").bytes().unwrap(), b"");
    }

    #[test]
    fn only_bodies_a_record_can_hold_are_kept() {
        assert!(SentBody::keep(&vec![b'a'; SentBody::MAX_LEN]).is_some());
        assert!(SentBody::keep(&vec![b'a'; SentBody::MAX_LEN + 1]).is_none());
    }

    #[test]
    fn a_damaged_or_oversized_body_is_refused() {
        assert_eq!(SentBody(vec![0xff, 0x00, 0x13]).bytes(), Err(DamagedBody));
        let huge = vec![b'a'; SentBody::MAX_LEN + 1];
        assert_eq!(SentBody::compress(&huge).bytes(), Err(DamagedBody));
        let largest = vec![b'a'; SentBody::MAX_LEN];
        assert_eq!(
            SentBody::compress(&largest).bytes().unwrap().len(),
            SentBody::MAX_LEN
        );
    }

    #[test]
    fn the_history_keeps_the_latest_attempts() {
        let at = |s: i64| Timestamp::from_unix_millis(s * 1000).unwrap();
        let attempt = |s, status| Attempt {
            at: at(s),
            outcome: AttemptOutcome::from_status(status),
            duration: Duration::from_millis(12),
        };
        let history = with_attempt(Vec::new(), &attempt(1, 500));
        assert_eq!(
            history,
            [AttemptSummary {
                at: at(1),
                http_status: Some(500),
                failure_category: Some(FailureCategory::HttpError),
                duration_ms: 12
            }]
        );
        let mut history = history;
        for s in 2..=60 {
            history = with_attempt(history, &attempt(s, 200));
        }
        assert_eq!(history.len(), ATTEMPTS_KEPT);
        assert_eq!(history[0].at, at(11));
        assert_eq!(history[ATTEMPTS_KEPT - 1].at, at(60));
        assert_eq!(history[ATTEMPTS_KEPT - 1].failure_category, None);
    }
}

#[cfg(test)]
mod sizes {
    use super::*;

    #[test]
    fn the_limits_are_the_queues_and_the_items() {
        assert_eq!(SentBody::MAX_LEN, 262_144);
        assert_eq!(SentBody::MAX_STORED, 307_200);
        let stored = SentBody::compress(b"{\"data\":{},\"type\":\"call.graded\"}");
        assert!(stored.compressed_len() > 10, "{}", stored.compressed_len());
        assert_eq!(
            format!("{stored:?}"),
            format!("SentBody({} bytes compressed)", stored.compressed_len())
        );
    }
}

#[cfg(test)]
impl SentBody {
    fn compressed_len(&self) -> usize {
        self.0.len()
    }
}
