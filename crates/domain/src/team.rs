//! Teams: groups of members, optionally led by one of them.

use chrono::{DateTime, Utc};

use crate::error::{DomainResult, Validator};
use crate::ids::{MemberId, TeamId};
use crate::text;

/// A team as stored. It serializes as the API shows it, which is how the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Team {
    /// The team's id.
    pub id: TeamId,
    /// Unique within the organization.
    pub name: String,
    /// Who leads the team, when someone does.
    pub lead_member_id: Option<MemberId>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Validates a team name.
pub fn team_name(raw: &str) -> DomainResult<String> {
    text::single_line("name", raw, 100)
}

/// A valid request to create a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    /// Unique within the organization.
    pub name: String,
    /// Who leads the team.
    pub lead_member_id: Option<MemberId>,
}

impl NewTeam {
    /// Validates the fields.
    pub fn parse(name: &str, lead_member_id: Option<MemberId>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let name = v.check(team_name(name));
        v.build(|| {
            Some(Self {
                name: name?,
                lead_member_id,
            })
        })
    }
}

/// A validated change to a team; `None` leaves a field as it is, `Some(None)` clears the lead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPatch {
    /// New name.
    pub name: Option<String>,
    /// New lead, or no lead.
    pub lead_member_id: Option<Option<MemberId>>,
}

impl Team {
    /// The team with `patch` applied.
    pub fn patched(mut self, patch: TeamPatch) -> Self {
        if let Some(name) = patch.name {
            self.name = name;
        }
        if let Some(lead) = patch.lead_member_id {
            self.lead_member_id = lead;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_names_are_one_to_a_hundred_characters() {
        assert!(NewTeam::parse(&"x".repeat(100), None).is_ok());
        assert!(NewTeam::parse(&"x".repeat(101), None).is_err());
        assert!(NewTeam::parse(" ", None).is_err());
    }

    #[test]
    fn a_patch_can_clear_the_lead() {
        let team = Team {
            id: TeamId::generate(),
            name: "Front desk".into(),
            lead_member_id: Some(MemberId::generate()),
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let patched = team.patched(TeamPatch {
            name: None,
            lead_member_id: Some(None),
        });
        assert_eq!(patched.lead_member_id, None);
        assert_eq!(patched.name, "Front desk");
    }
}
