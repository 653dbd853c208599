//! Whom a manager or staff member acts for: themselves, their team, and everyone who reports to
//! them, directly or through others, with those people's teams. Owners and integrations act for
//! the whole organization and have no reach to check. The store loads it in one recursive query
//! (`persistence::hierarchy`); the rules below decide with it.

use crate::delegation::Delegate;
use crate::goal::GoalOwner;
use crate::ids::{MemberId, TeamId};

/// A member's reach in their organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    member: MemberId,
    team: Option<TeamId>,
    below: Vec<(MemberId, Option<TeamId>)>,
}

impl Reach {
    /// `member` (of `team`), above the people in `below` with their teams.
    pub fn new(
        member: MemberId,
        team: Option<TeamId>,
        below: Vec<(MemberId, Option<TeamId>)>,
    ) -> Self {
        Self {
            member,
            team,
            below,
        }
    }

    /// This reach without the people below: what a staff member acts for, whoever reports to
    /// them (only a manager's role manages others).
    pub fn without_reports(self) -> Self {
        Self {
            below: Vec::new(),
            ..self
        }
    }

    /// The member themselves.
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// Whether `other` reports to this member, directly or through others.
    pub fn manages(&self, other: MemberId) -> bool {
        self.below.iter().any(|(below, _)| *below == other)
    }

    /// Whether this member belongs to `team` themselves.
    pub fn is_in(&self, team: TeamId) -> bool {
        self.team == Some(team)
    }

    /// Whether someone who reports to this member belongs to `team`.
    pub fn manages_team(&self, team: TeamId) -> bool {
        self.below.iter().any(|(_, t)| *t == Some(team))
    }

    /// Whether this member may set and change a goal of `owner`: one of the people under them,
    /// or one of those people's teams.
    pub fn manages_owner(&self, owner: GoalOwner) -> bool {
        match owner {
            GoalOwner::Member(member) => self.manages(member),
            GoalOwner::Team(team) => self.manages_team(team),
        }
    }

    /// Whether this member may read a goal of `owner`: their own, their team's, or one they
    /// manage.
    pub fn sees_owner(&self, owner: GoalOwner) -> bool {
        match owner {
            GoalOwner::Member(member) => member == self.member || self.manages(member),
            GoalOwner::Team(team) => self.team == Some(team) || self.manages_team(team),
        }
    }

    /// Whether this member may grant authority to (or revoke it from) `delegate`: someone
    /// under them, or a team of such people that they are not in themselves (a grant to their
    /// own team would cover them).
    pub fn may_grant_to(&self, delegate: Delegate) -> bool {
        match delegate {
            Delegate::Member(member) => self.manages(member),
            Delegate::Team(team) => self.manages_team(team) && !self.is_in(team),
        }
    }

    /// The members whose goals [`Reach::sees_owner`] admits.
    pub fn seen_members(&self) -> Vec<MemberId> {
        std::iter::once(self.member)
            .chain(self.below.iter().map(|(member, _)| *member))
            .collect()
    }

    /// The teams whose goals [`Reach::sees_owner`] admits.
    pub fn seen_teams(&self) -> Vec<TeamId> {
        let mut teams: Vec<TeamId> = self
            .team
            .into_iter()
            .chain(self.below.iter().filter_map(|(_, team)| *team))
            .collect();
        teams.sort_unstable();
        teams.dedup();
        teams
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manager_manages_the_people_below_and_their_teams_but_reads_their_own_too() {
        let (me, report) = (MemberId::generate(), MemberId::generate());
        let (mine, theirs, other) = (TeamId::generate(), TeamId::generate(), TeamId::generate());
        let reach = Reach::new(me, Some(mine), vec![(report, Some(theirs))]);
        assert!(reach.manages_owner(GoalOwner::Member(report)));
        assert!(reach.manages_owner(GoalOwner::Team(theirs)));
        assert!(!reach.manages_owner(GoalOwner::Member(me)), "not their own");
        assert!(!reach.manages_owner(GoalOwner::Team(mine)));
        assert!(reach.sees_owner(GoalOwner::Member(me)) && reach.sees_owner(GoalOwner::Team(mine)));
        assert!(!reach.sees_owner(GoalOwner::Team(other)));
        assert_eq!(reach.seen_teams().len(), 2);
    }
}
