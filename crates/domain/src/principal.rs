//! Who is calling and what they may do: roles, integration scopes and the permission rules of
//! API.md §2. The API layer builds a [`Principal`] from a verified token; everything else asks it.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::{DomainError, DomainResult};
use crate::ids::OrgId;

/// The role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// May do everything in their organization.
    Owner,
    /// Manages the people who report to them.
    Manager,
    /// Serves clients; acts as themselves.
    Staff,
    /// Another system (CRM, POS, HR tool) limited by its scopes.
    Integration,
    /// Operates the platform: creates organizations, nothing inside them.
    PlatformAdmin,
}

impl Role {
    /// The role's name in tokens and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Manager => "manager",
            Self::Staff => "staff",
            Self::Integration => "integration",
            Self::PlatformAdmin => "platform_admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "owner" => Self::Owner,
            "manager" => Self::Manager,
            "staff" => Self::Staff,
            "integration" => Self::Integration,
            "platform_admin" => Self::PlatformAdmin,
            _ => {
                return Err(DomainError::invalid(
                    "role",
                    "must be one of owner, manager, staff, integration, platform_admin",
                ));
            }
        })
    }
}

macro_rules! scopes {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A permission an integration token carries in its `scope` claim.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Scope { $(#[doc = $name] $variant),* }

        impl Scope {
            /// Every scope, in the order API.md lists them.
            pub const ALL: &[Scope] = &[$(Scope::$variant),*];

            /// The scope's name in tokens.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }

            /// The scope with this name, if there is one.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

scopes! {
    MembersRead => "members:read",
    MembersWrite => "members:write",
    GoalsRead => "goals:read",
    GoalsWrite => "goals:write",
    DelegationsRead => "delegations:read",
    DelegationsWrite => "delegations:write",
    DecisionsWrite => "decisions:write",
    FeedbackRead => "feedback:read",
    FeedbackWrite => "feedback:write",
    ScoresRead => "scores:read",
    ScoresWrite => "scores:write",
    ReportsRead => "reports:read",
    WebhooksManage => "webhooks:manage",
    AuditRead => "audit:read",
}

/// Parses a space-separated `scope` claim. Unknown names are ignored so that an identity provider
/// may add scopes for other services without breaking Circulo's tokens.
pub fn parse_scopes(claim: &str) -> BTreeSet<Scope> {
    claim.split_whitespace().filter_map(Scope::parse).collect()
}

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create a new organization (tenant).
    CreateOrganization,
    /// Read or change the organization's settings.
    ManageOrganization,
    /// Read teams and members: the directory everyone needs to address colleagues.
    ReadDirectory,
    /// Create and change teams and members.
    WriteDirectory,
    /// Read the audit log.
    ReadAudit,
}

/// The longest token subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The caller's organization; only a platform admin may have none.
    pub org: Option<OrgId>,
    /// The caller's role.
    pub role: Role,
    /// The token's `sub`: a member id, or an integration client's name.
    pub subject: String,
    /// Scopes, meaningful for integrations only.
    pub scopes: BTreeSet<Scope>,
}

impl Principal {
    /// Builds a principal, refusing combinations that cannot be valid: every role but platform
    /// admin acts inside one organization.
    pub fn new(
        org: Option<OrgId>,
        role: Role,
        subject: String,
        scopes: BTreeSet<Scope>,
    ) -> DomainResult<Self> {
        if org.is_none() && role != Role::PlatformAdmin {
            return Err(DomainError::invalid("org", "required for this role"));
        }
        // The subject is written to the audit log and idempotency records and compared in SQL.
        if subject.trim().is_empty()
            || subject.chars().count() > MAX_SUBJECT_CHARS
            || subject.chars().any(char::is_control)
        {
            return Err(DomainError::invalid(
                "sub",
                format!(
                    "must be 1 to {MAX_SUBJECT_CHARS} characters, none of them control characters"
                ),
            ));
        }
        Ok(Self {
            org,
            role,
            subject,
            scopes,
        })
    }

    /// Whether this caller holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        use Permission as P;
        match (self.role, permission) {
            (Role::PlatformAdmin, P::CreateOrganization) => true,
            (Role::PlatformAdmin, _) | (_, P::CreateOrganization) => false,
            (Role::Owner, _) => true,
            (Role::Manager | Role::Staff, P::ReadDirectory) => true,
            (Role::Manager | Role::Staff, _) => false,
            (Role::Integration, P::ReadDirectory) => {
                self.has_any(&[Scope::MembersRead, Scope::MembersWrite])
            }
            (Role::Integration, P::WriteDirectory) => self.scopes.contains(&Scope::MembersWrite),
            (Role::Integration, P::ReadAudit) => self.scopes.contains(&Scope::AuditRead),
            (Role::Integration, P::ManageOrganization) => false,
        }
    }

    /// The caller's organization when they hold `permission` in it.
    pub fn authorize(&self, permission: Permission) -> DomainResult<OrgId> {
        match (self.can(permission), self.org) {
            (true, Some(org)) => Ok(org),
            _ => Err(DomainError::Forbidden(forbidden_reason(permission))),
        }
    }

    /// Succeeds when the caller holds a permission that is not tied to an organization.
    pub fn require(&self, permission: Permission) -> DomainResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(forbidden_reason(permission)))
        }
    }

    fn has_any(&self, scopes: &[Scope]) -> bool {
        scopes.iter().any(|s| self.scopes.contains(s))
    }
}

fn forbidden_reason(permission: Permission) -> &'static str {
    match permission {
        Permission::CreateOrganization => "only a platform admin may create organizations",
        Permission::ManageOrganization => "only an owner may manage the organization",
        Permission::ReadDirectory => "reading teams and members needs the members:read scope",
        Permission::WriteDirectory => {
            "changing teams and members needs the owner role or the members:write scope"
        }
        Permission::ReadAudit => {
            "reading the audit log needs the owner role or the audit:read scope"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: &str) -> Principal {
        Principal::new(
            Some(OrgId::generate()),
            role,
            "someone".into(),
            parse_scopes(scope),
        )
        .unwrap()
    }

    #[test]
    fn roles_parse_from_their_token_names() {
        for role in [
            Role::Owner,
            Role::Manager,
            Role::Staff,
            Role::Integration,
            Role::PlatformAdmin,
        ] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn unknown_scopes_are_ignored() {
        let scopes = parse_scopes("members:read other:thing  audit:read");
        assert_eq!(
            scopes.into_iter().collect::<Vec<_>>(),
            vec![Scope::MembersRead, Scope::AuditRead]
        );
    }

    #[test]
    fn owner_may_do_everything_in_the_org_but_create_organizations() {
        let owner = principal(Role::Owner, "");
        assert!(owner.can(Permission::WriteDirectory));
        assert!(owner.can(Permission::ReadAudit));
        assert!(owner.can(Permission::ManageOrganization));
        assert!(!owner.can(Permission::CreateOrganization));
    }

    #[test]
    fn platform_admin_only_creates_organizations() {
        let admin =
            Principal::new(None, Role::PlatformAdmin, "ops".into(), BTreeSet::new()).unwrap();
        assert!(admin.require(Permission::CreateOrganization).is_ok());
        assert!(admin.authorize(Permission::ReadDirectory).is_err());
    }

    #[test]
    fn integrations_are_limited_by_scope() {
        let reader = principal(Role::Integration, "members:read");
        assert!(reader.can(Permission::ReadDirectory));
        assert!(!reader.can(Permission::WriteDirectory));
        assert!(!reader.can(Permission::ReadAudit));
        let writer = principal(Role::Integration, "members:write");
        assert!(writer.can(Permission::ReadDirectory));
        assert!(writer.can(Permission::WriteDirectory));
    }

    #[test]
    fn staff_reads_the_directory_but_does_not_change_it() {
        let staff = principal(Role::Staff, "members:write");
        assert!(staff.can(Permission::ReadDirectory));
        assert!(!staff.can(Permission::WriteDirectory));
        assert!(!staff.can(Permission::ReadAudit));
    }

    #[test]
    fn only_platform_admins_may_lack_an_organization() {
        assert!(Principal::new(None, Role::Owner, "x".into(), BTreeSet::new()).is_err());
        assert!(Principal::new(None, Role::PlatformAdmin, "x".into(), BTreeSet::new()).is_ok());
    }

    #[test]
    fn subjects_are_bounded_and_free_of_control_characters() {
        let make = |sub: &str| {
            Principal::new(
                Some(OrgId::generate()),
                Role::Integration,
                sub.to_owned(),
                BTreeSet::new(),
            )
        };
        assert!(make(&"s".repeat(255)).is_ok());
        assert!(make(&"s".repeat(256)).is_err());
        assert!(make("crm\u{0}").is_err());
        assert!(make("crm\nsync").is_err());
        assert!(make(" ").is_err());
    }
}
