use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_with::SerializeDisplay;
use time::format_description::FormatItem;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// A UTC instant with millisecond precision, written `2026-04-20T18:24:10.113Z`. The fixed
/// width makes the text sort in time order, which storage keys rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, SerializeDisplay)]
pub struct Timestamp(OffsetDateTime);

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an ISO 8601 UTC timestamp such as 2026-04-20T18:24:10.113Z")]
pub struct TimestampError;

impl Timestamp {
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
        (at.year() >= 1 && at.year() <= 9999).then_some(Self(at))
    }

    pub fn unix_millis(self) -> i64 {
        // Exact: the value was built from whole milliseconds in the range years 1–9999.
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    pub fn parse(raw: &str) -> Result<Self, TimestampError> {
        PrimitiveDateTime::parse(raw, FORMAT)
            .map(|at| Self(at.assume_utc()))
            .map_err(|_| TimestampError)
    }

    /// Reads any ISO 8601 date-time a client may send: an offset or `Z` (without one, UTC),
    /// any number of fractional digits (kept to the millisecond), or a date alone (midnight
    /// UTC). A space before the offset (`hh:mm`, `hhmm` or `hh`) is read as `+`, the form a
    /// query string's unencoded `+` arrives in. An instant an offset moves outside years
    /// 1–9999 is clamped to the nearest end of that range.
    pub fn parse_iso8601(raw: &str) -> Result<Self, TimestampError> {
        let raw = raw.trim();
        let text = match raw.rsplit_once(' ') {
            Some((date_time, offset)) if [2, 4, 5].contains(&offset.len()) => {
                format!("{date_time}+{offset}")
            }
            _ => raw.to_owned(),
        };
        let at = OffsetDateTime::parse(&text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(&text, &Iso8601::DEFAULT))
            .or_else(|_| PrimitiveDateTime::parse(&text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
            .or_else(|_| Date::parse(&text, &Iso8601::DEFAULT).map(|d| d.midnight().assume_utc()))
            .map_err(|_| TimestampError)?;
        Self::of(at.clamp(Self::FIRST.0, Self::LAST.0)).ok_or(TimestampError)
    }

    /// The first and last instants a timestamp holds: years 1 to 9999.
    pub const FIRST: Self = Self(time::macros::datetime!(0001-01-01 00:00:00 UTC));
    pub const LAST: Self = Self(time::macros::datetime!(9999-12-31 23:59:59.999 UTC));

    pub fn checked_add(self, duration: Duration) -> Option<Self> {
        let millis = i64::try_from(duration.as_millis()).ok()?;
        Self::from_unix_millis(self.unix_millis().checked_add(millis)?)
    }

    /// The instant `at`, in UTC and cut to the millisecond (towards the past).
    fn of(at: OffsetDateTime) -> Option<Self> {
        let millis = at.unix_timestamp_nanos().div_euclid(1_000_000);
        Self::from_unix_millis(i64::try_from(millis).ok()?)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The format only uses fields every OffsetDateTime has, so formatting cannot fail;
        // fall back to the Unix seconds anyway rather than panic.
        match self.0.format(FORMAT) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{}", self.0.unix_timestamp()),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The source of "now", injected so tests move time instead of waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = OffsetDateTime::now_utc();
        Timestamp::of(now).unwrap_or(Timestamp(now))
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn starting_at(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let t = Timestamp::from_unix_millis(1_776_709_450_113).unwrap();
        assert_eq!(t.to_string(), "2026-04-20T18:24:10.113Z");
        assert_eq!(Timestamp::parse("2026-04-20T18:24:10.113Z"), Ok(t));
    }

    #[test]
    fn reads_the_iso_8601_forms_clients_send() {
        let t = Timestamp::from_unix_millis(1_776_709_450_113).unwrap();
        for raw in [
            "2026-04-20T18:24:10.113Z",
            "2026-04-20T18:24:10.113+00:00",
            "2026-04-20T18:24:10.113999",
            "2026-04-20T18:24:10.113456+00:00",
            "2026-04-20T20:24:10.113+02:00",
            "2026-04-20T20:24:10.113 02:00",
            "2026-04-20T18:24:10.113",
            // ISO 8601 also writes offsets without the colon (+0200); in a query string the
            // unencoded + arrives as a space.
            "2026-04-20T20:24:10.113+0200",
            "2026-04-20T20:24:10.113 0200",
            "20260420T202410.113 0200",
            "2026-04-20T20:24:10.113 02",
            "2026-04-20T20:24:10.113+02",
        ] {
            assert_eq!(Timestamp::parse_iso8601(raw), Ok(t), "{raw}");
        }
        assert_eq!(
            Timestamp::parse_iso8601("2026-04-20").map(|t| t.to_string()),
            Ok("2026-04-20T00:00:00.000Z".to_owned())
        );
        assert_eq!(
            Timestamp::parse_iso8601("2026-04-20T18:24:10").map(|t| t.to_string()),
            Ok("2026-04-20T18:24:10.000Z".to_owned())
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-04-20T25:00:00Z",
            "1776709450",
        ] {
            assert!(Timestamp::parse_iso8601(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn system_clock_has_millisecond_precision() {
        let now = SystemClock.now();
        assert_eq!(Timestamp::parse(&now.to_string()), Ok(now));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(Timestamp::from_unix_millis(0).unwrap());
        assert_eq!(clock.now().unix_millis(), 0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now().unix_millis(), 1500);
    }

    proptest! {
        #[test]
        fn text_order_is_time_order(a in 0i64..253_402_300_799_000, b in 0i64..253_402_300_799_000) {
            let (ta, tb) = (Timestamp::from_unix_millis(a).unwrap(), Timestamp::from_unix_millis(b).unwrap());
            prop_assert_eq!(ta.to_string().cmp(&tb.to_string()), a.cmp(&b));
            prop_assert_eq!(Timestamp::parse(&ta.to_string()), Ok(ta));
        }
    }

    #[test]
    fn reads_a_space_between_date_and_time() {
        // RFC 3339 section 5.6 lets applications separate the date and time with a space.
        assert_eq!(
            Timestamp::parse_iso8601("2026-04-20 18:24:10.113Z"),
            Ok(Timestamp::from_unix_millis(1_776_709_450_113).unwrap())
        );
        assert_eq!(
            Timestamp::parse_iso8601("2026-04-20 18:24:10+02:00").map(|t| t.to_string()),
            Ok("2026-04-20T16:24:10.000Z".to_owned())
        );
    }

    #[test]
    fn offsets_past_the_representable_years_are_clamped() {
        for (text, clamped) in [
            ("0001-01-01T00:00:00+01:00", Timestamp::FIRST),
            ("9999-12-31T23:30:00-01:00", Timestamp::LAST),
        ] {
            assert_eq!(Timestamp::parse_iso8601(text), Ok(clamped), "{text}");
        }
        assert_eq!(
            Timestamp::parse_iso8601("9999-12-31T22:30:00-01:00").map(|t| t.to_string()),
            Ok("9999-12-31T23:30:00.000Z".to_owned())
        );
    }

    #[test]
    fn only_years_1_to_9999_are_representable() {
        // Four-digit years keep the text the same width, so text order stays time order.
        let first = Timestamp::from_unix_millis(-62_135_596_800_000).unwrap();
        assert_eq!(first.to_string(), "0001-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_unix_millis(-62_135_596_800_001), None);
        let last = Timestamp::from_unix_millis(253_402_300_799_999).unwrap();
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::from_unix_millis(253_402_300_800_000), None);
        assert_eq!((first, last), (Timestamp::FIRST, Timestamp::LAST));
        // What a client sends outside them is clamped, not refused.
        assert_eq!(
            Timestamp::parse_iso8601("0000-12-31T23:59:59Z"),
            Ok(Timestamp::FIRST)
        );
    }

    #[test]
    fn unix_millis_are_read_back_exactly() {
        for millis in [
            0,
            1,
            -1,
            1_776_709_450_113,
            -62_135_596_800_000,
            253_402_300_799_999,
        ] {
            assert_eq!(
                Timestamp::from_unix_millis(millis).map(Timestamp::unix_millis),
                Some(millis)
            );
        }
        assert_eq!(
            Timestamp::from_unix_millis(-1).unwrap().to_string(),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn adding_time_stays_within_the_representable_years() {
        let t = Timestamp::from_unix_millis(1_000).unwrap();
        assert_eq!(
            t.checked_add(Duration::from_secs(86_400))
                .map(|t| t.to_string()),
            Some("1970-01-02T00:00:01.000Z".to_owned())
        );
        let last = Timestamp::from_unix_millis(253_402_300_799_999).unwrap();
        assert_eq!(last.checked_add(Duration::from_millis(1)), None);
        assert_eq!(t.checked_add(Duration::MAX), None);
    }

    #[test]
    fn system_clock_reads_the_current_time() {
        let millis = |at: OffsetDateTime| at.unix_timestamp_nanos().div_euclid(1_000_000);
        let before = millis(OffsetDateTime::now_utc());
        let now = i128::from(SystemClock.now().unix_millis());
        let after = millis(OffsetDateTime::now_utc());
        assert!(
            before <= now && now <= after,
            "{before} <= {now} <= {after}"
        );
    }

    #[test]
    fn stored_as_the_fixed_width_text() {
        let t = Timestamp::from_unix_millis(1_776_709_450_113).unwrap();
        let stored = serde_json::to_value(t).unwrap();
        assert_eq!(stored, serde_json::json!("2026-04-20T18:24:10.113Z"));
        assert_eq!(serde_json::from_value::<Timestamp>(stored).unwrap(), t);
        assert!(serde_json::from_value::<Timestamp>(serde_json::json!("2026-04-20")).is_err());
    }
}

#[cfg(test)]
mod spaced {
    use super::*;

    #[test]
    fn a_space_between_date_and_time_is_read_as_such() {
        let spaced = Timestamp::parse_iso8601("2026-01-01 10:00:00Z");
        assert_eq!(
            spaced.map(|t| t.unix_millis()),
            Timestamp::parse_iso8601("2026-01-01T10:00:00Z").map(|t| t.unix_millis())
        );
    }
}
