//! W3C trace context: the trace an event belongs to, kept from its publication through fan-out
//! to every attempt, so that a team can follow one event to each receiver's answer. Every
//! attempt sends `traceparent: 00-<trace id>-<new span id>-01`.

use std::fmt;

use serde_with::{DeserializeFromStr, SerializeDisplay};
use webhook_domain::EventId;

/// A trace id: 16 bytes, never all zero; in JSON, its text.
#[derive(Clone, Copy, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct TraceId(u128);

impl TraceId {
    /// The trace of a `traceparent` header (`00-<trace id>-<parent id>-<flags>`), or `None` when
    /// it is malformed: W3C has the receiver of a bad one start a new trace instead.
    pub fn from_traceparent(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let well_formed = hex(version, 2)
            && version != "ff"
            && hex(parent, 16)
            && parent != "0000000000000000"
            && hex(flags, 2)
            && (version != "00" || parts.next().is_none());
        well_formed.then(|| trace.parse().ok()).flatten()
    }

    /// The trace of an event published without one: its own id, so that every attempt and
    /// every resend of it shares one trace without anything stored.
    pub fn of_event(id: EventId) -> Self {
        Self(id.as_uuid().as_u128().max(1))
    }

    /// The header an attempt sends: this trace, a new span of its own, sampled.
    pub fn traceparent(self) -> String {
        format!("00-{self}-{:016x}-01", webhook_aws::xray::span_id())
    }
}

impl std::str::FromStr for TraceId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match u128::from_str_radix(text, 16) {
            Ok(id) if hex(text, 32) && id != 0 => Ok(Self(id)),
            _ => Err("expected 32 lowercase hex digits, not all zero"),
        }
    }
}

/// `len` lowercase hex digits.
fn hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn a_traceparent_gives_its_trace_and_a_malformed_one_none() {
        let parsed = TraceId::from_traceparent(&format!("00-{TRACE}-00f067aa0ba902b7-01")).unwrap();
        assert_eq!(parsed.to_string(), TRACE);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceId::from_traceparent(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_attempt_is_a_new_span_of_the_same_trace() {
        let trace: TraceId = TRACE.parse().unwrap();
        let (first, second) = (trace.traceparent(), trace.traceparent());
        assert_ne!(first, second);
        for header in [&first, &second] {
            assert_eq!(TraceId::from_traceparent(header), Some(trace), "{header}");
            assert!(header.starts_with("00-") && header.ends_with("-01"));
        }
        let event = EventId::parse("0196f3c2-7a4e-7b1d-9c3e-5f6a7b8c9d0e").unwrap();
        assert_eq!(
            TraceId::of_event(event).to_string(),
            "0196f3c27a4e7b1d9c3e5f6a7b8c9d0e"
        );
        assert_eq!(
            serde_json::to_string(&trace).unwrap(),
            format!("\"{TRACE}\"")
        );
    }
}
