//! Whether a verified token may act: its organization must exist (once seen, remembered: an
//! organization is never deleted), and the member it stands for must exist and be active (never
//! remembered: another replica may deactivate them at any moment).

use circulo_domain::principal::{Principal, Role};
use circulo_domain::{MemberId, OrgId};
use circulo_persistence::StoreResult;

use crate::error::ApiError;
use crate::state::{AppState, blocking};

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

enum Standing {
    NoOrganization,
    NoMember,
    Deactivated,
    Member(Option<MemberId>),
}

/// The active member `principal` is, after checking the organization and the member exist.
pub(super) async fn member_of(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<MemberId>, ApiError> {
    let Some(org) = principal.org else {
        return Ok(None);
    };
    let stands = stands_for(principal)?;
    let org_known = state.known_orgs.contains(org);
    if org_known && matches!(stands, Stands::ForNoOne) {
        return Ok(None);
    }
    let standing = blocking(state, move |db| check(db, org, org_known, stands)).await?;
    match standing {
        Standing::Member(member) => {
            state.known_orgs.insert(org);
            Ok(member)
        }
        // A validly signed token for a tenant that does not exist: nothing to act on.
        Standing::NoOrganization => Err(ApiError::not_found(
            "the token's organization does not exist",
        )),
        Standing::NoMember => Err(forbidden(
            "the token's subject is not a member of its organization",
        )),
        Standing::Deactivated => Err(forbidden("the token's member has been deactivated")),
    }
}

fn stands_for(principal: &Principal) -> Result<Stands, ApiError> {
    let named = principal.subject.parse::<MemberId>().ok();
    match (principal.role, named) {
        (Role::Manager | Role::Staff, Some(member)) => Ok(Stands::For(member)),
        (Role::Manager | Role::Staff, None) => Err(forbidden(
            "a manager or staff token's subject must be the id of a member",
        )),
        (Role::Owner, Some(member)) => Ok(Stands::ForAnyoneNamed(member)),
        (Role::Owner | Role::Integration | Role::PlatformAdmin, _) => Ok(Stands::ForNoOne),
    }
}

fn check(
    db: &circulo_persistence::Db,
    org: OrgId,
    org_known: bool,
    stands: Stands,
) -> StoreResult<Standing> {
    if !org_known && !db.organizations().exists(org)? {
        return Ok(Standing::NoOrganization);
    }
    let (member, required) = match stands {
        Stands::ForNoOne => return Ok(Standing::Member(None)),
        Stands::For(member) => (member, true),
        Stands::ForAnyoneNamed(member) => (member, false),
    };
    Ok(match db.members().is_active(org, member)? {
        Some(true) => Standing::Member(Some(member)),
        Some(false) => Standing::Deactivated,
        None if required => Standing::NoMember,
        None => Standing::Member(None),
    })
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::Status(actix_web::http::StatusCode::FORBIDDEN, detail.to_owned())
}
