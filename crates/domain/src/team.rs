//! Teams: groups of members, optionally led by one of them.
//!
//! This file shows the shape every resource follows (README, "Adding a resource"): the entity as
//! stored; `TeamFields`, the settable fields, parsed from what a client sent and valid by
//! construction; `TeamPatch`, a validated change; `Team::created` and `Team::replaced` to make
//! the next stored state. Rules that need stored data (the lead must be a member) are the store's.

use chrono::{DateTime, Utc};

use crate::error::{DomainResult, Validator};
use crate::ids::{MemberId, TeamId};
use crate::text;
use crate::version::Revision;

/// The longest team name.
pub const MAX_NAME_CHARS: usize = 100;

/// A team as stored. It serializes as the API shows it, which is how the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Team {
    /// The team's id.
    pub id: TeamId,
    /// Unique within the organization.
    pub name: String,
    /// Who leads the team, when someone does.
    pub lead_member_id: Option<MemberId>,
    /// Its version and when it was created and last changed.
    #[serde(flatten)]
    pub revision: Revision,
}

/// A team's fields as a client sent them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawTeamFields<'a> {
    /// The name.
    pub name: &'a str,
    /// The lead.
    pub lead_member_id: Option<MemberId>,
}

/// The fields a client sets on a team, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamFields {
    name: String,
    lead_member_id: Option<MemberId>,
}

impl TeamFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawTeamFields<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let name = v.check(name(raw.name));
        v.build(|| {
            Some(Self {
                name: name?,
                lead_member_id: raw.lead_member_id,
            })
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lead.
    pub fn lead_member_id(&self) -> Option<MemberId> {
        self.lead_member_id
    }

    /// These fields with `patch` applied.
    pub fn patched(mut self, patch: TeamPatch) -> Self {
        crate::apply_patch!(self, patch; name, lead_member_id);
        self
    }
}

/// A change to a team as a client sent it: `None` leaves a field as it is, `Some(None)` clears
/// the lead.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawTeamPatch<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// A new lead, or none.
    pub lead_member_id: Option<Option<MemberId>>,
}

/// A validated change to a team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPatch {
    name: Option<String>,
    lead_member_id: Option<Option<MemberId>>,
}

impl TeamPatch {
    /// Validates every field given, reporting all failures together.
    pub fn parse(raw: RawTeamPatch<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let name = raw.name.map(|n| v.check(name(n)));
        v.build(|| {
            Some(Self {
                name: name.map(|n| n.ok_or(())).transpose().ok()?,
                lead_member_id: raw.lead_member_id,
            })
        })
    }
}

/// Validates a team name: 1–100 characters on one line.
fn name(raw: &str) -> DomainResult<String> {
    text::single_line("name", raw, MAX_NAME_CHARS)
}

impl Team {
    /// A new team, at version 1.
    pub fn created(id: TeamId, fields: TeamFields, at: DateTime<Utc>) -> Self {
        Self {
            id,
            name: fields.name,
            lead_member_id: fields.lead_member_id,
            revision: Revision::first(at),
        }
    }

    /// The fields a client may change.
    pub fn fields(&self) -> TeamFields {
        TeamFields {
            name: self.name.clone(),
            lead_member_id: self.lead_member_id,
        }
    }

    /// This team with `fields` set, at the next version.
    pub fn replaced(&self, fields: TeamFields, at: DateTime<Utc>) -> Self {
        Self {
            name: fields.name,
            lead_member_id: fields.lead_member_id,
            revision: self.revision.next(at),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str) -> DomainResult<TeamFields> {
        TeamFields::parse(RawTeamFields {
            name,
            lead_member_id: None,
        })
    }

    #[test]
    fn team_names_are_one_to_a_hundred_characters() {
        assert!(fields(&"x".repeat(100)).is_ok());
        assert!(fields(&"x".repeat(101)).is_err());
        assert!(fields(" ").is_err());
        let patch = RawTeamPatch {
            name: Some(""),
            ..RawTeamPatch::default()
        };
        assert_eq!(
            TeamPatch::parse(patch).unwrap_err().field_errors()[0].field,
            "name"
        );
    }

    #[test]
    fn a_patch_can_clear_the_lead_and_a_replacement_bumps_the_version() {
        let raw = RawTeamFields {
            name: "Front desk",
            lead_member_id: Some(MemberId::generate()),
        };
        let team = Team::created(
            TeamId::generate(),
            TeamFields::parse(raw).unwrap(),
            Utc::now(),
        );
        let patch = TeamPatch::parse(RawTeamPatch {
            name: None,
            lead_member_id: Some(None),
        })
        .unwrap();
        let next = team.replaced(team.fields().patched(patch), Utc::now());
        assert_eq!(next.lead_member_id, None);
        assert_eq!(next.name, "Front desk");
        assert_eq!(
            (next.revision.version, next.revision.created_at),
            (2, team.revision.created_at)
        );
    }
}
