//! An event's id: the UUID the platform gave the event when it published it. It names the
//! event's delivery log records, its `webhook-id` for receivers to deduplicate on, and (absent a
//! publisher's trace) its trace.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(Uuid);

impl EventId {
    /// A fresh id, for events this service makes itself (a test delivery, dev-server's publish).
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// A hyphenated UUID, as a path or a body carries it; anything else names no event.
    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse()
            .ok()
            .map(|id: uuid::fmt::Hyphenated| Self(id.into_uuid()))
    }

    pub fn as_uuid(self) -> Uuid {
        self.0
    }

    /// The 32 hex digits without hyphens: the form in `webhook-id` and in log keys.
    pub fn simple(self) -> uuid::fmt::Simple {
        self.0.simple()
    }
}

impl From<Uuid> for EventId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

/// Hyphenated, as users see it.
impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_is_a_hyphenated_uuid_shown_as_given() {
        let raw = "0196f3c2-7a4e-7b1d-9c3e-5f6a7b8c9d0e";
        let id = EventId::parse(raw).unwrap();
        assert_eq!(id.to_string(), raw);
        assert_eq!(id.simple().to_string(), "0196f3c27a4e7b1d9c3e5f6a7b8c9d0e");
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{raw}\""));
        for bad in [
            "0196f3c27a4e7b1d9c3e5f6a7b8c9d0e",
            "42",
            "",
            "{0196f3c2-7a4e-7b1d-9c3e-5f6a7b8c9d0e}",
        ] {
            assert_eq!(EventId::parse(bad), None, "{bad}");
        }
    }
}
