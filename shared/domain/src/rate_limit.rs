//! How many test deliveries an organization may send: the test route is a POST source any admin
//! key can aim at any URL, so it is counted per organization and clock minute.

use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRateLimit {
    per_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a whole number of test deliveries per minute from 1 to 10000, got {0:?}")]
pub struct TestRateLimitError(String);

impl Default for TestRateLimit {
    fn default() -> Self {
        Self { per_minute: 60 }
    }
}

impl TestRateLimit {
    /// `TEST_DELIVERIES_PER_MINUTE`: 1 to 10,000.
    pub fn parse(raw: &str) -> Result<Self, TestRateLimitError> {
        raw.trim()
            .parse()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .map(|per_minute| Self { per_minute })
            .ok_or_else(|| TestRateLimitError(raw.to_owned()))
    }

    pub fn per_minute(self) -> u32 {
        self.per_minute
    }

    /// Whether one more test fits in a minute that has had `used` already.
    pub fn admits(self, used: u32) -> bool {
        used < self.per_minute
    }
}

/// A clock minute, counted from the epoch: the window a test is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Minute(i64);

impl Minute {
    pub fn of(at: Timestamp) -> Self {
        Self(at.unix_millis().div_euclid(60_000))
    }

    pub fn number(self) -> i64 {
        self.0
    }

    /// Whole seconds from `now` until the next minute begins, at least 1: a `Retry-After`.
    pub fn seconds_left(self, now: Timestamp) -> u64 {
        let next = (self.0 + 1) * 60_000;
        let millis = next.saturating_sub(now.unix_millis()).max(1);
        u64::try_from(millis.div_euclid(1000) + i64::from(millis % 1000 != 0)).unwrap_or(60)
    }

    /// When a minute's count may be forgotten: an hour after it ends.
    pub fn forgettable_at(self) -> Timestamp {
        Timestamp::from_unix_millis((self.0 + 61) * 60_000).unwrap_or(Timestamp::LAST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_per_minute_within_bounds() {
        let limit = TestRateLimit::default();
        assert!(limit.admits(59) && !limit.admits(60));
        assert_eq!(TestRateLimit::parse("5").unwrap().per_minute(), 5);
        for bad in ["0", "10001", "-1", "x", ""] {
            assert!(TestRateLimit::parse(bad).is_err(), "{bad}");
        }
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
}
