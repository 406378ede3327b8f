//! The portal for the people who own endpoints: one page, its script and its style, embedded in
//! the binary (no other toolchain builds them). They are public: every piece of data the page
//! shows comes from the API, with the session token its sign-in link carried.
//!
//! Plain script without a framework: the page is a client of an API that already has every
//! route, so there is no state to manage beyond one screen's, and nothing to build or update.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY};
use lambda_http::http::{HeaderName, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    /// Text, so API Gateway passes it as is rather than base64-encoded.
    pub text: &'static str,
}

/// Every file the portal serves: the page at `/portal`, the rest at `/portal/<name>`.
pub const ASSETS: [Asset; 3] = [
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        text: include_str!("../assets/index.html"),
    },
    Asset {
        name: "portal.js",
        content_type: "text/javascript; charset=utf-8",
        text: include_str!("../assets/portal.js"),
    },
    Asset {
        name: "portal.css",
        content_type: "text/css; charset=utf-8",
        text: include_str!("../assets/portal.css"),
    },
];

/// Who may frame the portal: `'none'`, unless a platform embeds it in its own dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameAncestors(String);

impl Default for FrameAncestors {
    fn default() -> Self {
        Self("'none'".to_owned())
    }
}

impl FrameAncestors {
    /// `'none'`, `'self'`, or https origins (a `*.` wildcard host allowed), space-separated:
    /// nothing that could end the directive and smuggle in another.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let sources: Vec<&str> = raw.split_whitespace().collect();
        let valid = |source: &&str| {
            matches!(*source, "'none'" | "'self'")
                || source.strip_prefix("https://").is_some_and(|host| {
                    // A wildcard only as a leading label: `*.example.com`, never `*` alone.
                    let named = host.strip_prefix("*.").unwrap_or(host);
                    named.contains('.')
                        && named
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
                })
        };
        let lone_none = sources.contains(&"'none'") && sources.len() > 1;
        if sources.is_empty() || lone_none || !sources.iter().all(valid) {
            return Err(format!(
                "PORTAL_FRAME_ANCESTORS must be 'none', 'self' or space-separated https origins, got {raw:?}"
            ));
        }
        Ok(Self(sources.join(" ")))
    }

    /// `PORTAL_FRAME_ANCESTORS`.
    pub fn from_env() -> Result<Self, String> {
        webhook_domain::settings::PORTAL_FRAME_ANCESTORS.read_with(Self::parse)
    }

    /// The page's Content-Security-Policy: its own files only, no inline script or style, no
    /// eval, no other host.
    pub fn policy(&self) -> String {
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors {}",
            self.0
        )
    }
}

/// `GET /portal` and `GET /portal/{asset}`: the file (the page when `name` is `None`) with its
/// security headers, or a 404 in the API's error shape.
pub fn serve(name: Option<&str>, frame_ancestors: &FrameAncestors) -> Response<Body> {
    let name = name.unwrap_or("index.html");
    let Some(asset) = ASSETS.into_iter().find(|asset| asset.name == name) else {
        let mut missing = Response::new(Body::Text(r#"{"detail":"Not found."}"#.to_owned()));
        *missing.status_mut() = StatusCode::NOT_FOUND;
        missing
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return missing;
    };
    let mut response = Response::new(Body::from(asset.text));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    if let Ok(policy) = HeaderValue::from_str(&frame_ancestors.policy()) {
        headers.insert(HeaderName::from_static("content-security-policy"), policy);
    }
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    // A new deployment is seen at the next load; the files are small.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_files_are_served_with_a_strict_policy() {
        let page = serve(None, &FrameAncestors::default());
        assert_eq!(page.status(), StatusCode::OK);
        let policy = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self';"));
        assert!(policy.ends_with("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe"));
        assert_eq!(page.headers()[REFERRER_POLICY], "no-referrer");
        for name in ["portal.js", "portal.css"] {
            assert_eq!(serve(Some(name), &FrameAncestors::default()).status(), 200);
        }
        let missing = serve(Some("../Cargo.toml"), &FrameAncestors::default());
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn frame_ancestors_are_sources_that_cannot_break_out_of_the_directive() {
        let parsed =
            FrameAncestors::parse("https://app.example.com  https://*.example.org").unwrap();
        assert!(
            parsed
                .policy()
                .ends_with("frame-ancestors https://app.example.com https://*.example.org")
        );
        assert!(FrameAncestors::parse("'self'").is_ok());
        for bad in [
            "",
            "https://a.example; script-src *",
            "http://plain.example",
            "'none' https://a.example",
            "*",
            "https://",
            "https://*",
            "https://*.com.*",
        ] {
            assert!(FrameAncestors::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_page_uses_no_inline_script_or_style_and_no_other_host() {
        for asset in ASSETS {
            let text = asset.text;
            for other_host in [
                "src=\"http",
                "href=\"http",
                "url(http",
                "@import",
                "fetch('http",
            ] {
                assert!(!text.contains(other_host), "{}: {other_host}", asset.name);
            }
            if asset.name == "index.html" {
                assert!(!text.contains("<script>") && !text.contains("style="));
                assert!(!text.contains("<style"));
            }
            if asset.name == "portal.js" {
                assert!(!text.contains("innerHTML") && !text.contains("eval("));
            }
        }
    }
}
