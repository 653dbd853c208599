//! Members: the people who serve clients. They are deactivated, never deleted, because decisions,
//! feedback and the audit log keep pointing at them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::{MemberId, TeamId};
use crate::text;

/// The role a member holds in the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Runs the business.
    Owner,
    /// Leads people.
    Manager,
    /// Serves clients.
    Staff,
}

impl MemberRole {
    /// The role's name in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Manager => "manager",
            Self::Staff => "staff",
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MemberRole {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "manager" => Ok(Self::Manager),
            "staff" => Ok(Self::Staff),
            _ => Err(DomainError::invalid(
                "role",
                "must be one of owner, manager, staff",
            )),
        }
    }
}

/// The most strengths a member may list.
pub const MAX_STRENGTHS: usize = 20;

/// A member as stored. It serializes as the API shows it, which is how the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    /// The member's id; also the `sub` of their tokens.
    pub id: MemberId,
    /// The HR system's id for this person, unique within the organization.
    pub external_id: Option<String>,
    /// How colleagues and clients know them.
    pub display_name: String,
    /// Work email.
    pub email: Option<String>,
    /// Their role.
    pub role: MemberRole,
    /// Their team.
    pub team_id: Option<TeamId>,
    /// Whom they report to.
    pub manager_id: Option<MemberId>,
    /// What they are good at, in their manager's or their own words.
    pub strengths: Vec<String>,
    /// Inactive members keep their history but no longer act.
    pub active: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When the member was created.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the member last changed.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Every field of a member that a client sets: the body of a create or of an upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFields {
    /// The HR system's id.
    pub external_id: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Work email.
    pub email: Option<String>,
    /// Role.
    pub role: MemberRole,
    /// Team.
    pub team_id: Option<TeamId>,
    /// Manager.
    pub manager_id: Option<MemberId>,
    /// Strengths.
    pub strengths: Vec<String>,
    /// Active or deactivated; `None` when the client did not say, which creates an active member
    /// and leaves an existing one as it is (an HR sync that omits it never reactivates anyone).
    pub active: Option<bool>,
}

/// Unvalidated member input as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct RawMemberFields<'a> {
    /// The HR system's id.
    pub external_id: Option<&'a str>,
    /// Display name.
    pub display_name: &'a str,
    /// Work email.
    pub email: Option<&'a str>,
    /// Role name.
    pub role: &'a str,
    /// Team.
    pub team_id: Option<TeamId>,
    /// Manager.
    pub manager_id: Option<MemberId>,
    /// Strengths.
    pub strengths: &'a [String],
    /// Active; defaults to true.
    pub active: Option<bool>,
}

/// Validates the HR system's id for a member.
pub fn external_id(raw: &str) -> DomainResult<String> {
    text::single_line("external_id", raw, 255)
}

/// Validates a display name.
pub fn display_name(raw: &str) -> DomainResult<String> {
    text::single_line("display_name", raw, 200)
}

/// Validates a member's email.
pub fn email(raw: &str) -> DomainResult<String> {
    text::email("email", raw)
}

/// Validates a list of strengths: at most 20, each 1–60 characters, no repeats.
pub fn strengths(raw: &[String]) -> DomainResult<Vec<String>> {
    if raw.len() > MAX_STRENGTHS {
        return Err(DomainError::invalid(
            "strengths",
            format!("at most {MAX_STRENGTHS} strengths"),
        ));
    }
    let mut v = Validator::new();
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let field = format!("strengths[{i}]");
        if let Some(s) = v.check(text::single_line(&field, s, 60)) {
            if out.contains(&s) {
                v.fail(field, "repeats an earlier strength");
            } else {
                out.push(s);
            }
        }
    }
    v.finish().map(|()| out)
}

impl MemberFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawMemberFields<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let external_id = raw.external_id.map(|s| v.check(external_id(s)));
        let display_name = v.check(display_name(raw.display_name));
        let email = raw.email.map(|s| v.check(email(s)));
        let role = v.check(raw.role.parse::<MemberRole>());
        let strengths = v.check(strengths(raw.strengths));
        v.build(|| {
            Some(Self {
                external_id: external_id.map(|e| e.ok_or(())).transpose().ok()?,
                display_name: display_name?,
                email: email.map(|e| e.ok_or(())).transpose().ok()?,
                role: role?,
                team_id: raw.team_id,
                manager_id: raw.manager_id,
                strengths: strengths?,
                active: raw.active,
            })
        })
    }
}

/// A validated change to a member; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPatch {
    /// HR id.
    pub external_id: Option<Option<String>>,
    /// Display name.
    pub display_name: Option<String>,
    /// Email.
    pub email: Option<Option<String>>,
    /// Role.
    pub role: Option<MemberRole>,
    /// Team.
    pub team_id: Option<Option<TeamId>>,
    /// Manager.
    pub manager_id: Option<Option<MemberId>>,
    /// Strengths.
    pub strengths: Option<Vec<String>>,
    /// Active.
    pub active: Option<bool>,
}

impl Member {
    /// The settable fields of this member.
    pub fn fields(&self) -> MemberFields {
        MemberFields {
            external_id: self.external_id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            role: self.role,
            team_id: self.team_id,
            manager_id: self.manager_id,
            strengths: self.strengths.clone(),
            active: Some(self.active),
        }
    }
}

impl MemberFields {
    /// These fields with `patch` applied.
    pub fn patched(mut self, patch: MemberPatch) -> Self {
        if let Some(v) = patch.external_id {
            self.external_id = v;
        }
        if let Some(v) = patch.display_name {
            self.display_name = v;
        }
        if let Some(v) = patch.email {
            self.email = v;
        }
        if let Some(v) = patch.role {
            self.role = v;
        }
        if let Some(v) = patch.team_id {
            self.team_id = v;
        }
        if let Some(v) = patch.manager_id {
            self.manager_id = v;
        }
        if let Some(v) = patch.strengths {
            self.strengths = v;
        }
        if let Some(v) = patch.active {
            self.active = Some(v);
        }
        self
    }

    /// Refuses a member who would report to themselves; longer cycles need the stored hierarchy
    /// and are checked by the store.
    pub fn check_not_own_manager(&self, id: MemberId) -> DomainResult<()> {
        if self.manager_id == Some(id) {
            Err(DomainError::invalid(
                "manager_id",
                "a member cannot be their own manager",
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(name: &'a str, role: &'a str, strengths: &'a [String]) -> RawMemberFields<'a> {
        RawMemberFields {
            display_name: name,
            role,
            strengths,
            ..RawMemberFields::default()
        }
    }

    #[test]
    fn a_minimal_member_leaves_active_unsaid_and_has_no_strengths() {
        let m = MemberFields::parse(raw("Ana", "staff", &[])).unwrap();
        assert_eq!(
            m.active, None,
            "unsaid: the store makes a new member active"
        );
        assert!(m.strengths.is_empty());
        assert_eq!(m.role, MemberRole::Staff);
    }

    #[test]
    fn every_bad_field_is_reported_together() {
        let mut input = raw("", "boss", &[]);
        input.email = Some("nope");
        let err = MemberFields::parse(input).unwrap_err();
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["display_name", "email", "role"]);
    }

    #[test]
    fn strengths_are_limited_and_unique() {
        let many: Vec<String> = (0..21).map(|i| format!("s{i}")).collect();
        assert!(strengths(&many).is_err());
        assert!(strengths(&many[..20]).is_ok());
        let repeated = vec!["calm".to_owned(), "calm".to_owned()];
        assert_eq!(
            strengths(&repeated).unwrap_err().field_errors()[0].field,
            "strengths[1]"
        );
    }

    #[test]
    fn a_member_cannot_manage_themselves() {
        let id = MemberId::generate();
        let mut m = MemberFields::parse(raw("Ana", "staff", &[])).unwrap();
        m.manager_id = Some(id);
        assert!(m.check_not_own_manager(id).is_err());
        assert!(m.check_not_own_manager(MemberId::generate()).is_ok());
    }
}
