//! Members: the people who serve clients. They are deactivated, never deleted, because decisions,
//! feedback and the audit log keep pointing at them. Shaped like every resource (see `team.rs`).

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::{MemberId, TeamId};
use crate::text;
use crate::version::Revision;

crate::string_enum! {
    /// The role a member holds in the organization.
    pub enum MemberRole ("role") {
        /// Runs the business: may do everything in it.
        Owner = "owner",
        /// Leads the people who report to them.
        Manager = "manager",
        /// Serves clients.
        Staff = "staff",
    }
}

/// The most strengths a member may list.
pub const MAX_STRENGTHS: usize = 20;
/// The longest strength.
pub const MAX_STRENGTH_CHARS: usize = 60;
/// The longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// The longest HR id.
pub const MAX_EXTERNAL_ID_CHARS: usize = 255;

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
    /// Its version and when it was created and last changed.
    #[serde(flatten)]
    pub revision: Revision,
}

/// A member's fields as a client sent them: the body of a create or of an upsert.
#[derive(Debug, Clone, Copy)]
pub struct RawMemberFields<'a> {
    /// The HR system's id.
    pub external_id: Option<&'a str>,
    /// Display name.
    pub display_name: &'a str,
    /// Work email.
    pub email: Option<&'a str>,
    /// Role.
    pub role: MemberRole,
    /// Team.
    pub team_id: Option<TeamId>,
    /// Manager.
    pub manager_id: Option<MemberId>,
    /// Strengths.
    pub strengths: &'a [String],
    /// Active, when the client said.
    pub active: Option<bool>,
}

/// Every field of a member a client sets, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFields {
    external_id: Option<String>,
    display_name: String,
    email: Option<String>,
    role: MemberRole,
    team_id: Option<TeamId>,
    manager_id: Option<MemberId>,
    strengths: Vec<String>,
    active: Option<bool>,
}

impl MemberFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawMemberFields<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let external_id = raw.external_id.map(|s| v.check(external_id(s)));
        let display_name = v.check(display_name(raw.display_name));
        let email = raw.email.map(|s| v.check(email(s)));
        let strengths = v.check(strengths(raw.strengths));
        v.build(|| {
            Some(Self {
                external_id: external_id.map(|e| e.ok_or(())).transpose().ok()?,
                display_name: display_name?,
                email: email.map(|e| e.ok_or(())).transpose().ok()?,
                role: raw.role,
                team_id: raw.team_id,
                manager_id: raw.manager_id,
                strengths: strengths?,
                active: raw.active,
            })
        })
    }

    /// The HR system's id.
    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    /// The team.
    pub fn team_id(&self) -> Option<TeamId> {
        self.team_id
    }

    /// The manager.
    pub fn manager_id(&self) -> Option<MemberId> {
        self.manager_id
    }

    /// These fields with `patch` applied.
    pub fn patched(mut self, patch: MemberPatch) -> Self {
        crate::apply_patch!(
            self, patch;
            external_id, display_name, email, role, team_id, manager_id, strengths,
        );
        // The fields' `active` is optional (an upsert may leave it out); a patch's is a value.
        if let Some(active) = patch.active {
            self.active = Some(active);
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

/// A change to a member as a client sent it: `None` leaves a field as it is, `Some(None)` clears
/// an optional one.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawMemberPatch<'a> {
    /// The HR system's id, or none.
    pub external_id: Option<Option<&'a str>>,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Email, or none.
    pub email: Option<Option<&'a str>>,
    /// Role.
    pub role: Option<MemberRole>,
    /// Team, or none.
    pub team_id: Option<Option<TeamId>>,
    /// Manager, or none.
    pub manager_id: Option<Option<MemberId>>,
    /// Strengths, replacing the list.
    pub strengths: Option<&'a [String]>,
    /// Active or deactivated.
    pub active: Option<bool>,
}

/// A validated change to a member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPatch {
    external_id: Option<Option<String>>,
    display_name: Option<String>,
    email: Option<Option<String>>,
    role: Option<MemberRole>,
    team_id: Option<Option<TeamId>>,
    manager_id: Option<Option<MemberId>>,
    strengths: Option<Vec<String>>,
    active: Option<bool>,
}

impl MemberPatch {
    /// Validates every field given, reporting all failures together.
    pub fn parse(raw: RawMemberPatch<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let patch = Self {
            external_id: raw
                .external_id
                .map(|e| e.and_then(|e| v.check(external_id(e)))),
            display_name: raw.display_name.and_then(|n| v.check(display_name(n))),
            email: raw.email.map(|e| e.and_then(|e| v.check(email(e)))),
            role: raw.role,
            team_id: raw.team_id,
            manager_id: raw.manager_id,
            strengths: raw.strengths.and_then(|s| v.check(strengths(s))),
            active: raw.active,
        };
        v.finish().map(|()| patch)
    }
}

/// Validates the HR system's id for a member.
fn external_id(raw: &str) -> DomainResult<String> {
    text::single_line("external_id", raw, MAX_EXTERNAL_ID_CHARS)
}

/// Validates a display name.
fn display_name(raw: &str) -> DomainResult<String> {
    text::single_line("display_name", raw, MAX_DISPLAY_NAME_CHARS)
}

/// Validates a member's email.
fn email(raw: &str) -> DomainResult<String> {
    text::email("email", raw)
}

/// Validates a list of strengths: at most 20, each 1–60 characters, no repeats.
pub(crate) fn strengths(raw: &[String]) -> DomainResult<Vec<String>> {
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
        if let Some(s) = v.check(text::single_line(&field, s, MAX_STRENGTH_CHARS)) {
            if out.contains(&s) {
                v.fail(field, "repeats an earlier strength");
            } else {
                out.push(s);
            }
        }
    }
    v.finish().map(|()| out)
}

impl Member {
    /// A new member, at version 1; active unless the fields say otherwise.
    pub fn created(id: MemberId, fields: MemberFields, at: DateTime<Utc>) -> Self {
        Self {
            id,
            external_id: fields.external_id,
            display_name: fields.display_name,
            email: fields.email,
            role: fields.role,
            team_id: fields.team_id,
            manager_id: fields.manager_id,
            strengths: fields.strengths,
            active: fields.active.unwrap_or(true),
            revision: Revision::first(at),
        }
    }

    /// The fields a client may change.
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

    /// This member with `fields` set, at the next version. Fields that do not say whether the
    /// member is active leave that as it is: an HR sync that omits it reactivates no one.
    pub fn replaced(&self, fields: MemberFields, at: DateTime<Utc>) -> Self {
        Self {
            external_id: fields.external_id,
            display_name: fields.display_name,
            email: fields.email,
            role: fields.role,
            team_id: fields.team_id,
            manager_id: fields.manager_id,
            strengths: fields.strengths,
            active: fields.active.unwrap_or(self.active),
            revision: self.revision.next(at),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(name: &'a str, strengths: &'a [String]) -> RawMemberFields<'a> {
        RawMemberFields {
            external_id: None,
            display_name: name,
            email: None,
            role: MemberRole::Staff,
            team_id: None,
            manager_id: None,
            strengths,
            active: None,
        }
    }

    #[test]
    fn a_new_member_is_active_unless_said_otherwise_and_a_replacement_keeps_it_so() {
        let fields = MemberFields::parse(raw("Ana", &[])).unwrap();
        let ana = Member::created(MemberId::generate(), fields.clone(), Utc::now());
        assert!(ana.active);
        let mut deactivated = ana.fields();
        deactivated.active = Some(false);
        let fired = ana.replaced(deactivated, Utc::now());
        assert!(!fired.active);
        assert!(!fired.replaced(fields, Utc::now()).active, "unsaid: kept");
    }

    #[test]
    fn every_bad_field_is_reported_together() {
        let mut input = raw("", &[]);
        input.email = Some("nope");
        input.external_id = Some(" ");
        let err = MemberFields::parse(input).unwrap_err();
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["external_id", "display_name", "email"]);
        let patch = RawMemberPatch {
            display_name: Some(""),
            email: Some(Some("x")),
            ..RawMemberPatch::default()
        };
        assert_eq!(
            MemberPatch::parse(patch).unwrap_err().field_errors().len(),
            2
        );
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
        let mut input = raw("Ana", &[]);
        input.manager_id = Some(id);
        let m = MemberFields::parse(input).unwrap();
        assert!(m.check_not_own_manager(id).is_err());
        assert!(m.check_not_own_manager(MemberId::generate()).is_ok());
    }
}
