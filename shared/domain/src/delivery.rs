//! Delivery outcomes and the rule that turns a long failure streak into a `failing` endpoint.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Endpoint, EndpointId, EndpointStatus, OrgId, Timestamp};

/// Why an attempt failed, in the product's categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCategory {
    Connection,
    Dns,
    /// The receiver answered, but not with a 2xx.
    HttpError,
    Timeout,
    Tls,
    /// An AWS endpoint's role could not be assumed: it does not exist, does not trust the
    /// platform, or trusts it with another external id.
    AwsRole,
    /// The role was assumed, but the queue or bus refused the message: no permission to send
    /// to it, or it does not exist.
    AwsAccess,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Anything else; `status` when the receiver answered at all.
    Failed {
        status: Option<u16>,
        category: FailureCategory,
    },
}

impl AttemptOutcome {
    /// Success is any 2xx; everything else is a failure.
    pub fn from_status(status: u16) -> Self {
        if (200..300).contains(&status) {
            Self::Delivered { status }
        } else {
            Self::Failed {
                status: Some(status),
                category: FailureCategory::HttpError,
            }
        }
    }

    pub fn is_success(self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    pub fn status(self) -> Option<u16> {
        match self {
            Self::Delivered { status } => Some(status),
            Self::Failed { status, .. } => status,
        }
    }

    pub fn failure(self) -> Option<FailureCategory> {
        match self {
            Self::Delivered { .. } => None,
            Self::Failed { category, .. } => Some(category),
        }
    }
}

/// One delivery attempt to one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub at: Timestamp,
    pub outcome: AttemptOutcome,
    pub duration: Duration,
}

/// What one test delivery came to, as the test route reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDelivery {
    pub event_id: crate::EventId,
    pub event_type: crate::EventName,
    pub outcome: AttemptOutcome,
    /// Why it failed, in words; `None` on success.
    pub error: Option<String>,
}

/// What the platform remembers of an endpoint's deliveries. Internal: users see `status`.
// Absent options are left out of items and messages rather than written as nulls.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStats {
    pub endpoint_id: EndpointId,
    pub org_id: OrgId,
    pub success_count: u64,
    pub failure_count: u64,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status: Option<u16>,
    /// The category and time of the latest failure, kept past later successes.
    pub last_failure: Option<FailureCategory>,
    pub last_duration_ms: Option<u64>,
    pub last_success_at: Option<Timestamp>,
    pub last_failure_at: Option<Timestamp>,
    /// The first failed attempt since the last success: the start of the current streak.
    pub failing_since: Option<Timestamp>,
    /// When the current streak made the endpoint `failing`; such a streak needs no more sweeps.
    pub marked_failing_at: Option<Timestamp>,
    /// When a sweep set the current streak aside because its endpoint was paused or re-activated
    /// after the streak began; such a streak needs no more sweeps either.
    pub parked_at: Option<Timestamp>,
    /// Deliveries dropped after their last attempt (or a 410), and the latest such time.
    #[serde(default)]
    pub given_up_count: u64,
    pub last_given_up_at: Option<Timestamp>,
    /// Kept in attributes of their own in a stats item (one per hour and outcome), so that an
    /// attempt adds to its hour without reading the others.
    #[serde(skip)]
    pub recent: crate::RecentAttempts,
}

impl DeliveryStats {
    /// The start of a streak no sweep has dealt with yet (neither marked nor set aside): what
    /// the sweeper looks at once it is old enough.
    pub fn unswept_streak(&self) -> Option<Timestamp> {
        self.failing_since
            .filter(|_| self.marked_failing_at.is_none() && self.parked_at.is_none())
    }

    pub fn new(org_id: OrgId, endpoint_id: EndpointId) -> Self {
        Self {
            endpoint_id,
            org_id,
            success_count: 0,
            failure_count: 0,
            last_attempt_at: None,
            last_status: None,
            last_failure: None,
            last_duration_ms: None,
            last_success_at: None,
            last_failure_at: None,
            failing_since: None,
            marked_failing_at: None,
            parked_at: None,
            given_up_count: 0,
            last_given_up_at: None,
            recent: crate::RecentAttempts::default(),
        }
    }

    /// A delivery ended without success at `at`.
    pub fn give_up(&mut self, at: Timestamp) {
        self.given_up_count += 1;
        self.last_given_up_at = Some(at);
    }

    /// Applies one attempt. A success ends the streak; a failure starts one unless one is
    /// running. A streak that began before `streak_reset_at` (the endpoint was re-activated
    /// since) no longer counts, so the failure starts a new one.
    pub fn record(&mut self, attempt: &Attempt, streak_reset_at: Option<Timestamp>) {
        self.last_attempt_at = Some(attempt.at);
        self.last_status = attempt.outcome.status();
        self.last_duration_ms =
            Some(u64::try_from(attempt.duration.as_millis()).unwrap_or(u64::MAX));
        self.recent.record(attempt);
        if attempt.outcome.is_success() {
            self.success_count += 1;
            self.last_success_at = Some(attempt.at);
            self.failing_since = None;
            self.marked_failing_at = None;
            self.parked_at = None;
        } else {
            self.failure_count += 1;
            self.last_failure = attempt.outcome.failure();
            self.last_failure_at = Some(attempt.at);
            let running = self
                .failing_since
                .filter(|since| streak_counts(*since, streak_reset_at));
            if running.is_none() {
                self.failing_since = Some(attempt.at);
                self.marked_failing_at = None;
                self.parked_at = None;
            }
        }
    }
}

/// When a failure streak makes an endpoint `failing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailingPolicy {
    pub after: Duration,
}

impl Default for FailingPolicy {
    fn default() -> Self {
        Self {
            after: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl FailingPolicy {
    /// A threshold as configuration gives it (`FAILING_AFTER`, `--failing-after`): from a
    /// second (for demos) to 30 days.
    pub fn parse(raw: &str) -> Result<Self, crate::DelayError> {
        let range = Duration::from_secs(1)..=30 * crate::duration::DAY;
        crate::parse_delay_within(raw, range).map(|after| Self { after })
    }

    /// Streaks that began at or before this instant are old enough.
    pub fn cutoff(&self, now: Timestamp) -> Timestamp {
        let millis = i64::try_from(self.after.as_millis()).unwrap_or(i64::MAX);
        Timestamp::from_unix_millis(now.unix_millis().saturating_sub(millis)).unwrap_or(now)
    }
}

/// Whether a streak that began at `failing_since` still counts: it does unless the endpoint
/// was re-activated after it began.
pub fn streak_counts(failing_since: Timestamp, streak_reset_at: Option<Timestamp>) -> bool {
    streak_reset_at.is_none_or(|reset| failing_since >= reset)
}

/// What a sweep does with a streak it found, once it looks at the endpoint and its stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepVerdict {
    /// Mark the endpoint `failing`.
    Mark,
    /// The endpoint is paused, already failing, or was re-activated after the streak began: no
    /// sweep can act on this streak, so set it aside until a new one begins.
    SetAside,
    /// The streak changed (ended or restarted) since it was read: nothing to do.
    Skip,
}

/// Mark failing: a sweep that read a streak starting at `seen` marks the endpoint only if the
/// stats are still in that very streak, the endpoint is still active, and it was not
/// re-activated after the streak began.
pub fn sweep_verdict(stats: &DeliveryStats, seen: Timestamp, endpoint: &Endpoint) -> SweepVerdict {
    if stats.failing_since != Some(seen) {
        SweepVerdict::Skip
    } else if endpoint.status == EndpointStatus::Active
        && streak_counts(seen, endpoint.streak_reset_at)
    {
        SweepVerdict::Mark
    } else {
        SweepVerdict::SetAside
    }
}

/// Revive on success: a 2xx may turn a `failing` endpoint `active` again. The delivery read the
/// endpoint before sending, and a sweep may have marked it since; the stats as they were before
/// this attempt (`streak_was_marked`) say so.
pub fn may_revive(
    outcome: AttemptOutcome,
    status_read: EndpointStatus,
    streak_was_marked: bool,
) -> bool {
    outcome.is_success() && (status_read == EndpointStatus::Failing || streak_was_marked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, ManualClock};

    const HOUR: Duration = Duration::from_secs(3600);

    fn clock() -> ManualClock {
        ManualClock::starting_at(Timestamp::from_unix_millis(1_700_000_000_000).unwrap())
    }

    fn attempt(clock: &ManualClock, outcome: AttemptOutcome) -> Attempt {
        Attempt {
            at: clock.now(),
            outcome,
            duration: Duration::from_millis(120),
        }
    }

    fn failed() -> AttemptOutcome {
        AttemptOutcome::from_status(500)
    }

    fn stats() -> DeliveryStats {
        DeliveryStats::new(OrgId::new(1), EndpointId::generate())
    }

    /// Stats whose streak began with a failure now, and when that was.
    fn streak_begun(clock: &ManualClock) -> (DeliveryStats, Timestamp) {
        let mut s = stats();
        s.record(&attempt(clock, failed()), None);
        (s, clock.now())
    }

    #[test]
    fn success_is_any_2xx() {
        assert!(AttemptOutcome::from_status(200).is_success());
        assert!(AttemptOutcome::from_status(299).is_success());
        for status in [199, 301, 404, 429, 500] {
            let outcome = AttemptOutcome::from_status(status);
            assert!(!outcome.is_success());
            assert_eq!(outcome.failure(), Some(FailureCategory::HttpError));
        }
    }

    #[test]
    fn the_streak_starts_at_the_first_failure_and_a_success_clears_it() {
        let clock = clock();
        let (mut s, first_failure) = streak_begun(&clock);
        clock.advance(HOUR);
        s.record(
            &attempt(
                &clock,
                AttemptOutcome::Failed {
                    status: None,
                    category: FailureCategory::Timeout,
                },
            ),
            None,
        );
        assert_eq!(s.failing_since, Some(first_failure));
        assert_eq!((s.failure_count, s.success_count), (2, 0));
        assert_eq!(s.last_failure, Some(FailureCategory::Timeout));
        assert_eq!(s.last_status, None);

        clock.advance(HOUR);
        s.record(&attempt(&clock, AttemptOutcome::from_status(204)), None);
        assert_eq!(s.failing_since, None);
        assert_eq!(s.last_success_at, Some(clock.now()));
        assert_eq!(
            (s.last_status, s.last_failure),
            (Some(204), Some(FailureCategory::Timeout)),
            "the last failure outlives a success"
        );
        assert!(s.last_failure_at < s.last_success_at);

        clock.advance(HOUR);
        s.record(&attempt(&clock, AttemptOutcome::from_status(200)), None);
        assert_eq!((s.failure_count, s.success_count), (2, 2));

        clock.advance(HOUR);
        s.record(&attempt(&clock, failed()), None);
        assert_eq!(s.failing_since, Some(clock.now()), "a new streak");
    }

    #[test]
    fn a_reactivation_restarts_the_streak_at_the_next_failure() {
        let clock = clock();
        let (mut s, old_streak) = streak_begun(&clock);
        clock.advance(30 * HOUR);
        let reset = clock.now();
        clock.advance(HOUR);
        s.record(&attempt(&clock, failed()), Some(reset));
        assert_eq!(s.failing_since, Some(clock.now()));
        assert!(s.failing_since > Some(old_streak));
    }

    #[test]
    fn thresholds_are_a_second_to_thirty_days() {
        assert_eq!(FailingPolicy::parse("24h"), Ok(FailingPolicy::default()));
        assert_eq!(
            FailingPolicy::parse("5s").map(|p| p.after),
            Ok(Duration::from_secs(5))
        );
        for bad in ["0s", "31d", "soon", "99999999999999999999d"] {
            assert!(FailingPolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cutoff_is_the_threshold_before_now() {
        let clock = clock();
        let policy = FailingPolicy::default();
        let since = clock.now();
        clock.advance(24 * HOUR - Duration::from_millis(1));
        assert!(since > policy.cutoff(clock.now()), "not yet old enough");
        clock.advance(Duration::from_millis(1));
        assert_eq!(policy.cutoff(clock.now()), since);
        let short = FailingPolicy {
            after: Duration::from_secs(5),
        };
        assert_eq!(
            short.cutoff(clock.now()).unix_millis(),
            clock.now().unix_millis() - 5_000
        );
    }

    fn endpoint(status: EndpointStatus, streak_reset_at: Option<Timestamp>) -> Endpoint {
        let mut endpoint = crate::fixtures::endpoint(OrgId::new(1));
        endpoint.status = status;
        endpoint.streak_reset_at = streak_reset_at;
        endpoint
    }

    #[test]
    fn a_sweep_marks_only_the_streak_it_read_on_an_active_endpoint() {
        let clock = clock();
        let (mut s, seen) = streak_begun(&clock);
        let active = endpoint(EndpointStatus::Active, None);
        assert_eq!(sweep_verdict(&s, seen, &active), SweepVerdict::Mark);
        let reset_with_streak = endpoint(EndpointStatus::Active, Some(seen));
        assert_eq!(
            sweep_verdict(&s, seen, &reset_with_streak),
            SweepVerdict::Mark
        );

        let later = seen.checked_add(HOUR).unwrap();
        let reactivated = endpoint(EndpointStatus::Active, Some(later));
        assert_eq!(
            sweep_verdict(&s, seen, &reactivated),
            SweepVerdict::SetAside
        );
        for status in [EndpointStatus::Disabled, EndpointStatus::Failing] {
            assert_eq!(
                sweep_verdict(&s, seen, &endpoint(status, None)),
                SweepVerdict::SetAside
            );
        }
        assert_eq!(
            sweep_verdict(&s, later, &active),
            SweepVerdict::Skip,
            "another streak"
        );
        clock.advance(HOUR);
        s.record(&attempt(&clock, AttemptOutcome::from_status(200)), None);
        assert_eq!(
            sweep_verdict(&s, seen, &active),
            SweepVerdict::Skip,
            "streak ended"
        );
    }

    #[test]
    fn only_unswept_streaks_await_a_sweep() {
        let clock = clock();
        let mut s = stats();
        assert_eq!(s.unswept_streak(), None);
        s.record(&attempt(&clock, failed()), None);
        assert_eq!(s.unswept_streak(), Some(clock.now()));
        s.marked_failing_at = Some(clock.now());
        assert_eq!(s.unswept_streak(), None);
        s.marked_failing_at = None;
        s.parked_at = Some(clock.now());
        assert_eq!(s.unswept_streak(), None);
    }

    #[test]
    fn a_success_revives_what_was_or_became_failing() {
        let ok = AttemptOutcome::from_status(204);
        assert!(may_revive(ok, EndpointStatus::Failing, false));
        assert!(
            may_revive(ok, EndpointStatus::Active, true),
            "marked after the read"
        );
        assert!(!may_revive(ok, EndpointStatus::Active, false));
        assert!(!may_revive(failed(), EndpointStatus::Failing, true));
    }
}
