//! What a manager or staff caller acts for, loaded in the request's one trip to the
//! database: a manager's reach (themselves, their team, everyone below them and those people's
//! teams); a staff member's own (themselves and their team), even if someone reports to them.
//! Owners and integrations act for the whole organization and have none.

use circulo_domain::principal::Role;
use circulo_domain::reach::Reach;
use circulo_domain::{MemberId, OrgId};
use circulo_persistence::{Db, StoreResult, WriteTx};

use crate::auth::Caller;

/// Whom a manager or staff caller acts for, before it is loaded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Acting {
    member: MemberId,
    manages_reports: bool,
}

impl Acting {
    /// Whom `caller` acts for, when they are a manager or staff member.
    pub(super) fn of(caller: &Caller) -> Option<Self> {
        caller.member().map(|member| Self {
            member,
            manages_reports: caller.principal.role() == Role::Manager,
        })
    }

    /// Loads the reach on a read connection.
    pub(super) fn read(self, db: &Db, org: OrgId) -> StoreResult<Reach> {
        db.reach(org, self.member).map(|reach| self.narrow(reach))
    }

    /// Loads the reach inside a write transaction.
    pub(super) fn load(self, tx: &mut WriteTx<'_>, org: OrgId) -> StoreResult<Reach> {
        tx.reach(org, self.member).map(|reach| self.narrow(reach))
    }

    fn narrow(self, reach: Reach) -> Reach {
        if self.manages_reports {
            reach
        } else {
            reach.without_reports()
        }
    }
}
