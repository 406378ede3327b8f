//! Where one event goes: one of the organization's endpoints, or its legacy single URL. It owns
//! its stored form (an endpoint id, or nothing for the legacy URL, as items and queued jobs have
//! always written it) and its shown form (`legacy` where a caller names it).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::EndpointId;

/// Stored as an optional endpoint id: `null` (or absent, with `#[serde(default)]`) is the
/// legacy URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "Option<EndpointId>", into = "Option<EndpointId>")]
pub enum Destination {
    Endpoint(EndpointId),
    /// The organization's legacy URL: absent where an endpoint id would be stored.
    #[default]
    Legacy,
}

impl Destination {
    /// How callers and keys name the legacy URL.
    pub const LEGACY: &'static str = "legacy";

    /// An endpoint id (hyphenated UUID) or `legacy`.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw == Self::LEGACY {
            return Some(Self::Legacy);
        }
        EndpointId::parse(raw).map(Self::Endpoint)
    }

    pub fn endpoint(self) -> Option<EndpointId> {
        match self {
            Self::Endpoint(id) => Some(id),
            Self::Legacy => None,
        }
    }

    pub fn is_legacy(&self) -> bool {
        *self == Self::Legacy
    }
}

impl From<EndpointId> for Destination {
    fn from(id: EndpointId) -> Self {
        Self::Endpoint(id)
    }
}

/// The stored form read back: no endpoint id is the legacy URL.
impl From<Option<EndpointId>> for Destination {
    fn from(id: Option<EndpointId>) -> Self {
        id.map_or(Self::Legacy, Self::Endpoint)
    }
}

/// The endpoint's id, or `legacy`.
impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Endpoint(id) => id.fmt(f),
            Self::Legacy => f.write_str(Self::LEGACY),
        }
    }
}

impl From<Destination> for Option<EndpointId> {
    fn from(destination: Destination) -> Self {
        destination.endpoint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0196f3c2-7a4e-7b1d-9c3e-5f6a7b8c9d0e";

    #[test]
    fn named_by_its_endpoint_id_or_legacy() {
        let endpoint = Destination::parse(ID).unwrap();
        assert_eq!(endpoint.to_string(), ID);
        assert_eq!(Destination::parse("legacy"), Some(Destination::Legacy));
        assert_eq!(Destination::Legacy.to_string(), "legacy");
        assert_eq!(Destination::parse("Legacy"), None);
        assert_eq!(Destination::parse("not-an-id"), None);
    }

    #[test]
    fn stored_as_an_optional_endpoint_id() {
        let endpoint = Destination::parse(ID).unwrap();
        assert_eq!(
            serde_json::to_string(&endpoint).unwrap(),
            format!("\"{ID}\"")
        );
        assert_eq!(serde_json::to_string(&Destination::Legacy).unwrap(), "null");
        assert_eq!(
            serde_json::from_str::<Destination>("null").unwrap(),
            Destination::Legacy
        );
        assert_eq!(
            serde_json::from_str::<Destination>(&format!("\"{ID}\"")).unwrap(),
            endpoint
        );
    }
}
