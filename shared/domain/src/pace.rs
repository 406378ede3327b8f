//! How fast an endpoint is sent deliveries. At most its `rate_limit` a second, if it has one;
//! and slower for as long as its receiver asks for that (a 429 or 503, a `Retry-After`, a
//! timeout): the rate halves, at most once a second, then grows back by one a second while
//! answers are 2xx, until it is the limit again, or for an endpoint without one
//! [`Pace::CEILING`], where pacing ends (additive increase, multiplicative decrease).
//!
//! A paced delivery waits for its turn on the queue, spending no attempt, and never past the
//! end of its schedule.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{AttemptOutcome, FailureCategory, Timestamp};

/// Deliveries a second an endpoint's owner allows at most: 1 to [`RateLimit::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct RateLimit(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected a whole number of deliveries a second from 1 to {max}, or null for none.", max = RateLimit::MAX)]
pub struct RateLimitOutOfRange;

impl RateLimit {
    /// One item takes every paced delivery's turn, and DynamoDB writes one item about 1,000
    /// times a second at most; intervals are whole milliseconds, so a hundred a second is
    /// still paced within 2 %.
    pub const MAX: u32 = 100;

    pub fn new(per_second: u32) -> Result<Self, RateLimitOutOfRange> {
        (1..=Self::MAX)
            .contains(&per_second)
            .then_some(Self(per_second))
            .ok_or(RateLimitOutOfRange)
    }

    pub fn per_second(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RateLimit {
    type Error = RateLimitOutOfRange;

    fn try_from(per_second: u32) -> Result<Self, Self::Error> {
        Self::new(per_second)
    }
}

impl From<RateLimit> for u32 {
    fn from(limit: RateLimit) -> Self {
        limit.0
    }
}

/// The rate an endpoint is kept to since its receiver last asked to slow down, and when it was
/// last changed. Absent while the receiver is healthy at the endpoint's own limit (or at none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pace {
    /// Deliveries a second, at least 1.
    pub rate: u32,
    pub since: Timestamp,
}

/// What an answer says about the receiver's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A 429 or 503, a `Retry-After`, or a timeout.
    SlowDown,
    /// A 2xx.
    Healthy,
    /// Anything else: a 500 says nothing about load.
    Neither,
}

impl Signal {
    pub fn of(outcome: AttemptOutcome, retry_after: Option<Duration>) -> Self {
        match outcome {
            AttemptOutcome::Delivered { .. } => Self::Healthy,
            AttemptOutcome::Failed {
                status: Some(429 | 503),
                ..
            }
            | AttemptOutcome::Failed {
                category: FailureCategory::Timeout,
                ..
            } => Self::SlowDown,
            AttemptOutcome::Failed { .. } if retry_after.is_some() => Self::SlowDown,
            AttemptOutcome::Failed { .. } => Self::Neither,
        }
    }
}

/// What becomes of an endpoint's pace after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaceChange {
    Keep,
    Set(Pace),
    /// Back at the endpoint's own limit, or at none.
    End,
}

impl Pace {
    /// Where pacing ends for an endpoint without a limit, and where it starts from when such
    /// an endpoint first asks to slow down: deliveries a second.
    pub const CEILING: u32 = 64;
    /// How often the rate may change: each change has a second of answers to go on.
    pub const STEP: Duration = Duration::from_secs(1);
    /// How long a pace that held nothing back lasts.
    pub const FORGOTTEN_AFTER: Duration = Duration::from_secs(600);
    /// The longest a `Retry-After` holds an endpoint's deliveries back.
    pub const LONGEST_HOLD: Duration = Duration::from_secs(60);

    /// Deliveries a second the endpoint is sent at most now: `None` for no limit at all.
    pub fn effective(limit: Option<RateLimit>, pace: Option<Pace>) -> Option<u32> {
        let limit = limit.map(RateLimit::per_second);
        pace.map(|pace| pace.rate).into_iter().chain(limit).min()
    }

    /// The time between two deliveries at `rate` a second, in whole milliseconds rounded up,
    /// so no second holds more than `rate` turns.
    pub fn interval(rate: u32) -> Duration {
        Duration::from_millis(1_000_u64.div_ceil(u64::from(rate.max(1))))
    }

    /// How the pace changes after `signal` at `now`, and changes at most once a
    /// [`Pace::STEP`], so the answers of one burst count once: it halves on a slow-down, and
    /// grows by one on a healthy answer to a delivery the pace `held` back. A pace that held
    /// nothing back says nothing of a faster one, so it stays, until a healthy answer finds
    /// it unchanged for [`Pace::FORGOTTEN_AFTER`]: then it ends.
    pub fn after(
        limit: Option<RateLimit>,
        pace: Option<Pace>,
        signal: Signal,
        held: bool,
        now: Timestamp,
    ) -> PaceChange {
        let top = limit.map_or(Self::CEILING, RateLimit::per_second);
        let unchanged_for = |pace: Pace| now.unix_millis() - pace.since.unix_millis();
        let due = pace.is_none_or(|pace| unchanged_for(pace) >= Self::STEP.as_millis() as i64);
        let rate = pace.map_or(top, |pace| pace.rate.min(top));
        match (signal, pace) {
            _ if !due => PaceChange::Keep,
            (Signal::SlowDown, _) => PaceChange::Set(Pace {
                rate: (rate / 2).max(1),
                since: now,
            }),
            (Signal::Healthy, Some(pace))
                if rate + 1 >= top
                    || unchanged_for(pace) >= Self::FORGOTTEN_AFTER.as_millis() as i64 =>
            {
                PaceChange::End
            }
            (Signal::Healthy, Some(_)) if held => PaceChange::Set(Pace {
                rate: rate + 1,
                since: now,
            }),
            _ => PaceChange::Keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::at;

    const SECOND: i64 = 1_000;

    fn paced(rate: u32, since: i64) -> Pace {
        Pace {
            rate,
            since: at(since),
        }
    }

    fn failed(status: Option<u16>, category: FailureCategory) -> AttemptOutcome {
        AttemptOutcome::Failed { status, category }
    }

    #[test]
    fn a_limit_is_1_to_100_a_second() {
        assert_eq!(RateLimit::new(1).map(RateLimit::per_second), Ok(1));
        assert_eq!(RateLimit::new(100).map(RateLimit::per_second), Ok(100));
        assert_eq!(RateLimit::new(0), Err(RateLimitOutOfRange));
        assert_eq!(RateLimit::new(101), Err(RateLimitOutOfRange));
        assert!(serde_json::from_str::<RateLimit>("0").is_err());
        assert_eq!(serde_json::to_string(&RateLimit(5)).unwrap(), "5");
    }

    #[test]
    fn a_429_a_503_a_retry_after_or_a_timeout_asks_to_slow_down() {
        let http = FailureCategory::HttpError;
        let wait = Some(Duration::from_secs(3));
        assert_eq!(Signal::of(failed(Some(429), http), None), Signal::SlowDown);
        assert_eq!(Signal::of(failed(Some(503), http), None), Signal::SlowDown);
        assert_eq!(Signal::of(failed(Some(500), http), wait), Signal::SlowDown);
        let timeout = failed(None, FailureCategory::Timeout);
        assert_eq!(Signal::of(timeout, None), Signal::SlowDown);
        assert_eq!(Signal::of(failed(Some(500), http), None), Signal::Neither);
        let refused = failed(None, FailureCategory::Connection);
        assert_eq!(Signal::of(refused, None), Signal::Neither);
        let ok = AttemptOutcome::Delivered { status: 204 };
        assert_eq!(Signal::of(ok, None), Signal::Healthy);
    }

    #[test]
    fn the_rate_halves_on_a_slow_down_at_most_once_a_second() {
        let limit = RateLimit::new(40).ok();
        let first = Pace::after(limit, None, Signal::SlowDown, false, at(0));
        let PaceChange::Set(pace) = first else {
            panic!("{first:?}")
        };
        assert_eq!(pace, paced(20, 0));
        let burst = Pace::after(limit, Some(pace), Signal::SlowDown, true, at(SECOND - 1));
        assert_eq!(burst, PaceChange::Keep, "the same burst counts once");
        let next = Pace::after(limit, Some(pace), Signal::SlowDown, true, at(SECOND));
        assert_eq!(next, PaceChange::Set(paced(10, SECOND)));
        let floor = paced(1, 0);
        let slowest = Pace::after(limit, Some(floor), Signal::SlowDown, true, at(SECOND));
        assert_eq!(slowest, PaceChange::Set(paced(1, SECOND)));
        // Without a limit, from the ceiling.
        let unlimited = Pace::after(None, None, Signal::SlowDown, false, at(0));
        let half = Pace::CEILING / 2;
        assert_eq!(unlimited, PaceChange::Set(paced(half, 0)));
    }

    #[test]
    fn healthy_answers_to_held_deliveries_grow_it_by_one_a_second_until_the_limit_ends_it() {
        let limit = RateLimit::new(5).ok();
        let pace = paced(3, 0);
        let grown = Pace::after(limit, Some(pace), Signal::Healthy, true, at(SECOND));
        assert_eq!(grown, PaceChange::Set(paced(4, SECOND)));
        let soon = Pace::after(limit, Some(pace), Signal::Healthy, true, at(SECOND / 2));
        assert_eq!(soon, PaceChange::Keep);
        let four = paced(4, 0);
        let ended = Pace::after(limit, Some(four), Signal::Healthy, true, at(SECOND));
        assert_eq!(ended, PaceChange::End);
        assert_eq!(
            Pace::after(limit, None, Signal::Healthy, false, at(0)),
            PaceChange::Keep
        );
        let neither = Pace::after(limit, Some(pace), Signal::Neither, true, at(SECOND));
        assert_eq!(neither, PaceChange::Keep);
        // A limit lowered below the pace's rate takes over.
        let fast = paced(50, 0);
        let over = Pace::after(limit, Some(fast), Signal::Healthy, false, at(SECOND));
        assert_eq!(over, PaceChange::End);
    }

    #[test]
    fn a_pace_that_held_nothing_back_stays_until_it_is_forgotten() {
        let pace = paced(3, 0);
        let quiet = Pace::after(None, Some(pace), Signal::Healthy, false, at(SECOND));
        assert_eq!(
            quiet,
            PaceChange::Keep,
            "sparse traffic says nothing of a faster pace"
        );
        let forgotten = Pace::FORGOTTEN_AFTER.as_millis() as i64;
        let later = Pace::after(None, Some(pace), Signal::Healthy, false, at(forgotten));
        assert_eq!(later, PaceChange::End);
        let failing = Pace::after(None, Some(pace), Signal::Neither, false, at(forgotten));
        assert_eq!(failing, PaceChange::Keep, "only a healthy answer ends it");
    }

    #[test]
    fn the_effective_rate_is_the_lower_of_the_limit_and_the_pace() {
        let limit = RateLimit::new(10).ok();
        let pace = Some(paced(4, 0));
        assert_eq!(Pace::effective(None, None), None);
        assert_eq!(Pace::effective(limit, None), Some(10));
        assert_eq!(Pace::effective(limit, pace), Some(4));
        assert_eq!(Pace::effective(None, pace), Some(4));
        assert_eq!(Pace::interval(4), Duration::from_millis(250));
        assert_eq!(Pace::interval(0), Duration::from_secs(1));
        assert_eq!(Pace::interval(6), Duration::from_millis(167));
    }
}
