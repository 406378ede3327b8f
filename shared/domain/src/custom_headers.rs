//! Headers an endpoint's owner adds to every delivery: an auth header a gateway in front of the
//! receiver wants, or the exact names a receiver already reads. Their values are secrets as far
//! as logs go (they often carry a token): kept with the endpoint, sent on every attempt, shown
//! by the API, never logged.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An endpoint's custom headers, by name as given; at most [`CustomHeaders::MAX`].
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomHeaders(BTreeMap<String, String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRefused {
    #[error("At most {max} headers.", max = CustomHeaders::MAX)]
    TooMany,
    #[error("{0:?} is not a valid header name.")]
    BadName(String),
    #[error(
        "{0}: may not be set: it would change the request's meaning, its framing or who it seems to come from."
    )]
    Reserved(String),
    #[error("{0}: given twice (names are case-insensitive).")]
    Twice(String),
    #[error("{0}: the value must be at most {max} bytes of visible ASCII, spaces and tabs.", max = CustomHeaders::MAX_VALUE_BYTES)]
    BadValue(String),
}

/// Names set by the service itself, or that would change how the request is framed, routed or
/// whom it seems to come from; matched case-insensitively, `*` ending a prefix.
const RESERVED: &[&str] = &[
    "host",
    "content-*",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-*",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "forwarded",
    "x-forwarded-*",
    "via",
    "user-agent",
    "webhook-*",
    "x-thunderphone-*",
    "traceparent",
    "tracestate",
];

impl CustomHeaders {
    pub const MAX: usize = 20;
    pub const MAX_VALUE_BYTES: usize = 1024;

    /// Validates every header, naming each that is refused.
    pub fn parse(
        headers: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Vec<HeaderRefused>> {
        let mut accepted = BTreeMap::new();
        let mut refused = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (name, value) in headers {
            let lower = name.to_ascii_lowercase();
            if !is_token(&name) {
                refused.push(HeaderRefused::BadName(name));
            } else if is_reserved(&lower) {
                refused.push(HeaderRefused::Reserved(name));
            } else if !seen.insert(lower) {
                refused.push(HeaderRefused::Twice(name));
            } else if value.len() > Self::MAX_VALUE_BYTES
                || !value
                    .bytes()
                    .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
            {
                refused.push(HeaderRefused::BadValue(name));
            } else {
                accepted.insert(name, value);
            }
        }
        if accepted.len() + refused.len() > Self::MAX {
            refused.insert(0, HeaderRefused::TooMany);
        }
        if refused.is_empty() {
            Ok(Self(accepted))
        } else {
            Err(refused)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// Names only: values often carry tokens.
impl fmt::Debug for CustomHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// RFC 9110's `token`.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_reserved(lower: &str) -> bool {
    RESERVED
        .iter()
        .any(|reserved| match reserved.strip_suffix('*') {
            Some(prefix) => lower.starts_with(prefix),
            None => lower == *reserved,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<CustomHeaders, Vec<HeaderRefused>> {
        CustomHeaders::parse(pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())))
    }

    #[test]
    fn tokens_with_printable_values_are_kept_as_given() {
        let headers = parse(&[("Authorization", "Bearer abc"), ("X-Tenant", "7")]).unwrap();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            [("Authorization", "Bearer abc"), ("X-Tenant", "7")]
        );
        assert_eq!(
            format!("{headers:?}"),
            r#"["Authorization", "X-Tenant"]"#,
            "no values"
        );
    }

    #[test]
    fn reserved_names_bad_names_values_and_counts_are_refused_by_name() {
        for reserved in [
            "Host",
            "content-type",
            "Content-Length",
            "Transfer-Encoding",
            "connection",
            "Proxy-Authorization",
            "webhook-signature",
            "Webhook-Id",
            "X-ThunderPhone-Signature-V2",
            "X-Forwarded-For",
            "traceparent",
        ] {
            assert_eq!(
                parse(&[(reserved, "x")]),
                Err(vec![HeaderRefused::Reserved(reserved.into())]),
                "{reserved}"
            );
        }
        for bad in ["", "a b", "x:y", "é", "a\nb"] {
            assert_eq!(
                parse(&[(bad, "x")]),
                Err(vec![HeaderRefused::BadName(bad.into())])
            );
        }
        for value in ["a\r\nInjected: 1", "nul\0", &"v".repeat(1025)] {
            assert_eq!(
                parse(&[("X-A", value)]),
                Err(vec![HeaderRefused::BadValue("X-A".into())])
            );
        }
        assert!(parse(&[("X-A", &"v".repeat(1024))]).is_ok());
        assert_eq!(
            parse(&[("X-A", "1"), ("x-a", "2")]),
            Err(vec![HeaderRefused::Twice("x-a".into())])
        );
        let names: Vec<String> = (0..21).map(|n| format!("X-{n}")).collect();
        let many = CustomHeaders::parse(names.iter().map(|n| (n.clone(), "v".into())));
        assert_eq!(many, Err(vec![HeaderRefused::TooMany]));
        let twenty = CustomHeaders::parse(names[..20].iter().map(|n| (n.clone(), "v".into())));
        assert!(twenty.is_ok());
        let message = HeaderRefused::Reserved("Host".into()).to_string();
        assert!(message.starts_with("Host: may not be set"), "{message}");
    }
}
