//! What an organization may queue a minute beyond its events: the test route is a POST source
//! any admin key can aim at any URL, and resend and recover put deliveries on the queue every
//! organization shares. Each is counted per organization and clock minute, against its own
//! limit.

use crate::{OrgId, Timestamp};

/// What a minute's count is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quota {
    /// Test deliveries, one per call of the test route.
    Tests,
    /// Resent deliveries, one per delivery queued by resend or recover.
    Resends,
    /// Resent deliveries being attempted now, taken before an attempt and given back after
    /// it, so that one organization's flood of resends to receivers that hang holds only a
    /// share of the delivery consumers. Counted per minute of the take, so a count a crashed
    /// run never gave back is forgotten with its minute; see [`Minute::places_held`].
    ResentInFlight,
}

impl Quota {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tests => "test",
            Self::Resends => "resend",
            Self::ResentInFlight => "resending",
        }
    }
}

/// One count a store keeps: an organization's `quota` in one `minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotaCount {
    pub org: OrgId,
    pub quota: Quota,
    pub minute: Minute,
}

/// How many a minute: `TEST_DELIVERIES_PER_MINUTE`, `RESENDS_PER_MINUTE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMinute {
    per_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a whole number a minute from 1 to {max}, got {0:?}", max = PerMinute::MAX)]
pub struct PerMinuteError(String);

impl PerMinute {
    pub const MAX: u32 = 100_000;
    pub const TESTS: Self = Self { per_minute: 60 };
    pub const RESENDS: Self = Self { per_minute: 1_000 };
    pub const RESENT_IN_FLIGHT: Self = Self { per_minute: 10 };

    /// 1 to [`Self::MAX`].
    pub fn parse(raw: &str) -> Result<Self, PerMinuteError> {
        raw.trim()
            .parse()
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .map(|per_minute| Self { per_minute })
            .ok_or_else(|| PerMinuteError(raw.to_owned()))
    }

    pub fn per_minute(self) -> u32 {
        self.per_minute
    }

    /// Whether `more` fit in a minute that has had `used` already.
    pub fn admits(self, used: u32, more: u32) -> bool {
        used.saturating_add(more) <= self.per_minute
    }

    /// How many of `wanted` fit in a minute that has had `used` already.
    pub fn room(self, used: u32, wanted: u32) -> u32 {
        self.per_minute.saturating_sub(used).min(wanted)
    }

    /// What is left of the limit once `held` are counted elsewhere: none when nothing is.
    pub fn less(self, held: u32) -> Option<Self> {
        let per_minute = self.per_minute.checked_sub(held).filter(|left| *left > 0)?;
        Some(Self { per_minute })
    }
}

/// A clock minute, counted from the epoch: the window a quota is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Minute(i64);

impl Minute {
    pub fn of(at: Timestamp) -> Self {
        Self(at.unix_millis().div_euclid(60_000))
    }

    pub fn number(self) -> i64 {
        self.0
    }

    /// The minutes whose places in flight may still be held in this one: places are counted
    /// in the minute they were taken, and a run holds one for less than a minute (the deliver
    /// function's timeout is under the claim's 60 s, which the template test holds), so every
    /// place still held was taken in this minute or the one before. Counting both makes the
    /// share a true bound, and a place a crashed run never gave back is forgotten after two.
    pub fn places_held(self) -> [Self; 2] {
        [Self(self.0 - 1), self]
    }

    /// Whole seconds from `now` until the next minute begins, at least 1: a `Retry-After`.
    pub fn seconds_left(self, now: Timestamp) -> u64 {
        let next = (self.0 + 1) * 60_000;
        let millis = next.saturating_sub(now.unix_millis()).max(1);
        u64::try_from(millis.div_euclid(1000) + i64::from(millis % 1000 != 0)).unwrap_or(60)
    }

    /// When a minute's count may be forgotten: an hour after it ends (DynamoDB's TTL).
    pub fn forgettable_at(self) -> Timestamp {
        Timestamp::from_unix_millis(self.forgotten_from().0 * 60_000).unwrap_or(Timestamp::LAST)
    }

    /// Whether this minute's count is forgotten by `now` (the in-memory store's TTL).
    pub fn is_forgotten_by(self, now: Self) -> bool {
        now >= self.forgotten_from()
    }

    /// The first minute that no longer counts this one.
    fn forgotten_from(self) -> Self {
        Self(self.0 + 61)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_per_minute_within_bounds() {
        let limit = PerMinute::TESTS;
        assert!(limit.admits(59, 1) && !limit.admits(60, 1) && !limit.admits(59, 2));
        assert_eq!(PerMinute::parse("5").unwrap().per_minute(), 5);
        assert_eq!(PerMinute::parse("100000").unwrap().per_minute(), 100_000);
        for bad in ["0", "100001", "-1", "x", ""] {
            assert!(PerMinute::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn room_is_what_is_left_of_the_minute_at_most_what_is_wanted() {
        let limit = PerMinute::RESENDS;
        assert_eq!(limit.room(0, 100), 100);
        assert_eq!(limit.room(950, 100), 50);
        assert_eq!(limit.room(1_000, 1), 0);
        assert_eq!(limit.room(5_000, 1), 0);
    }

    #[test]
    fn what_is_held_elsewhere_leaves_the_rest_of_the_limit() {
        let ten = PerMinute::RESENT_IN_FLIGHT;
        assert_eq!(ten.less(0), Some(ten));
        assert_eq!(ten.less(3).map(PerMinute::per_minute), Some(7));
        assert_eq!(ten.less(10), None);
        assert_eq!(ten.less(11), None);
    }

    #[test]
    fn places_still_held_were_taken_this_minute_or_the_last() {
        let minute = Minute::of(Timestamp::from_unix_millis(180_000).unwrap());
        let [before, now] = minute.places_held();
        assert_eq!((before.number(), now.number()), (2, 3));
    }

    #[test]
    fn retry_after_is_the_rest_of_the_minute() {
        let at = |ms| Timestamp::from_unix_millis(ms).unwrap();
        let minute = Minute::of(at(120_000 + 59_500));
        assert_eq!(minute.number(), 2);
        assert_eq!(minute.seconds_left(at(120_000 + 59_500)), 1);
        assert_eq!(minute.seconds_left(at(120_000)), 60);
        assert_eq!(minute.seconds_left(at(120_000 + 30_001)), 30);
        assert_eq!(minute.forgettable_at(), at(61 * 60_000 + 2 * 60_000));
    }

    #[test]
    fn a_count_is_forgotten_from_the_minute_its_expiry_falls_in() {
        let at = |ms| Timestamp::from_unix_millis(ms).unwrap();
        let minute = Minute::of(at(120_000));
        let expiry = Minute::of(minute.forgettable_at());
        assert!(minute.is_forgotten_by(expiry));
        assert!(!minute.is_forgotten_by(Minute::of(at(expiry.number() * 60_000 - 1))));
    }
}
