//! `--api-key KEY=ORG:ROLE`: keys dev-server seeds into its store at start, for the bundled
//! authorizer's code to find as it finds keys made by `webhooks-admin keys create`.

use std::str::FromStr;

use webhook_domain::{ApiKeyRecord, ApiKeySecret, OrgId, Role, Timestamp};

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

    /// The records the bundled authorizer reads, as `keys create` would make them (these keys
    /// are the given text, not generated).
    pub fn records(&self, now: Timestamp) -> Vec<ApiKeyRecord> {
        self.0
            .iter()
            .filter_map(|seed| {
                let key = ApiKeySecret::presented(&seed.key)?;
                Some(ApiKeyRecord::new(&key, seed.org, seed.role, None, now))
            })
            .collect()
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
}
