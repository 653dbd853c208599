//! Who is calling and what they may do: roles, integration scopes and the permission rules of
//! API.md §2. The API layer builds a [`Principal`] from a verified token; everything else asks it.

use std::collections::BTreeSet;

use crate::error::{DomainError, DomainResult};
use crate::ids::OrgId;

crate::string_enum! {
    /// The role a token grants.
    pub enum Role ("role") {
        /// May do everything in their organization.
        Owner = "owner",
        /// Manages the people who report to them.
        Manager = "manager",
        /// Serves clients; acts as themselves.
        Staff = "staff",
        /// Another system (CRM, POS, HR tool) limited by its scopes.
        Integration = "integration",
        /// Operates the platform: creates organizations, nothing inside them.
        PlatformAdmin = "platform_admin",
    }
}

crate::string_enum! {
    /// A permission an integration token carries in its `scope` claim.
    pub enum Scope ("scope") {
        /// Read teams and members.
        MembersRead = "members:read",
        /// Create and change teams and members.
        MembersWrite = "members:write",
        /// Read goals.
        GoalsRead = "goals:read",
        /// Create and change goals.
        GoalsWrite = "goals:write",
        /// Read delegations.
        DelegationsRead = "delegations:read",
        /// Create and revoke delegations.
        DelegationsWrite = "delegations:write",
        /// Record decisions.
        DecisionsWrite = "decisions:write",
        /// Read feedback.
        FeedbackRead = "feedback:read",
        /// Give feedback.
        FeedbackWrite = "feedback:write",
        /// Read satisfaction scores.
        ScoresRead = "scores:read",
        /// Record satisfaction scores.
        ScoresWrite = "scores:write",
        /// Read reports.
        ReportsRead = "reports:read",
        /// Manage webhooks.
        WebhooksManage = "webhooks:manage",
        /// Read the audit log.
        AuditRead = "audit:read",
    }
}

/// Parses a space-separated `scope` claim. Unknown names are ignored so that an identity provider
/// may add scopes for other services without breaking Circulo's tokens.
pub fn parse_scopes(claim: &str) -> BTreeSet<Scope> {
    claim
        .split_whitespace()
        .filter_map(|name| Scope::parse(name).ok())
        .collect()
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
    /// Read goals (managers and staff: those within their reach).
    ReadGoals,
    /// Set and change goals (managers: of the people under them and their teams).
    WriteGoals,
    /// Check in on goals (staff: their own).
    CheckInGoals,
    /// Give feedback (members: as themselves).
    GiveFeedback,
    /// Read feedback (members: about themselves and the people under them; integrations:
    /// client feedback).
    ReadFeedback,
    /// Grant and revoke authority (managers: to the people under them).
    WriteDelegations,
    /// Read grants and what they allow (members: their own and, for managers, those under them).
    ReadDelegations,
    /// Record decisions (staff: as themselves; managers: for the people under them).
    RecordDecisions,
    /// Read decisions and escalations (members: theirs and those under them).
    ReadDecisions,
    /// Record satisfaction scores (who may record which audience is the store's rule).
    RecordScores,
    /// Read satisfaction scores.
    ReadScores,
    /// Read reports.
    ReadReports,
    /// Subscribe other systems to events and read their deliveries (owners).
    ManageWebhooks,
}

/// The longest token subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// An authenticated caller, valid by construction ([`Principal::new`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    org: Option<OrgId>,
    role: Role,
    subject: String,
    scopes: BTreeSet<Scope>,
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

    /// The caller's organization; only a platform admin may have none.
    pub fn org(&self) -> Option<OrgId> {
        self.org
    }

    /// The caller's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The token's `sub`: a member id, or an integration client's name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Whether this caller holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        use Permission as P;
        match (self.role, permission) {
            (Role::PlatformAdmin, P::CreateOrganization) => true,
            (Role::PlatformAdmin, _) | (_, P::CreateOrganization) => false,
            (Role::Owner, _) => true,
            (
                Role::Manager | Role::Staff,
                P::ReadDirectory
                | P::ReadGoals
                | P::CheckInGoals
                | P::GiveFeedback
                | P::ReadFeedback
                | P::ReadDelegations
                | P::RecordDecisions
                | P::ReadDecisions
                | P::RecordScores,
            ) => true,
            (
                Role::Manager,
                P::WriteGoals | P::WriteDelegations | P::ReadScores | P::ReadReports,
            ) => true,
            (Role::Manager | Role::Staff, _) => false,
            (Role::Integration, P::ReadDirectory) => {
                self.has_any(&[Scope::MembersRead, Scope::MembersWrite])
            }
            (Role::Integration, P::WriteDirectory) => self.scopes.contains(&Scope::MembersWrite),
            (Role::Integration, P::ReadAudit) => self.scopes.contains(&Scope::AuditRead),
            (Role::Integration, P::ReadGoals) => {
                self.has_any(&[Scope::GoalsRead, Scope::GoalsWrite])
            }
            (Role::Integration, P::WriteGoals | P::CheckInGoals) => {
                self.scopes.contains(&Scope::GoalsWrite)
            }
            (Role::Integration, P::GiveFeedback) => self.scopes.contains(&Scope::FeedbackWrite),
            (Role::Integration, P::ReadFeedback) => self.scopes.contains(&Scope::FeedbackRead),
            (Role::Integration, P::WriteDelegations) => {
                self.scopes.contains(&Scope::DelegationsWrite)
            }
            (Role::Integration, P::ReadDelegations) => self.has_any(&[
                Scope::DelegationsRead,
                Scope::DelegationsWrite,
                Scope::DecisionsWrite,
            ]),
            (Role::Integration, P::RecordDecisions) => self.scopes.contains(&Scope::DecisionsWrite),
            (Role::Integration, P::ReadDecisions) => {
                self.has_any(&[Scope::DecisionsWrite, Scope::DelegationsRead])
            }
            (Role::Integration, P::RecordScores) => self.scopes.contains(&Scope::ScoresWrite),
            (Role::Integration, P::ReadScores) => {
                self.has_any(&[Scope::ScoresRead, Scope::ScoresWrite])
            }
            (Role::Integration, P::ReadReports) => self.scopes.contains(&Scope::ReportsRead),
            (Role::Integration, P::ManageWebhooks) => self.scopes.contains(&Scope::WebhooksManage),
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
        Permission::ReadGoals => "reading goals needs the goals:read scope",
        Permission::WriteGoals => {
            "setting goals needs the owner or manager role or the goals:write scope"
        }
        Permission::CheckInGoals => "checking in on goals needs the goals:write scope",
        Permission::GiveFeedback => "giving feedback needs the feedback:write scope",
        Permission::ReadFeedback => "reading feedback needs the feedback:read scope",
        Permission::WriteDelegations => {
            "granting authority needs the owner or manager role or the delegations:write scope"
        }
        Permission::ReadDelegations => "reading delegations needs the delegations:read scope",
        Permission::RecordDecisions => "recording decisions needs the decisions:write scope",
        Permission::ReadDecisions => {
            "reading decisions needs the decisions:write or delegations:read scope"
        }
        Permission::RecordScores => "recording satisfaction scores needs the scores:write scope",
        Permission::ReadScores => {
            "reading satisfaction scores needs the owner or manager role or the scores:read scope"
        }
        Permission::ReadReports => {
            "reading reports needs the owner or manager role or the reports:read scope"
        }
        Permission::ManageWebhooks => {
            "managing webhooks needs the owner role or the webhooks:manage scope"
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
    fn staff_read_goals_and_check_in_but_only_managers_set_goals() {
        let staff = principal(Role::Staff, "goals:write");
        assert!(staff.can(Permission::ReadGoals) && staff.can(Permission::CheckInGoals));
        assert!(!staff.can(Permission::WriteGoals));
        assert!(principal(Role::Manager, "").can(Permission::WriteGoals));
        let reader = principal(Role::Integration, "goals:read feedback:read");
        assert!(reader.can(Permission::ReadGoals) && reader.can(Permission::ReadFeedback));
        assert!(!reader.can(Permission::WriteGoals) && !reader.can(Permission::GiveFeedback));
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
