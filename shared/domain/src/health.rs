//! Endpoint health: the last day's attempts in hourly buckets, and what the stats route shows.
//!
//! The buckets are named by their hour since the epoch, so a bucket never stands for two
//! different hours; the store keeps at most a day of them, whatever the traffic.

use std::collections::BTreeMap;

use crate::{Attempt, DeliveryStats, Endpoint, EndpointStatus, Timestamp};

const SECONDS_PER_HOUR: i64 = 3600;

/// Hours a bucket counts for: the current one and the 23 before it.
pub const HOURS_KEPT: u64 = 24;

/// Hours since the Unix epoch: the name of the bucket an instant falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hour(u64);

impl Hour {
    pub fn of(at: Timestamp) -> Self {
        let seconds = at.unix_millis().div_euclid(1000);
        Self(u64::try_from(seconds.div_euclid(SECONDS_PER_HOUR)).unwrap_or(0))
    }

    pub fn from_number(hour: u64) -> Self {
        Self(hour)
    }

    pub fn number(self) -> u64 {
        self.0
    }

    /// The instant the hour begins.
    pub fn start(self) -> Timestamp {
        let millis = i64::try_from(self.0)
            .unwrap_or(i64::MAX)
            .saturating_mul(SECONDS_PER_HOUR * 1000);
        // Hours of years 1–9999 only ever come from timestamps; past them, the last instant.
        Timestamp::from_unix_millis(millis).unwrap_or(Timestamp::LAST)
    }

    /// Whether this bucket still counts when the newest attempt is in `newest`: it is one of
    /// the [`HOURS_KEPT`] hours ending there (or later, for an attempt whose clock ran ahead).
    pub fn is_kept_at(self, newest: Hour) -> bool {
        self.0 + HOURS_KEPT > newest.0
    }

    /// The buckets an attempt in this hour drops as a matter of course: the hours just past the
    /// day, which steady traffic leaves behind one at a time. Older ones (after a quiet spell)
    /// are found by reading, see [`RecentAttempts::stale_at`].
    pub fn routinely_expired(self) -> impl Iterator<Item = Hour> {
        (HOURS_KEPT..HOURS_KEPT + 3).filter_map(move |back| self.0.checked_sub(back).map(Hour))
    }
}

/// Attempts that succeeded and failed in one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourCount {
    pub succeeded: u64,
    pub failed: u64,
}

impl HourCount {
    pub fn attempts(self) -> u64 {
        self.succeeded + self.failed
    }
}

/// An endpoint's attempts per hour, for at most the last day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentAttempts {
    hours: BTreeMap<Hour, HourCount>,
}

impl RecentAttempts {
    pub fn from_hours(hours: impl IntoIterator<Item = (Hour, HourCount)>) -> Self {
        Self {
            hours: hours.into_iter().collect(),
        }
    }

    pub fn hours(&self) -> impl Iterator<Item = (Hour, HourCount)> + '_ {
        self.hours.iter().map(|(hour, count)| (*hour, *count))
    }

    /// Counts one attempt in its hour and drops every bucket older than a day before it.
    pub fn record(&mut self, attempt: &Attempt) {
        let hour = Hour::of(attempt.at);
        let count = self.hours.entry(hour).or_default();
        if attempt.outcome.is_success() {
            count.succeeded += 1;
        } else {
            count.failed += 1;
        }
        self.hours.retain(|bucket, _| bucket.is_kept_at(hour));
    }

    /// The buckets an attempt at `at` drops beyond [`Hour::routinely_expired`]: what is left
    /// after a quiet spell of more than a day.
    pub fn stale_at(&self, at: Timestamp) -> Vec<Hour> {
        let hour = Hour::of(at);
        let routine: Vec<Hour> = hour.routinely_expired().collect();
        self.hours
            .keys()
            .filter(|bucket| !bucket.is_kept_at(hour) && !routine.contains(bucket))
            .copied()
            .collect()
    }

    /// The current hour and the 23 before it as seen at `now`, oldest first, each with its
    /// count (none is zero): what the portal draws.
    pub fn by_hour(&self, now: Timestamp) -> Vec<(Hour, HourCount)> {
        let now = Hour::of(now).0;
        (now.saturating_sub(HOURS_KEPT - 1)..=now)
            .map(|hour| {
                let hour = Hour(hour);
                (hour, self.hours.get(&hour).copied().unwrap_or_default())
            })
            .collect()
    }

    /// The attempts of the current hour and the 23 before it, as seen at `now`.
    pub fn last_day(&self, now: Timestamp) -> HourCount {
        let now = Hour::of(now);
        self.hours
            .iter()
            .filter(|(hour, _)| hour.is_kept_at(now))
            .fold(HourCount::default(), |total, (_, count)| HourCount {
                succeeded: total.succeeded + count.succeeded,
                failed: total.failed + count.failed,
            })
    }
}

/// What the stats route reads: the endpoint, its stats, and when a rotated-out secret stops
/// signing (if one was rotated out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHealth {
    pub endpoint: Endpoint,
    pub stats: DeliveryStats,
    pub previous_secret_expires_at: Option<Timestamp>,
}

/// How many attempts a resent delivery gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResentAttempts {
    /// A new chain: the whole retry schedule.
    Scheduled,
    /// One attempt and no retries, as a new event to a `failing` endpoint gets.
    One,
}

impl EndpointHealth {
    /// What a delivery resent to this endpoint now gets: one attempt, as new events get, while
    /// the endpoint is `failing`, and also after a PATCH re-activated it until its streak ends
    /// (a 2xx, or a new failure starting a new streak), so that re-activating cannot lift the
    /// rule from a bulk recover into a receiver that is still down.
    pub fn resent_attempts(&self) -> ResentAttempts {
        if self.endpoint.status == EndpointStatus::Failing || self.stats.marked_failing_at.is_some()
        {
            ResentAttempts::One
        } else {
            ResentAttempts::Scheduled
        }
    }

    /// The previous secret's expiry while it still signs at `now`, else none.
    pub fn grace_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.previous_secret_expires_at.filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{AttemptOutcome, Clock, ManualClock};

    const HOUR: Duration = Duration::from_secs(3600);

    fn attempt(at: Timestamp, status: u16) -> Attempt {
        Attempt {
            at,
            outcome: AttemptOutcome::from_status(status),
            duration: Duration::from_millis(5),
        }
    }

    fn clock() -> ManualClock {
        // 10:30 on some day: half an hour into its bucket.
        ManualClock::starting_at(Timestamp::from_unix_millis(1_700_001_000_000).unwrap())
    }

    #[test]
    fn an_hour_is_named_by_hours_since_the_epoch() {
        let at = Timestamp::from_unix_millis(7_200_000 + 3_599_999).unwrap();
        assert_eq!(Hour::of(at), Hour::from_number(2));
        assert_eq!(
            Hour::of(Timestamp::from_unix_millis(10_800_000).unwrap()).number(),
            3
        );
    }

    #[test]
    fn the_last_day_counts_the_current_hour_and_the_23_before_it() {
        let clock = clock();
        let mut recent = RecentAttempts::default();
        recent.record(&attempt(clock.now(), 200));
        recent.record(&attempt(clock.now(), 500));
        clock.advance(HOUR * 23);
        recent.record(&attempt(clock.now(), 204));
        let day = recent.last_day(clock.now());
        assert_eq!((day.succeeded, day.failed, day.attempts()), (2, 1, 3));
        clock.advance(HOUR);
        assert_eq!(
            recent.last_day(clock.now()),
            HourCount {
                succeeded: 1,
                failed: 0
            },
            "the first hour's bucket is 24 hours old"
        );
        clock.advance(HOUR * 23);
        assert_eq!(recent.last_day(clock.now()), HourCount::default());
    }

    #[test]
    fn by_hour_is_the_last_24_hours_oldest_first_with_empty_ones_zero() {
        let clock = clock();
        let mut recent = RecentAttempts::default();
        recent.record(&attempt(clock.now(), 500));
        clock.advance(HOUR * 2);
        recent.record(&attempt(clock.now(), 200));
        recent.record(&attempt(clock.now(), 200));
        let hours = recent.by_hour(clock.now());
        assert_eq!(hours.len(), 24);
        let (newest, count) = hours[23];
        assert_eq!(newest, Hour::of(clock.now()));
        assert_eq!((count.succeeded, count.failed), (2, 0));
        assert_eq!((hours[21].1.succeeded, hours[21].1.failed), (0, 1));
        assert_eq!(hours[22].1, HourCount::default());
        assert!(newest.start() <= clock.now());
        assert_eq!(Hour::of(newest.start()), newest);
        assert_eq!(
            hours[0].0.number() + 23,
            newest.number(),
            "contiguous, oldest first"
        );
    }

    #[test]
    fn an_attempt_drops_buckets_older_than_a_day_and_keeps_at_most_24() {
        let clock = clock();
        let mut recent = RecentAttempts::default();
        for _ in 0..30 {
            recent.record(&attempt(clock.now(), 500));
            clock.advance(HOUR);
        }
        assert_eq!(recent.hours().count(), 24);
        let first_kept = Hour::of(clock.now()).number() - 24;
        assert!(recent.hours().all(|(hour, _)| hour.number() >= first_kept));
    }

    #[test]
    fn after_a_quiet_spell_the_stale_buckets_are_the_ones_routine_does_not_drop() {
        let clock = clock();
        let mut recent = RecentAttempts::default();
        let first = Hour::of(clock.now());
        recent.record(&attempt(clock.now(), 200));
        clock.advance(HOUR * 25);
        assert_eq!(recent.stale_at(clock.now()), Vec::<Hour>::new(), "routine");
        assert!(
            Hour::of(clock.now())
                .routinely_expired()
                .any(|h| h == first)
        );
        clock.advance(HOUR * 10);
        assert_eq!(recent.stale_at(clock.now()), vec![first]);
        recent.record(&attempt(clock.now(), 200));
        assert_eq!(recent.hours().count(), 1);
    }

    #[test]
    fn routine_expiry_names_the_three_hours_past_the_day() {
        let hours: Vec<u64> = Hour::from_number(100)
            .routinely_expired()
            .map(Hour::number)
            .collect();
        assert_eq!(hours, vec![76, 75, 74]);
        assert_eq!(Hour::from_number(24).routinely_expired().count(), 1);
    }

    #[test]
    fn a_late_attempt_keeps_the_newer_hours() {
        let clock = clock();
        let mut recent = RecentAttempts::default();
        let later = clock.now().checked_add(HOUR).unwrap();
        recent.record(&attempt(later, 200));
        recent.record(&attempt(clock.now(), 500));
        assert_eq!(recent.hours().count(), 2);
        assert_eq!(recent.last_day(later).attempts(), 2);
    }
}

#[cfg(test)]
mod grace {
    use super::*;
    use crate::fixtures;

    #[test]
    fn the_previous_secret_shows_only_while_it_signs() {
        let at = |millis| Timestamp::from_unix_millis(millis).unwrap();
        let endpoint = fixtures::endpoint(crate::OrgId::new(2));
        let health = EndpointHealth {
            stats: DeliveryStats::new(endpoint.org_id, endpoint.id),
            endpoint,
            previous_secret_expires_at: Some(at(5_000)),
        };
        assert_eq!(health.grace_until(at(4_999)), Some(at(5_000)));
        assert_eq!(
            health.grace_until(at(5_000)),
            None,
            "expired at its instant"
        );
        assert_eq!(health.grace_until(at(6_000)), None);
        let hours = [(Hour::from_number(7), HourCount::default())];
        assert_eq!(RecentAttempts::from_hours(hours).hours().count(), 1);
    }

    #[test]
    fn a_resend_gets_one_attempt_while_the_streak_that_made_the_endpoint_failing_runs() {
        let at = |millis| Timestamp::from_unix_millis(millis).unwrap();
        let ok_attempt = |at| Attempt {
            at,
            outcome: crate::AttemptOutcome::from_status(204),
            duration: std::time::Duration::from_millis(5),
        };
        let endpoint = fixtures::endpoint(crate::OrgId::new(1));
        let mut health = EndpointHealth {
            stats: DeliveryStats::new(endpoint.org_id, endpoint.id),
            endpoint,
            previous_secret_expires_at: None,
        };
        assert_eq!(health.resent_attempts(), ResentAttempts::Scheduled);
        health.endpoint.status = EndpointStatus::Failing;
        assert_eq!(health.resent_attempts(), ResentAttempts::One);
        // Re-activated by a PATCH: the streak that made it failing still runs.
        health.endpoint.status = EndpointStatus::Active;
        health.stats.failing_since = Some(at(1_000));
        health.stats.marked_failing_at = Some(at(2_000));
        assert_eq!(health.resent_attempts(), ResentAttempts::One);
        health
            .stats
            .record(&ok_attempt(at(3_000)), health.endpoint.streak_reset_at);
        assert_eq!(health.resent_attempts(), ResentAttempts::Scheduled);
    }
}
