//! Bearer keys standing in for the Lambda authorizer: each maps to an organization and a role.

use std::str::FromStr;

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use webhook_domain::{OrgId, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key: String,
    pub org: OrgId,
    pub role: Role,
}

impl FromStr for ApiKey {
    type Err = String;

    /// `KEY=ORG_ID:ROLE`, e.g. `sk_test_admin=7:admin`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let usage =
            || format!("expected KEY=ORG_ID:ROLE (role owner, admin or member), got {raw:?}");
        let (key, identity) = raw.split_once('=').ok_or_else(usage)?;
        let (org, role) = identity.split_once(':').ok_or_else(usage)?;
        if key.is_empty() || key.chars().any(char::is_whitespace) {
            return Err(usage());
        }
        Ok(Self {
            key: key.to_owned(),
            org: OrgId::parse(org).ok_or_else(usage)?,
            role: Role::parse(role).ok_or_else(usage)?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct ApiKeys(Vec<ApiKey>);

impl ApiKeys {
    pub fn new(keys: Vec<ApiKey>) -> Self {
        Self(keys)
    }

    /// The given keys, or a fresh admin key for org 1 (printed) when none were given.
    pub fn or_default_admin(keys: Vec<ApiKey>) -> Self {
        if !keys.is_empty() {
            return Self(keys);
        }
        let key = format!("sk_dev_{}", uuid::Uuid::new_v4().simple());
        println!("no --api-key given; admin key for org 1: {key}");
        Self(vec![ApiKey {
            key,
            org: OrgId::new(1),
            role: Role::Admin,
        }])
    }

    /// The identity behind `Authorization: Bearer KEY`, if the key is known.
    pub(crate) fn identify(&self, headers: &HeaderMap) -> Option<&ApiKey> {
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        self.0.iter().find(|k| k.key == token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_org_and_role() {
        let key: ApiKey = "sk_a=42:owner".parse().unwrap();
        assert_eq!(
            key,
            ApiKey {
                key: "sk_a".into(),
                org: OrgId::new(42),
                role: Role::Owner
            }
        );
        for bad in ["sk_a", "sk_a=42", "=1:admin", "sk_a=x:admin", "sk_a=1:root"] {
            assert!(bad.parse::<ApiKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn identifies_bearer_keys_only() {
        let keys = ApiKeys::new(vec!["sk_a=1:admin".parse().unwrap()]);
        let mut headers = HeaderMap::new();
        assert!(keys.identify(&headers).is_none());
        headers.insert(AUTHORIZATION, "Bearer sk_a".parse().unwrap());
        assert_eq!(keys.identify(&headers).unwrap().org, OrgId::new(1));
        headers.insert(AUTHORIZATION, "bearer sk_a".parse().unwrap());
        assert!(keys.identify(&headers).is_some());
        headers.insert(AUTHORIZATION, "Basic sk_a".parse().unwrap());
        assert!(keys.identify(&headers).is_none());
        headers.insert(AUTHORIZATION, "Bearer sk_b".parse().unwrap());
        assert!(keys.identify(&headers).is_none());
    }
}
