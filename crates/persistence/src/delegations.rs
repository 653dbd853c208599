//! Grants of authority and what remains of them. A grant's use is kept per budget period in
//! `delegation_usage`, one row per grant and period, which decisions change with one conditional
//! statement (`decisions.rs`); reading a grant computes its current period in the organization's
//! zone and reads that row.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use circulo_domain::delegation::{
    Action, BudgetPeriod, Delegate, Delegation, DelegationFields, DelegationStatus, Period,
};
use circulo_domain::organization::{CurrencyCode, TimeZone};
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::reach::Reach;
use circulo_domain::timestamp::rfc3339_text;
use circulo_domain::version::Precondition;
use circulo_domain::{DelegationId, DomainError, MemberId, OrgId, TeamId};

use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::locks::{Keyed, lock_row};
use crate::members::check_active_member;
use crate::organizations;
use crate::rows::{
    Versioned, after_id, id_page, parse_id, parse_opt_id, revision, store_handles, update_versioned,
};
use crate::schema::{delegation_usage as u, delegations as d, members as m};
use crate::teams::team_exists;
use crate::time::{from_db, now, to_db};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(
    table_name = d,
    primary_key(org_id, id),
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub(crate) struct DelegationRow {
    org_id: String,
    id: String,
    delegator_member_id: Option<String>,
    delegate_member_id: Option<String>,
    delegate_team_id: Option<String>,
    action: String,
    currency: String,
    per_decision_limit_minor: i64,
    budget_minor: i64,
    budget_period: String,
    max_decisions_per_period: Option<i64>,
    valid_from: NaiveDateTime,
    valid_until: Option<NaiveDateTime>,
    rationale: String,
    revoked_at: Option<NaiveDateTime>,
    revoke_reason: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl DelegationRow {
    fn from_domain(org: OrgId, g: &Delegation) -> Self {
        Self {
            org_id: org.to_string(),
            id: g.id.to_string(),
            delegator_member_id: g.delegator_member_id.map(|id| id.to_string()),
            delegate_member_id: g.delegate.member().map(|id| id.to_string()),
            delegate_team_id: g.delegate.team().map(|id| id.to_string()),
            action: g.action.as_str().to_owned(),
            currency: g.currency.as_str().to_owned(),
            per_decision_limit_minor: g.per_decision_limit_minor,
            budget_minor: g.budget_minor,
            budget_period: g.budget_period.as_str().to_owned(),
            max_decisions_per_period: g.max_decisions_per_period,
            valid_from: to_db(g.valid_from),
            valid_until: g.valid_until.map(to_db),
            rationale: g.rationale.clone(),
            revoked_at: g.revoked.as_ref().map(|(at, _)| to_db(*at)),
            revoke_reason: g.revoked.as_ref().map(|(_, why)| why.clone()),
            version: g.revision.version,
            created_at: to_db(g.revision.created_at),
            updated_at: to_db(g.revision.updated_at),
        }
    }

    pub(crate) fn into_domain(self) -> StoreResult<Delegation> {
        let delegate = Delegate::parse(
            parse_opt_id("delegate", self.delegate_member_id.as_deref())?,
            parse_opt_id("delegate", self.delegate_team_id.as_deref())?,
        )
        .map_err(|_| corrupt("delegate", &self.id))?;
        Ok(Delegation {
            id: parse_id("delegation id", &self.id)?,
            delegator_member_id: parse_opt_id("delegator", self.delegator_member_id.as_deref())?,
            delegate,
            action: Action::parse("action", &self.action)
                .map_err(|_| corrupt("action", &self.action))?,
            currency: CurrencyCode::parse("currency", &self.currency)
                .map_err(|_| corrupt("currency", &self.currency))?,
            per_decision_limit_minor: self.per_decision_limit_minor,
            budget_minor: self.budget_minor,
            budget_period: BudgetPeriod::parse(&self.budget_period)
                .map_err(|_| corrupt("budget period", &self.budget_period))?,
            max_decisions_per_period: self.max_decisions_per_period,
            valid_from: from_db(self.valid_from),
            valid_until: self.valid_until.map(from_db),
            rationale: self.rationale,
            revoked: match (self.revoked_at, self.revoke_reason) {
                (Some(at), Some(why)) => Some((from_db(at), why)),
                _ => None,
            },
            revision: revision(self.version, self.created_at, self.updated_at),
        })
    }
}

/// A grant as read at an instant: where it stands and what its current period has used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationState {
    /// The grant.
    pub delegation: Delegation,
    /// Where it stands.
    pub status: DelegationStatus,
    /// The current budget period.
    pub period: Period,
    /// Spent in it.
    pub used_minor: i64,
    /// Left in it.
    pub remaining_minor: i64,
    /// Decisions made in it.
    pub decisions_in_period: i64,
}

struct DelegationsTable;

impl Versioned for DelegationsTable {
    type Entity = Delegation;
    type Id = DelegationId;

    fn lock(conn: &mut DbConn, org: OrgId, id: DelegationId) -> StoreResult<()> {
        lock_row(conn, Keyed::Delegations, org, &id.to_string())
    }

    fn find(conn: &mut DbConn, org: OrgId, id: DelegationId) -> StoreResult<Delegation> {
        find(conn, org, id)
    }

    fn version(g: &Delegation) -> i64 {
        g.revision.version
    }

    fn write(conn: &mut DbConn, org: OrgId, next: &Delegation, version: i64) -> StoreResult<usize> {
        Ok(diesel::update(
            d::table
                .filter(d::org_id.eq(org.to_string()))
                .filter(d::id.eq(next.id.to_string()))
                .filter(d::version.eq(version)),
        )
        .set(&DelegationRow::from_domain(org, next))
        .execute(conn)?)
    }
}

/// Which grants a list returns.
#[derive(Debug, Clone, Default)]
pub struct DelegationFilter {
    /// Only grants to this member.
    pub delegate_member_id: Option<MemberId>,
    /// Only grants to this team.
    pub delegate_team_id: Option<TeamId>,
    /// Only grants of this action.
    pub action: Option<Action>,
    /// Only grants standing so now.
    pub status: Option<DelegationStatus>,
}

store_handles!(delegations: Delegations, DelegationWrites);

impl Delegations<'_> {
    /// Reads a grant, as it stands now; within `reach` when given.
    pub fn get(
        &self,
        org: OrgId,
        id: DelegationId,
        reach: Option<&Reach>,
    ) -> StoreResult<DelegationState> {
        self.0.read(|conn| {
            let grant = find(conn, org, id)?;
            check_sees(reach, grant.delegate)?;
            Ok(states(conn, org, vec![grant])?.remove(0))
        })
    }

    /// Lists grants matching `filter`, oldest first; within `reach` when given.
    pub fn list(
        &self,
        org: OrgId,
        filter: DelegationFilter,
        reach: Option<&Reach>,
        page: PageRequest,
    ) -> StoreResult<Page<DelegationState>> {
        self.0.read(|conn| {
            let at = now();
            let mut query = d::table.filter(d::org_id.eq(org.to_string())).into_boxed();
            if let Some(reach) = reach {
                let members: Vec<String> = reach
                    .seen_members()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let teams: Vec<String> =
                    reach.seen_teams().iter().map(ToString::to_string).collect();
                query = query.filter(
                    d::delegate_member_id
                        .eq_any(members)
                        .or(d::delegate_team_id.eq_any(teams)),
                );
            }
            if let Some(member) = filter.delegate_member_id {
                query = query.filter(d::delegate_member_id.eq(member.to_string()));
            }
            if let Some(team) = filter.delegate_team_id {
                query = query.filter(d::delegate_team_id.eq(team.to_string()));
            }
            if let Some(action) = &filter.action {
                query = query.filter(d::action.eq(action.as_str().to_owned()));
            }
            let at_db = to_db(at);
            query = match filter.status {
                None => query,
                Some(DelegationStatus::Revoked) => query.filter(d::revoked_at.is_not_null()),
                Some(DelegationStatus::Scheduled) => query
                    .filter(d::revoked_at.is_null())
                    .filter(d::valid_from.gt(at_db)),
                Some(DelegationStatus::Expired) => query
                    .filter(d::revoked_at.is_null())
                    .filter(d::valid_until.le(at_db)),
                Some(DelegationStatus::Active) => query
                    .filter(d::revoked_at.is_null())
                    .filter(d::valid_from.le(at_db))
                    .filter(d::valid_until.is_null().or(d::valid_until.gt(at_db))),
            };
            let rows = after_id!(query, d::id, page)
                .select(DelegationRow::as_select())
                .load(conn)?;
            let grants = id_page(rows, page, DelegationRow::into_domain, |g| g.id.as_uuid())?;
            Ok(Page {
                items: states(conn, org, grants.items)?,
                next_after: grants.next_after,
            })
        })
    }

    /// The grants in force for `member` now (their own and their team's), optionally of one
    /// action, with what remains of each; within `reach` when given.
    pub fn authority(
        &self,
        org: OrgId,
        member: MemberId,
        action: Option<&Action>,
        reach: Option<&Reach>,
    ) -> StoreResult<Vec<DelegationState>> {
        self.0.read(|conn| {
            if let Some(reach) = reach
                && member != reach.member()
                && !reach.manages(member)
            {
                return Err(forbidden(
                    "you may read the authority of yourself and the people under you",
                ));
            }
            let (team, active) = member_standing(conn, org, member)?;
            if !active {
                return Err(StoreError::Rule(DomainError::invalid(
                    "member_id",
                    "this member has been deactivated: they may decide nothing",
                )));
            }
            let grants = in_force(conn, org, member, team, action, now())?;
            states(conn, org, grants)
        })
    }
}

impl DelegationWrites<'_, '_> {
    /// Grants authority. A manager grants only to the people under them and those people's
    /// teams; the delegate must be an active member or a team of `org`, and the currency the
    /// organization's.
    pub fn create(
        self,
        org: OrgId,
        fields: DelegationFields,
        delegator: Option<MemberId>,
        reach: Option<&Reach>,
    ) -> StoreResult<DelegationState> {
        let tx = self.0;
        if let Some(reach) = reach
            && !reach.may_grant_to(fields.delegate())
        {
            return Err(forbidden(
                "a manager grants authority only to the people under them and their teams",
            ));
        }
        if reach.is_none()
            && let Some(named) = delegator
        {
            check_named_delegator(tx.conn()?, org, named, fields.delegate())?;
        }
        check_delegate(tx.conn()?, org, fields.delegate())?;
        let organization = organizations::find(tx.conn()?, org)?;
        if fields.currency() != &organization.currency {
            return Err(StoreError::Rule(DomainError::invalid(
                "currency",
                format!(
                    "must be the organization's currency, {}",
                    organization.currency.as_str()
                ),
            )));
        }
        let grant = Delegation::granted(
            DelegationId::from_uuid(tx.new_uuid()),
            fields,
            delegator,
            tx.now(),
        )?;
        diesel::insert_into(d::table)
            .values(DelegationRow::from_domain(org, &grant))
            .execute(tx.conn()?)?;
        let state = states(tx.conn()?, org, vec![grant])?.remove(0);
        tx.record(
            org,
            "delegation.created",
            "delegation",
            &state.delegation.id.to_string(),
            &snapshot(&state),
        )?;
        Ok(state)
    }

    /// Revokes a grant for `reason`, announcing `delegation.revoked`.
    pub fn revoke(
        self,
        org: OrgId,
        id: DelegationId,
        expected: &Precondition,
        reason: String,
        reach: Option<&Reach>,
    ) -> StoreResult<DelegationState> {
        let tx = self.0;
        let (_, next) =
            update_versioned::<DelegationsTable>(tx, org, id, expected, |tx, current| {
                if let Some(reach) = reach
                    && !reach.may_grant_to(current.delegate)
                {
                    return Err(forbidden(
                        "a manager revokes only grants to the people under them and their teams",
                    ));
                }
                current
                    .revoked(reason, tx.now())
                    .map_err(|why| StoreError::Conflict(why.to_owned()))
            })?;
        let state = states(tx.conn()?, org, vec![next])?.remove(0);
        let data = snapshot(&state);
        tx.record(
            org,
            "delegation.revoked",
            "delegation",
            &id.to_string(),
            &data,
        )?;
        tx.emit(org, "delegation.revoked", &data)?;
        Ok(state)
    }
}

/// A grant's state as the audit log and events record it.
pub(crate) fn snapshot(state: &DelegationState) -> serde_json::Value {
    let g = &state.delegation;
    serde_json::json!({
        "id": g.id,
        "delegator_member_id": g.delegator_member_id,
        "delegate_member_id": g.delegate.member(),
        "delegate_team_id": g.delegate.team(),
        "action": g.action,
        "currency": g.currency,
        "per_decision_limit_minor": g.per_decision_limit_minor,
        "budget_minor": g.budget_minor,
        "budget_period": g.budget_period,
        "max_decisions_per_period": g.max_decisions_per_period,
        "valid_from": rfc3339_text(&g.valid_from),
        "valid_until": g.valid_until.as_ref().map(rfc3339_text),
        "rationale": g.rationale,
        "status": state.status,
        "revoke_reason": g.revoked.as_ref().map(|(_, why)| why),
        "used_minor": state.used_minor,
        "remaining_minor": state.remaining_minor,
        "period_start": rfc3339_text(&state.period.start),
        "decisions_in_period": state.decisions_in_period,
        "version": g.revision.version,
        "created_at": rfc3339_text(&g.revision.created_at),
    })
}

pub(crate) fn find(conn: &mut DbConn, org: OrgId, id: DelegationId) -> StoreResult<Delegation> {
    d::table
        .filter(d::org_id.eq(org.to_string()))
        .filter(d::id.eq(id.to_string()))
        .select(DelegationRow::as_select())
        .first(conn)?
        .into_domain()
}

/// The grants in force for `member` of `team` at `at` (own and team), optionally of one action:
/// own grants first, then the one expiring first.
pub(crate) fn in_force(
    conn: &mut DbConn,
    org: OrgId,
    member: MemberId,
    team: Option<TeamId>,
    action: Option<&Action>,
    at: DateTime<Utc>,
) -> StoreResult<Vec<Delegation>> {
    use diesel::IntoSql;
    use diesel::sql_types::Bool;
    // One fixed shape, so diesel prepares it once and never builds its SQL again: a member
    // without a team matches no team (no team id is empty), and no action asked matches any.
    let at_db = to_db(at);
    let team = team.map(|t| t.to_string()).unwrap_or_default();
    let (action, any_action) = match action {
        Some(action) => (action.as_str().to_owned(), false),
        None => (String::new(), true),
    };
    let mut grants = d::table
        .filter(d::org_id.eq(org.to_string()))
        .filter(d::revoked_at.is_null())
        .filter(d::valid_from.le(at_db))
        .filter(d::valid_until.is_null().or(d::valid_until.gt(at_db)))
        .filter(
            d::delegate_member_id
                .eq(member.to_string())
                .or(d::delegate_team_id.eq(team)),
        )
        .filter(d::action.eq(action).or(any_action.into_sql::<Bool>()))
        .select(DelegationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DelegationRow::into_domain)
        .collect::<StoreResult<Vec<_>>>()?;
    in_precedence(&mut grants);
    Ok(grants)
}

/// Orders grants as a decision picks them: member grants before team grants, then the one
/// expiring first (open-ended last), then by id so the choice is stable.
pub(crate) fn in_precedence(grants: &mut [Delegation]) {
    grants.sort_by_key(|g| {
        (
            g.delegate.member().is_none(),
            g.valid_until.is_none(),
            g.valid_until,
            g.id,
        )
    });
}

/// Each grant with what its current period has used: one query for all of them.
pub(crate) fn states(
    conn: &mut DbConn,
    org: OrgId,
    grants: Vec<Delegation>,
) -> StoreResult<Vec<DelegationState>> {
    let at = now();
    let zone = organizations::find(conn, org)?.timezone;
    let periods: Vec<Period> = grants.iter().map(|g| g.period_at(at, zone)).collect();
    let ids: Vec<String> = grants.iter().map(|g| g.id.to_string()).collect();
    let used: HashMap<(String, NaiveDateTime), (i64, i64)> = u::table
        .filter(u::org_id.eq(org.to_string()))
        .filter(u::delegation_id.eq_any(ids))
        .select((
            u::delegation_id,
            u::period_start,
            u::used_minor,
            u::decisions,
        ))
        .load::<(String, NaiveDateTime, i64, i64)>(conn)?
        .into_iter()
        .map(|(id, start, used, decisions)| ((id, start), (used, decisions)))
        .collect();
    Ok(grants
        .into_iter()
        .zip(periods)
        .map(|(g, period)| {
            let (used_minor, decisions) = used
                .get(&(g.id.to_string(), to_db(period.start)))
                .copied()
                .unwrap_or((0, 0));
            DelegationState {
                status: g.status_at(at),
                remaining_minor: g.budget_minor - used_minor,
                used_minor,
                decisions_in_period: decisions,
                period,
                delegation: g,
            }
        })
        .collect())
}

/// The zone periods are counted in.
pub(crate) fn zone(conn: &mut DbConn, org: OrgId) -> StoreResult<TimeZone> {
    Ok(organizations::find(conn, org)?.timezone)
}

/// The team of a member of `org` and whether they are active (`NotFound` when there is no such
/// member).
fn member_standing(
    conn: &mut DbConn,
    org: OrgId,
    member: MemberId,
) -> StoreResult<(Option<TeamId>, bool)> {
    let (team, active): (Option<String>, bool) = m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(member.to_string()))
        .select((m::team_id, m::active))
        .first(conn)?;
    Ok((parse_opt_id("team id", team.as_deref())?, active))
}

fn check_sees(reach: Option<&Reach>, delegate: Delegate) -> StoreResult<()> {
    match (reach, delegate) {
        (None, _) => Ok(()),
        (Some(reach), Delegate::Member(member))
            if member == reach.member() || reach.manages(member) =>
        {
            Ok(())
        }
        (Some(reach), Delegate::Team(team)) if reach.seen_teams().contains(&team) => Ok(()),
        _ => Err(forbidden(
            "you may read grants to yourself, your team and the people under you",
        )),
    }
}

fn check_delegate(conn: &mut DbConn, org: OrgId, delegate: Delegate) -> StoreResult<()> {
    let invalid =
        |field: &str, message: &str| Err(StoreError::Rule(DomainError::invalid(field, message)));
    match delegate {
        Delegate::Member(member) => check_active_member(conn, org, member, "delegate_member_id"),
        Delegate::Team(team) if team_exists(conn, org, team)? => Ok(()),
        Delegate::Team(_) => invalid(
            "delegate_team_id",
            "no team with this id in the organization",
        ),
    }
}

/// A delegator an owner named must be an active member who may grant to `delegate`: an owner,
/// or someone above them.
fn check_named_delegator(
    conn: &mut DbConn,
    org: OrgId,
    delegator: MemberId,
    delegate: Delegate,
) -> StoreResult<()> {
    let named: Option<(String, bool)> = m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(delegator.to_string()))
        .select((m::role, m::active))
        .first(conn)
        .optional()?;
    let invalid = |message: &str| {
        Err(StoreError::Rule(DomainError::invalid(
            "delegator_member_id",
            message,
        )))
    };
    match named {
        None => invalid("no member with this id in the organization"),
        Some((_, false)) => invalid("this member has been deactivated"),
        Some((role, true)) if role == "owner" => Ok(()),
        Some(_) => {
            if crate::hierarchy::reach(conn, org, delegator)?.may_grant_to(delegate) {
                Ok(())
            } else {
                invalid("the delegator may only grant to the people under them and their teams")
            }
        }
    }
}

fn forbidden(reason: &'static str) -> StoreError {
    StoreError::Rule(DomainError::Forbidden(reason))
}
