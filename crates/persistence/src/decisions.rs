//! Decisions and escalations. Deciding is the counter's hot path. It reads the member, the grants
//! in force for them and the organization (zone, currency, response target) in one statement,
//! then counts the decision against the first covering grant with one conditional upsert
//! (`budget::ConsumeBudget`: the period's total may never pass the budget, whatever runs beside
//! it) that also writes the decision and its audit entry (`approval`). When no grant covers it,
//! one transaction writes the decision, the escalation, its audit entry and its event.

mod approval;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use circulo_domain::decision::{Decision, DecisionFields, Escalation, Outcome, Resolution};
use circulo_domain::delegation::{Action, Delegation};
use circulo_domain::feedback::Touchpoint;
use circulo_domain::organization::{CurrencyCode, Organization};
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::reach::Reach;
use circulo_domain::{DecisionId, DomainError, EscalationId, MemberId, OrgId, TeamId};

use crate::budget::ConsumeBudget;
use crate::conn::DbConn;
use crate::delegations::{self, DelegationRow, in_precedence};
use crate::error::{StoreError, StoreResult, corrupt};
use crate::locks::{Keyed, lock_row};
use crate::members::member_active;
use crate::organizations::OrganizationRow;
use crate::rows::{after_id, id_page, parse_id, parse_opt_id, store_handles};
use crate::schema::{
    decisions as dc, delegation_usage as u, delegations as d, escalations as e, members as m,
    organizations as o, teams as t,
};
use crate::time::{from_db, to_db};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = dc, treat_none_as_default_value = false)]
struct DecisionRow {
    org_id: String,
    id: String,
    member_id: String,
    team_id: Option<String>,
    action: String,
    amount_minor: i64,
    currency: String,
    client_ref: String,
    touchpoint: String,
    note: Option<String>,
    outcome: String,
    delegation_id: Option<String>,
    period_start: Option<NaiveDateTime>,
    escalation_id: Option<String>,
    voided_at: Option<NaiveDateTime>,
    void_reason: Option<String>,
    recorded_by_role: String,
    recorded_by_subject: Option<String>,
    created_at: NaiveDateTime,
}

impl DecisionRow {
    /// The row of `d`, recorded by `by`.
    fn new(org: OrgId, d: &Decision, by: &circulo_domain::audit::Actor) -> Self {
        Self {
            org_id: org.to_string(),
            id: d.id.to_string(),
            member_id: d.member_id.to_string(),
            team_id: d.team_id.map(|t| t.to_string()),
            action: d.action.as_str().to_owned(),
            amount_minor: d.amount_minor,
            currency: d.currency.as_str().to_owned(),
            client_ref: d.client_ref.clone(),
            touchpoint: d.touchpoint.as_str().to_owned(),
            note: d.note.clone(),
            outcome: d.outcome.as_str().to_owned(),
            delegation_id: d.delegation_id.map(|g| g.to_string()),
            period_start: d.period_start.map(to_db),
            escalation_id: d.escalation_id.map(|x| x.to_string()),
            voided_at: None,
            void_reason: None,
            recorded_by_role: by.role.clone(),
            recorded_by_subject: by.subject.clone(),
            created_at: to_db(d.created_at),
        }
    }

    fn into_domain(self) -> StoreResult<Decision> {
        Ok(Decision {
            id: parse_id("decision id", &self.id)?,
            member_id: parse_id("member id", &self.member_id)?,
            team_id: parse_opt_id("team id", self.team_id.as_deref())?,
            action: Action::parse("action", &self.action)
                .map_err(|_| corrupt("action", &self.action))?,
            amount_minor: self.amount_minor,
            currency: CurrencyCode::parse("currency", &self.currency)
                .map_err(|_| corrupt("currency", &self.currency))?,
            client_ref: self.client_ref,
            touchpoint: Touchpoint::parse(&self.touchpoint)
                .map_err(|_| corrupt("touchpoint", &self.touchpoint))?,
            note: self.note,
            outcome: Outcome::parse(&self.outcome)
                .map_err(|_| corrupt("outcome", &self.outcome))?,
            delegation_id: parse_opt_id("delegation id", self.delegation_id.as_deref())?,
            period_start: self.period_start.map(from_db),
            escalation_id: parse_opt_id("escalation id", self.escalation_id.as_deref())?,
            voided: match (self.voided_at, self.void_reason) {
                (Some(at), Some(why)) => Some((from_db(at), why)),
                _ => None,
            },
            created_at: from_db(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = e, treat_none_as_default_value = false)]
struct EscalationRow {
    org_id: String,
    id: String,
    decision_id: String,
    member_id: String,
    assignee_member_id: Option<String>,
    resolution: Option<String>,
    note: Option<String>,
    response_due_at: NaiveDateTime,
    responded_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl EscalationRow {
    fn into_domain(self) -> StoreResult<Escalation> {
        Ok(Escalation {
            id: parse_id("escalation id", &self.id)?,
            decision_id: parse_id("decision id", &self.decision_id)?,
            member_id: parse_id("member id", &self.member_id)?,
            assignee_member_id: parse_opt_id("assignee", self.assignee_member_id.as_deref())?,
            resolution: self
                .resolution
                .map(|r| Resolution::parse(&r).map_err(|_| corrupt("resolution", &r)))
                .transpose()?,
            note: self.note,
            response_due_at: from_db(self.response_due_at),
            responded_at: self.responded_at.map(from_db),
            created_at: from_db(self.created_at),
        })
    }
}

/// A decision just recorded: what the counter needs to know.
#[derive(Debug, Clone)]
pub struct Decided {
    /// The decision.
    pub decision: Decision,
    /// What remains of the grant that covered it, in its period.
    pub remaining_minor: Option<i64>,
    /// The escalation it raised.
    pub escalation: Option<Escalation>,
}

/// Which decisions a list returns.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// Only this member's.
    pub member_id: Option<MemberId>,
    /// Only those made in this team.
    pub team_id: Option<TeamId>,
    /// Only of this action.
    pub action: Option<Action>,
    /// Only with this outcome.
    pub outcome: Option<Outcome>,
    /// Made at or after.
    pub from: Option<DateTime<Utc>>,
    /// Made before.
    pub to: Option<DateTime<Utc>>,
}

/// Which escalations a list returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct EscalationFilter {
    /// Only those assigned to this member.
    pub assignee_member_id: Option<MemberId>,
    /// Only open (`Some(true)`) or only resolved ones.
    pub open: Option<bool>,
    /// Only overdue (or only timely) ones, as of now.
    pub overdue: Option<bool>,
}

store_handles!(decisions: Decisions, DecisionWrites);

impl Decisions<'_> {
    /// Reads a decision; within `reach` when given.
    pub fn get(&self, org: OrgId, id: DecisionId, reach: Option<&Reach>) -> StoreResult<Decision> {
        self.0.read(|conn| {
            let decision = find(conn, org, id)?;
            check_acts_for(reach, decision.member_id)?;
            Ok(decision)
        })
    }

    /// Lists decisions matching `filter`, oldest first; within `reach` when given.
    pub fn list(
        &self,
        org: OrgId,
        filter: DecisionFilter,
        reach: Option<&Reach>,
        page: PageRequest,
    ) -> StoreResult<Page<Decision>> {
        self.0.read(|conn| {
            let mut query = dc::table
                .filter(dc::org_id.eq(org.to_string()))
                .into_boxed();
            if let Some(reach) = reach {
                let seen: Vec<String> = reach
                    .seen_members()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                query = query.filter(dc::member_id.eq_any(seen));
            }
            if let Some(member) = filter.member_id {
                query = query.filter(dc::member_id.eq(member.to_string()));
            }
            if let Some(team) = filter.team_id {
                query = query.filter(dc::team_id.eq(team.to_string()));
            }
            if let Some(action) = &filter.action {
                query = query.filter(dc::action.eq(action.as_str().to_owned()));
            }
            if let Some(outcome) = filter.outcome {
                query = query.filter(dc::outcome.eq(outcome.as_str()));
            }
            if let Some(from) = filter.from {
                query = query.filter(dc::created_at.ge(to_db(from)));
            }
            if let Some(to) = filter.to {
                query = query.filter(dc::created_at.lt(to_db(to)));
            }
            let rows = after_id!(query, dc::id, page)
                .select(DecisionRow::as_select())
                .load(conn)?;
            id_page(rows, page, DecisionRow::into_domain, |d| d.id.as_uuid())
        })
    }

    /// Reads an escalation; within `reach` when given (theirs, assigned to them, or about the
    /// people under them).
    pub fn escalation(
        &self,
        org: OrgId,
        id: EscalationId,
        reach: Option<&Reach>,
    ) -> StoreResult<Escalation> {
        self.0.read(|conn| {
            let escalation = find_escalation(conn, org, id)?;
            check_sees_escalation(reach, &escalation)?;
            Ok(escalation)
        })
    }

    /// Lists escalations matching `filter`, oldest first; within `reach` when given.
    pub fn escalations(
        &self,
        org: OrgId,
        filter: EscalationFilter,
        reach: Option<&Reach>,
        page: PageRequest,
    ) -> StoreResult<Page<Escalation>> {
        self.0.read(|conn| {
            let at = to_db(crate::time::now());
            let mut query = e::table.filter(e::org_id.eq(org.to_string())).into_boxed();
            if let Some(reach) = reach {
                let seen: Vec<String> = reach
                    .seen_members()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                query = query.filter(
                    e::member_id
                        .eq_any(seen)
                        .or(e::assignee_member_id.eq(reach.member().to_string())),
                );
            }
            if let Some(assignee) = filter.assignee_member_id {
                query = query.filter(e::assignee_member_id.eq(assignee.to_string()));
            }
            query = match filter.open {
                Some(true) => query.filter(e::resolution.is_null()),
                Some(false) => query.filter(e::resolution.is_not_null()),
                None => query,
            };
            query = match filter.overdue {
                Some(true) => query.filter(
                    e::responded_at
                        .gt(e::response_due_at.nullable())
                        .or(e::responded_at.is_null().and(e::response_due_at.lt(at))),
                ),
                Some(false) => query.filter(
                    e::responded_at
                        .le(e::response_due_at.nullable())
                        .or(e::responded_at.is_null().and(e::response_due_at.ge(at))),
                ),
                None => query,
            };
            let rows = after_id!(query, e::id, page)
                .select(EscalationRow::as_select())
                .load(conn)?;
            id_page(rows, page, EscalationRow::into_domain, |x| x.id.as_uuid())
        })
    }
}

impl DecisionWrites<'_, '_> {
    /// Records a decision by (or for) an active member: approved against the first grant that
    /// covers it, whose budget it consumes atomically, or escalated to their manager (else their
    /// team's lead, else an owner), announcing `decision.escalated`.
    pub fn decide(
        self,
        org: OrgId,
        fields: DecisionFields,
        reach: Option<&Reach>,
    ) -> StoreResult<Decided> {
        let tx = self.0;
        check_acts_for(reach, fields.member_id)?;
        let at = tx.now();
        let Counter {
            team,
            manager,
            organization,
            grants,
        } = counter(tx.read_conn()?, org, fields.member_id, &fields.action, at)?;
        if fields.currency != organization.currency {
            return Err(StoreError::Rule(DomainError::invalid(
                "currency",
                format!(
                    "must be the organization's currency, {}",
                    organization.currency.as_str()
                ),
            )));
        }
        let id = DecisionId::from_uuid(tx.new_uuid());
        let actor = tx.context().actor().clone();
        let mut decision = Decision {
            id,
            member_id: fields.member_id,
            team_id: team,
            action: fields.action,
            amount_minor: fields.amount_minor,
            currency: fields.currency,
            client_ref: fields.client_ref,
            touchpoint: fields.touchpoint,
            note: fields.note,
            outcome: Outcome::Approved,
            delegation_id: None,
            period_start: None,
            escalation_id: None,
            voided: None,
            created_at: at,
        };
        let mut remaining_minor = None;
        for grant in grants.iter().filter(|g| {
            g.currency == decision.currency && g.per_decision_limit_minor >= decision.amount_minor
        }) {
            let period = grant.period_at(at, organization.timezone);
            decision.delegation_id = Some(grant.id);
            decision.period_start = Some(period.start);
            let budget = ConsumeBudget {
                org_id: org.to_string(),
                delegation_id: grant.id.to_string(),
                period_start: to_db(period.start),
                amount_minor: decision.amount_minor,
                budget_minor: grant.budget_minor,
                count_limit: grant.max_decisions_per_period,
            };
            let row = DecisionRow::new(org, &decision, &actor);
            let audit = tx.audit_entry(
                org,
                "decision.approved",
                "decision",
                &row.id,
                &serde_json::json!({ "decision": &decision, "escalation": null }),
            )?;
            if let Some(used) =
                tx.sole_statement(|conn| approval::approve(conn, &budget, &row, &audit))?
            {
                remaining_minor = Some(grant.budget_minor - used);
                break;
            }
        }
        if remaining_minor.is_some() {
            return Ok(Decided {
                decision,
                remaining_minor,
                escalation: None,
            });
        }
        decision.delegation_id = None;
        decision.period_start = None;
        let assignee = assignee_for(tx.conn()?, org, manager, team)?;
        let escalation = Escalation {
            id: EscalationId::from_uuid(tx.new_uuid()),
            decision_id: id,
            member_id: decision.member_id,
            assignee_member_id: assignee,
            resolution: None,
            note: None,
            response_due_at: Escalation::due(
                at,
                organization.settings.escalation_response_target_minutes,
            ),
            responded_at: None,
            created_at: at,
        };
        decision.outcome = Outcome::Escalated;
        decision.escalation_id = Some(escalation.id);
        diesel::insert_into(dc::table)
            .values(DecisionRow::new(org, &decision, &actor))
            .execute(tx.conn()?)?;
        insert_escalation(tx.conn()?, org, &escalation)?;
        let data = serde_json::json!({
            "decision": shown(&decision)?,
            "escalation": shown_escalation(&escalation, tx.now())?,
        });
        tx.record(
            org,
            "decision.escalated",
            "decision",
            &id.to_string(),
            &data,
        )?;
        tx.emit(org, "decision.escalated", &data)?;
        let escalation = Some(escalation);
        Ok(Decided {
            decision,
            remaining_minor: None,
            escalation,
        })
    }

    /// Voids a decision for `reason` (one made in error, or a request the client withdrew),
    /// giving an approved amount back to its grant while the period it was counted in is open;
    /// a decision is voided once.
    pub fn void(
        self,
        org: OrgId,
        id: DecisionId,
        reason: String,
        reach: Option<&Reach>,
    ) -> StoreResult<Decision> {
        let tx = self.0;
        lock_row(tx.conn()?, Keyed::Decisions, org, &id.to_string())?;
        let mut decision = find(tx.conn()?, org, id)?;
        check_acts_for(reach, decision.member_id)?;
        if decision.voided.is_some() {
            return Err(StoreError::Conflict(
                "the decision is already voided".into(),
            ));
        }
        let at = tx.now();
        if let (Some(grant), Some(start)) = (decision.delegation_id, decision.period_start) {
            let grant = delegations::find(tx.conn()?, org, grant)?;
            let zone = delegations::zone(tx.conn()?, org)?;
            let open = grant.period_at(at, zone).start == start;
            if open {
                diesel::update(
                    u::table
                        .filter(u::org_id.eq(org.to_string()))
                        .filter(u::delegation_id.eq(grant.id.to_string()))
                        .filter(u::period_start.eq(to_db(start))),
                )
                .set((
                    u::used_minor.eq(u::used_minor - decision.amount_minor),
                    u::decisions.eq(u::decisions - 1),
                ))
                .execute(tx.conn()?)?;
            }
        }
        diesel::update(
            dc::table
                .filter(dc::org_id.eq(org.to_string()))
                .filter(dc::id.eq(id.to_string())),
        )
        .set((
            dc::voided_at.eq(Some(to_db(at))),
            dc::void_reason.eq(Some(reason.clone())),
        ))
        .execute(tx.conn()?)?;
        decision.voided = Some((at, reason.clone()));
        tx.record(
            org,
            "decision.voided",
            "decision",
            &id.to_string(),
            &serde_json::json!({ "decision": &decision, "reason": reason }),
        )?;
        Ok(decision)
    }

    /// Answers an escalation, by its assignee or an owner (`reach` is `None` for an owner);
    /// sets its decision to `approved_by_manager` or `rejected` and announces
    /// `escalation.resolved`. An escalation is answered once.
    pub fn resolve(
        self,
        org: OrgId,
        id: EscalationId,
        resolution: Resolution,
        note: Option<String>,
        reach: Option<&Reach>,
    ) -> StoreResult<(Escalation, Decision)> {
        let tx = self.0;
        lock_row(tx.conn()?, Keyed::Escalations, org, &id.to_string())?;
        let mut escalation = find_escalation(tx.conn()?, org, id)?;
        if let Some(reach) = reach
            && escalation.assignee_member_id != Some(reach.member())
        {
            return Err(StoreError::Rule(DomainError::Forbidden(
                "an escalation is answered by its assignee or an owner",
            )));
        }
        if escalation.resolution.is_some() {
            return Err(StoreError::Conflict(
                "the escalation is already resolved".into(),
            ));
        }
        if find(tx.conn()?, org, escalation.decision_id)?
            .voided
            .is_some()
        {
            return Err(StoreError::Conflict("its decision was voided".into()));
        }
        let at = tx.now();
        escalation.resolution = Some(resolution);
        escalation.note = note;
        escalation.responded_at = Some(at);
        diesel::update(
            e::table
                .filter(e::org_id.eq(org.to_string()))
                .filter(e::id.eq(id.to_string())),
        )
        .set((
            e::resolution.eq(Some(resolution.as_str())),
            e::note.eq(escalation.note.clone()),
            e::responded_at.eq(Some(to_db(at))),
        ))
        .execute(tx.conn()?)?;
        let outcome = match resolution {
            Resolution::Approved => Outcome::ApprovedByManager,
            Resolution::Rejected => Outcome::Rejected,
        };
        diesel::update(
            dc::table
                .filter(dc::org_id.eq(org.to_string()))
                .filter(dc::id.eq(escalation.decision_id.to_string())),
        )
        .set(dc::outcome.eq(outcome.as_str()))
        .execute(tx.conn()?)?;
        let mut decision = find(tx.conn()?, org, escalation.decision_id)?;
        decision.outcome = outcome;
        let data = serde_json::json!({
            "escalation": shown_escalation(&escalation, tx.now())?,
            "decision": shown(&decision)?,
        });
        tx.record(
            org,
            "escalation.resolved",
            "escalation",
            &id.to_string(),
            &data,
        )?;
        tx.emit(org, "escalation.resolved", &data)?;
        Ok((escalation, decision))
    }
}

fn find(conn: &mut DbConn, org: OrgId, id: DecisionId) -> StoreResult<Decision> {
    dc::table
        .filter(dc::org_id.eq(org.to_string()))
        .filter(dc::id.eq(id.to_string()))
        .select(DecisionRow::as_select())
        .first(conn)?
        .into_domain()
}

fn find_escalation(conn: &mut DbConn, org: OrgId, id: EscalationId) -> StoreResult<Escalation> {
    e::table
        .filter(e::org_id.eq(org.to_string()))
        .filter(e::id.eq(id.to_string()))
        .select(EscalationRow::as_select())
        .first(conn)?
        .into_domain()
}

fn insert_escalation(conn: &mut DbConn, org: OrgId, x: &Escalation) -> StoreResult<()> {
    diesel::insert_into(e::table)
        .values(EscalationRow {
            org_id: org.to_string(),
            id: x.id.to_string(),
            decision_id: x.decision_id.to_string(),
            member_id: x.member_id.to_string(),
            assignee_member_id: x.assignee_member_id.map(|a| a.to_string()),
            resolution: None,
            note: None,
            response_due_at: to_db(x.response_due_at),
            responded_at: None,
            created_at: to_db(x.created_at),
        })
        .execute(conn)?;
    Ok(())
}

/// What deciding for a member needs to know, read in one statement: their team and manager,
/// their organization, and the grants in force for them and the action, in precedence order.
struct Counter {
    team: Option<TeamId>,
    manager: Option<MemberId>,
    organization: Organization,
    grants: Vec<Delegation>,
}

/// Reads the [`Counter`] for `member`, who must be an active member of `org`: the member joined
/// with their organization and, left-joined, the grants in force at `at` for the member or their
/// team and `action` (one row per grant, or one row without a grant). One fixed-shape query, so
/// diesel prepares it once.
fn counter(
    conn: &mut DbConn,
    org: OrgId,
    member: MemberId,
    action: &Action,
    at: DateTime<Utc>,
) -> StoreResult<Counter> {
    let at_db = to_db(at);
    let in_force = d::org_id
        .eq(m::org_id)
        .and(d::action.eq(action.as_str()))
        .and(d::revoked_at.is_null())
        .and(d::valid_from.le(at_db))
        .and(d::valid_until.is_null().or(d::valid_until.gt(at_db)))
        .and(
            d::delegate_member_id
                .eq(m::id.nullable())
                .or(d::delegate_team_id.eq(m::team_id)),
        );
    let rows: Vec<CounterRow> = m::table
        .inner_join(o::table.on(o::org_id.eq(m::org_id)))
        .left_join(d::table.on(in_force))
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(member.to_string()))
        .select((
            m::team_id,
            m::manager_id,
            m::active,
            OrganizationRow::as_select(),
            Option::<DelegationRow>::as_select(),
        ))
        .load(conn)?;
    let invalid = |message: &str| StoreError::Rule(DomainError::invalid("member_id", message));
    let mut rows = rows.into_iter();
    let Some((team, manager, active, organization, first)) = rows.next() else {
        return Err(invalid("no member with this id in the organization"));
    };
    if !active {
        return Err(invalid("this member has been deactivated"));
    }
    let mut grants = first
        .into_iter()
        .chain(rows.filter_map(|(_, _, _, _, grant)| grant))
        .map(DelegationRow::into_domain)
        .collect::<StoreResult<Vec<_>>>()?;
    in_precedence(&mut grants);
    Ok(Counter {
        team: parse_opt_id("team id", team.as_deref())?,
        manager: parse_opt_id("manager id", manager.as_deref())?,
        organization: organization.into_domain()?,
        grants,
    })
}

type CounterRow = (
    Option<String>,
    Option<String>,
    bool,
    OrganizationRow,
    Option<DelegationRow>,
);

/// Who answers an escalation: the member's manager, else their team's lead, else the first
/// owner on the staff (when there is none, owners' tokens answer it).
fn assignee_for(
    conn: &mut DbConn,
    org: OrgId,
    manager: Option<MemberId>,
    team: Option<TeamId>,
) -> StoreResult<Option<MemberId>> {
    let active = |conn: &mut DbConn, id: MemberId| -> StoreResult<bool> {
        Ok(member_active(conn, org, id)?.unwrap_or(false))
    };
    if let Some(manager) = manager
        && active(conn, manager)?
    {
        return Ok(Some(manager));
    }
    if let Some(team) = team {
        let lead: Option<Option<String>> = t::table
            .filter(t::org_id.eq(org.to_string()))
            .filter(t::id.eq(team.to_string()))
            .select(t::lead_member_id)
            .first(conn)
            .optional()?;
        if let Some(lead) = parse_opt_id::<MemberId>("lead", lead.flatten().as_deref())?
            && active(conn, lead)?
        {
            return Ok(Some(lead));
        }
    }
    let owner: Option<String> = m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::role.eq("owner"))
        .filter(m::active.eq(true))
        .order(m::id.asc())
        .select(m::id)
        .first(conn)
        .optional()?;
    parse_opt_id("owner id", owner.as_deref())
}

/// A manager acts for themselves and the people under them, a staff member for themselves.
fn check_acts_for(reach: Option<&Reach>, member: MemberId) -> StoreResult<()> {
    match reach {
        Some(reach) if member != reach.member() && !reach.manages(member) => {
            Err(StoreError::Rule(DomainError::Forbidden(
                "staff decide as themselves, managers for themselves and the people under them",
            )))
        }
        _ => Ok(()),
    }
}

fn check_sees_escalation(reach: Option<&Reach>, x: &Escalation) -> StoreResult<()> {
    match reach {
        Some(reach)
            if x.assignee_member_id != Some(reach.member())
                && x.member_id != reach.member()
                && !reach.manages(x.member_id) =>
        {
            Err(StoreError::Rule(DomainError::Forbidden(
                "you may read escalations you raised, are assigned, or of the people under you",
            )))
        }
        _ => Ok(()),
    }
}

/// A decision as the API shows it, for its events and audit entries: with whether it was voided.
fn shown(decision: &Decision) -> StoreResult<serde_json::Value> {
    let mut value =
        serde_json::to_value(decision).map_err(|e| corrupt("decision", &e.to_string()))?;
    value["voided"] = decision.voided.is_some().into();
    value["void_reason"] = decision.voided.as_ref().map(|(_, why)| why.clone()).into();
    Ok(value)
}

/// An escalation as the API shows it at `now`: with its status, response time and whether it
/// is overdue.
fn shown_escalation(escalation: &Escalation, now: DateTime<Utc>) -> StoreResult<serde_json::Value> {
    let mut value =
        serde_json::to_value(escalation).map_err(|e| corrupt("escalation", &e.to_string()))?;
    value["status"] = escalation.status().into();
    value["response_seconds"] = escalation.response_seconds().into();
    value["overdue"] = escalation.overdue_at(now).into();
    Ok(value)
}
