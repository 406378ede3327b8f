use std::fmt;

use serde::{Deserialize, Serialize};

/// An organization: every endpoint belongs to exactly one, and callers act within theirs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(u64);

impl OrgId {
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// Reads an org id the authorizer wrote as a decimal string.
    pub fn parse(raw: &str) -> Option<Self> {
        raw.trim().parse().ok().map(Self)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Owner, Self::Admin, Self::Member]
            .into_iter()
            .find(|role| role.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
}

/// Who is calling, as the authorizer established it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub org: OrgId,
    pub role: Role,
    /// Signed in through a portal link rather than with a key.
    pub session: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("This action requires the owner or admin role.")]
pub struct Forbidden;

impl Caller {
    /// Managing webhook endpoints is for owners and admins ("admin+").
    pub fn require_admin(self) -> Result<Self, Forbidden> {
        match self.role {
            Role::Owner | Role::Admin => Ok(self),
            Role::Member => Err(Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_and_admins_manage_endpoints() {
        let org = OrgId::new(7);
        assert!(
            Caller {
                org,
                role: Role::Owner,
                session: false,
            }
            .require_admin()
            .is_ok()
        );
        assert!(
            Caller {
                org,
                role: Role::Admin,
                session: false,
            }
            .require_admin()
            .is_ok()
        );
        assert_eq!(
            Caller {
                org,
                role: Role::Member,
                session: true,
            }
            .require_admin(),
            Err(Forbidden)
        );
    }

    #[test]
    fn org_ids_parse_from_decimal_text() {
        assert_eq!(OrgId::parse("42"), Some(OrgId::new(42)));
        assert_eq!(OrgId::parse("-1"), None);
        assert_eq!(OrgId::parse("4x"), None);
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn org_ids_read_back_as_the_number_the_authorizer_wrote() {
        let org = OrgId::parse(" 42 ").unwrap();
        assert_eq!(org.get(), 42);
        assert_eq!(org.to_string(), "42");
        assert_eq!(
            OrgId::new(18_446_744_073_709_551_615).to_string(),
            "18446744073709551615"
        );
        assert_eq!(
            OrgId::parse(&OrgId::new(907).to_string()),
            Some(OrgId::new(907))
        );
    }

    #[test]
    fn roles_are_read_and_written_by_their_lowercase_names() {
        for (name, role) in [
            ("owner", Role::Owner),
            ("admin", Role::Admin),
            ("member", Role::Member),
        ] {
            assert_eq!(Role::parse(name), Some(role), "{name}");
            assert_eq!(role.as_str(), name);
        }
        assert_eq!(Role::parse(""), None);
        assert_eq!(Role::parse("superadmin"), None);
    }
}
