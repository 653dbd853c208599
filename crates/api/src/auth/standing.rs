//! Whether a verified token may act: its organization must exist (once seen, remembered: an
//! organization is never deleted), and the member it stands for must exist and be active (never
//! remembered: another replica may deactivate them at any moment).
//!
//! The check needs the database, so it does not run when the token is verified but at the start
//! of the request's one trip to the blocking pool ([`crate::state::read`], [`crate::write`]),
//! before the store call it guards: a request costs one hop off the async workers, not two.

use actix_web::http::StatusCode;

use circulo_domain::principal::{Principal, Role};
use circulo_domain::{MemberId, OrgId};
use circulo_persistence::Db;

use crate::error::ApiError;
use crate::state::KnownOrgs;

/// Which member a token stands for.
#[derive(Debug, Clone, Copy)]
enum Stands {
    /// No member (integrations, platform admins, owners whose `sub` is a name).
    ForNoOne,
    /// The member whose id is the `sub`; refused unless they exist and are active.
    For(MemberId),
    /// The member whose id is the `sub`, if there is one (an owner's token): refused only when
    /// that member exists and is deactivated.
    ForAnyoneNamed(MemberId),
}

/// What remains to be checked about a caller before their request touches data.
#[derive(Debug, Clone)]
pub struct Standing {
    org: Option<OrgId>,
    stands: Stands,
    known: KnownOrgs,
}

impl Standing {
    /// What to check for `principal`; refuses at once a manager or staff token whose subject
    /// cannot be a member.
    pub(super) fn of(principal: &Principal, known: KnownOrgs) -> Result<Self, ApiError> {
        let named = principal.subject().parse::<MemberId>().ok();
        let stands = match (principal.role(), named) {
            (Role::Manager | Role::Staff, Some(member)) => Stands::For(member),
            (Role::Manager | Role::Staff, None) => {
                return Err(forbidden(
                    "a manager or staff token's subject must be the id of a member",
                ));
            }
            (Role::Owner, Some(member)) => Stands::ForAnyoneNamed(member),
            (Role::Owner | Role::Integration | Role::PlatformAdmin, _) => Stands::ForNoOne,
        };
        Ok(Self {
            org: principal.org(),
            stands,
            known,
        })
    }

    /// The member the token stands for, once [`Standing::check`] has passed.
    pub(super) fn member(&self) -> Option<MemberId> {
        match self.stands {
            Stands::For(member) => Some(member),
            Stands::ForNoOne | Stands::ForAnyoneNamed(_) => None,
        }
    }

    /// Checks, on a blocking thread, that the organization exists and the member is active.
    pub fn check(&self, db: &Db) -> Result<(), ApiError> {
        let Some(org) = self.org else {
            return Ok(());
        };
        let known = self.known.contains(org);
        if !known && !db.organizations().exists(org)? {
            // A validly signed token for a tenant that does not exist: nothing to act on.
            return Err(ApiError::not_found(
                "the token's organization does not exist",
            ));
        }
        if !known {
            self.known.insert(org);
        }
        let (member, required) = match self.stands {
            Stands::ForNoOne => return Ok(()),
            Stands::For(member) => (member, true),
            Stands::ForAnyoneNamed(member) => (member, false),
        };
        match db.members().is_active(org, member)? {
            Some(true) => Ok(()),
            Some(false) => Err(forbidden("the token's member has been deactivated")),
            None if required => Err(forbidden(
                "the token's subject is not a member of its organization",
            )),
            None => Ok(()),
        }
    }
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::Status(StatusCode::FORBIDDEN, detail.to_owned())
}
