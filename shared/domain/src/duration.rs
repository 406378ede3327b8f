//! Durations read from configuration. Every setting that takes one (the retry schedule, the
//! failing threshold, the log retention, dev-server's timers) reads it with the one grammar
//! here: humantime's, e.g. `500ms`, `5s`, `10m`, `2h`, `30d`, `1h 30m`.

use crate::Timestamp;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{raw:?} is not a duration such as 5s, 10m or 24h ({reason})")]
pub struct DelayError {
    raw: String,
    reason: String,
}

/// Reads one duration, surrounding whitespace ignored.
pub fn parse_delay(raw: &str) -> Result<Duration, DelayError> {
    humantime::parse_duration(raw.trim()).map_err(|error| DelayError {
        raw: raw.to_owned(),
        reason: error.to_string(),
    })
}

/// Reads one duration that must fall within `range`: settings refuse absurd values at start,
/// with a message, rather than overflow or stall later.
pub fn parse_delay_within(
    raw: &str,
    range: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, DelayError> {
    let delay = parse_delay(raw)?;
    if range.contains(&delay) {
        Ok(delay)
    } else {
        Err(DelayError {
            raw: raw.to_owned(),
            reason: format!(
                "it must be from {} to {}",
                humantime::format_duration(*range.start()),
                humantime::format_duration(*range.end())
            ),
        })
    }
}

pub(crate) const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long delivery log records are kept after their last attempt: at least a day, longer
/// than the gaps between retries, and at most ten years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogRetention(Duration);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    NotADuration(#[from] DelayError),
    #[error("the delivery log retention must be from 1d to 3650d, got {0}")]
    OutOfRange(String),
}

impl LogRetention {
    pub const MIN: Self = Self(DAY);
    pub const MAX: Self = Self(Duration::from_secs(3650 * 24 * 60 * 60));
    pub const DEFAULT: Self = Self(Duration::from_secs(30 * 24 * 60 * 60));

    pub fn new(retention: Duration) -> Result<Self, RetentionError> {
        if (Self::MIN.0..=Self::MAX.0).contains(&retention) {
            Ok(Self(retention))
        } else {
            Err(RetentionError::OutOfRange(
                humantime::format_duration(retention).to_string(),
            ))
        }
    }

    pub fn get(self) -> Duration {
        self.0
    }

    /// When a record whose last attempt was `at` expires.
    pub fn expires_at(self, at: Timestamp) -> Timestamp {
        at.checked_add(self.0).unwrap_or(at)
    }
}

/// How long a portal sign-in link lasts: from 5 minutes to a day, an hour unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLength(Duration);

impl SessionLength {
    pub const MIN: Duration = Duration::from_secs(5 * 60);
    pub const MAX: Duration = DAY;
    pub const DEFAULT: Self = Self(Duration::from_secs(60 * 60));
    pub const LONGEST: Self = Self(Self::MAX);

    pub fn parse(raw: &str) -> Result<Self, DelayError> {
        parse_delay_within(raw, Self::MIN..=Self::MAX).map(Self)
    }

    /// When a session opened at `now` ends.
    pub fn ends(self, now: Timestamp) -> Timestamp {
        now.checked_add(self.0).unwrap_or(now)
    }
}

impl Default for LogRetention {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for LogRetention {
    type Err = RetentionError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::new(parse_delay(raw)?)
    }
}

impl fmt::Display for LogRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_from_five_minutes_to_a_day() {
        assert_eq!(
            SessionLength::parse("1h"),
            Ok(SessionLength::DEFAULT),
            "the default is an hour"
        );
        assert!(SessionLength::parse("5m").is_ok() && SessionLength::parse("24h").is_ok());
        for bad in ["4m 59s", "25h", "soon"] {
            assert!(SessionLength::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delays_use_one_grammar() {
        assert_eq!(parse_delay("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_delay(" 5s "), Ok(Duration::from_secs(5)));
        assert_eq!(parse_delay("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_delay("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_delay("1d"), Ok(DAY));
        assert_eq!(parse_delay("1h 30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "5", "1x", "-5s", "s"] {
            let error = parse_delay(bad).unwrap_err();
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn bounded_delays_name_their_range() {
        let range = Duration::from_secs(1)..=DAY;
        assert_eq!(
            parse_delay_within("1s", range.clone()),
            Ok(Duration::from_secs(1))
        );
        assert_eq!(parse_delay_within("1d", range.clone()), Ok(DAY));
        for bad in ["0s", "999ms", "25h"] {
            let error = parse_delay_within(bad, range.clone()).unwrap_err();
            assert!(
                error.to_string().contains("from 1s to 1day"),
                "{bad}: {error}"
            );
        }
        assert!(
            parse_delay_within("1000000000000000000d", range).is_err(),
            "overflow"
        );
    }

    #[test]
    fn retention_is_a_day_to_ten_years() {
        assert_eq!("1d".parse::<LogRetention>().unwrap().get(), DAY);
        assert_eq!("3650d".parse::<LogRetention>(), Ok(LogRetention::MAX));
        assert_eq!(LogRetention::default().get(), 30 * DAY);
        for out_of_range in ["23h", "3651d", "0s"] {
            assert!(
                matches!(
                    out_of_range.parse::<LogRetention>(),
                    Err(RetentionError::OutOfRange(_))
                ),
                "{out_of_range}"
            );
        }
        assert!(matches!(
            "soon".parse::<LogRetention>(),
            Err(RetentionError::NotADuration(_))
        ));
        assert_eq!(LogRetention::MIN.to_string(), "1day");
    }
}
