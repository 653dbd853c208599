//! Goals and their check-ins. Shaped like the team store; what is particular to goals: each read
//! carries the organization's date (an active goal past due reads as missed, and the status
//! filter agrees) and the owner's strengths (`uses_owner_strengths`), a manager's or staff
//! member's [`Reach`] narrows what they read and change, and a check-in that reaches the target
//! achieves the goal and writes `goal.achieved` to the outbox in the same transaction.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use circulo_domain::audit::Actor;
use circulo_domain::goal::{
    CheckIn, CheckInFields, Direction, Goal, GoalFields, GoalKind, GoalOwner, GoalPatch,
    GoalReading, GoalStatus, Metric, Settled,
};
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::reach::Reach;
use circulo_domain::version::Precondition;
use circulo_domain::{CheckInId, DomainError, GoalId, OrgId};

use crate::conn::DbConn;
use crate::dialect::GOAL_ABOVE;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::locks::{Keyed, lock_row};
use crate::members::check_active_member;
use crate::organizations;
use crate::rows::{
    Versioned, after_id, id_page, parse_id, parse_opt_id, revision, snapshot, store_handles,
    update_versioned,
};
use crate::schema::{goal_check_ins as c, goals as g, members as m};
use crate::teams::team_exists;
use crate::time::{from_db, now, to_db};
use crate::tx::WriteTx;

// `treat_none_as_default_value = false`: a `None` binds NULL instead of writing DEFAULT, so the
// INSERT's SQL is the same every time and diesel keeps it prepared.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(
    table_name = g,
    primary_key(org_id, id),
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
struct GoalRow {
    org_id: String,
    id: String,
    title: String,
    description: Option<String>,
    kind: String,
    owner_member_id: Option<String>,
    owner_team_id: Option<String>,
    parent_goal_id: Option<String>,
    metric_name: String,
    metric_unit: String,
    metric_baseline: f64,
    metric_target: f64,
    metric_direction: String,
    start_date: NaiveDate,
    due_date: NaiveDate,
    status: String,
    strengths: String,
    current_value: Option<f64>,
    current_recorded_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl GoalRow {
    fn from_domain(org: OrgId, goal: &Goal) -> StoreResult<Self> {
        Ok(Self {
            org_id: org.to_string(),
            id: goal.id.to_string(),
            title: goal.title.clone(),
            description: goal.description.clone(),
            kind: goal.kind.as_str().to_owned(),
            owner_member_id: goal.owner.member().map(|id| id.to_string()),
            owner_team_id: goal.owner.team().map(|id| id.to_string()),
            parent_goal_id: goal.parent_goal_id.map(|id| id.to_string()),
            metric_name: goal.metric.name.clone(),
            metric_unit: goal.metric.unit.clone(),
            metric_baseline: goal.metric.baseline,
            metric_target: goal.metric.target,
            metric_direction: goal.metric.direction.as_str().to_owned(),
            start_date: goal.start_date,
            due_date: goal.due_date,
            status: goal.stored_status.as_str().to_owned(),
            strengths: snapshot(&goal.strengths)?,
            current_value: goal.current_value,
            current_recorded_at: goal.current_recorded_at.map(to_db),
            version: goal.revision.version,
            created_at: to_db(goal.revision.created_at),
            updated_at: to_db(goal.revision.updated_at),
        })
    }

    fn into_domain(self) -> StoreResult<Goal> {
        let owner = GoalOwner::parse(
            parse_opt_id("goal owner", self.owner_member_id.as_deref())?,
            parse_opt_id("goal owner", self.owner_team_id.as_deref())?,
        )
        .map_err(|_| corrupt("goal owner", &self.id))?;
        Ok(Goal {
            id: parse_id("goal id", &self.id)?,
            kind: GoalKind::parse(&self.kind).map_err(|_| corrupt("goal kind", &self.kind))?,
            owner,
            parent_goal_id: parse_opt_id("parent goal id", self.parent_goal_id.as_deref())?,
            metric: Metric {
                direction: Direction::parse(&self.metric_direction)
                    .map_err(|_| corrupt("metric direction", &self.metric_direction))?,
                name: self.metric_name,
                unit: self.metric_unit,
                baseline: self.metric_baseline,
                target: self.metric_target,
            },
            stored_status: GoalStatus::parse(&self.status)
                .map_err(|_| corrupt("goal status", &self.status))?,
            strengths: strengths(&self.strengths)?,
            title: self.title,
            description: self.description,
            start_date: self.start_date,
            due_date: self.due_date,
            current_value: self.current_value,
            current_recorded_at: self.current_recorded_at.map(from_db),
            revision: revision(self.version, self.created_at, self.updated_at),
        })
    }
}

fn strengths(raw: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(raw).map_err(|_| corrupt("strengths", raw))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = c, treat_none_as_default_value = false)]
struct CheckInRow {
    org_id: String,
    id: String,
    goal_id: String,
    value: f64,
    note: Option<String>,
    recorded_at: NaiveDateTime,
    recorded_by_role: String,
    recorded_by_subject: Option<String>,
    created_at: NaiveDateTime,
}

impl CheckInRow {
    fn from_domain(org: OrgId, check_in: &CheckIn) -> Self {
        Self {
            org_id: org.to_string(),
            id: check_in.id.to_string(),
            goal_id: check_in.goal_id.to_string(),
            value: check_in.value,
            note: check_in.note.clone(),
            recorded_at: to_db(check_in.recorded_at),
            recorded_by_role: check_in.recorded_by.role.clone(),
            recorded_by_subject: check_in.recorded_by.subject.clone(),
            created_at: to_db(check_in.created_at),
        }
    }

    fn into_domain(self) -> StoreResult<CheckIn> {
        Ok(CheckIn {
            id: parse_id("check-in id", &self.id)?,
            goal_id: parse_id("goal id", &self.goal_id)?,
            value: self.value,
            note: self.note,
            recorded_at: from_db(self.recorded_at),
            recorded_by: Actor {
                role: self.recorded_by_role,
                subject: self.recorded_by_subject,
            },
            created_at: from_db(self.created_at),
        })
    }
}

/// The goals table, for the shared versioned update.
struct GoalsTable;

impl Versioned for GoalsTable {
    type Entity = Goal;
    type Id = GoalId;

    fn lock(conn: &mut DbConn, org: OrgId, id: GoalId) -> StoreResult<()> {
        lock_row(conn, Keyed::Goals, org, &id.to_string())
    }

    fn find(conn: &mut DbConn, org: OrgId, id: GoalId) -> StoreResult<Goal> {
        find(conn, org, id)
    }

    fn version(goal: &Goal) -> i64 {
        goal.revision.version
    }

    fn write(conn: &mut DbConn, org: OrgId, next: &Goal, version: i64) -> StoreResult<usize> {
        Ok(diesel::update(
            g::table
                .filter(g::org_id.eq(org.to_string()))
                .filter(g::id.eq(next.id.to_string()))
                .filter(g::version.eq(version)),
        )
        .set(&GoalRow::from_domain(org, next)?)
        .execute(conn)?)
    }
}

/// Which goals a list returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct GoalFilter {
    /// Only this member's goals.
    pub owner_member_id: Option<circulo_domain::MemberId>,
    /// Only this team's goals.
    pub owner_team_id: Option<circulo_domain::TeamId>,
    /// Only goals with this status as read today (`missed`: active and past due).
    pub status: Option<GoalStatus>,
    /// Only goals aligned directly to this one.
    pub parent_goal_id: Option<GoalId>,
    /// Only goals due on or after this date.
    pub due_from: Option<NaiveDate>,
    /// Only goals due before this date.
    pub due_to: Option<NaiveDate>,
}

store_handles!(goals: Goals, GoalWrites);

impl Goals<'_> {
    /// Reads a goal of `org` as of today; within `reach` when one is given.
    pub fn get(&self, org: OrgId, id: GoalId, reach: Option<&Reach>) -> StoreResult<GoalReading> {
        self.0.read(|conn| {
            let goal = find(conn, org, id)?;
            check_sees(reach, goal.owner)?;
            read_goal(conn, org, goal)
        })
    }

    /// Lists the goals of `org` that match `filter` and are within `reach`, in creation order.
    pub fn list(
        &self,
        org: OrgId,
        filter: GoalFilter,
        reach: Option<&Reach>,
        page: PageRequest,
    ) -> StoreResult<Page<GoalReading>> {
        self.0.read(|conn| {
            let today = today(conn, org)?;
            let mut query = g::table
                .left_join(
                    m::table.on(m::org_id
                        .eq(g::org_id)
                        .and(m::id.nullable().eq(g::owner_member_id))),
                )
                .filter(g::org_id.eq(org.to_string()))
                .into_boxed();
            if let Some(reach) = reach {
                let members: Vec<String> = reach
                    .seen_members()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let teams: Vec<String> =
                    reach.seen_teams().iter().map(ToString::to_string).collect();
                query = query.filter(
                    g::owner_member_id
                        .eq_any(members)
                        .or(g::owner_team_id.eq_any(teams)),
                );
            }
            if let Some(member) = filter.owner_member_id {
                query = query.filter(g::owner_member_id.eq(member.to_string()));
            }
            if let Some(team) = filter.owner_team_id {
                query = query.filter(g::owner_team_id.eq(team.to_string()));
            }
            if let Some(parent) = filter.parent_goal_id {
                query = query.filter(g::parent_goal_id.eq(parent.to_string()));
            }
            if let Some(from) = filter.due_from {
                query = query.filter(g::due_date.ge(from));
            }
            if let Some(to) = filter.due_to {
                query = query.filter(g::due_date.lt(to));
            }
            // The status as read today: `missed` is never stored.
            query = match filter.status {
                None => query,
                Some(GoalStatus::Missed) => query
                    .filter(g::status.eq(GoalStatus::Active.as_str()))
                    .filter(g::due_date.lt(today)),
                Some(GoalStatus::Active) => query
                    .filter(g::status.eq(GoalStatus::Active.as_str()))
                    .filter(g::due_date.ge(today)),
                Some(status) => query.filter(g::status.eq(status.as_str())),
            };
            let rows = after_id!(query, g::id, page)
                .select((GoalRow::as_select(), m::strengths.nullable()))
                .load::<(GoalRow, Option<String>)>(conn)?;
            id_page(
                rows,
                page,
                |(row, owner_strengths)| {
                    let owner_strengths = owner_strengths
                        .as_deref()
                        .map(strengths)
                        .transpose()?
                        .unwrap_or_default();
                    Ok(row.into_domain()?.read(today, &owner_strengths))
                },
                |reading| reading.goal.id.as_uuid(),
            )
        })
    }

    /// Lists a goal's check-ins in the order they were reported; within `reach` when given.
    pub fn check_ins(
        &self,
        org: OrgId,
        goal: GoalId,
        reach: Option<&Reach>,
        page: PageRequest,
    ) -> StoreResult<Page<CheckIn>> {
        self.0.read(|conn| {
            check_sees(reach, find(conn, org, goal)?.owner)?;
            let query = c::table
                .filter(c::org_id.eq(org.to_string()))
                .filter(c::goal_id.eq(goal.to_string()))
                .into_boxed();
            let rows = after_id!(query, c::id, page)
                .select(CheckInRow::as_select())
                .load(conn)?;
            id_page(rows, page, CheckInRow::into_domain, |check_in| {
                check_in.id.as_uuid()
            })
        })
    }
}

impl GoalWrites<'_, '_> {
    /// Creates a goal: its owner and parent must exist in `org`, and a manager (`reach`) may
    /// only set goals for the people under them and their teams.
    pub fn create(
        self,
        org: OrgId,
        fields: GoalFields,
        reach: Option<&Reach>,
    ) -> StoreResult<GoalReading> {
        let tx = self.0;
        check_manages(reach, fields.owner())?;
        check_owner(tx.conn()?, org, fields.owner())?;
        if let Some(parent) = fields.parent_goal_id() {
            check_parent(tx.conn()?, org, None, parent, reach)?;
        }
        let goal = Goal::created(GoalId::from_uuid(tx.new_uuid()), fields, tx.now());
        diesel::insert_into(g::table)
            .values(GoalRow::from_domain(org, &goal)?)
            .execute(tx.conn()?)?;
        let reading = read_goal(tx.conn()?, org, goal)?;
        record(tx, org, "goal.created", &reading)?;
        Ok(reading)
    }

    /// Applies `patch` when the stored version satisfies `expected`; a manager may change only
    /// goals they manage, and only to owners they manage.
    pub fn update(
        self,
        org: OrgId,
        id: GoalId,
        expected: &Precondition,
        patch: GoalPatch,
        reach: Option<&Reach>,
    ) -> StoreResult<GoalReading> {
        let tx = self.0;
        let mut achieved_now = false;
        let (_, next) = update_versioned::<GoalsTable>(tx, org, id, expected, |tx, current| {
            check_manages(reach, current.owner)?;
            let fields = current.fields().patched(patch)?;
            if fields.owner() != current.owner {
                check_manages(reach, fields.owner())?;
                check_owner(tx.conn()?, org, fields.owner())?;
            }
            if let Some(parent) = fields.parent_goal_id()
                && fields.parent_goal_id() != current.parent_goal_id
            {
                check_parent(tx.conn()?, org, Some(id), parent, reach)?;
            }
            let today = today(tx.conn()?, org)?;
            let settled = current
                .replaced(fields, tx.now(), today)
                .map_err(|reason| StoreError::Conflict(reason.to_owned()))?;
            achieved_now = settled.achieved_now;
            Ok(settled.goal)
        })?;
        finish(tx, org, next, achieved_now, Some("goal.updated"))
    }

    /// Cancels a goal the caller manages; the reason goes to the audit log.
    pub fn cancel(
        self,
        org: OrgId,
        id: GoalId,
        expected: &Precondition,
        reason: &str,
        reach: Option<&Reach>,
    ) -> StoreResult<GoalReading> {
        let tx = self.0;
        let (_, next) = update_versioned::<GoalsTable>(tx, org, id, expected, |tx, current| {
            check_manages(reach, current.owner)?;
            current
                .cancelled(tx.now())
                .map_err(|why| StoreError::Conflict(why.to_owned()))
        })?;
        let reading = read_goal(tx.conn()?, org, next)?;
        tx.record(
            org,
            "goal.cancelled",
            "goal",
            &id.to_string(),
            &serde_json::json!({ "goal": &reading, "reason": reason }),
        )?;
        Ok(reading)
    }

    /// Records a check-in on a goal: by its owner (a member checking in on their own goal), a
    /// manager of its owner, or anyone acting for the whole organization (`reach` is `None`).
    /// Reaching the target achieves the goal and announces `goal.achieved`.
    pub fn check_in(
        self,
        org: OrgId,
        id: GoalId,
        fields: CheckInFields,
        reach: Option<&Reach>,
    ) -> StoreResult<(CheckIn, GoalReading)> {
        let tx = self.0;
        let mut achieved_now = false;
        let mut recorded = None;
        let (_, next) =
            update_versioned::<GoalsTable>(tx, org, id, &Precondition::None, |tx, current| {
                if let Some(reach) = reach
                    && current.owner != GoalOwner::Member(reach.member())
                    && !reach.manages_owner(current.owner)
                {
                    return Err(forbidden(
                        "only the goal's owner and their managers may check in on it",
                    ));
                }
                let at = tx.now();
                let zone = organizations::find(tx.conn()?, org)?.timezone;
                let Settled {
                    goal,
                    achieved_now: achieved,
                } = current
                    .checked_in(&fields, at, zone)
                    .map_err(|reason| StoreError::Conflict(reason.to_owned()))?;
                achieved_now = achieved;
                let by = tx.context().actor().clone();
                recorded =
                    Some(fields.into_check_in(CheckInId::from_uuid(tx.new_uuid()), id, by, at));
                Ok(goal)
            })?;
        let check_in = recorded.ok_or_else(|| StoreError::Corrupt("check-in not made".into()))?;
        diesel::insert_into(c::table)
            .values(CheckInRow::from_domain(org, &check_in))
            .execute(tx.conn()?)?;
        tx.record(org, "goal.checked_in", "goal", &id.to_string(), &check_in)?;
        let reading = finish(tx, org, next, achieved_now, None)?;
        Ok((check_in, reading))
    }
}

/// Reads the changed goal back, records it (as `action`, when the change has its own entry) and,
/// when the change achieved it, records and announces that.
fn finish(
    tx: &mut WriteTx<'_>,
    org: OrgId,
    goal: Goal,
    achieved_now: bool,
    action: Option<&str>,
) -> StoreResult<GoalReading> {
    let reading = read_goal(tx.conn()?, org, goal)?;
    if let Some(action) = action {
        record(tx, org, action, &reading)?;
    }
    if achieved_now {
        record(tx, org, "goal.achieved", &reading)?;
        tx.emit(org, "goal.achieved", &reading)?;
    }
    Ok(reading)
}

fn find(conn: &mut DbConn, org: OrgId, id: GoalId) -> StoreResult<Goal> {
    g::table
        .filter(g::org_id.eq(org.to_string()))
        .filter(g::id.eq(id.to_string()))
        .select(GoalRow::as_select())
        .first(conn)?
        .into_domain()
}

/// `goal` as read today in `org`, with its owner's strengths.
fn read_goal(conn: &mut DbConn, org: OrgId, goal: Goal) -> StoreResult<GoalReading> {
    let today = today(conn, org)?;
    let owner_strengths = match goal.owner.member() {
        Some(member) => strengths(
            &m::table
                .filter(m::org_id.eq(org.to_string()))
                .filter(m::id.eq(member.to_string()))
                .select(m::strengths)
                .first::<String>(conn)?,
        )?,
        None => Vec::new(),
    };
    Ok(goal.read(today, &owner_strengths))
}

/// Today's date in the organization's time zone.
fn today(conn: &mut DbConn, org: OrgId) -> StoreResult<NaiveDate> {
    Ok(organizations::find(conn, org)?.timezone.date_at(now()))
}

fn forbidden(reason: &'static str) -> StoreError {
    StoreError::Rule(DomainError::Forbidden(reason))
}

fn check_sees(reach: Option<&Reach>, owner: GoalOwner) -> StoreResult<()> {
    match reach {
        Some(reach) if !reach.sees_owner(owner) => Err(forbidden(
            "this goal is neither yours, your team's, nor one of the people you manage",
        )),
        _ => Ok(()),
    }
}

fn check_manages(reach: Option<&Reach>, owner: GoalOwner) -> StoreResult<()> {
    match reach {
        Some(reach) if !reach.manages_owner(owner) => Err(forbidden(
            "a manager sets goals only for the people under them and those people's teams",
        )),
        _ => Ok(()),
    }
}

/// The owner must exist in `org`, and a member must be active: goals are for people at work.
fn check_owner(conn: &mut DbConn, org: OrgId, owner: GoalOwner) -> StoreResult<()> {
    let invalid =
        |field: &str, message: &str| Err(StoreError::Rule(DomainError::invalid(field, message)));
    match owner {
        GoalOwner::Member(member) => check_active_member(conn, org, member, "owner_member_id"),
        GoalOwner::Team(team) if team_exists(conn, org, team)? => Ok(()),
        GoalOwner::Team(_) => invalid("owner_team_id", "no team with this id in the organization"),
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The parent must be a goal of `org` the caller may read (one they may not is reported as
/// missing, so its existence is not told), and, for an existing goal, not the goal itself or
/// one below it (which would close a cycle).
fn check_parent(
    conn: &mut DbConn,
    org: OrgId,
    goal: Option<GoalId>,
    parent: GoalId,
    reach: Option<&Reach>,
) -> StoreResult<()> {
    let invalid = |message: &str| StoreError::Rule(DomainError::invalid("parent_goal_id", message));
    match find(conn, org, parent) {
        Ok(found) if reach.is_none_or(|reach| reach.sees_owner(found.owner)) => {}
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(invalid("no goal with this id in the organization"));
        }
        Err(e) => return Err(e),
    }
    if let Some(goal) = goal {
        let found = diesel::sql_query(GOAL_ABOVE.for_conn(conn))
            .bind::<Text, _>(org.to_string())
            .bind::<Text, _>(parent.to_string())
            .bind::<Text, _>(goal.to_string())
            .get_result::<Count>(conn)?;
        if found.n > 0 {
            return Err(invalid(
                "this goal would be aligned to itself or to a goal aligned below it",
            ));
        }
    }
    Ok(())
}

fn record(tx: &mut WriteTx<'_>, org: OrgId, action: &str, goal: &GoalReading) -> StoreResult<()> {
    tx.record(org, action, "goal", &goal.goal.id.to_string(), goal)
}
