//! When a failed delivery is tried again.

use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use rand::TryRngCore;
use rand::rngs::OsRng;
use webhook_domain::parse_delay_within;

/// Delays between consecutive attempts, after the first. The default ends with the last attempt
/// 24 h after the first: 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, then the rest of 24 h.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

const MAX_RETRIES: usize = 50;
const MAX_SPAN: Duration = Duration::from_secs(7 * 24 * 3600);

/// Each delay is moved by up to this fraction either way, so retries of many deliveries
/// failing together do not arrive together.
const JITTER: f64 = 0.2;

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The receiver said the endpoint is gone (410).
    Gone,
    /// Every attempt of the schedule was made.
    Exhausted,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        let delays = [5, 60, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600];
        let last = 24 * 3600 - delays.iter().sum::<u64>();
        Self(
            delays
                .into_iter()
                .chain([last])
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

/// A test delivery that fails gets one retry, about a minute later, as the official client
/// documents it.
static NONE: RetrySchedule = RetrySchedule(Vec::new());
static TEST_DELIVERY: LazyLock<RetrySchedule> =
    LazyLock::new(|| RetrySchedule(vec![Duration::from_secs(60)]));

impl RetrySchedule {
    /// The schedule of test route deliveries: one retry, a minute after the first attempt.
    pub fn test_delivery() -> &'static Self {
        &TEST_DELIVERY
    }

    /// No retries: a blocking event's ringing call cannot wait for one.
    pub fn none() -> &'static Self {
        &NONE
    }

    /// The latest an attempt may be made, counted from the first attempt.
    pub fn span(&self) -> Duration {
        self.0.iter().sum()
    }

    /// The delay before the next attempt after `attempts_made` attempts, with jitter, or why
    /// there is none. No attempt is ever later than the schedule's last (`elapsed` is the time
    /// since the first), and one due at the window's end is the last: once the window is spent,
    /// nothing follows. `retry_after` (from a 429 or 503) is honoured within the window: the
    /// retry is not sooner; one asking past the window gets the last attempt, at its end.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        status: Option<u16>,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Result<Duration, Stop> {
        if status == Some(410) {
            return Err(Stop::Gone);
        }
        let index =
            usize::try_from(attempts_made.saturating_sub(1)).map_err(|_| Stop::Exhausted)?;
        let scheduled = *self.0.get(index).ok_or(Stop::Exhausted)?;
        let latest = self.span().saturating_sub(elapsed);
        if latest.is_zero() {
            return Err(Stop::Exhausted);
        }
        // The last attempt keeps its place at the end of the schedule (24 h after the first by
        // default); the ones before it are jittered.
        let mut delay = if index + 1 == self.0.len() {
            latest
        } else {
            jittered(scheduled)
        };
        if matches!(status, Some(429 | 503))
            && let Some(asked) = retry_after
        {
            delay = delay.max(asked);
        }
        Ok(delay.min(latest))
    }
}

fn jittered(delay: Duration) -> Duration {
    // Without randomness the delay stays as scheduled; that is still a valid schedule.
    let Ok(random) = OsRng.try_next_u32() else {
        return delay;
    };
    let unit = f64::from(random) / f64::from(u32::MAX); // 0..=1
    delay.mul_f64(1.0 - JITTER + 2.0 * JITTER * unit)
}

impl FromStr for RetrySchedule {
    type Err = String;

    /// A comma-separated list of delays, e.g. `1s,2s,4s`: each from 100 ms to a day, at most
    /// 50 of them, a week in all.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let each = Duration::from_millis(100)..=Duration::from_secs(24 * 3600);
        let delays = raw
            .split(',')
            .map(|part| parse_delay_within(part, each.clone()).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        if delays.len() > MAX_RETRIES {
            return Err(format!(
                "at most {MAX_RETRIES} delays, got {}",
                delays.len()
            ));
        }
        if delays.iter().sum::<Duration>() > MAX_SPAN {
            return Err("the delays add up to more than a week".to_owned());
        }
        Ok(Self(delays))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl RetrySchedule {
        /// The number of attempts in all, the first included.
        fn attempts(&self) -> u32 {
            u32::try_from(self.0.len()).map_or(u32::MAX, |n| n.saturating_add(1))
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_failed_test_delivery_is_retried_once_a_minute_later() {
        let schedule = RetrySchedule::test_delivery();
        assert_eq!(schedule.attempts(), 2);
        let minute = Duration::from_secs(60);
        assert_eq!(
            schedule.next_delay(1, Some(500), None, Duration::ZERO),
            Ok(minute)
        );
        assert_eq!(
            schedule.next_delay(1, Some(503), Some(10 * minute), Duration::ZERO),
            Ok(minute),
            "Retry-After past the window: the retry is the window's end"
        );
        assert_eq!(
            schedule.next_delay(2, Some(500), None, minute),
            Err(Stop::Exhausted)
        );
        assert_eq!(
            schedule.next_delay(1, Some(410), None, Duration::ZERO),
            Err(Stop::Gone)
        );
    }

    #[test]
    fn the_default_schedule_ends_24_hours_after_the_first_attempt() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 9);
        assert_eq!(schedule.span(), 24 * HOUR);
        assert_eq!(
            schedule.0[..3],
            [
                Duration::from_secs(5),
                Duration::from_secs(60),
                Duration::from_secs(300)
            ]
        );
    }

    #[test]
    fn delays_are_jittered_within_20_percent() {
        let schedule = RetrySchedule::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let delay = schedule
                .next_delay(2, Some(500), None, Duration::from_secs(5))
                .unwrap();
            assert!(
                delay >= Duration::from_secs(48) && delay <= Duration::from_secs(72),
                "{delay:?}"
            );
            seen.insert(delay);
        }
        assert!(seen.len() > 50, "jitter spreads retries");
    }

    #[test]
    fn stops_after_the_last_attempt_or_on_410() {
        let schedule = RetrySchedule::default();
        assert_eq!(
            schedule.next_delay(9, Some(500), None, 24 * HOUR),
            Err(Stop::Exhausted)
        );
        assert_eq!(
            schedule.next_delay(1, Some(410), None, Duration::ZERO),
            Err(Stop::Gone)
        );
        assert_eq!(
            schedule.next_delay(8, None, None, 17 * HOUR),
            Ok(7 * HOUR),
            "the last lands at 24 h"
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_schedule() {
        let schedule = RetrySchedule::default();
        let asked = Duration::from_secs(600);
        let delay = schedule
            .next_delay(1, Some(429), Some(asked), Duration::ZERO)
            .unwrap();
        assert_eq!(delay, asked, "not sooner than asked");
        let ignored = schedule
            .next_delay(1, Some(500), Some(asked), Duration::ZERO)
            .unwrap();
        assert!(
            ignored < Duration::from_secs(7),
            "only 429 and 503 carry Retry-After"
        );
        let capped = schedule
            .next_delay(1, Some(503), Some(48 * HOUR), 23 * HOUR)
            .unwrap();
        assert_eq!(capped, HOUR, "never past the last attempt");
    }

    #[test]
    fn nothing_follows_the_end_of_the_window() {
        let schedule = RetrySchedule::default();
        // Retry-After pushed the third attempt to the window's end: it was the last.
        assert_eq!(
            schedule.next_delay(2, Some(503), Some(48 * HOUR), HOUR),
            Ok(23 * HOUR)
        );
        for attempts_made in 3..9 {
            assert_eq!(
                schedule.next_delay(attempts_made, Some(500), None, 24 * HOUR),
                Err(Stop::Exhausted),
                "no attempt after the window, however many are left"
            );
        }
        // Late in the window, the remaining delays shrink to its end, never to 1 s each.
        let late = schedule.next_delay(5, Some(500), None, 24 * HOUR - Duration::from_secs(90));
        assert_eq!(late, Ok(Duration::from_secs(90)));
        assert_eq!(
            schedule.next_delay(6, Some(500), None, 24 * HOUR),
            Err(Stop::Exhausted)
        );
    }

    #[test]
    fn parses_a_short_demo_schedule() {
        let schedule: RetrySchedule = "1s, 2s,4s".parse().unwrap();
        assert_eq!(schedule.attempts(), 4);
        assert_eq!(schedule.span(), Duration::from_secs(7));
        assert!("1x".parse::<RetrySchedule>().is_err());
        for absurd in [
            "0s",
            "18446744073709551615s,18446744073709551615s",
            "2d",
            "1d,1d,1d,1d,1d,1d,1d,1d",
        ] {
            assert!(absurd.parse::<RetrySchedule>().is_err(), "{absurd}");
        }
        let many = vec!["1s"; 51].join(",");
        assert!(many.parse::<RetrySchedule>().is_err());
        assert!("".parse::<RetrySchedule>().is_err());
        assert_eq!(
            "250ms".parse::<RetrySchedule>().unwrap().span(),
            Duration::from_millis(250)
        );
    }
}
