//! Teams. This store is the one to copy for a new resource (README, "Adding a resource"): a row
//! type that derives its queries, reads through `Db`, changes through `WriteTx` with the shared
//! versioned update, and the rules that need stored data checked before each write.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use circulo_domain::page::{Page, PageRequest};
use circulo_domain::team::{Team, TeamFields, TeamPatch};
use circulo_domain::version::Precondition;
use circulo_domain::{DomainError, MemberId, OrgId, TeamId};

use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult};
use crate::locks::{Keyed, lock_row};
use crate::members::member_exists;
use crate::rows::{
    Versioned, after_id, id_page, load_versioned, parse_id, parse_opt_id, revision, store_handles,
    update_versioned,
};
use crate::schema::{members as m, teams as t};
use crate::time::to_db;
use crate::tx::WriteTx;

// `treat_none_as_default_value = false`: a `None` binds NULL instead of writing DEFAULT, so the
// INSERT's SQL is the same every time and diesel keeps it prepared.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(
    table_name = t,
    primary_key(org_id, id),
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
struct TeamRow {
    org_id: String,
    id: String,
    name: String,
    lead_member_id: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TeamRow {
    fn from_domain(org: OrgId, team: &Team) -> Self {
        Self {
            org_id: org.to_string(),
            id: team.id.to_string(),
            name: team.name.clone(),
            lead_member_id: team.lead_member_id.map(|id| id.to_string()),
            version: team.revision.version,
            created_at: to_db(team.revision.created_at),
            updated_at: to_db(team.revision.updated_at),
        }
    }

    fn into_domain(self) -> StoreResult<Team> {
        Ok(Team {
            id: parse_id("team id", &self.id)?,
            lead_member_id: parse_opt_id("lead member id", self.lead_member_id.as_deref())?,
            name: self.name,
            revision: revision(self.version, self.created_at, self.updated_at),
        })
    }
}

/// The teams table, for the shared versioned update.
struct TeamsTable;

impl Versioned for TeamsTable {
    type Entity = Team;
    type Id = TeamId;

    fn lock(conn: &mut DbConn, org: OrgId, id: TeamId) -> StoreResult<()> {
        lock_row(conn, Keyed::Teams, org, &id.to_string())
    }

    fn find(conn: &mut DbConn, org: OrgId, id: TeamId) -> StoreResult<Team> {
        find(conn, org, id)
    }

    fn version(team: &Team) -> i64 {
        team.revision.version
    }

    fn write(conn: &mut DbConn, org: OrgId, next: &Team, version: i64) -> StoreResult<usize> {
        Ok(diesel::update(
            t::table
                .filter(t::org_id.eq(org.to_string()))
                .filter(t::id.eq(next.id.to_string()))
                .filter(t::version.eq(version)),
        )
        .set(&TeamRow::from_domain(org, next))
        .execute(conn)?)
    }
}

store_handles!(teams: Teams, TeamWrites);

impl Teams<'_> {
    /// Reads a team of `org`.
    pub fn get(&self, org: OrgId, id: TeamId) -> StoreResult<Team> {
        self.0.read(|conn| find(conn, org, id))
    }

    /// Lists the teams of `org` in creation order.
    pub fn list(&self, org: OrgId, page: PageRequest) -> StoreResult<Page<Team>> {
        self.0.read(|conn| {
            let query = t::table.filter(t::org_id.eq(org.to_string())).into_boxed();
            let rows = after_id!(query, t::id, page)
                .select(TeamRow::as_select())
                .load(conn)?;
            id_page(rows, page, TeamRow::into_domain, |team| team.id.as_uuid())
        })
    }
}

impl TeamWrites<'_, '_> {
    /// Creates a team; the name must be free and the lead a member of the organization.
    pub fn create(self, org: OrgId, fields: TeamFields) -> StoreResult<Team> {
        let tx = self.0;
        check_lead(tx.conn()?, org, fields.lead_member_id())?;
        check_name_free(tx.conn()?, org, fields.name(), None)?;
        let team = Team::created(TeamId::from_uuid(tx.new_uuid()), fields, tx.now());
        diesel::insert_into(t::table)
            .values(TeamRow::from_domain(org, &team))
            .execute(tx.conn()?)?;
        record(tx, org, "team.created", &team)?;
        Ok(team)
    }

    /// Applies `patch` when the stored version satisfies `expected`.
    pub fn update(
        self,
        org: OrgId,
        id: TeamId,
        expected: &Precondition,
        patch: TeamPatch,
    ) -> StoreResult<Team> {
        let tx = self.0;
        let (_, next) = update_versioned::<TeamsTable>(tx, org, id, expected, |tx, current| {
            let next = current.replaced(current.fields().patched(patch), tx.now());
            if next.lead_member_id != current.lead_member_id {
                check_lead(tx.conn()?, org, next.lead_member_id)?;
            }
            if next.name != current.name {
                check_name_free(tx.conn()?, org, &next.name, Some(id))?;
            }
            Ok(next)
        })?;
        record(tx, org, "team.updated", &next)?;
        Ok(next)
    }

    /// Deletes an empty team. A team that members still belong to is a conflict: deleting it
    /// would silently drop their membership.
    pub fn delete(self, org: OrgId, id: TeamId, expected: &Precondition) -> StoreResult<()> {
        let tx = self.0;
        let current = load_versioned::<TeamsTable>(tx, org, id, expected)?;
        let members: i64 = m::table
            .filter(m::org_id.eq(org.to_string()))
            .filter(m::team_id.eq(id.to_string()))
            .count()
            .get_result(tx.conn()?)?;
        if members > 0 {
            return Err(StoreError::Conflict(format!(
                "the team still has {members} member(s); move them to another team first"
            )));
        }
        diesel::delete(
            t::table
                .filter(t::org_id.eq(org.to_string()))
                .filter(t::id.eq(id.to_string())),
        )
        .execute(tx.conn()?)?;
        record(tx, org, "team.deleted", &current)
    }
}

pub(crate) fn team_exists(conn: &mut DbConn, org: OrgId, id: TeamId) -> StoreResult<bool> {
    let found = t::table
        .filter(t::org_id.eq(org.to_string()))
        .filter(t::id.eq(id.to_string()))
        .select(t::id)
        .first::<String>(conn)
        .optional()?;
    Ok(found.is_some())
}

fn find(conn: &mut DbConn, org: OrgId, id: TeamId) -> StoreResult<Team> {
    t::table
        .filter(t::org_id.eq(org.to_string()))
        .filter(t::id.eq(id.to_string()))
        .select(TeamRow::as_select())
        .first(conn)?
        .into_domain()
}

fn check_lead(conn: &mut DbConn, org: OrgId, lead: Option<MemberId>) -> StoreResult<()> {
    match lead {
        Some(lead) if !member_exists(conn, org, lead)? => {
            Err(StoreError::Rule(DomainError::invalid(
                "lead_member_id",
                "no member with this id in the organization",
            )))
        }
        _ => Ok(()),
    }
}

fn check_name_free(
    conn: &mut DbConn,
    org: OrgId,
    name: &str,
    except: Option<TeamId>,
) -> StoreResult<()> {
    let holder = t::table
        .filter(t::org_id.eq(org.to_string()))
        .filter(t::name.eq(name))
        .select(t::id)
        .first::<String>(conn)
        .optional()?;
    match holder {
        Some(holder) if Some(holder.as_str()) != except.map(|e| e.to_string()).as_deref() => Err(
            StoreError::Conflict(format!("a team named {name:?} already exists")),
        ),
        _ => Ok(()),
    }
}

fn record(tx: &mut WriteTx<'_>, org: OrgId, action: &str, team: &Team) -> StoreResult<()> {
    tx.record(org, action, "team", &team.id.to_string(), team)
}
