use serde::Serialize;
use url::{Host, Position, Url};

use crate::aws_destination::{AwsArnError, AwsDestination};
use crate::network::{forbidden_reason, host_ip};

/// Where an endpoint's webhooks go: an absolute `https://` URL, or `http://` on a local
/// development host. Kept in its normalized (WHATWG) form, the one the sender uses: lowercase
/// scheme and host, punycode for international names, no default port. An endpoint's (not the
/// legacy URL's) may instead be the ARN of an SQS queue or EventBridge bus ([`AwsDestination`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EndpointUrl(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointUrlError {
    #[error(
        "Ensure this URL has no more than {} characters.",
        EndpointUrl::MAX_LEN
    )]
    TooLong,
    #[error("Enter a valid absolute URL.")]
    Invalid,
    #[error(
        "The URL must use https:// (http:// is allowed only for localhost, 127.0.0.1 or [::1])."
    )]
    Scheme,
    #[error("The URL must have a host.")]
    MissingHost,
    #[error("The URL must not contain credentials (user:password@).")]
    Credentials,
    #[error("The URL must not contain a fragment (#...).")]
    Fragment,
    #[error("The URL must not point to {0}.")]
    ForbiddenAddress(&'static str),
    #[error("The URL's host must be an IP address or a valid DNS name.")]
    InvalidHost,
    #[error("The URL's port must not be 0.")]
    PortZero,
    #[error(transparent)]
    Arn(#[from] AwsArnError),
}

impl EndpointUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, EndpointUrlError> {
        let trimmed = raw.trim();
        if trimmed.len() > Self::MAX_LEN {
            return Err(EndpointUrlError::TooLong);
        }
        if trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(EndpointUrlError::Invalid);
        }
        let Some((scheme, rest)) = trimmed.split_once(':') else {
            return Err(EndpointUrlError::Invalid);
        };
        if !["https", "http"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
        {
            let looks_like_a_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            return Err(if looks_like_a_scheme {
                EndpointUrlError::Scheme
            } else {
                EndpointUrlError::Invalid
            });
        }
        // `scheme://authority`, exactly: parsers disagree on what extra or missing slashes mean.
        let Some(authority) = rest.strip_prefix("//") else {
            return Err(EndpointUrlError::Invalid);
        };
        if authority.is_empty() || authority.starts_with(['/', '?', '#']) {
            return Err(EndpointUrlError::MissingHost);
        }
        let url = Url::parse(trimmed).map_err(|_| EndpointUrlError::Invalid)?;
        if url.as_str().len() > Self::MAX_LEN {
            return Err(EndpointUrlError::TooLong);
        }
        if !matches!(url.scheme(), "https" | "http") {
            return Err(EndpointUrlError::Scheme);
        }
        let host = url.host().ok_or(EndpointUrlError::MissingHost)?;
        if let Host::Domain(name) = host
            && !is_dns_name(name)
        {
            return Err(EndpointUrlError::InvalidHost);
        }
        if url.port() == Some(0) {
            return Err(EndpointUrlError::PortZero);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointUrlError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(EndpointUrlError::Fragment);
        }
        // Loopback is allowed only as the plain-http local development case.
        let local_dev = url.scheme() == "http" && is_local_dev_host(&host);
        if url.scheme() == "http" && !local_dev {
            return Err(EndpointUrlError::Scheme);
        }
        if !local_dev && let Some(reason) = host_ip(&host).and_then(forbidden_reason) {
            return Err(EndpointUrlError::ForbiddenAddress(reason));
        }
        Ok(Self(url.into()))
    }

    /// An endpoint's url: an https URL as [`Self::parse`] takes it, or an SQS queue's or
    /// EventBridge bus's ARN.
    pub fn parse_endpoint(raw: &str) -> Result<Self, EndpointUrlError> {
        let trimmed = raw.trim();
        if AwsDestination::is_arn(trimmed) {
            AwsDestination::parse(trimmed)?;
            return Ok(Self(trimmed.to_owned()));
        }
        Self::parse(raw)
    }

    /// The queue or bus, when the url is an ARN.
    pub fn aws(&self) -> Option<AwsDestination<'_>> {
        // Most urls are https: no parse for them, on every attempt.
        AwsDestination::is_arn(&self.0)
            .then(|| AwsDestination::parse(&self.0).ok())
            .flatten()
    }

    /// The path and query a request to this URL names (`/hook?a=1`), as the receiver sees them;
    /// an ARN whole, as what the platform's v2 signature covers in their place.
    pub fn path_and_query(&self) -> String {
        if AwsDestination::is_arn(&self.0) {
            return self.0.clone();
        }
        Url::parse(&self.0).map_or_else(
            |_| "/".to_owned(),
            |url| url[Position::BeforePath..Position::AfterQuery].to_owned(),
        )
    }

    /// The URL as the delivery log keeps it: query values, which often hold tokens, replaced.
    pub fn redacted(&self) -> String {
        redacted(&self.0)
    }

    /// The host alone (`hooks.example.com`, `127.0.0.1`, `[::1]`): what may name the receiver
    /// where its path and query, which often hold tokens, must not appear. An ARN, which holds
    /// none, whole.
    pub fn host(&self) -> &str {
        if AwsDestination::is_arn(&self.0) {
            return &self.0;
        }
        let after_scheme = self.0.split_once("://").map_or("", |(_, rest)| rest);
        let authority = after_scheme
            .split(['/', '?', '#'])
            .next()
            .unwrap_or(after_scheme);
        match authority.strip_prefix('[') {
            Some(_) => authority
                .find(']')
                .map_or(authority, |end| &authority[..=end]),
            None => authority
                .split_once(':')
                .map_or(authority, |(host, _port)| host),
        }
    }
}

crate::stored::read_back_unchecked!(EndpointUrl);

/// A DNS host name as the URL parser gives it (lowercase ASCII, punycode): dot-separated labels
/// of 1–63 letters, digits and hyphens, none starting or ending with a hyphen, 253 in all.
fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// The hosts a developer runs a receiver on: the only ones allowed over plain http.
fn is_local_dev_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => *ip == std::net::Ipv4Addr::LOCALHOST,
        Host::Ipv6(ip) => *ip == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// A URL with every query value replaced by `REDACTED` (names kept), for the delivery log,
/// which lives for its retention after the endpoint's URL has changed. A part without `=` may be
/// a token itself: it is replaced whole. Text that is not a URL comes back unchanged.
pub fn redacted(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return raw.to_owned();
    };
    let Some(query) = url.query() else {
        return raw.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((name, _)) => format!("{name}=REDACTED"),
            None => "REDACTED".to_owned(),
        })
        .collect();
    url.set_query(Some(&parts.join("&")));
    url.into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_path_and_query_are_what_a_request_names() {
        let path = |raw: &str| EndpointUrl::parse(raw).unwrap().path_and_query();
        assert_eq!(path("https://example.com"), "/");
        assert_eq!(
            path("https://example.com/hooks/tp?a=1&b=2"),
            "/hooks/tp?a=1&b=2"
        );
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_a_scheme_shaped_word_is_called_a_scheme() {
        assert_eq!(err("ftp://example.com/x"), EndpointUrlError::Scheme);
        assert_eq!(err("1ftp://example.com/x"), EndpointUrlError::Invalid);
        assert_eq!(err("f_tp://example.com/x"), EndpointUrlError::Invalid);
    }

    #[test]
    fn the_host_is_the_host_alone() {
        let host = |raw: &str| EndpointUrl::parse(raw).unwrap().host().to_owned();
        assert_eq!(
            host("https://Hooks.Example.COM:8443/t/abc?k=v"),
            "hooks.example.com"
        );
        assert_eq!(host("https://example.com?token=x"), "example.com");
        assert_eq!(host("https://bücher.example/x"), "xn--bcher-kva.example");
        assert_eq!(host("https://93.184.216.34:8080"), "93.184.216.34");
        assert_eq!(host("http://[::1]:3000/x"), "[::1]");
        assert_eq!(host("https://[2606:4700::1111]/x"), "[2606:4700::1111]");
        assert_eq!(host("http://localhost:8080"), "localhost");
    }

    fn err(raw: &str) -> EndpointUrlError {
        EndpointUrl::parse(raw).unwrap_err()
    }

    #[test]
    fn accepts_https_and_local_http() {
        for ok in [
            "https://example.com/hooks",
            "https://example.com:8443/a?b=c",
            "http://localhost:4000/hook",
            "http://LOCALHOST/hook",
            "http://127.0.0.1:9000/",
            "http://[::1]:9000/",
            "https://localhost/hook",
            "https://93.184.216.34/hook",
        ] {
            assert_eq!(EndpointUrl::parse(ok).unwrap().as_str(), ok.to_lowercase());
        }
    }

    #[test]
    fn stores_the_normalized_form_the_sender_uses() {
        for (given, stored) in [
            ("  https://Example.com  ", "https://example.com/"),
            (
                "HTTPS://HOOKS.example.COM:443/Path?Q=1",
                "https://hooks.example.com/Path?Q=1",
            ),
            ("http://localhost:80/hook", "http://localhost/hook"),
            (
                "https://bücher.example/hook",
                "https://xn--bcher-kva.example/hook",
            ),
            (
                "https://example.com/a b".replace(' ', "%20").as_str(),
                "https://example.com/a%20b",
            ),
            ("https://example.com/über", "https://example.com/%C3%BCber"),
        ] {
            assert_eq!(
                EndpointUrl::parse(given).unwrap().as_str(),
                stored,
                "{given}"
            );
        }
    }

    #[test]
    fn refuses_spellings_parsers_read_differently() {
        for bad in [
            "https:///example.com/hook",
            "https:example.com/hook",
            "https:/example.com/hook",
            "https:\\\\example.com\\hook",
            "https://example.com\\@evil.example/",
            "https://",
            "https://?x",
        ] {
            assert!(EndpointUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(err("https:///example.com/"), EndpointUrlError::MissingHost);
        assert_eq!(err("https://example.com:0/"), EndpointUrlError::PortZero);
        for host in [
            "https://exa..mple.com/",
            "https://-example.com/",
            "https://example-.com/",
            "https://under_score.example.com/",
            "https://example.com./",
            &format!("https://{}.com/", "a".repeat(64)),
        ] {
            assert_eq!(err(host), EndpointUrlError::InvalidHost, "{host}");
        }
        assert!(EndpointUrl::parse(&format!("https://{}.com/", "a".repeat(63))).is_ok());
    }

    #[test]
    fn rejects_other_schemes_and_remote_http() {
        assert_eq!(err("ftp://example.com/"), EndpointUrlError::Scheme);
        assert_eq!(err("http://example.com/"), EndpointUrlError::Scheme);
        assert_eq!(
            err("http://localhost.example.com/"),
            EndpointUrlError::Scheme
        );
        assert_eq!(err("javascript:alert(1)"), EndpointUrlError::Scheme);
    }

    #[test]
    fn rejects_relative_or_hostless_urls() {
        assert_eq!(err("/hooks"), EndpointUrlError::Invalid);
        assert_eq!(err("example.com/hooks"), EndpointUrlError::Invalid);
        assert_eq!(err(""), EndpointUrlError::Invalid);
        assert_eq!(err("https://exa mple.com/"), EndpointUrlError::Invalid);
    }

    #[test]
    fn rejects_credentials_and_fragments() {
        assert_eq!(
            err("https://user:pass@example.com/"),
            EndpointUrlError::Credentials
        );
        assert_eq!(
            err("https://user@example.com/"),
            EndpointUrlError::Credentials
        );
        assert_eq!(err("https://example.com/#frag"), EndpointUrlError::Fragment);
        assert_eq!(err("https://example.com/#"), EndpointUrlError::Fragment);
    }

    #[test]
    fn rejects_long_urls() {
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(err(&long), EndpointUrlError::TooLong);
        let exact = format!("https://example.com/{}", "a".repeat(2048 - 20));
        assert!(EndpointUrl::parse(&exact).is_ok());
    }

    #[test]
    fn the_log_keeps_query_names_never_values() {
        let url =
            EndpointUrl::parse("https://hooks.example.com/tp?token=s3cr3t&team=a%20b").unwrap();
        assert_eq!(
            url.redacted(),
            "https://hooks.example.com/tp?token=REDACTED&team=REDACTED"
        );
        let plain = EndpointUrl::parse("https://hooks.example.com/tp").unwrap();
        assert_eq!(plain.redacted(), "https://hooks.example.com/tp");
        assert_eq!(redacted("not a url"), "not a url");
        assert_eq!(
            redacted("https://hooks.example.com/tp?s3cr3ttoken"),
            "https://hooks.example.com/tp?REDACTED",
            "a bare part may be the token itself"
        );
        assert_eq!(
            redacted("https://hooks.example.com/tp?a=1&flag&&b="),
            "https://hooks.example.com/tp?a=REDACTED&REDACTED&b=REDACTED"
        );
    }

    #[test]
    fn rejects_internal_ip_literals_in_any_spelling() {
        for raw in [
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://192.168.0.10/",
            "https://127.0.0.2/",
            "https://0.0.0.0/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::]/",
            "https://[::ffff:10.0.0.1]/",
            "https://127.0.0.1/hook",
            "https://[::1]:8443/hook",
            "https://0xa9fea9fe/",
            "https://2852039166/",
            // Special-purpose blocks that are not globally reachable.
            "https://198.18.0.1/",
            "https://240.0.0.1/",
            "https://192.0.0.1/",
            "https://192.0.2.1/",
            "https://[fec0::1]/",
            "https://[2001:db8::1]/",
            "https://[100::1]/",
        ] {
            assert!(
                matches!(err(raw), EndpointUrlError::ForbiddenAddress(_)),
                "{raw} should be refused"
            );
        }
    }

    proptest! {
        #[test]
        fn any_accepted_url_is_https_or_local_http(s in "(https?|ftp)://[a-z0-9.:@\\[\\]#/-]{0,40}") {
            if let Ok(url) = EndpointUrl::parse(&s) {
                let parsed = Url::parse(url.as_str()).unwrap();
                prop_assert!(parsed.scheme() == "https" || is_local_dev_host(&parsed.host().unwrap()));
                prop_assert!(parsed.fragment().is_none());
                prop_assert!(parsed.username().is_empty());
            }
        }
    }

    #[test]
    fn rejects_whitespace_or_control_characters_inside_the_url() {
        // The URL parser would drop a tab or percent-encode a space or control character, so
        // the URL stored and shown would not be the one delivered to.
        for raw in [
            "https://example.com/a b",
            "https://example.com/ho\tok",
            "https://example.com/a\u{1}b",
            "https://example.com/a\u{a0}b",
        ] {
            assert_eq!(err(raw), EndpointUrlError::Invalid, "{raw:?}");
        }
    }

    #[test]
    fn rejects_a_password_without_a_user_name() {
        assert_eq!(
            err("https://:pass@example.com/"),
            EndpointUrlError::Credentials
        );
    }

    #[test]
    fn accepts_public_ipv6_literals() {
        let raw = "https://[2606:4700:4700::1111]/hook";
        assert_eq!(EndpointUrl::parse(raw).unwrap().as_str(), raw);
    }

    #[test]
    fn says_which_kind_of_internal_address_was_refused() {
        assert_eq!(
            err("https://[fd00::1]/").to_string(),
            "The URL must not point to a unique-local address."
        );
    }
}
